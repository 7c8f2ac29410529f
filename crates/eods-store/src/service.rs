//! Queries of the HTTP service: leases that let several instances share runs, guarded run-status
//! changes, event listing with filters, API tokens, the notification outbox and approvals across
//! events. Times that SQL compares are integers (milliseconds since the Unix epoch) on both
//! backends.

use crate::rows::{self, parse_uuid};
use crate::rows::{EventListRecord, InboxRecord};
use crate::{
    ApprovalRow, Channel, EventListRow, InboxRow, OutboxKind, OutboxRow, OutboxStatus,
    SUMMARY_COLUMNS, Store, StoreError, TokenRow,
};
use chrono::{DateTime, Utc};
use eods_domain::access::Role;
use eods_domain::ids::EventId;
use eods_domain::lifecycle::{LifecycleState, RunStatus};
use serde_json::Value;
use sqlx::types::Json;

/// Milliseconds since the Unix epoch, the unit of lease and retry times.
pub fn epoch_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Which audit entries to find across events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub event: Option<EventId>,
    /// The entry's kind: `decision_type` of a decision, `type` of a change (snake_case).
    pub kind: Option<String>,
    /// The decision's `owner` or the change's `actor`, e.g. `user:bob` or `agent:budget_analyst`.
    pub who: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
    pub limit: u32,
}

/// The DecisionLog or the ChangeLog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditLog {
    Decisions,
    Changes,
}

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub state: Option<LifecycleState>,
    pub run_status: Option<RunStatus>,
    /// Archived events only (else only those not archived).
    pub archived: bool,
    pub limit: u32,
    pub offset: u32,
}

/// One page of the approvals inbox.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxPage {
    pub items: Vec<InboxRow>,
    /// Pending requests of current revisions in all.
    pub total: u64,
}

/// Pending requests for the current revision of what they approve (a request for an older
/// revision waits for nothing: the newer revision has its own), of events neither archived nor
/// cancelled (a cancelled run waits for no decision). Uses
/// the alias `a` for approvals.
const PENDING_CURRENT: &str = "a.status = 'pending' AND a.artifact_revision = (SELECT MAX(r.revision) FROM artifacts r WHERE r.event_id = a.event_id AND r.artifact_type = a.artifact_type) AND NOT EXISTS (SELECT 1 FROM events x WHERE x.id = a.event_id AND (x.archived_at IS NOT NULL OR x.run_status = 'cancelled'))";

