//! Parallel crawl of every location: scheduling (this module), the walk of
//! one share ([`walk`]) and the reading and hashing of one file ([`read`]).
//! Each regular file is read once, in bounded buffers, hashed with SHA-256
//! and handed to its parser.
//!
//! Links are never followed, non-regular files are never opened (a FIFO
//! would block), and nothing is ever written to a share.

mod read;
mod walk;
mod worker;

pub use read::hash_file;
pub use worker::{worker_main, WORKER_COMMAND};

use crate::config::{Config, Isolation, MAX_JOBS};
use crate::discover::Discovered;
use crate::extract::Detail;
use crate::model::{CaseTwins, FileRecord, Location, Status};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use walk::Entry;

/// Where the crawl hands what it finds, as soon as it has it, from any
/// thread and in no particular order. Entries of a location that ends
/// unreadable (given up on, its root gone) may already have arrived: the
/// receiver drops them by the location's final status.
pub(crate) trait Sink: Sync {
    /// An entry of `location`: a read file with what was extracted from
    /// it, or a row for what was not read.
    fn entry(&self, location: &Location, record: FileRecord, detail: Detail);
    /// A folder of `location` was listed (share-relative path).
    fn folder(&self, location: &Location, path: String);
}

/// One location after the crawl: its record (status, files and bytes
/// read) and its entries whose names differ only in case.
#[derive(Debug)]
pub(crate) struct Crawled {
    pub location: Location,
    pub case_twins: Vec<CaseTwins>,
}

/// One crawled location: its record and every file with what was extracted.
/// Serialisable, because a worker process sends it to the scheduler.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct CrawledLocation {
    pub location: Location,
    pub files: Vec<(FileRecord, Detail)>,
    /// Every folder listed, share-relative.
    pub folders: Vec<String>,
}

/// Live counters for a progress display; the crawl only adds to them.
#[derive(Debug, Default)]
pub struct Progress {
    pub locations_total: AtomicUsize,
    pub locations_done: AtomicUsize,
    pub files: AtomicU64,
    pub bytes: AtomicU64,
}

/// When a location last made progress (listed an entry, read a chunk).
#[derive(Debug)]
pub(crate) struct Activity {
    epoch: Instant,
    last_millis: AtomicU64,
    /// The `SMSAUDIT_FAULT_SLOW_READ` delay of every chunk read, if any.
    read_delay: Option<Duration>,
}

impl Activity {
    fn new(read_delay: Option<Duration>) -> Activity {
        Activity {
            epoch: Instant::now(),
            last_millis: AtomicU64::new(0),
            read_delay,
        }
    }

    pub(super) fn touch(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.last_millis.fetch_max(now, Ordering::Relaxed);
    }

    /// A chunk of a file was read: progress, after the injected delay.
    fn read_progress(&self) {
        if let Some(delay) = self.read_delay {
            std::thread::sleep(delay);
        }
        self.touch();
    }

    /// Milliseconds from the start to the last progress; changes when, and
    /// only when, there was progress.
    fn last_progress(&self) -> u64 {
        self.last_millis.load(Ordering::Relaxed)
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_progress());
        self.epoch.elapsed().saturating_sub(last)
    }
}

/// A location being crawled.
struct Running {
    started: Instant,
    location: Location,
    activity: Arc<Activity>,
    /// The worker process, when the location is crawled in one.
    worker: Option<crate::worker::Worker>,
}

/// What a finished location sends to the scheduler: its slot and result.
type Finished = (usize, CrawledLocation);

