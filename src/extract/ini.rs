//! A tolerant INI reader for SMS files: keeps backslashes and key case,
//! understands `(REG_DWORD) Name=value` lines, accepts CR, LF and CRLF line
//! ends.
//!
//! Memory is O(input size) by construction: entries borrow their section,
//! key and value from the text (nothing is cloned per entry), and the number
//! of lines, entries and sections and the length of names are bounded. A
//! file beyond a bound is refused with an [`IniLimit`] naming it.

/// More lines than this is not an SMS file (real ones have hundreds).
pub(crate) const MAX_LINES: usize = 200_000;
/// More `name=value` lines than this is not an SMS file.
pub(crate) const MAX_ENTRIES: usize = 50_000;
/// More `[sections]` than this is not an SMS file.
pub(crate) const MAX_SECTIONS: usize = 10_000;
/// Section names and keys are names and paths (at most MAX_PATH in SMS
/// 2.0): anything longer is not an SMS file.
pub(crate) const MAX_NAME_BYTES: usize = 1024;

/// One `name=value` line, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    /// The section the line is in, as written (empty before any section).
    pub section: &'a str,
    /// `REG_DWORD`, `REG_SZ`... when the line is typed.
    pub value_type: Option<&'a str>,
    pub key: &'a str,
    pub value: &'a str,
    /// 1-based line number.
    pub line: usize,
}

/// A parsed INI-like file: sections in order, entries in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ini<'a> {
    pub sections: Vec<&'a str>,
    pub entries: Vec<Entry<'a>>,
}

/// Which bound of the reader a file passed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IniLimit {
    #[error("more than {MAX_LINES} lines (INI reader limit); not parsed")]
    Lines,
    #[error("more than {MAX_ENTRIES} name=value lines (INI reader limit); not parsed")]
    Entries,
    #[error("more than {MAX_SECTIONS} sections (INI reader limit); not parsed")]
    Sections,
    #[error("section name of {bytes} bytes at line {line}, longer than the INI reader limit of {MAX_NAME_BYTES}; not parsed")]
    SectionName { line: usize, bytes: usize },
    #[error("key of {bytes} bytes at line {line}, longer than the INI reader limit of {MAX_NAME_BYTES}; not parsed")]
    Key { line: usize, bytes: usize },
}

impl<'a> Ini<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<Ini<'a>, IniLimit> {
        let mut ini = Ini::default();
        let mut section = "";
        for (index, raw) in lines(text).enumerate() {
            let number = index + 1;
            if number > MAX_LINES {
                return Err(IniLimit::Lines);
            }
            let line = raw.trim_matches(|c: char| c.is_whitespace() || c == '\0');
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                section = rest.trim_end_matches(']').trim();
                if section.len() > MAX_NAME_BYTES {
                    return Err(IniLimit::SectionName {
                        line: number,
                        bytes: section.len(),
                    });
                }
                if ini.sections.len() == MAX_SECTIONS {
                    return Err(IniLimit::Sections);
                }
                ini.sections.push(section);
                continue;
            }
            let (value_type, body) = split_type(line);
            let Some((key, value)) = body.split_once('=') else {
                continue;
            };
            let key = key.trim();
            if key.len() > MAX_NAME_BYTES {
                return Err(IniLimit::Key {
                    line: number,
                    bytes: key.len(),
                });
            }
            if ini.entries.len() == MAX_ENTRIES {
                return Err(IniLimit::Entries);
            }
            ini.entries.push(Entry {
                section,
                value_type,
                key,
                value: value.trim(),
                line: number,
            });
        }
        Ok(ini)
    }

    /// Entries of a section, matched case-insensitively.
    pub(crate) fn section<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Entry<'a>> + 's {
        self.entries
            .iter()
            .filter(move |e| e.section.eq_ignore_ascii_case(name))
    }

    /// The first value of `key` in `section`, case-insensitively.
    pub(crate) fn get(&self, section: &str, key: &str) -> Option<&'a str> {
        self.entries
            .iter()
            .filter(|e| e.section.eq_ignore_ascii_case(section))
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value)
    }
}

