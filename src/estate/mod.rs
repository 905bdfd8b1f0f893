//! The estate: every location with its files and the stamps extracted from
//! them, built from the crawl, and the one index of it ([`EstateView`])
//! that the checks, the matrix and the pre-upgrade check all read.

mod index;

pub(crate) use index::{identity, EstateView, SiteControlOf};

use crate::crawl::Crawled;
use crate::extract::Detail;
use crate::model::{Artifact, CaseTwins, CompactString, FileRecord, Location, LocationKind, RowKey, Stamp, Status};
use crate::records::{self, FileRecords};
use crate::sms::layout::{self, Role};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// The most matrix items (components, CFG files, compver variants, logon
/// point site folders) one share may add. An SMS 2.0 share has a few dozen;
/// without a bound, one share with 50,000 component folders makes the
/// matrix 50,000 rows times every location.
pub const MAX_ITEMS_PER_LOCATION: usize = 1_000;

/// Locations, the records the checks read and the stamps, after the crawl
/// and extraction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Estate {
    pub locations: Vec<Location>,
    /// The records the checks read, by location and path: see [`Gatherer`].
    pub files: Vec<FileRecord>,
    pub stamps: Vec<Stamp>,
    /// Every folder listed: (location, share-relative path).
    pub folders: Vec<(CompactString, CompactString)>,
    /// Entries whose names differ only in case (A07), by location.
    pub case_twins: Vec<CaseTwins>,
    /// Shares that hold more items than [`MAX_ITEMS_PER_LOCATION`] (A08).
    pub fan_outs: Vec<FanOut>,
    /// The site control files read, by location.
    pub site_controls: Vec<SiteControlRead>,
    /// When the run started: the ages of pending site control deltas
    /// (N12) are measured against it.
    pub started: Option<std::time::SystemTime>,
}

