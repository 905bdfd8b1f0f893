//! Checks that read each site's site control file (reference 10): F28, F29,
//! F31, N01 (the Q236596 workaround that did not take), N05, N09, N11,
//! N12, N14, and the A06 note for a file that could not be used. A damaged
//! file never gives a finding about the site's configuration.

use super::FindingDraft;
use crate::config::Inventory;
use crate::estate::{EstateView, SiteControlOf};
use crate::extract::sitectrl::{LOGON_DISCOVERY, LOGON_INSTALLATION};
use crate::model::{CheckCode, FileKind, Finding, LocationKind, Severity, Status};
use crate::sms::layout;
use crate::sms::release::{Release, SP2_BUILD};
use std::collections::BTreeSet;

/// Deltas older than this at the start of the audit are not being
/// processed [I]: Site Control Manager takes them within minutes.
const DELTA_AGE_LIMIT_SECS: u64 = 3600;

/// Every site with a readable site control file, in code order.
fn sites_with_control<'a>(view: &EstateView<'a>) -> Vec<(String, SiteControlOf<'a>)> {
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for location in view.locations(LocationKind::SiteServer) {
        codes.extend(location.sites.iter().cloned());
    }
    for read in &view.estate.site_controls {
        if layout::is_site_code(&read.control.site_code) {
            codes.insert(read.control.site_code.to_ascii_uppercase());
        }
    }
    codes
        .into_iter()
        .filter_map(|site| view.site_control(&site).map(|c| (site, c)))
        .collect()
}

/// A site's release: its base compver, else the site control file's
/// header build (which does not carry the service pack above SP1 [?]).
pub(crate) fn site_release(view: &EstateView, site: &str, control: Option<&SiteControlOf>) -> Option<Release> {
    if let Some(release) = view.site_base(site).and_then(|v| v.release()) {
        return Some(release);
    }
    let build: u32 = control?.read.control.build.trim().parse().ok()?;
    match build {
        1239 => Some(Release { build, sp: 0 }),
        1380 => Some(Release { build, sp: 1 }),
        _ => None,
    }
}

/// The state of the Q236596 workaround ("disable Windows Networking Logon
/// Discovery and Installation for the sites not yet upgraded") for a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Workaround {
    /// Logon discovery or installation is still on for these domains.
    NotConfigured(Vec<String>),
    /// Both off, and no audited logon point names the site any more.
    InEffect,
    /// Both off, but these logon points still hold its LCF or Sites folder.
    NotInEffect(Vec<String>),
}

impl Workaround {
    pub(crate) fn text(&self) -> String {
        match self {
            Workaround::NotConfigured(domains) => format!(
                "not configured (logon discovery or installation enabled for {})",
                domains.join(", ")
            ),
            Workaround::InEffect => {
                "configured and in effect (both logon methods off; no audited logon point names the site)".into()
            }
            Workaround::NotInEffect(lps) => format!(
                "configured but not in effect (both logon methods off, yet {} still name the site)",
                lps.join(", ")
            ),
        }
    }
}

/// The workaround state of `site` from its site control file: configured
/// when discovery and installation are enabled for no domain (the file does
/// not say which domain a logon point is in, so any enabled domain counts
/// [I]); in effect when no audited logon point names the site.
pub(crate) fn workaround(view: &EstateView, site: &str) -> Option<Workaround> {
    let control = view.site_control(site)?;
    let domains = control.read.control.logon_domains();
    if !domains.is_empty() {
        return Some(Workaround::NotConfigured(domains));
    }
    let naming: Vec<String> = view
        .logon_points_naming(site)
        .into_iter()
        .map(|l| l.name.clone())
        .collect();
    Some(match naming.is_empty() {
        true => Workaround::InEffect,
        false => Workaround::NotInEffect(naming),
    })
}

/// Whether the site control file shows a discovery-only site: logon
/// discovery enabled for a domain, installation for none (Q235535).
pub(crate) fn discovery_only(view: &EstateView, site: &str) -> bool {
    let Some(control) = view.site_control(site) else {
        return false;
    };
    let control = &control.read.control;
    let discovery = control.logon_component(LOGON_DISCOVERY).filter(|c| c.enabled());
    let installs = control
        .logon_component(LOGON_INSTALLATION)
        .is_some_and(|c| c.enabled() && !c.domains.is_empty());
    discovery.is_some_and(|d| !d.domains.is_empty()) && !installs
}

