//! Shared by the CLI test binaries: run the `eods` binary as a user would, read its output, and
//! the databases to run against.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

pub const EODS: &str = env!("CARGO_BIN_EXE_eods");

/// Runs `eods` with `args`, without the environment that would change where or how it runs.
pub fn eods(args: &[&str]) -> Output {
    Command::new(EODS)
        .args(args)
        .env_remove("EODS_FAILPOINT")
        .env_remove("EODS_DATABASE_URL")
        .output()
        .unwrap()
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
