//! The two halves of Q236596: a shared logon point whose base is newer
//! than a sharing site's CAP (F01), and component CFGs whose version is
//! empty or out of sync with the offer (F02).

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{Artifact, CellMark, CheckCode, Finding, LocationKind, RowKey, Severity};
use crate::sms::release::Stamped;
use crate::sms::version::{Version, EMPTY_VERSION};

/// F01: for each logon point shared by two or more sites, every CAP of a
/// sharing site whose base release is older than the logon point's base.
pub(crate) fn check_logon_base_newer_than_cap(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let sites = view.participants(lp);
        if sites.len() < 2 {
            continue;
        }
        let Some(base) = view.logon_base(lp) else { continue };
        let Some(base_release) = base.version.release() else {
            continue;
        };
        for site in &sites {
            for cap in view.site_locations(site, LocationKind::Cap) {
                let Some(offer) = view.offer(&cap.name, "base").filter(Version::is_sms) else {
                    continue;
                };
                let Some(offer_release) = offer.release() else { continue };
                if offer_release >= base_release {
                    continue;
                }
                let base_compver = Stamped::Compver("base");
                let observed = format!(
                    "{} base compver.ini {} ({})",
                    cap.name,
                    offer,
                    offer.label_as(base_compver)
                );
                // The compver a CAP must hold, not the logon point's own
                // version (a Clicore file version no compver.ini holds).
                let at_least = base_release.at_least(base_compver);
                let expected = format!(
                    "{at_least}, the release of the logon point's base {} ({})",
                    base.version,
                    base.version.label_as(base.stamped)
                );
                out.push(
                    FindingDraft {
                        code: CheckCode::F01,
                        severity: None,
                        site,
                        location: &lp.name,
                        path: &base.path,
                        observed,
                        expected,
                        message: format!(
                            "Logon point {} is shared by sites {} and gives clients base components of release {} ({}), newer than site {}'s CAP {} offers ({}). Clients of {} that log on get the newer base and then skip their optional components.",
                            lp.name,
                            sites.join(", "),
                            base_release,
                            base.evidence,
                            site,
                            cap.name,
                            offer_release,
                            site
                        ),
                        // The CAP is behind; the logon point's base is
                        // the one that is right.
                        marks: vec![CellMark {
                            row: RowKey::new("base", Artifact::Compver, ""),
                            location: cap.name.clone(),
                            expected: at_least,
                        }],
                    }
                    .into_finding(),
                );
            }
        }
    }
}

/// Whether a shared logon point gives this CAP's clients a newer base than
/// the CAP offers.
fn newer_base_reachable(view: &EstateView, site: &str, cap_base: Option<&Version>) -> Option<String> {
    let cap_release = cap_base.and_then(Version::release)?;
    view.logon_points_with(site).into_iter().find_map(|lp| {
        let base = view.logon_base(lp)?;
        (base.version.release()? > cap_release).then(|| format!("{} ({})", lp.name, base.version))
    })
}

