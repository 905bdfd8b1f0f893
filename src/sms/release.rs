//! The releases of SMS 2.0 (reference 5.1 to 5.5): one table that version
//! labels, the pre-upgrade check, the inventory and the report colours
//! all read.

use serde::Serialize;
use std::fmt;

/// The build every release from SP2 on shares (reference 5.3).
pub(crate) const SP2_BUILD: u32 = 1493;

/// One service-pack level of SMS 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseInfo {
    pub label: &'static str,
    pub build: u32,
    /// The thousands digit of the revision.
    pub sp: u32,
    /// The version every component starts at.
    pub base_version: &'static str,
    /// Whether the release is only presumed (SP5: not in the archive [?]).
    pub presumed: bool,
    /// The revision each component's compver.ini ships with (reference
    /// 5.1 and 5.2, Q266130), by component folder, lower case. A version
    /// at or below it is the release itself, never a hotfix.
    pub compver_stock: &'static [(&'static str, u32)],
    /// The revision of the release's own `Clicore.exe` and `Boot32wn.exe`,
    /// when a KB gives it (SP1: Q253151; SP4's Clicore: Q323652). Without
    /// one, the base compver's revision stands in [I].
    pub clicore_stock: Option<u32>,
    pub boot32wn_stock: Option<u32>,
}

/// What a version stamps: the stock version to measure it against
/// depends on it (reference 5.2, 5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamped<'a> {
    /// A component's compver.ini (or CFG version), by component folder.
    Compver(&'a str),
    /// The client core binary (`Clicore.exe`, on a CAP, site server or
    /// logon point).
    Clicore,
    /// The logon bootstrap (`Boot32wn.exe`).
    Boot32wn,
    /// Anything else: no stock version is known for it.
    Other,
}

impl<'a> Stamped<'a> {
    /// The kind of a stamp from its component and file name: `base`
    /// compvers, `clicore.exe`, `boot32wn.exe`.
    pub(crate) fn of_file(component: &'a str, file_name: &str) -> Stamped<'a> {
        let name = file_name.rsplit(['\\', '/']).next().unwrap_or(file_name);
        if name.eq_ignore_ascii_case("clicore.exe") {
            Stamped::Clicore
        } else if name.eq_ignore_ascii_case("boot32wn.exe") {
            Stamped::Boot32wn
        } else if name.eq_ignore_ascii_case("compver.ini") || name.to_ascii_lowercase().ends_with(".cfg") {
            Stamped::Compver(component)
        } else {
            Stamped::Other
        }
    }
}

impl ReleaseInfo {
    pub(crate) fn release(&self) -> Release {
        Release {
            build: self.build,
            sp: self.sp,
        }
    }

    /// The revision a stamp of `kind` ships with in this release, when the
    /// table knows it; for a logon binary without its own KB figure, the
    /// base compver's [I].
    pub(crate) fn stock_revision(&self, kind: Stamped) -> Option<u32> {
        let compver = |component: &str| {
            self.compver_stock
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(component))
                .map(|(_, r)| *r)
        };
        match kind {
            Stamped::Compver(component) => compver(component),
            Stamped::Clicore => self.clicore_stock.or_else(|| compver("base")),
            Stamped::Boot32wn => self.boot32wn_stock.or_else(|| compver("base")),
            Stamped::Other => None,
        }
    }

    /// The highest stock revision the table knows for this release, of any
    /// kind: a version above it is a hotfix whatever it stamps.
    pub(crate) fn highest_stock_revision(&self) -> Option<u32> {
        self.compver_stock
            .iter()
            .map(|(_, r)| *r)
            .chain(self.clicore_stock)
            .chain(self.boot32wn_stock)
            .max()
    }

    /// The version a stamp of `kind` ships with, in the form that stamp
    /// takes (`2.00.1380.1000` for a compver, `2.0.1380.1123` for a
    /// binary's version resource).
    pub(crate) fn stock_version(&self, kind: Stamped) -> Option<String> {
        let revision = self.stock_revision(kind)?;
        Some(match kind {
            Stamped::Compver(_) => format!("2.00.{}.{revision:04}", self.build),
            _ => format!("2.0.{}.{revision}", self.build),
        })
    }

