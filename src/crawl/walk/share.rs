//! The share file-system seam of the walk: what the walk and the read ask
//! of a share (open its root, list a folder, open a subfolder or a file
//! relative to its folder, a file's state at the open and at the end of the
//! read), whatever reaches it. [`Local`] is the file system of this machine
//! through [`super::handles`] (fd-relative on Unix, checked paths on
//! Windows); the `smsaudit-smb` helper (feature `smb`) implements it over
//! libsmbclient, whose listings carry each entry's type, size, times and
//! file id, so no entry is stat'ed on its own.
//!
//! The walk and the read are generic over it, not dynamic: the local crawl
//! compiles to the same calls as before the seam.

use super::handles::{self, FileState, Listed};
use crate::model::Ace;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Seek};
use std::path::Path;

/// One name of a folder's listing, with what the listing says of it.
#[derive(Debug)]
pub struct ListedName {
    pub name: OsString,
    /// The listing says a regular file: it can be opened without a stat
    /// of its own (the read checks what it opened).
    pub regular_file: bool,
    /// All the walk needs to know of the entry, when the listing carries
    /// it (an SMB listing does): the entry is then never stat'ed.
    pub listed: Option<Listed>,
}

/// A share as the walk and the read see it. Folders are shared between the
/// threads of a location's pool; a file is read on one thread.
pub trait ShareFs: Sync {
    /// An open folder of the share.
    type Folder: Send + Sync;
    /// An open file: read front to back, and by ranges for PE resources.
    type File: Read + Seek;

    /// Opens the share root `path` (as discovery gave it).
    fn open_root(&self, path: &Path) -> io::Result<(Self::Folder, Listed)>;
    /// The names in a folder, sorted by their bytes, without `.` and `..`.
    fn list(&self, folder: &Self::Folder) -> io::Result<Vec<ListedName>>;
    /// One entry of `folder`, without following it.
    fn stat_entry(&self, folder: &Self::Folder, name: &OsStr) -> io::Result<Listed>;
    /// Opens a listed subfolder, only if it is still the one listed.
    fn open_folder(&self, parent: &Self::Folder, name: &OsStr, listed: &Listed) -> io::Result<Self::Folder>;
    /// Opens a listed regular file for reading, only if it still is one
    /// (and the one listed, when `listed`); returns its state at the open.
    fn open_file(
        &self,
        parent: &Self::Folder,
        name: &OsStr,
        listed: Option<&Listed>,
    ) -> io::Result<(Self::File, Listed)>;
    /// The state of an open file now (after its read); mutable, as asking
    /// may be a request on the file's connection.
    fn file_state(&self, file: &mut Self::File) -> io::Result<FileState>;
    /// Whether the state after the read ([`ShareFs::file_state`]) is
    /// trusted to show a file that grew: then a file is read to its size at
    /// the open and no further, instead of one byte more (on SMB, where
    /// libsmbclient turns that byte into a READ of its own, a request a
    /// file fewer).
    const STATE_SHOWS_GROWTH: bool = false;
    /// Whether a file's state after its read is taken, for a file the
    /// listing described, from one listing of its folder after all the
    /// folder's files are read ([`ShareFs::list`] again, a request a
    /// folder) instead of from its handle ([`ShareFs::file_state`], a
    /// request a file). A file whose size, times or identity then differ
    /// from the first listing's is read again, checked by its handle.
    const STATE_AFTER_FROM_RELISTING: bool = false;

    /// A file of `size` bytes is about to be read front to back.
    fn will_read_whole(&self, _file: &Self::File, _size: u64) {}

    /// The DACL of the folder `relative` (share-relative, `""` the root)
    /// of the share at `root`, in one read; `None` where this file system
    /// gives none (this machine's: a mount shows no NTFS permissions).
    fn folder_dacl(&self, _root: &Path, _relative: &str) -> Option<io::Result<Vec<Ace>>> {
        None
    }
}

/// The file system of this machine (local folders, mounted shares, UNC
/// paths on Windows).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Local;

impl ShareFs for Local {
    type Folder = handles::Folder;
    type File = std::fs::File;

    fn open_root(&self, path: &Path) -> io::Result<(handles::Folder, Listed)> {
        handles::open_root(path)
    }

    fn list(&self, folder: &handles::Folder) -> io::Result<Vec<ListedName>> {
        Ok(handles::list(folder)?
            .into_iter()
            .map(|named| ListedName {
                name: named.name,
                regular_file: named.regular_file,
                listed: None,
            })
            .collect())
    }

    fn stat_entry(&self, folder: &handles::Folder, name: &OsStr) -> io::Result<Listed> {
        handles::stat_entry(folder, name)
    }

    fn open_folder(&self, parent: &handles::Folder, name: &OsStr, listed: &Listed) -> io::Result<handles::Folder> {
        handles::open_folder(parent, name, listed)
    }

    fn open_file(
        &self,
        parent: &handles::Folder,
        name: &OsStr,
        listed: Option<&Listed>,
    ) -> io::Result<(std::fs::File, Listed)> {
        handles::open_file(parent, name, listed)
    }

    fn file_state(&self, file: &mut std::fs::File) -> io::Result<FileState> {
        handles::file_state(file)
    }

    fn will_read_whole(&self, file: &std::fs::File, size: u64) {
        if size >= super::super::read::SEQUENTIAL_HINT {
            super::super::read::advise_sequential(file);
        }
    }
}
