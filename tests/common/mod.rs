//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod estate;

/// Whether an external program is available. Missing: prints "skipping"
/// and returns false, unless SMSAUDIT_REQUIRE_EXTERNAL=1, then panics.
pub fn require_tool(name: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var("SMSAUDIT_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!("{name} is required (SMSAUDIT_REQUIRE_EXTERNAL=1) but not installed");
        }
        eprintln!("skipping: {name} not installed");
    }
    found
}
