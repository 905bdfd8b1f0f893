//! Reads the history: what the pipeline needs before a run ([`past`]), the
//! list of runs and the timelines `smsaudit history` shows.

use super::past::{Past, PastFinding, PreviousRun};
use super::HistoryFile;
use crate::drift::{FileStream, Since, Snapshot, SnapshotFile, SnapshotLocation, SnapshotStamp, Visit};
use crate::model::{Artifact, CheckCode, Severity, Status};
use anyhow::{Context, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the history holds before this run. The baseline is built per
/// location from the finished runs ([`baseline`]); the files stay in the
/// history: drift reads them as a stream ([`RunFiles`]).
pub(crate) fn past(conn: &Connection, history: &HistoryFile) -> Result<Past> {
    let file = history.path.display().to_string();
    let mut first_seen = BTreeMap::new();
    let mut query = conn.prepare(
        "SELECT s.fingerprint, min(r.started) FROM finding_states s JOIN runs r ON r.id = s.first_run
         GROUP BY s.fingerprint",
    )?;
    for row in query.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))? {
        let (fingerprint, started) = row?;
        first_seen.insert(fingerprint, started);
    }
    // Only a run whose report set was put in place is a baseline.
    let latest: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, started FROM runs WHERE finished = 1 ORDER BY id DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let fixed_earlier = match &latest {
        None => Vec::new(),
        Some((id, _)) => fixed_before(conn, *id, &first_seen)?,
    };
    let previous = match latest {
        None => None,
        Some((id, started)) => Some(PreviousRun {
            snapshot: baseline(conn, history, id)?,
            findings: findings_of(conn, id, &started, &first_seen)?,
            started,
        }),
    };
    Ok(Past {
        file,
        previous,
        first_seen,
        expected: super::forget::expected_locations(conn)?,
        fixed_earlier,
    })
}

/// Findings whose last run is before run `latest` and that no state of
/// `latest` or later has: fixed before it, each with the start of the first
/// finished run after its last one. One per fingerprint, its latest state.
fn fixed_before(
    conn: &Connection,
    latest: i64,
    first_seen: &BTreeMap<String, String>,
) -> Result<Vec<(PastFinding, String)>> {
    let columns: Vec<String> = FINDING_COLUMNS.iter().map(|c| format!("s.{c}")).collect();
    let mut query = conn.prepare(&format!(
        "SELECT {}, r.started,
                (SELECT min(n.started) FROM runs n WHERE n.id > s.last_run AND n.finished = 1)
         FROM finding_states s JOIN runs r ON r.id = s.last_run
         WHERE s.last_run < ?1
           AND NOT EXISTS (SELECT 1 FROM finding_states t WHERE t.fingerprint = s.fingerprint AND t.last_run >= ?1)
         ORDER BY s.fingerprint, s.last_run DESC, s.id",
        columns.join(", ")
    ))?;
    let mut fixed = Vec::new();
    let mut seen = BTreeSet::new();
    let rows = query.query_map([latest], |row| {
        Ok((
            StoredFinding::read(row)?,
            row.get::<_, String>(7)?,
            row.get::<_, Option<String>>(8)?,
        ))
    })?;
    for row in rows {
        let (stored, last_seen, fixed_by) = row?;
        let Some(fixed_by) = fixed_by else { continue };
        if !seen.insert(stored.fingerprint.clone()) {
            continue;
        }
        fixed.push((stored.into_past(first_seen, last_seen)?, fixed_by));
    }
    Ok(fixed)
}

/// Column `index` of `row`, a name the model knows: a status or artifact
/// as the history keeps it.
fn named<T>(row: &rusqlite::Row, index: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let name: String = row.get(index)?;
    parse(&name).ok_or_else(|| {
        let unknown = format!("unknown name {name:?}");
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, unknown.into())
    })
}

/// What the finished runs know of one location.
#[derive(Default)]
struct Seen {
    /// The last finished run that read it: its id and start.
    read: Option<(i64, String)>,
    /// The last finished run that had it, with its status and reason.
    last: Option<(i64, Status, String)>,
    /// Its status and reason in the latest finished run, if that run had it.
    in_latest: Option<(Status, String)>,
}

