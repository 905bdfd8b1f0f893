//! The `--accepted` file (TOML): findings the admin knows of and accepts
//! for a while, each by its fingerprint (the `fingerprint` column of
//! findings.csv), with a reason and the last day it is accepted:
//!
//! ```toml
//! [[accept]]
//! fingerprint = "3f2a9c0d11e4b7a2"
//! reason = "MS2's CAP is retired in January"
//! until = 2027-01-31
//! ```
//!
//! Read once in the loading step; what it makes of the findings is decided
//! when the audit is assembled ([`Accepted::judge`]), against the run's
//! start date.

use crate::model::Acceptance;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::io::Read;
use std::path::Path;

/// The largest `--accepted` file read: a few thousand entries. A bigger
/// file is refused, never read whole.
pub(crate) const MAX_ACCEPTED_BYTES: u64 = 1024 * 1024;

/// The entries of an `--accepted` file, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted {
    /// The file as the user named it.
    pub file: String,
    /// In the file's order; one per fingerprint.
    pub entries: Vec<Acceptance>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    accept: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    fingerprint: String,
    reason: String,
    /// A TOML date (`2027-01-31`) or the same in a string.
    until: toml::Value,
}

/// An entry that no longer accepts anything, or never did: a note in
/// the reports and the log, and for `Expired` a warning for the exit code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StaleAcceptance {
    #[serde(flatten)]
    pub entry: Acceptance,
    pub state: Stale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stale {
    /// Its `until` is before the run's start date: its finding counts again.
    Expired,
    /// No finding of this run has its fingerprint (fixed, or mistyped).
    Unknown,
}

impl Accepted {
    /// Reads and validates an `--accepted` file: TOML, at most
    /// [`MAX_ACCEPTED_BYTES`], only `[[accept]]` entries with exactly
    /// `fingerprint`, `reason` and `until`, a fingerprint at most once.
    pub(crate) fn load(path: &Path) -> Result<Accepted> {
        let shown = path.display();
        let file = crate::input::open_regular_file(path, "--accepted file")?;
        let mut bytes = Vec::new();
        file.take(MAX_ACCEPTED_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read --accepted file {shown}"))?;
        if bytes.len() as u64 > MAX_ACCEPTED_BYTES {
            bail!(
                "--accepted file {shown} is larger than {} KiB: list only the findings you accept",
                MAX_ACCEPTED_BYTES / 1024
            );
        }
        let text = String::from_utf8(bytes).with_context(|| format!("--accepted file {shown} is not UTF-8 text"))?;
        Accepted::parse(&text, &shown.to_string())
    }

    fn parse(text: &str, shown: &str) -> Result<Accepted> {
        let parsed: File = toml::from_str(text).map_err(|err| crate::text::Lines(err.to_string())).with_context(|| {
            format!("--accepted file {shown} is not valid: it holds [[accept]] entries with fingerprint, reason and until (YYYY-MM-DD)")
        })?;
        let mut entries: Vec<Acceptance> = Vec::with_capacity(parsed.accept.len());
        for (n, entry) in parsed.accept.into_iter().enumerate() {
            let at = format!("--accepted file {shown}, entry {}", n + 1);
            let fingerprint = entry.fingerprint.trim().to_ascii_lowercase();
            if fingerprint.len() != 16 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!(
                    "{at}: fingerprint {:?} is not one: copy the 16 hex digits of the fingerprint column of findings.csv",
                    entry.fingerprint
                );
            }
            if entry.reason.trim().is_empty() {
                bail!("{at} ({fingerprint}): give a reason, for whoever reads the reports");
            }
            let until = match &entry.until {
                toml::Value::String(text) => text.trim().to_string(),
                toml::Value::Datetime(date) if date.time.is_none() && date.offset.is_none() => date.to_string(),
                toml::Value::Datetime(date) => date.to_string(),
                toml::Value::Integer(n) => n.to_string(),
                other => bail!(
                    "{at} ({fingerprint}): until is a {}, not a date YYYY-MM-DD",
                    other.type_str()
                ),
            };
            if !is_date(&until) {
                bail!("{at} ({fingerprint}): until {until:?} is not a date YYYY-MM-DD");
            }
            if entries.iter().any(|e| e.fingerprint == fingerprint) {
                bail!("{at}: fingerprint {fingerprint} is accepted twice");
            }
            entries.push(Acceptance {
                fingerprint,
                reason: entry.reason.trim().to_string(),
                until,
            });
        }
        Ok(Accepted {
            file: shown.to_string(),
            entries,
        })
    }

