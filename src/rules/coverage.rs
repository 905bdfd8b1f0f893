//! What the audit could not check (A05): every entry of a readable share
//! that exists but could not be read. It is never reported as missing, and
//! the checks that needed it are named here instead.

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{CheckCode, FileKind, Finding, Location, LocationKind, Status};
use crate::sms::layout::{self, Role};
use std::collections::{BTreeMap, BTreeSet};

/// The checks that read a file of this role.
fn needed_by(kind: LocationKind, lower: &str, file_kind: FileKind) -> &'static str {
    if file_kind == FileKind::Directory {
        return "every check of the files below it, their hashes and drift";
    }
    match layout::role(kind, lower) {
        Role::Compver { .. } => "its component's version (F01-F03, F22-F25, the matrix row)",
        Role::ComponentCfg { .. } => "the CFG version (F02, the matrix row)",
        Role::Copylog => "the Copylog checks (F04-F07)",
        Role::SeniorList => "the senior site (F11)",
        Role::LogonConfig => "who takes part in the logon point (F06, F09-F11)",
        Role::LogonSiteCompver { .. } => "the site's logon point version (F22, A03)",
        Role::LogonBaseBinary => "the logon point's base (F01, F03, F04, F20, F21, A03, A04)",
        Role::ClientData => "the copies of client data (F16, F17, F19)",
        Role::OfferInstruction => "the offers it names (F14)",
        Role::SiteControl => {
            "the site's configuration (F28, F29, F31, N01, N05, N09, N11, N14, the Q236596 workaround state)"
        }
        Role::Binary | Role::Other => "its hash and drift",
    }
}

/// The readable locations by name, so the files are walked once, not once
/// per location.
fn readable_locations<'a>(view: &EstateView<'a>) -> BTreeMap<&'a str, &'a Location> {
    view.estate
        .locations
        .iter()
        .filter(|l| l.status == Status::Ok)
        .map(|l| (l.name.as_str(), l))
        .collect()
}

/// A05: one finding per unreadable file or folder of a readable location.
pub(crate) fn check_unreadable_entries(view: &EstateView, out: &mut Vec<Finding>) {
    let readable = readable_locations(view);
    for record in view.estate.files.iter().filter(|f| f.status == Status::Unreadable) {
        let Some(location) = readable.get(record.location.as_str()) else {
            continue;
        };
        let site = location.sites.join(" ");
        let what = if record.kind == FileKind::Directory {
            "folder"
        } else {
            "file"
        };
        let needed = needed_by(location.kind, &record.path.as_str().to_ascii_lowercase(), record.kind);
        out.push(
            FindingDraft {
                observed: record.reason.to_string(),
                expected: "readable by the audit account".into(),
                message: format!(
                    "The {what} {}\\{} exists but could not be read ({}); not checked: {needed}.",
                    location.name, record.path, record.reason
                ),
                ..FindingDraft::new(CheckCode::A05, &site, &location.name, &record.path)
            }
            .into_finding(),
        );
    }
}

