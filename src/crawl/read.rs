//! Reading one file: opened from its folder's handle without following
//! links or blocking, hashed in bounded buffers, and parsed when its kind
//! carries a version. A file that changes while it is read gets no hash.

use super::walk::handles::{EntryType, FileState, Listed};
use super::walk::share::ShareFs;
use super::walk::{retry_transient, with_note, Entry, FILE_MOUNT_POINT_REASON};
use crate::extract::{self, Detail, Extracted};
use crate::model::{CompactString, FileKind, FileRecord, Location, Sha256Digest, Status};
use compact_str::{format_compact, ToCompactString};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;
use std::time::SystemTime;

/// Read buffer size: large enough that a read costs little next to hashing
/// it (fewer syscalls, and fewer round trips on SMB), small enough to keep
/// many files in flight: one buffer per hashing thread, reused.
const READ_BUFFER: usize = 1024 * 1024;

/// Files at least this large get a sequential read-ahead hint.
pub(super) const SEQUENTIAL_HINT: u64 = 4 * READ_BUFFER as u64;

thread_local! {
    /// The read buffer of this thread: allocating (and zeroing) one per
    /// file costs more than hashing a small file.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads, hashes and extracts one file. Any failure is a row with a reason
/// and no hash: nothing is reported as read that was not, and no hash is
/// reported of content that never existed as a whole.
pub(crate) fn read_file<S: ShareFs>(
    fs: &S,
    location: &Location,
    mut entry: Entry<S>,
    max_parse_bytes: u64,
    touch: &dyn Fn(),
) -> (FileRecord, Detail) {
    // The row takes the path: the entry is not read again.
    let path = std::mem::take(&mut entry.relative);
    let (record, detail, _) = read_entry(fs, location, &entry, path, max_parse_bytes, touch, false);
    (record, detail)
}

/// A file read whose state after the read is still to be compared with
/// its folder's next listing ([`ShareFs::STATE_AFTER_FROM_RELISTING`]):
/// its row is held until then.
pub(crate) struct Unconfirmed<S: ShareFs> {
    entry: Entry<S>,
    record: FileRecord,
    detail: Detail,
}

impl<S: ShareFs> Unconfirmed<S> {
    pub(crate) fn record(&self) -> &FileRecord {
        &self.record
    }
}

/// A file read by [`read_file_deferred`].
// One a file, moved once: not worth a box (which variant is larger
// depends on the system's folder handle).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Deferred<S: ShareFs> {
    /// Its row, final.
    Done(FileRecord, Detail),
    /// Its row once [`confirm_reads`] has compared it with the next listing.
    Unconfirmed(Unconfirmed<S>),
}

/// [`read_file`] for a share whose state after the read comes from its
/// folder's next listing: a file the listing described and that read to
/// its listed size is [`Deferred::Unconfirmed`]; any other is checked by
/// its handle, as [`read_file`] does.
pub(crate) fn read_file_deferred<S: ShareFs>(
    fs: &S,
    location: &Location,
    entry: Entry<S>,
    max_parse_bytes: u64,
    touch: &dyn Fn(),
) -> Deferred<S> {
    let path = entry.relative.clone();
    match read_entry(fs, location, &entry, path, max_parse_bytes, touch, true) {
        (record, detail, true) => Deferred::Unconfirmed(Unconfirmed { entry, record, detail }),
        (record, detail, false) => Deferred::Done(record, detail),
    }
}

