//! Validated settings for one audit, and the inputs they name (inventory,
//! baseline, pre-upgrade request, exclusions), read and checked before any
//! crawl. How a run is carried out (its spill folder, exit policy, fault
//! seam) is the command's, not here. Nothing below this module sees clap.

mod accepted;
mod exclusions;
mod inventory;
mod scope;

pub use accepted::{Accepted, Stale, StaleAcceptance};
pub use exclusions::{BadPattern, Exclusions};
pub(crate) use inventory::{Inventory, InventoryShare};
pub(crate) use scope::Scope;

use crate::drift::Snapshot;
use crate::sms::release::{self, Release};
use crate::sms::version::Version;
use std::path::PathBuf;
use std::time::Duration;

/// How many folder levels below a root discovery looks for shares.
pub(crate) const DEFAULT_DISCOVER_DEPTH: usize = 3;
/// How long a location may go without any progress (no folder entry listed,
/// no chunk of a file read) before it is reported as not answering. Longer
/// than an SMB client's own time-out for a dead server.
pub(crate) const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How many locations of one server are crawled at the same time.
pub(crate) const DEFAULT_PER_SERVER: usize = 4;
/// The most `--jobs` honoured. Each job is a location crawled at once (a
/// process, with process isolation) and a share of the hashing threads;
/// thousands cost more in start-up and memory than any share gains.
pub const MAX_JOBS: usize = 128;
/// The most seconds `--stall-timeout` and `--location-timeout` take (a
/// year); a larger value is refused by the argument step, never a panic
/// when it is added to a clock. 0 is "no limit".
pub const MAX_TIMEOUT_SECONDS: u64 = 365 * 86_400;
/// The largest file whose content is kept in memory to be parsed.
pub(crate) const DEFAULT_MAX_PARSE_BYTES: u64 = 64 * 1024 * 1024;

/// Everything an audit needs to know, built from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Shares, or folders that hold shares (`<SERVER>/<SHARE>`).
    pub roots: Vec<PathBuf>,
    pub discover_depth: usize,
    /// Locations crawled at once, and hashing threads in all (each location
    /// hashes on its own share of them). The crawl honours at most
    /// [`MAX_JOBS`].
    pub jobs: usize,
    /// Largest file whose content is kept in memory to be parsed.
    pub max_parse_bytes: u64,
    /// `--upgrade SITES --to RELEASE`: the pre-upgrade check to run.
    pub upgrade: Option<UpgradeRequest>,
    /// `--baseline FILE`: the earlier audit to report drift against.
    pub baseline: Option<Baseline>,
    /// `--accepted FILE`: findings accepted for a while, by fingerprint.
    pub accepted: Option<Accepted>,
    /// `--history FILE`: what the history knew before this run.
    pub history: Option<crate::history::Past>,
    /// A location still being read after this long is reported as not
    /// answering and the audit goes on without it. `None`: no limit.
    pub location_timeout: Option<Duration>,
    /// A location that makes no progress for this long is reported as not
    /// answering. `None`: no limit.
    pub stall_timeout: Option<Duration>,
    /// Locations of one server crawled at once.
    pub per_server: usize,
    /// Share-relative paths not to audit.
    pub exclude: Exclusions,
    /// The estate as the admin describes it, if given.
    pub inventory: Option<Inventory>,
    /// Where each location's share I/O runs.
    pub isolation: Isolation,
    /// `--client-logs DIR`: folders of logs collected from clients, each
    /// checked by [`client_log_folder`].
    pub client_logs: Vec<PathBuf>,
    /// `--smb-auth FILE`: the credentials `smb://` roots are read with
    /// (checked when loaded: see [`crate::smb::read_auth_file`]).
    pub smb_auth: Option<PathBuf>,
}

/// Where each location's share I/O runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Isolation {
    /// On threads of this process, each location on a pool of its own. A
    /// read stuck in the kernel leaves its threads behind, and a process
    /// with such a thread may not be able to exit.
    #[default]
    Thread,
    /// In a worker process per location (this executable, run with
    /// [`crate::crawl::WORKER_COMMAND`]) and per root searched for shares
    /// ([`crate::discover::DISCOVER_WORKER_COMMAND`]), killed and abandoned
    /// when its share stops answering, so the audit always finishes and
    /// exits. Only for executables whose `main` hands those commands to
    /// [`crate::crawl::worker_main`] and
    /// [`crate::discover::discover_worker_main`], as smsaudit's does.
    Process,
}

impl Config {
    /// A config with the defaults for the given roots.
    pub fn new(roots: Vec<PathBuf>) -> Config {
        Config {
            roots,
            discover_depth: DEFAULT_DISCOVER_DEPTH,
            jobs: default_jobs(),
            max_parse_bytes: DEFAULT_MAX_PARSE_BYTES,
            upgrade: None,
            baseline: None,
            accepted: None,
            history: None,
            location_timeout: None,
            stall_timeout: Some(DEFAULT_STALL_TIMEOUT),
            per_server: DEFAULT_PER_SERVER,
            exclude: Exclusions::default(),
            inventory: None,
            isolation: Isolation::default(),
            client_logs: Vec::new(),
            smb_auth: None,
        }
    }
}

/// Shares are often remote and latency-bound: a thread waiting on a round
/// trip costs a stack and one read buffer, not a core. On a 2-core machine
/// 16 threads cut a 2 ms-per-request crawl of 20 locations to ~1/13 of
/// `-j 1` and cost nothing on local disks (benches/RESULTS.md), so the
/// default is 4 per core, at least 16 and at most 64.
pub(crate) fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    (cores * 4).clamp(16, 64)
}