/// What drift compares with: every location a finished run of the history
/// has seen, each with its locations' stamps and files from the last
/// finished run that read it (`latest` is the last finished run). A
/// location no finished run read comes with its last status, and nothing
/// of it is compared. The files are read when compared.
fn baseline(conn: &Connection, history: &HistoryFile, latest: i64) -> Result<Snapshot> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut query = conn.prepare(
        "SELECT s.location, s.status, s.reason, r.id, r.started FROM location_states s
         JOIN runs r ON r.id BETWEEN s.first_run AND s.last_run
         WHERE r.finished = 1",
    )?;
    let mut rows = query.query([])?;
    while let Some(row) = rows.next()? {
        let location: String = row.get(0)?;
        let status = named(row, 1, Status::from_name)?;
        let reason: String = row.get(2)?;
        let run: i64 = row.get(3)?;
        let entry = seen.entry(location).or_default();
        if status == Status::Ok && entry.read.as_ref().is_none_or(|(id, _)| *id < run) {
            entry.read = Some((run, row.get(4)?));
        }
        if run == latest {
            entry.in_latest = Some((status, reason.clone()));
        }
        if entry.last.as_ref().is_none_or(|(id, _, _)| *id < run) {
            entry.last = Some((run, status, reason));
        }
    }
    let mut locations = Vec::new();
    let mut parts = Vec::new();
    for (name, seen) in seen {
        let location = match (seen.read, seen.last) {
            (Some((run, started)), _) => {
                let since = (run != latest).then(|| Since {
                    latest: match &seen.in_latest {
                        None => "not audited".to_string(),
                        Some((status, reason)) if reason.is_empty() => status.as_str().to_string(),
                        Some((status, reason)) => format!("{}: {reason}", status.as_str()),
                    },
                    started: started.clone(),
                });
                parts.push(Part {
                    location: name.clone(),
                    run,
                    started,
                });
                SnapshotLocation {
                    name,
                    status: Status::Ok,
                    reason: String::new(),
                    since,
                }
            }
            (None, Some((_, status, reason))) => SnapshotLocation {
                name,
                status,
                reason,
                since: None,
            },
            (None, None) => continue,
        };
        locations.push(location);
    }
    let mut stamps = Vec::new();
    let mut query = conn.prepare(
        "SELECT location, component, artifact, detail, value, path FROM stamp_states
         WHERE location = ?1 AND first_run <= ?2 AND last_run >= ?2",
    )?;
    for part in &parts {
        let found = query.query_map(rusqlite::params![part.location, part.run], |row| {
            Ok(SnapshotStamp {
                location: row.get(0)?,
                component: row.get(1)?,
                artifact: named(row, 2, Artifact::from_name)?,
                detail: row.get(3)?,
                value: row.get(4)?,
                path: row.get(5)?,
            })
        })?;
        for stamp in found {
            stamps.push(stamp?);
        }
    }
    let files = RunFiles {
        history: history.clone(),
        parts,
    };
    Ok(Snapshot::streamed(locations, stamps, Arc::new(files)))
}

/// One location of a baseline and the run its files are read from.
#[derive(Debug)]
struct Part {
    location: String,
    run: i64,
    /// When the run started: the run still in the history must be this one.
    started: String,
}

/// The files of a baseline, each location's from its own run, read in
/// (location, path) order through `file_states_location_path` when drift
/// compares them: one location at a time, never held.
#[derive(Debug)]
struct RunFiles {
    history: HistoryFile,
    /// In location order.
    parts: Vec<Part>,
}

