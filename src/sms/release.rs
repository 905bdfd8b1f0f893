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
}

impl ReleaseInfo {
    pub(crate) fn release(&self) -> Release {
        Release {
            build: self.build,
            sp: self.sp,
        }
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

/// Reference 5.1 and 5.2. SP5 is not in the archive: inferred [?].
pub(crate) const RELEASES: &[ReleaseInfo] = &[
    ReleaseInfo {
        label: "RTM",
        build: 1239,
        sp: 0,
        base_version: "2.00.1239.0000",
        presumed: false,
    },
    ReleaseInfo {
        label: "SP1",
        build: 1380,
        sp: 1,
        base_version: "2.00.1380.1000",
        presumed: false,
    },
    ReleaseInfo {
        label: "SP2",
        build: SP2_BUILD,
        sp: 2,
        base_version: "2.00.1493.2000",
        presumed: false,
    },
    ReleaseInfo {
        label: "SP3",
        build: SP2_BUILD,
        sp: 3,
        base_version: "2.00.1493.3000",
        presumed: false,
    },
    ReleaseInfo {
        label: "SP4",
        build: SP2_BUILD,
        sp: 4,
        base_version: "2.00.1493.4000",
        presumed: false,
    },
    ReleaseInfo {
        label: "SP5",
        build: SP2_BUILD,
        sp: 5,
        base_version: "2.00.1493.5000",
        presumed: true,
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
