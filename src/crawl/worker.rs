//! Crawling locations in worker processes: this executable run as
//! `smsaudit __crawl-worker`, taking locations to crawl as JSON lines on
//! stdin, one after another until stdin closes. For each it answers on
//! stdout with JSON lines: batches of entries and folders as they are found,
//! progress whenever the crawl made progress (at most every [`HEARTBEAT`]),
//! then the crawled location. The scheduler measures the location's stall
//! from those lines, and kills and abandons a worker whose share stopped
//! answering: a read stuck in the kernel (a dead FUSE or network mount) may
//! keep the worker alive, but never the audit. The next location goes to a
//! new worker.
//!
//! A worker says when it starts on a location ([`Message::Started`]). One
//! that died before that (killed while idle, say) has not touched the
//! share: its location goes back to the scheduler ([`Event::Unstarted`]) for
//! another worker, rather than being reported unreadable.

use super::{
    crawl_location, location_pool, not_crawled, Activity, Batch, CrawlSettings, Crawled, Event, Progress, Reuse,
    Throttle,
};
use crate::discover::Discovered;
use crate::model::{CaseTwins, Location};
use crate::worker::{self, Session, Worker};
use anyhow::Context;
use std::ffi::OsString;
use std::io::{self, BufRead};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// The hidden first argument that makes smsaudit a crawl worker.
pub const WORKER_COMMAND: &str = "__crawl-worker";

/// How often a worker may report progress: fine enough for stall limits
/// counted in seconds, coarse enough to cost nothing.
const HEARTBEAT: Duration = Duration::from_millis(100);

/// What a worker is told, one line each.
#[derive(serde::Serialize, serde::Deserialize)]
enum Order {
    Crawl(Box<Request>),
    /// Let this many threads of the location being crawled work at once.
    Threads(usize),
}

/// One location for a worker; the share's path crosses byte-exactly
/// (`Discovered.path`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Request {
    discovered: Discovered,
    settings: CrawlSettings,
    /// Threads that may work at once, at first.
    threads: usize,
    /// Threads in its pool.
    pool_threads: usize,
}

/// One line a worker writes.
#[derive(serde::Serialize, serde::Deserialize)]
enum Message {
    /// The worker took the location just requested: from here on, its
    /// death is the location's failure.
    Started,
    /// Files and bytes read so far by this worker, over all its locations.
    Progress { files: u64, bytes: u64 },
    /// Entries and folders of the location being crawled.
    Batch(Batch),
    /// The location is done: its record and its case twins, as the shared
    /// lower-case path and every spelling.
    Done {
        location: Location,
        case_twins: Vec<(String, Vec<String>)>,
    },
}

/// A location handed to a worker, and what the scheduler watches it by.
pub(super) struct Job {
    pub slot: usize,
    pub discovered: Discovered,
    pub threads: usize,
    pub pool_threads: usize,
    pub activity: Arc<Activity>,
}

/// What a crawl worker runs: this executable with [`WORKER_COMMAND`], or a
/// stand-in that unit tests give.
#[derive(Default)]
pub(super) struct Program(Option<Vec<OsString>>);

impl Program {
    /// `argv[0]` and its arguments, instead of this executable.
    #[cfg(all(test, unix))]
    pub(super) fn stand_in(argv: &[&str]) -> Program {
        Program(Some(argv.iter().map(OsString::from).collect()))
    }

    fn command(&self) -> io::Result<std::process::Command> {
        match &self.0 {
            Some(argv) => {
                let (first, rest) = argv.split_first().ok_or_else(|| io::Error::other("no program"))?;
                let mut command = std::process::Command::new(first);
                command.args(rest);
                Ok(command)
            }
            None => worker::own(WORKER_COMMAND),
        }
    }
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
        let (process, input) = worker::start("crawl worker", program.command()?, move |session| {
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
        let message = session.next::<Message>()?;
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

/// The worker's side, after [`WORKER_COMMAND`]. Returns the exit code.
pub fn worker_main() -> i32 {
    let send = |message: &Message| worker::send(message);
    match serve(io::BufReader::new(io::stdin()), &send) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("smsaudit {WORKER_COMMAND}: {err:#}");
            2
        }
    }
}

/// Crawls each location requested on `input`, one after another, writing
/// every message with `send`, until `input` ends.
fn serve(input: impl BufRead + Send, send: &(dyn Fn(&Message) -> io::Result<()> + Sync)) -> anyhow::Result<()> {
    // One stall clock, one set of totals and one throttle for the worker's
    // life: it crawls one location at a time.
    let activity = Activity::new();
    let progress = Progress::default();
    let throttle = Throttle::new(1);
    let (activity, progress, throttle) = (&activity, &progress, &throttle);
    let report = move || Message::Progress {
        files: progress.files.load(Ordering::Relaxed),
        bytes: progress.bytes.load(Ordering::Relaxed),
    };
    let (stop, stopped) = mpsc::channel::<()>();
    let (requests, requested) = mpsc::channel::<anyhow::Result<Request>>();
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("smsaudit-heartbeat".into())
            .spawn_scoped(scope, move || {
                let mut seen = activity.last_progress();
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(HEARTBEAT) {
                    let last = activity.last_progress();
                    if last != seen {
                        seen = last;
                        // The scheduler is gone: nobody wants the rest.
                        if send(&report()).is_err() {
                            std::process::exit(1);
                        }
                    }
                }
            })
            .context("cannot start the heartbeat thread")?;
        // Orders are read while a location is crawled: its thread count
        // may change meanwhile.
        std::thread::Builder::new()
            .name("smsaudit-orders".into())
            .spawn_scoped(scope, move || read_orders(input, throttle, &requests))
            .context("cannot start the thread that reads orders")?;
        let served = serve_requests(&requested, send, activity, progress, throttle);
        drop(stop);
        served?;
        send(&report()).context("cannot send progress")
    })
}

