//! Finding client logs under a folder in any layout, and reading them as a
//! stream of entries: whatever the encoding (Windows-1252, UTF-8, UTF-16LE
//! or BE, with or without BOM), either rendering (the raw trace file or the
//! trace viewer's columns), and the malformations real logs and KB copies
//! of them have. Memory is bounded by [`MAX_LINE_BYTES`], not by the size
//! of the file: a longer line is cut and the rest of it skipped.

use crate::crawl::walk::handles::{self, EntryType, Listed};
use crate::model::Status;
use crate::sms::symptoms::CLIENT_LOGS;
use encoding_rs::{Decoder, UTF_16BE, UTF_16LE, WINDOWS_1252};
use regex::Regex;
use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::LazyLock;

/// The longest line kept; SMS writes lines of a few hundred bytes.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;
/// How many physical lines one wrapped entry may span.
const MAX_JOINED_LINES: usize = 6;
/// How deep below a `--client-logs` folder logs are looked for, in
/// folders; a folder deeper is a row that says it was not read.
pub(crate) const MAX_DEPTH: usize = 32;
/// How many cut lines a log's reason names.
const CUT_LINES_NAMED: usize = 3;

/// A log entry: one line of the log, or a wrapped one joined back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The line number (from 1) where the entry starts.
    pub line: u64,
    /// The message, without the trailer and its `~` line mark.
    pub message: String,
    /// The component the log names (`CCIM32`, `ODP\WNet User Groups`).
    pub component: String,
    /// The time as the log writes it; empty when cut off.
    pub time: String,
    /// The entry as it stands in the log, wrapped lines joined by a space.
    pub text: String,
}

/// What reading one log found besides its entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scan {
    pub encoding: &'static str,
    pub lines: u64,
    /// Entries in a log format (raw trailer, viewer columns).
    pub recognised: u64,
    /// Lines longer than [`MAX_LINE_BYTES`]: their first numbers, and how many.
    pub cut_lines: Vec<u64>,
    pub cut_count: u64,
    /// The file is binary data, not text: nothing was read from it.
    pub binary: bool,
    /// The client the log names itself, if it does.
    pub named_client: Option<String>,
    /// NUL bytes skipped at the start (a block of them, as a crash or a
    /// preallocated file leaves).
    pub leading_nuls: u64,
    /// Where the bytes stopped being the encoding they started in: the
    /// byte offset and what they are read as from there.
    pub switched: Option<(u64, &'static str)>,
}

impl Scan {
    /// The log's status and reason in the reports, given how many of its
    /// lines showed a symptom (text copied without its trailers still does).
    pub(crate) fn outcome(&self, symptoms: usize) -> (Status, String) {
        if self.binary {
            return (Status::Malformed, "binary data, not a log text".into());
        }
        if self.lines > 0 && self.recognised == 0 && symptoms == 0 {
            return (
                Status::Malformed,
                format!(
                    "none of its {} lines is an SMS log entry (raw trace or viewer format)",
                    self.lines
                ),
            );
        }
        if self.cut_count > 0 {
            let named: Vec<String> = self.cut_lines.iter().map(u64::to_string).collect();
            let more = if self.cut_count > self.cut_lines.len() as u64 {
                ", ..."
            } else {
                ""
            };
            return (
                Status::Malformed,
                format!(
                    "{} lines longer than {} KiB (line {}{more}): only their first {} KiB were read",
                    self.cut_count,
                    MAX_LINE_BYTES / 1024,
                    named.join(", "),
                    MAX_LINE_BYTES / 1024
                ),
            );
        }
        if let Some((at, read_as)) = self.switched {
            return (
                Status::Malformed,
                format!(
                    "partly read: encoding changed at byte {at}; the lines from there were read as {read_as}, line by line"
                ),
            );
        }
        if self.leading_nuls > 0 {
            return (
                Status::Malformed,
                format!(
                    "partly read: starts with {} NUL bytes, skipped; the text after them was read",
                    self.leading_nuls
                ),
            );
        }
        (Status::Ok, String::new())
    }
}

/// A file under a `--client-logs` folder that is, or is named like, a
/// client log.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The path below the folder given, with `/`.
    pub relative: String,
    /// The client, from the file or folder name; empty when neither names one.
    pub client: String,
    /// The log's own name, lower case (`ccim32.log`).
    pub log: &'static str,
    /// Why it is not read, when it is not (a link, a FIFO, an error).
    pub not_read: Option<(Status, String)>,
    /// The names from the `--client-logs` folder down to the file, each
    /// as listed: what [`Found::open`] opens, one handle at a time.
    chain: Vec<(OsString, Listed)>,
}

