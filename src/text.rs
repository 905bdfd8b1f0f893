//! Text in and out. In: decoding of text files written by Windows programs:
//! UTF-8 (with or without BOM), UTF-16LE/BE with BOM, UTF-16LE without BOM,
//! Windows-1252. Out: the one home for showing text from shares to people,
//! where a control character could drive the terminal or forge a log line,
//! and a bidi or invisible character could show `exe.txt` as `txt.exe`.

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::borrow::Cow;

/// Writes `message` to standard error as it is (escape it first with
/// [`for_terminal`]), ignoring any failure: a closed or full stderr
/// (`2>&1 | head`, a scheduler that closed it) never panics, never changes
/// the exit code and never stops the log or the history from being
/// written. The one way smsaudit writes to stderr (`eprint!` panics).
pub fn print_stderr(message: &str) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(message.as_bytes());
    let _ = stderr.flush();
}

/// [`print_stderr`] with a line break.
pub fn println_stderr(message: &str) {
    print_stderr(&format!("{message}\n"));
}

/// Decodes bytes into text whatever their encoding; never fails.
pub fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return UTF_16LE.decode_without_bom_handling(rest).0.into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return UTF_16BE.decode_without_bom_handling(rest).0.into_owned();
    }
    if looks_like_utf16le(bytes) {
        return UTF_16LE.decode_without_bom_handling(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// ASCII text saved as UTF-16LE without a BOM has a NUL in most odd bytes.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    if bytes.len() < 4 {
        return false;
    }
    let sample = &bytes[..bytes.len().min(512) & !1];
    let pairs = sample.len() / 2;
    let odd_nuls = sample.chunks_exact(2).filter(|p| p[1] == 0 && p[0] != 0).count();
    odd_nuls * 10 >= pairs * 8
}

/// Whether bytes look like text rather than binary data.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") || looks_like_utf16le(bytes) {
        return false;
    }
    let sample = &bytes[..bytes.len().min(4096)];
    sample.iter().filter(|&&b| b == 0).count() > sample.len() / 100
}

/// Bidi controls: they reorder the text shown around them.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that show as nothing (or as a plain space or line break), so
/// two different names look the same.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

fn is_hidden(c: char) -> bool {
    is_bidi_control(c) || is_invisible(c)
}

/// Rewrites the characters `escape` picks, or borrows when there is none.
fn rewrite(text: &str, picks: impl Fn(char) -> bool, escape: impl Fn(char, &mut String)) -> Cow<'_, str> {
    if !text.chars().any(&picks) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if picks(c) {
            escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text for the terminal and the log: C0 and C1 controls and DEL as `\x1b`
/// or `\u{85}`, bidi and invisible characters as `\u{202e}`, so no value
/// can move the cursor, retitle the window or start a line of its own.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    use std::fmt::Write;
    rewrite(
        text,
        |c| c.is_control() || is_hidden(c),
        |c, out| {
            let _ = match u32::from(c) {
                code @ 0..=0x7F => write!(out, "\\x{code:02x}"),
                code => write!(out, "\\u{{{code:x}}}"),
            };
        },
    )
}

/// A parser's own multi-line message (TOML's points at the line and column
/// of a local file): its line breaks are its layout, so the terminal and
/// the log show them as lines ([`error_for_terminal`]). Any other text in
/// an error, share names included, keeps every line break escaped.
#[derive(Debug)]
pub(crate) struct Lines(pub String);

impl std::fmt::Display for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.trim_end())
    }
}

impl std::error::Error for Lines {}

/// How much the lines after an error's first are indented: no line of a
/// message can pass for a line of its own in the log.
const CONTINUATION: &str = "\n  ";

/// An error and its causes (`a: b: c`, as `{err:#}`) for the terminal and
/// the log: every cause through [`for_terminal`], except that the line
/// breaks of a [`Lines`] cause start new lines, indented.
pub(crate) fn error_for_terminal(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for (n, cause) in err.chain().enumerate() {
        if n > 0 {
            out.push_str(": ");
        }
        match cause.downcast_ref::<Lines>() {
            Some(lines) => {
                let shown: Vec<Cow<'_, str>> = lines.0.trim_end().lines().map(for_terminal).collect();
                out.push_str(&shown.join(CONTINUATION));
            }
            None => out.push_str(&for_terminal(&cause.to_string())),
        }
    }
    out
}

/// Whether [`visible`] also shows control characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Controls {
    /// A spreadsheet cell holds tabs and line breaks as they are.
    Keep,
    /// A web page would show them as a space or nothing.
    Show,
}

/// Text for people reading a report: bidi and invisible characters (and
/// controls, if asked) named as `<U+202E>`, so what is shown is what is
/// there.
pub(crate) fn visible(text: &str, controls: Controls) -> Cow<'_, str> {
    use std::fmt::Write;
    // No ASCII character is hidden (the first is U+00AD): most cells (paths,
    // hashes, times) are ASCII, checked a word at a time instead of a
    // character at a time (files.csv has a million rows at a million files).
    if text.is_ascii() && (controls == Controls::Keep || !text.bytes().any(|b| b.is_ascii_control())) {
        return Cow::Borrowed(text);
    }
    rewrite(
        text,
        |c| is_hidden(c) || (controls == Controls::Show && c.is_control()),
        |c, out| {
            let _ = write!(out, "<U+{:04X}>", u32::from(c));
        },
    )
}

