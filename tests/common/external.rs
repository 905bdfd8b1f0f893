//! The one rule for what a test needs from outside Rust (LibreOffice,
//! Chromium, Wine, MinGW, FUSE, Samba, sqlite3, pdfinfo, setpriv, root...):
//! when it is missing the test says so and skips, unless
//! `SMSAUDIT_REQUIRE_EXTERNAL=1` (CI), where it fails.

use std::path::{Path, PathBuf};

/// Set to 1 by CI (.ci/run): nothing a test needs may be missing.
const REQUIRE_EXTERNAL: &str = "SMSAUDIT_REQUIRE_EXTERNAL";

/// Whether what a test needs is here. If not (`present` false) prints
/// "skipped: MISSING" and returns false, or panics under
/// `SMSAUDIT_REQUIRE_EXTERNAL=1`. `missing` says what is not there.
pub fn require_that(present: bool, missing: &str) -> bool {
    if !present {
        if std::env::var(REQUIRE_EXTERNAL).as_deref() == Ok("1") {
            panic!("{missing}, but it is required ({REQUIRE_EXTERNAL}=1)");
        }
        eprintln!("skipped: {missing}");
    }
    present
}

/// Whether `program` is on PATH; `why` says what the test needs it for.
pub fn require(program: &str, why: &str) -> bool {
    require_that(
        on_path(program).is_some(),
        &format!("{program} not found (needed {why})"),
    )
}

/// Whether this process runs as root; `why` says what the test needs it for.
pub fn require_root(why: &str) -> bool {
    require_that(is_root(), &format!("not running as root (needed {why})"))
}

/// Whether the binary can be run as the unprivileged `nobody` (root to
/// switch, setpriv to do it): root reads everything, so unreadable entries
/// are tested that way.
pub fn require_unprivileged() -> bool {
    let why = "to run the audit as an unprivileged user";
    require_root(why) && require("setpriv", why)
}

/// The smsaudit binary run as `nobody` (see [`require_unprivileged`]); add
/// its arguments.
pub fn smsaudit_as_nobody() -> std::process::Command {
    let mut command = std::process::Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(super::BIN);
    command
}

/// Whether `/dev/fuse` is here, for a test that mounts a FUSE file system.
pub fn require_fuse(why: &str) -> bool {
    require_that(
        Path::new("/dev/fuse").exists(),
        &format!("/dev/fuse not found (needed {why})"),
    )
}

/// Where `program` is on PATH.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(unix)]
fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}
