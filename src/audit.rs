//! The audit document: everything one run found, assembled once from the
//! stages' results, sorted, with its summary. Reports read it; nothing
//! changes it afterwards.

use crate::clientlogs::Symptoms;
use crate::config::{Config, Stale, StaleAcceptance};
use crate::estate::Estate;
use crate::exit::ExitCode;
use crate::history::HistorySummary;
use crate::model::{FileKind, FileRecord, Finding, Judged, Location, Severity, Stamp, Status};
use crate::names;
use crate::sites::SiteSummary;
use crate::upgrade::UpgradePlan;
use serde::Serialize;

// What an audit holds, and the stages' own entry points that tests reach
// without a whole run: public here, while their home modules are the crate's.
pub use crate::causes::Cause;
pub use crate::drift::{compare, Change, ChangeKind, Snapshot};
pub use crate::estate::MAX_ITEMS_PER_LOCATION;
pub use crate::history::HistoryFile;
pub use crate::matrix::{Cell, CellState, Column, Found, Matrix, Row};
pub use crate::records::FileRecords;

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
    /// The `--inventory` file whose shares were audited (beside the roots,
    /// or alone); `None` without one.
    pub inventory: Option<String>,
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
    #[serde(serialize_with = "reported_locations")]
    pub locations: Vec<Location>,
    pub matrix: Matrix,
    pub findings: Vec<Judged>,
    pub stamps: Vec<Stamp>,
    /// Every entry of every share, by location and path.
    pub files: FileRecords,
    /// The pre-upgrade prediction, when `--upgrade` was given.
    pub upgrade: Option<UpgradePlan>,
    /// The baseline this audit was compared with, if any.
    pub baseline: Option<String>,
    /// Changes since the baseline; `None` without one, or when they could
    /// not be computed (then `drift_error` says why).
    pub drift: Option<Vec<Change>>,
    /// Why drift against the baseline could not be computed (the history
    /// failed while it was read): the run exits 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift_error: Option<String>,
    /// With `--history`: what is new since the previous run, what was
    /// resolved.
    pub history: Option<HistorySummary>,
    /// With `--accepted`: the file and its entries that accept nothing
    /// this run (expired, or no such finding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<AcceptedSummary>,
}

/// What the `--accepted` file made of this run's findings.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptedSummary {
    /// The file, as the user named it.
    pub file: String,
    /// Entries whose `until` has passed while their finding is still
    /// there (a warning: the finding counts again), and entries no finding
    /// of this run has (a note: remove them), in the file's order.
    pub stale: Vec<StaleAcceptance>,
}

impl AcceptedSummary {
    /// How many entries are in `state`.
    pub fn count(&self, state: Stale) -> usize {
        self.stale.iter().filter(|s| s.state == state).count()
    }
}

/// audit.json's `locations`, each with the status reports show.
fn reported_locations<S: serde::Serializer>(locations: &[Location], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(locations.iter().map(Location::reported))
}

/// What the stages produced, handed over to [`Audit::assemble`].
pub(crate) struct Results {
    pub estate: Estate,
    pub files: FileRecords,
    pub matrix: Matrix,
    pub findings: Vec<Finding>,
    /// With `--history`: when each finding was first seen, by position.
    pub first_seen: Option<Vec<String>>,
    pub causes: Vec<Cause>,
    pub sites: Vec<SiteSummary>,
    pub symptoms: Option<Symptoms>,
    pub timing: Timing,
    pub upgrade: Option<UpgradePlan>,
    pub drift: Option<Vec<Change>>,
    pub drift_error: Option<String>,
    pub history: Option<HistorySummary>,
}

