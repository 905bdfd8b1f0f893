//! Each site's release decided from what the site itself holds, before
//! findings are grouped into causes: its site server's clicomp.src, else
//! the release most of its CAPs offer (and, once a helper reads it, the
//! header build of its site control file). A CAP that offers an older
//! release than its own site is a CAP whose replication did not complete,
//! not a site that is behind (issue 27): one cause, named by that CAP.

use crate::estate::EstateView;
use crate::model::LocationKind;
use crate::sms::release::Release;
use crate::sms::version::Version;
use std::collections::BTreeMap;

/// The builds the site control files' headers give, by site code
/// (`SITE CONTROL FILE [1493]`, reference 10.2). `None` to [`Diagnosis::of`]
/// while no site control file is read.
pub(crate) type HeaderBuilds = BTreeMap<String, u32>;

/// Where a site's release was learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReleaseEvidence {
    /// The site server's `inboxes\clicomp.src\base\compver.ini` (the
    /// location named).
    SiteServer(String),
    /// The release most of the site's CAPs offer (ties go to the newer:
    /// SP setup never lowers a version, Q213410), the CAPs named.
    CapMajority(Vec<String>),
    /// The site control file's header build, refined by a CAP whose base
    /// carries that build [I] (reference 10.4).
    SiteControlHeader,
}

/// What one site holds.
#[derive(Debug, Clone)]
pub(crate) struct SiteRelease {
    pub release: Release,
    pub evidence: ReleaseEvidence,
}

/// A CAP that offers an older base release than its site is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LaggingCap {
    pub site: String,
    pub cap: String,
    /// The release the CAP's `clicomp.box\base\compver.ini` offers.
    pub offers: Release,
    /// The release its site is at.
    pub site_release: Release,
    /// Where the CAP's content should have come from, in words: the site
    /// server's clicomp.src or, without one, the site's other CAPs.
    pub from: String,
    /// The site server's share, when audited.
    pub site_server: Option<String>,
}

impl LaggingCap {
    /// `\\SERVER4\CAP_LN1 still offers SP1; replication from \\SERVER3\SMS_LN1 did not complete`.
    pub(crate) fn title(&self) -> String {
        match &self.site_server {
            Some(server) => format!(
                "{} still offers {}; replication from {server} did not complete (site {} is at {})",
                self.cap, self.offers, self.site, self.site_release
            ),
            None => format!(
                "{} still offers {}; replication did not complete ({})",
                self.cap, self.offers, self.from
            ),
        }
    }
}

/// The header build of each site's site control file, where one was read
/// and its build is a number (reference 10.2: `SITE CONTROL FILE [1493][...]`).
pub(crate) fn header_builds(view: &EstateView) -> HeaderBuilds {
    view.locations(LocationKind::SiteServer)
        .iter()
        .flat_map(|l| l.sites.iter())
        .filter_map(|site| {
            let control = view.site_control(site)?;
            let build = control.read.control.build.trim().parse().ok()?;
            Some((site.clone(), build))
        })
        .collect()
}

/// Every site's release and the CAPs that lag behind their site.
#[derive(Debug, Default)]
pub(crate) struct Diagnosis {
    sites: BTreeMap<String, SiteRelease>,
    lagging: BTreeMap<String, LaggingCap>,
}

impl Diagnosis {
    /// Decides each site's release from its own shares. `headers`: the
    /// site control files' header builds ([`header_builds`]).
    pub(crate) fn of(view: &EstateView, headers: Option<&HeaderBuilds>) -> Diagnosis {
        let mut codes: Vec<String> = [LocationKind::SiteServer, LocationKind::Cap]
            .into_iter()
            .flat_map(|kind| view.locations(kind))
            .flat_map(|l| l.sites.iter().cloned())
            .collect();
        codes.sort();
        codes.dedup();
        let mut diagnosis = Diagnosis::default();
        for site in codes {
            let header = headers.and_then(|h| h.get(&site)).copied();
            let Some(site_release) = site_release(view, &site, header) else {
                continue;
            };
            let site_server = match &site_release.evidence {
                ReleaseEvidence::SiteServer(server) => Some(server.clone()),
                _ => None,
            };
            for cap in view.site_locations(&site, LocationKind::Cap) {
                let Some(offers) = cap_release(view, &cap.name) else {
                    continue;
                };
                if offers >= site_release.release {
                    continue;
                }
                let from = match &site_release.evidence {
                    ReleaseEvidence::SiteServer(server) => format!("{server}\\inboxes\\clicomp.src"),
                    ReleaseEvidence::CapMajority(caps) => format!(
                        "site {site}'s other CAPs ({}) offer {}",
                        caps.join(", "),
                        site_release.release
                    ),
                    ReleaseEvidence::SiteControlHeader => {
                        format!(
                            "site {site}'s site control file says build {}",
                            site_release.release.build
                        )
                    }
                };
                diagnosis.lagging.insert(
                    cap.name.clone(),
                    LaggingCap {
                        site: site.clone(),
                        cap: cap.name.clone(),
                        offers,
                        site_release: site_release.release,
                        from,
                        site_server: site_server.clone(),
                    },
                );
            }
            diagnosis.sites.insert(site, site_release);
        }
        diagnosis
    }

    /// The release a site is at, when its shares say.
    pub(crate) fn release(&self, site: &str) -> Option<&SiteRelease> {
        self.sites.get(site)
    }

    /// The CAP at `location`, when it lags behind its site.
    pub(crate) fn lagging_cap(&self, location: &str) -> Option<&LaggingCap> {
        self.lagging.get(location)
    }
}