/// The client log a file name is, and the client its prefix names:
/// `Ccim32.log`, `PC042_Ccim32.log`, `pc042-ccim32.lo_`.
pub(crate) fn log_name(file_name: &str) -> Option<(Option<String>, &'static str)> {
    let lower = file_name.to_ascii_lowercase();
    let base = match lower.strip_suffix(".lo_") {
        Some(stem) => format!("{stem}.log"),
        None => lower,
    };
    for &log in CLIENT_LOGS {
        if base == log {
            return Some((None, log));
        }
        if let Some(prefix) = base.strip_suffix(log) {
            let cut = prefix.len() - 1;
            if prefix.len() > 1 && matches!(prefix.as_bytes()[cut], b'_' | b'-' | b'.' | b' ') {
                return Some((Some(file_name[..cut].to_string()), log));
            }
        }
    }
    None
}

/// Folder names that say where a log was kept, not whose it is.
fn is_generic_folder(name: &str) -> bool {
    const GENERIC: &[&str] = &[
        "logs", "log", "sms", "ms", "windows", "winnt", "temp", "sms_temp", "core", "data", "c", "c$", "admin$",
    ];
    GENERIC.iter().any(|g| g.eq_ignore_ascii_case(name))
}

/// Every client log below `dir`, in path order, with the folders deeper
/// than [`MAX_DEPTH`] and the links named as rows with a reason. The walk
/// is the share walk's: every folder opened from its parent's handle,
/// never through a link, and checked to be the one listed, so a folder
/// swapped for a link during the walk is never left for what it points to.
pub(crate) fn find_logs(dir: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    match handles::open_root(dir) {
        Ok((root, _)) => walk_folder(dir, &root, &mut Vec::new(), &mut found),
        Err(err) => found.push(not_read_folder(
            dir,
            dir,
            Status::Unreadable,
            format!("folder could not be listed: {err}"),
        )),
    }
    found
}

/// The logs of one open folder and, depth first, of its subfolders.
fn walk_folder(dir: &Path, folder: &handles::Folder, chain: &mut Vec<(OsString, Listed)>, found: &mut Vec<Found>) {
    let path_of = |chain: &[(OsString, Listed)], name: &OsStr| {
        let mut path = dir.to_path_buf();
        path.extend(chain.iter().map(|(n, _)| n));
        path.push(name);
        path
    };
    let here = path_of(chain, OsStr::new(""));
    let names = match handles::list(folder) {
        Ok(names) => names,
        Err(err) => {
            found.push(not_read_folder(
                dir,
                &here,
                Status::Unreadable,
                format!("folder could not be listed: {err}"),
            ));
            return;
        }
    };
    for named in names {
        let path = path_of(chain, &named.name);
        let listed = match handles::stat_entry(folder, &named.name) {
            Ok(listed) => listed,
            Err(err) => {
                if let Some((client, log)) = name_of(dir, &path) {
                    found.push(Found {
                        relative: relative(dir, &path),
                        client,
                        log,
                        not_read: Some((Status::Unreadable, err.to_string())),
                        chain: Vec::new(),
                    });
                }
                continue;
            }
        };
        match listed.kind {
            EntryType::Folder if chain.len() + 1 >= MAX_DEPTH => found.push(not_read_folder(
                dir,
                &path,
                Status::Skipped,
                format!("a folder {} levels deep: client logs are looked for at most {MAX_DEPTH} folders deep, nothing in it was read", chain.len() + 1),
            )),
            EntryType::Folder => match handles::open_folder(folder, &named.name, &listed) {
                Ok(sub) => {
                    chain.push((named.name.clone(), listed));
                    walk_folder(dir, &sub, chain, found);
                    chain.pop();
                }
                Err(err) => found.push(not_read_folder(
                    dir,
                    &path,
                    Status::Unreadable,
                    format!("folder could not be opened: {err}"),
                )),
            },
            EntryType::Link if name_of(dir, &path).is_none() => found.push(not_read_folder(
                dir,
                &path,
                Status::Skipped,
                "a link: not followed, client logs are read only inside the folder given".to_string(),
            )),
            kind => {
                let Some((client, log)) = name_of(dir, &path) else {
                    continue;
                };
                let not_read = match kind {
                    EntryType::File => None,
                    EntryType::Link => Some((
                        Status::Skipped,
                        "a link: not followed, client logs are read only inside the folder given".to_string(),
                    )),
                    _ => Some((
                        Status::Skipped,
                        "not a regular file (a FIFO, a device...): not opened".to_string(),
                    )),
                };
                let mut file_chain = chain.clone();
                file_chain.push((named.name, listed));
                found.push(Found {
                    relative: relative(dir, &path),
                    client,
                    log,
                    not_read,
                    chain: file_chain,
                });
            }
        }
    }
}

