//! `eods audit verify`: recompute the audit chain (every run of the step, decision and change
//! logs, and every artifact revision the steps committed) and report the first broken link of
//! each log. Saved heads (`--save-heads`, then `--heads`) also catch a log cut short or rewritten
//! from some point on with fresh hashes. The checking is the store's ([`Store::verify_audit`]).

use eods_domain::ids::EventId;
use eods_store::{AuditHead, AuditReport, Store};
use std::path::{Path, PathBuf};

/// The `eods audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the audit chain of every event (or one): exit 0 when intact, 1 at a broken link.
    Verify {
        /// Only this event.
        #[arg(long)]
        event: Option<String>,
        /// Heads saved by an earlier `--save-heads`: each log must still reach them unchanged.
        #[arg(long, value_name = "FILE")]
        heads: Option<PathBuf>,
        /// Write where every log ends now, to check against later with `--heads` (keep it
        /// outside the database's reach).
        #[arg(long, value_name = "FILE")]
        save_heads: Option<PathBuf>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
}

/// Why an `eods audit` command did not pass: bad input (exit 2), a broken chain (exit 1, with the
/// report's lines), or anything else (exit 1).
pub enum AuditFailure {
    Input(String),
    Broken(Vec<String>),
    Other(String),
}

/// The heads file: what `--save-heads` writes and `--heads` reads.
#[derive(serde::Serialize, serde::Deserialize)]
struct HeadsFile {
    heads: Vec<AuditHead>,
}

fn read_heads(path: &Path) -> Result<Vec<AuditHead>, AuditFailure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AuditFailure::Input(format!("error: --heads {}: {e}", path.display())))?;
    serde_json::from_str::<HeadsFile>(&text)
        .map(|f| f.heads)
        .map_err(|e| {
            AuditFailure::Input(format!(
                "error: --heads {}: not a heads file written by `eods audit verify --save-heads` ({e})",
                path.display()
            ))
        })
}

/// Runs an `eods audit` subcommand; returns the lines to print.
pub async fn run(cmd: AuditCommand) -> Result<Vec<String>, AuditFailure> {
    let AuditCommand::Verify {
        event,
        heads,
        save_heads,
        json,
        database,
    } = cmd;
    let event: Option<EventId> = event
        .map(|e| {
            e.parse().map_err(|_| {
                AuditFailure::Input(format!("error: --event `{e}` is not an event id (a UUID)"))
            })
        })
        .transpose()?;
    let known = match &heads {
        Some(p) => read_heads(p)?,
        None => Vec::new(),
    };
    // The chain covers what is stored, sealed or not: checking it opens nothing, so it needs no
    // master key that opens the data keys (an auditor may not hold one).
    let keys = match eods_store::keys::KeyConfig::for_database_if_present(&database) {
        Ok(Some(k)) => k,
        _ => eods_store::keys::KeyConfig::ephemeral()
            .map_err(|e| AuditFailure::Other(format!("error: {e}")))?,
    };
    let store = Store::open_keyed(&database, eods_store::DEFAULT_PG_CONNECTIONS, keys)
        .await
        .map_err(|e| AuditFailure::Other(format!("error: --database {database}: {e}")))?;
    let report = store
        .verify_audit(event, &known)
        .await
        .map_err(|e| match e {
            eods_store::StoreError::NotFound(what) => {
                AuditFailure::Input(format!("error: --event: no {what}"))
            }
            e => AuditFailure::Other(format!("error: {e}")),
        })?;
    store.close().await;
    if let Some(p) = &save_heads {
        let text = serde_json::to_string_pretty(&HeadsFile {
            heads: report.heads.clone(),
        })
        .map_err(|e| AuditFailure::Other(e.to_string()))?;
        std::fs::write(p, text + "\n").map_err(|e| {
            AuditFailure::Input(format!("error: --save-heads {}: {e}", p.display()))
        })?;
    }
    let lines = if json {
        vec![serde_json::to_string(&report).map_err(|e| AuditFailure::Other(e.to_string()))?]
    } else {
        describe(&report, heads.is_some(), save_heads.as_deref())
    };
    if report.intact() {
        Ok(lines)
    } else {
        Err(AuditFailure::Broken(lines))
    }
}

/// The report in words.
fn describe(r: &AuditReport, with_heads: bool, saved: Option<&Path>) -> Vec<String> {
    let mut out = vec![format!(
        "{} event(s): {} log run(s) with {} entries and {} artifact revision(s) checked{}",
        r.events,
        r.runs_checked,
        r.entries_checked,
        r.artifacts_checked,
        if with_heads {
            ", against the saved heads"
        } else {
            ""
        }
    )];
    if r.runs_unchained + r.artifacts_unchained > 0 {
        out.push(format!(
            "not covered: {} run(s) and {} artifact revision(s) written before the chain existed (migration 0020)",
            r.runs_unchained, r.artifacts_unchained
        ));
    }
    if r.heads_purged > 0 {
        out.push(format!(
            "{} saved head(s) belong to events removed by a retention purge that recorded them",
            r.heads_purged
        ));
    }
    for b in &r.breaks {
        let at = if b.log == "artifacts" {
            String::new()
        } else if b.first_seq == b.last_seq {
            format!(" entry {}", b.first_seq)
        } else {
            format!(" entries {}..{}", b.first_seq, b.last_seq)
        };
        out.push(format!(
            "BROKEN event {} {}{at}: {}",
            b.event, b.log, b.reason
        ));
    }
    if let Some(p) = saved {
        out.push(format!(
            "heads of {} log(s) saved to {}",
            r.heads.len(),
            p.display()
        ));
    }
    out.push(if r.intact() {
        "audit chain intact".into()
    } else {
        format!("audit chain BROKEN in {} place(s)", r.breaks.len())
    });
    out
}
