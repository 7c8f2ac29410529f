//! What the tests need from the machine beyond the Rust toolchain, in one place: the external
//! tools they run (each with the Debian package that provides it) and the real conference
//! programs in `../shared/data` beside the checkout. A missing tool or file fails the test with
//! a message that names it and says how to get it, never a bare `NotFound`.
//!
//! Test binaries of several crates include this file with `#[path = ...] mod machine;` (no crate
//! and no lock-file entry for a few test-only functions). It must not run anything itself: each
//! function is called by a test. `scripts/test` installs what is listed here.

#![allow(dead_code)] // Each test binary uses only part of it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An external program a test runs, and the Debian package that installs it.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// The program as looked up on `PATH`.
    pub program: &'static str,
    /// The Debian package that provides it.
    pub package: &'static str,
}

/// `xmllint`, which checks exported frab XML against the c3voc XSD.
pub const XMLLINT: Tool = Tool {
    program: "xmllint",
    package: "libxml2-utils",
};

/// `python3`, which runs the independent plan checker `scripts/check-plan.py`.
#[allow(dead_code)] // Not every test binary that includes this file runs it.
pub const PYTHON3: Tool = Tool {
    program: "python3",
    package: "python3",
};

impl Tool {
    /// Runs the tool with `args` and returns its output (whatever its exit status), or a message
    /// naming the tool, its package and the command that installs it when it cannot be started.
    pub fn try_output<I, S>(&self, args: I) -> Result<Output, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Command::new(self.program)
            .args(args)
            .output()
            .map_err(|e| self.cannot_start(&e))
    }

    /// Like [`Tool::try_output`], but fails the test with that message.
    #[track_caller]
    pub fn output<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        match self.try_output(args) {
            Ok(output) => output,
            Err(message) => panic!("{message}"),
        }
    }

    fn cannot_start(&self, e: &std::io::Error) -> String {
        let Tool { program, package } = self;
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "is not installed (not found on PATH)".to_owned()
        } else {
            format!("could not be started: {e}")
        };
        format!(
            "this test runs `{program}`, which {why}. It is in the Debian package {package}: \
             install it with `apt-get update && apt-get install -y {package}` (as root), or run \
             the tests with `scripts/test`, which installs it."
        )
    }
}

/// The directory of real conference programs and schemas: `EODS_TEST_SHARED_DATA` when set, else
/// `../shared/data` beside the checkout.
pub fn shared_data_dir() -> PathBuf {
    match std::env::var_os("EODS_TEST_SHARED_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        // Every crate sits at `crates/<name>`, so this is the same directory from each of them.
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// A file or directory under [`shared_data_dir`], e.g. `frab/fosdem-2025.xml`; fails the test
/// with a message saying where it was looked for and how to point the tests at it.
#[track_caller]
pub fn shared_data(relative: &str) -> PathBuf {
    let path = shared_data_dir().join(relative);
    if !path.exists() {
        panic!(
            "this test reads {}, which does not exist. The tests read the real conference \
             programs in `shared/data` beside the checkout (`../shared/data` from the repository \
             root); if they are elsewhere, set EODS_TEST_SHARED_DATA to that directory.",
            path.display()
        );
    }
    path
}

/// Checks `xml` against the c3voc `schedule.xml` XSD with xmllint; fails the test with
/// xmllint's own words when the file is not valid.
#[track_caller]
pub fn assert_valid_frab_xml(xml: &Path) {
    let xsd = shared_data("schema/schedule.xml.xsd");
    let lint = XMLLINT.output([
        OsStr::new("--noout"),
        OsStr::new("--schema"),
        xsd.as_os_str(),
        xml.as_os_str(),
    ]);
    assert!(
        lint.status.success(),
        "{} is not valid against {}:\n{}{}",
        xml.display(),
        xsd.display(),
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}
