//! Checks that turn the estate into findings. Each check is a function over
//! the [`EstateView`]; the catalogue (codes, KB numbers, fixes) is in
//! [`crate::sms::checks`].

mod absent;
mod agreement;
mod cap;
mod cap_acls;
mod copylog;
mod coverage;
mod hotfixes;
mod inventory;
mod languages;
mod logon;
mod share_comment;
mod site_control;
mod site_server;
mod sites;
mod versions;

pub(crate) use site_control::workaround;

use crate::config::Config;
use crate::estate::EstateView;
use crate::model::{CellMark, CheckCode, Finding, Severity};

/// Evaluates every check over the estate, and the checks of the audit
/// itself (unreadable locations, the locations the history expects, the
/// inventory's expected releases).
pub(crate) fn evaluate(view: &EstateView, config: &Config) -> Vec<Finding> {
    let inventory = config.inventory.as_ref();
    let mut findings = Vec::new();
    for check in CHECK_FUNCTIONS {
        check(view, &mut findings);
    }
    copylog::check_copylog_removed_sites(view, inventory, &mut findings);
    site_control::check_logon_domains(view, inventory, &mut findings);
    site_control::drop_by_design(view, &mut findings);
    site_control::add_workaround_state(view, &mut findings);
    sites::check_senior_list_per_domain(view, inventory, &mut findings);
    inventory::check_unreadable_locations(view, &mut findings);
    if let Some(past) = &config.history {
        coverage::check_expected_locations(&missing_expected(view, config), &past.file, &mut findings);
    }
    if let Some(inventory) = inventory {
        inventory::check_expected_release(view, inventory, &mut findings);
    }
    crate::model::sort_findings(&mut findings);
    findings
}

type CheckFn = fn(&EstateView, &mut Vec<Finding>);

/// Every implemented check, in catalogue order.
const CHECK_FUNCTIONS: &[CheckFn] = &[
    logon::check_logon_base_newer_than_cap,       // F01
    logon::check_cfg_versions,                    // F02
    logon::check_cap_release_below_logon_clicore, // F03
    copylog::check_clicore_source_release,        // F04
    copylog::check_copylog_sites_configured,      // F05
    copylog::check_copylog_covers_shared_files,   // F07
    logon::check_sharing_sites_same_release,      // F08
    sites::check_participants_have_site_folder,   // F09
    sites::check_orphan_site_folders,             // F10
    sites::check_senior_list,                     // F11
    cap::check_lock_tokens,                       // F12, F13 (token)
    cap::check_offer_references,                  // F14
    site_server::check_caplist_in_clidata,        // F16
    site_server::check_cap_copies,                // F13, F17, F19, F20
    site_server::check_logon_copies,              // F19, F20, F21
    versions::check_version_stamps,               // F22, F26
    site_server::check_compver_replication,       // F23, F24
    absent::check_expected_files,                 // F24 (absent)
    versions::check_compver_variants,             // F25
    sites::check_reserved_site_codes,             // F27
    site_control::check_site_controls,            // F28, F31, N01, N05, N09, N11, N12
    site_control::check_damaged_site_controls,    // A06 (site control file)
    languages::check_language_folders,            // F30
    cap::check_inbox_folders,                     // N04
    logon::check_icp_revisions,                   // N07
    hotfixes::check_hotfix_logs,                  // N08
    share_comment::check_logon_share_comment,     // N16, A06 (share comment)
    cap_acls::check_cap_folder_acls,              // F32, A06 (CAP folder permissions)
    agreement::check_logon_points_agree,          // A03
    agreement::check_string_versions,             // A04
    coverage::check_unreadable_entries,           // A05
    coverage::check_what_could_not_be_judged,     // A06
    coverage::check_case_twins,                   // A07
    coverage::check_fan_out,                      // A08
];

/// Builds a finding from the catalogue entry `code`.
pub(crate) struct FindingDraft<'a> {
    pub code: CheckCode,
    pub severity: Option<Severity>,
    pub site: &'a str,
    pub location: &'a str,
    pub path: &'a str,
    pub observed: String,
    pub expected: String,
    pub message: String,
    pub marks: Vec<CellMark>,
}

impl<'a> FindingDraft<'a> {
    /// A draft with the catalogue's severity and no values or marks yet.
    pub(crate) fn new(code: CheckCode, site: &'a str, location: &'a str, path: &'a str) -> FindingDraft<'a> {
        FindingDraft {
            code,
            severity: None,
            site,
            location,
            path,
            observed: String::new(),
            expected: String::new(),
            message: String::new(),
            marks: Vec::new(),
        }
    }

    pub(crate) fn into_finding(self) -> Finding {
        let check = self.code.check();
        Finding {
            severity: self.severity.unwrap_or(check.severity),
            code: self.code,
            kb: check.kb_text(),
            site: self.site.to_string(),
            location: self.location.to_string(),
            path: self.path.to_string(),
            observed: self.observed,
            expected: self.expected,
            message: self.message,
            // A fix that names `<location>` names the finding's share.
            fix: check.fix.replace("<location>", self.location),
            fingerprint: crate::model::fingerprint(self.code, self.site, self.location, self.path),
            marks: self.marks,
        }
    }
}

/// The locations the history expects ([`crate::history::Past`]) that this
/// run did not find: seen by an earlier run under this run's roots (or its
/// inventory's shares), not forgotten (`smsaudit history FILE --forget`),
/// not excluded by name. The one rule behind A01's "not found now" and
/// behind which vanished locations drift still reports.
pub(crate) fn missing_expected<'a>(view: &EstateView, config: &'a Config) -> Vec<&'a crate::history::SeenLocation> {
    let Some(past) = &config.history else {
        return Vec::new();
    };
    let scope = crate::config::Scope::of(config);
    let found: std::collections::BTreeSet<String> =
        view.estate.locations.iter().map(|l| l.name.to_lowercase()).collect();
    past.expected
        .iter()
        .filter(|seen| {
            !found.contains(&seen.name.to_lowercase())
                && scope.covers(&seen.path)
                && !config.exclude.matches(&seen.name)
        })
        .collect()
}
