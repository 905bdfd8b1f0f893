//! Causes: the findings grouped by the one thing to fix. A site left behind
//! the logon points it shares (Q236596) shows as F01 on each logon point
//! and F02 on each CFG of its CAPs; the admin has one thing to do, so the
//! reports lead with one cause. Every finding belongs to exactly one cause.
//! The grouping reads the [`Diagnosis`] first: a CAP that lags behind its
//! own site is one cause of its own, never "the site is behind".

use crate::diagnosis::{Diagnosis, LaggingCap};
use crate::estate::EstateView;
use crate::model::{Artifact, CheckCode, Finding, LocationKind, Severity};
use crate::sms::advice;
use crate::sms::release::Release;
use crate::sms::version::Version;
use crate::upgrade::UpgradePlan;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    pub(crate) const COLUMNS: [&'static str; 10] = [
        "cause",
        "severity",
        "title",
        "sites",
        "locations",
        "kb",
        "codes",
        "findings",
        "clients",
        "fix",
    ];

    /// The cause's values in [`Cause::COLUMNS`] order; the fix steps are
    /// numbered on one line each. `clients` are those whose logs show a
    /// symptom it explains (`None`, an empty cell, without client logs).
    pub(crate) fn cells(&self, clients: Option<&[String]>) -> [String; 10] {
        [
            self.id.clone(),
            self.severity.as_str().to_string(),
            self.title.clone(),
            self.sites.join(" "),
            self.locations.join(" "),
            self.kb.join(", "),
            self.codes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" "),
            self.findings.len().to_string(),
            clients.map(|c| c.len().to_string()).unwrap_or_default(),
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
    /// Sites older than the base of logon points they share (F01, F03,
    /// F08, and the F02 errors their CAPs show because of it), one cause
    /// per group of sites that share logon points: they are brought to one
    /// release together. Holds the group, space-separated.
    BehindLogonPoints(String),
    /// A CAP that offers an older release than its own site: Inbox
    /// Manager's copy did not complete. Its F01, F02, F03, F13, F19, F20
    /// and F24 findings are symptoms of that one copy. Holds the CAP.
    LaggingCap(String),
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
            Key::BehindLogonPoints(group) => format!("behind-logon-points:{group}"),
            Key::LaggingCap(cap) => format!("lagging-cap:{cap}"),
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

/// The group of sites that share logon points with each site that is
/// behind one of them, space-separated.
type BehindGroups = BTreeMap<String, String>;

/// The lagging CAP a finding is a symptom of: a replication symptom on
/// that CAP, or an F01 whose CAP (the cell it marks) is that CAP.
fn lagging_cap_of<'d>(finding: &Finding, diagnosis: &'d Diagnosis) -> Option<&'d LaggingCap> {
    use CheckCode::*;
    let cap = match finding.code {
        F01 => finding.marks.first().map(|m| m.location.as_str())?,
        F02 | F03 | F13 | F19 | F20 | F24 => finding.location.as_str(),
        _ => return None,
    };
    diagnosis
        .lagging_cap(cap)
        .filter(|lagging| lagging.site == finding.site)
}

fn key_of(finding: &Finding, behind: &BehindGroups, diagnosis: &Diagnosis) -> Key {
    let code = finding.code;
    if let Some(lagging) = lagging_cap_of(finding, diagnosis) {
        return Key::LaggingCap(lagging.cap.clone());
    }
    // An F02 error is the CAP half of Q236596: its site is behind.
    let half_of_q236596 = code == CheckCode::F02 && finding.severity == Severity::Error;
    if is_behind_logon_points(code) || half_of_q236596 {
        if let Some(group) = behind.get(&finding.site) {
            return Key::BehindLogonPoints(group.clone());
        }
    }
    if is_about_one_share(code) {
        Key::Location(code, finding.location.clone())
    } else if finding.site.is_empty() {
        Key::Unsited(code, finding.location.clone())
    } else {
        Key::Site(code, finding.site.clone())
    }
}

