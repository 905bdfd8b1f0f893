//! The pre-upgrade check: which sites must move together because they share
//! logon points (Q236596, Q264630, Q262677), what each site needs first
//! (Q261931), the steps in order, and the estate as it would be after the
//! upgrade run through the same checks (the findings that remain, go away
//! or appear). A pure function of the audited estate and the request.

use crate::config::{Config, UpgradeRequest};
use crate::estate::{Estate, EstateView};
use crate::model::{Artifact, Finding, Location, LocationKind, Severity, Sha256Digest, Status};
use crate::sms::layout;
use crate::sms::release::{Release, Stamped, SP2_BUILD};
use crate::sms::version::{Version, VersionKind};
use serde::Serialize;
use std::collections::BTreeSet;

/// A site that shares logon points with an upgraded site, is not in the
/// request and is below the target (or of a release the audit cannot tell).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LeftBehind {
    pub site: String,
    /// The site's base today (site server clicomp.src, else its CAPs).
    pub current: String,
    /// Its CAPs, whose base would then be older than the logon points'.
    pub caps: Vec<String>,
    /// Whether its release is known to be older than the target; `false`
    /// when it cannot be told (the plan is then not judgeable).
    pub behind: bool,
    /// KB articles that describe what its clients would hit.
    pub kbs: Vec<String>,
}

/// What one site of a group needs before an SP2-or-later upgrade
/// (Q261931): the hotfixes for its current release.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Prerequisite {
    pub site: String,
    /// The site's release today, or `unknown`.
    pub current: String,
    pub kbs: Vec<String>,
    /// In words, with the file versions the hotfixes bring.
    pub text: String,
}

/// Sites tied together by shared logon points.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UpgradeGroup {
    /// Every site of the group: they must move together.
    pub sites: Vec<String>,
    /// Requested sites below the target: those the plan moves.
    pub upgrading: Vec<String>,
    /// Requested sites already at the target: nothing to do for them.
    pub no_op: Vec<String>,
    pub logon_points: Vec<String>,
    pub left_behind: Vec<LeftBehind>,
    /// Other sites of the group already at the target or later.
    pub already_there: Vec<String>,
    /// With a target of SP2 or later: each site's prerequisites (Q261931).
    pub prerequisites: Vec<Prerequisite>,
    /// What to do, in order.
    pub steps: Vec<String>,
    /// The verdict in one paragraph.
    pub advice: String,
}

/// The plan's own answer: what the exit code and the reports' verdict say.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PlanVerdict {
    /// No site would be left behind at an older release.
    Safe,
    /// A site sharing logon points would be left behind.
    Unsafe,
    /// A sharing site's release cannot be told from the audit.
    NotJudgeable,
}

impl PlanVerdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PlanVerdict::Safe => "safe",
            PlanVerdict::Unsafe => "unsafe",
            PlanVerdict::NotJudgeable => "not judgeable",
        }
    }
}

/// A finding of the simulation, compared with today's by fingerprint.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlannedFinding {
    pub code: String,
    pub severity: Severity,
    pub site: String,
    pub location: String,
    pub message: String,
}

impl PlannedFinding {
    fn of(finding: &Finding) -> PlannedFinding {
        PlannedFinding {
            code: finding.code.to_string(),
            severity: finding.severity,
            site: finding.site.clone(),
            location: finding.location.clone(),
            message: finding.message.clone(),
        }
    }

    /// `F01 \\SERVER1\CAP_MS1`.
    fn short(&self) -> String {
        format!("{} {}", self.code, self.location)
    }
}

/// The estate as it would be after the upgrade, run through the checks.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Simulation {
    /// Today's findings the upgrade leaves in place.
    pub remain: Vec<PlannedFinding>,
    /// Today's findings the upgrade fixes.
    pub go_away: Vec<PlannedFinding>,
    /// Findings the upgrade would cause.
    pub appear: Vec<PlannedFinding>,
}

/// The prediction for one request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UpgradePlan {
    pub target: String,
    pub target_release: String,
    #[serde(skip)]
    pub release: Release,
    pub requested: Vec<String>,
    pub groups: Vec<UpgradeGroup>,
    /// True when the verdict is safe.
    pub safe: bool,
    pub verdict: PlanVerdict,
    /// What the checks say of the estate after the upgrade (the planned
    /// sites' CAP, site server and logon point stamps at the target).
    pub simulation: Simulation,
}

