//! Retention (migration 0021): which events a purge may remove, legal holds that keep them, and
//! the purge itself — one transaction that first records what it removes (`retention_purges`,
//! which the append-only guards require before they let a delete through) and then removes the
//! event's artifacts, log runs, approvals, votes, notifications and row.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use eods_domain::ids::EventId;
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;

/// The shortest retention there is: audit entries and artifacts are kept at least this long.
pub const MIN_RETENTION_DAYS: u32 = 365;

/// An event whose run is over (completed, cancelled or failed) or that was archived, with the
/// last time anything was written for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetentionCandidate {
    pub event: String,
    pub title: String,
    pub run_status: String,
    pub archived: bool,
    pub last_activity: DateTime<Utc>,
    /// The reason of the legal hold in force, if one is.
    pub hold: Option<String>,
}

/// A purge as recorded: what was removed and under which retention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurgeRecord {
    pub event: String,
    pub title: String,
    pub last_activity: DateTime<Utc>,
    pub retention_days: u32,
    pub purged_at: DateTime<Utc>,
    pub purged_by: String,
    /// Counts of what was removed and the audit heads of the event's logs.
    pub removed: Value,
}

/// A legal hold: placed with a reason, released once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegalHold {
    pub event: String,
    pub placed_at: DateTime<Utc>,
    pub placed_by: String,
    pub reason: String,
    pub released_at: Option<DateTime<Utc>>,
    pub released_by: Option<String>,
}

type HoldTuple = (
    String,
    DateTime<Utc>,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
);

fn hold_from(t: HoldTuple) -> LegalHold {
    LegalHold {
        event: t.0,
        placed_at: t.1,
        placed_by: t.2,
        reason: t.3,
        released_at: t.4,
        released_by: t.5,
    }
}

