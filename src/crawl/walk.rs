//! The walk of one share: every entry below its root, with rows for what is
//! not read (links, special files, mount points, errors). Folders and files
//! are opened relative to handles ([`handles`]), never by re-resolving a
//! path, so nothing outside the share is ever listed as part of it or read.
//!
//! The walk runs on the location's own thread pool: each folder listing is
//! split into small runs of names, and each run is a task that stats its
//! entries, reads its files and lists its subfolders (which spawn their own
//! tasks). So on a slow link the round trips of many listings, stats and
//! opens are in flight at once, at most one per thread of the pool. What it
//! finds goes to [`Found`] as it is found, in no particular order: the
//! output is sorted downstream, and nothing the walk decides depends on
//! timing (names that differ only in case are found within one listing).

pub(crate) mod handles;
pub(crate) mod share;

use super::location::{Activity, Throttle};
use crate::config::Exclusions;
use crate::model::{FileKind, FileRecord, Location, Status};
use crate::names::{self, Escapes};
use crate::sms::layout;
use handles::{EntryType, Identity, Listed};
use share::{ListedName, ShareFs};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The reason on the row of a folder that is the root of another mount.
const MOUNT_POINT_REASON: &str = "mount point (another file system), not walked";

/// The reason on the row of a file mounted over one of the share's.
pub(super) const FILE_MOUNT_POINT_REASON: &str = "mount point (a file mounted from another file system), not read";

/// The most names of one listing one task takes: a huge folder becomes
/// many tasks (so its entries are stat'ed and read concurrently), never one
/// task per name (so a million names do not become a million tasks).
const MAX_NAMES_PER_TASK: usize = 64;

/// A regular file found by the walk, before it is read: the read opens it
/// from `parent`, the folder handle the walk listed it in.
pub(crate) struct Entry<S: ShareFs> {
    pub(super) parent: Arc<S::Folder>,
    pub(super) name: OsString,
    pub(super) relative: String,
    /// Its stat by name, unless the listing's type said a regular file
    /// and the read checks the opened handle instead.
    pub(super) listed: Option<Listed>,
    /// The share root's identity, to tell a file mounted from elsewhere.
    pub(super) root: Identity,
    pub(super) kind: FileKind,
    /// What its path had to escape, for the row's reason.
    pub(super) escapes: Escapes,
}

/// What the walk hands on, from any thread of the location's pool.
pub(super) trait Found<S: ShareFs>: Sync {
    /// A regular file to read (on the calling thread: it is a task of the
    /// pool already).
    fn file(&self, entry: Entry<S>);
    /// A row for what is not read (links, special files, errors).
    fn row(&self, record: FileRecord);
    /// A folder listed, share-relative: an empty folder exists too.
    fn folder(&self, relative: String);
    /// Entries of one listing whose names differ only in case: their shared
    /// lower-case path and every spelling, sorted.
    fn case_twins(&self, lower: String, paths: Vec<String>);
    /// Whether nobody wants the rest any more (the location was given up
    /// on): the walk then stops starting work.
    fn abandoned(&self) -> bool;
    /// Every entry of one listing of `folder` has been handed on (its
    /// files read), subfolders aside; only on a share whose state after a
    /// read comes from the next listing
    /// ([`ShareFs::STATE_AFTER_FROM_RELISTING`]).
    fn listing_done(&self, _folder: &Arc<S::Folder>) {}
}

/// Calls [`Found::listing_done`] when the last run of a listing ends
/// (dropped at the end of each run, however it ends).
struct RunsLeft<'f, S: ShareFs> {
    left: Arc<std::sync::atomic::AtomicUsize>,
    folder: Arc<S::Folder>,
    found: &'f dyn Found<S>,
}

impl<S: ShareFs> Drop for RunsLeft<'_, S> {
    fn drop(&mut self) {
        if self.left.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 && !std::thread::panicking() {
            self.found.listing_done(&self.folder);
        }
    }
}

/// A name of a listing: as the system gives it, and as reports spell it.
struct Name {
    raw: OsString,
    escaped: String,
    escapes: Escapes,
    /// The listing says a regular file.
    regular_file: bool,
    /// What the listing says of it, when it says all (SMB).
    listed: Option<Listed>,
}

/// A listed folder whose entries are still to be visited.
struct Listing<S: ShareFs> {
    folder: Arc<S::Folder>,
    relative: String,
    escapes: Escapes,
    names: Vec<ListedName>,
}

/// What every task of one location's walk shares.
struct Walker<'a, S: ShareFs> {
    fs: &'a S,
    location: &'a Location,
    activity: &'a Activity,
    exclude: &'a Exclusions,
    /// The share root's identity: an entry on another file system is a
    /// mount point, never crossed.
    root: Identity,
    /// Threads of the pool, to size the tasks.
    threads: usize,
    /// How many of them may work at once.
    throttle: &'a Throttle,
    found: &'a dyn Found<S>,
}

