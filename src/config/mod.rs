//! Validated settings for one audit, and the inputs they name (inventory,
//! baseline, pre-upgrade request), read and checked before any crawl.
//! Nothing below this module sees clap.

mod inventory;

pub(crate) use inventory::{Inventory, InventoryShare};

use crate::drift::Snapshot;
use crate::sms::checks::Severity;
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

/// Everything an audit needs to know, built from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Shares, or folders that hold shares (`<SERVER>/<SHARE>`).
    pub roots: Vec<PathBuf>,
    pub discover_depth: usize,
    /// Worker threads for crawling and hashing.
    pub jobs: usize,
    /// Findings at or above this severity make the exit code 1; `None`
    /// never fails on findings.
    pub fail_on: Option<Severity>,
    /// Largest file whose content is kept in memory to be parsed.
    pub max_parse_bytes: u64,
    /// `--upgrade SITES --to RELEASE`: the pre-upgrade check to run.
    pub upgrade: Option<UpgradeRequest>,
    /// `--baseline FILE`: the earlier audit to report drift against.
    pub baseline: Option<Baseline>,
    /// A location still being read after this long is reported as not
    /// answering and the audit goes on without it. `None`: no limit.
    pub location_timeout: Option<Duration>,
    /// A location that makes no progress for this long is reported as not
    /// answering. `None`: no limit.
    pub stall_timeout: Option<Duration>,
    /// Locations of one server crawled at once.
    pub per_server: usize,
    /// Glob patterns of share-relative paths not to audit.
    pub exclude: Vec<String>,
    /// The estate as the admin describes it, if given.
    pub inventory: Option<Inventory>,
    /// Faults injected for tests and benchmarks.
    pub faults: Faults,
}

impl Config {
    /// A config with the defaults for the given roots.
    pub fn new(roots: Vec<PathBuf>) -> Config {
        Config {
            roots,
            discover_depth: DEFAULT_DISCOVER_DEPTH,
            jobs: default_jobs(),
            fail_on: Some(Severity::Warning),
            max_parse_bytes: 64 * 1024 * 1024,
            upgrade: None,
            baseline: None,
            location_timeout: None,
            stall_timeout: Some(DEFAULT_STALL_TIMEOUT),
            per_server: DEFAULT_PER_SERVER,
            exclude: Vec::new(),
            inventory: None,
            faults: Faults::default(),
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

/// A seam for testing slow and dead shares without a real network:
/// `SMSAUDIT_FAULT_STALL` names locations (substring of `\\SERVER\SHARE`)
/// whose crawl never returns; `SMSAUDIT_FAULT_LATENCY_MS` adds a delay to
/// every directory entry and file open, like a WAN link.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub stall: Option<String>,
    pub latency: Option<Duration>,
}

impl Faults {
    pub(crate) fn from_env() -> Faults {
        Faults {
            stall: std::env::var("SMSAUDIT_FAULT_STALL").ok().filter(|s| !s.is_empty()),
            latency: std::env::var("SMSAUDIT_FAULT_LATENCY_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .map(Duration::from_millis),
        }
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
