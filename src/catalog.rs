//! The SMS 2.0 domain data in one place: releases, client components and the
//! catalogue of checkable failure modes with their KB articles.

use serde::Serialize;

/// One service-pack level of SMS 2.0 (reference 5.1).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ReleaseInfo {
    pub label: &'static str,
    pub build: u32,
    /// The thousands digit of the revision.
    pub sp: u32,
    /// The version every component starts at, when there is one.
    pub base_version: &'static str,
}

/// Reference 5.1 and 5.2. SP5 is not in the archive: inferred [?].
pub const RELEASES: &[ReleaseInfo] = &[
    ReleaseInfo {
        label: "RTM",
        build: 1239,
        sp: 0,
        base_version: "2.00.1239.0000",
    },
    ReleaseInfo {
        label: "SP1",
        build: 1380,
        sp: 1,
        base_version: "2.00.1380.1000",
    },
    ReleaseInfo {
        label: "SP2",
        build: 1493,
        sp: 2,
        base_version: "2.00.1493.2000",
    },
    ReleaseInfo {
        label: "SP3",
        build: 1493,
        sp: 3,
        base_version: "2.00.1493.3000",
    },
    ReleaseInfo {
        label: "SP4",
        build: 1493,
        sp: 4,
        base_version: "2.00.1493.4000",
    },
    ReleaseInfo {
        label: "SP5",
        build: 1493,
        sp: 5,
        base_version: "2.00.1493.5000",
    },
];

/// The release with this build and service-pack digit, if it is a known one.
pub fn release_for_build(build: u32, sp: u32) -> Option<&'static ReleaseInfo> {
    RELEASES.iter().find(|r| r.build == build && r.sp == sp)
}

/// Finds a release by its label (`RTM`, `SP1`, `sp2` ...).
pub fn release_by_label(label: &str) -> Option<&'static ReleaseInfo> {
    RELEASES.iter().find(|r| r.label.eq_ignore_ascii_case(label.trim()))
}

/// Reference 5.4 rule 3: whether a build number goes with an SP digit.
pub fn build_allows_sp(build: u32, sp: u32) -> bool {
    let known_builds: Vec<u32> = RELEASES.iter().map(|r| r.build).collect();
    if !known_builds.contains(&build) {
        return true;
    }
    RELEASES.iter().any(|r| r.build == build && r.sp == sp)
}

/// One SMS client component (reference 2.2, 2.3 and 6).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Component {
    /// Folder name in clicomp.src / clicomp.box, lower case.
    pub folder: &'static str,
    /// The name CCIM logs.
    pub name: &'static str,
    /// Whether a `<folder>.CFG` is attested in the KB ([I] for the others).
    pub cfg_attested: bool,
}

pub const COMPONENTS: &[Component] = &[
    Component {
        folder: "base",
        name: "SMS Client Base Components",
        cfg_attested: false,
    },
    Component {
        folder: "hinv",
        name: "Hardware Inventory Agent",
        cfg_attested: true,
    },
    Component {
        folder: "licmtr",
        name: "License Metering",
        cfg_attested: true,
    },
    Component {
        folder: "remctrl",
        name: "Remote Control",
        cfg_attested: false,
    },
    Component {
        folder: "sinv",
        name: "Software Inventory Agent",
        cfg_attested: true,
    },
    Component {
        folder: "smsapm32",
        name: "Available Programs Manager Win32",
        cfg_attested: true,
    },
    Component {
        folder: "snmpelea",
        name: "Event to Trap (SNMP)",
        cfg_attested: false,
    },
    Component {
        folder: "swdist",
        name: "Software Distribution",
        cfg_attested: true,
    },
    Component {
        folder: "wbem",
        name: "Windows Management",
        cfg_attested: false,
    },
];

/// The component whose folder (or CFG stem) is `name`, case-insensitively.
pub fn component(name: &str) -> Option<&'static Component> {
    COMPONENTS.iter().find(|c| c.folder.eq_ignore_ascii_case(name))
}

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// One entry of the findings catalogue (reference section 7).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Check {
    /// Stable code, `F` plus the number of the failure mode in reference 7.
    pub code: &'static str,
    pub severity: Severity,
    pub kb: &'static str,
    pub title: &'static str,
    /// The condition checked, in one line.
    pub condition: &'static str,
    pub fix: &'static str,
    /// Whether the check rests on an inference ([I]) of the reference.
    pub inferred: bool,
}

pub const CHECKS: &[Check] = &[
    Check {
        code: "F01",
        severity: Severity::Error,
        kb: "Q236596",
        title: "Logon point base newer than a sharing site's CAP",
        condition: "A logon point shared by several sites offers base components (Clicore.exe, the Copylog CLICORE.EXE source site, or a site COMPVER.INI) of a newer release than a sharing site's CAP base compver.ini.",
        fix: "Upgrade every site that shares the logon point at the same time, or disable Windows Networking Logon Discovery/Installation for the sites not yet upgraded; pause logon scripts with GOTO END at the top of Smsls.bat during the window.",
        inferred: false,
    },
    Check {
        code: "F02",
        severity: Severity::Error,
        kb: "Q236596",
        title: "Component CFG version empty or out of sync with the offer",
        condition: "A component .CFG at the root of clicomp.box has no version value, or one that differs from the component's compver.ini in the same box, while the site's clients can get a newer base.",
        fix: "Upgrade the lagging site to the logon point's service-pack level (fixed in SP2) so that Inbox Manager rewrites the CFG files; until then keep clients of this site off the newer logon point base.",
        inferred: true,
    },
    Check {
        code: "A01",
        severity: Severity::Error,
        kb: "-",
        title: "Location could not be audited",
        condition: "A share given on the command line or named in the inventory is missing, cannot be listed, or did not answer within the location timeout.",
        fix: "Check that the server is up, the share exists and the audit account has Read on the share and its folders; then audit again.",
        inferred: false,
    },
    Check {
        code: "A02",
        severity: Severity::Warning,
        kb: "-",
        title: "Site not at the release the inventory expects",
        condition: "The base compver.ini of a site's CAP or site server is at another release than the inventory's expected_release for the site (or the estate).",
        fix: "Apply the expected service pack to the site (upgrading every site that shares its logon points at the same time), or correct the inventory.",
        inferred: false,
    },
];

/// Looks a check up by code (`F01`) or KB article (`Q236596`).
pub fn find_checks(key: &str) -> Vec<&'static Check> {
    let key = key.trim();
    CHECKS
        .iter()
        .filter(|c| c.code.eq_ignore_ascii_case(key) || c.kb.split([',', ' ']).any(|kb| kb.eq_ignore_ascii_case(key)))
        .collect()
}

pub fn check(code: &str) -> &'static Check {
    CHECKS
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| unreachable!("check {code} is not in the catalogue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let codes: Vec<_> = CHECKS.iter().map(|c| c.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes.len(), sorted.len());
    }

    #[test]
    fn finds_by_code_or_kb() {
        assert_eq!(find_checks("f01")[0].code, "F01");
        assert_eq!(find_checks("Q236596").len(), 2);
        assert!(find_checks("Q000000").is_empty());
    }

    #[test]
    fn builds_and_service_packs() {
        assert!(build_allows_sp(1380, 1));
        assert!(!build_allows_sp(1380, 2));
        assert!(build_allows_sp(1493, 4));
        assert!(build_allows_sp(1999, 2));
        assert_eq!(release_by_label("sp1").unwrap().build, 1380);
    }
}