/// `'a', 'b'` for an IN list of enum names (never user text).
fn in_list(statuses: &[RunStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Events matching `f`, newest first, and how many match in all: one query over the events
    /// row (status and brief summary) with each event's pending approval count; no payloads.
    pub async fn events_page(
        &self,
        f: &EventFilter,
    ) -> Result<(Vec<EventListRow>, u64), StoreError> {
        let state = f.state.map(|s| s.as_str());
        let status = f.run_status.map(|s| s.as_str());
        let filter = "($1 IS NULL OR state = $1) AND ($2 IS NULL OR run_status = $2) AND (CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END) = $5";
        // The count is an uncorrelated subquery, evaluated once for the statement.
        let sql = format!(
            "SELECT e.id, e.title, e.state, e.run_status, e.level, e.status_detail, e.wake_at, {SUMMARY_COLUMNS}, \
             (SELECT COUNT(*) FROM approvals a WHERE a.event_id = e.id AND {PENDING_CURRENT}) AS pending_approvals, \
             e.created_at, e.updated_at, e.archived_at, (SELECT COUNT(*) FROM events WHERE {filter}) AS total \
             FROM events e WHERE {filter} ORDER BY e.created_at DESC, e.id DESC LIMIT $3 OFFSET $4"
        );
        let rows: Vec<EventListRecord> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(state).bind(status).bind(i64::from(f.limit)).bind(i64::from(f.offset))
            .bind(i64::from(f.archived))
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("list events", e))?;
        let total = match rows.first() {
            Some(r) => r.total,
            // A page past the end has no row to carry the count.
            None => {
                let sql = format!(
                    "SELECT COUNT(*) FROM events WHERE {}",
                    filter.replace("$5", "$3")
                );
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(state).bind(status).bind(i64::from(f.archived)).fetch_one(p).await)
                .map_err(|e| StoreError::query("count events", e))?;
                n
            }
        };
        let events = rows
            .into_iter()
            .map(EventListRow::try_from)
            .collect::<Result<_, _>>()?;
        Ok((events, u64::try_from(total).unwrap_or(0)))
    }

    /// Live events waiting for their calendar (a run with a timer, not archived), the soonest
    /// timer first: (id, title), at most `limit`.
    pub async fn waiting_events(&self, limit: u32) -> Result<Vec<(EventId, String)>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, title FROM events WHERE run_status IN ('running', 'awaiting_approval', 'blocked') AND wake_at IS NOT NULL AND archived_at IS NULL ORDER BY wake_at, id LIMIT $1")
            .bind(i64::from(limit)).fetch_all(p).await)
        .map_err(|e| StoreError::query("waiting events", e))?;
        rows.into_iter()
            .map(|(id, title)| Ok((parse_uuid(&id)?, title)))
            .collect()
    }

    /// One page of the approvals inbox: pending requests of current revisions with their event's
    /// title, status and brief summary, in one query (no payloads), the earliest deadline first
    /// (an index scan over pending requests by deadline that stops at the page's end).
    pub async fn inbox(&self, limit: u32, offset: u32) -> Result<InboxPage, StoreError> {
        let sql = format!(
            "SELECT a.id, a.event_id, a.gate, a.artifact_revision, a.requested_at, a.deadline, a.required_approvals, \
             (SELECT COUNT(*) FROM approval_votes v WHERE v.approval_id = a.id AND v.decision = 'approve') AS approve_votes, \
             e.title, e.state, e.run_status, {summary}, \
             (SELECT COUNT(*) FROM approvals a WHERE {PENDING_CURRENT}) AS total \
             FROM approvals a JOIN events e ON e.id = a.event_id WHERE {PENDING_CURRENT} \
             ORDER BY a.deadline, a.id LIMIT $1 OFFSET $2",
            summary = SUMMARY_COLUMNS
                .split(", ")
                .map(|c| format!("e.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<InboxRecord> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit)).bind(i64::from(offset))
            .fetch_all(p).await)
        .map_err(|e| StoreError::query("approvals inbox", e))?;
        let total = match rows.first() {
            Some(r) => u64::try_from(r.total).unwrap_or(0),
            None => self.pending_count().await?,
        };
        let items = rows
            .into_iter()
            .map(InboxRow::try_from)
            .collect::<Result<_, _>>()?;
        Ok(InboxPage { items, total })
    }

    /// How many pending requests of current revisions there are (the inbox's size).
    pub async fn pending_count(&self) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM approvals a WHERE {PENDING_CURRENT}");
        let (n,): (i64,) =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(p).await)
                .map_err(|e| StoreError::query("count pending approvals", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Sets the run status when it is one of `from`; returns whether it changed.
    pub async fn transition_run_status(
        &self,
        id: EventId,
        from: &[RunStatus],
        to: RunStatus,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE events SET run_status = $1, status_detail = $2, updated_at = $3 WHERE id = $4 AND run_status IN ({})",
            in_list(from)
        );
        let done = on_pool!(self, p => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to.as_str()).bind(detail).bind(now).bind(id.to_string())
            .execute(p).await.map(|r| r.rows_affected()))
        .map_err(|e| StoreError::query("change run status", e))?;
        Ok(done == 1)
    }

    /// Sets the run status only if nothing was committed for the event since the caller's
    /// snapshot (its commit counter is still `seq`) and the run was not paused or cancelled
    /// meanwhile; returns whether it was set. A worker uses it to stop waiting only when nothing
    /// (an approval decision, an edit) arrived meanwhile. The guard is a column of the row itself,
    /// so PostgreSQL re-checks it after waiting for a concurrent commit's lock.
    pub async fn set_run_status_if_unchanged(
        &self,
        id: EventId,
        status: RunStatus,
        detail: Option<&str>,
        wake_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        seq: u64,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE events SET run_status = $1, status_detail = $2, updated_at = $3, wake_at = $6 WHERE id = $4 AND run_status NOT IN ('paused', 'cancelled') AND seq = $5")
            .bind(status.as_str()).bind(detail).bind(now).bind(id.to_string()).bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(wake_at.map(|t| t.timestamp_millis()))
            .execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("set run status", e))?;
        Ok(done == 1)
    }

    /// Leases up to `limit` events whose run status is `running` (or whose task timer is due
    /// while they wait for a decision or are blocked) and whose lease is free or expired to
    /// `owner` until `until_ms`; returns their ids. Instances never get the same
    /// event while its lease holds.
    pub async fn claim_runnable(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> Result<Vec<EventId>, StoreError> {
        // The conditions are repeated on the outer UPDATE: under READ COMMITTED PostgreSQL
        // re-checks them on a row another instance just claimed.
        // A run waiting on its timer (`wake_at`) is runnable once the time has come; so is a
        // live run waiting for a decision or blocked whose task timer is due.
        let free = "(run_status = 'running' AND (wake_at IS NULL OR wake_at <= $3) OR run_status IN ('awaiting_approval', 'blocked') AND wake_at <= $3) AND (lease_until IS NULL OR lease_until < $3)";
        let rows: Vec<(String,)> = match self {
            Store::Sqlite(s) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE events SET lease_owner = $1, lease_until = $2 WHERE id IN (SELECT id FROM events WHERE {free} ORDER BY updated_at LIMIT $4) AND {free} RETURNING id"
            )))
            .bind(owner).bind(until_ms).bind(now_ms).bind(i64::from(limit))
            .fetch_all(&s.pool).await,
            Store::Postgres(p) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE events SET lease_owner = $1, lease_until = $2 WHERE id IN (SELECT id FROM events WHERE {free} ORDER BY updated_at LIMIT $4 FOR UPDATE SKIP LOCKED) AND {free} RETURNING id"
            )))
            .bind(owner).bind(until_ms).bind(now_ms).bind(i64::from(limit))
            .fetch_all(&p.pool).await,
        }
        .map_err(|e| StoreError::query("claim events", e))?;
        rows.into_iter().map(|(id,)| parse_uuid(&id)).collect()
    }

    /// Events whose lease `owner` holds now (until a time after `now_ms`).
    pub async fn leased_by(&self, owner: &str, now_ms: i64) -> Result<Vec<EventId>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(self, p => sqlx::query_as("SELECT id FROM events WHERE lease_owner = $1 AND lease_until > $2 ORDER BY id")
            .bind(owner).bind(now_ms).fetch_all(p).await)
            .map_err(|e| StoreError::query("leases held", e))?;
        rows.into_iter().map(|(id,)| parse_uuid(&id)).collect()
    }

    /// Gives a lease back (only the owner can).
    pub async fn release_lease(&self, id: EventId, owner: &str) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE events SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(id.to_string()).bind(owner).execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("release lease", e))?;
        Ok(())
    }

    /// The holder of an event's lease and its expiry, if any.
    pub async fn lease(&self, id: EventId) -> Result<Option<(String, i64)>, StoreError> {
        let row: Option<(Option<String>, Option<i64>)> = on_pool!(self, p => sqlx::query_as("SELECT lease_owner, lease_until FROM events WHERE id = $1")
            .bind(id.to_string()).fetch_optional(p).await)
            .map_err(|e| StoreError::query("load lease", e))?;
        Ok(row.and_then(|(o, u)| Some((o?, u?))))
    }

    /// Pending approval requests of every event, oldest deadline first (two queries: the
    /// requests, then their votes).
    pub async fn pending_approvals(&self) -> Result<Vec<ApprovalRow>, StoreError> {
        let rows: Vec<rows::ApprovalTuple> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, event_id, gate, artifact_revision, status, approver_role, requested_at, deadline, decided_at, decided_by, decision, comment, directive, required_approvals, summary, summary_by FROM approvals WHERE status = 'pending' ORDER BY deadline, id")
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("pending approvals", e))?;
        let mut out: Vec<ApprovalRow> = rows
            .into_iter()
            .map(ApprovalRow::try_from)
            .collect::<Result<_, _>>()?;
        let votes: Vec<(String, String, String, String, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT v.approval_id, v.voter, v.decision, v.comment, v.at FROM approval_votes v JOIN approvals a ON a.id = v.approval_id WHERE a.status = 'pending' ORDER BY v.at, v.voter")
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("votes of pending approvals", e))?;
        let mut index: std::collections::HashMap<eods_domain::ids::ApprovalId, usize> =
            out.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        for v in votes {
            let vote = rows::vote_from_tuple(v)?;
            if let Some(i) = index.get_mut(&vote.approval_id) {
                out[*i].votes.push(vote);
            }
        }
        Ok(out)
    }

    /// Events with a pending approval request past its deadline that has not been escalated yet
    /// (not stamped by an escalation commit), oldest deadline first.
    pub async fn events_with_unescalated_overdue_approvals(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<EventId>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT a.event_id FROM approvals a WHERE a.status = 'pending' AND a.deadline < $1 AND a.escalated_at IS NULL GROUP BY a.event_id ORDER BY MIN(a.deadline)")
            .bind(now).fetch_all(p).await)
            .map_err(|e| StoreError::query("overdue approvals", e))?;
        rows.into_iter().map(|(id,)| parse_uuid(&id)).collect()
    }

    /// The event an approval request belongs to.
    pub async fn approval_event(
        &self,
        id: eods_domain::ids::ApprovalId,
    ) -> Result<Option<EventId>, StoreError> {
        let row: Option<(String,)> =
            on_pool!(self, p => sqlx::query_as("SELECT event_id FROM approvals WHERE id = $1")
            .bind(id.to_string()).fetch_optional(p).await)
            .map_err(|e| StoreError::query("find approval", e))?;
        row.map(|(e,)| parse_uuid(&e)).transpose()
    }

    /// Every approval request of every event, newest first, up to `limit`.
    pub async fn all_approvals(&self, limit: u32) -> Result<Vec<ApprovalRow>, StoreError> {
        let ids: Vec<(String,)> = on_pool!(self, p => sqlx::query_as("SELECT id FROM events ORDER BY created_at DESC LIMIT $1")
            .bind(i64::from(limit)).fetch_all(p).await)
            .map_err(|e| StoreError::query("events", e))?;
        let mut out = Vec::new();
        for (id,) in ids {
            out.extend(self.approvals(parse_uuid(&id)?).await?);
        }
        out.sort_by_key(|a| std::cmp::Reverse((a.requested_at, a.id.0)));
        out.truncate(limit as usize);
        Ok(out)
    }

    /// Stores a new API token.
    pub async fn create_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("INSERT INTO api_tokens (id, name, role, contracts, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&t.id).bind(&t.name).bind(t.role.as_str()).bind(t.contracts).bind(&t.secret_hash).bind(t.created_at)
            .execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("insert token", e))?;
        Ok(())
    }

    /// One token by its public id.
    pub async fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let row: Option<TokenTuple> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, name, role, contracts, secret_hash, created_at, revoked_at FROM api_tokens WHERE id = $1")
            .bind(id).fetch_optional(p).await)
            .map_err(|e| StoreError::query("load token", e))?;
        row.map(token_from_tuple).transpose()
    }

    /// Every token, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows: Vec<TokenTuple> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, name, role, contracts, secret_hash, created_at, revoked_at FROM api_tokens ORDER BY created_at, id")
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("list tokens", e))?;
        rows.into_iter().map(token_from_tuple).collect()
    }

    /// Opens a page session: `id` is the hash of the cookie's secret; it lasts until
    /// `expires_ms` unless ended sooner.
    pub async fn create_web_session(
        &self,
        id: &str,
        token_id: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("INSERT INTO web_sessions (id, token_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
            .bind(id).bind(token_id).bind(now_ms).bind(expires_ms)
            .execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("open web session", e))?;
        Ok(())
    }

    /// The token of a page session that is open at `now_ms` (neither ended nor expired); the
    /// caller checks whether the token was revoked.
    pub async fn web_session_token(
        &self,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<TokenRow>, StoreError> {
        let row: Option<TokenTuple> = on_pool!(self, p => sqlx::query_as(
            "SELECT t.id, t.name, t.role, t.contracts, t.secret_hash, t.created_at, t.revoked_at FROM web_sessions s JOIN api_tokens t ON t.id = s.token_id WHERE s.id = $1 AND s.ended_ms IS NULL AND s.expires_ms > $2")
            .bind(id).bind(now_ms).fetch_optional(p).await)
            .map_err(|e| StoreError::query("load web session", e))?;
        row.map(token_from_tuple).transpose()
    }

    /// Ends a page session (signing out); returns whether it was open.
    pub async fn end_web_session(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = on_pool!(self, p => sqlx::query("UPDATE web_sessions SET ended_ms = $2 WHERE id = $1 AND ended_ms IS NULL")
            .bind(id).bind(now_ms).execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("end web session", e))?;
        Ok(done == 1)
    }

    /// Revokes a token; returns whether one was active.
    pub async fn revoke_token(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = on_pool!(self, p => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now).bind(id).execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("revoke token", e))?;
        Ok(done == 1)
    }

    /// Replaces a token's stored hash, only while it is still `expected` (the upgrade of a
    /// legacy argon2 hash to the HMAC form; instances racing to upgrade write the same value).
    /// Returns whether this call changed the row.
    pub async fn replace_token_hash(
        &self,
        id: &str,
        expected: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, p => sqlx::query("UPDATE api_tokens SET secret_hash = $1 WHERE id = $2 AND secret_hash = $3")
            .bind(new).bind(id).bind(expected).execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("replace token hash", e))?;
        Ok(done == 1)
    }

    /// The key that HMACs API token secrets: the stored one, or else `candidate`, stored now.
    /// Inserting is a no-op when a key is already there, so instances starting together all end
    /// up with the first key written.
    pub async fn token_key(
        &self,
        candidate: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<[u8; 32], StoreError> {
        let hex: String = candidate.iter().map(|b| format!("{b:02x}")).collect();
        // Read first: a database that takes no writes still has the key it was given.
        let load = || async {
            on_pool!(self, p => sqlx::query_as::<_, (String,)>("SELECT key_hex FROM server_keys WHERE purpose = 'api_tokens'")
                .fetch_optional(p).await)
                .map_err(|e| StoreError::query("load the token key", e))
        };
        let stored = match load().await? {
            Some((k,)) => k,
            None => {
                on_pool!(self, p => sqlx::query("INSERT INTO server_keys (purpose, key_hex, created_at) VALUES ('api_tokens', $1, $2) ON CONFLICT (purpose) DO NOTHING")
                    .bind(&hex).bind(now).execute(p).await.map(|r| r.rows_affected()))
                    .map_err(|e| StoreError::query("store the token key", e))?;
                load().await?.map(|(k,)| k).ok_or_else(|| {
                    StoreError::Corrupt(
                        "server_keys has no `api_tokens` key after storing one".into(),
                    )
                })?
            }
        };
        let corrupt = || {
            StoreError::Corrupt("server_keys.key_hex of `api_tokens` is not 64 hex digits".into())
        };
        let mut key = [0u8; 32];
        if stored.len() != 64 {
            return Err(corrupt());
        }
        for (i, b) in key.iter_mut().enumerate() {
            *b = stored
                .get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(corrupt)?;
        }
        Ok(key)
    }

    /// Leases up to `limit` notifications that are due on `channel` to `owner`.
    pub async fn claim_outbox(
        &self,
        channel: Channel,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let c = channel.prefix();
        let free = format!(
            "{c}status = 'pending' AND {c}next_attempt_ms <= $3 AND ({c}claimed_until IS NULL OR {c}claimed_until < $3)"
        );
        let lock = if matches!(self, Store::Postgres(_)) {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let columns = outbox_columns(channel);
        let sql = format!(
            "UPDATE outbox SET {c}claimed_by = $1, {c}claimed_until = $2 WHERE id IN (SELECT id FROM outbox WHERE {free} ORDER BY {c}next_attempt_ms LIMIT $4{lock}) AND {free} RETURNING {columns}"
        );
        let rows: Vec<OutboxTuple> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner).bind(until_ms).bind(now_ms).bind(i64::from(limit))
            .fetch_all(p).await)
        .map_err(|e| StoreError::query("claim outbox", e))?;
        self.opened_outbox(rows).await
    }

    /// Records a delivery attempt on `channel`: delivered, or retried at `next_ms`, or given up
    /// (`dead`).
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_delivery(
        &self,
        channel: Channel,
        id: uuid::Uuid,
        owner: &str,
        status: OutboxStatus,
        next_ms: i64,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = channel.prefix();
        let delivered = (status == OutboxStatus::Delivered).then_some(now);
        // An SMTP server's refusal usually quotes the address; the payload (sealed) has it.
        let error = error.map(crate::keys::mask_addresses);
        let sql = format!(
            "UPDATE outbox SET {c}status = $1, {c}attempts = {c}attempts + 1, {c}next_attempt_ms = $2, {c}last_error = $3, {c}delivered_at = $4, {c}claimed_by = NULL, {c}claimed_until = NULL WHERE id = $5 AND {c}claimed_by = $6"
        );
        on_pool!(self, p => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status.as_str()).bind(next_ms).bind(error).bind(delivered).bind(id.to_string()).bind(owner)
            .execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("record delivery", e))?;
        Ok(())
    }

    /// The notifications of an event (or all), oldest first, with their webhook delivery state.
    pub async fn outbox(&self, event: Option<EventId>) -> Result<Vec<OutboxRow>, StoreError> {
        self.outbox_on(Channel::Webhook, event).await
    }

    /// The notifications of an event (or all) that go out on `channel`, oldest first, with
    /// that channel's delivery state.
    pub async fn outbox_on(
        &self,
        channel: Channel,
        event: Option<EventId>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let c = channel.prefix();
        let columns = outbox_columns(channel);
        let sql = format!(
            "SELECT {columns} FROM outbox WHERE ($1 IS NULL OR event_id = $1) AND {c}status IS NOT NULL ORDER BY created_at, id"
        );
        let rows: Vec<OutboxTuple> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(event.map(|e| e.to_string())).fetch_all(p).await)
        .map_err(|e| StoreError::query("load outbox", e))?;
        self.opened_outbox(rows).await
    }

    /// Committed steps of an event after `seq`: (seq, key, time), in order.
    pub async fn steps_after(
        &self,
        id: EventId,
        seq: u64,
    ) -> Result<Vec<(u64, String, DateTime<Utc>)>, StoreError> {
        let rows: Vec<(i64, String, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT seq, step_key, committed_at FROM steps WHERE event_id = $1 AND seq > $2 ORDER BY seq")
            .bind(id.to_string()).bind(i64::try_from(seq).unwrap_or(i64::MAX)).fetch_all(p).await)
            .map_err(|e| StoreError::query("load steps", e))?;
        Ok(rows
            .into_iter()
            .map(|(s, k, t)| (u64::try_from(s).unwrap_or(0), k, t))
            .collect())
    }

    /// How many events are in each run status.
    pub async fn count_by_run_status(&self) -> Result<Vec<(RunStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT run_status, COUNT(*) FROM events GROUP BY run_status")
            .fetch_all(p).await)
        .map_err(|e| StoreError::query("count events", e))?;
        rows.into_iter()
            .map(|(s, n)| {
                let status = RunStatus::parse(&s)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown run status `{s}`")))?;
                Ok((status, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// Entries of one audit log across events matching `f`, newest first.
    pub async fn audit_search(
        &self,
        log: AuditLog,
        f: &AuditFilter,
    ) -> Result<Vec<(EventId, Value)>, StoreError> {
        let (table, kind, who) = match log {
            AuditLog::Decisions => ("decision_log", "decision_type", "owner"),
            AuditLog::Changes => ("change_log", "type", "actor"),
        };
        // The JSON field access differs per dialect; the names come from the match above.
        let field = |name: &str| match self {
            Store::Sqlite(_) => format!("json_extract(entry, '$.{name}')"),
            Store::Postgres(_) => format!("entry->>'{name}'"),
        };
        let sql = format!(
            "SELECT event_id, entry FROM {table} WHERE ($1 IS NULL OR event_id = $1) AND ($2 IS NULL OR {} = $2) AND ($3 IS NULL OR {} = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) ORDER BY at DESC, event_id, seq DESC LIMIT $6",
            field(kind),
            field(who)
        );
        let rows: Vec<(String, Json<Value>)> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(f.event.map(|e| e.to_string())).bind(f.kind.as_deref()).bind(f.who.as_deref())
            .bind(f.since).bind(f.until).bind(i64::from(f.limit))
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("search audit log", e))?;
        rows.into_iter()
            .map(|(e, j)| Ok((parse_uuid(&e)?, j.0)))
            .collect()
    }

    /// Whether the database answers a trivial query (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::query("ping", e))?;
        Ok(())
    }
}

type TokenTuple = (
    String,
    String,
    String,
    bool,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn token_from_tuple(t: TokenTuple) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: t.0,
        name: t.1,
        role: Role::parse(&t.2)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role `{}`", t.2)))?,
        contracts: t.3,
        secret_hash: t.4,
        created_at: t.5,
        revoked_at: t.6,
    })
}