/// Crawls every location, at most `config.jobs` (capped at [`MAX_JOBS`]) at
/// once and `config.per_server` per server. Each location hashes on a pool
/// of its own, a share of `jobs` threads, so its time and its stall timer
/// are spent only on its own I/O: a slow share never delays another's work.
/// A location that makes no progress for `config.stall_timeout`, or does not
/// finish within `config.location_timeout`, is reported as not answering.
///
/// With [`Isolation::Process`] each location is crawled by a worker process
/// that reports progress; one given up on is killed and abandoned (a read
/// stuck in the kernel may keep it alive, but not this process). With
/// [`Isolation::Thread`] its threads are left behind instead.
pub(crate) fn crawl_all(
    locations: Vec<Discovered>,
    config: &Config,
    progress: Arc<Progress>,
    sink: &dyn Sink,
) -> Vec<Crawled> {
    let max_running = config.jobs.clamp(1, MAX_JOBS);
    let per_server = config.per_server.max(1);
    let threads = hashing_threads(&locations, max_running, per_server);
    let shared = Arc::new(config.clone());
    progress.locations_total.store(locations.len(), Ordering::Relaxed);
    let (sender, receiver) = mpsc::channel::<Finished>();
    let mut results: Vec<Option<Crawled>> = (0..locations.len()).map(|_| None).collect();
    let mut pending: VecDeque<(usize, Discovered)> = locations.into_iter().enumerate().collect();
    let mut running: BTreeMap<usize, Running> = BTreeMap::new();
    let finish = |results: &mut Vec<Option<Crawled>>, slot: usize, crawled: CrawledLocation| {
        results[slot] = Some(deliver(crawled, sink));
        progress.locations_done.fetch_add(1, Ordering::Relaxed);
    };
    loop {
        let mut index = 0;
        while running.len() < max_running && index < pending.len() {
            let server = pending[index].1.location.server.to_ascii_uppercase();
            let busy = running
                .values()
                .filter(|r| r.location.server.eq_ignore_ascii_case(&server))
                .count();
            if busy >= per_server {
                index += 1;
                continue;
            }
            let Some((slot, discovered)) = pending.remove(index) else {
                break;
            };
            let location = discovered.location.clone();
            let start = Start {
                slot,
                config: shared.clone(),
                threads,
                progress: progress.clone(),
                sender: sender.clone(),
            };
            match start.run(discovered) {
                Ok((activity, worker)) => {
                    let started = Instant::now();
                    running.insert(
                        slot,
                        Running {
                            started,
                            location,
                            activity,
                            worker,
                        },
                    );
                }
                Err(reason) => finish(&mut results, slot, not_crawled(location, reason)),
            }
        }
        if running.is_empty() {
            break;
        }
        // With a limit to watch, look again at least every quarter second.
        let wait = if config.location_timeout.is_some() || config.stall_timeout.is_some() {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(3600)
        };
        let mut arrived = Vec::new();
        match receiver.recv_timeout(wait) {
            Ok(done) => arrived.push(done),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        // Take every result that is in before judging who ran out of time.
        arrived.extend(receiver.try_iter());
        for (slot, crawled) in arrived {
            if running.remove(&slot).is_some() {
                finish(&mut results, slot, crawled);
            }
        }
        let expired: Vec<(usize, String)> = running
            .iter()
            .filter_map(|(slot, r)| expiry(r, config).map(|reason| (*slot, reason)))
            .collect();
        for (slot, reason) in expired {
            if let Some(r) = running.remove(&slot) {
                if let Some(worker) = r.worker {
                    worker.abandon();
                }
                finish(&mut results, slot, not_crawled(r.location, reason));
            }
        }
    }
    results.into_iter().flatten().collect()
}

/// Hashing threads per location: `jobs` shared among the locations that can
/// run at once, so the crawl as a whole hashes on about `jobs` threads.
fn hashing_threads(locations: &[Discovered], jobs: usize, per_server: usize) -> usize {
    let mut per_host: BTreeMap<String, usize> = BTreeMap::new();
    for d in locations.iter().filter(|d| d.location.status == Status::Ok) {
        *per_host.entry(d.location.server.to_ascii_uppercase()).or_default() += 1;
    }
    let at_once: usize = per_host.values().map(|n| (*n).min(per_server)).sum();
    (jobs / at_once.clamp(1, jobs.max(1))).max(1)
}

/// A pool of `threads` hashing threads for one location; `None` (files
/// hashed on the walking thread) if the system gives no threads.
fn hashing_pool(threads: usize) -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("smsaudit-hash-{i}"))
        .build()
        .ok()
}

