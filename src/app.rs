//! What each subcommand does, from a validated command to an exit code.

use crate::catalog::{self, CHECKS};
use crate::cli::AuditCommand;
use crate::exit::ExitCode;
use crate::model::{Audit, Status};
use crate::report;
use anyhow::{bail, Result};
use std::time::Instant;

/// Runs an audit and writes its reports.
pub fn audit(command: &AuditCommand) -> Result<ExitCode> {
    if !command.formats.is_empty() {
        report::prepare_output(&command.out)?;
    }
    let started = Instant::now();
    let audit = crate::run_audit(&command.config);
    let written = report::write_selected(&audit, &command.out, command.csv, &command.formats)?;
    if command.matrix_stdout {
        use std::io::Write;
        let bytes = report::csv::matrix(&audit, report::CsvFlavor::Machine)?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&bytes)?;
        stdout.flush()?;
    }
    if !command.quiet {
        eprint!("{}", summary(&audit, started.elapsed().as_secs_f64()));
        for path in written {
            eprintln!("  wrote {}", path.display());
        }
    }
    Ok(exit_code(&audit, command.config.fail_on))
}

/// 1 when any finding is at or above the threshold, else 0.
pub fn exit_code(audit: &Audit, fail_on: Option<catalog::Severity>) -> ExitCode {
    match (fail_on, audit.worst_severity()) {
        (Some(threshold), Some(worst)) if worst >= threshold => ExitCode::Findings,
        _ => ExitCode::Clean,
    }
}

/// The one-screen summary printed at the end of an audit.
pub fn summary(audit: &Audit, seconds: f64) -> String {
    let s = &audit.summary;
    let mut out = format!(
        "smsaudit: {} locations ({} unreadable), {} files, {} bytes, {} mismatched items; findings: {} error, {} warning, {} info ({:.1}s)\n",
        s.locations, s.unreadable_locations, s.files, s.bytes, s.mismatched_items, s.errors, s.warnings, s.infos, seconds
    );
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
    println!("{:<5} {:<8} {:<9} {:<4} TITLE", "CODE", "SEVERITY", "KB", "[I]");
    for check in CHECKS {
        println!(
            "{:<5} {:<8} {:<9} {:<4} {}",
            check.code,
            check.severity.as_str(),
            check.kb,
            if check.inferred { "yes" } else { "" },
            check.title
        );
    }
    Ok(ExitCode::Clean)
}

/// Prints every check matching a code or KB article, with its fix.
pub fn explain(key: &str) -> Result<ExitCode> {
    let checks = catalog::find_checks(key);
    if checks.is_empty() {
        bail!("no check has code or KB article {key:?}; `smsaudit rules` lists them");
    }
    for check in checks {
        println!(
            "{} ({}, {}): {}",
            check.code,
            check.kb,
            check.severity.as_str(),
            check.title
        );
        println!("  Condition: {}", check.condition);
        if check.inferred {
            println!("  Note: this check rests on an inference from the KB, not on a stated fact.");
        }
        println!("  Fix: {}", check.fix);
    }
    Ok(ExitCode::Clean)
}
