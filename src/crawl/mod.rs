//! Parallel crawl of every location: scheduling (this module), the walk of
//! one share ([`walk`]) and the reading and hashing of one file ([`read`]).
//! Each regular file is read once, in bounded buffers, hashed with SHA-256
//! and handed to its parser.
//!
//! Links are never followed, non-regular files are never opened (a FIFO
//! would block), and nothing is ever written to a share.
//!
//! Nothing of a location is collected: its entries and folders leave in
//! batches of at most [`BATCH_SIZE`] as they are found, and reach the sink
//! on the scheduler's thread.

mod read;
mod settings;
mod walk;
mod worker;

pub use read::hash_file;
pub(crate) use settings::CrawlSettings;
pub use worker::{worker_main, WORKER_COMMAND};

use crate::config::Isolation;
use crate::discover::Discovered;
use crate::extract::Detail;
use crate::model::{CaseTwins, FileRecord, Location, Status};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use walk::Entry;

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
    fn len(&self) -> usize {
        self.entries.len() + self.folders.len()
    }
}

/// The most entries and folders in one batch: what a location holds of its
/// records at most, whatever its size.
pub(crate) const BATCH_SIZE: usize = 256;

/// A batch is sent once this long has passed since the last one, even if
/// not full, so a slow share's entries do not wait for the end.
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// Events waiting for the scheduler at most: a crawl faster than its sink
/// waits for it rather than filling memory.
const EVENTS_IN_FLIGHT: usize = 64;

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
    /// Set when the scheduler gives the location up: its walk stops
    /// starting work (on a thread, nothing else would stop it).
    given_up: AtomicBool,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            epoch: Instant::now(),
            last_millis: AtomicU64::new(0),
            given_up: AtomicBool::new(false),
        }
    }

    fn give_up(&self) {
        self.given_up.store(true, Ordering::Relaxed);
    }

    pub(super) fn touch(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.last_millis.fetch_max(now, Ordering::Relaxed);
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

/// How many of a location's threads may work at once: its share of the
/// jobs, raised as other locations finish so that the last ones running
/// use every job (a pool has room for [`POOL_GROWTH`] times its share).
#[derive(Debug)]
pub(crate) struct Throttle {
    limit: AtomicUsize,
    busy: Mutex<usize>,
    freed: Condvar,
}

/// A location's pool has threads for this many times its first share.
const POOL_GROWTH: usize = 4;

impl Throttle {
    fn new(limit: usize) -> Throttle {
        Throttle {
            limit: AtomicUsize::new(limit.max(1)),
            busy: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    fn set(&self, limit: usize) {
        self.limit.store(limit.max(1), Ordering::Relaxed);
        let _busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        self.freed.notify_all();
    }

    /// Waits for a turn to work; the turn ends when the permit is dropped.
    /// A permit holder never waits for another task, so this cannot block
    /// for good.
    pub(super) fn permit(&self) -> Permit<'_> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= self.limit.load(Ordering::Relaxed) {
            busy = self.freed.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += 1;
        Permit(self)
    }
}

/// A turn to work, from [`Throttle::permit`].
pub(super) struct Permit<'a>(&'a Throttle);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.busy.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        self.0.freed.notify_one();
    }
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

/// Worker processes and thread pools waiting for their next location.
#[derive(Default)]
struct Idle {
    workers: Vec<worker::CrawlWorker>,
    pools: Vec<rayon::ThreadPool>,
}

impl Idle {
    /// Drops the workers that died while idle (killed, crashed): reaped
    /// here, their threads end with their queues.
    fn drop_dead_workers(&mut self) {
        self.workers.retain(|worker| !worker.exited());
    }
}

/// How often idle workers are looked at, so one that died is reaped even
/// while nothing else happens.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Why a location is given up on when its worker died before starting it
/// twice: a share cannot make the audit start workers without end.
fn died_twice(reason: &str) -> String {
    format!("the crawl worker died twice before starting on it; the second time: {reason}")
}

/// A location being crawled.
struct Running {
    started: Instant,
    location: Location,
    activity: Arc<Activity>,
    /// The worker process, when the location is crawled in one.
    worker: Option<worker::CrawlWorker>,
    /// How many of its threads may work at once, when on threads here.
    throttle: Option<Arc<Throttle>>,
    /// That number, as last set.
    threads: usize,
}

