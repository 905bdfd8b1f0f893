//! The share file-system seam over libsmbclient: a folder is its URL, a
//! listing carries every entry's type, size, times and file id (so no
//! entry is stat'ed on its own), a file is opened by URL and read in the
//! library's chunks, its state taken at the end of the read from its
//! handle. A folder that is a reparse point (a DFS link, a junction, a
//! mounted volume) is the share's mount point: never entered.

use crate::ffi;
use crate::readers::{Readers, Remote};
use smsaudit::crawl::{EntryType, FileState, Identity, Listed, ListedName, ShareFs};
use smsaudit::model::Ace;
use smsaudit::smb::{self, Credentials};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

/// Every libsmbclient call of the process holds this: the library keeps
/// global state and is not thread-safe as distributions build it.
static LIBRARY: Mutex<()> = Mutex::new(());

/// What the authentication callback answers with.
static CREDENTIALS: OnceLock<Option<Credentials>> = OnceLock::new();

/// How long libsmbclient waits for one answer: a share that takes longer
/// fails the call; one that never answers is given up on by smsaudit's
/// stall limit, which kills this process.
const TIMEOUT_MILLIS: i32 = 30_000;

pub(crate) fn library() -> MutexGuard<'static, ()> {
    LIBRARY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The share file system of the helper: its own libsmbclient context for
/// the walk's listings, and reader processes ([`Readers`]) for its files.
pub struct SmbShare {
    readers: Readers,
}

impl SmbShare {
    /// Creates the helper's context ([`init_library`]); readers are
    /// started as files are read.
    pub fn connect() -> Result<SmbShare, String> {
        init_library()?;
        Ok(SmbShare {
            readers: Readers::new(),
        })
    }
}

/// Creates the process's one context: credentials from `--smb-auth` (its
/// path in the environment) or the environment, NT1 allowed (SMS 2.0's
/// servers speak nothing else), debug output on stderr (stdout is the
/// protocol's), no anonymous logon in place of a refused one. For the
/// helper and each of its readers.
pub fn init_library() -> Result<(), String> {
    let credentials = smb::credentials_from_env()?;
    let _ = CREDENTIALS.set(credentials);
    let _held = library();
    // SAFETY: called once, before any other libsmbclient call, under
    // the lock; the context lives as long as the process.
    unsafe {
        let context = ffi::smbc_new_context();
        if context.is_null() {
            return Err(format!("cannot create an SMB context: {}", io::Error::last_os_error()));
        }
        ffi::smbc_setOptionDebugToStderr(context, 1);
        ffi::smbc_setDebug(context, 0);
        ffi::smbc_setTimeout(context, TIMEOUT_MILLIS);
        ffi::smbc_setOptionNoAutoAnonymousLogin(context, 1);
        ffi::smbc_setOptionProtocols(context, c"NT1".as_ptr(), c"SMB3".as_ptr());
        ffi::smbc_setFunctionAuthData(context, authenticate);
        if ffi::smbc_init_context(context).is_null() {
            return Err(format!(
                "cannot initialise libsmbclient: {}",
                io::Error::last_os_error()
            ));
        }
        ffi::smbc_set_context(context);
    }
    Ok(())
}

/// libsmbclient's authentication callback: the credentials, or a guest
/// logon (empty user) when there are none.
extern "C" fn authenticate(
    _server: *const libc::c_char,
    _share: *const libc::c_char,
    workgroup: *mut libc::c_char,
    workgroup_len: libc::c_int,
    username: *mut libc::c_char,
    username_len: libc::c_int,
    password: *mut libc::c_char,
    password_len: libc::c_int,
) {
    let Some(Some(credentials)) = CREDENTIALS.get() else {
        return;
    };
    // SAFETY: libsmbclient hands buffers of the lengths it gives.
    unsafe {
        if !credentials.domain.is_empty() {
            fill(workgroup, workgroup_len, &credentials.domain);
        }
        fill(username, username_len, &credentials.username);
        fill(password, password_len, &credentials.password);
    }
}

/// Copies `text` into a C buffer of `len` bytes, cut to fit, terminated.
///
/// # Safety
/// `buffer` must point to `len` writable bytes.
unsafe fn fill(buffer: *mut libc::c_char, len: libc::c_int, text: &str) {
    let Ok(len) = usize::try_from(len) else { return };
    if buffer.is_null() || len == 0 {
        return;
    }
    let bytes = text.as_bytes();
    let n = bytes.len().min(len - 1);
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.cast::<u8>(), n);
    *buffer.add(n) = 0;
}

