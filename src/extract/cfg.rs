//! Component `.CFG` files at the root of `clicomp.box` (reference 4.1).
//!
//! The key holding the CFG's own version is undocumented. It is found
//! tolerantly: a key whose name contains `version` (or ends in `ver`, such as
//! `CompVer`, but not `Server`) in `[Component Configuration]`, then
//! `[IDENT]`, then any section; failing that, a value in those two sections
//! that is a full SMS version. No such value means an empty version: the
//! `version ()` of Q236596.

use super::ini::{Entry, Ini};
use super::{Detail, Extracted};
use crate::model::Status;
use crate::sms::version::{Version, VersionKind};
use crate::text;

const PREFERRED_SECTIONS: [&str; 2] = ["Component Configuration", "IDENT"];

pub fn parse(bytes: &[u8]) -> Extracted {
    if text::looks_binary(bytes) {
        return Extracted::failed(Status::Malformed, "binary content: not a component CFG");
    }
    let text = text::decode(bytes);
    let ini = match Ini::parse(&text) {
        Ok(ini) => ini,
        Err(limit) => return Extracted::failed(Status::Malformed, limit.to_string()),
    };
    if ini.sections.is_empty() {
        return Extracted::failed(Status::Malformed, "no [section] found: not a component CFG");
    }
    let detail = Detail::Cfg {
        name: ini.get("Component Configuration", "Name").map(str::to_string),
        last_update: ini.get("Component Configuration", "LastUpdate").map(str::to_string),
    };
    let (version, version_source, reason) = match find_version(&ini) {
        Some((entry, how)) if entry.value.is_empty() => (
            Some(String::new()),
            Some(format!("{how} {} in [{}]", entry.key, entry.section)),
            "version key present but empty".to_string(),
        ),
        Some((entry, how)) => (
            Some(entry.value.to_string()),
            Some(format!("{how} {} in [{}]", entry.key, entry.section)),
            String::new(),
        ),
        None => (None, None, "no version value (empty CFG version)".to_string()),
    };
    Extracted {
        version,
        version_source,
        reason,
        detail,
        ..Extracted::default()
    }
}

fn is_version_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.contains("version") || (lower.ends_with("ver") && !lower.ends_with("server"))
}

fn find_version<'i, 'a>(ini: &'i Ini<'a>) -> Option<(&'i Entry<'a>, &'static str)> {
    for section in PREFERRED_SECTIONS {
        if let Some(entry) = ini.section(section).find(|e| is_version_key(e.key)) {
            return Some((entry, "key"));
        }
    }
    if let Some(entry) = ini.entries.iter().find(|e| is_version_key(e.key)) {
        return Some((entry, "key"));
    }
    PREFERRED_SECTIONS.iter().find_map(|section| {
        ini.section(section)
            .find(|e| Version::parse(e.value).is_some_and(|v| v.kind == VersionKind::Sms))
            .map(|e| (e, "version-looking value of"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RTM_LICMTR: &str = "[Component Configuration]\r\n    LastUpdate=29228490, 61154480\r\n    Name=LICENSE METERING\r\n    KeyFlags=0\r\n      (REG_DWORD) Flags=0\r\n      (REG_SZ) LicenseServers=SRV1\r\n\r\n[SRV1]\r\n      (REG_SZ Name=SRV1\r\n\r\n[IDENT]\r\n    TYPE=Base Config File Type\r\n";

    #[test]
    fn rtm_cfg_has_an_empty_version() {
        let extracted = parse(RTM_LICMTR.as_bytes());
        assert_eq!(extracted.version, None);
        assert_eq!(extracted.status, Status::Ok);
        assert!(extracted.reason.contains("empty CFG version"));
        match extracted.detail {
            Detail::Cfg { name, last_update } => {
                assert_eq!(name.as_deref(), Some("LICENSE METERING"));
                assert_eq!(last_update.as_deref(), Some("29228490, 61154480"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn finds_version_keys_tolerantly() {
        let typed = "[Component Configuration]\r\n(REG_SZ) Version=2.00.1380.1000\r\n";
        assert_eq!(parse(typed.as_bytes()).version.as_deref(), Some("2.00.1380.1000"));
        let ident = "[Component Configuration]\r\nName=X\r\n[IDENT]\r\nCompVer=2.00.1493.2011\r\n";
        assert_eq!(parse(ident.as_bytes()).version.as_deref(), Some("2.00.1493.2011"));
        let bare = "[Component Configuration]\r\nBuild=2.00.1380.1000\r\n";
        assert_eq!(parse(bare.as_bytes()).version.as_deref(), Some("2.00.1380.1000"));
        let server = "[Component Configuration]\r\n(REG_SZ) LicenseServer=S\r\n";
        assert_eq!(parse(server.as_bytes()).version, None);
        let empty = "[Component Configuration]\r\nVersion=\r\n";
        assert_eq!(parse(empty.as_bytes()).version.as_deref(), Some(""));
    }

    #[test]
    fn cr_only_line_ends_keep_the_version() {
        let text = "[Component Configuration]\r    Name=SOFTWARE DISTRIBUTION\r      (REG_SZ) Version=2.00.1493.2011\r[IDENT]\r    TYPE=Base Config File Type\r";
        let extracted = parse(text.as_bytes());
        assert_eq!(extracted.version.as_deref(), Some("2.00.1493.2011"));
        assert_eq!(
            extracted.version_source.as_deref(),
            Some("key Version in [Component Configuration]")
        );
        assert!(matches!(extracted.detail, Detail::Cfg { name: Some(ref n), .. } if n == "SOFTWARE DISTRIBUTION"));
    }

    #[test]
    fn a_file_beyond_the_reader_limits_is_malformed_with_the_limit() {
        let mut text = format!("[{}]\r\n", "S".repeat(400 * 1024));
        text.push_str(&"=\n".repeat(300_000));
        let extracted = parse(text.as_bytes());
        assert_eq!(extracted.status, Status::Malformed);
        assert!(extracted.reason.contains("INI reader limit"), "{}", extracted.reason);
        assert_eq!(extracted.version, None);
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(parse(b"").status, Status::Malformed);
        assert_eq!(parse(&[0, 0, 0, 1, 2, 3, 0, 0]).status, Status::Malformed);
    }
}
