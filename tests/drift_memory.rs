//! Drift holds what changed, never the old side whole: a baseline audit.json
//! and the history's previous run are read as streams and merged with the
//! new files. Checked against a copy of the in-memory comparison smsaudit
//! used before (the reference), with a counting allocator for memory, and
//! for moves, that pairing stays linear.

use crate::common;

use smsaudit::audit::HistoryFile;
use smsaudit::audit::{compare, Change, ChangeKind, Snapshot};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
struct File {
    location: String,
    path: String,
    size: Option<u64>,
    modified: Option<String>,
    sha256: Option<String>,
    status: String,
}

#[derive(Debug, Clone)]
struct Audit {
    /// Name and status of each location.
    locations: Vec<(String, String)>,
    files: Vec<File>,
}

/// Writes `audit` as an audit.json with its files in the order given.
fn write_audit(path: &Path, audit: &Audit) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let locations: Vec<serde_json::Value> = audit
        .locations
        .iter()
        .map(|(name, status)| serde_json::json!({"name": name, "status": status, "reason": "why"}))
        .collect();
    write!(
        out,
        r#"{{"tool":"smsaudit","version":"test","locations":{},"stamps":[],"files":["#,
        serde_json::Value::from(locations)
    )
    .unwrap();
    for (n, f) in audit.files.iter().enumerate() {
        let entry = serde_json::json!({
            "location": f.location, "path": f.path, "size": f.size, "modified": f.modified,
            "sha256": f.sha256, "status": f.status, "kind": "other", "version": null,
        });
        write!(out, "{}{entry}", if n == 0 { "" } else { "," }).unwrap();
    }
    write!(out, r#"],"findings":[]}}"#).unwrap();
    out.flush().unwrap();
}