/// A folder below `dir` whose logs are unknown: not listed, not entered.
fn not_read_folder(dir: &Path, path: &Path, status: Status, reason: String) -> Found {
    Found {
        relative: relative(dir, path),
        client: String::new(),
        log: "",
        not_read: Some((status, reason)),
        chain: Vec::new(),
    }
}

impl Found {
    /// Opens the log as the walk found it: from the `--client-logs` folder
    /// down, each folder from its parent's handle, never through a link and
    /// only if it is still the one listed; the file likewise.
    pub(crate) fn open(&self, dir: &Path) -> io::Result<std::fs::File> {
        let Some(((name, listed), folders)) = self.chain.split_last() else {
            return Err(io::Error::other("not a file the walk found"));
        };
        let (mut folder, _) = handles::open_root(dir)?;
        for (sub, listed) in folders {
            folder = handles::open_folder(&folder, sub, listed)?;
        }
        Ok(handles::open_file(&folder, name, Some(listed))?.0)
    }
}

fn relative(dir: &Path, path: &Path) -> String {
    let rest = path.strip_prefix(dir).unwrap_or(path);
    let text: Vec<String> = rest
        .components()
        .map(|c| crate::names::escape_name(c.as_os_str()).0)
        .collect();
    text.join("/")
}

/// The client and log of a path below `dir`: the client from the file
/// name's prefix, else from the nearest folder that is not a generic one
/// (`Logs`, `MS`, `SMS`...).
fn name_of(dir: &Path, path: &Path) -> Option<(String, &'static str)> {
    let file_name = crate::names::escape_name(path.file_name()?).0;
    let (prefix, log) = log_name(&file_name)?;
    if let Some(client) = prefix {
        return Some((client, log));
    }
    let rest = path.strip_prefix(dir).ok()?;
    let folder = rest
        .parent()
        .into_iter()
        .flat_map(|p| p.components().rev())
        .map(|c| crate::names::escape_name(c.as_os_str()).0)
        .find(|name| !is_generic_folder(name))
        .unwrap_or_default();
    Some((folder, log))
}

/// How a log's bytes are text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// UTF-8 where a line is valid UTF-8, Windows-1252 where it is not.
    Bytes,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Bytes => "ANSI/UTF-8",
            Encoding::Utf8Bom => "UTF-8",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
        }
    }
}

/// ASCII text as UTF-16 has a NUL in most bytes of one parity.
fn looks_like_utf16(sample: &[u8], big_endian: bool) -> bool {
    let sample = &sample[..sample.len().min(512) & !1];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return false;
    }
    let (zero, other) = if big_endian { (0, 1) } else { (1, 0) };
    let nuls = sample.chunks_exact(2).filter(|p| p[zero] == 0 && p[other] != 0).count();
    nuls * 10 >= pairs * 8
}

/// Binary data rather than text: NULs, or many control characters that
/// no log writes.
fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096)];
    let controls = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'))
        .count();
    crate::text::looks_binary(sample) || controls * 20 > sample.len()
}

/// Decides the encoding from the first bytes, and how many BOM bytes to skip.
fn sniff(head: &[u8]) -> (Encoding, usize) {
    if head.starts_with(b"\xEF\xBB\xBF") {
        (Encoding::Utf8Bom, 3)
    } else if head.starts_with(b"\xFF\xFE") {
        (Encoding::Utf16Le, 2)
    } else if head.starts_with(b"\xFE\xFF") {
        (Encoding::Utf16Be, 2)
    } else if head.get(1) == Some(&0) && looks_like_utf16(head, false) {
        // UTF-16 from its first character: text that switches to it later
        // is read line by line (`read_lines`).
        (Encoding::Utf16Le, 0)
    } else if head.first() == Some(&0) && looks_like_utf16(head, true) {
        (Encoding::Utf16Be, 0)
    } else {
        (Encoding::Bytes, 0)
    }
}

