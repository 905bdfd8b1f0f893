//! Copylog.tcf checks (reference 4.3): a CLICORE.EXE line naming a site of
//! another release (F04), sites without configuration (F05), removed
//! sites (F06) and missing shared-file lines (F07).

use super::FindingDraft;
use crate::config::Inventory;
use crate::estate::EstateView;
use crate::model::{Artifact, CheckCode, Finding, LocationKind, Status};
use crate::sms::version::Version;
use std::collections::BTreeSet;

use crate::sms::layout::{COPYLOG, LOGON_SHARED_FOLDERS};

/// F04: the CLICORE.EXE line names a site whose base release is not the
/// release of the file actually on the logon point.
pub(crate) fn check_clicore_source_release(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let lines = view.copylog(&lp.name);
        let Some((_, named)) = lines.iter().find(|(p, _)| *p == "x86.bin\\clicore.exe") else {
            continue;
        };
        let pe = view
            .stamp(&lp.name, "base", Artifact::LogonBinary, "x86.bin\\clicore.exe")
            .and_then(|s| Version::parse(&s.value))
            .filter(Version::is_sms)
            .map(|v| (v, "its version resource".to_string()));
        let actual = pe.or_else(|| {
            view.clicore_twin(&lp.name)
                .map(|(site, v, twin)| (v, format!("identical content with site {site}'s copy on {twin}")))
        });
        let (Some((actual, how)), Some(named_base)) = (actual, view.site_base(named)) else {
            continue;
        };
        let (Some(actual_release), Some(named_release)) = (actual.release(), named_base.release()) else {
            continue;
        };
        if actual_release == named_release {
            continue;
        }
        out.push(
            FindingDraft {
                observed: format!("X86.BIN\\CLICORE.EXE={named} (site {named} offers base {named_base})"),
                expected: format!("a site at release {actual_release}, the release of the file ({how})"),
                message: format!(
            "Copylog.tcf on {} names site {} as the source of CLICORE.EXE, but the file on the logon point is release {} (known by {}) while site {} is at {}. Clients read site {}'s Cli_inst.cfg for a Clicore of another release.",
            lp.name, named, actual_release, how, named, named_release, named
        ),
                ..FindingDraft::new(CheckCode::F04, named, &lp.name, COPYLOG)
            }
            .into_finding(),
        );
    }
}

/// F05: the site Copylog names on the `X86.BIN\CLICORE.EXE` line (the one
/// the bootstrap follows, reference 11.1) without `Sites\<code>\Cli_inst.cfg`.
/// A site named only on its own `SITES\<code>\...` lines is not Q263345.
pub(crate) fn check_copylog_sites_configured(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let codes: BTreeSet<&str> = view
            .copylog(&lp.name)
            .into_iter()
            .filter(|(path, _)| *path == crate::sms::layout::LOGON_CLICORE)
            .map(|(_, c)| c)
            .collect();
        for code in codes {
            let folder = format!("sites\\{}", code.to_ascii_lowercase());
            // Present, or not judged: unreadable is not missing (A05).
            if !view.absent(&lp.name, &format!("{folder}\\cli_inst.cfg")) {
                continue;
            }
            let what = if view.folder_has_files(&lp.name, &folder) {
                format!("Sites\\{code} has no Cli_inst.cfg")
            } else if view.has_folder(&lp.name, &folder) {
                format!("an empty Sites\\{code} folder")
            } else {
                format!("no Sites\\{code} folder")
            };
            out.push(
                FindingDraft {
                    observed: what.clone(),
                    expected: format!("Sites\\{code}\\Cli_inst.cfg"),
                    message: format!(
                "Copylog.tcf on {} names site {} on X86.BIN\\CLICORE.EXE, the site the bootstrap follows, but the logon point has {}; the bootstrap cannot get configuration and CRC data.",
                lp.name, code, what
            ),
                    ..FindingDraft::new(CheckCode::F05, code, &lp.name, COPYLOG)
                }
                .into_finding(),
            );
        }
    }
}

