//! Version stamps that are wrong on their own: a revision that does not
//! match its build (F22), hotfix compver variants left unrenamed (F25) and
//! the withdrawn SP3 RC9 build (F26).

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{Artifact, CellMark, CheckCode, Finding, RowKey, Severity};
use crate::sms::version::Version;

/// Stamps that carry an SMS version of the site or logon point.
const VERSION_ARTIFACTS: &[Artifact] = &[Artifact::Compver, Artifact::LogonSiteCompver, Artifact::LogonBinary];

fn mark(stamp: &crate::model::Stamp, expected: &str) -> Vec<CellMark> {
    vec![CellMark {
        row: RowKey::of(stamp),
        location: stamp.location.to_string(),
        expected: expected.to_string(),
    }]
}

/// F22 and F26 over every version stamp.
pub(crate) fn check_version_stamps(view: &EstateView, out: &mut Vec<Finding>) {
    for stamp in &view.estate.stamps {
        if !VERSION_ARTIFACTS.contains(&stamp.artifact) {
            continue;
        }
        let Some(version) = Version::parse(&stamp.value).filter(Version::is_sms) else {
            continue;
        };
        let site = view.site_of(stamp);
        if stamp.artifact != Artifact::LogonBinary && !version.build_agrees_with_sp() {
            let release = version.release().map(|r| r.build).unwrap_or_default();
            let expected = crate::sms::release::RELEASES
                .iter()
                .filter(|r| r.build == release)
                .map(|r| format!("2.00.{}.{}xxx", r.build, r.sp))
                .collect::<Vec<_>>()
                .join(" or ");
            out.push(
                FindingDraft {
                    code: CheckCode::F22,
                    severity: None,
                    site: &site,
                    location: &stamp.location,
                    path: &stamp.path,
                    observed: version.text.clone(),
                    expected: expected.clone(),
                    message: format!(
                        "{}\\{} reads {}: its service-pack digit does not match build {} (left by an early hotfix such as Q240921); later hotfixes compare against a wrong level.",
                        stamp.location, stamp.path, version, release
                    ),
                    marks: mark(stamp, &expected),
                }
                .into_finding(),
            );
        }
        if let Some(withdrawn) = version.withdrawn() {
            let name = withdrawn.name;
            out.push(
                FindingDraft {
                    code: CheckCode::F26,
                    severity: None,
                    site: &site,
                    location: &stamp.location,
                    path: &stamp.path,
                    observed: format!("{} ({name})", version.text),
                    expected: format!(
                        "a released build ({} is {} or later)",
                        withdrawn.release, withdrawn.replaced_by
                    ),
                    message: format!(
                        "{}\\{} is {} , the withdrawn {name}: client agent setting changes do not propagate.",
                        stamp.location, stamp.path, version
                    ),
                    marks: mark(stamp, withdrawn.replaced_by),
                }
                .into_finding(),
            );
        }
    }
}

/// F25: a hotfix-named compver variant beside compver.ini.
pub(crate) fn check_compver_variants(view: &EstateView, out: &mut Vec<Finding>) {
    for stamp in view
        .estate
        .stamps
        .iter()
        .filter(|s| s.artifact == Artifact::CompverVariant)
    {
        let site = view.site_of(stamp);
        let variant = Version::parse(&stamp.value);
        let current = view.offer(&stamp.location, &stamp.component);
        let newer = match (&variant, &current) {
            (Some(v), Some(c)) => v.kind == c.kind && v.fields > c.fields,
            (Some(_), None) => true,
            _ => false,
        };
        let severity = if newer { Severity::Warning } else { Severity::Info };
        let current_text = current
            .as_ref()
            .map(|c| c.text.clone())
            .unwrap_or_else(|| "(missing)".into());
        out.push(
            FindingDraft {
                code: CheckCode::F25,
                severity: Some(severity),
                site: &site,
                location: &stamp.location,
                path: &stamp.path,
                observed: format!(
                    "{} {} beside compver.ini {}",
                    stamp.detail,
                    variant.as_ref().map(|v| v.text.as_str()).unwrap_or("(no version)"),
                    current_text
                ),
                expected: "only compver.ini".into(),
                message: if newer {
                    format!(
                        "{}\\{} carries a newer version than the {} compver.ini ({}): the hotfix's rename step was skipped, so clients are not offered it.",
                        stamp.location, stamp.path, stamp.component, current_text
                    )
                } else {
                    format!(
                        "{}\\{} is a left-over hotfix compver variant (not newer than compver.ini {}).",
                        stamp.location, stamp.path, current_text
                    )
                },
                marks: Vec::new(),
            }
            .into_finding(),
        );
    }
}
