//! Commits: one transaction writes one or several keyed commits of one event. Every write of a
//! kind is one statement for the whole batch (multi-row inserts), so a batch costs about the same
//! round trips as a single commit.

use crate::rows::{Commit, CommitOutcome};
use crate::{Store, StoreError};
use sqlx::QueryBuilder;
use sqlx::types::Json;

/// Rows per multi-row INSERT (well under SQLite's and PostgreSQL's bind-parameter limits).
const CHUNK: usize = 200;

/// Bytes of JSON per multi-row INSERT. sqlx 0.9.0 does not set `TCP_NODELAY` on its sockets
/// (sqlx issue #4335, fixed after that release). A message that leaves the client in more than one
/// write (over TLS, which `sslmode=prefer` picks whenever the server offers it, every 16 KiB
/// record is a write) has its last write held by Nagle's algorithm until the server's delayed ACK:
/// 40 ms per such statement, which was most of an event's time on PostgreSQL. Statements are kept
/// under one TLS record where the rows allow (a single larger row still goes alone).
const MESSAGE_BYTES: usize = 12 * 1024;

/// Splits `items` into runs of at most [`CHUNK`] rows whose `size` adds up to at most
/// [`MESSAGE_BYTES`] (a single larger row is a run of its own), in order.
fn sized_chunks<T>(items: &[T], size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let n = size(item);
        if i > start && (bytes + n > MESSAGE_BYTES || i - start == CHUNK) {
            out.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += n;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// Length of `v` as JSON, without keeping the text.
fn json_len<T: serde::Serialize + ?Sized>(v: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// What a batch did: each commit's outcome, in order, and the event's commit counter after it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutcome {
    pub outcomes: Vec<CommitOutcome>,
    /// The event's `seq` after the transaction (unchanged when nothing was written).
    pub event_seq: u64,
}

impl BatchOutcome {
    /// The step sequence number of the last commit written, if any was.
    pub fn last_applied(&self) -> Option<u64> {
        self.outcomes.iter().rev().find_map(|o| match o {
            CommitOutcome::Applied { seq } => Some(*seq),
            CommitOutcome::AlreadyApplied => None,
        })
    }
}

impl Store {
    /// Commits several commits of one event in one transaction, in order. The fence and the
    /// expected counter of the first commit guard the whole batch (the batch was computed from one
    /// snapshot); a commit whose key was committed before is skipped (`AlreadyApplied`); the status
    /// written is the last one of the commits applied. `before_commit` runs after every write and
    /// before COMMIT; an error from it rolls everything back (failure injection). The event's
    /// commit counter moves by one per transaction.
    pub async fn commit_batch(
        &self,
        batch: &[Commit],
        before_commit: impl FnOnce() -> Result<(), String>,
    ) -> Result<BatchOutcome, StoreError> {
        let Some(first) = batch.first() else {
            return Ok(BatchOutcome {
                outcomes: vec![],
                event_seq: 0,
            });
        };
        let event = first.event_id.to_string();
        if let Some(c) = batch.iter().find(|c| c.event_id != first.event_id) {
            return Err(StoreError::Conflict(format!(
                "a batch holds commits of one event: {} and {}",
                first.event_id, c.event_id
            )));
        }
        on_pool!(self, p => {
            let mut tx = p.begin().await.map_err(|e| StoreError::query("begin", e))?;
            if let Some(ev) = &first.create_event {
                crate::insert_event(&mut *tx, ev).await?;
            }
            // Write to the event row first: on PostgreSQL this locks it, so commits of one event
            // are serialised (numbering of steps and log entries stays consistent); on SQLite it
            // takes the write lock at once instead of upgrading a read later. A fenced commit
            // applies only while its instance still holds the lease, and extends it.
            // A writer that read a snapshot also requires the counter it read (optimistic
            // concurrency: log numbering and statuses were computed from that snapshot).
            let expect = first.expect_seq.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
            let mut q = QueryBuilder::new("UPDATE events SET seq = seq + 1");
            if let Some(f) = &first.fence {
                q.push(", lease_until = ").push_bind(f.until_ms);
            }
            q.push(" WHERE id = ").push_bind(&event);
            if let Some(f) = &first.fence {
                q.push(" AND lease_owner = ").push_bind(&f.owner);
            }
            if let Some(s) = expect {
                q.push(" AND seq = ").push_bind(s);
            }
            q.push(" RETURNING seq");
            let locked: Option<(i64,)> = q.build_query_as().fetch_optional(&mut *tx).await
                .map_err(|e| StoreError::query("lock event", e))?;
            let Some((event_seq,)) = locked else {
                let row: Option<(Option<String>,)> = sqlx::query_as("SELECT lease_owner FROM events WHERE id = $1")
                    .bind(&event).fetch_optional(&mut *tx).await
                    .map_err(|e| StoreError::query("read event", e))?;
                return Err(match (row, &first.fence) {
                    (None, _) => StoreError::NotFound(format!("event {event}")),
                    (Some((owner,)), Some(f)) if owner.as_deref() != Some(f.owner.as_str()) => {
                        StoreError::LeaseLost { event: event.clone(), owner: f.owner.clone() }
                    }
                    _ => StoreError::Stale { event: event.clone() },
                });
            };
            // Keys committed before, and where the step and log numbering stand.
            let mut q = QueryBuilder::new("SELECT step_key FROM steps WHERE event_id = ");
            q.push_bind(&event).push(" AND step_key IN (");
            let mut keys = q.separated(", ");
            for c in batch {
                keys.push_bind(&c.step_key);
            }
            q.push(")");
            let done: Vec<(String,)> = q.build_query_as().fetch_all(&mut *tx).await
                .map_err(|e| StoreError::query("check step keys", e))?;
            let mut seen: std::collections::HashSet<&str> =
                done.iter().map(|(k,)| k.as_str()).collect();
            let mut todo: Vec<&Commit> = Vec::new();
            let mut skipped = Vec::new();
            for c in batch {
                let fresh = seen.insert(c.step_key.as_str());
                skipped.push(!fresh);
                if fresh {
                    todo.push(c);
                }
            }
            if todo.is_empty() {
                // Nothing to write: the transaction rolls back and the counter stays.
                return Ok(BatchOutcome {
                    outcomes: vec![CommitOutcome::AlreadyApplied; batch.len()],
                    event_seq: u64::try_from(event_seq - 1).unwrap_or(0),
                });
            }
            let (step_seq, mut dseq, mut cseq): (i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT COALESCE(MAX(seq), 0) FROM steps WHERE event_id = $1), (SELECT COALESCE(MAX(seq), 0) FROM decision_log WHERE event_id = $1), (SELECT COALESCE(MAX(seq), 0) FROM change_log WHERE event_id = $1)")
                .bind(&event).fetch_one(&mut *tx).await
                .map_err(|e| StoreError::query("next sequence numbers", e))?;
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut next = step_seq;
            for skip in &skipped {
                if *skip {
                    outcomes.push(CommitOutcome::AlreadyApplied);
                } else {
                    next += 1;
                    outcomes.push(CommitOutcome::Applied { seq: u64::try_from(next).unwrap_or(0) });
                }
            }
            let mut s = step_seq;
            for chunk in todo.chunks(CHUNK) {
                let mut q = QueryBuilder::new("INSERT INTO steps (event_id, step_key, seq, committed_at) ");
                q.push_values(chunk, |mut b, c| {
                    s += 1;
                    b.push_bind(&event).push_bind(&c.step_key).push_bind(s).push_bind(c.at);
                });
                q.build().execute(&mut *tx).await.map_err(|e| StoreError::query("insert steps", e))?;
            }
            let artifacts: Vec<_> = todo.iter().flat_map(|c| &c.artifacts).collect();
            for chunk in sized_chunks(&artifacts, |a| json_len(&a.payload) + json_len(&a.derived_from) + 256) {
                let mut q = QueryBuilder::new("INSERT INTO artifacts (id, event_id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, derived_from, payload) ");
                q.push_values(chunk, |mut b, a| {
                    b.push_bind(a.id.to_string())
                        .push_bind(a.event_id.to_string())
                        .push_bind(a.artifact_type.as_str())
                        .push_bind(i64::from(a.revision))
                        .push_bind(&a.schema_version)
                        .push_bind(a.created_at)
                        .push_bind(&a.created_by)
                        .push_bind(&a.correlation_id)
                        .push_bind(Json(&a.derived_from))
                        .push_bind(Json(&a.payload));
                });
                q.build().execute(&mut *tx).await.map_err(|e| StoreError::query("insert artifacts", e))?;
            }
            let decisions: Vec<_> = todo.iter().flat_map(|c| &c.decisions).collect();
            for chunk in sized_chunks(&decisions, |d| json_len(*d) + 128) {
                let mut q = QueryBuilder::new("INSERT INTO decision_log (event_id, seq, entry_id, at, entry) ");
                q.push_values(chunk, |mut b, d| {
                    dseq += 1;
                    b.push_bind(&event).push_bind(dseq).push_bind(d.id.as_str()).push_bind(d.at).push_bind(Json(*d));
                });
                q.build().execute(&mut *tx).await.map_err(|e| StoreError::query("insert decisions", e))?;
            }
            let changes: Vec<_> = todo.iter().flat_map(|c| &c.changes).collect();
            for chunk in sized_chunks(&changes, |c| json_len(*c) + 128) {
                let mut q = QueryBuilder::new("INSERT INTO change_log (event_id, seq, entry_id, at, entry) ");
                q.push_values(chunk, |mut b, ch| {
                    cseq += 1;
                    b.push_bind(&event).push_bind(cseq).push_bind(ch.id.as_str()).push_bind(ch.at).push_bind(Json(*ch));
                });
                q.build().execute(&mut *tx).await.map_err(|e| StoreError::query("insert changes", e))?;
            }
            for c in &todo {
                crate::summary::write_brief_columns(&mut tx, c).await?;
                for a in &c.superseded {
                    sqlx::query("UPDATE approvals SET status = 'superseded' WHERE id = $1 AND event_id = $2 AND status = 'pending'")
                        .bind(a.to_string()).bind(&event)
                        .execute(&mut *tx).await.map_err(|e| StoreError::query("supersede approvals", e))?;
                }
                for a in &c.escalated {
                    sqlx::query("UPDATE approvals SET escalated_at = $1 WHERE id = $2 AND event_id = $3 AND escalated_at IS NULL")
                        .bind(c.at).bind(a.to_string()).bind(&event)
                        .execute(&mut *tx).await.map_err(|e| StoreError::query("mark escalation", e))?;
                }
                for a in &c.approval_requests {
                    sqlx::query("INSERT INTO approvals (id, event_id, gate, artifact_type, artifact_revision, status, approver_role, requested_at, deadline, required_approvals) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                        .bind(a.id.to_string()).bind(&event).bind(a.gate.as_str()).bind(a.gate.artifact_type().as_str())
                        .bind(i64::from(a.artifact_revision)).bind("pending").bind(&a.approver_role).bind(a.requested_at).bind(a.deadline)
                        .bind(i64::from(a.required_approvals.max(1)))
                        .execute(&mut *tx).await.map_err(|e| StoreError::query("insert approval", e))?;
                }
                for d in &c.approval_decisions {
                    let updated = sqlx::query("UPDATE approvals SET status = $1, decided_at = $2, decided_by = $3, decision = $4, comment = $5, directive = $6 WHERE id = $7 AND event_id = $8 AND status = 'pending'")
                        .bind(d.status.as_str()).bind(d.decided_at).bind(&d.decided_by).bind(d.decision.as_str()).bind(&d.comment)
                        .bind(d.directive.as_ref().map(Json))
                        .bind(d.id.to_string()).bind(&event)
                        .execute(&mut *tx).await.map_err(|e| StoreError::query("decide approval", e))?;
                    if updated.rows_affected() != 1 {
                        return Err(StoreError::Conflict(format!("approval {} is not pending", d.id)));
                    }
                }
                for v in &c.votes {
                    sqlx::query("INSERT INTO approval_votes (approval_id, voter, decision, comment, at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(v.approval_id.to_string()).bind(&v.voter).bind(v.decision.as_str()).bind(&v.comment).bind(v.at)
                        .execute(&mut *tx).await.map_err(|e| StoreError::query("insert vote", e))?;
                }
                for o in &c.outbox {
                    sqlx::query("INSERT INTO outbox (id, event_id, kind, dedupe_key, payload, created_at, status, attempts, next_attempt_ms) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7) ON CONFLICT (dedupe_key) DO NOTHING")
                        .bind(o.id.to_string()).bind(&event).bind(o.kind.as_str()).bind(&o.dedupe_key).bind(Json(&o.payload))
                        .bind(c.at).bind(c.at.timestamp_millis())
                        .execute(&mut *tx).await.map_err(|e| StoreError::query("insert outbox", e))?;
                }
                if let Some(o) = &c.options {
                    sqlx::query("UPDATE events SET options = $1 WHERE id = $2")
                        .bind(Json(o)).bind(&event)
                        .execute(&mut *tx).await.map_err(|e| StoreError::query("update options", e))?;
                }
            }
            if let Some((c, s)) = todo.iter().rev().find_map(|c| c.status.as_ref().map(|s| (c, s))) {
                // The status the engine decided. (A pause that arrived meanwhile moved the counter,
                // so a writer that read before it is refused as stale above.)
                sqlx::query("UPDATE events SET state = $1, run_status = $2, status_detail = $3, updated_at = $4 WHERE id = $5")
                    .bind(s.state.as_str()).bind(s.run_status.as_str()).bind(&s.detail).bind(c.at).bind(&event)
                    .execute(&mut *tx).await.map_err(|e| StoreError::query("update event status", e))?;
            }
            before_commit().map_err(StoreError::Injected)?;
            tx.commit().await.map_err(|e| StoreError::query("commit", e))?;
            Ok(BatchOutcome { outcomes, event_seq: u64::try_from(event_seq).unwrap_or(0) })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{CHUNK, MESSAGE_BYTES, sized_chunks};

    #[test]
    fn chunks_keep_order_and_stay_under_the_message_size_unless_one_row_is_larger() {
        let sizes = [3_000, 9_000, 5_000, 70_000, 1, 1, MESSAGE_BYTES];
        let chunks = sized_chunks(&sizes, |n| *n);
        assert_eq!(
            chunks,
            vec![
                &[3_000, 9_000][..],
                &[5_000],
                &[70_000],
                &[1, 1],
                &[MESSAGE_BYTES]
            ]
        );
        for c in &chunks {
            assert!(c.len() == 1 || c.iter().sum::<usize>() <= MESSAGE_BYTES);
        }
        let many = vec![1usize; CHUNK * 2 + 3];
        let chunks = sized_chunks(&many, |n| *n);
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            vec![CHUNK, CHUNK, 3]
        );
        assert!(sized_chunks::<usize>(&[], |n| *n).is_empty());
    }
}
