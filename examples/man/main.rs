//! Writes the man pages into a folder: `cargo run --example man -- docs/`.
//! `tests/docs.rs` checks that the committed pages in `docs/` are current.

mod pages;

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let folder = PathBuf::from(std::env::args_os().nth(1).unwrap_or_else(|| "docs".into()));
    for (name, text) in pages::pages() {
        let path = folder.join(&name);
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