/// The columns of a notification with `channel`'s delivery state, in [`OutboxTuple`]'s order.
fn outbox_columns(channel: Channel) -> String {
    let c = channel.prefix();
    format!(
        "id, event_id, kind, dedupe_key, payload, created_at, {c}status, {c}attempts, {c}next_attempt_ms, {c}delivered_at, {c}last_error"
    )
}

type OutboxTuple = (
    String,
    String,
    String,
    String,
    Json<Value>,
    DateTime<Utc>,
    String,
    i64,
    i64,
    Option<DateTime<Utc>>,
    Option<String>,
);

impl Store {
    /// Outbox rows, their sealed payloads opened.
    async fn opened_outbox(&self, rows: Vec<OutboxTuple>) -> Result<Vec<OutboxRow>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for mut t in rows {
            let payload = std::mem::take(&mut t.4.0);
            t.4 = Json(
                self.open_sealed(payload, &crate::keys::outbox_context(&t.0))
                    .await?,
            );
            out.push(outbox_from_tuple(t)?);
        }
        Ok(out)
    }
}

fn outbox_from_tuple(t: OutboxTuple) -> Result<OutboxRow, StoreError> {
    Ok(OutboxRow {
        id: parse_uuid(&t.0)?,
        event_id: parse_uuid(&t.1)?,
        kind: OutboxKind::parse(&t.2)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown outbox kind `{}`", t.2)))?,
        dedupe_key: t.3,
        payload: t.4.0,
        created_at: t.5,
        status: OutboxStatus::parse(&t.6)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown outbox status `{}`", t.6)))?,
        attempts: u32::try_from(t.7).unwrap_or(u32::MAX),
        next_attempt_ms: t.8,
        delivered_at: t.9,
        last_error: t.10,
    })
}
