//! SMS version numbers: parsing, normalisation, ordering and release labels.
//!
//! Versions are integer tuples compared field by field; the original text is
//! kept for display. See reference 5.3 and 5.4.

use super::release::{Release, Stamped, WITHDRAWN_VERSIONS};
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;

/// How every report, log line and finding shows a version that is there
/// but empty (an RTM CFG's): one notation, so a search finds them all.
pub(crate) const EMPTY_VERSION: &str = "(empty)";

/// What kind of version a string turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    /// `2.00.BBBB.RRRR` with a build of 1000 or more: a real SMS build.
    Sms,
    /// `2.00.0000.0000`: what the bootstrap assumes when no version exists.
    Placeholder,
    /// `2.0.9x.y`: the version of a bundle installer, not an SMS build.
    Bundle,
    /// `698.nnnn` / `1085.nnnn`: the WBEM compver scheme.
    Wbem,
    /// Any other dotted number (third-party binaries, typos).
    Other,
}

/// A parsed version: numeric fields plus the text it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub text: String,
    pub fields: Vec<u32>,
    pub kind: VersionKind,
}

impl Version {
    /// Parses a dotted version. Accepts 2 to 4 numeric fields separated by
    /// dots, surrounded by optional whitespace and parentheses.
    pub fn parse(text: &str) -> Option<Version> {
        let trimmed = text.trim().trim_matches(|c| c == '(' || c == ')').trim();
        if trimmed.is_empty() {
            return None;
        }
        let mut fields = Vec::with_capacity(4);
        for part in trimmed.split('.') {
            if part.is_empty() || part.len() > 9 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            fields.push(part.parse().ok()?);
        }
        if !(2..=4).contains(&fields.len()) {
            return None;
        }
        let kind = classify(&fields);
        Some(Version {
            text: trimmed.to_string(),
            fields,
            kind,
        })
    }

