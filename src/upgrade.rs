//! The pre-upgrade check: which sites must move together because they share
//! logon points (Q236596, Q264630, Q262677), predicted from the estate as a
//! pure function of the audited files and a simulated target release.

use crate::config::UpgradeRequest;
use crate::estate::EstateView;
use crate::model::LocationKind;
use crate::sms::release::{Release, Stamped};
use crate::sms::version::Version;
use serde::Serialize;
use std::collections::BTreeSet;

/// A site that shares logon points with an upgraded site but is not in the
/// request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LeftBehind {
    pub site: String,
    /// The site's base today (site server clicomp.src, else its CAPs).
    pub current: String,
    /// Its CAPs, whose base would then be older than the logon points'.
    pub caps: Vec<String>,
    /// Whether its release would be older than the target (the mismatch).
    pub behind: bool,
    /// KB articles that describe what its clients would hit.
    pub kbs: Vec<String>,
}

/// Sites tied together by shared logon points.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UpgradeGroup {
    /// Every site of the group: they must move together.
    pub sites: Vec<String>,
    pub upgrading: Vec<String>,
    pub logon_points: Vec<String>,
    pub left_behind: Vec<LeftBehind>,
    /// What to do, in one paragraph.
    pub advice: String,
}

/// The prediction for one request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UpgradePlan {
    pub target: String,
    pub target_release: String,
    pub requested: Vec<String>,
    pub groups: Vec<UpgradeGroup>,
    /// True when no site would be left behind at an older release.
    pub safe: bool,
}

impl UpgradePlan {
    /// The columns of upgrade.csv and of the Upgrade sheet, in order.
    pub(crate) const COLUMNS: [&'static str; 9] = [
        "group",
        "site",
        "role",
        "current",
        "behind",
        "caps",
        "logon_points",
        "kbs",
        "advice",
    ];

    /// One row per site of every group, in [`UpgradePlan::COLUMNS`]
    /// order: the sites upgrading, then those left behind; lists are
    /// space-separated.
    pub(crate) fn rows(&self) -> Vec<[String; 9]> {
        let mut rows = Vec::new();
        for group in &self.groups {
            let name = group.sites.join(" ");
            let lps = group.logon_points.join(" ");
            for site in &group.upgrading {
                rows.push([
                    name.clone(),
                    site.clone(),
                    "upgrading".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    lps.clone(),
                    String::new(),
                    group.advice.clone(),
                ]);
            }
            for left in &group.left_behind {
                rows.push([
                    name.clone(),
                    left.site.clone(),
                    "left behind".into(),
                    left.current.clone(),
                    if left.behind { "yes" } else { "no" }.into(),
                    left.caps.join(" "),
                    lps.clone(),
                    left.kbs.join(" "),
                    group.advice.clone(),
                ]);
            }
        }
        rows
    }
}

/// Refuses `--upgrade` sites that neither a share found nor the inventory
/// names: a typo must not be judged "safe".
pub(crate) fn refuse_unknown_sites(request: &UpgradeRequest, known: &BTreeSet<String>) -> anyhow::Result<()> {
    let unknown: Vec<&str> = request
        .sites
        .iter()
        .filter(|s| !known.contains(*s))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let found: Vec<&str> = known.iter().map(String::as_str).collect();
    anyhow::bail!(
        "--upgrade: site {} is not in the audited estate (sites found: {}); check the code, or add its shares to the roots or the inventory",
        unknown.join(", "),
        if found.is_empty() { "none".to_string() } else { found.join(", ") }
    )
}

/// Refuses a target release older than a requested site's current one:
/// that is a downgrade, which SMS setup never does (Q213410), not an
/// upgrade to judge.
pub(crate) fn refuse_downgrade(request: &UpgradeRequest, view: &EstateView) -> anyhow::Result<()> {
    for site in &request.sites {
        let Some(current) = view.site_base(site) else { continue };
        match current.release() {
            Some(release) if release > request.release => anyhow::bail!(
                "--upgrade {site} --to {}: site {site} is already at {} ({}); a lower release is a downgrade, not an upgrade",
                request.target,
                current,
                current.label_as(Stamped::Compver("base"))
            ),
            _ => {}
        }
    }
    Ok(())
}

/// The KB articles a left-behind site at `current` meets when its logon
/// points move to `target`.
fn kbs_for(current: Option<Release>, target: Release) -> Vec<String> {
    let mut kbs = vec!["Q236596".to_string()];
    if target.is_sp2_or_later() {
        kbs.push("Q264630".into());
        if current.is_some_and(Release::is_sp2_or_later) {
            kbs.push("Q262677".into());
        }
    }
    kbs
}