/// The comparison as smsaudit made it before drift streamed (everything
/// in memory, moves found by a scan): the reference. What was unreadable
/// in either snapshot is not compared (issue 26): a `not_compared` row for
/// it, nothing for what lies under it.
fn reference(old: &Audit, new: &Audit) -> Vec<Change> {
    let change = |location: &str, path: &str, change, old_path: &str, what: &str, old: String, new: String| Change {
        location: location.into(),
        path: path.into(),
        change,
        old_path: old_path.into(),
        what: what.into(),
        old,
        new,
    };
    let describe = |f: &File| {
        let mut parts = Vec::new();
        if f.status != "ok" {
            parts.push(f.status.clone());
        }
        if let Some(size) = f.size {
            parts.push(format!("size {size}"));
        }
        if let Some(modified) = &f.modified {
            parts.push(format!("modified {modified}"));
        }
        if let Some(hash) = &f.sha256 {
            parts.push(format!("sha256 {hash}"));
        }
        parts.join(", ")
    };
    let mut changes = Vec::new();
    let old_locations: BTreeMap<&str, &str> = old.locations.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    let new_locations: BTreeMap<&str, &str> = new.locations.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    let mut comparable = BTreeSet::new();
    for (name, status) in &new_locations {
        match old_locations.get(name) {
            None => changes.push(change(
                name,
                "",
                ChangeKind::LocationAdded,
                "",
                "location",
                String::new(),
                status.to_string(),
            )),
            Some(&"ok") if *status != "ok" => changes.push(change(
                name,
                "",
                ChangeKind::LocationUnreadable,
                "",
                "location",
                "ok".into(),
                format!("{status}: why"),
            )),
            Some(&"ok") if *status == "ok" => {
                comparable.insert(*name);
            }
            Some(before) => changes.push(change(
                name,
                "",
                ChangeKind::NotCompared,
                "",
                "location",
                format!("{before}: why"),
                if *status == "ok" {
                    "ok".into()
                } else {
                    format!("{status}: why")
                },
            )),
        }
    }
    for (name, status) in &old_locations {
        if !new_locations.contains_key(name) {
            changes.push(change(
                name,
                "",
                ChangeKind::LocationRemoved,
                "",
                "location",
                status.to_string(),
                String::new(),
            ));
        }
    }
    let state = |f: &File| {
        if f.status == "unreadable" {
            "unreadable".to_string()
        } else {
            describe(f)
        }
    };
    let unread: BTreeSet<(&str, &str)> = old
        .files
        .iter()
        .chain(&new.files)
        .filter(|f| f.status == "unreadable")
        .map(|f| (f.location.as_str(), f.path.as_str()))
        .collect();
    let under = |f: &File| {
        f.path
            .char_indices()
            .filter(|(_, c)| *c == '\\')
            .any(|(at, _)| unread.contains(&(f.location.as_str(), &f.path[..at])))
    };
    let mut before: BTreeMap<&str, BTreeMap<&str, &File>> = BTreeMap::new();
    for f in old.files.iter().filter(|f| comparable.contains(f.location.as_str())) {
        if under(f) {
            continue;
        }
        before.entry(&f.location).or_default().insert(&f.path, f);
    }
    let mut sorted_new: Vec<&File> = new.files.iter().collect();
    sorted_new.sort_by(|a, b| (&a.location, &a.path).cmp(&(&b.location, &b.path)));
    let mut added = Vec::new();
    for file in sorted_new
        .into_iter()
        .filter(|f| comparable.contains(f.location.as_str()) && !under(f))
    {
        match before
            .get_mut(file.location.as_str())
            .and_then(|p| p.remove(file.path.as_str()))
        {
            None if file.status == "unreadable" => changes.push(change(
                &file.location,
                &file.path,
                ChangeKind::NotCompared,
                "",
                "file",
                "(not found)".into(),
                state(file),
            )),
            None => added.push(file),
            Some(previous) if previous.status == "unreadable" || file.status == "unreadable" => changes.push(change(
                &file.location,
                &file.path,
                ChangeKind::NotCompared,
                "",
                "file",
                state(previous),
                state(file),
            )),
            Some(previous) => {
                let mut what = Vec::new();
                if previous.sha256 != file.sha256 && previous.sha256.is_some() && file.sha256.is_some() {
                    what.push("content");
                }
                if previous.size != file.size {
                    what.push("size");
                }
                if previous.modified != file.modified {
                    what.push("modified time");
                }
                if previous.status != file.status {
                    what.push("status");
                }
                if !what.is_empty() {
                    let what = what.join(", ");
                    changes.push(change(
                        &file.location,
                        &file.path,
                        ChangeKind::Changed,
                        "",
                        &what,
                        describe(previous),
                        describe(file),
                    ));
                }
            }
        }
    }
    let (unreadable, removed): (Vec<&File>, Vec<&File>) = before
        .into_values()
        .flat_map(BTreeMap::into_values)
        .partition(|f| f.status == "unreadable");
    for file in unreadable {
        changes.push(change(
            &file.location,
            &file.path,
            ChangeKind::NotCompared,
            "",
            "file",
            state(file),
            "(not found)".into(),
        ));
    }
    let mut moved_from = BTreeSet::new();
    for file in &added {
        let origin = file.sha256.as_ref().and_then(|hash| {
            removed.iter().find(|r| {
                r.location == file.location
                    && r.sha256.as_ref() == Some(hash)
                    && !moved_from.contains(&(&r.location, &r.path))
            })
        });
        match origin {
            Some(origin) => {
                moved_from.insert((&origin.location, &origin.path));
                changes.push(change(
                    &file.location,
                    &file.path,
                    ChangeKind::Moved,
                    &origin.path,
                    "path",
                    origin.path.clone(),
                    file.path.clone(),
                ));
            }
            None => changes.push(change(
                &file.location,
                &file.path,
                ChangeKind::Added,
                "",
                "file",
                String::new(),
                describe(file),
            )),
        }
    }
    for file in removed {
        if !moved_from.contains(&(&file.location, &file.path)) {
            changes.push(change(
                &file.location,
                &file.path,
                ChangeKind::Removed,
                "",
                "file",
                describe(file),
                String::new(),
            ));
        }
    }
    changes.sort();
    changes
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An old audit and a new one derived from it: files added, removed,
/// changed (content, size, time, status) and renamed, several files with
/// one hash, locations added, removed and unreadable.
fn generated_pair(seed: u64) -> (Audit, Audit) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // Names whose byte order differs from a case-blind or Unicode order.
    let names = ["Base", "base", "clicomp.box", "Ä", "z", "_x", "a\\b", "é"];
    let path = |rng: &mut Rng| {
        format!(
            "{}\\{}{}",
            names[rng.below(names.len() as u64) as usize],
            names[rng.below(names.len() as u64) as usize],
            rng.below(40)
        )
    };
    let hash = |rng: &mut Rng| Some(format!("{:064x}", rng.below(12)));
    let mut old = Audit {
        locations: Vec::new(),
        files: Vec::new(),
    };
    let mut new = old.clone();
    for l in 0..7 {
        let name = format!(r"\\SRV{}\CAP_{l}", l % 3);
        let (was, now) = match l {
            0 => (Some("ok"), None),
            1 => (None, Some("ok")),
            2 => (Some("ok"), Some("unreadable")),
            3 => (Some("unreadable"), Some("ok")),
            _ => (Some("ok"), Some("ok")),
        };
        old.locations.extend(was.map(|s| (name.clone(), s.to_string())));
        new.locations.extend(now.map(|s| (name.clone(), s.to_string())));
        let mut paths = BTreeSet::new();
        for _ in 0..rng.below(120) {
            paths.insert(path(&mut rng));
        }
        for p in &paths {
            let file = File {
                location: name.clone(),
                path: p.clone(),
                size: Some(rng.below(5)),
                modified: Some(format!("2001-01-0{}T00:00:00Z", 1 + rng.below(3))),
                sha256: if rng.below(10) == 0 { None } else { hash(&mut rng) },
                status: if rng.below(15) == 0 { "unreadable" } else { "ok" }.into(),
            };
            if was.is_some() {
                old.files.push(file.clone());
            }
            if now.is_none() {
                continue;
            }
            let mut file = file;
            match rng.below(12) {
                0 => continue,
                1 => file.sha256 = hash(&mut rng),
                2 => file.size = Some(9),
                3 => file.modified = None,
                4 => file.status = "unreadable".into(),
                5 | 6 => file.path = path(&mut rng),
                _ => {}
            }
            if paths.contains(&file.path) && file.path != *p {
                continue;
            }
            if new
                .files
                .iter()
                .any(|f| f.location == file.location && f.path == file.path)
            {
                continue;
            }
            new.files.push(file);
        }
        for _ in 0..rng.below(10) {
            let p = path(&mut rng);
            if now.is_some() && !new.files.iter().any(|f| f.location == name && f.path == p) {
                new.files.push(File {
                    location: name.clone(),
                    path: p,
                    size: Some(1),
                    modified: None,
                    sha256: hash(&mut rng),
                    status: "ok".into(),
                });
            }
        }
    }
    let order = |a: &File, b: &File| (&a.location, &a.path).cmp(&(&b.location, &b.path));
    old.files.sort_by(order);
    new.files.sort_by(order);
    (old, new)
}