    /// Finds the first version-looking token in free text (compver files
    /// have no documented syntax, reference 4.2).
    pub fn find_in(text: &str) -> Option<Version> {
        let mut best_wbem = None;
        for token in text.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
            let token = token.trim_matches('.');
            if token.is_empty() || !token.contains('.') {
                continue;
            }
            if let Some(v) = Version::parse(token) {
                match v.fields.len() {
                    4 => return Some(v),
                    2 if v.kind == VersionKind::Wbem && best_wbem.is_none() => best_wbem = Some(v),
                    _ => {}
                }
            }
        }
        best_wbem
    }

    /// Whether a PE string FileVersion says the same as a fixed version.
    /// String versions are free text: `2, 0, 1380, 1123` (old resource
    /// compilers) and `6.1.7600.16385 (win7_rtm.090713-1255)` both say what
    /// their fixed version says. Only the leading number counts.
    pub fn string_matches_fixed(string: &str, fixed: &str) -> bool {
        let loose: String = string
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' '))
            .filter(|c| *c != ' ')
            .map(|c| if c == ',' { '.' } else { c })
            .collect();
        match (Version::parse(loose.trim_end_matches('.')), Version::parse(fixed)) {
            (Some(s), Some(f)) => s.same_as(&f),
            _ => string.trim() == fixed.trim(),
        }
    }

    /// The normalised text: fields without leading zeros, `2.0.1493.2005`.
    pub fn normalized(&self) -> String {
        self.fields.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(".")
    }

    /// Whether this version can be compared with SMS builds at all.
    pub fn is_sms(&self) -> bool {
        self.kind == VersionKind::Sms
    }

    /// The release (build and service-pack digit) of a real SMS version.
    pub fn release(&self) -> Option<Release> {
        if self.kind != VersionKind::Sms || self.fields.len() != 4 {
            return None;
        }
        Some(Release {
            build: self.fields[2],
            sp: self.fields[3] / 1000,
        })
    }

    /// A human label for a version whose kind of stamp is not known: RTM,
    /// SP1.., hotfix (only above every stock version of its release),
    /// ICP build, SP3 RC9, placeholder... Prefer [`Version::label_as`].
    pub fn label(&self) -> String {
        self.label_as(Stamped::Other)
    }

    /// A human label measured against the release table (reference 5.2,
    /// 5.3, 5.5): a version at or below the stock version of its release
    /// for this kind of stamp is that release (`2.00.1493.2009`, SP2's base
    /// compver, is `SP2`; SP1's Clicore 2.0.1380.1123 is `SP1`); `hotfix`
    /// only above it; `ICP build` where the hundreds digit of the revision
    /// is 4 to 9.
    pub(crate) fn label_as(&self, kind: Stamped) -> String {
        match self.kind {
            VersionKind::Placeholder => return "placeholder (no version)".into(),
            VersionKind::Bundle => return "bundle installer version".into(),
            VersionKind::Wbem => return "WBEM".into(),
            VersionKind::Other => return "not an SMS version".into(),
            VersionKind::Sms => {}
        }
        if let Some(withdrawn) = self.withdrawn() {
            return format!("{} (withdrawn)", withdrawn.name);
        }
        let (build, revision) = (self.fields[2], self.fields[3]);
        let release = Release {
            build,
            sp: revision / 1000,
        };
        let info = match release.info() {
            Some(info) if self.build_agrees_with_sp() => info,
            Some(info) => return format!("{} (revision does not match build)", info.label),
            None if !self.build_agrees_with_sp() => {
                return format!("build {build} (unknown release) (revision does not match build)")
            }
            None => return format!("build {build} (unknown release)"),
        };
        if self.is_icp() {
            return format!("{} ICP build", info.label);
        }
        // Without a stock figure for this kind, only what lies above every
        // stock figure of the release is surely a hotfix.
        let stock = match kind {
            Stamped::Other => info.highest_stock_revision(),
            kind => info.stock_revision(kind).or_else(|| info.highest_stock_revision()),
        };
        match stock {
            Some(stock) if revision > stock => format!("{} hotfix", info.label),
            _ => info.label.to_string(),
        }
    }

    /// Reference 5.4 rule 3: build 1239 goes with SP digit 0, 1380 with 1,
    /// 1493 with 2 and later. Unknown builds are given the benefit of doubt.
    pub fn build_agrees_with_sp(&self) -> bool {
        self.release().is_none_or(Release::build_agrees_with_sp)
    }

    /// Whether this is an International Client Pack build: an SMS version
    /// whose revision's hundreds digit is 4-9 (reference 5.3, Q213410; [I]
    /// no fixed rule maps ICP numbers to digits, so only this is decoded).
    pub(crate) fn is_icp(&self) -> bool {
        self.kind == VersionKind::Sms && self.fields.len() == 4 && (4..=9).contains(&((self.fields[3] % 1000) / 100))
    }

    /// The withdrawn pre-release this version is, if it is one (F26).
    pub(crate) fn withdrawn(&self) -> Option<&'static super::release::Withdrawn> {
        WITHDRAWN_VERSIONS.iter().find(|w| self.fields == w.fields)
    }

    /// Compares two versions of the same kind; `None` when not comparable.
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        if self.kind != other.kind || matches!(self.kind, VersionKind::Bundle) {
            return None;
        }
        Some(self.fields.cmp(&other.fields))
    }

    /// Same version once normalised (`2.00.1493.2005` == `2.0.1493.2005`).
    pub fn same_as(&self, other: &Version) -> bool {
        self.fields == other.fields
    }
}

