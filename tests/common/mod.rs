//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// Whether a Debian program the test compares against is installed. When it
/// is missing the test prints why and should return, unless
/// SMSAUDIT_REQUIRE_EXTERNAL=1 (CI), where a missing tool is a failure.
pub fn require_tool(name: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var("SMSAUDIT_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
        panic!("{name} not installed and SMSAUDIT_REQUIRE_EXTERNAL=1");
    }
    eprintln!("skipping: {name} not installed");
    false
}
