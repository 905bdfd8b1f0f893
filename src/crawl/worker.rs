//! The crawl worker's side: this executable run as `smsaudit
//! __crawl-worker`, taking locations to crawl as JSON lines on stdin
//! ([`super::protocol`]), one after another until stdin closes. For each it
//! says it started, then answers with batches of entries and folders as
//! they are found, progress whenever the crawl made progress (at most
//! every [`HEARTBEAT`]), then the crawled location.

use super::location::{crawl_location, location_pool, not_crawled, Activity, Throttle};
use super::protocol::{self, Message, Order, Request};
use super::walk::share::{Local, ShareFs};
use super::{Crawled, Progress};
use crate::worker;
use anyhow::Context;
use std::io::{self, BufRead};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

/// The hidden first argument that makes smsaudit a crawl worker.
pub const WORKER_COMMAND: &str = "__crawl-worker";

/// How often a worker may report progress: fine enough for stall limits
/// counted in seconds, coarse enough to cost nothing.
const HEARTBEAT: Duration = Duration::from_millis(100);

/// The worker's side, after [`WORKER_COMMAND`]. Returns the exit code.
pub fn worker_main() -> i32 {
    share_worker_main(WORKER_COMMAND, &Local)
}

/// A crawl worker over another share file system than this machine's:
/// the `smsaudit-smb` helper's `main` (`command` names it in errors).
/// Returns the exit code.
pub fn share_worker_main<S: ShareFs>(command: &str, fs: &S) -> i32 {
    let send = |message: &Message| protocol::write_message(&mut io::stdout().lock(), message);
    worker::serve(command, || serve(fs, io::BufReader::new(io::stdin()), &send))
}

/// Crawls each location requested on `input`, one after another, writing
/// every message with `send`, until `input` ends.
fn serve<S: ShareFs>(
    fs: &S,
    input: impl BufRead + Send,
    send: &(dyn Fn(&Message) -> io::Result<()> + Sync),
) -> anyhow::Result<()> {
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
        let served = serve_requests(fs, &requested, send, activity, progress, throttle);
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

fn serve_requests<S: ShareFs>(
    fs: &S,
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
                    fs,
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
    use crate::crawl::fixtures::location;
    use crate::crawl::CrawlSettings;
    use crate::discover::Discovered;
    use crate::model::{Location, Status};
    use std::sync::Mutex;

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
        let frames = Mutex::new(Vec::new());
        let send = |message: &Message| protocol::write_message(&mut *frames.lock().unwrap(), message);
        serve(&Local, input.as_bytes(), &send).unwrap();
        let frames = frames.into_inner().unwrap();
        let mut output = io::BufReader::new(frames.as_slice());
        // Per location: how many batches, their largest, entries, result.
        let mut answers: Vec<(usize, usize, usize, Location)> = Vec::new();
        let (mut batches, mut largest, mut entries) = (0, 0, 0);
        let mut started = 0;
        while let Some(message) = protocol::read_message(&mut output).unwrap() {
            match message {
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
