//! The data every stage passes along: locations, files, stamps, findings
//! and the matrix cells they mark. Everything here is serialisable; it
//! depends on nothing but the SMS knowledge.

pub use crate::sms::checks::{CheckCode, Severity};
pub use crate::sms::layout::{FileKind, LocationKind};
pub use compact_str::CompactString;
use serde::Serialize;

/// A share found under one of the roots.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    /// The share's comment, as the server's share list gives it.
    pub share_comment: ShareComment,
    /// The NTFS permissions of a CAP's root folder and boxes, read over SMB.
    pub folder_acls: FolderAcls,
}

/// A share's comment (KB Q235173: SMSLOGON's must be exactly
/// [`crate::sms::layout::LOGON_SHARE_COMMENT`]). Only a share read over SMB
/// has one to read: a local folder or a mounted share shows none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareComment {
    /// Not read over SMB (a local or mounted share): nothing to check.
    #[default]
    NotApplicable,
    /// As the server's share list gives it (possibly empty).
    Read(String),
    /// The server's share list could not be read: why. Not checked.
    Unread(String),
}

impl ShareComment {
    /// The comment as the Sites view shows it beside a share: empty when
    /// there is none to read.
    pub(crate) fn shown(&self) -> String {
        match self {
            ShareComment::NotApplicable => String::new(),
            ShareComment::Read(text) => format!("comment \"{text}\""),
            ShareComment::Unread(reason) => format!("comment not read ({reason})"),
        }
    }
}

/// The NTFS permissions (DACLs) of a CAP's root folder and of its ten
/// boxes (Q252856), one read per folder. Only a CAP read over SMB has them:
/// a local folder or a mounted share shows none, and other shares are not
/// read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderAcls {
    /// Not a CAP read over SMB: nothing to check.
    #[default]
    NotApplicable,
    /// Each folder tried: the root (`""`) first, then the boxes found, by
    /// name.
    Folders(Vec<FolderAcl>),
}

/// One folder's DACL, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FolderAcl {
    /// Share-relative, as on the share (`ccr.box`); `""` is the root.
    pub folder: String,
    pub dacl: Dacl,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dacl {
    /// The entries, in the descriptor's order.
    Read(Vec<Ace>),
    /// The descriptor could not be read (access denied, an error): why.
    Unread(String),
}

/// One access control entry, as Windows stores it: the trustee's SID, the
/// entry's type (0 allowed, 1 denied), its flags (0x08 inherit only, 0x10
/// inherited) and its access mask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Ace {
    pub sid: String,
    #[serde(rename = "type")]
    pub ace_type: u8,
    pub flags: u8,
    pub mask: u32,
}

impl FolderAcls {
    /// What the Sites view shows beside a CAP: empty when there is nothing
    /// to read.
    pub(crate) fn shown(&self) -> String {
        let FolderAcls::Folders(folders) = self else {
            return String::new();
        };
        let unread: Vec<String> = folders
            .iter()
            .filter_map(|f| match &f.dacl {
                Dacl::Unread(reason) => Some(format!("{} ({reason})", f.shown_name())),
                Dacl::Read(_) => None,
            })
            .collect();
        let read = folders.len() - unread.len();
        match unread.is_empty() {
            true => format!("folder ACLs read ({read} folders)"),
            false => format!("folder ACLs read ({read} folders), not read: {}", unread.join(", ")),
        }
    }
}

impl FolderAcl {
    /// The folder as messages name it.
    pub(crate) fn shown_name(&self) -> &str {
        match self.folder.as_str() {
            "" => "the share root",
            folder => folder,
        }
    }
}

impl Location {
    /// The location as reports show it ([`Status::reported`]).
    pub(crate) fn reported(&self) -> Location {
        Location {
            status: self.status.reported(),
            ..self.clone()
        }
    }
}

/// The outcome for a file or location. Reports show six states as four
/// ([`Status::reported`]); the two that say why on their own carry their
/// reason text ([`Status::own_reason`]). Serialised (to workers and the
/// spill) with all six names; audit.json writes the reported ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
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
    /// Left out by `--exclude` or the inventory: not read on purpose.
    /// Reported as `skipped`.
    Excluded,
    /// A root that did not answer its search in time: asking it anything
    /// more could hang as its search did. Reported as `unreadable`.
    NoAnswer,
}