fn load(dir: &Path, name: &str, audit: &Audit) -> Snapshot {
    let path = dir.join(name);
    write_audit(&path, audit);
    Snapshot::load(&path).unwrap()
}

#[test]
fn streamed_drift_equals_the_in_memory_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let mut kinds = BTreeSet::new();
    for seed in 1..=40 {
        let (old, new) = generated_pair(seed);
        let want = reference(&old, &new);
        kinds.extend(want.iter().map(|c| c.change));
        let got = compare(&load(dir.path(), "old.json", &old), &load(dir.path(), "new.json", &new)).unwrap();
        assert_eq!(got, want, "seed {seed}");
        // And the other way round.
        let got = compare(&load(dir.path(), "old.json", &new), &load(dir.path(), "new.json", &old)).unwrap();
        assert_eq!(got, reference(&new, &old), "seed {seed}, reversed");
    }
    let every = [
        ChangeKind::LocationAdded,
        ChangeKind::LocationRemoved,
        ChangeKind::LocationUnreadable,
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Changed,
        ChangeKind::Moved,
        ChangeKind::NotCompared,
    ];
    assert!(
        every.iter().all(|k| kinds.contains(k)),
        "the pairs miss some kinds: {kinds:?}"
    );
}

/// Files out of (location, path) order (hand-edited, another tool) give
/// the same drift as the same files in order.
#[test]
fn a_baseline_out_of_order_gives_the_right_drift() {
    let dir = tempfile::tempdir().unwrap();
    for seed in 41..=50 {
        let (mut old, mut new) = generated_pair(seed);
        let want = reference(&old, &new);
        old.files.reverse();
        let mut rng = Rng(seed);
        for n in (1..new.files.len()).rev() {
            new.files.swap(n, rng.below(n as u64 + 1) as usize);
        }
        let got = compare(&load(dir.path(), "old.json", &old), &load(dir.path(), "new.json", &new)).unwrap();
        assert_eq!(got, want, "seed {seed}");
    }
}

/// A file listed twice has no one right drift: refused with a reason.
#[test]
fn a_baseline_listing_a_file_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut old, _) = generated_pair(7);
    let twice = old.files[3].clone();
    old.files.push(twice.clone());
    let path = dir.path().join("old.json");
    write_audit(&path, &old);
    let err = format!("{:#}", Snapshot::load(&path).unwrap_err());
    assert!(err.contains("twice") && err.contains(&twice.path), "{err}");
}

/// `count` files in one location, each with a hash of its own except
/// every other one, which all share one.
fn bulk(location: &str, count: usize, prefix: &str) -> Audit {
    let files = (0..count)
        .map(|n| File {
            location: location.into(),
            path: format!("{prefix}\\f{n:06}.dat"),
            size: Some(n as u64),
            modified: Some("2001-01-18T00:00:00Z".into()),
            sha256: Some(if n % 2 == 0 {
                "0".repeat(64)
            } else {
                format!("{n:064x}")
            }),
            status: "ok".into(),
        })
        .collect();
    Audit {
        locations: vec![(location.into(), "ok".into())],
        files,
    }
}

