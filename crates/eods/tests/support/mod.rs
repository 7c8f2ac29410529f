//! Shared by the CLI test binaries: run the `eods` binary as a user would, read its output, and
//! the databases to run against.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

pub const EODS: &str = env!("CARGO_BIN_EXE_eods");

/// The `eods` binary as the tests run it: its clock starting on the day the tests' briefs were
/// written for (`EODS_NOW`), without the environment that would change where or how it runs.
pub fn command() -> Command {
    let mut c = Command::new(EODS);
    c.env("EODS_NOW", eods_store::test_support::TESTS_TODAY)
        .env_remove("EODS_FAILPOINT")
        .env_remove("EODS_DATABASE_URL");
    c
}

/// Runs `eods` with `args` (see [`command`]).
pub fn eods(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

/// Standard output then standard error, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Database URLs to run against: a SQLite file, and a fresh PostgreSQL database when configured.
pub fn databases(dir: &Path, label: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(eods_store::test_support::test_database_urls(dir, label))
        .unwrap()
}
