//! Every file record of an audit, sorted by location and path, kept out of
//! memory: the checks read only the records they need (the estate keeps
//! those), and the reports and the history read all of them, one pass
//! each, possibly at the same time.
//!
//! [`Collector`] takes records from any thread in any order. It holds them
//! up to [`BUFFER_BYTES`]; past that it sorts them and writes them out as a
//! run, a temporary file in the spill folder (the report folder: the audit
//! writes nowhere else). [`FileRecords::iter`] merges the runs, so memory
//! stays flat whatever the number of files. An external sort is a few
//! dozen lines here; the crates that offer one (extsort) give a single
//! pass, and every report needs its own.

use crate::interrupt::Temp;
use crate::model::{CompactString, FileKind, FileRecord, Status};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

/// Records held in memory before a run is written, encoded ([`Packed`]):
/// enough that a hundred thousand files need no run at all (about 160 bytes
/// a record), small against the 256 MiB a million files may take in all.
pub(crate) const BUFFER_BYTES: usize = 32 << 20;

/// The name of the runs' temporary files: `.file-records.<random>.tmp`,
/// which the report folder's sweep removes after a crash.
pub(crate) const SPILL_NAME: &str = "file-records";

/// A record longer than this in a run is damage, not a record: paths and
/// reasons are bounded long before.
const MAX_ENCODED: usize = 1 << 20;

/// Where records beyond memory go: sorted runs in `dir` once the buffer
/// holds `buffer_bytes` ([`BUFFER_BYTES`]; smaller only as a test seam,
/// `SMSAUDIT_FAULT_RECORD_BUFFER`, so a test spills with a few files).
#[derive(Debug, Clone)]
pub(crate) struct Spill {
    pub(crate) dir: PathBuf,
    pub(crate) buffer_bytes: usize,
}

/// Takes file records as the crawl produces them.
#[derive(Debug)]
pub(crate) struct Collector {
    spill: Option<Spill>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    buffer: Packed,
    runs: Vec<Run>,
    /// Records per location, to leave out those of dropped locations.
    counts: BTreeMap<String, u64>,
    /// The location of the records just pushed and how many of them are
    /// not yet in `counts`: records come a batch of one location at a time,
    /// so the map is looked up once a batch, not once a record.
    counting: (String, u64),
    /// The first failure to write a run: the records are then incomplete.
    error: Option<io::Error>,
}

