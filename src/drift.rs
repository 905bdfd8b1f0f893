//! Drift between two audits: files added, removed, changed or moved, and
//! version stamps that changed, per location. Works on saved `audit.json`
//! files, so two snapshots can be compared without rescanning.

use crate::model::{Location, Stamp};
use crate::records::FileRecords;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// An audit.json as read from disk: the snapshot's parts, plus what tells
/// an smsaudit audit.json from any other JSON document. Read in one pass.
#[derive(Deserialize)]
struct SavedAudit {
    tool: Option<String>,
    locations: Option<Vec<SnapshotLocation>>,
    files: Option<Vec<SnapshotFile>>,
    #[serde(default)]
    stamps: Vec<SnapshotStamp>,
}

/// The parts of an `audit.json` that drift is computed from.
#[derive(Debug, Clone, Deserialize)]
pub struct Snapshot {
    #[serde(default)]
    pub locations: Vec<SnapshotLocation>,
    #[serde(default)]
    pub files: Vec<SnapshotFile>,
    #[serde(default)]
    pub stamps: Vec<SnapshotStamp>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotLocation {
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotFile {
    pub location: String,
    pub path: String,
    pub size: Option<u64>,
    pub modified: Option<String>,
    pub sha256: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotStamp {
    pub location: String,
    pub component: String,
    pub artifact: String,
    #[serde(default)]
    pub detail: String,
    pub value: String,
    pub path: String,
}

/// What kind of change a drift row reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    LocationAdded,
    LocationRemoved,
    LocationUnreadable,
    Added,
    Removed,
    Changed,
    Moved,
    Version,
}

impl ChangeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::LocationAdded => "location_added",
            ChangeKind::LocationRemoved => "location_removed",
            ChangeKind::LocationUnreadable => "location_unreadable",
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
            ChangeKind::Moved => "moved",
            ChangeKind::Version => "version",
        }
    }
}

/// One row of `drift.csv`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    pub location: String,
    pub path: String,
    pub change: ChangeKind,
    /// For a move: where the file was before.
    pub old_path: String,
    /// What changed: `content, size, modified time`, or the stamp's item.
    pub what: String,
    pub old: String,
    pub new: String,
}

impl Change {
    /// The columns of drift.csv and of the Drift sheet, in order.
    pub(crate) const COLUMNS: [&'static str; 7] = ["change", "location", "path", "old_path", "what", "old", "new"];

    /// The change's values in [`Change::COLUMNS`] order.
    pub(crate) fn cells(&self) -> [&str; 7] {
        [
            self.change.as_str(),
            &self.location,
            &self.path,
            &self.old_path,
            &self.what,
            &self.old,
            &self.new,
        ]
    }
}

impl Snapshot {
    /// Reads an audit.json written by smsaudit; anything else (another
    /// JSON document, a FIFO, a folder) is refused with a reason.
    pub(crate) fn load(path: &Path) -> Result<Snapshot> {
        let not_audit = || format!("baseline {} is not an smsaudit audit.json", path.display());
        let bytes = crate::input::read_regular_file(path, "baseline")?;
        let saved: SavedAudit = serde_json::from_slice(&bytes).with_context(not_audit)?;
        match saved {
            SavedAudit {
                tool: Some(tool),
                locations: Some(locations),
                files: Some(files),
                stamps,
            } if tool == "smsaudit" => Ok(Snapshot {
                locations,
                files,
                stamps,
            }),
            _ => anyhow::bail!(
                "{}: it has no \"tool\": \"smsaudit\" with locations and files; pass the audit.json of an earlier run",
                not_audit()
            ),
        }
    }

    /// The snapshot of a fresh audit, spelled as its audit.json would be, so it
    /// compares equal to one loaded from disk (without serialising the whole
    /// audit, matrix and all, to get there).
    /// The snapshot of an audit without its files, which
    /// [`Snapshot::files_of`] reads one at a time.
    pub(crate) fn of(locations: &[Location], stamps: &[Stamp]) -> Snapshot {
        let files = Vec::new();
        Snapshot {
            locations: locations
                .iter()
                .map(|l| SnapshotLocation {
                    name: l.name.clone(),
                    status: l.status.as_str().to_string(),
                    reason: l.reason.clone(),
                })
                .collect(),
            files,
            stamps: stamps
                .iter()
                .map(|s| SnapshotStamp {
                    location: s.location.clone(),
                    component: s.component.clone(),
                    artifact: serde_json::to_value(s.artifact)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    detail: s.detail.clone(),
                    value: s.value.clone(),
                    path: s.path.clone(),
                })
                .collect(),
        }
    }

    /// The files of an audit as drift compares them, in (location, path)
    /// order.
    pub(crate) fn files_of(files: &FileRecords) -> impl Iterator<Item = std::io::Result<SnapshotFile>> + '_ {
        files.iter().map(|f| {
            f.map(|f| SnapshotFile {
                location: f.location,
                path: f.path,
                size: f.size,
                modified: f.modified,
                sha256: f.sha256,
                status: f.status.as_str().to_string(),
            })
        })
    }
}

