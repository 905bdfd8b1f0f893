//! The messages between the scheduler and a crawl worker, one JSON line
//! each: orders to the worker (a location to crawl, with the
//! [`CrawlSettings`], or a new thread count), and what the worker says back
//! (started, progress, batches, the crawled location). Paths cross
//! byte-exactly (`Discovered.path`).

use super::{Batch, CrawlSettings};
use crate::discover::Discovered;
use crate::model::Location;

/// What a worker is told, one line each.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) enum Order {
    Crawl(Box<Request>),
    /// Let this many threads of the location being crawled work at once.
    Threads(usize),
}

/// One location for a worker; the share's path crosses byte-exactly
/// (`Discovered.path`).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Request {
    pub(super) discovered: Discovered,
    pub(super) settings: CrawlSettings,
    /// Threads that may work at once, at first.
    pub(super) threads: usize,
    /// Threads in its pool.
    pub(super) pool_threads: usize,
}

/// One line a worker writes.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) enum Message {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::crawl::fixtures::location;
    use crate::extract::{pe, Detail};
    use crate::model::{FileKind, FileRecord, Status};
    use std::time::Duration;

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
}
