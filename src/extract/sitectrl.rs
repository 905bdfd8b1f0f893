//! The site control file, `inboxes\sitectrl.box\sitectrl.ct0` on a site
//! server (reference 10): the site's desired configuration.
//!
//! No complete SMS 2.0 site control file is public, so the reader is
//! tolerant by design: sections, items and properties it does not know are
//! skipped, property order does not matter, `PROPERTY`/`Property` and lines
//! wrapped inside `<...>` are accepted. What it relies on:
//! * the header `SITE CONTROL FILE [<build>][<format>]` ([RG], [SDK]);
//! * `FILE_DEFINITION`'s third value is the site code ([RG], SMS 1.2);
//! * `SITE_DEFINITION`: named properties (`Site Code`, `Parent Site Code`,
//!   `Site Type`) when present, else its positional values after the item
//!   name: the site code, the parent's code, and the first `1`/`2` as the
//!   site type ([I]: the positional order is not documented);
//! * `COMPONENT <name> <flag>`: flag 5 or 6 is installed ([SDK]); a
//!   `SETTINGS` property `INACTIVE` turns it off ([?]); `Domain List` is a
//!   property list of domains ([Code]);
//! * `CLIENT_COMPONENT <name> <flags>`: bit 0 of the flags is enabled ([I]);
//! * a `Travel Mode Switch` property anywhere ([K] Q263665, its item [?]).
//!
//! A file without the header, or one that ends inside a section
//! (truncated), is malformed: nothing of it is used, so a damaged file
//! never yields a finding about the site's configuration.

use super::{Detail, Extracted};
use crate::model::Status;
use crate::text;
use serde::{Deserialize, Serialize};

/// The Windows Networking logon components whose settings the checks read.
pub const LOGON_DISCOVERY: &str = "SMS_NT_LOGON_DISCOVERY_MANAGER";
pub const LOGON_INSTALLATION: &str = "SMS_NT_LOGON_INSTALLATION_MANAGER";
pub const LOGON_SERVER_MANAGER: &str = "SMS_NT_LOGON_SERVER_MANAGER";
const LOGON_COMPONENTS: [&str; 3] = [LOGON_DISCOVERY, LOGON_INSTALLATION, LOGON_SERVER_MANAGER];

/// Bounds that keep a hostile file from costing more than its size: any
/// value longer than this is cut, lists and items beyond these counts are
/// not kept, deeper nesting is refused, a wrapped line ends after this many
/// physical lines.
const MAX_VALUE_CHARS: usize = 256;
const MAX_DOMAINS: usize = 256;
const MAX_CLIENT_COMPONENTS: usize = 64;
const MAX_DEPTH: usize = 16;
const MAX_WRAPPED_LINES: usize = 8;

/// What the checks read of one site control file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteControl {
    /// The header's first bracket: the build (`1493`).
    pub build: String,
    /// The header's second bracket: the syntax version.
    pub format: String,
    /// The site code as written (case kept: Q271885).
    pub site_code: String,
    /// The parent site's code, empty for a central site or when not read.
    pub parent: String,
    /// `SiteType`: 1 secondary, 2 primary; `None` when not read.
    pub site_type: Option<u32>,
    /// The three Windows Networking logon components, those present.
    pub logon: Vec<LogonComponent>,
    /// Client components (agents) and whether each is enabled.
    pub client_components: Vec<ClientComponent>,
    /// `Travel Mode Switch` as written, when present.
    pub travel_mode: Option<u32>,
}

/// One Windows Networking logon component as the file sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogonComponent {
    pub name: String,
    /// The component's `Flag`; `None` when it is not a number.
    pub flag: Option<u32>,
    /// A `SETTINGS` property value, when present (`ACTIVE`, `INACTIVE`).
    pub settings: String,
    /// The `Domain List` entries, as written.
    pub domains: Vec<String>,
}

impl LogonComponent {
    /// Installed (flag 5 or 6, [SDK]) and not set `INACTIVE` ([?]).
    pub fn enabled(&self) -> bool {
        matches!(self.flag, Some(5 | 6)) && !self.settings.eq_ignore_ascii_case("INACTIVE")
    }