/// Walks one location on `pool`, at most as many entries at once as the
/// throttle lets, handing each regular file, row, folder
/// and pair of case twins to `found` as it is found. Returns once every
/// entry is handed on, or why the share root itself could not be opened or
/// listed (then nothing of the share was checked or handed on).
#[allow(clippy::too_many_arguments)]
pub(super) fn walk_location<S: ShareFs>(
    fs: &S,
    location: &Location,
    path: &Path,
    exclude: &Exclusions,
    activity: &Activity,
    pool: &rayon::ThreadPool,
    throttle: &Throttle,
    found: &dyn Found<S>,
) -> Result<(), String> {
    raise_open_file_limit();
    let touch = &|| activity.touch();
    activity.touch();
    let (root, root_listed) =
        retry_transient(touch, || fs.open_root(path)).map_err(|err| format!("cannot open the share: {err}"))?;
    let names = retry_transient(touch, || fs.list(&root)).map_err(|err| format!("cannot list the share: {err}"))?;
    let walker = Walker {
        fs,
        location,
        activity,
        exclude,
        root: root_listed.identity,
        threads: pool.current_num_threads(),
        throttle,
        found,
    };
    let listing = Listing {
        folder: Arc::new(root),
        relative: String::new(),
        escapes: Escapes::default(),
        names,
    };
    pool.in_place_scope(|scope| walker.visit(scope, listing));
    Ok(())
}

impl<'a, S: ShareFs> Walker<'a, S> {
    /// Reports the case twins of a listing and spawns tasks for its names.
    fn visit<'s>(&'s self, scope: &rayon::Scope<'s>, listing: Listing<S>)
    where
        'a: 's,
    {
        let Listing {
            folder,
            relative,
            escapes,
            names,
        } = listing;
        let names: Vec<Name> = names
            .into_iter()
            .map(
                |ListedName {
                     name: raw,
                     regular_file,
                     listed,
                 }| {
                    let (escaped, escapes) = names::escape_name(&raw);
                    Name {
                        raw,
                        escaped,
                        escapes,
                        regular_file,
                        listed,
                    }
                },
            )
            .collect();
        self.report_case_twins(&relative, &names);
        // Runs small enough that every thread gets some of a folder of a
        // hundred files, large enough that huge folders stay few tasks.
        let per_task = names
            .len()
            .div_ceil(4 * self.threads.max(1))
            .clamp(1, MAX_NAMES_PER_TASK);
        // Where a listing after the reads is their check, the last run of
        // the listing says when the folder's files are all read.
        let runs_left = S::STATE_AFTER_FROM_RELISTING
            .then(|| Arc::new(std::sync::atomic::AtomicUsize::new(names.len().div_ceil(per_task))));
        let mut names = names.into_iter().peekable();
        while names.peek().is_some() {
            let run: Vec<Name> = names.by_ref().take(per_task).collect();
            let (folder, relative) = (folder.clone(), relative.clone());
            let runs_left = runs_left.clone().map(|left| RunsLeft {
                left,
                folder: folder.clone(),
                found: self.found,
            });
            scope.spawn(move |scope| {
                let _runs_left = runs_left;
                // One turn for the whole run: a turn per name woke a waiting
                // thread per file (a futex call and a context switch), only
                // for it to wait again while this thread took the next turn.
                let _turn = self.throttle.permit();
                for name in run {
                    if self.found.abandoned() {
                        return;
                    }
                    self.entry(scope, &folder, &relative, escapes, name);
                }
            });
        }
    }

    /// Names of one listing that differ only in case (ASCII, as the
    /// reports compare paths): Windows serves one of them.
    fn report_case_twins(&self, relative: &str, names: &[Name]) {
        if names.len() < 2 {
            return;
        }
        // Most listings have no twins: a hash of each name in lower case
        // finds the candidates without a string for every name; only a
        // listing with two alike looks further.
        let mut hashes: Vec<u64> = names.iter().map(|name| names::lower_case_hash(&name.escaped)).collect();
        hashes.sort_unstable();
        if !hashes.windows(2).any(|pair| pair[0] == pair[1]) {
            return;
        }
        let mut spellings: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for name in names {
            spellings
                .entry(name.escaped.to_ascii_lowercase())
                .or_default()
                .push(&name.escaped);
        }
        for (lower, mut twins) in spellings.into_iter().filter(|(_, twins)| twins.len() > 1) {
            twins.sort_unstable();
            self.found.case_twins(
                names::join_relative(relative, &lower).to_ascii_lowercase(),
                twins.iter().map(|name| names::join_relative(relative, name)).collect(),
            );
        }
    }

