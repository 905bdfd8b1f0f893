//! `smsaudit diff`: drift between two saved audits, without rescanning.

use super::console::print_stdout;
use crate::drift::{self, Snapshot};
use crate::exit::ExitCode;
use crate::output;
use crate::report::{self, registry::DRIFT_CSV};
use anyhow::Result;
use std::path::Path;

/// Compares two saved audits and writes drift.csv; exit 4 when they differ.
pub fn diff(old: &Path, new: &Path, out: Option<&Path>, csv: report::CsvDialect) -> Result<ExitCode> {
    let changes = drift::compare(&Snapshot::load(old)?, &Snapshot::load(new)?)?;
    let csv = report::csv::drift(&changes, csv)?;
    match out {
        Some(dir) => {
            output::prepare_output(dir)?;
            let path = output::write_atomically(dir, DRIFT_CSV, &csv)?;
            crate::text::println_stderr(&format!(
                "smsaudit: {} changes; wrote {}",
                changes.len(),
                path.display()
            ));
        }
        None => print_stdout(&csv)?,
    }
    Ok(if changes.is_empty() {
        ExitCode::Clean
    } else {
        ExitCode::Drift
    })
}
