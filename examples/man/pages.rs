//! The man pages of `smsaudit`, rendered in memory from the clap definitions:
//! one page per command, as `git` and `cargo` ship them (`smsaudit.1`,
//! `smsaudit-audit.1`, ...), so `man smsaudit-audit` opens the command's own page.

use clap::CommandFactory;
use smsaudit::app::Cli;

/// Every page as (file name, roff text), the top command first, then each
/// visible subcommand in the order `smsaudit --help` lists them. Hidden
/// commands (the worker processes) get no page, as in `clap_mangen::generate_to`.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    // Every page's footer names the program and its version, not the subcommand.
    let source = format!("smsaudit {}", top.get_version().unwrap_or_default());
    let mut pages = Vec::new();
    collect(top, &source, &mut pages);
    pages
}

fn collect(command: clap::Command, source: &str, pages: &mut Vec<(String, Vec<u8>)>) {
    let subcommands: Vec<clap::Command> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let man = clap_mangen::Man::new(command).source(source);
    let mut text = Vec::new();
    man.render(&mut text).expect("rendering into memory cannot fail");
    pages.push((man.get_filename(), text));
    for subcommand in subcommands {
        collect(subcommand, source, pages);
    }
}
