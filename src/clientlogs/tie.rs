//! Ties a symptom to the findings, and so the causes, that explain it:
//! a finding of a check the signature names, on the share the line names
//! (any case, `\\?\` or not), else at the site of that share or the site
//! the line names, narrowed to the component and path when they tell.
//! When nothing explains it, the symptom says whether the share could not
//! be checked, was not audited, or was audited and found fine.

use super::signatures::{Context, Matched};
use crate::model::{Finding, Location, LocationKind};
use crate::sms::layout;
use serde::Serialize;
use std::collections::BTreeSet;

/// What the shares say about one symptom line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A finding on the shares explains it.
    Explained,
    /// A share it points to could not be read wholly: nothing can say.
    NotChecked,
    /// Nothing on the audited shares explains it.
    Unexplained,
    /// Nothing on the shares explains it now, and the line is older than
    /// the run that first no longer saw the finding that explained it
    /// (`--history`): it predates the fix.
    BeforeFix,
    /// Nothing on the shares causes it (network, account, license).
    NotShareRelated,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Explained => "explained",
            Outcome::NotChecked => "not checked",
            Outcome::Unexplained => "unexplained",
            Outcome::BeforeFix => "before fix",
            Outcome::NotShareRelated => "not share-related",
        }
    }
}

/// The tie of one symptom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tie {
    pub outcome: Outcome,
    /// Cause ids, in report order: those that explain the symptom, or for
    /// [`Outcome::NotChecked`] those that say what could not be read.
    pub causes: Vec<String>,
    /// Positions of the findings in the audit's findings.
    pub findings: Vec<usize>,
    pub reason: String,
}

/// What the audit knows, for tying.
pub(crate) struct Shares<'a> {
    pub findings: &'a [Finding],
    /// The id of each finding's cause, by position.
    pub cause_of: &'a [String],
    pub locations: &'a [Location],
}

impl Shares<'_> {
    fn location(&self, name: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.name.eq_ignore_ascii_case(name))
    }

    /// The sites of a share: as audited, or from its name (`CAP_MS1`).
    fn sites_of(&self, name: &str) -> BTreeSet<String> {
        if let Some(location) = self.location(name) {
            return location.sites.iter().map(|s| s.to_ascii_uppercase()).collect();
        }
        let share = name.rsplit('\\').next().unwrap_or("");
        [LocationKind::Cap, LocationKind::SiteServer]
            .into_iter()
            .filter_map(|kind| layout::site_from_share(kind, share))
            .collect()
    }
}

fn at_site(finding: &Finding, sites: &BTreeSet<String>) -> bool {
    finding
        .site
        .split_whitespace()
        .any(|s| sites.contains(&s.to_ascii_uppercase()))
}

/// Ties one matched line, using what the log named before it when the
/// line names neither a share nor a site.
pub(crate) fn tie(matched: &Matched, context: &Context, shares: &Shares) -> Tie {
    let signature = matched.signature;
    let kb = signature.kb.join(", ");
    if !signature.share_related() {
        return Tie {
            outcome: Outcome::NotShareRelated,
            causes: Vec::new(),
            findings: Vec::new(),
            reason: format!(
                "{}: a client, network or account problem, not one on the shares ({kb})",
                signature.title
            ),
        };
    }
    let own = !matched.location.is_empty() || !matched.site.is_empty();
    let (location, through) = match (own, context.location.is_empty()) {
        (true, _) | (false, true) => (matched.location.clone(), String::new()),
        (false, false) => (
            context.location.clone(),
            format!(" (through {} named earlier in this log)", context.location),
        ),
    };
    let mut sites: BTreeSet<String> = BTreeSet::new();
    if !matched.site.is_empty() {
        sites.insert(matched.site.clone());
    } else if !location.is_empty() {
        sites = shares.sites_of(&location);
    } else if !context.site.is_empty() {
        sites.insert(context.site.clone());
    }
    let candidates: Vec<usize> = shares
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| signature.codes.contains(&f.code))
        .map(|(i, _)| i)
        .collect();
    let finding = |i: &usize| &shares.findings[*i];
    let on_share = |i: &&usize| finding(i).location.eq_ignore_ascii_case(&location);
    let mut chosen: Vec<usize> = Vec::new();
    if !location.is_empty() {
        chosen = candidates
            .iter()
            .filter(on_share)
            .filter(|i| matched.path.is_empty() || finding(i).path.eq_ignore_ascii_case(&matched.path))
            .copied()
            .collect();
        if chosen.is_empty() {
            chosen = candidates.iter().filter(on_share).copied().collect();
        }
    }
    if chosen.is_empty() && !sites.is_empty() {
        chosen = candidates
            .iter()
            .filter(|i| at_site(finding(i), &sites))
            .copied()
            .collect();
    }
    if chosen.is_empty() && location.is_empty() && sites.is_empty() {
        // The line names nothing: any finding of its checks may explain it.
        chosen = candidates;
    }
    if !matched.component.is_empty() {
        let component = format!("\\{}\\", matched.component.to_ascii_lowercase());
        let of_component: Vec<usize> = chosen
            .iter()
            .filter(|i| format!("\\{}\\", finding(i).path.to_ascii_lowercase()).contains(&component))
            .copied()
            .collect();
        if !of_component.is_empty() {
            chosen = of_component;
        }
    }
    if !chosen.is_empty() {
        let causes = causes_of(shares.cause_of, &chosen);
        let codes: BTreeSet<&str> = chosen.iter().map(|i| finding(i).code.as_str()).collect();
        return Tie {
            outcome: Outcome::Explained,
            reason: format!(
                "{} explained by {} ({}){through}",
                signature.title,
                causes.join(" "),
                codes.into_iter().collect::<Vec<_>>().join(" ")
            ),
            causes,
            findings: chosen,
        };
    }
    let not_checked: Vec<usize> = shares
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.code.means_not_checked())
        .filter(|(_, f)| (!location.is_empty() && f.location.eq_ignore_ascii_case(&location)) || at_site(f, &sites))
        .map(|(i, _)| i)
        .collect();
    if !not_checked.is_empty() {
        let causes = causes_of(shares.cause_of, &not_checked);
        return Tie {
            outcome: Outcome::NotChecked,
            reason: format!(
                "could not check: what it points to was not read wholly ({}){through}; see {kb}",
                causes.join(" ")
            ),
            causes,
            findings: not_checked,
        };
    }
    let reason = if !location.is_empty() && shares.location(&location).is_none() {
        format!("{location} was not audited: add it as a root to check it{through}; see {kb}")
    } else if !location.is_empty() {
        format!("nothing on {location} explains it{through}; see {kb}")
    } else {
        format!("nothing on the audited shares explains it; see {kb}")
    };
    Tie {
        outcome: Outcome::Unexplained,
        causes: Vec::new(),
        findings: Vec::new(),
        reason,
    }
}

/// The causes of some findings, each once, in report order.
fn causes_of(cause_of: &[String], positions: &[usize]) -> Vec<String> {
    let mut causes: Vec<String> = Vec::new();
    let mut sorted = positions.to_vec();
    sorted.sort_unstable();
    for &i in &sorted {
        let cause = &cause_of[i];
        if !cause.is_empty() && !causes.contains(cause) {
            causes.push(cause.clone());
        }
    }
    causes.sort_by_key(|c| c.trim_start_matches('C').parse::<usize>().unwrap_or(usize::MAX));
    causes
}
