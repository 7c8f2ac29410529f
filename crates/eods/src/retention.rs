//! `eods retention`: purge events whose retention ran out (a dry run first), keep some with legal
//! holds, and list holds and purges. An event goes only when its run is over (or it was archived)
//! and nothing was written for it for `--retention-days` (at least 365); each purge is recorded
//! with what it removed and the audit heads of the event's logs. Storing is the store's.

use eods_domain::ids::EventId;
use eods_store::{MIN_RETENTION_DAYS, Store, StoreError};

/// The `eods retention` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RetentionCommand {
    /// Remove for good every event past retention that no legal hold keeps; each removal is
    /// recorded. With `--dry-run`, only list what would go and what holds keep.
    Purge {
        /// Days after an event's last activity before it may be purged (at least 365).
        #[arg(long, env = "EODS_RETENTION_DAYS", default_value_t = MIN_RETENTION_DAYS,
              value_parser = clap::value_parser!(u32).range(i64::from(MIN_RETENTION_DAYS)..=36_500))]
        retention_days: u32,
        /// List what would be purged; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Who purges (recorded as user:<NAME>).
        #[arg(long, env = "USER", default_value = "cli")]
        user: String,
        /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
    /// Keep an event from any purge until the hold is released (litigation, an inquiry).
    Hold {
        event_id: String,
        /// Why (recorded with the hold).
        #[arg(long)]
        reason: String,
        #[arg(long, env = "USER", default_value = "cli")]
        user: String,
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
    /// Release the legal hold on an event (the hold stays on record).
    Release {
        event_id: String,
        #[arg(long, env = "USER", default_value = "cli")]
        user: String,
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
    /// List legal holds and recorded purges.
    List {
        /// Print one JSON object (`holds`, `purges`).
        #[arg(long)]
        json: bool,
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
}

/// Why an `eods retention` command failed: bad input (exit 2) or anything else (exit 1).
pub enum RetentionFailure {
    Input(String),
    Other(String),
}

fn other(e: StoreError) -> RetentionFailure {
    match e {
        StoreError::NotFound(what) => RetentionFailure::Input(format!("error: no {what}")),
        StoreError::Conflict(why) => RetentionFailure::Input(format!("error: {why}")),
        e => RetentionFailure::Other(format!("error: {e}")),
    }
}

fn event_id(s: &str) -> Result<EventId, RetentionFailure> {
    s.parse().map_err(|_| {
        RetentionFailure::Input(format!("error: EVENT_ID `{s}` is not an event id (a UUID)"))
    })
}

async fn open(url: &str) -> Result<Store, RetentionFailure> {
    Store::connect(url)
        .await
        .map_err(|e| RetentionFailure::Other(format!("error: --database {url}: {e}")))
}

/// Runs an `eods retention` subcommand at `now`; returns the lines to print.
pub async fn run(
    cmd: RetentionCommand,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, RetentionFailure> {
    match cmd {
        RetentionCommand::Purge {
            retention_days,
            dry_run,
            user,
            database,
        } => {
            let store = open(&database).await?;
            let before = now - chrono::Duration::days(i64::from(retention_days));
            let found = store.retention_candidates(before).await.map_err(other)?;
            let mut out = vec![format!(
                "retention {retention_days} days: events whose run is over or that were archived, with nothing written since before {}",
                before.format("%Y-%m-%d %H:%M UTC")
            )];
            let (mut purged, mut held) = (0, 0);
            for c in &found {
                let what = format!(
                    "{} \"{}\" ({}{}, last activity {})",
                    c.event,
                    c.title,
                    c.run_status,
                    if c.archived { ", archived" } else { "" },
                    c.last_activity.format("%Y-%m-%d")
                );
                if let Some(reason) = &c.hold {
                    held += 1;
                    out.push(format!("kept (legal hold: {reason}): {what}"));
                } else if dry_run {
                    purged += 1;
                    out.push(format!("would purge: {what}"));
                } else {
                    let r = store
                        .purge_event(c, retention_days, &format!("user:{user}"), now)
                        .await
                        .map_err(other)?;
                    purged += 1;
                    out.push(format!("purged: {what}; removed {}", r.removed["counts"]));
                }
            }
            out.push(if dry_run {
                format!("dry run: {purged} event(s) would be purged, {held} kept by legal holds; nothing changed")
            } else {
                format!("{purged} event(s) purged and recorded, {held} kept by legal holds")
            });
            store.close().await;
            Ok(out)
        }
        RetentionCommand::Hold {
            event_id: id,
            reason,
            user,
            database,
        } => {
            let id = event_id(&id)?;
            if reason.trim().is_empty() {
                return Err(RetentionFailure::Input(
                    "error: --reason: say why the event is held (it is recorded)".into(),
                ));
            }
            let store = open(&database).await?;
            store
                .place_hold(id, &format!("user:{user}"), reason.trim(), now)
                .await
                .map_err(other)?;
            store.close().await;
            Ok(vec![format!(
                "event {id} is on legal hold: no purge removes it until `eods retention release {id}`"
            )])
        }
        RetentionCommand::Release {
            event_id: id,
            user,
            database,
        } => {
            let id = event_id(&id)?;
            let store = open(&database).await?;
            let released = store
                .release_hold(id, &format!("user:{user}"), now)
                .await
                .map_err(other)?;
            store.close().await;
            if released {
                Ok(vec![format!(
                    "the legal hold on event {id} is released (kept on record)"
                )])
            } else {
                Err(RetentionFailure::Input(format!(
                    "error: event {id} has no legal hold in force"
                )))
            }
        }
        RetentionCommand::List { json, database } => {
            let store = open(&database).await?;
            let holds = store.legal_holds().await.map_err(other)?;
            let purges = store.purge_records().await.map_err(other)?;
            store.close().await;
            if json {
                let v = serde_json::json!({"holds": holds, "purges": purges});
                return Ok(vec![v.to_string()]);
            }
            let mut out = vec![format!("{} legal hold(s):", holds.len())];
            for h in &holds {
                out.push(format!(
                    "  {} placed {} by {}: {}{}",
                    h.event,
                    h.placed_at.format("%Y-%m-%d %H:%M"),
                    h.placed_by,
                    h.reason,
                    h.released_at.map_or_else(
                        || " (in force)".to_owned(),
                        |t| format!(
                            " (released {} by {})",
                            t.format("%Y-%m-%d %H:%M"),
                            h.released_by.as_deref().unwrap_or("?")
                        )
                    )
                ));
            }
            out.push(format!("{} purge(s):", purges.len()));
            for p in &purges {
                out.push(format!(
                    "  {} \"{}\" purged {} by {} (retention {} days, last activity {}): {}",
                    p.event,
                    p.title,
                    p.purged_at.format("%Y-%m-%d %H:%M"),
                    p.purged_by,
                    p.retention_days,
                    p.last_activity.format("%Y-%m-%d"),
                    p.removed["counts"]
                ));
            }
            Ok(out)
        }
    }
}
