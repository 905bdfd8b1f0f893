//! The output folder and the files smsaudit writes beside the audit: the
//! checks that keep it out of the audited roots (by spelling, identity and
//! mount), its lock for one run, temporary files created exclusively, files
//! replaced atomically, and the place of the `--log`. It knows nothing of
//! the reports: `report/` writes its set through it.

mod mounts;

use anyhow::{Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Refuses an output folder (or a log file) inside an audited root: the
/// audit never writes to a share, and its reports would show up in its own
/// crawl. Compared by spelling and by identity, so a bind mount, a junction
/// or a second drive letter for a share is still the share.
pub(crate) fn check_outside_roots(out: &Path, roots: &[PathBuf]) -> Result<()> {
    let out_resolved = resolved(out);
    let out_and_ancestors: Vec<FolderId> = out_resolved.ancestors().filter_map(folder_id).collect();
    let mounts = mounts::Table::read();
    let out_in_filesystem = mounts.filesystem_path(&out_resolved);
    for root in roots {
        let root_resolved = resolved(root);
        let by_spelling = out_resolved.starts_with(&root_resolved);
        let by_identity = folder_id(root).is_some_and(|id| out_and_ancestors.contains(&id));
        // A bind mount of a folder below the root has none of the root's
        // folders among its ancestors; its place in the filesystem tells.
        let by_filesystem = match (&out_in_filesystem, mounts.filesystem_path(&root_resolved)) {
            (Some((out_device, out_path)), Some((root_device, root_path))) => {
                out_device == &root_device && out_path.starts_with(root_path)
            }
            _ => false,
        };
        if by_spelling || by_identity || by_filesystem {
            anyhow::bail!(
                "output folder {} is inside the audited root {}: smsaudit never writes to what it audits",
                out.display(),
                root.display()
            );
        }
    }
    Ok(())
}

/// Whether `a` and `b` are one file: by identity (device and inode,
/// Windows's volume and file index) when both exist, by their resolved
/// spelling when one is not created yet.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (folder_id(a), folder_id(b)) {
        (Some(a), Some(b)) => a == b,
        _ => resolved(a) == resolved(b),
    }
}

/// Whether a file named `file` in the output folder is one of the folder's
/// own: a file of `own` (reports, manifest, spill) or the lock, or a
/// leftover the lock's sweep removes. Names compare without case (Windows,
/// macOS).
pub(crate) fn is_own_name(file: &str, own: &[&str]) -> bool {
    let lower = file.to_ascii_lowercase();
    own.iter()
        .chain([&LOCK_FILE, &WRITE_PROBE])
        .any(|name| lower == name.to_ascii_lowercase() || is_leftover_of(&lower, &name.to_ascii_lowercase()))
}

/// What makes a folder the same folder whatever path reaches it.
#[cfg(unix)]
type FolderId = (u64, u64);
#[cfg(windows)]
type FolderId = same_file::Handle;

/// Device and inode, from `stat`: nothing is opened, so a FIFO cannot block.
#[cfg(unix)]
fn folder_id(path: &Path) -> Option<FolderId> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Volume serial number and file index.
#[cfg(windows)]
fn folder_id(path: &Path) -> Option<FolderId> {
    same_file::Handle::from_path(path).ok()
}

/// An absolute path with links resolved as far as it exists, so two
/// spellings of one folder compare equal.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
    let mut result = fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
    result.extend(rest.iter().rev());
    result
}

/// A file created in `dir` under a random name beginning `.{name}.`, with
/// `O_CREAT|O_EXCL` (`CREATE_NEW`): whatever another account planted in the
/// folder (a link, a FIFO) makes the creation pick another name, and is
/// never opened.
pub(crate) fn exclusive_temp_file(dir: &Path, name: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Reports are as readable as any file the user creates (umask), not
    // private like a temporary file.
    #[cfg(unix)]
    let permissions = std::os::unix::fs::PermissionsExt::from_mode(0o666);
    #[cfg(unix)]
    builder.permissions(permissions);
    builder.tempfile_in(dir)
}

/// The name (after a dot, before a random part) of the file that proves the
/// output folder writable.
const WRITE_PROBE: &str = "smsaudit-write-test";

/// The file in the output folder whose lock says a run is writing there.
pub(crate) const LOCK_FILE: &str = ".smsaudit.lock";

/// Creates the output folder and proves it is writable, before any crawl.
pub(crate) fn prepare_output(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    // Dropping the probe removes it.
    crate::interrupt::Temp::create(|| exclusive_temp_file(dir, WRITE_PROBE))
        .with_context(|| format!("output folder {} is not writable", dir.display()))?;
    Ok(())
}

/// Held for a whole run: one run at a time per output folder.
pub(crate) struct OutputLock {
    _file: fs::File,
}

