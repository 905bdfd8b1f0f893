//! Sites at a glance: for each site, its release, its shares and their
//! releases, the logon points it shares and the sites that must be
//! upgraded with it.

use crate::estate::EstateView;
use crate::model::{Location, LocationKind, ShareComment, Status};
use crate::sms::release::Stamped;
use crate::sms::version::Version;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// A share as the site table shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SiteShare {
    pub name: String,
    /// The base version the share offers (compver.ini), or for a logon
    /// point the base it gives clients; empty when unknown.
    pub version: String,
    /// The release of `version` (`SP1`), or why there is none.
    pub release: String,
    /// `ok`, or `unreadable` when the share could not be read.
    pub status: Status,
    /// The share's comment, as its server lists it (read over SMB only).
    pub share_comment: ShareComment,
    /// What was read of a CAP's folder permissions, as the Sites view says
    /// it; absent when there was nothing to read (not a CAP read over SMB).
    /// The entries themselves are in the location's record.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub folder_acls: String,
}

/// One site and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct SiteSummary {
    pub site: String,
    /// The site's base version (site server, else its newest CAP).
    pub version: String,
    /// Its release; with the hotfix level where its CAPs differ.
    pub release: String,
    pub site_servers: Vec<SiteShare>,
    pub caps: Vec<SiteShare>,
    pub logon_points: Vec<SiteShare>,
    /// The sites that share logon points with it, itself included: they
    /// move to a new release together.
    pub upgrade_group: Vec<String>,
    /// The causes that involve the site.
    pub causes: Vec<String>,
    /// The site's configuration as its site control file gives it; absent
    /// when the audit has no site control file for the site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<SiteConfiguration>,
}

/// A site's configuration as read from its site control file
/// (`inboxes\sitectrl.box\sitectrl.ct0`), so an admin can check the reading.
#[derive(Debug, Clone, Serialize)]
pub struct SiteConfiguration {
    /// The file it was read from: `\\SERVER\SMS_MS1\inboxes\sitectrl.box\sitectrl.ct0`.
    pub source: String,
    /// `ok`, or `malformed`/`unreadable` with the reason: then nothing
    /// below was used.
    pub status: Status,
    pub reason: String,
    /// The site code as written (case kept).
    pub site_code: String,
    pub parent: String,
    /// `primary`, `secondary`, or empty when not read.
    pub site_type: String,
    /// The header's build.
    pub build: String,
    /// Domains with Windows Networking Logon Discovery on; `None` when
    /// the component is off or absent.
    pub logon_discovery: Option<Vec<String>>,
    /// Domains with Windows Networking Logon Client Installation on.
    pub logon_installation: Option<Vec<String>>,
    /// The Logon Server Manager's domains: shown, never used to decide
    /// which domains a site uses (it keeps removed ones, Q262942).
    pub logon_server_manager: Option<Vec<String>>,
    /// Client components (agents) with bit 0 of their flags set [I].
    pub client_components_enabled: Vec<String>,
    pub client_components_disabled: Vec<String>,
    pub travel_mode_switch: Option<u32>,
    /// `incoming\*.ct1` deltas waiting, and the oldest one's age in
    /// seconds at the start of the audit.
    pub pending_deltas: usize,
    pub oldest_delta_seconds: Option<u64>,
    /// The state of the Q236596 workaround.
    pub q236596_workaround: String,
}

impl SiteConfiguration {
    /// The configuration in lines, for the Sites table.
    pub(crate) fn lines(&self) -> String {
        if self.status != Status::Ok {
            return format!("{}: {} ({})", self.source, self.status.as_str(), self.reason);
        }
        let domains = |list: &Option<Vec<String>>| match list {
            None => "off".to_string(),
            Some(d) if d.is_empty() => "on, no domain".to_string(),
            Some(d) => format!("on for {}", d.join(", ")),
        };
        let mut lines = vec![
            format!("from {}", self.source),
            format!(
                "site code {}, {}, parent {}, build {}",
                self.site_code,
                if self.site_type.is_empty() {
                    "type not read"
                } else {
                    &self.site_type
                },
                if self.parent.is_empty() { "none" } else { &self.parent },
                if self.build.is_empty() { "not read" } else { &self.build }
            ),
            format!("logon discovery: {}", domains(&self.logon_discovery)),
            format!("logon installation: {}", domains(&self.logon_installation)),
            format!(
                "logon server manager (not used: it keeps removed domains, Q262942): {}",
                domains(&self.logon_server_manager)
            ),
            format!(
                "client components enabled: {}",
                self.client_components_enabled.join(", ")
            ),
        ];
        if let Some(value) = self.travel_mode_switch {
            lines.push(format!("Travel Mode Switch {value}"));
        }
        if self.pending_deltas > 0 {
            lines.push(format!("{} pending delta(s) in incoming", self.pending_deltas));
        }
        lines.push(format!("Q236596 workaround: {}", self.q236596_workaround));
        lines.join("\n")
    }
}

