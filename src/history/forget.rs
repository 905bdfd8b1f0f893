//! Expected locations (issue 26 item 4): every location the history has
//! seen is expected again in each run over its roots, and missing it is an
//! A01 finding, until it is dropped on purpose with
//! `smsaudit history FILE --forget LOCATION` (recorded in
//! `forgotten_locations`, schema 3). Read one row per location, whatever
//! the number of runs.

use super::past::SeenLocation;
use anyhow::{bail, Result};
use rusqlite::{Connection, OptionalExtension};
use std::collections::BTreeMap;

/// The locations the history expects: each seen location with its latest
/// state (kind, path, sites) and the start of the last run that saw it,
/// less those forgotten and not seen since; sorted by name.
pub(crate) fn expected_locations(conn: &Connection) -> Result<Vec<SeenLocation>> {
    // SQLite takes the bare columns of a max() aggregate from its row.
    let mut query = conn.prepare(
        "SELECT l.location, l.kind, l.root, l.sites, max(l.last_run), r.started
         FROM location_states l JOIN runs r ON r.id = l.last_run
         GROUP BY l.location",
    )?;
    let mut seen: BTreeMap<String, (i64, SeenLocation)> = BTreeMap::new();
    let rows = query.query_map([], |row| {
        let sites: String = row.get(3)?;
        Ok((
            row.get::<_, i64>(4)?,
            SeenLocation {
                name: row.get(0)?,
                kind: row.get(1)?,
                path: row.get(2)?,
                sites: sites.split_whitespace().map(str::to_string).collect(),
                last_seen: row.get(5)?,
            },
        ))
    })?;
    for row in rows {
        let (run, location) = row?;
        // Names are not case-sensitive: the latest spelling stands for all.
        let key = location.name.to_lowercase();
        if seen.get(&key).is_none_or(|(known, _)| *known < run) {
            seen.insert(key, (run, location));
        }
    }
    let forgotten = forgotten(conn)?;
    Ok(seen
        .into_iter()
        .filter(|(key, (run, _))| forgotten.get(key).is_none_or(|after| run > after))
        .map(|(_, (_, location))| location)
        .collect())
}

/// Forgotten locations (lower case) with the latest run when forgotten;
/// none in a history older than schema 3.
fn forgotten(conn: &Connection) -> Result<BTreeMap<String, i64>> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'forgotten_locations'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(BTreeMap::new());
    }
    let mut query = conn.prepare("SELECT location, after_run FROM forgotten_locations")?;
    let rows = query.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (location, after) = row?;
        out.insert(location.to_lowercase(), after);
    }
    Ok(out)
}

/// `history --forget LOCATION`: drops a location from what later runs
/// expect. Returns the name as the history spells it and the start of the
/// last run that saw it. A location the history never saw is refused.
pub(crate) fn forget(conn: &mut Connection, location: &str, now: &str) -> Result<(String, String)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let known: Option<(String, String)> = tx
        .query_row(
            "SELECT l.location, r.started FROM location_states l JOIN runs r ON r.id = l.last_run
             WHERE l.location = ?1 COLLATE NOCASE ORDER BY l.last_run DESC LIMIT 1",
            [location],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((name, last_seen)) = known else {
        bail!("the history has never seen location {location:?}: give it as `smsaudit history FILE` lists locations (\\\\SERVER\\SHARE)");
    };
    let latest: i64 = tx.query_row("SELECT coalesce(max(id), 0) FROM runs", [], |row| row.get(0))?;
    tx.execute(
        "INSERT INTO forgotten_locations (location, forgotten, after_run) VALUES (?1, ?2, ?3)
         ON CONFLICT (location) DO UPDATE SET forgotten = excluded.forgotten, after_run = excluded.after_run",
        rusqlite::params![name, now, latest],
    )?;
    tx.commit()?;
    Ok((name, last_seen))
}
