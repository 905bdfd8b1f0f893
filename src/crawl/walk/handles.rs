//! Folders and files opened relative to handles, so the walk never leaves
//! the share whatever a writer does to it while the audit runs.
//!
//! Unix (`rustix`): every folder is opened from its parent's handle with
//! `openat(name, O_DIRECTORY | O_NOFOLLOW)`, every file with
//! `openat(name, O_NOFOLLOW | O_NONBLOCK | O_NOATIME)`. A name is one
//! component, so there is no path to re-resolve: a folder swapped for a
//! link fails to open, and one swapped for another object is caught by
//! comparing the opened handle's device and inode with the listing's.
//! Entries are stat'ed with `statx`, whose mount id also tells a bind mount
//! of the same device apart (`st_dev` alone cannot); where `statx` is
//! missing, the device is compared. `openat2(RESOLVE_BENEATH | ...)` would
//! add nothing for one-component names, and `cap-std` does not stop at
//! mount points, so neither is used.
//!
//! Windows (`std` plus `GetFileInformationByHandle(Ex)`): there is no
//! `openat` in std, so a folder or file is opened by its path, and the
//! opened handle's volume and volume-relative path must be its folder's
//! plus its own name; a junction, link or reparse point swapped in anywhere
//! above resolves elsewhere and is refused. Folders that are reparse points
//! are never entered, and an opened handle that is one is refused.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::time::SystemTime;

/// What a listing says an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Folder,
    File,
    Link,
    /// FIFO, socket, device...: never opened.
    Special(&'static str),
}

/// The state of a file that changes whenever its content may have: size,
/// modification time and (where the system has one) change time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileState {
    pub size: u64,
    pub modified: Option<SystemTime>,
    changed: (i64, i64),
}

impl FileState {
    /// A state from a share's own record of the file: its size, its
    /// modification time and its change time (seconds and nanoseconds;
    /// SMB's ChangeTime, or the modification time again where there is none).
    pub fn new(size: u64, modified: Option<SystemTime>, changed: (i64, i64)) -> FileState {
        FileState {
            size,
            modified,
            changed,
        }
    }
}

/// Which object on which file system: what the listing saw, checked
/// against what was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    device: u64,
    inode: u64,
    /// The mount id (Linux `statx`), when the kernel gives it.
    mount: Option<u64>,
}

impl Identity {
    /// The identity of an entry of a share read over the network: one
    /// device for the whole share (a mount point there is a reparse point,
    /// said by `Listed::mount_root`), and the server's file id.
    pub fn file_id(file_id: u64) -> Identity {
        Identity {
            device: 0,
            inode: file_id,
            mount: None,
        }
    }

    /// Whether `self` is on another file system (or mount) than `root`.
    pub(crate) fn other_file_system(&self, root: &Identity) -> bool {
        self.device != root.device || matches!((self.mount, root.mount), (Some(a), Some(b)) if a != b)
    }

    #[cfg(unix)]
    fn same_object(&self, other: &Identity) -> bool {
        self.device == other.device && self.inode == other.inode && !self.other_file_system(other)
    }
}

/// One entry as listed.
#[derive(Debug, Clone, Copy)]
pub struct Listed {
    pub kind: EntryType,
    pub state: FileState,
    pub identity: Identity,
    /// The root of another mount (or, on Windows, a reparse point that is
    /// not a link: a DFS link or mounted volume).
    pub mount_root: bool,
}

impl Listed {
    /// Whether it is the root of another mount than the share root's, or
    /// on another file system: not the share's, never crossed or read.
    pub(crate) fn is_mount_point(&self, root: &Identity) -> bool {
        self.mount_root || self.identity.other_file_system(root)
    }
}

/// One name of a folder's listing.
#[derive(Debug)]
pub(crate) struct Named {
    pub name: OsString,
    /// The listing itself says a regular file (Linux `d_type`, Windows find
    /// data): it can be opened without a stat of its own, a round trip
    /// fewer on a share.
    pub regular_file: bool,
}

/// The error for an object that is not the one the listing named.
pub(crate) fn replaced(what: &str) -> io::Error {
    io::Error::other(format!("replaced during the walk ({what})"))
}

#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
pub(crate) use windows::*;

#[cfg(unix)]
mod unix {
    use super::*;
    use rustix::fd::OwnedFd;
    use rustix::fs::{AtFlags, Mode, OFlags};
    use std::path::Path;

