//! Every report smsaudit writes, listed once: its file name, its format,
//! when it is written, where it starts among the heaviest, and its writer.
//! The report set, the manifest, the sweep of leftovers, the `--format`
//! selection and the tests of the `--help` text all read [`REPORTS`].

use super::set::ReportOut;
use super::{csv, html, json, status, xlsx, CsvDialect, ReportFormat};
use crate::audit::Audit;
use crate::exit::ExitCode;
use anyhow::{Context, Result};

/// The names the console and other commands point people to.
pub(crate) const CAUSES_CSV: &str = "causes.csv";
pub(crate) const SYMPTOMS_CSV: &str = "symptoms.csv";
pub(crate) const DRIFT_CSV: &str = "drift.csv";
pub(crate) const REPORT_HTML: &str = "report.html";
pub(crate) const STATUS_JSON: &str = "status.json";

/// One report file.
pub(crate) struct Report {
    pub(crate) name: &'static str,
    pub(crate) format: ReportFormat,
    pub(crate) when: When,
    /// Its place among the reports that take longest, which start first so
    /// that none of them is left to run alone at the end (0 first); `None`:
    /// after them, in [`REPORTS`] order. The largest files come first: their
    /// fsync (tens of ms for 45 MB) then passes while the others are written.
    pub(crate) heaviest: Option<u8>,
    pub(crate) write: Writer,
}

/// Writes one report of an audit, in the CSV flavour asked for, into the
/// stream it is given.
pub(crate) type Writer = fn(&Audit, &Writing, &mut dyn ReportOut) -> Result<()>;

/// What a writer is told besides the audit: how the set is written and
/// how the run ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Writing<'a> {
    pub(crate) csv: CsvDialect,
    /// The code the process exits with when the set is put in place (and
    /// the history, if any, takes the run).
    pub(crate) exit: ExitCode,
    /// Where a writer that needs scratch files of its own puts them: the
    /// output folder, never `$TMPDIR`.
    pub(crate) staging: &'a std::path::Path,
}

/// When a report of a format that was asked for is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// In every report set, whatever `--format` asks for.
    EverySet,
    /// When its format is asked for.
    Always,
    /// With `--client-logs`.
    WithClientLogs,
    /// With `--upgrade` (the pre-upgrade check).
    WithUpgrade,
    /// With a baseline: `--baseline`, or a `--history` that holds a
    /// previous run.
    WithBaseline,
}

impl When {
    /// Whether `audit` has what the report shows.
    pub(crate) fn applies(self, audit: &Audit) -> bool {
        match self {
            When::EverySet | When::Always => true,
            When::WithClientLogs => audit.symptoms.is_some(),
            When::WithUpgrade => audit.upgrade.is_some(),
            When::WithBaseline => audit.drift.is_some(),
        }
    }
}

/// Every report, in the order they are put in place and listed in the
/// manifest. A file under one of these names that a run did not write is
/// an earlier run's, and is removed.
pub(crate) const REPORTS: [Report; 11] = [
    Report {
        name: "matrix.csv",
        format: ReportFormat::Csv,
        when: When::Always,
        heaviest: None,
        write: |audit, writing, out| csv::matrix_to(audit, writing.csv, out),
    },
    Report {
        name: "files.csv",
        format: ReportFormat::Csv,
        when: When::Always,
        heaviest: Some(1),
        write: |audit, writing, out| csv::files_to(audit, writing.csv, out),
    },
    Report {
        name: "findings.csv",
        format: ReportFormat::Csv,
        when: When::Always,
        heaviest: None,
        write: |audit, writing, out| Ok(out.write_all(&csv::findings(audit, writing.csv)?)?),
    },
    Report {
        name: CAUSES_CSV,
        format: ReportFormat::Csv,
        when: When::Always,
        heaviest: None,
        write: |audit, writing, out| Ok(out.write_all(&csv::causes(audit, writing.csv)?)?),
    },
    Report {
        name: SYMPTOMS_CSV,
        format: ReportFormat::Csv,
        when: When::WithClientLogs,
        heaviest: None,
        write: |audit, writing, out| {
            let symptoms = audit.symptoms.as_ref().context("no client logs were read")?;
            Ok(out.write_all(&csv::symptoms(symptoms, writing.csv)?)?)
        },
    },
    Report {
        name: "upgrade.csv",
        format: ReportFormat::Csv,
        when: When::WithUpgrade,
        heaviest: None,
        write: |audit, writing, out| {
            let plan = audit.upgrade.as_ref().context("no pre-upgrade check was asked for")?;
            Ok(out.write_all(&csv::upgrade(plan, writing.csv)?)?)
        },
    },
    Report {
        name: DRIFT_CSV,
        format: ReportFormat::Csv,
        when: When::WithBaseline,
        heaviest: None,
        write: |audit, writing, out| {
            let drift = audit.drift.as_ref().context("there is no baseline")?;
            Ok(out.write_all(&csv::drift(drift, writing.csv)?)?)
        },
    },
    Report {
        name: "audit.json",
        format: ReportFormat::Json,
        when: When::Always,
        heaviest: Some(0),
        write: |audit, _, out| json::write(audit, out),
    },
    Report {
        name: "audit.xlsx",
        format: ReportFormat::Xlsx,
        when: When::Always,
        heaviest: Some(2),
        write: |audit, writing, out| xlsx::write(audit, Some(writing.staging), out),
    },
    Report {
        name: REPORT_HTML,
        format: ReportFormat::Html,
        when: When::Always,
        heaviest: Some(3),
        write: |audit, _, out| Ok(html::write(audit, out)?),
    },
    Report {
        name: STATUS_JSON,
        format: ReportFormat::Json,
        when: When::EverySet,
        heaviest: None,
        write: |audit, writing, out| Ok(out.write_all(&status::status(audit, writing.exit)?)?),
    },
];

