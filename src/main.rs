//! The smsaudit command: parse arguments, run the library, map the result
//! to an exit code.

use clap::Parser;
use smsaudit::app::RunLog;
use smsaudit::cli::{Cli, CliCommand, Command};
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
    let cli = Cli::parse();
    // The log is started before the command is checked, so a bad inventory
    // or baseline is in it too (arguments clap refuses are not: the log's
    // own name may be what is wrong).
    let log = match &cli.command {
        CliCommand::Audit(args) => Some(RunLog::start(args.log.clone(), args.roots.clone())),
        _ => None,
    };
    let result = match cli.into_command() {
        Ok(Command::Audit(audit)) => {
            if !audit.quiet {
                for note in &audit.notes {
                    eprintln!("smsaudit: {}", smsaudit::text::for_terminal(note));
                }
            }
            let log = log.unwrap_or_else(|| RunLog::start(audit.log.clone(), audit.config.roots.clone()));
            Ok(smsaudit::app::audit(&audit, log))
        }
        Ok(Command::Rules) => smsaudit::app::rules(),
        Ok(Command::Explain(key)) => smsaudit::app::explain(&key),
        Ok(Command::Diff { old, new, out, csv }) => smsaudit::app::diff(&old, &new, out.as_deref(), csv),
        Ok(Command::History(history)) => smsaudit::app::history(&history),
        Err(message) => {
            eprintln!("smsaudit: {}", smsaudit::text::for_terminal(&message));
            Ok(match log {
                Some(log) => smsaudit::app::refused(log, &message),
                None => ExitCode::CouldNotRun,
            })
        }
    };
    let code = result.unwrap_or_else(|err| {
        // Errors can carry share and file names: no raw control characters.
        eprintln!("smsaudit: {}", smsaudit::text::for_terminal(&format!("{err:#}")));
        ExitCode::CouldNotRun
    });
    std::process::exit(code.code());
}