/// Takes the output folder for this run, or fails at once when another
/// smsaudit run has it. The lock is the operating system's (`flock`,
/// `LockFileEx`) on [`LOCK_FILE`], so it ends with the process however that
/// ends; the file is opened only if it is a regular file, never through a
/// link. Then removes what a run cut by a crash left behind: the temporary
/// files of the names in `own` ([`sweep_leftovers`]).
pub(crate) fn lock_output(dir: &Path, own: &[&str]) -> Result<OutputLock> {
    let path = dir.join(LOCK_FILE);
    let file = match open_lock_file(&path) {
        Ok(file) if file.metadata().is_ok_and(|m| m.is_file()) => file,
        Ok(_) => anyhow::bail!(
            "lock file {} is not a regular file (a FIFO, a folder...): smsaudit locks only a file it created; remove it",
            path.display()
        ),
        Err(_) if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) => anyhow::bail!(
            "lock file {} is a link: smsaudit never opens its lock file through a link; remove it",
            path.display()
        ),
        Err(err) => return Err(err).with_context(|| format!("cannot open lock file {}", path.display())),
    };
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => anyhow::bail!(
            "output folder {} is in use: another smsaudit run holds its lock ({}); wait for that run to end, or give another --out",
            dir.display(),
            path.display()
        ),
        Err(fs4::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
    sweep_leftovers(dir, own);
    Ok(OutputLock { _file: file })
}

/// Removes what a run cut by a crash or `kill -9` left behind in `dir`:
/// regular files named like the temporary files of [`exclusive_temp_file`]
/// and the copies a report set keeps (`.<name>.<random>.tmp` or `.old`),
/// for the names in `own` and the write probe. Only under the folder's
/// lock, so never another running audit's.
fn sweep_leftovers(dir: &Path, own: &[&str]) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = own
            .iter()
            .chain([&WRITE_PROBE])
            .any(|report| is_leftover_of(name, report));
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn is_leftover_of(file: &str, report: &str) -> bool {
    let Some(rest) = file.strip_prefix('.').and_then(|f| f.strip_prefix(report)) else {
        return false;
    };
    let Some(random) = rest
        .strip_prefix('.')
        .and_then(|r| r.strip_suffix(".tmp").or_else(|| r.strip_suffix(".old")))
    else {
        return false;
    };
    (1..=16).contains(&random.len()) && random.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Opened without following a link, without blocking on a FIFO.
#[cfg(unix)]
fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Opens a reparse point (a symbolic link, a junction) itself, not its
/// target, and refuses it.
#[cfg(windows)]
fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT;
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)?;
    if file.metadata()?.file_type().is_symlink() {
        return Err(std::io::Error::other("a link"));
    }
    Ok(file)
}

/// Gets the log's place ready: creates its missing folders, one at a time
/// (a name that turns up meanwhile must be a folder, not a link), and checks
/// that what is at `path` now, if anything, is a regular file (a link, a
/// FIFO or a device is refused, never written through). Call it only once
/// the log is known to be outside the audited roots.
pub(crate) fn prepare_log(path: &Path) -> Result<()> {
    let (dir, _) = log_folder_and_name(path)?;
    create_folders(&dir)
        .with_context(|| format!("cannot create the folder {} of log {}", dir.display(), path.display()))?;
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => anyhow::bail!(
            "log {} exists and is not a regular file (a link, a FIFO, a folder...): smsaudit appends only to a regular file",
            path.display()
        ),
        _ => Ok(()),
    }
}

fn create_folders(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut existing = Some(dir);
    while let Some(folder) = existing.filter(|f| !f.as_os_str().is_empty() && fs::symlink_metadata(f).is_err()) {
        missing.push(folder);
        existing = folder.parent();
    }
    for folder in missing.into_iter().rev() {
        match fs::create_dir(folder) {
            Ok(()) => {}
            Err(err)
                if err.kind() == std::io::ErrorKind::AlreadyExists
                    && fs::symlink_metadata(folder).is_ok_and(|m| m.file_type().is_dir()) => {}
            Err(err) => return Err(err),
        }
    }
    if !dir.as_os_str().is_empty() && !dir.is_dir() {
        return Err(std::io::Error::other("not a folder"));
    }
    Ok(())
}

/// Whether `path` is inside one of `roots` by spelling alone: for a log
/// written before the roots were looked at (the run was refused before
/// discovery), when touching a root could hang.
pub(crate) fn inside_roots_by_spelling(path: &Path, roots: &[PathBuf]) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let path = absolute(path);
    roots.iter().any(|root| path.starts_with(absolute(root)))
}