impl Running {
    /// Lets `threads` of the location's threads work at once.
    fn set_threads(&mut self, threads: usize) {
        if threads == self.threads {
            return;
        }
        self.threads = threads;
        if let Some(throttle) = &self.throttle {
            throttle.set(threads);
        }
        if let Some(worker) = &self.worker {
            // A worker that cannot take it is failing: its thread says why.
            let _ = worker.set_threads(threads);
        }
    }
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
/// With [`Isolation::Process`] locations are crawled by worker processes,
/// each taking one location after another and reporting progress; one
/// given up on is killed and abandoned (a read stuck in the kernel may
/// keep it alive, but not this process) and a new one takes the next
/// location. With [`Isolation::Thread`] its threads are left behind instead.
/// A worker that died while idle is reaped and dropped; a location whose
/// worker died before starting on it goes to another worker, once.
pub(crate) fn crawl_all(
    locations: Vec<Discovered>,
    settings: &CrawlSettings,
    progress: Arc<Progress>,
    sink: &dyn Sink,
) -> Vec<Crawled> {
    crawl_with(&worker::Program::default(), locations, settings, progress, sink)
}

/// [`crawl_all`], with worker processes running `program`.
fn crawl_with(
    program: &worker::Program,
    locations: Vec<Discovered>,
    settings: &CrawlSettings,
    progress: Arc<Progress>,
    sink: &dyn Sink,
) -> Vec<Crawled> {
    let max_running = settings.jobs;
    let per_server = settings.per_server;
    let threads = hashing_threads(&locations, max_running, per_server);
    let pool_threads = (threads * POOL_GROWTH).min(max_running).max(threads);
    let shared = Arc::new(settings.clone());
    progress.locations_total.store(locations.len(), Ordering::Relaxed);
    let (sender, receiver) = mpsc::sync_channel::<Event>(EVENTS_IN_FLIGHT);
    let mut results: Vec<Option<Crawled>> = (0..locations.len()).map(|_| None).collect();
    let mut pending: VecDeque<(usize, Discovered)> = locations.into_iter().enumerate().collect();
    let mut running: BTreeMap<usize, Running> = BTreeMap::new();
    let mut idle = Idle::default();
    // Locations given back once because their worker died before starting.
    let mut given_back: BTreeSet<usize> = BTreeSet::new();
    let finish = |results: &mut Vec<Option<Crawled>>, slot: usize, crawled: Crawled| {
        results[slot] = Some(crawled);
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
                program,
                slot,
                settings: shared.clone(),
                threads,
                pool_threads,
                progress: progress.clone(),
                sender: sender.clone(),
            };
            match start.run(discovered, &mut idle) {
                Ok(started) => {
                    running.insert(slot, started);
                }
                Err(reason) => finish(&mut results, slot, not_crawled(location, reason)),
            }
        }
        if running.is_empty() {
            break;
        }
        // The jobs shared among the locations running now: when the last
        // ones run, they get the threads of those that finished.
        let share = (max_running / running.len()).clamp(threads, pool_threads);
        for r in running.values_mut() {
            r.set_threads(share);
        }
        // With a limit to watch, look again at least every quarter second;
        // with idle workers, every IDLE_CHECK.
        let wait = if settings.location_timeout.is_some() || settings.stall_timeout.is_some() {
            Duration::from_millis(250)
        } else if !idle.workers.is_empty() {
            IDLE_CHECK
        } else {
            Duration::from_secs(3600)
        };
        let first = match receiver.recv_timeout(wait) {
            Ok(event) => Some(event),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        // Take every event that is in before judging who ran out of time
        // (at most a channel's worth: senders keep adding).
        let arrived: Vec<Event> = first
            .into_iter()
            .chain(receiver.try_iter().take(EVENTS_IN_FLIGHT))
            .collect();
        for event in arrived {
            match event {
                Event::Batch(slot, batch) => {
                    // A location given up on is over: the rest is dropped.
                    if let Some(r) = running.get(&slot) {
                        deliver(&r.location, batch, sink);
                    }
                }
                Event::Done { slot, crawled, reuse } => {
                    if let Some(r) = running.remove(&slot) {
                        match (reuse, r.worker) {
                            (Reuse::Worker, Some(worker)) => idle.workers.push(worker),
                            (Reuse::Pool(pool), _) => idle.pools.push(pool),
                            _ => {}
                        }
                        finish(&mut results, slot, crawled);
                    }
                }
                Event::Unstarted {
                    slot,
                    discovered,
                    reason,
                } => {
                    // Its dead worker is dropped with `r`, not reused.
                    if let Some(r) = running.remove(&slot) {
                        if given_back.insert(slot) {
                            pending.push_front((slot, discovered));
                        } else {
                            finish(&mut results, slot, not_crawled(r.location, died_twice(&reason)));
                        }
                    }
                }
            }
        }
        idle.drop_dead_workers();
        let expired: Vec<(usize, String)> = running
            .iter()
            .filter_map(|(slot, r)| expiry(r, settings).map(|reason| (*slot, reason)))
            .collect();
        for (slot, reason) in expired {
            if let Some(r) = running.remove(&slot) {
                r.activity.give_up();
                if let Some(worker) = r.worker {
                    worker.abandon();
                }
                finish(&mut results, slot, not_crawled(r.location, reason));
            }
        }
    }
    // Their queues close: idle workers exit.
    drop(idle);
    results.into_iter().flatten().collect()
}