fn classify(fields: &[u32]) -> VersionKind {
    match fields.len() {
        4 if fields.iter().all(|&f| f == 0) || (fields[0] == 2 && fields[2] == 0 && fields[3] == 0) => {
            VersionKind::Placeholder
        }
        4 if fields[0] == 2 && fields[1] == 0 && fields[2] >= 1000 => VersionKind::Sms,
        4 if fields[0] == 2 && fields[1] == 0 && fields[2] < 1000 => VersionKind::Bundle,
        2 if fields[0] == 698 || fields[0] == 1085 => VersionKind::Wbem,
        _ => VersionKind::Other,
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn normalises_leading_zeros() {
        assert!(v("2.00.1493.2005").same_as(&v("2.0.1493.2005")));
        assert_eq!(v("2.00.1239.0000").normalized(), "2.0.1239.0");
        assert_eq!(v("2.00.1493.2005").text, "2.00.1493.2005");
    }

    #[test]
    fn orders_as_integers_not_strings() {
        assert_eq!(v("2.0.1380.999").compare(&v("2.0.1380.1000")), Some(Ordering::Less));
        assert_eq!(
            v("2.0.1493.2000").compare(&v("2.00.1380.1000")),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn classifies_special_forms() {
        assert_eq!(v("2.00.0000.0000").kind, VersionKind::Placeholder);
        assert_eq!(v("2.0.91.03").kind, VersionKind::Bundle);
        assert_eq!(v("698.0012").kind, VersionKind::Wbem);
        assert_eq!(v("1085.0005").kind, VersionKind::Wbem);
        assert_eq!(v("5.1.2600.0").kind, VersionKind::Other);
        assert_eq!(v("2.0.92.9").compare(&v("2.0.92.9")), None);
    }

    #[test]
    fn derives_release_and_label() {
        assert_eq!(v("2.00.1380.1072").release(), Some(Release { build: 1380, sp: 1 }));
        assert_eq!(v("2.00.1239.0000").label(), "RTM");
        assert_eq!(v("2.00.1380.1000").label(), "SP1");
        assert_eq!(v("2.00.1380.1072").label_as(Stamped::Compver("base")), "SP1 hotfix");
        assert_eq!(v("2.00.1380.1701").label(), "SP1 ICP build");
        assert_eq!(v("2.0.1493.3009").label(), "SP3 RC9 (withdrawn)");
        assert_eq!(v("2.0.1493.4013").label(), "SP4 hotfix");
        assert!(v("2.00.1380.2004").label().contains("does not match"));
        assert!(!v("2.00.1380.2004").build_agrees_with_sp());
    }

    /// Each release's stock versions are that release (reference 5.2,
    /// 5.5); a hotfix is only what lies above them.
    #[test]
    fn stock_versions_are_their_release() {
        let base = Stamped::Compver("base");
        assert_eq!(v("2.00.1493.2009").label_as(base), "SP2");
        assert_eq!(v("2.00.1493.3004").label_as(base), "SP3");
        assert_eq!(v("2.00.1493.4009").label_as(base), "SP4");
        assert_eq!(v("2.00.1493.2010").label_as(base), "SP2 hotfix");
        assert_eq!(v("2.00.1493.2011").label_as(Stamped::Compver("SWDist")), "SP2");
        assert_eq!(v("2.00.1493.2011").label_as(Stamped::Compver("hinv")), "SP2 hotfix");
        assert_eq!(v("2.0.1380.1123").label_as(Stamped::Clicore), "SP1");
        assert_eq!(v("2.0.1380.1123").label_as(Stamped::Boot32wn), "SP1");
        assert_eq!(v("2.0.1380.1132").label_as(Stamped::Clicore), "SP1 hotfix");
        assert_eq!(v("2.0.1493.4009").label_as(Stamped::Clicore), "SP4");
        // SP2's Clicore has no KB figure: the base compver's stands in.
        assert_eq!(v("2.0.1493.2163").label_as(Stamped::Clicore), "SP2 hotfix");
        assert_eq!(v("2.0.1493.2009").label(), "SP2");
        assert_eq!(v("2.0.1493.3442").label_as(Stamped::Clicore), "SP3 ICP build");
        assert_eq!(v("2.00.1239.0003").label_as(Stamped::Compver("smsapm32")), "RTM hotfix");
        // SP5 is presumed: nothing to measure a hotfix against.
        assert_eq!(v("2.00.1493.5100").label_as(base), "SP5");
    }

    #[test]
    fn rejects_non_versions() {
        for s in ["", "()", "abc", "2", "1.2.3.4.5", "2..1.0", "2.0.x.1", "99999999999.1"] {
            assert!(Version::parse(s).is_none(), "{s}");
        }
        assert_eq!(v("(2.00.1239.0000)").text, "2.00.1239.0000");
    }

    #[test]
    fn string_versions_compare_by_their_leading_number() {
        assert!(Version::string_matches_fixed("2.00.1380.1123", "2.0.1380.1123"));
        assert!(Version::string_matches_fixed("2, 0, 1380, 1123", "2.0.1380.1123"));
        assert!(Version::string_matches_fixed(
            "6.1.7600.16385 (win7_rtm.090713-1255)",
            "6.1.7600.16385"
        ));
        assert!(!Version::string_matches_fixed("2.00.1493.2150", "2.0.1493.2163"));
        assert!(!Version::string_matches_fixed("beta", "2.0.1493.2163"));
    }

    #[test]
    fn finds_version_in_text() {
        let text = "[Version]\r\nVersion=2.00.1380.1072\r\n";
        assert_eq!(Version::find_in(text).unwrap().text, "2.00.1380.1072");
        assert_eq!(Version::find_in("Ver=698.0012").unwrap().text, "698.0012");
        assert!(Version::find_in("no digits here 1.5").is_none());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            if let Some(v) = Version::parse(&s) { let _ = v.label(); let _ = v.release(); }
            let _ = Version::find_in(&s);
        }
    }
}
