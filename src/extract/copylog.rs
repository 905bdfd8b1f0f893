//! `SMSLOGON\Config\Copylog.tcf`: which site last wrote each shared file
//! (reference 4.3). It carries site codes, not versions.

use super::ini::Ini;
use super::{Detail, Extracted};
use crate::model::Status;
use crate::text;

pub fn parse(bytes: &[u8]) -> Extracted {
    if text::looks_binary(bytes) {
        return Extracted::failed(Status::Malformed, "binary content: not a Copylog.tcf");
    }
    let text = text::decode(bytes);
    let ini = match Ini::parse(&text) {
        Ok(ini) => ini,
        Err(limit) => return Extracted::failed(Status::Malformed, limit.to_string()),
    };
    if !ini.sections.iter().any(|s| s.eq_ignore_ascii_case("FILE SOURCE")) {
        return Extracted::failed(Status::Malformed, "no [FILE SOURCE] section");
    }
    let lines: Vec<(String, String)> = ini
        .section("FILE SOURCE")
        .map(|e| (e.key.to_string(), e.value.to_string()))
        .collect();
    Extracted {
        detail: Detail::Copylog(lines),
        ..Extracted::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_file_source_lines() {
        let text = b"[FILE SOURCE]\r\nX86.BIN\\CLICORE.EXE=MS2\r\nSITES\\MS1\\cli_inst.cfg=MS1\r\n";
        match parse(text).detail {
            Detail::Copylog(lines) => {
                assert_eq!(lines[0], ("X86.BIN\\CLICORE.EXE".to_string(), "MS2".to_string()));
                assert_eq!(lines.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parse(b"just text").status, Status::Malformed);
    }

    #[test]
    fn cr_only_line_ends_give_every_line() {
        match parse(b"[FILE SOURCE]\rX86.BIN\\CLICORE.EXE=MS2\rSITES\\MS1\\cli_inst.cfg=MS1\r").detail {
            Detail::Copylog(lines) => assert_eq!(
                lines,
                [
                    ("X86.BIN\\CLICORE.EXE".to_string(), "MS2".to_string()),
                    ("SITES\\MS1\\cli_inst.cfg".to_string(), "MS1".to_string())
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_key_beyond_the_reader_limit_is_malformed_with_the_limit() {
        let text = format!("[FILE SOURCE]\r\n{}=MS1\r\n", "X".repeat(5000));
        let extracted = parse(text.as_bytes());
        assert_eq!(extracted.status, Status::Malformed);
        assert!(
            extracted.reason.starts_with("key of 5000 bytes at line 2"),
            "{}",
            extracted.reason
        );
    }
}
