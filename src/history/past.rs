//! What the history knew before this run, read before the crawl, and what
//! the run's findings make of it (first seen, new, resolved). Data only:
//! the pipeline uses it before the audit is assembled, so this module
//! imports nothing that comes after the findings.

use crate::config::Scope;
use crate::drift::Snapshot;
use crate::model::{CheckCode, Finding, Severity};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The history as it stood when this run started.
#[derive(Debug, Clone, Default)]
pub struct Past {
    /// The history file, as the user named it.
    pub file: String,
    /// The last run recorded, if any.
    pub previous: Option<PreviousRun>,
    /// Every fingerprint the history holds, with the start of the first
    /// run that had it.
    pub first_seen: BTreeMap<String, String>,
    /// The locations the history expects (seen, and not forgotten since),
    /// by name: one missing from a run over its roots is an A01 finding.
    pub expected: Vec<SeenLocation>,
    /// Findings an earlier run stopped finding and the last run recorded
    /// did not have, each with the start of the first finished run after
    /// its last one (the fix): a client-log line older than that
    /// predates the fix.
    pub fixed_earlier: Vec<(PastFinding, String)>,
}

/// A location the history has seen, as it last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenLocation {
    /// `\\SERVER\SHARE`.
    pub name: String,
    /// `cap`, `logon_point`, `site_server` or `unknown`.
    pub kind: String,
    /// The path it was read from.
    pub path: String,
    pub sites: Vec<String>,
    /// The start of the last run that saw it (RFC 3339 UTC).
    pub last_seen: String,
}

/// The last run recorded before this one.
#[derive(Debug, Clone)]
pub struct PreviousRun {
    pub started: String,
    /// What drift compares with when no `--baseline` file is given: its
    /// locations and stamps, and its files read from the history when
    /// compared.
    pub snapshot: Snapshot,
    /// Its findings, one per fingerprint.
    pub findings: Vec<PastFinding>,
}

/// A finding as the history stored it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PastFinding {
    pub severity: Severity,
    pub code: CheckCode,
    pub site: String,
    pub location: String,
    pub path: String,
    pub observed: String,
    pub fingerprint: String,
    /// The start of the first run that had it.
    pub first_seen: String,
    /// The start of the last run that had it.
    pub last_seen: String,
}

/// What this run's findings are, next to the history: in audit.json as
/// `history`.
#[derive(Debug, Clone, Serialize)]
pub struct HistorySummary {
    /// The history file.
    pub file: String,
    /// When the previous run recorded started; `None` when this is the
    /// first run of the history.
    pub previous_run: Option<String>,
    /// Fingerprints of the findings that the previous run did not have
    /// (empty on the first run: there is nothing to compare with).
    pub new: Vec<String>,
    /// Findings the previous run had and this one has not, worst first.
    pub resolved: Vec<PastFinding>,
}

impl PastFinding {
    /// The finding as the history stored it: what it knows of it (no KB,
    /// message or fix), to tie a client-log symptom to.
    pub(crate) fn as_finding(&self) -> Finding {
        Finding {
            severity: self.severity,
            code: self.code,
            kb: String::new(),
            site: self.site.clone(),
            location: self.location.clone(),
            path: self.path.clone(),
            observed: self.observed.clone(),
            expected: String::new(),
            message: String::new(),
            fix: String::new(),
            fingerprint: self.fingerprint.clone(),
            marks: Vec::new(),
        }
    }
}

impl Past {
    /// When each finding, by position, was first seen: the start of the
    /// first run of the history that had it, or `started` (this run's)
    /// when none did.
    pub(crate) fn first_seen(&self, findings: &[Finding], started: &str) -> Vec<String> {
        findings
            .iter()
            .map(|finding| {
                self.first_seen
                    .get(&finding.fingerprint)
                    .cloned()
                    .unwrap_or_else(|| started.to_string())
            })
            .collect()
    }

    /// The locations the history holds that `scope` does not cover (lower
    /// case): a run over other roots did not look at them.
    pub(crate) fn out_of_scope(&self, scope: &Scope) -> BTreeSet<String> {
        self.expected
            .iter()
            .filter(|seen| !scope.covers(&seen.path))
            .map(|seen| seen.name.to_lowercase())
            .collect()
    }

