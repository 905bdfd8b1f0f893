//! A server's share list (`smbc_opendir("smb://host")`): each share's name,
//! type and comment, for discovery of a server root and the comment check
//! (Q235173). Started by smsaudit as `smsaudit-smb __enumerate smb://host`;
//! answers with one JSON line.

use crate::ffi;
use smsaudit::smb::{self, ServerShare};
use std::ffi::CStr;
use std::io::{self, Write};

/// The share list of the server at `url` (`smb://host[:port]`), sorted by
/// name. A refusal is said as the logon's, as a share's is.
pub fn enumerate(url: &str) -> io::Result<Vec<ServerShare>> {
    let server = smb::parse_server_url(std::path::Path::new(url))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an smb://host[:port] URL"))?;
    let c = std::ffi::CString::new(server.url())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the URL"))?;
    let mut shares = Vec::new();
    let _held = crate::fs::library();
    // SAFETY: the URL is terminated; each entry is read before the next
    // call, which may reuse it; the handle is closed once.
    unsafe {
        let dir = ffi::smbc_opendir(c.as_ptr());
        if dir < 0 {
            return Err(crate::fs::explain_refusal(io::Error::last_os_error()));
        }
        loop {
            let entry = ffi::smbc_readdir(dir as libc::c_uint);
            if entry.is_null() {
                break;
            }
            let entry = &*entry;
            let name = CStr::from_ptr(entry.name.as_ptr()).to_string_lossy().into_owned();
            let comment = match entry.comment.is_null() {
                true => String::new(),
                false => CStr::from_ptr(entry.comment).to_string_lossy().into_owned(),
            };
            shares.push(ServerShare {
                name,
                disk: entry.smbc_type == ffi::SMBC_FILE_SHARE,
                comment,
            });
        }
        ffi::smbc_closedir(dir);
    }
    shares.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(shares)
}

/// The helper's `main` in this mode: the share list as one JSON line on
/// stdout, or the reason on stderr and exit code 2.
pub fn enumerate_main(url: Option<String>) -> i32 {
    let listed = url
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no server URL given"))
        .and_then(|url| enumerate(&url))
        .and_then(|shares| {
            let mut out = io::stdout().lock();
            serde_json::to_writer(&mut out, &shares)?;
            out.write_all(b"\n")?;
            out.flush()
        });
    match listed {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("smsaudit-smb: cannot list the server's shares: {err}");
            2
        }
    }
}