/// Hands a batch of `location` to `sink`.
fn deliver(location: &Location, batch: Batch, sink: &dyn Sink) {
    for (record, detail) in batch.entries {
        sink.entry(location, record, detail);
    }
    for folder in batch.folders {
        sink.folder(location, folder);
    }
}

/// Threads per location: `jobs` shared among the locations that can run at
/// once, so the crawl as a whole runs on about `jobs` threads.
fn hashing_threads(locations: &[Discovered], jobs: usize, per_server: usize) -> usize {
    let mut per_host: BTreeMap<String, usize> = BTreeMap::new();
    for d in locations.iter().filter(|d| d.location.status == Status::Ok) {
        *per_host.entry(d.location.server.to_ascii_uppercase()).or_default() += 1;
    }
    let at_once: usize = per_host.values().map(|n| (*n).min(per_server)).sum();
    (jobs / at_once.clamp(1, jobs.max(1))).max(1)
}

/// The pool of `threads` threads one location is walked, read and hashed on.
fn location_pool(threads: usize) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("smsaudit-crawl-{i}"))
        .build()
        .map_err(|err| format!("cannot start threads: {err}"))
}

/// What starting one location needs.
struct Start<'a> {
    /// What worker processes run.
    program: &'a worker::Program,
    slot: usize,
    settings: Arc<CrawlSettings>,
    /// How many of its threads may work at first.
    threads: usize,
    /// Threads in its pool.
    pool_threads: usize,
    progress: Arc<Progress>,
    sender: mpsc::SyncSender<Event>,
}

impl Start<'_> {
    /// Starts crawling a location: in a worker process (an idle one, or a
    /// new one) when the settings say so and the location has a share to
    /// read, else on a thread. Returns what the scheduler watches, or why it
    /// could not start.
    fn run(self, discovered: Discovered, idle: &mut Idle) -> Result<Running, String> {
        let activity = Arc::new(Activity::new());
        let running = |worker, throttle| Running {
            started: Instant::now(),
            location: discovered.location.clone(),
            activity: activity.clone(),
            worker,
            throttle,
            threads: self.threads,
        };
        if self.settings.isolation == Isolation::Process && discovered.location.status == Status::Ok {
            // The worker's progress arrives as heartbeats.
            let mut job = Box::new(worker::Job {
                slot: self.slot,
                discovered: discovered.clone(),
                threads: self.threads,
                pool_threads: self.pool_threads,
                activity: activity.clone(),
            });
            // An idle worker that died is dropped; one whose thread ended
            // gives the job back. One that dies from here until it starts
            // on the job gives it back as `Event::Unstarted`.
            while let Some(worker) = idle.workers.pop() {
                if worker.exited() {
                    continue;
                }
                match worker.take(job) {
                    Ok(()) => return Ok(running(Some(worker), None)),
                    Err(back) => job = back,
                }
            }
            let worker =
                worker::CrawlWorker::start(self.program, &self.settings, self.progress.clone(), self.sender.clone())
                    .map_err(|err| format!("cannot start a crawl worker: {err}"))?;
            return match worker.take(job) {
                Ok(()) => Ok(running(Some(worker), None)),
                Err(_) => Err("the crawl worker failed: it ended before its first location".into()),
            };
        }
        let throttle = Arc::new(Throttle::new(self.threads));
        let started = running(None, Some(throttle.clone()));
        let idle_pool = idle.pools.pop();
        let Start {
            slot,
            settings,
            pool_threads,
            progress,
            sender,
            ..
        } = self;
        std::thread::Builder::new()
            .name("smsaudit-location".into())
            .spawn(move || {
                let send = |batch| sender.send(Event::Batch(slot, batch)).is_ok();
                let (crawled, reuse) = match idle_pool.map_or_else(|| location_pool(pool_threads), Ok) {
                    Ok(pool) => (
                        crawl_location(discovered, &settings, &pool, &throttle, &progress, &activity, &send),
                        Reuse::Pool(pool),
                    ),
                    Err(reason) => (not_crawled(discovered.location, reason), Reuse::Nothing),
                };
                let _ = sender.send(Event::Done { slot, crawled, reuse });
            })
            .map_err(|err| format!("cannot start a thread: {err}"))?;
        Ok(started)
    }
}

