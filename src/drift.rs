//! Drift between two audits: files added, removed, changed or moved, and
//! version stamps that changed, per location. Works on saved `audit.json`
//! files and on the history, so two snapshots can be compared without
//! rescanning.
//!
//! Memory follows the drift, not the estate: a snapshot holds its locations
//! and stamps (a few per share) and reads its files as a stream in
//! (location, path) order, and [`compare_with_files`] merges the two
//! streams, holding only the changes and the candidates for moves.

use crate::model::{Artifact, Location, Stamp, Status};
use crate::records::FileRecords;
use anyhow::{anyhow, bail, Context, Result};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The parts of an audit that drift is computed from: its locations and
/// stamps, held, and its files, read as a stream when compared.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub locations: Vec<SnapshotLocation>,
    pub stamps: Vec<SnapshotStamp>,
    files: Files,
}

/// Where a snapshot's files are read from, each time in (location, path)
/// order, each (location, path) once.
#[derive(Debug, Clone)]
enum Files {
    Memory(Arc<Vec<SnapshotFile>>),
    /// An audit.json whose files were checked to be in order when loaded.
    Saved(Arc<SavedFile>),
    /// Another store: the history.
    Stream(Arc<dyn FileStream>),
}

/// What hands a snapshot's files to a comparison.
pub(crate) type Visit<'a> = &'a mut dyn FnMut(&mut dyn Iterator<Item = Result<SnapshotFile>>) -> Result<()>;

/// A store that can read a snapshot's files as a stream (the history keeps
/// them in SQLite, whose statements borrow their connection, so the store
/// calls the comparison rather than returning an iterator).
pub(crate) trait FileStream: std::fmt::Debug + Send + Sync {
    /// Calls `visit` once with the files in (location, path) order.
    fn stream(&self, visit: Visit) -> Result<()>;
}

/// A location as its audit.json shows it: the status is the reported one
/// ([`Status::reported`]).
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotLocation {
    pub name: String,
    pub status: Status,
    #[serde(default)]
    pub reason: String,
    /// Set when this location's files and stamps come from an earlier run
    /// than the baseline's latest (the history: the last run that read
    /// it); `None` in an audit.json.
    #[serde(skip)]
    pub since: Option<Since>,
}

/// Which earlier run a location is compared with, and what the latest run
/// of the baseline made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since {
    /// The start of the last run that read the location.
    pub started: String,
    /// The location in the baseline's latest run: `unreadable: <reason>`,
    /// or `not audited` when that run did not see it.
    pub latest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SnapshotFile {
    pub location: String,
    pub path: String,
    pub size: Option<u64>,
    pub modified: Option<String>,
    pub sha256: Option<String>,
    /// As reported ([`Status::reported`]).
    pub status: Status,
    /// Why it was not read, when it was not.
    #[serde(default)]
    pub reason: String,
}

impl SnapshotFile {
    fn key(&self) -> (&str, &str) {
        (&self.location, &self.path)
    }

    /// Near enough what it costs in memory, to bound a sort.
    fn approximate_size(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        std::mem::size_of::<SnapshotFile>()
            + self.location.len()
            + self.path.len()
            + text(&self.modified)
            + text(&self.sha256)
            + self.reason.len()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotStamp {
    pub location: String,
    pub component: String,
    pub artifact: Artifact,
    #[serde(default)]
    pub detail: String,
    pub value: String,
    pub path: String,
}

/// The most file entries, in bytes of memory, sorted in memory when a
/// baseline does not list them in (location, path) order (smsaudit always
/// does: only a hand-edited file or another tool's gets here).
const MAX_UNSORTED_BYTES: usize = 64 << 20;

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
    /// What was unreadable in the baseline or now: not compared, with why.
    NotCompared,
    /// A location the baseline's latest run did not read, read now and
    /// compared with the last run that did.
    LocationReadable,
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
            ChangeKind::NotCompared => "not_compared",
            ChangeKind::LocationReadable => "location_readable",
        }
    }

    /// Whether the row is a change (counted as drift, exit code 4), not a
    /// note on what was compared with what.
    pub(crate) fn is_change(self) -> bool {
        !matches!(self, ChangeKind::NotCompared | ChangeKind::LocationReadable)
    }
}