/// UTF-16 turned into UTF-8 as it is read, a chunk at a time.
struct Utf16ToUtf8<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> Utf16ToUtf8<R> {
    fn new(inner: R, big_endian: bool) -> Self {
        let encoding = if big_endian { UTF_16BE } else { UTF_16LE };
        Utf16ToUtf8 {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 16 * 1024],
            output: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.output.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            let room = self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16);
            self.output.clear();
            self.output.resize(room, 0);
            let (_, _, written, _) = self.decoder.decode_to_utf8(&self.input[..n], &mut self.output, last);
            self.output.truncate(written);
            self.at = 0;
            self.done = last;
        }
        let n = buf.len().min(self.output.len() - self.at);
        buf[..n].copy_from_slice(&self.output[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Splits a byte stream into lines of at most [`MAX_LINE_BYTES`].
struct Lines<R> {
    reader: R,
    line: Vec<u8>,
    /// Bytes consumed so far: where the next line starts.
    offset: u64,
}

impl<R: BufRead> Lines<R> {
    /// The next line without its end, and whether it was cut.
    fn next_line(&mut self) -> io::Result<Option<(&[u8], bool)>> {
        self.line.clear();
        let mut cut = false;
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (part, used, end) = match memchr::memchr(b'\n', chunk) {
                Some(at) => (&chunk[..at], at + 1, true),
                None => (chunk, chunk.len(), false),
            };
            let room = MAX_LINE_BYTES - self.line.len();
            if part.len() > room {
                cut = true;
            }
            self.line.extend_from_slice(&part[..part.len().min(room)]);
            self.reader.consume(used);
            self.offset += used as u64;
            if end {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        Ok(Some((&self.line, cut)))
    }
}

/// A line's bytes as text: UTF-8 where they are, else Windows-1252. A cut
/// line may end inside a character: that part is dropped.
fn line_text(bytes: &[u8], cut: bool) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(err) if cut && err.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..err.valid_up_to()]).into_owned()
        }
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Skips a block of NUL bytes at the start (at least 4, an even number so
/// UTF-16 after it stays aligned); returns how many.
fn skip_nul_block(reader: &mut impl BufRead) -> io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        let nuls = buf.iter().take_while(|&&b| b == 0).count();
        let whole = nuls == buf.len() && nuls > 0;
        let take = if whole { nuls } else { nuls & !1 };
        if skipped == 0 && !whole && nuls < 4 {
            return Ok(0);
        }
        reader.consume(take);
        skipped += take as u64;
        if !whole {
            return Ok(skipped);
        }
    }
}

/// Text lines, then UTF-16 from a line on: not binary data.
fn text_then_utf16(head: &[u8]) -> bool {
    let Some(nul) = memchr::memchr(0, head) else {
        return false;
    };
    let Some(line_start) = memchr::memrchr(b'\n', &head[..nul]).map(|at| at + 1) else {
        return false;
    };
    let rest = &head[line_start..];
    let rest = if rest.first() == Some(&0) { &rest[1..] } else { rest };
    !looks_binary(&head[..line_start]) && (looks_like_utf16(rest, false) || looks_like_utf16(rest, true))
}

/// A line with NULs in a log of bytes: UTF-16 when it looks like it (the
/// NUL left of a UTF-16LE line end dropped first), else its NULs dropped.
fn line_with_nuls(bytes: &[u8], cut: bool) -> (String, &'static str) {
    let bytes = match bytes {
        [0, next, ..] if *next != 0 => &bytes[1..],
        _ => bytes,
    };
    for (big_endian, name) in [(false, "UTF-16LE"), (true, "UTF-16BE")] {
        if looks_like_utf16(bytes, big_endian) {
            let encoding = if big_endian { UTF_16BE } else { UTF_16LE };
            let text = encoding.decode_without_bom_handling(bytes).0;
            let text = text.trim_end_matches(['\r', '\0']).to_string();
            return (text, name);
        }
    }
    let kept: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
    (line_text(&kept, cut), "text with its NUL bytes dropped")
}