impl Status {
    /// The status reports show: excluded entries are skipped ones, a root
    /// that did not answer is unreadable.
    pub(crate) fn reported(self) -> Status {
        match self {
            Status::Excluded => Status::Skipped,
            Status::NoAnswer => Status::Unreadable,
            status => status,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self.reported() {
            Status::Ok => "ok",
            Status::Malformed => "malformed",
            Status::Skipped => "skipped",
            _ => "unreadable",
        }
    }

    /// The status named `name`, in reports or to workers.
    pub(crate) fn from_name(name: &str) -> Option<Status> {
        let status = match name {
            "ok" => Status::Ok,
            "malformed" => Status::Malformed,
            "skipped" => Status::Skipped,
            "unreadable" => Status::Unreadable,
            "excluded" => Status::Excluded,
            "no_answer" => Status::NoAnswer,
            _ => return None,
        };
        Some(status)
    }

    /// The reason a status gives by itself, shown in the `reason` column;
    /// empty for the others, whose reasons vary.
    pub(crate) fn own_reason(self) -> &'static str {
        match self {
            Status::Excluded => "excluded (--exclude or inventory), not read",
            Status::NoAnswer => "timed out: the root did not answer",
            _ => "",
        }
    }
}

/// A SHA-256, held as its 32 bytes: as 64 hex digits a record's hash took
/// 80 bytes of heap, and at 10,000 shares about 400,000 records and stamps
/// are held. Shown, and written to JSON, as 64 lower-case hex digits;
/// encoded as 32 bytes in the crawl's frames and the record runs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256Digest {
        use sha2::Digest;
        Sha256Digest(sha2::Sha256::digest(bytes).into())
    }

    /// From 64 hex digits, either case; `None` for anything else.
    pub fn parse_hex(text: &str) -> Option<Sha256Digest> {
        let text = text.as_bytes();
        if text.len() != 64 {
            return None;
        }
        let digit = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Sha256Digest(bytes))
    }

    /// The 64 hex digits, without allocating.
    pub fn hex(&self) -> HexDigest {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 64];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 15)];
        }
        HexDigest(text)
    }
}

/// A digest's 64 hex digits ([`Sha256Digest::hex`]).
#[derive(Clone, Copy)]
pub struct HexDigest([u8; 64]);

impl HexDigest {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

impl std::fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(self.hex().as_str())
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> serde::Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Sha256Digest, D::Error> {
        if deserializer.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            Sha256Digest::parse_hex(&text)
                .ok_or_else(|| serde::de::Error::custom(format!("not a SHA-256 in hex: {text:?}")))
        } else {
            <[u8; 32]>::deserialize(deserializer).map(Sha256Digest)
        }
    }
}

/// One entry of a location: every regular file, plus rows for what was
/// skipped or unreadable.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FileRecord {
    pub location: CompactString,
    /// Path relative to the share, with backslashes as Windows shows it.
    pub path: CompactString,
    pub size: Option<u64>,
    /// Modification time, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub modified: Option<CompactString>,
    pub sha256: Option<Sha256Digest>,
    pub kind: FileKind,
    /// The version stamp extracted from the file, if any.
    pub version: Option<CompactString>,
    /// Where `version` came from (`compver.ini`, `CFG key Version`, ...).
    pub version_source: Option<CompactString>,
    /// For PE images: the string FileVersion of the version resource, which
    /// `version` (the fixed, binary FileVersion) may disagree with.
    pub string_version: Option<CompactString>,
    pub status: Status,
    pub reason: CompactString,
}

impl FileRecord {
    /// The columns of files.csv, of the Files sheet and of the history's
    /// file states, in order.
    pub(crate) const COLUMNS: [&'static str; 11] = [
        "location",
        "path",
        "size",
        "modified",
        "sha256",
        "kind",
        "version",
        "version_source",
        "string_version",
        "status",
        "reason",
    ];

    /// Whether a person needs this row whatever the findings say: it has a
    /// version or a kind the audit parses, or it is not `ok` or carries a
    /// note. With the files findings point at, these are the files of
    /// interest the workbook and the page list.
    pub(crate) fn is_of_note(&self) -> bool {
        let parsed_kind = !matches!(self.kind, FileKind::Other | FileKind::Directory);
        self.version.is_some() || parsed_kind || self.status != Status::Ok || !self.reason.is_empty()
    }

