//! The store's error type.

use thiserror::Error;

/// Everything that can go wrong talking to the database.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot connect to `{url}`: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{context}: {source}")]
    Query {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("event {event}: the lease of {owner} was lost to another instance")]
    LeaseLost { event: String, owner: String },
    #[error(
        "event {event} changed since it was read (another commit came first); read it again and retry"
    )]
    Stale { event: String },
    #[error("encryption keys: {0}")]
    Keys(String),
    #[error("injected failure: {0}")]
    Injected(String),
}

impl StoreError {
    pub(crate) fn query(context: &'static str, source: sqlx::Error) -> Self {
        StoreError::Query { context, source }
    }

    /// Whether the database refused to write at all: SQLite's SQLITE_READONLY (8 and its extended
    /// codes: a read-only file or connection), PostgreSQL's 25006 (a read-only transaction: a hot
    /// standby, or `default_transaction_read_only`).
    pub fn is_read_only(&self) -> bool {
        match self {
            StoreError::Query { source, .. } => source
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "25006" || c.parse::<i32>().is_ok_and(|n| n & 0xff == 8)),
            _ => false,
        }
    }

    /// Whether the database refused a value itself (SQLSTATE class 22, data exception:
    /// PostgreSQL's NUL in text is 22021 or 22P05, a date beyond its range 22008): the fault of
    /// what was sent, not of the service.
    pub fn is_unstorable_value(&self) -> bool {
        match self {
            StoreError::Query { source, .. } => source
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c.starts_with("22")),
            _ => false,
        }
    }
}
