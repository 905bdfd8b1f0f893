//! smsaudit-smb: the crawl worker that reads shares over SMB through
//! libsmbclient (Samba), so a Linux or macOS machine audits NT4, Windows
//! 2000 and Server 2003 shares (SMB1) and later ones (SMB2/3) without a
//! mount. GPL-3.0-or-later (LICENSE beside this file): it links
//! libsmbclient. Built only with the cargo feature `smb`.
//!
//! smsaudit starts it as it starts its own crawl workers and speaks the
//! same protocol (a location in, batches of records out); what is read,
//! hashed and parsed, and how, is the library's (`smsaudit::crawl`): this
//! program only implements the share file-system seam over libsmbclient
//! ([`fs::SmbShare`]). libsmbclient is not thread-safe as distributions
//! build it: one context per process, every call made under one lock. The
//! helper keeps the walk and its listings; a share's files are read by up
//! to 16 reader processes it starts ([`readers`]), for as many requests in
//! flight.
//!
//! `smsaudit-smb __enumerate smb://host[:port]` lists the server's shares
//! instead ([`shares`]), for discovery and the share comments.

#[cfg(unix)]
mod ffi;
#[cfg(unix)]
mod fs;
#[cfg(unix)]
mod readers;
#[cfg(unix)]
mod shares;

#[cfg(unix)]
fn main() {
    if std::env::args_os().nth(1).is_some_and(|arg| arg == readers::READER_ARG) {
        std::process::exit(readers::reader_main());
    }
    let mut args = std::env::args().skip(1);
    let enumerate = args.next().is_some_and(|a| a == smsaudit::smb::ENUMERATE_COMMAND);
    let code = match fs::SmbShare::connect() {
        Ok(_) if enumerate => shares::enumerate_main(args.next()),
        Ok(share) => smsaudit::crawl::share_worker_main("smsaudit-smb", &share),
        Err(err) => {
            eprintln!("smsaudit-smb: {err}");
            2
        }
    };
    std::process::exit(code);
}

#[cfg(not(unix))]
fn main() {
    eprintln!("smsaudit-smb: only for Linux and macOS; on Windows smsaudit reads UNC paths itself");
    std::process::exit(2);
}