/// How many of `changes` are changes ([`ChangeKind::is_change`]).
pub(crate) fn count_changes(changes: &[Change]) -> usize {
    changes.iter().filter(|c| c.change.is_change()).count()
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
    /// JSON document, a FIFO, a folder) is refused with a reason. Only the
    /// locations and stamps are kept: the files are read again, as a
    /// stream, when compared. A file whose files are out of order is sorted
    /// in memory up to [`MAX_UNSORTED_BYTES`] and refused beyond.
    pub fn load(path: &Path) -> Result<Snapshot> {
        let not_audit = || format!("baseline {} is not an smsaudit audit.json", path.display());
        let saved = SavedFile {
            path: path.to_path_buf(),
            file: crate::input::open_regular_file(path, "baseline")?,
        };
        let mut order = OrderCheck::default();
        let parts = saved.read(&mut |file| {
            order.check(&file);
            Ok(())
        });
        let parts = parts.with_context(not_audit)?;
        let (locations, stamps) = match parts {
            SavedParts {
                tool: Some(tool),
                locations: Some(locations),
                has_files: true,
                stamps,
            } if tool == "smsaudit" => (locations, stamps),
            _ => bail!(
                "{}: it has no \"tool\": \"smsaudit\" with locations and files; pass the audit.json of an earlier run",
                not_audit()
            ),
        };
        let files = if order.in_order {
            Files::Saved(Arc::new(saved))
        } else {
            Files::Memory(Arc::new(saved.sort_in_memory()?))
        };
        Ok(Snapshot {
            locations,
            stamps,
            files,
        })
    }

    /// A snapshot whose files are read from `files` when compared.
    pub(crate) fn streamed(
        locations: Vec<SnapshotLocation>,
        stamps: Vec<SnapshotStamp>,
        files: Arc<dyn FileStream>,
    ) -> Snapshot {
        Snapshot {
            locations,
            stamps,
            files: Files::Stream(files),
        }
    }

    /// A snapshot held in memory (tests); the files are sorted
    /// here, and a file listed twice is refused.
    #[cfg(test)]
    pub(crate) fn in_memory(
        locations: Vec<SnapshotLocation>,
        mut files: Vec<SnapshotFile>,
        stamps: Vec<SnapshotStamp>,
    ) -> Result<Snapshot> {
        sort_once(&mut files).map_err(|(location, path)| anyhow!("file {path} of {location} is listed twice"))?;
        Ok(Snapshot {
            locations,
            stamps,
            files: Files::Memory(Arc::new(files)),
        })
    }

    /// The snapshot of a fresh audit, spelled as its audit.json would be, so it
    /// compares equal to one loaded from disk (without serialising the whole
    /// audit, matrix and all, to get there). Its files are not in it:
    /// [`Snapshot::files_of`] reads them one at a time.
    pub(crate) fn of(locations: &[Location], stamps: &[Stamp]) -> Snapshot {
        Snapshot {
            locations: locations
                .iter()
                .map(|l| SnapshotLocation {
                    name: l.name.clone(),
                    status: l.status.reported(),
                    reason: l.reason.clone(),
                    since: None,
                })
                .collect(),
            files: Files::Memory(Arc::new(Vec::new())),
            stamps: stamps
                .iter()
                .map(|s| SnapshotStamp {
                    location: s.location.to_string(),
                    component: s.component.to_string(),
                    artifact: s.artifact,
                    detail: s.detail.to_string(),
                    value: s.value.to_string(),
                    path: s.path.to_string(),
                })
                .collect(),
        }
    }

    /// The files of an audit as drift compares them, in (location, path)
    /// order.
    pub(crate) fn files_of(files: &FileRecords) -> impl Iterator<Item = std::io::Result<SnapshotFile>> + '_ {
        files.iter().map(|f| {
            f.map(|f| SnapshotFile {
                location: f.location.into(),
                path: f.path.into(),
                size: f.size,
                modified: f.modified.map(String::from),
                sha256: f.sha256.map(|digest| digest.to_string()),
                status: f.status.reported(),
                reason: f.reason.into(),
            })
        })
    }

    /// Calls `visit` once with this snapshot's files in (location, path)
    /// order.
    fn with_files(&self, visit: Visit) -> Result<()> {
        match &self.files {
            Files::Memory(files) => visit(&mut files.iter().cloned().map(Ok)),
            Files::Saved(saved) => saved.stream(visit),
            Files::Stream(store) => store.stream(visit),
        }
    }
}