    /// In words: `SMS 2.0 RTM (build 1239)`, `Service Pack 2 (build 1493,
    /// x.2xxx)`: the revision digit is named where the build is shared.
    pub(crate) fn description(&self) -> String {
        let shared_build = RELEASES.iter().filter(|r| r.build == self.build).count() > 1;
        let name = if self.sp == 0 {
            "SMS 2.0 RTM".to_string()
        } else {
            format!("Service Pack {}", self.sp)
        };
        let presumed = if self.presumed { ", presumed" } else { "" };
        if shared_build {
            format!("{name} (build {}, x.{}xxx{presumed})", self.build, self.sp)
        } else {
            format!("{name} (build {}{presumed})", self.build)
        }
    }
}

/// Every component of RTM and SP1 starts at the release's own revision
/// (reference 5.1, Q266130).
const fn stock_all(revision: u32) -> [(&'static str, u32); 8] {
    [
        ("base", revision),
        ("hinv", revision),
        ("licmtr", revision),
        ("remctrl", revision),
        ("sinv", revision),
        ("smsapm32", revision),
        ("snmpelea", revision),
        ("swdist", revision),
    ]
}

/// Reference 5.1 and 5.2. SP5 is not in the archive: inferred [?].
pub(crate) const RELEASES: &[ReleaseInfo] = &[
    ReleaseInfo {
        label: "RTM",
        build: 1239,
        sp: 0,
        base_version: "2.00.1239.0000",
        presumed: false,
        compver_stock: &stock_all(0),
        clicore_stock: Some(0),
        boot32wn_stock: Some(0),
    },
    ReleaseInfo {
        label: "SP1",
        build: 1380,
        sp: 1,
        base_version: "2.00.1380.1000",
        presumed: false,
        compver_stock: &stock_all(1000),
        // Q253151: Clicore.exe, Boot32wn.exe and Smsman.exe 2.0.1380.1123.
        clicore_stock: Some(1123),
        boot32wn_stock: Some(1123),
    },
    ReleaseInfo {
        label: "SP2",
        build: SP2_BUILD,
        sp: 2,
        base_version: "2.00.1493.2000",
        presumed: false,
        compver_stock: &[
            ("base", 2009),
            ("hinv", 2000),
            ("licmtr", 2000),
            ("remctrl", 2001),
            ("sinv", 2006),
            ("smsapm32", 2011),
            ("snmpelea", 2000),
            ("swdist", 2011),
        ],
        clicore_stock: None,
        boot32wn_stock: None,
    },
    ReleaseInfo {
        label: "SP3",
        build: SP2_BUILD,
        sp: 3,
        base_version: "2.00.1493.3000",
        presumed: false,
        compver_stock: &[
            ("base", 3004),
            ("hinv", 3000),
            ("licmtr", 3000),
            ("remctrl", 3008),
            ("sinv", 3006),
            ("smsapm32", 3002),
            ("snmpelea", 3000),
            ("swdist", 3000),
        ],
        clicore_stock: None,
        boot32wn_stock: None,
    },
    ReleaseInfo {
        label: "SP4",
        build: SP2_BUILD,
        sp: 4,
        base_version: "2.00.1493.4000",
        presumed: false,
        compver_stock: &[
            ("base", 4009),
            ("hinv", 4008),
            ("licmtr", 4000),
            ("remctrl", 4008),
            ("sinv", 4008),
            ("smsapm32", 4012),
            ("snmpelea", 4000),
            ("swdist", 4006),
        ],
        // Q323652: CliCore.exe 2.0.1493.4009.
        clicore_stock: Some(4009),
        boot32wn_stock: None,
    },
    ReleaseInfo {
        label: "SP5",
        build: SP2_BUILD,
        sp: 5,
        base_version: "2.00.1493.5000",
        presumed: true,
        // Not in the archive [?]: no stock revision, so no hotfix label.
        compver_stock: &[],
        clicore_stock: None,
        boot32wn_stock: None,
    },
];

/// A withdrawn pre-release build (reference 5.5, Q289000): finding F26.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Withdrawn {
    pub fields: [u32; 4],
    pub name: &'static str,
    /// The release it was a candidate for.
    pub release: &'static str,
    /// The first build that replaced it.
    pub replaced_by: &'static str,
}

