//! Commits: one transaction writes one or several keyed commits of one event. Every write of a
//! kind is one statement for the whole batch (multi-row inserts), so a batch costs about the same
//! round trips as a single commit.

use crate::chain::chain_runs;
use crate::rows::{ApprovalDecisionWrite, Commit, CommitOutcome, NewApproval, NewOutbox, Vote};
use crate::{Store, StoreError};
use eods_domain::artifact::Envelope;
use eods_domain::ids::ApprovalId;
use sqlx::QueryBuilder;
use sqlx::types::Json;

/// Rows per multi-row INSERT (well under SQLite's and PostgreSQL's bind-parameter limits).
const CHUNK: usize = 200;

/// Bytes of JSON per multi-row INSERT. sqlx 0.9.0 does not set `TCP_NODELAY` on its sockets
/// (sqlx issue #4335, fixed after that release). A message that leaves the client in more than one
/// write (over TLS, which `sslmode=prefer` picks whenever the server offers it, every 16 KiB
/// record is a write) has its last write held by Nagle's algorithm until the server's delayed ACK:
/// 40 ms per such statement, which was most of an event's time on PostgreSQL. Statements are kept
/// under one TLS record (16 KiB; rows are counted with a margin for their other columns) where
/// the rows allow (a single larger row still goes alone).
const MESSAGE_BYTES: usize = 15 * 1024;

/// Splits `items` into runs of at most [`CHUNK`] rows whose `size` adds up to at most
/// `limit` bytes (a single larger row is a run of its own), in order.
fn sized_chunks<T>(items: &[T], limit: usize, size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    split(items, limit, CHUNK, size, |_| false)
}

/// Splits `items`, in order, into runs of at most `rows` items whose `size` adds up to at most
/// `limit` bytes (a single larger item is a run of its own); an item for which `starts_run`
/// holds begins a new run.
fn split<T>(
    items: &[T],
    limit: usize,
    rows: usize,
    size: impl Fn(&T) -> usize,
    starts_run: impl Fn(&T) -> bool,
) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let n = size(item);
        if i > start && (bytes + n > limit || i - start == rows || starts_run(item)) {
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

/// A document already serialised, written as JSON text: PostgreSQL's `json` type (checked by
/// the server and kept as sent; artifacts and audit entries are read whole, never queried
/// inside, so `jsonb`'s conversion would be work for nothing), SQLite's TEXT (as [`Json`]
/// writes it). Each document is serialised once, for its size and for the statement.
struct JsonText<'a>(&'a str);

impl JsonText<'_> {
    fn of<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, StoreError> {
        serde_json::to_string(v)
            .map_err(|e| StoreError::Corrupt(format!("cannot write a document as JSON: {e}")))
    }
}

impl sqlx::Type<sqlx::Postgres> for JsonText<'_> {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        // `json` (a built-in type: its oid is fixed).
        sqlx::postgres::PgTypeInfo::with_oid(sqlx::postgres::types::Oid(114))
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for JsonText<'_> {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        // The binary form of `json` is its text.
        buf.extend_from_slice(self.0.as_bytes());
        Ok(sqlx::encode::IsNull::No)
    }
}

impl sqlx::Type<sqlx::Sqlite> for JsonText<'_> {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <str as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for JsonText<'_> {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::sqlite::SqliteArgumentsBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<'q, sqlx::Sqlite>>::encode_by_ref(&self.0, buf)
    }
}

/// JSON documents already serialised, as one JSON array.
fn json_array(docs: &[String]) -> String {
    let mut out = String::with_capacity(docs.iter().map(|d| d.len() + 1).sum::<usize>() + 1);
    out.push('[');
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(d);
    }
    out.push(']');
    out
}

/// `docs` (serialised, in order) as runs numbered after `after`: each run's first and last number
/// and its JSON array, a run kept under `limit` bytes where the documents allow.
fn runs(docs: &[String], after: i64, limit: usize) -> Vec<(i64, i64, String)> {
    let mut next = after;
    sized_chunks(docs, limit, |t| t.len() + 1)
        .into_iter()
        .map(|run| {
            let first = next + 1;
            next += i64::try_from(run.len()).unwrap_or(i64::MAX);
            (first, next, json_array(run))
        })
        .collect()
}

/// An artifact row as written: the envelope, its payload and its `derived_from` as JSON.
type ArtifactRow<'a> = (&'a Envelope, String, String);

