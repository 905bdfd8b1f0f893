//! Parsers, one module per file kind: from a file's bytes to its version
//! and what else the checks need. Pure functions that never panic.

pub mod cfg;
pub mod compver;
pub mod copylog;
pub(crate) mod ini;
pub mod pe;
pub mod sitectrl;

use crate::model::{FileKind, Status};
use crate::text;
/// How the parsers read a text file's bytes, public for the fuzz targets.
pub use crate::text::decode;
use std::io::{self, Read, Seek};

/// What a parser learned from one file beyond its version.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
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
    /// A site control file: what the checks read of it.
    SiteControl(sitectrl::SiteControl),
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
    pub(crate) fn failed(status: Status, reason: impl Into<String>) -> Extracted {
        Extracted {
            status,
            reason: reason.into(),
            ..Extracted::default()
        }
    }
}

/// Text files larger than this are not real SMS configuration files: they
/// are hashed but not parsed, so one huge file cannot exhaust memory.
pub(crate) const TEXT_PARSE_LIMIT: u64 = 1024 * 1024;

/// The most bytes of a file of this kind kept in memory for parsing. Files
/// not yet known to be binaries may turn out to be PE images, so they get
/// the binary limit.
pub(crate) fn parse_limit(kind: FileKind, binary_limit: u64) -> u64 {
    match kind {
        FileKind::Binary | FileKind::Other => binary_limit,
        _ => TEXT_PARSE_LIMIT.min(binary_limit),
    }
}

/// Whether files of this kind are parsed, so their content must be kept.
pub(crate) fn wants_content(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Compver
            | FileKind::ComponentCfg
            | FileKind::Copylog
            | FileKind::SeniorList
            | FileKind::Binary
            | FileKind::OfferInstruction
            | FileKind::SiteControl
    )
}

/// What the parser of one file gets from reading it.
#[derive(Debug)]
pub enum Content {
    /// The whole content of a file parsed as text (at most [`TEXT_PARSE_LIMIT`]).
    Bytes(Vec<u8>),
    /// A PE image's version resource, read from the open file after hashing it.
    PeVersion(Result<pe::VersionInfo, pe::PeError>),
}

/// Keeps what the parser of a file needs while the file is hashed in chunks:
/// text is kept whole (it is small); a PE image is not kept at all, its
/// version resource is read from the still open file afterwards, so memory
/// does not grow with the size of binaries.
pub(crate) struct ContentKeeper {
    plan: Plan,
    cap: u64,
    seen: u64,
}

enum Plan {
    Nothing,
    Bytes(Vec<u8>),
    Pe,
    /// A file of no known kind: a PE image if it starts with `MZ`.
    PeIfMz,
}

impl ContentKeeper {
    /// For a file of `kind` that is `len` bytes long when opened; nothing is
    /// kept of a file larger than `cap`.
    pub(crate) fn new(kind: FileKind, len: u64, cap: u64) -> ContentKeeper {
        let plan = match kind {
            _ if len > cap => Plan::Nothing,
            FileKind::Binary => Plan::Pe,
            FileKind::Other => Plan::PeIfMz,
            // `len <= cap`, and text kinds get at most TEXT_PARSE_LIMIT.
            _ if wants_content(kind) => Plan::Bytes(Vec::with_capacity(len as usize)),
            _ => Plan::Nothing,
        };
        ContentKeeper { plan, cap, seen: 0 }
    }

    /// Takes the next chunk of the file, in order.
    pub(crate) fn keep(&mut self, chunk: &[u8]) {
        if self.seen == 0 && matches!(self.plan, Plan::PeIfMz) {
            self.plan = if chunk.starts_with(b"MZ") {
                Plan::Pe
            } else {
                Plan::Nothing
            };
        }
        self.seen = self.seen.saturating_add(chunk.len() as u64);
        if self.seen > self.cap {
            // The file grew past the cap while being read.
            self.plan = Plan::Nothing;
        }
        if let Plan::Bytes(bytes) = &mut self.plan {
            bytes.extend_from_slice(chunk);
        }
    }

    /// What the parser gets, once every chunk was taken. A PE image is read
    /// here from `file` (positioned reads of its headers and resources); a
    /// failed read is an error, not a malformed image.
    pub(crate) fn finish<R: Read + Seek>(self, file: R) -> io::Result<Option<Content>> {
        Ok(match self.plan {
            Plan::Nothing | Plan::PeIfMz => None,
            Plan::Bytes(bytes) => Some(Content::Bytes(bytes)),
            Plan::Pe => Some(Content::PeVersion(pe::read_version_info_from(file, self.cap)?)),
        })
    }
}

/// Parses what was kept of a file according to its kind. Never panics.
pub(crate) fn parse_content(kind: FileKind, content: Content) -> Extracted {
    match content {
        Content::Bytes(bytes) => parse(kind, &bytes),
        Content::PeVersion(result) => binary_extracted(result),
    }
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
        FileKind::SiteControl => sitectrl::parse(bytes),
        _ => Extracted::default(),
    }
}

/// Senior.lst: LSM reads its first three characters as they are
/// (Q235726), so nothing is trimmed. An empty file or one that starts with
/// white space is a valid file that names no site: F11 judges it.
fn parse_senior(bytes: &[u8]) -> Extracted {
    let text = text::decode(bytes);
    let code: String = text.chars().take(3).collect();
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
    binary_extracted(pe::read_version_info(bytes))
}

fn binary_extracted(result: Result<pe::VersionInfo, pe::PeError>) -> Extracted {
    match result {
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
                Some(string) if !crate::sms::version::Version::string_matches_fixed(string, &fixed) => {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        for (bytes, code) in [(&b""[..], ""), (b" MS2\r\n", " MS"), (b"\tMS2", "\tMS")] {
            let parsed = parse_senior(bytes);
            assert_eq!(parsed.status, Status::Ok);
            assert!(matches!(parsed.detail, Detail::Senior(ref c) if c == code), "{bytes:?}");
        }
    }
}