    /// Stats one entry of `folder` and hands it on: a file to read, a
    /// folder to list, or a row for what is not read.
    fn entry<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        folder: &Arc<S::Folder>,
        parent: &str,
        escapes: Escapes,
        name: Name,
    ) where
        'a: 's,
    {
        self.activity.touch();
        let touch = &|| self.activity.touch();
        let relative = names::join_relative(parent, &name.escaped);
        let escapes = escapes.with(name.escapes);
        let location = self.location;
        let row = |relative: String, kind, status, reason: &str| {
            FileRecord::not_read(&location.name, relative, kind, status, with_note(reason, escapes))
        };
        // A name the listing calls a regular file is not stat'ed: the read
        // opens it and checks what it opened (a round trip less on a share).
        // A listing that says all of an entry (SMB) is never stat'ed.
        let listed = match (name.listed, name.regular_file) {
            (Some(listed), _) => Some(listed),
            (None, true) => None,
            (None, false) => match retry_transient(touch, || self.fs.stat_entry(folder, &name.raw)) {
                Ok(listed) => Some(listed),
                Err(err) => {
                    let kind = layout::file_kind(location.kind, &relative);
                    let reason = format!("cannot read: {err}");
                    self.found.row(row(relative, kind, Status::Unreadable, &reason));
                    return;
                }
            },
        };
        // An excluded entry is a row, so what it hides is known.
        if self.exclude.matches(&relative) {
            let kind = if listed.is_some_and(|listed| listed.kind == EntryType::Folder) {
                FileKind::Directory
            } else {
                layout::file_kind(location.kind, &relative)
            };
            self.found
                .row(row(relative, kind, Status::Excluded, Status::Excluded.own_reason()));
            return;
        }
        let file = |name: OsString, relative: String, listed: Option<Listed>| Entry::<S> {
            parent: folder.clone(),
            name,
            kind: layout::file_kind(location.kind, &relative),
            relative,
            listed,
            root: self.root,
            escapes,
        };
        let Some(listed) = listed else {
            self.found.file(file(name.raw, relative, None));
            return;
        };
        let mount_point = listed.is_mount_point(&self.root);
        match listed.kind {
            EntryType::Folder => {
                self.found.folder(relative.clone());
                if mount_point {
                    // Its files are not the share's: unread, so not clean.
                    self.found.row(row(
                        relative,
                        FileKind::Directory,
                        Status::Unreadable,
                        MOUNT_POINT_REASON,
                    ));
                    return;
                }
                let opened = retry_transient(touch, || self.fs.open_folder(folder, &name.raw, &listed))
                    .and_then(|sub| Ok((retry_transient(touch, || self.fs.list(&sub))?, sub)));
                match opened {
                    Ok((names, sub)) => self.visit(
                        scope,
                        Listing {
                            folder: Arc::new(sub),
                            relative,
                            escapes,
                            names,
                        },
                    ),
                    Err(err) => {
                        let reason = format!("cannot read: {err}");
                        self.found
                            .row(row(relative, FileKind::Directory, Status::Unreadable, &reason));
                    }
                }
            }
            EntryType::Link => self.found.row(row(
                relative,
                FileKind::Symlink,
                Status::Skipped,
                "symbolic link, not followed",
            )),
            EntryType::File if mount_point => {
                let kind = layout::file_kind(location.kind, &relative);
                self.found
                    .row(row(relative, kind, Status::Unreadable, FILE_MOUNT_POINT_REASON));
            }
            EntryType::File => self.found.file(file(name.raw, relative, Some(listed))),
            EntryType::Special(what) => self.found.row(row(
                relative,
                FileKind::Special,
                Status::Skipped,
                &format!("{what}, not a regular file"),
            )),
        }
    }
}

/// `reason` with the note of what the path escaped, if anything.
pub(super) fn with_note(reason: &str, escapes: Escapes) -> String {
    match (reason.is_empty(), escapes.any()) {
        (_, false) => reason.to_string(),
        (true, true) => escapes.note(),
        (false, true) => format!("{reason}; {}", escapes.note()),
    }
}

/// Runs `op`, retrying a few times with a short backoff while the process
/// or the system is out of file handles: such an error passes, and a
/// share is not to be reported unreadable for it.
pub(super) fn retry_transient<T>(touch: &dyn Fn(), mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    const BACKOFF_MILLIS: [u64; 5] = [10, 40, 160, 640, 1500];
    let mut waits = BACKOFF_MILLIS.iter();
    loop {
        match op() {
            Err(err) if is_out_of_handles(&err) => match waits.next() {
                Some(millis) => {
                    touch();
                    std::thread::sleep(Duration::from_millis(*millis));
                }
                None => return Err(err),
            },
            other => return other,
        }
    }
}

