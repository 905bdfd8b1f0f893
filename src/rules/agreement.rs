//! Values that must be identical and are not: logon points that serve the
//! same sites (A03), and the two version numbers of one binary (A04).

use super::FindingDraft;
use crate::estate::{identity, EstateView};
use crate::model::{Artifact, CellMark, CheckCode, Finding, Location, LocationKind, RowKey};
use crate::sms::version::Version;
use std::collections::BTreeMap;

/// One logon point's value in a row that its group must agree on.
struct Held<'a> {
    location: &'a Location,
    identity: String,
    value: String,
    path: String,
}

/// The rows of a logon point that every logon point of its sites must
/// hold alike: base binaries, per-site compver, the Copylog source of
/// Clicore, and the derived base.
fn held<'a>(view: &EstateView<'a>, lp: &'a Location, rows: &mut BTreeMap<RowKey, Vec<Held<'a>>>) {
    for stamp in view.stamps(&lp.name) {
        let compared = match stamp.artifact {
            Artifact::LogonBinary | Artifact::LogonSiteCompver => true,
            Artifact::CopylogSource => stamp.detail.ends_with("\\clicore.exe"),
            _ => false,
        };
        let identity = identity(stamp.artifact, &stamp.value, stamp.sha256);
        if compared && !identity.is_empty() {
            rows.entry(RowKey::of(stamp)).or_default().push(Held {
                location: lp,
                identity,
                value: stamp.value.to_string(),
                path: stamp.path.to_string(),
            });
        }
    }
    if let Some(base) = view.logon_base(lp) {
        rows.entry(RowKey::new("base", Artifact::LogonBase, ""))
            .or_default()
            .push(Held {
                location: lp,
                identity: identity(Artifact::LogonBase, &base.version.text, None),
                value: base.version.text,
                path: base.path,
            });
    }
}

/// A03: in each group of logon points with the same participating sites,
/// every value that differs from what more than half of them hold.
pub(crate) fn check_logon_points_agree(view: &EstateView, out: &mut Vec<Finding>) {
    let mut groups: BTreeMap<Vec<String>, Vec<&Location>> = BTreeMap::new();
    for lp in view.locations(LocationKind::LogonPoint) {
        groups.entry(view.participants(lp)).or_default().push(lp);
    }
    for (sites, lps) in groups.iter().filter(|(_, lps)| lps.len() >= 2) {
        let mut rows: BTreeMap<RowKey, Vec<Held>> = BTreeMap::new();
        for lp in lps {
            held(view, lp, &mut rows);
        }
        let site = sites.join(" ");
        for (row, held) in &rows {
            let Some(agreed) = majority(held.iter().map(|h| h.identity.as_str())) else {
                continue;
            };
            let Some(model) = held.iter().find(|h| h.identity == agreed) else {
                continue;
            };
            let expected = match agreed.strip_prefix("sha256:") {
                Some(hash) => format!(
                    "{}, content {}",
                    if model.value.is_empty() {
                        "no version"
                    } else {
                        &model.value
                    },
                    &hash[..hash.len().min(12)]
                ),
                None => model.value.clone(),
            };
            // A logon point without the file most of its group holds lacks
            // base files its sites need.
            if held.len() * 2 > lps.len() {
                for lp in lps.iter().filter(|lp| !held.iter().any(|h| h.location.name == lp.name)) {
                    let Some(path) = row.path_at(LocationKind::LogonPoint) else {
                        continue;
                    };
                    if !view.absent(&lp.name, &path) {
                        continue;
                    }
                    out.push(
                        FindingDraft {
                            code: CheckCode::A03,
                            severity: None,
                            site: &site,
                            location: &lp.name,
                            path: &path,
                            message: format!(
                                "{} has no {path} while the other logon points of sites {} hold {} (as on {}): LSM did not copy it there, so clients logging on through it cannot get it.",
                                lp.name,
                                sites.join(", "),
                                expected,
                                model.location.name
                            ),
                            observed: "(missing)".into(),
                            expected: expected.clone(),
                            marks: vec![CellMark {
                                row: row.clone(),
                                location: lp.name.clone(),
                                expected: expected.clone(),
                            }],
                        }
                        .into_finding(),
                    );
                }
            }
            for odd in held.iter().filter(|h| h.identity != agreed) {
                let observed = if odd.value.is_empty() {
                    "(no version)".to_string()
                } else {
                    odd.value.clone()
                };
                out.push(
                    FindingDraft {
                        code: CheckCode::A03,
                        severity: None,
                        site: &site,
                        location: &odd.location.name,
                        path: &odd.path,
                        message: format!(
                            "{} holds {} for {}, while the other logon points of sites {} hold {} (as on {}): one of them lags or missed an LSM update.",
                            odd.location.name,
                            observed,
                            row.label(),
                            sites.join(", "),
                            expected,
                            model.location.name
                        ),
                        observed,
                        expected: expected.clone(),
                        marks: vec![CellMark {
                            row: row.clone(),
                            location: odd.location.name.clone(),
                            expected: expected.clone(),
                        }],
                    }
                    .into_finding(),
                );
            }
        }
    }
}

/// The value more than half of `values` are.
fn majority<'v>(values: impl Iterator<Item = &'v str> + Clone) -> Option<&'v str> {
    let total = values.clone().count();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    counts.into_iter().find(|(_, n)| n * 2 > total).map(|(v, _)| v)
}

/// A04: a logon point base binary whose string FileVersion says another
/// version than its fixed one.
pub(crate) fn check_string_versions(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        for stamp in view.stamps(&lp.name) {
            let (Artifact::LogonBinary, Some(string)) = (stamp.artifact, &stamp.string_version) else {
                continue;
            };
            if stamp.value.trim().is_empty() || Version::string_matches_fixed(string, &stamp.value) {
                continue;
            }
            let site = view.participants(lp).join(" ");
            let expected = format!("{string}, its string FileVersion");
            out.push(
                FindingDraft {
                    code: CheckCode::A04,
                    severity: None,
                    site: &site,
                    location: &lp.name,
                    path: &stamp.path,
                    observed: format!("fixed FileVersion {}", stamp.value),
                    expected: format!("string FileVersion {string}"),
                    message: format!(
                        "{}\\{} has fixed FileVersion {} but string FileVersion {string}; tools that show only the string mislead.",
                        lp.name, stamp.path, stamp.value
                    ),
                    marks: vec![CellMark {
                        row: RowKey::of(stamp),
                        location: lp.name.clone(),
                        expected,
                    }],
                }
                .into_finding(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::majority;

    #[test]
    fn majority_needs_more_than_half() {
        assert_eq!(majority(["a", "a", "b"].into_iter()), Some("a"));
        assert_eq!(majority(["a", "b"].into_iter()), None);
        assert_eq!(majority(std::iter::empty()), None);
    }
}
