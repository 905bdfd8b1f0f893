//! An indexed view of the estate that the checks and the matrix share:
//! which locations serve which site, and what each offers.

use crate::model::{Artifact, Estate, Location, LocationKind, Stamp, Status};
use crate::version::Version;
use std::collections::BTreeMap;

/// The base release a logon point gives clients, and how it was learnt.
#[derive(Debug, Clone)]
pub struct LogonBase {
    pub version: Version,
    /// In words: `x86.bin\clicore.exe version resource`, ...
    pub evidence: String,
    /// The file the evidence comes from, relative to the share.
    pub path: String,
}

pub struct EstateView<'a> {
    pub estate: &'a Estate,
    by_location: BTreeMap<&'a str, Vec<&'a Stamp>>,
}

impl<'a> EstateView<'a> {
    pub fn new(estate: &'a Estate) -> EstateView<'a> {
        let mut by_location: BTreeMap<&str, Vec<&Stamp>> = BTreeMap::new();
        for stamp in &estate.stamps {
            by_location.entry(stamp.location.as_str()).or_default().push(stamp);
        }
        EstateView { estate, by_location }
    }

    /// Readable locations of a kind, in name order.
    pub fn locations(&self, kind: LocationKind) -> Vec<&'a Location> {
        let mut found: Vec<&Location> = self
            .estate
            .locations
            .iter()
            .filter(|l| l.kind == kind && l.status == Status::Ok)
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    }

    /// Readable CAPs and site servers of a site.
    pub fn site_locations(&self, site: &str, kind: LocationKind) -> Vec<&'a Location> {
        self.locations(kind)
            .into_iter()
            .filter(|l| l.sites.iter().any(|s| s.eq_ignore_ascii_case(site)))
            .collect()
    }

    pub fn stamps(&self, location: &str) -> &[&'a Stamp] {
        self.by_location.get(location).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The stamp of a component and artifact at a location.
    pub fn stamp(&self, location: &str, component: &str, artifact: Artifact, detail: &str) -> Option<&'a Stamp> {
        self.stamps(location)
            .iter()
            .find(|s| s.component.eq_ignore_ascii_case(component) && s.artifact == artifact && s.detail == detail)
            .copied()
    }

    /// The version a location offers for a component (its compver.ini).
    pub fn offer(&self, location: &str, component: &str) -> Option<Version> {
        self.stamp(location, component, Artifact::Compver, "")
            .and_then(|s| Version::parse(&s.value))
    }

    /// The base version a site offers: its site server's clicomp.src, else
    /// the newest of its CAPs.
    pub fn site_base(&self, site: &str) -> Option<Version> {
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
    /// site Copylog names as its source, else the senior site's base.
    pub fn logon_base(&self, logon_point: &Location) -> Option<LogonBase> {
        let stamps = self.stamps(&logon_point.name);
        if let Some(stamp) = stamps
            .iter()
            .find(|s| s.artifact == Artifact::LogonBinary && s.detail == "x86.bin\\clicore.exe")
        {
            if let Some(version) = Version::parse(&stamp.value).filter(Version::is_sms) {
                return Some(LogonBase {
                    version,
                    evidence: format!("version resource of {}", stamp.path),
                    path: stamp.path.clone(),
                });
            }
        }
        if let Some(stamp) = stamps
            .iter()
            .find(|s| s.artifact == Artifact::CopylogSource && s.detail == "x86.bin\\clicore.exe")
        {
            if let Some(version) = self.site_base(&stamp.value) {
                return Some(LogonBase {
                    version,
                    evidence: format!("Copylog.tcf names site {} as the source of CLICORE.EXE", stamp.value),
                    path: stamp.path.clone(),
                });
            }
        }
        None
    }

    /// Groups of sites that share logon points: sites are in one group when
    /// some logon point names them both. Sorted, deterministic.
    pub fn sharing_groups(&self) -> Vec<Vec<String>> {
        let mut groups: Vec<Vec<String>> = Vec::new();
        for lp in self.locations(LocationKind::LogonPoint) {
            let mut merged: Vec<String> = lp.sites.clone();
            groups.retain(|g| {
                if g.iter().any(|s| merged.contains(s)) {
                    merged.extend(g.iter().cloned());
                    false
                } else {
                    true
                }
            });
            merged.sort();
            merged.dedup();
            groups.push(merged);
        }
        groups.sort();
        groups
    }
}