    /// The text values after `size` in files.csv column order (`modified`
    /// to `reason`); the CSV and the XLSX write the first three themselves.
    /// `hash` holds the hash's hex digits while the cells are read.
    pub(crate) fn text_cells<'a>(&'a self, hash: &'a mut Option<HexDigest>) -> [&'a str; 8] {
        *hash = self.sha256.map(|digest| digest.hex());
        let hash: &'a Option<HexDigest> = hash;
        [
            self.modified.as_deref().unwrap_or(""),
            hash.as_ref().map_or("", HexDigest::as_str),
            self.kind.as_str(),
            self.version.as_deref().unwrap_or(""),
            self.version_source.as_deref().unwrap_or(""),
            self.string_version.as_deref().unwrap_or(""),
            self.status.as_str(),
            &self.reason,
        ]
    }

    /// A row for an entry that was not read: no size, time, hash or version.
    pub(crate) fn not_read(location: &str, path: String, kind: FileKind, status: Status, reason: String) -> FileRecord {
        FileRecord {
            location: location.into(),
            path: path.into(),
            size: None,
            modified: None,
            sha256: None,
            kind,
            version: None,
            version_source: None,
            string_version: None,
            status,
            reason: reason.into(),
        }
    }
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

/// The role a stamp plays in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
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
    const ALL: [Artifact; 9] = [
        Artifact::Compver,
        Artifact::Cfg,
        Artifact::CompverVariant,
        Artifact::LogonBinary,
        Artifact::CopylogSource,
        Artifact::LogonSiteCompver,
        Artifact::LogonBase,
        Artifact::OfferRef,
        Artifact::SeniorSite,
    ];

    /// Its name in audit.json, the history and drift.csv (`logon_binary`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Artifact::Compver => "compver",
            Artifact::Cfg => "cfg",
            Artifact::CompverVariant => "compver_variant",
            Artifact::LogonBinary => "logon_binary",
            Artifact::CopylogSource => "copylog_source",
            Artifact::LogonSiteCompver => "logon_site_compver",
            Artifact::LogonBase => "logon_base",
            Artifact::OfferRef => "offer_ref",
            Artifact::SeniorSite => "senior_site",
        }
    }

    /// The artifact named `name` ([`Artifact::name`]).
    pub(crate) fn from_name(name: &str) -> Option<Artifact> {
        Artifact::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Its label in the matrix's `artifact` column.
    pub(crate) fn as_str(self) -> &'static str {
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

/// Unit-test fixtures: one readable location, one CAP's base compver.
#[cfg(test)]
impl Location {
    /// A readable location named `\\SERVER\SHARE`, its server and share
    /// taken from the name.
    pub(crate) fn for_test(name: &str, kind: LocationKind, sites: &[&str]) -> Location {
        let (server, share) = name.trim_start_matches('\\').split_once('\\').unwrap_or((name, ""));
        Location {
            name: name.into(),
            server: server.into(),
            share: share.into(),
            kind,
            root: String::new(),
            sites: sites.iter().map(|s| s.to_string()).collect(),
            status: Status::Ok,
            reason: String::new(),
            files: 0,
            bytes: 0,
            share_comment: ShareComment::NotApplicable,
            folder_acls: FolderAcls::NotApplicable,
        }
    }
}

#[cfg(test)]
impl Stamp {
    /// The base compver `value` that `location` offers for `site`.
    pub(crate) fn base_compver(location: &str, site: &str, value: &str) -> Stamp {
        Stamp {
            location: location.into(),
            site: Some(site.into()),
            component: "base".into(),
            artifact: Artifact::Compver,
            detail: CompactString::default(),
            value: value.into(),
            path: "clicomp.box\\base\\compver.ini".into(),
            string_version: None,
            sha256: None,
        }
    }
}

/// A value extracted from one file that the matrix and rules compare.
#[derive(Debug, Clone, Serialize)]
pub struct Stamp {
    pub location: CompactString,
    /// The site the stamp speaks for (upper case), when known.
    pub site: Option<CompactString>,
    /// Component folder name, lower case (`base`, `smsapm32`...).
    pub component: CompactString,
    pub artifact: Artifact,
    /// What distinguishes stamps of one component and artifact (a file name
    /// under x86.bin, a site code under Sites...); empty otherwise.
    pub detail: CompactString,
    /// The value as found; empty when the file carries none.
    pub value: CompactString,
    pub path: CompactString,
    /// For binaries: the string FileVersion beside the fixed one in `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_version: Option<CompactString>,
    /// The file's hash, to compare files whose versions are not comparable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Digest>,
}

/// One problem found, with its KB article and fix: complete when a check
/// makes it. What later stages conclude about it is in [`Judged`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: CheckCode,
    pub kb: String,
    pub site: String,
    pub location: String,
    pub path: String,
    pub observed: String,
    pub expected: String,
    pub message: String,
    pub fix: String,
    /// The same finding from run to run ([`fingerprint`] of its code,
    /// site, location and path, made with it): what
    /// `smsaudit history --finding` takes.
    pub fingerprint: String,
    /// The matrix cells this finding is about.
    pub marks: Vec<CellMark>,
}

