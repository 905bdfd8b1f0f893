//! CAP inbox hygiene: left-over Inbox Manager lock tokens (F12, F13) and
//! advertisement instructions naming missing offers (F14).

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{Artifact, CheckCode, Finding, LocationKind};

/// Where an `Inboxlck.tok` points at which failure mode (reference 2.4).
const LOCK_TOKENS: &[(&str, CheckCode)] = &[("offerinf.box\\", CheckCode::F12), ("clicomp.box\\", CheckCode::F13)];

/// F12 / F13: `Inboxlck.tok` left in a CAP inbox.
pub(crate) fn check_lock_tokens(view: &EstateView, out: &mut Vec<Finding>) {
    for cap in view.locations(LocationKind::Cap) {
        let site = cap.sites.first().cloned().unwrap_or_default();
        for (path, record) in view.files(&cap.name) {
            if !path.ends_with("inboxlck.tok") {
                continue;
            }
            let Some((_, code)) = LOCK_TOKENS.iter().find(|(prefix, _)| path.starts_with(prefix)) else {
                continue;
            };
            out.push(
                FindingDraft {
                    code: *code,
                    severity: None,
                    site: &site,
                    location: &cap.name,
                    path: &record.path,
                    observed: format!("{} ({})", record.path, record.modified.as_deref().unwrap_or("no date")),
                    expected: "no lock token while Inbox Manager is idle".into(),
                    message: format!(
                        "Inbox Manager's lock token {} is on {}; if it stays, offer processing or component upgrades stall. Re-check after Inbox Manager's cycle.",
                        record.path, cap.name
                    ),
                    marks: Vec::new(),
                }
                .into_finding(),
            );
        }
    }
}

/// F14: an `.ins` names an `.ofr` that is missing or empty in the box.
pub(crate) fn check_offer_references(view: &EstateView, out: &mut Vec<Finding>) {
    for cap in view.locations(LocationKind::Cap) {
        let site = cap.sites.first().cloned().unwrap_or_default();
        for stamp in view
            .stamps(&cap.name)
            .iter()
            .filter(|s| s.artifact == Artifact::OfferRef)
        {
            let target = format!("offerinf.box\\{}", stamp.value);
            let observed = match view.file(&cap.name, &target) {
                None if view.estate.files.iter().any(|f| {
                    f.location == cap.name && f.path.eq_ignore_ascii_case(&format!("Offerinf.box\\{}", stamp.value))
                }) =>
                {
                    "unreadable".to_string()
                }
                None => "missing".to_string(),
                Some(r) if r.size == Some(0) => "zero bytes".to_string(),
                Some(_) => continue,
            };
            out.push(
                FindingDraft {
                    code: CheckCode::F14,
                    severity: None,
                    site: &site,
                    location: &cap.name,
                    path: &stamp.path,
                    observed: format!("{} {observed}", stamp.value),
                    expected: format!("Offerinf.box\\{} present and not empty", stamp.value),
                    message: format!(
                        "{} lists offer {} which is {observed} on {}; clients raise status message 10000 and run no advertisements.",
                        stamp.path, stamp.value, cap.name
                    ),
                    marks: Vec::new(),
                }
                .into_finding(),
            );
        }
    }
}
