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
    })
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
    let mut query = conn.prepare(
        "SELECT fingerprint, severity, code, site, location, path, observed FROM finding_states
         WHERE first_run <= ?1 AND last_run >= ?1 ORDER BY fingerprint, id",
    )?;
    let mut findings: Vec<PastFinding> = Vec::new();
    let mut seen = BTreeSet::new();
    let rows = query.query_map([run], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, String>(5)?,
            row.get::<_, String>(6)?,
        ))
    })?;
    for row in rows {
        let (fingerprint, severity, code, site, location, path, observed) = row?;
        if !seen.insert(fingerprint.clone()) {
            continue;
        }
        let severity = Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == severity)
            .with_context(|| format!("unknown severity {severity:?} in the history"))?;
        let code = CheckCode::parse(&code).with_context(|| format!("unknown check {code:?} in the history"))?;
        findings.push(PastFinding {
            severity,
            code,
            site,
            location,
            path,
            observed,
            first_seen: first_seen
                .get(&fingerprint)
                .cloned()
                .unwrap_or_else(|| started.to_string()),
            last_seen: started.to_string(),
            fingerprint,
        });
    }
    Ok(findings)
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
        "SELECT id, started, ended, duration_seconds, exit_code, locations, unreadable_locations, files,
                errors, warnings, infos, causes, tool_version
         FROM runs ORDER BY id",
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
            "version",
        ],
        rows,
    })
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
/// what it is about and then by time.
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
            "fingerprint",
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
        narrow("s.site = ? COLLATE NOCASE", &filter.site);
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
         FROM {table} s {} ORDER BY {order}, s.first_run, s.id",
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