impl Collector {
    /// Runs go to `spill.dir`; without one every record stays in memory.
    pub(crate) fn new(spill: Option<Spill>) -> Collector {
        Collector {
            spill,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One record, from any thread, in any order.
    pub(crate) fn push(&self, record: FileRecord) {
        thread_local! {
            static ENCODED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        // Encoded before the lock is taken: other threads wait for a copy only.
        ENCODED.with_borrow_mut(|encoded| {
            encoded.clear();
            let taken = std::mem::take(encoded);
            match postcard::to_extend(&record, taken) {
                Ok(done) => {
                    *encoded = done;
                    self.push_encoded(&record.location, Ok((encoded, record.is_of_note())));
                }
                Err(err) => self.push_encoded(&record.location, Err(io::Error::other(err))),
            }
        });
    }

    fn push_encoded(&self, location: &str, encoded: io::Result<(&[u8], bool)>) {
        let mut state = self.state();
        if state.error.is_some() {
            return;
        }
        state.count(location);
        if let Some(spill) = &self.spill {
            if state.buffer.bytes.capacity() == 0 {
                // Once, up front: the buffer never moves while it fills, and
                // pages not written to yet cost nothing.
                state.buffer.bytes.reserve(spill.buffer_bytes + MAX_ENCODED);
            }
        }
        match encoded.and_then(|(encoded, of_note)| state.buffer.push_encoded(encoded, of_note)) {
            Ok(()) => {}
            Err(err) => {
                state.error = Some(err);
                return;
            }
        }
        if let Some(spill) = self
            .spill
            .as_ref()
            .filter(|spill| state.buffer.size() >= spill.buffer_bytes)
        {
            let buffer = std::mem::take(&mut state.buffer);
            match Run::write(&spill.dir, buffer) {
                Ok(run) => state.runs.push(run),
                Err(err) => state.error = Some(err),
            }
        }
    }

    /// Every record pushed, sorted, without those of `dropped` locations
    /// (shares given up on after some of their records arrived). Fails if a
    /// run could not be written: the records would be incomplete.
    pub(crate) fn finish(self, dropped: &BTreeSet<String>) -> io::Result<FileRecords> {
        let mut state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        state.count_pending();
        let State {
            mut buffer,
            mut runs,
            counts,
            error,
            ..
        } = state;
        if let Some(err) = error {
            return Err(err);
        }
        buffer.retain(|location| !dropped.contains(location));
        let memory = match &self.spill {
            // Once records went to runs, the rest follow them: the checks and
            // the reports then hold none (up to BUFFER_BYTES). First among
            // the runs, as the buffer is first among the sources.
            Some(spill) if !runs.is_empty() && buffer.len() > 0 => {
                runs.insert(0, Run::write(&spill.dir, std::mem::take(&mut buffer))?);
                Sorted::ready(buffer)
            }
            _ => Sorted::start(buffer),
        };
        let len = counts
            .iter()
            .filter(|(location, _)| !dropped.contains(*location))
            .map(|(_, count)| count)
            .sum();
        Ok(FileRecords {
            inner: Arc::new(Inner {
                len,
                memory,
                runs,
                dropped: dropped.clone(),
            }),
        })
    }
}

impl State {
    fn count(&mut self, location: &str) {
        if self.counting.0 != location {
            self.count_pending();
            self.counting.0.clear();
            self.counting.0.push_str(location);
        }
        self.counting.1 += 1;
    }

    /// Adds the records counted since the location last changed.
    fn count_pending(&mut self) {
        let (location, pending) = &mut self.counting;
        if *pending > 0 {
            match self.counts.get_mut(location.as_str()) {
                Some(count) => *count += *pending,
                None => {
                    self.counts.insert(location.clone(), *pending);
                }
            }
            *pending = 0;
        }
    }
}

/// Sorts records by location and path, the order every reader gets.
pub(crate) fn sort(records: &mut [FileRecord]) {
    records.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
}

fn key(record: &FileRecord) -> (&str, &str) {
    (&record.location, &record.path)
}

/// Records encoded one after another (postcard, as in a run), and where
/// each is: a record held costs its encoding, about 160 bytes, instead of
/// a struct and up to eight strings on the heap; sorting reads the
/// location and path from the encoding, and a run is written without
/// encoding again.
#[derive(Debug, Default)]
struct Packed {
    bytes: Vec<u8>,
    /// Each record's place in `bytes`, in the order given by
    /// [`Packed::sort`].
    spans: Vec<Span>,
}

/// Where a record is in [`Packed::bytes`], and whether it is of note
/// ([`FileRecord::is_of_note`]): the files of interest are then found
/// without decoding the others.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    length: u32,
    of_note: bool,
}

impl Packed {
    fn push(&mut self, record: &FileRecord) -> io::Result<()> {
        let start = self.bytes.len();
        self.bytes = postcard::to_extend(record, std::mem::take(&mut self.bytes)).map_err(io::Error::other)?;
        let length = u32::try_from(self.bytes.len() - start).map_err(io::Error::other)?;
        self.spans.push(Span {
            start,
            length,
            of_note: record.is_of_note(),
        });
        Ok(())
    }

    /// A record already encoded, and whether it is of note.
    fn push_encoded(&mut self, encoded: &[u8], of_note: bool) -> io::Result<()> {
        let length = u32::try_from(encoded.len()).map_err(io::Error::other)?;
        self.spans.push(Span {
            start: self.bytes.len(),
            length,
            of_note,
        });
        self.bytes.extend_from_slice(encoded);
        Ok(())
    }

    /// What the buffer holds, in bytes.
    fn size(&self) -> usize {
        self.bytes.len() + self.spans.len() * std::mem::size_of::<Span>()
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn encoded(&self, index: usize) -> &[u8] {
        let Span { start, length, .. } = self.spans[index];
        &self.bytes[start..start + length as usize]
    }

    fn decode(&self, index: usize) -> io::Result<FileRecord> {
        postcard::from_bytes(self.encoded(index)).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
    }

    /// By location and path, as [`sort`] orders records: strings compare
    /// as their bytes.
    fn sort(&mut self) {
        let bytes = &self.bytes;
        let key = |&Span { start, length, .. }: &Span| packed_key(&bytes[start..start + length as usize]);
        self.spans.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
    }

    /// Keeps the records whose location `keep` accepts.
    fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let bytes = &self.bytes;
        self.spans.retain(|&Span { start, length, .. }| {
            let (location, _) = packed_key(&bytes[start..start + length as usize]);
            keep(std::str::from_utf8(location).unwrap_or_default())
        });
    }
}

/// The location and path at the start of a record's encoding: the first
/// two fields of [`FileRecord`], each a varint length then its bytes.
fn packed_key(encoded: &[u8]) -> (&[u8], &[u8]) {
    fn text(from: &[u8]) -> (&[u8], &[u8]) {
        let (mut length, mut shift, mut at) = (0usize, 0u32, 0usize);
        while let Some(&byte) = from.get(at) {
            at += 1;
            length |= usize::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let end = at.saturating_add(length).min(from.len());
        (&from[at.min(end)..end], &from[end..])
    }
    let (location, rest) = text(encoded);
    let (path, _) = text(rest);
    (location, path)
}

/// The records held in memory, sorted on a thread of their own: at
/// 100,000 files the sort takes about 20 ms, which then pass beside the
/// rest of the estate and the checks (one thread) instead of before them.
/// The first reader waits for it.
#[derive(Debug, Default)]
struct Sorted {
    done: OnceLock<Packed>,
    sorting: Mutex<Option<JoinHandle<Packed>>>,
}

impl Sorted {
    fn ready(records: Packed) -> Sorted {
        Sorted {
            done: OnceLock::from(records),
            sorting: Mutex::default(),
        }
    }

    fn start(mut records: Packed) -> Sorted {
        // A handful of records is sorted sooner than a thread starts.
        if records.len() < SORTED_ASIDE_FROM {
            records.sort();
            return Sorted::ready(records);
        }
        // Shared so that a thread refused leaves the records here.
        let records = Arc::new(Mutex::new(Some(records)));
        let aside = Arc::clone(&records);
        match std::thread::Builder::new()
            .name("sort records".into())
            .spawn(move || sort_taken(&aside))
        {
            Ok(sorting) => Sorted {
                done: OnceLock::new(),
                sorting: Mutex::new(Some(sorting)),
            },
            Err(_) => Sorted::ready(sort_taken(&records)),
        }
    }

    /// The records, sorted, once the sort is done.
    fn get(&self) -> &Packed {
        self.done.get_or_init(|| {
            let sorting = self.sorting.lock().unwrap_or_else(|e| e.into_inner()).take();
            sorting.map_or_else(Packed::default, |sorting| {
                sorting.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        })
    }
}

fn sort_taken(records: &Mutex<Option<Packed>>) -> Packed {
    let mut records = records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default();
    records.sort();
    records
}

/// Fewer records than this are sorted on the thread that finishes.
const SORTED_ASIDE_FROM: usize = 4096;

/// A sorted run of records in a temporary file: each record its encoded
/// length (u32, little-endian) then its postcard encoding.
#[derive(Debug)]
struct Run {
    file: Temp,
    /// How many records it holds: a run cut short is an error, never a
    /// shorter list.
    records: u64,
}

impl Run {
    /// Sorts `records` and writes them to a new temporary file in `dir`.
    fn write(dir: &Path, mut records: Packed) -> io::Result<Run> {
        records.sort();
        let run = Temp::create(|| {
            tempfile::Builder::new()
                .prefix(&format!(".{SPILL_NAME}."))
                .suffix(".tmp")
                .rand_bytes(8)
                .tempfile_in(dir)
        })?;
        let mut out = BufWriter::with_capacity(1 << 16, run.as_file());
        for index in 0..records.len() {
            let encoded = records.encoded(index);
            out.write_all(&(encoded.len() as u32).to_le_bytes())?;
            out.write_all(encoded)?;
        }
        out.flush()?;
        drop(out);
        Ok(Run {
            file: run,
            records: records.len() as u64,
        })
    }
}

/// Every file record of an audit, sorted by location and path.
#[derive(Debug, Clone, Default)]
pub struct FileRecords {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    len: u64,
    /// The records never written to a run, sorted.
    memory: Sorted,
    /// Sorted runs, removed when the last reader is done (and by a stop).
    runs: Vec<Run>,
    dropped: BTreeSet<String>,
}

impl FileRecords {
    /// Records from a list (tests and the library's callers); sorted here.
    pub fn from_vec(records: Vec<FileRecord>) -> FileRecords {
        let mut memory = Packed::default();
        for record in &records {
            memory
                .push(record)
                .expect("a record built in memory encodes within the limit");
        }
        memory.sort();
        FileRecords {
            inner: Arc::new(Inner {
                len: records.len() as u64,
                memory: Sorted::ready(memory),
                ..Inner::default()
            }),
        }
    }

    pub fn len(&self) -> u64 {
        self.inner.len
    }

    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// Every record, by location and path. A run that cannot be read back
    /// gives an error, which the caller reports; the iteration ends there.
    pub fn iter(&self) -> Records<'_> {
        let mut sources = vec![Source::Memory {
            records: self.inner.memory.get(),
            next: 0,
        }];
        let mut failed = None;
        for run in &self.inner.runs {
            match run.file.reopen() {
                Ok(file) => sources.push(Source::Run {
                    reader: BufReader::with_capacity(1 << 16, file),
                    left: run.records,
                }),
                Err(err) => failed = Some(err),
            }
        }
        let mut records = Records {
            sources,
            heads: BinaryHeap::new(),
            dropped: &self.inner.dropped,
            failed,
        };
        for index in 0..records.sources.len() {
            records.advance(index);
        }
        records
    }

    /// Every record in memory at once: for small audits and tests; the
    /// reports stream with [`FileRecords::iter`].
    pub fn to_vec(&self) -> io::Result<Vec<FileRecord>> {
        self.iter().collect()
    }

    /// Every record, by location and path, lent to `visit` one after
    /// another (it may change the record it is lent: the next one is
    /// decoded over it). Records never written to a run are decoded into
    /// one record whose strings are reused, where [`FileRecords::iter`]
    /// allocates every string of every record, for each report. A run that
    /// cannot be read back is an error, made by `failed`.
    pub(crate) fn visit<E>(
        &self,
        failed: impl Fn(io::Error) -> E,
        mut visit: impl FnMut(&mut FileRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        if !self.inner.runs.is_empty() {
            for record in self.iter() {
                visit(&mut record.map_err(&failed)?)?;
            }
            return Ok(());
        }
        let memory = self.inner.memory.get();
        let mut record = FileRecord::not_read("", String::new(), FileKind::Other, Status::Ok, String::new());
        for index in 0..memory.len() {
            decode_into(memory.encoded(index), &mut record).map_err(&failed)?;
            if !self.inner.dropped.contains(record.location.as_str()) {
                visit(&mut record)?;
            }
        }
        Ok(())
    }

    /// Lends, as [`FileRecords::visit`] does, only the records of note
    /// ([`FileRecord::is_of_note`]) and those whose location and path
    /// `pointed` takes; returns how many others there were. Records held
    /// in memory are told apart by their mark and their key, without
    /// decoding the others (about 95 % of a CAP's files are uploads).
    pub(crate) fn visit_of_interest<E>(
        &self,
        failed: impl Fn(io::Error) -> E,
        pointed: impl Fn(&str, &str) -> bool,
        mut visit: impl FnMut(&mut FileRecord) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut others = 0;
        if !self.inner.runs.is_empty() {
            for record in self.iter() {
                let mut record = record.map_err(&failed)?;
                if record.is_of_note() || pointed(&record.location, &record.path) {
                    visit(&mut record)?;
                } else {
                    others += 1;
                }
            }
            return Ok(others);
        }
        let memory = self.inner.memory.get();
        let mut record = FileRecord::not_read("", String::new(), FileKind::Other, Status::Ok, String::new());
        for span in &memory.spans {
            let encoded = &memory.bytes[span.start..span.start + span.length as usize];
            let (location, path) = packed_key(encoded);
            // A key that is not text is damage: the decode says so.
            if let (Ok(location), Ok(path)) = (std::str::from_utf8(location), std::str::from_utf8(path)) {
                if self.inner.dropped.contains(location) {
                    continue;
                }
                if !span.of_note && !pointed(location, path) {
                    others += 1;
                    continue;
                }
            }
            decode_into(encoded, &mut record).map_err(&failed)?;
            visit(&mut record)?;
        }
        Ok(others)
    }
}

/// Decodes a record as postcard encodes it into `place`, field by field
/// in [`FileRecord`]'s order, reusing the buffers of its strings.
fn decode_into(encoded: &[u8], place: &mut FileRecord) -> io::Result<()> {
    fn take<'a, T: serde::Deserialize<'a>>(rest: &mut &'a [u8]) -> io::Result<T> {
        let (value, after) =
            postcard::take_from_bytes(rest).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
        *rest = after;
        Ok(value)
    }
    fn text(rest: &mut &[u8], place: &mut CompactString) -> io::Result<()> {
        let value: &str = take(rest)?;
        place.clear();
        place.push_str(value);
        Ok(())
    }
    fn optional_text(rest: &mut &[u8], place: &mut Option<CompactString>) -> io::Result<()> {
        match (take::<Option<&str>>(rest)?, place.as_mut()) {
            (Some(value), Some(kept)) => {
                kept.clear();
                kept.push_str(value);
            }
            (value, _) => *place = value.map(CompactString::from),
        }
        Ok(())
    }
    // Every field named: a field added to FileRecord does not compile here
    // until it is decoded too.
    let FileRecord {
        location,
        path,
        size,
        modified,
        sha256,
        kind,
        version,
        version_source,
        string_version,
        status,
        reason,
    } = place;
    let rest = &mut &encoded[..];
    text(rest, location)?;
    text(rest, path)?;
    *size = take(rest)?;
    optional_text(rest, modified)?;
    *sha256 = take(rest)?;
    *kind = take(rest)?;
    optional_text(rest, version)?;
    optional_text(rest, version_source)?;
    optional_text(rest, string_version)?;
    *status = take(rest)?;
    text(rest, reason)?;
    Ok(())
}

/// Where the next records come from: the records kept in memory, or a run.
enum Source<'a> {
    Memory { records: &'a Packed, next: usize },
    Run { reader: BufReader<File>, left: u64 },
}

impl Source<'_> {
    fn next(&mut self) -> io::Result<Option<FileRecord>> {
        match self {
            Source::Memory { records, next } if *next < records.len() => {
                *next += 1;
                records.decode(*next - 1).map(Some)
            }
            Source::Memory { .. } => Ok(None),
            Source::Run { left: 0, .. } => Ok(None),
            Source::Run { reader, left } => {
                *left -= 1;
                read_record(reader)
            }
        }
    }
}

fn read_record(reader: &mut impl Read) -> io::Result<Option<FileRecord>> {
    let mut length = [0u8; 4];
    reader.read_exact(&mut length)?;
    let length = u32::from_le_bytes(length) as usize;
    if length > MAX_ENCODED {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a file record run is damaged",
        ));
    }
    let mut encoded = vec![0u8; length];
    reader.read_exact(&mut encoded)?;
    postcard::from_bytes(&encoded).map(Some).map_err(|err| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a file record run is damaged: {err}"),
        )
    })
}

