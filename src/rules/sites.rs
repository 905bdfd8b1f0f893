//! Which sites take part in a logon point: missing site folders (F09),
//! orphaned ones (F10), Senior.lst (F11) and reserved site codes (F27).

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{Artifact, CheckCode, Finding, LocationKind};
use crate::sms::layout::{self, LOGON_SITE_FILES, RESERVED_SITE_CODES};
use std::collections::{BTreeMap, BTreeSet};

/// F09 (Q242492): a site with an LCF whose Sites folder is missing, empty
/// or lacks NETCONF.NCF.
pub(crate) fn check_participants_have_site_folder(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        for code in view.lcf_sites(&lp.name) {
            let folder = format!("Sites\\{code}");
            let missing: Vec<&str> = LOGON_SITE_FILES
                .iter()
                .copied()
                .filter(|f| view.absent(&lp.name, &format!("{folder}\\{f}")))
                .collect();
            // NETCONF.NCF without Cli_inst.cfg is not Q242492: clients can
            // read Netconf.ncf (reference 11.1); F05 or F19 say it.
            if missing.is_empty() || missing.iter().all(|f| f.eq_ignore_ascii_case("cli_inst.cfg")) {
                continue;
            }
            let observed = if view.folder_has_files(&lp.name, &folder) {
                format!("{folder} lacks {}", missing.join(", "))
            } else if view.has_folder(&lp.name, &folder) {
                format!("{folder} is empty")
            } else {
                format!("no {folder} folder")
            };
            out.push(
                FindingDraft {
                    observed: observed.clone(),
                    expected: format!("{folder}\\NETCONF.NCF and Cli_inst.cfg"),
                    message: format!(
                    "Site {code} takes part in {} ({code}_cfg.lcf) but {observed}; its clients cannot read Netconf.ncf and deinstall.",
                    lp.name
                ),
                    ..FindingDraft::new(CheckCode::F09, &code, &lp.name, &folder)
                }
                .into_finding(),
            );
        }
    }
}

/// F10: a Sites folder for a site no audited logon point has an LCF for.
pub(crate) fn check_orphan_site_folders(view: &EstateView, out: &mut Vec<Finding>) {
    let known = view.lcf_sites_anywhere();
    for lp in view.locations(LocationKind::LogonPoint) {
        let here = view.lcf_sites(&lp.name);
        if here.is_empty() {
            continue;
        }
        for code in lp.sites.iter().filter(|s| !known.contains(s)) {
            out.push(
                FindingDraft {
                    observed: format!("Sites\\{code} without {code}_cfg.lcf"),
                    expected: format!("Sites folders only for participating sites ({})", here.join(", ")),
                    message: format!(
                    "{} keeps Sites\\{code} although no audited logon point has {code}_cfg.lcf: the site left (or was removed); clients may still try to install to it.",
                    lp.name
                ),
                    ..FindingDraft::new(CheckCode::F10, code, &lp.name, &format!("Sites\\{code}"))
                }
                .into_finding(),
            );
        }
    }
}

/// F11: Senior.lst must start with the upper-case code of a participant.
pub(crate) fn check_senior_list(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let Some(stamp) = view.stamp(&lp.name, "", Artifact::SeniorSite, "") else {
            continue;
        };
        let participants = view.participants(lp);
        let code = stamp.value.as_str();
        if participants.iter().any(|p| p == code) {
            continue;
        }
        let why = if code.trim().is_empty() {
            "names no site"
        } else if code.starts_with(char::is_whitespace) {
            "starts with white space: LSM reads the first three characters as they are"
        } else if participants.iter().any(|p| p.eq_ignore_ascii_case(code)) {
            "is not in upper case (LSM compares site codes case-sensitively)"
        } else {
            "is not a site that takes part in the logon point"
        };
        // A code that is no site cannot be the finding's site: the logon
        // point's sites are the ones whose clients it affects.
        let site = if layout::is_site_code(code) {
            code.to_string()
        } else {
            participants.join(" ")
        };
        let observed = if layout::is_site_code(code) {
            code.to_string()
        } else {
            format!("{code:?}")
        };
        out.push(
            FindingDraft {
                observed,
                expected: format!("one of {}", participants.join(", ")),
                message: format!("Senior.lst on {} names {code:?}, which {why}.", lp.name),
                ..FindingDraft::new(CheckCode::F11, &site, &lp.name, &stamp.path)
            }
            .into_finding(),
        );
    }
}

