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
    let ini = Ini::parse(&text::decode(bytes));
    if !ini.sections.iter().any(|s| s.eq_ignore_ascii_case("FILE SOURCE")) {
        return Extracted::failed(Status::Malformed, "no [FILE SOURCE] section");
    }
    let lines: Vec<(String, String)> = ini
        .section("FILE SOURCE")
        .map(|e| (e.key.clone(), e.value.clone()))
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
}
