//! One location's crawl, wherever it runs: its activity clock (the stall
//! timer's source), its throttle (how many of its threads work at once),
//! its thread pool, and the batches its entries and folders leave in.

use super::walk::share::ShareFs;
use super::walk::{self, Entry};
use super::{read, Batch, CrawlSettings, Crawled, Progress, BATCH_SIZE};
use crate::discover::Discovered;
use crate::extract::Detail;
use crate::model::{CaseTwins, Dacl, FileRecord, FolderAcl, FolderAcls, Location, LocationKind, Status};
use crate::sms::permissions::CapFolder;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A batch is sent once this long has passed since the last one, even if
/// not full, so a slow share's entries do not wait for the end.
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// When a location last made progress (listed an entry, read a chunk).
#[derive(Debug)]
pub(crate) struct Activity {
    epoch: Instant,
    last_millis: AtomicU64,
    /// Set when the scheduler gives the location up: its walk stops
    /// starting work (on a thread, nothing else would stop it).
    given_up: AtomicBool,
}

impl Activity {
    pub(super) fn new() -> Activity {
        Activity {
            epoch: Instant::now(),
            last_millis: AtomicU64::new(0),
            given_up: AtomicBool::new(false),
        }
    }

    pub(super) fn give_up(&self) {
        self.given_up.store(true, Ordering::Relaxed);
    }

    pub(super) fn touch(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.last_millis.fetch_max(now, Ordering::Relaxed);
    }

    /// Milliseconds from the start to the last progress; changes when, and
    /// only when, there was progress.
    pub(super) fn last_progress(&self) -> u64 {
        self.last_millis.load(Ordering::Relaxed)
    }

    pub(super) fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_progress());
        self.epoch.elapsed().saturating_sub(last)
    }
}

/// How many of a location's threads may work at once: its share of the
/// jobs, raised as other locations finish so that the last ones running
/// use every job (a pool has room for `scheduler::POOL_GROWTH` times its
/// share).
#[derive(Debug)]
pub(crate) struct Throttle {
    limit: AtomicUsize,
    turns: Mutex<Turns>,
    freed: Condvar,
}

/// Threads at work, and threads waiting for a turn: a turn that ends wakes
/// a waiting thread only when there is one (a wake is a futex call, and
/// turns end once per run of names).
#[derive(Debug, Default)]
struct Turns {
    busy: usize,
    waiting: usize,
    /// Turns given so far (the walk's tests, Unix only, count them).
    #[cfg(all(test, unix))]
    given: usize,
}

impl Throttle {
    pub(super) fn new(limit: usize) -> Throttle {
        Throttle {
            limit: AtomicUsize::new(limit.max(1)),
            turns: Mutex::new(Turns::default()),
            freed: Condvar::new(),
        }
    }

    pub(super) fn set(&self, limit: usize) {
        self.limit.store(limit.max(1), Ordering::Relaxed);
        let turns = self.turns();
        if turns.waiting > 0 {
            self.freed.notify_all();
        }
    }

    /// Waits for a turn to work; the turn ends when the permit is dropped.
    /// A permit holder never waits for another task, so this cannot block
    /// for good.
    pub(super) fn permit(&self) -> Permit<'_> {
        let mut turns = self.turns();
        while turns.busy >= self.limit.load(Ordering::Relaxed) {
            turns.waiting += 1;
            turns = self.freed.wait(turns).unwrap_or_else(|e| e.into_inner());
            turns.waiting -= 1;
        }
        turns.busy += 1;
        #[cfg(all(test, unix))]
        {
            turns.given += 1;
        }
        Permit(self)
    }

    #[cfg(all(test, unix))]
    pub(super) fn turns_given(&self) -> usize {
        self.turns().given
    }

    fn turns(&self) -> std::sync::MutexGuard<'_, Turns> {
        self.turns.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A turn to work, from [`Throttle::permit`].
pub(super) struct Permit<'a>(&'a Throttle);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut turns = self.0.turns();
        turns.busy -= 1;
        if turns.waiting > 0 {
            self.0.freed.notify_one();
        }
    }
}

/// The pool of `threads` threads one location is walked, read and hashed on.
pub(super) fn location_pool(threads: usize) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("smsaudit-crawl-{i}"))
        .build()
        .map_err(|err| format!("cannot start threads: {err}"))
}