    /// For each fingerprint (by position), the entry that accepts it on
    /// `today` (`YYYY-MM-DD`); and the entries that accept nothing: expired
    /// ones whose finding is there, and unknown ones, in the file's order.
    pub(crate) fn judge<'a>(
        &self,
        fingerprints: impl Iterator<Item = &'a str>,
        today: &str,
    ) -> (Vec<Option<Acceptance>>, Vec<StaleAcceptance>) {
        let fingerprints: Vec<&str> = fingerprints.collect();
        let live = |e: &Acceptance| e.until.as_str() >= today;
        let accepted = fingerprints
            .iter()
            .map(|f| self.entries.iter().find(|e| e.fingerprint == *f && live(e)).cloned())
            .collect();
        let stale = self
            .entries
            .iter()
            .filter_map(|entry| {
                let state = if !fingerprints.contains(&entry.fingerprint.as_str()) {
                    Stale::Unknown
                } else if !live(entry) {
                    Stale::Expired
                } else {
                    return None;
                };
                Some(StaleAcceptance {
                    entry: entry.clone(),
                    state,
                })
            })
            .collect();
        (accepted, stale)
    }
}

/// `YYYY-MM-DD`, a day that exists.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "[[accept]]\nfingerprint = \"B427CA03458EE6C7\"\nreason = \"retired in January\"\nuntil = 2027-01-31\n\n[[accept]]\nfingerprint = \"19d4f509475b8661\"\nreason = \"known\"\nuntil = \"2026-12-01\"\n";

    #[test]
    fn reads_entries_with_a_date_or_a_date_in_a_string() {
        let accepted = Accepted::parse(GOOD, "a.toml").unwrap();
        assert_eq!(accepted.entries.len(), 2);
        assert_eq!(accepted.entries[0].fingerprint, "b427ca03458ee6c7");
        assert_eq!(accepted.entries[0].until, "2027-01-31");
        assert_eq!(accepted.entries[1].until, "2026-12-01");
        assert_eq!(Accepted::parse("", "a.toml").unwrap().entries, []);
    }

    #[test]
    fn refuses_unknown_keys_missing_until_and_bad_dates() {
        let entry = |rest: &str| format!("[[accept]]\nfingerprint = \"b427ca03458ee6c7\"\nreason = \"r\"\n{rest}");
        for (text, says) in [
            (entry("until = 2027-01-31\nnote = 1\n"), "is not valid"),
            (entry(""), "is not valid"),
            (entry("until = \"2027-02-30\"\n"), "is not a date"),
            (entry("until = \"31.01.2027\"\n"), "is not a date"),
            (entry("until = 2027-01-31T10:00:00Z\n"), "is not a date"),
            (entry("until = 20270131\n"), "is not a date"),
            (
                "[[accept]]\nfingerprint = \"xyz\"\nreason = \"r\"\nuntil = 2027-01-31\n".into(),
                "is not one",
            ),
            (
                "[[accept]]\nfingerprint = \"b427ca03458ee6c7\"\nreason = \" \"\nuntil = 2027-01-31\n".into(),
                "give a reason",
            ),
            (
                format!("{}{}", entry("until = 2027-01-31\n"), entry("until = 2027-01-31\n")),
                "twice",
            ),
            ("[accepted]\n".into(), "is not valid"),
        ] {
            let err = format!("{:#}", Accepted::parse(&text, "a.toml").unwrap_err());
            assert!(err.starts_with("--accepted file a.toml"), "{err}");
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn accepts_until_the_end_of_its_day_and_names_what_is_stale() {
        let accepted = Accepted::parse(GOOD, "a.toml").unwrap();
        let (marks, stale) = accepted.judge(["b427ca03458ee6c7", "19d4f509475b8661"].into_iter(), "2026-12-01");
        assert!(marks.iter().all(Option::is_some));
        assert!(stale.is_empty());
        let (marks, stale) = accepted.judge(["19d4f509475b8661", "0000000000000000"].into_iter(), "2026-12-02");
        assert_eq!(marks, [None, None]);
        let states: Vec<(&str, Stale)> = stale.iter().map(|s| (s.entry.fingerprint.as_str(), s.state)).collect();
        assert_eq!(
            states,
            [
                ("b427ca03458ee6c7", Stale::Unknown),
                ("19d4f509475b8661", Stale::Expired)
            ]
        );
    }

    #[test]
    fn a_date_is_a_day_that_exists() {
        assert!(is_date("2028-02-29"));
        assert!(!is_date("2027-02-29"));
        assert!(!is_date("2027-13-01"));
        assert!(!is_date("2027-1-01"));
        assert!(!is_date("+027-01-01"));
    }
}