fn is_out_of_handles(err: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(windows)]
    {
        const ERROR_TOO_MANY_OPEN_FILES: i32 = 4;
        err.raw_os_error() == Some(ERROR_TOO_MANY_OPEN_FILES)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = err;
        false
    }
}

/// A read in flight keeps its folder open, so a wide share can hold many
/// folders open at once: the soft limit on open files (often 1024) is
/// raised to the hard one, once per process.
fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            use rustix::process::{getrlimit, setrlimit, Resource};
            let mut limit = getrlimit(Resource::Nofile);
            let target = limit.maximum.unwrap_or(u64::MAX).min(1 << 20);
            if limit.current.is_some_and(|current| current < target) {
                limit.current = Some(target);
                // Only a ceiling: when it cannot be raised, retries cope.
                let _ = setrlimit(Resource::Nofile, limit);
            }
        });
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::model::LocationKind;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// Counts how many entries are being handled at once.
    #[derive(Default)]
    struct Concurrency {
        now: AtomicUsize,
        most: AtomicUsize,
        rows: Mutex<Vec<String>>,
        folders: AtomicUsize,
    }

    impl Concurrency {
        /// Holds the entry a little, as a round trip to a server would.
        fn busy(&self) {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl Found<share::Local> for Concurrency {
        fn file(&self, _: Entry<share::Local>) {
            self.busy();
        }
        fn row(&self, record: FileRecord) {
            self.busy();
            self.rows.lock().unwrap().push(record.path.into());
        }
        fn folder(&self, _: String) {
            self.folders.fetch_add(1, Ordering::SeqCst);
        }
        fn case_twins(&self, _: String, _: Vec<String>) {}
        fn abandoned(&self) -> bool {
            false
        }
    }

    /// The entries of one share, including those of one folder, are
    /// handled by several threads at once, no more than its throttle lets,
    /// and every one exactly once.
    #[test]
    fn entries_of_one_share_are_handled_concurrently_within_the_throttle() {
        let dir = tempfile::tempdir().unwrap();
        for f in 0..4 {
            let folder = dir.path().join(format!("f{f}"));
            std::fs::create_dir(&folder).unwrap();
            for i in 0..16 {
                std::os::unix::fs::symlink("/nowhere", folder.join(format!("link{i}"))).unwrap();
            }
        }
        let location = Location::for_test(r"\\S\CAP_AB1", LocationKind::Cap, &[]);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(6).build().unwrap();
        let exclude = Exclusions::default();
        for (allowed, most) in [(4, 2..=4), (1, 1..=1)] {
            let found = Concurrency::default();
            let throttle = Throttle::new(allowed);
            walk_location(
                &share::Local,
                &location,
                dir.path(),
                &exclude,
                &Activity::new(),
                &pool,
                &throttle,
                &found,
            )
            .unwrap();
            let mut rows = found.rows.into_inner().unwrap();
            rows.sort();
            assert_eq!(rows.len(), 64);
            assert_eq!(found.folders.load(Ordering::SeqCst), 4);
            let seen = found.most.load(Ordering::SeqCst);
            assert!(most.contains(&seen), "{seen} at once, {allowed} allowed");
        }
    }

    /// Files seen, and nothing else.
    #[derive(Default)]
    struct CountFiles(AtomicUsize);

    impl Found<share::Local> for CountFiles {
        fn file(&self, _: Entry<share::Local>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn row(&self, _: FileRecord) {}
        fn folder(&self, _: String) {}
        fn case_twins(&self, _: String, _: Vec<String>) {}
        fn abandoned(&self) -> bool {
            false
        }
    }

    /// A run of names is one turn of the throttle, not one turn per name:
    /// each turn that ends wakes a waiting thread.
    #[test]
    fn a_run_of_names_takes_one_turn() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..256 {
            std::fs::write(dir.path().join(format!("f{i:03}")), "x").unwrap();
        }
        let location = Location::for_test(r"\\S\CAP_AB1", LocationKind::Cap, &[]);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let throttle = Throttle::new(1);
        let found = CountFiles::default();
        walk_location(
            &share::Local,
            &location,
            dir.path(),
            &Exclusions::default(),
            &Activity::new(),
            &pool,
            &throttle,
            &found,
        )
        .unwrap();
        assert_eq!(found.0.load(Ordering::SeqCst), 256);
        // 256 names, 4 threads: runs of 256 / (4 x 4) = 16 names.
        assert_eq!(throttle.turns_given(), 16);
    }
}
