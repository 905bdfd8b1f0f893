//! Writes an assembled audit into the history in one immediate
//! transaction: the run, then each state it saw. A state the previous run
//! saw too (same digest, `last_run` = the previous run) only has its
//! `last_run` moved; anything else is a new row. Runs that retention drops
//! go in the same transaction, with the states no kept run refers to.

use super::Retention;
use crate::audit::Audit;
use crate::matrix::CellState;
use crate::model::FileRecord;
use anyhow::{Context, Result};
use rusqlite::types::Value;
use rusqlite::{params, Connection, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What the audit itself does not hold about its run.
pub(crate) struct RunInfo<'a> {
    /// When the run ended, RFC 3339 UTC.
    pub ended: String,
    pub exit_code: i32,
    pub command_line: &'a [String],
    /// Whether the report set was put in place (or none was asked for):
    /// only a finished run is a baseline.
    pub finished: bool,
}

/// What [`record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub run: i64,
    /// Runs removed by retention.
    pub pruned: u64,
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
    let pruned = prune_in(&tx, retention, std::time::SystemTime::now())?;
    tx.commit()?;
    if pruned > 0 {
        give_back_free_pages(conn);
    }
    Ok(Recorded { run: id, pruned })
}

/// Applies `retention` on its own (the `history` command); the number of
/// runs removed.
pub(crate) fn prune(conn: &mut Connection, retention: Retention) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let pruned = prune_in(&tx, retention, std::time::SystemTime::now())?;
    tx.commit()?;
    if pruned > 0 {
        give_back_free_pages(conn);
    }
    Ok(pruned)
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
            maybe_text(f.sha256.as_deref()),
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
                maybe_text(s.sha256.as_deref()),
            ]
        })
        .collect()
}

fn cell_rows(audit: &Audit) -> Vec<Vec<Value>> {
    let matrix = &audit.matrix;
    matrix
        .rows
        .iter()
        .flat_map(|row| {
            row.cells
                .iter()
                .zip(&matrix.columns)
                .filter(|(cell, _)| cell.state != CellState::NotApplicable)
                .map(move |(cell, column)| {
                    vec![
                        text(&column.location),
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

/// Removes the oldest runs `retention` lets go (never the newest), the
/// states only they held, and starts the kept states no earlier than the
/// first kept run, so "first seen" means the first run the history has.
fn prune_in(tx: &Transaction, retention: Retention, now: std::time::SystemTime) -> Result<u64> {
    if !retention.is_requested() {
        return Ok(0);
    }
    let runs: Vec<(i64, String)> = {
        let mut query = tx.prepare("SELECT id, started FROM runs ORDER BY id")?;
        let rows = query.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let Some(&(newest, _)) = runs.last() else {
        return Ok(0);
    };
    let mut going: BTreeSet<i64> = BTreeSet::new();
    if let Some(keep) = retention.keep_runs {
        let keep = usize::try_from(keep).unwrap_or(usize::MAX).max(1);
        going.extend(runs.iter().rev().skip(keep).map(|(id, _)| *id));
    }
    if let Some(days) = retention.keep_days {
        let age = std::time::Duration::from_secs(days.saturating_mul(86_400));
        let cutoff = now
            .checked_sub(age)
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
            .unwrap_or_default();
        // RFC 3339 UTC times in one format sort as text.
        going.extend(runs.iter().filter(|(_, started)| *started < cutoff).map(|(id, _)| *id));
    }
    going.remove(&newest);
    let Some(&last_going) = going.last() else {
        return Ok(0);
    };
    // Runs go oldest first, so every state keeps one unbroken span of runs.
    let first_kept = runs
        .iter()
        .map(|(id, _)| *id)
        .find(|id| *id > last_going)
        .unwrap_or(newest);
    for table in STATE_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE last_run < ?1"), [first_kept])?;
        tx.execute(
            &format!("UPDATE {table} SET first_run = ?1 WHERE first_run < ?1"),
            [first_kept],
        )?;
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
            finished: true,
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
