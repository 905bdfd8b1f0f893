//! Crawling one location in a worker process: this executable run as
//! `smsaudit __crawl-worker <share path>`, with the rest of its request as
//! JSON on stdin. It answers on stdout with JSON lines: a progress line
//! whenever the crawl made progress (at most every [`HEARTBEAT`]), then the
//! crawled location. The scheduler measures the location's stall from those
//! lines, and kills and abandons a worker whose share stopped answering: a
//! read stuck in the kernel (a dead FUSE or network mount) may keep the
//! worker alive, but never the audit.

use super::{crawl_location, hashing_pool, not_crawled, Activity, CrawledLocation, Finished, Progress};
use crate::config::{Config, Faults};
use crate::discover::Discovered;
use crate::model::Location;
use crate::worker::{self, send, Worker, WorkerLines};
use anyhow::Context;
use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// The hidden first argument that makes smsaudit a crawl worker.
pub const WORKER_COMMAND: &str = "__crawl-worker";

/// How often a worker may report progress: fine enough for stall limits
/// counted in seconds, coarse enough to cost nothing.
const HEARTBEAT: Duration = Duration::from_millis(100);

/// What a worker is asked; the share's path is its argument, so a path that
/// is not Unicode reaches it unchanged.
#[derive(serde::Serialize, serde::Deserialize)]
struct Request {
    location: Location,
    settings: CrawlSettings,
    /// Hashing threads.
    threads: usize,
}

/// The settings the walk, reads and parsers of one location use: every
/// [`Config`] field they read must be carried here.
#[derive(serde::Serialize, serde::Deserialize)]
struct CrawlSettings {
    exclude: Vec<String>,
    max_parse_bytes: u64,
    faults: Faults,
}

impl CrawlSettings {
    fn of(config: &Config) -> CrawlSettings {
        CrawlSettings {
            exclude: config.exclude.clone(),
            max_parse_bytes: config.max_parse_bytes,
            faults: config.faults.clone(),
        }
    }

    fn into_config(self, threads: usize) -> Config {
        Config {
            exclude: self.exclude,
            max_parse_bytes: self.max_parse_bytes,
            faults: self.faults,
            jobs: threads,
            ..Config::new(Vec::new())
        }
    }
}

/// One line a worker writes.
#[derive(serde::Serialize, serde::Deserialize)]
enum Message {
    /// Files and bytes read so far.
    Progress {
        files: u64,
        bytes: u64,
    },
    Done(CrawledLocation),
}

/// Starts a worker for one location. A thread of this process writes the
/// request, turns the worker's progress into `activity` and `progress`, and
/// sends the result (or why there is none) to `sender` for `slot`.
pub(super) fn spawn(
    slot: usize,
    discovered: Discovered,
    config: &Config,
    threads: usize,
    activity: &Arc<Activity>,
    progress: Arc<Progress>,
    sender: mpsc::Sender<Finished>,
) -> io::Result<Worker> {
    let request = serde_json::to_vec(&Request {
        location: discovered.location.clone(),
        settings: CrawlSettings::of(config),
        threads,
    })?;
    let activity = activity.clone();
    let location = discovered.location;
    worker::spawn(
        "crawl worker",
        WORKER_COMMAND,
        discovered.path.as_os_str(),
        request,
        move |mut lines| follow(&mut lines, &activity, &progress),
        move |outcome| {
            let crawled = outcome.unwrap_or_else(|why| not_crawled(location, why));
            let _ = sender.send((slot, crawled));
        },
    )
}

/// Reads a worker's lines until its result; the error says why there is none.
fn follow(lines: &mut WorkerLines, activity: &Activity, progress: &Progress) -> Result<CrawledLocation, String> {
    let (mut files, mut bytes) = (0u64, 0u64);
    loop {
        match worker::next_message::<Message>(lines)? {
            Message::Progress { files: f, bytes: b } => {
                activity.touch();
                progress.files.fetch_add(f.saturating_sub(files), Ordering::Relaxed);
                progress.bytes.fetch_add(b.saturating_sub(bytes), Ordering::Relaxed);
                (files, bytes) = (f.max(files), b.max(bytes));
            }
            Message::Done(crawled) => return Ok(crawled),
        }
    }
}

