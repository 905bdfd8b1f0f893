//! Shares read over SMB without a mount (issue 31): the `smb://` roots, the
//! `smsaudit-smb` helper program that reads them (built with the cargo
//! feature `smb`, GPL-3.0-or-later because it links libsmbclient; this
//! crate only starts it) and the credentials it logs on with, from
//! `--smb-auth FILE` or the environment, never the command line.
//!
//! The main binary and the helper share this module: the main binary checks
//! the authentication file when the run starts (an `InputError` naming the
//! flag), and hands the helper its path in [`AUTH_FILE_ENV`]; the helper
//! reads it again. The password never crosses a pipe, an argument or a log.

use std::path::{Path, PathBuf};

/// The helper program's file name, looked for beside this executable.
pub const HELPER_NAME: &str = "smsaudit-smb";

/// Where the helper is, when not beside this executable (tests, packagers).
pub const HELPER_ENV: &str = "SMSAUDIT_SMB_HELPER";

/// The authentication file the helper reads, as `--smb-auth` named it.
pub const AUTH_FILE_ENV: &str = "SMSAUDIT_SMB_AUTH_FILE";

/// Credentials from the environment, when there is no `--smb-auth`.
pub const USER_ENV: &str = "SMSAUDIT_SMB_USER";
pub const PASSWORD_ENV: &str = "SMSAUDIT_SMB_PASSWORD";
pub const DOMAIN_ENV: &str = "SMSAUDIT_SMB_DOMAIN";

/// A share (or a folder in it) named by an `smb://host[:port]/share[/path]`
/// root, or by a UNC path read through the helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmbUrl {
    pub host: String,
    pub port: Option<u16>,
    pub share: String,
    /// Folders below the share root, `/`-separated, without a leading `/`.
    pub folder: String,
}

impl SmbUrl {
    /// The server the share is on.
    pub fn server(&self) -> SmbServer {
        SmbServer {
            host: self.host.clone(),
            port: self.port,
        }
    }

    /// The URL libsmbclient is given, its path bytes percent-encoded.
    pub fn url(&self) -> String {
        let mut url = self.server().url();
        url.push('/');
        url.push_str(&percent_encode(&self.share));
        for part in self.folder.split('/').filter(|p| !p.is_empty()) {
            url.push('/');
            url.push_str(&percent_encode(part));
        }
        url
    }

    /// The location's name in the reports: `\\HOST\SHARE`, as a UNC path
    /// would give it (the port is how it was reached, not its name).
    pub fn location_name(&self) -> String {
        format!(r"\\{}\{}", self.host, self.share)
    }
}

/// The share an `smb://` root names, or `None` when `root` is not one (or
/// names a server only: [`parse_server_url`]).
pub fn parse_url(root: &Path) -> Option<SmbUrl> {
    let (server, path) = split_url(root)?;
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let share = parts.next()?.to_string();
    let folder = parts.collect::<Vec<_>>().join("/");
    Some(server.share(share, folder))
}

/// The server an `smb://host[:port][/]` root names when it names no share:
/// discovery lists its shares.
pub fn parse_server_url(root: &Path) -> Option<SmbServer> {
    let (server, path) = split_url(root)?;
    path.split('/').all(str::is_empty).then_some(server)
}

/// An `smb://` root's server and the path after it.
fn split_url(root: &Path) -> Option<(SmbServer, &str)> {
    let text = root.to_str()?;
    let rest = text.strip_prefix("smb://").or_else(|| text.strip_prefix("SMB://"))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    // Credentials in the URL would end up in reports and process lists.
    if authority.contains('@') || authority.is_empty() {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
        None => (authority, None),
    };
    if host.is_empty() {
        return None;
    }
    let server = SmbServer {
        host: host.to_string(),
        port,
    };
    Some((server, path))
}

/// A server reached over SMB: `smb://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SmbServer {
    pub host: String,
    pub port: Option<u16>,
}

impl SmbServer {
    /// The URL libsmbclient lists the server's shares from.
    pub fn url(&self) -> String {
        match self.port {
            Some(port) => format!("smb://{}:{port}", self.host),
            None => format!("smb://{}", self.host),
        }
    }

    /// The share `share` of this server, at `folder` below its root.
    pub fn share(&self, share: String, folder: String) -> SmbUrl {
        SmbUrl {
            host: self.host.clone(),
            port: self.port,
            share,
            folder,
        }
    }
}

/// The hidden first argument that makes the helper list a server's shares
/// (the server's URL after it) instead of crawling: it answers with one
/// JSON line, the [`ServerShare`]s, or fails with the reason on stderr.
pub const ENUMERATE_COMMAND: &str = "__enumerate";

/// A share as the server's share list gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerShare {
    pub name: String,
    /// A disk share (not a printer, IPC or device share).
    pub disk: bool,
    pub comment: String,
}