/// Lines ended by CRLF, LF or a lone CR (old Mac-style editors and some
/// SMS tools write CR only); a CRLF pair is one line end.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text).filter(|t| !t.is_empty());
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(end) => {
                let after = if current[end..].starts_with("\r\n") {
                    end + 2
                } else {
                    end + 1
                };
                rest = Some(&current[after..]).filter(|r| !r.is_empty());
                Some(&current[..end])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Splits `(REG_DWORD) Flags=0` into the type and `Flags=0`. Tolerates the
/// missing `)` seen in the KB (`(REG_SZ Name=x`).
fn split_type(line: &str) -> (Option<&str>, &str) {
    let Some(rest) = line.strip_prefix('(') else {
        return (None, line);
    };
    if let Some((ty, body)) = rest.split_once(')') {
        if !ty.contains('=') {
            return (Some(ty.trim()), body.trim_start());
        }
    }
    match rest.split_once(char::is_whitespace) {
        Some((ty, body)) if ty.to_ascii_uppercase().starts_with("REG_") => (Some(ty), body.trim_start()),
        _ => (None, line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typed_lines_and_keeps_backslashes() {
        let text = "[Component Configuration]\r\n    LastUpdate=29228490, 61154480\r\n      (REG_DWORD) Flags=0\r\n[SRV]\r\n      (REG_SZ Name=SRV\r\n      (REG_SZ) UncDbPath=\\\\SRV\\LicMtr\r\n";
        let ini = Ini::parse(text).unwrap();
        assert_eq!(
            ini.get("component configuration", "lastupdate"),
            Some("29228490, 61154480")
        );
        let flags = ini
            .section("Component Configuration")
            .find(|e| e.key == "Flags")
            .unwrap();
        assert_eq!(flags.value_type, Some("REG_DWORD"));
        assert_eq!(ini.get("SRV", "Name"), Some("SRV"));
        assert_eq!(ini.get("SRV", "UncDbPath"), Some("\\\\SRV\\LicMtr"));
        assert_eq!(ini.sections, vec!["Component Configuration", "SRV"]);
    }

    #[test]
    fn every_line_end_gives_the_same_entries_and_line_numbers() {
        let lf = "[A]\nx=1\n\n[B]\ny=2\n";
        let parsed: Vec<_> = [lf.to_string(), lf.replace('\n', "\r\n"), lf.replace('\n', "\r")]
            .iter()
            .map(|text| {
                let ini = Ini::parse(text).unwrap();
                let entries: Vec<_> = ini
                    .entries
                    .iter()
                    .map(|e| (e.section, e.key, e.value, e.line))
                    .collect();
                format!("{:?} {entries:?}", ini.sections)
            })
            .collect();
        assert_eq!(parsed[0], r#"["A", "B"] [("A", "x", "1", 2), ("B", "y", "2", 5)]"#);
        assert_eq!(parsed[1], parsed[0], "CRLF");
        assert_eq!(parsed[2], parsed[0], "CR only");
        assert_eq!(lines("a\r\r\nb\n\rc").collect::<Vec<_>>(), ["a", "", "b", "", "c"]);
        assert_eq!(lines("").count(), 0);
        assert_eq!(lines("x\n").collect::<Vec<_>>(), ["x"]);
    }

    #[test]
    fn each_bound_is_named_when_passed() {
        let long = format!("[{}]\r\nk=v\r\n", "S".repeat(MAX_NAME_BYTES + 1));
        assert_eq!(
            Ini::parse(&long).unwrap_err(),
            IniLimit::SectionName {
                line: 1,
                bytes: MAX_NAME_BYTES + 1
            }
        );
        let key = format!("[S]\n{}=v\n", "k".repeat(MAX_NAME_BYTES + 1));
        assert!(matches!(Ini::parse(&key), Err(IniLimit::Key { line: 2, .. })));
        assert_eq!(
            Ini::parse(&"=\n".repeat(MAX_ENTRIES + 1)).unwrap_err(),
            IniLimit::Entries
        );
        assert_eq!(
            Ini::parse(&"[s]\n".repeat(MAX_SECTIONS + 1)).unwrap_err(),
            IniLimit::Sections
        );
        assert_eq!(Ini::parse(&"\n".repeat(MAX_LINES + 1)).unwrap_err(), IniLimit::Lines);
        // Exactly at each bound is still a file.
        let at = format!("[{}]\n{}", "S".repeat(MAX_NAME_BYTES), "=\n".repeat(MAX_ENTRIES - 1));
        assert_eq!(Ini::parse(&at).unwrap().entries.len(), MAX_ENTRIES - 1);
        assert!(IniLimit::Entries.to_string().contains("50000 name=value lines"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") { let _ = Ini::parse(&s); }

        #[test]
        fn entries_borrow_from_the_text(s in "[\\[\\]=a-c\r\n ]{0,200}") {
            if let Ok(ini) = Ini::parse(&s) {
                let range = s.as_bytes().as_ptr_range();
                for e in &ini.entries {
                    for part in [e.section, e.key, e.value] {
                        proptest::prop_assert!(part.is_empty() || range.contains(&part.as_ptr()));
                    }
                }
            }
        }
    }
}