/// A site control file as read (`inboxes\sitectrl.box\sitectrl.ct0`).
#[derive(Debug, Clone)]
pub(crate) struct SiteControlRead {
    pub location: String,
    /// The file's path in the share, as written there.
    pub path: String,
    pub control: crate::extract::sitectrl::SiteControl,
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

/// Receives the crawl. Keeps what the checks read: the records in
/// evidence folders and at the top of a share (`layout::checks_read`),
/// every record of what was not read, the stamps, and the folders listed
/// where the checks look. Every record also goes to the reports' store, so
/// memory follows what the checks need, not the number of files.
pub(crate) struct Gatherer {
    kept: Mutex<Kept>,
    records: records::Collector,
}

#[derive(Default)]
struct Kept {
    files: Vec<FileRecord>,
    stamps: Vec<Stamp>,
    folders: Vec<(CompactString, CompactString)>,
    site_controls: Vec<SiteControlRead>,
}

impl Gatherer {
    /// Records beyond what memory should hold go to `spill_dir`.
    pub(crate) fn new(spill: Option<records::Spill>) -> Gatherer {
        Gatherer {
            kept: Mutex::new(Kept::default()),
            records: records::Collector::new(spill),
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl crate::crawl::Sink for Gatherer {
    fn entry(&self, location: &Location, record: FileRecord, detail: Detail) {
        let site = (location.kind != LocationKind::LogonPoint)
            .then(|| location.sites.first().map(String::as_str))
            .flatten();
        thread_local! {
            /// The lower-case path, in one buffer for every record.
            static LOWER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        let mut stamps = Vec::new();
        let keep = LOWER.with_borrow_mut(|lower| {
            lower.clear();
            lower.push_str(&record.path);
            lower.make_ascii_lowercase();
            stamps_for(location.kind, site, &record, lower, &detail, &mut stamps);
            !stamps.is_empty() || record.status != Status::Ok || layout::checks_read(location.kind, lower)
        });
        if keep {
            let mut kept = self.kept();
            kept.files.push(record.clone());
            kept.stamps.append(&mut stamps);
            if let Detail::SiteControl(control) = &detail {
                kept.site_controls.push(SiteControlRead {
                    location: location.name.clone(),
                    path: record.path.to_string(),
                    control: control.clone(),
                });
            }
        }
        self.records.push(record);
    }

    fn folder(&self, location: &Location, path: String) {
        if layout::checks_read(location.kind, &path.to_ascii_lowercase()) {
            self.kept().folders.push((location.name.as_str().into(), path.into()));
        }
    }
}

/// Turns the crawl into the estate (what the checks read) and the store of
/// every file record (what the reports read).
pub(crate) fn build(crawled: Vec<Crawled>, gathered: Gatherer) -> std::io::Result<(Estate, FileRecords)> {
    let Gatherer { kept, records } = gathered;
    let Kept {
        mut files,
        mut stamps,
        mut folders,
        mut site_controls,
    } = kept.into_inner().unwrap_or_else(|e| e.into_inner());
    // Entries of a share given up on after they arrived are not reported.
    let dropped: BTreeSet<String> = crawled
        .iter()
        .filter(|c| c.location.status != Status::Ok)
        .map(|c| c.location.name.clone())
        .collect();
    // First: once the records went to runs, the buffer follows them before
    // the stamps below are sorted (the moment memory peaks at 10,000 shares).
    let records = records.finish(&dropped)?;
    files.retain(|f| !dropped.contains(f.location.as_str()));
    folders.retain(|(location, _)| !dropped.contains(location.as_str()));
    site_controls.retain(|s| !dropped.contains(&s.location));
    site_controls.sort_by(|a, b| (&a.location, &a.path).cmp(&(&b.location, &b.path)));
    crate::records::sort(&mut files);
    folders.sort();
    let mut twins: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for twin in crawled.iter().flat_map(|c| &c.case_twins) {
        twins.entry(&twin.location).or_default().insert(&twin.lower);
    }
    // What Windows serves at a twinned path is unknown: no stamp.
    stamps.retain(|stamp| {
        let twinned = twins
            .get(stamp.location.as_str())
            .is_some_and(|t| under_any(&stamp.path.to_ascii_lowercase(), t));
        !twinned && !dropped.contains(stamp.location.as_str())
    });
    // By location, each location's in the order they came: their positions
    // are sorted and the stamps moved, as a stable sort of the stamps
    // themselves takes a scratch copy of half of them (16 MB at 10,000
    // shares, at the moment memory peaks).
    let mut order: Vec<usize> = (0..stamps.len()).collect();
    order.sort_by(|&a, &b| stamps[a].location.cmp(&stamps[b].location));
    permute(&mut stamps, order);
    let mut fan_outs = Vec::new();
    let mut first_dropped: BTreeMap<String, RowKey> = BTreeMap::new();
    for location in stamps.chunk_by(|a, b| a.location == b.location) {
        if let Some((fan_out, first)) = bound_items(location) {
            first_dropped.insert(fan_out.location.clone(), first);
            fan_outs.push(fan_out);
        }
    }
    if !first_dropped.is_empty() {
        stamps.retain(|s| {
            first_dropped
                .get(s.location.as_str())
                .is_none_or(|first| !is_item(s) || RowKey::of(s) < *first)
        });
    }
    // The kept records and stamps are most of what the checks hold (at
    // 10,000 shares about 270,000 and 150,000): no room left over from
    // growing them.
    files.shrink_to_fit();
    stamps.shrink_to_fit();
    let mut estate = Estate {
        files,
        folders,
        stamps,
        fan_outs,
        site_controls,
        ..Estate::default()
    };
    let mut seen = logon_sites_seen(&estate, &crawled);
    for Crawled {
        mut location,
        case_twins,
    } in crawled
    {
        if let Some(sites) = seen.remove(&location.name) {
            location.sites = sites;
        }
        estate.case_twins.extend(case_twins);
        estate.locations.push(location);
    }
    Ok((estate, records))
}

/// The sites each logon point's crawl saw (`Sites\<code>` folders,
/// `Sitescfg\<code>_cfg.lcf` files), for those whose discovery could not
/// look (a share read over SMB is first listed by the crawl): the sites a
/// local logon point's discovery gives. One pass over the kept folders and
/// files, whatever the number of logon points.
fn logon_sites_seen(estate: &Estate, crawled: &[Crawled]) -> BTreeMap<String, Vec<String>> {
    let mut seen: BTreeMap<String, BTreeSet<String>> = crawled
        .iter()
        .map(|c| &c.location)
        .filter(|location| location.kind == LocationKind::LogonPoint && location.sites.is_empty())
        .map(|location| (location.name.clone(), BTreeSet::new()))
        .collect();
    if seen.is_empty() {
        return BTreeMap::new();
    }
    let folders = estate
        .folders
        .iter()
        .filter_map(|(at, path)| Some((at, layout::logon_site_named(path, true)?)));
    let files = estate
        .files
        .iter()
        .filter(|f| f.kind != crate::model::FileKind::Directory)
        .filter_map(|f| Some((&f.location, layout::logon_site_named(&f.path, false)?)));
    for (at, site) in folders.chain(files) {
        if let Some(sites) = seen.get_mut(at.as_str()) {
            sites.insert(site);
        }
    }
    seen.into_iter()
        .map(|(location, sites)| (location, sites.into_iter().collect()))
        .collect()
}

/// Rearranges `items` in place so that the item at `i` is the one that
/// was at `order[i]` (`order` a permutation of the positions), following
/// each cycle of the permutation.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut hole = start;
        while order[hole] != hole {
            let source = order[hole];
            // Placed: the cycle ends when it comes back to its start.
            order[hole] = hole;
            if source == start {
                break;
            }
            items.swap(hole, source);
            hole = source;
        }
    }
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

/// Whether a stamp is a matrix item: references (Copylog lines, offers,
/// the senior site) are not.
fn is_item(s: &Stamp) -> bool {
    !matches!(
        s.artifact,
        Artifact::CopylogSource | Artifact::OfferRef | Artifact::SeniorSite
    )
}

/// Whether one share's stamps (all of one location) hold more than
/// [`MAX_ITEMS_PER_LOCATION`] matrix items: then the fan-out, and the first
/// item left out, by name (so the result does not depend on listing
/// order): the stamps of items from it on are dropped.
fn bound_items(stamps: &[Stamp]) -> Option<(FanOut, RowKey)> {
    let items: BTreeSet<RowKey> = stamps.iter().filter(|s| is_item(s)).map(RowKey::of).collect();
    if items.len() <= MAX_ITEMS_PER_LOCATION {
        return None;
    }
    let first_dropped = items.iter().nth(MAX_ITEMS_PER_LOCATION)?.clone();
    let fan_out = FanOut {
        location: stamps.first()?.location.to_string(),
        items: items.len(),
        first_dropped: first_dropped.label(),
    };
    Some((fan_out, first_dropped))
}

/// The stamps one read file gives, by its role in the share layout.
fn stamps_for(
    location_kind: LocationKind,
    site: Option<&str>,
    record: &FileRecord,
    lower: &str,
    detail: &Detail,
    out: &mut Vec<Stamp>,
) {
    if record.sha256.is_none() {
        return;
    }
    let stamp = |component: &str, artifact: Artifact, detail: &str, site: Option<&str>, value: CompactString| Stamp {
        location: record.location.clone(),
        site: site.map(CompactString::from),
        component: component.into(),
        artifact,
        detail: detail.into(),
        value,
        path: record.path.clone(),
        string_version: record.string_version.clone(),
        sha256: record.sha256,
    };
    let version = record.version.clone().unwrap_or_default();
    match (layout::role(location_kind, lower), detail) {
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
            out.push(stamp("base", Artifact::LogonBinary, lower, None, version));
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
                    code.as_str().into(),
                ));
            }
        }
        (Role::SeniorList, Detail::Senior(code)) => {
            out.push(stamp("", Artifact::SeniorSite, "", None, code.as_str().into()));
        }
        (Role::OfferInstruction, Detail::OfferRefs(names)) => {
            for name in names {
                out.push(stamp("", Artifact::OfferRef, lower, site, name.as_str().into()));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every permutation of up to six items, and a long one of many
    /// cycles, come out as indexing by the order would give them.
    #[test]
    fn permute_moves_each_item_to_its_place() {
        fn all_orders(n: usize) -> Vec<Vec<usize>> {
            if n == 0 {
                return vec![Vec::new()];
            }
            let mut out = Vec::new();
            for shorter in all_orders(n - 1) {
                for at in 0..n {
                    let mut order = shorter.clone();
                    order.insert(at, n - 1);
                    out.push(order);
                }
            }
            out
        }
        let mut orders: Vec<Vec<usize>> = (0..=6).flat_map(all_orders).collect();
        orders.push((0..1000).map(|i| (i * 7919) % 1000).collect());
        for order in orders {
            let items: Vec<String> = (0..order.len()).map(|i| format!("item {i}")).collect();
            let want: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
            let mut got = items.clone();
            permute(&mut got, order.clone());
            assert_eq!(got, want, "{order:?}");
        }
    }
}
