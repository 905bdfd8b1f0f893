//! The layout of SMS 2.0 shares (reference 1 to 3): what a share is from
//! its name and folders, what a file is from its place in the share, and
//! the paths the checks compare. Discovery, the crawl and the estate all
//! read this one description.
//!
//! Paths here are share-relative, lower case, with backslashes.

use serde::Serialize;

/// What a share is, judged by its name and layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    SiteServer,
    Cap,
    LogonPoint,
    /// A root that could not be read, or that holds no recognisable share.
    Unknown,
}

impl LocationKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LocationKind::SiteServer => "site server",
            LocationKind::Cap => "CAP",
            LocationKind::LogonPoint => "logon point",
            LocationKind::Unknown => "unknown",
        }
    }
}

/// The kind of a file, from its place in the share and its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
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
    /// `inboxes\sitectrl.box\sitectrl.ct0`: the site control file.
    SiteControl,
    Binary,
    Other,
    Directory,
    Symlink,
    Special,
}

impl FileKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FileKind::Compver => "compver",
            FileKind::ComponentCfg => "component_cfg",
            FileKind::Copylog => "copylog",
            FileKind::LogonConfig => "logon_config",
            FileKind::SeniorList => "senior_list",
            FileKind::ClientData => "client_data",
            FileKind::OfferInstruction => "offer_instruction",
            FileKind::SiteControl => "site_control",
            FileKind::Binary => "binary",
            FileKind::Other => "other",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Special => "special",
        }
    }
}

/// Share name prefixes (reference 1).
const CAP_PREFIX: &str = "CAP_";
const SITE_SERVER_PREFIX: &str = "SMS_";
const LOGON_SHARE: &str = "SMSLOGON";

/// The comment SMS gives the SMSLOGON share; one recreated by hand must
/// carry it exactly (reference 1, Q235173).
pub(crate) const LOGON_SHARE_COMMENT: &str = "SMS NT logon service";

/// Classifies a share folder by its name and, through `has`, the folders
/// or files below it (a path of names, matched without regard to case).
pub(crate) fn classify_share(name: &str, has: impl Fn(&[&str]) -> bool) -> Option<LocationKind> {
    let upper = name.to_ascii_uppercase();
    if upper.starts_with(CAP_PREFIX) || has(&["clicomp.box"]) {
        return Some(LocationKind::Cap);
    }
    if upper == LOGON_SHARE || has(&["Config", "copylog.tcf"]) || (has(&["x86.bin"]) && has(&["Sites"])) {
        return Some(LocationKind::LogonPoint);
    }
    if has(&["inboxes", "clicomp.src"])
        || (upper.starts_with(SITE_SERVER_PREFIX) && upper.len() == SITE_SERVER_PREFIX.len() + 3 && has(&["inboxes"]))
    {
        return Some(LocationKind::SiteServer);
    }
    None
}

/// Classifies a share by its name alone, as a server's share list gives
/// it (its folders are first seen by the crawl): `CAP_<site>`, `SMSLOGON`,
/// and `SMS_<site>`, which [`classify_share`] also asks an `inboxes` folder
/// of. Other shares are not SMS shares.
pub(crate) fn classify_share_name(name: &str) -> Option<LocationKind> {
    classify_share(name, |_| false).or_else(|| {
        let upper = name.to_ascii_uppercase();
        upper
            .strip_prefix(SITE_SERVER_PREFIX)
            .is_some_and(is_site_code)
            .then_some(LocationKind::SiteServer)
    })
}

/// A site code is three letters or digits (reference 1, Q235726).
pub(crate) fn is_site_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Site codes LSM cannot create a folder for (Q182420): finding F27.
pub(crate) const RESERVED_SITE_CODES: &[&str] = &["CON", "PRN", "AUX", "NUL"];