/// `one` or `many`, as `count` asks: `1 cause`, `2 causes`.
pub(crate) fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 {
        one
    } else {
        many
    }
}

/// A size as people read it, in decimal units (`126.1 kB`); exact bytes
/// stay in the machine outputs. The XLSX size format uses the same units
/// up to MB (a number format has no more than three conditions).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1000), "1.0 kB");
        assert_eq!(human_size(126_123), "126.1 kB");
        assert_eq!(human_size(999_960), "1.0 MB");
        assert_eq!(human_size(3_221_225_472), "3.2 GB");
        assert_eq!(human_size(u64::MAX), "18446.7 PB");
    }

    #[test]
    fn terminal_text_has_no_control_bidi_or_invisible_character() {
        let hostile = "a\u{1b}]0;owned\u{7}\r\nb\u{9b}2J\u{7f}\u{202e}txt.exe\u{200b}";
        let shown = for_terminal(hostile);
        assert_eq!(shown, r"a\x1b]0;owned\x07\x0d\x0ab\u{9b}2J\x7f\u{202e}txt.exe\u{200b}");
        assert!(!shown.chars().any(|c| c.is_control() || is_hidden(c)));
        assert!(matches!(for_terminal(r"\\SRV\CAP_AB1 Café"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_parsers_lines_stay_lines_and_the_rest_stays_escaped() {
        let err = anyhow::Error::new(Lines("at line 2\r\n2 | \u{1b}]0;x\u{7} = 1\n  | ^\nbad key\n".into()))
            .context("inventory \\\\SRV\\a\nb.toml is not valid");
        assert_eq!(
            error_for_terminal(&err),
            "inventory \\\\SRV\\a\\x0ab.toml is not valid: at line 2\n  2 | \\x1b]0;x\\x07 = 1\n    | ^\n  bad key"
        );
        let plain = anyhow::anyhow!("a\nb").context("c");
        assert_eq!(error_for_terminal(&plain), "c: a\\x0ab");
    }

    #[test]
    fn report_text_names_bidi_and_invisible_characters() {
        let name = "report\u{202E}exe.txt\u{00AD}\u{FEFF}\tx\u{E0041}";
        assert_eq!(
            visible(name, Controls::Keep),
            "report<U+202E>exe.txt<U+00AD><U+FEFF>\tx<U+E0041>"
        );
        assert_eq!(
            visible(name, Controls::Show),
            "report<U+202E>exe.txt<U+00AD><U+FEFF><U+0009>x<U+E0041>"
        );
        for plain in ["Ünïcødé ñame.txt", "日本語", "2.00.1239.0000"] {
            assert!(matches!(visible(plain, Controls::Show), Cow::Borrowed(_)), "{plain}");
        }
    }

    /// ASCII text takes a shorter way (nothing ASCII is hidden); its
    /// controls are still shown when asked, and kept when not.
    #[test]
    fn ascii_text_is_shown_as_the_long_way_shows_it() {
        for c in (0u8..0x80).map(char::from) {
            let text = format!("a{c}b");
            let by_char = |controls| {
                let show = |c: char| is_hidden(c) || (controls == Controls::Show && c.is_control());
                text.chars()
                    .map(|c| {
                        if show(c) {
                            format!("<U+{:04X}>", u32::from(c))
                        } else {
                            c.to_string()
                        }
                    })
                    .collect::<String>()
            };
            for controls in [Controls::Keep, Controls::Show] {
                assert_eq!(visible(&text, controls), by_char(controls), "{c:?} {controls:?}");
            }
        }
        assert_eq!(visible("a\x1b[2Jb\x7f", Controls::Show), "a<U+001B>[2Jb<U+007F>");
        assert_eq!(visible("a\x1b[2Jb\x7f", Controls::Keep), "a\x1b[2Jb\x7f");
    }

    #[test]
    fn decodes_every_windows_encoding() {
        let expected = "[Version]\r\nName=Café\r\n";
        let mut utf16le_bom = vec![0xFF, 0xFE];
        let mut utf16le = Vec::new();
        for unit in expected.encode_utf16() {
            utf16le.extend_from_slice(&unit.to_le_bytes());
        }
        utf16le_bom.extend_from_slice(&utf16le);
        let mut utf16be_bom = vec![0xFE, 0xFF];
        for unit in expected.encode_utf16() {
            utf16be_bom.extend_from_slice(&unit.to_be_bytes());
        }
        let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
        utf8_bom.extend_from_slice(expected.as_bytes());
        let cp1252 = b"[Version]\r\nName=Caf\xE9\r\n".to_vec();
        for bytes in [
            expected.as_bytes().to_vec(),
            utf8_bom,
            utf16le_bom,
            utf16le,
            utf16be_bom,
            cp1252,
        ] {
            assert_eq!(decode(&bytes), expected);
        }
    }

    #[test]
    fn tells_binary_from_text() {
        assert!(looks_binary(
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        ));
        assert!(!looks_binary(b"[FILE SOURCE]\r\nx86.bin\\clicore.exe=MS1\r\n"));
    }
}