/// The rows of the files of `folder` read unconfirmed, once all of them
/// are read: the folder is listed again, and a file whose type, identity,
/// size, modification or change time is not what the first listing said
/// (it changed between the listing and this one, so maybe during its read)
/// is read again and checked by its handle. When the folder cannot be
/// listed again, no hash is trusted.
pub(crate) fn confirm_reads<S: ShareFs>(
    fs: &S,
    location: &Location,
    folder: &S::Folder,
    unconfirmed: Vec<Unconfirmed<S>>,
    max_parse_bytes: u64,
    touch: &dyn Fn(),
) -> Vec<(FileRecord, Detail)> {
    let relisted = match retry_transient(touch, || fs.list(folder)) {
        Ok(names) => names,
        Err(err) => {
            return unconfirmed
                .into_iter()
                .map(|Unconfirmed { entry, mut record, .. }| {
                    record.sha256 = None;
                    record.version = None;
                    record.version_source = None;
                    record.string_version = None;
                    record.status = Status::Unreadable;
                    let reason = format!(
                        "cannot tell whether it changed while read (its folder could not be listed again: {err}); \
                         not hashed"
                    );
                    record.reason = with_note(&reason, entry.escapes).into();
                    (record, Detail::None)
                })
                .collect()
        }
    };
    let now: std::collections::HashMap<&std::ffi::OsStr, Option<&Listed>> = relisted
        .iter()
        .map(|named| (named.name.as_os_str(), named.listed.as_ref()))
        .collect();
    unconfirmed
        .into_iter()
        .map(
            |Unconfirmed {
                 mut entry,
                 record,
                 detail,
             }| {
                touch();
                let again = now.get(entry.name.as_os_str()).copied().flatten();
                match (again, entry.listed) {
                    (Some(again), Some(first))
                        if again.kind == first.kind
                            && again.identity == first.identity
                            && again.state == first.state =>
                    {
                        (record, detail)
                    }
                    _ => {
                        // Changed since the first listing: read once more, as
                        // now listed (or as found, if no longer a listed file).
                        entry.listed = again.filter(|again| again.kind == EntryType::File).copied();
                        let path = entry.relative.clone();
                        let (record, detail, _) = read_entry(fs, location, &entry, path, max_parse_bytes, touch, false);
                        (record, detail)
                    }
                }
            },
        )
        .collect()
}

/// Reads one file, whose row has `path` (its share-relative path); with
/// `defer`, leaves the check of its state after the read to its folder's
/// next listing when it can (the third value says so).
fn read_entry<S: ShareFs>(
    fs: &S,
    location: &Location,
    entry: &Entry<S>,
    path: String,
    max_parse_bytes: u64,
    touch: &dyn Fn(),
    defer: bool,
) -> (FileRecord, Detail, bool) {
    let mut unconfirmed = false;
    let mut record = FileRecord {
        location: location.name.as_str().into(),
        path: path.into(),
        size: entry.listed.map(|listed| listed.state.size),
        modified: entry.listed.and_then(|listed| listed.state.modified).map(format_time),
        sha256: None,
        kind: entry.kind,
        version: None,
        version_source: None,
        string_version: None,
        status: Status::Ok,
        reason: CompactString::default(),
    };
    let cap = extract::parse_limit(entry.kind, max_parse_bytes);
    let detail = match read_unchanged(fs, entry, cap, touch, defer) {
        Ok((read, state, deferred)) => {
            unconfirmed = deferred;
            record.size = Some(state.size);
            record.modified = state.modified.map(format_time);
            record.sha256 = Some(read.sha256);
            if read.is_pe && record.kind == FileKind::Other {
                record.kind = FileKind::Binary;
            }
            let extracted = match read.content {
                Some(content) => extract::parse_content(record.kind, content),
                None if record.kind == FileKind::Binary || extract::wants_content(record.kind) => Extracted::failed(
                    Status::Malformed,
                    format!(
                        "larger than {} bytes; content not parsed",
                        extract::parse_limit(record.kind, max_parse_bytes)
                    ),
                ),
                None => Extracted::default(),
            };
            record.version = extracted.version.map(Into::into);
            record.version_source = extracted.version_source.map(Into::into);
            record.string_version = extracted.string_version.map(Into::into);
            record.status = extracted.status;
            record.reason = extracted.reason.into();
            extracted.detail
        }
        Err(Unread::Failed(err)) => {
            if entry.listed.is_none() {
                // Not stat'ed by the walk: the row still says what the
                // file is, when it can be seen.
                if let Ok(listed) = fs.stat_entry(&entry.parent, &entry.name) {
                    record.size = Some(listed.state.size);
                    record.modified = listed.state.modified.map(format_time);
                }
            }
            record.status = Status::Unreadable;
            record.reason = format_compact!("cannot read: {err}");
            Detail::None
        }
        Err(Unread::MountPoint) => {
            let reason = with_note(FILE_MOUNT_POINT_REASON, entry.escapes);
            let record = FileRecord::not_read(
                &location.name,
                record.path.into(),
                record.kind,
                Status::Unreadable,
                reason,
            );
            return (record, Detail::None, false);
        }
        Err(Unread::Changed { what, now }) => {
            record.size = Some(now.size);
            record.modified = now.modified.map(format_time);
            record.status = Status::Unreadable;
            record.reason = format_compact!("changed while read ({what}); not hashed");
            Detail::None
        }
    };
    record.reason = with_note(&record.reason, entry.escapes).into();
    (record, detail, unconfirmed)
}

