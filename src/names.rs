//! Windows names on every platform: UNC roots, `\\?\` prefixes, location
//! names and site codes. Pure string handling, so it is tested everywhere.

use std::path::Path;

/// A UNC path split into host, share and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unc {
    pub server: String,
    pub share: String,
    /// Folders below the share, without separators.
    pub rest: Vec<String>,
}

/// Parses `\\server\share\...`, `\\?\UNC\server\share\...` and
/// `//server/share/...`. Returns `None` for anything else.
pub(crate) fn parse_unc(path: &str) -> Option<Unc> {
    let normal = path.replace('/', "\\");
    let body = if let Some(rest) = strip_prefix_ci(&normal, r"\\?\UNC\") {
        rest
    } else if let Some(rest) = strip_prefix_ci(&normal, r"\\.\UNC\") {
        rest
    } else if normal.starts_with(r"\\?\") || normal.starts_with(r"\\.\") {
        return None;
    } else {
        normal.strip_prefix(r"\\")?
    };
    let mut parts = body.split('\\').filter(|p| !p.is_empty());
    let server = parts.next()?.to_string();
    let share = parts.next()?.to_string();
    Some(Unc {
        server,
        share,
        rest: parts.map(str::to_string).collect(),
    })
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// A path as a person should see it: without the `\\?\` verbatim prefix
/// that `canonicalize` and long-path handling add on Windows.
pub(crate) fn display_path(path: &Path) -> String {
    display_str(&path.to_string_lossy())
}

/// [`display_path`] on a string. Only the prefixes that have a plain
/// spelling are removed: `\\?\UNC\srv\share` and `\\?\C:\...`; a volume
/// GUID path (`\\?\Volume{...}`) has none and is left as it is.
pub(crate) fn display_str(text: &str) -> String {
    if let Some(rest) = strip_prefix_ci(text, r"\\?\UNC\") {
        format!(r"\\{rest}")
    } else if let Some(rest) = text.strip_prefix(r"\\?\").filter(|rest| drive_letter(rest).is_some()) {
        rest.to_string()
    } else {
        text.to_string()
    }
}

/// `C` for `C:`, `c:\x` or `C:/x`: the drive a Windows path starts with.
fn drive_letter(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let letter = chars.next().filter(char::is_ascii_alphabetic)?;
    (chars.next() == Some(':') && matches!(chars.next(), None | Some('\\' | '/'))).then(|| letter.to_ascii_uppercase())
}

/// The server and share a share folder stands for. See
/// [`server_and_share_str`]; relative paths are made absolute first.
pub(crate) fn server_and_share(dir: &Path) -> (String, String) {
    let text = dir.to_string_lossy();
    // A Windows-spelled absolute path is taken as it is, also on Unix.
    let windows_absolute = text.starts_with(r"\\") || text.starts_with("//") || text.get(2..3) == Some("\\");
    if windows_absolute && (parse_unc(&text).is_some() || drive_letter(&display_str(&text)).is_some()) {
        return server_and_share_str(&text);
    }
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    server_and_share_str(&absolute.to_string_lossy())
}

/// The server and share a share folder stands for, from its absolute path
/// spelled the Unix or the Windows way (tested on every platform):
///
/// * a UNC share root `\\SERVER1\CAP_MS1` (or `\\?\UNC\...`): its host and share;
/// * a folder right inside a UNC share (`\\SERVER1\D$\CAP_MS1`): that host
///   and the folder's name, since the folder is reached on that server;
/// * a folder right inside a drive root (`X:\CAP_MS1`): `X:` and the folder;
/// * a drive root itself (`X:\`, a mapped drive): `X:` and `X$`, because the
///   path does not say which server and share the drive maps -- give the
///   UNC path instead to get real names (and a CAP's site code);
/// * any deeper folder (`C:\shares\SERVER1\CAP_MS1`, `/srv/SERVER1/CAP_MS1`):
///   the folder that holds it and its own name, so a copied tree keeps the
///   names of the shares it was copied from.
///
/// `.` and `..` are resolved by their spelling; trailing separators ignored.
pub(crate) fn server_and_share_str(text: &str) -> (String, String) {
    let (root, folders) = split_root(text);
    let n = folders.len();
    if n >= 2 {
        return (folders[n - 2].clone(), folders[n - 1].clone());
    }
    let own = folders.first().cloned();
    match root {
        Root::Unc { server, share } => match own {
            Some(name) => (server, name),
            None => (server, share),
        },
        Root::Drive(letter) => (format!("{letter}:"), own.unwrap_or_else(|| format!("{letter}$"))),
        Root::Other => ("localhost".to_string(), own.unwrap_or_else(|| display_str(text))),
    }
}

/// Where an absolute path starts.
enum Root {
    Unc {
        server: String,
        share: String,
    },
    Drive(char),
    /// `/`, a volume GUID path or something unknown.
    Other,
}

/// Splits a path into its root and the folder names below it. Backslashes
/// separate only in Windows-spelled paths (UNC, drive, verbatim), because
/// on Unix a backslash is an ordinary character in a file name.
fn split_root(text: &str) -> (Root, Vec<String>) {
    if let Some(unc) = parse_unc(text) {
        let root = Root::Unc {
            server: unc.server,
            share: unc.share,
        };
        return (root, normalise(unc.rest.iter().map(String::as_str)));
    }
    let plain = display_str(text);
    if let Some(letter) = drive_letter(&plain) {
        return (Root::Drive(letter), normalise(plain[2..].split(['\\', '/'])));
    }
    let windows = plain.starts_with('\\') || cfg!(windows);
    let parts: Vec<&str> = if windows {
        plain.split(['\\', '/']).collect()
    } else {
        plain.split('/').collect()
    };
    (Root::Other, normalise(parts.into_iter()))
}

/// Drops empty and `.` parts and lets `..` remove the part before it.
fn normalise<'a>(parts: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in parts {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            name => out.push(name.to_string()),
        }
    }
    out
}