/// The site a CAP or site server share serves, from its name: `CAP_ms1`
/// gives `MS1`, `SMS_ABC$` gives `ABC`.
pub(crate) fn site_from_share(kind: LocationKind, share: &str) -> Option<String> {
    let prefix = match kind {
        LocationKind::Cap => CAP_PREFIX,
        LocationKind::SiteServer => SITE_SERVER_PREFIX,
        _ => return None,
    };
    let upper = share.to_ascii_uppercase();
    let code = upper.strip_prefix(prefix)?.trim_end_matches('$');
    is_site_code(code).then(|| code.to_string())
}

/// The site of a `<code>_cfg.lcf` file name (any case), upper case.
pub(crate) fn lcf_site(file_name: &str) -> Option<String> {
    let upper = file_name.to_ascii_uppercase();
    let code = upper.strip_suffix("_CFG.LCF")?;
    is_site_code(code).then(|| code.to_string())
}

/// Where a logon point's participating sites are named: one folder per
/// site, and one LCF file per site in `Sitescfg` (reference 3.2, 4.7).
pub(crate) const LOGON_SITES_FOLDER: &str = "Sites";
pub(crate) const LOGON_CONFIG_FOLDER: &str = "Sitescfg";

/// The site a logon point's entry at `path` (share-relative, `\`
/// separated, any case) names: a `Sites\<code>` folder or a
/// `Sitescfg\<code>_cfg.lcf` file.
pub(crate) fn logon_site_named(path: &str, folder: bool) -> Option<String> {
    let (top, name) = path.split_once('\\')?;
    if name.contains('\\') {
        return None;
    }
    if folder && top.eq_ignore_ascii_case(LOGON_SITES_FOLDER) {
        let code = name.to_ascii_uppercase();
        return is_site_code(&code).then_some(code);
    }
    (!folder && top.eq_ignore_ascii_case(LOGON_CONFIG_FOLDER))
        .then(|| lcf_site(name))
        .flatten()
}

/// `Config\Copylog.tcf` on a logon point.
pub(crate) const COPYLOG: &str = "config\\copylog.tcf";
/// The Clicore clients get from a logon point.
pub(crate) const LOGON_CLICORE: &str = "x86.bin\\clicore.exe";
/// The base Clicore a site server offers, and its CAP copy.
pub(crate) const SITE_SERVER_CLICORE: &str = "inboxes\\clicomp.src\\base\\i386\\clicore.exe";
pub(crate) const CAP_CLICORE: &str = "clicomp.box\\base\\i386\\clicore.exe";
/// A site server's site control file and the inbox its deltas wait in
/// (reference 10.1).
pub(crate) const SITE_CONTROL_FILE: &str = "inboxes\\sitectrl.box\\sitectrl.ct0";
pub(crate) const SITE_CONTROL_INCOMING: &str = "inboxes\\sitectrl.box\\incoming";
/// A site server's Offer Manager inbox (Q246614).
pub(crate) const OFFER_MANAGER_BOX: &str = "inboxes\\offermgr.box";
/// A site server's client data inbox.
pub(crate) const CLIDATA_SRC: &str = "inboxes\\clidata.src";
/// CAP boxes and the site server inboxes Inbox Manager copies them from.
pub(crate) const CAP_BOXES: &[(&str, &str)] = &[
    ("clicomp.box\\", "inboxes\\clicomp.src\\"),
    ("clidata.box\\", "inboxes\\clidata.src\\"),
];
/// Logon point base files and the clicomp.src file LSM copies them from.
pub(crate) const LOGON_COPIES: &[(&str, &str)] = &[
    (LOGON_CLICORE, SITE_SERVER_CLICORE),
    (
        "alpha.bin\\clicore.exe",
        "inboxes\\clicomp.src\\base\\alpha\\clicore.exe",
    ),
];
/// Top folders of a logon point whose files all its sites share.
pub(crate) const LOGON_SHARED_FOLDERS: &[&str] = &["x86.bin\\", "alpha.bin\\", "i386\\", "alpha\\"];
/// Files a participating site needs in `Sites\<code>` (reference 3.2).
pub(crate) const LOGON_SITE_FILES: &[&str] = &["netconf.ncf", "cli_inst.cfg"];

