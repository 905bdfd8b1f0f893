//! Checks of the audit itself against what the admin expects: locations
//! that could not be read (A01) and sites below their expected release (A02).

use super::FindingDraft;
use crate::config::Inventory;
use crate::estate::EstateView;
use crate::model::{Artifact, CellMark, CheckCode, Finding, LocationKind, RowKey, Status};
use crate::sms::release::Stamped;

/// A01: every location that could not be read, named so it is not silence.
pub(crate) fn check_unreadable_locations(view: &EstateView, out: &mut Vec<Finding>) {
    for location in view.estate.locations.iter().filter(|l| l.status != Status::Ok) {
        let site = location.sites.join(" ");
        out.push(
            FindingDraft {
                code: CheckCode::A01,
                severity: None,
                site: &site,
                location: &location.name,
                path: &location.root,
                observed: location.reason.clone(),
                expected: format!("a readable {}", location.kind.as_str()),
                message: format!(
                    "{} ({}) could not be audited: {}. Its files are not in this report.",
                    location.name, location.root, location.reason
                ),
                marks: Vec::new(),
            }
            .into_finding(),
        );
    }
}

/// A02: a site whose base release differs from the one the inventory expects.
pub(crate) fn check_expected_release(view: &EstateView, inventory: &Inventory, out: &mut Vec<Finding>) {
    let mut sites: Vec<String> = inventory.sites.iter().map(|s| s.code.to_ascii_uppercase()).collect();
    sites.sort();
    sites.dedup();
    for site in sites {
        let Some(expected) = inventory.expected_release(&site) else {
            continue;
        };
        for location in view
            .site_locations(&site, LocationKind::Cap)
            .into_iter()
            .chain(view.site_locations(&site, LocationKind::SiteServer))
        {
            let Some(offer) = view.offer(&location.name, "base").filter(|v| v.is_sms()) else {
                continue;
            };
            let Some(release) = offer.release() else { continue };
            if release.build == expected.build && release.sp == expected.sp {
                continue;
            }
            out.push(
                FindingDraft {
                    code: CheckCode::A02,
                    severity: None,
                    site: &site,
                    location: &location.name,
                    path: "",
                    observed: format!("{} ({})", offer, offer.label_as(Stamped::Compver("base"))),
                    expected: format!("{} ({})", expected.label, expected.base_version),
                    message: format!(
                        "Site {site} is at {} on {}, but the inventory expects {}.",
                        offer.label_as(Stamped::Compver("base")),
                        location.name,
                        expected.label
                    ),
                    marks: vec![CellMark {
                        row: RowKey::new("base", Artifact::Compver, ""),
                        location: location.name.clone(),
                        expected: expected.base_version.to_string(),
                    }],
                }
                .into_finding(),
            );
        }
    }
}
