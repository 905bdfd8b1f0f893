//! A tolerant INI reader for SMS files: keeps backslashes and key case,
//! understands `(REG_DWORD) Name=value` lines, never fails.

/// One `name=value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The section the line is in, as written (empty before any section).
    pub section: String,
    /// `REG_DWORD`, `REG_SZ`... when the line is typed.
    pub value_type: Option<String>,
    pub key: String,
    pub value: String,
    /// 1-based line number.
    pub line: usize,
}

/// A parsed INI-like file: sections in order, entries in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ini {
    pub sections: Vec<String>,
    pub entries: Vec<Entry>,
}

impl Ini {
    pub(crate) fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        let mut section = String::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim_matches(|c: char| c.is_whitespace() || c == '\0');
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                section = rest.trim_end_matches(']').trim().to_string();
                ini.sections.push(section.clone());
                continue;
            }
            let (value_type, body) = split_type(line);
            let Some((key, value)) = body.split_once('=') else {
                continue;
            };
            ini.entries.push(Entry {
                section: section.clone(),
                value_type,
                key: key.trim().to_string(),
                value: value.trim().to_string(),
                line: index + 1,
            });
        }
        ini
    }

    /// Entries of a section, matched case-insensitively.
    pub(crate) fn section<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.section.eq_ignore_ascii_case(name))
    }

    /// The first value of `key` in `section`, case-insensitively.
    pub(crate) fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| e.section.eq_ignore_ascii_case(section))
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value.as_str())
    }
}

/// Splits `(REG_DWORD) Flags=0` into the type and `Flags=0`. Tolerates the
/// missing `)` seen in the KB (`(REG_SZ Name=x`).
fn split_type(line: &str) -> (Option<String>, &str) {
    let Some(rest) = line.strip_prefix('(') else {
        return (None, line);
    };
    if let Some((ty, body)) = rest.split_once(')') {
        if !ty.contains('=') {
            return (Some(ty.trim().to_string()), body.trim_start());
        }
    }
    match rest.split_once(char::is_whitespace) {
        Some((ty, body)) if ty.to_ascii_uppercase().starts_with("REG_") => (Some(ty.to_string()), body.trim_start()),
        _ => (None, line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typed_lines_and_keeps_backslashes() {
        let ini = Ini::parse(
            "[Component Configuration]\r\n    LastUpdate=29228490, 61154480\r\n      (REG_DWORD) Flags=0\r\n[SRV]\r\n      (REG_SZ Name=SRV\r\n      (REG_SZ) UncDbPath=\\\\SRV\\LicMtr\r\n",
        );
        assert_eq!(
            ini.get("component configuration", "lastupdate"),
            Some("29228490, 61154480")
        );
        let flags = ini
            .section("Component Configuration")
            .find(|e| e.key == "Flags")
            .unwrap();
        assert_eq!(flags.value_type.as_deref(), Some("REG_DWORD"));
        assert_eq!(ini.get("SRV", "Name"), Some("SRV"));
        assert_eq!(ini.get("SRV", "UncDbPath"), Some("\\\\SRV\\LicMtr"));
        assert_eq!(ini.sections, vec!["Component Configuration", "SRV"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") { let _ = Ini::parse(&s); }
    }
}