/// The folders of a CAP share (reference 2.1, Q252856): the read-only boxes
/// Inbox Manager fills from the site server, then the writable boxes
/// clients drop files into. Lower case.
pub(crate) const CAP_READ_ONLY_BOXES: &[&str] = &[
    "clicomp.box",
    "clidata.box",
    "clifiles.box",
    "offerinf.box",
    "pkginfo.box",
];
pub(crate) const CAP_WRITABLE_BOXES: &[&str] = &["ccr.box", "ddr.box", "inventry.box", "sinv.box", "statmsgs.box"];

/// A site server's client programs (`SMS\bin\i386`), whose language
/// subfolders (`00000409`...) are the languages the site installs clients
/// in (Q202941), and the logon point folder LSM copies them to
/// (`x86.bin\<lang>`, Q264976, Q275591). Lower case.
pub(crate) const SITE_SERVER_CLIENT_BIN: &str = "bin\\i386";
pub(crate) const LOGON_CLIENT_BIN: &str = "x86.bin";

/// Whether a folder name is a language folder: eight hex digits, the
/// Windows language ID (`00000409`, US English; Q264976).
pub(crate) fn is_language_folder(name: &str) -> bool {
    name.len() == 8 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A site server's log folder (`SMS\Logs`), where SP1 and later hotfix
/// installers write their logs, named after the KB article (Q258149):
/// `Q252717p.txt`, `Q252717q.txt`, `Q252717r.txt` (Q273853), and
/// `Qxxxxxx.log` (Q252717, Q249077).
pub(crate) const SITE_SERVER_LOGS: &str = "logs";

/// The KB article a hotfix log in `Logs` is named after: `Q252717r.txt`
/// gives `Q252717`. Any case; `.txt` or `.log`; a letter or nothing after
/// the number.
pub(crate) fn hotfix_log_kb(file_name: &str) -> Option<String> {
    let upper = file_name.to_ascii_uppercase();
    let stem = upper
        .strip_suffix(".TXT")
        .or_else(|| upper.strip_suffix(".LOG"))?
        .strip_prefix('Q')?;
    let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
    let rest = &stem[digits.len()..];
    let ok = (6..=7).contains(&digits.len()) && rest.len() <= 1 && rest.chars().all(|c| c.is_ascii_alphabetic());
    ok.then(|| format!("Q{digits}"))
}

/// Where a share of `kind` keeps `component`'s compver.ini (lower case).
pub fn compver_path(kind: LocationKind, component: &str) -> Option<String> {
    match kind {
        LocationKind::Cap => Some(format!("clicomp.box\\{component}\\compver.ini")),
        LocationKind::SiteServer => Some(format!("inboxes\\clicomp.src\\{component}\\compver.ini")),
        _ => None,
    }
}

/// Where a CAP keeps `component`'s CFG (lower case).
pub fn cfg_path(component: &str) -> String {
    format!("clicomp.box\\{component}.cfg")
}

/// Where a logon point keeps `site`'s compver.ini [I] (lower case).
pub fn logon_site_compver_path(site: &str) -> String {
    format!("sites\\{}\\compver.ini", site.to_ascii_lowercase())
}

/// The top folders of a share whose files the checks read: excluding one
/// of them hides evidence.
pub fn evidence_folders(kind: LocationKind) -> &'static [&'static str] {
    match kind {
        LocationKind::Cap => &["clicomp.box", "clidata.box", "offerinf.box"],
        LocationKind::SiteServer => &["inboxes"],
        LocationKind::LogonPoint => &["config", "sites", "sitescfg", "x86.bin", "alpha.bin", "i386", "alpha"],
        LocationKind::Unknown => &[],
    }
}

/// Whether the checks may read the entry at `lower` (a lower-case
/// share-relative path): anything in an evidence folder or at the share's
/// top. The audit keeps these records for the checks; every other record
/// only goes to the reports.
pub fn checks_read(kind: LocationKind, lower: &str) -> bool {
    let top = match lower.split_once('\\') {
        Some((top, _)) => top,
        None => return true,
    };
    evidence_folders(kind).contains(&top) || (kind == LocationKind::SiteServer && site_server_extra_read(lower))
}

