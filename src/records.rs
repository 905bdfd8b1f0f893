//! Every file record of an audit, sorted by location and path, kept out of
//! the way of the stages: the checks read only the records they need (the
//! estate keeps those), and the reports and the history read all of them
//! in one pass each.
//!
//! [`Collector`] takes records from any thread in any order;
//! [`Collector::finish`] gives [`FileRecords`], which every reader iterates
//! in the same sorted order.

use crate::model::FileRecord;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Takes file records as the crawl produces them.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    records: Mutex<Vec<FileRecord>>,
}

impl Collector {
    pub(crate) fn new() -> Collector {
        Collector::default()
    }

    /// One record, from any thread, in any order.
    pub(crate) fn push(&self, record: FileRecord) {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).push(record);
    }

    /// Every record pushed, sorted, without those of `dropped` locations
    /// (shares given up on after some of their records arrived).
    pub(crate) fn finish(self, dropped: &BTreeSet<String>) -> std::io::Result<FileRecords> {
        let mut records = self.records.into_inner().unwrap_or_else(|e| e.into_inner());
        records.retain(|r| !dropped.contains(&r.location));
        records.sort_by(|a, b| (&a.location, &a.path).cmp(&(&b.location, &b.path)));
        Ok(FileRecords {
            len: records.len() as u64,
            records: Arc::new(records),
        })
    }
}

/// Every file record of an audit, sorted by location and path.
#[derive(Debug, Clone, Default)]
pub struct FileRecords {
    len: u64,
    records: Arc<Vec<FileRecord>>,
}

impl FileRecords {
    /// Records from a list (tests and the library's callers); sorted here.
    pub fn from_vec(mut records: Vec<FileRecord>) -> FileRecords {
        records.sort_by(|a, b| (&a.location, &a.path).cmp(&(&b.location, &b.path)));
        FileRecords {
            len: records.len() as u64,
            records: Arc::new(records),
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every record, by location and path. A record that cannot be read
    /// back is an error the caller reports; the iteration ends after it.
    pub fn iter(&self) -> impl Iterator<Item = std::io::Result<FileRecord>> + '_ {
        self.records.iter().cloned().map(Ok)
    }
}

impl FileRecords {
    /// Every record in memory at once: for small audits and tests; the
    /// reports stream with [`FileRecords::iter`].
    pub fn to_vec(&self) -> std::io::Result<Vec<FileRecord>> {
        self.iter().collect()
    }
}

/// audit.json's `files`: the records as an array, read as it is written.
impl serde::Serialize for FileRecords {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.len as usize))?;
        for record in self.iter() {
            seq.serialize_element(&record.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileKind, Status};

    fn record(location: &str, path: &str) -> FileRecord {
        FileRecord::not_read(location, path.into(), FileKind::Other, Status::Ok, String::new())
    }

    #[test]
    fn records_come_back_sorted_without_dropped_locations() {
        let collector = Collector::new();
        for (location, path) in [("B", "z"), ("A", "y"), ("C", "a"), ("A", "b")] {
            collector.push(record(location, path));
        }
        let dropped = BTreeSet::from(["C".to_string()]);
        let records = collector.finish(&dropped).unwrap();
        let got: Vec<(String, String)> = records
            .iter()
            .map(|r| r.map(|r| (r.location, r.path)).unwrap())
            .collect();
        let want = [("A", "b"), ("A", "y"), ("B", "z")].map(|(l, p)| (l.to_string(), p.to_string()));
        assert_eq!(got, want);
        assert_eq!(records.len(), 3);
    }
}
