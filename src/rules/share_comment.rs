//! The SMSLOGON share's comment (N16, Q235173): SMS names it "SMS NT logon
//! service", and a share recreated by hand must carry it exactly. Only a
//! share read over SMB has a comment to read; one the server's share list
//! could not give is an A06 note, never a finding and never fine.

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{CheckCode, Finding, LocationKind, ShareComment, Status};
use crate::sms::layout::LOGON_SHARE_COMMENT;

/// N16, and A06 for a comment that could not be read.
pub(crate) fn check_logon_share_comment(view: &EstateView, out: &mut Vec<Finding>) {
    for lp in view.all_locations() {
        if lp.kind != LocationKind::LogonPoint {
            continue;
        }
        let site = match lp.status {
            Status::Ok => view.participants(lp),
            _ => lp.sites.clone(),
        }
        .join(" ");
        let expected = format!("the share comment \"{LOGON_SHARE_COMMENT}\"");
        match &lp.share_comment {
            ShareComment::Read(comment) if comment != LOGON_SHARE_COMMENT => out.push(
                FindingDraft {
                    observed: format!("share comment \"{comment}\""),
                    expected,
                    message: format!(
                        "{} carries the share comment \"{comment}\", not exactly \"{LOGON_SHARE_COMMENT}\": Q235173 says the SMSLOGON share recreated by hand must carry that comment exactly.",
                        lp.name
                    ),
                    ..FindingDraft::new(CheckCode::N16, &site, &lp.name, "")
                }
                .into_finding(),
            ),
            // A share that could not be read is A01 already.
            ShareComment::Unread(reason) if lp.status == Status::Ok => out.push(
                FindingDraft {
                    observed: format!("share comment not read: {reason}"),
                    expected,
                    message: format!(
                        "The share comment of {} could not be read from its server's share list ({reason}), so whether it is \"{LOGON_SHARE_COMMENT}\" (N16, Q235173) was not judged.",
                        lp.name
                    ),
                    ..FindingDraft::new(CheckCode::A06, &site, &lp.name, "")
                }
                .into_finding(),
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Estate;
    use crate::model::Location;

    fn logon_point(server: &str, status: Status, share_comment: ShareComment) -> Location {
        Location {
            root: format!("smb://{server}/SMSLOGON"),
            status,
            share_comment,
            ..Location::for_test(&format!(r"\\{server}\SMSLOGON"), LocationKind::LogonPoint, &["AB1"])
        }
    }

    /// Only a comment read and not exactly SMS's is N16; one not read is
    /// A06 on a readable share (A01 says the rest); a local share, none.
    #[test]
    fn only_a_comment_read_and_wrong_is_n16() {
        let estate = Estate {
            locations: vec![
                logon_point("RIGHT", Status::Ok, ShareComment::Read(LOGON_SHARE_COMMENT.into())),
                logon_point("CASE", Status::Ok, ShareComment::Read("SMS NT Logon Service".into())),
                logon_point("EMPTY", Status::Ok, ShareComment::Read(String::new())),
                logon_point("DOWN", Status::Unreadable, ShareComment::Read("x".into())),
                logon_point("UNREAD", Status::Ok, ShareComment::Unread("access denied".into())),
                logon_point("GONE", Status::Unreadable, ShareComment::Unread("refused".into())),
                logon_point("LOCAL", Status::Ok, ShareComment::NotApplicable),
            ],
            ..Estate::default()
        };
        let mut out = Vec::new();
        check_logon_share_comment(&EstateView::new(&estate), &mut out);
        let got: Vec<(&str, CheckCode)> = out.iter().map(|f| (f.location.as_str(), f.code)).collect();
        assert_eq!(
            got,
            [
                (r"\\CASE\SMSLOGON", CheckCode::N16),
                (r"\\DOWN\SMSLOGON", CheckCode::N16),
                (r"\\EMPTY\SMSLOGON", CheckCode::N16),
                (r"\\UNREAD\SMSLOGON", CheckCode::A06),
            ]
        );
        assert!(out[3].observed.contains("access denied"));
        assert_eq!(out[0].site, "AB1");
    }
}
