//! Hotfix file tables, as the KB articles give them (N08): the files a
//! hotfix replaces in the site server's `<SMS root>\Bin\<Platform>` and the
//! version each has after it ("the following file attributes or later").
//! Only hotfixes whose table could be read are here, each row with the
//! article it comes from; the i386 rows only (the checks read `bin\i386`).

/// One file a hotfix replaces in `SMS\bin\i386`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HotfixFile {
    /// The article that gives the row (and names the hotfix and its log).
    pub kb: &'static str,
    /// The file name in `bin\i386`, as the article writes it.
    pub file: &'static str,
    /// The file's version after the hotfix.
    pub version: &'static str,
}

/// The SP2 prerequisites of Q261931: Q251070 and Q252718 for RTM (build
/// 1239) sites, Q249077 and Q252717 for SP1 (build 1380) sites. Each
/// article's Manual Installation says the files go to
/// `<Sms_root_folder>\Bin\<Platform>`.
pub(crate) const HOTFIX_FILES: &[HotfixFile] = &[
    HotfixFile {
        kb: "Q249077",
        file: "Nt_logon.dll",
        version: "2.0.1380.1105",
    },
    HotfixFile {
        kb: "Q251070",
        file: "Nt_logon.dll",
        version: "2.0.1239.62",
    },
    HotfixFile {
        kb: "Q252717",
        file: "Ccm.dll",
        version: "2.0.1380.1125",
    },
    HotfixFile {
        kb: "Q252717",
        file: "Ccmbtldr.exe",
        version: "2.0.1380.1125",
    },
    HotfixFile {
        kb: "Q252717",
        file: "Baseobj.dll",
        version: "2.0.1380.1101",
    },
    HotfixFile {
        kb: "Q252718",
        file: "Ccm.dll",
        version: "2.0.1239.64",
    },
    HotfixFile {
        kb: "Q252718",
        file: "Ccmbtldr.exe",
        version: "2.0.1239.64",
    },
];

/// The files of the hotfix of article `kb` (`Q252717`); empty when its
/// table is not known.
pub(crate) fn hotfix_files(kb: &str) -> impl Iterator<Item = &'static HotfixFile> + '_ {
    HOTFIX_FILES.iter().filter(move |f| f.kb.eq_ignore_ascii_case(kb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::version::Version;

    #[test]
    fn every_row_is_an_sms_version_of_its_hotfix_release() {
        for row in HOTFIX_FILES {
            let version = Version::parse(row.version).expect(row.version);
            assert!(version.is_sms() && version.build_agrees_with_sp(), "{row:?}");
        }
        assert_eq!(hotfix_files("q252717").count(), 3);
        assert_eq!(hotfix_files("Q999999").count(), 0);
    }
}
