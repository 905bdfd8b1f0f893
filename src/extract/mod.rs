//! Extraction of version stamps, one module per file kind, and the step that
//! turns crawled files into the stamps the matrix and rules compare.

pub mod cfg;
pub mod compver;
pub mod copylog;
pub mod ini;
pub mod pe;

use crate::crawl::CrawledLocation;
use crate::model::{Artifact, Estate, FileKind, LocationKind, Stamp, Status};
use crate::text;

/// What a parser learned from one file beyond its version.
#[derive(Debug, Clone, Default)]
pub enum Detail {
    #[default]
    None,
    /// A component CFG: its `Name` and `LastUpdate` values.
    Cfg {
        name: Option<String>,
        last_update: Option<String>,
    },
    /// `Copylog.tcf` `[FILE SOURCE]` lines: path and site code.
    Copylog(Vec<(String, String)>),
    /// `Senior.lst`: the senior site code as written.
    Senior(String),
    /// A PE image's version resource.
    Pe(pe::VersionInfo),
    /// An `Offerinf.box` `.ins` file: the `.ofr` names it lists.
    OfferRefs(Vec<String>),
}

/// The result of parsing one file.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub version: Option<String>,
    pub version_source: Option<String>,
    /// A PE image's string FileVersion.
    pub string_version: Option<String>,
    pub status: Status,
    pub reason: String,
    pub detail: Detail,
}

impl Default for Extracted {
    fn default() -> Self {
        Extracted {
            version: None,
            version_source: None,
            string_version: None,
            status: Status::Ok,
            reason: String::new(),
            detail: Detail::None,
        }
    }
}

impl Extracted {
    pub fn failed(status: Status, reason: impl Into<String>) -> Extracted {
        Extracted {
            status,
            reason: reason.into(),
            ..Extracted::default()
        }
    }
}

/// The kind of a file from its path inside a share (lower-cased compare).
pub fn kind_by_path(location: LocationKind, relative: &str) -> FileKind {
    let lower = relative.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('\\').collect();
    let file = parts.last().copied().unwrap_or("");
    match (location, parts.as_slice()) {
        (LocationKind::Cap, ["clicomp.box", _, name]) if compver::is_compver_name(name) => FileKind::Compver,
        (LocationKind::Cap, ["clicomp.box", name]) if name.ends_with(".cfg") => FileKind::ComponentCfg,
        (LocationKind::Cap, ["clidata.box", _]) => FileKind::ClientData,
        (LocationKind::Cap, ["offerinf.box", name]) if name.ends_with(".ins") => FileKind::OfferInstruction,
        (LocationKind::SiteServer, ["inboxes", "clicomp.src", _, name]) if compver::is_compver_name(name) => {
            FileKind::Compver
        }
        (LocationKind::SiteServer, ["inboxes", "clidata.src", _]) => FileKind::ClientData,
        (LocationKind::LogonPoint, ["config", "copylog.tcf"]) => FileKind::Copylog,
        (LocationKind::LogonPoint, ["sitescfg", "senior.lst"]) => FileKind::SeniorList,
        (LocationKind::LogonPoint, ["sitescfg", name]) if name.ends_with(".lcf") => FileKind::LogonConfig,
        (LocationKind::LogonPoint, ["sites", _, "compver.ini"]) => FileKind::Compver,
        (LocationKind::LogonPoint, ["sites", _, _]) => FileKind::ClientData,
        _ if file.ends_with(".exe") || file.ends_with(".dll") => FileKind::Binary,
        _ => FileKind::Other,
    }
}

/// Text files larger than this are not real SMS configuration files: they
/// are hashed but not parsed, so one huge file cannot exhaust memory.
pub const TEXT_PARSE_LIMIT: u64 = 1024 * 1024;

/// The most bytes of a file of this kind kept in memory for parsing. Files
/// not yet known to be binaries may turn out to be PE images, so they get
/// the binary limit.
pub fn parse_limit(kind: FileKind, binary_limit: u64) -> u64 {
    match kind {
        FileKind::Binary | FileKind::Other => binary_limit,
        _ => TEXT_PARSE_LIMIT.min(binary_limit),
    }
}

/// Whether files of this kind are parsed, so their content must be kept.
pub fn wants_content(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Compver
            | FileKind::ComponentCfg
            | FileKind::Copylog
            | FileKind::SeniorList
            | FileKind::Binary
            | FileKind::OfferInstruction
    )
}