/// Why a file has no hash.
enum Unread {
    Failed(io::Error),
    /// A file mounted over the share's, found at the open: not the share's.
    MountPoint,
    /// Its size, modification or change time moved during both reads.
    Changed {
        what: String,
        now: FileState,
    },
}

impl From<io::Error> for Unread {
    fn from(err: io::Error) -> Unread {
        Unread::Failed(err)
    }
}

/// Reads a file whose state stays what it was when listed (or, on a
/// second try, when reopened) from the open to the end of the read; at
/// most the size seen at the open is read. A file that changes is read
/// once more, unless it has grown by more than one buffer beyond what was
/// read first: a file growing faster than it is read would never end.
/// With `defer`, a first read of a listed file that was still as listed
/// at the open and read to that size is returned unchecked (true), its
/// state after the read left to the folder's next listing.
fn read_unchanged<S: ShareFs>(
    fs: &S,
    entry: &Entry<S>,
    cap: u64,
    touch: &dyn Fn(),
    defer: bool,
) -> Result<(FileRead, FileState, bool), Unread> {
    let mut expected = entry.listed.map(|listed| listed.state);
    let mut budget = u64::MAX;
    let mut second = false;
    loop {
        let (mut file, opened) = retry_transient(touch, || {
            fs.open_file(&entry.parent, &entry.name, entry.listed.as_ref())
        })?;
        if entry.listed.is_none() && opened.is_mount_point(&entry.root) {
            return Err(Unread::MountPoint);
        }
        let at_open = opened.state;
        let before = expected.unwrap_or(at_open);
        if at_open.size > budget {
            let what = format!("grew from {} to {} bytes", before.size, at_open.size);
            return Err(Unread::Changed { what, now: at_open });
        }
        fs.will_read_whole(&file, at_open.size);
        let probe_growth = !S::STATE_SHOWS_GROWTH;
        let (read, grew) = hash_handle(&mut file, at_open.size, entry.kind, cap, probe_growth, touch)?;
        if defer && !second && !grew && read.size == at_open.size && expected == Some(at_open) {
            return Ok((read, at_open, true));
        }
        let after = fs.file_state(&mut file)?;
        match state_change(&before, &at_open, &after, grew) {
            None => return Ok((read, after, false)),
            Some(what) if second => return Err(Unread::Changed { what, now: after }),
            Some(_) => {}
        }
        second = true;
        expected = Some(after);
        budget = at_open.size.saturating_add(READ_BUFFER as u64);
    }
}

/// What changed between the listing (or the last read), the open and the
/// end of the read, if anything.
fn state_change(expected: &FileState, at_open: &FileState, after: &FileState, grew: bool) -> Option<String> {
    if grew || after.size != at_open.size {
        Some(format!(
            "size {} then {} bytes",
            at_open.size,
            after.size.max(at_open.size + u64::from(grew))
        ))
    } else if at_open != after {
        Some("modified during the read".to_string())
    } else if expected != at_open {
        Some("modified between the listing and the read".to_string())
    } else {
        None
    }
}

/// What reading a file produced.
pub struct FileRead {
    pub size: u64,
    pub sha256: Sha256Digest,
    /// Whether the file starts like a PE image (`MZ`).
    pub is_pe: bool,
    /// What the parser needs of the content: all of a small text file, the
    /// version resource of a PE image; `None` when not parsed or too large.
    pub content: Option<extract::Content>,
}

/// Opens a file by its path for reading without following a link in its
/// last component, blocking on FIFOs and, where the OS allows it, touching
/// its access time. Only for [`hash_file`]: the crawl opens files from
/// their folder's handle ([`ShareFs::open_file`]).
fn open_for_audit(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(path)
    }
    #[cfg(not(unix))]
    {
        File::open(path)
    }
}

