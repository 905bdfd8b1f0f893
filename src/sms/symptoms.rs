//! What SMS 2.0 clients write in their logs when something is wrong, as
//! data beside the checks: the client logs that carry symptoms, the
//! component names they use, and the catalogue of symptom signatures, each
//! with its KB article, what it extracts and the checks that can explain it.
//! The wording comes from the KB articles (client-logs.md); the patterns
//! accept the variants those articles show (case, spacing, "authorised" and
//! "authorized", "Couldn't" and "Could not").

use super::checks::CheckCode;

/// The client logs that carry the symptoms below, lower case (a `.lo_`
/// copy, SMS's previous log, counts as the same log).
pub const CLIENT_LOGS: &[&str] = &[
    "ccim32.log",
    "clicore.log",
    "coreinst.log",
    "wn_logon.log",
    "wnmanual.log",
    "wn_remote.log",
    "wnremote.log",
    "boot32wn.log",
    "clisvc.log",
    "clisvcl.log",
    "smscli.log",
    "launch32.log",
    "odpsys32.log",
    "odpusr32.log",
    "smsapm32.log",
];

/// Component names as CCIM logs them, and the `clicomp.box` folder each
/// lives in (lower case, as stamps name components).
pub const COMPONENT_FOLDERS: &[(&str, &str)] = &[
    ("SMS Client Base Components", "base"),
    ("Available Programs Manager Win32", "smsapm32"),
    ("Software Distribution", "swdist"),
    ("Software Inventory Agent", "sinv"),
    ("Hardware Inventory Agent", "hinv"),
    ("Remote Control", "remctrl"),
    ("License Metering", "licmtr"),
    ("Event to Trap Translator", "snmpelea"),
    ("Windows Management", "wbem"),
];

/// The `clicomp.box` folder of a component named as CCIM logs it (any
/// case), if known.
pub fn component_folder(logged_name: &str) -> Option<&'static str> {
    let name = logged_name.trim().trim_matches('"');
    COMPONENT_FOLDERS
        .iter()
        .find(|(logged, _)| logged.eq_ignore_ascii_case(name))
        .map(|(_, folder)| *folder)
}

/// Words an SMS 2.0 client log writes when something went wrong ("Error
/// launching", "ERROR:", "failed", "Warning -", "Access denied"), lower
/// case. A line with one that no signature matches is counted and sampled
/// as "not recognised", so it is seen rather than dropped. The list is
/// inferred [I] from the KB excerpts of client-logs.md, not from a
/// specification: a failure written in other words is not counted.
pub const FAILURE_WORDS: &[&str] = &[
    "error",
    "fail",
    "warning",
    "cannot",
    "couldn't",
    "could not",
    "unable",
    "denied",
];

/// Whether a log message says something went wrong ([`FAILURE_WORDS`]).
pub fn reads_as_failure(message: &str) -> bool {
    let lower = message.to_lowercase();
    FAILURE_WORDS.iter().any(|word| lower.contains(word))
}

/// One kind of log line that shows a problem.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    /// Short, stable name (`cfg-out-of-sync`), the `symptom` column.
    pub name: &'static str,
    /// What the line means, in one sentence.
    pub title: &'static str,
    /// The KB articles that quote the line, most specific first.
    pub kb: &'static [&'static str],
    /// A case-insensitive regular expression over the line's message (its
    /// `~` marks read as spaces). Named groups, each optional: `unc` (a
    /// `\\SERVER\SHARE\...` path), `site`, `component` (as CCIM logs it),
    /// `file`, `version` (what the client found) and `expected` (what it
    /// wanted).
    pub pattern: &'static str,
    /// The checks whose findings can explain the line; empty when nothing
    /// on the shares causes it (a network, account or license problem).
    pub codes: &'static [CheckCode],
}

impl Signature {
    /// Whether a problem on the shares can cause the line.
    pub fn share_related(&self) -> bool {
        !self.codes.is_empty()
    }
}

use CheckCode::*;

/// A UNC path as logs write it, up to a space, quote, bracket or `>`.
macro_rules! unc {
    () => {
        r"(?P<unc>\\\\[^\s'\x22()<>\[\]]+)"
    };
}

