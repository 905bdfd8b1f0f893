//! The NTFS permissions Inbox Manager gives a CAP's folders, by release
//! (reference 2.1, Q252856), and the Windows access rights they are made
//! of: what check F32 compares a folder's DACL with. Only the entries for
//! Users, Guests and Everyone are judged, and only for rights that matter:
//! delete in a writable box from SP1 on (the RTM "Change" that lets any
//! client delete another's files), write in a read-only box, write on the
//! CAP folder itself from SP1 on.

use super::release::Release;

/// The well-known SIDs of the principals clients are: BUILTIN\Users,
/// BUILTIN\Guests and Everyone, with the names messages give them.
pub(crate) const USERS: &str = "S-1-5-32-545";
pub(crate) const GUESTS: &str = "S-1-5-32-546";
pub(crate) const EVERYONE: &str = "S-1-1-0";
pub(crate) const CLIENT_PRINCIPALS: [(&str, &str); 3] = [(USERS, "Users"), (GUESTS, "Guests"), (EVERYONE, "Everyone")];

/// Access rights of a folder (winnt.h): add a file, add a subfolder,
/// delete a child whatever its own permissions, delete the folder, change
/// its permissions, take its ownership.
pub(crate) const FILE_ADD_FILE: u32 = 0x0000_0002;
pub(crate) const FILE_ADD_SUBDIRECTORY: u32 = 0x0000_0004;
pub(crate) const FILE_DELETE_CHILD: u32 = 0x0000_0040;
pub(crate) const DELETE: u32 = 0x0001_0000;
pub(crate) const WRITE_DAC: u32 = 0x0004_0000;
pub(crate) const WRITE_OWNER: u32 = 0x0008_0000;

/// What the generic rights of an entry mean on a file or folder
/// (FILE_GENERIC_READ, _WRITE, _EXECUTE, FILE_ALL_ACCESS).
const GENERIC_MAPPING: [(u32, u32); 4] = [
    (0x8000_0000, 0x0012_0089), // GENERIC_READ
    (0x4000_0000, 0x0012_0116), // GENERIC_WRITE
    (0x2000_0000, 0x0012_00a0), // GENERIC_EXECUTE
    (0x1000_0000, 0x001f_01ff), // GENERIC_ALL
];

/// Rights that delete what is in a folder or the folder itself.
pub(crate) const DELETE_RIGHTS: u32 = DELETE | FILE_DELETE_CHILD;
/// Rights that change a folder or what is in it (write attributes and
/// extended attributes aside: they change no file).
pub(crate) const WRITE_RIGHTS: u32 = FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | DELETE_RIGHTS | WRITE_DAC | WRITE_OWNER;

const ACCESS_ALLOWED: u8 = 0;
const ACCESS_DENIED: u8 = 1;
const INHERIT_ONLY: u8 = 0x08;

/// `mask` with its generic rights replaced by the specific rights they
/// stand for on a file or folder.
pub(crate) fn specific_rights(mask: u32) -> u32 {
    GENERIC_MAPPING.iter().fold(mask, |rights, &(generic, specific)| {
        if mask & generic != 0 {
            (rights & !generic) | specific
        } else {
            rights
        }
    })
}

/// The rights `principal` gets on the folder itself from the entries that
/// name it or Everyone (every principal is in Everyone): what they allow,
/// less what they deny. Entries that only pass on to children (inherit
/// only) do not apply to the folder; other entry types (audit, object
/// entries) grant nothing. Entries are `(sid, type, flags, mask)`.
pub(crate) fn rights_of<'a>(entries: impl Iterator<Item = (&'a str, u8, u8, u32)>, principal: &str) -> u32 {
    let (mut allowed, mut denied) = (0u32, 0u32);
    for (sid, ace_type, flags, mask) in entries {
        if flags & INHERIT_ONLY != 0 || !(sid == principal || sid == EVERYONE) {
            continue;
        }
        match ace_type {
            ACCESS_ALLOWED => allowed |= specific_rights(mask),
            ACCESS_DENIED => denied |= specific_rights(mask),
            _ => {}
        }
    }
    allowed & !denied
}

