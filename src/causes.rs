//! Causes: the findings grouped by the one thing to fix. A site left behind
//! the logon points it shares (Q236596) shows as F01 on each logon point
//! and F02 on each CFG of its CAPs; the admin has one thing to do, so the
//! reports lead with one cause. Every finding belongs to exactly one cause.

use crate::estate::EstateView;
use crate::model::{CheckCode, Finding, LocationKind, Severity};
use crate::sms::version::Version;
use crate::upgrade::UpgradePlan;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One thing to fix, with the findings it explains.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    /// `C1`, `C2`... in report order (worst first).
    pub id: String,
    /// What the cause is about, the same from run to run while it lasts
    /// (`behind-logon-points:MS1`, `F12:site:MS1`, `A05:location:\\S\CAP_MS1`).
    pub key: String,
    /// The worst severity of its findings.
    pub severity: Severity,
    pub title: String,
    pub sites: Vec<String>,
    pub locations: Vec<String>,
    pub kb: Vec<String>,
    pub codes: Vec<CheckCode>,
    /// What to do, in order.
    pub fix: Vec<String>,
    /// Positions of its findings in the audit's findings, in report order.
    pub findings: Vec<usize>,
}

impl Cause {
    /// The columns of causes.csv and of the Causes sheet, in order.
    pub(crate) const COLUMNS: [&'static str; 9] = [
        "cause",
        "severity",
        "title",
        "sites",
        "locations",
        "kb",
        "codes",
        "findings",
        "fix",
    ];

    /// The cause's values in [`Cause::COLUMNS`] order; the fix steps are
    /// numbered on one line each.
    pub(crate) fn cells(&self) -> [String; 9] {
        [
            self.id.clone(),
            self.severity.as_str().to_string(),
            self.title.clone(),
            self.sites.join(" "),
            self.locations.join(" "),
            self.kb.join(", "),
            self.codes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" "),
            self.findings.len().to_string(),
            self.numbered_fix(),
        ]
    }

    /// The fix steps as `1. ...` lines.
    pub(crate) fn numbered_fix(&self) -> String {
        self.fix
            .iter()
            .enumerate()
            .map(|(i, step)| format!("{}. {step}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What a cause is about; its order is the report order among causes of
/// one severity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    /// A site older than the base of logon points it shares (F01, F03, F08,
    /// and the F02 errors its CAPs show because of it).
    BehindLogonPoints(String),
    /// A share that could not be audited, or not wholly.
    Location(CheckCode, String),
    /// One check at one site.
    Site(CheckCode, String),
    /// One check at a location of no known site.
    Unsited(CheckCode, String),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::BehindLogonPoints(site) => format!("behind-logon-points:{site}"),
            Key::Location(code, location) => format!("{code}:location:{location}"),
            Key::Site(code, site) => format!("{code}:site:{site}"),
            Key::Unsited(code, location) => format!("{code}:location:{location}"),
        }
    }
}

/// Codes whose fix is one per share, whatever its site.
fn is_about_one_share(code: CheckCode) -> bool {
    matches!(code, CheckCode::A01 | CheckCode::A05 | CheckCode::A07 | CheckCode::A08)
}

/// The codes that say a site is behind the logon points it shares.
fn is_behind_logon_points(code: CheckCode) -> bool {
    matches!(code, CheckCode::F01 | CheckCode::F03 | CheckCode::F08)
}

fn key_of(finding: &Finding, behind: &BTreeSet<String>) -> Key {
    let code = finding.code;
    if is_behind_logon_points(code) && !finding.site.is_empty() {
        return Key::BehindLogonPoints(finding.site.clone());
    }
    // An F02 error is the CAP half of Q236596: its site is behind.
    if code == CheckCode::F02 && finding.severity == Severity::Error && behind.contains(&finding.site) {
        return Key::BehindLogonPoints(finding.site.clone());
    }
    if is_about_one_share(code) || finding.site.is_empty() {
        return match finding.site.is_empty() && !is_about_one_share(code) {
            true => Key::Unsited(code, finding.location.clone()),
            false => Key::Location(code, finding.location.clone()),
        };
    }
    Key::Site(code, finding.site.clone())
}