impl UpgradePlan {
    /// The columns of upgrade.csv and of the Upgrade sheet, in order.
    pub(crate) const COLUMNS: [&'static str; 13] = [
        "group",
        "site",
        "role",
        "current",
        "behind",
        "caps",
        "logon_points",
        "kbs",
        "prerequisites",
        "steps",
        "advice",
        "findings_remaining",
        "findings_going_away",
    ];

    /// One row per site of every group, in [`UpgradePlan::COLUMNS`]
    /// order: the sites upgrading, those already at the target, those
    /// left behind, the others already there; lists are space-separated,
    /// steps numbered, findings `F01 \\SERVER1\CAP_MS1` separated by `; `.
    pub(crate) fn rows(&self) -> Vec<[String; 13]> {
        let mut rows = Vec::new();
        for group in &self.groups {
            let name = group.sites.join(" ");
            let lps = group.logon_points.join(" ");
            let steps = numbered(&group.steps);
            let findings = |site: &str, list: &[PlannedFinding]| {
                list.iter()
                    .filter(|f| f.site.split(' ').any(|s| s == site))
                    .map(PlannedFinding::short)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let prerequisite = |site: &str| {
                group
                    .prerequisites
                    .iter()
                    .find(|p| p.site == site)
                    .map(|p| p.text.clone())
                    .unwrap_or_default()
            };
            let mut row = |site: &str, role: &str, current: String, behind: &str, caps: String, kbs: String| {
                rows.push([
                    name.clone(),
                    site.to_string(),
                    role.to_string(),
                    current,
                    behind.to_string(),
                    caps,
                    lps.clone(),
                    kbs,
                    prerequisite(site),
                    steps.clone(),
                    group.advice.clone(),
                    findings(site, &self.simulation.remain),
                    findings(site, &self.simulation.go_away),
                ]);
            };
            for site in &group.upgrading {
                row(site, "upgrading", String::new(), "", String::new(), String::new());
            }
            for site in &group.no_op {
                row(
                    site,
                    "already at the target (no-op)",
                    String::new(),
                    "",
                    String::new(),
                    String::new(),
                );
            }
            for left in &group.left_behind {
                row(
                    &left.site,
                    "left behind",
                    left.current.clone(),
                    if left.behind { "yes" } else { "unknown" },
                    left.caps.join(" "),
                    left.kbs.join(" "),
                );
            }
            for site in &group.already_there {
                row(site, "already there", String::new(), "no", String::new(), String::new());
            }
        }
        rows
    }
}

/// `1. ... 2. ...` on one line.
fn numbered(steps: &[String]) -> String {
    steps
        .iter()
        .enumerate()
        .map(|(n, s)| format!("{}. {s}", n + 1))
        .collect::<Vec<_>>()
        .join(" ")
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
                current.label_as(BASE)
            ),
            _ => {}
        }
    }
    Ok(())
}

const BASE: Stamped<'static> = Stamped::Compver("base");

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

/// Reference 8 (Q261931): what a site at `current` needs before any site of
/// its group installs SP2 or later. `None` when it needs nothing.
fn prerequisite(site: &str, current: Option<Release>, target: Release) -> Option<Prerequisite> {
    let rtm = "Q251070 (Nt_logon.dll 2.0.1239.62) and Q252718 (CCM)";
    let sp1 = "Q249077 (Nt_logon.dll 2.0.1380.1105) and Q252717 (CCM)";
    let sp4_first = if target.sp >= 4 && target.build == SP2_BUILD {
        "; SP4 installs only over SP2 or SP3 (Q288239)"
    } else {
        ""
    };
    let (label, kbs, text) = match current {
        Some(r) if r.is_sp2_or_later() => return None,
        Some(r) if r.sp == 0 => (
            "RTM".to_string(),
            vec!["Q251070", "Q252718"],
            format!("{site} (RTM): {rtm}{sp4_first}"),
        ),
        Some(r) if r.sp == 1 => (
            "SP1".to_string(),
            vec!["Q249077", "Q252717"],
            format!("{site} (SP1): {sp1}{sp4_first}"),
        ),
        Some(r) => (
            r.to_string(),
            vec!["Q251070", "Q252718", "Q249077", "Q252717"],
            format!("{site} ({r}): check its release; RTM needs {rtm}, SP1 needs {sp1}"),
        ),
        None => (
            "unknown".to_string(),
            vec!["Q251070", "Q252718", "Q249077", "Q252717"],
            format!("{site} (release not known from the audit): if RTM, {rtm}; if SP1, {sp1}"),
        ),
    };
    Some(Prerequisite {
        site: site.to_string(),
        current: label,
        kbs: kbs.into_iter().map(String::from).collect(),
        text,
    })
}

