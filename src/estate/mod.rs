//! The estate: every location with its files and the stamps extracted from
//! them, built from the crawl, and the one index of it ([`EstateView`])
//! that the checks, the matrix and the pre-upgrade check all read.

mod index;

pub(crate) use index::{identity, EstateView};

use crate::crawl::CrawledLocation;
use crate::extract::Detail;
use crate::model::{Artifact, FileRecord, Location, LocationKind, RowKey, Stamp};
use crate::sms::layout::{self, Role};
use std::collections::{BTreeMap, BTreeSet};

/// The most matrix items (components, CFG files, compver variants, logon
/// point site folders) one share may add. An SMS 2.0 share has a few dozen;
/// without a bound, one share with 50,000 component folders makes the
/// matrix 50,000 rows times every location.
pub const MAX_ITEMS_PER_LOCATION: usize = 1_000;

/// Locations, files and stamps after the crawl and extraction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Estate {
    pub locations: Vec<Location>,
    pub files: Vec<FileRecord>,
    pub stamps: Vec<Stamp>,
    /// Every folder listed: (location, share-relative path).
    pub folders: Vec<(String, String)>,
    /// Entries whose names differ only in case (A07), by location.
    pub case_twins: Vec<CaseTwins>,
    /// Shares that hold more items than [`MAX_ITEMS_PER_LOCATION`] (A08).
    pub fan_outs: Vec<FanOut>,
}

/// Entries of one share whose names differ only in case: Windows opens one
/// of them, which one the audit cannot know.
#[derive(Debug, Clone)]
pub(crate) struct CaseTwins {
    pub location: String,
    /// The shared lower-case path.
    pub lower: String,
    /// Every spelling, sorted.
    pub paths: Vec<String>,
}

/// A share whose items were cut at [`MAX_ITEMS_PER_LOCATION`].
#[derive(Debug, Clone)]
pub(crate) struct FanOut {
    pub location: String,
    /// Distinct items the share holds.
    pub items: usize,
    /// The first one left out, by name.
    pub first_dropped: String,
}

/// Turns crawled locations into the estate: records plus stamps.
pub(crate) fn build(crawled: Vec<CrawledLocation>) -> Estate {
    let mut estate = Estate::default();
    for CrawledLocation {
        location,
        files,
        folders,
    } in crawled
    {
        let site = (location.kind != LocationKind::LogonPoint)
            .then(|| location.sites.first().cloned())
            .flatten();
        let twins = case_twins(
            &location.name,
            files.iter().map(|(record, _)| record.path.as_str()),
            folders.iter().map(String::as_str),
        );
        let twin_paths: BTreeSet<&str> = twins.iter().map(|t| t.lower.as_str()).collect();
        let mut stamps = Vec::new();
        for (record, detail) in files {
            // What Windows serves at a twinned path is unknown: no stamp.
            if !under_any(&record.path.to_ascii_lowercase(), &twin_paths) {
                stamps_for(location.kind, site.as_deref(), &record, &detail, &mut stamps);
            }
            estate.files.push(record);
        }
        if let Some(fan_out) = bound_items(&location.name, &mut stamps) {
            estate.fan_outs.push(fan_out);
        }
        estate.stamps.append(&mut stamps);
        estate.case_twins.extend(twins);
        estate
            .folders
            .extend(folders.into_iter().map(|folder| (location.name.clone(), folder)));
        estate.locations.push(location);
    }
    estate
}

/// Whether `lower` or a folder above it is in `paths`.
pub(crate) fn under_any(lower: &str, paths: &BTreeSet<impl std::borrow::Borrow<str> + Ord>) -> bool {
    if paths.is_empty() {
        return false;
    }
    let mut at = lower;
    loop {
        if paths.contains(at) {
            return true;
        }
        match at.rfind('\\') {
            Some(cut) => at = &at[..cut],
            None => return false,
        }
    }
}

