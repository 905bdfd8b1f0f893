//! Report writers, one module per format, listed once in [`registry`],
//! and the machinery that puts them in place: a run's reports are written
//! as one set, all or nothing ([`set`]), in an output folder locked for the
//! run ([`lock_output`]). The folder itself (its checks, lock and atomic
//! writes) is [`crate::output`]'s.

pub mod csv;
pub mod html;
pub(crate) mod json;
pub(crate) mod palette;
pub(crate) mod registry;
mod set;
pub(crate) mod status;
pub(crate) mod table;
pub mod xlsx;

use registry::{Writing, REPORT_NAMES};
use set::Job;

use crate::audit::Audit;
use crate::output::{self, OutputLock};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// The CSV dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvFlavor {
    /// UTF-8 BOM, CRLF, cells (and parts of cells after a `,`, `;`, tab or
    /// line break) that could start a formula prefixed with `'`, bidi and
    /// invisible characters named (`<U+202E>`): safe to double-click open
    /// in Excel or LibreOffice, whatever separator they split it at.
    #[default]
    Spreadsheet,
    /// Plain RFC 4180: no BOM, CRLF, every value exactly as found.
    Machine,
}

/// What separates the cells of a CSV file: a spreadsheet opened with a
/// double click splits at its locale's list separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvSeparator {
    /// `,`: RFC 4180, and Excel in English-speaking locales.
    #[default]
    Comma,
    /// `;`: Excel in locales whose decimal separator is a comma (German,
    /// French, Dutch, Spanish, Italian...).
    Semicolon,
    /// Tab.
    Tab,
}

impl CsvSeparator {
    pub(crate) fn byte(self) -> u8 {
        match self {
            CsvSeparator::Comma => b',',
            CsvSeparator::Semicolon => b';',
            CsvSeparator::Tab => b'\t',
        }
    }
}

/// A CSV flavour with its separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvDialect {
    pub flavor: CsvFlavor,
    pub separator: CsvSeparator,
}

impl From<CsvFlavor> for CsvDialect {
    fn from(flavor: CsvFlavor) -> CsvDialect {
        CsvDialect {
            flavor,
            separator: CsvSeparator::default(),
        }
    }
}

/// One kind of report file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportFormat {
    /// matrix.csv, files.csv, findings.csv, causes.csv, and when there is
    /// what they show, symptoms.csv, upgrade.csv and drift.csv.
    Csv,
    /// audit.json.
    Json,
    /// audit.xlsx.
    Xlsx,
    /// report.html.
    Html,
}

impl ReportFormat {
    pub(crate) const ALL: [ReportFormat; 4] = [
        ReportFormat::Csv,
        ReportFormat::Json,
        ReportFormat::Xlsx,
        ReportFormat::Html,
    ];
}

/// Writes the reports of the given formats, and status.json with `exit`
/// (the code the run ends with when the set is in place), into `dir` as
/// one set, all or nothing ([`set`]): returns the files put in place, the
/// manifest last. On error the previous reports in `dir` are as they were.
pub(crate) fn write_selected(
    audit: &Audit,
    dir: &Path,
    csv: CsvDialect,
    exit: crate::exit::ExitCode,
    formats: &[ReportFormat],
    pause: Option<&crate::config::Pause>,
) -> Result<Vec<PathBuf>> {
    let jobs = report_jobs(
        audit,
        Writing {
            csv,
            exit,
            staging: dir,
        },
        formats,
    );
    set::write_set(audit, dir, jobs, pause)
}

/// What writes each report of the given formats that the audit has
/// something for, in [`REPORTS`](registry::REPORTS) order.
fn report_jobs<'a>(audit: &'a Audit, writing: Writing<'a>, formats: &[ReportFormat]) -> Vec<Job<'a>> {
    registry::REPORTS
        .iter()
        .filter(|report| {
            (report.when == registry::When::EverySet || formats.contains(&report.format)) && report.when.applies(audit)
        })
        .map(|report| {
            let write = report.write;
            Job {
                name: report.name,
                write: Box::new(move |out| write(audit, &writing, out)),
            }
        })
        .collect()
}

/// Takes the output folder for a run that writes reports
/// ([`output::lock_output`]), and removes what a set cut by a crash left
/// there: the temporary files and kept copies of every report and of the
/// manifest, and spilled file records.
pub(crate) fn lock_output(dir: &Path) -> Result<OutputLock> {
    output::lock_output(dir, &own_names())
}

/// The names a run owns in its output folder: every report, the manifest
/// and the spilled file records.
pub(crate) fn own_names() -> Vec<&'static str> {
    REPORT_NAMES
        .iter()
        .copied()
        .chain([set::MANIFEST, crate::records::SPILL_NAME])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Written at once or one after the other, the set is the same, byte
    /// for byte, manifest included.
    #[test]
    fn a_set_written_on_many_threads_is_the_set_written_on_one() {
        let shares = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-shares");
        let audit = crate::run_audit(&crate::Config::new(vec![shares]));
        assert!(audit.files.len() > 10, "the sample estate has files");
        let write = |threads: usize| {
            let dir = tempfile::tempdir().unwrap();
            let writing = Writing {
                csv: CsvFlavor::Spreadsheet.into(),
                exit: crate::exit::ExitCode::Findings,
                staging: dir.path(),
            };
            let jobs = report_jobs(&audit, writing, &ReportFormat::ALL);
            set::write_set_on(&audit, dir.path(), jobs, None, threads).unwrap();
            let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap())
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        fs::read(e.path()).unwrap(),
                    )
                })
                .collect();
            files.sort();
            files
        };
        let one = write(1);
        let names: Vec<&str> = one.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "audit.json",
                "audit.xlsx",
                "causes.csv",
                "files.csv",
                "findings.csv",
                "manifest.json",
                "matrix.csv",
                "report.html",
                "status.json"
            ]
        );
        assert_eq!(write(4), one);
    }
}