/// A notification row as written: when, what, and its payload (sealed when mailed).
type OutboxRow<'a> = (
    chrono::DateTime<chrono::Utc>,
    &'a NewOutbox,
    std::borrow::Cow<'a, serde_json::Value>,
);

/// Bytes an artifact row sends, about: its JSON and a margin for its other columns.
fn artifact_bytes((_, payload, derived_from): &ArtifactRow<'_>) -> usize {
    payload.len() + derived_from.len() + 256
}

/// Bytes a notification row sends, about.
fn outbox_bytes((_, _, payload): &OutboxRow<'_>) -> usize {
    json_len(payload.as_ref()) + 256
}

/// One write of a batch after the event is locked; see [`pack`].
enum Part<'a> {
    Artifacts(&'a [ArtifactRow<'a>]),
    /// A run of a log: its table, its column and the run.
    Run((&'a str, &'a str, &'a ChainedRun)),
    Requests(&'a [&'a NewApproval]),
    Decisions(&'a [&'a ApprovalDecisionWrite]),
    Superseded(&'a [&'a ApprovalId]),
    Escalated(&'a [(&'a ApprovalId, chrono::DateTime<chrono::Utc>)]),
    Votes(&'a [&'a Vote]),
    Outbox(&'a [OutboxRow<'a>]),
}

impl Part<'_> {
    /// Approval decisions it writes (each must find its request pending).
    fn decisions(&self) -> usize {
        match self {
            Part::Decisions(d) => d.len(),
            _ => 0,
        }
    }

    /// Whether it writes the `approvals` table.
    fn approvals(&self) -> bool {
        matches!(
            self,
            Part::Requests(_) | Part::Decisions(_) | Part::Superseded(_) | Part::Escalated(_)
        )
    }

    /// Bytes it sends, about (its JSON, and a margin for each row's other columns).
    fn size(&self) -> usize {
        match self {
            Part::Artifacts(rows) => rows.iter().map(artifact_bytes).sum(),
            Part::Run((_, _, (_, _, text, _, _))) => text.len() + 288,
            Part::Requests(rows) => rows.len() * 256,
            Part::Decisions(rows) => rows.iter().map(|d| d.comment.len() + 256).sum(),
            Part::Superseded(rows) => rows.len() * 48,
            Part::Escalated(rows) => rows.len() * 80,
            Part::Votes(rows) => rows.iter().map(|v| v.comment.len() + 160).sum(),
            Part::Outbox(rows) => rows.iter().map(outbox_bytes).sum(),
        }
    }

    /// What it does, for an error.
    fn what(&self) -> &'static str {
        match self {
            Part::Artifacts(_) => "insert artifacts",
            Part::Run(_) => "insert steps and log entries",
            Part::Requests(_) => "insert approvals",
            Part::Decisions(_) => "decide approvals",
            Part::Superseded(_) => "supersede approvals",
            Part::Escalated(_) => "mark escalations",
            Part::Votes(_) => "insert votes",
            Part::Outbox(_) => "insert outbox",
        }
    }
}

/// Whether two of a batch's writes to `approvals` touch the same request (one requested and
/// decided in the same batch, say).
fn approvals_overlap(
    requests: &[&NewApproval],
    decided: &[&ApprovalDecisionWrite],
    superseded: &[&ApprovalId],
    escalated: &[(&ApprovalId, chrono::DateTime<chrono::Utc>)],
) -> bool {
    let mut seen = std::collections::HashSet::new();
    let ids = requests
        .iter()
        .map(|a| &a.id)
        .chain(decided.iter().map(|d| &d.id))
        .chain(superseded.iter().copied())
        .chain(escalated.iter().map(|(id, _)| *id));
    for id in ids {
        if !seen.insert(id) {
            return true;
        }
    }
    false
}

/// Packs `parts`, in order, into PostgreSQL statements of at most `limit` bytes (a larger part
/// goes alone). The parts of one statement are data-modifying WITH clauses, which all see the
/// snapshot the statement started from: when `apart` (two writes touch the same approval
/// request), each write to `approvals` starts a statement of its own.
fn pack<'p, 'a>(parts: &'p [Part<'a>], limit: usize, apart: bool) -> Vec<&'p [Part<'a>]> {
    split(parts, limit, usize::MAX, Part::size, |p| {
        apart && p.approvals()
    })
}

