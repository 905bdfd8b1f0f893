//! The one data model every stage passes along: locations, files, stamps,
//! matrix and findings. Everything here is serialisable and sorted.

use crate::catalog::Severity;
use crate::config::Config;
use crate::matrix::Matrix;
use serde::Serialize;

/// What a share is, judged by its name and layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    SiteServer,
    Cap,
    LogonPoint,
    /// A root that could not be read, or that holds no recognisable share.
    Unknown,
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::SiteServer => "site server",
            LocationKind::Cap => "CAP",
            LocationKind::LogonPoint => "logon point",
            LocationKind::Unknown => "unknown",
        }
    }
}

/// A share found under one of the roots.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    /// `\\SERVER\SHARE`, the key every other record uses.
    pub name: String,
    pub server: String,
    pub share: String,
    pub kind: LocationKind,
    /// The path the share was read from, as the user gave it.
    pub root: String,
    /// Site codes, upper case: the CAP's or site server's site, or the sites
    /// that take part in a logon point.
    pub sites: Vec<String>,
    /// `ok`, or `unreadable` with a reason.
    pub status: Status,
    pub reason: String,
    pub files: u64,
    pub bytes: u64,
}

/// The outcome for a file or location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Read, hashed and (where it applies) parsed.
    Ok,
    /// Read and hashed, but its content could not be parsed.
    Malformed,
    /// Not read on purpose (link, FIFO, device...).
    Skipped,
    /// Could not be read; no hash is reported.
    Unreadable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Malformed => "malformed",
            Status::Skipped => "skipped",
            Status::Unreadable => "unreadable",
        }
    }
}

/// The kind of a file, from its place in the share and its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Compver,
    ComponentCfg,
    Copylog,
    LogonConfig,
    SeniorList,
    ClientData,
    /// `Offerinf.box\*.ins`: an advertisement instruction file.
    OfferInstruction,
    Binary,
    Other,
    Directory,
    Symlink,
    Special,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Compver => "compver",
            FileKind::ComponentCfg => "component_cfg",
            FileKind::Copylog => "copylog",
            FileKind::LogonConfig => "logon_config",
            FileKind::SeniorList => "senior_list",
            FileKind::ClientData => "client_data",
            FileKind::OfferInstruction => "offer_instruction",
            FileKind::Binary => "binary",
            FileKind::Other => "other",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Special => "special",
        }
    }
}

/// One entry of a location: every regular file, plus rows for what was
/// skipped or unreadable.
#[derive(Debug, Clone, Serialize)]
pub struct FileRecord {
    pub location: String,
    /// Path relative to the share, with backslashes as Windows shows it.
    pub path: String,
    pub size: Option<u64>,
    /// Modification time, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub modified: Option<String>,
    pub sha256: Option<String>,
    pub kind: FileKind,
    /// The version stamp extracted from the file, if any.
    pub version: Option<String>,
    /// Where `version` came from (`compver.ini`, `CFG key Version`, ...).
    pub version_source: Option<String>,
    /// For PE images: the string FileVersion of the version resource, which
    /// `version` (the fixed, binary FileVersion) may disagree with.
    pub string_version: Option<String>,
    pub status: Status,
    pub reason: String,
}

impl FileRecord {
    /// The text values after `size` in files.csv column order (`modified`
    /// to `reason`); the CSV and the XLSX write the first three themselves.
    pub fn text_cells(&self) -> [&str; 8] {
        [
            self.modified.as_deref().unwrap_or(""),
            self.sha256.as_deref().unwrap_or(""),
            self.kind.as_str(),
            self.version.as_deref().unwrap_or(""),
            self.version_source.as_deref().unwrap_or(""),
            self.string_version.as_deref().unwrap_or(""),
            self.status.as_str(),
            &self.reason,
        ]
    }

    /// A row for an entry that was not read: no size, time, hash or version.
    pub fn not_read(location: &str, path: String, kind: FileKind, status: Status, reason: String) -> FileRecord {
        FileRecord {
            location: location.to_string(),
            path,
            size: None,
            modified: None,
            sha256: None,
            kind,
            version: None,
            version_source: None,
            string_version: None,
            status,
            reason,
        }
    }
}

/// The role a stamp plays in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Artifact {
    /// `clicomp.box|src\<comp>\compver.ini`: the version the site offers.
    Compver,
    /// `clicomp.box\<comp>.CFG`: the CFG's own version value.
    Cfg,
    /// A hotfix-named compver variant left beside compver.ini.
    CompverVariant,
    /// `SMSLOGON\x86.bin\clicore.exe` and the like: the logon-point base file.
    LogonBinary,
    /// `Copylog.tcf` `[FILE SOURCE]`: the site that last wrote a file.
    CopylogSource,
    /// `SMSLOGON\Sites\<code>\compver.ini` [I].
    LogonSiteCompver,
    /// The base release a logon point gives clients, derived.
    LogonBase,
    /// An `.ofr` file named by an `Offerinf.box\*.ins` (detail: the .ins).
    OfferRef,
    /// `Sitescfg\Senior.lst`: the senior site code as written.
    SeniorSite,
}

