//! Writes an assembled audit into the history in one immediate
//! transaction: the run, then each state it saw. A state the previous run
//! saw too (same digest, `last_run` = the previous run) only has its
//! `last_run` moved; anything else is a new row. Runs that retention drops
//! go in the same transaction, with the states no kept run refers to.

use super::Retention;
use crate::audit::Audit;
use crate::model::FileRecord;
use anyhow::{Context, Result};
use rusqlite::types::Value;
use rusqlite::{params, Connection, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What the audit itself does not hold about its run.
pub(crate) struct RunInfo<'a> {
    /// When the run ended, RFC 3339 UTC.
    pub ended: String,
    pub exit_code: i32,
    pub command_line: &'a [String],
    /// The lease this run took before its crawl ([`take_lease`]), given
    /// back in the transaction that records it.
    pub lease: Option<i64>,
    /// Whether the report set was put in place (or none was asked for):
    /// only a finished run is a baseline.
    pub finished: bool,
    /// Its roots and inventory shares: the states of the locations outside
    /// them stay open ([`carry_over_unseen`]).
    pub scope: &'a crate::config::Scope,
}

/// What [`record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub run: i64,
    /// Runs removed by retention.
    pub pruned: u64,
    /// Retention was asked for but postponed: another run is in progress.
    pub postponed: bool,
}

/// A table of states and its value columns, in the order rows give them.
struct States {
    table: &'static str,
    columns: &'static [&'static str],
}

const LOCATIONS: States = States {
    table: "location_states",
    columns: &[
        "location", "kind", "root", "sites", "status", "reason", "files", "bytes",
    ],
};
const FILES: States = States {
    table: "file_states",
    columns: &FileRecord::COLUMNS,
};
const STAMPS: States = States {
    table: "stamp_states",
    columns: &[
        "location",
        "site",
        "component",
        "artifact",
        "detail",
        "value",
        "path",
        "string_version",
        "sha256",
    ],
};
const CELLS: States = States {
    table: "cell_states",
    columns: &[
        "location",
        "item",
        "component",
        "artifact",
        "detail",
        "state",
        "text",
        "expected",
    ],
};
const FINDINGS: States = States {
    table: "finding_states",
    columns: &[
        "fingerprint",
        "severity",
        "code",
        "kb",
        "site",
        "location",
        "path",
        "observed",
        "expected",
        "message",
        "fix",
        "cause_key",
    ],
};

/// SQL, on a row of `runs`: whether the run finished, its report set put
/// in place (a run recorded with exit code 2 could not write it; 130 and
/// 143 were stopped). Pruning never removes the latest finished run.
pub(super) const FINISHED: &str = "(exit_code NOT IN (2, 130, 143))";

/// The tables of each run's drift ([`write_drift`]), for pruning.
pub(super) const DRIFT_TABLES: [&str; 2] = ["run_drift_counts", "run_drift"];

/// Every table of states, for pruning.
pub(super) const STATE_TABLES: [&str; 5] = [
    "location_states",
    "file_states",
    "stamp_states",
    "cell_states",
    "finding_states",
];

/// Records `audit` as the newest run, then applies `retention`.
pub(crate) fn record(conn: &mut Connection, audit: &Audit, run: &RunInfo, retention: Retention) -> Result<Recorded> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let previous: Option<i64> = tx.query_row("SELECT max(id) FROM runs", [], |row| row.get(0))?;
    let id = insert_run(&tx, audit, run)?;
    write_states(&tx, &LOCATIONS, by_digest(location_rows(audit)), id, previous)?;
    // Streamed: one row per file, in (location, path) order, each once.
    write_states(&tx, &FILES, file_rows(audit), id, previous)?;
    write_states(&tx, &STAMPS, by_digest(stamp_rows(audit)), id, previous)?;
    write_states(&tx, &CELLS, by_digest(cell_rows(audit)), id, previous)?;
    write_states(&tx, &FINDINGS, by_digest(finding_rows(audit)), id, previous)?;
    if let Some(previous) = previous {
        carry_over_unseen(&tx, audit, run.scope, id, previous)?;
    }
    write_drift(&tx, id, audit.drift.as_deref())?;
    if let Some(lease) = run.lease {
        tx.execute("DELETE FROM run_leases WHERE id = ?1", [lease])?;
    }
    let now = std::time::SystemTime::now();
    let postponed = retention.is_requested() && runs_in_progress(&tx, now)?;
    let pruned = if postponed { 0 } else { prune_in(&tx, retention, now)? };
    tx.commit()?;
    if pruned > 0 {
        give_back_free_pages(conn);
    }
    Ok(Recorded {
        run: id,
        pruned,
        postponed,
    })
}