impl FileStream for RunFiles {
    fn stream(&self, visit: Visit) -> Result<()> {
        let path = self.history.path.display();
        let conn = self
            .history
            .open_existing()?
            .with_context(|| format!("history {path} is gone"))?;
        // One read transaction: the runs checked are the runs read.
        let tx = conn.unchecked_transaction()?;
        let runs: BTreeMap<i64, &str> = self.parts.iter().map(|p| (p.run, p.started.as_str())).collect();
        for (run, expected) in runs {
            let started: Option<String> = tx
                .query_row("SELECT started FROM runs WHERE id = ?1", [run], |row| row.get(0))
                .optional()?;
            if started.as_deref() != Some(expected) {
                anyhow::bail!(
                    "the run of {expected} left history {path} while this run went on (another run pruned it): drift against it cannot be computed; run again"
                );
            }
        }
        let sql = "SELECT location, path, size, modified, sha256, status, reason FROM file_states
             INDEXED BY file_states_location_path
             WHERE location = ?1 AND first_run <= ?2 AND last_run >= ?2 ORDER BY location, path";
        // One statement per location, each borrowed by its own rows.
        let mut statements = self
            .parts
            .iter()
            .map(|_| tx.prepare(sql))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut files = statements.iter_mut().zip(&self.parts).flat_map(|(statement, part)| {
            let rows = statement.query_map(rusqlite::params![part.location, part.run], |row| {
                Ok(SnapshotFile {
                    location: row.get(0)?,
                    path: row.get(1)?,
                    size: row.get::<_, Option<i64>>(2)?.map(|n| n as u64),
                    modified: row.get(3)?,
                    sha256: row.get(4)?,
                    status: named(row, 5, Status::from_name)?,
                    reason: row.get(6)?,
                })
            });
            let rows: Box<dyn Iterator<Item = rusqlite::Result<SnapshotFile>>> = match rows {
                Ok(rows) => Box::new(rows),
                Err(err) => Box::new(std::iter::once(Err(err))),
            };
            rows.map(|row| row.with_context(|| format!("cannot read history {path}")))
        });
        visit(&mut files)
    }
}

/// The findings of run `run`, one per fingerprint.
fn findings_of(
    conn: &Connection,
    run: i64,
    started: &str,
    first_seen: &BTreeMap<String, String>,
) -> Result<Vec<PastFinding>> {
    let mut query = conn.prepare(&format!(
        "SELECT {} FROM finding_states
         WHERE first_run <= ?1 AND last_run >= ?1 ORDER BY fingerprint, id",
        FINDING_COLUMNS.join(", ")
    ))?;
    let mut findings: Vec<PastFinding> = Vec::new();
    let mut seen = BTreeSet::new();
    for stored in query.query_map([run], StoredFinding::read)? {
        let stored = stored?;
        if !seen.insert(stored.fingerprint.clone()) {
            continue;
        }
        findings.push(stored.into_past(first_seen, started.to_string())?);
    }
    Ok(findings)
}

/// A finding as `finding_states` stores it: the [`FINDING_COLUMNS`], in
/// their order, from column 0.
struct StoredFinding {
    fingerprint: String,
    severity: String,
    code: String,
    site: String,
    location: String,
    path: String,
    observed: String,
}

impl StoredFinding {
    fn read(row: &rusqlite::Row) -> rusqlite::Result<StoredFinding> {
        Ok(StoredFinding {
            fingerprint: row.get(0)?,
            severity: row.get(1)?,
            code: row.get(2)?,
            site: row.get(3)?,
            location: row.get(4)?,
            path: row.get(5)?,
            observed: row.get(6)?,
        })
    }

    /// The finding, last seen in the run that started at `last_seen`, first
    /// seen when `first_seen` says (else then too).
    fn into_past(self, first_seen: &BTreeMap<String, String>, last_seen: String) -> Result<PastFinding> {
        let severity = Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == self.severity)
            .with_context(|| format!("unknown severity {:?} in the history", self.severity))?;
        let code =
            CheckCode::parse(&self.code).with_context(|| format!("unknown check {:?} in the history", self.code))?;
        Ok(PastFinding {
            severity,
            code,
            site: self.site,
            location: self.location,
            path: self.path,
            observed: self.observed,
            first_seen: first_seen
                .get(&self.fingerprint)
                .cloned()
                .unwrap_or_else(|| last_seen.clone()),
            last_seen,
            fingerprint: self.fingerprint,
        })
    }
}