/// The sites the logon points' Copylog.tcf names on the `CLICORE.EXE` line
/// and Senior.lst names: the bootstrap follows them (Q263345, Q263395).
fn followed_sites(view: &EstateView, logon_points: &[&Location]) -> BTreeSet<String> {
    logon_points
        .iter()
        .flat_map(|lp| view.stamps(&lp.name).iter())
        .filter(|s| {
            (s.artifact == Artifact::CopylogSource && s.detail == layout::LOGON_CLICORE)
                || s.artifact == Artifact::SeniorSite
        })
        .map(|s| s.value.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Predicts, from the estate, which sites share logon points with the
/// requested ones, which would be left behind, what each needs first, the
/// steps, and the findings after the upgrade.
pub(crate) fn plan(view: &EstateView, request: &UpgradeRequest, findings: &[Finding], config: &Config) -> UpgradePlan {
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
    let target = request.release;
    let release_of = |site: &str| view.site_base(site).as_ref().and_then(Version::release);
    let lps = view.locations(LocationKind::LogonPoint);
    let out: Vec<UpgradeGroup> = groups
        .into_iter()
        .map(|sites| {
            let requested: Vec<&String> = sites.iter().filter(|s| request.sites.contains(s)).collect();
            let (no_op, upgrading): (Vec<String>, Vec<String>) = requested
                .into_iter()
                .cloned()
                .partition(|s| release_of(s).is_some_and(|r| r >= target));
            let group_lps: Vec<&Location> = lps
                .iter()
                .filter(|lp| view.participants(lp).iter().any(|s| sites.contains(s)))
                .copied()
                .collect();
            let logon_points: Vec<String> = group_lps.iter().map(|lp| lp.name.clone()).collect();
            let others: Vec<&String> = sites.iter().filter(|s| !request.sites.contains(s)).collect();
            let (left_behind, already_there): (Vec<LeftBehind>, Vec<String>) = if upgrading.is_empty() {
                // Nothing moves: nobody is left behind by this plan.
                let there = others
                    .iter()
                    .filter(|s| release_of(s).is_some_and(|r| r >= target))
                    .map(|s| s.to_string())
                    .collect();
                (Vec::new(), there)
            } else {
                let mut left = Vec::new();
                let mut there = Vec::new();
                for site in others {
                    let base = view.site_base(site);
                    let current = base.as_ref().and_then(Version::release);
                    if current.is_some_and(|c| c >= target) {
                        there.push(site.clone());
                        continue;
                    }
                    left.push(LeftBehind {
                        site: site.clone(),
                        current: base
                            .as_ref()
                            .map(|v| format!("{} ({})", v.text, v.label_as(BASE)))
                            .unwrap_or_else(|| "unknown (no site server or CAP audited)".into()),
                        caps: view
                            .site_locations(site, LocationKind::Cap)
                            .iter()
                            .map(|c| c.name.clone())
                            .collect(),
                        behind: current.is_some(),
                        kbs: kbs_for(current, target),
                    });
                }
                (left, there)
            };
            let prerequisites: Vec<Prerequisite> = if target.is_sp2_or_later() && !upgrading.is_empty() {
                sites
                    .iter()
                    .filter_map(|s| prerequisite(s, release_of(s), target))
                    .collect()
            } else {
                Vec::new()
            };
            let followed = followed_sites(view, &group_lps);
            let advice = advice(
                &sites,
                &upgrading,
                &no_op,
                &left_behind,
                &already_there,
                &logon_points,
                &followed,
                request,
            );
            let steps = steps(
                &upgrading,
                &left_behind,
                &prerequisites,
                &logon_points,
                &followed,
                request,
            );
            UpgradeGroup {
                sites,
                upgrading,
                no_op,
                logon_points,
                left_behind,
                already_there,
                prerequisites,
                steps,
                advice,
            }
        })
        .collect();
    let verdict = if out.iter().any(|g| g.left_behind.iter().any(|l| l.behind)) {
        PlanVerdict::Unsafe
    } else if out.iter().any(|g| !g.left_behind.is_empty()) {
        PlanVerdict::NotJudgeable
    } else {
        PlanVerdict::Safe
    };
    let moving: Vec<&str> = out
        .iter()
        .flat_map(|g| g.upgrading.iter().map(String::as_str))
        .collect();
    let simulation = simulate(view, &moving, target, findings, config);
    UpgradePlan {
        target: request.target.clone(),
        target_release: target.to_string(),
        release: target,
        requested: request.sites.clone(),
        safe: verdict == PlanVerdict::Safe,
        verdict,
        groups: out,
        simulation,
    }
}

/// The group's verdict in one paragraph.
#[allow(clippy::too_many_arguments)]
fn advice(
    sites: &[String],
    upgrading: &[String],
    no_op: &[String],
    left_behind: &[LeftBehind],
    already_there: &[String],
    logon_points: &[String],
    followed: &BTreeSet<String>,
    request: &UpgradeRequest,
) -> String {
    let to = &request.target;
    if upgrading.is_empty() {
        return format!(
            "Nothing to do: {} {} already at {to}; this plan changes nothing (a no-op).",
            no_op.join(", "),
            if no_op.len() == 1 { "is" } else { "are" }
        );
    }
    let unknown: Vec<&str> = left_behind
        .iter()
        .filter(|l| !l.behind)
        .map(|l| l.site.as_str())
        .collect();
    let behind: Vec<&str> = left_behind
        .iter()
        .filter(|l| l.behind)
        .map(|l| l.site.as_str())
        .collect();
    if left_behind.is_empty() {
        return if already_there.is_empty() {
            match upgrading {
                [one] => format!("Safe: {one} is the only site that uses these logon points."),
                all => format!(
                    "Safe: {} are every site that shares these logon points; upgrade them together (within hours of each other).",
                    all.join(", ")
                ),
            }
        } else {
            format!(
                "Safe: the other sites sharing logon points with {} ({}) are already at {to} or later.",
                upgrading.join(", "),
                already_there.join(", ")
            )
        };
    }
    if behind.is_empty() {
        return format!(
            "Cannot be judged: the release of {} is not known from the audit (no site server or CAP with a readable base compver.ini); audit its shares before upgrading {}.",
            unknown.join(", "),
            upgrading.join(", ")
        );
    }
    let lps = if logon_points.is_empty() {
        "(none audited)".to_string()
    } else {
        logon_points.join(", ")
    };
    let may_disable: Vec<&str> = behind.iter().copied().filter(|s| !followed.contains(*s)).collect();
    let never: Vec<&str> = behind.iter().copied().filter(|s| followed.contains(*s)).collect();
    let mut text = format!(
        "Upgrade {} together (within hours of each other)",
        sites
            .iter()
            .filter(|s| !already_there.contains(s))
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !may_disable.is_empty() {
        text.push_str(&format!(
            ", or first disable Windows Networking Logon Discovery and Logon Client Installation for {} so that {} stop sharing logon points {lps} with them",
            may_disable.join(", "),
            upgrading.join(", ")
        ));
    }
    text.push_str("; pause logon scripts (GOTO END in Smsls.bat) during the window.");
    if !never.is_empty() {
        text.push_str(&format!(
            " Never disable the logon methods of {}: Copylog.tcf's CLICORE.EXE line or Senior.lst names it, and disabling them removes its Sites folder and breaks every new logon installation in the domain (Q263345); it must move with the others.",
            never.join(", ")
        ));
    }
    if request.release.is_sp2_or_later() {
        text.push_str(
            " Before an SP2-or-later upgrade, apply Q251070/Q249077 and Q252718/Q252717 to every site of the group.",
        );
    }
    text
}

/// The steps of a group, in order.
fn steps(
    upgrading: &[String],
    left_behind: &[LeftBehind],
    prerequisites: &[Prerequisite],
    logon_points: &[String],
    followed: &BTreeSet<String>,
    request: &UpgradeRequest,
) -> Vec<String> {
    if upgrading.is_empty() {
        return Vec::new();
    }
    let to = &request.target;
    let lps = if logon_points.is_empty() {
        "every logon point of the domain".to_string()
    } else {
        logon_points.join(", ")
    };
    let mut steps = Vec::new();
    if !prerequisites.is_empty() {
        let each: Vec<&str> = prerequisites.iter().map(|p| p.text.as_str()).collect();
        steps.push(format!(
            "Before any site of the group installs {to}, apply to every site server of the group (Q261931): {}.",
            each.join("; ")
        ));
        steps.push(format!(
            "Wait until the Copylog.tcf of every logon point ({lps}) has been rewritten after those hotfixes (Config\\Copylog.tcf newer than the hotfix install: run smsaudit again and compare its modified time in files.csv) before installing {to} (Q261931, Q264630)."
        ));
    }
    let order: Vec<&str> = upgrading
        .iter()
        .map(String::as_str)
        .chain(left_behind.iter().map(|l| l.site.as_str()))
        .collect();
    steps.push(format!(
        "In one window (hours, not days), upgrade {} to {to}, in this order: once one site is at {to}, its Logon Server Manager can put its base on the shared logon points, and the clients of the others meet it until they follow (Q236596). Pause logon scripts for the window (GOTO END at the top of Smsls.bat).",
        order.join(", then ")
    ));
    let followed: Vec<&str> = followed.iter().map(String::as_str).collect();
    if !followed.is_empty() {
        steps.push(format!(
            "Never disable Windows Networking Logon Discovery or Logon Client Installation for {}: the logon points' Copylog.tcf CLICORE.EXE line or Senior.lst names it, and disabling them removes its Sites folder and breaks every new logon installation in the domain (Q263345).",
            followed.join(", ")
        ));
    }
    steps.push(
        "After the window, run smsaudit again: the findings the simulation says remain should be the only ones left."
            .to_string(),
    );
    steps
}

/// The estate after the upgrade: the moving sites' CAPs and site servers
/// offer the target's stock compvers, and the logon points they take part
/// in hold the target's base; then the same checks as today.
fn simulate(view: &EstateView, moving: &[&str], target: Release, findings: &[Finding], config: &Config) -> Simulation {
    if moving.is_empty() {
        let all = findings.iter().map(PlannedFinding::of).collect();
        return Simulation {
            remain: all,
            ..Simulation::default()
        };
    }
    let estate = simulated_estate(view, moving, target);
    let after = crate::rules::evaluate(&EstateView::new(&estate), config);
    let before: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let later: BTreeSet<&str> = after.iter().map(|f| f.fingerprint.as_str()).collect();
    Simulation {
        remain: findings
            .iter()
            .filter(|f| later.contains(f.fingerprint.as_str()))
            .map(PlannedFinding::of)
            .collect(),
        go_away: findings
            .iter()
            .filter(|f| !later.contains(f.fingerprint.as_str()))
            .map(PlannedFinding::of)
            .collect(),
        appear: after
            .iter()
            .filter(|f| !before.contains(f.fingerprint.as_str()))
            .map(PlannedFinding::of)
            .collect(),
    }
}

/// A copy of the estate with the moving sites' stamps and files at the
/// target's stock versions; the files they replace get one content per
/// file name (so copies agree) and the estate's latest time.
fn simulated_estate(view: &EstateView, moving: &[&str], target: Release) -> Estate {
    let info = target.info();
    let first = target.sp * 1000;
    let compver_of = |component: &str| {
        info.and_then(|i| i.stock_version(Stamped::Compver(component)))
            .unwrap_or_else(|| format!("2.00.{}.{first:04}", target.build))
    };
    let binary_of = |file: &str| {
        info.and_then(|i| i.stock_version(Stamped::of_file("base", file)))
            .unwrap_or_else(|| format!("2.0.{}.{first}", target.build))
    };
    // The new release's copy of a file: a content of its own, the same for
    // every share that gets it.
    let content = |file: &str| {
        let name = file.rsplit('\\').next().unwrap_or(file).to_ascii_lowercase();
        Sha256Digest::of(format!("simulated {target} {name}").as_bytes())
    };
    let site_shares: BTreeSet<&str> = view
        .estate
        .locations
        .iter()
        .filter(|l| matches!(l.kind, LocationKind::Cap | LocationKind::SiteServer))
        .filter(|l| l.sites.iter().any(|s| moving.contains(&s.as_str())))
        .map(|l| l.name.as_str())
        .collect();
    let logon_points: BTreeSet<&str> = view
        .locations(LocationKind::LogonPoint)
        .into_iter()
        .filter(|lp| view.participants(lp).iter().any(|s| moving.contains(&s.as_str())))
        .map(|lp| lp.name.as_str())
        .collect();
    // The site whose LSM writes the shared files: the first moving site.
    let writer = moving.iter().min().copied().unwrap_or_default().to_string();
    let latest = view.estate.files.iter().filter_map(|f| f.modified.clone()).max();
    let mut estate = view.estate.clone();
    let is_sms = |value: &str| Version::parse(value).is_some_and(|v| v.kind == VersionKind::Sms);
    for stamp in &mut estate.stamps {
        let at_site = site_shares.contains(stamp.location.as_str());
        let at_lp = logon_points.contains(stamp.location.as_str());
        match stamp.artifact {
            Artifact::Compver if at_site && is_sms(&stamp.value) => stamp.value = compver_of(&stamp.component).into(),
            // Inbox Manager rewrites the CFGs, empty RTM ones included.
            Artifact::Cfg if at_site => stamp.value = compver_of(&stamp.component).into(),
            Artifact::LogonBinary if at_lp => {
                if is_sms(&stamp.value) {
                    stamp.value = binary_of(&stamp.detail).into();
                }
                stamp.string_version = None;
                stamp.sha256 = Some(content(&stamp.detail));
            }
            Artifact::CopylogSource if at_lp && !stamp.detail.to_ascii_lowercase().starts_with("sites\\") => {
                stamp.value = writer.as_str().into();
            }
            Artifact::LogonSiteCompver if at_lp && moving.iter().any(|s| s.eq_ignore_ascii_case(&stamp.detail)) => {
                stamp.value = compver_of("base").into();
            }
            _ => {}
        }
    }
    for file in &mut estate.files {
        let lower = file.path.to_ascii_lowercase();
        let component = lower
            .strip_prefix("clicomp.box\\")
            .or_else(|| lower.strip_prefix("inboxes\\clicomp.src\\"));
        let replaced = match component {
            Some(_) => site_shares.contains(file.location.as_str()),
            None => logon_points.contains(file.location.as_str()) && lower.starts_with("x86.bin\\"),
        };
        if !replaced || file.status != Status::Ok {
            continue;
        }
        file.sha256 = Some(content(&lower));
        file.modified = latest.clone();
        file.string_version = None;
        if file.version.as_deref().is_some_and(is_sms) {
            let component = component
                .and_then(|c| c.split('\\').next())
                .map(|c| c.trim_end_matches(".cfg").to_string());
            file.version = Some(
                match component {
                    Some(c) if lower.ends_with("compver.ini") || lower.ends_with(".cfg") => compver_of(&c),
                    _ => binary_of(&lower),
                }
                .into(),
            );
        }
    }
    estate
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
    let no_op = plan.groups.iter().all(|g| g.upgrading.is_empty());
    let mut out = format!(
        "pre-upgrade check: {} to {}: {}\n",
        plan.requested.join(", "),
        to,
        match plan.verdict {
            _ if no_op => "nothing to do (already there)",
            PlanVerdict::Safe => "safe",
            PlanVerdict::Unsafe => "sites would be left behind",
            PlanVerdict::NotJudgeable => "cannot be judged (a sharing site's release is unknown)",
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
        if !group.no_op.is_empty() {
            out.push_str(&format!(
                "    already at {}: {} (no-op)\n",
                plan.target,
                group.no_op.join(", ")
            ));
        }
        if !group.already_there.is_empty() {
            out.push_str(&format!(
                "    already at {} or later: {}\n",
                plan.target,
                group.already_there.join(", ")
            ));
        }
        for left in &group.left_behind {
            out.push_str(&format!(
                "    left behind: {} at {}; CAPs {}; {}\n",
                left.site,
                left.current,
                if left.caps.is_empty() {
                    "none audited".to_string()
                } else {
                    left.caps.join(", ")
                },
                left.kbs.join(", ")
            ));
        }
        out.push_str(&format!("    advice: {}\n", group.advice));
        for (n, step) in group.steps.iter().enumerate() {
            out.push_str(&format!("    {}. {step}\n", n + 1));
        }
    }
    let sim = &plan.simulation;
    if !no_op {
        out.push_str(&format!(
            "  after the upgrade (simulated): {} findings remain, {} go away, {} appear\n",
            sim.remain.len(),
            sim.go_away.len(),
            sim.appear.len()
        ));
        for (what, list) in [("remains", &sim.remain), ("appears", &sim.appear)] {
            for finding in list {
                out.push_str(&format!(
                    "    {what}: {} {}: {}\n",
                    finding.severity.as_str(),
                    finding.short(),
                    finding.message
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stamp;

    fn cap(estate: &mut Estate, site: &str, base: &str) {
        let name = format!("\\\\S{site}\\CAP_{site}");
        estate
            .locations
            .push(Location::for_test(&name, LocationKind::Cap, &[site]));
        estate.stamps.push(Stamp::base_compver(&name, site, base));
    }

    /// A+B share DC1, B+C share DC2, D alone on DC3, E has no logon point.
    fn estate() -> Estate {
        let mut e = Estate::default();
        e.locations.push(Location::for_test(
            "\\\\DC1\\SMSLOGON",
            LocationKind::LogonPoint,
            &["AAA", "BBB"],
        ));
        e.locations.push(Location::for_test(
            "\\\\DC2\\SMSLOGON",
            LocationKind::LogonPoint,
            &["BBB", "CCC"],
        ));
        e.locations.push(Location::for_test(
            "\\\\DC3\\SMSLOGON",
            LocationKind::LogonPoint,
            &["DDD"],
        ));
        cap(&mut e, "AAA", "2.00.1380.1000");
        cap(&mut e, "BBB", "2.00.1380.1000");
        cap(&mut e, "CCC", "2.00.1493.2009");
        cap(&mut e, "DDD", "2.00.1380.1000");
        cap(&mut e, "EEE", "2.00.1380.1000");
        e
    }

    fn plan_of(estate: &Estate, request: &UpgradeRequest) -> UpgradePlan {
        plan(&EstateView::new(estate), request, &[], &Config::new(Vec::new()))
    }

    fn request(sites: &str, to: &str) -> UpgradeRequest {
        UpgradeRequest::parse(sites, to).unwrap()
    }

    #[test]
    fn transitive_group_must_move_together() {
        let p = plan_of(&estate(), &request("aaa", "SP2"));
        assert_eq!(p.groups.len(), 1);
        assert_eq!(p.groups[0].sites, vec!["AAA", "BBB", "CCC"]);
        assert_eq!(p.groups[0].logon_points, vec!["\\\\DC1\\SMSLOGON", "\\\\DC2\\SMSLOGON"]);
        let left: Vec<(&str, bool)> = p.groups[0]
            .left_behind
            .iter()
            .map(|l| (l.site.as_str(), l.behind))
            .collect();
        // CCC is already at SP2: not behind.
        assert_eq!(left, vec![("BBB", true)]);
        assert_eq!(p.groups[0].already_there, vec!["CCC"]);
        assert_eq!(p.verdict, PlanVerdict::Unsafe);
        assert!(!p.safe);
        assert!(p.groups[0].left_behind[0].kbs.contains(&"Q264630".to_string()));
        assert!(
            p.groups[0].advice.contains("Upgrade AAA, BBB together"),
            "{}",
            p.groups[0].advice
        );
    }

    #[test]
    fn lone_and_unshared_sites_are_safe() {
        for site in ["DDD", "EEE"] {
            let p = plan_of(&estate(), &request(site, "SP3"));
            assert!(p.safe, "{site}");
            assert_eq!(p.groups[0].sites, vec![site]);
            assert!(p.groups[0].left_behind.is_empty());
        }
    }

    #[test]
    fn whole_group_requested_is_safe_and_q262677_named_for_sp2_sites() {
        assert!(plan_of(&estate(), &request("AAA,BBB,CCC", "SP3")).safe);
        let p = plan_of(&estate(), &request("AAA,BBB", "SP3"));
        let ccc = &p.groups[0].left_behind[0];
        assert_eq!(ccc.site, "CCC");
        assert!(ccc.behind);
        assert!(ccc.kbs.contains(&"Q262677".to_string()));
        let p = plan_of(&estate(), &request("AAA,DDD", "2.00.1493.4009"));
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
