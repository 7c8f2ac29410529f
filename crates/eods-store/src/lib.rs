//! EODS persistence: the only crate with SQL. One code path for SQLite (the embedded default) and
//! PostgreSQL; every query is runtime-checked so the build needs no database. Writes that belong
//! together go through [`Store::commit`], one transaction keyed by an idempotency key.
//! This crate stores what it is given: it never decides lifecycle moves or computes artifacts.

mod error;
mod rows;
mod summary;
pub mod test_support;

pub use error::StoreError;
pub use fx::{FxImportRow, FxRateRow, FxRateWrite};
use rows::ArtifactTuple;
pub use rows::{
    ApprovalDecisionWrite, ApprovalRow, ApprovalSummary, BriefSummary, Channel, Commit,
    CommitOutcome, EventListRow, EventRow, EventSnapshot, Fence, InboxRow, NewApproval, NewOutbox,
    OutboxKind, OutboxRow, OutboxStatus, StatusWrite, TokenRow, Vote,
};
pub use service::{AuditFilter, AuditLog, EventFilter, InboxPage, epoch_ms};

use chrono::{DateTime, Utc};
use eods_domain::artifact::{ArtifactType, Envelope};
use eods_domain::catalog::audit::{ChangeEntry, DecisionEntry};
use eods_domain::ids::EventId;
use eods_domain::lifecycle::{LifecycleState, RunStatus};
use eods_domain::run::RunOptions;
use keys::{KeyConfig, Keyring};
use serde_json::Value;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::types::Json;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Connections to PostgreSQL a pool opens at most unless told otherwise ([`Store::connect_with`]).
pub const DEFAULT_PG_CONNECTIONS: u32 = 8;

/// A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out
/// (a server restart or a dropped link is found then, not by the statement that follows).
/// One busy a moment ago is not: sqlx's default pings every connection on every acquire, a
/// round trip before each transaction and each read.
pub const PING_IDLE_AFTER: Duration = Duration::from_secs(2);

/// The options of every PostgreSQL pool: at most `connections`, a connection waited for at
/// most 10 s, pinged only after [`PING_IDLE_AFTER`] idle.
fn pg_pool_options(connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_IDLE_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// A connection pool to one EODS database.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// A PostgreSQL database: its pool and the keys that seal what is stored encrypted.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub pool: PgPool,
    keys: Arc<Keyring>,
}

/// A SQLite database: a pool for reads and small writes, and one connection that writes every
/// batch of commits. SQLite lets one writer in at a time anyway; with its own connection the
/// batches queue in the process instead of retrying on a busy database, and that connection's
/// page cache stays valid between them (a connection drops its whole cache when another one
/// wrote since its last transaction).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub pool: SqlitePool,
    pub writer: SqlitePool,
    keys: Arc<Keyring>,
}

/// Runs `$body` with `$pool` bound to whichever pool the store holds; the body is compiled once
/// per backend, so the same SQL text and bindings serve both. `on_pool!(writer: self, p => …)`
/// binds SQLite's writer connection instead (for a batch of commits).
macro_rules! on_pool {
    (writer: $self:expr, $pool:ident => $body:expr) => {
        on_pool!(@field writer, $self, $pool => $body)
    };
    ($self:expr, $pool:ident => $body:expr) => {
        on_pool!(@field pool, $self, $pool => $body)
    };
    (@field $field:ident, $self:expr, $pool:ident => $body:expr) => {
        match $self {
            Store::Sqlite(s) => {
                let $pool = &s.$field;
                $body
            }
            Store::Postgres(s) => {
                let $pool = &s.pool;
                $body
            }
        }
    };
}

mod chain;
mod commit;
mod fx;
pub mod keys;
mod places;
mod retention;
mod service;

pub use chain::{AuditBreak, AuditHead, AuditReport};
pub use commit::BatchOutcome;
pub use retention::{LegalHold, MIN_RETENTION_DAYS, PurgeRecord, RetentionCandidate};

/// The brief summary columns of `events` (a derived index of the current brief).
pub(crate) const SUMMARY_COLUMNS: &str =
    "city, country, start_date, end_date, audience_size, currency, budget_total";

