//! The audit chain (migration 0020): each run of an event's step, decision and change log
//! carries the hash of the run before it and its own; a step run lists the digest of every
//! artifact revision its steps committed. [`Store::verify_audit`] recomputes everything and
//! reports the first broken link of each log, and compares the logs' heads with heads saved
//! earlier (which catches a log cut short or rewritten from some point on, hashes included).
//!
//! A hash is SHA-256 over length-prefixed fields, so no field's text can run into the next.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use eods_domain::ids::EventId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Names the hash construction; part of every hash, so a later one cannot be confused with it.
const VERSION: &str = "eods-audit-chain-v1";

/// The chained tables and the column holding each run's text.
pub(crate) const LOGS: [(&str, &str, &str); 3] = [
    ("steps", "step_runs", "steps"),
    ("decisions", "decision_runs", "entries"),
    ("changes", "change_runs", "entries"),
];

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update(u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
    h.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The hash of a run of log `table` (a table of [`LOGS`]) of `event`, numbered `first..=last`,
/// whose previous run's hash is `prev`, with text `text`.
pub(crate) fn run_hash(
    table: &str,
    event: &str,
    first: i64,
    last: i64,
    prev: Option<&str>,
    text: &str,
) -> String {
    let mut h = Sha256::new();
    for f in [VERSION, table, event] {
        field(&mut h, f.as_bytes());
    }
    field(&mut h, &first.to_be_bytes());
    field(&mut h, &last.to_be_bytes());
    field(&mut h, prev.unwrap_or("").as_bytes());
    field(&mut h, text.as_bytes());
    hex(&h.finalize())
}

/// An artifact row's columns, as stored (`derived_from` and `payload` as their JSON text).
pub(crate) struct ArtifactColumns<'a> {
    pub id: &'a str,
    pub event: &'a str,
    pub artifact_type: &'a str,
    pub revision: i64,
    pub schema_version: &'a str,
    /// Stored to the microsecond (the writer cuts it there; PostgreSQL keeps no more).
    pub created_at: DateTime<Utc>,
    pub created_by: &'a str,
    pub correlation_id: &'a str,
    pub derived_from: &'a str,
    pub payload: &'a str,
}

/// The digest of one artifact revision's row.
pub(crate) fn artifact_digest(a: &ArtifactColumns<'_>) -> String {
    let mut h = Sha256::new();
    for f in [VERSION, "artifact", a.id, a.event, a.artifact_type] {
        field(&mut h, f.as_bytes());
    }
    field(&mut h, &a.revision.to_be_bytes());
    field(&mut h, a.schema_version.as_bytes());
    field(&mut h, &a.created_at.timestamp_micros().to_be_bytes());
    for f in [a.created_by, a.correlation_id, a.derived_from, a.payload] {
        field(&mut h, f.as_bytes());
    }
    hex(&h.finalize())
}

/// Runs `(first, last, text)` of `table` chained after `prev`: `(first, last, text, prev, hash)`.
pub(crate) fn chain_runs(
    table: &str,
    event: &str,
    mut prev: Option<String>,
    runs: Vec<(i64, i64, String)>,
) -> Vec<(i64, i64, String, Option<String>, String)> {
    runs.into_iter()
        .map(|(first, last, text)| {
            let hash = run_hash(table, event, first, last, prev.as_deref(), &text);
            let before = prev.replace(hash.clone());
            (first, last, text, before, hash)
        })
        .collect()
}

/// Where one log of one event ends: its last entry's number and the last run's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub event: String,
    /// `steps`, `decisions` or `changes`.
    pub log: String,
    pub last_seq: i64,
    pub hash: String,
}