/// Reads orders until `input` ends: thread counts are applied at once,
/// locations queued for [`serve_requests`].
fn read_orders(input: impl BufRead, throttle: &Throttle, requests: &mpsc::Sender<anyhow::Result<Request>>) {
    for line in input.lines() {
        let order = line
            .context("cannot read a request")
            .and_then(|line| serde_json::from_str::<Order>(&line).context("bad request"));
        match order {
            Ok(Order::Threads(threads)) => throttle.set(threads),
            Ok(Order::Crawl(request)) => {
                // Set here, in order: a later Threads order wins.
                throttle.set(request.threads);
                if requests.send(Ok(*request)).is_err() {
                    return;
                }
            }
            Err(err) => {
                let _ = requests.send(Err(err));
                return;
            }
        }
    }
}

fn serve_requests(
    requested: &mpsc::Receiver<anyhow::Result<Request>>,
    send: &(dyn Fn(&Message) -> io::Result<()> + Sync),
    activity: &Activity,
    progress: &Progress,
    throttle: &Throttle,
) -> anyhow::Result<()> {
    // Kept from one location to the next while its size is the same; one
    // that could not be started is tried again for the next location.
    let mut pool: Option<rayon::ThreadPool> = None;
    for request in requested {
        let request = request?;
        send(&Message::Started).context("cannot say it started")?;
        let made = match pool.take() {
            Some(kept) if kept.current_num_threads() == request.pool_threads.max(1) => Ok(kept),
            _ => location_pool(request.pool_threads),
        };
        let crawled = match made {
            Ok(made) => {
                let batch = |batch| send(&Message::Batch(batch)).is_ok();
                let crawled = crawl_location(
                    request.discovered,
                    &request.settings,
                    &made,
                    throttle,
                    progress,
                    activity,
                    &batch,
                );
                pool = Some(made);
                crawled
            }
            Err(reason) => not_crawled(request.discovered.location, reason),
        };
        send(&Message::Progress {
            files: progress.files.load(Ordering::Relaxed),
            bytes: progress.bytes.load(Ordering::Relaxed),
        })
        .context("cannot send progress")?;
        let Crawled { location, case_twins } = crawled;
        let case_twins = case_twins.into_iter().map(|t| (t.lower, t.paths)).collect();
        send(&Message::Done { location, case_twins }).context("cannot send the result")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::extract::{pe, Detail};
    use crate::model::{FileKind, FileRecord, LocationKind, Status};
    use std::sync::Mutex;

    fn location(root: &str) -> Location {
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
        }
    }

    /// What a worker sends is what the scheduler gets, field for field.
    #[test]
    fn batches_and_results_survive_the_trip() {
        let location = location("/mnt/S/CAP_AB1");
        let record = FileRecord {
            version: Some("2.00.1493.3004".into()),
            size: Some(7),
            sha256: Some("ab".repeat(32)),
            ..FileRecord::not_read(
                &location.name,
                "x86.bin\\clicore.exe".into(),
                FileKind::Binary,
                Status::Ok,
                String::new(),
            )
        };
        let info = pe::VersionInfo {
            fixed_file_version: "2.0.1493.3004".into(),
            fixed_product_version: "2.0.1493.3004".into(),
            translations: vec![(0x409, 1200)],
            string_tables: Vec::new(),
        };
        let batch = Message::Batch(Batch {
            entries: vec![
                (record.clone(), Detail::Pe(info)),
                (record, Detail::Copylog(vec![("a\u{FFFD}".into(), "AB1".into())])),
            ],
            folders: vec!["x86.bin".into()],
        });
        let done = Message::Done {
            location,
            case_twins: vec![("a".into(), vec!["A".into(), "a".into()])],
        };
        for sent in [batch, done] {
            let line = serde_json::to_string(&sent).unwrap();
            let got = serde_json::from_str::<Message>(&line).unwrap();
            assert_eq!(serde_json::to_string(&got).unwrap(), line);
        }
    }

    #[test]
    fn a_worker_gets_the_crawl_settings() {
        let mut config = Config::new(Vec::new());
        config.exclude = crate::config::Exclusions::new(vec!["*.log".into()]).unwrap();
        config.max_parse_bytes = 99;
        config.stall_timeout = Some(Duration::from_secs(7));
        let json = serde_json::to_string(&CrawlSettings::of(&config)).unwrap();
        let got = serde_json::from_str::<CrawlSettings>(&json).unwrap();
        assert_eq!(got.exclusions.patterns(), ["*.log"]);
        assert!(got.exclusions.matches(r"a\B.LOG"));
        assert_eq!(got.max_parse_bytes, 99);
        assert_eq!(got.stall_timeout, Some(Duration::from_secs(7)));
    }

    /// What crawling `shares` locations (all on one server, at most `jobs`
    /// at once) in workers running `script` (`sh -c script launches
    /// answer`) gives: each location's status and reason, how many workers
    /// were started (the script adds a line to `launches` each time) and
    /// how many locations were counted done. `answer` holds the lines a
    /// worker that crawled a location would write.
    #[cfg(unix)]
    fn crawl_in(script: &str, shares: usize, jobs: usize) -> (Vec<(Status, String)>, usize, usize) {
        struct Ignore;
        impl crate::crawl::Sink for Ignore {
            fn entry(&self, _: &Location, _: FileRecord, _: Detail) {}
            fn folder(&self, _: &Location, _: String) {}
        }
        let dir = tempfile::tempdir().unwrap();
        let (launches, answer) = (dir.path().join("launches"), dir.path().join("answer"));
        let crawled = location(dir.path().to_str().unwrap());
        let lines = [
            serde_json::to_string(&Message::Started).unwrap(),
            serde_json::to_string(&Message::Done {
                location: crawled.clone(),
                case_twins: Vec::new(),
            })
            .unwrap(),
        ];
        std::fs::write(&answer, lines.join("\n") + "\n").unwrap();
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
        let results = super::super::crawl_with(
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
    #[cfg(unix)]
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
    #[cfg(unix)]
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

    /// A worker that dies once it started on a location fails that
    /// location, as before: it is not given to another worker.
    #[cfg(unix)]
    #[test]
    fn a_worker_that_dies_after_starting_fails_its_location() {
        let (results, started, done) = crawl_in(r#"echo >> "$0"; read line; head -n 1 "$1"; exit 3"#, 2, 1);
        assert_eq!((started, done), (2, 2));
        for (status, reason) in results {
            assert_eq!(status, Status::Unreadable);
            assert_eq!(
                reason,
                "the crawl worker failed (exit status: 3): it ended without a result"
            );
        }
    }

    /// A worker answers each location of its input in turn: its entries in
    /// batches of at most BATCH_SIZE as they are found, then its result.
    #[test]
    fn a_worker_streams_each_location_in_batches_one_after_another() {
        let shares = tempfile::tempdir().unwrap();
        let mut input = String::new();
        for (share, files) in [("big", 700), ("small", 3)] {
            let dir = shares.path().join(share);
            std::fs::create_dir(&dir).unwrap();
            for i in 0..files {
                std::fs::write(dir.join(format!("f{i}.txt")), i.to_string()).unwrap();
            }
            let request = Request {
                discovered: Discovered {
                    location: Location {
                        name: format!(r"\\S\{share}"),
                        ..location("")
                    },
                    path: dir,
                    holds_no_share: false,
                    linked: false,
                },
                settings: CrawlSettings::of(&Config::new(Vec::new())),
                threads: 2,
                pool_threads: 3,
            };
            input.push_str(&serde_json::to_string(&Order::Crawl(Box::new(request))).unwrap());
            input.push('\n');
        }
        let lines = Mutex::new(Vec::new());
        let send = |message: &Message| {
            lines.lock().unwrap().push(serde_json::to_string(message)?);
            Ok(())
        };
        serve(input.as_bytes(), &send).unwrap();
        // Per location: how many batches, their largest, entries, result.
        let mut answers: Vec<(usize, usize, usize, Location)> = Vec::new();
        let (mut batches, mut largest, mut entries) = (0, 0, 0);
        let mut started = 0;
        for line in lines.into_inner().unwrap() {
            match serde_json::from_str::<Message>(&line).unwrap() {
                Message::Progress { .. } => {}
                // Said before anything else of its location.
                Message::Started => {
                    assert_eq!((batches, entries, answers.len()), (0, 0, started));
                    started += 1;
                }
                Message::Batch(batch) => {
                    batches += 1;
                    largest = largest.max(batch.len());
                    entries += batch.entries.len();
                }
                Message::Done { location, .. } => {
                    answers.push((batches, largest, entries, location));
                    (batches, largest, entries) = (0, 0, 0);
                }
            }
        }
        assert_eq!((answers.len(), started), (2, 2));
        let (batches, largest, entries, big) = &answers[0];
        assert_eq!(
            (big.name.as_str(), big.status, big.files),
            (r"\\S\big", Status::Ok, 700)
        );
        assert!(
            *batches >= 3 && *largest <= crate::crawl::BATCH_SIZE,
            "{batches} batches, {largest} at most"
        );
        assert_eq!(*entries, 700);
        let (_, _, entries, small) = &answers[1];
        assert_eq!((small.name.as_str(), small.files, *entries), (r"\\S\small", 3, 3));
    }
}