/// Whether `root` is spelled as an `smb://` URL, whatever else it says (a
/// URL that [`parse_url`] refuses is refused, never read as a local path).
pub fn looks_like_url(root: &Path) -> bool {
    root.to_str()
        .is_some_and(|text| text.len() >= 6 && text[..6].eq_ignore_ascii_case("smb://"))
}

/// Whether an `smb://` root names a user or password (`user:pw@host`):
/// refused, since the command line and the reports would show them.
pub fn url_holds_credentials(root: &Path) -> bool {
    looks_like_url(root)
        && root
            .to_string_lossy()
            .get(6..)
            .is_some_and(|rest| rest.split('/').next().is_some_and(|authority| authority.contains('@')))
}

/// `\\host\share[\path]` as a URL, for UNC roots on Linux and macOS.
pub fn unc_url(root: &Path) -> Option<SmbUrl> {
    let text = root.to_str()?;
    let rest = text.strip_prefix(r"\\")?;
    let mut parts = rest.split('\\').filter(|p| !p.is_empty());
    let host = parts.next()?.to_string();
    let share = parts.next()?.to_string();
    if host.contains(['/', '@', ':']) {
        return None;
    }
    Some(SmbUrl {
        host,
        port: None,
        share,
        folder: parts.collect::<Vec<_>>().join("/"),
    })
}

/// Percent-encodes all but unreserved bytes: libsmbclient decodes its URLs,
/// so a `%` or `?` in a name must not be taken for syntax.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~ ".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The helper program, when it is installed: [`HELPER_ENV`], else beside
/// this executable.
pub fn helper_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(HELPER_ENV) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.with_file_name(HELPER_NAME)).filter(|p| p.is_file())
}

/// What the helper logs on with. Its `Debug` hides the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub domain: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

/// Reads smbclient's authentication file (`username = `, `password = `,
/// `domain = `, one a line); refused when others than its owner may read
/// it, or when it names no user. Errors never quote the file's lines.
pub fn read_auth_file(path: &Path) -> Result<Credentials, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path).map_err(|err| format!("cannot read it: {err}"))?;
        if !metadata.is_file() {
            return Err("not a regular file".into());
        }
        if metadata.mode() & 0o077 != 0 {
            return Err(format!(
                "others than its owner may read or change it (mode {:o}): it holds a password; chmod 600 it",
                metadata.mode() & 0o777
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|err| format!("cannot read it: {err}"))?;
    parse_auth(&text)
}

/// The credentials of an authentication file's text.
fn parse_auth(text: &str) -> Result<Credentials, String> {
    let mut credentials = Credentials::default();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: not `key = value`", number + 1));
        };
        let value = value.trim().to_string();
        match key.trim().to_ascii_lowercase().as_str() {
            "username" => credentials.username = value,
            "password" => credentials.password = value,
            "domain" => credentials.domain = value,
            _ => return Err(format!("line {}: not username, password or domain", number + 1)),
        }
    }
    if credentials.username.is_empty() {
        return Err("it names no user (`username = ...`)".into());
    }
    Ok(credentials)
}

/// The credentials for this process: the authentication file in
/// [`AUTH_FILE_ENV`], else [`USER_ENV`] and its companions, else none (a
/// guest logon).
pub fn credentials_from_env() -> Result<Option<Credentials>, String> {
    if let Some(path) = std::env::var_os(AUTH_FILE_ENV) {
        return read_auth_file(Path::new(&path))
            .map(Some)
            .map_err(|err| format!("--smb-auth {}: {err}", Path::new(&path).display()));
    }
    let var = |name| std::env::var(name).unwrap_or_default();
    match var(USER_ENV) {
        user if user.is_empty() => Ok(None),
        username => Ok(Some(Credentials {
            username,
            password: var(PASSWORD_ENV),
            domain: var(DOMAIN_ENV),
        })),
    }
}

/// The extended attribute libsmbclient gives a file's or folder's whole
/// security descriptor by, its SIDs as numbers (`*+` would look names up).
pub const SECURITY_DESCRIPTOR_ATTRIBUTE: &str = "system.nt_sec_desc.*";