/// Reads a whole log, calling `on_entry` for each entry in order.
pub(crate) fn scan(reader: impl Read, mut on_entry: impl FnMut(Entry)) -> io::Result<Scan> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let leading_nuls = skip_nul_block(&mut reader)?;
    let head = loop {
        match reader.fill_buf() {
            Ok(head) => break head,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    };
    let (encoding, bom) = sniff(head);
    let mut scan = Scan {
        encoding: encoding.name(),
        leading_nuls,
        ..Scan::default()
    };
    if encoding == Encoding::Bytes && looks_binary(head) && !text_then_utf16(head) {
        scan.binary = true;
        return Ok(scan);
    }
    reader.consume(bom);
    match encoding {
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let utf8 = Utf16ToUtf8::new(reader, encoding == Encoding::Utf16Be);
            read_lines(
                BufReader::with_capacity(64 * 1024, utf8),
                false,
                &mut scan,
                &mut on_entry,
            )?;
        }
        Encoding::Bytes | Encoding::Utf8Bom => read_lines(reader, true, &mut scan, &mut on_entry)?,
    }
    Ok(scan)
}

/// Reads the lines of a log; in a log of bytes (not UTF-16 from its
/// start), each line with NULs is looked at on its own: UTF-16 text is
/// decoded as such (a log that switches encoding mid-file), other NULs are
/// dropped, and the first such line is noted in `scan`.
fn read_lines(
    reader: impl BufRead,
    bytes_mode: bool,
    scan: &mut Scan,
    on_entry: &mut dyn FnMut(Entry),
) -> io::Result<()> {
    let mut lines = Lines {
        reader,
        line: Vec::new(),
        offset: scan.leading_nuls,
    };
    let mut start = lines.offset;
    let mut pending = Pending::default();
    let mut raw_seen = false;
    while let Some((bytes, cut)) = lines.next_line()? {
        let at = start;
        scan.lines += 1;
        if cut {
            scan.cut_count += 1;
            if scan.cut_lines.len() < CUT_LINES_NAMED {
                scan.cut_lines.push(scan.lines);
            }
        }
        let text = match bytes_mode && memchr::memchr(0, bytes).is_some() {
            true => {
                let (text, read_as) = line_with_nuls(bytes, cut);
                scan.switched.get_or_insert((at, read_as));
                text
            }
            false => line_text(bytes, cut),
        };
        start = lines.offset;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            std::mem::take(&mut pending).emit(scan, on_entry);
            continue;
        }
        if !pending.joins(trimmed, raw_seen) {
            std::mem::take(&mut pending).emit(scan, on_entry);
        }
        pending.push(scan.lines, trimmed);
        raw_seen |= RAW_MARKER.is_match(trimmed);
    }
    pending.emit(scan, on_entry);
    Ok(())
}

/// An entry being put together from wrapped lines.
#[derive(Default)]
struct Pending {
    /// The physical lines, with their numbers.
    parts: Vec<(u64, String)>,
    /// Their text joined by a space.
    text: String,
}

impl Pending {
    fn push(&mut self, line: u64, text: &str) {
        if !self.parts.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(text);
        self.parts.push((line, text.to_string()));
    }

    /// Whether `next` continues this entry: `next` is a trailer on a line
    /// of its own, or this entry's trailer is cut short, or this entry has
    /// none yet in a log known to be raw, where every entry ends with one.
    fn joins(&self, next: &str, raw_seen: bool) -> bool {
        let too_long = self.text.len() + 1 + next.len() > MAX_LINE_BYTES;
        if self.parts.is_empty() || self.parts.len() >= MAX_JOINED_LINES || too_long {
            return false;
        }
        if RAW_MARKER.find(next).is_some_and(|m| m.start() == 0) {
            return true;
        }
        match RAW_MARKER.find(&self.text) {
            Some(marker) => !THREAD_END.is_match(&self.text[marker.end()..]),
            None => raw_seen,
        }
    }

    /// Hands over the entry; lines joined in the hope of a trailer that
    /// never came were not one entry, and go one by one.
    fn emit(self, scan: &mut Scan, on_entry: &mut dyn FnMut(Entry)) {
        if self.parts.len() > 1 && !RAW_MARKER.is_match(&self.text) {
            for (line, text) in &self.parts {
                emit_one(*line, text, scan, on_entry);
            }
        } else if let Some((line, _)) = self.parts.first() {
            emit_one(*line, &self.text, scan, on_entry);
        }
    }
}

fn emit_one(line: u64, text: &str, scan: &mut Scan, on_entry: &mut dyn FnMut(Entry)) {
    let (entry, recognised) = parse_entry(line, text);
    if recognised {
        scan.recognised += 1;
    }
    if scan.named_client.is_none() {
        scan.named_client = CLIENT_NAME
            .captures(&entry.message)
            .map(|c| c[1].trim_end_matches(['.', ',']).to_string());
    }
    on_entry(entry);
}

