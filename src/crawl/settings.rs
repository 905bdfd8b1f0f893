//! What the crawl is told: the part of the audit's settings it reads, typed,
//! and sent as it is to crawl workers.

use crate::config::{Config, Exclusions, Isolation, MAX_JOBS};
use std::time::Duration;

/// How the crawl runs (jobs, limits, isolation) and what one location's
/// walk and reads use (exclusions, parse limit). A worker gets all of it
/// with each location; it reads only the latter.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct CrawlSettings {
    /// Locations crawled at once, and hashing threads in all, at most
    /// [`MAX_JOBS`].
    pub jobs: usize,
    /// Locations of one server crawled at once.
    pub per_server: usize,
    /// Where each location's share I/O runs.
    pub isolation: Isolation,
    /// A location that makes no progress for this long is given up on.
    pub stall_timeout: Option<Duration>,
    /// A location still being read after this long is given up on.
    pub location_timeout: Option<Duration>,
    /// Largest file whose content is kept in memory to be parsed.
    pub max_parse_bytes: u64,
    /// Share-relative paths not to audit, compiled.
    pub exclusions: Exclusions,
    /// `--smb-auth FILE`, for the `smsaudit-smb` helper: its path only,
    /// and never sent to a worker (the helper is told by its environment).
    #[serde(skip)]
    pub smb_auth: Option<std::path::PathBuf>,
}

impl CrawlSettings {
    pub(crate) fn of(config: &Config) -> CrawlSettings {
        CrawlSettings {
            jobs: config.jobs.clamp(1, MAX_JOBS),
            per_server: config.per_server.max(1),
            isolation: config.isolation,
            stall_timeout: config.stall_timeout,
            location_timeout: config.location_timeout,
            max_parse_bytes: config.max_parse_bytes,
            exclusions: config.exclude.clone(),
            smb_auth: config.smb_auth.clone(),
        }
    }
}
