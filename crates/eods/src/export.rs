//! Writes an event to a directory: every current artifact as `<type>.json` (the stored
//! envelope), every agent trace in `agent_trace.json` (an array of envelopes), the DecisionLog and
//! ChangeLog as envelopes, `report.md`, `calendar.ics` (RFC 5545) and `schedule.xml` (frab). Each
//! file is written to a temporary name and renamed, so a crash never leaves a half-written file.

use anyhow::{Context, Result};
use chrono::Utc;
use eods_domain::artifact::{ArtifactType, Envelope};
use eods_domain::catalog::audit::{ChangeLog, DecisionLog};
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::logistics::Schedule;
use eods_domain::catalog::planning::Timeline;
use eods_domain::ids::{ArtifactId, EventId};
use eods_store::Store;
use std::path::Path;

/// Writes `contents` to a temporary name readable by the owner only (the files hold contract
/// terms and stakeholders' contacts), then renames it over `path`.
fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    #[cfg(unix)]
    {
        // A file left by an earlier run keeps its mode through `open`: set it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", tmp.display()))?;
    }
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

fn log_envelope(
    event: EventId,
    t: ArtifactType,
    entries: usize,
    payload: serde_json::Value,
    at: chrono::DateTime<Utc>,
) -> Envelope {
    Envelope {
        id: ArtifactId(uuid::Uuid::now_v7()),
        event_id: event,
        artifact_type: t,
        revision: u32::try_from(entries.max(1)).unwrap_or(u32::MAX),
        schema_version: t.schema_version().into(),
        created_at: at,
        created_by: "system:engine".into(),
        correlation_id: format!("export-{event}"),
        derived_from: vec![],
        payload,
    }
}

/// Writes every file; returns how many.
pub async fn write_dir(store: &Store, id: EventId, dir: &Path) -> Result<usize> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--out: cannot create {}", dir.display()))?;
    let current = store.current_artifacts(id).await?;
    anyhow::ensure!(!current.is_empty(), "event {id} has no artifacts");
    let mut n = 0;
    for e in current
        .iter()
        .filter(|e| e.artifact_type != ArtifactType::AgentTrace)
    {
        write_atomic(
            &dir.join(format!("{}.json", e.artifact_type)),
            &serde_json::to_string_pretty(e)?,
        )?;
        n += 1;
    }
    let traces = store.revisions(id, ArtifactType::AgentTrace).await?;
    write_atomic(
        &dir.join("agent_trace.json"),
        &serde_json::to_string_pretty(&traces)?,
    )?;
    n += 1;
    let decisions = store.decision_log(id).await?;
    let changes = store.change_log(id).await?;
    let last = decisions
        .last()
        .map_or_else(|| crate::cli::clock().now(), |d| d.at);
    let dl = log_envelope(
        id,
        ArtifactType::DecisionLog,
        decisions.len(),
        serde_json::to_value(DecisionLog { entries: decisions })?,
        last,
    );
    let cl = log_envelope(
        id,
        ArtifactType::ChangeLog,
        changes.len(),
        serde_json::to_value(ChangeLog { entries: changes })?,
        last,
    );
    write_atomic(
        &dir.join("decision_log.json"),
        &serde_json::to_string_pretty(&dl)?,
    )?;
    write_atomic(
        &dir.join("change_log.json"),
        &serde_json::to_string_pretty(&cl)?,
    )?;
    n += 2;
    write_atomic(
        &dir.join("report.md"),
        &eods_engine::report::report_md(store, id, true).await?,
    )?;
    write_atomic(&dir.join("calendar.ics"), &calendar(id, &current)?)?;
    let mut n = n + 2;
    if let Some(schedule) = eods_engine::report::get::<Schedule>(&current) {
        let revision = current
            .iter()
            .find(|e| e.artifact_type == ArtifactType::Schedule)
            .map_or(0, |e| e.revision);
        let title = event_title(&current);
        let meta = eods_formats::frab::ExportMeta {
            title,
            namespace: id.to_string(),
            version: format!("EODS schedule revision {revision}"),
        };
        write_atomic(
            &dir.join("schedule.xml"),
            &eods_formats::frab::export(&meta, &schedule),
        )?;
        n += 1;
    }
    Ok(n)
}

/// The brief's title, or a stand-in when the event has no brief.
fn event_title(all: &[Envelope]) -> String {
    eods_engine::report::get::<EventBrief>(all).map_or_else(|| "EODS event".into(), |b| b.title)
}

/// Milestones (all-day) and sessions (timed, in UTC) as an iCalendar file.
pub fn calendar(id: EventId, all: &[Envelope]) -> Result<String> {
    Ok(eods_formats::ical::calendar(
        id,
        &event_title(all),
        eods_engine::report::get::<Timeline>(all).as_ref(),
        eods_engine::report::get::<Schedule>(all).as_ref(),
    ))
}