/// Sorts files by (location, path); a key listed twice is returned.
fn sort_once(files: &mut [SnapshotFile]) -> Result<(), (String, String)> {
    files.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
    match files.windows(2).find(|pair| pair[0].key() == pair[1].key()) {
        Some(pair) => Err((pair[0].location.clone(), pair[0].path.clone())),
        None => Ok(()),
    }
}

/// Whether files come in strictly increasing (location, path) order.
#[derive(Debug)]
struct OrderCheck {
    last: Option<(String, String)>,
    in_order: bool,
}

impl Default for OrderCheck {
    fn default() -> OrderCheck {
        OrderCheck {
            last: None,
            in_order: true,
        }
    }
}

impl OrderCheck {
    fn check(&mut self, file: &SnapshotFile) -> bool {
        let follows = self
            .last
            .as_ref()
            .is_none_or(|(location, path)| (location.as_str(), path.as_str()) < file.key());
        self.in_order &= follows;
        match &mut self.last {
            Some((location, path)) => {
                location.clone_from(&file.location);
                path.clone_from(&file.path);
            }
            None => self.last = Some((file.location.clone(), file.path.clone())),
        }
        follows
    }
}

/// A baseline audit.json, kept open: it is read once to be checked when
/// loaded, and again for each comparison.
#[derive(Debug)]
struct SavedFile {
    path: PathBuf,
    file: File,
}

/// What an audit.json holds besides its files.
struct SavedParts {
    tool: Option<String>,
    locations: Option<Vec<SnapshotLocation>>,
    has_files: bool,
    stamps: Vec<SnapshotStamp>,
}

impl SavedFile {
    /// Parses the whole document, handing each element of `"files"` to
    /// `each` as it is parsed, in the document's order.
    fn read(&self, each: &mut dyn FnMut(SnapshotFile) -> Result<()>) -> Result<SavedParts> {
        let reader = BufReader::with_capacity(
            1 << 16,
            ReadAt {
                file: &self.file,
                offset: 0,
            },
        );
        let mut failed = None;
        let mut de = serde_json::Deserializer::from_reader(reader);
        let parsed = de::Deserializer::deserialize_map(
            &mut de,
            SavedVisitor {
                each,
                failed: &mut failed,
            },
        )
        .and_then(|parts| de.end().map(|()| parts));
        match (parsed, failed) {
            (_, Some(err)) => Err(err),
            (parsed, None) => Ok(parsed?),
        }
    }

    /// Every file, sorted, if they fit in [`MAX_UNSORTED_BYTES`].
    fn sort_in_memory(&self) -> Result<Vec<SnapshotFile>> {
        let name = self.path.display();
        let mut files = Vec::new();
        let mut held = 0;
        self.read(&mut |file| {
            held += file.approximate_size();
            if held > MAX_UNSORTED_BYTES {
                bail!(
                    "baseline {name} lists its files out of (location, path) order, and more of them than can be sorted in memory ({} MiB); pass the audit.json of an earlier run as smsaudit wrote it",
                    MAX_UNSORTED_BYTES >> 20
                );
            }
            files.push(file);
            Ok(())
        })?;
        sort_once(&mut files).map_err(|(location, path)| {
            anyhow!("baseline {name} lists file {path} of {location} twice; pass the audit.json of an earlier run as smsaudit wrote it")
        })?;
        Ok(files)
    }