pub(super) fn not_crawled(mut location: Location, reason: String) -> Crawled {
    location.status = Status::Unreadable;
    location.reason = reason;
    Crawled {
        location,
        case_twins: Vec::new(),
    }
}

/// Collects entries and folders into batches and sends each when full or
/// due, from any thread of the location.
struct Batcher<'a> {
    send: &'a (dyn Fn(Batch) -> bool + Sync),
    pending: Mutex<(Batch, Instant)>,
    /// Set when a send fails: nobody wants the rest.
    gone: AtomicBool,
}

impl<'a> Batcher<'a> {
    fn new(send: &'a (dyn Fn(Batch) -> bool + Sync)) -> Batcher<'a> {
        Batcher {
            send,
            pending: Mutex::new((Batch::with_room(), Instant::now())),
            gone: AtomicBool::new(false),
        }
    }

    fn add(&self, put: impl FnOnce(&mut Batch)) {
        let due = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            put(&mut pending.0);
            if pending.0.len() >= BATCH_SIZE || pending.1.elapsed() >= BATCH_WAIT {
                pending.1 = Instant::now();
                Some(std::mem::replace(&mut pending.0, Batch::with_room()))
            } else {
                None
            }
        };
        // Sent outside the lock: a slow receiver holds up one thread only.
        if let Some(batch) = due {
            self.send(batch);
        }
    }

    fn flush(&self) {
        let rest = std::mem::take(&mut self.pending.lock().unwrap_or_else(|e| e.into_inner()).0);
        if rest.len() > 0 {
            self.send(rest);
        }
    }

    fn send(&self, mut batch: Batch) {
        // A batch sent before it is full (due, or the last) gives back the
        // room it did not use: the scheduler may hold many in flight.
        batch.entries.shrink_to_fit();
        if !self.gone.load(Ordering::Relaxed) && !(self.send)(batch) {
            self.gone.store(true, Ordering::Relaxed);
        }
    }
}

/// One location's walk output: files read here, everything batched out.
struct Gather<'a, S: ShareFs> {
    fs: &'a S,
    location: &'a Location,
    settings: &'a CrawlSettings,
    progress: &'a Progress,
    activity: &'a Activity,
    batcher: Batcher<'a>,
    /// Files hashed and their bytes: the location's totals.
    files: AtomicU64,
    bytes: AtomicU64,
    case_twins: Mutex<Vec<CaseTwins>>,
    /// Files read whose check waits for their folder's next listing
    /// ([`ShareFs::STATE_AFTER_FROM_RELISTING`]), by the address of their
    /// folder (alive while they hold it): a folder's rows at most.
    unconfirmed: Mutex<HashMap<usize, Vec<read::Unconfirmed<S>>>>,
    /// The boxes of a CAP (Q252856) found at its root, as named there.
    cap_boxes: Mutex<Vec<String>>,
}

impl<S: ShareFs> Gather<'_, S> {
    /// Counts a file's row and batches it.
    fn hand_on(&self, record: FileRecord, detail: Detail) {
        if record.sha256.is_some() {
            self.files.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(record.size.unwrap_or(0), Ordering::Relaxed);
        }
        self.batcher.add(|batch| batch.entries.push((record, detail)));
    }

    fn read_progress(&self, record: &FileRecord) {
        self.progress.files.fetch_add(1, Ordering::Relaxed);
        self.progress
            .bytes
            .fetch_add(record.size.unwrap_or(0), Ordering::Relaxed);
    }
}

fn folder_key<F>(folder: &Arc<F>) -> usize {
    Arc::as_ptr(folder) as *const () as usize
}

