//! `smsaudit audit`: run the audit, write its reports, print its summary.

use super::console;
use crate::audit::Audit;
use crate::cli::AuditCommand;
use crate::crawl::Progress;
use crate::exit::ExitCode;
use crate::model::Severity;
use crate::report;
use crate::text;
use anyhow::Result;
use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Runs an audit and writes its reports. Everything that can make the run
/// fail (output folder, baseline) is checked before the crawl starts.
pub fn audit(command: &AuditCommand) -> Result<ExitCode> {
    let mut audited = command.config.roots.clone();
    if let Some(inventory) = &command.config.inventory {
        audited.extend(inventory.shares().into_iter().map(|s| s.path));
    }
    // After discovery, so a root that never answers (whose very stat would
    // hang this process) is known and left out: nothing can be written
    // into a root that cannot be reached.
    let check_output = |found: &[crate::discover::Discovered]| -> Result<()> {
        let answered: Vec<_> = audited
            .iter()
            .filter(|root| !crate::discover::did_not_answer(found, root))
            .cloned()
            .collect();
        if let Some(log) = &command.log {
            report::check_outside_roots(log, &answered)?;
            report::check_log_file(log)?;
        }
        if !command.formats.is_empty() {
            report::check_outside_roots(&command.out, &answered)?;
            report::prepare_output(&command.out)?;
            // Again on the folder as created: a link swapped in on the way
            // is judged by where it leads.
            report::check_outside_roots(&command.out, &answered)?;
        }
        Ok(())
    };
    let started = Instant::now();
    let progress = Arc::new(Progress::default());
    let bar = (!command.quiet && std::io::stderr().is_terminal()).then(|| console::progress_bar(progress.clone()));
    let audit = crate::run_audit_checked(&command.config, progress, &check_output);
    if let Some((bar, done, thread)) = bar {
        done.store(true, Ordering::Relaxed);
        let _ = thread.join();
        bar.finish_and_clear();
    }
    let audit = audit?;
    // Each report, the log and the summary are written whatever happened to
    // the others; any that could not be makes the run one that could not run.
    let mut written = report::write_selected(&audit, &command.out, command.csv, &command.formats);
    if command.matrix_stdout {
        let bytes = report::csv::matrix(&audit, report::CsvFlavor::Machine)?;
        console::print_stdout(&bytes)?;
    }
    if command.verbose || command.log.is_some() {
        let log = console::log_lines(&audit).join("\n") + "\n";
        if let Some(path) = &command.log {
            if let Err(err) = report::write_log(path, &log) {
                written.failures.push(err);
            }
        }
        if command.verbose {
            eprint!("{log}");
        }
    }
    if !command.quiet {
        eprint!(
            "{}",
            console::summary(&audit, started.elapsed().as_secs_f64(), command.verbose)
        );
        if let Some(plan) = &audit.upgrade {
            eprint!("{}", console::terminal_lines(&crate::upgrade::summary(plan)));
        }
        for path in &written.files {
            eprintln!("  wrote {}", text::for_terminal(&path.display().to_string()));
        }
    }
    if !written.failures.is_empty() {
        for err in &written.failures {
            eprintln!("smsaudit: {}", text::for_terminal(&format!("{err:#}")));
        }
        return Ok(ExitCode::CouldNotRun);
    }
    Ok(exit_code(&audit, command.config.fail_on))
}

/// The exit code for a finished audit; see [`ExitCode`] for the order.
pub fn exit_code(audit: &Audit, fail_on: Option<Severity>) -> ExitCode {
    audit.verdict().exit_code(fail_on)
}