/// Appends one run's block to the log: opened without following a link
/// (a link planted at `path` since [`prepare_log`] is refused, never
/// written through), without blocking on a FIFO, created if missing;
/// held under an exclusive lock while the block is written in one piece,
/// so two runs sharing a log never interleave their blocks. A log with a
/// hard link planted at its name is replaced by a new one instead, so the
/// other file is never written.
pub(crate) fn append_log(path: &Path, text: &str) -> Result<()> {
    let append = || -> std::io::Result<bool> {
        let mut file = open_log_for_append(path)?;
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::other(
                "not a regular file (a link, a FIFO, a folder...): smsaudit appends only to a regular file",
            ));
        }
        if has_other_names(&file)? {
            return Ok(false);
        }
        file.lock()?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        file.unlock()?;
        Ok(true)
    };
    let appended = append().with_context(|| format!("cannot write log {}", path.display()))?;
    if appended {
        return Ok(());
    }
    // A hard link planted at the log's name shares its content with
    // another file: a new log replaces the name, the other file stays.
    let note = "(the log had another name too, a hard link: a new log was started)\n";
    let (dir, name) = log_folder_and_name(path)?;
    write_atomically(&dir, &name, format!("{note}{text}").as_bytes())
        .map(|_| ())
        .with_context(|| format!("cannot write log {}", path.display()))
}

/// Whether the open file has other names (hard links) than the log's.
#[cfg(unix)]
fn has_other_names(file: &fs::File) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.nlink() > 1)
}

#[cfg(windows)]
fn has_other_names(_file: &fs::File) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(unix)]
fn open_log_for_append(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Opens a reparse point (a symbolic link, a junction) itself, not its
/// target, and refuses it.
#[cfg(windows)]
fn open_log_for_append(path: &Path) -> std::io::Result<fs::File> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT;
    let file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)?;
    if file.metadata()?.file_type().is_symlink() {
        return Err(std::io::Error::other("a link"));
    }
    Ok(file)
}

fn log_folder_and_name(path: &Path) -> Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("--log {}: not a file name", path.display()))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_string()))
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    write_atomically_with(dir, name, |out| Ok(out.write_all(bytes)?))
}

/// Streams a report into `dir/name` through a buffered temporary file
/// (see [`exclusive_temp_file`]) and a rename, so a large report never has
/// to be held in memory whole. The rename replaces whatever is at
/// `dir/name`, a planted link included, and never writes through it.
pub(crate) fn write_atomically_with(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<PathBuf> {
    let target = dir.join(name);
    // On error the temporary file is dropped, which removes it.
    let result = (|| -> Result<()> {
        let temp = exclusive_temp_file(dir, name)?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, temp);
        write(&mut out)?;
        let temp = out.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        temp.persist(&target).map_err(|e| e.error)?;
        Ok(())
    })();
    if let Err(err) = result {
        remove_stale(&target);
        return Err(err).with_context(|| format!("cannot write {}", target.display()));
    }
    Ok(target)
}

/// After a failed write, removes the file an earlier run left under that
/// name, so it cannot pass for this run's. Only a regular file: a link is
/// left alone like everything else this run did not write.
fn remove_stale(target: &Path) {
    if fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_file()) {
        let _ = fs::remove_file(target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_neither_temporary_file_nor_an_earlier_report() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("audit.json"), "an earlier run").unwrap();
        let result = write_atomically_with(dir.path(), "audit.json", |out| {
            out.write_all(b"half")?;
            anyhow::bail!("disk full")
        });
        assert!(format!("{:#}", result.unwrap_err()).contains("disk full"));
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn report_temporary_names_are_random_and_created_exclusively() {
        let dir = tempfile::tempdir().unwrap();
        let first = exclusive_temp_file(dir.path(), "audit.json").unwrap();
        let second = exclusive_temp_file(dir.path(), "audit.json").unwrap();
        assert_ne!(first.path(), second.path());
        let name = first.path().file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".audit.json.") && name.ends_with(".tmp"), "{name}");
    }

    #[test]
    fn leftovers_are_recognised_by_name_only_for_reports() {
        assert!(is_leftover_of(".files.csv.a1B2c3.tmp", "files.csv"));
        assert!(is_leftover_of(".files.csv.4242.tmp", "files.csv"));
        assert!(is_leftover_of(".manifest.json.a1B2c3.old", "manifest.json"));
        assert!(!is_leftover_of(".files.csv.tmp", "files.csv"));
        assert!(!is_leftover_of("files.csv.a1B2c3.tmp", "files.csv"));
        assert!(!is_leftover_of(".files.csv.a1/2c3.tmp", "files.csv"));
        assert!(!is_leftover_of(".files.csv.a1B2c3.bak", "files.csv"));
    }

    /// Under the lock, a crashed run's temporary files of its own names go;
    /// the user's files and other names stay.
    #[test]
    fn the_lock_sweeps_only_the_leftovers_of_its_own_names() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            ".audit.json.a1B2c3.tmp",
            ".smsaudit-write-test.x1.tmp",
            ".notes.txt.a1B2c3.tmp",
            "notes.txt",
        ] {
            fs::write(dir.path().join(name), "left").unwrap();
        }
        let _lock = lock_output(dir.path(), &["audit.json"]).unwrap();
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".notes.txt.a1B2c3.tmp", LOCK_FILE, "notes.txt"]);
    }
}