/// The next record of each source, smallest first; ties go to the lower
/// source, so the order never depends on timing.
struct Head {
    record: FileRecord,
    source: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Head) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Head) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Head) -> std::cmp::Ordering {
        (key(&self.record), self.source).cmp(&(key(&other.record), other.source))
    }
}

/// The merge of the sorted sources: see [`FileRecords::iter`].
pub struct Records<'a> {
    sources: Vec<Source<'a>>,
    heads: BinaryHeap<Reverse<Head>>,
    dropped: &'a BTreeSet<String>,
    failed: Option<io::Error>,
}

impl Records<'_> {
    /// Puts the next record of `source` (that is not dropped) among the heads.
    fn advance(&mut self, source: usize) {
        loop {
            match self.sources[source].next() {
                Ok(Some(record)) if self.dropped.contains(record.location.as_str()) => continue,
                Ok(Some(record)) => self.heads.push(Reverse(Head { record, source })),
                Ok(None) => {}
                Err(err) => {
                    self.failed.get_or_insert(err);
                }
            }
            return;
        }
    }
}

impl Iterator for Records<'_> {
    type Item = io::Result<FileRecord>;

    fn next(&mut self) -> Option<io::Result<FileRecord>> {
        if let Some(err) = self.failed.take() {
            self.heads.clear();
            self.sources.clear();
            return Some(Err(err));
        }
        let Reverse(Head { record, source }) = self.heads.pop()?;
        self.advance(source);
        Some(Ok(record))
    }
}