/// Rows to show, with their column names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// One line per run, oldest first, with the findings that were new in it
/// and those it no longer had (empty for the first run the history keeps).
pub(crate) fn runs(conn: &Connection) -> Result<Table> {
    let spans = finding_spans(conn)?;
    let mut query = conn.prepare(
        "SELECT r.id, r.started, r.ended, r.duration_seconds, r.exit_code, r.locations, r.unreadable_locations,
                r.files, r.errors, r.warnings, r.infos, r.causes, r.tool_version, d.changes
         FROM runs r LEFT JOIN run_drift_counts d ON d.run = r.id ORDER BY r.id",
    )?;
    let mut rows = Vec::new();
    let mut before: Option<BTreeSet<&str>> = None;
    let mut found = query.query([])?;
    while let Some(row) = found.next()? {
        let id: i64 = row.get(0)?;
        let now: BTreeSet<&str> = spans
            .iter()
            .filter(|(_, first, last)| *first <= id && id <= *last)
            .map(|(fingerprint, _, _)| fingerprint.as_str())
            .collect();
        let (new, resolved) = match &before {
            None => (String::new(), String::new()),
            Some(before) => (
                now.difference(before).count().to_string(),
                before.difference(&now).count().to_string(),
            ),
        };
        let cell = |n: usize| -> rusqlite::Result<String> { row.get::<_, Value>(n).map(show) };
        rows.push(vec![
            cell(0)?,
            cell(1)?,
            cell(2)?,
            format!("{:.1}", row.get::<_, f64>(3)?),
            cell(4)?,
            cell(5)?,
            cell(6)?,
            cell(7)?,
            cell(8)?,
            cell(9)?,
            cell(10)?,
            cell(11)?,
            new,
            resolved,
            cell(13)?,
            cell(12)?,
        ]);
        before = Some(now);
    }
    Ok(Table {
        headers: vec![
            "run",
            "started",
            "ended",
            "seconds",
            "exit",
            "locations",
            "unreadable",
            "files",
            "errors",
            "warnings",
            "infos",
            "causes",
            "new",
            "resolved",
            "drift",
            "version",
        ],
        rows,
    })
}

/// One run as `smsaudit history FILE --run N` shows it: what it counted
/// and how it ended, the findings new in it and those it resolved (against
/// the run before it that the history still has), and its drift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunView {
    /// (name, value) pairs, in order.
    pub facts: Vec<(&'static str, String)>,
    /// `None` for the first run the history has: nothing to compare with.
    pub new: Option<Table>,
    pub resolved: Option<Table>,
    /// How many drift changes the run had; `None` when unknown (no
    /// baseline, or recorded before the history kept drift).
    pub drift_changes: Option<i64>,
    /// The drift rows the history holds (up to its cap).
    pub drift: Table,
}

const FINDING_COLUMNS: [&str; 7] = [
    "fingerprint",
    "severity",
    "code",
    "site",
    "location",
    "path",
    "observed",
];