/// Groups `findings` (already in report order) into causes, in report
/// order; each cause lists its findings' positions ([`cause_of_each`]).
/// `diagnosis` says each site's release and which CAPs lag behind theirs.
pub(crate) fn group(
    view: &EstateView,
    diagnosis: &Diagnosis,
    findings: &[Finding],
    plan: Option<&UpgradePlan>,
) -> Vec<Cause> {
    let groups = view.sharing_groups();
    // Each site's group, the first that names it, looked up once a site.
    let mut group_of: HashMap<&str, String> = HashMap::new();
    for group in &groups {
        let joined = group.join(" ");
        for site in group {
            group_of.entry(site.as_str()).or_insert_with(|| joined.clone());
        }
    }
    // A site is behind when its own shares are, not when one of its CAPs
    // lags behind the site.
    let behind: BehindGroups = findings
        .iter()
        .filter(|f| is_behind_logon_points(f.code) && !f.site.is_empty())
        .filter(|f| lagging_cap_of(f, diagnosis).is_none())
        .map(|f| {
            let group = group_of.get(f.site.as_str()).cloned().unwrap_or_else(|| f.site.clone());
            (f.site.clone(), group)
        })
        .collect();
    let mut members: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (index, finding) in findings.iter().enumerate() {
        members
            .entry(key_of(finding, &behind, diagnosis))
            .or_default()
            .push(index);
    }
    let mut causes: Vec<(Key, Cause)> = members
        .into_iter()
        .map(|(key, positions)| {
            let cause = describe(view, diagnosis, &key, &positions, findings, plan);
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
            cause
        })
        .collect()
}

/// The id of each finding's cause, by the finding's position among
/// `count` findings (every finding belongs to one cause).
pub(crate) fn cause_of_each(causes: &[Cause], count: usize) -> Vec<String> {
    let mut ids = vec![String::new(); count];
    for cause in causes {
        for &position in &cause.findings {
            ids[position].clone_from(&cause.id);
        }
    }
    ids
}