/// The base release a CAP offers.
fn cap_release(view: &EstateView, cap: &str) -> Option<Release> {
    view.offer(cap, "base").filter(Version::is_sms)?.release()
}

/// A site's release: its site server; else the site control file's header
/// build with the CAPs' release of that build; else most of its CAPs.
fn site_release(view: &EstateView, site: &str, header_build: Option<u32>) -> Option<SiteRelease> {
    let from_server = view
        .site_locations(site, LocationKind::SiteServer)
        .into_iter()
        .filter_map(|l| Some((view.offer(&l.name, "base").filter(Version::is_sms)?.release()?, l)))
        .max_by(|a, b| a.0.cmp(&b.0));
    if let Some((release, server)) = from_server {
        return Some(SiteRelease {
            release,
            evidence: ReleaseEvidence::SiteServer(server.name.clone()),
        });
    }
    let mut counts: BTreeMap<Release, Vec<String>> = BTreeMap::new();
    for cap in view.site_locations(site, LocationKind::Cap) {
        if let Some(release) = cap_release(view, &cap.name) {
            counts.entry(release).or_default().push(cap.name.clone());
        }
    }
    if let Some(build) = header_build {
        // The header gives the build; the CAPs of that build give the SP
        // digit (reference 10.4: "refined by the ... base compver") [I].
        if let Some((release, _)) = counts
            .iter()
            .filter(|(r, _)| r.build == build)
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(a.0.cmp(b.0)))
        {
            return Some(SiteRelease {
                release: *release,
                evidence: ReleaseEvidence::SiteControlHeader,
            });
        }
    }
    // Most CAPs; a tie goes to the newer release (BTreeMap order, the
    // later of equal counts wins in max_by).
    counts
        .into_iter()
        .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(a.0.cmp(&b.0)))
        .map(|(release, caps)| SiteRelease {
            release,
            evidence: ReleaseEvidence::CapMajority(caps),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Estate;
    use crate::model::{Location, Stamp};

    /// A share of `kind` named `name` offering `base`.
    fn share(estate: &mut Estate, name: &str, kind: LocationKind, site: &str, base: &str) {
        estate.locations.push(Location::for_test(name, kind, &[site]));
        estate.stamps.push(Stamp::base_compver(name, site, base));
    }

    const SP1: &str = "2.00.1380.1000";
    const SP2: &str = "2.00.1493.2009";

    #[test]
    fn the_site_server_decides_and_an_older_cap_lags() {
        let mut e = Estate::default();
        share(&mut e, r"\\S1\SMS_AAA", LocationKind::SiteServer, "AAA", SP2);
        share(&mut e, r"\\S1\CAP_AAA", LocationKind::Cap, "AAA", SP1);
        share(&mut e, r"\\S2\CAP_AAA", LocationKind::Cap, "AAA", SP1);
        let d = Diagnosis::of(&EstateView::new(&e), None);
        assert_eq!(d.release("AAA").unwrap().release, Release { build: 1493, sp: 2 });
        // Both CAPs lag: the site server is the site, however many CAPs.
        let lagging = d.lagging_cap(r"\\S2\CAP_AAA").unwrap();
        assert_eq!(lagging.site_server.as_deref(), Some(r"\\S1\SMS_AAA"));
        assert!(lagging
            .title()
            .starts_with(r"\\S2\CAP_AAA still offers SP1; replication from \\S1\SMS_AAA"));
        assert!(d.lagging_cap(r"\\S1\CAP_AAA").is_some());
    }

    #[test]
    fn without_a_site_server_most_caps_decide_and_a_tie_goes_to_the_newer() {
        let mut e = Estate::default();
        share(&mut e, r"\\S1\CAP_AAA", LocationKind::Cap, "AAA", SP1);
        share(&mut e, r"\\S2\CAP_AAA", LocationKind::Cap, "AAA", SP1);
        share(&mut e, r"\\S3\CAP_AAA", LocationKind::Cap, "AAA", SP2);
        let d = Diagnosis::of(&EstateView::new(&e), None);
        assert_eq!(d.release("AAA").unwrap().release.build, 1380);
        assert!(
            d.lagging_cap(r"\\S3\CAP_AAA").is_none(),
            "newer is not lagging (F23/F24 say it)"
        );
        share(&mut e, r"\\S4\CAP_AAA", LocationKind::Cap, "AAA", SP2);
        let d = Diagnosis::of(&EstateView::new(&e), None);
        assert_eq!(d.release("AAA").unwrap().release.build, 1493);
        assert!(d.lagging_cap(r"\\S1\CAP_AAA").unwrap().from.contains(r"\\S3\CAP_AAA"));
    }

    #[test]
    fn the_site_control_header_build_picks_the_caps_of_its_build() {
        let mut e = Estate::default();
        share(&mut e, r"\\S1\CAP_AAA", LocationKind::Cap, "AAA", SP1);
        share(&mut e, r"\\S2\CAP_AAA", LocationKind::Cap, "AAA", SP1);
        share(&mut e, r"\\S3\CAP_AAA", LocationKind::Cap, "AAA", SP2);
        let headers = HeaderBuilds::from([("AAA".to_string(), 1493)]);
        let d = Diagnosis::of(&EstateView::new(&e), Some(&headers));
        let site = d.release("AAA").unwrap();
        assert_eq!(site.release.build, 1493);
        assert_eq!(site.evidence, ReleaseEvidence::SiteControlHeader);
        assert!(d.lagging_cap(r"\\S1\CAP_AAA").is_some());
    }
}
