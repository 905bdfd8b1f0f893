//! Helpers shared by the integration tests: finding the external tools
//! some tests compare against.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Whether CI asked for every external tool to be present.
pub fn external_required() -> bool {
    std::env::var("SMSAUDIT_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1")
}

/// Where `name` is on PATH, if anywhere.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// True when `name` is installed. Otherwise prints "skipping: <name> not
/// installed" and returns false, or panics when SMSAUDIT_REQUIRE_EXTERNAL=1.
pub fn require_tool(name: &str) -> bool {
    require(name, find_tool(name).is_some())
}

/// [`require_tool`] for a prerequisite that is not a program on PATH.
pub fn require(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if external_required() {
        panic!("{what} not installed, and SMSAUDIT_REQUIRE_EXTERNAL=1");
    }
    eprintln!("skipping: {what} not installed");
    false
}
