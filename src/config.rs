//! Validated settings for one audit. Nothing below this module sees clap.

use crate::catalog::Severity;
use std::path::PathBuf;

/// How many folder levels below a root discovery looks for shares.
pub const DEFAULT_DISCOVER_DEPTH: usize = 3;

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
    pub upgrade: Option<crate::upgrade::UpgradeRequest>,
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
        }
    }
}

/// Shares are often remote and latency-bound, so use more threads than cores.
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    (cores * 2).clamp(2, 16)
}
