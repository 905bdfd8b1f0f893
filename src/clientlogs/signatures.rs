//! The catalogue of [`crate::sms::symptoms::SIGNATURES`] compiled, and
//! what a matching line says: its share, path, site, component, versions.

use super::reader::Entry;
use crate::sms::symptoms::{component_folder, Signature, SIGNATURES};
use regex::{Regex, RegexBuilder};
use std::sync::LazyLock;

/// The signatures compiled once, in catalogue order.
static COMPILED: LazyLock<Vec<(&'static Signature, Regex)>> = LazyLock::new(|| {
    SIGNATURES
        .iter()
        .map(|s| {
            let regex = RegexBuilder::new(s.pattern)
                .case_insensitive(true)
                .build()
                .unwrap_or_else(|e| panic!("signature {} has a bad pattern: {e}", s.name));
            (s, regex)
        })
        .collect()
});

/// A UNC path anywhere in a line, for the context of later lines.
static ANY_UNC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\\\\[^\s'\x22()<>\[\]]+").expect("valid"));
/// A site named in a line, for the context of later lines.
static ANY_SITE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:part\s+of\s+site|from\s+site|for\s+site|site\s+code)\s*[:=]?\s*'?([a-z0-9]{3})'?(?:[^a-z0-9]|$)",
    )
    .expect("valid")
});

/// What a line that matches a signature says.
#[derive(Debug, Clone)]
pub(crate) struct Matched {
    pub signature: &'static Signature,
    /// `\\SERVER\SHARE` as the line names it, `\\?\UNC\` dropped.
    pub location: String,
    /// The rest of the path below the share, with backslashes.
    pub path: String,
    pub site: String,
    /// The component's `clicomp.box` folder, or its name as logged when
    /// the folder is not known.
    pub component: String,
    pub version: String,
    pub expected: String,
}

/// The message as signatures read it: `~` marks are spaces.
fn readable(message: &str) -> String {
    message.replace('~', " ")
}

/// The first signature the entry matches, with what it extracts.
pub(crate) fn match_entry(entry: &Entry) -> Option<Matched> {
    let message = readable(&entry.message);
    COMPILED.iter().find_map(|(signature, regex)| {
        let found = regex.captures(&message)?;
        let group = |name: &str| found.name(name).map_or("", |m| m.as_str()).trim().to_string();
        let (location, mut path) = split_unc(&group("unc"));
        let component = group("component");
        let component = match component_folder(&component) {
            Some(folder) => folder.to_string(),
            None => component.trim_matches('"').to_string(),
        };
        let file = group("file");
        if !file.is_empty() && path.is_empty() {
            path = file;
        }
        Some(Matched {
            signature,
            location,
            path,
            site: group("site").to_ascii_uppercase(),
            component,
            version: group("version"),
            expected: group("expected"),
        })
    })
}

/// `\\SERVER\SHARE\a\b\` as (`\\SERVER\SHARE`, `a\b`); `\\?\UNC\SERVER\...`
/// and forward slashes are read the same way. Empty when not a UNC path.
pub(crate) fn split_unc(unc: &str) -> (String, String) {
    let unc = unc.replace('/', "\\");
    let rest = if let Some(rest) = strip_prefix_ignore_case(&unc, r"\\?\UNC\") {
        rest
    } else if let Some(rest) = unc.strip_prefix(r"\\?\") {
        rest.trim_start_matches('\\')
    } else if let Some(rest) = unc.strip_prefix(r"\\") {
        rest
    } else {
        return (String::new(), String::new());
    };
    let mut parts = rest.split('\\').filter(|p| !p.is_empty());
    let (Some(server), Some(share)) = (parts.next(), parts.next()) else {
        return (String::new(), String::new());
    };
    let path: Vec<&str> = parts.collect();
    (format!(r"\\{server}\{share}"), path.join("\\"))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// The share and site the lines of one log were last about: a line such
/// as "could not find a site CAP with uplevel version" names neither, and
/// is about the CAP the log named just before.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    pub location: String,
    pub site: String,
}

