//! Databases for tests: a fresh SQLite file, and — when `EODS_TEST_DATABASE_URL` points at a
//! PostgreSQL server — a fresh PostgreSQL database per test, so tests run in parallel and never
//! see each other's rows. Not used by the product itself.

use crate::{Store, StoreError};
use sqlx::Connection;
use std::path::Path;

/// The day the tests' briefs were written for (RFC 3339). Tests run their clocks from it
/// (`EODS_NOW` for the binary, `eods_engine::ShiftedClock` in process), so a brief dated in 2027
/// is never refused as past when the tests run later.
pub const TESTS_TODAY: &str = "2026-12-01T09:00:00Z";

/// [`TESTS_TODAY`] as an instant.
pub fn tests_today() -> chrono::DateTime<chrono::Utc> {
    match chrono::DateTime::parse_from_rfc3339(TESTS_TODAY) {
        Ok(t) => t.with_timezone(&chrono::Utc),
        Err(e) => panic!("TESTS_TODAY `{TESTS_TODAY}` is not an RFC 3339 date-time: {e}"),
    }
}

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_ENV: &str = "EODS_TEST_DATABASE_URL";

/// URLs of the databases a test should run against: a SQLite file under `dir`, plus a new
/// PostgreSQL database when `EODS_TEST_DATABASE_URL` is set.
pub async fn test_database_urls(dir: &Path, name: &str) -> Result<Vec<String>, StoreError> {
    let mut urls = vec![format!(
        "sqlite://{}",
        dir.join(format!("{name}.db")).display()
    )];
    if let Ok(base) = std::env::var(TEST_DATABASE_ENV)
        && !base.trim().is_empty()
    {
        urls.push(fresh_postgres_database(&base).await?);
    }
    Ok(urls)
}

/// Creates an empty database on the server of `base_url` and returns its URL.
pub async fn fresh_postgres_database(base_url: &str) -> Result<String, StoreError> {
    let name = format!("eods_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn =
        sqlx::PgConnection::connect(base_url)
            .await
            .map_err(|e| StoreError::Connect {
                url: base_url.to_owned(),
                source: e,
            })?;
    // The name is generated here from a UUID, never from input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| StoreError::query("create test database", e))?;
    conn.close().await.ok();
    let (prefix, _) = base_url.rsplit_once('/').ok_or_else(|| StoreError::Url {
        url: base_url.to_owned(),
        reason: "expected postgres://USER@HOST:PORT/DB".into(),
    })?;
    Ok(format!("{prefix}/{name}"))
}

/// Connects to every test database of [`test_database_urls`].
pub async fn test_stores(dir: &Path, name: &str) -> Result<Vec<Store>, StoreError> {
    let mut out = Vec::new();
    for url in test_database_urls(dir, name).await? {
        out.push(Store::connect(&url).await?);
    }
    Ok(out)
}
