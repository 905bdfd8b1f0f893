//! A crawl worker process as the scheduler holds it: started through the
//! shared runner ([`crate::worker`]), given one location after another
//! ([`Job`]), its lines turned into events for the scheduler. The
//! scheduler measures a location's stall from those lines, and kills and
//! abandons a worker whose share stopped answering: a read stuck in the
//! kernel (a dead FUSE or network mount) may keep the worker alive, but
//! never the audit. The next location goes to a new worker.
//!
//! A worker says when it starts on a location ([`Message::Started`]). One
//! that died before that (killed while idle, say) has not touched the
//! share: its location goes back to the scheduler ([`Event::Unstarted`]) for
//! another worker, rather than being reported unreadable.

use super::location::{not_crawled, Activity};
use super::protocol::{self, Message, Order, Request};
use super::{CrawlSettings, Crawled, Event, Progress, Reuse};
use crate::discover::Discovered;
use crate::model::CaseTwins;
use crate::worker::{self, Program, Session, Worker};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};

/// A location handed to a worker, and what the scheduler watches it by.
pub(super) struct Job {
    pub slot: usize,
    pub discovered: Discovered,
    pub threads: usize,
    pub pool_threads: usize,
    pub activity: Arc<Activity>,
}

/// A worker process that crawls the locations it is given, one after
/// another, and the queue of its thread in this process.
pub(super) struct CrawlWorker {
    process: Worker,
    input: worker::Input,
    jobs: mpsc::Sender<Box<Job>>,
}

impl CrawlWorker {
    /// Starts a worker; a thread of this process sends it each job and
    /// turns its lines into events for the scheduler.
    pub(super) fn start(
        program: &Program,
        settings: &CrawlSettings,
        progress: Arc<Progress>,
        events: mpsc::SyncSender<Event>,
    ) -> io::Result<CrawlWorker> {
        let settings = settings.clone();
        let (jobs, queue) = mpsc::channel::<Box<Job>>();
        let (process, input) = worker::start("crawl worker", program, &[], move |session| {
            serve_jobs(session, &queue, &settings, &progress, &events)
        })?;
        Ok(CrawlWorker { process, input, jobs })
    }

    /// Lets `threads` threads of its location work at once.
    pub(super) fn set_threads(&self, threads: usize) -> io::Result<()> {
        self.input.send(&Order::Threads(threads))
    }

    /// Gives the worker its next location; gives it back if the worker's
    /// thread has ended (the worker failed).
    pub(super) fn take(&self, job: Box<Job>) -> Result<(), Box<Job>> {
        self.jobs.send(job).map_err(|refused| refused.0)
    }

    /// The worker's process id.
    pub(super) fn id(&self) -> u32 {
        self.process.id()
    }

    /// Whether the worker process has exited (reaped if so): an idle one
    /// that did is dropped, not given a location.
    pub(super) fn exited(&self) -> bool {
        self.process.exited()
    }

    /// Kills the worker without waiting for it; it takes no more jobs.
    pub(super) fn abandon(self) {
        self.process.abandon();
    }
}

/// The thread that talks to one worker: each job's request out, its lines
/// in, until the queue closes (the worker then ends with its input) or the
/// worker fails (then it takes no more, and its job is reported unreadable,
/// or given back if the worker never started on it).
fn serve_jobs(
    mut session: Session,
    queue: &mpsc::Receiver<Box<Job>>,
    settings: &CrawlSettings,
    progress: &Progress,
    events: &mpsc::SyncSender<Event>,
) {
    // The worker's totals last seen, over all its jobs.
    let mut seen = (0u64, 0u64);
    for job in queue {
        let Job {
            slot,
            discovered,
            threads,
            pool_threads,
            activity,
        } = *job;
        // Kept to give the job back if the worker dies before starting it.
        let unstarted = discovered.clone();
        let request = Request {
            discovered,
            settings: settings.clone(),
            threads,
            pool_threads,
        };
        let mut started = false;
        let outcome = match session.request(&Order::Crawl(Box::new(request))) {
            Ok(()) => follow(&mut session, slot, &activity, progress, events, &mut seen, &mut started),
            Err(err) => Err(format!("cannot send it a location: {err}")),
        };
        match outcome {
            Ok(crawled) => {
                let done = Event::Done {
                    slot,
                    crawled,
                    reuse: Reuse::Worker,
                };
                if events.send(done).is_err() {
                    return;
                }
            }
            Err(why) => {
                let reason = session.failure(&why);
                let event = if started {
                    Event::Done {
                        slot,
                        crawled: not_crawled(unstarted.location, reason),
                        reuse: Reuse::Nothing,
                    }
                } else {
                    Event::Unstarted {
                        slot,
                        discovered: unstarted,
                        reason,
                    }
                };
                let _ = events.send(event);
                return;
            }
        }
    }
}