/// A finding with what the stages after the checks concluded about it,
/// put together once when the audit is assembled: no stage changes
/// another's output. Reads as its [`Finding`] too.
#[derive(Debug, Clone)]
pub struct Judged {
    pub finding: Finding,
    /// The id of the cause this finding is a symptom of (`C1`).
    pub cause: String,
    /// When the first run in the `--history` that had this finding started
    /// (RFC 3339 UTC); empty without `--history`.
    pub first_seen: String,
    /// The `--accepted` entry that accepts this finding on the run's date:
    /// it stays in every report, marked, and does not count towards the
    /// exit code.
    pub accepted: Option<Acceptance>,
}

/// One `[[accept]]` entry of an `--accepted` file: a finding, by its
/// fingerprint, accepted until the end of a day, for a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acceptance {
    pub fingerprint: String,
    pub reason: String,
    /// The last day the finding is accepted, `YYYY-MM-DD` (UTC).
    pub until: String,
}

/// audit.json's `accepted` of a finding: why and until when, or `null`.
#[derive(Serialize)]
struct AcceptedField<'a> {
    reason: &'a str,
    until: &'a str,
}

impl std::ops::Deref for Judged {
    type Target = Finding;

    fn deref(&self) -> &Finding {
        &self.finding
    }
}

/// audit.json's finding: the finding's fields with its cause and first
/// seen in their places, as when they were fields of the finding.
impl Serialize for Judged {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let f = &self.finding;
        let mut out = serializer.serialize_struct("Finding", 15)?;
        out.serialize_field("severity", &f.severity)?;
        out.serialize_field("code", &f.code)?;
        out.serialize_field("kb", &f.kb)?;
        out.serialize_field("site", &f.site)?;
        out.serialize_field("location", &f.location)?;
        out.serialize_field("path", &f.path)?;
        out.serialize_field("observed", &f.observed)?;
        out.serialize_field("expected", &f.expected)?;
        out.serialize_field("message", &f.message)?;
        out.serialize_field("fix", &f.fix)?;
        out.serialize_field("cause", &self.cause)?;
        out.serialize_field("fingerprint", &f.fingerprint)?;
        out.serialize_field("first_seen", &self.first_seen)?;
        out.serialize_field(
            "accepted",
            &self.accepted.as_ref().map(|a| AcceptedField {
                reason: &a.reason,
                until: &a.until,
            }),
        )?;
        out.serialize_field("marks", &f.marks)?;
        out.end()
    }
}

impl Judged {
    /// The columns of findings.csv and of the Findings sheet, in order.
    pub(crate) const COLUMNS: [&'static str; 15] = [
        "severity",
        "code",
        "cause",
        "first_seen",
        "kb",
        "site",
        "location",
        "path",
        "observed",
        "expected",
        "message",
        "fix",
        "fingerprint",
        "accepted",
        "accepted_until",
    ];

    /// The finding's values in [`Judged::COLUMNS`] order.
    pub(crate) fn cells(&self) -> [&str; 15] {
        let f = &self.finding;
        [
            f.severity.as_str(),
            f.code.as_str(),
            &self.cause,
            &self.first_seen,
            &f.kb,
            &f.site,
            &f.location,
            &f.path,
            &f.observed,
            &f.expected,
            &f.message,
            &f.fix,
            &f.fingerprint,
            self.accepted.as_ref().map_or("", |a| a.reason.as_str()),
            self.accepted.as_ref().map_or("", |a| a.until.as_str()),
        ]
    }

