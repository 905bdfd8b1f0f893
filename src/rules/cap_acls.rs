//! The NTFS permissions of a CAP's folders (F32, Q252856), where they were
//! read (a CAP read over SMB): a folder that gives Users, Guests or
//! Everyone a right its site's release does not give them
//! ([`CapFolder::judged`]). A descriptor that could not be read, or a site
//! whose release is unknown, is an A06 note: F32 not judged, never fine.

use super::FindingDraft;
use crate::estate::EstateView;
use crate::model::{CheckCode, Dacl, Finding, FolderAcls, LocationKind, Status};
use crate::sms::permissions::{rights_of, rights_text, CapFolder, CLIENT_PRINCIPALS};

/// F32 per folder that gives clients too much, A06 per CAP for what could
/// not be judged.
pub(crate) fn check_cap_folder_acls(view: &EstateView, out: &mut Vec<Finding>) {
    for cap in view.all_locations() {
        if cap.kind != LocationKind::Cap || cap.status != Status::Ok {
            continue;
        }
        let FolderAcls::Folders(folders) = &cap.folder_acls else {
            continue;
        };
        let site = cap.sites.join(" ");
        let release = cap.sites.first().and_then(|site| view.site_release(site));
        // Folders not read for one reason (a refused IPC$ connection
        // fails them all) are named together.
        let mut unread: Vec<(&str, Vec<&str>)> = Vec::new();
        for f in folders {
            let Dacl::Unread(reason) = &f.dacl else { continue };
            match unread.iter_mut().find(|(r, _)| r == reason) {
                Some((_, names)) => names.push(f.shown_name()),
                None => unread.push((reason, vec![f.shown_name()])),
            }
        }
        let mut not_judged: Vec<String> = unread
            .iter()
            .map(|(reason, names)| format!("{}: {reason}", names.join(", ")))
            .collect();
        let Some(release) = release else {
            if folders.iter().any(|f| matches!(f.dacl, Dacl::Read(_))) {
                not_judged.push(format!(
                    "the release of site {site} is unknown (no SMS base compver.ini)"
                ));
            }
            note_not_judged(cap, &site, &not_judged, out);
            continue;
        };
        note_not_judged(cap, &site, &not_judged, out);
        for folder in folders {
            let (Dacl::Read(aces), Some(role)) = (&folder.dacl, CapFolder::of(&folder.folder)) else {
                continue;
            };
            let (forbidden, given) = role.judged(release);
            let entries = || aces.iter().map(|a| (a.sid.as_str(), a.ace_type, a.flags, a.mask));
            let too_much: Vec<String> = CLIENT_PRINCIPALS
                .iter()
                .filter_map(|(sid, name)| {
                    let rights = rights_of(entries(), sid);
                    (rights & forbidden != 0)
                        .then(|| format!("{name} 0x{rights:08x} ({})", rights_text(rights & forbidden)))
                })
                .collect();
            if too_much.is_empty() {
                continue;
            }
            let observed = too_much.join("; ");
            let expected = format!("{release}: {given} (Q252856)");
            let message = format!(
                "{} of {} gives {observed}: at {release} Inbox Manager gives {given} (Q252856). Permissions set for an earlier release stay: an upgrade does not reset them.",
                match folder.folder.as_str() {
                    "" => "The CAP folder".to_string(),
                    name => format!("Folder {name}"),
                },
                cap.name
            );
            out.push(
                FindingDraft {
                    observed,
                    expected,
                    message,
                    ..FindingDraft::new(CheckCode::F32, &site, &cap.name, &folder.folder)
                }
                .into_finding(),
            );
        }
    }
}