/// The worker's side: `share` is the argument after [`WORKER_COMMAND`].
/// Returns the exit code.
pub fn worker_main(share: Option<OsString>) -> i32 {
    match serve(share) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("smsaudit {WORKER_COMMAND}: {err:#}");
            2
        }
    }
}

fn serve(share: Option<OsString>) -> anyhow::Result<()> {
    let path = PathBuf::from(share.context("no share path given")?);
    let request: Request = worker::read_request()?;
    let config = request.settings.into_config(request.threads);
    let activity = Arc::new(Activity::new(config.faults.read_delay(&request.location.name)));
    let progress = Arc::new(Progress::default());
    let report = |progress: &Progress| Message::Progress {
        files: progress.files.load(Ordering::Relaxed),
        bytes: progress.bytes.load(Ordering::Relaxed),
    };
    {
        let (activity, progress) = (activity.clone(), progress.clone());
        std::thread::Builder::new()
            .name("smsaudit-heartbeat".into())
            .spawn(move || {
                let mut seen = activity.last_progress();
                loop {
                    std::thread::sleep(HEARTBEAT);
                    let last = activity.last_progress();
                    if last != seen {
                        seen = last;
                        // The scheduler is gone: nobody wants the rest.
                        if send(&report(&progress)).is_err() {
                            std::process::exit(1);
                        }
                    }
                }
            })
            .context("cannot start the heartbeat thread")?;
    }
    let pool = hashing_pool(request.threads);
    let discovered = Discovered {
        location: request.location,
        path,
        holds_no_share: false,
        // A linked share is unreadable from discovery on: never crawled.
        linked: false,
    };
    let crawled = crawl_location(discovered, &config, pool.as_ref(), &progress, &activity);
    send(&report(&progress)).context("cannot send progress")?;
    send(&Message::Done(crawled)).context("cannot send the result")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{pe, Detail};
    use crate::model::{FileKind, FileRecord, LocationKind, Status};

    /// What a worker sends is what the scheduler gets, field for field.
    #[test]
    fn a_crawled_location_survives_the_trip() {
        let location = Location {
            name: r"\\S\CAP_AB1".into(),
            server: "S".into(),
            share: "CAP_AB1".into(),
            kind: LocationKind::Cap,
            root: "/mnt/S/CAP_AB1".into(),
            sites: vec!["AB1".into()],
            status: Status::Ok,
            reason: String::new(),
            files: 2,
            bytes: 7,
        };
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
        let sent = Message::Done(CrawledLocation {
            location,
            files: vec![
                (record.clone(), Detail::Pe(info)),
                (record, Detail::Copylog(vec![("a\u{FFFD}".into(), "AB1".into())])),
            ],
            folders: vec!["x86.bin".into()],
        });
        let line = serde_json::to_string(&sent).unwrap();
        let Ok(Message::Done(got)) = serde_json::from_str::<Message>(&line) else {
            panic!("not a result: {line}");
        };
        assert_eq!(serde_json::to_string(&Message::Done(got)).unwrap(), line);
    }

    #[test]
    fn a_worker_gets_the_crawl_settings() {
        let mut config = Config::new(Vec::new());
        config.exclude = vec!["*.log".into()];
        config.max_parse_bytes = 99;
        config.faults.latency = Some(Duration::from_millis(3));
        let json = serde_json::to_string(&CrawlSettings::of(&config)).unwrap();
        let got = serde_json::from_str::<CrawlSettings>(&json).unwrap().into_config(3);
        assert_eq!(got.exclude, config.exclude);
        assert_eq!(got.max_parse_bytes, 99);
        assert_eq!(got.faults.latency, config.faults.latency);
        assert_eq!(got.jobs, 3);
    }
}