/// A URL as libsmbclient takes it.
fn c_url(url: &str) -> io::Result<CString> {
    CString::new(url).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a name"))
}

/// The URL of `name` in the folder at `parent`.
fn child_url(parent: &str, name: &OsStr) -> io::Result<String> {
    let name = name
        .to_str()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a name that is not UTF-8"))?;
    Ok(format!("{parent}/{}", smb::percent_encode(name)))
}

/// The result of a libsmbclient call that returns -1 and sets errno.
fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    match result {
        -1 => Err(io::Error::last_os_error()),
        other => Ok(other),
    }
}

fn time(spec: libc::timespec) -> Option<SystemTime> {
    let secs = u64::try_from(spec.tv_sec).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, spec.tv_nsec.clamp(0, 999_999_999) as u32))
}

/// A refusal at the share root is most often the logon's: said so, since
/// libsmbclient reports a wrong password as a bare EACCES.
pub(crate) fn explain_refusal(err: io::Error) -> io::Error {
    match err.kind() {
        io::ErrorKind::PermissionDenied => io::Error::new(
            err.kind(),
            format!(
                "the server refused the logon or the share ({err}): check the user and password \
                 (--smb-auth or SMSAUDIT_SMB_USER) and the account's Read on the share"
            ),
        ),
        _ => err,
    }
}

/// An entry as a `struct stat` from libsmbclient describes it.
#[allow(clippy::unnecessary_cast)]
fn from_stat(stat: &libc::stat) -> Listed {
    let kind = match stat.st_mode & libc::S_IFMT {
        libc::S_IFDIR => EntryType::Folder,
        libc::S_IFREG => EntryType::File,
        libc::S_IFLNK => EntryType::Link,
        _ => EntryType::Special("special file"),
    };
    let mtime = libc::timespec {
        tv_sec: stat.st_mtime,
        tv_nsec: stat.st_mtime_nsec,
    };
    Listed {
        kind,
        state: FileState::new(
            stat.st_size as u64,
            time(mtime),
            (stat.st_ctime as i64, stat.st_ctime_nsec as i64),
        ),
        identity: Identity::file_id(stat.st_ino as u64),
        mount_root: false,
    }
}

/// An entry of a listing: its DOS attributes say a folder and a reparse
/// point; its times and size are the listing's own.
// The field types of `timespec` and `struct stat` differ between systems.
#[allow(clippy::unnecessary_cast)]
fn from_listing(info: &ffi::FileInfo, stat: &libc::stat) -> Listed {
    let folder = info.attrs & ffi::ATTRIBUTE_DIRECTORY != 0;
    Listed {
        kind: if folder { EntryType::Folder } else { EntryType::File },
        state: FileState::new(
            info.size,
            time(info.mtime_ts),
            (info.ctime_ts.tv_sec as i64, info.ctime_ts.tv_nsec as i64),
        ),
        identity: Identity::file_id(stat.st_ino as u64),
        mount_root: info.attrs & ffi::ATTRIBUTE_REPARSE_POINT != 0,
    }
}

/// An open file of the share: in a reader process, or in this one's
/// context when no reader could be started.
pub enum SmbFile {
    Here { fd: libc::c_int },
    InReader(Remote),
}

impl SmbFile {
    /// Opens `url` with this process's context.
    pub fn open_here(url: &str) -> io::Result<SmbFile> {
        let c = c_url(url)?;
        let _held = library();
        // SAFETY: the URL is terminated.
        let fd = check(unsafe { ffi::smbc_open(c.as_ptr(), libc::O_RDONLY, 0) })?;
        Ok(SmbFile::Here { fd })
    }

    /// The `struct stat` of the open file, from its handle (a request).
    pub fn handle_stat(&mut self) -> io::Result<libc::stat> {
        match self {
            SmbFile::Here { fd } => {
                // SAFETY: zeroed `struct stat` is valid; fd is open.
                let mut stat: libc::stat = unsafe { std::mem::zeroed() };
                let _held = library();
                check(unsafe { ffi::smbc_fstat(*fd, &mut stat) })?;
                Ok(stat)
            }
            SmbFile::InReader(remote) => remote.stat(),
        }
    }
}