impl Audit {
    /// Sorts everything and computes the summary.
    pub(crate) fn assemble(config: &Config, results: Results) -> Audit {
        let Results {
            estate,
            files,
            matrix,
            findings,
            first_seen,
            causes,
            sites,
            symptoms,
            timing,
            upgrade,
            drift,
            drift_error,
            history,
        } = results;
        // Every record that was not read is among those the estate keeps.
        let Estate {
            mut locations,
            files: kept,
            mut stamps,
            ..
        } = estate;
        locations.sort_by(|a, b| a.name.cmp(&b.name));
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
            unreadable_files: kept
                .iter()
                .filter(|f| f.status == Status::Unreadable && f.kind != FileKind::Directory)
                .count() as u64,
            unreadable_folders: kept
                .iter()
                .filter(|f| f.status == Status::Unreadable && f.kind == FileKind::Directory)
                .count() as u64,
            errors: findings.iter().filter(|f| f.severity == Severity::Error).count(),
            warnings: findings.iter().filter(|f| f.severity == Severity::Warning).count(),
            infos: findings.iter().filter(|f| f.severity == Severity::Info).count(),
            mismatched_items: matrix.rows.iter().filter(|r| r.mismatch()).count(),
            causes: causes.len(),
        };
        let cause_of = crate::causes::cause_of_each(&causes, findings.len());
        let first_seen = first_seen.unwrap_or_else(|| vec![String::new(); findings.len()]);
        let started = humantime::format_rfc3339_seconds(timing.started).to_string();
        // Accepted until the end of the day named, the run's start date (UTC).
        let today = started.get(..10).unwrap_or_default();
        let (accepted, accepted_summary) = match &config.accepted {
            Some(file) => {
                let (marks, stale) = file.judge(findings.iter().map(|f| f.fingerprint.as_str()), today);
                let summary = AcceptedSummary {
                    file: file.file.clone(),
                    stale,
                };
                (marks, Some(summary))
            }
            None => (vec![None; findings.len()], None),
        };
        let findings = findings
            .into_iter()
            .zip(cause_of)
            .zip(first_seen)
            .zip(accepted)
            .map(|(((finding, cause), first_seen), accepted)| Judged {
                finding,
                cause,
                first_seen,
                accepted,
            })
            .collect();
        Audit {
            tool: "smsaudit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            roots: config.roots.iter().map(|r| crate::names::display_path(r)).collect(),
            inventory: config.inventory.as_ref().map(|i| crate::names::display_path(&i.file)),
            started,
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
            // Not compared with it when drift failed: no report names it.
            baseline: config
                .baseline
                .as_ref()
                .filter(|_| drift_error.is_none())
                .map(|b| b.path.clone()),
            drift,
            drift_error,
            history,
            accepted: accepted_summary,
        }
    }
}

/// What an audit concluded: the one rule behind both the exit code and the
/// verdict the reports open with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The worst finding about what was checked that is not accepted (what
    /// could not be checked is `not_checked`, not a finding here); an
    /// `--accepted` entry that expired while its finding is still there
    /// counts as a warning.
    pub worst: Option<Severity>,
    /// A pre-upgrade check would leave sites behind.
    pub upgrade_unsafe: bool,
    /// A pre-upgrade check cannot be judged (a sharing site's release is
    /// not known from the audit).
    pub upgrade_not_judged: bool,
    /// A location, file, folder or judgement could not be checked (and
    /// its finding is not accepted).
    pub not_checked: bool,
    /// Files or versions changed since the baseline.
    pub drift: bool,
}

impl Verdict {
    /// The exit code with `--fail-on` (`None`: never fail on findings);
    /// see [`ExitCode`] for the order.
    pub fn exit_code(self, fail_on: Option<Severity>) -> ExitCode {
        // The plan answers first, whatever `--fail-on` says of the estate's
        // findings: a script gates the upgrade on it (safe 0 when nothing
        // else is wrong, unsafe 1, not judgeable 3).
        if self.upgrade_unsafe {
            return ExitCode::Findings;
        }
        if let (Some(threshold), Some(worst)) = (fail_on, self.worst) {
            if worst >= threshold {
                return ExitCode::Findings;
            }
        }
        if self.not_checked || self.upgrade_not_judged {
            return ExitCode::Unreadable;
        }
        if self.drift {
            return ExitCode::Drift;
        }
        ExitCode::Clean
    }

    /// Whether nothing is wrong and everything was checked.
    pub fn is_clean(self) -> bool {
        self.worst.is_none() && !self.upgrade_unsafe && !self.upgrade_not_judged && !self.not_checked && !self.drift
    }

    /// The verdict in a few words, for the top of the reports.
    pub(crate) fn headline(self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        match self.worst {
            Some(Severity::Error) => parts.push("Errors found"),
            Some(Severity::Warning) => parts.push("Warnings found"),
            Some(Severity::Info) => parts.push("Notes only"),
            None => {}
        }
        if self.not_checked {
            parts.push("not everything could be checked");
        }
        if self.upgrade_unsafe {
            parts.push("the planned upgrade would leave sites behind");
        }
        if self.upgrade_not_judged {
            parts.push("the planned upgrade cannot be judged");
        }
        if self.drift {
            parts.push("changed since the baseline");
        }
        if parts.is_empty() {
            return "Clean: every share was read and agrees".to_string();
        }
        let text = parts.join("; ");
        let mut chars = text.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }

    /// How much attention the verdict needs, worst first: `error`,
    /// `not-checked`, `warning`, `info` or `clean` (a colour in the reports).
    pub(crate) fn level(self) -> &'static str {
        match self.worst {
            Some(Severity::Error) => "error",
            _ if self.not_checked || self.upgrade_not_judged => "not-checked",
            _ if self.upgrade_unsafe => "error",
            Some(Severity::Warning) => "warning",
            _ if self.drift => "warning",
            Some(Severity::Info) => "info",
            None => "clean",
        }
    }
}