/// audit.json's `files`: the records as an array, read as it is written,
/// each with the status reports show.
impl serde::Serialize for FileRecords {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(usize::try_from(self.len()).ok())?;
        self.visit(S::Error::custom, |record| {
            record.status = record.status.reported();
            seq.serialize_element(record)
        })?;
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sha256Digest;

    fn record(location: &str, path: &str) -> FileRecord {
        FileRecord::not_read(location, path.into(), FileKind::Other, Status::Ok, String::new())
    }

    fn keys(records: &FileRecords) -> Vec<(String, String)> {
        records
            .iter()
            .map(|r| r.map(|r| (r.location.into(), r.path.into())).unwrap())
            .collect()
    }

    #[test]
    fn records_come_back_sorted_without_dropped_locations() {
        let collector = Collector::new(None);
        for (location, path) in [("B", "z"), ("A", "y"), ("C", "a"), ("A", "b")] {
            collector.push(record(location, path));
        }
        let dropped = BTreeSet::from(["C".to_string()]);
        let records = collector.finish(&dropped).unwrap();
        let want = [("A", "b"), ("A", "y"), ("B", "z")].map(|(l, p)| (l.to_string(), p.to_string()));
        assert_eq!(keys(&records), want);
        assert_eq!(records.len(), 3);
    }