/// Everything that changed from `old` to `new`, sorted. A location that is
/// unreadable in either snapshot gives one row, not a row per file.
pub(crate) fn compare(old: &Snapshot, new: &Snapshot) -> Vec<Change> {
    let files = new.files.iter().cloned().map(Ok);
    compare_with_files(old, new, files).unwrap_or_else(|_| unreachable!("files in memory cannot fail"))
}

/// [`compare`] with the new files read from `new_files` (sorted by
/// location and path) instead of `new.files`, so they are never all held.
pub(crate) fn compare_with_files(
    old: &Snapshot,
    new: &Snapshot,
    new_files: impl Iterator<Item = std::io::Result<SnapshotFile>>,
) -> std::io::Result<Vec<Change>> {
    let mut changes = Vec::new();
    let old_locations: BTreeMap<&str, &SnapshotLocation> = old.locations.iter().map(|l| (l.name.as_str(), l)).collect();
    let new_locations: BTreeMap<&str, &SnapshotLocation> = new.locations.iter().map(|l| (l.name.as_str(), l)).collect();
    let mut comparable: BTreeSet<&str> = BTreeSet::new();
    for (name, location) in &new_locations {
        match old_locations.get(name) {
            None => changes.push(location_change(name, ChangeKind::LocationAdded, "", &location.status)),
            Some(before) if location.status != "ok" && before.status == "ok" => changes.push(location_change(
                name,
                ChangeKind::LocationUnreadable,
                "ok",
                &format!("{}: {}", location.status, location.reason),
            )),
            Some(before) if location.status == "ok" && before.status == "ok" => {
                comparable.insert(name);
            }
            Some(_) => {}
        }
    }
    for (name, location) in &old_locations {
        if !new_locations.contains_key(name) {
            changes.push(location_change(name, ChangeKind::LocationRemoved, &location.status, ""));
        }
    }
    compare_files(old, new_files, &comparable, &mut changes)?;
    compare_stamps(old, new, &comparable, &mut changes);
    changes.sort();
    Ok(changes)
}

fn location_change(name: &str, change: ChangeKind, old: &str, new: &str) -> Change {
    Change {
        location: name.to_string(),
        path: String::new(),
        change,
        old_path: String::new(),
        what: "location".into(),
        old: old.to_string(),
        new: new.to_string(),
    }
}

/// Compares `new`, read one file at a time in (location, path) order, with
/// the files of `old`: only the old snapshot and the changes are held.
fn compare_files(
    old: &Snapshot,
    new: impl Iterator<Item = std::io::Result<SnapshotFile>>,
    comparable: &BTreeSet<&str>,
    changes: &mut Vec<Change>,
) -> std::io::Result<()> {
    let mut before: BTreeMap<&str, BTreeMap<&str, &SnapshotFile>> = BTreeMap::new();
    for f in old.files.iter().filter(|f| comparable.contains(f.location.as_str())) {
        before.entry(&f.location).or_default().insert(&f.path, f);
    }
    let mut added: Vec<SnapshotFile> = Vec::new();
    for file in new {
        let file = file?;
        if !comparable.contains(file.location.as_str()) {
            continue;
        }
        let previous = before
            .get_mut(file.location.as_str())
            .and_then(|paths| paths.remove(file.path.as_str()));
        match previous {
            None => added.push(file),
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
                    changes.push(Change {
                        location: file.location.clone(),
                        path: file.path.clone(),
                        change: ChangeKind::Changed,
                        old_path: String::new(),
                        what: what.join(", "),
                        old: describe(previous),
                        new: describe(&file),
                    });
                }
            }
        }
    }
    // What is left of the old files is not there any more.
    let removed: Vec<&SnapshotFile> = before.into_values().flat_map(BTreeMap::into_values).collect();
    // A removed and an added file with the same hash in one location is a move.
    let mut moved_from: BTreeSet<(String, String)> = BTreeSet::new();
    for file in &added {
        let origin = file.sha256.as_ref().and_then(|hash| {
            removed.iter().find(|r| {
                r.location == file.location
                    && r.sha256.as_ref() == Some(hash)
                    && !moved_from.contains(&(r.location.clone(), r.path.clone()))
            })
        });
        match origin {
            Some(origin) => {
                moved_from.insert((origin.location.clone(), origin.path.clone()));
                changes.push(Change {
                    location: file.location.clone(),
                    path: file.path.clone(),
                    change: ChangeKind::Moved,
                    old_path: origin.path.clone(),
                    what: "path".into(),
                    old: origin.path.clone(),
                    new: file.path.clone(),
                });
            }
            None => changes.push(Change {
                location: file.location.clone(),
                path: file.path.clone(),
                change: ChangeKind::Added,
                old_path: String::new(),
                what: "file".into(),
                old: String::new(),
                new: describe(file),
            }),
        }
    }
    for file in removed {
        if !moved_from.contains(&(file.location.clone(), file.path.clone())) {
            changes.push(Change {
                location: file.location.clone(),
                path: file.path.clone(),
                change: ChangeKind::Removed,
                old_path: String::new(),
                what: "file".into(),
                old: describe(file),
                new: String::new(),
            });
        }
    }
    Ok(())
}

