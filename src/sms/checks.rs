//! The catalogue of checkable failure modes (reference 7) with their KB
//! articles and fixes, and the codes that name them in every report.

use super::advice::{
    caveat_bootstrap_site, caveat_lsm_cycle_first, caveat_smsman_does_not_upgrade, caveat_workaround_before_sp2,
};
use serde::Serialize;

macro_rules! check_codes {
    ($($code:ident),* $(,)?) => {
        /// Stable check codes: `F` plus the number of the failure mode in
        /// reference 7, `N` plus the number of a new failure mode in
        /// reference 11, or `A` for checks of the audit itself. Written as
        /// their names (`F01`) in every report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CheckCode {
            $($code),*
        }

        impl CheckCode {
            pub(crate) const ALL: &'static [CheckCode] = &[$(CheckCode::$code),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(CheckCode::$code => stringify!($code)),*
                }
            }
        }
    };
}

check_codes!(
    F01, F02, F03, F04, F05, F06, F07, F08, F09, F10, F11, F12, F13, F14, F15, F16, F17, F18, F19, F20, F21, F22, F23,
    F24, F25, F26, F27, F28, F29, F30, F31, F32, N01, N02, N03, N04, N05, N07, N08, N09, N11, N12, N14, N16, A01, A02,
    A03, A04, A05, A06, A07, A08,
);

impl CheckCode {
    /// The catalogue entry of this code.
    pub(crate) fn check(self) -> &'static Check {
        &CHECKS[self as usize]
    }

    /// Whether a finding of this code says something could not be checked
    /// (a location, a file, a judgement): such runs are never clean and
    /// have their own exit code.
    pub(crate) fn means_not_checked(self) -> bool {
        matches!(
            self,
            CheckCode::A01 | CheckCode::A05 | CheckCode::A06 | CheckCode::A07 | CheckCode::A08
        )
    }

    /// A code from its text, ignoring case (`f01`).
    pub(crate) fn parse(text: &str) -> Option<CheckCode> {
        CheckCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// Reports sort findings by code as text (`A01` before `F01`).
impl Ord for CheckCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for CheckCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for CheckCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for CheckCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
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
    pub(crate) const ALL: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One entry of the findings catalogue (reference section 7).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Check {
    pub code: CheckCode,
    pub severity: Severity,
    /// The KB articles that describe the failure, most specific first.
    pub kb: &'static [&'static str],
    pub title: &'static str,
    /// The condition checked, in one line.
    pub condition: &'static str,
    pub fix: &'static str,
    /// Whether the check rests on an inference ([I]) of the reference.
    pub inferred: bool,
    /// Empty when the check is implemented; otherwise what it would need
    /// that share contents cannot give.
    pub needs: &'static str,
    /// Judged only on shares read over SMB (what it reads, a share comment
    /// or a folder's permissions, is not in a folder or a mount).
    pub only_over_smb: bool,
}

impl Check {
    /// The KB articles as reports show them: `Q264630, Q249077`, or `-`.
    pub fn kb_text(&self) -> String {
        if self.kb.is_empty() {
            "-".to_string()
        } else {
            self.kb.join(", ")
        }
    }

    /// Whether `smsaudit audit` evaluates this check.
    pub fn implemented(&self) -> bool {
        self.needs.is_empty()
    }

    /// Whether it is checked, in a word: `yes`, `over SMB only` or `no`
    /// (the IMPLEMENTED column of `smsaudit rules`).
    pub fn implemented_word(&self) -> &'static str {
        match (self.implemented(), self.only_over_smb) {
            (true, false) => "yes",
            (true, true) => "over SMB only",
            (false, _) => "no",
        }
    }

    /// Whether it is checked, as docs/checks.md says it: the word, and for
    /// a check not made, what it needs (`no: <needs>`).
    pub fn implemented_text(&self) -> String {
        match self.implemented() {
            true => self.implemented_word().into(),
            false => format!("no: {}", self.needs),
        }
    }
}