    /// Past [`SORTED_ASIDE_FROM`] records the sort runs on a thread of its
    /// own: readers on several threads at once each wait for it and get
    /// every record in order.
    #[test]
    fn records_sorted_aside_reach_every_reader_in_order() {
        let collector = Collector::new(None);
        let total = 3 * SORTED_ASIDE_FROM + 1;
        let mut want = Vec::new();
        for n in 0..total {
            let n = (n * 7919) % total;
            let (location, path) = (format!("L{}", n % 3), format!("p{n:06}"));
            collector.push(record(&location, &path));
            want.push((location, path));
        }
        want.sort();
        let records = collector.finish(&BTreeSet::new()).unwrap();
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let records = records.clone();
                std::thread::spawn(move || keys(&records))
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.join().unwrap(), want);
        }
    }

    /// Past the buffer, records go to sorted runs in the spill folder; two
    /// readers at once each get every record in order, and the runs are
    /// removed with the last reader.
    #[test]
    fn runs_on_disk_merge_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let collector = Collector::new(Some(Spill {
            dir: dir.path().to_path_buf(),
            buffer_bytes: BUFFER_BYTES,
        }));
        // Long reasons fill the buffer quickly: several runs.
        let reason = "r".repeat(64 * 1024);
        let total = 3 * BUFFER_BYTES / reason.len() + 7;
        let mut want = Vec::new();
        for n in 0..total {
            // A scrambled order, as many threads would give.
            let n = (n * 7919) % total;
            let (location, path) = (format!("L{}", n % 5), format!("p{n:06}"));
            let mut r = record(&location, &path);
            r.reason = reason.as_str().into();
            r.sha256 = Sha256Digest::parse_hex(&format!("{n:064x}"));
            collector.push(r);
            want.push((location, path));
        }
        want.sort();
        let dropped = BTreeSet::from(["L3".to_string()]);
        want.retain(|(l, _)| l != "L3");
        let records = collector.finish(&dropped).unwrap();
        let spilled = std::fs::read_dir(dir.path()).unwrap().count();
        assert!(spilled >= 3, "{spilled} runs");
        assert_eq!(
            records.inner.memory.get().len(),
            0,
            "records left in memory beside the runs"
        );
        assert_eq!(records.len(), want.len() as u64);
        let (mut first, mut second) = (records.iter(), records.iter());
        let mut got = Vec::new();
        for a in first.by_ref() {
            let (a, b) = (a.unwrap(), second.next().unwrap().unwrap());
            assert_eq!((&a.location, &a.path, &a.sha256), (&b.location, &b.path, &b.sha256));
            assert_eq!(a.reason.len(), reason.len());
            got.push((a.location.into(), a.path.into()));
        }
        assert!(second.next().is_none());
        assert_eq!(got, want);
        drop((first, second));
        drop(records);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "runs left behind");
    }

    /// A hundred thousand records of a real crawl (a location, a path of
    /// client uploads, size, time and SHA-256) stay in memory, encoded: no
    /// run is written, and every record comes back whole.
    #[test]
    fn a_hundred_thousand_records_need_no_run() {
        let dir = tempfile::tempdir().unwrap();
        let collector = Collector::new(Some(Spill {
            dir: dir.path().to_path_buf(),
            buffer_bytes: BUFFER_BYTES,
        }));
        let total = 100_000;
        for n in 0..total {
            let mut r = record(
                &format!(r"\\SERVER{:02}\CAP_S{:02}", n % 40, n % 40),
                &format!(r"inventry.box\{n:08X}.MIF"),
            );
            r.size = Some(2_800 + n as u64);
            r.modified = Some("2026-11-24T16:26:00Z".into());
            r.sha256 = Sha256Digest::parse_hex(&format!("{n:064x}"));
            collector.push(r);
        }
        let records = collector.finish(&BTreeSet::new()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a run was written");
        assert_eq!(records.len(), total as u64);
        let back = records.to_vec().unwrap();
        assert_eq!(back.len(), total);
        assert!(back.windows(2).all(|w| key(&w[0]) < key(&w[1])), "sorted");
        assert_eq!(back[0].sha256.map(|d| d.to_string()), Some(format!("{:064x}", 0)));
        assert_eq!(back[0].modified.as_deref(), Some("2026-11-24T16:26:00Z"));
    }

    /// A record decoded over another is the record, field for field,
    /// whatever the one before held; `visit` lends every record `iter`
    /// gives, in the same order, without those of dropped locations.
    #[test]
    fn visit_lends_what_iter_gives() {
        let mut full = record("L1", r"x86.bin\clicore.exe");
        full.size = Some(300);
        full.modified = Some("2026-11-24T16:26:00Z".into());
        full.sha256 = Some(Sha256Digest([0xab; 32]));
        full.kind = FileKind::Binary;
        full.version = Some("2.00.1493.3004".into());
        full.version_source = Some("PE FileVersion".into());
        full.string_version = Some("2.00.1493.3004 (SP1)".into());
        full.status = Status::Malformed;
        full.reason = "odd".into();
        let mut bare = record("L0", "a");
        bare.status = Status::Excluded;
        let dropped_one = record("L2", "b");
        let collector = Collector::new(None);
        for r in [full.clone(), bare.clone(), dropped_one, full.clone(), bare.clone()] {
            collector.push(r);
        }
        let records = collector.finish(&BTreeSet::from(["L2".to_string()])).unwrap();
        let json = |r: &FileRecord| serde_json::to_string(r).unwrap();
        let want: Vec<String> = records.iter().map(|r| json(&r.unwrap())).collect();
        assert_eq!(want, [&bare, &bare, &full, &full].map(json));
        let mut lent = Vec::new();
        records
            .visit(
                |err| err,
                |r| {
                    lent.push(json(r));
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(lent, want);
        // Over a record whose every field is set, and the other way.
        let mut place = full.clone();
        for r in [&bare, &full, &bare] {
            let encoded = postcard::to_stdvec(r).unwrap();
            decode_into(&encoded, &mut place).unwrap();
            assert_eq!(json(&place), json(r));
        }
        assert!(decode_into(&postcard::to_stdvec(&full).unwrap()[..20], &mut place).is_err());
    }

    /// The files of interest are the records of note and those pointed at,
    /// whether the records stayed in memory (told apart undecoded) or went
    /// to runs; the others are counted, those of dropped locations left out.
    #[test]
    fn visit_of_interest_lends_the_records_of_note_and_those_pointed_at() {
        let mut versioned = record("L1", r"clicomp.box\base\compver.ini");
        versioned.version = Some("2.00.1493.3004".into());
        let mut parsed = record("L1", r"clicomp.box\SWDist.CFG");
        parsed.kind = FileKind::ComponentCfg;
        let mut unreadable = record("L1", "u");
        unreadable.status = Status::Unreadable;
        let mut noted = record("L1", "n");
        noted.reason = "name escaped".into();
        let pointed = record("L0", r"Upload\Stray.TXT");
        let plain = [record("L0", "a"), record("L1", "b"), record("L1", "c")];
        let mut dropped_one = record("L2", "d");
        dropped_one.version = Some("1".into());
        let all: Vec<FileRecord> = [versioned, parsed, unreadable, noted, pointed, dropped_one]
            .into_iter()
            .chain(plain)
            .collect();
        let dir = tempfile::tempdir().unwrap();
        for spill in [None, Some(2)] {
            let collector = Collector::new(spill.map(|buffer_bytes| Spill {
                dir: dir.path().to_path_buf(),
                buffer_bytes,
            }));
            for r in &all {
                collector.push(r.clone());
            }
            let records = collector.finish(&BTreeSet::from(["L2".to_string()])).unwrap();
            assert_eq!(records.inner.runs.is_empty(), spill.is_none());
            let mut lent = Vec::new();
            let others = records
                .visit_of_interest(
                    |err| err,
                    |location, path| location == "L0" && path.eq_ignore_ascii_case(r"upload\stray.txt"),
                    |r| {
                        lent.push(format!("{} {}", r.location, r.path));
                        Ok(())
                    },
                )
                .unwrap();
            assert_eq!(
                lent,
                [
                    r"L0 Upload\Stray.TXT",
                    r"L1 clicomp.box\SWDist.CFG",
                    r"L1 clicomp.box\base\compver.ini",
                    "L1 n",
                    "L1 u"
                ],
                "spill {spill:?}"
            );
            assert_eq!(others, 3, "spill {spill:?}");
        }
    }

    /// A damaged run is an error, never a shorter list.
    #[test]
    fn a_damaged_run_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let collector = Collector::new(Some(Spill {
            dir: dir.path().to_path_buf(),
            buffer_bytes: BUFFER_BYTES,
        }));
        let reason = "r".repeat(64 * 1024);
        for n in 0..(2 * BUFFER_BYTES / reason.len()) {
            let mut r = record("L", &format!("p{n:06}"));
            r.reason = reason.as_str().into();
            collector.push(r);
        }
        let records = collector.finish(&BTreeSet::new()).unwrap();
        let run = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        let length = std::fs::metadata(&run).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&run)
            .unwrap()
            .set_len(length / 2)
            .unwrap();
        assert!(records.iter().any(|r| r.is_err()), "a cut run must fail the reading");
    }
}