/// The columns of [`EventRow`], in `rows::EventRecord` order.
pub(crate) const EVENT_COLUMNS: &str = "id, title, state, run_status, level, status_detail, wake_at, brief_draft, city, country, start_date, end_date, audience_size, currency, budget_total, options, created_at, updated_at, archived_at";

const ARTIFACT_COLUMNS: &str = "id, event_id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, derived_from, payload";

/// Inserts the event row `ev` (its brief draft and summary columns as given) with commit
/// counter `seq`.
async fn insert_event<'c, E, DB>(
    exec: E,
    keys: &Keyring,
    ev: &EventRow,
    seq: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = DB>,
    DB: sqlx::Database,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'e> String: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> &'e str: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<String>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<chrono::NaiveDate>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<i64>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> i64: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<Json<Value>>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Json<RunOptions>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> DateTime<Utc>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<DateTime<Utc>>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
{
    let sql = format!(
        "INSERT INTO events ({EVENT_COLUMNS}, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    );
    let s = ev.summary.clone();
    let draft = ev
        .draft
        .as_ref()
        .map(|d| keys.seal(d, &keys::draft_context(&ev.id.to_string())))
        .transpose()?;
    sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
        .bind(ev.id.to_string())
        .bind(ev.title.clone())
        .bind(ev.state.as_str())
        .bind(ev.run_status.as_str())
        .bind(ev.level.as_str())
        .bind(ev.status_detail.clone())
        .bind(ev.wake_at.map(|t| t.timestamp_millis()))
        .bind(draft.map(Json))
        .bind(s.city)
        .bind(s.country)
        .bind(s.start_date)
        .bind(s.end_date)
        .bind(s.audience_size.map(i64::from))
        .bind(s.currency)
        .bind(s.budget_total)
        .bind(Json(ev.options.clone()))
        .bind(ev.created_at)
        .bind(ev.updated_at)
        .bind(ev.archived_at)
        .bind(seq)
        .execute(exec)
        .await
        .map_err(|e| StoreError::query("insert event", e))?;
    Ok(())
}

impl Store {
    /// Connects to `url` (`sqlite://PATH`, `sqlite::memory:`, `postgres://…`), creating a SQLite
    /// file on first use, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, DEFAULT_PG_CONNECTIONS).await
    }

    /// [`Self::connect`] with at most `pg_connections` connections on PostgreSQL (a server sizes
    /// its pool for its workers and its requests: each run in flight holds a connection while it
    /// commits, and a request waiting for one is a slow request). SQLite keeps its own limit.
    pub async fn connect_with(url: &str, pg_connections: u32) -> Result<Store, StoreError> {
        let keys = KeyConfig::for_database(url)?;
        Self::connect_keyed(url, pg_connections, keys).await
    }

    /// [`Self::connect_with`] with the master keys given instead of those of the environment
    /// ([`KeyConfig::for_database`]). Refused when the database holds data keys that none of
    /// them wraps.
    pub async fn connect_keyed(
        url: &str,
        pg_connections: u32,
        keys: KeyConfig,
    ) -> Result<Store, StoreError> {
        let store = Self::open_keyed(url, pg_connections, keys).await?;
        store.load_data_keys().await?;
        Ok(store)
    }

    /// Opens and migrates the database without loading its data keys (for `eods keys status`,
    /// which reports on keys that may not open).
    pub async fn open_keyed(
        url: &str,
        pg_connections: u32,
        keys: KeyConfig,
    ) -> Result<Store, StoreError> {
        let keys = Keyring::new(keys);
        let store = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Url {
                    url: url.to_owned(),
                    reason: e.to_string(),
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // 32 MiB of pages per connection (SQLite's default is 2 MiB): the indexes an
                // event's commits touch stay in memory instead of being read back from the file.
                .pragma("cache_size", "-32768");
            // An in-memory database lives as long as its one connection, which also writes.
            let memory = url.contains(":memory:");
            // A SQLite connection is a file handle in this process: there is no peer to hang
            // up, so it is not pinged before each use (a ping crosses to its thread and back).
            let pool = SqlitePoolOptions::new()
                .max_connections(if memory { 1 } else { 4 })
                .test_before_acquire(false)
                .connect_with(opts.clone())
                .await
                .map_err(|e| StoreError::Connect {
                    url: url.to_owned(),
                    source: e,
                })?;
            let writer = if memory {
                pool.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .connect_lazy_with(opts)
            };
            Store::Sqlite(SqliteStore { pool, writer, keys })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = pg_pool_options(pg_connections)
                .connect(url)
                .await
                .map_err(|e| StoreError::Connect {
                    url: url.to_owned(),
                    source: e,
                })?;
            Store::Postgres(PgStore { pool, keys })
        } else {
            return Err(StoreError::Url {
                url: url.to_owned(),
                reason: "unsupported scheme: use sqlite://PATH (the default, a file created on first use) or postgres://USER@HOST/DB".into(),
            });
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The same database through a pool of its own of at most `pg_connections` connections
    /// (PostgreSQL; opened as they are first used, so they belong to the runtime that uses
    /// them). SQLite shares this pool: its connections are driven by threads of their own, and
    /// an in-memory database exists only in it.
    pub fn with_own_pool(&self, pg_connections: u32) -> Store {
        match self {
            Store::Sqlite(_) => self.clone(),
            Store::Postgres(p) => Store::Postgres(PgStore {
                pool: pg_pool_options(pg_connections)
                    .connect_lazy_with((*p.pool.connect_options()).clone()),
                keys: p.keys.clone(),
            }),
        }
    }

    /// Opens up to `n` connections now (at once) and returns them to the pool, so the first
    /// requests or runs do not each wait for a connection to be set up. Returns how many were
    /// opened or already open.
    pub async fn warm_up(&self, n: u32) -> Result<usize, StoreError> {
        on_pool!(self, p => {
            let mut opening = tokio::task::JoinSet::new();
            for _ in 0..n.min(p.options().get_max_connections()) {
                let p = p.clone();
                opening.spawn(async move { p.acquire().await });
            }
            let mut held = Vec::new();
            while let Some(c) = opening.join_next().await {
                let c = c.map_err(|e| StoreError::Conflict(format!("opening a connection: {e}")))?;
                held.push(c.map_err(|e| StoreError::query("open connections", e))?);
            }
            Ok(held.len())
        })
    }

    /// Applies pending migrations of this backend. A database whose schema is already current
    /// is only read (every migration recorded as applied, with the same checksum), so a database
    /// that refuses writes (a hot standby, a read-only file) can still be opened.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self {
            Store::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Store::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        let applied: Result<Vec<(i64, Vec<u8>)>, sqlx::Error> = on_pool!(self, p => sqlx::query_as(
            "SELECT version, checksum FROM _sqlx_migrations WHERE success").fetch_all(p).await);
        if let Ok(applied) = applied {
            let current = migrator
                .iter()
                .filter(|m| m.migration_type.is_up_migration())
                .all(|m| {
                    applied
                        .iter()
                        .any(|(v, c)| *v == m.version && c.as_slice() == &*m.checksum)
                });
            if current {
                return Ok(());
            }
        }
        match self {
            Store::Sqlite(s) => migrator.run(&s.pool).await?,
            Store::Postgres(p) => migrator.run(&p.pool).await?,
        }
        Ok(())
    }

    /// The keys that seal what is stored encrypted.
    pub(crate) fn keys(&self) -> &Keyring {
        match self {
            Store::Sqlite(s) => &s.keys,
            Store::Postgres(p) => &p.keys,
        }
    }

    /// Which backend this is: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes the pools.
    pub async fn close(&self) {
        if let Store::Sqlite(s) = self {
            s.writer.close().await;
        }
        on_pool!(self, p => p.close().await)
    }

    /// Creates an event row with its draft (the brief as submitted, until revision 1 commits) and
    /// the summary of it.
    pub async fn create_event(&self, ev: &EventRow) -> Result<(), StoreError> {
        on_pool!(self, p => insert_event(p, self.keys(), ev, 0).await)
    }

    /// One event, or `None`.
    pub async fn event(&self, id: EventId) -> Result<Option<EventRow>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
        let row: Option<rows::EventRecord> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.to_string()).fetch_optional(p).await)
                .map_err(|e| StoreError::query("load event", e))?;
        match row.map(EventRow::try_from).transpose()? {
            Some(row) => Ok(Some(self.opened_event(row).await?)),
            None => Ok(None),
        }
    }

    /// Every event, newest first.
    pub async fn events(&self) -> Result<Vec<EventRow>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY created_at DESC, id DESC");
        let rows: Vec<rows::EventRecord> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)
                .map_err(|e| StoreError::query("list events", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.opened_event(EventRow::try_from(r)?).await?);
        }
        Ok(out)
    }

    /// Sets the run status (and detail) outside a step, e.g. `running` on resume.
    pub async fn set_run_status(
        &self,
        id: EventId,
        status: RunStatus,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query("UPDATE events SET run_status = $1, status_detail = $2, updated_at = $3 WHERE id = $4")
                .bind(status.as_str())
                .bind(detail)
                .bind(now)
                .bind(id.to_string())
                .execute(p)
                .await
                .map_err(|e| StoreError::query("update run status", e))?;
        });
        Ok(())
    }

    /// Commits one step: artifacts, log entries, approval requests and decisions, and the event's
    /// status, in one transaction. If `step_key` was committed before, nothing is written.
    pub async fn commit(&self, c: &Commit) -> Result<CommitOutcome, StoreError> {
        self.commit_with_hook(c, || Ok(())).await
    }

    /// Like [`Store::commit`], running `before_commit` inside the transaction after every write
    /// and before COMMIT; an error from it rolls everything back (used for failure injection).
    pub async fn commit_with_hook(
        &self,
        c: &Commit,
        before_commit: impl FnOnce() -> Result<(), String>,
    ) -> Result<CommitOutcome, StoreError> {
        let out = self
            .commit_batch(std::slice::from_ref(c), before_commit)
            .await?;
        Ok(out
            .outcomes
            .into_iter()
            .next()
            .unwrap_or(CommitOutcome::AlreadyApplied))
    }

    /// Everything the engine needs to decide the next move of one event, read in one
    /// transaction (on PostgreSQL a read-only REPEATABLE READ one; on SQLite a read transaction
    /// of WAL mode), so the counter, the row, the artifacts, the approvals and the step keys all
    /// come from the same commit.
    pub async fn snapshot(&self, id: EventId) -> Result<EventSnapshot, StoreError> {
        let ev = id.to_string();
        let isolation = match self {
            Store::Postgres(_) => {
                Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            }
            Store::Sqlite(_) => None,
        };
        let artifacts_sql = format!(
            "SELECT {ARTIFACT_COLUMNS} FROM artifacts a WHERE event_id = $1 AND revision = (SELECT MAX(revision) FROM artifacts b WHERE b.event_id = a.event_id AND b.artifact_type = a.artifact_type) ORDER BY artifact_type"
        );
        let head_sql = format!(
            "SELECT {EVENT_COLUMNS}, seq, (SELECT COALESCE(MAX(last_seq), 0) FROM decision_runs WHERE event_id = $1) AS decisions, (SELECT COALESCE(MAX(last_seq), 0) FROM change_runs WHERE event_id = $1) AS changes FROM events WHERE id = $1"
        );
        let (head, artifacts, approvals, votes, steps) = on_pool!(self, p => {
            let mut tx = p.begin().await.map_err(|e| StoreError::query("begin snapshot", e))?;
            if let Some(sql) = isolation {
                sqlx::query(sql).execute(&mut *tx).await.map_err(|e| StoreError::query("snapshot isolation", e))?;
            }
            let head: Option<rows::SnapshotHead> = sqlx::query_as(sqlx::AssertSqlSafe(head_sql))
                .bind(&ev).fetch_optional(&mut *tx).await
                .map_err(|e| StoreError::query("load event", e))?;
            let artifacts: Vec<ArtifactTuple> = sqlx::query_as(sqlx::AssertSqlSafe(artifacts_sql))
                .bind(&ev).fetch_all(&mut *tx).await
                .map_err(|e| StoreError::query("load artifacts", e))?;
            let approvals: Vec<rows::ApprovalTuple> = sqlx::query_as(
                "SELECT id, event_id, gate, artifact_revision, status, approver_role, requested_at, deadline, decided_at, decided_by, decision, comment, directive, required_approvals, summary, summary_by FROM approvals WHERE event_id = $1 ORDER BY requested_at, gate, artifact_revision")
                .bind(&ev).fetch_all(&mut *tx).await
                .map_err(|e| StoreError::query("load approvals", e))?;
            let votes: Vec<(String, String, String, String, DateTime<Utc>)> = sqlx::query_as(
                "SELECT v.approval_id, v.voter, v.decision, v.comment, v.at FROM approval_votes v JOIN approvals a ON a.id = v.approval_id WHERE a.event_id = $1 ORDER BY v.at, v.voter")
                .bind(&ev).fetch_all(&mut *tx).await
                .map_err(|e| StoreError::query("load votes", e))?;
            let steps: Vec<(String,)> = sqlx::query_as("SELECT step_key FROM steps WHERE event_id = $1 ORDER BY seq")
                .bind(&ev).fetch_all(&mut *tx).await
                .map_err(|e| StoreError::query("load step keys", e))?;
            tx.commit().await.map_err(|e| StoreError::query("end snapshot", e))?;
            (head, artifacts, approvals, votes, steps)
        });
        let Some(head) = head else {
            return Err(StoreError::NotFound(format!("event {id}")));
        };
        let (event, seq, decisions, changes) = rows::split_head(head)?;
        let event = self.opened_event(event).await?;
        let mut approvals: Vec<ApprovalRow> = approvals
            .into_iter()
            .map(ApprovalRow::try_from)
            .collect::<Result<_, _>>()?;
        for v in votes {
            let vote = rows::vote_from_tuple(v)?;
            if let Some(a) = approvals.iter_mut().find(|a| a.id == vote.approval_id) {
                a.votes.push(vote);
            }
        }
        Ok(EventSnapshot {
            step_count: u64::try_from(steps.len()).unwrap_or(0),
            steps: steps.into_iter().map(|(k,)| k).collect(),
            event,
            artifacts: self.opened_artifacts(artifacts).await?,
            approvals,
            decision_count: u64::try_from(decisions).unwrap_or(0),
            change_count: u64::try_from(changes).unwrap_or(0),
            seq: u64::try_from(seq).unwrap_or(0),
        })
    }

    /// Whether a step key was committed for this event.
    pub async fn step_committed(&self, id: EventId, step_key: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as("SELECT seq FROM steps WHERE event_id = $1 AND step_key = $2")
            .bind(id.to_string()).bind(step_key).fetch_optional(p).await)
            .map_err(|e| StoreError::query("check step key", e))?;
        Ok(row.is_some())
    }

    /// The newest revision of every artifact type of an event.
    pub async fn current_artifacts(&self, id: EventId) -> Result<Vec<Envelope>, StoreError> {
        let sql = format!(
            "SELECT {ARTIFACT_COLUMNS} FROM artifacts a WHERE event_id = $1 AND revision = (SELECT MAX(revision) FROM artifacts b WHERE b.event_id = a.event_id AND b.artifact_type = a.artifact_type) ORDER BY artifact_type"
        );
        self.fetch_envelopes(&sql, id, None).await
    }

    /// The current revision of one type, if there is one.
    pub async fn current_of(
        &self,
        id: EventId,
        t: ArtifactType,
    ) -> Result<Option<Envelope>, StoreError> {
        let sql = format!(
            "SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE event_id = $1 AND artifact_type = $2 ORDER BY revision DESC LIMIT 1"
        );
        Ok(self.fetch_envelopes(&sql, id, Some(t)).await?.pop())
    }

    /// Every revision of one type, oldest first.
    pub async fn revisions(
        &self,
        id: EventId,
        t: ArtifactType,
    ) -> Result<Vec<Envelope>, StoreError> {
        let sql = format!(
            "SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE event_id = $1 AND artifact_type = $2 ORDER BY revision"
        );
        self.fetch_envelopes(&sql, id, Some(t)).await
    }

    /// Every artifact revision of an event (all types), in commit order.
    pub async fn all_revisions(&self, id: EventId) -> Result<Vec<Envelope>, StoreError> {
        let sql = format!(
            "SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE event_id = $1 ORDER BY created_at, artifact_type, revision"
        );
        self.fetch_envelopes(&sql, id, None).await
    }

    async fn fetch_envelopes(
        &self,
        sql: &str,
        id: EventId,
        t: Option<ArtifactType>,
    ) -> Result<Vec<Envelope>, StoreError> {
        let rows: Vec<ArtifactTuple> = on_pool!(self, p => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).bind(id.to_string());
            let q = match t { Some(t) => q.bind(t.as_str()), None => q };
            q.fetch_all(p).await
        })
        .map_err(|e| StoreError::query("load artifacts", e))?;
        self.opened_artifacts(rows).await
    }

    /// Artifact rows as envelopes, their sealed payloads opened.
    async fn opened_artifacts(
        &self,
        rows: Vec<ArtifactTuple>,
    ) -> Result<Vec<Envelope>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for mut t in rows {
            let payload = std::mem::take(&mut t.9.0);
            t.9 = Json(
                self.open_sealed(payload, &keys::artifact_context(&t.0))
                    .await?,
            );
            out.push(rows::envelope_from_tuple(t)?);
        }
        Ok(out)
    }

    /// An event row with its sealed draft opened.
    async fn opened_event(&self, mut row: EventRow) -> Result<EventRow, StoreError> {
        if let Some(d) = row.draft.take() {
            row.draft = Some(
                self.open_sealed(d, &keys::draft_context(&row.id.to_string()))
                    .await?,
            );
        }
        Ok(row)
    }

    /// The DecisionLog of an event, in order.
    pub async fn decision_log(&self, id: EventId) -> Result<Vec<DecisionEntry>, StoreError> {
        let rows: Vec<(Json<DecisionEntry>,)> = on_pool!(self, p => sqlx::query_as("SELECT entry FROM decision_log WHERE event_id = $1 ORDER BY seq")
            .bind(id.to_string()).fetch_all(p).await)
            .map_err(|e| StoreError::query("load decision log", e))?;
        Ok(rows.into_iter().map(|(j,)| j.0).collect())
    }

    /// The ChangeLog of an event, in order.
    pub async fn change_log(&self, id: EventId) -> Result<Vec<ChangeEntry>, StoreError> {
        let rows: Vec<(Json<ChangeEntry>,)> = on_pool!(self, p => sqlx::query_as("SELECT entry FROM change_log WHERE event_id = $1 ORDER BY seq")
            .bind(id.to_string()).fetch_all(p).await)
            .map_err(|e| StoreError::query("load change log", e))?;
        Ok(rows.into_iter().map(|(j,)| j.0).collect())
    }

    /// Every approval request of an event, oldest first.
    pub async fn approvals(&self, id: EventId) -> Result<Vec<ApprovalRow>, StoreError> {
        let rows: Vec<rows::ApprovalTuple> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, event_id, gate, artifact_revision, status, approver_role, requested_at, deadline, decided_at, decided_by, decision, comment, directive, required_approvals, summary, summary_by FROM approvals WHERE event_id = $1 ORDER BY requested_at, gate, artifact_revision")
            .bind(id.to_string()).fetch_all(p).await)
            .map_err(|e| StoreError::query("load approvals", e))?;
        let mut out: Vec<ApprovalRow> = rows
            .into_iter()
            .map(ApprovalRow::try_from)
            .collect::<Result<_, _>>()?;
        let votes: Vec<(String, String, String, String, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT v.approval_id, v.voter, v.decision, v.comment, v.at FROM approval_votes v JOIN approvals a ON a.id = v.approval_id WHERE a.event_id = $1 ORDER BY v.at, v.voter")
            .bind(id.to_string()).fetch_all(p).await)
            .map_err(|e| StoreError::query("load votes", e))?;
        for v in votes {
            let vote = rows::vote_from_tuple(v)?;
            if let Some(a) = out.iter_mut().find(|a| a.id == vote.approval_id) {
                a.votes.push(vote);
            }
        }
        Ok(out)
    }

    /// Number of committed steps of an event.
    pub async fn step_count(&self, id: EventId) -> Result<u64, StoreError> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM steps WHERE event_id = $1").bind(id.to_string()).fetch_one(p).await)
            .map_err(|e| StoreError::query("count steps", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// Parses a lifecycle state stored in the database.
fn parse_state(s: &str) -> Result<LifecycleState, StoreError> {
    LifecycleState::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown lifecycle state `{s}`")))
}