    /// Reads the files again on a thread of their own, handing them to
    /// `visit` through a short queue: the parser pushes, the merge pulls.
    fn stream(&self, visit: Visit) -> Result<()> {
        let name = self.path.display().to_string();
        let name = name.as_str();
        std::thread::scope(|scope| {
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<SnapshotFile>>(1024);
            let parser = scope.spawn(move || {
                let mut order = OrderCheck::default();
                let read = self.read(&mut |file| {
                    if !order.check(&file) {
                        bail!("baseline {name} changed while it was read: its files are no longer in order");
                    }
                    sender
                        .send(Ok(file))
                        .map_err(|_| anyhow!("the comparison stopped reading"))
                });
                if let Err(err) = read {
                    let _ = sender.send(Err(err.context(format!("cannot read baseline {name}"))));
                }
            });
            let visited = visit(&mut receiver.into_iter());
            // The receiver is gone: a parser waiting to send gives up.
            let parsed = parser.join();
            visited?;
            parsed.map_err(|_| anyhow!("the reader of baseline {name} failed"))
        })
    }
}

/// Reads a file from an offset of its own, so clones of a snapshot may
/// read it at the same time.
struct ReadAt<'a> {
    file: &'a File,
    offset: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(self.file, buf, self.offset)?;
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(self.file, buf, self.offset)?;
        self.offset += read as u64;
        Ok(read)
    }
}

/// The top-level object of an audit.json: `"files"` handed on element by
/// element, `"tool"`, `"locations"` and `"stamps"` kept, the rest skipped.
struct SavedVisitor<'a, 'b> {
    each: &'a mut dyn FnMut(SnapshotFile) -> Result<()>,
    /// The error `each` gave, which stopped the parse.
    failed: &'b mut Option<anyhow::Error>,
}

