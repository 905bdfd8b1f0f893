//! The subcommands, from their arguments to an exit code: one module each,
//! plus what they print ([`console`]) and `audit`'s loading step
//! ([`inputs`]).

mod audit;
mod catalog;
mod console;
mod diff;
mod history;
mod inputs;
mod runlog;

pub(crate) use audit::{audit, refused};
pub(crate) use catalog::{explain, rules};

pub(crate) use diff::diff;
pub(crate) use history::{history, HistoryCommand};
pub(crate) use inputs::AuditCommand;
pub(crate) use runlog::RunLog;

/// The clap definitions, public for the man pages (examples/man).
pub use crate::cli::Cli;

use crate::cli::CliCommand;
use crate::exit::ExitCode;
use clap::Parser;

/// The smsaudit command: a crawl or discovery worker started by the audit
/// itself, or the subcommand the arguments name. Returns the process's
/// exit code.
pub fn main() -> i32 {
    crate::fewer_malloc_arenas();
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    if first.as_deref() == Some(std::ffi::OsStr::new(crate::crawl::WORKER_COMMAND)) {
        return crate::crawl::worker_main();
    }
    if first.as_deref() == Some(std::ffi::OsStr::new(crate::discover::DISCOVER_WORKER_COMMAND)) {
        return crate::discover::discover_worker_main(args.next());
    }
    let result = match Cli::parse().command {
        CliCommand::Audit(args) => {
            stage_in(&args.out);
            // The log is started before the inputs are loaded, so a bad
            // inventory or baseline is in it too (arguments clap refuses
            // are not: the log's own name may be what is wrong).
            let log = RunLog::start(args.log.clone(), args.roots.clone()).with_own_files([
                ("--inventory", args.inventory.clone()),
                ("--baseline", args.baseline.clone()),
                ("--history", args.history.clone()),
            ]);
            match AuditCommand::load(args) {
                Ok(audit) => {
                    if !audit.quiet {
                        for note in &audit.notes {
                            crate::text::println_stderr(&format!("smsaudit: {}", crate::text::for_terminal(note)));
                        }
                    }
                    Ok(self::audit(&audit, log))
                }
                Err(err) => {
                    let shown = err.for_terminal();
                    crate::text::println_stderr(&format!("smsaudit: {shown}"));
                    Ok(refused(log, &shown))
                }
            }
        }
        CliCommand::Rules => rules(),
        CliCommand::Explain { key } => explain(&key),
        CliCommand::Diff(args) => diff(
            &args.old,
            &args.new,
            args.out.as_deref(),
            args.csv.dialect(args.csv_separator),
        ),
        CliCommand::History(args) => history(&HistoryCommand::new(args)),
    };
    let code = result.unwrap_or_else(|err| {
        // Errors can carry share and file names: no raw control characters.
        crate::text::println_stderr(&format!("smsaudit: {}", crate::text::error_for_terminal(&err)));
        ExitCode::CouldNotRun
    });
    code.code()
}

/// Points the process's temporary folder at the output folder: the
/// workbook's scratch files (rust_xlsxwriter's constant memory mode makes
/// one for every worksheet in `std::env::temp_dir()`, whatever
/// `Workbook::set_tempdir` says) are staged beside the set, never in a
/// `$TMPDIR` that may be small or unwritable. They are anonymous files,
/// gone however the run ends. Called before any thread starts.
fn stage_in(out: &std::path::Path) {
    let Ok(out) = std::path::absolute(out) else {
        return;
    };
    for variable in if cfg!(windows) {
        &["TMP", "TEMP"][..]
    } else {
        &["TMPDIR"][..]
    } {
        std::env::set_var(variable, &out);
    }
}