/// F02: a component CFG whose version is empty, or differs from the
/// compver.ini of the same component in the same box.
pub(crate) fn check_cfg_versions(view: &EstateView, out: &mut Vec<Finding>) {
    for cap in view.locations(LocationKind::Cap) {
        let site = cap.sites.first().cloned().unwrap_or_default();
        let cap_base = view.offer(&cap.name, "base");
        let newer_base = newer_base_reachable(view, &site, cap_base.as_ref());
        for stamp in view.stamps(&cap.name).iter().filter(|s| s.artifact == Artifact::Cfg) {
            let Some(offer) = view.offer(&cap.name, &stamp.component) else {
                continue;
            };
            let cfg_version = Version::parse(&stamp.value);
            // An empty version is harmless until clients get a newer base
            // (reference 7, #2): RTM CFGs carry none.
            let (severity, why) = if stamp.value.trim().is_empty() {
                match &newer_base {
                    Some(lp) => (Severity::Error, format!("clients can get a newer base from {lp}")),
                    None => continue,
                }
            } else if cfg_version.as_ref().is_some_and(|v| v.same_as(&offer)) {
                continue;
            } else if let Some(lp) = &newer_base {
                (Severity::Error, format!("clients can get a newer base from {lp}"))
            } else {
                (
                    Severity::Warning,
                    "the CFG and compver.ini of one box disagree".to_string(),
                )
            };
            let observed = if stamp.value.trim().is_empty() {
                EMPTY_VERSION.to_string()
            } else {
                stamp.value.to_string()
            };
            out.push(
                FindingDraft {
                    code: CheckCode::F02,
                    severity: Some(severity),
                    site: &site,
                    location: &cap.name,
                    path: &stamp.path,
                    observed: observed.clone(),
                    expected: offer.text.clone(),
                    message: format!(
                        "{}\\{} version {} out of sync with offer file version ({}); CCIM skips operations on this component: {}.",
                        cap.name,
                        stamp.path,
                        if observed == EMPTY_VERSION { observed.clone() } else { format!("({observed})") },
                        offer,
                        why
                    ),
                    marks: vec![CellMark {
                        row: RowKey::new(&stamp.component, Artifact::Cfg, ""),
                        location: cap.name.clone(),
                        expected: offer.text.clone(),
                    }],
                }
                .into_finding(),
            );
        }
    }
}

/// F03 (Q264630): an SP2-or-later base on a logon point, newer in release
/// than a using site's CAP base.
pub(crate) fn check_cap_release_below_logon_clicore(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let Some(base) = view.logon_base(lp) else { continue };
        let Some(base_release) = base.version.release().filter(|r| r.is_sp2_or_later()) else {
            continue;
        };
        for site in &view.participants(lp) {
            for cap in view.site_locations(site, LocationKind::Cap) {
                let Some(offer) = view.offer(&cap.name, "base").filter(Version::is_sms) else {
                    continue;
                };
                let Some(offer_release) = offer.release().filter(|r| *r < base_release) else {
                    continue;
                };
                out.push(
                    FindingDraft {
                        code: CheckCode::F03,
                        severity: None,
                        site,
                        location: &cap.name,
                        path: "clicomp.box\\base\\compver.ini",
                        observed: format!("CAP base release {offer_release}"),
                        expected: format!("{base_release}, the release {} gives clients", lp.name),
                        message: format!(
                            "The CAP base release on {} is {} (client release from {} is {}, {}); CCIM logs \"could not find a site CAP with uplevel version of component\".",
                            cap.name, offer_release, lp.name, base_release, base.evidence
                        ),
                        marks: vec![CellMark {
                            row: RowKey::new("base", Artifact::Compver, ""),
                            location: cap.name.clone(),
                            expected: base_release.at_least(Stamped::Compver("base")),
                        }],
                    }
                    .into_finding(),
                );
            }
        }
    }
}

/// Each of `sites` with its base, where the base is of a known release.
fn released_bases<'s>(view: &EstateView, sites: &'s [String]) -> Vec<(&'s String, Version)> {
    sites
        .iter()
        .filter_map(|s| Some((s, view.site_base(s)?)))
        .filter(|(_, v)| v.release().is_some())
        .collect()
}