    /// An open folder of the share.
    #[derive(Debug)]
    pub(crate) struct Folder(OwnedFd);

    /// Opens the share root (a link the user or the inventory named is
    /// followed: the root is the one path taken as given).
    pub(crate) fn open_root(path: &Path) -> io::Result<(Folder, Listed)> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let listed = stat_fd(&fd)?;
        Ok((Folder(fd), listed))
    }

    /// The names in a folder, sorted by their bytes; `.` and `..` left out.
    pub(crate) fn list(folder: &Folder) -> io::Result<Vec<Named>> {
        use std::os::unix::ffi::OsStrExt;
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::read_from(&folder.0)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(Named {
                    name: OsStr::from_bytes(name).to_os_string(),
                    regular_file: entry.file_type() == rustix::fs::FileType::RegularFile,
                });
            }
        }
        names.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(names)
    }

    /// Stats one entry of `folder` without following it or mounting it.
    pub(crate) fn stat_entry(folder: &Folder, name: &OsStr) -> io::Result<Listed> {
        #[cfg(target_os = "linux")]
        match statx(&folder.0, name, AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT) {
            Err(err) if err.raw_os_error() == Some(libc::ENOSYS) => {}
            other => return other,
        }
        let stat = rustix::fs::statat(&folder.0, name, AtFlags::SYMLINK_NOFOLLOW)?;
        Ok(from_stat(&stat))
    }

    /// Opens a listed subfolder: never through a link, and only if it is
    /// still the folder listed.
    pub(crate) fn open_folder(parent: &Folder, name: &OsStr, listed: &Listed) -> io::Result<Folder> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let fd = rustix::fs::openat(&parent.0, name, flags, Mode::empty()).map_err(not_what_was_listed)?;
        let opened = stat_fd(&fd)?;
        if !opened.identity.same_object(&listed.identity) {
            return Err(replaced("another folder now has its name"));
        }
        Ok(Folder(fd))
    }

    /// Opens a listed file for reading without following a link, blocking
    /// on a FIFO or touching its access time; only if it is a regular file,
    /// and the one stat'ed when the walk stat'ed it (`listed`). Returns
    /// what its handle says at the open, for the caller to check the file
    /// system when there was no stat.
    pub(crate) fn open_file(parent: &Folder, name: &OsStr, listed: Option<&Listed>) -> io::Result<(File, Listed)> {
        let base = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let open = |flags| rustix::fs::openat(&parent.0, name, flags, Mode::empty());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let opened = match open(base | OFlags::NOATIME) {
            // O_NOATIME needs the file's owner (or CAP_FOWNER).
            Err(rustix::io::Errno::PERM) => open(base),
            other => other,
        };
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let opened = open(base);
        let fd = opened.map_err(not_what_was_listed)?;
        let opened = stat_fd(&fd)?;
        if opened.kind != EntryType::File {
            return Err(replaced("no longer a regular file"));
        }
        if listed.is_some_and(|listed| !opened.identity.same_object(&listed.identity)) {
            return Err(replaced("another file now has its name"));
        }
        Ok((File::from(fd), opened))
    }

    /// The state of an open file, read from its handle.
    pub(crate) fn file_state(file: &File) -> io::Result<FileState> {
        Ok(stat_fd(file)?.state)
    }

    /// A link (`ELOOP`) or non-folder (`ENOTDIR`) where the listing saw
    /// something else.
    fn not_what_was_listed(err: rustix::io::Errno) -> io::Error {
        match err {
            rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => replaced("now a link or not a folder"),
            other => other.into(),
        }
    }

    fn stat_fd(fd: impl rustix::fd::AsFd) -> io::Result<Listed> {
        #[cfg(target_os = "linux")]
        match statx(&fd, "", AtFlags::EMPTY_PATH) {
            Err(err) if err.raw_os_error() == Some(libc::ENOSYS) => {}
            other => return other,
        }
        Ok(from_stat(&rustix::fs::fstat(fd)?))
    }

    #[cfg(target_os = "linux")]
    fn statx(dir: impl rustix::fd::AsFd, name: impl rustix::path::Arg, flags: AtFlags) -> io::Result<Listed> {
        use rustix::fs::{StatxAttributes, StatxFlags};
        let x = rustix::fs::statx(dir, name, flags, StatxFlags::BASIC_STATS | StatxFlags::MNT_ID)?;
        let time = |t: rustix::fs::StatxTimestamp| (t.tv_sec, i64::from(t.tv_nsec));
        let mount_root = x.stx_attributes.contains(StatxAttributes::MOUNT_ROOT)
            || x.stx_attributes.contains(StatxAttributes::AUTOMOUNT);
        Ok(Listed {
            kind: entry_type(u32::from(x.stx_mode)),
            state: state(x.stx_size, time(x.stx_mtime), time(x.stx_ctime)),
            identity: Identity {
                device: (u64::from(x.stx_dev_major) << 32) | u64::from(x.stx_dev_minor),
                inode: x.stx_ino,
                mount: (x.stx_mask & StatxFlags::MNT_ID.bits() != 0).then_some(x.stx_mnt_id),
            },
            mount_root,
        })
    }

    // The field types of `struct stat` differ between systems.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    fn from_stat(stat: &rustix::fs::Stat) -> Listed {
        Listed {
            kind: entry_type(stat.st_mode as u32),
            state: state(
                stat.st_size as u64,
                (stat.st_mtime as i64, stat.st_mtime_nsec as i64),
                (stat.st_ctime as i64, stat.st_ctime_nsec as i64),
            ),
            identity: Identity {
                device: stat.st_dev as u64,
                inode: stat.st_ino as u64,
                mount: None,
            },
            mount_root: false,
        }
    }

    fn state(size: u64, modified: (i64, i64), changed: (i64, i64)) -> FileState {
        let modified = u64::try_from(modified.0).ok().map(|secs| {
            SystemTime::UNIX_EPOCH + std::time::Duration::new(secs, modified.1.clamp(0, 999_999_999) as u32)
        });
        FileState {
            size,
            modified,
            changed,
        }
    }

    fn entry_type(mode: u32) -> EntryType {
        use rustix::fs::FileType;
        match FileType::from_raw_mode(mode as _) {
            FileType::Directory => EntryType::Folder,
            FileType::RegularFile => EntryType::File,
            FileType::Symlink => EntryType::Link,
            FileType::Fifo => EntryType::Special("FIFO"),
            FileType::Socket => EntryType::Special("socket"),
            FileType::BlockDevice | FileType::CharacterDevice => EntryType::Special("device"),
            _ => EntryType::Special("special file"),
        }
    }
}