    /// What is new since the previous run and what was resolved. A finding
    /// of a location outside this run's `scope` is not resolved: the run
    /// did not look.
    pub(crate) fn summarise(&self, findings: &[Finding], scope: &Scope) -> HistorySummary {
        let unseen = self.out_of_scope(scope);
        let now: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let (new, resolved) = match &self.previous {
            None => (Vec::new(), Vec::new()),
            Some(previous) => {
                let before: BTreeSet<&str> = previous.findings.iter().map(|f| f.fingerprint.as_str()).collect();
                let new: BTreeSet<String> = now
                    .iter()
                    .filter(|f| !before.contains(*f))
                    .map(|f| f.to_string())
                    .collect();
                let mut resolved: Vec<PastFinding> = previous
                    .findings
                    .iter()
                    .filter(|f| !now.contains(f.fingerprint.as_str()))
                    .filter(|f| !unseen.contains(&f.location.to_lowercase()))
                    .cloned()
                    .collect();
                resolved.sort_by(|a, b| (std::cmp::Reverse(a.severity), a).cmp(&(std::cmp::Reverse(b.severity), b)));
                (new.into_iter().collect(), resolved)
            }
        };
        HistorySummary {
            file: self.file.clone(),
            previous_run: self.previous.as_ref().map(|p| p.started.clone()),
            new,
            resolved,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fingerprint;

    fn finding(code: CheckCode, path: &str) -> Finding {
        Finding {
            severity: Severity::Error,
            code,
            kb: String::new(),
            site: "MS1".into(),
            location: r"\\S\CAP_MS1".into(),
            path: path.into(),
            observed: String::new(),
            expected: String::new(),
            message: String::new(),
            fix: String::new(),
            fingerprint: fingerprint(code, "MS1", r"\\S\CAP_MS1", path),
            marks: Vec::new(),
        }
    }

    fn past_of(f: &Finding, first_seen: &str) -> PastFinding {
        PastFinding {
            severity: f.severity,
            code: f.code,
            site: f.site.clone(),
            location: f.location.clone(),
            path: f.path.clone(),
            observed: f.observed.clone(),
            fingerprint: f.fingerprint.clone(),
            first_seen: first_seen.into(),
            last_seen: "2026-01-02T00:00:00Z".into(),
        }
    }

    #[test]
    fn keeps_first_seen_and_tells_new_from_resolved() {
        let kept = finding(CheckCode::F02, r"clicomp.box\hinv.CFG");
        let gone = finding(CheckCode::F02, r"clicomp.box\sinv.CFG");
        let past = Past {
            file: "h.sqlite".into(),
            previous: Some(PreviousRun {
                started: "2026-01-02T00:00:00Z".into(),
                snapshot: Snapshot::of(&[], &[]),
                findings: vec![
                    past_of(&kept, "2026-01-01T00:00:00Z"),
                    past_of(&gone, "2026-01-02T00:00:00Z"),
                ],
            }),
            first_seen: [
                (kept.fingerprint.clone(), "2026-01-01T00:00:00Z".to_string()),
                (gone.fingerprint.clone(), "2026-01-02T00:00:00Z".to_string()),
            ]
            .into(),
            expected: Vec::new(),
            fixed_earlier: Vec::new(),
        };
        let findings = vec![kept.clone(), finding(CheckCode::F02, r"clicomp.box\swdist.CFG")];
        let first_seen = past.first_seen(&findings, "2026-01-03T00:00:00Z");
        assert_eq!(first_seen, ["2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"]);
        let summary = past.summarise(&findings, &Scope::default());
        assert_eq!(summary.new, vec![findings[1].fingerprint.clone()]);
        assert_eq!(summary.resolved.len(), 1);
        assert_eq!(summary.resolved[0].fingerprint, gone.fingerprint);
        assert_eq!(summary.previous_run.as_deref(), Some("2026-01-02T00:00:00Z"));
    }

    #[test]
    fn fingerprint_ignores_case_of_names() {
        let a = finding(CheckCode::F02, r"clicomp.box\HINV.CFG");
        let b = finding(CheckCode::F02, r"CLICOMP.BOX\hinv.cfg");
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(
            a.fingerprint,
            finding(CheckCode::F03, r"clicomp.box\hinv.CFG").fingerprint
        );
        assert_eq!(a.fingerprint.len(), 16);
    }
}