const LOCATION: &str = r"\\SRV\CAP_AB1";

/// 200,000 files compared with themselves: memory far below what holding
/// the old files costs (~60 MiB and more).
#[test]
fn a_large_baseline_is_compared_in_little_memory() {
    // Counted over the process (the parse runs on a thread of its own), so
    // measured alone in a process of its own.
    if !common::in_own_process(module_path!(), "a_large_baseline_is_compared_in_little_memory") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.json");
    write_audit(&path, &bulk(LOCATION, 200_000, "clicomp.box"));
    let (changes, peak, _) =
        common::alloc::process_peak_during(|| compare(&Snapshot::load(&path)?, &Snapshot::load(&path)?));
    assert_eq!(changes.unwrap(), Vec::new());
    eprintln!("{peak} bytes at peak");
    assert!(peak < 16 << 20, "{} MiB at peak", peak >> 20);
}

/// The history's previous run of 200,000 files, compared with itself
/// (each side read from the history as a stream), in little memory; an
/// older history (schema 1, without the index the stream reads through)
/// is migrated and still works.
#[test]
fn a_large_history_run_is_compared_in_little_memory() {
    // Counted over the process (the parse runs on a thread of its own), so
    // measured alone in a process of its own.
    if !common::in_own_process(module_path!(), "a_large_history_run_is_compared_in_little_memory") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("h.sqlite");
    let run = common::smsaudit()
        .arg("audit")
        .arg(common::sample_shares())
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--history")
        .arg(&history)
        .args(["--format", "json", "--quiet", "--fail-on", "never"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    {
        let db = rusqlite::Connection::open(&history).unwrap();
        let location: String = db
            .query_row(
                "SELECT location FROM location_states WHERE status = 'ok' ORDER BY location LIMIT 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199999)
             INSERT INTO file_states (digest, first_run, last_run, location, path, size, modified, sha256, kind, status, reason)
             SELECT zeroblob(32), 1, 1, ?1, printf('bulk\\f%06d.dat', i), i, '2001-01-18T00:00:00Z',
                    printf('%064d', i), 'other', 'ok', '' FROM n",
            [location],
        )
        .unwrap();
        // As a history written before the index existed.
        db.execute_batch(
            "DROP INDEX file_states_location_path; DROP INDEX location_states_location;
             DROP INDEX stamp_states_location; ALTER TABLE runs DROP COLUMN finished;
             DROP TABLE forgotten_locations; DROP TABLE run_drift_counts; DROP TABLE run_drift;
             DROP TABLE run_leases; PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let (changes, peak, _) = common::alloc::process_peak_during(|| {
        let past = HistoryFile::new(history.clone()).past()?;
        let previous = past.previous.expect("the history has a run");
        compare(&previous.snapshot, &previous.snapshot)
    });
    assert_eq!(changes.unwrap(), Vec::new());
    eprintln!("{peak} bytes at peak");
    assert!(peak < 16 << 20, "{} MiB at peak", peak >> 20);
    let db = rusqlite::Connection::open(&history).unwrap();
    let indexed: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'file_states_location_path'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(indexed, 1, "the older history was migrated");
}

/// 20,000 files renamed in one location, half of them with one hash: every
/// one is a move, paired in path order (the n-th new name of a hash takes
/// the n-th old name), with allocations linear in the files (a scan of the
/// removed files for each added one made hundreds of millions).
#[test]
fn many_renames_pair_in_order_without_a_quadratic_scan() {
    // Counted over the process (the parse runs on a thread of its own), so
    // measured alone in a process of its own.
    if !common::in_own_process(module_path!(), "many_renames_pair_in_order_without_a_quadratic_scan") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = 20_000;
    let old = bulk(LOCATION, files, "before");
    let new = bulk(LOCATION, files, "after");
    let (old, new) = (load(dir.path(), "old.json", &old), load(dir.path(), "new.json", &new));
    let (changes, _, allocations) = common::alloc::process_peak_during(|| compare(&old, &new).unwrap());
    assert_eq!(changes.len(), files);
    for change in &changes {
        assert_eq!(change.change, ChangeKind::Moved, "{change:?}");
        assert_eq!(
            change.old_path.replace("before", "after"),
            change.path,
            "the n-th file of a hash pairs with the n-th"
        );
    }
    eprintln!("{allocations} allocations");
    assert!(
        allocations < 50 * files,
        "{allocations} allocations for {files} renames"
    );
}