/// A test seam, not a fault of the shares (those are tested through a slow
/// FUSE file system, benches/slowfs.py): `SMSAUDIT_FAULT_PAUSE=stage:<n>` or
/// `commit:<n>` holds the run for a minute once `n` reports are written to
/// temporary files, or put in place, so a test can send a signal exactly
/// there. A held file system request cannot do that: the signal would only
/// be seen once the request is let go.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub pause: Option<Pause>,
    /// `SMSAUDIT_FAULT_RECORD_BUFFER=<bytes>`: the file records held in
    /// memory before a run is spilled to the report folder, so a test
    /// spills with a few files instead of a few hundred thousand.
    pub record_buffer: Option<usize>,
}

/// Where [`Faults::pause`] holds the run: after `count` reports of the
/// set were written to temporary files (`Stage`) or put in place (`Commit`),
/// or once the whole set is in place (`Committed`, `committed:0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub point: PausePoint,
    pub count: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PausePoint {
    Stage,
    Commit,
    /// Before the crawl, once the outputs and the history are ready.
    Crawl,
    /// Once the whole set is in place.
    Committed,
}

impl Pause {
    /// `stage:<n>`, `commit:<n>` or `crawl:1`.
    fn parse(text: &str) -> Option<Pause> {
        let (point, count) = text.split_once(':')?;
        let point = match point.trim() {
            "stage" => PausePoint::Stage,
            "commit" => PausePoint::Commit,
            "crawl" => PausePoint::Crawl,
            "committed" => PausePoint::Committed,
            _ => return None,
        };
        Some(Pause {
            point,
            count: count.trim().parse().ok()?,
        })
    }

    /// Holds the run if it is at this pause point, after saying so on
    /// stderr (the line a test waits for), until a minute has passed or a
    /// signal came, or the file `SMSAUDIT_FAULT_RESUME` names exists.
    pub(crate) fn hold_at(pause: Option<&Pause>, point: PausePoint, count: usize) {
        if pause.is_some_and(|p| p.point == point && p.count == count) {
            crate::text::println_stderr(&format!("smsaudit: fault injected: paused at {point:?} {count}"));
            let until = std::time::Instant::now() + Duration::from_secs(60);
            let resume = std::env::var_os("SMSAUDIT_FAULT_RESUME").map(PathBuf::from);
            while crate::interrupt::received().is_none()
                && std::time::Instant::now() < until
                && !resume.as_ref().is_some_and(|r| r.exists())
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Faults {
    pub(crate) fn from_env() -> Faults {
        Faults {
            pause: std::env::var("SMSAUDIT_FAULT_PAUSE")
                .ok()
                .and_then(|v| Pause::parse(&v)),
            record_buffer: std::env::var("SMSAUDIT_FAULT_RECORD_BUFFER")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .filter(|&bytes| bytes > 0),
        }
    }
}

/// A `--client-logs` folder that cannot be read from.
#[derive(Debug, thiserror::Error)]
pub enum BadClientLogs {
    #[error("--client-logs {}: not a folder", .0.display())]
    NotAFolder(PathBuf),
    #[error("--client-logs {}: {}", .0.display(), .1)]
    Unreadable(PathBuf, std::io::Error),
}

/// A `--client-logs` folder, refused before the crawl unless it is a
/// folder (a link to one is the folder the user named).
pub(crate) fn client_log_folder(path: &std::path::Path) -> Result<PathBuf, BadClientLogs> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(path.to_path_buf()),
        Ok(_) => Err(BadClientLogs::NotAFolder(path.to_path_buf())),
        Err(err) => Err(BadClientLogs::Unreadable(path.to_path_buf(), err)),
    }
}

/// An earlier audit to compare with: where it was read from and what it
/// held.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The path as the user gave it, for the reports.
    pub path: String,
    pub snapshot: Snapshot,
}

impl Baseline {
    pub(crate) fn load(path: &std::path::Path) -> anyhow::Result<Baseline> {
        Ok(Baseline {
            path: path.display().to_string(),
            snapshot: Snapshot::load(path)?,
        })
    }
}

/// What the user asked: these sites go to this release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    /// Upper-case site codes.
    pub sites: Vec<String>,
    /// As typed: `SP2`, `2.00.1493.4009`...
    pub target: String,
    pub release: Release,
}

impl UpgradeRequest {
    /// Parses `MS1,MS2` and `SP2` (or a full version such as `2.00.1493.4009`).
    pub(crate) fn parse(sites: &str, target: &str) -> Result<UpgradeRequest, String> {
        let mut codes: Vec<String> = sites
            .split([',', ' '])
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty())
            .collect();
        if codes.is_empty() {
            return Err("--upgrade needs at least one site code".into());
        }
        if let Some(bad) = codes.iter().find(|c| !crate::sms::layout::is_site_code(c)) {
            return Err(format!("--upgrade: {bad:?} is not a three-character site code"));
        }
        codes.sort();
        codes.dedup();
        let release = match release::release_by_label(target) {
            Some(r) => r.release(),
            None => Version::parse(target).and_then(|v| v.release()).ok_or_else(|| {
                format!("--to: {target:?} is neither RTM, SP1..SP5 nor an SMS version like 2.00.1493.4009")
            })?,
        };
        Ok(UpgradeRequest {
            sites: codes,
            target: target.trim().to_string(),
            release,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_names_a_point_of_the_report_set_and_a_count() {
        let commit = Pause::parse("commit:2").unwrap();
        assert_eq!((commit.point, commit.count), (PausePoint::Commit, 2));
        assert_eq!(Pause::parse(" stage : 3 ").map(|p| p.point), Some(PausePoint::Stage));
        for refused in ["walk:2", "stage:x", "stage", ""] {
            assert_eq!(Pause::parse(refused), None, "{refused}");
        }
    }
}