/// What starting one location needs.
struct Start {
    slot: usize,
    config: Arc<Config>,
    threads: usize,
    progress: Arc<Progress>,
    sender: mpsc::Sender<Finished>,
}

impl Start {
    /// Starts crawling a location: in a worker process when the config says
    /// so and the location has a share to read, else on a thread. Returns
    /// what the scheduler watches, or why it could not start.
    fn run(self, discovered: Discovered) -> Result<(Arc<Activity>, Option<crate::worker::Worker>), String> {
        if self.config.isolation == Isolation::Process && discovered.location.status == Status::Ok {
            // The worker's progress arrives as heartbeats; it applies its
            // own faults.
            let activity = Arc::new(Activity::new(None));
            let worker = worker::spawn(
                self.slot,
                discovered,
                &self.config,
                self.threads,
                &activity,
                self.progress,
                self.sender,
            )
            .map_err(|err| format!("cannot start a crawl worker: {err}"))?;
            return Ok((activity, Some(worker)));
        }
        let activity = Arc::new(Activity::new(self.config.faults.read_delay(&discovered.location.name)));
        let watched = activity.clone();
        let Start {
            slot,
            config,
            threads,
            progress,
            sender,
        } = self;
        std::thread::Builder::new()
            .name("smsaudit-location".into())
            .spawn(move || {
                let pool = hashing_pool(threads);
                let crawled = crawl_location(discovered, &config, pool.as_ref(), &progress, &activity);
                let _ = sender.send((slot, crawled));
            })
            .map_err(|err| format!("cannot start a thread: {err}"))?;
        Ok((watched, None))
    }
}

/// Why a running location is given up on, if it is.
fn expiry(running: &Running, config: &Config) -> Option<String> {
    if let Some(limit) = config.stall_timeout {
        if running.activity.idle() >= limit {
            return Some(format!(
                "no answer for {} s: the share stopped answering",
                limit.as_secs()
            ));
        }
    }
    match config.location_timeout {
        Some(limit) if running.started.elapsed() >= limit => Some(format!(
            "timed out after {} s: the share stopped answering",
            limit.as_secs()
        )),
        _ => None,
    }
}

/// Hands a location's entries and folders to `sink`.
fn deliver(crawled: CrawledLocation, sink: &dyn Sink) -> Crawled {
    let CrawledLocation {
        location,
        files,
        folders,
    } = crawled;
    let case_twins = case_twins(
        &location.name,
        files.iter().map(|(record, _)| record.path.as_str()),
        folders.iter().map(String::as_str),
    );
    for (record, detail) in files {
        sink.entry(&location, record, detail);
    }
    for folder in folders {
        sink.folder(&location, folder);
    }
    Crawled { location, case_twins }
}

/// Files and folders of one share whose paths differ only in case.
fn case_twins<'a>(
    location: &str,
    files: impl Iterator<Item = &'a str>,
    folders: impl Iterator<Item = &'a str>,
) -> Vec<CaseTwins> {
    let mut spellings: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for path in files.chain(folders) {
        spellings.entry(path.to_ascii_lowercase()).or_default().insert(path);
    }
    spellings
        .into_iter()
        .filter(|(_, paths)| paths.len() > 1)
        .map(|(lower, paths)| CaseTwins {
            location: location.to_string(),
            lower,
            paths: paths.into_iter().map(str::to_string).collect(),
        })
        .collect()
}

fn not_crawled(mut location: Location, reason: String) -> CrawledLocation {
    location.status = Status::Unreadable;
    location.reason = reason;
    CrawledLocation {
        location,
        files: Vec::new(),
        folders: Vec::new(),
    }
}