impl Store {
    /// Events whose run is over or that were archived and in which nothing was written after
    /// `before` (the event row, artifacts, approval requests, decisions and escalations), oldest
    /// first, each with the legal hold in force if any.
    pub async fn retention_candidates(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<RetentionCandidate>, StoreError> {
        type Row = (String, String, String, Option<DateTime<Utc>>, DateTime<Utc>);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, title, run_status, archived_at, updated_at FROM events WHERE (run_status IN ('completed', 'cancelled', 'failed') OR archived_at IS NOT NULL) AND updated_at < $1 ORDER BY updated_at, id")
            .bind(before).fetch_all(p).await)
            .map_err(|e| StoreError::query("list events past retention", e))?;
        let mut out = Vec::new();
        for (id, title, run_status, archived_at, updated_at) in rows {
            type Last = (
                Option<DateTime<Utc>>,
                Option<DateTime<Utc>>,
                Option<DateTime<Utc>>,
                Option<DateTime<Utc>>,
            );
            let last: Last = on_pool!(self, p => sqlx::query_as(
                "SELECT (SELECT MAX(created_at) FROM artifacts WHERE event_id = $1), (SELECT MAX(requested_at) FROM approvals WHERE event_id = $1), (SELECT MAX(decided_at) FROM approvals WHERE event_id = $1), (SELECT MAX(escalated_at) FROM approvals WHERE event_id = $1)")
                .bind(&id).fetch_one(p).await)
                .map_err(|e| StoreError::query("find an event's last activity", e))?;
            let last_activity = [
                Some(updated_at),
                archived_at,
                last.0,
                last.1,
                last.2,
                last.3,
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(updated_at);
            if last_activity >= before {
                continue;
            }
            let hold = self.hold_in_force(&id).await?.map(|h| h.reason);
            out.push(RetentionCandidate {
                event: id,
                title,
                run_status,
                archived: archived_at.is_some(),
                last_activity,
                hold,
            });
        }
        Ok(out)
    }

    async fn hold_in_force(&self, event: &str) -> Result<Option<LegalHold>, StoreError> {
        let row: Option<HoldTuple> = on_pool!(self, p => sqlx::query_as(
            "SELECT event_id, placed_at, placed_by, reason, released_at, released_by FROM legal_holds WHERE event_id = $1 AND released_at IS NULL ORDER BY placed_at LIMIT 1")
            .bind(event).fetch_optional(p).await)
            .map_err(|e| StoreError::query("read legal holds", e))?;
        Ok(row.map(hold_from))
    }

    /// Places a legal hold on an event (which must exist). Refused with `Conflict` when one is
    /// already in force.
    pub async fn place_hold(
        &self,
        id: EventId,
        by: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self.event(id).await?.is_none() {
            return Err(StoreError::NotFound(format!("event {id}")));
        }
        if let Some(h) = self.hold_in_force(&id.to_string()).await? {
            return Err(StoreError::Conflict(format!(
                "event {id} is already on hold since {} by {}: {}",
                h.placed_at, h.placed_by, h.reason
            )));
        }
        on_pool!(self, p => sqlx::query("INSERT INTO legal_holds (event_id, placed_at, placed_by, reason) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string()).bind(at).bind(by).bind(reason).execute(p).await.map(|_| ()))
            .map_err(|e| StoreError::query("place a legal hold", e))?;
        Ok(())
    }

    /// Releases the legal hold in force on an event; `false` when there was none.
    pub async fn release_hold(
        &self,
        id: EventId,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query("UPDATE legal_holds SET released_at = $1, released_by = $2 WHERE event_id = $3 AND released_at IS NULL")
            .bind(at).bind(by).bind(id.to_string()).execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("release a legal hold", e))?;
        Ok(n > 0)
    }

    /// Every legal hold, placed and released, newest first.
    pub async fn legal_holds(&self) -> Result<Vec<LegalHold>, StoreError> {
        let rows: Vec<HoldTuple> = on_pool!(self, p => sqlx::query_as(
            "SELECT event_id, placed_at, placed_by, reason, released_at, released_by FROM legal_holds ORDER BY placed_at DESC")
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("read legal holds", e))?;
        Ok(rows.into_iter().map(hold_from).collect())
    }

    /// Every purge recorded, newest first.
    pub async fn purge_records(&self) -> Result<Vec<PurgeRecord>, StoreError> {
        type Row = (
            String,
            String,
            DateTime<Utc>,
            i64,
            DateTime<Utc>,
            String,
            Json<Value>,
        );
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT event_id, title, last_activity, retention_days, purged_at, purged_by, removed FROM retention_purges ORDER BY purged_at DESC, event_id")
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("read purge records", e))?;
        Ok(rows
            .into_iter()
            .map(|r| PurgeRecord {
                event: r.0,
                title: r.1,
                last_activity: r.2,
                retention_days: u32::try_from(r.3).unwrap_or(u32::MAX),
                purged_at: r.4,
                purged_by: r.5,
                removed: r.6.0,
            })
            .collect())
    }

    /// Removes `c` (a candidate of [`Store::retention_candidates`] under `retention_days`) for
    /// good, recording the purge first. Refused (`Conflict`) when a legal hold was placed since,
    /// or when something was written for the event since `c.last_activity` was read.
    pub async fn purge_event(
        &self,
        c: &RetentionCandidate,
        retention_days: u32,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<PurgeRecord, StoreError> {
        if retention_days < MIN_RETENTION_DAYS {
            return Err(StoreError::Conflict(format!(
                "a retention of {retention_days} days is below the minimum of {MIN_RETENTION_DAYS}"
            )));
        }
        let id: EventId = c
            .event
            .parse()
            .map_err(|_| StoreError::NotFound(format!("event {}", c.event)))?;
        // The audit heads of what goes: the record keeps them.
        let audit = self.verify_audit(Some(id), &[]).await?;
        let event = c.event.as_str();
        on_pool!(writer: self, pool => {
            let mut tx = pool.begin().await.map_err(|e| StoreError::query("begin purge", e))?;
            // Lock the event row (and, on SQLite, the database) before checking again.
            let locked: Option<(DateTime<Utc>,)> = sqlx::query_as("UPDATE events SET seq = seq WHERE id = $1 RETURNING updated_at")
                .bind(event).fetch_optional(&mut *tx).await
                .map_err(|e| StoreError::query("lock event", e))?;
            let Some((updated_at,)) = locked else {
                return Err(StoreError::NotFound(format!("event {event}")));
            };
            let newest: (Option<DateTime<Utc>>,) = sqlx::query_as("SELECT MAX(created_at) FROM artifacts WHERE event_id = $1")
                .bind(event).fetch_one(&mut *tx).await
                .map_err(|e| StoreError::query("find an event's last activity", e))?;
            if updated_at > c.last_activity || newest.0.is_some_and(|t| t > c.last_activity) {
                return Err(StoreError::Conflict(format!("event {event} changed since it was found past retention")));
            }
            let held: Option<(String,)> = sqlx::query_as("SELECT reason FROM legal_holds WHERE event_id = $1 AND released_at IS NULL LIMIT 1")
                .bind(event).fetch_optional(&mut *tx).await
                .map_err(|e| StoreError::query("read legal holds", e))?;
            if let Some((reason,)) = held {
                return Err(StoreError::Conflict(format!("event {event} is on legal hold: {reason}")));
            }
            let mut counts = serde_json::Map::new();
            for (name, sql) in [
                ("artifact_revisions", "SELECT COUNT(*) FROM artifacts WHERE event_id = $1"),
                ("steps", "SELECT CAST(COALESCE(SUM(last_seq - first_seq + 1), 0) AS BIGINT) FROM step_runs WHERE event_id = $1"),
                ("decision_entries", "SELECT CAST(COALESCE(SUM(last_seq - first_seq + 1), 0) AS BIGINT) FROM decision_runs WHERE event_id = $1"),
                ("change_entries", "SELECT CAST(COALESCE(SUM(last_seq - first_seq + 1), 0) AS BIGINT) FROM change_runs WHERE event_id = $1"),
                ("approvals", "SELECT COUNT(*) FROM approvals WHERE event_id = $1"),
                ("votes", "SELECT COUNT(*) FROM approval_votes v JOIN approvals a ON a.id = v.approval_id WHERE a.event_id = $1"),
                ("notifications", "SELECT COUNT(*) FROM outbox WHERE event_id = $1"),
            ] {
                let (n,): (i64,) = sqlx::query_as(sql).bind(event).fetch_one(&mut *tx).await
                    .map_err(|e| StoreError::query("count what a purge removes", e))?;
                counts.insert(name.into(), n.into());
            }
            let removed = serde_json::json!({
                "counts": counts,
                "audit_heads": audit.heads,
                "audit_intact": audit.intact(),
            });
            let record = PurgeRecord {
                event: event.to_string(),
                title: c.title.clone(),
                last_activity: c.last_activity,
                retention_days,
                purged_at: at,
                purged_by: by.to_string(),
                removed,
            };
            sqlx::query("INSERT INTO retention_purges (event_id, title, last_activity, retention_days, purged_at, purged_by, removed) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(event).bind(&record.title).bind(record.last_activity).bind(i64::from(retention_days))
                .bind(at).bind(by).bind(Json(&record.removed))
                .execute(&mut *tx).await
                .map_err(|e| StoreError::query("record the purge", e))?;
            for (what, sql) in [
                ("votes", "DELETE FROM approval_votes WHERE approval_id IN (SELECT id FROM approvals WHERE event_id = $1)"),
                ("approvals", "DELETE FROM approvals WHERE event_id = $1"),
                ("notifications", "DELETE FROM outbox WHERE event_id = $1"),
                ("artifacts", "DELETE FROM artifacts WHERE event_id = $1"),
                ("steps", "DELETE FROM step_runs WHERE event_id = $1"),
                ("decisions", "DELETE FROM decision_runs WHERE event_id = $1"),
                ("changes", "DELETE FROM change_runs WHERE event_id = $1"),
                ("event", "DELETE FROM events WHERE id = $1"),
            ] {
                sqlx::query(sql).bind(event).execute(&mut *tx).await
                    .map_err(|e| StoreError::query(what, e))?;
            }
            tx.commit().await.map_err(|e| StoreError::query("commit purge", e))?;
            Ok(record)
        })
    }
}
