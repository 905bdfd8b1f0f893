//! Windows names on every platform: UNC roots, `\\?\` prefixes, location
//! names and site codes. Pure string handling, so it is tested everywhere.

use std::path::Path;

/// A UNC path split into host, share and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unc {
    pub server: String,
    pub share: String,
    /// Folders below the share, without separators.
    pub rest: Vec<String>,
}

/// Parses `\\server\share\...`, `\\?\UNC\server\share\...` and
/// `//server/share/...`. Returns `None` for anything else.
pub fn parse_unc(path: &str) -> Option<Unc> {
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
pub fn display_path(path: &Path) -> String {
    display_str(&path.to_string_lossy())
}

/// [`display_path`] on a string.
pub fn display_str(text: &str) -> String {
    if let Some(rest) = strip_prefix_ci(text, r"\\?\UNC\") {
        format!(r"\\{rest}")
    } else if let Some(rest) = text.strip_prefix(r"\\?\") {
        rest.to_string()
    } else {
        text.to_string()
    }
}

/// The server and share a share folder stands for: the host and share of a
/// UNC share root, otherwise the folder that holds it and its own name.
pub fn server_and_share(dir: &Path) -> (String, String) {
    let text = dir.to_string_lossy();
    if let Some(unc) = parse_unc(&text) {
        if unc.rest.is_empty() {
            return (unc.server, unc.share);
        }
    }
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let share = last_name(&absolute).unwrap_or_else(|| display_path(dir));
    let server = absolute
        .parent()
        .and_then(last_name)
        .unwrap_or_else(|| "localhost".to_string());
    (server, share)
}

fn last_name(path: &Path) -> Option<String> {
    let text = path.to_string_lossy();
    let trimmed = text.trim_end_matches(['/', '\\']);
    if let Some(unc) = parse_unc(trimmed) {
        return Some(unc.rest.last().cloned().unwrap_or(unc.share));
    }
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// `\\SERVER\SHARE` as the location key.
pub fn location_name(server: &str, share: &str) -> String {
    format!(r"\\{server}\{share}")
}

/// A site code: three letters or digits (reference 1).
pub fn is_site_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A relative path inside a share, spelled with backslashes.
pub fn share_relative(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("\\")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(location_name("DC1", "SMSLOGON"), r"\\DC1\SMSLOGON");
    }

    #[test]
    fn relative_paths_use_backslashes() {
        let root = Path::new("/a/CAP_MS1");
        assert_eq!(
            share_relative(root, Path::new("/a/CAP_MS1/clicomp.box/base/compver.ini")),
            r"clicomp.box\base\compver.ini"
        );
    }
}