/// Parses a file's content according to its kind. Never panics.
pub fn parse(kind: FileKind, bytes: &[u8]) -> Extracted {
    match kind {
        FileKind::Compver => compver::parse(bytes),
        FileKind::ComponentCfg => cfg::parse(bytes),
        FileKind::Copylog => copylog::parse(bytes),
        FileKind::SeniorList => parse_senior(bytes),
        FileKind::Binary => parse_binary(bytes),
        FileKind::OfferInstruction => parse_instruction(bytes),
        _ => Extracted::default(),
    }
}

fn parse_senior(bytes: &[u8]) -> Extracted {
    let text = text::decode(bytes);
    let code: String = text.trim_start().chars().take(3).collect();
    if code.chars().count() < 3 {
        return Extracted::failed(Status::Malformed, "Senior.lst holds no three-character site code");
    }
    Extracted {
        detail: Detail::Senior(code),
        ..Extracted::default()
    }
}

/// The `.ofr` names an `.ins` lists. The format is not documented
/// (reference 4.5), so any token ending in `.ofr` counts [I]. A zero-byte
/// `.ins` is a deleted advertisement (Q243171) and lists nothing.
fn parse_instruction(bytes: &[u8]) -> Extracted {
    let text = text::decode(bytes);
    let mut names: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '$')))
        .filter(|t| t.len() > 4 && t.to_ascii_lowercase().ends_with(".ofr"))
        .map(str::to_string)
        .collect();
    names.sort_by_key(|n| n.to_ascii_lowercase());
    names.dedup_by_key(|n| n.to_ascii_lowercase());
    Extracted {
        detail: Detail::OfferRefs(names),
        ..Extracted::default()
    }
}

fn parse_binary(bytes: &[u8]) -> Extracted {
    match pe::read_version_info(bytes) {
        Ok(info) => {
            let fixed = info.fixed_file_version.clone();
            let string = info.string_file_version().map(str::to_string);
            let mut extracted = Extracted {
                version_source: (!fixed.is_empty()).then(|| "PE fixed file version".into()),
                version: (!fixed.is_empty()).then_some(fixed.clone()),
                string_version: string.clone(),
                ..Extracted::default()
            };
            match &string {
                _ if fixed.is_empty() => extracted.reason = "version resource has no fixed file version".into(),
                Some(string) if !crate::version::Version::string_matches_fixed(string, &fixed) => {
                    extracted.reason = format!("string FileVersion {string} differs from fixed file version {fixed}");
                }
                _ => {}
            }
            extracted.detail = Detail::Pe(info);
            extracted
        }
        Err(err @ pe::PeError::NotPe) => Extracted::failed(Status::Malformed, err.to_string()),
        Err(err @ pe::PeError::NoVersionResource) | Err(err @ pe::PeError::NoResources) => Extracted {
            reason: err.to_string(),
            ..Extracted::default()
        },
        Err(err) => Extracted::failed(Status::Malformed, err.to_string()),
    }
}

/// Turns crawled locations into the estate: records plus stamps.
pub fn build_estate(crawled: Vec<CrawledLocation>) -> Estate {
    let mut estate = Estate::default();
    for CrawledLocation { location, files } in crawled {
        let site = (location.kind != LocationKind::LogonPoint)
            .then(|| location.sites.first().cloned())
            .flatten();
        for (record, detail) in files {
            stamps_for(&location.kind, site.as_deref(), &record, &detail, &mut estate.stamps);
            estate.files.push(record);
        }
        estate.locations.push(location);
    }
    estate
}

