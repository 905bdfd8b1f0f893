//! The audit document: everything one run found, assembled once from the
//! stages' results, sorted, with its summary. Reports read it; nothing
//! changes it afterwards.

use crate::config::Config;
use crate::drift::Change;
use crate::estate::Estate;
use crate::matrix::Matrix;
use crate::model::{FileKind, FileRecord, Finding, Location, Severity, Stamp, Status};
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
}

/// Everything an audit found, ready to be written in any format.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub tool: String,
    pub version: String,
    pub roots: Vec<String>,
    pub summary: Summary,
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
    pub upgrade: Option<UpgradePlan>,
    pub drift: Option<Vec<Change>>,
}

impl Audit {
    /// Sorts everything and computes the summary.
    pub(crate) fn assemble(config: &Config, results: Results) -> Audit {
        let Results {
            estate,
            matrix,
            mut findings,
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
        findings.sort_by(|a, b| {
            (
                std::cmp::Reverse(a.severity),
                a.code,
                &a.site,
                &a.location,
                &a.path,
                &a.observed,
            )
                .cmp(&(
                    std::cmp::Reverse(b.severity),
                    b.code,
                    &b.site,
                    &b.location,
                    &b.path,
                    &b.observed,
                ))
        });
        findings.dedup();
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
        };
        Audit {
            tool: "smsaudit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            roots: config.roots.iter().map(|r| crate::names::display_path(r)).collect(),
            summary,
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
