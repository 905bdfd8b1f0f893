//! The index of the estate that every later stage reads: which locations
//! serve which site, what each offers, which sites take part in a logon
//! point and what it gives clients. Built once per audit.

use super::Estate;
use crate::model::{Artifact, FileKind, FileRecord, Location, LocationKind, Stamp, Status};
use crate::sms::layout;
use crate::sms::release::Stamped;
use crate::sms::version::{Version, VersionKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The base release a logon point gives clients, and how it was learnt.
#[derive(Debug, Clone)]
pub(crate) struct LogonBase {
    pub version: Version,
    /// In words: `x86.bin\clicore.exe version resource`, ...
    pub evidence: String,
    /// The file the evidence comes from, relative to the share.
    pub path: String,
    /// What `version` stamps: Clicore's version resource, or a site's base
    /// compver (a twin's or the Copylog source's); labels measure it
    /// against that kind's stock version.
    pub stamped: Stamped<'static>,
}

/// A site's site control file and the site server share it was read from.
#[derive(Clone, Copy)]
pub(crate) struct SiteControlOf<'a> {
    pub read: &'a super::SiteControlRead,
    pub location: &'a Location,
}

impl SiteControlOf<'_> {
    /// `\\SERVER\SMS_MS1\inboxes\sitectrl.box\sitectrl.ct0`.
    pub(crate) fn source(&self) -> String {
        format!("{}\\{}", self.location.name, self.read.path)
    }
}

pub(crate) struct EstateView<'a> {
    pub estate: &'a Estate,
    by_location: BTreeMap<&'a str, Vec<&'a Stamp>>,
    /// Every entry per location (read or not), by lower-case share-relative
    /// path; `files` and `file` give the read ones.
    entries: BTreeMap<&'a str, Entries<'a>>,
    /// Listed folders per location, lower case.
    folders: BTreeMap<&'a str, BTreeSet<String>>,
    /// Lower-case paths with more than one spelling per location (A07):
    /// what lies at or below them is not known.
    twins: BTreeMap<&'a str, BTreeSet<&'a str>>,
    /// Who is where, built once so that no stage scans every location for
    /// every site (10,000 shares made that 70 % of a run).
    sites: SiteIndex<'a>,
}

/// The locations of each site and the participants of each logon point,
/// every list in location name order.
#[derive(Default)]
struct SiteIndex<'a> {
    /// Every location in name order, readable or not.
    all: Vec<&'a Location>,
    /// Every location by name (the first of a name).
    by_name: HashMap<&'a str, &'a Location>,
    /// Readable locations of each kind.
    readable: HashMap<LocationKind, Vec<&'a Location>>,
    /// Readable locations of each (upper-case site, kind).
    readable_of_site: HashMap<(String, LocationKind), Vec<&'a Location>>,
    /// Locations of each (upper-case site, kind), readable or not.
    any_of_site: HashMap<(String, LocationKind), Vec<&'a Location>>,
    /// The participants of each readable logon point.
    participants: HashMap<&'a str, Vec<String>>,
    /// Logon points by the sites they serve: the participants of a
    /// readable one, the `Sites` folders of one that could not be read.
    logon_points_of_site: HashMap<String, Vec<&'a Location>>,
    /// The readable logon points each site takes part in.
    participations: HashMap<String, Vec<&'a Location>>,
    /// Site servers then CAPs, each in name order, with the SHA-256 of
    /// their base `clicore.exe`, by that hash.
    clicore_by_hash: HashMap<crate::model::Sha256Digest, Vec<&'a Location>>,
    /// The site control file of each (upper-case) site: see
    /// [`EstateView::site_control`].
    site_controls: HashMap<String, SiteControlOf<'a>>,
}

/// The entries of one location in lower-case path order, one per
/// lower-case path (the last in the estate's order): a list of references,
/// not a map of lower-case copies of every path (at 10,000 shares 270,000
/// entries, about 100 bytes each that way).
#[derive(Default)]
struct Entries<'a>(Vec<&'a FileRecord>);

