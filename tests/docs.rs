//! The documentation that is generated or checked against the code: the man
//! pages in `docs/` against the clap definitions.

#[path = "../examples/man/pages.rs"]
mod pages;

use std::path::Path;

const REGENERATE: &str = "cargo run --example man -- docs/";

/// Each committed page is what the clap definitions render today, and no
/// page is missing or left over. Read from the checkout, never written.
#[test]
fn man_pages_match_the_clap_definitions() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let pages = pages::pages();
    assert!(
        pages.iter().any(|(name, _)| name == "smsaudit.1") && pages.iter().any(|(name, _)| name == "smsaudit-audit.1"),
        "the top command and `audit` must have pages: {:?}",
        pages.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let mut stale = Vec::new();
    for (name, text) in &pages {
        match std::fs::read(docs.join(name)) {
            Ok(committed) if committed == *text => {}
            Ok(_) => stale.push(format!("docs/{name} differs")),
            Err(e) => stale.push(format!("docs/{name}: {e}")),
        }
    }
    let committed: Vec<String> = std::fs::read_dir(&docs)
        .expect("docs/ exists")
        .map(|e| e.expect("docs/ entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("smsaudit") && n.ends_with(".1"))
        .collect();
    for name in committed {
        if !pages.iter().any(|(n, _)| *n == name) {
            stale.push(format!("docs/{name} is no command's page any more: remove it"));
        }
    }
    assert!(
        stale.is_empty(),
        "the man pages are out of date with src/cli.rs:\n  {}\nregenerate them with: {REGENERATE}",
        stale.join("\n  ")
    );
}
