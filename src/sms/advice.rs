//! The KB's own caveats on the fixes smsaudit gives, each with its
//! articles, in one place: the catalogue's fix texts (`checks.rs`) and the
//! causes' fix steps are built from these, so a fix never advises a step
//! that breaks the domain without saying so (reference 10.4, 11.1).
//!
//! Each caveat is a text macro (so the catalogue's `&'static str` fixes can
//! `concat!` it) and a constant of the same text for code.

/// Q263345, Q235726: the site Copylog names on `X86.BIN\CLICORE.EXE` (and
/// the senior site of Senior.lst) is the one the bootstrap follows.
macro_rules! caveat_bootstrap_site {
    () => {
        "Never disable Windows Networking Logon Discovery and Installation for, or upgrade away from, the site Copylog.tcf names on X86.BIN\\CLICORE.EXE (or Senior.lst names): LSM then removes Sites\\<code> and every new logon installation in the domain fails (Q263345, Q235726); point the CLICORE.EXE line at another participating site (or recreate Senior.lst) first."
    };
}

/// Q238302, Q259816: on SP1 (or RTM with hotfix 42820) disabling both
/// logon methods may leave the logon points in place.
macro_rules! caveat_workaround_before_sp2 {
    () => {
        "On SP1, or RTM with hotfix 42820, LSM may leave the logon points in place when both methods are disabled (Q238302, fixed in SP2): delete <code>_cfg.lcf from the PDC's SMSLOGON\\Sitescfg by hand and confirm Sites\\<code> goes from every domain controller (Q259816)."
    };
}

/// Q270036, Q249333 (its constant is for the tests: the catalogue's F20
/// and N02 fixes carry it): a logon point copy that differs is first refreshed
/// by an LSM cycle, not called corrupt.
macro_rules! caveat_lsm_cycle_first {
    () => {
        "Before calling a logon point's copy corrupt, force a Logon Server Manager cycle: create the empty file Inboxes\\NT_Logon.box\\Notify\\NT_LOGON.NOT on the site server (SP2 LSM runs no cycle on an SMS Executive restart; Q270036, Q249333) and audit again once Nt_logon.log shows the cycle."
    };
}

/// Q263411: SMSMan from a logon point does not upgrade an installed
/// client, so a CAP that lags is not bridged by manual runs.
macro_rules! caveat_smsman_does_not_upgrade {
    () => {
        "Running SMSMan from a logon point does not upgrade an installed client (Q263411): only CCIM from a CAP does, so manual runs do not bridge a CAP that lags."
    };
}

pub(crate) use {
    caveat_bootstrap_site, caveat_lsm_cycle_first, caveat_smsman_does_not_upgrade, caveat_workaround_before_sp2,
};

/// A caveat: its text and the KB articles it rests on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caveat {
    pub kb: &'static [&'static str],
    pub text: &'static str,
}

pub(crate) const BOOTSTRAP_SITE: Caveat = Caveat {
    kb: &["Q263345", "Q235726"],
    text: caveat_bootstrap_site!(),
};

pub(crate) const WORKAROUND_BEFORE_SP2: Caveat = Caveat {
    kb: &["Q238302", "Q259816"],
    text: caveat_workaround_before_sp2!(),
};

#[cfg(test)]
pub(crate) const LSM_CYCLE_FIRST: Caveat = Caveat {
    kb: &["Q270036", "Q249333"],
    text: caveat_lsm_cycle_first!(),
};

pub(crate) const SMSMAN_DOES_NOT_UPGRADE: Caveat = Caveat {
    kb: &["Q263411"],
    text: caveat_smsman_does_not_upgrade!(),
};

/// Every caveat, for the tests that check the catalogue cites them.
#[cfg(test)]
pub(crate) const CAVEATS: &[Caveat] = &[
    BOOTSTRAP_SITE,
    WORKAROUND_BEFORE_SP2,
    LSM_CYCLE_FIRST,
    SMSMAN_DOES_NOT_UPGRADE,
];

/// The fix of a CAP whose replication from the site server did not
/// complete: the copy first, then what not to do, then the check.
/// `cap`: the CAP's name; `from`: where its content comes from (the site
/// server's clicomp.src, or in words when no site server was audited);
/// `site`, `release`: the site and the release it is at.
pub(crate) fn lagging_cap_fix(cap: &str, from: &str, site: &str, release: &str) -> Vec<String> {
    vec![
        format!(
            "Complete Inbox Manager's copy from {from} to {cap}: check Inboxmgr.log on site {site}'s server for failed copies to that CAP (access denied, a sharing violation, disk space), fix the cause, then let Inbox Manager recopy (it checks every inbox hourly, Q200830) or restart SMS_INBOX_MANAGER to force it (Q266130, Q246331)."
        ),
        format!(
            "Site {site} itself is at {release} (its own shares say so; how the audit decides is an inference [I], see docs/reference.md): the differences on {cap} are the copy that did not happen, which neither upgrading the site, nor replacing Clicore.exe, nor changing the site's logon discovery and installation fixes."
        ),
        format!(
            "Until the copy completes, clients that use {cap} cannot get the {release} components there (CCIM logs \"could not find a site CAP with uplevel version\", Q264630). {}",
            SMSMAN_DOES_NOT_UPGRADE.text
        ),
        format!("Then run smsaudit again: the findings of {cap} listed here should be gone."),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_caveat_cites_its_articles() {
        for caveat in CAVEATS {
            for kb in caveat.kb {
                assert!(caveat.text.contains(kb), "{kb} in {}", caveat.text);
            }
        }
    }
}