/// What the checks read on a site server beyond its inboxes: the entries
/// of `bin\i386` (its language folders for F30, its binaries for N08) and
/// the hotfix logs in `Logs` (N08). Nothing deeper, so memory stays bounded
/// by these two folders.
fn site_server_extra_read(lower: &str) -> bool {
    if let Some(rest) = lower.strip_prefix("bin\\") {
        return rest == "i386" || rest.strip_prefix("i386\\").is_some_and(|name| !name.contains('\\'));
    }
    lower
        .strip_prefix(SITE_SERVER_LOGS)
        .and_then(|rest| rest.strip_prefix('\\'))
        .is_some_and(|name| hotfix_log_kb(name).is_some())
}

/// The logon point files that carry the base components (reference 3.2).
const LOGON_BASE_BINARIES: &[&str] = &["clicore.exe", "boot32wn.exe", "smsboot1.exe"];
const LOGON_PLATFORMS: &[&str] = &["x86.bin", "alpha.bin"];

/// `compver.ini` and the hotfix variants shipped beside it (reference 4.2):
/// `Compver<NNNN>.ini`, `Compver2.ini`, `Compver<comp>.ini`, `Comp<NNNN>.ini`.
pub(crate) fn is_compver_name(lower: &str) -> bool {
    let Some(stem) = lower.strip_suffix(".ini") else {
        return false;
    };
    if let Some(rest) = stem.strip_prefix("compver") {
        return rest.is_empty() || rest.bytes().all(|b| b.is_ascii_alphanumeric());
    }
    match stem.strip_prefix("comp") {
        Some(digits) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// What a file is for, from its place in a share. Borrowed names are lower
/// case, from the path given to [`role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role<'a> {
    /// `clicomp.box|src\<component>\compver.ini`, or a hotfix variant
    /// named `file` beside it.
    Compver {
        component: &'a str,
        file: &'a str,
    },
    /// `clicomp.box\<component>.cfg`.
    ComponentCfg {
        component: &'a str,
    },
    /// `clidata.box\*`, `inboxes\clidata.src\*`, `Sites\<code>\*`.
    ClientData,
    /// `Offerinf.box\*.ins`.
    OfferInstruction,
    /// `inboxes\sitectrl.box\sitectrl.ct0` on a site server.
    SiteControl,
    Copylog,
    SeniorList,
    /// `Sitescfg\*.lcf`.
    LogonConfig,
    /// `Sites\<site>\compver.ini` on a logon point [I].
    LogonSiteCompver {
        site: &'a str,
    },
    /// `x86.bin|alpha.bin\clicore.exe|boot32wn.exe|smsboot1.exe`.
    LogonBaseBinary,
    /// Any other `.exe` or `.dll`.
    Binary,
    Other,
}

impl Role<'_> {
    pub(crate) fn file_kind(self) -> FileKind {
        match self {
            Role::Compver { .. } | Role::LogonSiteCompver { .. } => FileKind::Compver,
            Role::ComponentCfg { .. } => FileKind::ComponentCfg,
            Role::ClientData => FileKind::ClientData,
            Role::OfferInstruction => FileKind::OfferInstruction,
            Role::SiteControl => FileKind::SiteControl,
            Role::Copylog => FileKind::Copylog,
            Role::SeniorList => FileKind::SeniorList,
            Role::LogonConfig => FileKind::LogonConfig,
            Role::LogonBaseBinary | Role::Binary => FileKind::Binary,
            Role::Other => FileKind::Other,
        }
    }
}

