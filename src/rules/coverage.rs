//! What the audit could not check (A05): every entry of a readable share
//! that exists but could not be read. It is never reported as missing, and
//! the checks that needed it are named here instead.

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{CheckCode, FileKind, Finding, LocationKind, Status};
use crate::sms::layout::{self, Role};

/// The checks that read a file of this role.
fn needed_by(kind: LocationKind, lower: &str, file_kind: FileKind) -> &'static str {
    if file_kind == FileKind::Directory {
        return "every check of the files below it, their hashes and drift";
    }
    match layout::role(kind, lower) {
        Role::Compver { .. } => "its component's version (F01-F03, F22-F25, the matrix row)",
        Role::ComponentCfg { .. } => "the CFG version (F02, the matrix row)",
        Role::Copylog => "the Copylog checks (F04-F07)",
        Role::SeniorList => "the senior site (F11)",
        Role::LogonConfig => "who takes part in the logon point (F06, F09-F11)",
        Role::LogonSiteCompver { .. } => "the site's logon point version (F22, A03)",
        Role::LogonBaseBinary => "the logon point's base (F01, F03, F04, F20, F21, A03, A04)",
        Role::ClientData => "the copies of client data (F16, F17, F19)",
        Role::OfferInstruction => "the offers it names (F14)",
        Role::Binary | Role::Other => "its hash and drift",
    }
}

/// A05: one finding per unreadable file or folder of a readable location.
pub(crate) fn check_unreadable_entries(view: &EstateView, out: &mut Vec<Finding>) {
    for location in view.estate.locations.iter().filter(|l| l.status == Status::Ok) {
        let site = location.sites.join(" ");
        for record in view
            .estate
            .files
            .iter()
            .filter(|f| f.location == location.name && f.status == Status::Unreadable)
        {
            let what = if record.kind == FileKind::Directory {
                "folder"
            } else {
                "file"
            };
            let needed = needed_by(location.kind, &record.path.to_ascii_lowercase(), record.kind);
            out.push(
                FindingDraft {
                    observed: record.reason.clone(),
                    expected: "readable by the audit account".into(),
                    message: format!(
                        "The {what} {}\\{} exists but could not be read ({}); not checked: {needed}.",
                        location.name, record.path, record.reason
                    ),
                    ..FindingDraft::new(CheckCode::A05, &site, &location.name, &record.path)
                }
                .into_finding(),
            );
        }
    }
}