pub(crate) const WITHDRAWN_VERSIONS: &[Withdrawn] = &[Withdrawn {
    fields: [2, 0, SP2_BUILD, 3009],
    name: "SP3 RC9",
    release: "SP3",
    replaced_by: "2.00.1493.3010",
}];

/// A service-pack level derived from a version (reference 5.3): the build
/// and the thousands digit of the revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Release {
    pub build: u32,
    pub sp: u32,
}

impl Release {
    /// The known release with this build and service-pack digit.
    pub(crate) fn info(self) -> Option<&'static ReleaseInfo> {
        RELEASES.iter().find(|r| r.build == self.build && r.sp == self.sp)
    }

    /// What a stamp of `kind` must hold to be at this release or later, in
    /// that stamp's own form: `SP1 (2.00.1380.1000 or later)` for a
    /// compver, never a Clicore file version (2.0.1380.1123), which no
    /// compver.ini holds.
    pub(crate) fn at_least(self, kind: Stamped) -> String {
        let first = self.sp * 1000;
        let version = match kind {
            Stamped::Compver(_) => format!("2.00.{}.{first:04}", self.build),
            _ => format!("2.0.{}.{first}", self.build),
        };
        format!("{self} ({version} or later)")
    }

    /// SP2 and later share one build and behave alike towards older
    /// clients (Q262677, Q264630).
    pub(crate) fn is_sp2_or_later(self) -> bool {
        self.build >= SP2_BUILD
    }

    /// Reference 5.4 rule 3: whether the build goes with the SP digit.
    /// Unknown builds are given the benefit of the doubt.
    pub(crate) fn build_agrees_with_sp(self) -> bool {
        !RELEASES.iter().any(|r| r.build == self.build) || self.info().is_some()
    }
}

/// Finds a release by its label (`RTM`, `SP1`, `sp2` ...).
pub(crate) fn release_by_label(label: &str) -> Option<&'static ReleaseInfo> {
    RELEASES.iter().find(|r| r.label.eq_ignore_ascii_case(label.trim()))
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info() {
            // The label alone: a release is a build and a service-pack
            // digit, not one version (`SP1`, never `SP1 (2.00.1380.1)`).
            Some(r) => f.pad(r.label),
            None => write!(f, "build {} with service-pack digit {}", self.build, self.sp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_service_packs() {
        let r = |build, sp| Release { build, sp };
        assert!(r(1380, 1).build_agrees_with_sp());
        assert!(!r(1380, 2).build_agrees_with_sp());
        assert!(r(1493, 4).build_agrees_with_sp());
        assert!(r(1999, 2).build_agrees_with_sp());
        assert_eq!(release_by_label("sp1").unwrap().build, 1380);
        assert!(r(1493, 2).is_sp2_or_later() && !r(1380, 1).is_sp2_or_later());
        assert_eq!(
            r(1380, 1).at_least(Stamped::Compver("base")),
            "SP1 (2.00.1380.1000 or later)"
        );
        assert_eq!(r(1493, 2).at_least(Stamped::Clicore), "SP2 (2.0.1493.2000 or later)");
    }

    #[test]
    fn descriptions_name_the_revision_where_the_build_is_shared() {
        let d = |label| release_by_label(label).unwrap().description();
        assert_eq!(d("RTM"), "SMS 2.0 RTM (build 1239)");
        assert_eq!(d("SP1"), "Service Pack 1 (build 1380)");
        assert_eq!(d("SP2"), "Service Pack 2 (build 1493, x.2xxx)");
        assert_eq!(d("SP5"), "Service Pack 5 (build 1493, x.5xxx, presumed)");
    }
}