impl<S: ShareFs> walk::Found<S> for Gather<'_, S> {
    fn file(&self, entry: Entry<S>) {
        let touch = || self.activity.touch();
        let max = self.settings.max_parse_bytes;
        if S::STATE_AFTER_FROM_RELISTING {
            let key = folder_key(&entry.parent);
            match read::read_file_deferred(self.fs, self.location, entry, max, &touch) {
                read::Deferred::Done(record, detail) => {
                    self.read_progress(&record);
                    self.hand_on(record, detail);
                }
                read::Deferred::Unconfirmed(unconfirmed) => {
                    self.read_progress(unconfirmed.record());
                    let mut waiting = self.unconfirmed.lock().unwrap_or_else(|e| e.into_inner());
                    waiting.entry(key).or_default().push(unconfirmed);
                }
            }
            return;
        }
        let (record, detail) = read::read_file(self.fs, self.location, entry, max, &touch);
        self.read_progress(&record);
        self.hand_on(record, detail);
    }

    fn listing_done(&self, folder: &Arc<S::Folder>) {
        let waiting = self
            .unconfirmed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&folder_key(folder));
        let Some(waiting) = waiting else { return };
        if self.abandoned() {
            return;
        }
        let touch = || self.activity.touch();
        let max = self.settings.max_parse_bytes;
        for (record, detail) in read::confirm_reads(self.fs, self.location, folder, waiting, max, &touch) {
            self.hand_on(record, detail);
        }
    }

    fn row(&self, record: FileRecord) {
        self.batcher.add(|batch| batch.entries.push((record, Detail::None)));
    }

    fn folder(&self, relative: String) {
        if self.location.kind == LocationKind::Cap && CapFolder::of(&relative).is_some() {
            self.cap_boxes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(relative.clone());
        }
        self.batcher.add(|batch| batch.folders.push(relative));
    }

    fn case_twins(&self, lower: String, paths: Vec<String>) {
        let twins = CaseTwins {
            location: self.location.name.clone(),
            lower,
            paths,
        };
        self.case_twins.lock().unwrap_or_else(|e| e.into_inner()).push(twins);
    }

    fn abandoned(&self) -> bool {
        self.batcher.gone.load(Ordering::Relaxed) || self.activity.given_up.load(Ordering::Relaxed)
    }
}

/// Crawls one location on `pool`, at most as many threads at once as
/// `throttle` lets, sending its entries and folders with
/// `send` as they are found (`send` returns false once nobody listens).
#[allow(clippy::too_many_arguments)]
pub(super) fn crawl_location<S: ShareFs>(
    fs: &S,
    discovered: Discovered,
    settings: &CrawlSettings,
    pool: &rayon::ThreadPool,
    throttle: &Throttle,
    progress: &Progress,
    activity: &Activity,
    send: &(dyn Fn(Batch) -> bool + Sync),
) -> Crawled {
    let Discovered { mut location, path, .. } = discovered;
    if location.status != Status::Ok {
        return Crawled {
            location,
            case_twins: Vec::new(),
        };
    }
    let gather = Gather {
        fs,
        location: &location,
        settings,
        progress,
        activity,
        batcher: Batcher::new(send),
        files: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        case_twins: Mutex::new(Vec::new()),
        unconfirmed: Mutex::new(HashMap::new()),
        cap_boxes: Mutex::new(Vec::new()),
    };
    let walked = walk::walk_location(
        fs,
        &location,
        &path,
        &settings.exclusions,
        activity,
        pool,
        throttle,
        &gather,
    );
    gather.batcher.flush();
    let (files, bytes) = (gather.files.into_inner(), gather.bytes.into_inner());
    let mut case_twins = gather.case_twins.into_inner().unwrap_or_else(|e| e.into_inner());
    let cap_boxes = gather.cap_boxes.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Err(reason) = walked {
        // Nothing of the share was checked: not clean.
        return not_crawled(location, reason);
    }
    // Found in whatever order the listings ended: sorted, like the paths.
    case_twins.sort_unstable_by(|a, b| a.lower.cmp(&b.lower));
    location.files = files;
    location.bytes = bytes;
    if location.kind == LocationKind::Cap {
        location.folder_acls = read_folder_acls(fs, &path, cap_boxes, activity);
    }
    Crawled { location, case_twins }
}