/// The names of [`REPORTS`], in their order.
pub(crate) const REPORT_NAMES: [&str; REPORTS.len()] = {
    let mut names = [""; REPORTS.len()];
    let mut i = 0;
    while i < REPORTS.len() {
        names[i] = REPORTS[i].name;
        i += 1;
    }
    names
};

/// Where a report starts: the heaviest first, in their rank, then the
/// others (and any name that is not a report's).
pub(crate) fn start_rank(name: &str) -> usize {
    REPORTS
        .iter()
        .find(|report| report.name == name)
        .and_then(|report| report.heaviest)
        .map_or(usize::MAX, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_has_its_own_name_and_the_heaviest_their_own_rank() {
        let mut names = REPORT_NAMES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REPORTS.len());
        let mut ranks: Vec<u8> = REPORTS.iter().filter_map(|r| r.heaviest).collect();
        ranks.sort();
        assert_eq!(ranks, (0..ranks.len() as u8).collect::<Vec<_>>());
        for format in ReportFormat::ALL {
            assert!(REPORTS.iter().any(|r| r.format == format), "{format:?}");
        }
    }

    /// The workbook, audit.json, files.csv and the page take longest.
    #[test]
    fn the_heaviest_reports_start_first() {
        let mut names = REPORT_NAMES;
        names.sort_by_key(|name| start_rank(name));
        assert_eq!(&names[..4], ["audit.json", "files.csv", "audit.xlsx", "report.html"]);
        assert_eq!(start_rank("notes.txt"), usize::MAX);
    }

    /// `audit --help` names every report, its about line every report
    /// written by default, and the help of `--format` each format's
    /// reports: clap's derive takes its text as written, this test keeps it
    /// equal to the registry.
    #[test]
    fn the_help_text_names_every_report() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let audit = cli.find_subcommand_mut("audit").expect("an audit subcommand");
        let about = audit.get_about().map(|a| a.to_string()).unwrap_or_default();
        let format = audit
            .get_arguments()
            .find(|a| a.get_long() == Some("format"))
            .and_then(|a| a.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        let help = audit.render_long_help().to_string();
        for report in &REPORTS {
            if report.when == When::EverySet {
                assert!(
                    help.contains(&format!("{} in every set", report.name)),
                    "audit --help does not say {} is in every set",
                    report.name
                );
                continue;
            }
            if report.when == When::Always {
                assert!(
                    about.contains(report.name),
                    "audit's about omits {}: {about}",
                    report.name
                );
            }
            assert!(help.contains(report.name), "audit --help omits {}", report.name);
            let in_format = format
                .split(')')
                .find(|part| part.contains(report.name))
                .unwrap_or_else(|| panic!("--format's help omits {}: {format}", report.name));
            let format_name = format!("{:?}", report.format).to_lowercase();
            assert!(
                in_format.contains(&format!("{format_name} (")),
                "--format's help lists {} outside {format_name}: {format}",
                report.name
            );
        }
    }
}