/// The role of a file at `lower` (share-relative, lower case, backslashes)
/// on a share of `kind`.
pub(crate) fn role(kind: LocationKind, lower: &str) -> Role<'_> {
    // No role has a path of more than four parts: the parts are gathered
    // on the stack (this runs twice for every file of the estate), and a
    // deeper path matches none.
    const MOST_PARTS: usize = 4;
    let mut gathered = [""; MOST_PARTS];
    let mut count = 0;
    for part in lower.split('\\') {
        if let Some(slot) = gathered.get_mut(count) {
            *slot = part;
        }
        count += 1;
    }
    let parts: &[&str] = gathered.get(..count).unwrap_or_default();
    let file = lower.rsplit('\\').next().unwrap_or("");
    match (kind, parts) {
        (LocationKind::Cap, ["clicomp.box", component, name])
        | (LocationKind::SiteServer, ["inboxes", "clicomp.src", component, name])
            if is_compver_name(name) =>
        {
            Role::Compver { component, file: name }
        }
        (LocationKind::Cap, ["clicomp.box", name]) if name.ends_with(".cfg") => Role::ComponentCfg {
            component: name.trim_end_matches(".cfg"),
        },
        (LocationKind::Cap, ["clidata.box", _]) | (LocationKind::SiteServer, ["inboxes", "clidata.src", _]) => {
            Role::ClientData
        }
        (LocationKind::Cap, ["offerinf.box", name]) if name.ends_with(".ins") => Role::OfferInstruction,
        (LocationKind::SiteServer, ["inboxes", "sitectrl.box", "sitectrl.ct0"]) => Role::SiteControl,
        (LocationKind::LogonPoint, ["config", "copylog.tcf"]) => Role::Copylog,
        (LocationKind::LogonPoint, ["sitescfg", "senior.lst"]) => Role::SeniorList,
        (LocationKind::LogonPoint, ["sitescfg", name]) if name.ends_with(".lcf") => Role::LogonConfig,
        (LocationKind::LogonPoint, ["sites", site, "compver.ini"]) => Role::LogonSiteCompver { site },
        (LocationKind::LogonPoint, ["sites", _, _]) => Role::ClientData,
        (LocationKind::LogonPoint, [platform, name])
            if LOGON_PLATFORMS.contains(platform) && LOGON_BASE_BINARIES.contains(name) =>
        {
            Role::LogonBaseBinary
        }
        _ if file.ends_with(".exe") || file.ends_with(".dll") => Role::Binary,
        _ => Role::Other,
    }
}

