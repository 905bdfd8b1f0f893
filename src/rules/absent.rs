//! Expected but absent (F24): a CAP without a component's compver.ini or
//! CFG that its site offers elsewhere, or with an empty or missing
//! clicomp.box. Inbox Manager copies clicomp.src to every CAP (Q213410,
//! Q266130): a file its site offers and the CAP lacks is a failed copy.
//! Only files known to be absent count: unreadable ones are A05's.

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{Artifact, CellMark, CheckCode, Finding, Location, LocationKind, RowKey};
use crate::sms::layout;
use crate::sms::version::EMPTY_VERSION;
use std::collections::BTreeSet;

/// Components (lower case) for which `artifact` stamps exist at `locations`.
fn offered(view: &EstateView, locations: &[&Location], artifact: Artifact) -> BTreeSet<String> {
    locations
        .iter()
        .flat_map(|l| view.stamps(&l.name).iter())
        .filter(|s| s.artifact == artifact)
        .map(|s| s.component.as_str().to_ascii_lowercase())
        .collect()
}

pub(crate) fn check_expected_files(view: &EstateView, out: &mut Vec<Finding>) {
    for cap in view.locations(LocationKind::Cap) {
        let site = cap.sites.first().cloned().unwrap_or_default();
        let others: Vec<&Location> = view
            .site_locations(&site, LocationKind::Cap)
            .into_iter()
            .filter(|c| c.name != cap.name)
            .collect();
        let mut references: Vec<&Location> = view.site_locations(&site, LocationKind::SiteServer);
        references.extend(others.iter().copied());
        let box_empty = !view.has_entries_under(&cap.name, "clicomp.box");
        if box_empty && !view.not_read(&cap.name, "clicomp.box") {
            let what = if view.has_folder(&cap.name, "clicomp.box") {
                "an empty clicomp.box"
            } else {
                "no clicomp.box"
            };
            out.push(
                FindingDraft {
                    observed: what.to_string(),
                    expected: "a component folder with compver.ini per client component".into(),
                    message: format!(
                        "{} has {what}: clients of site {site} can get no component from it (Inbox Manager's copy from clicomp.src failed or never ran).",
                        cap.name
                    ),
                    ..FindingDraft::new(CheckCode::F24, &site, &cap.name, "clicomp.box")
                }
                .into_finding(),
            );
        }
        for component in offered(view, &references, Artifact::Compver) {
            let Some(path) = layout::compver_path(LocationKind::Cap, &component) else {
                continue;
            };
            if view.offer(&cap.name, &component).is_some() || !view.absent(&cap.name, &path) {
                continue;
            }
            let Some((version, reference)) = view.expected_offer(&site, &component) else {
                continue;
            };
            out.push(
                FindingDraft {
                    observed: "missing".into(),
                    expected: format!("{} as on {}", version, reference.name),
                    message: format!(
                        "{} has no {component} compver.ini although {} offers {version}: replication lag or a failed Inbox Manager copy; clients of site {site} using this CAP cannot get the component.",
                        cap.name, reference.name
                    ),
                    marks: vec![CellMark {
                        row: RowKey::new(&component, Artifact::Compver, ""),
                        location: cap.name.clone(),
                        expected: version.text.clone(),
                    }],
                    ..FindingDraft::new(CheckCode::F24, &site, &cap.name, &path)
                }
                .into_finding(),
            );
        }
        // CFG files sit at the root of clicomp.box; compare with the site's
        // other CAPs.
        for component in offered(view, &others, Artifact::Cfg) {
            let path = layout::cfg_path(&component);
            if view.stamp(&cap.name, &component, Artifact::Cfg, "").is_some() || !view.absent(&cap.name, &path) {
                continue;
            }
            let Some((holder, value)) = others.iter().find_map(|c| {
                let stamp = view.stamp(&c.name, &component, Artifact::Cfg, "")?;
                Some((c.name.as_str(), stamp.value.to_string()))
            }) else {
                continue;
            };
            let value = if value.trim().is_empty() {
                EMPTY_VERSION.to_string()
            } else {
                value
            };
            out.push(
                FindingDraft {
                    observed: "missing".into(),
                    expected: format!("{component}.CFG, as on {holder}"),
                    message: format!(
                        "{} has no {component}.CFG although {holder} of the same site has one: a failed Inbox Manager copy; CCIM reads no CFG version for the component.",
                        cap.name
                    ),
                    marks: vec![CellMark {
                        row: RowKey::new(&component, Artifact::Cfg, ""),
                        location: cap.name.clone(),
                        expected: value.clone(),
                    }],
                    ..FindingDraft::new(CheckCode::F24, &site, &cap.name, &path)
                }
                .into_finding(),
            );
        }
    }
}