/// `a` and `b` as their lower-case forms compare.
fn cmp_lower(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

impl<'a> Entries<'a> {
    fn sort(&mut self) {
        // Stable: of one lower-case path, the last in the estate's order
        // stays, as a map's later insert replaces the earlier.
        self.0.sort_by(|a, b| cmp_lower(&a.path, &b.path));
        let mut kept: Vec<&'a FileRecord> = Vec::with_capacity(self.0.len());
        for record in self.0.drain(..) {
            match kept.last_mut() {
                Some(last) if cmp_lower(&last.path, &record.path).is_eq() => *last = record,
                _ => kept.push(record),
            }
        }
        self.0 = kept;
    }

    /// The entry at `path`, case-insensitively.
    fn get(&self, path: &str) -> Option<&'a FileRecord> {
        let at = self.0.binary_search_by(|r| cmp_lower(&r.path, path)).ok()?;
        Some(self.0[at])
    }

    /// The entries whose lower-case path starts with `prefix` (in any case).
    fn under(&self, prefix: String) -> impl Iterator<Item = &'a FileRecord> + '_ {
        let from = self.0.partition_point(|r| cmp_lower(&r.path, &prefix).is_lt());
        self.0[from..].iter().copied().take_while(move |r| {
            r.path.len() >= prefix.len() && r.path.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        })
    }
}

