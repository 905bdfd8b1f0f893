//! What each subcommand does, from a validated command to an exit code.

use crate::catalog::{self, CHECKS};
use crate::cli::AuditCommand;
use crate::crawl::Progress;
use crate::drift::{self, Snapshot};
use crate::exit::ExitCode;
use crate::model::{Audit, Status};
use crate::report;
use anyhow::{bail, Context, Result};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Runs an audit and writes its reports. Everything that can make the run
/// fail (output folder, baseline) is checked before the crawl starts.
pub fn audit(command: &AuditCommand) -> Result<ExitCode> {
    let mut audited = command.config.roots.clone();
    if let Some(inventory) = &command.config.inventory {
        audited.extend(inventory.shares().into_iter().map(|s| s.path));
    }
    if !command.formats.is_empty() {
        report::check_outside_roots(&command.out, &audited)?;
        report::prepare_output(&command.out)?;
    }
    if let Some(log) = &command.log {
        report::check_outside_roots(log, &audited)?;
    }
    let baseline = command.baseline.as_deref().map(Snapshot::load).transpose()?;
    let started = Instant::now();
    let progress = Arc::new(Progress::default());
    let bar = (!command.quiet && std::io::stderr().is_terminal()).then(|| progress_bar(progress.clone()));
    let mut audit = crate::run_audit_with_progress(&command.config, progress);
    if let Some((bar, done, thread)) = bar {
        done.store(true, Ordering::Relaxed);
        let _ = thread.join();
        bar.finish_and_clear();
    }
    if let (Some(baseline), Some(path)) = (&baseline, &command.baseline) {
        audit.drift = Some(drift::compare(baseline, &Snapshot::of(&audit)));
        audit.baseline = Some(path.display().to_string());
    }
    let written = report::write_selected(&audit, &command.out, command.csv, &command.formats)?;
    if command.matrix_stdout {
        let bytes = report::csv::matrix(&audit, report::CsvFlavor::Machine)?;
        print_stdout(&bytes)?;
    }
    if command.verbose || command.log.is_some() {
        let log = log_lines(&audit).join("\n") + "\n";
        if let Some(path) = &command.log {
            std::fs::write(path, &log).with_context(|| format!("cannot write log {}", path.display()))?;
        }
        if command.verbose {
            eprint!("{log}");
        }
    }
    if !command.quiet {
        eprint!("{}", summary(&audit, started.elapsed().as_secs_f64()));
        if let Some(plan) = &audit.upgrade {
            eprint!("{}", crate::upgrade::summary(plan));
        }
        for path in written {
            eprintln!("  wrote {}", path.display());
        }
    }
    Ok(exit_code(&audit, command.config.fail_on))
}

type Bar = (indicatif::ProgressBar, Arc<AtomicBool>, std::thread::JoinHandle<()>);

/// A spinner on stderr fed from the crawl's counters.
fn progress_bar(progress: Arc<Progress>) -> Bar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let done = Arc::new(AtomicBool::new(false));
    let (bar_in_thread, done_in_thread) = (bar.clone(), done.clone());
    let thread = std::thread::spawn(move || {
        while !done_in_thread.load(Ordering::Relaxed) {
            bar_in_thread.set_message(format!(
                "{}/{} locations, {} files, {}",
                progress.locations_done.load(Ordering::Relaxed),
                progress.locations_total.load(Ordering::Relaxed),
                progress.files.load(Ordering::Relaxed),
                indicatif::HumanBytes(progress.bytes.load(Ordering::Relaxed)),
            ));
            bar_in_thread.tick();
            std::thread::sleep(std::time::Duration::from_millis(120));
        }
    });
    (bar, done, thread)
}

/// The exit code for a finished audit; see [`ExitCode`] for the order.
pub fn exit_code(audit: &Audit, fail_on: Option<catalog::Severity>) -> ExitCode {
    // Unreadable locations have their own exit code, so A01 does not count here.
    let worst = audit
        .findings
        .iter()
        .filter(|f| f.code != "A01")
        .map(|f| f.severity)
        .max();
    match (fail_on, worst) {
        (Some(threshold), Some(worst)) if worst >= threshold => return ExitCode::Findings,
        _ => {}
    }
    if audit.summary.unreadable_locations > 0 {
        return ExitCode::Unreadable;
    }
    if audit.drift.as_ref().is_some_and(|d| !d.is_empty()) {
        return ExitCode::Drift;
    }
    ExitCode::Clean
}