/// The DACLs of a CAP's root folder and of the boxes found at its root,
/// one read each, in name order; not applicable where the share file
/// system gives none.
fn read_folder_acls<S: ShareFs>(fs: &S, root: &Path, mut boxes: Vec<String>, activity: &Activity) -> FolderAcls {
    boxes.sort_unstable();
    let mut folders = Vec::new();
    for folder in std::iter::once(String::new()).chain(boxes) {
        let Some(read) = fs.folder_dacl(root, &folder) else {
            return FolderAcls::NotApplicable;
        };
        activity.touch();
        let dacl = match read {
            Ok(aces) => Dacl::Read(aces),
            Err(err) => Dacl::Unread(err.to_string()),
        };
        folders.push(FolderAcl { folder, dacl });
    }
    FolderAcls::Folders(folders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::fixtures::share;
    #[cfg(unix)]
    use crate::crawl::walk::share::Local;
    use std::path::Path;

    /// A location waiting for a turn gets one when others finish and its
    /// share is raised.
    #[test]
    fn a_raised_throttle_lets_waiting_threads_work() {
        let throttle = Throttle::new(1);
        let first = throttle.permit();
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                let _second = throttle.permit();
            });
            std::thread::sleep(Duration::from_millis(50));
            assert!(!waiting.is_finished(), "two at once with one allowed");
            throttle.set(2);
            waiting.join().unwrap();
        });
        drop(first);
        assert_eq!(throttle.turns().busy, 0);
    }

    /// Crawls `dir` as one CAP on `threads` threads; `send` says whether
    /// anyone still listens. Returns the result, the batches and the files
    /// read.
    fn crawl_dir(dir: &Path, threads: usize, listening: bool) -> (Crawled, Vec<Batch>, u64) {
        let mut discovered = share("S", Status::Ok);
        discovered.path = dir.to_path_buf();
        let pool = location_pool(threads).unwrap();
        let batches = Mutex::new(Vec::new());
        let send = |batch| {
            batches.lock().unwrap().push(batch);
            listening
        };
        let progress = Progress::default();
        let settings = CrawlSettings::of(&crate::config::Config::new(Vec::new()));
        let throttle = Throttle::new(threads);
        let crawled = crawl_location(
            &crate::crawl::walk::share::Local,
            discovered,
            &settings,
            &pool,
            &throttle,
            &progress,
            &Activity::new(),
            &send,
        );
        let files = progress.files.load(Ordering::Relaxed);
        (crawled, batches.into_inner().unwrap(), files)
    }

    fn files_in_folders(dir: &Path, folders: usize, per_folder: usize) {
        for f in 0..folders {
            let folder = dir.join(format!("folder{f}"));
            std::fs::create_dir(&folder).unwrap();
            for i in 0..per_folder {
                std::fs::write(folder.join(format!("file{i}.txt")), format!("{f} {i}")).unwrap();
            }
        }
    }

    /// A share's entries leave in batches of at most BATCH_SIZE while it is
    /// walked: the crawl never holds its records.
    #[test]
    fn entries_leave_in_bounded_batches() {
        let dir = tempfile::tempdir().unwrap();
        files_in_folders(dir.path(), 3, 200);
        let (crawled, batches, _) = crawl_dir(dir.path(), 4, true);
        assert_eq!(crawled.location.status, Status::Ok, "{}", crawled.location.reason);
        assert_eq!(crawled.location.files, 600);
        assert!(batches.len() >= 3, "{} batches", batches.len());
        assert!(batches.iter().all(|b| b.len() <= BATCH_SIZE));
        let entries: Vec<&FileRecord> = batches.iter().flat_map(|b| b.entries.iter().map(|(r, _)| r)).collect();
        assert_eq!(entries.len(), 600);
        assert!(entries.iter().all(|r| r.status == Status::Ok && r.sha256.is_some()));
        let mut folders: Vec<&String> = batches.iter().flat_map(|b| &b.folders).collect();
        folders.sort();
        assert_eq!(folders, ["folder0", "folder1", "folder2"]);
    }

    /// Once nobody takes its batches (the location was given up on), the
    /// walk stops starting work.
    /// On a thread, a location the scheduler gave up on stops starting
    /// work although its records are still accepted.
    #[test]
    fn a_crawl_given_up_on_stops() {
        let dir = tempfile::tempdir().unwrap();
        files_in_folders(dir.path(), 4, 400);
        let mut discovered = share("S", Status::Ok);
        discovered.path = dir.path().to_path_buf();
        let (pool, throttle, progress) = (location_pool(2).unwrap(), Throttle::new(2), Progress::default());
        let activity = Activity::new();
        activity.give_up();
        let send = |_| true;
        crawl_location(
            &crate::crawl::walk::share::Local,
            discovered,
            &CrawlSettings::of(&crate::config::Config::new(Vec::new())),
            &pool,
            &throttle,
            &progress,
            &activity,
            &send,
        );
        let files = progress.files.load(Ordering::Relaxed);
        assert_eq!(files, 0, "{files} files read after the location was given up");
    }

    #[test]
    fn a_crawl_nobody_listens_to_stops() {
        let dir = tempfile::tempdir().unwrap();
        files_in_folders(dir.path(), 4, 400);
        let (_, _, files) = crawl_dir(dir.path(), 2, false);
        assert!(
            files < 1000,
            "{files} of 1600 files read after the first batch was refused"
        );
    }

    /// A share like the SMB helper's: listings describe every entry, the
    /// state after a read comes from the folder's next listing. Counts
    /// listings and handle states; `on_open` runs after a file is opened
    /// (a writer at work during its read); listings after the first
    /// `fail_after` fail.
    #[cfg(unix)]
    struct Relisting<'a> {
        lists: AtomicUsize,
        states: AtomicUsize,
        fail_after: usize,
        on_open: &'a (dyn Fn(&std::ffi::OsStr) + Sync),
    }

    #[cfg(unix)]
    impl<'a> Relisting<'a> {
        fn new(fail_after: usize, on_open: &'a (dyn Fn(&std::ffi::OsStr) + Sync)) -> Relisting<'a> {
            Relisting {
                lists: AtomicUsize::new(0),
                states: AtomicUsize::new(0),
                fail_after,
                on_open,
            }
        }
    }

    #[cfg(unix)]
    impl ShareFs for Relisting<'_> {
        type Folder = <Local as ShareFs>::Folder;
        type File = std::fs::File;
        const STATE_SHOWS_GROWTH: bool = true;
        const STATE_AFTER_FROM_RELISTING: bool = true;

        fn open_root(&self, path: &Path) -> std::io::Result<(Self::Folder, crate::crawl::Listed)> {
            Local.open_root(path)
        }
        fn list(&self, folder: &Self::Folder) -> std::io::Result<Vec<crate::crawl::ListedName>> {
            if self.lists.fetch_add(1, Ordering::SeqCst) >= self.fail_after {
                return Err(std::io::Error::other("the server went away"));
            }
            let mut names = Local.list(folder)?;
            for named in &mut names {
                named.listed = Some(Local.stat_entry(folder, &named.name)?);
            }
            Ok(names)
        }
        fn stat_entry(&self, folder: &Self::Folder, name: &std::ffi::OsStr) -> std::io::Result<crate::crawl::Listed> {
            Local.stat_entry(folder, name)
        }
        fn open_folder(
            &self,
            parent: &Self::Folder,
            name: &std::ffi::OsStr,
            listed: &crate::crawl::Listed,
        ) -> std::io::Result<Self::Folder> {
            Local.open_folder(parent, name, listed)
        }
        fn open_file(
            &self,
            parent: &Self::Folder,
            name: &std::ffi::OsStr,
            listed: Option<&crate::crawl::Listed>,
        ) -> std::io::Result<(std::fs::File, crate::crawl::Listed)> {
            let opened = Local.open_file(parent, name, listed)?;
            (self.on_open)(name);
            Ok(opened)
        }
        fn file_state(&self, file: &mut std::fs::File) -> std::io::Result<crate::crawl::FileState> {
            self.states.fetch_add(1, Ordering::SeqCst);
            Local.file_state(file)
        }
    }

    #[cfg(unix)]
    fn crawl_with<S: ShareFs>(fs: &S, dir: &Path) -> (Crawled, Vec<FileRecord>) {
        let mut discovered = share("S", Status::Ok);
        discovered.path = dir.to_path_buf();
        let batches = Mutex::new(Vec::new());
        let send = |batch: Batch| {
            batches
                .lock()
                .unwrap()
                .extend(batch.entries.into_iter().map(|(record, _)| record));
            true
        };
        let crawled = crawl_location(
            fs,
            discovered,
            &CrawlSettings::of(&crate::config::Config::new(Vec::new())),
            &location_pool(4).unwrap(),
            &Throttle::new(4),
            &Progress::default(),
            &Activity::new(),
            &send,
        );
        let mut records = batches.into_inner().unwrap();
        records.sort_by(|a, b| a.path.cmp(&b.path));
        (crawled, records)
    }

    #[cfg(unix)]
    fn sha256_hex(bytes: &[u8]) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// On a share whose state after a read comes from the next listing, no
    /// file is asked for its handle's state but one that changed after it
    /// was opened: that one is read again, and its row has the hash of what
    /// it became, never of what was read while it changed.
    #[cfg(unix)]
    #[test]
    fn a_file_changed_during_its_read_is_read_again_after_the_folder_is_listed_again() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        files_in_folders(dir.path(), 2, 100);
        let busy = dir.path().join("folder1/busy.txt");
        std::fs::write(&busy, "before").unwrap();
        let changed = AtomicBool::new(false);
        let on_open = |name: &std::ffi::OsStr| {
            if name == "busy.txt" && !changed.swap(true, Ordering::SeqCst) {
                // Rewritten in place, same size, a later mtime; then grown.
                std::fs::write(&busy, "during").unwrap();
                let file = std::fs::OpenOptions::new().append(true).open(&busy).unwrap();
                file.set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000))
                    .unwrap();
                (&file).write_all(b" and after").unwrap();
            }
        };
        let fs = Relisting::new(usize::MAX, &on_open);
        let (crawled, records) = crawl_with(&fs, dir.path());
        assert_eq!(crawled.location.status, Status::Ok, "{}", crawled.location.reason);
        assert_eq!(records.len(), 201);
        let busy = records.iter().find(|r| r.path == r"folder1\busy.txt").unwrap();
        assert_eq!(busy.status, Status::Ok, "{}", busy.reason);
        assert_eq!(
            busy.sha256.map(|d| d.to_string()),
            Some(sha256_hex(b"during and after"))
        );
        assert_eq!(busy.size, Some(16));
        let plain = records.iter().find(|r| r.path == r"folder0\file7.txt").unwrap();
        assert_eq!(plain.sha256.map(|d| d.to_string()), Some(sha256_hex(b"0 7")));
        assert!(records.iter().all(|r| r.status == Status::Ok && r.sha256.is_some()));
        // The root (no files of its own) once, its two folders twice each;
        // one handle asked for its state.
        assert_eq!(fs.lists.load(Ordering::SeqCst), 5);
        assert_eq!(fs.states.load(Ordering::SeqCst), 1);
    }

    /// A folder that cannot be listed again after its files are read: none
    /// of its files has a hash, each says why.
    #[cfg(unix)]
    #[test]
    fn files_whose_folder_cannot_be_listed_again_get_no_hash() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..20 {
            std::fs::write(dir.path().join(format!("file{i}.txt")), "x").unwrap();
        }
        let fs = Relisting::new(1, &|_| {});
        let (crawled, records) = crawl_with(&fs, dir.path());
        assert_eq!(crawled.location.status, Status::Ok, "{}", crawled.location.reason);
        assert_eq!(crawled.location.files, 0);
        assert_eq!(records.len(), 20);
        for record in &records {
            assert_eq!((record.status, record.sha256), (Status::Unreadable, None));
            assert!(
                record
                    .reason
                    .contains("could not be listed again: the server went away"),
                "{}",
                record.reason
            );
        }
    }

    #[test]
    fn a_share_whose_root_cannot_be_listed_is_unreadable_and_sends_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (crawled, batches, _) = crawl_dir(&dir.path().join("gone"), 2, true);
        assert_eq!(crawled.location.status, Status::Unreadable);
        assert!(
            crawled.location.reason.starts_with("cannot open the share"),
            "{}",
            crawled.location.reason
        );
        assert!(batches.is_empty());
    }

    /// Names that differ only in case are siblings in one listing; what
    /// lies below twin folders is covered by the twin folders themselves,
    /// and like names in different folders are no twins.
    #[cfg(unix)]
    #[test]
    fn case_twins_are_found_per_listing() {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            "clicomp.box/BASE/compver.ini",
            "clicomp.box/base/compver.ini",
            "clicomp.box/Hinv.cfg",
            "clicomp.box/HINV.CFG",
            "one/a.ini",
            "two/A.ini",
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        for threads in [1, 8] {
            let (crawled, _, _) = crawl_dir(dir.path(), threads, true);
            let twins: Vec<(&str, Vec<&str>)> = crawled
                .case_twins
                .iter()
                .map(|t| (t.lower.as_str(), t.paths.iter().map(String::as_str).collect()))
                .collect();
            assert_eq!(
                twins,
                [
                    (r"clicomp.box\base", vec![r"clicomp.box\BASE", r"clicomp.box\base"]),
                    (
                        r"clicomp.box\hinv.cfg",
                        vec![r"clicomp.box\HINV.CFG", r"clicomp.box\Hinv.cfg"]
                    ),
                ]
            );
            assert!(crawled.case_twins.iter().all(|t| t.location == r"\\S\CAP_AB1"));
        }
    }
}