impl<'de> Visitor<'de> for SavedVisitor<'_, '_> {
    type Value = SavedParts;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an smsaudit audit.json object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SavedParts, A::Error> {
        let (mut tool, mut locations, mut files, mut stamps) = (None, None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tool" if tool.is_some() => return Err(de::Error::duplicate_field("tool")),
                "tool" => tool = Some(map.next_value::<Option<String>>()?),
                "locations" if locations.is_some() => return Err(de::Error::duplicate_field("locations")),
                "locations" => locations = Some(map.next_value::<Option<Vec<SnapshotLocation>>>()?),
                "stamps" if stamps.is_some() => return Err(de::Error::duplicate_field("stamps")),
                "stamps" => stamps = Some(map.next_value::<Vec<SnapshotStamp>>()?),
                "files" if files.is_some() => return Err(de::Error::duplicate_field("files")),
                "files" => {
                    files = Some(map.next_value_seed(FilesSeed {
                        each: &mut *self.each,
                        failed: &mut *self.failed,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(SavedParts {
            tool: tool.flatten(),
            locations: locations.flatten(),
            has_files: files.unwrap_or(false),
            stamps: stamps.unwrap_or_default(),
        })
    }
}

/// `"files"`: `null` (no files: not an audit), or the array, each element
/// handed to `each`. Gives whether there was an array.
struct FilesSeed<'a, 'b> {
    each: &'a mut dyn FnMut(SnapshotFile) -> Result<()>,
    failed: &'b mut Option<anyhow::Error>,
}

impl<'de> DeserializeSeed<'de> for FilesSeed<'_, '_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for FilesSeed<'_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of files")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(file) = seq.next_element::<SnapshotFile>()? {
            if let Err(err) = (self.each)(file) {
                let message = format!("{err:#}");
                *self.failed = Some(err);
                return Err(de::Error::custom(message));
            }
        }
        Ok(true)
    }
}

/// Everything that changed from `old` to `new`, sorted, both read as
/// streams. A location that is unreadable in either snapshot gives one
/// row, not a row per file.
pub fn compare(old: &Snapshot, new: &Snapshot) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    new.with_files(&mut |new_files| {
        changes = compare_streams(old, new, new_files)?;
        Ok(())
    })?;
    Ok(changes)
}

/// [`compare`] with the new files read from `new_files` (sorted by
/// location and path; an audit's records, [`Snapshot::files_of`]) instead
/// of `new`'s own.
pub(crate) fn compare_with_files(
    old: &Snapshot,
    new: &Snapshot,
    new_files: impl Iterator<Item = std::io::Result<SnapshotFile>>,
) -> Result<Vec<Change>> {
    let mut new_files = new_files.map(|file| file.context("cannot read the file records back"));
    compare_streams(old, new, &mut new_files)
}

fn compare_streams(
    old: &Snapshot,
    new: &Snapshot,
    new_files: &mut dyn Iterator<Item = Result<SnapshotFile>>,
) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let old_locations: BTreeMap<&str, &SnapshotLocation> = old.locations.iter().map(|l| (l.name.as_str(), l)).collect();
    let new_locations: BTreeMap<&str, &SnapshotLocation> = new.locations.iter().map(|l| (l.name.as_str(), l)).collect();
    let mut comparable: BTreeSet<&str> = BTreeSet::new();
    for (name, location) in &new_locations {
        let Some(before) = old_locations.get(name) else {
            changes.push(location_change(
                name,
                ChangeKind::LocationAdded,
                "",
                location.status.as_str(),
            ));
            continue;
        };
        match (before.status == Status::Ok, location.status == Status::Ok) {
            (true, false) => changes.push(location_change(
                name,
                ChangeKind::LocationUnreadable,
                Status::Ok.as_str(),
                &location_state(location),
            )),
            (true, true) => {
                comparable.insert(name);
                if let Some(since) = &before.since {
                    changes.push(location_change(
                        name,
                        ChangeKind::LocationReadable,
                        &since.latest,
                        &format!("ok, compared with the run of {}", since.started),
                    ));
                }
            }
            // Nothing read of it to compare with, or nothing read now.
            (false, _) => changes.push(location_change(
                name,
                ChangeKind::NotCompared,
                &location_state(before),
                &location_state(location),
            )),
        }
    }
    for (name, location) in &old_locations {
        if !new_locations.contains_key(name) {
            changes.push(location_change(
                name,
                ChangeKind::LocationRemoved,
                location.status.as_str(),
                "",
            ));
        }
    }
    let mut unread = Unread::default();
    old.with_files(&mut |old_files| compare_files(old_files, new_files, &comparable, &mut unread, &mut changes))?;
    compare_stamps(old, new, &comparable, &unread, &mut changes);
    changes.sort();
    Ok(changes)
}

/// `ok`, or the status and why: `unreadable: access denied`.
fn location_state(location: &SnapshotLocation) -> String {
    match (location.status, location.reason.as_str()) {
        (Status::Ok, _) => Status::Ok.as_str().to_string(),
        (status, "") => status.as_str().to_string(),
        (status, reason) => format!("{}: {reason}", status.as_str()),
    }
}

/// The entries of comparable locations that were unreadable on either
/// side (a few: each is an A05 finding), so that what lies under an
/// unreadable folder, and the stamps read from them, are not reported as
/// removed, added or `(none)`.
#[derive(Debug, Default)]
struct Unread {
    paths: std::collections::HashSet<(String, String)>,
}

impl Unread {
    fn insert(&mut self, file: &SnapshotFile) {
        self.paths.insert((file.location.clone(), file.path.clone()));
    }