/// Hashes a file in bounded buffers; keeps its content when it is of a kind
/// that is parsed (or turns out to be a PE image) and no larger than `cap`.
pub fn hash_file(path: &Path, kind: FileKind, cap: u64) -> io::Result<FileRead> {
    let mut file = open_for_audit(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if metadata.len() >= SEQUENTIAL_HINT {
        advise_sequential(&file);
    }
    Ok(hash_handle(&mut file, metadata.len(), kind, cap, true, &|| {})?.0)
}

/// Hashes at most `opened_size` bytes of an open file, calling `touch`
/// after every chunk read so a watcher can tell a slow file from a dead
/// share. Also says whether bytes remained past `opened_size`, when
/// `probe_growth` (else the caller's state after the read says it).
fn hash_handle<F: Read + Seek>(
    file: &mut F,
    opened_size: u64,
    kind: FileKind,
    cap: u64,
    probe_growth: bool,
    touch: &dyn Fn(),
) -> io::Result<(FileRead, bool)> {
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            // Grow to the largest file seen so far, up to READ_BUFFER: a
            // thread that only meets small files keeps a small buffer.
            let want = (opened_size as usize).saturating_add(1).clamp(64 * 1024, READ_BUFFER);
            if buffer.len() < want {
                buffer.resize(want, 0);
            }
            hash_open_file(file, opened_size, kind, cap, probe_growth, &mut buffer, touch)
        }
        // Only reachable if hashing ever re-entered itself on one thread.
        Err(_) => hash_open_file(
            file,
            opened_size,
            kind,
            cap,
            probe_growth,
            &mut vec![0u8; 64 * 1024],
            touch,
        ),
    })
}

