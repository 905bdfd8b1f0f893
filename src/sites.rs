//! Sites at a glance: for each site, its release, its shares and their
//! releases, the logon points it shares and the sites that must be
//! upgraded with it.

use crate::estate::EstateView;
use crate::model::{Location, LocationKind, Status};
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