#[cfg(windows)]
mod windows {
    use super::*;
    use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
    use std::os::windows::io::AsRawHandle;
    use std::path::{Path, PathBuf};

    const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;
    const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
    const FILE_SHARE_ALL: u32 = 0x1 | 0x2 | 0x4;

    /// What an open handle really is: its volume and its path on that
    /// volume, lower case (names compare without regard to case).
    #[derive(Debug, PartialEq, Eq)]
    struct Place {
        volume: u32,
        name: String,
    }

    /// An open folder of the share.
    #[derive(Debug)]
    pub(crate) struct Folder {
        /// The path the walk opens children by.
        path: PathBuf,
        /// Where the handle is, to check where each child turns out to be.
        place: Place,
        /// Held open so the folder stays the object that was checked.
        _handle: File,
    }

    pub(crate) fn open_root(path: &Path) -> io::Result<(Folder, Listed)> {
        let handle = open(path, FILE_FLAG_BACKUP_SEMANTICS)?;
        let place = place(&handle)?;
        let listed = from_metadata(&handle.metadata()?);
        let folder = Folder {
            path: path.to_path_buf(),
            place,
            _handle: handle,
        };
        Ok((folder, listed))
    }

    /// The names in a folder, sorted. The listing's type (from the find
    /// data, no request of its own) marks regular files; whatever it says,
    /// [`open_file`] checks the opened handle's kind, place and reparse
    /// attribute.
    pub(crate) fn list(folder: &Folder) -> io::Result<Vec<Named>> {
        let mut names = std::fs::read_dir(&folder.path)?
            .map(|entry| {
                entry.map(|e| Named {
                    regular_file: e.file_type().is_ok_and(|t| t.is_file()),
                    name: e.file_name(),
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        names.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(names)
    }

    pub(crate) fn stat_entry(folder: &Folder, name: &OsStr) -> io::Result<Listed> {
        Ok(from_metadata(&std::fs::symlink_metadata(folder.path.join(name))?))
    }

    pub(crate) fn open_folder(parent: &Folder, name: &OsStr, _listed: &Listed) -> io::Result<Folder> {
        let path = parent.path.join(name);
        let handle = open(&path, FILE_FLAG_BACKUP_SEMANTICS)?;
        let place = check_is(&handle, parent, name, EntryType::Folder)?;
        Ok(Folder {
            path,
            place,
            _handle: handle,
        })
    }

    pub(crate) fn open_file(parent: &Folder, name: &OsStr, _listed: Option<&Listed>) -> io::Result<(File, Listed)> {
        let file = open(&parent.path.join(name), 0)?;
        check_is(&file, parent, name, EntryType::File)?;
        let opened = from_metadata(&file.metadata()?);
        Ok((file, opened))
    }

    pub(crate) fn file_state(file: &File) -> io::Result<FileState> {
        Ok(from_metadata(&file.metadata()?).state)
    }

    /// Share read, write and delete: the audit must never stop SMS or a
    /// client from updating or removing what it happens to be reading.
    fn open(path: &Path, flags: u32) -> io::Result<File> {
        std::fs::OpenOptions::new()
            .read(true)
            .share_mode(FILE_SHARE_ALL)
            .custom_flags(flags)
            .open(path)
    }

    /// The handle must be `name` directly inside `parent`, on its volume,
    /// reached through no link or reparse point, and of the kind listed.
    fn check_is(handle: &File, parent: &Folder, name: &OsStr, kind: EntryType) -> io::Result<Place> {
        let opened = place(handle)?;
        let expected = Place {
            volume: parent.place.volume,
            name: format!(
                r"{}\{}",
                parent.place.name.trim_end_matches('\\'),
                name.to_string_lossy().to_lowercase()
            ),
        };
        if opened != expected {
            return Err(replaced("its path now leads elsewhere"));
        }
        let metadata = handle.metadata()?;
        if metadata.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 || from_metadata(&metadata).kind != kind {
            return Err(replaced("no longer the same kind of entry"));
        }
        Ok(opened)
    }

    /// The volume serial number and volume-relative path of a handle.
    /// (`GetFinalPathNameByHandleW` would do, but Wine limits it to
    /// MAX_PATH.)
    fn place(handle: &File) -> io::Result<Place> {
        use windows_sys::Win32::Storage::FileSystem::{
            FileNameInfo, GetFileInformationByHandle, GetFileInformationByHandleEx, BY_HANDLE_FILE_INFORMATION,
        };
        // SAFETY: a zeroed BY_HANDLE_FILE_INFORMATION is a valid value.
        let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
        // SAFETY: the handle is open for the call; `info` is writable.
        if unsafe { GetFileInformationByHandle(handle.as_raw_handle(), &mut info) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // FILE_NAME_INFO: a u32 length in bytes, then the UTF-16 name.
        let mut buffer = vec![0u32; 1 + 32 * 1024];
        // SAFETY: the buffer is valid, u32-aligned and as large as stated.
        let done = unsafe {
            GetFileInformationByHandleEx(
                handle.as_raw_handle(),
                FileNameInfo,
                buffer.as_mut_ptr().cast(),
                (buffer.len() * 4) as u32,
            )
        };
        if done == 0 {
            return Err(io::Error::last_os_error());
        }
        let units = (buffer[0] as usize / 2).min((buffer.len() - 1) * 2);
        let name: Vec<u16> = buffer[1..]
            .iter()
            .flat_map(|word| [*word as u16, (*word >> 16) as u16])
            .take(units)
            .collect();
        Ok(Place {
            volume: info.dwVolumeSerialNumber,
            name: String::from_utf16_lossy(&name).to_lowercase(),
        })
    }

    fn from_metadata(metadata: &std::fs::Metadata) -> Listed {
        let reparse = metadata.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0;
        let file_type = metadata.file_type();
        let kind = if file_type.is_symlink() {
            EntryType::Link
        } else if file_type.is_dir() {
            EntryType::Folder
        } else if file_type.is_file() {
            EntryType::File
        } else {
            EntryType::Special("special file")
        };
        Listed {
            kind,
            state: FileState {
                size: metadata.len(),
                modified: metadata.modified().ok(),
                changed: (metadata.creation_time() as i64, metadata.last_write_time() as i64),
            },
            identity: Identity {
                device: 0,
                inode: 0,
                mount: None,
            },
            mount_root: reparse && kind == EntryType::Folder,
        }
    }
}