/// What was read, skipped and why, one line each, for `--log` and `-v`.
pub fn log_lines(audit: &Audit) -> Vec<String> {
    let mut lines = Vec::new();
    for l in &audit.locations {
        lines.push(match l.status {
            Status::Ok => format!(
                "location {} ({} {}) from {}: {} files, {} bytes",
                l.name,
                l.kind.as_str(),
                l.sites.join(" "),
                l.root,
                l.files,
                l.bytes
            ),
            _ => format!(
                "location {} ({}) from {}: {}: {}",
                l.name,
                l.kind.as_str(),
                l.root,
                l.status.as_str(),
                l.reason
            ),
        });
    }
    for f in &audit.files {
        if f.status != Status::Ok {
            lines.push(format!(
                "{} {}\\{}: {}",
                f.status.as_str(),
                f.location,
                f.path,
                f.reason
            ));
        } else if let Some(version) = &f.version {
            let source = f.version_source.as_deref().unwrap_or("");
            let shown = if version.is_empty() { "(empty)" } else { version };
            lines.push(format!("version {shown} from {}\\{} ({source})", f.location, f.path));
        } else if !f.reason.is_empty() {
            lines.push(format!("note {}\\{}: {}", f.location, f.path, f.reason));
        }
    }
    for f in &audit.findings {
        lines.push(format!(
            "finding {} {} {} site {} at {} {}: observed {}, expected {}",
            f.severity.as_str(),
            f.code,
            f.kb,
            f.site,
            f.location,
            f.path,
            f.observed,
            f.expected
        ));
    }
    lines
}

/// Compares two saved audits and writes drift.csv; exit 4 when they differ.
pub fn diff(old: &Path, new: &Path, out: Option<&Path>, flavor: report::CsvFlavor) -> Result<ExitCode> {
    let changes = drift::compare(&Snapshot::load(old)?, &Snapshot::load(new)?);
    let csv = report::csv::drift(&changes, flavor)?;
    match out {
        Some(dir) => {
            report::prepare_output(dir)?;
            let path = report::write_atomically(dir, "drift.csv", &csv)?;
            eprintln!("smsaudit: {} changes; wrote {}", changes.len(), path.display());
        }
        None => print_stdout(&csv)?,
    }
    Ok(if changes.is_empty() {
        ExitCode::Clean
    } else {
        ExitCode::Drift
    })
}

/// The one-screen summary printed at the end of an audit.
pub fn summary(audit: &Audit, seconds: f64) -> String {
    let s = &audit.summary;
    let mut out = format!(
        "smsaudit: {} locations ({} unreadable), {} files, {} bytes, {} mismatched items; findings: {} error, {} warning, {} info ({:.1}s)\n",
        s.locations, s.unreadable_locations, s.files, s.bytes, s.mismatched_items, s.errors, s.warnings, s.infos, seconds
    );
    if let Some(drift) = &audit.drift {
        out.push_str(&format!(
            "  drift since the baseline: {} changes (see drift.csv)\n",
            drift.len()
        ));
    }
    for location in audit.locations.iter().filter(|l| l.status != Status::Ok) {
        out.push_str(&format!(
            "  unreadable: {} ({}): {}\n",
            location.name, location.root, location.reason
        ));
    }
    for finding in &audit.findings {
        out.push_str(&format!(
            "  {} {} {} site {} at {}: {}\n",
            finding.severity.as_str(),
            finding.code,
            finding.kb,
            finding.site,
            finding.location,
            finding.path
        ));
    }
    out
}

/// Prints the catalogue, one check a line.
pub fn rules() -> Result<ExitCode> {
    let mut out = format!(
        "{:<5} {:<8} {:<9} {:<4} {:<11} TITLE\n",
        "CODE", "SEVERITY", "KB", "[I]", "IMPLEMENTED"
    );
    for check in CHECKS {
        let kb = check.kb.split(',').next().unwrap_or(check.kb);
        let implemented = if check.implemented() { "yes" } else { "no" };
        let not_checked = if check.implemented() {
            String::new()
        } else {
            format!(" (not checked: {})", check.needs)
        };
        out.push_str(&format!(
            "{:<5} {:<8} {:<9} {:<4} {:<11} {}{}\n",
            check.code,
            check.severity.as_str(),
            kb,
            if check.inferred { "yes" } else { "" },
            implemented,
            check.title,
            not_checked
        ));
    }
    print_stdout(out.as_bytes())?;
    Ok(ExitCode::Clean)
}

/// Prints every check matching a code or KB article, with its fix.
pub fn explain(key: &str) -> Result<ExitCode> {
    let checks = catalog::find_checks(key);
    if checks.is_empty() {
        bail!("no check has code or KB article {key:?}; `smsaudit rules` lists them");
    }
    let mut out = String::new();
    for check in checks {
        out.push_str(&format!(
            "{} ({}, {}): {}\n",
            check.code,
            check.kb,
            check.severity.as_str(),
            check.title
        ));
        out.push_str(&format!("  KB: {}\n  Condition: {}\n", check.kb, check.condition));
        if !check.implemented() {
            out.push_str(&format!("  Not checked: {}\n", check.needs));
        }
        if check.inferred {
            out.push_str("  Note: this check rests on an inference from the KB, not on a stated fact.\n");
        }
        out.push_str(&format!("  Fix: {}\n", check.fix));
    }
    print_stdout(out.as_bytes())?;
    Ok(ExitCode::Clean)
}

/// Writes to stdout; a reader that went away (`smsaudit rules | head`) is
/// not an error.
fn print_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
