//! The estate: every location with its files and the stamps extracted from
//! them, built from the crawl, and the one index of it ([`EstateView`])
//! that the checks, the matrix and the pre-upgrade check all read.

mod index;

pub(crate) use index::{identity, EstateView};

use crate::crawl::CrawledLocation;
use crate::extract::Detail;
use crate::model::{Artifact, FileRecord, Location, LocationKind, Stamp};
use crate::sms::layout::{self, Role};

/// Locations, files and stamps after the crawl and extraction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Estate {
    pub locations: Vec<Location>,
    pub files: Vec<FileRecord>,
    pub stamps: Vec<Stamp>,
    /// Every folder listed: (location, share-relative path).
    pub folders: Vec<(String, String)>,
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
        estate
            .folders
            .extend(folders.into_iter().map(|folder| (location.name.clone(), folder)));
        let site = (location.kind != LocationKind::LogonPoint)
            .then(|| location.sites.first().cloned())
            .flatten();
        for (record, detail) in files {
            stamps_for(location.kind, site.as_deref(), &record, &detail, &mut estate.stamps);
            estate.files.push(record);
        }
        estate.locations.push(location);
    }
    estate
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