/// Reads a worker's lines for one location until its result; the error
/// says why there is none. `started` is set once a line about the location
/// arrives (a progress line may still be about the one before).
fn follow(
    session: &mut Session,
    slot: usize,
    activity: &Activity,
    progress: &Progress,
    events: &mpsc::SyncSender<Event>,
    seen: &mut (u64, u64),
    started: &mut bool,
) -> Result<Crawled, String> {
    loop {
        let message = session.next_with(protocol::read_message)?;
        *started |= !matches!(message, Message::Progress { .. });
        match message {
            Message::Started => activity.touch(),
            Message::Progress { files, bytes } => {
                activity.touch();
                progress
                    .files
                    .fetch_add(files.saturating_sub(seen.0), Ordering::Relaxed);
                progress
                    .bytes
                    .fetch_add(bytes.saturating_sub(seen.1), Ordering::Relaxed);
                *seen = (files.max(seen.0), bytes.max(seen.1));
            }
            Message::Batch(batch) => {
                activity.touch();
                events
                    .send(Event::Batch(slot, batch))
                    .map_err(|_| "the crawl is over".to_string())?;
            }
            Message::Done { location, case_twins } => {
                let case_twins = case_twins
                    .into_iter()
                    .map(|(lower, paths)| CaseTwins {
                        location: location.name.clone(),
                        lower,
                        paths,
                    })
                    .collect();
                return Ok(Crawled { location, case_twins });
            }
        }
    }
}

/// Workers played by `sh` scripts: Unix only.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::crawl::fixtures::location;
    use crate::extract::Detail;
    use crate::model::{FileRecord, Location, Status};

    /// What crawling `shares` locations (all on one server, at most `jobs`
    /// at once) in workers running `script` (`sh -c script launches
    /// answer`) gives: each location's status and reason, how many workers
    /// were started (the script adds a line to `launches` each time) and
    /// how many locations were counted done. `answer` holds the frames a
    /// worker that crawled a location would write: `Started`, the first
    /// [`STARTED_BYTES`] bytes, then `Done`.
    fn crawl_in(script: &str, shares: usize, jobs: usize) -> (Vec<(Status, String)>, usize, usize) {
        struct Ignore;
        impl crate::crawl::Sink for Ignore {
            fn entry(&self, _: &Location, _: FileRecord, _: Detail) {}
            fn folder(&self, _: &Location, _: String) {}
        }
        let dir = tempfile::tempdir().unwrap();
        let (launches, answer) = (dir.path().join("launches"), dir.path().join("answer"));
        let crawled = location(dir.path().to_str().unwrap());
        let mut frames = Vec::new();
        protocol::write_message(&mut frames, &Message::Started).unwrap();
        assert_eq!(frames.len(), STARTED_BYTES);
        let done = Message::Done {
            location: crawled.clone(),
            case_twins: Vec::new(),
        };
        protocol::write_message(&mut frames, &done).unwrap();
        std::fs::write(&answer, frames).unwrap();
        let discovered = (0..shares)
            .map(|_| Discovered {
                location: crawled.clone(),
                path: dir.path().to_path_buf(),
                holds_no_share: false,
                linked: false,
            })
            .collect();
        let mut config = Config::new(Vec::new());
        config.isolation = crate::config::Isolation::Process;
        config.jobs = jobs;
        let launches_arg = launches.to_str().unwrap();
        let program = Program::stand_in(&["sh", "-c", script, launches_arg, answer.to_str().unwrap()]);
        let progress = Arc::new(Progress::default());
        let results = super::super::scheduler::crawl_with(
            &program,
            discovered,
            &CrawlSettings::of(&config),
            progress.clone(),
            &Ignore,
        );
        let started = std::fs::read_to_string(&launches).unwrap_or_default().lines().count();
        let results = results
            .into_iter()
            .map(|c| (c.location.status, c.location.reason))
            .collect();
        (results, started, progress.locations_done.load(Ordering::Relaxed))
    }

    /// A worker that crawled a location and then died while idle (before
    /// its next request, or on reading it) is not blamed: the next location
    /// goes to a new worker and is read.
    #[test]
    fn a_worker_that_died_idle_is_replaced_not_blamed() {
        for script in [
            // Dies once it has answered.
            r#"echo >> "$0"; read line; cat "$1"; exit 3"#,
            // Dies on reading its next request, before starting on it.
            r#"echo >> "$0"; read line; cat "$1"; read line; exit 3"#,
        ] {
            let (results, started, done) = crawl_in(script, 2, 1);
            assert_eq!(
                results,
                [(Status::Ok, String::new()), (Status::Ok, String::new())],
                "{script}"
            );
            assert_eq!((started, done), (2, 2), "{script}");
        }
    }

    /// A location whose workers die before starting on it is given to a
    /// new worker once; the second time it is unreadable, saying so, and
    /// counted done once.
    #[test]
    fn a_location_is_given_back_once_when_its_worker_dies_before_starting() {
        for script in [r#"echo >> "$0"; exit 3"#, r#"echo >> "$0"; read line; exit 3"#] {
            let (results, started, done) = crawl_in(script, 3, 2);
            assert_eq!((started, done, results.len()), (6, 3, 3), "{script}");
            for (status, reason) in results {
                assert_eq!(status, Status::Unreadable, "{script}");
                assert!(
                    reason.starts_with(
                        "the crawl worker died twice before starting on it; \
                         the second time: the crawl worker failed (exit status: 3)"
                    ),
                    "{script}: {reason}"
                );
            }
        }
    }

    /// The length of a `Started` frame: its length, then its variant.
    const STARTED_BYTES: usize = 5;

    /// A worker that dies once it started on a location fails that
    /// location, as before: it is not given to another worker.
    #[test]
    fn a_worker_that_dies_after_starting_fails_its_location() {
        // Says `Started` (its first 5 bytes) and dies.
        let (results, started, done) = crawl_in(r#"echo >> "$0"; read line; head -c 5 "$1"; exit 3"#, 2, 1);
        assert_eq!((started, done), (2, 2));
        for (status, reason) in results {
            assert_eq!(status, Status::Unreadable);
            assert_eq!(
                reason,
                "the crawl worker failed (exit status: 3): it ended without a result"
            );
        }
    }
}
