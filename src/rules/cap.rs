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

/// N04: a CAP that lacks some of its inbox folders (reference 2.1). A share
/// without any writable box, or without any read-only box, is taken for a
/// partial copy and not judged; a folder that exists but could not be read
/// is not missing (`folder_absent`).
pub(crate) fn check_inbox_folders(view: &EstateView, out: &mut Vec<Finding>) {
    use crate::sms::layout::{CAP_READ_ONLY_BOXES, CAP_WRITABLE_BOXES};
    for cap in view.locations(LocationKind::Cap) {
        let present = |boxes: &[&str]| boxes.iter().any(|b| !view.folder_absent(&cap.name, b));
        if !present(CAP_READ_ONLY_BOXES) || !present(CAP_WRITABLE_BOXES) {
            continue;
        }
        let missing: Vec<&str> = CAP_READ_ONLY_BOXES
            .iter()
            .chain(CAP_WRITABLE_BOXES)
            .copied()
            .filter(|b| view.folder_absent(&cap.name, b))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let site = cap.sites.first().cloned().unwrap_or_default();
        out.push(
            FindingDraft {
                observed: format!("missing {}", missing.join(", ")),
                expected: "all ten CAP folders of Q252856".into(),
                message: format!(
                    "CAP {} lacks {} of its inbox folders ({}). Inbox Manager recreates missing inbox folders every hour (Q200830): if they are still missing an hour later, the CAP role was removed incompletely and re-added (Q257262), and clients cannot use the missing boxes.",
                    cap.name,
                    missing.len(),
                    missing.join(", ")
                ),
                ..FindingDraft::new(CheckCode::N04, &site, &cap.name, missing[0])
            }
            .into_finding(),
        );
    }
}