/// Why a running location is given up on, if it is.
fn expiry(running: &Running, settings: &CrawlSettings) -> Option<String> {
    if let Some(limit) = settings.stall_timeout {
        if running.activity.idle() >= limit {
            return Some(format!(
                "no answer for {} s: the share stopped answering",
                limit.as_secs()
            ));
        }
    }
    match settings.location_timeout {
        Some(limit) if running.started.elapsed() >= limit => Some(format!(
            "timed out after {} s: the share stopped answering",
            limit.as_secs()
        )),
        _ => None,
    }
}

fn not_crawled(mut location: Location, reason: String) -> Crawled {
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
            pending: Mutex::new((Batch::default(), Instant::now())),
            gone: AtomicBool::new(false),
        }
    }

    fn add(&self, put: impl FnOnce(&mut Batch)) {
        let due = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            put(&mut pending.0);
            if pending.0.len() >= BATCH_SIZE || pending.1.elapsed() >= BATCH_WAIT {
                pending.1 = Instant::now();
                Some(std::mem::take(&mut pending.0))
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

    fn send(&self, batch: Batch) {
        if !self.gone.load(Ordering::Relaxed) && !(self.send)(batch) {
            self.gone.store(true, Ordering::Relaxed);
        }
    }
}

/// One location's walk output: files read here, everything batched out.
struct Gather<'a> {
    location: &'a Location,
    settings: &'a CrawlSettings,
    progress: &'a Progress,
    activity: &'a Activity,
    batcher: Batcher<'a>,
    /// Files hashed and their bytes: the location's totals.
    files: AtomicU64,
    bytes: AtomicU64,
    case_twins: Mutex<Vec<CaseTwins>>,
}

impl walk::Found for Gather<'_> {
    fn file(&self, entry: Entry) {
        let touch = || self.activity.touch();
        let (record, detail) = read::read_file(self.location, entry, self.settings.max_parse_bytes, &touch);
        self.progress.files.fetch_add(1, Ordering::Relaxed);
        self.progress
            .bytes
            .fetch_add(record.size.unwrap_or(0), Ordering::Relaxed);
        if record.sha256.is_some() {
            self.files.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(record.size.unwrap_or(0), Ordering::Relaxed);
        }
        self.batcher.add(|batch| batch.entries.push((record, detail)));
    }

    fn row(&self, record: FileRecord) {
        self.batcher.add(|batch| batch.entries.push((record, Detail::None)));
    }

    fn folder(&self, relative: String) {
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
fn crawl_location(
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
        location: &location,
        settings,
        progress,
        activity,
        batcher: Batcher::new(send),
        files: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        case_twins: Mutex::new(Vec::new()),
    };
    let walked = walk::walk_location(
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
    if let Err(reason) = walked {
        // Nothing of the share was checked: not clean.
        return not_crawled(location, reason);
    }
    // Found in whatever order the listings ended: sorted, like the paths.
    case_twins.sort_unstable_by(|a, b| a.lower.cmp(&b.lower));
    location.files = files;
    location.bytes = bytes;
    Crawled { location, case_twins }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LocationKind;
    use std::path::Path;

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

    /// The threads of the locations that run at once add up to about
    /// `jobs`, however many locations there are.
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
        assert_eq!(*throttle.busy.lock().unwrap(), 0);
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