static RAW_MARKER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\$\$<|<\$\$").expect("valid"));
static THREAD_END: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)<\s*thread\s*=\s*\d+[^>]*>").expect("valid"));
static RAW_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<\s*([A-Za-z]{3}\s+[A-Za-z]{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\s+\d{4})\s*>?")
        .expect("valid")
});
static VIEWER_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}:\d{2}(?:\.\d+)?(?:\s*[AP]M)?)").expect("valid")
});
static THREAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(\d+)\s*(?:\(\s*0x[0-9A-Fa-f]+\s*\))?\s*$").expect("valid"));
/// The component column at the end of a viewer line, or what is left of it.
static COMPONENT_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|\s)(ODP\\[^\\]*?|[a-z]:\\[^<>]*?\.(?:exe|dll)>?|[\w.-]+\.(?:exe|dll)|CCIM32|CLICORE|COREINST|BOOT32WN|SMSAPM32|SMSCLI|LAUNCH32|CLISVCL?|WN_?LOGON|WNMANUAL|WN_?REMOTE|ODPSYS32|ODPUSR32|SMSMAN)\s*$",
    )
    .expect("valid")
});
static CLIENT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:computer|machine|client)\s*name\s*(?:is|:|=)\s*['\x22]?([a-z0-9][a-z0-9_.$-]{0,62})")
        .expect("valid")
});

/// The message of an entry: trimmed, its `~` line mark dropped.
fn clean_message(text: &str) -> String {
    text.trim().trim_end_matches(['~', ' ', '\t']).trim().to_string()
}

/// Parses one entry in whichever rendering it is; `true` when it is in a
/// log format (not just text).
pub(crate) fn parse_entry(line: u64, text: &str) -> (Entry, bool) {
    let entry = |message: &str, component: &str, time: &str| Entry {
        line,
        message: clean_message(message),
        component: component.trim().trim_end_matches('>').trim().to_string(),
        time: time.split_whitespace().collect::<Vec<_>>().join(" "),
        text: text.to_string(),
    };
    if let Some(marker) = RAW_MARKER.find(text) {
        let trailer = &text[marker.end()..];
        let component = trailer.split(['<', '>']).next().unwrap_or("");
        let time = RAW_TIME.captures(trailer).map(|c| c.get(1).map_or("", |m| m.as_str()));
        return (entry(&text[..marker.start()], component, time.unwrap_or("")), true);
    }
    let fields: Vec<&str> = text.split('\t').map(str::trim).filter(|f| !f.is_empty()).collect();
    if fields.len() >= 2 {
        let is_time = |f: &str| {
            VIEWER_TIME
                .find(f)
                .is_some_and(|m| m.start() == 0 && m.end() == f.len())
        };
        let time = fields.iter().find(|f| is_time(f)).copied().unwrap_or("");
        let rest: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|f| !is_time(f) && !THREAD.is_match(f))
            .collect();
        let has_thread = fields.iter().any(|f| THREAD.is_match(f));
        match rest.as_slice() {
            // Columns are the viewer's only when a time or thread says so.
            _ if time.is_empty() && !has_thread => {}
            [message, component, ..] => return (entry(message, component, time), true),
            [message] => return (entry(message, "", time), true),
            [] => {}
        }
    }
    if let Some(time) = VIEWER_TIME.find_iter(text).last() {
        let after = &text[time.end()..];
        let (message_and_component, time_first) = if text[..time.start()].trim().is_empty() {
            (after, true)
        } else {
            (&text[..time.start()], false)
        };
        let thread_ok = time_first || after.trim().is_empty() || THREAD.is_match(after);
        if thread_ok {
            let (message, component) = split_component(message_and_component);
            return (entry(message, component, time.as_str()), true);
        }
    }
    // Cut down to the component, after two spaces or a tab (`...  CCIM32`).
    if let Some(found) = COMPONENT_SUFFIX.captures(text) {
        let whole = found.get(0).expect("match");
        let before = &text[..whole.start() + 1];
        if before.ends_with("  ") || before.ends_with('\t') || before.trim().is_empty() {
            let component = found.get(1).map_or("", |m| m.as_str());
            return (entry(&text[..whole.start()], component, ""), true);
        }
    }
    (entry(text, "", ""), false)
}

