//! Who runs where and when: the locations are started at most `jobs` at
//! once and `per_server` per server, each on threads of this process or in
//! a worker process ([`super::process`]), with its share of the hashing
//! threads raised as others finish; a location that stalls or runs out of
//! time is given up on (its worker killed and abandoned); a location whose
//! worker died before starting on it is given to another worker, once.
//! What the locations find reaches the sink here, on the scheduler's
//! thread.

use super::admission::Admission;
use super::location::{crawl_location, location_pool, not_crawled, Activity, Throttle};
use super::process::{CrawlWorker, Job};
use super::walk::share::Local;
use super::{Batch, CrawlSettings, Crawled, Event, Progress, Reuse, Sink};
use crate::config::Isolation;
use crate::discover::Discovered;
use crate::model::{Location, Status};
use crate::worker::Program;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Events waiting for the scheduler at most: a crawl faster than its sink
/// waits for it rather than filling memory.
const EVENTS_IN_FLIGHT: usize = 64;

/// A location's pool has threads for this many times its first share.
const POOL_GROWTH: usize = 4;

/// Worker processes and thread pools waiting for their next location.
#[derive(Default)]
struct Idle {
    workers: Vec<CrawlWorker>,
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
    worker: Option<CrawlWorker>,
    /// How many of its threads may work at once, when on threads here.
    throttle: Option<Arc<Throttle>>,
    /// That number, as last set.
    threads: usize,
    /// Read over SMB by the `smsaudit-smb` helper: its worker never takes
    /// another location (one share, one libsmbclient context), and it waits
    /// on the network whatever the cores do, so its part of `-j` is not
    /// held back by the admission.
    over_smb: bool,
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

/// [`super::crawl_all`], with worker processes running `program`.
pub(super) fn crawl_with(
    program: &Program,
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
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut admission = Admission::new(max_running, cores);
    loop {
        let mut index = 0;
        while running.len() < admission.limit() && index < pending.len() {
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
        let at_once = running.len();
        for r in running.values_mut() {
            let jobs = if r.over_smb { max_running } else { admission.limit() };
            r.set_threads((jobs / at_once).clamp(threads.min(jobs), pool_threads));
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
        // While the limit may grow, look at the CPU at least as often.
        let wait = match admission.next_look() {
            Some(look) => wait.min(look),
            None => wait,
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
                            (Reuse::Worker, Some(worker)) if !r.over_smb => idle.workers.push(worker),
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
        // The limit holds back the locations waiting for room and the
        // threads of those running (their share of it).
        let held_back = !running.is_empty() || !pending.is_empty();
        let workers = running.values().filter_map(|r| r.worker.as_ref());
        admission.look(workers.chain(&idle.workers).map(CrawlWorker::id), held_back);
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

/// What starting one location needs.
struct Start<'a> {
    /// What worker processes run.
    program: &'a Program,
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
            over_smb: false,
        };
        if crate::smb::looks_like_url(&discovered.path) && discovered.location.status == Status::Ok {
            // Read over SMB by the helper, in a process of its own whatever
            // the isolation: the share's I/O is the helper's.
            let program = smb_helper(&self.settings)?;
            let job = Box::new(Job {
                slot: self.slot,
                discovered: discovered.clone(),
                threads: self.threads,
                pool_threads: self.pool_threads,
                activity: activity.clone(),
            });
            let worker = CrawlWorker::start(&program, &self.settings, self.progress.clone(), self.sender.clone())
                .map_err(|err| format!("cannot start the SMB reader smsaudit-smb: {err}"))?;
            return match worker.take(job) {
                Ok(()) => Ok(Running {
                    over_smb: true,
                    ..running(Some(worker), None)
                }),
                Err(_) => Err("the SMB reader smsaudit-smb ended before its share".into()),
            };
        }
        if self.settings.isolation == Isolation::Process && discovered.location.status == Status::Ok {
            // The worker's progress arrives as heartbeats.
            let mut job = Box::new(Job {
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
            let worker = CrawlWorker::start(self.program, &self.settings, self.progress.clone(), self.sender.clone())
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
                        crawl_location(
                            &Local, discovered, &settings, &pool, &throttle, &progress, &activity, &send,
                        ),
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

/// The `smsaudit-smb` helper, told where the `--smb-auth` file is.
fn smb_helper(settings: &CrawlSettings) -> Result<Program, String> {
    let path = crate::smb::helper_path().ok_or_else(|| {
        format!(
            "not read: the SMB reader {} is not installed beside smsaudit (build it with `cargo build --features smb`)",
            crate::smb::HELPER_NAME
        )
    })?;
    let env = settings
        .smb_auth
        .iter()
        .map(|file| (crate::smb::AUTH_FILE_ENV, file.clone().into_os_string()))
        .collect();
    Ok(Program::Helper { path, env })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::fixtures::share;

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
}