impl Read for SmbFile {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let fd = match self {
            SmbFile::Here { fd } => *fd,
            SmbFile::InReader(remote) => return remote.read(buffer),
        };
        let _held = library();
        // SAFETY: the buffer is valid for its length; fd is open.
        let n = unsafe { ffi::smbc_read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

impl Seek for SmbFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let fd = match self {
            SmbFile::Here { fd } => *fd,
            SmbFile::InReader(remote) => return remote.seek(to),
        };
        let (offset, whence) = match to {
            SeekFrom::Start(at) => (
                libc::off_t::try_from(at).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
                libc::SEEK_SET,
            ),
            SeekFrom::Current(by) => (by as libc::off_t, libc::SEEK_CUR),
            SeekFrom::End(by) => (by as libc::off_t, libc::SEEK_END),
        };
        let _held = library();
        // SAFETY: fd is open.
        let at = unsafe { ffi::smbc_lseek(fd, offset, whence) };
        if at < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(at as u64)
    }
}

/// What `url` names, by its path (no handle of this process on it).
fn stat_path(url: &str) -> io::Result<libc::stat> {
    let c = c_url(url)?;
    // SAFETY: zeroed `struct stat` is valid; the URL is terminated.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    let _held = library();
    check(unsafe { ffi::smbc_stat(c.as_ptr(), &mut stat) })?;
    Ok(stat)
}

/// A file of the share as the walk reads it: open until its state after
/// the read is asked for, then closed (the close answered) and stat'ed by
/// its path, since the server shows an open file's time as it was at the
/// open ([`crate::readers::Readers::settle_closes`]).
pub struct ShareFile {
    url: String,
    open: Option<SmbFile>,
}

impl ShareFile {
    fn open(&mut self) -> io::Result<&mut SmbFile> {
        self.open
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was closed for its check"))
    }
}

impl Read for ShareFile {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.open()?.read(buffer)
    }
}

impl Seek for ShareFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.open()?.seek(to)
    }
}

impl Drop for SmbFile {
    fn drop(&mut self) {
        if let SmbFile::Here { fd } = self {
            let _held = library();
            // SAFETY: fd is open and closed once.
            unsafe {
                ffi::smbc_close(*fd);
            }
        }
    }
}

impl ShareFs for SmbShare {
    type Folder = String;
    type File = ShareFile;
    /// The handle's state after a read shows a file that grew: a file is
    /// read to its listed size, no byte further (a READ of its own).
    const STATE_SHOWS_GROWTH: bool = true;
    /// A file's state after its read is its folder's next listing (a
    /// request or two a folder), not its handle's (a request a file): a
    /// file is open, read, close; the handle is asked only when a file is
    /// read again because the listings differ.
    const STATE_AFTER_FROM_RELISTING: bool = true;