/// The judged rights in `rights`, in words: `delete, add file`.
pub(crate) fn rights_text(rights: u32) -> String {
    const NAMES: [(u32, &str); 6] = [
        (DELETE, "delete"),
        (FILE_DELETE_CHILD, "delete child"),
        (FILE_ADD_FILE, "add file"),
        (FILE_ADD_SUBDIRECTORY, "add subfolder"),
        (WRITE_DAC, "change permissions"),
        (WRITE_OWNER, "take ownership"),
    ];
    NAMES
        .iter()
        .filter(|(right, _)| rights & right != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A folder of a CAP as Q252856 groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapFolder {
    /// The `CAP_<site>` folder itself.
    Root,
    /// Clicomp, Clidata, Clifiles, Offerinf, Pkginfo: written by Inbox
    /// Manager, read by clients.
    ReadOnlyBox,
    /// Ccr, Ddr, Inventry, Sinv, Statmsgs: clients drop files there.
    WritableBox,
}

impl CapFolder {
    /// The group of a share-relative folder (`""` the root), any case.
    pub(crate) fn of(folder: &str) -> Option<CapFolder> {
        let lower = folder.to_ascii_lowercase();
        if lower.is_empty() {
            Some(CapFolder::Root)
        } else if super::layout::CAP_READ_ONLY_BOXES.contains(&lower.as_str()) {
            Some(CapFolder::ReadOnlyBox)
        } else if super::layout::CAP_WRITABLE_BOXES.contains(&lower.as_str()) {
            Some(CapFolder::WritableBox)
        } else {
            None
        }
    }

    /// The rights Users, Guests and Everyone must not have on this folder
    /// at a site of `release`, and what Q252856 says they are given; no
    /// rights (0) when nothing is judged: at RTM the CAP folder and the
    /// writable boxes give them Change. SP4 and later are taken to set what
    /// SP2 and SP3 set [I]: the article stops at SP3.
    pub(crate) fn judged(self, release: Release) -> (u32, &'static str) {
        let rtm = release.build < 1380;
        let sp2_or_later = release.is_sp2_or_later();
        match self {
            CapFolder::Root if rtm => (0, "Users and Guests Change, as the RTM share gives them"),
            CapFolder::Root if sp2_or_later => (WRITE_RIGHTS, "Users and Guests Read & Execute, no write"),
            CapFolder::Root => (WRITE_RIGHTS, "Users and Guests Read, no write"),
            CapFolder::ReadOnlyBox if sp2_or_later => (WRITE_RIGHTS, "Users and Guests Read & Execute, no write"),
            CapFolder::ReadOnlyBox => (WRITE_RIGHTS, "Users and Guests Read, no write"),
            CapFolder::WritableBox if rtm => (0, "Users and Guests Change"),
            CapFolder::WritableBox => (
                DELETE_RIGHTS,
                "Users and Guests Special Access (Read, Write, Execute), no delete",
            ),
        }
    }
}

/// The masks Windows NT shows as Read & Execute, Change, Full Control and
/// SP1's Special Access (RWX), as smbcacls writes them: the tests' DACLs.
#[cfg(test)]
pub(crate) mod masks {
    pub(crate) const READ_EXECUTE: u32 = 0x0012_00a9;
    pub(crate) const CHANGE: u32 = 0x0013_01bf;
    pub(crate) const FULL: u32 = 0x001f_01ff;
    pub(crate) const SPECIAL_RWX: u32 = 0x0012_01bf;
}

#[cfg(test)]
mod tests {
    use super::masks::{CHANGE, FULL, READ_EXECUTE, SPECIAL_RWX};
    use super::*;

    fn rights(entries: &[(&'static str, u8, u8, u32)], principal: &str) -> u32 {
        rights_of(entries.iter().copied(), principal)
    }

    /// Q252856's settings: Change and Full Control delete, Special Access
    /// (RWX) and Read do not; Read does not write.
    #[test]
    fn the_article_s_settings_map_to_rights() {
        assert_ne!(CHANGE & DELETE_RIGHTS, 0);
        assert_ne!(FULL & DELETE_RIGHTS, 0);
        assert_eq!(SPECIAL_RWX & DELETE_RIGHTS, 0);
        assert_ne!(SPECIAL_RWX & WRITE_RIGHTS, 0);
        assert_eq!(READ_EXECUTE & WRITE_RIGHTS, 0);
        assert_eq!(rights_text(CHANGE & WRITE_RIGHTS), "delete, add file, add subfolder");
        assert_eq!(
            rights_text(FULL & WRITE_RIGHTS),
            "delete, delete child, add file, add subfolder, change permissions, take ownership"
        );
    }

    /// Generic rights count as the rights they stand for; others stay.
    #[test]
    fn generic_rights_are_mapped() {
        assert_eq!(specific_rights(0x1000_0000), FULL);
        assert_eq!(specific_rights(0xa000_0000), READ_EXECUTE);
        assert_eq!(specific_rights(0x4000_0000 | DELETE), 0x0013_0116);
        assert_eq!(specific_rights(CHANGE), CHANGE);
    }

    /// A principal gets what its own entries and Everyone's allow, less
    /// what they deny; inherit-only entries, other principals and audit
    /// entries give nothing on the folder itself.
    #[test]
    fn rights_come_from_the_principal_and_everyone() {
        let entries = [
            (USERS, 0, 0, SPECIAL_RWX),
            (EVERYONE, 0, 0, 0x0000_0040),
            (GUESTS, 1, 0, DELETE),
            (GUESTS, 0, 0x0b, FULL),        // inherit only: for children
            ("S-1-5-32-544", 0, 0, FULL),   // Administrators
            ("S-1-5-18", 0, 0x10, FULL),    // SYSTEM, inherited
            (USERS, 2, 0, FULL),            // an audit entry
            (GUESTS, 0, 0x10, 0x1000_0000), // inherited GENERIC_ALL
        ];
        assert_eq!(rights(&entries, USERS), SPECIAL_RWX | FILE_DELETE_CHILD);
        assert_eq!(rights(&entries, GUESTS), FULL & !DELETE);
        assert_eq!(rights(&entries, EVERYONE), FILE_DELETE_CHILD);
        // Everyone denied delete child denies it to Users too.
        let denied = [(USERS, 0, 0, FULL), (EVERYONE, 1, 0, FILE_DELETE_CHILD | DELETE)];
        assert_eq!(rights(&denied, USERS) & DELETE_RIGHTS, 0);
    }

    /// What is judged at each release: nothing on the root and writable
    /// boxes at RTM, delete in writable boxes and write on the root from
    /// SP1, write in read-only boxes at every release.
    #[test]
    fn what_each_release_judges() {
        let rtm = Release { build: 1239, sp: 0 };
        let sp1 = Release { build: 1380, sp: 1 };
        let sp2 = Release { build: 1493, sp: 2 };
        assert_eq!(CapFolder::Root.judged(rtm).0, 0);
        assert_eq!(CapFolder::WritableBox.judged(rtm).0, 0);
        assert_eq!(CapFolder::ReadOnlyBox.judged(rtm).0, WRITE_RIGHTS);
        for release in [sp1, sp2] {
            assert_eq!(CapFolder::Root.judged(release).0, WRITE_RIGHTS);
            assert_eq!(CapFolder::WritableBox.judged(release).0, DELETE_RIGHTS);
            assert_eq!(CapFolder::ReadOnlyBox.judged(release).0, WRITE_RIGHTS);
        }
        // A correctly set up SP2 CAP is clean; RTM's Change on a writable
        // box is not at SP2.
        assert_eq!(SPECIAL_RWX & CapFolder::WritableBox.judged(sp2).0, 0);
        assert_ne!(CHANGE & CapFolder::WritableBox.judged(sp2).0, 0);
        assert_eq!(READ_EXECUTE & CapFolder::Root.judged(sp2).0, 0);
        assert_eq!(CapFolder::of("CCR.BOX"), Some(CapFolder::WritableBox));
        assert_eq!(CapFolder::of("Clicomp.box"), Some(CapFolder::ReadOnlyBox));
        assert_eq!(CapFolder::of(""), Some(CapFolder::Root));
        assert_eq!(CapFolder::of("other"), None);
    }
}