impl Audit {
    /// The clients whose logs show a symptom the cause explains; `None`
    /// without `--client-logs`.
    pub(crate) fn clients_of(&self, cause: &str) -> Option<&[String]> {
        let symptoms = self.symptoms.as_ref()?;
        Some(
            symptoms
                .causes
                .iter()
                .find(|c| c.cause == cause)
                .map(|c| c.clients.as_slice())
                .unwrap_or(&[]),
        )
    }

    /// The verdict's reasons in sentences, for the top of the reports.
    pub(crate) fn verdict_lines(&self) -> Vec<String> {
        let verdict = self.verdict();
        let s = &self.summary;
        let mut lines = Vec::new();
        if verdict.worst.is_some() {
            lines.push(format!(
                "{} {}, {} {} and {} {}, from {} {} to fix.",
                s.errors,
                crate::text::plural(s.errors, "error", "errors"),
                s.warnings,
                crate::text::plural(s.warnings, "warning", "warnings"),
                s.infos,
                crate::text::plural(s.infos, "note", "notes"),
                s.causes,
                crate::text::plural(s.causes, "cause", "causes"),
            ));
        }
        if verdict.not_checked {
            lines.push(format!(
                "Not everything could be checked: {} of {} shares, {} files and {} folders could not be read, or entries were left out or are ambiguous (see the A0x findings). What was not read is neither clean nor missing.",
                s.unreadable_locations, s.locations, s.unreadable_files, s.unreadable_folders
            ));
        }
        if verdict.upgrade_unsafe {
            lines.push(
                "The pre-upgrade check: sites would be left behind at an older release (see the upgrade plan)."
                    .to_string(),
            );
        }
        if verdict.upgrade_not_judged {
            lines.push(
                "The pre-upgrade check cannot be judged: the release of a site sharing logon points is not known from the audit (see the upgrade plan)."
                    .to_string(),
            );
        }
        if let Some(changes) = self
            .drift
            .as_ref()
            .map(|d| crate::drift::count_changes(d))
            .filter(|n| *n > 0)
        {
            lines.push(format!(
                "{} {} since the baseline {}.",
                changes,
                crate::text::plural(changes, "change", "changes"),
                self.baseline.as_deref().unwrap_or("")
            ));
        }
        lines.extend(self.accepted_lines());
        if verdict.is_clean() && self.accepted_count() == 0 {
            lines.push(format!(
                "{} shares and {} files read; no finding.",
                s.locations, s.files
            ));
        } else if verdict.is_clean() {
            lines.push(format!(
                "{} shares and {} files read; every finding is accepted.",
                s.locations, s.files
            ));
        }
        lines
    }

    /// How many findings an `--accepted` entry accepts.
    pub fn accepted_count(&self) -> usize {
        self.findings.iter().filter(|f| f.is_accepted()).count()
    }

    /// What `--accepted` did, in sentences: how many findings it accepts,
    /// each expired entry (a warning) and each entry no finding has (a
    /// note). Nothing without `--accepted`.
    pub(crate) fn accepted_lines(&self) -> Vec<String> {
        let Some(accepted) = &self.accepted else {
            return Vec::new();
        };
        let count = self.accepted_count();
        let mut lines = vec![format!(
            "accepted: {count} {} of {}, marked in the reports; {} not count towards the exit code.",
            crate::text::plural(count, "finding", "findings"),
            accepted.file,
            if count == 1 { "it does" } else { "they do" }
        )];
        for stale in &accepted.stale {
            let entry = &stale.entry;
            lines.push(match stale.state {
                Stale::Expired => format!(
                    "warning: finding {} was accepted until {} ({}): it counts again; fix it, or renew until in {}.",
                    entry.fingerprint, entry.until, entry.reason, accepted.file
                ),
                Stale::Unknown => format!(
                    "note: no finding of this run has fingerprint {}, accepted until {} ({}): remove it from {}.",
                    entry.fingerprint, entry.until, entry.reason, accepted.file
                ),
            });
        }
        lines
    }

    /// What the audit concluded, whatever `--fail-on` says. Accepted
    /// findings do not count; an expired acceptance is a warning.
    pub fn verdict(&self) -> Verdict {
        let counted = || self.findings.iter().filter(|f| !f.is_accepted());
        let expired = self
            .accepted
            .as_ref()
            .is_some_and(|a| a.count(Stale::Expired) > 0)
            .then_some(Severity::Warning);
        Verdict {
            worst: counted()
                .filter(|f| !f.code.means_not_checked())
                .map(|f| f.severity)
                .chain(expired)
                .max(),
            upgrade_unsafe: self
                .upgrade
                .as_ref()
                .is_some_and(|plan| plan.verdict == crate::upgrade::PlanVerdict::Unsafe),
            upgrade_not_judged: self
                .upgrade
                .as_ref()
                .is_some_and(|plan| plan.verdict == crate::upgrade::PlanVerdict::NotJudgeable),
            not_checked: counted().any(|f| f.code.means_not_checked()),
            drift: self
                .drift
                .as_ref()
                .is_some_and(|d| d.iter().any(|c| c.change.is_change())),
        }
    }
}