/// A viewer line's text and component, when the component is one the logs
/// use; otherwise all of it is text.
fn split_component(text: &str) -> (&str, &str) {
    let trimmed = text.trim_end();
    match COMPONENT_SUFFIX.captures(trimmed) {
        Some(found) => {
            let component = found.get(1).expect("group");
            (&trimmed[..component.start()], component.as_str())
        }
        None => (trimmed, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(bytes: &[u8]) -> (Vec<Entry>, Scan) {
        let mut out = Vec::new();
        let scan = scan(bytes, |e| out.push(e)).unwrap();
        (out, scan)
    }

    #[test]
    fn raw_trailer_with_a_missing_bracket_and_reversed_marker() {
        let (e, ok) = parse_entry(
            1,
            "Component \"Available Programs Manager Win32\" needs to be verified $$<CCIM32<Tue Jun 22 01:26:12.050 1999><thread=4294798339 (0xFFFD6C03)>",
        );
        assert!(ok);
        assert_eq!(e.component, "CCIM32");
        assert_eq!(e.time, "Tue Jun 22 01:26:12.050 1999");
        assert_eq!(
            e.message,
            "Component \"Available Programs Manager Win32\" needs to be verified"
        );
        let (e, _) = parse_entry(
            3,
            r"Retry in 10 mins... <$$C:\WINDOWS\MS\SMS\CORE\BIN\BOOT32WN.EXE> <Wed May 10 09:15:12.470 2000 > <thread=4294758987 (0xFFFCD24B)>",
        );
        assert_eq!(e.component, r"C:\WINDOWS\MS\SMS\CORE\BIN\BOOT32WN.EXE");
        assert_eq!(e.time, "Wed May 10 09:15:12.470 2000");
        assert_eq!(e.message, "Retry in 10 mins...");
    }

    #[test]
    fn viewer_columns_tabs_spaces_and_cut_short() {
        let (e, ok) = parse_entry(
            1,
            "1/16/2001 2:27:42 PM\tCLIENT IS ASSIGNED  \tCliEx32.dll\t4294883705 (0xFFFEB979)\t",
        );
        assert!(ok);
        assert_eq!(
            (e.message.as_str(), e.component.as_str()),
            ("CLIENT IS ASSIGNED", "CliEx32.dll")
        );
        assert_eq!(e.time, "1/16/2001 2:27:42 PM");
        let (e, ok) = parse_entry(
            2,
            r"TEST : No CAP offer Inbox is accessible. ODP\WNet User Groups 9/15/2000 8:57:54 AM 260 (0x104)",
        );
        assert!(ok);
        assert_eq!(e.message, "TEST : No CAP offer Inbox is accessible.");
        assert_eq!(e.component, r"ODP\WNet User Groups");
        assert_eq!(e.time, "9/15/2000 8:57:54 AM");
        let (e, ok) = parse_entry(3, "Trying to open IPC connection with APM...  CCIM32");
        assert!(ok);
        assert_eq!(
            (e.message.as_str(), e.component.as_str()),
            ("Trying to open IPC connection with APM...", "CCIM32")
        );
        let (e, ok) = parse_entry(
            4,
            "Warning: Directory still in use by inbox manager; skipping operations",
        );
        assert!(!ok);
        assert_eq!(
            e.message,
            "Warning: Directory still in use by inbox manager; skipping operations"
        );
    }

    #[test]
    fn wrapped_raw_entries_are_joined() {
        let log = "Verifying application [C:\\WINNT\\MS\\SMS\\clicomp\\SWDist32\\bin\\ODPUSR32.exe]~\r\n$$<C:\\WINNT\\MS\\SMS\\CORE\\BIN\\CLISVCL.EXE><Thu Jul 27 20:40:04.509\r\n2000><thread=208 (0xD0)>\r\n#$#$#$#$#$ ERROR: The Client Service is not authorised to run this\r\napplication! (5)~ $$<C:\\WINNT\\MS\\SMS\\CORE\\BIN\\CLISVCL.EXE><Thu Jul\r\n27\r\n20:40:04.529 2000><thread=208 (0xD0)>\r\n";
        let (e, scan) = entries(log.as_bytes());
        assert_eq!(scan.lines, 7);
        assert_eq!(e.len(), 2, "{e:#?}");
        assert_eq!(e[0].line, 1);
        assert_eq!(e[0].time, "Thu Jul 27 20:40:04.509 2000");
        assert_eq!(e[1].line, 4);
        assert_eq!(
            e[1].message,
            "#$#$#$#$#$ ERROR: The Client Service is not authorised to run this application! (5)"
        );
        assert_eq!(e[1].time, "Thu Jul 27 20:40:04.529 2000");
    }

    #[test]
    fn text_wrapped_before_its_trailer_is_joined_and_lines_without_one_are_not() {
        let log = "start $$<CCIM32><Tue Jun 22 01:26:12.050 1999><thread=1 (0x1)>\nWarning: \\\\SERVER1\\CAP_MS1\\clicomp.box\\smsapm32.CFG version () out of sync with\noffer file version (2.00.1239.0000); skipping operations\n$$<CCIM32><Tue Jun 22 01:26:12.270 1999><thread=4294798339\n(0xFFFD6C03)>\nplain one\nplain two\n";
        let (e, _) = entries(log.as_bytes());
        assert_eq!(e.len(), 4, "{e:#?}");
        assert_eq!(e[1].line, 2);
        assert!(
            e[1].message.ends_with("(2.00.1239.0000); skipping operations"),
            "{}",
            e[1].message
        );
        assert_eq!(e[1].time, "Tue Jun 22 01:26:12.270 1999");
        assert_eq!((e[2].line, e[2].message.as_str()), (6, "plain one"));
        assert_eq!((e[3].line, e[3].message.as_str()), (7, "plain two"));
    }

    #[test]
    fn encodings_give_the_same_entries() {
        let text = "Café ready $$<CCIM32><Tue Jan 04 15:19:23.375 2000><thread=112 (0x70)>\r\nnext $$<CCIM32><Tue Jan 04 15:19:24.375 2000><thread=112 (0x70)>\r\n";
        let (utf8, _) = entries(text.as_bytes());
        let ansi: Vec<u8> = WINDOWS_1252.encode(text).0.into_owned();
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (name, bytes) in [
            ("ansi", ansi),
            ("le", le.clone()),
            ("be", be.clone()),
            ("le bom", [&b"\xFF\xFE"[..], &le].concat()),
            ("be bom", [&b"\xFE\xFF"[..], &be].concat()),
            ("utf8 bom", [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat()),
        ] {
            let (got, scan) = entries(&bytes);
            assert_eq!(got, utf8, "{name}");
            assert_eq!(scan.recognised, 2, "{name}");
        }
        assert_eq!(utf8[0].message, "Café ready");
    }

    #[test]
    fn an_endless_line_is_cut_not_held() {
        let mut bytes = b"Warning - CCIM32 $$<CCIM32><Tue Jan 04 15:19:23.375 2000><thread=1 (0x1)>\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 3 * MAX_LINE_BYTES));
        bytes.extend_from_slice(b"\nlast $$<CCIM32><Tue Jan 04 15:19:23.375 2000><thread=1 (0x1)>");
        let (e, scan) = entries(&bytes);
        assert_eq!(scan.lines, 3);
        assert_eq!((scan.cut_count, scan.cut_lines.clone()), (1, vec![2]));
        assert!(e.iter().all(|e| e.text.len() <= MAX_LINE_BYTES));
        assert_eq!(e.last().unwrap().message, "last");
        assert_eq!(scan.outcome(0).0, Status::Malformed);
    }

    #[test]
    fn binary_and_text_without_log_entries_are_malformed() {
        let (_, scan) = entries(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0\0\0\0\0\0\0");
        assert!(scan.binary);
        assert_eq!(scan.outcome(0).0, Status::Malformed);
        let (_, scan) = entries(b"just some words\nand more words\n");
        assert_eq!(scan.outcome(0).0, Status::Malformed);
        let (_, scan) = entries(b"");
        assert_eq!(scan.outcome(0), (Status::Ok, String::new()));
    }

    #[test]
    fn log_names_and_clients_from_file_names() {
        assert_eq!(log_name("Ccim32.log"), Some((None, "ccim32.log")));
        assert_eq!(log_name("PC042_Ccim32.LOG"), Some((Some("PC042".into()), "ccim32.log")));
        assert_eq!(
            log_name("pc-9.wn_logon.lo_"),
            Some((Some("pc-9".into()), "wn_logon.log"))
        );
        assert_eq!(log_name("Clisvcl.log"), Some((None, "clisvcl.log")));
        assert_eq!(log_name("xccim32.log"), None);
        assert_eq!(log_name("inboxmgr.log"), None);
        assert_eq!(log_name("_ccim32.log"), None);
    }
}