/// F27: a site code that is a reserved device name.
pub(crate) fn check_reserved_site_codes(view: &EstateView, out: &mut Vec<Finding>) {
    for location in &view.estate.locations {
        let mut codes: BTreeSet<String> = location.sites.iter().cloned().collect();
        if location.kind == LocationKind::LogonPoint {
            codes.extend(view.lcf_sites(&location.name));
        }
        for code in codes.iter().filter(|c| RESERVED_SITE_CODES.contains(&c.as_str())) {
            out.push(
                FindingDraft {
                    observed: code.clone(),
                    expected: "a site code other than CON, PRN, AUX, NUL".into(),
                    message: format!(
                        "Site code {code} is a reserved device name: LSM cannot create Sites\\{code} on logon points."
                    ),
                    ..FindingDraft::new(CheckCode::F27, code, &location.name, "")
                }
                .into_finding(),
            );
        }
    }
}

/// Whether a logon point holds Senior.lst: `Some(false)` only when it is
/// known to be absent (not when `Sitescfg` could not be read).
fn holds_senior_list(view: &EstateView, logon_point: &str) -> Option<bool> {
    let path = format!("{}\\senior.lst", layout::LOGON_CONFIG_FOLDER);
    if view.exists(logon_point, &path) {
        Some(true)
    } else if view.absent(logon_point, &path) {
        Some(false)
    } else {
        None
    }
}

/// N03: Senior.lst works per domain (Q263395). Sites that share logon
/// points in several domains need it on every domain's PDC; one domain
/// holding it and another known to lack it is the finding.
pub(crate) fn check_senior_list_per_domain(
    view: &EstateView,
    inventory: Option<&crate::config::Inventory>,
    out: &mut Vec<Finding>,
) {
    let inventory = inventory.filter(|i| !i.domains.is_empty());
    let mut by_sites: BTreeMap<Vec<String>, Vec<&crate::model::Location>> = BTreeMap::new();
    for lp in view.locations(LocationKind::LogonPoint) {
        let sites = view.lcf_sites(&lp.name);
        if sites.len() >= 2 {
            by_sites.entry(sites).or_default().push(lp);
        }
    }
    for (sites, lps) in by_sites {
        // Domain (as said in the finding) -> its logon points.
        let mut domains: BTreeMap<String, Vec<&crate::model::Location>> = BTreeMap::new();
        for lp in lps {
            let domain = match inventory {
                Some(inventory) => inventory
                    .logon_point_domain(&lp.name)
                    .map(|d| format!("domain {}", d.to_ascii_uppercase())),
                None => {
                    let sources: BTreeSet<&str> = view
                        .copylog(&lp.name)
                        .into_iter()
                        .filter(|(path, _)| !path.starts_with("sites\\"))
                        .map(|(_, site)| site)
                        .collect();
                    (!sources.is_empty()).then(|| {
                        format!(
                            "the logon points whose Copylog.tcf names {} as source (taken for one domain)",
                            sources.into_iter().collect::<Vec<_>>().join(", ")
                        )
                    })
                }
            };
            if let Some(domain) = domain {
                domains.entry(domain).or_default().push(lp);
            }
        }
        if domains.len() < 2 {
            continue;
        }
        let state = |lps: &[&crate::model::Location]| -> Option<bool> {
            let held: Vec<Option<bool>> = lps.iter().map(|lp| holds_senior_list(view, &lp.name)).collect();
            if held.contains(&Some(true)) {
                Some(true)
            } else if held.iter().all(|h| *h == Some(false)) {
                Some(false)
            } else {
                None
            }
        };
        let with: Vec<&str> = domains
            .iter()
            .filter(|(_, lps)| state(lps) == Some(true))
            .map(|(d, _)| d.as_str())
            .collect();
        if with.is_empty() {
            continue;
        }
        let site_list = sites.join(" ");
        for (domain, lps) in &domains {
            if state(lps) != Some(false) {
                continue;
            }
            let names: Vec<&str> = lps.iter().map(|lp| lp.name.as_str()).collect();
            out.push(
                FindingDraft {
                    observed: format!("no Senior.lst on {}", names.join(", ")),
                    expected: format!("Senior.lst here too, as on {}", with.join("; ")),
                    message: format!(
                        "Sites {} share logon points in several domains; Senior.lst is on {} but not on {domain} ({}). LSM does not carry Senior.lst to another domain (Q263395): there the senior site is elected by site version, then by site code.",
                        sites.join(", "),
                        with.join("; "),
                        names.join(", ")
                    ),
                    ..FindingDraft::new(
                        CheckCode::N03,
                        &site_list,
                        &lps[0].name,
                        &format!("{}\\Senior.lst", layout::LOGON_CONFIG_FOLDER),
                    )
                }
                .into_finding(),
            );
        }
    }
}
