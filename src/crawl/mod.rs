//! Parallel crawl of every location: scheduling (this module), the walk of
//! one share ([`walk`]) and the reading and hashing of one file ([`read`]).
//! Each regular file is read once, in bounded buffers, hashed with SHA-256
//! and handed to its parser.
//!
//! Links are never followed, non-regular files are never opened (a FIFO
//! would block), and nothing is ever written to a share.

mod read;
mod walk;

pub use read::hash_file;

use crate::config::Config;
use crate::discover::Discovered;
use crate::extract::Detail;
use crate::model::{FileRecord, Location, Status};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use walk::Entry;

/// One crawled location: its record and every file with what was extracted.
#[derive(Debug)]
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
}

impl Activity {
    fn new() -> Activity {
        Activity {
            epoch: Instant::now(),
            last_millis: AtomicU64::new(0),
        }
    }

    pub(super) fn touch(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.last_millis.fetch_max(now, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }
}

/// A location being crawled.
struct Running {
    started: Instant,
    location: Location,
    activity: Arc<Activity>,
}

/// Crawls every location. Each location runs on a thread of its own, at
/// most `config.jobs` at once and `config.per_server` per server, and hashes
/// its files on a shared pool of `config.jobs` threads. A location that
/// makes no progress for `config.stall_timeout`, or does not finish within
/// `config.location_timeout`, is reported as not answering: a read stuck in
/// the kernel cannot be cancelled, so its thread is left behind and the
/// audit goes on.
pub(crate) fn crawl_all(locations: Vec<Discovered>, config: &Config, progress: Arc<Progress>) -> Vec<CrawledLocation> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.jobs.max(1))
        .thread_name(|i| format!("smsaudit-hash-{i}"))
        .build()
        .ok()
        .map(Arc::new);
    let shared = Arc::new(config.clone());
    progress.locations_total.store(locations.len(), Ordering::Relaxed);
    let (sender, receiver) = mpsc::channel::<(usize, CrawledLocation)>();
    let mut results: Vec<Option<CrawledLocation>> = (0..locations.len()).map(|_| None).collect();
    let mut pending: VecDeque<(usize, Discovered)> = locations.into_iter().enumerate().collect();
    let mut running: BTreeMap<usize, Running> = BTreeMap::new();
    let max_running = config.jobs.max(1);
    let per_server = config.per_server.max(1);
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
            let activity = Arc::new(Activity::new());
            running.insert(
                slot,
                Running {
                    started: Instant::now(),
                    location: discovered.location.clone(),
                    activity: activity.clone(),
                },
            );
            let (sender, config, pool, progress) = (sender.clone(), shared.clone(), pool.clone(), progress.clone());
            let spawned = std::thread::Builder::new()
                .name("smsaudit-location".into())
                .spawn(move || {
                    let crawled = crawl_location(discovered, &config, pool.as_deref(), &progress, &activity);
                    let _ = sender.send((slot, crawled));
                });
            if let Err(err) = spawned {
                if let Some(r) = running.remove(&slot) {
                    results[slot] = Some(not_crawled(r.location, format!("cannot start a thread: {err}")));
                }
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
        match receiver.recv_timeout(wait) {
            Ok((slot, crawled)) => {
                if running.remove(&slot).is_some() {
                    results[slot] = Some(crawled);
                    progress.locations_done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let expired: Vec<(usize, String)> = running
            .iter()
            .filter_map(|(slot, r)| expiry(r, config).map(|reason| (*slot, reason)))
            .collect();
        for (slot, reason) in expired {
            if let Some(r) = running.remove(&slot) {
                results[slot] = Some(not_crawled(r.location, reason));
                progress.locations_done.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    results.into_iter().flatten().collect()
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
        let read = read::read_file(&location, entry, config, &|| activity.touch());
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
