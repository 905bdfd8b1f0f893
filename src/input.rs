//! Files named on the command line (`--inventory`, `--baseline`, the two
//! audits of `diff`), read only when they are regular files. A FIFO or a
//! device would block or never end; checking a path first and opening it
//! after leaves a window to swap it, so the file is opened without blocking
//! and what was opened is checked.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Reads the whole of the regular file at `path`; `what` names it in errors
/// ("inventory", "baseline").
pub(crate) fn read_regular_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    let mut file = open_regular_file(path, what)?;
    let size = file
        .metadata()
        .with_context(|| format!("cannot read {what} {}", path.display()))?
        .len();
    let mut bytes = Vec::with_capacity(size.min(64 * 1024 * 1024) as usize);
    file.read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    Ok(bytes)
}

/// Opens the regular file at `path` to read it (a stream, or more than
/// once); `what` names it in errors.
pub(crate) fn open_regular_file(path: &Path, what: &str) -> Result<File> {
    let file = open_without_blocking(path, true).with_context(|| format!("cannot read {what} {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if !meta.is_file() {
        bail!("{what} {} is not a regular file", path.display());
    }
    Ok(file)
}

/// Opening a FIFO for reading waits for a writer unless O_NONBLOCK is set;
/// on a regular file the flag changes nothing.
#[cfg(unix)]
fn open_without_blocking(path: &Path, follow_links: bool) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let no_follow = if follow_links { 0 } else { libc::O_NOFOLLOW };
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | no_follow)
        .open(path)
}

/// Windows opens a FIFO-like object without waiting; a link (reparse
/// point) is opened itself, not followed, when asked.
#[cfg(windows)]
fn open_without_blocking(path: &Path, follow_links: bool) -> std::io::Result<File> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT;
    let no_follow = if follow_links { 0 } else { FILE_FLAG_OPEN_REPARSE_POINT };
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(no_follow)
        .open(path)
}

#[cfg(not(any(unix, windows)))]
fn open_without_blocking(path: &Path, _follow_links: bool) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let err = read_regular_file(&fifo, "baseline").unwrap_err();
        assert!(format!("{err:#}").contains("is not a regular file"), "{err:#}");
        let file = dir.path().join("audit.json");
        std::fs::write(&file, b"{}").unwrap();
        assert_eq!(read_regular_file(&file, "baseline").unwrap(), b"{}");
        let err = read_regular_file(dir.path(), "baseline").unwrap_err();
        assert!(format!("{err:#}").contains("is not a regular file"), "{err:#}");
    }
}
