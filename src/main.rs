//! The smsaudit command: parse arguments, load `audit`'s inputs, run the
//! subcommand, map the result to an exit code.

use clap::Parser;
use smsaudit::app::{AuditCommand, HistoryCommand, RunLog};
use smsaudit::cli::{Cli, CliCommand};
use smsaudit::exit::ExitCode;

fn main() {
    // A crawl or discovery worker started by the audit itself
    // (smsaudit::crawl, smsaudit::discover).
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    if first.as_deref() == Some(std::ffi::OsStr::new(smsaudit::crawl::WORKER_COMMAND)) {
        std::process::exit(smsaudit::crawl::worker_main());
    }
    if first.as_deref() == Some(std::ffi::OsStr::new(smsaudit::discover::DISCOVER_WORKER_COMMAND)) {
        std::process::exit(smsaudit::discover::discover_worker_main(args.next()));
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
                            eprintln!("smsaudit: {}", smsaudit::text::for_terminal(note));
                        }
                    }
                    Ok(smsaudit::app::audit(&audit, log))
                }
                Err(err) => {
                    let message = err.to_string();
                    eprintln!("smsaudit: {}", smsaudit::text::for_terminal(&message));
                    Ok(smsaudit::app::refused(log, &message))
                }
            }
        }
        CliCommand::Rules => smsaudit::app::rules(),
        CliCommand::Explain { key } => smsaudit::app::explain(&key),
        CliCommand::Diff(args) => smsaudit::app::diff(&args.old, &args.new, args.out.as_deref(), args.csv.flavor()),
        CliCommand::History(args) => smsaudit::app::history(&HistoryCommand::new(args)),
    };
    let code = result.unwrap_or_else(|err| {
        // Errors can carry share and file names: no raw control characters.
        eprintln!("smsaudit: {}", smsaudit::text::for_terminal(&format!("{err:#}")));
        ExitCode::CouldNotRun
    });
    std::process::exit(code.code());
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