/// Groups `findings` (already in report order) into causes, sets each
/// finding's `cause`, and returns the causes in report order.
pub(crate) fn group(view: &EstateView, findings: &mut [Finding], plan: Option<&UpgradePlan>) -> Vec<Cause> {
    let behind: BTreeSet<String> = findings
        .iter()
        .filter(|f| is_behind_logon_points(f.code) && !f.site.is_empty())
        .map(|f| f.site.clone())
        .collect();
    let mut members: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (index, finding) in findings.iter().enumerate() {
        members.entry(key_of(finding, &behind)).or_default().push(index);
    }
    let mut causes: Vec<(Key, Cause)> = members
        .into_iter()
        .map(|(key, positions)| {
            let cause = describe(view, &key, &positions, findings, plan);
            (key, cause)
        })
        .collect();
    causes.sort_by(|(a_key, a), (b_key, b)| {
        (std::cmp::Reverse(a.severity), a_key).cmp(&(std::cmp::Reverse(b.severity), b_key))
    });
    causes
        .into_iter()
        .enumerate()
        .map(|(n, (_, mut cause))| {
            cause.id = format!("C{}", n + 1);
            for &position in &cause.findings {
                findings[position].cause = cause.id.clone();
            }
            cause
        })
        .collect()
}

fn describe(
    view: &EstateView,
    key: &Key,
    positions: &[usize],
    findings: &[Finding],
    plan: Option<&UpgradePlan>,
) -> Cause {
    let members: Vec<&Finding> = positions.iter().map(|&p| &findings[p]).collect();
    let sorted_unique = |values: Vec<String>| -> Vec<String> {
        let set: BTreeSet<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        set.into_iter().collect()
    };
    let mut kb: Vec<String> = Vec::new();
    for finding in &members {
        for article in finding.kb.split(',').map(str::trim) {
            if !article.is_empty() && article != "-" && !kb.iter().any(|k| k == article) {
                kb.push(article.to_string());
            }
        }
    }
    let codes: Vec<CheckCode> = {
        let set: BTreeSet<CheckCode> = members.iter().map(|f| f.code).collect();
        set.into_iter().collect()
    };
    let mut sites = sorted_unique(
        members
            .iter()
            .flat_map(|f| f.site.split_whitespace().map(str::to_string))
            .collect(),
    );
    let locations = sorted_unique(members.iter().map(|f| f.location.clone()).collect());
    let severity = members.iter().map(|f| f.severity).max().unwrap_or(Severity::Info);
    let (title, fix) = match key {
        Key::BehindLogonPoints(site) => {
            let behind = BehindLogonPoints::of(view, site, &members);
            sites = sorted_unique(sites.into_iter().chain(behind.newer_sites.iter().cloned()).collect());
            (behind.title(), behind.fix(plan))
        }
        Key::Location(code, location) | Key::Unsited(code, location) => {
            let title = match code {
                CheckCode::A05 => format!(
                    "{} entries on {location} could not be read: the checks that needed them did not run",
                    members.len()
                ),
                _ => format!("{location}: {}", code.check().title),
            };
            (title, vec![code.check().fix.to_string()])
        }
        Key::Site(code, site) => (
            format!("Site {site}: {}", code.check().title),
            vec![code.check().fix.to_string()],
        ),
    };
    Cause {
        id: String::new(),
        key: key.text(),
        severity,
        title,
        sites,
        locations,
        kb,
        codes,
        fix,
        findings: positions.to_vec(),
    }
}

/// What the estate says about a site older than the logon points it shares.
struct BehindLogonPoints {
    site: String,
    /// The site's release label (`RTM`), when known.
    release: Option<String>,
    logon_points: Vec<String>,
    /// Sharing sites at a newer release, and that release.
    newer_sites: Vec<String>,
    newer_release: Option<String>,
    /// Every site that shares a logon point with this one, itself included.
    group: Vec<String>,
    cfg_errors: BTreeMap<String, usize>,
    logon_findings: bool,
}

