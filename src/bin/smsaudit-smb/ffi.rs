//! The few functions of libsmbclient (`libsmbclient.h`, Samba 4.12 or
//! later for `smbc_readdirplus2`) the helper calls, declared by hand: the
//! `smbclient-sys` crate is unmaintained (2015, libc 0.1) and bindgen would
//! add a build step for a dozen declarations.

use libc::{c_char, c_int, c_uint, off_t, size_t, ssize_t, timespec};

/// `SMBCCTX`, opaque.
#[repr(C)]
pub struct Context {
    _private: [u8; 0],
}

/// `typedef int smbc_bool`.
pub type SmbcBool = c_int;

/// `smbc_get_auth_data_fn`: server, share, then workgroup, user and
/// password buffers with their lengths, to fill.
pub type AuthFn = extern "C" fn(
    server: *const c_char,
    share: *const c_char,
    workgroup: *mut c_char,
    workgroup_len: c_int,
    username: *mut c_char,
    username_len: c_int,
    password: *mut c_char,
    password_len: c_int,
);

/// `struct libsmb_file_info`, up to the fields read (it is only ever read
/// through the pointer libsmbclient returns).
#[repr(C)]
pub struct FileInfo {
    pub size: u64,
    pub attrs: u16,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub btime_ts: timespec,
    pub mtime_ts: timespec,
    pub atime_ts: timespec,
    pub ctime_ts: timespec,
    pub name: *mut c_char,
    pub short_name: *mut c_char,
}

/// DOS attributes of a listing.
pub const ATTRIBUTE_DIRECTORY: u16 = 0x10;
pub const ATTRIBUTE_REPARSE_POINT: u16 = 0x400;

#[link(name = "smbclient")]
extern "C" {
    pub fn smbc_new_context() -> *mut Context;
    pub fn smbc_init_context(context: *mut Context) -> *mut Context;
    pub fn smbc_set_context(context: *mut Context) -> *mut Context;
    pub fn smbc_setDebug(context: *mut Context, debug: c_int);
    pub fn smbc_setOptionDebugToStderr(context: *mut Context, on: SmbcBool);
    pub fn smbc_setTimeout(context: *mut Context, milliseconds: c_int);
    pub fn smbc_setOptionNoAutoAnonymousLogin(context: *mut Context, on: SmbcBool);
    pub fn smbc_setOptionProtocols(context: *mut Context, min: *const c_char, max: *const c_char) -> SmbcBool;
    pub fn smbc_setFunctionAuthData(context: *mut Context, auth: AuthFn);

    pub fn smbc_opendir(url: *const c_char) -> c_int;
    pub fn smbc_readdirplus2(dir: c_uint, stat: *mut libc::stat) -> *const FileInfo;
    pub fn smbc_closedir(dir: c_int) -> c_int;
    pub fn smbc_stat(url: *const c_char, stat: *mut libc::stat) -> c_int;

    pub fn smbc_open(url: *const c_char, flags: c_int, mode: libc::mode_t) -> c_int;
    pub fn smbc_read(fd: c_int, buffer: *mut libc::c_void, size: size_t) -> ssize_t;
    pub fn smbc_lseek(fd: c_int, offset: off_t, whence: c_int) -> off_t;
    pub fn smbc_fstat(fd: c_int, stat: *mut libc::stat) -> c_int;
    pub fn smbc_close(fd: c_int) -> c_int;

    /// Returns 0 once the value is in `value` (not its length); -1 with
    /// errno ERANGE when `size` is too small.
    pub fn smbc_getxattr(url: *const c_char, name: *const c_char, value: *mut libc::c_void, size: size_t) -> c_int;
}

/// `struct smbc_dirent`, up to the name's first byte: an entry of a
/// server's share list (`smbc_readdir` of `smb://host`).
#[repr(C)]
pub struct Dirent {
    pub smbc_type: c_uint,
    pub dirlen: c_uint,
    pub commentlen: c_uint,
    pub comment: *mut c_char,
    pub namelen: c_uint,
    pub name: [c_char; 1],
}

/// `smbc_type` of a disk share.
pub const SMBC_FILE_SHARE: c_uint = 3;

#[link(name = "smbclient")]
extern "C" {
    pub fn smbc_readdir(dir: c_uint) -> *const Dirent;
}