    /// Whether an `--accepted` entry accepts it: it then does not count
    /// towards the verdict.
    pub fn is_accepted(&self) -> bool {
        self.accepted.is_some()
    }
}

/// What makes a finding the same one from run to run: its check, site,
/// location and path, the last two without case (Windows names are not
/// case-sensitive). What was observed is left out on purpose: a CFG that
/// goes from one wrong version to another is still the same open finding,
/// and its history shows both values. 16 hex digits of a SHA-256.
pub fn fingerprint(code: CheckCode, site: &str, location: &str, path: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [
        "smsaudit finding 1",
        code.as_str(),
        &site.to_uppercase(),
        &location.to_lowercase(),
        &path.to_lowercase(),
    ] {
        // Length-prefixed, so no two splits of the same text collide.
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Puts findings in report order (worst first, then by code, site,
/// location, path) and drops exact repeats.
pub(crate) fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (
            std::cmp::Reverse(a.severity),
            a.code,
            &a.site,
            &a.location,
            &a.path,
            &a.observed,
        )
            .cmp(&(
                std::cmp::Reverse(b.severity),
                b.code,
                &b.site,
                &b.location,
                &b.path,
                &b.observed,
            ))
    });
    findings.dedup();
}

/// Identifies a matrix row: a component's artifact, plus a detail such as
/// a file name or site code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RowKey {
    pub component: String,
    pub artifact: Artifact,
    pub detail: String,
}

impl RowKey {
    pub fn new(component: &str, artifact: Artifact, detail: &str) -> RowKey {
        RowKey {
            component: component.to_ascii_lowercase(),
            artifact,
            detail: detail.to_string(),
        }
    }

    /// The row of a stamp.
    pub(crate) fn of(stamp: &Stamp) -> RowKey {
        RowKey::new(&stamp.component, stamp.artifact, &stamp.detail)
    }

    /// Where a share of `kind` keeps the file this row reads (lower case),
    /// when the layout says; `None` for derived rows.
    pub(crate) fn path_at(&self, kind: LocationKind) -> Option<String> {
        use crate::sms::layout;
        match (self.artifact, kind) {
            (Artifact::Compver, kind) => layout::compver_path(kind, &self.component),
            (Artifact::Cfg, LocationKind::Cap) => Some(layout::cfg_path(&self.component)),
            (Artifact::LogonBinary, LocationKind::LogonPoint) => Some(self.detail.clone()),
            (Artifact::LogonSiteCompver, LocationKind::LogonPoint) => {
                Some(layout::logon_site_compver_path(&self.detail))
            }
            (Artifact::CopylogSource, LocationKind::LogonPoint) => Some(layout::COPYLOG.to_string()),
            _ => None,
        }
    }

    /// The row's label in reports.
    pub fn label(&self) -> String {
        let detail = if self.detail.is_empty() {
            String::new()
        } else {
            format!(" {}", self.detail)
        };
        match self.artifact {
            Artifact::Compver => format!("{} compver.ini", self.component),
            Artifact::Cfg => format!("{}.CFG version", self.component),
            Artifact::CompverVariant => format!("{} compver variant{detail}", self.component),
            Artifact::LogonBinary => format!("{} logon point{detail}", self.component),
            Artifact::CopylogSource => format!("{} Copylog source site of{detail}", self.component),
            Artifact::LogonSiteCompver => format!("{} logon point compver.ini of site{detail}", self.component),
            Artifact::LogonBase => format!("{} logon point base (derived)", self.component),
            Artifact::OfferRef => format!("offer named by{detail}"),
            Artifact::SeniorSite => "senior site".to_string(),
        }
    }
}