/// The entries of a DACL as libsmbclient writes a security descriptor:
/// `REVISION:1,OWNER:<sid>,GROUP:<sid>,ACL:<sid>:<type>/<flags>/0x<mask>,...`
/// (comma, tab or newline separated; type and flags decimal, the mask
/// hexadecimal). Other fields are skipped; an entry that does not parse is
/// an error, never an entry left out.
pub fn parse_security_descriptor(text: &str) -> Result<Vec<crate::model::Ace>, String> {
    let number = |field: &str| -> Option<u32> {
        match field.strip_prefix("0x").or_else(|| field.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => field.parse().ok(),
        }
    };
    let mut aces = Vec::new();
    for field in text.split([',', '\t', '\n', '\r']).map(str::trim) {
        let Some(entry) = field.strip_prefix("ACL:") else {
            continue;
        };
        let parsed = entry.rsplit_once(':').and_then(|(sid, rest)| {
            let mut parts = rest.split('/');
            let ace_type = u8::try_from(number(parts.next()?)?).ok()?;
            let flags = u8::try_from(number(parts.next()?)?).ok()?;
            let mask = number(parts.next()?)?;
            (parts.next().is_none() && sid.starts_with("S-")).then(|| crate::model::Ace {
                sid: sid.to_string(),
                ace_type,
                flags,
                mask,
            })
        });
        aces.push(parsed.ok_or_else(|| format!("an access control entry that does not parse: {field:?}"))?);
    }
    Ok(aces)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A descriptor as libsmbclient 4.17 wrote it for a folder served by
    /// Samba gives its entries in order; owner, group and unknown fields are
    /// skipped; a broken entry is an error.
    #[test]
    fn security_descriptors_parse_as_libsmbclient_writes_them() {
        use crate::model::Ace;
        let text = "REVISION:1,OWNER:S-1-22-1-0,GROUP:S-1-22-2-0,ACL:S-1-5-32-545:0/0/0x001301bf,\
                    ACL:S-1-1-0:1/16/0x00010000,ACL:S-1-3-0:0/11/0x001f01ff";
        let ace = |sid: &str, ace_type, flags, mask| Ace {
            sid: sid.into(),
            ace_type,
            flags,
            mask,
        };
        assert_eq!(
            parse_security_descriptor(text).unwrap(),
            [
                ace("S-1-5-32-545", 0, 0, 0x0013_01bf),
                ace("S-1-1-0", 1, 16, 0x0001_0000),
                ace("S-1-3-0", 0, 11, 0x001f_01ff),
            ]
        );
        assert_eq!(parse_security_descriptor("REVISION:1\tOWNER:S-1-5-32-544").unwrap(), []);
        for broken in [
            "ACL:S-1-1-0:0/0",
            "ACL:S-1-1-0:0/0/0xZZ",
            "ACL:Everyone:0/0/0x1",
            "ACL:S-1-1-0:0/999/0x1",
        ] {
            assert!(parse_security_descriptor(broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn smb_roots_name_host_port_share_and_folder() {
        let url = parse_url(Path::new("smb://127.0.0.1:4455/CAP_AB1/x86.bin")).unwrap();
        assert_eq!(
            url,
            SmbUrl {
                host: "127.0.0.1".into(),
                port: Some(4455),
                share: "CAP_AB1".into(),
                folder: "x86.bin".into(),
            }
        );
        assert_eq!(url.location_name(), r"\\127.0.0.1\CAP_AB1");
        assert_eq!(url.url(), "smb://127.0.0.1:4455/CAP_AB1/x86.bin");
        assert_eq!(parse_url(Path::new("smb://s/")), None);
        let server = parse_server_url(Path::new("smb://s:139/")).unwrap();
        assert_eq!((server.host.as_str(), server.port), ("s", Some(139)));
        assert_eq!(server.url(), "smb://s:139");
        assert_eq!(parse_server_url(Path::new("SMB://dc1")).unwrap().url(), "smb://dc1");
        assert_eq!(parse_server_url(Path::new("smb://s/CAP_AB1")), None);
        assert_eq!(parse_server_url(Path::new("smb://user:pw@s")), None);
        assert_eq!(parse_server_url(Path::new("smb://:445")), None);
        assert_eq!(parse_url(Path::new("smb://user:pw@s/share")), None);
        assert_eq!(parse_url(Path::new("/srv/share")), None);
        assert!(looks_like_url(Path::new("SMB://user:pw@s/share")));
        assert!(url_holds_credentials(Path::new("SMB://user:pw@s/share")));
        assert!(!url_holds_credentials(Path::new("smb://s/share/a@b")));
        let unc = unc_url(Path::new(r"\\S1\SMSLOGON\x")).unwrap();
        assert_eq!(
            (unc.host.as_str(), unc.share.as_str(), unc.folder.as_str()),
            ("S1", "SMSLOGON", "x")
        );
    }

    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(percent_encode("a%b?c#d/é"), "a%25b%3Fc%23d%2F%C3%A9");
    }

    #[test]
    fn auth_files_are_smbclients_and_never_show_the_password() {
        let credentials = parse_auth("username = audit\npassword = s3 cret\n# x\ndomain = CORP\n").unwrap();
        assert_eq!(credentials.password, "s3 cret");
        assert!(!format!("{credentials:?}").contains("s3"));
        assert!(parse_auth("password = x\n").is_err());
        let err = parse_auth("username = a\nsecret s3cret\n").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn an_auth_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth");
        std::fs::write(&path, "username = a\npassword = b\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_auth_file(&path).unwrap_err().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_auth_file(&path).unwrap().username, "a");
    }
}
