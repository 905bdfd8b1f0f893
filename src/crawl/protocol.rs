//! The messages between the scheduler and a crawl worker: orders to the
//! worker (a location to crawl, with the [`CrawlSettings`], or a new thread
//! count), one JSON line each, and what the worker says back (started,
//! progress, batches, the crawled location), one postcard frame each
//! ([`write_message`], [`read_message`]: the one place they are encoded
//! and decoded). Paths cross byte-exactly (`Discovered.path`).

use super::{Batch, CrawlSettings};
use crate::discover::Discovered;
use crate::model::Location;
use std::io::{self, BufRead, Write};

/// The largest frame a worker may send: a batch is at most
/// [`super::BATCH_SIZE`] entries of bounded size, far below this; anything
/// larger is a broken worker, not a batch to allocate for.
const MAX_FRAME: usize = 64 << 20;

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

/// One message a worker writes, as one frame: its length (u32,
/// little-endian), then its postcard encoding. Postcard, not JSON: a
/// hundred thousand records cost a fraction of the time to encode and
/// decode.
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

/// Writes one message as one frame, whole, flushed: messages from several
/// threads never interleave when each holds `out` for its frame.
pub(crate) fn write_message(out: &mut impl Write, message: &Message) -> io::Result<()> {
    let mut frame = vec![0u8; 4];
    frame = postcard::to_extend(message, frame).map_err(io::Error::other)?;
    let length = u32::try_from(frame.len() - 4).map_err(|_| io::Error::other("message too large"))?;
    frame[..4].copy_from_slice(&length.to_le_bytes());
    out.write_all(&frame)?;
    out.flush()
}

/// Reads the next frame's message; `None` when the input ends between
/// frames.
pub(crate) fn read_message(input: &mut impl BufRead) -> io::Result<Option<Message>> {
    if input.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut length = [0u8; 4];
    input.read_exact(&mut length)?;
    let length = u32::from_le_bytes(length) as usize;
    if length > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {length} bytes"),
        ));
    }
    let mut encoded = vec![0u8; length];
    input.read_exact(&mut encoded)?;
    postcard::from_bytes(&encoded)
        .map(Some)
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::crawl::fixtures::location;
    use crate::extract::{pe, Detail};
    use crate::model::{Ace, Dacl, FileKind, FileRecord, FolderAcl, FolderAcls, Status};
    use std::time::Duration;

    /// What a worker sends is what the scheduler gets, field for field.
    #[test]
    fn batches_and_results_survive_the_trip() {
        let location = location("/mnt/S/CAP_AB1");
        let record = FileRecord {
            version: Some("2.00.1493.3004".into()),
            size: Some(7),
            sha256: Some(crate::model::Sha256Digest([0xab; 32])),
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
        // A CAP's folder permissions as the SMB helper reads them.
        let location = Location {
            folder_acls: FolderAcls::Folders(vec![
                FolderAcl {
                    folder: String::new(),
                    dacl: Dacl::Read(vec![Ace {
                        sid: "S-1-5-32-545".into(),
                        ace_type: 0,
                        flags: 0x10,
                        mask: 0x0013_01bf,
                    }]),
                },
                FolderAcl {
                    folder: "ccr.box".into(),
                    dacl: Dacl::Unread("Permission denied".into()),
                },
            ]),
            ..location
        };
        let done = Message::Done {
            location,
            case_twins: vec![("a".into(), vec!["A".into(), "a".into()])],
        };
        let mut frames = Vec::new();
        for sent in [
            &batch,
            &done,
            &Message::Started,
            &Message::Progress { files: 3, bytes: 9 },
        ] {
            write_message(&mut frames, sent).unwrap();
        }
        let mut input = io::BufReader::new(frames.as_slice());
        for sent in [batch, done, Message::Started, Message::Progress { files: 3, bytes: 9 }] {
            let got = read_message(&mut input).unwrap().unwrap();
            // Field for field, as JSON shows them.
            assert_eq!(
                serde_json::to_string(&got).unwrap(),
                serde_json::to_string(&sent).unwrap()
            );
        }
        assert!(read_message(&mut input).unwrap().is_none(), "the end between frames");
    }

    /// A cut or oversized frame is an error, never a message or a huge
    /// allocation.
    #[test]
    fn a_broken_frame_is_an_error() {
        let mut frame = Vec::new();
        write_message(&mut frame, &Message::Progress { files: 1, bytes: 2 }).unwrap();
        let cut = &frame[..frame.len() - 1];
        assert!(read_message(&mut io::BufReader::new(cut)).is_err());
        let huge = (u32::MAX).to_le_bytes();
        assert!(read_message(&mut io::BufReader::new(huge.as_slice())).is_err());
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