fn crawl_location(
    discovered: Discovered,
    config: &Config,
    pool: Option<&rayon::ThreadPool>,
    progress: &Progress,
    activity: &Activity,
) -> CrawledLocation {
    let Discovered { mut location, path, .. } = discovered;
    if location.status != Status::Ok {
        return CrawledLocation {
            location,
            files: Vec::new(),
            folders: Vec::new(),
        };
    }
    if let Some(stall) = &config.faults.stall {
        if location.name.to_ascii_lowercase().contains(&stall.to_ascii_lowercase()) {
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
    let hash_one = |entry: Entry| {
        let read = read::read_file(&location, entry, config, &|| activity.read_progress());
        progress.files.fetch_add(1, Ordering::Relaxed);
        progress.bytes.fetch_add(read.0.size.unwrap_or(0), Ordering::Relaxed);
        read
    };
    // Files are hashed while the walk goes on, so on a slow link the
    // round trips of listing and of opening overlap. Results are put back
    // in walk order, so the output does not depend on timing.
    let (read, walked) = match pool {
        Some(pool) => {
            let done = std::sync::Mutex::new(Vec::new());
            let mut next = 0usize;
            let walked = pool.in_place_scope(|scope| {
                let (hash_one, done) = (&hash_one, &done);
                walk::walk_location(&location, &path, config, activity, &mut |entry| {
                    let index = next;
                    next += 1;
                    scope.spawn(move |_| {
                        let read = hash_one(entry);
                        done.lock().unwrap_or_else(|e| e.into_inner()).push((index, read));
                    });
                })
            });
            let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
            done.sort_unstable_by_key(|(index, _)| *index);
            (done.into_iter().map(|(_, read)| read).collect::<Vec<_>>(), walked)
        }
        None => {
            let mut read = Vec::new();
            let walked = walk::walk_location(&location, &path, config, activity, &mut |entry| {
                read.push(hash_one(entry))
            });
            (read, walked)
        }
    };
    if let Some(reason) = walked.root_error {
        // Nothing of the share was checked: not clean, whatever was read.
        return not_crawled(location, reason);
    }
    location.files = read.iter().filter(|(r, _)| r.sha256.is_some()).count() as u64;
    location.bytes = read
        .iter()
        .filter(|(r, _)| r.sha256.is_some())
        .filter_map(|(r, _)| r.size)
        .sum();
    let mut files = read;
    files.extend(walked.rows.into_iter().map(|r| (r, Detail::None)));
    CrawledLocation {
        location,
        files,
        folders: walked.folders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LocationKind;

    fn share(server: &str, status: Status) -> Discovered {
        Discovered {
            location: Location {
                name: format!(r"\\{server}\CAP_AB1"),
                server: server.into(),
                share: "CAP_AB1".into(),
                kind: LocationKind::Cap,
                root: String::new(),
                sites: Vec::new(),
                status,
                reason: String::new(),
                files: 0,
                bytes: 0,
            },
            path: std::path::PathBuf::new(),
            holds_no_share: false,
            linked: false,
        }
    }

    /// The hashing threads of the locations that run at once add up to
    /// about `jobs`, however many locations there are.
    #[test]
    fn hashing_threads_share_the_jobs() {
        let one = [share("A", Status::Ok)];
        assert_eq!(hashing_threads(&one, 16, 4), 16);
        // One server, four at a time: a quarter each.
        let same_server: Vec<_> = (0..10).map(|_| share("A", Status::Ok)).collect();
        assert_eq!(hashing_threads(&same_server, 16, 4), 4);
        // More servers than jobs: one thread each, never none.
        let many: Vec<_> = (0..100).map(|i| share(&format!("S{i}"), Status::Ok)).collect();
        assert_eq!(hashing_threads(&many, 16, 4), 1);
        assert_eq!(hashing_threads(&many, 1, 4), 1);
        // Locations that will not be read take no share.
        let unread = [share("A", Status::Ok), share("B", Status::Unreadable)];
        assert_eq!(hashing_threads(&unread, 16, 4), 16);
        assert_eq!(hashing_threads(&[], 16, 4), 16);
    }
}