impl<'a> EstateView<'a> {
    pub(crate) fn new(estate: &'a Estate) -> EstateView<'a> {
        let mut by_location: BTreeMap<&str, Vec<&Stamp>> = BTreeMap::new();
        for stamp in &estate.stamps {
            by_location.entry(stamp.location.as_str()).or_default().push(stamp);
        }
        let mut twins: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for twin in &estate.case_twins {
            twins
                .entry(twin.location.as_str())
                .or_default()
                .insert(twin.lower.as_str());
        }
        let mut entries: BTreeMap<&str, Entries> = BTreeMap::new();
        for record in &estate.files {
            // A twinned entry is neither read nor absent: `not_read` says so.
            if twins
                .get(record.location.as_str())
                .is_some_and(|t| super::under_any(&record.path.to_ascii_lowercase(), t))
            {
                continue;
            }
            entries.entry(record.location.as_str()).or_default().0.push(record);
        }
        for location in entries.values_mut() {
            location.sort();
        }
        let mut folders: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (location, folder) in &estate.folders {
            folders
                .entry(location.as_str())
                .or_default()
                .insert(folder.as_str().to_ascii_lowercase());
        }
        let mut view = EstateView {
            estate,
            entries,
            folders,
            by_location,
            twins,
            sites: SiteIndex::default(),
        };
        view.sites = view.site_index();
        view
    }

    /// The site index, from the locations and the entries already indexed.
    fn site_index(&self) -> SiteIndex<'a> {
        let mut index = SiteIndex::default();
        let mut all: Vec<&'a Location> = self.estate.locations.iter().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        // The first of a name in the estate's order, as a search would find.
        for location in &self.estate.locations {
            index.by_name.entry(location.name.as_str()).or_insert(location);
        }
        for &location in &all {
            let readable = location.status == Status::Ok;
            let mut sites: Vec<String> = location.sites.iter().map(|s| s.to_ascii_uppercase()).collect();
            sites.sort();
            sites.dedup();
            for site in sites {
                if readable {
                    index
                        .readable_of_site
                        .entry((site.clone(), location.kind))
                        .or_default()
                        .push(location);
                }
                index
                    .any_of_site
                    .entry((site, location.kind))
                    .or_default()
                    .push(location);
            }
            if readable {
                index.readable.entry(location.kind).or_default().push(location);
            }
            if location.kind == LocationKind::LogonPoint {
                let serves = if readable {
                    let participants = match self.lcf_sites(&location.name) {
                        lcf if lcf.is_empty() => location.sites.clone(),
                        lcf => lcf,
                    };
                    let mut sites = participants.clone();
                    sites.sort();
                    sites.dedup();
                    for site in sites {
                        index.participations.entry(site).or_default().push(location);
                    }
                    index.participants.insert(location.name.as_str(), participants.clone());
                    participants
                } else {
                    location.sites.clone()
                };
                let mut serves = serves;
                serves.sort();
                serves.dedup();
                for site in serves {
                    index.logon_points_of_site.entry(site).or_default().push(location);
                }
            }
        }
        for (kind, path) in [
            (LocationKind::SiteServer, layout::SITE_SERVER_CLICORE),
            (LocationKind::Cap, layout::CAP_CLICORE),
        ] {
            for &location in index.readable.get(&kind).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(hash) = self.file(&location.name, path).and_then(|f| f.sha256) {
                    index.clicore_by_hash.entry(hash).or_default().push(location);
                }
            }
        }
        // A site's file: the first (by location, path) on a readable site
        // server of its code, or, on one without a code, naming the site.
        for read in &self.estate.site_controls {
            let Some(&location) = index.by_name.get(read.location.as_str()) else {
                continue;
            };
            if location.kind != LocationKind::SiteServer || location.status != Status::Ok {
                continue;
            }
            let site = location.sites.first().unwrap_or(&read.control.site_code);
            index
                .site_controls
                .entry(site.to_ascii_uppercase())
                .or_insert(SiteControlOf { read, location });
        }
        index.all = all;
        index
    }

    /// Every read file of a location, by lower-case path, in path order.
    pub(crate) fn files(&self, location: &str) -> impl Iterator<Item = (String, &'a FileRecord)> + '_ {
        self.entries
            .get(location)
            .into_iter()
            .flat_map(|e| e.0.iter())
            .filter(|record| record.sha256.is_some())
            .map(|record| (record.path.as_str().to_ascii_lowercase(), *record))
    }

    /// A read file of a location by its path, case-insensitively.
    pub(crate) fn file(&self, location: &str, path: &str) -> Option<&'a FileRecord> {
        self.entries
            .get(location)?
            .get(path)
            .filter(|record| record.sha256.is_some())
    }

    /// The entry at `path` (case-insensitive), read or not.
    pub(crate) fn entry(&self, location: &str, path: &str) -> Option<&'a FileRecord> {
        self.entries.get(location)?.get(path)
    }

    /// Whether the share holds an entry at `path`, read or not: a file that
    /// could not be read is not missing.
    pub(crate) fn exists(&self, location: &str, path: &str) -> bool {
        self.entries.get(location).is_some_and(|e| e.get(path).is_some())
    }

    /// Whether `path` could not be judged absent because it, or a folder
    /// above it, exists but could not be read (A05 names it), was excluded
    /// or is a link or special file (A06), or has spellings that differ
    /// only in case (A07): what lies below any of them is not known.
    pub(crate) fn not_read(&self, location: &str, path: &str) -> bool {
        let lower = path.to_ascii_lowercase();
        if self.twins.get(location).is_some_and(|t| super::under_any(&lower, t)) {
            return true;
        }
        let Some(entries) = self.entries.get(location) else {
            return false;
        };
        let mut at = lower.as_str();
        loop {
            if entries
                .get(at)
                .is_some_and(|r| matches!(r.status, Status::Unreadable | Status::Skipped | Status::Excluded))
            {
                return true;
            }
            match at.rfind('\\') {
                Some(cut) => at = &at[..cut],
                None => return false,
            }
        }
    }

    /// Whether `path` is known to be absent: no entry there, and nothing
    /// above it that was not read.
    pub(crate) fn absent(&self, location: &str, path: &str) -> bool {
        !self.exists(location, path) && !self.not_read(location, path)
    }

    /// Whether `folder` was listed, even empty, or holds a read file
    /// (case-insensitive).
    pub(crate) fn has_folder(&self, location: &str, folder: &str) -> bool {
        let lower = folder.to_ascii_lowercase();
        self.folders.get(location).is_some_and(|f| f.contains(&lower)) || self.folder_has_files(location, folder)
    }

    /// The names (lower case) of the folders directly under `folder`:
    /// listed ones, and those that hold a read file.
    pub(crate) fn subfolders(&self, location: &str, folder: &str) -> BTreeSet<String> {
        let prefix = format!("{}\\", folder.to_ascii_lowercase());
        let child = |path: &str| -> Option<String> {
            let rest = path.strip_prefix(&prefix)?;
            Some(rest.split('\\').next()?.to_string())
        };
        let listed = self
            .folders
            .get(location)
            .into_iter()
            .flat_map(|f| f.range(prefix.clone()..).take_while(|p| p.starts_with(&prefix)))
            .filter_map(|p| child(p));
        let holding = self
            .entries_under(location, folder)
            .filter(|r| r.sha256.is_some())
            .filter_map(|r| {
                let lower = r.path.to_ascii_lowercase();
                let rest = lower.strip_prefix(&prefix)?;
                let (name, _) = rest.split_once('\\')?;
                Some(name.to_string())
            });
        listed.chain(holding).collect()
    }

    /// Whether `folder` is known not to be there: not listed, no entry
    /// there, and nothing above it that was not read.
    pub(crate) fn folder_absent(&self, location: &str, folder: &str) -> bool {
        !self.has_folder(location, folder) && self.absent(location, folder)
    }

    /// Every entry, read or not, under `folder\` (case-insensitive).
    fn entries_under(&self, location: &str, folder: &str) -> impl Iterator<Item = &'a FileRecord> + '_ {
        let prefix = format!("{folder}\\");
        self.entries
            .get(location)
            .into_iter()
            .flat_map(move |e| e.under(prefix.clone()))
    }

    /// Whether any entry, read or not, lies under `folder\`.
    pub(crate) fn has_entries_under(&self, location: &str, folder: &str) -> bool {
        self.entries_under(location, folder).next().is_some()
    }

    /// Whether any read file lies under `folder\` (case-insensitive).
    pub(crate) fn folder_has_files(&self, location: &str, folder: &str) -> bool {
        self.entries_under(location, folder).any(|r| r.sha256.is_some())
    }

    /// Sites with a `Sitescfg\<code>_cfg.lcf` on a logon point: the sites
    /// that take part in it (reference 4.7).
    pub(crate) fn lcf_sites(&self, logon_point: &str) -> Vec<String> {
        let mut sites: Vec<String> = self
            .files(logon_point)
            .filter_map(|(p, _)| layout::lcf_site(p.strip_prefix("sitescfg\\")?))
            .collect();
        sites.sort();
        sites.dedup();
        sites
    }

    /// Sites with an LCF on any audited logon point.
    pub(crate) fn lcf_sites_anywhere(&self) -> Vec<String> {
        let mut sites: Vec<String> = self
            .locations(LocationKind::LogonPoint)
            .iter()
            .flat_map(|lp| self.lcf_sites(&lp.name))
            .collect();
        sites.sort();
        sites.dedup();
        sites
    }

    /// The Copylog `[FILE SOURCE]` lines of a logon point: (lower-case path,
    /// upper-case site code).
    pub(crate) fn copylog(&self, logon_point: &str) -> Vec<(&'a str, &'a str)> {
        self.stamps(logon_point)
            .iter()
            .filter(|s| s.artifact == Artifact::CopylogSource)
            .map(|s| (s.detail.as_str(), s.value.as_str()))
            .collect()
    }

    /// The site whose base Clicore the logon point holds, learnt from
    /// identical content: a site server's clicomp.src (or, failing that, a
    /// CAP's clicomp.box) `base\i386\clicore.exe` with the same SHA-256.
    /// Returns the site, its base compver and the matching location.
    pub(crate) fn clicore_twin(&self, logon_point: &str) -> Option<(String, Version, String)> {
        let lp_hash = self.file(logon_point, layout::LOGON_CLICORE)?.sha256?;
        // Site servers first, then CAPs, each in name order.
        for location in self.sites.clicore_by_hash.get(&lp_hash)? {
            let (Some(site), Some(version)) = (location.sites.first(), self.offer(&location.name, "base")) else {
                continue;
            };
            if version.is_sms() {
                return Some((site.clone(), version, location.name.clone()));
            }
        }
        None
    }

    /// The site control file read for `site`: from a readable site server
    /// share of the site (its `SMS_<code>` name), else one whose file names
    /// the site (case-insensitive). The first by location name.
    pub(crate) fn site_control(&self, site: &str) -> Option<SiteControlOf<'a>> {
        self.sites.site_controls.get(&site.to_ascii_uppercase()).copied()
    }

    /// A site server of `site` whose site control file exists but could
    /// not be used (malformed or unreadable): the record says why.
    pub(crate) fn site_control_damaged(&self, site: &str) -> Option<(&'a Location, &'a FileRecord)> {
        self.site_locations(site, LocationKind::SiteServer)
            .into_iter()
            .find_map(|location| {
                let record = self
                    .entries
                    .get(location.name.as_str())?
                    .get(layout::SITE_CONTROL_FILE)?;
                (record.status != Status::Ok).then_some((location, record))
            })
    }

    /// The pending site control deltas (`incoming\*.ct1`) of a site server,
    /// each with its age in seconds at the start of the run when its
    /// modification time is known.
    pub(crate) fn pending_deltas(&self, location: &str) -> Vec<(&'a FileRecord, Option<u64>)> {
        let prefix = format!("{}\\", layout::SITE_CONTROL_INCOMING);
        let started = self.estate.started;
        self.entries
            .get(location)
            .into_iter()
            .flat_map(|e| e.under(prefix.clone()))
            .map(|record| (record.path.to_ascii_lowercase(), record))
            .filter(|(p, r)| p.ends_with(".ct1") && !p[prefix.len()..].contains('\\') && r.kind != FileKind::Directory)
            .map(|(_, record)| {
                let modified = record
                    .modified
                    .as_deref()
                    .and_then(|m| humantime::parse_rfc3339(m).ok());
                let age = started
                    .zip(modified)
                    .map(|(now, then)| now.duration_since(then).map(|d| d.as_secs()).unwrap_or(0));
                (record, age)
            })
            .collect()
    }

    /// The audited logon points that still name `site`: its
    /// `Sitescfg\<code>_cfg.lcf` or a `Sites\<code>` folder.
    pub(crate) fn logon_points_naming(&self, site: &str) -> Vec<&'a Location> {
        self.locations(LocationKind::LogonPoint)
            .into_iter()
            .filter(|lp| {
                self.lcf_sites(&lp.name).iter().any(|s| s.eq_ignore_ascii_case(site))
                    || self.has_folder(&lp.name, &format!("{}\\{site}", layout::LOGON_SITES_FOLDER))
            })
            .collect()
    }

    /// Every location, readable or not, in name order.
    pub(crate) fn all_locations(&self) -> Vec<&'a Location> {
        self.sites.all.clone()
    }

    /// Readable locations of a kind, in name order.
    pub(crate) fn locations(&self, kind: LocationKind) -> Vec<&'a Location> {
        self.sites.readable.get(&kind).cloned().unwrap_or_default()
    }

    /// Readable CAPs and site servers of a site (its code in any case), in
    /// name order.
    pub(crate) fn site_locations(&self, site: &str, kind: LocationKind) -> Vec<&'a Location> {
        self.sites
            .readable_of_site
            .get(&(site.to_ascii_uppercase(), kind))
            .cloned()
            .unwrap_or_default()
    }

    /// The locations of a kind that serve a site (its code in any case),
    /// readable or not, in name order.
    pub(crate) fn site_shares(&self, site: &str, kind: LocationKind) -> &[&'a Location] {
        self.sites
            .any_of_site
            .get(&(site.to_ascii_uppercase(), kind))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The readable logon points a site takes part in
    /// ([`EstateView::participants`]), in name order.
    pub(crate) fn logon_points_with(&self, site: &str) -> Vec<&'a Location> {
        self.sites.participations.get(site).cloned().unwrap_or_default()
    }

    /// The logon points a site uses, in name order: those it takes part in
    /// ([`EstateView::participants`]), and those that could not be read
    /// whose `Sites` folders name it.
    pub(crate) fn site_logon_points(&self, site: &str) -> &[&'a Location] {
        self.sites
            .logon_points_of_site
            .get(site)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub(crate) fn stamps(&self, location: &str) -> &[&'a Stamp] {
        self.by_location.get(location).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The stamp of a component and artifact at a location.
    pub(crate) fn stamp(&self, location: &str, component: &str, artifact: Artifact, detail: &str) -> Option<&'a Stamp> {
        self.stamps(location)
            .iter()
            .find(|s| s.component.eq_ignore_ascii_case(component) && s.artifact == artifact && s.detail == detail)
            .copied()
    }

    /// The version a location offers for a component (its compver.ini).
    pub(crate) fn offer(&self, location: &str, component: &str) -> Option<Version> {
        self.stamp(location, component, Artifact::Compver, "")
            .and_then(|s| Version::parse(&s.value))
    }

    /// What every CAP of `site` must offer for `component`, and the
    /// location that says so: the site server's clicomp.src (Inbox Manager
    /// copies it to the CAPs), else the newest offer among the site's CAPs
    /// (the one being rolled out; the others lag). The matrix and the
    /// replication checks (F23, F24) both go by this.
    pub(crate) fn expected_offer(&self, site: &str, component: &str) -> Option<(Version, &'a Location)> {
        let offers = |kind| {
            self.site_locations(site, kind)
                .into_iter()
                .filter_map(move |l| Some((self.offer(&l.name, component)?, l)))
        };
        if let Some(server) = offers(LocationKind::SiteServer).next() {
            return Some(server);
        }
        // The first CAP in name order among those with the newest offer.
        offers(LocationKind::Cap).fold(None, |best: Option<(Version, &Location)>, (version, cap)| match best {
            Some(best) if best.0.fields >= version.fields => Some(best),
            _ => Some((version, cap)),
        })
    }

    /// The site a stamp speaks for; for a stamp of no one site (a logon
    /// point binary), the sites of its location, space-separated.
    pub(crate) fn site_of(&self, stamp: &Stamp) -> String {
        if let Some(site) = &stamp.site {
            return site.to_string();
        }
        match self.sites.by_name.get(stamp.location.as_str()) {
            Some(lp) if lp.kind == LocationKind::LogonPoint => self.participants(lp).join(" "),
            Some(location) => location.sites.join(" "),
            None => String::new(),
        }
    }

    /// The sites that take part in a logon point: those with a
    /// `Sitescfg\<code>_cfg.lcf` on it (reference 4.7); without any LCF (a
    /// sparse copy), the sites its `Sites` folders name. Every check that
    /// asks who shares a logon point goes by this.
    pub(crate) fn participants(&self, logon_point: &Location) -> Vec<String> {
        if let Some(known) = self.sites.participants.get(logon_point.name.as_str()) {
            return known.clone();
        }
        match self.lcf_sites(&logon_point.name) {
            lcf if lcf.is_empty() => logon_point.sites.clone(),
            lcf => lcf,
        }
    }

    /// The release of a site's base ([`EstateView::site_base`], what the
    /// Sites view labels), when it is a known release of SMS 2.0.
    pub(crate) fn site_release(&self, site: &str) -> Option<crate::sms::release::Release> {
        let base = self.site_base(site)?;
        let release = base.release()?;
        (base.build_agrees_with_sp() && release.info().is_some()).then_some(release)
    }

    /// The base version a site offers: its site server's clicomp.src, else
    /// the newest of its CAPs.
    pub(crate) fn site_base(&self, site: &str) -> Option<Version> {
        let from_server = self
            .site_locations(site, LocationKind::SiteServer)
            .iter()
            .filter_map(|l| self.offer(&l.name, "base"))
            .filter(Version::is_sms)
            .max_by(|a, b| a.fields.cmp(&b.fields));
        from_server.or_else(|| {
            self.site_locations(site, LocationKind::Cap)
                .iter()
                .filter_map(|l| self.offer(&l.name, "base"))
                .filter(Version::is_sms)
                .max_by(|a, b| a.fields.cmp(&b.fields))
        })
    }

    /// The base a logon point gives clients, from the strongest evidence:
    /// the version resource of `x86.bin\clicore.exe`, else the base of the
    /// site whose clicore.exe is byte-identical, else the base of the site
    /// Copylog names as its source.
    pub(crate) fn logon_base(&self, logon_point: &Location) -> Option<LogonBase> {
        let stamps = self.stamps(&logon_point.name);
        if let Some(stamp) = stamps
            .iter()
            .find(|s| s.artifact == Artifact::LogonBinary && s.detail == layout::LOGON_CLICORE)
        {
            if let Some(version) = Version::parse(&stamp.value).filter(Version::is_sms) {
                return Some(LogonBase {
                    version,
                    evidence: format!("version resource of {}", stamp.path),
                    path: stamp.path.to_string(),
                    stamped: Stamped::of_file("base", layout::LOGON_CLICORE),
                });
            }
        }
        if let Some((site, version, twin)) = self.clicore_twin(&logon_point.name) {
            return Some(LogonBase {
                version,
                evidence: format!("x86.bin\\CLICORE.EXE is identical to site {site}'s copy on {twin}"),
                path: self
                    .file(&logon_point.name, layout::LOGON_CLICORE)
                    .map(|f| f.path.to_string())
                    .unwrap_or_default(),
                stamped: Stamped::Compver("base"),
            });
        }
        if let Some(stamp) = stamps
            .iter()
            .find(|s| s.artifact == Artifact::CopylogSource && s.detail == layout::LOGON_CLICORE)
        {
            if let Some(version) = self.site_base(&stamp.value) {
                return Some(LogonBase {
                    version,
                    evidence: format!("Copylog.tcf names site {} as the source of CLICORE.EXE", stamp.value),
                    path: stamp.path.to_string(),
                    stamped: Stamped::Compver("base"),
                });
            }
        }
        None
    }

    /// Groups of sites that share logon points: sites are in one group when
    /// some logon point names them both. Sorted, deterministic; a logon
    /// point without participants is an empty group of its own.
    pub(crate) fn sharing_groups(&self) -> Vec<Vec<String>> {
        // Union-find over the sites: each logon point joins its
        // participants, so the groups cost the participations, not logon
        // points times groups.
        let mut parent: Vec<usize> = Vec::new();
        let mut ids: HashMap<String, usize> = HashMap::new();
        fn root(parent: &mut [usize], mut at: usize) -> usize {
            while parent[at] != at {
                parent[at] = parent[parent[at]];
                at = parent[at];
            }
            at
        }
        let mut empty = 0;
        for lp in self.locations(LocationKind::LogonPoint) {
            let participants = self.participants(lp);
            if participants.is_empty() {
                empty += 1;
            }
            let mut first = None;
            for site in participants {
                let next = parent.len();
                let id = *ids.entry(site).or_insert(next);
                if id == next {
                    parent.push(id);
                }
                let id = root(&mut parent, id);
                match first {
                    None => first = Some(id),
                    Some(first) if first != id => parent[id] = first,
                    Some(_) => {}
                }
            }
        }
        let mut by_root: HashMap<usize, Vec<String>> = HashMap::new();
        for (site, id) in &ids {
            let top = root(&mut parent, *id);
            by_root.entry(top).or_default().push(site.clone());
        }
        let mut groups: Vec<Vec<String>> = by_root
            .into_values()
            .map(|mut g| {
                g.sort();
                g
            })
            .chain(std::iter::repeat_n(Vec::new(), empty))
            .collect();
        groups.sort();
        groups
    }
}

/// What equality means for a stamp's value: the normalised version when it
/// is an SMS or WBEM version; for a logon point binary whose version says
/// nothing of the release (a bundle installer version, none at all), its
/// content; else the value itself, ignoring case.
pub(crate) fn identity(artifact: Artifact, value: &str, sha256: Option<crate::model::Sha256Digest>) -> String {
    match (Version::parse(value), sha256) {
        (Some(v), _) if v.is_sms() || v.kind == VersionKind::Wbem => v.normalized(),
        (_, Some(hash)) if artifact == Artifact::LogonBinary => format!("sha256:{hash}"),
        _ => value.trim().to_ascii_lowercase(),
    }
}