impl Context {
    /// Takes what `entry` names into account, after it has been matched.
    pub(crate) fn follow(&mut self, entry: &Entry) {
        if let Some(unc) = ANY_UNC.find(&entry.message) {
            let (location, _) = split_unc(unc.as_str());
            if !location.is_empty() {
                self.location = location;
            }
        }
        if let Some(site) = ANY_SITE.captures(&entry.message) {
            self.site = site[1].to_ascii_uppercase();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matched(message: &str) -> Option<Matched> {
        match_entry(&Entry {
            line: 1,
            message: message.to_string(),
            component: String::new(),
            time: String::new(),
            text: message.to_string(),
        })
    }

    fn name(message: &str) -> Option<&'static str> {
        matched(message).map(|m| m.signature.name)
    }

    #[test]
    fn the_issue_line_gives_its_share_path_and_versions() {
        let m = matched(r"Warning: \\SERVER1\CAP_MS1\clicomp.box\smsapm32.CFG version () out of sync with offer file version (2.00.1239.0000); skipping operations").unwrap();
        assert_eq!(m.signature.name, "cfg-out-of-sync");
        assert_eq!(m.location, r"\\SERVER1\CAP_MS1");
        assert_eq!(m.path, r"clicomp.box\smsapm32.CFG");
        assert_eq!((m.version.as_str(), m.expected.as_str()), ("", "2.00.1239.0000"));
        let m = matched(r"WARNING:\\?\UNC\server1\cap_ms1\CLICOMP.BOX\hinv.cfg  Version (2.00.1239.0000) OUT OF SYNC with the offer file version ( 2.00.1380.1000 )").unwrap();
        assert_eq!(
            (m.location.as_str(), m.path.as_str()),
            (r"\\server1\cap_ms1", r"CLICOMP.BOX\hinv.cfg")
        );
        assert_eq!(
            (m.version.as_str(), m.expected.as_str()),
            ("2.00.1239.0000", "2.00.1380.1000")
        );
    }

    #[test]
    fn wording_variants_of_the_kb_articles_match() {
        for (line, expected) in [
            (r"Warning: The CAP base release (from \\SMSPDC20\CAP_PET\clicomp.box\base) is 2.00.1380.1 (client release is 2.00.1493.2)", "cap-base-release-older"),
            ("Warning - could not find a site CAP with uplevel version of component Software Distribution", "no-uplevel-cap"),
            ("Warning - couldn't find a site CAP with up-level version of the component LICENSE METERING", "no-uplevel-cap"),
            (r"Warning: Inbox manager token file found (\\SERVER01\CAP_SO1\clicomp.box\SWDist\inboxlck.tok), waiting 10 seconds for directory refresh to finish...", "inbox-token-found"),
            (r"Warning: Inbox Manager token file found \\SERVER01\CAP_SO1\clicomp.box\SWDist\inboxlck.tok", "inbox-token-found"),
            ("Warning: Directory still in use by inbox manager; skipping operations", "directory-in-use"),
            (r"TEST : Found Lock File '\\OSHER\CAP_DAN\OfferInf.box\Inboxlck.tok'.Continuing retry attempts at every 5000 ms", "offer-lock-file"),
            ("TEST : No CAP offer Inbox is accessible.", "no-cap-offer-inbox"),
            ("TEST : CAP offer Inbox is not accessible or is locked.", "no-cap-offer-inbox"),
            ("TEST : No accessible CAP offer Inbox found.", "no-cap-offer-inbox"),
            (r"Couldn't find line in the FILE SOURCE section of \\MY_MACHINE\SMSLOGON\config\CopyLog.tcf", "copylog-line-missing"),
            (r"Could not find line in the [FILE SOURCE] section of \\DC1\SMSLOGON\Config\Copylog.tcf", "copylog-line-missing"),
            ("No COMPVER.INI found for site SEC - defaulting logon point version to 2.00.0000.0000", "no-logon-site-compver"),
            ("#$#$#$#$#$ ERROR: The Client Service is not authorised to run this application! (5)", "client-service-not-authorized"),
            ("ERROR: The Client Service is not authorized to run this application! (5)", "client-service-not-authorized"),
            ("#$#$#$#$#$ ERROR: The Client Service is not authorized to run this application (5)", "client-service-not-authorized"),
            (r#"ERROR: Unable to read site data from CAP list file "C:\WINNT\sms_temp\caplist.ini" (-2147467259)"#, "caplist-unreadable"),
            ("Warning - could not read files from site TB1 (#2147942405)", "site-files-unreadable"),
            ("Warning - CNALPathEx::GetAccessiblePath returned error 2147942405", "no-accessible-path"),
            ("CClientSiteCfgArray - Can't get accessible path for site TB1 config info", "no-accessible-path"),
            (r"WaitForCAPAccess - abstract export ABEXPRT:\\CAP List for site ABC not accessible", "cap-unreachable"),
            ("NAL[4] - ERROR: failed to make the network connection. No more connections can be made to this remote computer at this time", "cap-unreachable"),
            ("No more connections can be made to this remote computer at this time", "server-license-exhausted"),
            ("Logon failure: unknown user name or bad password.", "account-rejected"),
        ] {
            assert_eq!(name(line), Some(expected), "{line}");
            assert_eq!(name(&line.to_ascii_uppercase()), Some(expected), "upper case: {line}");
            assert_eq!(name(&line.replace(' ', "  ")), Some(expected), "spacing: {line}");
        }
        for noise in [
            "Component \"Software Distribution\" needs to be installed",
            "CCIM32 - Retry in 60 minutes",
            "EXCEPTION EXCEPTION EXCEPTION",
            "Done processing active client components",
        ] {
            assert_eq!(name(noise), None, "{noise}");
        }
    }

    #[test]
    fn components_and_sites_are_normalised() {
        let m = matched(
            "Warning - could not find a site CAP with uplevel version of component Available Programs Manager Win32",
        )
        .unwrap();
        assert_eq!(m.component, "smsapm32");
        let m =
            matched("no compver.ini found for site sec - defaulting logon point version to 2.00.0000.0000").unwrap();
        assert_eq!((m.site.as_str(), m.version.as_str()), ("SEC", "2.00.0000.0000"));
        let m = matched("Warning - could not read files from site TB1 (#2147942405)").unwrap();
        assert!(!m.signature.share_related());
    }

    #[test]
    fn unc_paths_split_into_share_and_path() {
        assert_eq!(split_unc(r"\\S\C\a\b\"), (r"\\S\C".into(), r"a\b".into()));
        assert_eq!(split_unc(r"\\?\UNC\S\C\x"), (r"\\S\C".into(), "x".into()));
        assert_eq!(split_unc("//s/c/x"), (r"\\s\c".into(), "x".into()));
        assert_eq!(split_unc(r"\\S"), (String::new(), String::new()));
        assert_eq!(split_unc(r"C:\x"), (String::new(), String::new()));
    }
}