    /// Whether `path`, or a folder above it, was not read.
    fn covers(&self, location: &str, path: &str) -> bool {
        if self.paths.is_empty() {
            return false;
        }
        let unread = |p: &str| self.paths.contains(&(location.to_string(), p.to_string()));
        unread(path)
            || path
                .char_indices()
                .filter(|(_, c)| *c == '\\')
                .any(|(at, _)| unread(&path[..at]))
    }

    /// Whether `path` lies under a folder that was not read.
    fn under(&self, location: &str, path: &str) -> bool {
        !self.paths.is_empty()
            && path
                .char_indices()
                .filter(|(_, c)| *c == '\\')
                .any(|(at, _)| self.paths.contains(&(location.to_string(), path[..at].to_string())))
    }
}

/// `unreadable: <reason>` for a file not read, else what it was.
fn file_state(file: &SnapshotFile) -> String {
    match (file.status, file.reason.as_str()) {
        (Status::Unreadable, "") => Status::Unreadable.as_str().to_string(),
        (Status::Unreadable, reason) => format!("{}: {reason}", Status::Unreadable.as_str()),
        _ => describe(file),
    }
}

/// The row of an entry unreadable on one side at least.
fn not_compared(file: &SnapshotFile, old: String, new: String) -> Change {
    Change {
        location: file.location.clone(),
        path: file.path.clone(),
        change: ChangeKind::NotCompared,
        old_path: String::new(),
        what: "file".into(),
        old,
        new,
    }
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

/// The files of comparable locations from one side, checked to come in
/// strictly increasing (location, path) order: the merge is only right on
/// sorted streams, so anything else is an error, never a wrong drift.
struct Sorted<'a, 'b> {
    files: &'a mut dyn Iterator<Item = Result<SnapshotFile>>,
    comparable: &'b BTreeSet<&'b str>,
    order: OrderCheck,
    side: &'static str,
}

impl Sorted<'_, '_> {
    fn next(&mut self) -> Result<Option<SnapshotFile>> {
        for file in &mut *self.files {
            let file = file?;
            if !self.comparable.contains(file.location.as_str()) {
                continue;
            }
            if !self.order.check(&file) {
                bail!(
                    "the {} files are not in (location, path) order at {} {}",
                    self.side,
                    file.location,
                    file.path
                );
            }
            return Ok(Some(file));
        }
        Ok(None)
    }
}

/// Merges the old and the new files, both in (location, path) order: a
/// file on one side only is removed or added (or, paired by hash, moved),
/// one on both sides may have changed. Only the changes are held.
fn compare_files(
    old: &mut dyn Iterator<Item = Result<SnapshotFile>>,
    new: &mut dyn Iterator<Item = Result<SnapshotFile>>,
    comparable: &BTreeSet<&str>,
    unread: &mut Unread,
    changes: &mut Vec<Change>,
) -> Result<()> {
    let side = |files, side| Sorted {
        files,
        comparable,
        order: OrderCheck::default(),
        side,
    };
    let (mut old, mut new) = (side(old, "old"), side(new, "new"));
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    let (mut before, mut after) = (old.next()?, new.next()?);
    // A folder comes before what it holds, on both sides: by the time a
    // file is met, an unreadable folder above it is known.
    loop {
        let order = match (&before, &after) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(was), Some(now)) => was.key().cmp(&now.key()),
        };
        match order {
            Ordering::Less => {
                if let Some(was) = before.take() {
                    if was.status == Status::Unreadable {
                        unread.insert(&was);
                        changes.push(not_compared(&was, file_state(&was), "(not found)".into()));
                    } else if !unread.under(&was.location, &was.path) {
                        removed.push(was);
                    }
                }
                before = old.next()?;
            }
            Ordering::Greater => {
                if let Some(now) = after.take() {
                    if now.status == Status::Unreadable {
                        unread.insert(&now);
                        changes.push(not_compared(&now, "(not found)".into(), file_state(&now)));
                    } else if !unread.under(&now.location, &now.path) {
                        added.push(now);
                    }
                }
                after = new.next()?;
            }
            Ordering::Equal => {
                if let (Some(was), Some(now)) = (&before, &after) {
                    if was.status == Status::Unreadable || now.status == Status::Unreadable {
                        unread.insert(now);
                        changes.push(not_compared(now, file_state(was), file_state(now)));
                    } else if !unread.under(&now.location, &now.path) {
                        changes.extend(changed(was, now));
                    }
                }
                before = old.next()?;
                after = new.next()?;
            }
        }
    }
    pair_moves(added, removed, changes);
    Ok(())
}