#[allow(clippy::too_many_arguments)]
fn hash_open_file<F: Read + Seek>(
    file: &mut F,
    opened_size: u64,
    kind: FileKind,
    cap: u64,
    probe_growth: bool,
    buffer: &mut [u8],
    touch: &dyn Fn(),
) -> io::Result<(FileRead, bool)> {
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut keeper = extract::ContentKeeper::new(kind, opened_size, cap);
    let mut is_pe = false;
    // Never past the size seen at the open: more is a change, not content.
    // Each read asks for a byte more than remains, so the read that ends
    // the file also tells whether it grew, without a read of its own (on a
    // share, a round trip).
    let mut grew = false;
    let mut end_seen = false;
    while size < opened_size {
        let remaining = opened_size - size;
        let asked = remaining.saturating_add(u64::from(probe_growth));
        let room = buffer.len().min(usize::try_from(asked).unwrap_or(usize::MAX));
        let n = match file.read(&mut buffer[..room]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        touch();
        let content = (n as u64).min(remaining);
        let chunk = &buffer[..content as usize];
        if size == 0 {
            is_pe = chunk.starts_with(b"MZ");
        }
        hasher.update(chunk);
        size += content;
        keeper.keep(chunk);
        if n as u64 > remaining {
            grew = true;
            break;
        }
        end_seen = size == opened_size && n < room;
    }
    let grew = grew || (probe_growth && size == opened_size && !end_seen && read_one_more(file)?);
    let read = FileRead {
        size,
        sha256: Sha256Digest(hasher.finalize().into()),
        is_pe,
        content: keeper.finish(&mut *file)?,
    };
    Ok((read, grew))
}

/// Whether a byte can still be read: the file grew after it was opened.
fn read_one_more(file: &mut impl Read) -> io::Result<bool> {
    let mut probe = [0u8; 1];
    loop {
        match file.read(&mut probe) {
            Ok(n) => return Ok(n > 0),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Tells the kernel the file will be read once, front to back, so it reads
/// ahead further. Only a hint: failure changes nothing.
pub(super) fn advise_sequential(file: &File) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: posix_fadvise only reads its arguments; the descriptor is
        // open for the whole call.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL);
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = file;
}

/// `YYYY-MM-DDTHH:MM:SSZ`, UTC.
pub(crate) fn format_time(time: SystemTime) -> CompactString {
    humantime::format_rfc3339_seconds(time).to_compact_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::walk::handles;
    use crate::crawl::walk::share::Local;
    use std::io::Write;

    #[test]
    fn known_answer_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (
                "abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
        ];
        for (i, (input, expected)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("f{i}"));
            std::fs::File::create(&path)
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            assert_eq!(
                hash_file(&path, FileKind::Other, 1024).unwrap().sha256.to_string(),
                *expected
            );
        }
        let big = dir.path().join("big");
        let data = vec![b'a'; 1_000_000];
        std::fs::write(&big, &data).unwrap();
        assert_eq!(
            hash_file(&big, FileKind::Other, 0).unwrap().sha256.to_string(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn keeps_content_only_when_wanted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compver.ini");
        std::fs::write(&path, "2.00.1239.0000").unwrap();
        assert!(hash_file(&path, FileKind::Compver, 1024).unwrap().content.is_some());
        assert!(hash_file(&path, FileKind::Other, 1024).unwrap().content.is_none());
        assert!(hash_file(&path, FileKind::Compver, 4).unwrap().content.is_none());
    }

    fn location() -> Location {
        Location::for_test(r"\\S\CAP_AB1", crate::model::LocationKind::Cap, &["AB1"])
    }

    /// The entry the walk would hand on for `name` in `dir` after a stat.
    fn entry(dir: &Path, name: &str) -> Entry<Local> {
        let mut entry = listed_by_type(dir, name);
        entry.listed = Some(handles::stat_entry(&entry.parent, std::ffi::OsStr::new(name)).unwrap());
        entry
    }

    /// The entry the walk hands on for a name the listing says is a
    /// regular file: not stat'ed.
    fn listed_by_type(dir: &Path, name: &str) -> Entry<Local> {
        let (folder, root) = handles::open_root(dir).unwrap();
        Entry {
            parent: std::sync::Arc::new(folder),
            name: name.into(),
            relative: name.into(),
            listed: None,
            root: root.identity,
            kind: FileKind::Other,
            escapes: crate::names::Escapes::default(),
        }
    }

    #[test]
    fn a_file_not_stated_by_the_walk_is_checked_at_its_open() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plain.cfg"), "plain").unwrap();
        let (record, _) = read_file(
            &Local,
            &location(),
            listed_by_type(dir.path(), "plain.cfg"),
            crate::config::DEFAULT_MAX_PARSE_BYTES,
            &|| {},
        );
        assert_eq!(record.status, Status::Ok, "{}", record.reason);
        assert_eq!(record.size, Some(5));
        assert!(record.modified.is_some());
        assert_eq!(record.sha256.unwrap(), Sha256Digest::of(b"plain"));

        // Swapped for a folder or a link between the listing and the open.
        std::fs::create_dir(dir.path().join("now-a-folder")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("now-a-link")).unwrap();
        for name in ["now-a-folder", "now-a-link"] {
            if !dir.path().join(name).exists() {
                continue;
            }
            let (record, _) = read_file(
                &Local,
                &location(),
                listed_by_type(dir.path(), name),
                crate::config::DEFAULT_MAX_PARSE_BYTES,
                &|| {},
            );
            assert_eq!(record.status, Status::Unreadable, "{name}");
            assert!(
                record.reason.contains("replaced during the walk"),
                "{name}: {}",
                record.reason
            );
            assert_eq!(record.sha256, None);
        }

        // Gone: a row without a size, as nothing could be seen of it.
        let (record, _) = read_file(
            &Local,
            &location(),
            listed_by_type(dir.path(), "gone.cfg"),
            crate::config::DEFAULT_MAX_PARSE_BYTES,
            &|| {},
        );
        assert_eq!(record.status, Status::Unreadable);
        assert!(record.reason.starts_with("cannot read"), "{}", record.reason);
        assert_eq!((record.size, record.sha256), (None, None));
    }

    #[test]
    fn a_file_that_vanishes_before_it_is_read_gets_no_hash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gone.cfg"), "x").unwrap();
        let entry = entry(dir.path(), "gone.cfg");
        std::fs::remove_file(dir.path().join("gone.cfg")).unwrap();
        let (record, _) = read_file(
            &Local,
            &location(),
            entry,
            crate::config::DEFAULT_MAX_PARSE_BYTES,
            &|| {},
        );
        assert_eq!(record.status, Status::Unreadable);
        assert!(record.reason.starts_with("cannot read"), "{}", record.reason);
        assert_eq!(record.sha256, None);
    }

    #[test]
    fn a_file_replaced_after_the_listing_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compver.ini"), "listed").unwrap();
        let entry = entry(dir.path(), "compver.ini");
        std::fs::write(dir.path().join("other"), "impostor").unwrap();
        std::fs::rename(dir.path().join("other"), dir.path().join("compver.ini")).unwrap();
        let (record, _) = read_file(
            &Local,
            &location(),
            entry,
            crate::config::DEFAULT_MAX_PARSE_BYTES,
            &|| {},
        );
        assert_eq!(record.status, Status::Unreadable);
        assert!(record.reason.contains("replaced during the walk"), "{}", record.reason);
        assert_eq!(record.sha256, None);
    }

    #[test]
    fn a_file_modified_after_the_listing_is_read_again_and_reports_its_handle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grows.bin");
        std::fs::write(&path, "old").unwrap();
        let entry = entry(dir.path(), "grows.bin");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b" and new")
            .unwrap();
        let (record, _) = read_file(
            &Local,
            &location(),
            entry,
            crate::config::DEFAULT_MAX_PARSE_BYTES,
            &|| {},
        );
        assert_eq!(record.status, Status::Ok, "{}", record.reason);
        assert_eq!(record.size, Some(11));
        assert_eq!(record.sha256.unwrap(), Sha256Digest::of(b"old and new"));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_changed_during_every_read_gets_no_hash() {
        use std::os::unix::fs::FileExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.bin");
        std::fs::write(&path, vec![b'a'; 3 * READ_BUFFER]).unwrap();
        let entry = entry(dir.path(), "busy.bin");
        let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let ticks = std::cell::Cell::new(0u64);
        // After every chunk read: rewrite the start and move the mtime, in
        // lockstep with the reader, so no clock granularity can hide it.
        let change = || {
            ticks.set(ticks.get() + 1);
            writer.write_all_at(&[b'0' + (ticks.get() % 10) as u8], 0).unwrap();
            writer
                .set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000 + ticks.get()))
                .unwrap();
        };
        let (record, _) = read_file(
            &Local,
            &location(),
            entry,
            crate::config::DEFAULT_MAX_PARSE_BYTES,
            &change,
        );
        assert_eq!(record.sha256, None, "{}", record.reason);
        assert_eq!(record.status, Status::Unreadable);
        assert!(record.reason.contains("changed while read"), "{}", record.reason);
    }

    #[test]
    fn reads_stop_at_the_size_seen_at_the_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "0123456789").unwrap();
        let mut file = File::open(&path).unwrap();
        let (read, grew) = hash_handle(&mut file, 4, FileKind::Other, 1024, true, &|| {}).unwrap();
        assert_eq!((read.size, grew), (4, true));
        assert_eq!(read.sha256, Sha256Digest::of(b"0123"));
        let mut file = File::open(&path).unwrap();
        assert!(
            !hash_handle(&mut file, 10, FileKind::Other, 1024, true, &|| {})
                .unwrap()
                .1
        );
    }

    /// Past one buffer the end is probed as before: a byte more than the
    /// size seen at the open is a change, exactly that size is not.
    #[test]
    fn growth_is_seen_in_files_larger_than_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let opened = 3 * READ_BUFFER as u64;
        for (size, grew) in [(opened, false), (opened + 1, true)] {
            std::fs::write(&path, vec![b'z'; size as usize]).unwrap();
            let mut file = File::open(&path).unwrap();
            let (read, seen) = hash_handle(&mut file, opened, FileKind::Other, 1024, true, &|| {}).unwrap();
            assert_eq!((read.size, seen), (opened, grew), "file of {size} bytes");
            assert_eq!(read.sha256, Sha256Digest::of(&vec![b'z'; opened as usize]));
        }
    }

    /// A share whose state after the read shows growth (SMB) is read to
    /// the size seen at the open and not one byte further: no read past
    /// the end, which libsmbclient would send as a request of its own.
    #[test]
    fn without_the_growth_probe_no_byte_past_the_size_is_asked_for() {
        /// A file that counts what it is asked for.
        struct Counting(std::io::Cursor<Vec<u8>>, u64);
        impl Read for Counting {
            fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
                self.1 += buffer.len() as u64;
                self.0.read(buffer)
            }
        }
        impl Seek for Counting {
            fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
                self.0.seek(to)
            }
        }
        for (probe, asked) in [(false, 10), (true, 11)] {
            let mut file = Counting(std::io::Cursor::new(b"0123456789ab".to_vec()), 0);
            let (read, grew) = hash_handle(&mut file, 10, FileKind::Other, 1024, probe, &|| {}).unwrap();
            assert_eq!((read.size, file.1), (10, asked), "probe {probe}");
            assert_eq!(grew, probe, "only the probe sees the growth");
            assert_eq!(read.sha256, Sha256Digest::of(b"0123456789"));
        }
    }

    #[test]
    fn formats_utc_times() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(946_684_800);
        assert_eq!(format_time(t), "2000-01-01T00:00:00Z");
    }
}
