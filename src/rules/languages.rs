//! Client languages on shared logon points (F30): a site server's
//! `bin\i386\<lang>` folders are the languages its clients install in
//! (Q202941); LSM of one site can delete the other sites' language
//! folders from a logon point they share (Q275591).

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{CheckCode, Finding, LocationKind};
use crate::sms::layout::{self, LOGON_CLIENT_BIN, SITE_SERVER_CLIENT_BIN};
use std::collections::{BTreeMap, BTreeSet};

/// The language folders of a site, upper case, from its audited site
/// servers' `bin\i386`; `None` when no site server's `bin\i386` of the
/// site was read, or it holds no language folder (a site server always
/// has at least one; without it, it is a partial copy): its languages are
/// unknown, so it is not judged.
fn site_languages(view: &EstateView, site: &str) -> Option<BTreeSet<String>> {
    let servers = view.site_locations(site, LocationKind::SiteServer);
    let mut known = false;
    let mut languages = BTreeSet::new();
    for server in servers {
        if !view.has_folder(&server.name, SITE_SERVER_CLIENT_BIN) || view.not_read(&server.name, SITE_SERVER_CLIENT_BIN)
        {
            continue;
        }
        known = true;
        languages.extend(
            view.subfolders(&server.name, SITE_SERVER_CLIENT_BIN)
                .into_iter()
                .filter(|name| layout::is_language_folder(name))
                .map(|name| name.to_ascii_uppercase()),
        );
    }
    (known && !languages.is_empty()).then_some(languages)
}

/// F30: on a logon point shared by sites of different languages, a
/// language folder of a participating site missing from `x86.bin`.
pub(crate) fn check_language_folders(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.locations(LocationKind::LogonPoint) {
        let sites = view.participants(lp);
        if sites.len() < 2 {
            continue;
        }
        let languages: BTreeMap<&str, BTreeSet<String>> = sites
            .iter()
            .filter_map(|s| Some((s.as_str(), site_languages(view, s)?)))
            .collect();
        let distinct: BTreeSet<&BTreeSet<String>> = languages.values().collect();
        if distinct.len() < 2 {
            continue;
        }
        let by_site = languages
            .iter()
            .map(|(site, langs)| format!("{site}: {}", langs.iter().cloned().collect::<Vec<_>>().join(" ")))
            .collect::<Vec<_>>()
            .join("; ");
        for (site, langs) in &languages {
            for lang in langs {
                let folder = format!("{LOGON_CLIENT_BIN}\\{lang}");
                if !view.folder_absent(&lp.name, &folder) {
                    continue;
                }
                out.push(
                    FindingDraft {
                        observed: format!("no {folder}"),
                        expected: format!("{folder} (site {site}'s language)"),
                        message: format!(
                            "Logon point {} is shared by sites of different languages ({by_site}, from their site servers' bin\\i386) and lacks site {site}'s language folder {folder}: LSM of another site deleted it (Q275591). Clients of {site} installed from here get another language; new clients getting the senior site's language is by design (Q269615).",
                            lp.name
                        ),
                        ..FindingDraft::new(CheckCode::F30, site, &lp.name, &folder)
                    }
                    .into_finding(),
                );
            }
        }
    }
}
