//! Hotfixes that logged but replaced nothing (N08): an Administrator
//! console installed on a secondary site changes `SMS\Setup\Type`, and the
//! SP1-era hotfix installers then write their logs in `SMS\Logs` but leave
//! the binaries alone (Q273853). The file tables are in `sms::hotfixes`.

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{CheckCode, Finding, LocationKind};
use crate::sms::hotfixes::hotfix_files;
use crate::sms::layout::{self, SITE_SERVER_CLIENT_BIN, SITE_SERVER_LOGS};
use crate::sms::version::Version;
use std::collections::BTreeMap;

/// N08: a hotfix log whose hotfix's files, as far as they were read in
/// `bin\i386` with a version, are all below the hotfix's versions. A file
/// not found or without a version is left out; none left, no judgement.
pub(crate) fn check_hotfix_logs(view: &EstateView, out: &mut Vec<Finding>) {
    let logs_prefix = format!("{SITE_SERVER_LOGS}\\");
    for server in view.locations(LocationKind::SiteServer) {
        // The first log of each hotfix, in path order.
        let mut logs: BTreeMap<String, &str> = BTreeMap::new();
        for (path, record) in view.files(&server.name) {
            let Some(kb) = path.strip_prefix(&logs_prefix).and_then(layout::hotfix_log_kb) else {
                continue;
            };
            logs.entry(kb).or_insert(record.path.as_str());
        }
        let site = server.sites.first().cloned().unwrap_or_default();
        for (kb, log) in logs {
            let mut compared = Vec::new();
            let mut replaced = false;
            for row in hotfix_files(&kb) {
                let path = format!("{SITE_SERVER_CLIENT_BIN}\\{}", row.file);
                let Some(found) = view
                    .file(&server.name, &path)
                    .and_then(|r| r.version.as_deref())
                    .and_then(Version::parse)
                    .filter(Version::is_sms)
                else {
                    continue;
                };
                let Some(wanted) = Version::parse(row.version) else {
                    continue;
                };
                if found.fields >= wanted.fields {
                    replaced = true;
                }
                compared.push(format!("{} {found} (hotfix: {})", row.file, row.version));
            }
            if replaced || compared.is_empty() {
                continue;
            }
            out.push(
                FindingDraft {
                    observed: compared.join(", "),
                    expected: format!("the file versions of {kb}'s table or later"),
                    message: format!(
                        "{} holds the hotfix log {log} of {kb}, but every file of {kb} in bin\\i386 is still below the hotfix's version ({}): the installer ran and replaced nothing. On a secondary site an SMS Administrator console changes HKLM\\SOFTWARE\\Microsoft\\SMS\\Setup\\Type, which makes hotfixes do this (Q273853).",
                        server.name,
                        compared.join(", ")
                    ),
                    ..FindingDraft::new(CheckCode::N08, &site, &server.name, log)
                }
                .into_finding(),
            );
        }
    }
}