/// A broken link: the first run of a log (or the artifact) that does not check out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    pub event: String,
    /// `steps`, `decisions`, `changes` or `artifacts`.
    pub log: String,
    /// The entries of the broken run (for artifacts: the revision).
    pub first_seq: i64,
    pub last_seq: i64,
    pub reason: String,
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    pub events: u64,
    /// Runs whose hash was recomputed and matched.
    pub runs_checked: u64,
    pub entries_checked: u64,
    pub artifacts_checked: u64,
    /// Runs and artifacts written before the chain existed (migration 0020): not covered.
    pub runs_unchained: u64,
    pub artifacts_unchained: u64,
    /// Saved heads of events a retention purge removed, as that purge recorded them.
    pub heads_purged: u64,
    /// The first broken link of each log that has one.
    pub breaks: Vec<AuditBreak>,
    /// Where each log ends now (save them to check later that nothing was cut or rewritten).
    pub heads: Vec<AuditHead>,
}

impl AuditReport {
    pub fn intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

type RunTuple = (i64, i64, String, Option<String>, Option<String>);
type ArtifactRow = (
    String,
    String,
    i64,
    String,
    DateTime<Utc>,
    String,
    String,
    String,
    String,
);

impl Store {
    /// Recomputes the audit chain of one event (or of every event) and checks the logs' ends
    /// against `known` heads saved by an earlier check (entries after them are fine; a log
    /// that no longer reaches a saved head, or reaches it with another hash, is broken).
    pub async fn verify_audit(
        &self,
        event: Option<EventId>,
        known: &[AuditHead],
    ) -> Result<AuditReport, StoreError> {
        let ids: Vec<(String,)> = match event {
            Some(id) => on_pool!(self, p => sqlx::query_as("SELECT id FROM events WHERE id = $1").bind(id.to_string()).fetch_all(p).await),
            None => on_pool!(self, p => sqlx::query_as("SELECT id FROM events ORDER BY created_at, id").fetch_all(p).await),
        }
        .map_err(|e| StoreError::query("list events", e))?;
        if let (Some(id), true) = (event, ids.is_empty()) {
            return Err(StoreError::NotFound(format!("event {id}")));
        }
        let mut report = AuditReport::default();
        for (id,) in &ids {
            report.events += 1;
            self.verify_event(id, known, &mut report).await?;
        }
        // A saved head of an event that is gone altogether: fine when a retention purge removed
        // it and recorded that head (migration 0021), broken otherwise.
        for k in known {
            if event.is_none_or(|e| e.to_string() == k.event)
                && !ids.iter().any(|(i,)| *i == k.event)
            {
                let purge: Option<(sqlx::types::Json<serde_json::Value>,)> = on_pool!(self, p => sqlx::query_as(
                    "SELECT removed FROM retention_purges WHERE event_id = $1").bind(&k.event).fetch_optional(p).await)
                    .map_err(|e| StoreError::query("read purge records", e))?;
                let recorded = purge.as_ref().is_some_and(|(r,)| {
                    r.0["audit_heads"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|h| {
                            h["log"] == k.log.as_str()
                                && h["last_seq"] == k.last_seq
                                && h["hash"] == k.hash.as_str()
                        })
                });
                if recorded {
                    report.heads_purged += 1;
                    continue;
                }
                report.breaks.push(AuditBreak {
                    event: k.event.clone(),
                    log: k.log.clone(),
                    first_seq: k.last_seq,
                    last_seq: k.last_seq,
                    reason: if purge.is_some() {
                        "the event was purged, but its purge record holds another head: rewritten before the purge".into()
                    } else {
                        "the event is gone without a purge record: its logs were recorded up to here".into()
                    },
                });
            }
        }
        Ok(report)
    }