/// How long a lease holds pruning back: a run still going after that long
/// is taken for dead (killed before it could give its lease back).
pub(crate) const LEASE_HOURS: u64 = 48;

/// Takes a lease for a run about to crawl: until it is given back, no
/// other run or `history` command prunes, so the runs this one compares
/// with stay. Its id, for [`RunInfo::lease`] or [`give_back_lease`].
pub(crate) fn take_lease(conn: &Connection) -> Result<i64> {
    let taken = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    conn.execute("INSERT INTO run_leases (taken) VALUES (?1)", [taken])
        .context("cannot note this run in the history")?;
    Ok(conn.last_insert_rowid())
}

/// Gives a lease back without recording the run (it ended otherwise).
pub(crate) fn give_back_lease(conn: &Connection, lease: i64) -> Result<()> {
    conn.execute("DELETE FROM run_leases WHERE id = ?1", [lease])?;
    Ok(())
}

/// Whether another run holds a lease younger than [`LEASE_HOURS`]
/// (leases older than that are removed).
fn runs_in_progress(tx: &Transaction, now: std::time::SystemTime) -> Result<bool> {
    let stale = now
        .checked_sub(std::time::Duration::from_secs(LEASE_HOURS * 3600))
        .filter(|t| *t >= std::time::UNIX_EPOCH)
        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
        .unwrap_or_default();
    tx.execute("DELETE FROM run_leases WHERE taken < ?1", [&stale])?;
    let held: i64 = tx.query_row("SELECT count(*) FROM run_leases", [], |row| row.get(0))?;
    Ok(held > 0)
}

/// Applies `retention` on its own (the `history` command); the number of
/// runs removed, `None` when postponed because a run is in progress.
pub(crate) fn prune(conn: &mut Connection, retention: Retention) -> Result<Option<u64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = std::time::SystemTime::now();
    if runs_in_progress(&tx, now)? {
        tx.commit()?;
        return Ok(None);
    }
    let pruned = prune_in(&tx, retention, now)?;
    tx.commit()?;
    if pruned > 0 {
        give_back_free_pages(conn);
    }
    Ok(Some(pruned))
}

/// Shrinks the file after a prune; a failure only leaves it larger.
fn give_back_free_pages(conn: &Connection) {
    let _ = conn.execute_batch("PRAGMA incremental_vacuum");
}

fn insert_run(tx: &Transaction, audit: &Audit, run: &RunInfo) -> Result<i64> {
    let s = &audit.summary;
    let count = |n: u64| n as i64;
    tx.execute(
        "INSERT INTO runs (started, ended, duration_seconds, tool_version, command_line, roots, baseline,
             exit_code, locations, unreadable_locations, files, bytes, unreadable_files, unreadable_folders,
             errors, warnings, infos, mismatched_items, causes, finished)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            audit.started,
            run.ended,
            audit.duration_seconds,
            audit.version,
            serde_json::to_string(run.command_line)?,
            serde_json::to_string(&audit.roots)?,
            audit.baseline,
            run.exit_code,
            count(s.locations as u64),
            count(s.unreadable_locations as u64),
            count(s.files),
            count(s.bytes),
            count(s.unreadable_files),
            count(s.unreadable_folders),
            count(s.errors as u64),
            count(s.warnings as u64),
            count(s.infos as u64),
            count(s.mismatched_items as u64),
            count(s.causes as u64),
            run.finished,
        ],
    )
    .context("cannot record the run")?;
    Ok(tx.last_insert_rowid())
}

/// The most drift rows kept for one run; the count is always kept whole.
/// drift.csv of the run has them all.
pub(crate) const MAX_DRIFT_ROWS: usize = 100_000;

/// Writes run `run`'s drift (`None`: the run had no baseline): its count
/// and its rows up to [`MAX_DRIFT_ROWS`]. Called once per recorded run.
pub(crate) fn write_drift(tx: &Transaction, run: i64, drift: Option<&[crate::drift::Change]>) -> Result<()> {
    let Some(drift) = drift else {
        return Ok(());
    };
    let kept = drift.len().min(MAX_DRIFT_ROWS);
    tx.execute(
        "INSERT INTO run_drift_counts (run, changes, kept) VALUES (?1, ?2, ?3)",
        params![run, drift.len() as i64, kept as i64],
    )
    .context("cannot record the run's drift")?;
    let mut insert = tx.prepare(
        "INSERT INTO run_drift (run, seq, change, location, path, old_path, what, old, new)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (seq, change) in drift.iter().take(kept).enumerate() {
        let [kind, location, path, old_path, what, old, new] = change.cells();
        insert
            .execute(params![run, seq as i64, kind, location, path, old_path, what, old, new])
            .context("cannot record the run's drift")?;
    }
    Ok(())
}