impl Artifact {
    pub fn as_str(self) -> &'static str {
        match self {
            Artifact::Compver => "compver.ini",
            Artifact::Cfg => "CFG version",
            Artifact::CompverVariant => "compver variant",
            Artifact::LogonBinary => "logon point binary",
            Artifact::CopylogSource => "copylog source site",
            Artifact::LogonSiteCompver => "logon point site compver",
            Artifact::LogonBase => "logon point base (derived)",
            Artifact::OfferRef => "offer named by an instruction",
            Artifact::SeniorSite => "senior site",
        }
    }
}

/// A value extracted from one file that the matrix and rules compare.
#[derive(Debug, Clone, Serialize)]
pub struct Stamp {
    pub location: String,
    /// The site the stamp speaks for (upper case), when known.
    pub site: Option<String>,
    /// Component folder name, lower case (`base`, `smsapm32`...).
    pub component: String,
    pub artifact: Artifact,
    /// What distinguishes stamps of one component and artifact (a file name
    /// under x86.bin, a site code under Sites...); empty otherwise.
    pub detail: String,
    /// The value as found; empty when the file carries none.
    pub value: String,
    pub path: String,
    /// For binaries: the string FileVersion beside the fixed one in `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_version: Option<String>,
    /// The file's hash, to compare files whose versions are not comparable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// One problem found, with its KB article and fix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: String,
    pub kb: String,
    pub site: String,
    pub location: String,
    pub path: String,
    pub observed: String,
    pub expected: String,
    pub message: String,
    pub fix: String,
    /// The matrix cells this finding is about.
    pub marks: Vec<crate::rules::CellMark>,
}

impl Finding {
    /// The columns of findings.csv and of the Findings sheet, in order.
    pub const COLUMNS: [&'static str; 10] = [
        "severity", "code", "kb", "site", "location", "path", "observed", "expected", "message", "fix",
    ];

    /// The finding's values in [`Finding::COLUMNS`] order.
    pub fn cells(&self) -> [&str; 10] {
        [
            self.severity.as_str(),
            &self.code,
            &self.kb,
            &self.site,
            &self.location,
            &self.path,
            &self.observed,
            &self.expected,
            &self.message,
            &self.fix,
        ]
    }
}

/// Counts for the end-of-run summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub locations: usize,
    pub unreadable_locations: usize,
    pub files: u64,
    pub bytes: u64,
    pub unreadable_files: u64,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub mismatched_items: usize,
}

/// Everything an audit found, ready to be written in any format.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub tool: String,
    pub version: String,
    pub roots: Vec<String>,
    pub summary: Summary,
    pub locations: Vec<Location>,
    pub matrix: Matrix,
    pub findings: Vec<Finding>,
    pub stamps: Vec<Stamp>,
    pub files: Vec<FileRecord>,
    /// The pre-upgrade prediction, when `--upgrade` was given.
    pub upgrade: Option<crate::upgrade::UpgradePlan>,
    /// The baseline this audit was compared with, if any.
    pub baseline: Option<String>,
    /// Changes since the baseline; `None` without one.
    pub drift: Option<Vec<crate::drift::Change>>,
}

/// Locations, files and stamps after the crawl and extraction.
#[derive(Debug, Clone, Default)]
pub struct Estate {
    pub locations: Vec<Location>,
    pub files: Vec<FileRecord>,
    pub stamps: Vec<Stamp>,
}

impl Audit {
    /// Sorts everything and computes the summary.
    pub fn assemble(config: &Config, estate: Estate, matrix: Matrix, mut findings: Vec<Finding>) -> Audit {
        let Estate {
            mut locations,
            mut files,
            mut stamps,
        } = estate;
        locations.sort_by(|a, b| a.name.cmp(&b.name));
        files.sort_by(|a, b| (&a.location, &a.path).cmp(&(&b.location, &b.path)));
        stamps.sort_by(|a, b| {
            (&a.location, &a.component, a.artifact, &a.detail, &a.path).cmp(&(
                &b.location,
                &b.component,
                b.artifact,
                &b.detail,
                &b.path,
            ))
        });
        findings.sort_by(|a, b| {
            (
                std::cmp::Reverse(a.severity),
                &a.code,
                &a.site,
                &a.location,
                &a.path,
                &a.observed,
            )
                .cmp(&(
                    std::cmp::Reverse(b.severity),
                    &b.code,
                    &b.site,
                    &b.location,
                    &b.path,
                    &b.observed,
                ))
        });
        findings.dedup();
        let summary = Summary {
            locations: locations.len(),
            unreadable_locations: locations.iter().filter(|l| l.status != Status::Ok).count(),
            files: locations.iter().map(|l| l.files).sum(),
            bytes: locations.iter().map(|l| l.bytes).sum(),
            unreadable_files: files.iter().filter(|f| f.status == Status::Unreadable).count() as u64,
            errors: findings.iter().filter(|f| f.severity == Severity::Error).count(),
            warnings: findings.iter().filter(|f| f.severity == Severity::Warning).count(),
            infos: findings.iter().filter(|f| f.severity == Severity::Info).count(),
            mismatched_items: matrix.rows.iter().filter(|r| r.mismatch).count(),
        };
        Audit {
            tool: "smsaudit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            roots: config.roots.iter().map(|r| crate::names::display_path(r)).collect(),
            summary,
            locations,
            matrix,
            findings,
            stamps,
            files,
            upgrade: None,
            baseline: None,
            drift: None,
        }
    }

    /// The most severe finding, if any.
    pub fn worst_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}