/// One A06 note for the folders of `cap` whose permissions were not judged.
fn note_not_judged(cap: &crate::model::Location, site: &str, why: &[String], out: &mut Vec<Finding>) {
    if why.is_empty() {
        return;
    }
    let why = why.join("; ");
    out.push(
        FindingDraft {
            observed: format!("folder permissions not judged: {why}"),
            expected: "the DACLs of the CAP folder and its boxes, and the site's release".into(),
            message: format!(
                "The NTFS permissions of {} were not judged for what follows, so whether they match the site's release (F32, Q252856) is not known: {why}.",
                cap.name
            ),
            ..FindingDraft::new(CheckCode::A06, site, &cap.name, "")
        }
        .into_finding(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Estate;
    use crate::model::{Ace, FolderAcl, Location, Stamp};
    use crate::sms::permissions::masks::{CHANGE, FULL, READ_EXECUTE, SPECIAL_RWX};
    use crate::sms::permissions::{EVERYONE, GUESTS, USERS};

    fn allowed(sid: &str, flags: u8, mask: u32) -> Ace {
        Ace {
            sid: sid.into(),
            ace_type: 0,
            flags,
            mask,
        }
    }

    /// A CAP of site AB1 at `base` (a base compver) whose folders carry
    /// `folders`, read over SMB.
    fn estate(base: &str, folders: Vec<FolderAcl>) -> Estate {
        let name = r"\\S\CAP_AB1";
        Estate {
            locations: vec![Location {
                folder_acls: FolderAcls::Folders(folders),
                ..Location::for_test(name, LocationKind::Cap, &["AB1"])
            }],
            stamps: vec![Stamp::base_compver(name, "AB1", base)],
            ..Default::default()
        }
    }

    fn folder(name: &str, aces: Vec<Ace>) -> FolderAcl {
        FolderAcl {
            folder: name.into(),
            dacl: Dacl::Read(aces),
        }
    }

    fn findings(estate: &Estate) -> Vec<(CheckCode, String, String)> {
        let mut out = Vec::new();
        check_cap_folder_acls(&EstateView::new(estate), &mut out);
        out.into_iter().map(|f| (f.code, f.path, f.observed)).collect()
    }

    /// An SP2 CAP set up as Q252856 says, with the entries a real one also
    /// carries (Administrators, SYSTEM, an inherited Creator Owner, the SMS
    /// service account with Full Control), is clean.
    fn sp2_folders() -> Vec<FolderAcl> {
        let extras = || {
            vec![
                allowed("S-1-5-32-544", 0, FULL),
                allowed("S-1-5-18", 0x10, FULL),
                allowed("S-1-3-0", 0x1b, FULL),
                allowed("S-1-5-21-1-2-3-1001", 0, FULL),
            ]
        };
        let with = |name: &str, mask: u32| {
            let mut aces = extras();
            aces.extend([allowed(USERS, 0, mask), allowed(GUESTS, 0, mask)]);
            folder(name, aces)
        };
        vec![
            with("", READ_EXECUTE),
            with("Ccr.box", SPECIAL_RWX),
            with("Clicomp.box", READ_EXECUTE),
            with("ddr.box", SPECIAL_RWX),
        ]
    }

    #[test]
    fn a_cap_set_up_for_its_release_is_clean() {
        assert_eq!(findings(&estate("2.00.1493.2000", sp2_folders())), []);
    }

    /// RTM's Change (it deletes) left on an SP2 CAP's writable box is F32
    /// for that box; a read-only box that Everyone may write is F32 too;
    /// the same RTM settings at an RTM site are not.
    #[test]
    fn rtm_change_at_an_sp2_site_is_f32() {
        let mut folders = sp2_folders();
        folders[1] = folder("Ccr.box", vec![allowed(USERS, 0, CHANGE), allowed(GUESTS, 0, CHANGE)]);
        folders[2] = folder("Clicomp.box", vec![allowed(EVERYONE, 0x10, FULL)]);
        let found = findings(&estate("2.00.1493.2000", folders.clone()));
        assert_eq!(
            found,
            [
                (
                    CheckCode::F32,
                    "Ccr.box".to_string(),
                    "Users 0x001301bf (delete); Guests 0x001301bf (delete)".to_string()
                ),
                (
                    CheckCode::F32,
                    "Clicomp.box".to_string(),
                    "Users 0x001f01ff (delete, delete child, add file, add subfolder, change permissions, take ownership); \
                     Guests 0x001f01ff (delete, delete child, add file, add subfolder, change permissions, take ownership); \
                     Everyone 0x001f01ff (delete, delete child, add file, add subfolder, change permissions, take ownership)"
                        .to_string()
                ),
            ]
        );
        // At RTM, Change in a writable box and on the root is what RTM
        // gives; a writable read-only box is still F32.
        folders[0] = folder("", vec![allowed(USERS, 0, CHANGE)]);
        let at_rtm = findings(&estate("2.00.1239.0000", folders));
        assert_eq!(
            at_rtm.iter().map(|(c, p, _)| (*c, p.as_str())).collect::<Vec<_>>(),
            [(CheckCode::F32, "Clicomp.box")]
        );
    }

    /// A descriptor not read is an A06 note naming it, never F32 and never
    /// clean; a site of unknown release is not judged either; a local CAP
    /// (nothing to read) gives nothing.
    #[test]
    fn what_cannot_be_judged_is_a_note() {
        let mut folders = sp2_folders();
        folders[1].dacl = Dacl::Unread("Permission denied (os error 13)".into());
        folders[2].dacl = Dacl::Unread("No data available (os error 61)".into());
        folders[3].dacl = Dacl::Unread("Permission denied (os error 13)".into());
        let found = findings(&estate("2.00.1493.2000", folders));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, CheckCode::A06);
        assert_eq!(
            found[0].2,
            "folder permissions not judged: Ccr.box, ddr.box: Permission denied (os error 13); \
             Clicomp.box: No data available (os error 61)"
        );
        let unknown = findings(&estate("2.00.0999.2000", sp2_folders()));
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert_eq!(unknown[0].0, CheckCode::A06);
        assert!(unknown[0].2.contains("release of site AB1 is unknown"), "{unknown:?}");
        let mut local = estate("2.00.1493.2000", Vec::new());
        local.locations[0].folder_acls = FolderAcls::NotApplicable;
        assert_eq!(findings(&local), []);
    }
}