/// Every signature, tried in order: the first that matches a line names
/// its symptom.
pub const SIGNATURES: &[Signature] = &[
    Signature {
        name: "cfg-out-of-sync",
        title: "Component CFG version out of sync with the offer file version: CCIM skips the component",
        kb: &["Q236596"],
        pattern: concat!(
            r"warning\s*:?\s*",
            unc!(),
            r"\s+version\s*\(\s*(?P<version>[^)]*?)\s*\)\s*(?:is\s+)?out\s+of\s+sync\s+with\s+(?:the\s+)?offer\s+file\s+version\s*\(\s*(?P<expected>[^)]*?)\s*\)"
        ),
        codes: &[F02, F24, F01],
    },
    Signature {
        name: "cap-base-release-older",
        title: "The CAP's base release is older than the client's: CCIM cannot upgrade from it",
        kb: &["Q264630"],
        pattern: concat!(
            r"the\s+cap\s+base\s+release\s*\(\s*from\s+",
            unc!(),
            r"\s*\)\s*is\s+(?P<version>\d[\d.]*)\s*\(\s*client\s+release\s+is\s+(?P<expected>\d[\d.]*)\s*\)"
        ),
        codes: &[F03, F01, F04, F08],
    },
    Signature {
        name: "no-uplevel-cap",
        title: "No CAP of the site offers the component at the client's level",
        kb: &["Q264630", "Q322967"],
        pattern: r"could\s*n[o']?t\s+find\s+a\s+site\s+cap\s+with\s+(?:an?\s+)?up-?\s*level\s+version\s+of\s+(?:the\s+)?component\s+(?P<component>[^\r\n]+?)\s*$",
        codes: &[F03, F01, F13, F12, F24],
    },
    Signature {
        name: "inbox-token-found",
        title: "Inbox Manager's lock token left in a CAP component folder",
        kb: &["Q322967"],
        pattern: concat!(r"inbox\s*manager\s+token\s+file\s+found\s*\(?\s*", unc!()),
        codes: &[F13],
    },
    Signature {
        name: "directory-in-use",
        title: "CAP component folder still in use by Inbox Manager: CCIM skips the component",
        kb: &["Q322967"],
        pattern: r"directory\s+still\s+in\s+use\s+by\s+inbox\s*manager",
        codes: &[F13],
    },
    Signature {
        name: "offer-lock-file",
        title: "Inboxlck.tok left in a CAP's OfferInf.box: advertisements wait",
        kb: &["Q275617"],
        pattern: concat!(r"found\s+lock\s+file\s*'?\s*", unc!()),
        codes: &[F12],
    },
    Signature {
        name: "no-cap-offer-inbox",
        title: "No CAP offer inbox accessible: the client runs no advertisements",
        kb: &["Q275617"],
        pattern: r"\bno\s+(?:accessible\s+)?cap\s+offer\s+inbox\s+(?:is\s+accessible|found)|cap\s+offer\s+inbox\s+is\s+not\s+accessible\s+or\s+is\s+locked",
        codes: &[F12],
    },
    Signature {
        name: "copylog-line-missing",
        title: "Copylog.tcf on the logon point lacks the FILE SOURCE line: Boot32wn retries",
        kb: &["Q264976"],
        pattern: concat!(
            r"could\s*n[o']?t\s+find\s+(?:the\s+)?line\s+in\s+the\s+\[?\s*file\s+source\s*\]?\s+section\s+of\s+",
            unc!()
        ),
        codes: &[F07, F04, F05, F06],
    },
    Signature {
        name: "no-logon-site-compver",
        title: "No per-site COMPVER.INI on the logon point: the client takes its version as 2.00.0000.0000",
        kb: &["Q264630"],
        pattern: r"no\s+compver\.ini\s+found\s+for\s+site\s+'?(?P<site>[a-z0-9]{3})'?\s*-?\s*defaulting\s+logon\s+point\s+version\s+to\s+(?P<version>\d[\d.]*)",
        codes: &[F09, F05, F03, F01],
    },
    Signature {
        name: "client-service-not-authorized",
        title: "Client Service refuses a program whose CRC does not match the site's Cli_inst.cfg",
        kb: &["Q246331", "Q270912", "Q277745", "Q323652"],
        pattern: r"client\s+service\s+is\s+not\s+authori[sz]ed\s+to\s+run\s+th(?:is|e)\s+application",
        codes: &[F19, F21, F20, F24],
    },
    Signature {
        name: "caplist-unreadable",
        title: "Remote installation cannot read Caplist.ini: clidata.src lacks it",
        kb: &["Q260168"],
        pattern: r"unable\s+to\s+read\s+site\s+data\s+from\s+(?:the\s+)?cap\s*list\s+file",
        codes: &[F16],
    },
    Signature {
        name: "site-files-unreadable",
        title: "The client cannot read its site's files on the CAP (connection account or network)",
        kb: &["Q236052"],
        pattern: r"could\s*n[o']?t\s+read\s+files\s+from\s+site\s+(?P<site>[a-z0-9]{3})\b",
        codes: &[],
    },
    Signature {
        name: "no-accessible-path",
        title: "No accessible path to the CAP (connection account or network)",
        kb: &["Q236052"],
        pattern: r"getaccessiblepath\s+returned\s+error|can'?t\s+get\s+(?:an\s+)?accessible\s+path\s+for\s+site\s+(?P<site>[a-z0-9]{3})\b",
        codes: &[],
    },
    Signature {
        name: "cap-unreachable",
        title: "The CAP is not accessible (network, server or its licenses)",
        kb: &["Q208618"],
        pattern: r"waitforcapaccess\b.*\bnot\s+accessible|failed\s+to\s+make\s+the\s+network\s+connection",
        codes: &[],
    },
    Signature {
        name: "server-license-exhausted",
        title: "The CAP server has no connection left (per-server licensing)",
        kb: &["Q208618"],
        pattern: r"no\s+more\s+connections\s+can\s+be\s+made\s+to\s+this\s+remote\s+computer",
        codes: &[],
    },
    Signature {
        name: "account-rejected",
        title: "The client connection account was refused (password changed, locked out or disabled)",
        kb: &["Q236052"],
        pattern: r"logon\s+failure|unknown\s+user\s+name\s+or\s+bad\s+password|account\s+(?:is\s+)?(?:currently\s+)?(?:locked\s+out|disabled)|password\s+(?:has\s+)?expired",
        codes: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_share_related_ones_name_checks() {
        let names: std::collections::BTreeSet<_> = SIGNATURES.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), SIGNATURES.len());
        assert!(SIGNATURES.iter().all(|s| !s.kb.is_empty()));
        assert_eq!(component_folder("\"software distribution\" "), Some("swdist"));
        assert_eq!(component_folder("LICENSE METERING"), Some("licmtr"));
    }
}