/// `\\SERVER\SHARE` as the location key.
pub(crate) fn location_name(server: &str, share: &str) -> String {
    format!(r"\\{server}\{share}")
}

/// What had to be escaped in a share-relative path, for the row's reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Escapes {
    /// Bytes that are not UTF-8 (on Windows: unpaired UTF-16 surrogates).
    pub not_utf8: bool,
    /// A `\` inside one name, which would otherwise read as a separator.
    pub backslash: bool,
    /// A `%` that would otherwise read as the start of an escape.
    pub percent: bool,
}

impl Escapes {
    pub(crate) fn any(self) -> bool {
        self.not_utf8 || self.backslash || self.percent
    }

    /// Both sets of escapes: a file inherits the escapes of its folders.
    pub(crate) fn with(self, other: Escapes) -> Escapes {
        Escapes {
            not_utf8: self.not_utf8 || other.not_utf8,
            backslash: self.backslash || other.backslash,
            percent: self.percent || other.percent,
        }
    }

    /// The note a row's reason carries, empty when nothing was escaped.
    pub(crate) fn note(self) -> String {
        let mut notes = Vec::new();
        if self.not_utf8 {
            notes.push("name is not valid UTF-8 (bad bytes shown as %XX)");
        }
        if self.backslash {
            notes.push(r"name holds a literal \ (shown as %5C)");
        }
        if self.percent {
            notes.push("name holds % before two hex digits (shown as %25)");
        }
        notes.join("; ")
    }
}