/// Keeps open the states of the locations outside this run's scope
/// ([`crate::config::Scope::covers`] on the path the previous run read
/// them from) and not found by it: a run over other roots did not look at
/// them, so their states, findings included, go on unchanged into this
/// run instead of ending.
fn carry_over_unseen(
    tx: &Transaction,
    audit: &Audit,
    scope: &crate::config::Scope,
    run: i64,
    previous: i64,
) -> Result<()> {
    let found: std::collections::BTreeSet<String> = audit.locations.iter().map(|l| l.name.to_lowercase()).collect();
    let unseen: Vec<String> = {
        let mut query = tx.prepare("SELECT DISTINCT location, root FROM location_states WHERE last_run = ?1")?;
        let rows = query.query_map([previous], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut unseen = Vec::new();
        for row in rows {
            let (location, root) = row?;
            if !scope.covers(&root) && !found.contains(&location.to_lowercase()) {
                unseen.push(location);
            }
        }
        unseen
    };
    for table in STATE_TABLES {
        let mut carry = tx.prepare(&format!(
            "UPDATE {table} SET last_run = ?1 WHERE location = ?2 AND last_run = ?3"
        ))?;
        for location in &unseen {
            carry.execute(params![run, location, previous])?;
        }
    }
    Ok(())
}

/// Rows in digest order, each once: equal rows are then neighbours.
fn by_digest(rows: Vec<Vec<Value>>) -> impl Iterator<Item = Result<Vec<Value>>> {
    let unique: BTreeMap<[u8; 32], Vec<Value>> = rows.into_iter().map(|row| (digest(&row), row)).collect();
    unique.into_values().map(Ok)
}

/// Extends the states the previous run saw again, inserts the others.
/// Equal rows must come one after the other (two equal states in one run
/// are one state); the rows are read one at a time, never held.
fn write_states(
    tx: &Transaction,
    states: &States,
    rows: impl Iterator<Item = Result<Vec<Value>>>,
    run: i64,
    previous: Option<i64>,
) -> Result<()> {
    let table = states.table;
    let mut extend = tx.prepare(&extend_sql(table))?;
    let placeholders: String = (4..4 + states.columns.len()).map(|n| format!(", ?{n}")).collect();
    let mut insert = tx.prepare(&format!(
        "INSERT INTO {table} (digest, first_run, last_run, {}) VALUES (?1, ?2, ?3{placeholders})",
        states.columns.join(", ")
    ))?;
    let mut last: Option<[u8; 32]> = None;
    for row in rows {
        let row = row?;
        let digest = digest(&row);
        if last == Some(digest) {
            continue;
        }
        last = Some(digest);
        let digest = digest.to_vec();
        let extended = match previous {
            Some(previous) => extend.execute(params![run, digest, previous])? > 0,
            None => false,
        };
        if !extended {
            let mut values = vec![Value::Blob(digest), Value::Integer(run), Value::Integer(run)];
            values.extend(row);
            insert.execute(rusqlite::params_from_iter(values))?;
        }
    }
    Ok(())
}

/// Moves a state's `last_run` from the previous run to this one. Through
/// the digest index by name: left to itself SQLite may pick the
/// `last_run` index, which every state of the previous run shares, and
/// each update then scans them all (a second run of 100,000 files took
/// hours).
fn extend_sql(table: &str) -> String {
    format!("UPDATE {table} INDEXED BY {table}_digest SET last_run = ?1 WHERE digest = ?2 AND last_run = ?3")
}

/// What identifies a state: a SHA-256 of its values, each tagged and
/// length-prefixed so no two rows encode alike.
fn digest(row: &[Value]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for value in row {
        match value {
            Value::Null => hash.update([0]),
            Value::Integer(n) => {
                hash.update([1]);
                hash.update(n.to_le_bytes());
            }
            Value::Real(x) => {
                hash.update([2]);
                hash.update(x.to_le_bytes());
            }
            Value::Text(text) => {
                hash.update([3]);
                hash.update((text.len() as u64).to_le_bytes());
                hash.update(text.as_bytes());
            }
            Value::Blob(bytes) => {
                hash.update([4]);
                hash.update((bytes.len() as u64).to_le_bytes());
                hash.update(bytes);
            }
        }
    }
    hash.finalize().into()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn maybe_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

fn number(n: u64) -> Value {
    Value::Integer(n as i64)
}

fn location_rows(audit: &Audit) -> Vec<Vec<Value>> {
    audit
        .locations
        .iter()
        .map(|l| {
            vec![
                text(&l.name),
                text(l.kind.as_str()),
                text(&l.root),
                text(&l.sites.join(" ")),
                text(l.status.as_str()),
                text(&l.reason),
                number(l.files),
                number(l.bytes),
            ]
        })
        .collect()
}

fn file_rows(audit: &Audit) -> impl Iterator<Item = Result<Vec<Value>>> + '_ {
    audit.files.iter().map(|f| {
        let f = f.context("cannot read the file records back")?;
        Ok(vec![
            text(&f.location),
            text(&f.path),
            f.size.map_or(Value::Null, number),
            maybe_text(f.modified.as_deref()),
            maybe_text(f.sha256.map(|digest| digest.to_string()).as_deref()),
            text(f.kind.as_str()),
            maybe_text(f.version.as_deref()),
            maybe_text(f.version_source.as_deref()),
            maybe_text(f.string_version.as_deref()),
            text(f.status.as_str()),
            text(&f.reason),
        ])
    })
}

fn stamp_rows(audit: &Audit) -> Vec<Vec<Value>> {
    audit
        .stamps
        .iter()
        .map(|s| {
            vec![
                text(&s.location),
                maybe_text(s.site.as_deref()),
                text(&s.component),
                text(s.artifact.name()),
                text(&s.detail),
                text(&s.value),
                text(&s.path),
                maybe_text(s.string_version.as_deref()),
                maybe_text(s.sha256.map(|digest| digest.to_string()).as_deref()),
            ]
        })
        .collect()
}

fn cell_rows(audit: &Audit) -> Vec<Vec<Value>> {
    let matrix = &audit.matrix;
    let unread = matrix.unread_columns();
    matrix
        .rows
        .iter()
        .flat_map(|row| {
            matrix.applicable_cells(row, &unread).map(move |(c, cell)| {
                vec![
                    text(&matrix.columns[c].location),
                    text(&row.item),
                    text(&row.key.component),
                    text(row.key.artifact.name()),
                    text(&row.key.detail),
                    text(cell.state.name()),
                    text(&cell.text),
                    maybe_text(cell.state.expected()),
                ]
            })
        })
        .collect()
}

fn finding_rows(audit: &Audit) -> Vec<Vec<Value>> {
    let cause_keys: BTreeMap<&str, &str> = audit.causes.iter().map(|c| (c.id.as_str(), c.key.as_str())).collect();
    audit
        .findings
        .iter()
        .map(|f| {
            vec![
                text(&f.fingerprint),
                text(f.severity.as_str()),
                text(f.code.as_str()),
                text(&f.kb),
                text(&f.site),
                text(&f.location),
                text(&f.path),
                text(&f.observed),
                text(&f.expected),
                text(&f.message),
                text(&f.fix),
                text(cause_keys.get(f.cause.as_str()).copied().unwrap_or("")),
            ]
        })
        .collect()
}

/// Removes the oldest runs `retention` lets go, the states only they held,
/// and starts the kept states no earlier than the first kept run, so
/// "first seen" means the first run the history has.
///
/// Only a prefix of the runs by order ever goes: by `keep_runs`, the runs
/// before the last N; by `keep_days`, the runs that started before the
/// window *and* come, by order, before every run that started within it.
/// A clock that was wrong for one run (a start in 2001) then keeps that
/// run and every run before it, instead of making them all "old". The
/// latest finished run ([`FINISHED`]) and the newest run always stay.
fn prune_in(tx: &Transaction, retention: Retention, now: std::time::SystemTime) -> Result<u64> {
    if !retention.is_requested() {
        return Ok(0);
    }
    let runs: Vec<(i64, String, bool)> = {
        let mut query = tx.prepare(&format!("SELECT id, started, {FINISHED} FROM runs ORDER BY id"))?;
        let rows = query.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let Some(&(newest, _, _)) = runs.last() else {
        return Ok(0);
    };
    // The runs before `first_kept` go; each rule can only move it forward.
    let mut first_kept = runs[0].0;
    if let Some(keep) = retention.keep_runs {
        let keep = usize::try_from(keep).unwrap_or(usize::MAX).max(1);
        if let Some(&(id, _, _)) = runs.len().checked_sub(keep).and_then(|n| runs.get(n)) {
            first_kept = first_kept.max(id);
        }
    }
    if let Some(days) = retention.keep_days {
        let age = std::time::Duration::from_secs(days.saturating_mul(86_400));
        // A window reaching back before 1970 keeps every run.
        let cutoff = now
            .checked_sub(age)
            .filter(|t| *t >= std::time::UNIX_EPOCH)
            .map(|t| humantime::format_rfc3339_seconds(t).to_string());
        if let Some(cutoff) = cutoff {
            // RFC 3339 UTC times in one format sort as text.
            let first_recent = runs
                .iter()
                .find(|(_, started, _)| *started >= cutoff)
                .map_or(newest, |(id, _, _)| *id);
            first_kept = first_kept.max(first_recent);
        }
    }
    let latest_finished = runs
        .iter()
        .rev()
        .find(|(_, _, finished)| *finished)
        .map_or(newest, |r| r.0);
    let first_kept = first_kept.min(latest_finished).min(newest);
    if first_kept <= runs[0].0 {
        return Ok(0);
    }
    // Runs go oldest first, so every state keeps one unbroken span of runs.
    for table in STATE_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE last_run < ?1"), [first_kept])?;
        tx.execute(
            &format!("UPDATE {table} SET first_run = ?1 WHERE first_run < ?1"),
            [first_kept],
        )?;
    }
    for table in DRIFT_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE run < ?1"), [first_kept])?;
    }
    let pruned = tx.execute("DELETE FROM runs WHERE id < ?1", [first_kept])?;
    Ok(pruned as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn runs(conn: &Connection) -> Vec<i64> {
        let mut query = conn.prepare("SELECT id FROM runs ORDER BY id").unwrap();
        let ids = query.query_map([], |row| row.get(0)).unwrap();
        ids.map(Result::unwrap).collect()
    }

    /// Each state found again is one index look-up, not a scan of the
    /// previous run's states.
    #[test]
    fn extending_a_state_looks_it_up_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::super::HistoryFile::new(dir.path().join("h.sqlite"))
            .open_for_writing()
            .unwrap();
        for table in STATE_TABLES {
            let mut plan = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {}", extend_sql(table)))
                .unwrap();
            let steps: Vec<String> = plan
                .query_map(params![2, vec![0u8; 32], 1], |row| row.get(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(
                steps,
                vec![format!("SEARCH {table} USING INDEX {table}_digest (digest=?)")],
                "{table}"
            );
        }
    }

    #[test]
    fn keep_days_drops_old_runs_but_never_the_latest() {
        let dir = tempfile::tempdir().unwrap();
        let file = super::super::HistoryFile::new(dir.path().join("h.sqlite"));
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-shares");
        let audit = crate::run_audit(&crate::Config::new(vec![sample]));
        let mut conn = file.open_for_writing().unwrap();
        let run = RunInfo {
            ended: audit.started.clone(),
            exit_code: 1,
            command_line: &[],
            lease: None,
            finished: true,
            scope: &crate::config::Scope::default(),
        };
        for _ in 0..3 {
            record(&mut conn, &audit, &run, Retention::default()).unwrap();
        }
        let states = |conn: &Connection| -> i64 {
            conn.query_row("SELECT count(*) FROM file_states", [], |row| row.get(0))
                .unwrap()
        };
        let before = states(&conn);
        let keep_a_week = Retention {
            keep_days: Some(7),
            ..Retention::default()
        };
        let tx = conn.transaction().unwrap();
        assert_eq!(prune_in(&tx, keep_a_week, SystemTime::now()).unwrap(), 0);
        let later = SystemTime::now() + Duration::from_secs(8 * 86_400);
        assert_eq!(prune_in(&tx, keep_a_week, later).unwrap(), 2);
        tx.commit().unwrap();
        assert_eq!(runs(&conn), vec![3]);
        assert_eq!(states(&conn), before, "the latest run's states stay");
        let first: i64 = conn
            .query_row("SELECT min(first_run) FROM file_states", [], |row| row.get(0))
            .unwrap();
        assert_eq!(first, 3);
    }
}