/// The change of a file both snapshots have, if any.
fn changed(previous: &SnapshotFile, file: &SnapshotFile) -> Option<Change> {
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
    (!what.is_empty()).then(|| Change {
        location: file.location.clone(),
        path: file.path.clone(),
        change: ChangeKind::Changed,
        old_path: String::new(),
        what: what.join(", "),
        old: describe(previous),
        new: describe(file),
    })
}

/// A removed and an added file with the same hash in one location is a
/// move. Both lists are in (location, path) order; each added file takes
/// the first removed file of its location and hash not taken yet.
fn pair_moves(added: Vec<SnapshotFile>, removed: Vec<SnapshotFile>, changes: &mut Vec<Change>) {
    let mut by_hash: HashMap<(&str, &str), VecDeque<usize>> = HashMap::new();
    for (index, file) in removed.iter().enumerate() {
        if let Some(hash) = &file.sha256 {
            by_hash.entry((&file.location, hash)).or_default().push_back(index);
        }
    }
    let mut moved = vec![false; removed.len()];
    for file in &added {
        let origin = file
            .sha256
            .as_ref()
            .and_then(|hash| by_hash.get_mut(&(file.location.as_str(), hash.as_str())))
            .and_then(VecDeque::pop_front);
        match origin {
            Some(index) => {
                moved[index] = true;
                let origin = &removed[index];
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
    for (file, moved) in removed.iter().zip(moved) {
        if !moved {
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
}

/// `size 67, modified 2001-01-18T00:00:00Z, sha256 ab12...`, or the status.
fn describe(file: &SnapshotFile) -> String {
    let mut parts = Vec::new();
    if file.status != Status::Ok {
        parts.push(file.status.as_str().to_string());
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

fn compare_stamps(
    old: &Snapshot,
    new: &Snapshot,
    comparable: &BTreeSet<&str>,
    unread: &Unread,
    changes: &mut Vec<Change>,
) {
    type Key = (String, String, Artifact, String);
    let index = |s: &'_ Snapshot| -> BTreeMap<Key, SnapshotStamp> {
        s.stamps
            .iter()
            .filter(|st| comparable.contains(st.location.as_str()))
            .map(|st| {
                let key = (
                    st.location.clone(),
                    st.component.clone(),
                    st.artifact,
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
        // Read on one side only because its file was not read on the
        // other: the file's not_compared row says so.
        if (was.is_none() || now.is_none()) && unread.covers(&stamp.location, &stamp.path) {
            continue;
        }
        let item = if stamp.detail.is_empty() {
            format!("{} {}", stamp.component, stamp.artifact.name())
        } else {
            format!("{} {} {}", stamp.component, stamp.artifact.name(), stamp.detail)
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
            status: Status::Ok,
            reason: String::new(),
        }
    }

    fn unreadable(path: &str) -> SnapshotFile {
        SnapshotFile {
            size: None,
            modified: None,
            sha256: None,
            status: Status::Unreadable,
            reason: "Permission denied".into(),
            ..file(path, "", "")
        }
    }

    fn snapshot(files: Vec<SnapshotFile>) -> Snapshot {
        let locations = vec![SnapshotLocation {
            name: r"\\S\CAP_AB1".into(),
            status: Status::Ok,
            reason: String::new(),
            since: None,
        }];
        Snapshot::in_memory(locations, files, Vec::new()).unwrap()
    }

    #[test]
    fn a_fresh_audit_and_its_saved_json_are_the_same_snapshot() {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-shares");
        let audit = crate::run_audit(&crate::Config::new(vec![sample]));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.json");
        let mut json = Vec::new();
        crate::report::json::write(&audit, &mut json).unwrap();
        std::fs::write(&path, json).unwrap();
        let saved = Snapshot::load(&path).unwrap();
        assert!(
            matches!(saved.files, Files::Saved(_)),
            "smsaudit writes its files in order"
        );
        let fresh = Snapshot::of(&audit.locations, &audit.stamps);
        let streamed = compare_with_files(&saved, &fresh, Snapshot::files_of(&audit.files)).unwrap();
        assert_eq!(streamed, Vec::new());
        assert!(fresh.stamps.iter().any(|s| s.artifact == Artifact::Cfg));
        let files: Vec<SnapshotFile> = Snapshot::files_of(&audit.files)
            .collect::<std::io::Result<_>>()
            .unwrap();
        let fresh = Snapshot::in_memory(fresh.locations, files, fresh.stamps).unwrap();
        assert_eq!(compare(&saved, &fresh).unwrap(), Vec::new());
        assert_eq!(compare(&fresh, &saved).unwrap(), Vec::new());
        assert_eq!(compare(&saved, &saved).unwrap(), Vec::new());
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
        let changes = compare(&old, &new).unwrap();
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
        new.locations[0].status = Status::Unreadable;
        let changes = compare(&old, &new).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, ChangeKind::LocationUnreadable);
    }

    /// What was unreadable then or now is not compared, with its reason:
    /// never removed or added, nor are the files under an unreadable folder.
    #[test]
    fn unreadable_entries_are_not_compared() {
        let old = snapshot(vec![
            file("a.ini", "a", "t"),
            file(r"dir\inside.ini", "b", "t"),
            unreadable("locked.ini"),
        ]);
        let new = snapshot(vec![
            unreadable("a.ini"),
            unreadable("dir"),
            file("locked.ini", "c", "t"),
        ]);
        let changes = compare(&old, &new).unwrap();
        let summary: Vec<(&str, &str, &str, &str)> = changes
            .iter()
            .map(|c| (c.path.as_str(), c.change.as_str(), c.old.as_str(), c.new.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "a.ini",
                    "not_compared",
                    "size 1, modified t, sha256 a",
                    "unreadable: Permission denied"
                ),
                ("dir", "not_compared", "(not found)", "unreadable: Permission denied"),
                (
                    "locked.ini",
                    "not_compared",
                    "unreadable: Permission denied",
                    "size 1, modified t, sha256 c"
                ),
            ]
        );
        assert_eq!(count_changes(&changes), 0);
    }

    /// A location the baseline could not read is not compared (no row
    /// at all before); one read by an earlier run than the baseline's
    /// latest says since when.
    #[test]
    fn a_location_read_again_says_since_when() {
        let mut old = snapshot(vec![file("a", "a", "t")]);
        old.locations[0].status = Status::Unreadable;
        old.locations[0].reason = "Permission denied".into();
        let new = snapshot(vec![file("a", "a", "t")]);
        let changes = compare(&old, &new).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, ChangeKind::NotCompared);
        assert_eq!(changes[0].old, "unreadable: Permission denied");
        let mut old = snapshot(vec![file("a", "a", "t")]);
        old.locations[0].since = Some(Since {
            started: "2026-01-01T00:00:00Z".into(),
            latest: "unreadable: Permission denied".into(),
        });
        let new = snapshot(vec![file("a", "B", "t")]);
        let changes = compare(&old, &new).unwrap();
        let kinds: Vec<&str> = changes.iter().map(|c| c.change.as_str()).collect();
        assert_eq!(kinds, ["location_readable", "changed"]);
        assert_eq!(changes[0].new, "ok, compared with the run of 2026-01-01T00:00:00Z");
    }
}