/// Every check, in [`CheckCode`] order (checked when compiling).
pub const CHECKS: &[Check] = &[
    Check {
        code: CheckCode::F01,
        severity: Severity::Error,
        kb: &["Q236596"],
        title: "Logon point base newer than a sharing site's CAP",
        condition: "A logon point shared by several sites offers base components (Clicore.exe by version or by identical content, or the Copylog CLICORE.EXE source site) of a newer release than a sharing site's CAP base compver.ini.",
        fix: concat!(
            "Upgrade every site that shares the logon point at the same time, or disable Windows Networking Logon Discovery/Installation for the sites not yet upgraded; pause logon scripts with GOTO END at the top of Smsls.bat during the window. ",
            caveat_bootstrap_site!(),
            " ",
            caveat_workaround_before_sp2!()
        ),
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F02,
        severity: Severity::Error,
        kb: &["Q236596"],
        title: "Component CFG version empty or out of sync with the offer",
        condition: "A component .CFG at the root of clicomp.box has no version value, or one that differs from the component's compver.ini in the same box, while the site's clients can get a newer base.",
        fix: "Bring the lagging site to the release of the logon point's base (that release, not necessarily SP2) so that Inbox Manager rewrites the CFG files; from SP2 on the CFGs carry their version (Q236596 is fixed in SP2). Until then keep clients of this site off the newer logon point base.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F03,
        severity: Severity::Error,
        kb: &["Q264630"],
        title: "CAP base release older than the SP2+ Clicore clients get from the logon point",
        condition: "The release of a site's CAP base compver.ini is older than the SP2-or-later release of the Clicore.exe its clients can get from a logon point it uses; CCIM cannot find a CAP with the uplevel version.",
        fix: concat!(
            "Apply Q251070/Q249077 and Q252718/Q252717 to every site before any site goes to SP2, then upgrade all sites within a few hours of each other. If only this CAP lags behind its own site server, force Inbox Manager replication instead (F24). ",
            caveat_smsman_does_not_upgrade!()
        ),
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F04,
        severity: Severity::Error,
        kb: &["Q264630", "Q249077", "Q251070", "Q261931"],
        title: "Copylog CLICORE.EXE names a site of another release than the file",
        condition: "Copylog.tcf's X86.BIN\\CLICORE.EXE line names a site whose base release differs from the release of the x86.bin\\CLICORE.EXE on the logon point (known by version resource, or by identical content with a site's clicomp.src/clicomp.box copy).",
        fix: "Edit the line to name the site whose release the file is, make Copylog.tcf read-only to LSM until every site is upgraded, then restore the permissions.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F05,
        severity: Severity::Error,
        kb: &["Q263345"],
        title: "Copylog's CLICORE.EXE site has no Sites folder or Cli_inst.cfg",
        condition: "The site Copylog.tcf names on its X86.BIN\\CLICORE.EXE line (the one the bootstrap follows) has no Sites\\<code> folder, or no Sites\\<code>\\Cli_inst.cfg, on the logon point; the bootstrap cannot get its configuration. A site named only on its own SITES\\<code> lines is not Q263345.",
        fix: "Upgrade a site still using the logon point (SP2 rewrites Copylog), or remove and re-add the domain in Logon Discovery/Installation, or re-enable the original site.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F06,
        severity: Severity::Warning,
        kb: &["Q313209"],
        title: "Copylog references a removed site",
        condition: "Copylog.tcf names a site (on SITES\\<old> lines or as the source of a shared file) that has no <code>_cfg.lcf on any audited logon point, while this logon point has LCF files: the site was removed.",
        fix: "Delete the removed site's SITES\\ lines and point each shared file at the site that holds its newest version.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F07,
        severity: Severity::Error,
        kb: &["Q264976"],
        title: "Copylog [FILE SOURCE] lacks shared files",
        condition: "Copylog.tcf is missing or unparsable, has only SITES\\ lines, or has no line for a shared file present under x86.bin, alpha.bin, i386 or Alpha on the logon point.",
        fix: "Rebuild Copylog.tcf from a good logon point or backup with the senior site code, save it on the PDC and run an LSM cycle.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F08,
        severity: Severity::Warning,
        kb: &["Q262677"],
        title: "Sites sharing a logon point at different releases (SP2 and later)",
        condition: "Sites that share a logon point offer base components of different releases and the newest is SP2 or later: Boot32wn will not apply the significantly newer Clicore to the older site's clients, and new clients go only to the newest site.",
        fix: "Let CCIM upgrade clients from their CAP; keep every site that shares a logon point at the same release.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F09,
        severity: Severity::Error,
        kb: &["Q242492", "Q227028"],
        title: "Participating site's Sites folder missing, empty or without NETCONF.NCF",
        condition: "A site with a <code>_cfg.lcf on the logon point has no Sites\\<code> folder, an empty one, or one without NETCONF.NCF; its clients cannot read Netconf.ncf and deinstall. A folder with NETCONF.NCF but no Cli_inst.cfg is not Q242492: F05 for the site on the CLICORE.EXE line, else F19.",
        fix: "Apply SP2 (or the Q242492 hotfix for SP1); make sure the PDC is reachable during LSM cycles.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F10,
        severity: Severity::Warning,
        kb: &["Q259816", "Q255820"],
        title: "Orphaned Sites folder of a site that left",
        condition: "Sites\\<code> exists on a logon point that has LCF files, but no audited logon point has <code>_cfg.lcf (SP2 'Always Active'=1 keeps the folder).",
        fix: "Delete that site's <code>_cfg.lcf from the PDC's SMSLOGON share to remove it from all DCs, and check that the Sites folder goes.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F11,
        severity: Severity::Error,
        kb: &["Q235726"],
        title: "Senior.lst names no participating site",
        condition: "Sitescfg\\Senior.lst exists but its first 3 characters are not the upper-case code of a site with a <code>_cfg.lcf on the logon point.",
        fix: "Recreate Senior.lst with the upper-case 3-character code of a site that has logon discovery or logon installation enabled.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F12,
        severity: Severity::Warning,
        kb: &["Q275617"],
        title: "Inboxlck.tok left in a CAP's Offerinf.box",
        condition: "Inboxlck.tok exists in CAP_<site>\\Offerinf.box (Inbox Manager's lock; a left-over token stalls offer processing). A snapshot may catch a refresh in progress: re-check.",
        fix: "Stop SMS_INBOX_MANAGER, close open files on <location>\\clicomp.box\\SWDist, restart it and confirm the token is gone (fixed in SP4).",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F13,
        severity: Severity::Warning,
        kb: &["Q322967"],
        title: "Software Distribution bundle stuck on a CAP",
        condition: "Inboxlck.tok exists under CAP_<site>\\clicomp.box, or clicomp.box\\SWDist\\<plat>\\swdist32.exe differs (size/hash) from the site server's clicomp.src copy.",
        fix: "Stop SMS_INBOX_MANAGER, close open files on the CAP's clicomp.box\\SWDist, restart it; confirm Inboxmgr.log shows 'Copying ... swdist32.exe ..., OK' and the two files match.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F14,
        severity: Severity::Error,
        kb: &["Q245170"],
        title: "Advertisement instruction lists a missing or empty offer",
        condition: "An .ins file in CAP_<site>\\Offerinf.box names an .ofr file that is missing from the box or zero bytes long; clients raise status 10000 and run no advertisements.",
        fix: "Remove the reference to the missing or damaged .ofr from the .ins (fixed in SP2), or resend the advertisement.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F15,
        severity: Severity::Warning,
        kb: &["Q227034", "Q293187"],
        title: "Advertised package without Pkginfo.box entry",
        condition: "An advertised package has no <PackageID>.pkg in CAP_<site>\\Pkginfo.box.",
        fix: "Let Inbox Manager re-replicate the .pkg (or resend the package).",
        inferred: true,
        needs: "the .ofr format naming the package is not documented",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F16,
        severity: Severity::Error,
        kb: &["Q260168"],
        title: "Caplist.ini missing from clidata.src",
        condition: "The site server's inboxes\\clidata.src folder has no Caplist.ini (a CAP's Clidata.box copy, if any, is named as the one to restore); remote installs fail.",
        fix: "Copy Caplist.ini from CAP_<code>\\Clidata.box back to SMS\\Inboxes\\clidata.src.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F17,
        severity: Severity::Warning,
        kb: &["Q280515"],
        title: "Client.lkp on a CAP differs from clidata.src",
        condition: "CAP_<site>\\Clidata.box\\Client.lkp differs in content from the site server's clidata.src copy, or is missing from the CAP; expected inventory resyncs do not happen.",
        fix: "Apply SP4; until then close client handles on Client.lkp and let Inbox Manager recopy it.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F18,
        severity: Severity::Info,
        kb: &["Q256905"],
        title: "Unreferenced resync .cfg files pile up in Clidata",
        condition: "Clidata.box / clidata.src holds .cfg files that Client.lkp does not reference.",
        fix: "Analyze Client.lkp and delete the unreferenced .cfg files on the site server and each CAP.",
        inferred: true,
        needs: "the Client.lkp format is not documented",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F19,
        severity: Severity::Error,
        kb: &["Q246331", "Q270912", "Q277745"],
        title: "Cli_inst.cfg / Clibase.cfg out of step with the site server",
        condition: "Clidata.box\\Cli_inst.cfg or Clibase.cfg on a CAP, or Sites\\<code>\\Cli_inst.cfg on a logon point, differs in content from the site server's clidata.src copy (or is missing); clients log 'The Client Service is not authorised to run this application'.",
        fix: "Copy the CRC-checked binaries into SMS\\Bin\\<platform> too and restart the services; if that fails, rename Cli_inst.cfg/Clibase.cfg in clidata.src and force regeneration.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F20,
        severity: Severity::Error,
        kb: &["Q287990", "Q320066"],
        title: "Clicore.exe differs between site server, CAP and logon point",
        condition: "clicomp.src\\base\\<plat>\\clicore.exe (or ccmcore.exe) differs in size/hash from the CAP's clicomp.box copy, or the logon point's x86.bin\\CLICORE.EXE differs from the clicomp.src copy of the site Copylog names as its source.",
        fix: concat!(
            "A CAP's copy that differs is first a copy Inbox Manager has not made: check Inboxmgr.log and let it recopy. ",
            caveat_lsm_cycle_first!(),
            " Only if the copies still differ afterwards, replace Clicore.exe on the site server, CAP and logon point with the copy from the right SP source (runaway ~GLH000*.tmp, Q287990; fixed in the SP4 HRP)."
        ),
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F21,
        severity: Severity::Warning,
        kb: &["Q323652"],
        title: "Site server Clicore older than the logon point's copy",
        condition: "clicomp.src\\base\\i386\\clicore.exe of a participating site is dated earlier than (and differs from) the logon point's x86.bin\\CLICORE.EXE although the site's base compver is at least the logon point's release: LSM will not update the logon point.",
        fix: "Re-apply the corrected international SP4, or install the Q323652 files with the correct dates.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F22,
        severity: Severity::Warning,
        kb: &["Q244410", "Q246527", "Q247306", "Q255174"],
        title: "Compver revision does not match its build",
        condition: "A compver.ini (site server, CAP or logon point) has a revision whose service-pack digit does not match its build, e.g. 2.00.1380.2004 on build 1380 (left by an early Q240921 hotfix).",
        fix: "After all clients are updated, reset the base compver to 2.00.1380.1072 (SP1).",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F23,
        severity: Severity::Error,
        kb: &["Q244409", "Q266130"],
        title: "Site server compver lower than a CAP's (downgrade)",
        condition: "The version in clicomp.src\\<comp>\\compver.ini is lower than the same component's compver.ini on a CAP of the site; clients with the higher version never take the files.",
        fix: "Check that the current version is below the hotfix's before applying; never lower a compver by hand; re-apply the newer hotfix.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F24,
        severity: Severity::Warning,
        kb: &["Q266130", "Q213410", "Q246331"],
        title: "CAP compver differs from the site server or another CAP",
        condition: "A CAP's clicomp.box\\<comp>\\compver.ini differs from (is older than) the site server's clicomp.src copy or the newest of the site's CAPs (replication lag or a failed copy), or is missing while the site offers it; a CFG the site's other CAPs hold is missing; or the CAP's clicomp.box is empty or missing.",
        fix: concat!(
            "Wait for, or force, Inbox Manager replication; check Inboxmgr.log for failed copies. ",
            caveat_smsman_does_not_upgrade!()
        ),
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F25,
        severity: Severity::Warning,
        kb: &["Q246527", "Q305209", "Q289000"],
        title: "Hotfix compver variant not renamed",
        condition: "A hotfix-named compver variant (Compver<NNNN>.ini, Compver2.ini, Compver<comp>.ini, Comp<NNNN>.ini) sits in a clicomp.src/clicomp.box component folder; warning when it is newer than compver.ini (the rename was skipped), info otherwise.",
        fix: "Rename the correct variant to Compver.ini as the hotfix instructions say, or remove the left-over.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F26,
        severity: Severity::Error,
        kb: &["Q289000"],
        title: "Withdrawn SP3 RC9 build",
        condition: "A base compver.ini or Clicore version is 2.00.1493.3009, the withdrawn SP3 RC9; client agent setting changes do not propagate.",
        fix: "Apply the RC9 to SP3 hotfix (Clicore 2.0.1493.3010, with all nine compver<comp>.ini files).",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F27,
        severity: Severity::Error,
        kb: &["Q182420"],
        title: "Site code is a reserved device name",
        condition: "A site code (from a CAP_/SMS_ share or a logon point Sites folder or LCF) is CON, PRN, AUX or NUL; Sites\\<code> cannot be created.",
        fix: "Reinstall the site with a different code.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F28,
        severity: Severity::Warning,
        kb: &["Q256963"],
        title: "Site code equals a domain name",
        condition: "A site below SP2 (site base compver, else its site control file's header build) has Windows Networking logon discovery or installation enabled for a domain whose name equals its own site code or the code of a site sharing a logon point with it (site control file); LSM and Logon Discovery overwrite each other's Mastercfg entries and accounts lock out.",
        fix: "Apply SP2, or avoid the clash.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F29,
        severity: Severity::Error,
        kb: &["Q225542"],
        title: "Configured domain has no SMSLOGON on its PDC",
        condition: "A site's control file enables logon discovery or installation for a domain, no audited logon point carries the site's <code>_cfg.lcf, and the inventory lists that domain's logon points but none of them is an audited SMSLOGON share (no NTFS volume with 50 MB free on the PDC). Without the domain in the inventory it is an A06 note naming the domain.",
        fix: "Give the PDC an NTFS volume with at least 50 MB free, or pre-create SMSLOGON there (Q235173).",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F30,
        severity: Severity::Info,
        kb: &["Q275591", "Q202941", "Q269615"],
        title: "Language folder missing on a mixed-language logon point",
        condition: "A logon point is shared by sites whose site servers hold different language folders in bin\\i386 (Q202941: the languages the site installs clients in), and a language folder of a participating site (e.g. x86.bin\\00000409) is missing from the logon point's x86.bin. Sites whose site server is not audited are not judged.",
        fix: "Remove Full Control and Modify (keep write) for the SMS service account on x86.bin / alpha.bin so LSM can add files but not delete them (Q275591). New clients getting the senior site's language is by design (Q269615); this matters only for clients that need the missing language.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F31,
        severity: Severity::Warning,
        kb: &["Q235535"],
        title: "Discovery-only site lacks install files",
        condition: "A site's control file enables Windows Networking Logon Discovery for a domain and not Logon Client Installation: its Sites\\<code> lacks the install files by design and Smsman cannot install from that domain's logon points (F05, F09 and F19 are not reported for the site's missing Cli_inst.cfg then).",
        fix: "Enable Windows Networking Logon Client Installation for that site.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::F32,
        severity: Severity::Info,
        kb: &["Q252856"],
        title: "CAP folder ACLs do not match the site's version",
        condition: "A CAP read over SMB (smb:// roots, the smsaudit-smb helper) has a folder whose NTFS DACL gives Users, Guests or Everyone (matched by SID, with what Everyone gets) a right the site's release does not give them (Q252856; the release the Sites view shows): delete or delete child in a writable box (ccr, ddr, inventry, sinv, statmsgs) at SP1 or later (RTM's Change), add file, add subfolder, delete, delete child, change permissions or take ownership in a read-only box (clicomp, clidata, clifiles, offerinf, pkginfo) at any release, or on the CAP folder itself at SP1 or later. Inherit-only entries and other principals are not judged, nor too little access. Share permissions are not read (libsmbclient gives none), nor a CAP read from a local folder or a mount; a descriptor that could not be read, or a site of unknown release, is an A06 note.",
        fix: "Adjust permissions by hand, or delete the CAP inboxes so Inbox Manager recreates them.",
        inferred: true,
        needs: "",
        only_over_smb: true,
    },
    Check {
        code: CheckCode::N01,
        severity: Severity::Error,
        kb: &["Q238302", "Q259816", "Q225514"],
        title: "Q236596 workaround configured but not in effect (SP1 or RTM with hotfix 42820)",
        condition: "A site at SP1 or RTM has logon discovery and installation off for every domain in its site control file (the Q236596 workaround), yet an audited logon point still holds its <code>_cfg.lcf or Sites\\<code>: LSM of SP1 and of RTM with hotfix 42820 may not remove logon points when both methods are disabled (fixed in SP2). For RTM the audit cannot see whether 42820 is applied.",
        fix: "Delete <code>_cfg.lcf from Sitescfg (and the site's Sites\\<code>) on the PDC's SMSLOGON by hand (Q259816), let LSM replicate to the BDCs, then audit again; first make sure the site is not the one Copylog names on X86.BIN\\CLICORE.EXE (Q263345).",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N02,
        severity: Severity::Error,
        kb: &["Q270036", "Q249333", "Q257202"],
        title: "Logon point copy not refreshed by LSM (hotfix not reached, or a failed copy)",
        condition: "A logon point's x86.bin\\CLICORE.EXE, which Copylog attributes to site S, is an earlier revision of the same release than S's clicomp.src copy while S's CAPs already carry that copy (a hotfix that has not reached the logon points; S's Sites\\S\\Cli_inst.cfg there is then reported with it); or a copy on one logon point is zero bytes while another logon point of the same site holds the site server's copy.",
        fix: concat!(
            caveat_lsm_cycle_first!(),
            " All logon points must be updated before new clients are installed (Q270036). Do not replace the file by hand or run the Q246331 Cli_inst.cfg procedure for this: the site server's copies are good."
        ),
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N03,
        severity: Severity::Warning,
        kb: &["Q263395"],
        title: "Senior.lst on one domain's logon points only, for sites that span domains",
        condition: "The same sites (the same <code>_cfg.lcf set, two or more) take part in logon points of several domains, and Sitescfg\\Senior.lst is on the logon points of one domain but known to be absent from every audited logon point of another. The domains come from the inventory; without domains in it, logon points with the same site set are split by the source sites their Copylog.tcf names for shared files.",
        fix: "Put Senior.lst (the upper-case code of the site that should be senior) in Sitescfg of each domain's PDC: LSM does not carry it to other domains (Q263395, SMS 2.0 to SP2). Without it the senior site is elected by site version, then by the site code's ASCII value.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N04,
        severity: Severity::Warning,
        kb: &["Q257262", "Q200830"],
        title: "CAP lacks some of its inbox folders",
        condition: "A CAP share that holds at least one read-only box and one writable box lacks others of the ten folders of Q252856 (clicomp.box, clidata.box, clifiles.box, offerinf.box, pkginfo.box, ccr.box, ddr.box, inventry.box, sinv.box, statmsgs.box). Inbox Manager recreates missing inbox folders hourly (Q200830), so a gap that persists means an incomplete CAP role removal (Q257262). A folder that exists but could not be read is not missing.",
        fix: "Audit again after an hour: if the folders are still missing, remove the CAP role completely (check HKLM\\Software\\Microsoft\\SMS\\Inbox Source for a left-over 'Inbox Remove Requested' value, per Q257262), let Inbox Manager finish, then add the CAP again.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N05,
        severity: Severity::Warning,
        kb: &["Q246614"],
        title: "Empty offer in a secondary site's Offer Manager inbox",
        condition: "A secondary site (SiteType 1 in its site control file) has a zero-length .ofr file in inboxes\\offermgr.box; one corrupt offer stops Offer Manager loading every later advertisement, silently. Zero-length as corrupt is [I].",
        fix: "Copy an intact .ofr of the same name from the parent site's SMS\\Inboxes\\Offerinf.box into the secondary site's SMS\\Inboxes\\Offermgr.box\\Incoming (it overwrites the damaged one), or remove the damaged .ofr from Offermgr.box, as Q246614 describes; then audit again.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N07,
        severity: Severity::Warning,
        kb: &["Q269615", "Q202941"],
        title: "Sites sharing a logon point at different revisions with an International Client Pack",
        condition: "Sites that share a logon point offer base compvers of the same release but different revisions while one of them is an ICP build (hundreds digit of the revision 4-9); or a site offers a component compver that is an ICP build of another release than its base. ICPs work only when every site sharing the domain runs the same revision, and an ICP must match the service pack.",
        fix: "Bring every site that shares the logon points to the same revision: apply the same ICP (and every hotfix applied to one site) to all of them; an ICP cannot be removed, so a site without it must get it (Q269615). Install only the ICP made for the site's service pack (Q202941).",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N08,
        severity: Severity::Warning,
        kb: &["Q273853", "Q258149"],
        title: "Hotfix logged on the site server but its binaries not replaced",
        condition: "A hotfix log SMS_<site>\\Logs\\Q<kb>[letter].txt or .log (Q273853, Q252717) names a hotfix whose file table is known (src/sms/hotfixes.rs), and every file of that table found in the site server's bin\\i386 has a version below the hotfix's: the installer ran but replaced nothing (an Administrator console on a secondary site changed HKLM\\...\\SMS\\Setup\\Type).",
        fix: "Set HKLM\\SOFTWARE\\Microsoft\\SMS\\Setup\\Type back to 0x2 on a secondary site server (0x1 on a primary) and run the hotfix again (Q273853); check the file versions afterwards.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N09,
        severity: Severity::Warning,
        kb: &["Q271885"],
        title: "Lower-case site code in the site control file",
        condition: "The site code in a site control file has lower-case letters (a scripted setup accepts them; the wizard cannot): Component Status Summarizer floods its retry queue with status message 4613.",
        fix: "Follow Q271885 for the site; give site codes in upper case in every scripted setup.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N11,
        severity: Severity::Error,
        kb: &["Q263665", "Q299772"],
        title: "Travel Mode Switch breaks this release",
        condition: "A site control file sets Travel Mode Switch 9 on a site below SP3 (new clients are not assigned, Q263665) or 1 on a site below SP4 (CCM discards Windows NT remote-install requests of non-administrators, Q299772).",
        fix: "Set Travel Mode Switch back to 0 (or apply SP3 for value 9, SP4 for value 1) as the KB describes.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N12,
        severity: Severity::Warning,
        kb: &["Q249590", "Q297870"],
        title: "Site control deltas wait in sitectrl.box\\incoming",
        condition: "A site server's inboxes\\sitectrl.box\\incoming holds .ct1 delta files older than an hour at the start of the audit: Site Control Manager is not processing (or rejects) configuration changes, so no console change, the Q236596 workaround included, has taken effect. The hour is [I].",
        fix: "Read Sitectl.log on the site server: an invalid public key after a rebuild or NetMeeting desktop sharing (Q249590) or a status message storm (Q297870) has its own fix there; reapply the lost changes afterwards.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N14,
        severity: Severity::Warning,
        kb: &["Q255980", "Q225542"],
        title: "Logon domain matches no known domain",
        condition: "A domain enabled for logon discovery or installation in a site control file is not among the inventory's domains and no audited logon point carries the site's <code>_cfg.lcf: an invalid domain name makes LSM log 'could not find domain controller' and status message 4610.",
        fix: "Correct or remove the domain name in the site's Windows Networking Logon Discovery and Installation properties (or add the domain to the inventory if it is real).",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::N16,
        severity: Severity::Warning,
        kb: &["Q235173"],
        title: "SMSLOGON share comment is not \"SMS NT logon service\"",
        condition: "A SMSLOGON share read over SMB (smb:// roots, the smsaudit-smb helper) carries a share comment other than exactly \"SMS NT logon service\" (case and spaces included), as a share recreated by hand with another comment does. A share read from a local folder or a mount has no comment to read and is not checked; a comment the server's share list could not give is an A06 note.",
        fix: "On the domain controller, set the SMSLOGON share's comment to exactly SMS NT logon service (the share's properties in Server Manager or Computer Management), keeping its permissions as Q235173 gives them (share: Administrators Full Control, Everyone Read).",
        inferred: false,
        needs: "",
        only_over_smb: true,
    },
    Check {
        code: CheckCode::A01,
        severity: Severity::Error,
        kb: &[],
        title: "Location could not be audited",
        condition: "A share given on the command line or named in the inventory is missing, cannot be listed, or did not answer within the location timeout; or, with --history, a share an earlier run saw under the same roots is not found (until history --forget drops it).",
        fix: "Check that the server is up, the share exists and the audit account has Read on the share and its folders; then audit again.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::A02,
        severity: Severity::Warning,
        kb: &[],
        title: "Site not at the release the inventory expects",
        condition: "The base compver.ini of a site's CAP or site server is at another release than the inventory's expected_release for the site (or the estate).",
        fix: "Apply the expected service pack to the site (upgrading every site that shares its logon points at the same time), or correct the inventory.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::A03,
        severity: Severity::Warning,
        kb: &[],
        title: "Logon points of the same sites disagree",
        condition: "Logon points that serve the same sites hold different versions or contents of a base file (Clicore.exe, Boot32wn.exe, Smsboot1.exe), a different per-site compver.ini, Copylog source site or derived base. LSM updates the PDC first and then the other domain controllers (Q264976), so one of them lags or missed an update.",
        fix: "Check Nt_logon.log on the sites' servers for failed copies to that domain controller, let LSM finish a cycle, then audit again.",
        inferred: true,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::A04,
        severity: Severity::Info,
        kb: &[],
        title: "Binary's string FileVersion differs from its fixed version",
        condition: "A logon point base binary's version resource carries a string FileVersion that says another version than its fixed (binary) FileVersion; tools that show only one of them (Explorer, PowerShell's VersionInfo.FileVersion) mislead.",
        fix: "Judge the file by its fixed version (shown in the matrix); compare its size and hash with a known-good copy before trusting either number.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::A05,
        severity: Severity::Warning,
        kb: &[],
        title: "File or folder could not be read: checks that needed it did not run",
        condition: "A file or folder of a readable share exists but could not be read (permissions, an I/O error); it is not reported as missing, and the checks that needed it name it here instead of passing.",
        fix: "Give the audit account Read on the share and all its folders (or run it as a member of the site's SMS admins), then audit again.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::A06,
        severity: Severity::Warning,
        kb: &[],
        title: "Check could not be judged: the audit lacks what it needs",
        condition: "A CAP's site has no logon point in the audit, or a logon point's base cannot be derived (x86.bin\\CLICORE.EXE without an SMS version resource, identical to no site's copy, no audited Copylog source) (Q236596 and its family cannot be judged), a site has no site server in the audit (replication is compared only between its CAPs), a CAP or site server share has no site code, --exclude hides files the checks read, a SMSLOGON share read over SMB has a comment its server's share list could not give (N16 not judged), or a CAP read over SMB has a folder whose security descriptor could not be read or a site of unknown release (F32 not judged).",
        fix: "Add the missing shares (the domain's \\\\DC\\SMSLOGON, the site's \\\\SERVER\\SMS_<site>) as roots or to the inventory, name the share's site in the inventory, narrow --exclude, or let the audit account list the server's shares and read the CAP folders' permissions; then audit again.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::A07,
        severity: Severity::Warning,
        kb: &[],
        title: "Two entries differ only in case: which one clients get is unknown",
        condition: "A share holds two files or folders whose names differ only in upper and lower case (possible on a Samba or NFS-backed share, or an NTFS folder with per-directory case sensitivity). Windows clients and SMS open names without regard to case and get one of them, depending on the server; the audit cannot tell which, so the checks of that path are not judged.",
        fix: "Remove or rename the stray copy on the share (keep the one SMS installed, compare hashes with the site server's copy), then audit again.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
    Check {
        code: CheckCode::A08,
        severity: Severity::Warning,
        kb: &[],
        title: "Share fans out far beyond any SMS 2.0 share: only part of it was compared",
        condition: "A share holds more distinct components, CFG files, compver variants or logon point site folders than any SMS 2.0 share does (a limit per share keeps the matrix and reports bounded). The items beyond the limit are still hashed and listed in files.csv, but they are not compared or shown in the matrix.",
        fix: "Find out who created the extra folders on the share (a script gone wrong, a hostile writer), remove them, then audit again.",
        inferred: false,
        needs: "",
        only_over_smb: false,
    },
];

const _: () = {
    assert!(CHECKS.len() == CheckCode::ALL.len());
    let mut i = 0;
    while i < CHECKS.len() {
        assert!(CHECKS[i].code as usize == i);
        i += 1;
    }
};

/// Looks checks up by code (`F01`) or KB article, written `Q236596`,
/// `KB236596` or `236596`.
pub(crate) fn find_checks(key: &str) -> Vec<&'static Check> {
    let key = key.trim();
    if let Some(code) = CheckCode::parse(key) {
        return vec![code.check()];
    }
    let upper = key.to_ascii_uppercase();
    let digits = upper
        .strip_prefix("KB")
        .or_else(|| upper.strip_prefix('Q'))
        .unwrap_or(&upper)
        .trim_start_matches('0');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    CHECKS
        .iter()
        .filter(|c| c.kb.iter().any(|kb| kb[1..].trim_start_matches('0') == digits))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_carry_the_kb_caveats() {
        use super::super::advice::*;
        let fix = |code: CheckCode| code.check().fix;
        assert!(fix(CheckCode::F01).contains(BOOTSTRAP_SITE.text));
        assert!(fix(CheckCode::F01).contains(WORKAROUND_BEFORE_SP2.text));
        assert!(fix(CheckCode::F20).contains(LSM_CYCLE_FIRST.text));
        assert!(fix(CheckCode::N02).contains(LSM_CYCLE_FIRST.text));
        assert!(fix(CheckCode::F03).contains(SMSMAN_DOES_NOT_UPGRADE.text));
        assert!(fix(CheckCode::F24).contains(SMSMAN_DOES_NOT_UPGRADE.text));
        assert!(
            !fix(CheckCode::F02).contains("(fixed in SP2)"),
            "reads as: you need SP2"
        );
        assert_eq!(CAVEATS.len(), 4);
    }

    #[test]
    fn codes_are_unique() {
        let codes: Vec<_> = CHECKS.iter().map(|c| c.code.as_str()).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes.len(), sorted.len());
    }

    #[test]
    fn finds_by_code_or_kb() {
        assert_eq!(find_checks("f01")[0].code, CheckCode::F01);
        for key in ["Q236596", "KB236596", "236596", "q236596", " kb236596 "] {
            assert_eq!(find_checks(key).len(), 2, "{key}");
        }
        assert!(find_checks("Q").is_empty() && find_checks("F99").is_empty());
        assert_eq!(find_checks("Q236596").len(), 2);
        assert_eq!(find_checks("Q264630").len(), 2);
        assert_eq!(CHECKS.iter().filter(|c| c.code.as_str().starts_with('F')).count(), 32);
        assert!(CHECKS.iter().filter(|c| c.implemented()).count() >= 24);
        assert!(find_checks("Q000000").is_empty());
    }
}
