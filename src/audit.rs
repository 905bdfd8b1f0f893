//! The audit document: everything one run found, assembled once from the
//! stages' results, sorted, with its summary. Reports read it; nothing
//! changes it afterwards.

use crate::causes::Cause;
use crate::clientlogs::Symptoms;
use crate::config::Config;
use crate::drift::Change;
use crate::estate::Estate;
use crate::matrix::Matrix;
use crate::model::{FileKind, FileRecord, Finding, Location, Severity, Stamp, Status};
use crate::sites::SiteSummary;
use crate::upgrade::UpgradePlan;
use serde::Serialize;

/// Counts for the end-of-run summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub locations: usize,
    pub unreadable_locations: usize,
    pub files: u64,
    pub bytes: u64,
    /// Files, and folders, that exist but could not be read.
    pub unreadable_files: u64,
    pub unreadable_folders: u64,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub mismatched_items: usize,
    /// Things to fix: the findings grouped ([`crate::causes`]).
    pub causes: usize,
}

/// When the run started and how long it took until assembly.
pub(crate) struct Timing {
    pub started: std::time::SystemTime,
    pub elapsed: std::time::Duration,
}

/// Everything an audit found, ready to be written in any format.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub tool: String,
    pub version: String,
    pub roots: Vec<String>,
    /// When the audit started, UTC (`2026-11-24T16:26:00Z`).
    pub started: String,
    /// How long discovery, crawl and checks took, in seconds (reports not
    /// included: they are written from this document).
    pub duration_seconds: f64,
    pub summary: Summary,
    /// The findings grouped by the one thing to fix, worst first.
    pub causes: Vec<Cause>,
    /// Every site with its release, shares and upgrade group.
    pub sites: Vec<SiteSummary>,
    /// What the client logs of `--client-logs` show, tied to the causes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symptoms: Option<Symptoms>,
    pub locations: Vec<Location>,
    pub matrix: Matrix,
    pub findings: Vec<Finding>,
    pub stamps: Vec<Stamp>,
    pub files: Vec<FileRecord>,
    /// The pre-upgrade prediction, when `--upgrade` was given.
    pub upgrade: Option<UpgradePlan>,
    /// The baseline this audit was compared with, if any.
    pub baseline: Option<String>,
    /// Changes since the baseline; `None` without one.
    pub drift: Option<Vec<Change>>,
}

/// What the stages produced, handed over to [`Audit::assemble`].
pub(crate) struct Results {
    pub estate: Estate,
    pub matrix: Matrix,
    pub findings: Vec<Finding>,
    pub causes: Vec<Cause>,
    pub sites: Vec<SiteSummary>,
    pub symptoms: Option<Symptoms>,
    pub timing: Timing,
    pub upgrade: Option<UpgradePlan>,
    pub drift: Option<Vec<Change>>,
}

impl Audit {
    /// Sorts everything and computes the summary.
    pub(crate) fn assemble(config: &Config, results: Results) -> Audit {
        let Results {
            estate,
            matrix,
            findings,
            causes,
            sites,
            symptoms,
            timing,
            upgrade,
            drift,
        } = results;
        let Estate {
            mut locations,
            mut files,
            mut stamps,
            ..
        } = estate;
        locations.sort_by(|a, b| a.name.cmp(&b.name));
        files.sort_by(|a, b| (&a.location, &a.path).cmp(&(&b.location, &b.path)));
        stamps.sort_by(|a, b| {
            (&a.location, &a.component, a.artifact, &a.detail, &a.path).cmp(&(
                &b.location,
                &b.component,
                b.artifact,
                &b.detail,
                &b.path,
            ))
        });
        let summary = Summary {
            locations: locations.len(),
            unreadable_locations: locations.iter().filter(|l| l.status != Status::Ok).count(),
            files: locations.iter().map(|l| l.files).sum(),
            bytes: locations.iter().map(|l| l.bytes).sum(),
            unreadable_files: files
                .iter()
                .filter(|f| f.status == Status::Unreadable && f.kind != FileKind::Directory)
                .count() as u64,
            unreadable_folders: files
                .iter()
                .filter(|f| f.status == Status::Unreadable && f.kind == FileKind::Directory)
                .count() as u64,
            errors: findings.iter().filter(|f| f.severity == Severity::Error).count(),
            warnings: findings.iter().filter(|f| f.severity == Severity::Warning).count(),
            infos: findings.iter().filter(|f| f.severity == Severity::Info).count(),
            mismatched_items: matrix.rows.iter().filter(|r| r.mismatch).count(),
            causes: causes.len(),
        };
        Audit {
            tool: "smsaudit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            roots: config.roots.iter().map(|r| crate::names::display_path(r)).collect(),
            started: humantime::format_rfc3339_seconds(timing.started).to_string(),
            // Milliseconds are enough, and keep the JSON short.
            duration_seconds: (timing.elapsed.as_millis() as f64) / 1000.0,
            summary,
            causes,
            sites,
            symptoms,
            locations,
            matrix,
            findings,
            stamps,
            files,
            upgrade,
            baseline: config.baseline.as_ref().map(|b| b.path.clone()),
            drift,
        }
    }
}