/// A06: what the audit lacks to judge the checks: a CAP's site without
/// any logon point or site server in the audit, a share without a site
/// code, and exclusions that hide files the checks read.
pub(crate) fn check_what_could_not_be_judged(view: &EstateView, out: &mut Vec<Finding>) {
    let mut not_judged = |site: &str, location: &str, path: &str, observed: String, message: String| {
        out.push(
            FindingDraft {
                observed,
                expected: "everything the checks need is in the audit".into(),
                message,
                ..FindingDraft::new(CheckCode::A06, site, location, path)
            }
            .into_finding(),
        );
    };
    let served: BTreeSet<String> = view
        .locations(LocationKind::LogonPoint)
        .into_iter()
        .flat_map(|lp| view.participants(lp))
        .collect();
    let mut sites: BTreeMap<String, &Location> = BTreeMap::new();
    for location in view
        .locations(LocationKind::Cap)
        .into_iter()
        .chain(view.locations(LocationKind::SiteServer))
    {
        match location.sites.first() {
            Some(site) => {
                sites.entry(site.clone()).or_insert(location);
            }
            None => not_judged(
                "(unknown)",
                &location.name,
                "",
                "no site code".into(),
                format!(
                    "{} is a {} but its name gives no site code, so no check that compares it with its site ran; name it CAP_<site> / SMS_<site>, or give its site in the inventory.",
                    location.name,
                    location.kind.as_str()
                ),
            ),
        }
    }
    for (site, first) in &sites {
        if !served.contains(site) {
            not_judged(
                site,
                &first.name,
                "",
                format!("no logon point of site {site} audited"),
                format!(
                    "No audited logon point serves site {site}, so what its clients get at logon was not compared with its CAPs (Q236596: F01-F03, F08). Add the domain's \\\\<DC>\\SMSLOGON shares."
                ),
            );
        }
        if view.site_locations(site, LocationKind::SiteServer).is_empty() {
            not_judged(
                site,
                &first.name,
                "",
                format!("no site server of site {site} audited"),
                format!(
                    "No site server share of site {site} was audited, so its CAPs were compared only with each other, not with what clicomp.src and clidata.src offer (F13, F16, F17, F19-F21, F23). Add \\\\<server>\\SMS_{site}."
                ),
            );
        }
    }
    // A logon point whose base cannot be derived: Q236596 and its family
    // (F01, F03, F04, F08's logon point half) were not judged for its sites.
    for lp in view.locations(LocationKind::LogonPoint) {
        let sites = view.participants(lp);
        let Some(clicore) = view.file(&lp.name, crate::sms::layout::LOGON_CLICORE) else {
            continue;
        };
        if sites.is_empty() || view.logon_base(lp).is_some() {
            continue;
        }
        not_judged(
            &sites.join(" "),
            &lp.name,
            &clicore.path,
            "base not derived".into(),
            format!(
                "The base {} gives clients cannot be derived: {} carries no SMS version resource, is identical to no audited site's copy, and Copylog.tcf names no audited site as its source. Q236596 (F01, F03, F04) could not be judged for sites {}; Boot32wn.exe and SMSMan.exe versions are not used for it. Compare the file with the sites' clicomp.src\\base\\i386\\clicore.exe, or add the site named on its Copylog line.",
                lp.name,
                clicore.path,
                sites.join(", ")
            ),
        );
    }
    let readable = readable_locations(view);
    // Excluded entries, and links and special files, which are never
    // followed or opened: what the checks would read there is not known.
    let mut hidden_by_location: BTreeMap<(&str, bool), Vec<&str>> = BTreeMap::new();
    for record in view
        .estate
        .files
        .iter()
        .filter(|f| matches!(f.status, Status::Skipped | Status::Excluded))
    {
        let Some(location) = readable.get(record.location.as_str()) else {
            continue;
        };
        let lower = record.path.to_ascii_lowercase();
        let evidence = layout::evidence_folders(location.kind);
        // N04 reads whether each CAP box is there, not what it holds.
        let cap_box = location.kind == LocationKind::Cap
            && layout::CAP_READ_ONLY_BOXES
                .iter()
                .chain(layout::CAP_WRITABLE_BOXES)
                .any(|b| lower == *b);
        if cap_box
            || evidence
                .iter()
                .any(|e| lower == *e || lower.starts_with(&format!("{e}\\")))
        {
            hidden_by_location
                .entry((location.name.as_str(), record.status == Status::Excluded))
                .or_default()
                .push(&record.path);
        }
    }
    for ((name, excluded), hidden) in hidden_by_location {
        let location = readable[name];
        let shown: Vec<&str> = hidden.iter().take(3).copied().collect();
        let more = if hidden.len() > 3 {
            format!(" and {} more", hidden.len() - 3)
        } else {
            String::new()
        };
        let (observed, message) = if excluded {
            (
                format!("{} excluded: {}{more}", hidden.len(), shown.join(", ")),
                format!(
                    "--exclude (or the inventory) left out {}{more} on {}, which the checks read; those checks did not run there. Narrow the exclusion.",
                    shown.join(", "),
                    location.name
                ),
            )
        } else {
            (
                format!("{} links or special files: {}{more}", hidden.len(), shown.join(", ")),
                format!(
                    "{} holds links or special files where the checks read ({}{more}); the audit never follows or opens them, so those checks did not run there. Put the real files in their place.",
                    location.name,
                    shown.join(", ")
                ),
            )
        };
        not_judged(&location.sites.join(" "), &location.name, hidden[0], observed, message);
    }
}

