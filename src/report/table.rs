//! The table sections of the reports (causes, sites, findings, drift,
//! upgrade, symptoms, history), each built once from the audit as a header
//! and rows of text; CSV writes a table whole, the workbook and the page
//! show it with their own labels or a choice of its columns and rows.
//!
//! Where the formats differ on purpose, the difference is the renderer's,
//! not a second copy of the rows: the page heads its columns in words
//! ("Was" for `observed`), shows fewer of them, and lists only the first
//! symptom lines; the workbook and the page show the symptom lines, not the
//! rows of logs that could not be read wholly that symptoms.csv ends with.

use crate::audit::Audit;
use crate::causes::Cause;
use crate::clientlogs::{SymptomLine, Symptoms};
use crate::drift::Change;
use crate::history::HistorySummary;
use crate::model::{Judged, Status};
use crate::sites::SiteShare;
use crate::upgrade::UpgradePlan;
use std::borrow::Cow;
use std::collections::BTreeSet;

/// One row of a table, a cell per column.
pub(crate) type Cells<'a> = Vec<Cow<'a, str>>;

/// A table section: the names of its columns and its rows.
pub(crate) struct Table<'a> {
    pub(crate) header: &'a [&'a str],
    pub(crate) rows: Vec<Cells<'a>>,
}

impl<'a> Table<'a> {
    /// The position of the column named `name`; every caller names a
    /// column of its own table.
    pub(crate) fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// The positions of the columns named `names`.
    pub(crate) fn columns(&self, names: &[&str]) -> Vec<usize> {
        names.iter().map(|name| self.column(name)).collect()
    }
}

fn borrowed<'a>(cells: impl IntoIterator<Item = &'a str>) -> Cells<'a> {
    cells.into_iter().map(Cow::Borrowed).collect()
}

fn owned<'a>(cells: impl IntoIterator<Item = String>) -> Cells<'a> {
    cells.into_iter().map(Cow::Owned).collect()
}

/// causes.csv and the Causes sheet: one row per cause, worst first; the fix
/// steps numbered in one cell.
pub(crate) fn causes(audit: &Audit) -> Table<'_> {
    Table {
        header: &Cause::COLUMNS,
        rows: audit
            .causes
            .iter()
            .map(|cause| owned(cause.cells(audit.clients_of(&cause.id))))
            .collect(),
    }
}

/// The columns of the Sites sheet.
const SITE_COLUMNS: [&str; 8] = [
    "site",
    "release",
    "site server",
    "CAPs",
    "logon points (base they give clients)",
    "upgrade group",
    "causes",
    "configuration (site control file)",
];

/// The Sites sheet: each site, its shares one per line.
pub(crate) fn sites(audit: &Audit) -> Table<'_> {
    Table {
        header: &SITE_COLUMNS,
        rows: audit
            .sites
            .iter()
            .map(|site| {
                owned([
                    site.site.clone(),
                    site.release.clone(),
                    share_lines(&site.site_servers),
                    share_lines(&site.caps),
                    share_lines(&site.logon_points),
                    site.upgrade_group.join(" "),
                    site.causes.join(" "),
                    site.configuration.as_ref().map(|c| c.lines()).unwrap_or_default(),
                ])
            })
            .collect(),
    }
}

/// A site's shares, one per line: `\\SERVER1\CAP_MS1: RTM (2.00.1239.0000)`,
/// then what was read over SMB: its comment (`; comment "..."`), a CAP's
/// folder permissions (`; folder ACLs read (11 folders)`).
fn share_lines(shares: &[SiteShare]) -> String {
    shares
        .iter()
        .map(|share| {
            let mut line = match share.version.is_empty() {
                true => format!("{}: {}", share.name, share.release),
                false => format!("{}: {} ({})", share.name, share.release, share.version),
            };
            for read in [share.share_comment.shown(), share.folder_acls.clone()] {
                if !read.is_empty() {
                    line = format!("{line}; {read}");
                }
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// findings.csv, the Findings sheet and the page's findings.
pub(crate) fn findings(audit: &Audit) -> Table<'_> {
    Table {
        header: &Judged::COLUMNS,
        rows: audit.findings.iter().map(|f| borrowed(f.cells())).collect(),
    }
}

/// drift.csv, the Drift sheet and the page's changes: one row per change
/// since the baseline.
pub(crate) fn drift(changes: &[Change]) -> Table<'_> {
    Table {
        header: &Change::COLUMNS,
        rows: changes.iter().map(|c| borrowed(c.cells())).collect(),
    }
}

/// upgrade.csv and the Upgrade sheet: one row per site of every group the
/// pre-upgrade check names.
pub(crate) fn upgrade(plan: &UpgradePlan) -> Table<'_> {
    Table {
        header: &UpgradePlan::COLUMNS,
        rows: plan.rows().into_iter().map(owned).collect(),
    }
}

/// symptoms.csv: one row per kind of symptom (client, log, signature and
/// target, with its count), by client, log and first line (the first
/// `symptoms.lines.len()` rows, all the workbook and the page show), then
/// one per log that could not be read wholly, then one per log whose
/// symptom lines were not all kept in a row.
pub(crate) fn symptoms(symptoms: &Symptoms) -> Table<'_> {
    let lines = symptoms.lines.iter().map(|line| owned(line.cells()));
    let logs = symptoms
        .logs
        .iter()
        .filter(|l| l.status != Status::Ok)
        .map(|log| owned(log.cells()));
    let not_kept = symptoms
        .logs
        .iter()
        .filter(|l| l.not_kept > 0)
        .map(|log| owned(log.not_kept_cells()));
    let unrecognised = symptoms.unrecognised.iter().map(|line| owned(line.cells()));
    Table {
        header: &SymptomLine::COLUMNS,
        rows: lines.chain(logs).chain(not_kept).chain(unrecognised).collect(),
    }
}

/// The columns of the History sheet.
pub(crate) const HISTORY_COLUMNS: [&str; 9] = [
    "since",
    "severity",
    "code",
    "site",
    "location",
    "path",
    "observed",
    "first seen",
    "last seen",
];

/// What is new since the previous run of the history (`since` is `new`),
/// then what was resolved (`resolved`).
pub(crate) fn history<'a>(audit: &'a Audit, since: &'a HistorySummary) -> Table<'a> {
    let new: BTreeSet<&str> = since.new.iter().map(String::as_str).collect();
    let new_rows = audit
        .findings
        .iter()
        .filter(|f| new.contains(f.fingerprint.as_str()))
        .map(|f| {
            borrowed([
                "new",
                f.severity.as_str(),
                f.code.as_str(),
                &f.site,
                &f.location,
                &f.path,
                &f.observed,
                &f.first_seen,
                "",
            ])
        });
    let resolved_rows = since.resolved.iter().map(|f| {
        borrowed([
            "resolved",
            f.severity.as_str(),
            f.code.as_str(),
            &f.site,
            &f.location,
            &f.path,
            &f.observed,
            &f.first_seen,
            &f.last_seen,
        ])
    });
    Table {
        header: &HISTORY_COLUMNS,
        rows: new_rows.chain(resolved_rows).collect(),
    }
}