/// The run `run`, or `None` when the history does not have it.
pub(crate) fn run_view(conn: &Connection, run: i64) -> Result<Option<RunView>> {
    let facts = conn
        .query_row(
            "SELECT r.started, r.ended, r.duration_seconds, r.exit_code, r.tool_version, r.roots, r.baseline,
                    r.locations, r.unreadable_locations, r.files, r.bytes, r.unreadable_files,
                    r.unreadable_folders, r.errors, r.warnings, r.infos, r.mismatched_items, r.causes,
                    d.changes, d.kept
             FROM runs r LEFT JOIN run_drift_counts d ON d.run = r.id WHERE r.id = ?1",
            [run],
            |row| {
                let cell = |n: usize| -> rusqlite::Result<String> { row.get::<_, Value>(n).map(show) };
                let exit_code: i64 = row.get(3)?;
                Ok((
                    vec![
                        ("run", run.to_string()),
                        ("started", cell(0)?),
                        ("ended", cell(1)?),
                        ("seconds", format!("{:.1}", row.get::<_, f64>(2)?)),
                        ("exit code", format!("{exit_code}: {}", exit_meaning(exit_code))),
                        ("version", cell(4)?),
                        ("roots", cell(5)?),
                        ("baseline", cell(6)?),
                        ("locations", cell(7)?),
                        ("unreadable locations", cell(8)?),
                        ("files", cell(9)?),
                        ("bytes", cell(10)?),
                        ("unreadable files", cell(11)?),
                        ("unreadable folders", cell(12)?),
                        ("errors", cell(13)?),
                        ("warnings", cell(14)?),
                        ("infos", cell(15)?),
                        ("mismatched items", cell(16)?),
                        ("causes", cell(17)?),
                    ],
                    row.get::<_, Option<i64>>(18)?,
                    row.get::<_, Option<i64>>(19)?,
                ))
            },
        )
        .optional()?;
    let Some((mut facts, drift_changes, kept)) = facts else {
        return Ok(None);
    };
    let before: Option<i64> = conn.query_row("SELECT max(id) FROM runs WHERE id < ?1", [run], |row| row.get(0))?;
    let (new, resolved) = match before {
        None => (None, None),
        Some(before) => (
            Some(findings_only_in(conn, run, before)?),
            Some(findings_only_in(conn, before, run)?),
        ),
    };
    facts.push((
        "drift",
        match (drift_changes, kept) {
            (None, _) => "unknown (no baseline, or recorded before the history kept drift)".to_string(),
            (Some(n), Some(kept)) if kept < n => format!("{n} changes, the first {kept} kept below"),
            (Some(n), _) => format!("{n} changes"),
        },
    ));
    let mut query = conn.prepare(
        "SELECT change, location, path, old_path, what, old, new FROM run_drift WHERE run = ?1 ORDER BY seq",
    )?;
    let rows = query
        .query_map([run], |row| {
            (0..7)
                .map(|n| row.get::<_, String>(n))
                .collect::<rusqlite::Result<Vec<_>>>()
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(RunView {
        facts,
        new,
        resolved,
        drift_changes,
        drift: Table {
            headers: crate::drift::Change::COLUMNS.to_vec(),
            rows,
        },
    }))
}

/// The findings run `run` had and run `other` did not, one per
/// fingerprint, by fingerprint.
fn findings_only_in(conn: &Connection, run: i64, other: i64) -> Result<Table> {
    let mut query = conn.prepare(&format!(
        "SELECT {} FROM finding_states s
         WHERE s.first_run <= ?1 AND s.last_run >= ?1
           AND NOT EXISTS (SELECT 1 FROM finding_states o
                           WHERE o.fingerprint = s.fingerprint AND o.first_run <= ?2 AND o.last_run >= ?2)
         ORDER BY s.fingerprint, s.id",
        FINDING_COLUMNS.join(", ")
    ))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let found = query.query_map([run, other], |row| {
        (0..FINDING_COLUMNS.len())
            .map(|n| row.get::<_, Value>(n).map(show))
            .collect::<rusqlite::Result<Vec<_>>>()
    })?;
    for row in found {
        let row = row?;
        if rows.last().is_some_and(|last| last[0] == row[0]) {
            continue;
        }
        rows.push(row);
    }
    Ok(Table {
        headers: FINDING_COLUMNS.to_vec(),
        rows,
    })
}

/// What a recorded exit code means.
fn exit_meaning(code: i64) -> &'static str {
    use crate::exit::ExitCode::*;
    [Clean, Findings, CouldNotRun, Unreadable, Drift, Interrupted, Terminated]
        .into_iter()
        .find(|c| i64::from(c.code()) == code)
        .map_or("unknown", |c| c.meaning())
}

fn finding_spans(conn: &Connection) -> Result<Vec<(String, i64, i64)>> {
    let mut query = conn.prepare("SELECT fingerprint, first_run, last_run FROM finding_states")?;
    let spans = query
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(spans)
}

fn show(value: Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(x) => x.to_string(),
        Value::Text(text) => text,
        Value::Blob(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// What a timeline is about; each field narrows it.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub fingerprint: Option<String>,
    pub code: Option<String>,
    pub site: Option<String>,
    pub location: Option<String>,
    pub path: Option<String>,
    /// Part of the matrix item's label, any case (`base compver.ini`).
    pub item: Option<String>,
}

/// What a timeline lists: which table of states, and the columns shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    Findings,
    Items,
    Files,
    Locations,
}

