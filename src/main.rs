//! The smsaudit command: parse arguments, run the library, map the result
//! to an exit code.

use clap::Parser;
use smsaudit::cli::{Cli, Command};
use smsaudit::exit::ExitCode;

fn main() {
    // A crawl or discovery worker started by the audit itself
    // (smsaudit::crawl, smsaudit::discover).
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    if first.as_deref() == Some(std::ffi::OsStr::new(smsaudit::crawl::WORKER_COMMAND)) {
        std::process::exit(smsaudit::crawl::worker_main(args.next()));
    }
    if first.as_deref() == Some(std::ffi::OsStr::new(smsaudit::discover::DISCOVER_WORKER_COMMAND)) {
        std::process::exit(smsaudit::discover::discover_worker_main(args.next()));
    }
    let code = match Cli::parse().into_command() {
        Ok(command) => run(command),
        Err(message) => {
            eprintln!("smsaudit: {}", smsaudit::text::for_terminal(&message));
            ExitCode::CouldNotRun
        }
    };
    std::process::exit(code.code());
}

fn run(command: Command) -> ExitCode {
    let result = match command {
        Command::Audit(audit) => {
            if !audit.quiet {
                for note in &audit.notes {
                    eprintln!("smsaudit: {}", smsaudit::text::for_terminal(note));
                }
            }
            smsaudit::app::audit(&audit)
        }
        Command::Rules => smsaudit::app::rules(),
        Command::Explain(key) => smsaudit::app::explain(&key),
        Command::Diff { old, new, out, csv } => smsaudit::app::diff(&old, &new, out.as_deref(), csv),
        Command::History(history) => smsaudit::app::history(&history),
    };
    result.unwrap_or_else(|err| {
        // Errors can carry share and file names: no raw control characters.
        eprintln!("smsaudit: {}", smsaudit::text::for_terminal(&format!("{err:#}")));
        ExitCode::CouldNotRun
    })
}