/// Predicts, from the estate, which sites share logon points with the
/// requested ones and which would be left behind.
pub(crate) fn plan(view: &EstateView, request: &UpgradeRequest) -> UpgradePlan {
    let sharing = view.sharing_groups();
    let mut groups: Vec<Vec<String>> = Vec::new();
    for site in &request.sites {
        let group = sharing
            .iter()
            .find(|g| g.contains(site))
            .cloned()
            .unwrap_or_else(|| vec![site.clone()]);
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups.sort();
    let lps = view.locations(LocationKind::LogonPoint);
    let out: Vec<UpgradeGroup> = groups
        .into_iter()
        .map(|sites| {
            let upgrading: Vec<String> = sites.iter().filter(|s| request.sites.contains(s)).cloned().collect();
            let logon_points: Vec<String> = lps
                .iter()
                .filter(|lp| view.participants(lp).iter().any(|s| sites.contains(s)))
                .map(|lp| lp.name.clone())
                .collect();
            let left_behind: Vec<LeftBehind> = sites
                .iter()
                .filter(|s| !request.sites.contains(s))
                .map(|site| {
                    let base = view.site_base(site);
                    let current_release = base.as_ref().and_then(Version::release);
                    LeftBehind {
                        site: site.clone(),
                        current: base
                            .as_ref()
                            .map(|v| format!("{} ({})", v.text, v.label_as(Stamped::Compver("base"))))
                            .unwrap_or_else(|| "unknown (no site server or CAP audited)".into()),
                        caps: view
                            .site_locations(site, LocationKind::Cap)
                            .iter()
                            .map(|c| c.name.clone())
                            .collect(),
                        // Unknown counts as behind: better a warning too many.
                        behind: !matches!(current_release, Some(c) if c >= request.release),
                        kbs: kbs_for(current_release, request.release),
                    }
                })
                .collect();
            let behind: Vec<&str> = left_behind.iter().filter(|l| l.behind).map(|l| l.site.as_str()).collect();
            let advice = if left_behind.is_empty() {
                match upgrading.as_slice() {
                    [one] => format!("Safe: {one} is the only site that uses these logon points."),
                    all => format!(
                        "Safe: {} are every site that shares these logon points; upgrade them together (within hours of each other).",
                        all.join(", ")
                    ),
                }
            } else if behind.is_empty() {
                let others: Vec<&str> = left_behind.iter().map(|l| l.site.as_str()).collect();
                format!(
                    "Safe: the other sites sharing logon points with {} ({}) are already at {} or later.",
                    upgrading.join(", "),
                    others.join(", "),
                    request.target
                )
            } else {
                format!(
                    "Upgrade {} together (within hours of each other), or first disable Windows Networking Logon Discovery and Logon Client Installation for {} so that {} stop sharing logon points {} with them; pause logon scripts (GOTO END in Smsls.bat) during the window. Before an SP2-or-later upgrade, apply Q251070/Q249077 and Q252718/Q252717 to every site of the group.",
                    sites.join(", "),
                    behind.join(", "),
                    upgrading.join(", "),
                    if logon_points.is_empty() { "(none audited)".to_string() } else { logon_points.join(", ") }
                )
            };
            UpgradeGroup {
                sites,
                upgrading,
                logon_points,
                left_behind,
                advice,
            }
        })
        .collect();
    UpgradePlan {
        target: request.target.clone(),
        target_release: request.release.to_string(),
        requested: request.sites.clone(),
        safe: out.iter().all(|g| g.left_behind.iter().all(|l| !l.behind)),
        groups: out,
    }
}

/// The printed summary of a plan.
pub(crate) fn summary(plan: &UpgradePlan) -> String {
    let to = if plan
        .target_release
        .to_ascii_uppercase()
        .starts_with(&plan.target.to_ascii_uppercase())
    {
        plan.target_release.clone()
    } else {
        format!("{} ({})", plan.target, plan.target_release)
    };
    let mut out = format!(
        "pre-upgrade check: {} to {}: {}\n",
        plan.requested.join(", "),
        to,
        if plan.safe {
            "safe"
        } else {
            "sites would be left behind"
        }
    );
    for group in &plan.groups {
        out.push_str(&format!(
            "  must move together: {{{}}} (logon points: {})\n",
            group.sites.join(", "),
            if group.logon_points.is_empty() {
                "none".to_string()
            } else {
                group.logon_points.join(", ")
            }
        ));
        for left in &group.left_behind {
            out.push_str(&format!(
                "    left behind: {} at {}{}; CAPs {}; {}\n",
                left.site,
                left.current,
                if left.behind { "" } else { " (already there)" },
                if left.caps.is_empty() {
                    "none audited".to_string()
                } else {
                    left.caps.join(", ")
                },
                left.kbs.join(", ")
            ));
        }
        out.push_str(&format!("    advice: {}\n", group.advice));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Estate;
    use crate::model::{Artifact, Location, Stamp, Status};

    fn location(name: &str, kind: LocationKind, sites: &[&str]) -> Location {
        Location {
            name: name.into(),
            server: String::new(),
            share: String::new(),
            kind,
            root: String::new(),
            sites: sites.iter().map(|s| s.to_string()).collect(),
            status: Status::Ok,
            reason: String::new(),
            files: 0,
            bytes: 0,
        }
    }

    fn cap(estate: &mut Estate, site: &str, base: &str) {
        let name = format!("\\\\S{site}\\CAP_{site}");
        estate.locations.push(location(&name, LocationKind::Cap, &[site]));
        estate.stamps.push(Stamp {
            location: name,
            site: Some(site.into()),
            component: "base".into(),
            artifact: Artifact::Compver,
            detail: String::new(),
            value: base.into(),
            path: "clicomp.box\\base\\compver.ini".into(),
            string_version: None,
            sha256: None,
        });
    }

    /// A+B share DC1, B+C share DC2, D alone on DC3, E has no logon point.
    fn estate() -> Estate {
        let mut e = Estate::default();
        e.locations
            .push(location("\\\\DC1\\SMSLOGON", LocationKind::LogonPoint, &["AAA", "BBB"]));
        e.locations
            .push(location("\\\\DC2\\SMSLOGON", LocationKind::LogonPoint, &["BBB", "CCC"]));
        e.locations
            .push(location("\\\\DC3\\SMSLOGON", LocationKind::LogonPoint, &["DDD"]));
        cap(&mut e, "AAA", "2.00.1380.1000");
        cap(&mut e, "BBB", "2.00.1380.1000");
        cap(&mut e, "CCC", "2.00.1493.2009");
        cap(&mut e, "DDD", "2.00.1380.1000");
        cap(&mut e, "EEE", "2.00.1380.1000");
        e
    }

    fn request(sites: &str, to: &str) -> UpgradeRequest {
        UpgradeRequest::parse(sites, to).unwrap()
    }

    #[test]
    fn transitive_group_must_move_together() {
        let p = plan(&EstateView::new(&estate()), &request("aaa", "SP2"));
        assert_eq!(p.groups.len(), 1);
        assert_eq!(p.groups[0].sites, vec!["AAA", "BBB", "CCC"]);
        assert_eq!(p.groups[0].logon_points, vec!["\\\\DC1\\SMSLOGON", "\\\\DC2\\SMSLOGON"]);
        let left: Vec<(&str, bool)> = p.groups[0]
            .left_behind
            .iter()
            .map(|l| (l.site.as_str(), l.behind))
            .collect();
        // CCC is already at SP2: not behind.
        assert_eq!(left, vec![("BBB", true), ("CCC", false)]);
        assert!(!p.safe);
        assert!(p.groups[0].left_behind[0].kbs.contains(&"Q264630".to_string()));
        assert!(p.groups[0].advice.contains("Upgrade AAA, BBB, CCC together"));
    }

    #[test]
    fn lone_and_unshared_sites_are_safe() {
        for site in ["DDD", "EEE"] {
            let p = plan(&EstateView::new(&estate()), &request(site, "SP3"));
            assert!(p.safe, "{site}");
            assert_eq!(p.groups[0].sites, vec![site]);
            assert!(p.groups[0].left_behind.is_empty());
        }
    }

    #[test]
    fn whole_group_requested_is_safe_and_q262677_named_for_sp2_sites() {
        assert!(plan(&EstateView::new(&estate()), &request("AAA,BBB,CCC", "SP3")).safe);
        let p = plan(&EstateView::new(&estate()), &request("AAA,BBB", "SP3"));
        let ccc = &p.groups[0].left_behind[0];
        assert_eq!(ccc.site, "CCC");
        assert!(ccc.behind);
        assert!(ccc.kbs.contains(&"Q262677".to_string()));
        let p = plan(&EstateView::new(&estate()), &request("AAA,DDD", "2.00.1493.4009"));
        assert_eq!(p.groups.len(), 2);
        assert_eq!(p.target_release, Release { build: 1493, sp: 4 }.to_string());
    }

    #[test]
    fn parses_requests() {
        assert!(UpgradeRequest::parse("", "SP2").is_err());
        assert!(UpgradeRequest::parse("TOOLONG", "SP2").is_err());
        assert!(UpgradeRequest::parse("MS1", "SP9").is_err());
        assert!(UpgradeRequest::parse("MS1", "banana").is_err());
        assert_eq!(request("ms2, ms1,MS1", "rtm").sites, vec!["MS1", "MS2"]);
    }
}