/// A site's configuration from its site control file, or the file's
/// reason when it could not be used.
fn configuration(view: &EstateView, site: &str) -> Option<SiteConfiguration> {
    use crate::extract::sitectrl::{LOGON_DISCOVERY, LOGON_INSTALLATION, LOGON_SERVER_MANAGER};
    if let Some(control) = view.site_control(site) {
        let file = &control.read.control;
        let deltas = view.pending_deltas(&control.location.name);
        let domains = |name: &str| {
            file.logon_component(name)
                .filter(|c| c.enabled())
                .map(|c| c.domains.clone())
        };
        let (enabled, disabled): (Vec<_>, Vec<_>) = file.client_components.iter().partition(|c| c.enabled());
        return Some(SiteConfiguration {
            source: control.source(),
            status: Status::Ok,
            reason: String::new(),
            site_code: file.site_code.clone(),
            parent: file.parent.clone(),
            site_type: match file.site_type {
                Some(1) => "secondary".into(),
                Some(2) => "primary".into(),
                Some(other) => format!("type {other}"),
                None => String::new(),
            },
            build: file.build.clone(),
            logon_discovery: domains(LOGON_DISCOVERY),
            logon_installation: domains(LOGON_INSTALLATION),
            logon_server_manager: domains(LOGON_SERVER_MANAGER),
            client_components_enabled: enabled.iter().map(|c| c.name.clone()).collect(),
            client_components_disabled: disabled.iter().map(|c| c.name.clone()).collect(),
            travel_mode_switch: file.travel_mode,
            pending_deltas: deltas.len(),
            oldest_delta_seconds: deltas.iter().filter_map(|(_, age)| *age).max(),
            q236596_workaround: crate::rules::workaround(view, site)
                .map(|w| w.text())
                .unwrap_or_default(),
        });
    }
    let (location, record) = view.site_control_damaged(site)?;
    Some(SiteConfiguration {
        source: format!("{}\\{}", location.name, record.path),
        status: record.status.reported(),
        reason: record.reason.to_string(),
        site_code: String::new(),
        parent: String::new(),
        site_type: String::new(),
        build: String::new(),
        logon_discovery: None,
        logon_installation: None,
        logon_server_manager: None,
        client_components_enabled: Vec::new(),
        client_components_disabled: Vec::new(),
        travel_mode_switch: None,
        pending_deltas: 0,
        oldest_delta_seconds: None,
        q236596_workaround: "not judged (site control file not usable)".into(),
    })
}

/// Every site the estate names (CAPs, site servers, logon point
/// participants), in code order.
pub(crate) fn summarise(view: &EstateView, causes: &[crate::causes::Cause]) -> Vec<SiteSummary> {
    let all = view.all_locations();
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for location in &all {
        match location.kind {
            LocationKind::LogonPoint if location.status == Status::Ok => {
                codes.extend(view.participants(location));
            }
            LocationKind::Cap | LocationKind::SiteServer => codes.extend(location.sites.iter().cloned()),
            _ => {}
        }
    }
    let groups = view.sharing_groups();
    let group_of: HashMap<&str, &Vec<String>> = groups
        .iter()
        .rev()
        .flat_map(|g| g.iter().map(move |site| (site.as_str(), g)))
        .collect();
    let mut causes_of: HashMap<&str, Vec<String>> = HashMap::new();
    for cause in causes {
        let mut sites: Vec<&str> = cause.sites.iter().map(String::as_str).collect();
        sites.sort_unstable();
        sites.dedup();
        for site in sites {
            causes_of.entry(site).or_default().push(cause.id.clone());
        }
    }
    codes
        .into_iter()
        .map(|site| {
            let base = view.site_base(&site);
            let share = |location: &Location, version: Option<Version>| SiteShare {
                name: location.name.clone(),
                version: version.as_ref().map(|v| v.text.clone()).unwrap_or_default(),
                release: release_text(location, version.as_ref(), BASE_COMPVER),
                status: location.status.reported(),
                share_comment: location.share_comment.clone(),
                folder_acls: location.folder_acls.shown(),
            };
            let of_kind = |kind: LocationKind| -> Vec<SiteShare> {
                view.site_shares(&site, kind)
                    .iter()
                    .map(|l| share(l, view.offer(&l.name, "base")))
                    .collect()
            };
            let caps = of_kind(LocationKind::Cap);
            let logon_points: Vec<SiteShare> = view
                .site_logon_points(&site)
                .iter()
                .map(|l| {
                    let base = view.logon_base(l);
                    SiteShare {
                        name: l.name.clone(),
                        version: base.as_ref().map(|b| b.version.text.clone()).unwrap_or_default(),
                        release: release_text(
                            l,
                            base.as_ref().map(|b| &b.version),
                            base.as_ref().map_or(Stamped::Clicore, |b| b.stamped),
                        ),
                        status: l.status.reported(),
                        share_comment: l.share_comment.clone(),
                        folder_acls: l.folder_acls.shown(),
                    }
                })
                .collect();
            let hotfix_levels: Vec<&str> = caps
                .iter()
                .map(|c| c.version.as_str())
                .filter(|v| !v.is_empty())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let release = match &base {
                Some(version) if hotfix_levels.len() > 1 => {
                    format!(
                        "{} ({}; CAPs at {})",
                        version.label_as(BASE_COMPVER),
                        version.text,
                        hotfix_levels.join(", ")
                    )
                }
                Some(version) => version.label_as(BASE_COMPVER),
                None => "unknown (no readable base compver.ini)".to_string(),
            };
            SiteSummary {
                version: base.as_ref().map(|v| v.text.clone()).unwrap_or_default(),
                release,
                site_servers: of_kind(LocationKind::SiteServer),
                caps,
                logon_points,
                upgrade_group: group_of
                    .get(site.as_str())
                    .map(|g| g.to_vec())
                    .unwrap_or_else(|| vec![site.clone()]),
                causes: causes_of.remove(site.as_str()).unwrap_or_default(),
                configuration: configuration(view, &site),
                site,
            }
        })
        .collect()
}

/// A site's base and its CAPs' and site servers' offers are base compvers.
const BASE_COMPVER: Stamped<'static> = Stamped::Compver("base");

/// A share's release, measured against the stock version of what it
/// stamps (the release table, `sms::release`).
fn release_text(location: &Location, version: Option<&Version>, stamped: Stamped) -> String {
    match (location.status, version) {
        (Status::Ok, Some(version)) => version.label_as(stamped),
        (Status::Ok, None) => "unknown".to_string(),
        (status, _) => status.as_str().to_string(),
    }
}