fn stamps_for(
    location_kind: &LocationKind,
    site: Option<&str>,
    record: &crate::model::FileRecord,
    detail: &Detail,
    out: &mut Vec<Stamp>,
) {
    if record.sha256.is_none() {
        return;
    }
    let lower = record.path.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('\\').collect();
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
    match (location_kind, record.kind, parts.as_slice()) {
        (LocationKind::Cap, FileKind::Compver, ["clicomp.box", component, name])
        | (LocationKind::SiteServer, FileKind::Compver, ["inboxes", "clicomp.src", component, name]) => {
            if *name == "compver.ini" {
                out.push(stamp(component, Artifact::Compver, "", site, version));
            } else {
                out.push(stamp(component, Artifact::CompverVariant, name, site, version));
            }
        }
        (LocationKind::Cap, FileKind::ComponentCfg, ["clicomp.box", name]) => {
            let component = name.trim_end_matches(".cfg");
            out.push(stamp(component, Artifact::Cfg, "", site, version));
        }
        (LocationKind::LogonPoint, FileKind::Compver, ["sites", code, _]) => {
            let code = code.to_ascii_uppercase();
            out.push(stamp("base", Artifact::LogonSiteCompver, &code, Some(&code), version));
        }
        (LocationKind::LogonPoint, FileKind::Binary, [platform, file])
            if (*platform == "x86.bin" || *platform == "alpha.bin") && is_logon_base_binary(file) =>
        {
            out.push(stamp("base", Artifact::LogonBinary, &lower, None, version));
        }
        (LocationKind::LogonPoint, FileKind::Copylog, _) => {
            if let Detail::Copylog(lines) = detail {
                // Every line, SITES\ ones included: the rules check them all.
                for (path, code) in lines {
                    let path_lower = path.to_ascii_lowercase();
                    let code = code.to_ascii_uppercase();
                    out.push(stamp(
                        "base",
                        Artifact::CopylogSource,
                        &path_lower,
                        Some(&code),
                        code.clone(),
                    ));
                }
            }
        }
        (LocationKind::LogonPoint, FileKind::SeniorList, _) => {
            if let Detail::Senior(code) = detail {
                out.push(stamp("", Artifact::SeniorSite, "", None, code.clone()));
            }
        }
        (LocationKind::Cap, FileKind::OfferInstruction, _) => {
            if let Detail::OfferRefs(names) = detail {
                for name in names {
                    out.push(stamp("", Artifact::OfferRef, &lower, site, name.clone()));
                }
            }
        }
        _ => {}
    }
}

/// The logon-point files that carry the base components (reference 3.2).
fn is_logon_base_binary(file: &str) -> bool {
    matches!(file, "clicore.exe" | "boot32wn.exe" | "smsboot1.exe")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_path_ignore_case() {
        assert_eq!(
            kind_by_path(LocationKind::Cap, r"CLICOMP.BOX\SWDist\compver.ini"),
            FileKind::Compver
        );
        assert_eq!(
            kind_by_path(LocationKind::Cap, r"clicomp.box\base\Compver1072.ini"),
            FileKind::Compver
        );
        assert_eq!(
            kind_by_path(LocationKind::Cap, r"clicomp.box\smsapm32.CFG"),
            FileKind::ComponentCfg
        );
        assert_eq!(
            kind_by_path(LocationKind::Cap, r"Clidata.box\Caplist.ini"),
            FileKind::ClientData
        );
        assert_eq!(
            kind_by_path(LocationKind::LogonPoint, r"CONFIG\COPYLOG.TCF"),
            FileKind::Copylog
        );
        assert_eq!(
            kind_by_path(LocationKind::LogonPoint, r"Sitescfg\MS1_cfg.lcf"),
            FileKind::LogonConfig
        );
        assert_eq!(
            kind_by_path(LocationKind::LogonPoint, r"x86.bin\CLICORE.EXE"),
            FileKind::Binary
        );
        assert_eq!(
            kind_by_path(LocationKind::SiteServer, r"Inboxes\clicomp.src\base\compver.ini"),
            FileKind::Compver
        );
        assert_eq!(
            kind_by_path(LocationKind::Cap, r"clicomp.box\readme.txt"),
            FileKind::Other
        );
    }

    #[test]
    fn instructions_list_offers() {
        match parse_instruction(b"[Offers]\r\nA=MS100001.ofr\r\nB=ms100002.OFR;ms100001.ofr\r\n").detail {
            Detail::OfferRefs(names) => assert_eq!(names, vec!["MS100001.ofr", "ms100002.OFR"]),
            other => panic!("{other:?}"),
        }
        match parse_instruction(b"").detail {
            Detail::OfferRefs(names) => assert!(names.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn senior_list_takes_three_characters() {
        match parse_senior(b"MS2\r\n").detail {
            Detail::Senior(code) => assert_eq!(code, "MS2"),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_senior(b"").status, Status::Malformed);
    }
}