impl Filter {
    /// The timeline the filter asks for: findings when a fingerprint, code
    /// or site is given, else matrix items, else files, else locations.
    pub(crate) fn subject(&self) -> Option<Subject> {
        if self.fingerprint.is_some() || self.code.is_some() || self.site.is_some() {
            Some(Subject::Findings)
        } else if self.item.is_some() {
            Some(Subject::Items)
        } else if self.path.is_some() {
            Some(Subject::Files)
        } else if self.location.is_some() {
            Some(Subject::Locations)
        } else {
            None
        }
    }
}

/// Each state the filter picks, as a span of runs (`from` .. `to`, both
/// run starts; `now` says whether the latest run still had it), ordered by
/// time (the run it was first seen in), then findings by severity (worst
/// first), then by what it is about.
pub(crate) fn timeline(conn: &Connection, subject: Subject, filter: &Filter) -> Result<Table> {
    let (table, columns, order): (&str, &[&'static str], &str) = match subject {
        Subject::Findings => (
            "finding_states",
            &[
                "fingerprint",
                "severity",
                "code",
                "site",
                "location",
                "path",
                "observed",
                "expected",
            ],
            "CASE s.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, s.fingerprint",
        ),
        Subject::Items => (
            "cell_states",
            &["location", "item", "state", "text", "expected"],
            "location, item",
        ),
        Subject::Files => (
            "file_states",
            &[
                "location", "path", "status", "size", "modified", "sha256", "version", "reason",
            ],
            "location, path",
        ),
        Subject::Locations => (
            "location_states",
            &["location", "kind", "sites", "status", "reason", "files", "bytes"],
            "location",
        ),
    };
    let mut conditions: Vec<&str> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut narrow = |condition: &'static str, value: &Option<String>| {
        if let Some(value) = value {
            conditions.push(condition);
            values.push(Value::Text(value.trim().to_string()));
        }
    };
    if subject == Subject::Findings {
        narrow("s.fingerprint = ? COLLATE NOCASE", &filter.fingerprint);
        narrow("s.code = ? COLLATE NOCASE", &filter.code);
        // A finding about a shared logon point names every site behind it
        // ("MS1 MS2"): any of them picks it.
        narrow(
            "instr(' ' || upper(s.site) || ' ', ' ' || upper(?) || ' ') > 0",
            &filter.site,
        );
    }
    if subject != Subject::Locations && subject != Subject::Items {
        narrow("s.path = ? COLLATE NOCASE", &filter.path);
    }
    if subject == Subject::Items {
        narrow("instr(lower(s.item), lower(?)) > 0", &filter.item);
    }
    narrow("s.location = ? COLLATE NOCASE", &filter.location);
    let selected: Vec<String> = columns.iter().map(|c| format!("s.{c}")).collect();
    let sql = format!(
        "SELECT (SELECT started FROM runs WHERE id = s.first_run),
                (SELECT started FROM runs WHERE id = s.last_run),
                (SELECT count(*) FROM runs WHERE id BETWEEN s.first_run AND s.last_run),
                s.last_run = (SELECT max(id) FROM runs),
                {}
         FROM {table} s {} ORDER BY s.first_run, {order}, s.id",
        selected.join(", "),
        if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        },
    );
    let mut query = conn.prepare(&sql)?;
    let mut found = query.query(rusqlite::params_from_iter(values))?;
    let mut rows = Vec::new();
    while let Some(row) = found.next()? {
        let mut cells = vec![
            show(row.get(0)?),
            show(row.get(1)?),
            show(row.get(2)?),
            if row.get::<_, bool>(3)? { "yes" } else { "no" }.to_string(),
        ];
        for n in 0..columns.len() {
            cells.push(show(row.get(4 + n)?));
        }
        rows.push(cells);
    }
    let mut headers = vec!["from", "to", "runs", "now"];
    headers.extend_from_slice(columns);
    Ok(Table { headers, rows })
}