    fn open_root(&self, path: &Path) -> io::Result<(String, Listed)> {
        let url = path
            .to_str()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an smb:// URL"))?
            .trim_end_matches('/')
            .to_string();
        let c = c_url(&url)?;
        // SAFETY: zeroed `struct stat` is valid; the URL is terminated.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        {
            let _held = library();
            check(unsafe { ffi::smbc_stat(c.as_ptr(), &mut stat) }).map_err(explain_refusal)?;
        }
        let listed = from_stat(&stat);
        if listed.kind != EntryType::Folder {
            return Err(io::Error::other("not a folder"));
        }
        Ok((url, listed))
    }

    fn list(&self, folder: &String) -> io::Result<Vec<ListedName>> {
        // The files read so far closed first: a listing after the reads is
        // their check (STATE_AFTER_FROM_RELISTING), and an open file is
        // listed with its time at the open.
        self.readers.settle_closes();
        let c = c_url(folder)?;
        let mut names = Vec::new();
        let _held = library();
        // SAFETY: the URL is terminated; each FileInfo is read before the
        // next call, which may reuse it; the handle is closed once.
        unsafe {
            let dir = check(ffi::smbc_opendir(c.as_ptr()))?;
            loop {
                let mut stat: libc::stat = std::mem::zeroed();
                let info = ffi::smbc_readdirplus2(dir as libc::c_uint, &mut stat);
                if info.is_null() {
                    break;
                }
                let info = &*info;
                if info.name.is_null() {
                    continue;
                }
                let name = CStr::from_ptr(info.name).to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                let listed = from_listing(info, &stat);
                names.push(ListedName {
                    name: OsString::from_vec(name.to_vec()),
                    regular_file: listed.kind == EntryType::File,
                    listed: Some(listed),
                });
            }
            ffi::smbc_closedir(dir);
        }
        names.sort_unstable_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(names)
    }

    fn stat_entry(&self, folder: &String, name: &OsStr) -> io::Result<Listed> {
        Ok(from_stat(&stat_path(&child_url(folder, name)?)?))
    }

    fn open_folder(&self, parent: &String, name: &OsStr, _listed: &Listed) -> io::Result<String> {
        // Opened when listed (one request for both).
        child_url(parent, name)
    }

    fn open_file(&self, parent: &String, name: &OsStr, listed: Option<&Listed>) -> io::Result<(ShareFile, Listed)> {
        let url = child_url(parent, name)?;
        // A file the listing sized is read ahead at its open, up to the
        // walk's buffer: its read is then one exchange with the reader.
        let ahead = listed.map_or(0, |listed| listed.state.size);
        let mut file = match self.readers.open(&url, ahead)? {
            Some(remote) => SmbFile::InReader(remote),
            None => SmbFile::open_here(&url)?,
        };
        // The listing's state is the state at the open (a request fewer).
        let opened = match listed {
            Some(listed) => *listed,
            None => {
                let opened = from_stat(&file.handle_stat()?);
                if opened.kind != EntryType::File {
                    return Err(io::Error::other("not a regular file (replaced during the walk)"));
                }
                Listed {
                    identity: Identity::file_id(0),
                    ..opened
                }
            }
        };
        Ok((ShareFile { url, open: Some(file) }, opened))
    }

    /// The file's state once it is closed and its close answered, by its
    /// path: by its handle, or while any client holds it open, the server
    /// shows its time at the open, and a write made on the server during
    /// the read would go unseen.
    fn file_state(&self, file: &mut ShareFile) -> io::Result<FileState> {
        drop(file.open.take());
        self.readers.settle_closes();
        Ok(from_stat(&stat_path(&file.url)?).state)
    }

    fn folder_dacl(&self, root: &Path, relative: &str) -> Option<io::Result<Vec<Ace>>> {
        Some(read_dacl(root, relative))
    }
}

/// The largest security descriptor read, as text: far above any a folder
/// carries (an entry is about 40 bytes).
const MAX_DESCRIPTOR: usize = 1 << 20;

/// The DACL of the folder `relative` of the share at `root`, as
/// libsmbclient's `system.nt_sec_desc.*` gives it: it opens the folder for
/// Read Permissions, asks for its descriptor and closes it, on the share's
/// connection; its first read also opens a second connection (IPC$ and the
/// LSA pipe), which libsmbclient makes to port 445 whatever port the URL
/// names.
fn read_dacl(root: &Path, relative: &str) -> io::Result<Vec<Ace>> {
    let root = root
        .to_str()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an smb:// URL"))?
        .trim_end_matches('/');
    let url = match relative {
        "" => root.to_string(),
        relative => child_url(root, OsStr::new(relative))?,
    };
    let c = c_url(&url)?;
    let name = c_url(smb::SECURITY_DESCRIPTOR_ATTRIBUTE)?;
    let mut value = vec![0u8; 16 << 10];
    loop {
        let _held = library();
        // SAFETY: both strings are terminated; the buffer is valid for its
        // length.
        let result = unsafe { ffi::smbc_getxattr(c.as_ptr(), name.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if result >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ERANGE) && value.len() < MAX_DESCRIPTOR {
            value.resize(value.len() * 4, 0);
            continue;
        }
        return Err(explain_descriptor_error(err, root));
    }
    let text = CStr::from_bytes_until_nul(&value)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a security descriptor without its end"))?
        .to_string_lossy();
    smb::parse_security_descriptor(&text).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
}

/// libsmbclient says a failed second connection (IPC$, the LSA pipe) as
/// "no data" or "not supported": said so, with the port it used.
fn explain_descriptor_error(err: io::Error, root: &str) -> io::Error {
    let second_connection = matches!(err.raw_os_error(), Some(libc::ENODATA | libc::ENOTSUP));
    if !second_connection {
        return err;
    }
    let port = smb::parse_url(Path::new(root)).and_then(|url| url.port);
    let also = match port {
        Some(port) if port != 445 => format!(" (it connects to port 445, not {port} as the URL says)"),
        _ => String::new(),
    };
    io::Error::new(
        err.kind(),
        format!("{err}: libsmbclient could not open the IPC$ connection it reads security descriptors through{also}"),
    )
}