/// What locking the event row returns: its commit counter, where the step, decision and change
/// numbering stand, how many of the batch's keys were committed before, and the hash of each
/// log's last run.
type Locked = (
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A run of a log as written: numbers, text, previous hash and own hash.
type ChainedRun = (i64, i64, String, Option<String>, String);

/// `t` cut to the microsecond, as PostgreSQL keeps it (and SQLite, so the audit chain's digest of
/// an artifact is the same whichever database it is read back from).
fn micros(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
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
        let mut before_commit = Some(before_commit);
        let Some(first) = batch.first() else {
            return Ok(BatchOutcome {
                outcomes: vec![],
                event_seq: 0,
            });
        };
        if let Some(c) = batch.iter().find(|c| c.event_id != first.event_id) {
            return Err(StoreError::Conflict(format!(
                "a batch holds commits of one event: {} and {}",
                first.event_id, c.event_id
            )));
        }
        // The status written is the last one of the commits applied. Unless a key was committed
        // before (a replay after a crash), that is the last one of the batch, and it is written
        // by the statement that locks the event; a batch with such keys is written again
        // without that shortcut.
        let last_status = batch
            .iter()
            .rev()
            .find_map(|c| c.status.as_ref().map(|s| (c.at, s)));
        // One span per transaction (exported over OTLP when the service is configured to),
        // with the correlation id of what it writes.
        let correlation = batch
            .iter()
            .find_map(|c| {
                c.decisions
                    .first()
                    .map(|d| d.correlation_id.as_str())
                    .or_else(|| c.changes.first().map(|x| x.correlation_id.as_str()))
                    .or_else(|| c.artifacts.first().map(|a| a.correlation_id.as_str()))
            })
            .unwrap_or("");
        let span = tracing::info_span!(
            "commit",
            event_id = %first.event_id,
            commits = batch.len(),
            first_step = %first.step_key,
            correlation_id = correlation,
        );
        let mut replay = false;
        loop {
            let fold = if replay { None } else { last_status };
            match tracing::Instrument::instrument(
                self.commit_batch_once(batch, fold, &mut before_commit),
                span.clone(),
            )
            .await?
            {
                Some(out) => return Ok(out),
                None => replay = true,
            }
        }
    }

    /// One attempt of [`Store::commit_batch`]. With `fold`, the status is written by the first
    /// statement; if a key of the batch turns out to be committed already, the transaction is
    /// rolled back and `None` returned, for an attempt without `fold`.
    ///
    /// Long because: one transaction, written for both backends in one body (the pool's type
    /// differs); each block is one statement for the whole batch.
    async fn commit_batch_once(
        &self,
        batch: &[Commit],
        fold: Option<(chrono::DateTime<chrono::Utc>, &crate::rows::StatusWrite)>,
        before_commit: &mut Option<impl FnOnce() -> Result<(), String>>,
    ) -> Result<Option<BatchOutcome>, StoreError> {
        let first = &batch[0];
        let event = first.event_id.to_string();
        // SQLite is in the process: no messages, no TLS records to stay under.
        let limit = match self {
            Store::Sqlite(_) => usize::MAX,
            Store::Postgres(_) => MESSAGE_BYTES,
        };
        on_pool!(writer: self, p => {
            let mut tx = p.begin().await.map_err(|e| StoreError::query("begin", e))?;
            // A batch that creates its event (unfenced, as creations are, and expecting nothing
            // before it) writes the row with its counter and status at once: nothing of the
            // event exists yet to lock, count or find committed.
            let created = match (&first.create_event, fold, &first.fence) {
                (Some(ev), Some((at, s)), None) if first.expect_seq.is_none_or(|n| n == 0) => {
                    let mut ev = ev.clone();
                    ev.state = s.state;
                    ev.run_status = s.run_status;
                    ev.status_detail.clone_from(&s.detail);
                    ev.updated_at = at;
                    crate::insert_event(&mut *tx, self.keys(), &ev, 1).await?;
                    true
                }
                (Some(ev), _, _) => {
                    crate::insert_event(&mut *tx, self.keys(), ev, 0).await?;
                    false
                }
                (None, _, _) => false,
            };
            // Write to the event row first: on PostgreSQL this locks it, so commits of one event
            // are serialised (numbering of steps and log entries stays consistent); on SQLite it
            // takes the write lock at once instead of upgrading a read later. A fenced commit
            // applies only while its instance still holds the lease, and extends it.
            // A writer that read a snapshot also requires the counter it read (optimistic
            // concurrency: log numbering and statuses were computed from that snapshot).
            // The same statement returns where the step and log numbering stand and how many of
            // the batch's keys were committed before.
            let locked: Option<Locked> = if created {
                Some((1, 0, 0, 0, 0, None, None, None))
            } else {
                let expect = first.expect_seq.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
                let mut q = QueryBuilder::new("UPDATE events SET seq = seq + 1");
                if let Some(f) = &first.fence {
                    q.push(", lease_until = ").push_bind(f.until_ms);
                }
                if let Some((at, s)) = fold {
                    q.push(", state = ").push_bind(s.state.as_str())
                        .push(", run_status = ").push_bind(s.run_status.as_str())
                        .push(", status_detail = ").push_bind(&s.detail)
                        .push(", wake_at = ").push_bind(s.wake_at.map(|t| t.timestamp_millis()))
                        .push(", updated_at = ").push_bind(at);
                }
                q.push(" WHERE id = ").push_bind(&event);
                if let Some(f) = &first.fence {
                    q.push(" AND lease_owner = ").push_bind(&f.owner);
                }
                if let Some(s) = expect {
                    q.push(" AND seq = ").push_bind(s);
                }
                q.push(" RETURNING seq, (SELECT COALESCE(MAX(last_seq), 0) FROM step_runs WHERE event_id = events.id), (SELECT COALESCE(MAX(last_seq), 0) FROM decision_runs WHERE event_id = events.id), (SELECT COALESCE(MAX(last_seq), 0) FROM change_runs WHERE event_id = events.id), (SELECT COUNT(*) FROM steps WHERE event_id = events.id AND step_key IN (");
                let mut keys = q.separated(", ");
                for c in batch {
                    keys.push_bind(&c.step_key);
                }
                // The last run of each log: the audit chain goes on from its hash.
                q.push("))");
                for (_, table, _) in crate::chain::LOGS {
                    q.push(format_args!(", (SELECT hash FROM {table} WHERE event_id = events.id ORDER BY first_seq DESC LIMIT 1)"));
                }
                q.build_query_as().fetch_optional(&mut *tx).await
                    .map_err(|e| StoreError::query("lock event", e))?
            };
            let Some((event_seq, step_seq, dseq, cseq, committed, step_head, decision_head, change_head)) = locked else {
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
            // Keys committed before (a replay): which ones.
            let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
            let done: Vec<(String,)> = if committed > 0 {
                if fold.is_some() {
                    // The status written above may not be the last applied one: start again.
                    return Ok(None);
                }
                let mut q = QueryBuilder::new("SELECT step_key FROM steps WHERE event_id = ");
                q.push_bind(&event).push(" AND step_key IN (");
                let mut keys = q.separated(", ");
                for c in batch {
                    keys.push_bind(&c.step_key);
                }
                q.push(")");
                q.build_query_as().fetch_all(&mut *tx).await
                    .map_err(|e| StoreError::query("check step keys", e))?
            } else {
                Vec::new()
            };
            seen.extend(done.iter().map(|(k,)| k.as_str()));
            let mut todo: Vec<&Commit> = Vec::new();
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut next = step_seq;
            for c in batch {
                if seen.insert(c.step_key.as_str()) {
                    todo.push(c);
                    next += 1;
                    outcomes.push(CommitOutcome::Applied { seq: u64::try_from(next).unwrap_or(0) });
                } else {
                    outcomes.push(CommitOutcome::AlreadyApplied);
                }
            }
            if fold.is_some() && todo.len() < batch.len() {
                // A key repeated in the batch: the status written above may be a skipped one's.
                return Ok(None);
            }
            if todo.is_empty() {
                // Nothing to write: the transaction rolls back and the counter stays.
                return Ok(Some(BatchOutcome {
                    outcomes,
                    event_seq: u64::try_from(event_seq - 1).unwrap_or(0),
                }));
            }
            let artifacts = todo.iter().flat_map(|c| &c.artifacts)
                .map(|a| {
                    // Sensitive payloads are sealed before they are hashed: the audit chain
                    // covers what is stored, and verifying it needs no key.
                    let payload = if crate::keys::sealed_type(a.artifact_type) {
                        JsonText::of(&self.keys().seal(&a.payload, &crate::keys::artifact_context(&a.id.to_string()))?)?
                    } else {
                        JsonText::of(&a.payload)?
                    };
                    Ok((a, payload, JsonText::of(&a.derived_from)?))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            // The batch's steps are one run (migration 0013): their keys and commit times in
            // order, each time in the form the backend's `committed_at` column held, and the
            // digest of each artifact revision the step wrote (the audit chain covers them).
            let mut digests = artifacts.iter().map(|(a, payload, derived_from)| {
                (a.id.to_string(), crate::chain::artifact_digest(&crate::chain::ArtifactColumns {
                    id: &a.id.to_string(),
                    event: &event,
                    artifact_type: a.artifact_type.as_str(),
                    revision: i64::from(a.revision),
                    schema_version: &a.schema_version,
                    created_at: micros(a.created_at),
                    created_by: &a.created_by,
                    correlation_id: &a.correlation_id,
                    derived_from,
                    payload,
                }))
            });
            let steps = todo.iter()
                .map(|c| {
                    let at = match self {
                        Store::Sqlite(_) => c.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                        Store::Postgres(_) => c.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    };
                    let written: serde_json::Map<String, serde_json::Value> = digests.by_ref()
                        .take(c.artifacts.len())
                        .map(|(id, d)| (id, serde_json::Value::String(d)))
                        .collect();
                    if written.is_empty() {
                        JsonText::of(&serde_json::json!({"key": c.step_key, "at": at}))
                    } else {
                        JsonText::of(&serde_json::json!({"key": c.step_key, "at": at, "artifacts": written}))
                    }
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let step_runs = chain_runs("step_runs", &event, step_head, runs(&steps, step_seq, limit));
            // Each log's entries are appended as one run (see migration 0012): one row per log
            // per transaction, split only to keep a statement under `limit`.
            let decisions = todo.iter().flat_map(|c| &c.decisions)
                .map(JsonText::of)
                .collect::<Result<Vec<_>, StoreError>>()?;
            let decision_runs = chain_runs("decision_runs", &event, decision_head, runs(&decisions, dseq, limit));
            let changes = todo.iter().flat_map(|c| &c.changes)
                .map(JsonText::of)
                .collect::<Result<Vec<_>, StoreError>>()?;
            let change_runs = chain_runs("change_runs", &event, change_head, runs(&changes, cseq, limit));
            let runs: Vec<(&str, &str, &ChainedRun)> = step_runs.iter().map(|r| ("step_runs", "steps", r))
                .chain(decision_runs.iter().map(|r| ("decision_runs", "entries", r)))
                .chain(change_runs.iter().map(|r| ("change_runs", "entries", r)))
                .collect();
            let requests: Vec<_> = todo.iter().flat_map(|c| &c.approval_requests).collect();
            let decided: Vec<_> = todo.iter().flat_map(|c| &c.approval_decisions).collect();
            let superseded: Vec<_> = todo.iter().flat_map(|c| &c.superseded).collect();
            let escalated: Vec<_> = todo.iter().flat_map(|c| c.escalated.iter().map(move |a| (a, c.at))).collect();
            let votes: Vec<_> = todo.iter().flat_map(|c| &c.votes).collect();
            // A notification that names e-mail recipients is sealed: it holds their addresses.
            let outbox = todo.iter().flat_map(|c| c.outbox.iter().map(move |o| (c.at, o)))
                .map(|(at, o)| {
                    let payload = if o.mailed() {
                        std::borrow::Cow::Owned(self.keys().seal(&o.payload, &crate::keys::outbox_context(&o.id.to_string()))?)
                    } else {
                        std::borrow::Cow::Borrowed(&o.payload)
                    };
                    Ok((at, o, payload))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            // Every write after the lock, in order, as parts: artifacts first (the runs' digests
            // name them), then the step and log runs, approval requests (decisions and votes refer
            // to them), decisions, supersessions and escalations (the engine never decides a
            // request it superseded in the same batch, and an escalation stamp does not depend on
            // the status), votes and notifications.
            let mut parts: Vec<Part<'_>> = Vec::new();
            for chunk in sized_chunks(&artifacts, limit, artifact_bytes) {
                parts.push(Part::Artifacts(chunk));
            }
            parts.extend(runs.iter().map(|r| Part::Run(*r)));
            parts.extend(requests.chunks(CHUNK / 10).map(Part::Requests));
            parts.extend(decided.chunks(CHUNK / 10).map(Part::Decisions));
            parts.extend(superseded.chunks(CHUNK).map(Part::Superseded));
            parts.extend(escalated.chunks(CHUNK / 2).map(Part::Escalated));
            parts.extend(votes.chunks(CHUNK / 5).map(Part::Votes));
            parts.extend(sized_chunks(&outbox, limit, outbox_bytes).into_iter().map(Part::Outbox));
            // On SQLite, whose statements each cross to the connection's thread and back, the
            // parts are one multi-statement execution (sqlx binds its `?` parameters in order
            // across the statements); on PostgreSQL they are packed into statements of
            // data-modifying WITH clauses (each runs to completion whether read or not) under
            // `limit`. Such clauses see the same snapshot, so parts that change the same
            // approvals are packed apart.
            let statements: Vec<&[Part<'_>]> = match self {
                Store::Sqlite(_) => vec![&parts[..]],
                Store::Postgres(_) => pack(&parts, limit, approvals_overlap(&requests, &decided, &superseded, &escalated)),
            };
            let event_ref = event.as_str();
            macro_rules! push_part {
                ($q:expr, $part:expr) => {{
                    let q = $q;
                    match $part {
                        Part::Artifacts(chunk) => {
                            q.push("INSERT INTO artifacts (id, event_id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, derived_from, payload) ");
                            q.push_values(chunk.iter(), |mut b, (a, payload, derived_from)| {
                                b.push_bind(a.id.to_string())
                                    .push_bind(a.event_id.to_string())
                                    .push_bind(a.artifact_type.as_str())
                                    .push_bind(i64::from(a.revision))
                                    .push_bind(&a.schema_version)
                                    .push_bind(micros(a.created_at))
                                    .push_bind(&a.created_by)
                                    .push_bind(&a.correlation_id)
                                    .push_bind(JsonText(derived_from))
                                    .push_bind(JsonText(payload));
                            });
                        }
                        Part::Run((table, column, (first, last, text, prev, hash))) => {
                            q.push(format_args!("INSERT INTO {table} (event_id, first_seq, last_seq, {column}, prev_hash, hash) VALUES ("))
                                .push_bind(event_ref).push(", ").push_bind(*first).push(", ").push_bind(*last)
                                .push(", ").push_bind(JsonText(text)).push(", ").push_bind(prev.as_deref())
                                .push(", ").push_bind(hash.as_str()).push(")");
                        }
                        Part::Requests(chunk) => {
                            q.push("INSERT INTO approvals (id, event_id, gate, artifact_type, artifact_revision, status, approver_role, requested_at, deadline, required_approvals) ");
                            q.push_values(chunk.iter(), |mut b, a| {
                                b.push_bind(a.id.to_string()).push_bind(event_ref).push_bind(a.gate.as_str())
                                    .push_bind(a.gate.artifact_type().as_str()).push_bind(i64::from(a.artifact_revision))
                                    .push_bind("pending").push_bind(&a.approver_role).push_bind(a.requested_at)
                                    .push_bind(a.deadline).push_bind(i64::from(a.required_approvals.max(1)));
                            });
                        }
                        Part::Decisions(chunk) => {
                            q.push("UPDATE approvals SET status = v.column2, decided_at = v.column3, decided_by = v.column4, decision = v.column5, comment = v.column6, directive = v.column7 FROM (");
                            q.push_values(chunk.iter(), |mut b, d| {
                                b.push_bind(d.id.to_string()).push_bind(d.status.as_str()).push_bind(d.decided_at)
                                    .push_bind(&d.decided_by).push_bind(d.decision.as_str()).push_bind(&d.comment)
                                    .push_bind(d.directive.as_ref().map(Json));
                            });
                            q.push(") AS v WHERE approvals.id = v.column1 AND approvals.event_id = ").push_bind(event_ref)
                                .push(" AND approvals.status = 'pending'");
                        }
                        Part::Superseded(chunk) => {
                            q.push("UPDATE approvals SET status = 'superseded' WHERE event_id = ");
                            q.push_bind(event_ref).push(" AND status = 'pending' AND id IN (");
                            let mut ids = q.separated(", ");
                            for a in chunk.iter() {
                                ids.push_bind(a.to_string());
                            }
                            q.push(")");
                        }
                        Part::Escalated(chunk) => {
                            q.push("UPDATE approvals SET escalated_at = v.column2 FROM (");
                            q.push_values(chunk.iter(), |mut b, (id, at)| {
                                b.push_bind(id.to_string()).push_bind(*at);
                            });
                            q.push(") AS v WHERE approvals.id = v.column1 AND approvals.event_id = ").push_bind(event_ref)
                                .push(" AND approvals.escalated_at IS NULL");
                        }
                        Part::Votes(chunk) => {
                            q.push("INSERT INTO approval_votes (approval_id, voter, decision, comment, at) ");
                            q.push_values(chunk.iter(), |mut b, v| {
                                b.push_bind(v.approval_id.to_string()).push_bind(&v.voter).push_bind(v.decision.as_str())
                                    .push_bind(&v.comment).push_bind(v.at);
                            });
                        }
                        Part::Outbox(chunk) => {
                            q.push("INSERT INTO outbox (id, event_id, kind, dedupe_key, payload, created_at, status, attempts, next_attempt_ms, mail_status, mail_next_attempt_ms) ");
                            q.push_values(chunk.iter(), |mut b, (at, o, payload)| {
                                b.push_bind(o.id.to_string()).push_bind(event_ref).push_bind(o.kind.as_str()).push_bind(&o.dedupe_key)
                                    .push_bind(Json(payload.as_ref())).push_bind(*at).push_bind("pending").push_bind(0_i64)
                                    .push_bind(at.timestamp_millis()).push_bind(o.mailed().then_some("pending"))
                                    .push_bind(at.timestamp_millis());
                            });
                            q.push(" ON CONFLICT (dedupe_key) DO NOTHING");
                        }
                    }
                }};
            }
            // How many rows each statement's decisions changed, and how many they were to change.
            let mut decided_rows: Vec<(u64, usize)> = Vec::new();
            for statement in statements {
                let mut q = QueryBuilder::new("");
                let expected: usize = statement.iter().map(Part::decisions).sum();
                match self {
                    Store::Sqlite(_) => {
                        for (i, part) in statement.iter().enumerate() {
                            if i > 0 {
                                q.push("; ");
                            }
                            push_part!(&mut q, part);
                        }
                        // One result per statement, in order: the decisions' row counts are read
                        // from theirs. (sqlx marks running several statements as one query
                        // deprecated because only SQLite can; this is SQLite.)
                        use futures_util::TryStreamExt;
                        #[allow(deprecated)]
                        let mut results = q.build().fetch_many(&mut *tx);
                        let mut i = 0;
                        let mut changed = 0;
                        while let Some(item) = results.try_next().await
                            .map_err(|e| StoreError::query("insert steps, artifacts, log entries, approvals and notifications", e))?
                        {
                            if let sqlx::Either::Left(done) = item {
                                if statement.get(i).is_some_and(|p| p.decisions() > 0) {
                                    changed += done.rows_affected();
                                }
                                i += 1;
                            }
                        }
                        decided_rows.push((changed, expected));
                    }
                    Store::Postgres(_) => {
                        if let [part] = statement {
                            push_part!(&mut q, part);
                            let done = q.build().execute(&mut *tx).await
                                .map_err(|e| StoreError::query(part.what(), e))?;
                            decided_rows.push((if expected > 0 { done.rows_affected() } else { 0 }, expected));
                        } else {
                            let mut counted = Vec::new();
                            for (i, part) in statement.iter().enumerate() {
                                q.push(if i == 0 { "WITH " } else { ", " }).push(format_args!("p{i} AS ("));
                                push_part!(&mut q, part);
                                if part.decisions() > 0 {
                                    q.push(" RETURNING 1");
                                    counted.push(i);
                                }
                                q.push(")");
                            }
                            q.push(" SELECT (0");
                            for i in &counted {
                                q.push(format_args!(" + (SELECT COUNT(*) FROM p{i})"));
                            }
                            q.push(")::BIGINT");
                            let (changed,): (i64,) = q.build_query_as().fetch_one(&mut *tx).await
                                .map_err(|e| StoreError::query("insert steps, artifacts, log entries, approvals and notifications", e))?;
                            decided_rows.push((u64::try_from(changed).unwrap_or(0), expected));
                        }
                    }
                }
            }
            if decided_rows.iter().any(|(changed, expected)| usize::try_from(*changed).ok() != Some(*expected)) {
                let ids: Vec<String> = decided.iter().map(|d| d.id.to_string()).collect();
                return Err(StoreError::Conflict(format!("approval {} is not pending", ids.join(" or "))));
            }
            // The row inserted above holds its brief's summary: a revision equal to it is not
            // written again.
            let mut row = first.create_event.as_ref().filter(|e| e.draft.is_none())
                .map(|e| (e.title.clone(), e.summary.clone(), e.level));
            for c in &todo {
                crate::summary::write_brief_columns(&mut tx, self.keys(), c, &mut row).await?;
            }
            for a in todo.iter().flat_map(|c| &c.approval_summaries) {
                sqlx::query("UPDATE approvals SET summary = $1, summary_by = $2 WHERE id = $3 AND event_id = $4 AND summary IS NULL")
                    .bind(&a.text).bind(&a.by).bind(a.id.to_string()).bind(&event)
                    .execute(&mut *tx).await.map_err(|e| StoreError::query("write approval summaries", e))?;
            }
            if let Some(a) = todo.iter().rev().find_map(|c| c.archived) {
                sqlx::query("UPDATE events SET archived_at = $1 WHERE id = $2")
                    .bind(a).bind(&event)
                    .execute(&mut *tx).await.map_err(|e| StoreError::query("update archived_at", e))?;
            }
            if let Some(o) = todo.iter().rev().find_map(|c| c.options.as_ref()) {
                sqlx::query("UPDATE events SET options = $1 WHERE id = $2")
                    .bind(Json(o)).bind(&event)
                    .execute(&mut *tx).await.map_err(|e| StoreError::query("update options", e))?;
            }
            if fold.is_none()
                && let Some((c, s)) = todo.iter().rev().find_map(|c| c.status.as_ref().map(|s| (c, s)))
            {
                // The status the engine decided. (A pause that arrived meanwhile moved the counter,
                // so a writer that read before it is refused as stale above.)
                sqlx::query("UPDATE events SET state = $1, run_status = $2, status_detail = $3, updated_at = $4, wake_at = $5 WHERE id = $6")
                    .bind(s.state.as_str()).bind(s.run_status.as_str()).bind(&s.detail).bind(c.at)
                    .bind(s.wake_at.map(|t| t.timestamp_millis())).bind(&event)
                    .execute(&mut *tx).await.map_err(|e| StoreError::query("update event status", e))?;
            }
            if let Some(f) = before_commit.take() {
                f().map_err(StoreError::Injected)?;
            }
            tx.commit().await.map_err(|e| StoreError::query("commit", e))?;
            Ok(Some(BatchOutcome { outcomes, event_seq: u64::try_from(event_seq).unwrap_or(0) }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{CHUNK, ChainedRun, MESSAGE_BYTES, Part, pack, sized_chunks};
    use eods_domain::ids::ApprovalId;

    #[test]
    fn chunks_keep_order_and_stay_under_the_message_size_unless_one_row_is_larger() {
        let sizes = [3_000, 9_000, 5_000, 70_000, 1, 1, MESSAGE_BYTES];
        let chunks = sized_chunks(&sizes, MESSAGE_BYTES, |n| *n);
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
        let chunks = sized_chunks(&many, MESSAGE_BYTES, |n| *n);
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            vec![CHUNK, CHUNK, 3]
        );
        assert!(sized_chunks::<usize>(&[], MESSAGE_BYTES, |n| *n).is_empty());
    }

    #[test]
    fn parts_are_packed_in_order_under_the_size_and_approval_writes_apart_when_they_overlap() {
        let run = |n: usize| -> ChainedRun { (1, 1, "x".repeat(n), None, String::new()) };
        let (small, large) = (run(1_000), run(MESSAGE_BYTES));
        let ids = [ApprovalId(uuid::Uuid::now_v7())];
        let ids: Vec<&ApprovalId> = ids.iter().collect();
        let parts = [
            Part::Run(("step_runs", "steps", &small)),
            Part::Run(("decision_runs", "entries", &small)),
            Part::Superseded(&ids),
            Part::Run(("change_runs", "entries", &large)),
            Part::Superseded(&ids),
        ];
        let lens = |p: Vec<&[Part<'_>]>| p.iter().map(|s| s.len()).collect::<Vec<_>>();
        // Under the size: together; the large run goes alone, and what follows starts anew.
        assert_eq!(lens(pack(&parts, MESSAGE_BYTES, false)), vec![3, 1, 1]);
        // Writes to the same approvals see one snapshot in one statement: each starts its own.
        assert_eq!(lens(pack(&parts, MESSAGE_BYTES, true)), vec![2, 1, 1, 1]);
        assert!(pack(&[], MESSAGE_BYTES, true).is_empty());
    }
}