fn describe(
    view: &EstateView,
    diagnosis: &Diagnosis,
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
        Key::BehindLogonPoints(group) => {
            let behind = BehindLogonPoints::of(view, diagnosis, group, &members);
            sites = sorted_unique(sites.into_iter().chain(behind.newer_sites.iter().cloned()).collect());
            (behind.title(), behind.fix(plan))
        }
        Key::LaggingCap(cap) => match diagnosis.lagging_cap(cap) {
            Some(lagging) => {
                for article in advice::SMSMAN_DOES_NOT_UPGRADE.kb {
                    if !kb.iter().any(|k| k == article) {
                        kb.push(article.to_string());
                    }
                }
                (
                    lagging.title(),
                    advice::lagging_cap_fix(cap, &lagging.from, &lagging.site, &lagging.site_release.to_string()),
                )
            }
            None => lagging_cap_unknown(cap),
        },
        Key::Location(code, location) | Key::Unsited(code, location) => {
            let title = match code {
                CheckCode::A05 => format!(
                    "{} entries on {location} could not be read: the checks that needed them did not run",
                    members.len()
                ),
                _ => format!("{location}: {}", code.check().title),
            };
            (title, member_fixes(&members))
        }
        Key::Site(code, site) => (format!("Site {site}: {}", code.check().title), member_fixes(&members)),
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

/// The distinct fixes of a cause's findings, in report order: one
/// normally; one per share when the fix names the share (F12).
fn member_fixes(members: &[&Finding]) -> Vec<String> {
    let mut fixes: Vec<String> = Vec::new();
    for finding in members {
        if !fixes.contains(&finding.fix) {
            fixes.push(finding.fix.clone());
        }
    }
    fixes
}

/// A lagging-CAP key is only made from the diagnosis; should it ever not
/// be there, the cause still says what it is about.
fn lagging_cap_unknown(cap: &str) -> (String, Vec<String>) {
    (
        format!("{cap} offers an older release than its site"),
        vec![CheckCode::F24.check().fix.to_string()],
    )
}

/// What the estate says about sites older than the logon points they
/// share.
struct BehindLogonPoints {
    /// The sites that are behind, with their release labels when known.
    lagging: Vec<(String, Option<String>)>,
    logon_points: Vec<String>,
    /// Sharing sites at a newer release, and the newest release there.
    newer_sites: Vec<String>,
    newer_release: Option<String>,
    /// Every site that shares a logon point with them.
    group: Vec<String>,
    /// Sites whose clients get the newer base today (F01, F02).
    exposed: Vec<String>,
    /// The release of each exposed site, when known.
    exposed_release: BTreeMap<String, Release>,
    /// Sites of the group the bootstrap follows, with why: named on a
    /// logon point's Copylog `X86.BIN\CLICORE.EXE` line or in its
    /// Senior.lst (Q263345, Q235726).
    bootstrap: BTreeMap<String, Vec<String>>,
    cfg_errors: BTreeMap<String, usize>,
}

impl BehindLogonPoints {
    /// `group`: the sites that share logon points with them, space-separated
    /// (the cause's key).
    fn of(view: &EstateView, diagnosis: &Diagnosis, group: &str, members: &[&Finding]) -> BehindLogonPoints {
        let lagging_sites: BTreeSet<String> = members.iter().map(|f| f.site.clone()).collect();
        let logon_point_names: BTreeSet<String> = view
            .locations(LocationKind::LogonPoint)
            .iter()
            .map(|l| l.name.clone())
            .collect();
        let mut lagging = Vec::new();
        let mut logon_points: BTreeSet<String> = members
            .iter()
            .filter(|f| logon_point_names.contains(&f.location))
            .map(|f| f.location.clone())
            .collect();
        let mut newer: BTreeMap<String, Version> = BTreeMap::new();
        let mut newest_base: Option<Version> = None;
        for site in &lagging_sites {
            let site_release = view.site_base(site).as_ref().and_then(Version::release);
            lagging.push((site.clone(), site_release.map(|r| r.to_string())));
            for lp in view.logon_points_with(site) {
                let participants = view.participants(lp);
                let base = view.logon_base(lp).map(|b| b.version);
                let base_newer = matches!(
                    (base.as_ref().and_then(Version::release), site_release),
                    (Some(b), Some(s)) if b > s
                );
                let mut peer_newer = false;
                for peer in participants.iter().filter(|p| !lagging_sites.contains(*p)) {
                    let Some(peer_base) = view.site_base(peer) else {
                        continue;
                    };
                    if matches!((peer_base.release(), site_release), (Some(p), Some(s)) if p > s) {
                        peer_newer = true;
                        newer.insert(peer.clone(), peer_base);
                    }
                }
                if base_newer || peer_newer {
                    logon_points.insert(lp.name.clone());
                }
                match (base.filter(|_| base_newer), &newest_base) {
                    (Some(base), Some(newest)) if base.fields <= newest.fields => {}
                    (Some(base), _) => newest_base = Some(base),
                    (None, _) => {}
                }
            }
        }
        let newest = newer
            .values()
            .chain(newest_base.iter())
            .max_by(|a, b| a.fields.cmp(&b.fields));
        let group: Vec<String> = group.split_whitespace().map(str::to_string).collect();
        let mut bootstrap: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for lp in view.locations(LocationKind::LogonPoint) {
            if !view.participants(lp).iter().any(|p| group.contains(p)) {
                continue;
            }
            for (path, site) in view.copylog(&lp.name) {
                if path == crate::sms::layout::LOGON_CLICORE {
                    bootstrap
                        .entry(site.to_string())
                        .or_default()
                        .push(format!("Copylog.tcf on {} names it on X86.BIN\\CLICORE.EXE", lp.name));
                }
            }
            if let Some(senior) = view.stamp(&lp.name, "", Artifact::SeniorSite, "") {
                let code: String = senior.value.chars().take(3).collect::<String>().to_ascii_uppercase();
                if !code.is_empty() {
                    bootstrap
                        .entry(code)
                        .or_default()
                        .push(format!("Senior.lst on {} names it", lp.name));
                }
            }
        }
        let mut cfg_errors: BTreeMap<String, usize> = BTreeMap::new();
        for finding in members.iter().filter(|f| f.code == CheckCode::F02) {
            *cfg_errors.entry(finding.location.clone()).or_default() += 1;
        }
        let exposed: BTreeSet<String> = members
            .iter()
            .filter(|f| matches!(f.code, CheckCode::F01 | CheckCode::F02))
            .map(|f| f.site.clone())
            .collect();
        let exposed_release = exposed
            .iter()
            .filter_map(|site| Some((site.clone(), diagnosis.release(site)?.release)))
            .collect();
        BehindLogonPoints {
            exposed_release,
            bootstrap,
            lagging,
            logon_points: logon_points.into_iter().collect(),
            newer_sites: newer.keys().cloned().collect(),
            newer_release: newest.and_then(Version::release).map(|r| r.to_string()),
            group,
            exposed: exposed.into_iter().collect(),
            cfg_errors,
        }
    }

    fn lagging_names(&self) -> Vec<String> {
        self.lagging.iter().map(|(site, _)| site.clone()).collect()
    }

    fn title(&self) -> String {
        let names = self.lagging_names();
        let releases: BTreeSet<Option<&str>> = self.lagging.iter().map(|(_, r)| r.as_deref()).collect();
        let subject = match (names.as_slice(), releases.len()) {
            ([one], _) => format!("Site {one}"),
            (_, 1) => format!("Sites {}", and_list(&names)),
            _ => {
                let each: Vec<String> = self
                    .lagging
                    .iter()
                    .map(|(site, release)| match release {
                        Some(release) => format!("{site} ({release})"),
                        None => site.clone(),
                    })
                    .collect();
                format!("Sites {}", and_list(&each))
            }
        };
        let verb = if names.len() == 1 { "is" } else { "are" };
        let state = match releases.iter().next() {
            Some(Some(release)) if releases.len() == 1 => format!("{verb} at {release} but"),
            _ => format!("{verb} behind and"),
        };
        let share = if names.len() == 1 { "shares" } else { "share" };
        let points = names_with_noun(&self.logon_points, "logon point", "logon points");
        match (self.newer_sites.as_slice(), &self.newer_release) {
            ([], Some(newer)) => format!("{subject} {state} {share} {points} whose base files are {newer}"),
            ([], None) => format!("{subject} {state} {share} {points} with a newer base"),
            (newer_sites, release) => format!(
                "{subject} {state} {share} {points} with {}, whose {}upgrade replaced the base files there",
                and_list(newer_sites),
                release.as_deref().map(|r| format!("{r} ")).unwrap_or_default()
            ),
        }
    }

    fn fix(&self, plan: Option<&UpgradePlan>) -> Vec<String> {
        let names = self.lagging_names();
        let mut steps = Vec::new();
        let target = match (&self.newer_release, self.newer_sites.as_slice()) {
            (Some(release), []) => release.clone(),
            (Some(release), sites) => format!("{release}, the release of {}", and_list(sites)),
            (None, _) => "the logon points' release".to_string(),
        };
        let together = if self.group.len() > 1 {
            format!(
                " Sites {} share logon points and must move together.",
                and_list(&self.group)
            )
        } else {
            String::new()
        };
        // A plan that moves this group to the release the logon points
        // need (or later) is the upgrade to do: its target, its sites.
        let needed = self
            .newer_release
            .as_deref()
            .and_then(crate::sms::release::release_by_label)
            .map(|info| info.release());
        let planned = plan
            .filter(|p| needed.is_none_or(|needed| p.release >= needed))
            .and_then(|p| {
                p.groups
                    .iter()
                    .find(|g| !g.upgrading.is_empty() && g.sites.iter().any(|s| self.group.contains(s)))
                    .map(|g| (p, g))
            });
        match planned {
            Some((plan, group)) => {
                let mut movers: Vec<String> = names
                    .iter()
                    .chain(&group.upgrading)
                    .chain(group.left_behind.iter().map(|l| &l.site))
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                movers.retain(|s| !group.already_there.contains(s));
                let sites = if movers.len() == 1 { "site" } else { "sites" };
                steps.push(format!(
                    "Upgrade {sites} {} to {}, the pre-upgrade plan's target.{together}",
                    and_list(&movers),
                    plan.target_release
                ));
            }
            None => {
                let sites = if names.len() == 1 { "site" } else { "sites" };
                steps.push(format!("Upgrade {sites} {} to {target}.{together}", and_list(&names)));
            }
        }
        let advice: BTreeSet<&str> = plan
            .into_iter()
            .flat_map(|p| &p.groups)
            .filter(|g| g.sites.iter().any(|s| self.group.contains(s)))
            .map(|g| g.advice.as_str())
            .collect();
        for advice in advice {
            steps.push(format!("Pre-upgrade plan: {advice}"));
        }
        let (followed, others): (Vec<String>, Vec<String>) = self
            .exposed
            .iter()
            .cloned()
            .partition(|s| self.bootstrap.contains_key(s));
        if !others.is_empty() {
            let whose = and_list(&others);
            let mut step = format!(
                "Until then, keep the clients of {whose} off the newer base: disable Windows Networking Logon Discovery and Installation for {whose} or pause logon scripts with GOTO END at the top of Smsls.bat (Q236596)."
            );
            for site in &others {
                let for_site = advice::WORKAROUND_BEFORE_SP2.text.replace("<code>", site);
                match self.exposed_release.get(site).map(|r| (r.build, r.sp)) {
                    Some((1380, _)) => step.push_str(&format!(" Site {site} is at SP1: {for_site}")),
                    Some((1239, _)) => step.push_str(&format!(
                        " Site {site} is at RTM: check whether hotfix 42820 is applied on its site server (the audit cannot tell). {for_site}"
                    )),
                    _ => {}
                }
            }
            steps.push(step);
        }
        for site in &followed {
            let why = and_list(&self.bootstrap[site]);
            steps.push(format!(
                "Until then, keep the clients of {site} off the newer base with GOTO END at the top of Smsls.bat only: {why}. {}",
                advice::BOOTSTRAP_SITE.text.replace("<code>", site)
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

/// `logon point X`, `logon points X and Y`, or `its logon points` for none.
fn names_with_noun(items: &[String], one: &str, many: &str) -> String {
    match items.len() {
        0 => format!("its {many}"),
        1 => format!("{one} {}", items[0]),
        _ => format!("{many} {}", and_list(items)),
    }
}