/// A07: entries of a share whose names differ only in case. Windows opens
/// one of them; the checks of that path are not judged.
pub(crate) fn check_case_twins(view: &EstateView, out: &mut Vec<Finding>) {
    let readable = readable_locations(view);
    for twins in &view.estate.case_twins {
        let Some(location) = readable.get(twins.location.as_str()) else {
            continue;
        };
        let site = location.sites.join(" ");
        let spellings = twins.paths.join(" | ");
        let needed = needed_by(location.kind, &twins.lower, FileKind::Other);
        out.push(
            FindingDraft {
                observed: spellings.clone(),
                expected: "one entry per name, whatever its case".into(),
                message: format!(
                    "{} holds {} entries whose names differ only in case ({spellings}); clients get one of them and the audit cannot tell which, so this path was not judged: {needed}.",
                    location.name,
                    twins.paths.len()
                ),
                ..FindingDraft::new(CheckCode::A07, &site, &location.name, &twins.paths[0])
            }
            .into_finding(),
        );
    }
}

/// A08: shares that hold more matrix items than any SMS share does; the
/// items past the limit were not compared.
pub(crate) fn check_fan_out(view: &EstateView, out: &mut Vec<Finding>) {
    let readable = readable_locations(view);
    for fan_out in &view.estate.fan_outs {
        let Some(location) = readable.get(fan_out.location.as_str()) else {
            continue;
        };
        let site = location.sites.join(" ");
        let limit = crate::estate::MAX_ITEMS_PER_LOCATION;
        out.push(
            FindingDraft {
                observed: format!("{} items", fan_out.items),
                expected: format!("at most {limit} items"),
                message: format!(
                    "{} holds {} distinct items (components, CFG files, compver variants, site folders); only the first {limit} by name were compared, from {} on they are hashed and listed in files.csv but not judged.",
                    location.name, fan_out.items, fan_out.first_dropped
                ),
                ..FindingDraft::new(CheckCode::A08, &site, &location.name, "")
            }
            .into_finding(),
        );
    }
}

/// A01 for each location the history expects ([`crate::history::Past`]):
/// seen by an earlier run under this run's roots, not forgotten
/// (`smsaudit history FILE --forget LOCATION`), not excluded by name, and
/// not found by this run. Every night, until it is back or dropped on
/// purpose.
pub(crate) fn check_expected_locations(
    missing: &[&crate::history::SeenLocation],
    history: &str,
    out: &mut Vec<Finding>,
) {
    for seen in missing {
        let site = seen.sites.join(" ");
        let date = seen.last_seen.get(..10).unwrap_or(&seen.last_seen);
        out.push(
            FindingDraft {
                observed: format!("seen until {date}, not found now"),
                expected: format!("a readable {}", seen.kind.replace('_', " ")),
                message: format!(
                    "{} ({}) was seen until {date} (the run of {}) and was not found now: it was removed, renamed or hidden, and its clients lose it. If it was removed on purpose, drop it from what is expected: smsaudit history {history} --forget '{}' (or list it in the inventory's exclude).",
                    seen.name, seen.path, seen.last_seen, seen.name
                ),
                ..FindingDraft::new(CheckCode::A01, &site, &seen.name, &seen.path)
            }
            .into_finding(),
        );
    }
}