/// F06: Copylog names a site that no audited logon point has an LCF for.
pub(crate) fn check_copylog_removed_sites(view: &EstateView, inventory: Option<&Inventory>, out: &mut Vec<Finding>) {
    // A site that still has a share in the audit, or that the inventory
    // names, was not removed (it may only have left the logon point: F10).
    let mut known: BTreeSet<String> = view.lcf_sites_anywhere().into_iter().collect();
    known.extend(
        view.estate
            .locations
            .iter()
            .filter(|l| matches!(l.kind, LocationKind::Cap | LocationKind::SiteServer))
            .flat_map(|l| l.sites.iter().cloned()),
    );
    known.extend(
        inventory
            .into_iter()
            .flat_map(|i| i.sites.iter().map(|s| s.code.to_ascii_uppercase())),
    );
    for lp in view.locations(LocationKind::LogonPoint) {
        // Without LCF files here, nothing says which sites take part.
        if view.lcf_sites(&lp.name).is_empty() {
            continue;
        }
        let codes: BTreeSet<&str> = view.copylog(&lp.name).into_iter().map(|(_, c)| c).collect();
        for code in codes.into_iter().filter(|c| !known.contains(*c)) {
            out.push(
                FindingDraft {
                    observed: format!("lines naming {code}"),
                    expected: format!("only participating sites ({})", view.lcf_sites(&lp.name).join(", ")),
                    message: format!(
                "Copylog.tcf on {} names site {}, which has no {}_cfg.lcf on any audited logon point: a removed site.",
                lp.name, code, code
            ),
                    ..FindingDraft::new(CheckCode::F06, code, &lp.name, COPYLOG)
                }
                .into_finding(),
            );
        }
    }
}

/// F07: Copylog missing, unparsable, SITES-only, or without a line for a
/// shared file that is on the logon point.
pub(crate) fn check_copylog_covers_shared_files(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let shared: Vec<String> = view
            .files(&lp.name)
            .map(|(p, _)| p)
            .filter(|p| LOGON_SHARED_FOLDERS.iter().any(|f| p.starts_with(f)))
            .collect();
        if shared.is_empty() {
            continue;
        }
        let record = view.file(&lp.name, COPYLOG);
        let lines: BTreeSet<&str> = view.copylog(&lp.name).into_iter().map(|(p, _)| p).collect();
        let problem = match record {
            None if !view.absent(&lp.name, COPYLOG) => None,
            None => Some(("Copylog.tcf missing".to_string(), "Config\\Copylog.tcf".to_string())),
            Some(r) if r.status != Status::Ok => Some((format!("unparsable: {}", r.reason), "[FILE SOURCE]".into())),
            Some(_) => {
                let missing: Vec<&str> = shared
                    .iter()
                    .map(String::as_str)
                    .filter(|p| !lines.contains(p))
                    .collect();
                if missing.is_empty() {
                    None
                } else if lines.iter().all(|l| l.starts_with("sites\\")) {
                    Some(("only SITES\\ lines".to_string(), "lines for shared files".into()))
                } else {
                    let shown: Vec<&str> = missing.iter().take(5).copied().collect();
                    let more = if missing.len() > 5 {
                        format!(" and {} more", missing.len() - 5)
                    } else {
                        String::new()
                    };
                    Some((
                        format!("no line for {}{}", shown.join(", "), more),
                        "a line for every shared file".into(),
                    ))
                }
            }
        };
        let Some((observed, expected)) = problem else { continue };
        let site = view.participants(lp).join(" ");
        out.push(
            FindingDraft {
                message: format!(
                    "Copylog.tcf on {}: {}. Clients log \"Couldn't find line in the FILE SOURCE section\" and retry.",
                    lp.name, observed
                ),
                observed,
                expected,
                ..FindingDraft::new(
                    CheckCode::F07,
                    &site,
                    &lp.name,
                    record.map(|r| r.path.as_str()).unwrap_or("Config\\Copylog.tcf"),
                )
            }
            .into_finding(),
        );
    }
}
