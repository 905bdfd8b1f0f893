//! `compver.ini` and its hotfix-named variants: the version a component
//! folder offers. The file's syntax is undocumented (reference 4.2), so a
//! `Version`-like key wins, else the first version-looking token.

use super::ini::Ini;
use super::Extracted;
use crate::model::Status;
use crate::sms::version::Version;
use crate::text;

pub fn parse(bytes: &[u8]) -> Extracted {
    if bytes.is_empty() {
        return Extracted::failed(Status::Malformed, "empty file: no version");
    }
    if text::looks_binary(bytes) {
        return Extracted::failed(Status::Malformed, "binary content: no version");
    }
    let text = text::decode(bytes);
    let ini = match Ini::parse(&text) {
        Ok(ini) => ini,
        Err(limit) => return Extracted::failed(Status::Malformed, limit.to_string()),
    };
    let keyed = ini
        .entries
        .iter()
        .filter(|e| e.key.to_ascii_lowercase().contains("ver"))
        .find_map(|e| Version::parse(e.value).map(|v| (v, format!("key {}", e.key))));
    let found = keyed.or_else(|| Version::find_in(&text).map(|v| (v, "first version in file".to_string())));
    match found {
        Some((version, source)) => Extracted {
            version: Some(version.text),
            version_source: Some(source),
            ..Extracted::default()
        },
        None => Extracted::failed(Status::Malformed, "no version found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_in_any_layout() {
        assert_eq!(parse(b"2.00.1239.0000\r\n").version.as_deref(), Some("2.00.1239.0000"));
        let keyed = parse(b"[Version]\r\nBuild=1380\r\nVersion=2.00.1380.1072\r\n");
        assert_eq!(keyed.version.as_deref(), Some("2.00.1380.1072"));
        assert_eq!(keyed.version_source.as_deref(), Some("key Version"));
        assert_eq!(
            parse(b"[WBEM]\r\nVersion=698.0012\r\n").version.as_deref(),
            Some("698.0012")
        );
        let utf16: Vec<u8> = "\u{feff}Version=2.00.1493.2009"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(parse(&utf16).version.as_deref(), Some("2.00.1493.2009"));
    }

    #[test]
    fn cr_only_line_ends_keep_the_keyed_version() {
        let keyed = parse(b"[Version]\rPrevious=2.00.1380.1000\rVersion=2.00.1493.2009\r");
        assert_eq!(keyed.version.as_deref(), Some("2.00.1493.2009"));
        assert_eq!(keyed.version_source.as_deref(), Some("key Version"));
    }

    #[test]
    fn a_file_beyond_the_reader_limits_is_malformed_with_the_limit() {
        let text = format!("[Version]\n{}Version=2.00.1493.2009\n", "=\n".repeat(300_000));
        let extracted = parse(text.as_bytes());
        assert_eq!(extracted.status, Status::Malformed);
        assert!(
            extracted.reason.contains("name=value lines (INI reader limit)"),
            "{}",
            extracted.reason
        );
        assert_eq!(extracted.version, None);
    }

    #[test]
    fn bad_files_get_reasons() {
        assert_eq!(parse(b"").status, Status::Malformed);
        assert_eq!(parse(b"[Version]\r\n").reason, "no version found");
        assert_eq!(parse(&[0u8, 1, 2, 0, 0, 0, 9, 0]).status, Status::Malformed);
    }
}