    async fn verify_event(
        &self,
        event: &str,
        known: &[AuditHead],
        report: &mut AuditReport,
    ) -> Result<(), StoreError> {
        // Artifact id → (digest listed by a step, the step's key and run).
        let mut listed: BTreeMap<String, (String, String, (i64, i64))> = BTreeMap::new();
        let mut unchained_steps = false;
        for (log, table, column) in LOGS {
            let sql = format!(
                "SELECT first_seq, last_seq, CAST({column} AS TEXT), prev_hash, hash FROM {table} WHERE event_id = $1 ORDER BY first_seq"
            );
            let runs: Vec<RunTuple> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(event).fetch_all(p).await)
                .map_err(|e| StoreError::query("read audit runs", e))?;
            let broken = |first: i64, last: i64, reason: String| AuditBreak {
                event: event.to_string(),
                log: log.to_string(),
                first_seq: first,
                last_seq: last,
                reason,
            };
            let mut fault: Option<AuditBreak> = None;
            let mut prev: Option<String> = None;
            let mut chained = false;
            let mut next = 1;
            for (first, last, text, prev_hash, hash) in &runs {
                let (first, last) = (*first, *last);
                if first != next {
                    fault = Some(broken(
                        first,
                        last,
                        if first > next {
                            format!("entries {next}..{} are missing", first - 1)
                        } else {
                            format!("overlaps the run before it, which ended at {}", next - 1)
                        },
                    ));
                    break;
                }
                next = last + 1;
                let Some(hash) = hash else {
                    if chained {
                        fault = Some(broken(
                            first,
                            last,
                            "has no hash although runs before it are chained: written outside EODS"
                                .into(),
                        ));
                        break;
                    }
                    report.runs_unchained += 1;
                    unchained_steps |= log == "steps";
                    continue;
                };
                chained = true;
                if *prev_hash != prev {
                    fault = Some(broken(
                        first,
                        last,
                        format!(
                            "names {} as the previous run's hash, but the previous run's hash is {}",
                            prev_hash.as_deref().unwrap_or("none"),
                            prev.as_deref()
                                .unwrap_or("none (it is the first chained run)"),
                        ),
                    ));
                    break;
                }
                let again = run_hash(table, event, first, last, prev.as_deref(), text);
                if again != *hash {
                    fault = Some(broken(
                        first,
                        last,
                        format!(
                            "was changed after it was written: its contents hash to {again}, it says {hash}"
                        ),
                    ));
                    break;
                }
                let items: Vec<serde_json::Value> = match serde_json::from_str(text) {
                    Ok(v) => v,
                    Err(e) => {
                        fault = Some(broken(first, last, format!("is not a JSON array: {e}")));
                        break;
                    }
                };
                if i64::try_from(items.len()).ok() != Some(last - first + 1) {
                    fault = Some(broken(
                        first,
                        last,
                        format!("holds {} entries, not {}", items.len(), last - first + 1),
                    ));
                    break;
                }
                if log == "steps" {
                    for step in &items {
                        let key = step.get("key").and_then(|k| k.as_str()).unwrap_or("?");
                        if let Some(arts) = step.get("artifacts").and_then(|a| a.as_object()) {
                            for (id, d) in arts {
                                let d = d.as_str().unwrap_or_default().to_string();
                                listed.insert(id.clone(), (d, key.to_string(), (first, last)));
                            }
                        }
                    }
                }
                report.runs_checked += 1;
                report.entries_checked += u64::try_from(items.len()).unwrap_or(0);
                prev = Some(hash.clone());
            }
            if fault.is_none() {
                for k in known.iter().filter(|k| k.event == event && k.log == log) {
                    match runs.iter().find(|r| r.1 == k.last_seq) {
                        None => {
                            fault = Some(broken(
                                k.last_seq,
                                k.last_seq,
                                format!(
                                    "the saved head ends at entry {} but the log now ends at {}: cut short or renumbered",
                                    k.last_seq,
                                    next - 1
                                ),
                            ))
                        }
                        Some(r) if r.4.as_deref() != Some(k.hash.as_str()) => {
                            fault = Some(broken(
                                r.0,
                                r.1,
                                format!(
                                    "the saved head's hash is {} but this run's is {}: rewritten, hashes included",
                                    k.hash,
                                    r.4.as_deref().unwrap_or("none")
                                ),
                            ))
                        }
                        Some(_) => {}
                    }
                    if fault.is_some() {
                        break;
                    }
                }
            }
            if let Some(f) = fault {
                report.breaks.push(f);
            } else if let (Some(hash), Some(last)) = (prev, runs.last()) {
                report.heads.push(AuditHead {
                    event: event.to_string(),
                    log: log.to_string(),
                    last_seq: last.1,
                    hash,
                });
            }
        }
        let rows: Vec<ArtifactRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, CAST(derived_from AS TEXT), CAST(payload AS TEXT) FROM artifacts WHERE event_id = $1 ORDER BY artifact_type, revision")
            .bind(event).fetch_all(p).await)
            .map_err(|e| StoreError::query("read artifacts", e))?;
        let mut fault: Option<AuditBreak> = None;
        for (
            id,
            ty,
            revision,
            schema_version,
            created_at,
            created_by,
            correlation_id,
            derived_from,
            payload,
        ) in &rows
        {
            let digest = artifact_digest(&ArtifactColumns {
                id,
                event,
                artifact_type: ty,
                revision: *revision,
                schema_version,
                created_at: *created_at,
                created_by,
                correlation_id,
                derived_from,
                payload,
            });
            let why = match listed.remove(id) {
                Some((d, _, _)) if d == digest => {
                    report.artifacts_checked += 1;
                    continue;
                }
                Some((_, key, (first, last))) => format!(
                    "{ty} revision {revision} ({id}) differs from what step `{key}` (steps {first}..{last}) committed"
                ),
                None if unchained_steps => {
                    report.artifacts_unchained += 1;
                    continue;
                }
                None => format!(
                    "{ty} revision {revision} ({id}) was not committed by any step: written outside EODS"
                ),
            };
            fault.get_or_insert(AuditBreak {
                event: event.to_string(),
                log: "artifacts".into(),
                first_seq: *revision,
                last_seq: *revision,
                reason: why,
            });
        }
        if let (None, Some((id, (_, key, (first, last))))) = (&fault, listed.into_iter().next()) {
            fault = Some(AuditBreak {
                event: event.to_string(),
                log: "artifacts".into(),
                first_seq: first,
                last_seq: last,
                reason: format!("artifact {id}, committed by step `{key}`, is missing"),
            });
        }
        report.breaks.extend(fault);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_hash_depends_on_every_field_and_fields_cannot_run_into_each_other() {
        let base = run_hash("decision_runs", "e1", 1, 2, None, "[1,2]");
        assert_eq!(base.len(), 64);
        for other in [
            run_hash("change_runs", "e1", 1, 2, None, "[1,2]"),
            run_hash("decision_runs", "e2", 1, 2, None, "[1,2]"),
            run_hash("decision_runs", "e1", 2, 2, None, "[1,2]"),
            run_hash("decision_runs", "e1", 1, 3, None, "[1,2]"),
            run_hash("decision_runs", "e1", 1, 2, Some("00"), "[1,2]"),
            run_hash("decision_runs", "e1", 1, 2, None, "[1,3]"),
            run_hash("decision_runse", "1", 1, 2, None, "[1,2]"),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(base, run_hash("decision_runs", "e1", 1, 2, None, "[1,2]"));
    }

    #[test]
    fn chained_runs_name_the_previous_runs_hash() {
        let runs = chain_runs(
            "step_runs",
            "e",
            Some("h0".into()),
            vec![(1, 2, "[]".into()), (3, 3, "[]".into())],
        );
        assert_eq!(runs[0].3.as_deref(), Some("h0"));
        assert_eq!(runs[1].3.as_deref(), Some(runs[0].4.as_str()));
        assert_eq!(
            runs[1].4,
            run_hash("step_runs", "e", 3, 3, Some(&runs[0].4), "[]")
        );
    }
}