/// A06 for a site control file that exists but could not be used; A05
/// already names an unreadable one.
pub(crate) fn check_damaged_site_controls(view: &EstateView, out: &mut Vec<Finding>) {
    for location in view.locations(LocationKind::SiteServer) {
        let Some(record) = view.entry(&location.name, layout::SITE_CONTROL_FILE) else {
            continue;
        };
        if record.status != Status::Malformed {
            continue;
        }
        let site = location.sites.join(" ");
        out.push(
            FindingDraft {
                observed: format!("site control file not usable: {}", record.reason),
                expected: "a readable site control file".into(),
                message: format!(
                    "The site control file {}\\{} could not be read ({}); the checks of the site's configuration (F28, F29, F31, N01, N05, N09, N11, N14, the Q236596 workaround state) were not judged.",
                    location.name, record.path, record.reason
                ),
                ..FindingDraft::new(CheckCode::A06, &site, &location.name, &record.path)
            }
            .into_finding(),
        );
    }
}

/// N09, N11, N12, F28, F31, N01, N05: what one site's file says.
pub(crate) fn check_site_controls(view: &EstateView, out: &mut Vec<Finding>) {
    for (site, control) in sites_with_control(view) {
        let read = control.read;
        let file = &read.control;
        let location = control.location.name.as_str();
        let source = control.source();
        let release = site_release(view, &site, Some(&control));
        // N09: the site code as written.
        if file.site_code.bytes().any(|b| b.is_ascii_lowercase()) {
            out.push(
                FindingDraft {
                    observed: format!("site code {} in the site control file", file.site_code),
                    expected: format!("{} (upper case)", file.site_code.to_ascii_uppercase()),
                    message: format!(
                        "The site control file {source} gives the site code in lower case ({}); Component Status Summarizer floods its retry queue (status 4613, Q271885).",
                        file.site_code
                    ),
                    ..FindingDraft::new(CheckCode::N09, &site, location, &read.path)
                }
                .into_finding(),
            );
        }
        // N11: Travel Mode Switch against the release.
        if let Some(value @ (1 | 9)) = file.travel_mode {
            let (fixed_sp, kb) = if value == 9 { (3, "Q263665") } else { (4, "Q299772") };
            let below = release.map(|r| r.build < SP2_BUILD || r.sp < fixed_sp);
            if below == Some(true) {
                let what = if value == 9 {
                    "new clients are not assigned to the site"
                } else {
                    "CCM discards Windows NT remote-install requests of non-administrators"
                };
                out.push(
                    FindingDraft {
                        observed: format!("Travel Mode Switch {value}"),
                        expected: format!("Travel Mode Switch 0, or SP{fixed_sp}"),
                        message: format!(
                            "The site control file {source} sets Travel Mode Switch {value} on a site below SP{fixed_sp}: {what} ({kb})."
                        ),
                        ..FindingDraft::new(CheckCode::N11, &site, location, &read.path)
                    }
                    .into_finding(),
                );
            }
        }
        // N12: deltas waiting.
        let old: Vec<(String, u64)> = view
            .pending_deltas(location)
            .into_iter()
            .filter_map(|(record, age)| {
                age.filter(|a| *a > DELTA_AGE_LIMIT_SECS)
                    .map(|a| (record.path.to_string(), a))
            })
            .collect();
        if let Some(oldest) = old.iter().map(|(_, a)| *a).max() {
            out.push(
                FindingDraft {
                    observed: format!("{} .ct1 delta(s) older than an hour, oldest {}", old.len(), age_text(oldest)),
                    expected: "no delta waits longer than a few minutes".into(),
                    message: format!(
                        "{location}\\{}\\ holds {} site control delta(s) older than an hour ({}): Site Control Manager is not processing configuration changes (Q249590, Q297870); none of them, the Q236596 workaround included, has taken effect.",
                        layout::SITE_CONTROL_INCOMING,
                        old.len(),
                        old.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    ..FindingDraft::new(CheckCode::N12, &site, location, layout::SITE_CONTROL_INCOMING)
                }
                .into_finding(),
            );
        }
        // F28: a domain named like a sharing site, below SP2.
        if release.is_some_and(|r| r.build < SP2_BUILD) {
            let mut codes: BTreeSet<String> = BTreeSet::from([site.clone()]);
            for lp in view.locations(LocationKind::LogonPoint) {
                let participants = view.participants(lp);
                if participants.contains(&site) {
                    codes.extend(participants);
                }
            }
            for domain in file.logon_domains() {
                if let Some(code) = codes.iter().find(|c| c.eq_ignore_ascii_case(domain.trim())) {
                    out.push(
                        FindingDraft {
                            observed: format!("logon domain {domain} = site code {code}"),
                            expected: "no logon domain named like a site sharing its logon points".into(),
                            message: format!(
                                "Site {site} (below SP2) has logon discovery or installation enabled for domain {domain}, which is also the code of site {code} (site control file {source}): LSM and Logon Discovery overwrite each other's Mastercfg entries and accounts lock out (Q256963)."
                            ),
                            ..FindingDraft::new(CheckCode::F28, &site, location, &read.path)
                        }
                        .into_finding(),
                    );
                }
            }
        }
        // F31: discovery without installation, per domain.
        let discovery = file.logon_component(LOGON_DISCOVERY).filter(|c| c.enabled());
        if let Some(discovery) = discovery {
            let only: Vec<&str> = discovery
                .domains
                .iter()
                .filter(|d| !file.logon_component(LOGON_INSTALLATION).is_some_and(|c| c.serves(d)))
                .map(String::as_str)
                .collect();
            if !only.is_empty() {
                out.push(
                    FindingDraft {
                        observed: format!("logon discovery only for {}", only.join(", ")),
                        expected: "logon discovery and client installation for the same domains".into(),
                        message: format!(
                            "Site {site} has Windows Networking Logon Discovery enabled but not Logon Client Installation for {} (site control file {source}): Sites\\{site} on those domains' logon points lacks the install files by design and Smsman cannot install clients from them (Q235535).",
                            only.join(", ")
                        ),
                        ..FindingDraft::new(CheckCode::F31, &site, location, &read.path)
                    }
                    .into_finding(),
                );
            }
        }
        // N01: workaround configured, not in effect, on SP1 or RTM.
        if let (Some(Workaround::NotInEffect(lps)), Some(release)) = (workaround(view, &site), release) {
            if release.build < SP2_BUILD && release.sp <= 1 {
                let level = match release.sp {
                    0 => "RTM (Q238302 applies with hotfix 42820, which the shares do not show)",
                    _ => "SP1",
                };
                out.push(
                    FindingDraft {
                        observed: format!("both logon methods off; {} still name the site", lps.join(", ")),
                        expected: format!("no {site}_cfg.lcf or Sites\\{site} on any logon point"),
                        message: format!(
                            "Site {site} at {level} has logon discovery and installation off (the Q236596 workaround, site control file {source}), but {} still hold its {site}_cfg.lcf or Sites\\{site}: LSM did not remove the logon points (Q238302); remove them by hand (Q259816).",
                            lps.join(", ")
                        ),
                        ..FindingDraft::new(CheckCode::N01, &site, location, &read.path)
                    }
                    .into_finding(),
                );
            }
        }
        // N05: an empty offer in a secondary site's Offer Manager inbox.
        if file.is_secondary() {
            let prefix = format!("{}\\", layout::OFFER_MANAGER_BOX);
            for (path, record) in view.files(location) {
                let Some(name) = path.strip_prefix(&prefix) else {
                    continue;
                };
                if name.contains('\\') || !name.ends_with(".ofr") || record.kind == FileKind::Directory {
                    continue;
                }
                if record.size == Some(0) {
                    out.push(
                        FindingDraft {
                            observed: "zero-length .ofr".into(),
                            expected: "an intact advertisement".into(),
                            message: format!(
                                "Secondary site {site} (SiteType 1 in {source}) has the zero-length offer {location}\\{}: one corrupt .ofr stops Offer Manager loading every later advertisement, silently (Q246614).",
                                record.path
                            ),
                            ..FindingDraft::new(CheckCode::N05, &site, location, &record.path)
                        }
                        .into_finding(),
                    );
                }
            }
        }
    }
}

/// F29 and N14: the enabled domains against the inventory's and the
/// audited logon points. Without the domain in the inventory, F29 cannot be
/// decided: an A06 note names the domain.
pub(crate) fn check_logon_domains(view: &EstateView, inventory: Option<&Inventory>, out: &mut Vec<Finding>) {
    for (site, control) in sites_with_control(view) {
        let domains = control.read.control.logon_domains();
        if domains.is_empty() || !view.logon_points_naming(&site).is_empty() {
            continue;
        }
        let location = control.location.name.as_str();
        let path = control.read.path.as_str();
        let source = control.source();
        for domain in domains {
            let known = inventory.and_then(|i| i.domains.iter().find(|d| d.name.eq_ignore_ascii_case(&domain)));
            match (inventory, known) {
                (Some(inventory), Some(known)) => {
                    let listed = inventory.domain_logon_points(known);
                    let audited: Vec<&str> = view
                        .locations(LocationKind::LogonPoint)
                        .into_iter()
                        .filter(|l| listed.iter().any(|n| n.eq_ignore_ascii_case(&l.name)))
                        .map(|l| l.name.as_str())
                        .collect();
                    if audited.is_empty() {
                        out.push(
                            FindingDraft {
                                observed: format!("domain {domain}: no SMSLOGON among its logon points in the audit"),
                                expected: format!("SMSLOGON on {domain}'s PDC with {site}_cfg.lcf"),
                                message: format!(
                                    "Site {site} has logon discovery or installation enabled for domain {domain} ({source}), but none of the domain's logon points the inventory lists is an audited SMSLOGON share and no audited logon point carries {site}_cfg.lcf: LSM creates no logon point when the PDC has no SMSLOGON, and still reports success (Q225542)."
                                ),
                                ..FindingDraft::new(CheckCode::F29, &site, location, path)
                            }
                            .into_finding(),
                        );
                    }
                }
                (Some(_), None) => out.push(
                    FindingDraft {
                        observed: format!("domain {domain} is not among the inventory's domains"),
                        expected: "a domain with logon points".into(),
                        message: format!(
                            "Site {site} has logon discovery or installation enabled for domain {domain} ({source}), which matches no domain of the inventory and no audited logon point carries {site}_cfg.lcf: an invalid domain name makes LSM log 'could not find domain controller' (status 4610, Q255980)."
                        ),
                        ..FindingDraft::new(CheckCode::N14, &site, location, path)
                    }
                    .into_finding(),
                ),
                (None, _) => out.push(
                    FindingDraft {
                        observed: format!("domain {domain}: its logon points are not known"),
                        expected: "everything the checks need is in the audit".into(),
                        message: format!(
                            "Site {site} has logon discovery or installation enabled for domain {domain} ({source}), but no audited logon point carries {site}_cfg.lcf. Whether the domain's PDC lacks SMSLOGON (F29, Q225542) or the name is invalid (N14, Q255980) needs the domain's controllers: add them as roots, or give an inventory with the domain."
                        ),
                        severity: Some(Severity::Warning),
                        ..FindingDraft::new(CheckCode::A06, &site, location, path)
                    }
                    .into_finding(),
                ),
            }
        }
    }
}

/// F05 and F09 are silent about a missing Cli_inst.cfg of a site the site
/// control file shows as discovery-only (F31 says why): reference 10.5.
pub(crate) fn drop_by_design(view: &EstateView, findings: &mut Vec<Finding>) {
    findings.retain(|f| {
        let folder = format!("sites\\{}", f.site.to_ascii_lowercase());
        // F19 says it for a site that is not the CLICORE.EXE line's.
        let missing_install_file = match f.code {
            CheckCode::F05 | CheckCode::F09 => true,
            CheckCode::F19 => f.path.eq_ignore_ascii_case(&format!("{folder}\\cli_inst.cfg")),
            _ => false,
        };
        if !missing_install_file || !discovery_only(view, &f.site) {
            return true;
        }
        // Only the install file is missing: the folder holds NETCONF.NCF
        // (or other files) but no Cli_inst.cfg.
        let netconf_there = !view.absent(&f.location, &format!("{folder}\\netconf.ncf"));
        !(view.folder_has_files(&f.location, &folder) && netconf_there)
    });
}

fn age_text(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{} days", s / 86_400),
        s => format!("{} hours", s / 3600),
    }
}

/// The F01 and F02 findings of a site with a site control file say which
/// state the Q236596 workaround is in (reference 10.4).
pub(crate) fn add_workaround_state(view: &EstateView, findings: &mut [Finding]) {
    for finding in findings
        .iter_mut()
        .filter(|f| matches!(f.code, CheckCode::F01 | CheckCode::F02))
    {
        if let Some(state) = workaround(view, &finding.site) {
            finding
                .message
                .push_str(&format!(" Q236596 workaround: {}.", state.text()));
        }
    }
}
