//! `status.json`: what a monitor reads after a night, small and with
//! stable keys (docs/reference.md): the exit code and what it means, the
//! counts behind it, the run's start and duration and, with `--upgrade`,
//! the plan's verdict. No per-file data: its size does not grow with the
//! estate.

use crate::audit::Audit;
use crate::config::Stale;
use crate::exit::ExitCode;
use anyhow::Result;
use serde::Serialize;

/// The version of status.json's keys: raised only when a key changes
/// meaning or goes away (new keys may be added).
const STATUS_VERSION: u32 = 1;

#[derive(Serialize)]
struct Status<'a> {
    status_version: u32,
    exit_code: i32,
    meaning: &'static str,
    /// The verdict the reports open with.
    verdict: String,
    started: &'a str,
    duration_seconds: f64,
    findings: Findings,
    /// Changes since the baseline; `null` without one.
    drift_changes: Option<usize>,
    unreadable: Unreadable,
    /// With `--accepted`: entries that accept nothing this run.
    acceptances: Option<Acceptances>,
    /// With `--upgrade`: the pre-upgrade check's verdict.
    upgrade: Option<Upgrade<'a>>,
}

#[derive(Serialize)]
struct Findings {
    total: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    /// With `--history`: findings the previous run did not have (all of
    /// them on the first run of a history); `null` without.
    new: Option<usize>,
    /// With `--history`: findings the previous run had too.
    standing: Option<usize>,
    /// Findings an `--accepted` entry accepts (new or standing).
    accepted: usize,
    /// With `--history`: findings the previous run had and this one has
    /// not.
    resolved: Option<usize>,
}

#[derive(Serialize)]
struct Unreadable {
    locations: usize,
    files: u64,
    folders: u64,
}

#[derive(Serialize)]
struct Acceptances {
    expired: usize,
    unknown: usize,
}

#[derive(Serialize)]
struct Upgrade<'a> {
    sites: &'a [String],
    to: &'a str,
    safe: bool,
    /// `safe`, `unsafe` or `not_judgeable`: what the exit code answers
    /// first (docs/reference.md, exit codes).
    verdict: crate::upgrade::PlanVerdict,
}

/// status.json of `audit` for a run that exits with `exit`.
pub(crate) fn status(audit: &Audit, exit: ExitCode) -> Result<Vec<u8>> {
    let s = &audit.summary;
    let total = audit.findings.len();
    let new = audit.history.as_ref().map(|h| match h.previous_run {
        None => total,
        Some(_) => h.new.len(),
    });
    let status = Status {
        status_version: STATUS_VERSION,
        exit_code: exit.code(),
        meaning: exit.meaning(),
        verdict: audit.verdict().headline(),
        started: &audit.started,
        duration_seconds: audit.duration_seconds,
        findings: Findings {
            total,
            errors: s.errors,
            warnings: s.warnings,
            infos: s.infos,
            new,
            standing: new.map(|new| total - new),
            accepted: audit.accepted_count(),
            resolved: audit.history.as_ref().map(|h| h.resolved.len()),
        },
        drift_changes: audit.drift.as_ref().map(Vec::len),
        unreadable: Unreadable {
            locations: s.unreadable_locations,
            files: s.unreadable_files,
            folders: s.unreadable_folders,
        },
        acceptances: audit.accepted.as_ref().map(|a| Acceptances {
            expired: a.count(Stale::Expired),
            unknown: a.count(Stale::Unknown),
        }),
        upgrade: audit.upgrade.as_ref().map(|plan| Upgrade {
            sites: &plan.requested,
            to: &plan.target,
            safe: plan.safe,
            verdict: plan.verdict,
        }),
    };
    let mut bytes = serde_json::to_vec_pretty(&status)?;
    bytes.push(b'\n');
    Ok(bytes)
}
