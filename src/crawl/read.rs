//! Reading one file: opened without following links or blocking, hashed
//! in bounded buffers, and parsed when its kind carries a version.

use super::Entry;
use crate::config::Config;
use crate::extract::{self, Detail, Extracted};
use crate::model::{FileKind, FileRecord, Location, Status};
use sha2::{Digest, Sha256};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;
use std::time::SystemTime;

/// Read buffer size: large enough that a read costs little next to hashing
/// it (fewer syscalls, and fewer round trips on SMB), small enough to keep
/// many files in flight: one buffer per hashing thread, reused.
const READ_BUFFER: usize = 1024 * 1024;

/// Files at least this large get a sequential read-ahead hint.
const SEQUENTIAL_HINT: u64 = 4 * READ_BUFFER as u64;

thread_local! {
    /// The read buffer of this thread: allocating (and zeroing) one per
    /// file costs more than hashing a small file.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads, hashes and extracts one file. Any failure is a row with a reason
/// and no hash: nothing is reported as read that was not.
pub(super) fn read_file(location: &Location, entry: Entry, config: &Config, touch: &dyn Fn()) -> (FileRecord, Detail) {
    let mut record = FileRecord {
        location: location.name.clone(),
        path: entry.relative,
        size: entry.metadata.as_ref().map(|m| m.len()),
        modified: entry.metadata.as_ref().and_then(|m| m.modified().ok()).map(format_time),
        sha256: None,
        kind: entry.kind,
        version: None,
        version_source: None,
        string_version: None,
        status: Status::Ok,
        reason: String::new(),
    };
    if let Some(latency) = config.faults.latency {
        std::thread::sleep(latency);
    }
    let lossy_name = entry.path.to_str().is_none();
    let cap = extract::parse_limit(entry.kind, config.max_parse_bytes);
    let (record, detail) = match hash_file_reporting(&entry.path, entry.kind, cap, touch) {
        Ok(read) => {
            record.size = Some(read.size);
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
                        extract::parse_limit(record.kind, config.max_parse_bytes)
                    ),
                ),
                None => Extracted::default(),
            };
            record.version = extracted.version;
            record.version_source = extracted.version_source;
            record.string_version = extracted.string_version;
            record.status = extracted.status;
            record.reason = extracted.reason;
            (record, extracted.detail)
        }
        Err(err) => {
            record.status = Status::Unreadable;
            record.reason = format!("cannot read: {err}");
            (record, Detail::None)
        }
    };
    let mut record = record;
    if lossy_name {
        const NOTE: &str = "name is not valid UTF-8 (shown with U+FFFD)";
        record.reason = if record.reason.is_empty() {
            NOTE.to_string()
        } else {
            format!("{}; {NOTE}", record.reason)
        };
    }
    (record, detail)
}

/// What reading a file produced.
pub struct FileRead {
    pub size: u64,
    pub sha256: String,
    /// Whether the file starts like a PE image (`MZ`).
    pub is_pe: bool,
    /// What the parser needs of the content: all of a small text file, the
    /// version resource of a PE image; `None` when not parsed or too large.
    pub content: Option<extract::Content>,
}

/// Opens a file for reading without blocking on FIFOs and, where the OS
/// allows it, without touching its access time. On Windows the file stays
/// open to everyone else for reading, writing and deleting.
pub(crate) fn open_for_audit(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let open = |flags| std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            match open(libc::O_NONBLOCK | libc::O_NOATIME | libc::O_NOFOLLOW) {
                Err(err) if err.raw_os_error() == Some(libc::EPERM) => open(libc::O_NONBLOCK | libc::O_NOFOLLOW),
                other => other,
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            open(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        }
    }
    #[cfg(windows)]
    {
        // Share read, write and delete: the audit must never stop SMS or a
        // client from updating or removing a file it happens to be reading.
        // FILE_FLAG_BACKUP_SEMANTICS is only needed to open folders.
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_SHARE_READ: u32 = 0x1;
        const FILE_SHARE_WRITE: u32 = 0x2;
        const FILE_SHARE_DELETE: u32 = 0x4;
        std::fs::OpenOptions::new()
            .read(true)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
            .open(path)
    }
    #[cfg(not(any(unix, windows)))]
    {
        File::open(path)
    }
}