/// Files and folders of one share whose paths differ only in case.
fn case_twins<'a>(
    location: &str,
    files: impl Iterator<Item = &'a str>,
    folders: impl Iterator<Item = &'a str>,
) -> Vec<CaseTwins> {
    let mut spellings: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for path in files.chain(folders) {
        spellings.entry(path.to_ascii_lowercase()).or_default().insert(path);
    }
    spellings
        .into_iter()
        .filter(|(_, paths)| paths.len() > 1)
        .map(|(lower, paths)| CaseTwins {
            location: location.to_string(),
            lower,
            paths: paths.into_iter().map(str::to_string).collect(),
        })
        .collect()
}

/// Keeps the stamps of the first [`MAX_ITEMS_PER_LOCATION`] matrix items of
/// one share, by name, so the result does not depend on listing order.
/// References (Copylog lines, offers, the senior site) are not items.
fn bound_items(location: &str, stamps: &mut Vec<Stamp>) -> Option<FanOut> {
    let is_item = |s: &Stamp| {
        !matches!(
            s.artifact,
            Artifact::CopylogSource | Artifact::OfferRef | Artifact::SeniorSite
        )
    };
    let items: BTreeSet<RowKey> = stamps.iter().filter(|s| is_item(s)).map(RowKey::of).collect();
    if items.len() <= MAX_ITEMS_PER_LOCATION {
        return None;
    }
    let first_dropped = items.iter().nth(MAX_ITEMS_PER_LOCATION)?.clone();
    stamps.retain(|s| !is_item(s) || RowKey::of(s) < first_dropped);
    Some(FanOut {
        location: location.to_string(),
        items: items.len(),
        first_dropped: first_dropped.label(),
    })
}

/// The stamps one read file gives, by its role in the share layout.
fn stamps_for(
    location_kind: LocationKind,
    site: Option<&str>,
    record: &FileRecord,
    detail: &Detail,
    out: &mut Vec<Stamp>,
) {
    if record.sha256.is_none() {
        return;
    }
    let lower = record.path.to_ascii_lowercase();
    let stamp = |component: &str, artifact: Artifact, detail: &str, site: Option<&str>, value: String| Stamp {
        location: record.location.clone(),
        site: site.map(str::to_string),
        component: component.to_string(),
        artifact,
        detail: detail.to_string(),
        value,
        path: record.path.clone(),
        string_version: record.string_version.clone(),
        sha256: record.sha256.clone(),
    };
    let version = record.version.clone().unwrap_or_default();
    match (layout::role(location_kind, &lower), detail) {
        (
            Role::Compver {
                component,
                file: "compver.ini",
            },
            _,
        ) => {
            out.push(stamp(component, Artifact::Compver, "", site, version));
        }
        (Role::Compver { component, file }, _) => {
            out.push(stamp(component, Artifact::CompverVariant, file, site, version));
        }
        (Role::ComponentCfg { component }, _) => {
            out.push(stamp(component, Artifact::Cfg, "", site, version));
        }
        (Role::LogonSiteCompver { site }, _) => {
            let code = site.to_ascii_uppercase();
            out.push(stamp("base", Artifact::LogonSiteCompver, &code, Some(&code), version));
        }
        (Role::LogonBaseBinary, _) => {
            out.push(stamp("base", Artifact::LogonBinary, &lower, None, version));
        }
        // Every Copylog line, SITES\ ones included: the checks read them all.
        (Role::Copylog, Detail::Copylog(lines)) => {
            for (path, code) in lines {
                let code = code.to_ascii_uppercase();
                out.push(stamp(
                    "base",
                    Artifact::CopylogSource,
                    &path.to_ascii_lowercase(),
                    Some(&code),
                    code.clone(),
                ));
            }
        }
        (Role::SeniorList, Detail::Senior(code)) => {
            out.push(stamp("", Artifact::SeniorSite, "", None, code.clone()));
        }
        (Role::OfferInstruction, Detail::OfferRefs(names)) => {
            for name in names {
                out.push(stamp("", Artifact::OfferRef, &lower, site, name.clone()));
            }
        }
        _ => {}
    }
}