/// F08 (Q262677): sites sharing a logon point at different releases, the
/// newest SP2 or later.
pub(crate) fn check_sharing_sites_same_release(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let sites = view.participants(lp);
        let bases = released_bases(view, &sites);
        let Some(newest) = bases.iter().filter_map(|(_, v)| v.release()).max() else {
            continue;
        };
        if !newest.is_sp2_or_later() {
            continue;
        }
        let newest_sites: Vec<&str> = bases
            .iter()
            .filter(|(_, v)| v.release() == Some(newest))
            .map(|(s, _)| s.as_str())
            .collect();
        for (site, version) in &bases {
            let Some(release) = version.release().filter(|r| *r < newest) else {
                continue;
            };
            out.push(
                FindingDraft {
                    code: CheckCode::F08,
                    severity: None,
                    site,
                    location: &lp.name,
                    path: "",
                    observed: format!("site {site} at {release}"),
                    expected: format!("{newest}, like {}", newest_sites.join(", ")),
                    message: format!(
                        "Sites {} share {} at different releases: {site} is at {release}, {} at {newest}. Boot32wn will not apply the significantly newer Clicore to {site}'s clients, and new clients are assigned only to the newest site.",
                        sites.join(", "),
                        lp.name,
                        newest_sites.join(", ")
                    ),
                    marks: Vec::new(),
                }
                .into_finding(),
            );
        }
    }
}

/// N07: ICPs work only when every site sharing the domain runs the same
/// revision, and only on the service pack they were made for (Q269615,
/// Q202941). Two halves: sites sharing a logon point whose base compvers
/// are of one release but differ while one is an ICP build; and a site's
/// component compver that is an ICP build of another release than its base.
pub(crate) fn check_icp_revisions(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let sites = view.participants(lp);
        let bases = released_bases(view, &sites);
        for (site, version) in &bases {
            let release = version.release();
            let same_release: Vec<&(&String, Version)> = bases.iter().filter(|(_, v)| v.release() == release).collect();
            if !same_release.iter().any(|(_, v)| v.is_icp()) {
                continue;
            }
            let Some((_, newest)) = same_release.iter().max_by(|a, b| a.1.fields.cmp(&b.1.fields)) else {
                continue;
            };
            if version.fields >= newest.fields {
                continue;
            }
            let at_newest: Vec<&str> = same_release
                .iter()
                .filter(|(_, v)| v.same_as(newest))
                .map(|(s, _)| s.as_str())
                .collect();
            out.push(
                FindingDraft {
                    observed: format!("site {site} base {version} ({})", version.label()),
                    expected: format!("{newest} ({}), like {}", newest.label(), at_newest.join(", ")),
                    message: format!(
                        "Sites {} share {} inside one release at different revisions while one runs an International Client Pack: {site} offers base {version}, {} offer {newest}. ICPs work only when every site sharing the domain runs the same revision (Q269615).",
                        sites.join(", "),
                        lp.name,
                        at_newest.join(", ")
                    ),
                    ..FindingDraft::new(CheckCode::N07, site, &lp.name, "")
                }
                .into_finding(),
            );
        }
    }
    for kind in [LocationKind::SiteServer, LocationKind::Cap] {
        for location in view.locations(kind) {
            let Some(base) = view.offer(&location.name, "base").filter(Version::is_sms) else {
                continue;
            };
            let Some(base_release) = base.release() else { continue };
            let site = location.sites.first().cloned().unwrap_or_default();
            // A CAP repeats its site server's offer: judged only without one.
            if kind == LocationKind::Cap && !view.site_locations(&site, LocationKind::SiteServer).is_empty() {
                continue;
            }
            for stamp in view.stamps(&location.name) {
                if stamp.artifact != Artifact::Compver || stamp.component.eq_ignore_ascii_case("base") {
                    continue;
                }
                let Some(version) = Version::parse(&stamp.value).filter(Version::is_icp) else {
                    continue;
                };
                let Some(release) = version.release().filter(|r| *r != base_release) else {
                    continue;
                };
                out.push(
                    FindingDraft {
                        observed: format!("{} compver {version} (ICP build of {release})", stamp.component),
                        expected: format!("an ICP build of {base_release}, the base's release ({base})"),
                        message: format!(
                            "{} offers {} at {version}, an International Client Pack build of {release}, while its base is {base} ({base_release}): an ICP works only on the service pack it was made for (Q202941).",
                            location.name, stamp.component
                        ),
                        ..FindingDraft::new(CheckCode::N07, &site, &location.name, &stamp.path)
                    }
                    .into_finding(),
                );
            }
        }
    }
}