/// Hashes a file in bounded buffers; keeps its content when it is of a kind
/// that is parsed (or turns out to be a PE image) and no larger than `cap`.
pub fn hash_file(path: &Path, kind: FileKind, cap: u64) -> io::Result<FileRead> {
    hash_file_reporting(path, kind, cap, &|| {})
}

/// [`hash_file`], calling `touch` after every chunk read, so a watcher can
/// tell a slow file from a dead share.
pub(crate) fn hash_file_reporting(path: &Path, kind: FileKind, cap: u64, touch: &dyn Fn()) -> io::Result<FileRead> {
    let mut file = open_for_audit(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        // Replaced by something else between the walk and the open.
        return Err(io::Error::other("no longer a regular file"));
    }
    if metadata.len() >= SEQUENTIAL_HINT {
        advise_sequential(&file);
    }
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            // Grow to the largest file seen so far, up to READ_BUFFER: a
            // thread that only meets small files keeps a small buffer.
            let want = (metadata.len() as usize)
                .saturating_add(1)
                .clamp(64 * 1024, READ_BUFFER);
            if buffer.len() < want {
                buffer.resize(want, 0);
            }
            hash_open_file(&mut file, &metadata, kind, cap, &mut buffer, touch)
        }
        // Only reachable if hashing ever re-entered itself on one thread.
        Err(_) => hash_open_file(&mut file, &metadata, kind, cap, &mut vec![0u8; 64 * 1024], touch),
    })
}

fn hash_open_file(
    file: &mut File,
    metadata: &Metadata,
    kind: FileKind,
    cap: u64,
    buffer: &mut [u8],
    touch: &dyn Fn(),
) -> io::Result<FileRead> {
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut keeper = extract::ContentKeeper::new(kind, metadata.len(), cap);
    let mut is_pe = false;
    loop {
        let n = match file.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        touch();
        let chunk = &buffer[..n];
        if size == 0 {
            is_pe = chunk.starts_with(b"MZ");
        }
        hasher.update(chunk);
        size += n as u64;
        keeper.keep(chunk);
    }
    Ok(FileRead {
        size,
        sha256: hex(&hasher.finalize()),
        is_pe,
        content: keeper.finish(&*file)?,
    })
}

/// Tells the kernel the file will be read once, front to back, so it reads
/// ahead further. Only a hint: failure changes nothing.
fn advise_sequential(file: &File) {
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

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SSZ`, UTC.
pub(crate) fn format_time(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
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
            assert_eq!(hash_file(&path, FileKind::Other, 1024).unwrap().sha256, *expected);
        }
        let big = dir.path().join("big");
        let data = vec![b'a'; 1_000_000];
        std::fs::write(&big, &data).unwrap();
        assert_eq!(
            hash_file(&big, FileKind::Other, 0).unwrap().sha256,
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

    #[test]
    fn a_file_that_vanishes_before_it_is_read_gets_no_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.cfg");
        std::fs::write(&path, "x").unwrap();
        let metadata = std::fs::metadata(&path).ok();
        std::fs::remove_file(&path).unwrap();
        let location = Location {
            name: r"\\S\CAP_AB1".into(),
            server: "S".into(),
            share: "CAP_AB1".into(),
            kind: crate::model::LocationKind::Cap,
            root: String::new(),
            sites: vec!["AB1".into()],
            status: Status::Ok,
            reason: String::new(),
            files: 0,
            bytes: 0,
        };
        let entry = Entry {
            path,
            relative: "gone.cfg".into(),
            metadata,
            kind: FileKind::Other,
        };
        let (record, _) = read_file(&location, entry, &Config::new(Vec::new()), &|| {});
        assert_eq!(record.status, Status::Unreadable);
        assert!(record.reason.starts_with("cannot read"), "{}", record.reason);
        assert_eq!(record.sha256, None);
    }

    #[test]
    fn formats_utc_times() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(946_684_800);
        assert_eq!(format_time(t), "2000-01-01T00:00:00Z");
    }
}