/// One name (a single path component) as the reports spell it. The
/// spelling is injective, so two distinct names never share a report path
/// (and drift, keyed on the path, is keyed on the raw name):
///
/// * a byte that is not part of valid UTF-8 becomes `%XX` (upper-case hex;
///   on Windows an unpaired surrogate is escaped as the three bytes of its
///   WTF-8 form, which valid UTF-8 never holds);
/// * a literal `\` becomes `%5C`, so it never reads as a separator and a
///   file named `clicomp.box\base\compver.ini` is not the real compver;
/// * a literal `%` becomes `%25` only when two hex digits follow it, where
///   it would otherwise read as an escape;
/// * everything else, so every ordinary name, is kept as it is.
///
/// Decoding reads `%` plus two hex digits as a byte and any other `%` as
/// itself; an unescaped `%` is never followed by two hex digits, so every
/// spelling decodes to exactly one name.
pub(crate) fn escape_name(raw: &std::ffi::OsStr) -> (String, Escapes) {
    let bytes = raw.as_encoded_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut escapes = Escapes::default();
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        for (at, c) in valid.char_indices() {
            match c {
                '\\' => {
                    escapes.backslash = true;
                    out.push_str("%5C");
                }
                '%' if starts_with_hex_pair(&valid.as_bytes()[at + 1..]) => {
                    escapes.percent = true;
                    out.push_str("%25");
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            escapes.not_utf8 = true;
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    (out, escapes)
}

fn starts_with_hex_pair(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0].is_ascii_hexdigit() && bytes[1].is_ascii_hexdigit()
}

/// `name` below the share-relative folder `folder` (`""` at the root),
/// joined with a backslash as Windows shows it.
pub(crate) fn join_relative(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        return name.to_string();
    }
    // Once a file: pushed, not formatted.
    let mut joined = String::with_capacity(folder.len() + 1 + name.len());
    joined.push_str(folder);
    joined.push('\\');
    joined.push_str(name);
    joined
}

/// FNV-1a of `name` in ASCII lower case, as Windows compares names: equal
/// for names that differ only in case, without a lower-case copy.
pub(crate) fn lower_case_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn parses_unc_forms() {
        let plain = parse_unc(r"\\SERVER1\CAP_MS1").unwrap();
        assert_eq!((plain.server.as_str(), plain.share.as_str()), ("SERVER1", "CAP_MS1"));
        let verbatim = parse_unc(r"\\?\UNC\dc1\SMSLOGON\Sites\MS1").unwrap();
        assert_eq!(verbatim.server, "dc1");
        assert_eq!(verbatim.rest, vec!["Sites", "MS1"]);
        assert_eq!(parse_unc("//srv/SMSPKGC$/").unwrap().share, "SMSPKGC$");
        assert!(parse_unc(r"\\?\C:\shares").is_none());
        assert!(parse_unc(r"C:\shares").is_none());
        assert!(parse_unc(r"\\server").is_none());
    }

    #[test]
    fn displays_without_verbatim_prefix() {
        assert_eq!(display_str(r"\\?\UNC\srv\CAP_AB1\x"), r"\\srv\CAP_AB1\x");
        assert_eq!(display_str(r"\\?\C:\a"), r"C:\a");
        assert_eq!(display_str("/tmp/a"), "/tmp/a");
        assert_eq!(display_str(r"\\?\unc\srv\CAP_AB1"), r"\\srv\CAP_AB1");
        assert_eq!(display_str(r"\\SERVER1\CAP_MS1"), r"\\SERVER1\CAP_MS1");
        // No plain spelling exists for a volume GUID path: keep it whole.
        assert_eq!(display_str(r"\\?\Volume{0b1c}\x"), r"\\?\Volume{0b1c}\x");
    }

    fn names(text: &str) -> (String, String) {
        server_and_share_str(text)
    }

    fn pair(server: &str, share: &str) -> (String, String) {
        (server.to_string(), share.to_string())
    }

    #[test]
    fn names_share_folders() {
        assert_eq!(
            server_and_share(Path::new("/x/sample-shares/SERVER1/CAP_MS1")),
            ("SERVER1".to_string(), "CAP_MS1".to_string())
        );
        assert_eq!(
            server_and_share(Path::new(r"\\DC1\SMSLOGON")),
            ("DC1".to_string(), "SMSLOGON".to_string())
        );
        assert_eq!(
            server_and_share(Path::new(r"\\?\C:\shares\SERVER1\CAP_MS1")),
            ("SERVER1".to_string(), "CAP_MS1".to_string())
        );
        assert_eq!(location_name("DC1", "SMSLOGON"), r"\\DC1\SMSLOGON");
    }

    #[test]
    fn names_unc_roots_in_every_spelling() {
        for text in [
            r"\\SERVER1\CAP_MS1",
            r"\\SERVER1\CAP_MS1\",
            r"\\?\UNC\SERVER1\CAP_MS1",
            r"\\?\unc\SERVER1\CAP_MS1\",
            "//SERVER1/CAP_MS1",
        ] {
            assert_eq!(names(text), pair("SERVER1", "CAP_MS1"), "{text}");
        }
        assert_eq!(names(r"\\SERVER1\SMSPKGC$"), pair("SERVER1", "SMSPKGC$"));
        assert_eq!(names(r"\\?\UNC\DC1\SMSLOGON"), pair("DC1", "SMSLOGON"));
    }

    #[test]
    fn names_folders_inside_unc_shares() {
        // Reached through an admin share: the folder is on that server.
        assert_eq!(names(r"\\SERVER1\D$\CAP_MS1"), pair("SERVER1", "CAP_MS1"));
        assert_eq!(names(r"\\?\UNC\SERVER1\D$\CAP_MS1\"), pair("SERVER1", "CAP_MS1"));
        // A copied tree keeps the names it was copied from.
        assert_eq!(names(r"\\NAS\audit\SERVER1\CAP_MS1"), pair("SERVER1", "CAP_MS1"));
        assert_eq!(names(r"\\NAS\audit\copy\.\DC1\x\..\SMSLOGON"), pair("DC1", "SMSLOGON"));
    }

    #[test]
    fn names_drive_letter_roots() {
        for text in [
            r"C:\shares\SERVER1\CAP_MS1",
            r"C:\shares\SERVER1\CAP_MS1\",
            r"c:/shares/SERVER1/CAP_MS1",
            r"\\?\C:\shares\SERVER1\CAP_MS1",
            r"Z:\tmp\sample-shares\SERVER1\CAP_MS1",
        ] {
            assert_eq!(names(text), pair("SERVER1", "CAP_MS1"), "{text}");
        }
        assert_eq!(names(r"X:\CAP_MS1"), pair("X:", "CAP_MS1"));
        assert_eq!(names(r"\\?\x:\CAP_MS1"), pair("X:", "CAP_MS1"));
        // A mapped drive that is the share itself: the path cannot tell.
        assert_eq!(names(r"X:\"), pair("X:", "X$"));
        assert_eq!(names(r"x:"), pair("X:", "X$"));
        assert_eq!(names(r"\\?\X:\"), pair("X:", "X$"));
        assert_eq!(location_name("X:", "X$"), r"\\X:\X$");
    }

    #[test]
    fn names_unix_paths_and_odd_roots() {
        assert_eq!(names("/srv/copy/SERVER2/SMS_MS2/"), pair("SERVER2", "SMS_MS2"));
        assert_eq!(names("/CAP_MS1"), pair("localhost", "CAP_MS1"));
        assert_eq!(names("/"), pair("localhost", "/"));
        assert_eq!(names(r"\\?\Volume{0b1c}\SERVER1\CAP_MS1"), pair("SERVER1", "CAP_MS1"));
        // On Unix a backslash is part of a name, not a separator.
        #[cfg(unix)]
        assert_eq!(names(r"/srv/a\SERVER1/CAP_MS1"), pair(r"a\SERVER1", "CAP_MS1"));
    }

    #[test]
    fn long_paths_name_and_display_like_short_ones() {
        let deep = "d".repeat(120);
        let long = format!(r"\\?\C:\{deep}\{deep}\SERVER1\CAP_MS1");
        assert!(long.len() > 260);
        assert_eq!(names(&long), pair("SERVER1", "CAP_MS1"));
        assert_eq!(display_str(&long), format!(r"C:\{deep}\{deep}\SERVER1\CAP_MS1"));
        let long_unc = format!(r"\\?\UNC\NAS\audit\{deep}\{deep}\DC1\SMSLOGON");
        assert_eq!(names(&long_unc), pair("DC1", "SMSLOGON"));
        assert_eq!(
            display_str(&long_unc),
            format!(r"\\NAS\audit\{deep}\{deep}\DC1\SMSLOGON")
        );
    }

    #[test]
    fn ordinary_names_are_kept_and_joined_with_backslashes() {
        for name in ["compver.ini", "Ünïcødé ñame 日本.txt", "100%.txt", "%zz", "%4", "a b"] {
            assert_eq!(escape_name(OsStr::new(name)), (name.to_string(), Escapes::default()));
        }
        assert_eq!(join_relative("", "clicomp.box"), "clicomp.box");
        assert_eq!(
            join_relative(r"clicomp.box\base", "compver.ini"),
            r"clicomp.box\base\compver.ini"
        );
    }

    #[test]
    fn backslashes_and_escape_like_percents_are_escaped() {
        let (text, escapes) = escape_name(OsStr::new(r"clicomp.box\base\compver.ini"));
        assert_eq!(text, "clicomp.box%5Cbase%5Ccompver.ini");
        assert!(escapes.backslash && !escapes.not_utf8 && !escapes.percent);
        let (text, escapes) = escape_name(OsStr::new("%41%5c%%4g"));
        assert_eq!(text, "%2541%255c%%4g");
        assert!(escapes.percent);
        assert!(escapes.note().contains("%25"));
    }

    #[cfg(unix)]
    #[test]
    fn bytes_that_are_not_utf8_are_escaped_one_by_one() {
        use std::os::unix::ffi::OsStrExt;
        let (ff, escapes) = escape_name(OsStr::from_bytes(b"bad\xFFname"));
        let (fe, _) = escape_name(OsStr::from_bytes(b"bad\xFEname"));
        assert_eq!(ff, "bad%FFname");
        assert_eq!(fe, "bad%FEname");
        assert!(escapes.not_utf8);
        assert!(escapes.note().contains("not valid UTF-8"));
        assert_eq!(escape_name(OsStr::from_bytes(b"%\xFF")).0, "%%FF");
    }

    #[cfg(windows)]
    #[test]
    fn unpaired_surrogates_are_escaped() {
        use std::os::windows::ffi::OsStringExt;
        let lone = std::ffi::OsString::from_wide(&[0x61, 0xD800, 0x62]);
        let (text, escapes) = escape_name(&lone);
        assert_eq!(text, "a%ED%A0%80b");
        assert!(escapes.not_utf8);
        assert_eq!(unescape(&text), lone.as_encoded_bytes());
    }

    /// Reverses [`escape_name`]: the proof that the spelling is injective.
    fn unescape(text: &str) -> Vec<u8> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at] == b'%' && starts_with_hex_pair(&bytes[at + 1..]) {
                let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                at += 3;
            } else {
                out.push(bytes[at]);
                at += 1;
            }
        }
        out
    }

    #[cfg(unix)]
    proptest::proptest! {
        #[test]
        fn escaping_is_reversible_so_distinct_names_stay_distinct(
            a in proptest::collection::vec(proptest::sample::select(b"%\\aF5c/\xFF\xFE\xC3\xA9\xE6\x97".to_vec()), 0..12),
            b in proptest::collection::vec(proptest::sample::select(b"%\\aF5c/\xFF\xFE\xC3\xA9\xE6\x97".to_vec()), 0..12),
        ) {
            use std::os::unix::ffi::OsStrExt;
            let (ea, _) = escape_name(OsStr::from_bytes(&a));
            let (eb, _) = escape_name(OsStr::from_bytes(&b));
            proptest::prop_assert_eq!(unescape(&ea), a.clone());
            proptest::prop_assert!(!ea.contains('\\'));
            proptest::prop_assert_eq!(a == b, ea == eb);
        }

        #[test]
        fn ordinary_names_are_unchanged(name in "[^%\\\\/\\x00]{0,24}") {
            proptest::prop_assert_eq!(escape_name(OsStr::new(&name)).0, name);
        }
    }
}
