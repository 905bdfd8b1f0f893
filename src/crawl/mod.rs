//! Parallel crawl of every location, in parts with one job each: the
//! [`scheduler`] decides which location runs where and when (jobs, the
//! per-server limit, threads or worker processes, stall and time limits);
//! [`location`] crawls one location (its activity clock, throttle and
//! batches); [`walk`] walks one share and [`read`] reads, hashes and parses
//! one file. A location crawled in a worker process crosses the
//! [`protocol`]: [`process`] is the scheduler's side of such a worker,
//! [`worker`] the worker's own. [`settings`] is what the crawl is told.
//! Each regular file is read once, in bounded buffers, hashed with SHA-256
//! and handed to its parser.
//!
//! Links are never followed, non-regular files are never opened (a FIFO
//! would block), and nothing is ever written to a share.
//!
//! Nothing of a location is collected: its entries and folders leave in
//! batches of at most [`BATCH_SIZE`] as they are found, and reach the sink
//! on the scheduler's thread.

mod admission;
mod location;
mod process;
mod protocol;
mod read;
mod scheduler;
mod settings;
pub(crate) mod walk;
mod worker;

pub use read::hash_file;
pub(crate) use settings::CrawlSettings;
/// The share file-system seam, for the `smsaudit-smb` helper (feature
/// `smb`): it implements [`ShareFs`] and runs [`share_worker_main`].
pub use walk::handles::{EntryType, FileState, Identity, Listed};
pub use walk::share::{ListedName, ShareFs};
pub use worker::share_worker_main;
pub(crate) use worker::{worker_main, WORKER_COMMAND};

use crate::discover::Discovered;
use crate::extract::Detail;
use crate::model::{CaseTwins, FileRecord, Location};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;

/// Where the crawl hands what it finds, as soon as it has it, in no
/// particular order. Entries of a location that ends unreadable (given up
/// on, its root gone) may already have arrived: the receiver drops them by
/// the location's final status.
pub(crate) trait Sink: Sync {
    /// An entry of `location`: a read file with what was extracted from
    /// it, or a row for what was not read.
    fn entry(&self, location: &Location, record: FileRecord, detail: Detail);
    /// A folder of `location` was listed (share-relative path).
    fn folder(&self, location: &Location, path: String);
}

/// One location after the crawl: its record (status, files and bytes
/// read) and its entries whose names differ only in case, by path.
#[derive(Debug)]
pub(crate) struct Crawled {
    pub location: Location,
    pub case_twins: Vec<CaseTwins>,
}

/// Entries and folders of one location on their way to the sink.
/// Serialisable, because a worker process sends them to the scheduler.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Batch {
    pub entries: Vec<(FileRecord, Detail)>,
    /// Folders listed, share-relative.
    pub folders: Vec<String>,
}

impl Batch {
    /// An empty batch with room for a full one's entries: grown a record at
    /// a time, its entries (a few hundred bytes each) were copied over and
    /// over as it doubled.
    fn with_room() -> Batch {
        Batch {
            entries: Vec::with_capacity(BATCH_SIZE),
            folders: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.entries.len() + self.folders.len()
    }
}

/// The most entries and folders in one batch: what a location holds of its
/// records at most, whatever its size.
pub(crate) const BATCH_SIZE: usize = 256;

/// Live counters for a progress display; the crawl only adds to them.
#[derive(Debug, Default)]
pub struct Progress {
    pub locations_total: AtomicUsize,
    pub locations_done: AtomicUsize,
    pub files: AtomicU64,
    pub bytes: AtomicU64,
}

/// Crawls every location, at most `settings.jobs` at once and
/// `settings.per_server` per server. Each location runs on a thread
/// pool of its own, a share of `jobs` threads, on which its folders are
/// listed and its entries stat'ed and read concurrently: its time and its
/// stall timer are spent only on its own I/O, and a slow or huge share
/// never takes another's threads. A location that makes no progress for
/// `settings.stall_timeout`, or does not finish within
/// `settings.location_timeout`, is reported as not answering.
///
/// With [`crate::config::Isolation::Process`] locations are crawled by worker processes,
/// each taking one location after another and reporting progress; one
/// given up on is killed and abandoned (a read stuck in the kernel may
/// keep it alive, but not this process) and a new one takes the next
/// location. With [`crate::config::Isolation::Thread`] its threads are left behind instead.
/// A worker that died while idle is reaped and dropped; a location whose
/// worker died before starting on it goes to another worker, once.
pub(crate) fn crawl_all(
    locations: Vec<Discovered>,
    settings: &CrawlSettings,
    progress: Arc<Progress>,
    sink: &dyn Sink,
) -> Vec<Crawled> {
    scheduler::crawl_with(
        &crate::worker::Program::Own(WORKER_COMMAND),
        locations,
        settings,
        progress,
        sink,
    )
}

/// What reaches the scheduler from a location's thread or worker.
enum Event {
    Batch(usize, Batch),
    Done {
        slot: usize,
        crawled: Crawled,
        /// What the next location can use.
        reuse: Reuse,
    },
    /// The location's worker died before it started on it (it was dead
    /// when given the location, or died before saying it started): the
    /// share was not touched, so another worker may take it.
    Unstarted {
        slot: usize,
        discovered: Discovered,
        /// Why the worker failed.
        reason: String,
    },
}

/// What a location that finished leaves for the next one.
enum Reuse {
    Nothing,
    /// Its worker process, which takes another location.
    Worker,
    /// Its thread pool (with thread isolation).
    Pool(rayon::ThreadPool),
}

/// Locations as tests of the crawl's parts need them.
#[cfg(test)]
mod fixtures {
    use crate::discover::Discovered;
    use crate::model::{Location, LocationKind, Status};

    /// A CAP of `server` with no sites, as discovery hands it on.
    pub(super) fn share(server: &str, status: Status) -> Discovered {
        Discovered {
            location: Location {
                status,
                ..Location::for_test(&format!(r"\\{server}\CAP_AB1"), LocationKind::Cap, &[])
            },
            path: std::path::PathBuf::new(),
            holds_no_share: false,
            linked: false,
        }
    }

    /// A CAP of site AB1 on server S at `root`, as crawled.
    pub(super) fn location(root: &str) -> Location {
        Location {
            name: r"\\S\CAP_AB1".into(),
            server: "S".into(),
            share: "CAP_AB1".into(),
            kind: LocationKind::Cap,
            root: root.into(),
            sites: vec!["AB1".into()],
            status: Status::Ok,
            reason: String::new(),
            files: 2,
            bytes: 7,
            share_comment: Default::default(),
            folder_acls: Default::default(),
        }
    }
}