/// `size 67, modified 2001-01-18T00:00:00Z, sha256 ab12...`, or the status.
fn describe(file: &SnapshotFile) -> String {
    let mut parts = Vec::new();
    if file.status != "ok" {
        parts.push(file.status.clone());
    }
    if let Some(size) = file.size {
        parts.push(format!("size {size}"));
    }
    if let Some(modified) = &file.modified {
        parts.push(format!("modified {modified}"));
    }
    if let Some(hash) = &file.sha256 {
        parts.push(format!("sha256 {hash}"));
    }
    parts.join(", ")
}

fn compare_stamps(old: &Snapshot, new: &Snapshot, comparable: &BTreeSet<&str>, changes: &mut Vec<Change>) {
    type Key = (String, String, String, String);
    let index = |s: &'_ Snapshot| -> BTreeMap<Key, SnapshotStamp> {
        s.stamps
            .iter()
            .filter(|st| comparable.contains(st.location.as_str()))
            .map(|st| {
                let key = (
                    st.location.clone(),
                    st.component.clone(),
                    st.artifact.clone(),
                    st.detail.clone(),
                );
                (key, st.clone())
            })
            .collect()
    };
    let (before, after) = (index(old), index(new));
    let keys: BTreeSet<&Key> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let (was, now) = (before.get(key), after.get(key));
        let old_value = was.map(|s| s.value.as_str());
        let new_value = now.map(|s| s.value.as_str());
        if old_value == new_value {
            continue;
        }
        let stamp = now
            .or(was)
            .unwrap_or_else(|| unreachable!("key comes from one of the maps"));
        let item = if stamp.detail.is_empty() {
            format!("{} {}", stamp.component, stamp.artifact)
        } else {
            format!("{} {} {}", stamp.component, stamp.artifact, stamp.detail)
        };
        let show = |v: Option<&str>| match v {
            None => "(none)".to_string(),
            Some("") => crate::sms::version::EMPTY_VERSION.to_string(),
            Some(v) => v.to_string(),
        };
        changes.push(Change {
            location: stamp.location.clone(),
            path: stamp.path.clone(),
            change: ChangeKind::Version,
            old_path: String::new(),
            what: item,
            old: show(old_value),
            new: show(new_value),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, hash: &str, modified: &str) -> SnapshotFile {
        SnapshotFile {
            location: r"\\S\CAP_AB1".into(),
            path: path.into(),
            size: Some(1),
            modified: Some(modified.into()),
            sha256: Some(hash.into()),
            status: "ok".into(),
        }
    }

    fn snapshot(files: Vec<SnapshotFile>) -> Snapshot {
        Snapshot {
            locations: vec![SnapshotLocation {
                name: r"\\S\CAP_AB1".into(),
                status: "ok".into(),
                reason: String::new(),
            }],
            files,
            stamps: Vec::new(),
        }
    }

    #[test]
    fn a_fresh_audit_and_its_saved_json_are_the_same_snapshot() {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-shares");
        let audit = crate::run_audit(&crate::Config::new(vec![sample]));
        let mut json = Vec::new();
        crate::report::json::write(&audit, &mut json).unwrap();
        let saved: Snapshot = serde_json::from_slice(&json).unwrap();
        let mut fresh = Snapshot::of(&audit.locations, &audit.stamps);
        let streamed = compare_with_files(&saved, &fresh, Snapshot::files_of(&audit.files)).unwrap();
        assert_eq!(streamed, Vec::new());
        fresh.files = Snapshot::files_of(&audit.files)
            .collect::<std::io::Result<_>>()
            .unwrap();
        assert!(fresh.stamps.iter().any(|s| s.artifact == "cfg"));
        assert_eq!(fresh.files.len(), saved.files.len());
        assert_eq!(compare(&saved, &fresh), Vec::new());
        assert_eq!(compare(&fresh, &saved), Vec::new());
    }

    #[test]
    fn classifies_each_change_once() {
        let old = snapshot(vec![
            file("same", "a", "t1"),
            file("edited", "b", "t1"),
            file("touched", "c", "t1"),
            file("old-name", "d", "t1"),
            file("gone", "e", "t1"),
        ]);
        let new = snapshot(vec![
            file("same", "a", "t1"),
            file("edited", "B", "t2"),
            file("touched", "c", "t2"),
            file("new-name", "d", "t1"),
            file("fresh", "f", "t1"),
        ]);
        let changes = compare(&old, &new);
        let summary: Vec<(&str, &str, &str)> = changes
            .iter()
            .map(|c| (c.path.as_str(), c.change.as_str(), c.what.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("edited", "changed", "content, modified time"),
                ("fresh", "added", "file"),
                ("gone", "removed", "file"),
                ("new-name", "moved", "path"),
                ("touched", "changed", "modified time"),
            ]
        );
    }

    #[test]
    fn unreadable_location_is_one_row() {
        let old = snapshot(vec![file("a", "a", "t")]);
        let mut new = snapshot(Vec::new());
        new.locations[0].status = "unreadable".into();
        let changes = compare(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, ChangeKind::LocationUnreadable);
    }
}