/// The file rows a person reads in the workbook and the page: files with a
/// version or a kind the audit parses, every row that is not `ok` (or that
/// carries a note: [`FileRecord::is_of_note`]), and every file a finding
/// points at. The others (client
/// uploads, mostly: 2,512 of 2,541 files in a real CAP) are counted, and
/// files.csv and audit.json keep every row.
pub(crate) struct FilesOfInterest {
    /// The lower-case paths findings point at, by location, and their
    /// [`names::lower_case_hash`]es: most files are at a location some
    /// finding points into, and a hash missed needs no lower-case copy.
    pointed: std::collections::HashMap<String, Pointed>,
    /// A path in lower case, in one buffer for every file asked about.
    lower: std::cell::RefCell<String>,
}

#[derive(Default)]
struct Pointed {
    hashes: std::collections::HashSet<u64>,
    paths: std::collections::HashSet<String>,
}

impl FilesOfInterest {
    pub(crate) fn new(audit: &Audit) -> FilesOfInterest {
        FilesOfInterest::pointing_at(audit.findings.iter().map(|f| (f.location.as_str(), f.path.as_str())))
    }

    /// With the files at these locations and paths pointed at.
    fn pointing_at<'a>(findings: impl Iterator<Item = (&'a str, &'a str)>) -> FilesOfInterest {
        let mut pointed: std::collections::HashMap<String, Pointed> = Default::default();
        for (location, path) in findings.filter(|(_, path)| !path.is_empty()) {
            let at = pointed.entry(location.to_string()).or_default();
            at.hashes.insert(names::lower_case_hash(path));
            at.paths.insert(path.to_ascii_lowercase());
        }
        FilesOfInterest {
            pointed,
            lower: Default::default(),
        }
    }

    /// Whether a finding points at this file (paths compare in ASCII lower
    /// case, as Windows names them).
    fn pointed_at(&self, location: &str, path: &str) -> bool {
        self.pointed.get(location).is_some_and(|at| {
            if !at.hashes.contains(&names::lower_case_hash(path)) {
                return false;
            }
            let mut lower = self.lower.borrow_mut();
            lower.clear();
            lower.push_str(path);
            lower.make_ascii_lowercase();
            at.paths.contains(lower.as_str())
        })
    }

    /// Lends each file of interest to `visit`, by location and path;
    /// returns how many other files were read.
    pub(crate) fn visit<E>(
        &self,
        files: &FileRecords,
        failed: impl Fn(std::io::Error) -> E,
        visit: impl FnMut(&mut FileRecord) -> Result<(), E>,
    ) -> Result<u64, E> {
        files.visit_of_interest(failed, |location, path| self.pointed_at(location, path), visit)
    }

    /// The line under a list of the files of interest: how many other
    /// files were read and where they all are.
    pub(crate) fn others_note(others: u64) -> String {
        let files = if others == 1 { "file was" } else { "files were" };
        format!(
            "{others} other {files} read (no version, no kind the audit parses, no problem, no finding): files.csv and audit.json hold every file."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file is pointed at by its location and its path in any case, and
    /// by nothing else: another location, a longer or shorter path.
    #[test]
    fn a_file_pointed_at_is_found_in_any_case() {
        let interest = FilesOfInterest::pointing_at(
            [
                (r"\\S1\CAP_A", r"Upload\Stray.TXT"),
                (r"\\S1\CAP_A", ""),
                (r"\\S2\CAP_B", "x.cfg"),
            ]
            .into_iter(),
        );
        assert!(interest.pointed_at(r"\\S1\CAP_A", r"upload\stray.txt"));
        assert!(interest.pointed_at(r"\\S1\CAP_A", r"UPLOAD\STRAY.TXT"));
        assert!(!interest.pointed_at(r"\\S1\CAP_A", r"upload\stray.tx"));
        assert!(!interest.pointed_at(r"\\S1\CAP_A", r"upload\stray.txt2"));
        assert!(!interest.pointed_at(r"\\S1\CAP_A", ""));
        assert!(!interest.pointed_at(r"\\S2\CAP_B", r"upload\stray.txt"));
        assert!(interest.pointed_at(r"\\S2\CAP_B", "X.CFG"));
        assert!(!interest.pointed_at(r"\\S3\CAP_C", "x.cfg"));
    }
}