/// A matrix cell that a finding is about, with the value it should hold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CellMark {
    pub row: RowKey,
    pub location: String,
    pub expected: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash reads as sha256sum writes it, in JSON too, and crosses the
    /// crawl's frames as its 32 bytes; text that is not 64 hex digits is
    /// not a hash.
    #[test]
    fn a_digest_is_hex_to_people_and_bytes_in_frames() {
        // sha256sum of "abc".
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let digest = Sha256Digest::of(b"abc");
        assert_eq!(digest.to_string(), hex);
        assert_eq!(Sha256Digest::parse_hex(hex), Some(digest));
        assert_eq!(Sha256Digest::parse_hex(&hex.to_uppercase()), Some(digest));
        assert_eq!(serde_json::to_string(&digest).unwrap(), format!("\"{hex}\""));
        assert_eq!(
            serde_json::from_str::<Sha256Digest>(&format!("\"{hex}\"")).unwrap(),
            digest
        );
        let framed = postcard::to_allocvec(&digest).unwrap();
        assert_eq!(framed, digest.0);
        assert_eq!(postcard::from_bytes::<Sha256Digest>(&framed).unwrap(), digest);
        for not_a_hash in [
            "",
            &hex[1..],
            &format!("{hex}0"),
            &hex.replace('b', "g"),
            "simulated 2.0 clicore.exe",
        ] {
            assert_eq!(Sha256Digest::parse_hex(not_a_hash), None, "{not_a_hash}");
            assert!(serde_json::from_str::<Sha256Digest>(&format!("{not_a_hash:?}")).is_err());
        }
    }

    /// Workers send every status by its own name; reports show the four.
    #[test]
    fn excluded_and_no_answer_cross_to_workers_and_show_as_before() {
        for status in [Status::Excluded, Status::NoAnswer] {
            let sent = serde_json::to_string(&status).unwrap();
            assert_eq!(serde_json::from_str::<Status>(&sent).unwrap(), status);
        }
        assert_eq!(Status::Excluded.as_str(), "skipped");
        assert_eq!(Status::NoAnswer.as_str(), "unreadable");
        let record = FileRecord::not_read(
            r"\\S\CAP_AAA",
            "x".into(),
            FileKind::Other,
            Status::Excluded,
            Status::Excluded.own_reason().into(),
        );
        // As audit.json's files show it.
        let shown = serde_json::to_value(crate::records::FileRecords::from_vec(vec![record])).unwrap()[0].take();
        assert_eq!(shown["status"], "skipped");
        assert_eq!(shown["reason"], "excluded (--exclude or inventory), not read");
        for status in [
            Status::Ok,
            Status::Malformed,
            Status::Skipped,
            Status::Unreadable,
            Status::Excluded,
            Status::NoAnswer,
        ] {
            let name = serde_json::to_value(status).unwrap();
            assert_eq!(Status::from_name(name.as_str().unwrap()), Some(status));
            assert_eq!(Status::from_name(status.as_str()), Some(status.reported()));
        }
    }

    /// The names drift and the history use are serde's.
    #[test]
    fn artifact_names_are_their_serialised_names() {
        for artifact in Artifact::ALL {
            assert_eq!(serde_json::to_value(artifact).unwrap(), artifact.name());
            assert_eq!(Artifact::from_name(artifact.name()), Some(artifact));
        }
        assert_eq!(Artifact::from_name("compver.ini"), None);
    }

    /// audit.json's findings keep their fields and order with the cause
    /// and first seen held beside the finding.
    #[test]
    fn a_judged_finding_serialises_as_one_finding() {
        let finding = Finding {
            severity: Severity::Error,
            code: CheckCode::F03,
            kb: "Q236596".into(),
            site: "AB1".into(),
            location: r"\\S\CAP_AB1".into(),
            path: "p".into(),
            observed: "o".into(),
            expected: "e".into(),
            message: "m".into(),
            fix: "f".into(),
            fingerprint: fingerprint(CheckCode::F03, "AB1", r"\\S\CAP_AB1", "p"),
            marks: Vec::new(),
        };
        let judged = Judged {
            finding,
            cause: "C1".into(),
            first_seen: "2026-01-01T00:00:00Z".into(),
            accepted: None,
        };
        let text = serde_json::to_string(&judged).unwrap();
        let keys: Vec<&str> = text
            .split('"')
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[1].starts_with(':'))
            .map(|w| w[0])
            .collect();
        assert_eq!(
            keys,
            [
                "severity",
                "code",
                "kb",
                "site",
                "location",
                "path",
                "observed",
                "expected",
                "message",
                "fix",
                "cause",
                "fingerprint",
                "first_seen",
                "accepted",
                "marks"
            ]
        );
        assert_eq!(judged.cells()[2..4], ["C1", "2026-01-01T00:00:00Z"]);
    }
}