    /// Whether the component is enabled for `domain` (case-insensitive).
    pub fn serves(&self, domain: &str) -> bool {
        self.enabled() && self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// A `CLIENT_COMPONENT` item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientComponent {
    pub name: String,
    pub flags: Option<u32>,
}

impl ClientComponent {
    /// Bit 0 of `Flags` [I].
    pub fn enabled(&self) -> bool {
        self.flags.is_some_and(|f| f & 1 == 1)
    }
}

impl SiteControl {
    /// The logon component named `name`, if the file has it.
    pub fn logon_component(&self, name: &str) -> Option<&LogonComponent> {
        self.logon.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Whether logon discovery (`LOGON_DISCOVERY`) or installation is
    /// enabled for `domain`; never from LSM's own list (Q262942).
    pub fn uses_domain(&self, domain: &str) -> bool {
        [LOGON_DISCOVERY, LOGON_INSTALLATION]
            .iter()
            .any(|c| self.logon_component(c).is_some_and(|c| c.serves(domain)))
    }

    /// The domains logon discovery or installation is enabled for, as
    /// written, without case duplicates, sorted case-insensitively.
    pub fn logon_domains(&self) -> Vec<String> {
        let mut domains: Vec<String> = [LOGON_DISCOVERY, LOGON_INSTALLATION]
            .iter()
            .filter_map(|c| self.logon_component(c))
            .filter(|c| c.enabled())
            .flat_map(|c| c.domains.iter().cloned())
            .collect();
        domains.sort_by_key(|d| d.to_ascii_uppercase());
        domains.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        domains
    }

    /// Whether the site is a secondary site (`SiteType` 1).
    pub fn is_secondary(&self) -> bool {
        self.site_type == Some(1)
    }
}

/// Parses a site control file. Never panics; memory is bounded by the
/// input (at most [`super::TEXT_PARSE_LIMIT`] bytes reach it) and the
/// limits above.
pub fn parse(bytes: &[u8]) -> Extracted {
    if text::looks_binary(bytes) {
        return Extracted::failed(Status::Malformed, "binary content: not a site control file");
    }
    let text = text::decode(bytes);
    match read(&text) {
        Ok(control) => Extracted {
            version: (!control.build.is_empty()).then(|| control.build.clone()),
            version_source: (!control.build.is_empty()).then(|| "site control file header build".into()),
            detail: Detail::SiteControl(control),
            ..Extracted::default()
        },
        Err(reason) => Extracted::failed(Status::Malformed, reason),
    }
}

/// The values in `<...>` on a logical line, in order; text outside the
/// brackets (a stray `>`) is ignored.
fn bracketed(line: &str) -> Vec<&str> {
    let mut values = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        match after.find('>') {
            Some(close) => {
                values.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    values
}

/// Whether a line leaves a `<` open (a value wrapped onto the next line).
fn leaves_open(line: &str) -> bool {
    let mut open = false;
    for c in line.chars() {
        match c {
            '<' if !open => open = true,
            '>' if open => open = false,
            _ => {}
        }
    }
    open
}

/// A value as kept: cut at [`MAX_VALUE_CHARS`] characters.
fn keep(value: &str) -> String {
    value.chars().take(MAX_VALUE_CHARS).collect()
}

fn number(value: &str) -> Option<u32> {
    value.trim().parse().ok()
}

/// The item being read: which section and what it has collected.
struct Frame {
    kind: String,
    values: Vec<String>,
    /// A property list's entries; a component's `Domain List` entries.
    entries: Vec<String>,
    /// A component's `SETTINGS` value.
    settings: String,
}

fn read(text: &str) -> Result<SiteControl, String> {
    let mut lines = text
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '\u{feff}' || c.is_whitespace()));
    let mut line_no = 0usize;
    let header = loop {
        line_no += 1;
        match lines.next() {
            Some("") => continue,
            Some(line) => break line,
            None => return Err("empty: no SITE CONTROL FILE header".into()),
        }
    };
    if !header.to_ascii_uppercase().starts_with("SITE CONTROL FILE") {
        return Err(format!("line {line_no} is not a SITE CONTROL FILE header"));
    }
    // The header's fields are in square brackets.
    let header = header.replace('[', "<").replace(']', ">");
    let fields = bracketed(&header);
    let mut control = SiteControl {
        build: fields.first().map(|v| keep(v.trim())).unwrap_or_default(),
        format: fields.get(1).map(|v| keep(v.trim())).unwrap_or_default(),
        ..SiteControl::default()
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut file_site = String::new();
    while let Some(first) = lines.next() {
        line_no += 1;
        let mut logical = first.to_string();
        let mut joined = 0;
        while leaves_open(&logical) && joined < MAX_WRAPPED_LINES {
            match lines.next() {
                Some(next) => {
                    line_no += 1;
                    joined += 1;
                    // Where the break was is unknown: names are compared
                    // without blanks (`squash`).
                    logical.push(' ');
                    logical.push_str(next);
                }
                None => break,
            }
        }
        let line = logical.as_str();
        if line.is_empty() {
            continue;
        }
        let keyword: String = line
            .split(|c: char| c == '<' || c.is_whitespace())
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if let Some(kind) = keyword.strip_prefix("BEGIN_") {
            if stack.len() >= MAX_DEPTH {
                return Err(format!("sections nested deeper than {MAX_DEPTH} at line {line_no}"));
            }
            stack.push(Frame {
                kind: kind.to_string(),
                values: Vec::new(),
                entries: Vec::new(),
                settings: String::new(),
            });
            continue;
        }
        if let Some(kind) = keyword.strip_prefix("END_") {
            match stack.last() {
                Some(frame) if frame.kind == kind => {}
                Some(frame) => return Err(format!("END_{kind} at line {line_no} closes BEGIN_{}", frame.kind)),
                None => return Err(format!("END_{kind} at line {line_no} without a BEGIN_")),
            }
            if let Some(frame) = stack.pop() {
                close(frame, stack.last_mut(), &mut control, &mut file_site);
            }
            continue;
        }
        let values = bracketed(line);
        let Some(frame) = stack.last_mut() else {
            // Outside any section: nothing known lives there.
            continue;
        };
        match keyword.as_str() {
            "PROPERTY" => property(&values, frame, &mut control),
            // Positional `<value>` lines: the item's key fields, or a
            // property list's entries.
            "" if values.len() == 1 => {
                let value = values[0];
                if frame.kind == "PROPERTY_LIST" || frame.kind.ends_with("MULTI_STRING_LIST") {
                    if frame.values.is_empty() {
                        frame.values.push(keep(value));
                    } else if frame.entries.len() < MAX_DOMAINS {
                        frame.entries.push(keep(value));
                    }
                } else if frame.values.len() < 32 {
                    frame.values.push(keep(value));
                }
            }
            // `<list name><key>` of a multi-string list and other lines with
            // several values: the first names it.
            "" if !values.is_empty() && frame.values.is_empty() => frame.values.push(keep(values[0])),
            // SITE_KEY_FLAGS, TARGET_PLATFORM and anything unknown.
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "ends inside BEGIN_{} (truncated after line {line_no})",
            open.kind
        ));
    }
    if control.site_code.is_empty() {
        control.site_code = file_site;
    }
    Ok(control)
}

/// An embedded `PROPERTY <name><value1><value2><number>` of the innermost
/// item: kept when the item is one the checks read.
fn property(values: &[&str], frame: &mut Frame, control: &mut SiteControl) {
    let Some(name) = values.first() else {
        return;
    };
    let value1 = values.get(1).copied().unwrap_or("");
    let last = values.get(3).copied().unwrap_or("");
    let numeric = number(last).or_else(|| number(value1));
    if squash(name) == "TRAVELMODESWITCH" {
        control.travel_mode = numeric;
        return;
    }
    match frame.kind.as_str() {
        "SITE_DEFINITION" => {
            let text = if value1.trim().is_empty() { last } else { value1 };
            match squash(name).as_str() {
                "SITECODE" => control.site_code = keep(text.trim()),
                "PARENTSITECODE" | "REPORTINGSITECODE" => control.parent = keep(text.trim()),
                "SITETYPE" | "TYPE" => control.site_type = numeric,
                _ => {}
            }
        }
        "COMPONENT" if name.eq_ignore_ascii_case("SETTINGS") => frame.settings = keep(value1.trim()),
        _ => {}
    }
}

/// A property name without blanks, upper case (`Parent Site Code`).
fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// What a finished section gives: a component's identity on opening its
/// first values is not known until its end, so items are taken here.
fn close(frame: Frame, parent: Option<&mut Frame>, control: &mut SiteControl, file_site: &mut String) {
    match frame.kind.as_str() {
        "FILE_DEFINITION" => {
            if let Some(code) = frame.values.get(2) {
                *file_site = code.trim().to_string();
            }
        }
        "SITE_DEFINITION" => site_definition(&frame.values, control),
        "CLIENT_COMPONENT" if control.client_components.len() < MAX_CLIENT_COMPONENTS => {
            if let Some(name) = frame.values.first() {
                control.client_components.push(ClientComponent {
                    name: name.clone(),
                    flags: frame.values.get(1).and_then(|f| number(f)),
                });
            }
        }
        "PROPERTY_LIST" => {
            // A `Domain List` of a logon component: the component item is
            // the enclosing frame; its entry is made when it closes, so the
            // list waits in the parent's entries, tagged.
            let is_domains = frame
                .values
                .first()
                .is_some_and(|n| n.eq_ignore_ascii_case("Domain List"));
            if let (true, Some(parent)) = (is_domains, parent) {
                if parent.kind == "COMPONENT" {
                    for domain in frame.entries {
                        let domain = domain.trim().to_string();
                        if !domain.is_empty() && parent.entries.len() < MAX_DOMAINS {
                            parent.entries.push(domain);
                        }
                    }
                }
            }
        }
        "COMPONENT" => {
            let Some(name) = frame.values.first() else {
                return;
            };
            let Some(known) = LOGON_COMPONENTS.iter().find(|c| c.eq_ignore_ascii_case(name.trim())) else {
                return;
            };
            // The first item of each name counts; a file has one of each.
            if control.logon.iter().all(|c| c.name != *known) {
                control.logon.push(LogonComponent {
                    name: known.to_string(),
                    flag: frame.values.get(1).and_then(|f| number(f)),
                    settings: frame.settings,
                    domains: frame.entries,
                });
            }
        }
        _ => {}
    }
}

/// `SITE_DEFINITION`'s positional values when no named property gave them
/// [I]: after the item name, the first site code, then the parent's code
/// (a site code, or empty), then the first `1` or `2` as the type.
fn site_definition(values: &[String], control: &mut SiteControl) {
    let mut rest = values.iter().skip(1).map(|v| v.trim());
    let mut code = None;
    for value in rest.by_ref() {
        if crate::sms::layout::is_site_code(value) {
            code = Some(value);
            break;
        }
    }
    let Some(code) = code else {
        return;
    };
    if control.site_code.is_empty() {
        control.site_code = code.to_string();
    }
    let parent = rest
        .next()
        .filter(|v| v.is_empty() || crate::sms::layout::is_site_code(v));
    if control.parent.is_empty() {
        if let Some(parent) = parent {
            control.parent = parent.to_string();
        }
    }
    if control.site_type.is_none() {
        control.site_type = rest.find_map(|v| number(v).filter(|n| matches!(n, 1 | 2)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site control file in the syntax of reference 10.2, with the items
    /// the checks read, an unknown section and mixed-case keywords.
    pub(crate) const SAMPLE: &str = "SITE CONTROL FILE [1380][2.00]
BEGIN_FILE_DEFINITION
  <1>
  <Actual Site Control File>
  <MS1>
  <MS1>
  <00000042>
  <1>
END_FILE_DEFINITION
BEGIN_SITE_DEFINITION
  <Site Definition>
  <MS1>
  <CEN>
  <Munich office>
  <2>
  PROPERTY <Comments><REG_SZ><none><0>
END_SITE_DEFINITION
BEGIN_SOMETHING_NEW
  <whatever>
  PROPERTY <x><y><z><1>
END_SOMETHING_NEW
BEGIN_COMPONENT
  <SMS_NT_LOGON_DISCOVERY_MANAGER>
  <6>
  <SERVER1>
  PROPERTY <SETTINGS><ACTIVE><><0>
  BEGIN_PROPERTY_LIST
    <Domain List>
    <CORP>
    <Sales>
  END_PROPERTY_LIST
END_COMPONENT
BEGIN_COMPONENT
  <SMS_NT_LOGON_INSTALLATION_MANAGER>
  <2>
  <SERVER1>
  BEGIN_PROPERTY_LIST
    <Domain List>
    <CORP>
  END_PROPERTY_LIST
END_COMPONENT
BEGIN_COMPONENT
  <SMS_NT_LOGON_SERVER_MANAGER>
  <6>
  <SERVER1>
  PROPERTY <POLLING INTERVAL><><><60>
  BEGIN_PROPERTY_LIST
    <Domain List>
    <OLDDOM>
  END_PROPERTY_LIST
END_COMPONENT
BEGIN_CLIENT_COMPONENT
  <SMS Client Base Components>
  <65537>
  SITE_KEY_FLAGS <1>
  BEGIN_CLIENT_REG_MULTI_STRING_LIST
    <Reg List><SOFTWARE\\Microsoft\\SMS>
    SITE_KEY_FLAGS <0>
    <value one>
  END_CLIENT_REG_MULTI_STRING_LIST
END_CLIENT_COMPONENT
BEGIN_CLIENT_COMPONENT
  <Remote Control>
  <0>
  SITE_KEY_FLAGS <1>
END_CLIENT_COMPONENT
BEGIN_CLIENT_CONFIGURATION
  <Client Properties>
  <3>
  TARGET_PLATFORM <ALL>
  SITE_KEY_FLAGS <0>
  Property <Bin\\i386\\Ccim32.dll>><Client Program><><2>
  Property <Travel Mode
 Switch><><><9>
END_CLIENT_CONFIGURATION
";

    fn read_ok(text: &str) -> SiteControl {
        match parse(text.as_bytes()) {
            Extracted {
                status: Status::Ok,
                detail: Detail::SiteControl(control),
                ..
            } => control,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_what_the_checks_need() {
        let control = read_ok(SAMPLE);
        assert_eq!((control.build.as_str(), control.format.as_str()), ("1380", "2.00"));
        assert_eq!(control.site_code, "MS1");
        assert_eq!(control.parent, "CEN");
        assert_eq!(control.site_type, Some(2));
        let discovery = control.logon_component(LOGON_DISCOVERY).unwrap();
        assert_eq!(discovery.flag, Some(6));
        assert_eq!(discovery.domains, ["CORP", "Sales"]);
        assert!(discovery.enabled() && discovery.serves("sales"));
        let installation = control.logon_component(LOGON_INSTALLATION).unwrap();
        assert!(!installation.enabled() && !installation.serves("CORP"));
        // LSM's list keeps removed domains (Q262942): never "uses".
        assert!(!control.uses_domain("OLDDOM"));
        assert!(control.uses_domain("corp"));
        assert_eq!(control.logon_domains(), ["CORP", "Sales"]);
        assert_eq!(
            control.client_components,
            [
                ClientComponent {
                    name: "SMS Client Base Components".into(),
                    flags: Some(65537)
                },
                ClientComponent {
                    name: "Remote Control".into(),
                    flags: Some(0)
                }
            ]
        );
        assert!(control.client_components[0].enabled() && !control.client_components[1].enabled());
        // Wrapped inside its brackets, in the client configuration.
        assert_eq!(control.travel_mode, Some(9));
        assert!(!control.is_secondary());
    }

    #[test]
    fn crlf_and_property_order_do_not_matter() {
        let crlf = SAMPLE.replace('\n', "\r\n");
        assert_eq!(read_ok(&crlf), read_ok(SAMPLE));
        let reordered = SAMPLE.replace(
            "  PROPERTY <SETTINGS><ACTIVE><><0>\n  BEGIN_PROPERTY_LIST\n    <Domain List>\n    <CORP>\n    <Sales>\n  END_PROPERTY_LIST\n",
            "  BEGIN_PROPERTY_LIST\n    <Domain List>\n    <CORP>\n    <Sales>\n  END_PROPERTY_LIST\n  PROPERTY <SETTINGS><ACTIVE><><0>\n",
        );
        assert_ne!(reordered, SAMPLE);
        assert_eq!(read_ok(&reordered), read_ok(SAMPLE));
    }

    #[test]
    fn settings_inactive_disables_and_named_properties_win() {
        let text = SAMPLE.replace("<SETTINGS><ACTIVE>", "<SETTINGS><INACTIVE>").replace(
            "  PROPERTY <Comments>",
            "  PROPERTY <Parent Site Code><CEX><><0>\n  PROPERTY <SiteType><><><1>\n  PROPERTY <Comments>",
        );
        let control = read_ok(&text);
        assert!(!control.uses_domain("CORP"));
        assert_eq!(control.parent, "CEX");
        assert!(control.is_secondary());
    }

    #[test]
    fn case_of_the_site_code_is_kept() {
        let control = read_ok(&SAMPLE.replace("<MS1>", "<ms1>"));
        assert_eq!(control.site_code, "ms1");
    }

    #[test]
    fn damaged_files_are_malformed_with_a_reason() {
        let cut = &SAMPLE[..SAMPLE.find("END_COMPONENT").unwrap()];
        let extracted = parse(cut.as_bytes());
        assert_eq!(extracted.status, Status::Malformed);
        assert!(extracted.reason.contains("truncated"), "{}", extracted.reason);
        assert!(matches!(extracted.detail, Detail::None));
        for (text, reason) in [
            ("", "empty"),
            ("[Component Configuration]\nName=X\n", "header"),
            ("SITE CONTROL FILE [1493][2.00]\nEND_COMPONENT\n", "without a BEGIN_"),
            (
                "SITE CONTROL FILE [1493][2.00]\nBEGIN_COMPONENT\nEND_SITE_DEFINITION\n",
                "closes BEGIN_COMPONENT",
            ),
        ] {
            let extracted = parse(text.as_bytes());
            assert_eq!(extracted.status, Status::Malformed, "{text}");
            assert!(extracted.reason.contains(reason), "{text}: {}", extracted.reason);
        }
        assert_eq!(parse(&[0, 1, 2, 0, 0, 0, 9]).status, Status::Malformed);
        let deep = format!("SITE CONTROL FILE [1493][2.00]\n{}", "BEGIN_X\n".repeat(100));
        assert!(parse(deep.as_bytes()).reason.contains("nested deeper"));
    }

    #[test]
    fn limits_bound_what_is_kept() {
        let mut text = String::from("SITE CONTROL FILE [1493][2.00]\nBEGIN_COMPONENT\n<SMS_NT_LOGON_DISCOVERY_MANAGER>\n<6>\nBEGIN_PROPERTY_LIST\n<Domain List>\n");
        for i in 0..5000 {
            text.push_str(&format!("<D{i}{}>\n", "x".repeat(1000)));
        }
        text.push_str("END_PROPERTY_LIST\nEND_COMPONENT\n");
        for _ in 0..500 {
            text.push_str("BEGIN_CLIENT_COMPONENT\n<A>\n<1>\nEND_CLIENT_COMPONENT\n");
        }
        let control = read_ok(&text);
        let domains = &control.logon_component(LOGON_DISCOVERY).unwrap().domains;
        assert_eq!(domains.len(), MAX_DOMAINS);
        assert!(domains.iter().all(|d| d.chars().count() <= MAX_VALUE_CHARS));
        assert_eq!(control.client_components.len(), MAX_CLIENT_COMPONENTS);
        // A `<` never closed joins a bounded number of lines, then reading goes on.
        let open = format!("SITE CONTROL FILE [1493][2.00]\nPROPERTY <a\n{}", "x\n".repeat(50));
        assert_eq!(parse(open.as_bytes()).status, Status::Ok);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_stays_bounded(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            let extracted = parse(&bytes);
            if let Detail::SiteControl(control) = extracted.detail {
                proptest::prop_assert!(control.logon.len() <= 3);
                proptest::prop_assert!(control.client_components.len() <= MAX_CLIENT_COMPONENTS);
            }
        }

        /// Any cut of a valid file is either read or malformed, never a
        /// panic; a cut inside a section is malformed.
        #[test]
        fn every_truncation_is_read_or_malformed(cut in 0usize..3000) {
            let text = SAMPLE.replace('\n', "\r\n");
            let cut = cut.min(text.len());
            let extracted = parse(&text.as_bytes()[..cut]);
            let inside = text[..cut].matches("BEGIN_").count() > text[..cut].matches("END_").count();
            if inside {
                proptest::prop_assert_eq!(extracted.status, Status::Malformed);
            }
        }

        /// Domain names with blanks and any case come back as written.
        #[test]
        fn domains_round_trip(domains in proptest::collection::vec("[A-Za-z0-9_-][A-Za-z0-9_ -]{0,14}[A-Za-z0-9_-]", 1..20)) {
            let mut text = String::from("SITE CONTROL FILE [1493][2.00]\nBEGIN_COMPONENT\n<SMS_NT_LOGON_INSTALLATION_MANAGER>\n<6>\nBEGIN_PROPERTY_LIST\n<Domain List>\n");
            for d in &domains {
                text.push_str(&format!("<{d}>\n"));
            }
            text.push_str("END_PROPERTY_LIST\nEND_COMPONENT\n");
            let control = read_ok(&text);
            proptest::prop_assert_eq!(&control.logon_component(LOGON_INSTALLATION).unwrap().domains, &domains);
        }
    }
}