impl BehindLogonPoints {
    fn of(view: &EstateView, site: &str, members: &[&Finding]) -> BehindLogonPoints {
        let site_base = view.site_base(site);
        let site_release = site_base.as_ref().and_then(Version::release);
        let mut logon_points = Vec::new();
        let mut newer: BTreeMap<String, Version> = BTreeMap::new();
        let mut newest_base: Option<Version> = None;
        for lp in view.locations(LocationKind::LogonPoint) {
            let participants = view.participants(lp);
            if !participants.iter().any(|s| s == site) {
                continue;
            }
            let base = view.logon_base(lp).map(|b| b.version);
            let base_newer = match (base.as_ref().and_then(Version::release), site_release) {
                (Some(b), Some(s)) => b > s,
                _ => false,
            };
            let mut peer_newer = false;
            for peer in participants.iter().filter(|s| *s != site) {
                let Some(peer_base) = view.site_base(peer) else {
                    continue;
                };
                if let (Some(p), Some(s)) = (peer_base.release(), site_release) {
                    if p > s {
                        peer_newer = true;
                        newer.insert(peer.clone(), peer_base);
                    }
                }
            }
            if base_newer || peer_newer {
                logon_points.push(lp.name.clone());
                if let Some(base) = base.filter(|_| base_newer) {
                    if newest_base.as_ref().is_none_or(|n| base.fields > n.fields) {
                        newest_base = Some(base);
                    }
                }
            }
        }
        // Findings name the logon points even where the estate could not
        // say more (an F03 names the CAP; its logon point is found above).
        for finding in members {
            if view
                .locations(LocationKind::LogonPoint)
                .iter()
                .any(|l| l.name == finding.location)
                && !logon_points.contains(&finding.location)
            {
                logon_points.push(finding.location.clone());
            }
        }
        logon_points.sort();
        let newest = newer
            .values()
            .chain(newest_base.iter())
            .max_by(|a, b| a.fields.cmp(&b.fields));
        let group = view
            .sharing_groups()
            .into_iter()
            .find(|g| g.iter().any(|s| s == site))
            .unwrap_or_else(|| vec![site.to_string()]);
        let mut cfg_errors: BTreeMap<String, usize> = BTreeMap::new();
        for finding in members.iter().filter(|f| f.code == CheckCode::F02) {
            *cfg_errors.entry(finding.location.clone()).or_default() += 1;
        }
        BehindLogonPoints {
            site: site.to_string(),
            release: site_base.as_ref().and_then(Version::release).map(|r| r.to_string()),
            logon_points,
            newer_sites: newer.keys().cloned().collect(),
            newer_release: newest.and_then(Version::release).map(|r| r.to_string()),
            group,
            cfg_errors,
            logon_findings: members.iter().any(|f| f.code == CheckCode::F01),
        }
    }

    fn title(&self) -> String {
        let at = self
            .release
            .as_deref()
            .map(|r| format!(" is at {r} but"))
            .unwrap_or_default();
        let points = plural(&self.logon_points, "logon point", "logon points");
        match (self.newer_sites.as_slice(), &self.newer_release) {
            ([], Some(newer)) => format!("Site {}{at} shares {points} whose base files are {newer}", self.site),
            ([], None) => format!("Site {}{at} shares {points} with a newer base", self.site),
            (newer_sites, release) => format!(
                "Site {}{at} shares {points} with {}, whose {}upgrade replaced the base files there",
                self.site,
                and_list(newer_sites),
                release.as_deref().map(|r| format!("{r} ")).unwrap_or_default()
            ),
        }
    }

    fn fix(&self, plan: Option<&UpgradePlan>) -> Vec<String> {
        let mut steps = Vec::new();
        let target = self.newer_release.as_deref().unwrap_or("the logon points' release");
        let together = if self.group.len() > 1 {
            format!(
                " Sites {} share logon points and must move together.",
                and_list(&self.group)
            )
        } else {
            String::new()
        };
        steps.push(format!("Upgrade site {} to {target}.{together}", self.site));
        if let Some(group) = plan.and_then(|p| p.groups.iter().find(|g| g.sites.contains(&self.site))) {
            steps.push(format!("Pre-upgrade plan: {}", group.advice));
        }
        if self.logon_findings || !self.cfg_errors.is_empty() {
            steps.push(format!(
                "Until then, keep site {}'s clients off the newer base: disable Windows Networking Logon Discovery and Installation for {} or pause logon scripts with GOTO END at the top of Smsls.bat (Q236596).",
                self.site, self.site
            ));
        }
        for (cap, count) in &self.cfg_errors {
            steps.push(format!(
                "After the upgrade, check that Inbox Manager rewrote the {count} component CFG {} on {cap}: run smsaudit again.",
                if *count == 1 { "file" } else { "files" }
            ));
        }
        steps
    }
}

fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn plural(items: &[String], one: &str, many: &str) -> String {
    match items.len() {
        0 => format!("its {many}"),
        1 => format!("{one} {}", items[0]),
        _ => format!("{many} {}", and_list(items)),
    }
}