/// The kind of a file from its path inside a share (any case).
pub(crate) fn file_kind(kind: LocationKind, relative: &str) -> FileKind {
    thread_local! {
        /// The lower-case path, in one buffer for every file of the thread.
        static LOWER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    LOWER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut lower) => {
            lower.clear();
            lower.push_str(relative);
            lower.make_ascii_lowercase();
            role(kind, &lower).file_kind()
        }
        Err(_) => role(kind, &relative.to_ascii_lowercase()).file_kind(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_path_ignore_case() {
        assert_eq!(
            file_kind(LocationKind::Cap, r"CLICOMP.BOX\SWDist\compver.ini"),
            FileKind::Compver
        );
        assert_eq!(
            file_kind(LocationKind::Cap, r"clicomp.box\base\Compver1072.ini"),
            FileKind::Compver
        );
        assert_eq!(
            file_kind(LocationKind::Cap, r"clicomp.box\smsapm32.CFG"),
            FileKind::ComponentCfg
        );
        assert_eq!(
            file_kind(LocationKind::Cap, r"Clidata.box\Caplist.ini"),
            FileKind::ClientData
        );
        assert_eq!(
            file_kind(LocationKind::LogonPoint, r"CONFIG\COPYLOG.TCF"),
            FileKind::Copylog
        );
        assert_eq!(
            file_kind(LocationKind::LogonPoint, r"Sitescfg\MS1_cfg.lcf"),
            FileKind::LogonConfig
        );
        assert_eq!(
            file_kind(LocationKind::LogonPoint, r"x86.bin\CLICORE.EXE"),
            FileKind::Binary
        );
        assert_eq!(
            file_kind(LocationKind::SiteServer, r"Inboxes\clicomp.src\base\compver.ini"),
            FileKind::Compver
        );
        assert_eq!(file_kind(LocationKind::Cap, r"clicomp.box\readme.txt"), FileKind::Other);
        assert_eq!(
            file_kind(LocationKind::SiteServer, r"Inboxes\SITECTRL.BOX\sitectrl.CT0"),
            FileKind::SiteControl
        );
        assert_eq!(
            file_kind(LocationKind::SiteServer, r"inboxes\sitectrl.box\history\00000009.ct0"),
            FileKind::Other
        );
        assert_eq!(
            file_kind(LocationKind::Cap, r"sitectrl.box\sitectrl.ct0"),
            FileKind::Other
        );
        assert_eq!(
            role(LocationKind::LogonPoint, r"sites\ms1\compver.ini"),
            Role::LogonSiteCompver { site: "ms1" }
        );
        assert_eq!(
            role(LocationKind::LogonPoint, r"x86.bin\boot32wn.exe"),
            Role::LogonBaseBinary
        );
        assert_eq!(role(LocationKind::LogonPoint, r"x86.bin\slwnt32.exe"), Role::Binary);
    }

    #[test]
    fn compver_names_and_variants() {
        for name in [
            "compver.ini",
            "compver1072.ini",
            "compver2.ini",
            "compverbase.ini",
            "comp1103.ini",
        ] {
            assert!(is_compver_name(name), "{name}");
        }
        for name in ["compver.txt", "comp.ini", "compver-old.ini", "caplist.ini"] {
            assert!(!is_compver_name(name), "{name}");
        }
    }

    #[test]
    fn shares_by_name_or_layout() {
        let none = |_: &[&str]| false;
        assert_eq!(classify_share("cap_ms1", none), Some(LocationKind::Cap));
        assert_eq!(classify_share("SMSLOGON", none), Some(LocationKind::LogonPoint));
        assert_eq!(classify_share("SMS_MS1", none), None);
        assert_eq!(
            classify_share("SMS_MS1", |p: &[&str]| p == ["inboxes"]),
            Some(LocationKind::SiteServer)
        );
        assert_eq!(
            classify_share("copy", |p: &[&str]| p == ["x86.bin"] || p == ["Sites"]),
            Some(LocationKind::LogonPoint)
        );
    }

    #[test]
    fn site_server_reads_languages_and_hotfix_logs_only() {
        let read = |p: &str| checks_read(LocationKind::SiteServer, p);
        assert!(read("bin\\i386") && read("bin\\i386\\00000409") && read("bin\\i386\\ccm.dll"));
        assert!(!read("bin\\i386\\00000409\\smsman.exe") && !read("bin\\alpha\\x.dll"));
        assert!(read("logs\\q252717r.txt") && !read("logs\\sitecomp.log") && !read("logs\\q1.txt"));
        assert_eq!(hotfix_log_kb("Q252717r.txt"), Some("Q252717".into()));
        assert_eq!(hotfix_log_kb("q249077.TXT"), Some("Q249077".into()));
        assert_eq!(hotfix_log_kb("Q252717.log"), Some("Q252717".into()));
        assert_eq!(hotfix_log_kb("Q252717rr.txt"), None);
        assert!(is_language_folder("00000409") && !is_language_folder("0409") && !is_language_folder("i386xxxx"));
    }

    #[test]
    fn site_codes_from_names() {
        assert_eq!(site_from_share(LocationKind::Cap, "CAP_ms1"), Some("MS1".into()));
        assert_eq!(
            site_from_share(LocationKind::SiteServer, "SMS_ABC$"),
            Some("ABC".into())
        );
        assert_eq!(site_from_share(LocationKind::Cap, "CAP_TOOLONG"), None);
        assert_eq!(site_from_share(LocationKind::Cap, "SMSLOGON"), None);
        assert_eq!(lcf_site("ms1_cfg.lcf"), Some("MS1".into()));
        assert_eq!(lcf_site("Senior.lst"), None);
    }
}
