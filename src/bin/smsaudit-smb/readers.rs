//! Reader processes: a share's files are opened, read and closed by up to
//! [`MAX_READERS`] children of the helper (this program run with
//! [`READER_ARG`]), each with its own libsmbclient context and so its own
//! connection, while the helper keeps the walk, its listings and the
//! crawl-worker protocol. libsmbclient sends one request at a time per
//! context and is not thread-safe as distributions build it: on a link
//! where every request costs a round trip, processes are how several
//! requests are in flight at once.
//!
//! A reader is lent to one file at a time, from its open to its close, by
//! the walk thread reading it: readers are started as threads need them,
//! so there are never more than the threads the share may use at once (its
//! share of `-j`) nor more than [`MAX_READERS`]. A read asks for at most
//! one buffer of the walk, so memory stays bounded whatever the files'
//! sizes. A reader that dies or does not answer within [`ANSWER_TIMEOUT`]
//! is killed and its file gets a row saying so; the next file gets a new
//! reader. A reader ends on its own as soon as the helper is gone (killed
//! when its share stopped answering, say): it watches its parent.
//!
//! The helper and its readers speak frames over the reader's stdin and
//! stdout: a request is an operation byte, a little-endian u32 length and
//! the payload; an answer is a status byte (0 done, 1 failed), a length and
//! the payload (a failure's is the errno, i32, then a message). Credentials
//! reach a reader as they reach the helper: by its environment, never its
//! command line or these frames.

use crate::fs::{self, SmbFile};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The hidden argument that makes this program a reader.
pub const READER_ARG: &str = "__smb-reader";

/// The helper's pid, for a reader to tell when its parent is gone.
const PARENT_ENV: &str = "SMSAUDIT_SMB_READER_PARENT";

/// Readers of one share at most: 16 connections keep 16 requests in flight,
/// which on a 2 ms link brings a CAP of small files to about 2x of the
/// round-trip ideal (1.9x to 2.1x at best, benches/RESULTS.md), the default `-j` lends a lone
/// share 16 threads anyway, and each reader is a session on the server (an
/// smbd process, a Windows session), which a site server should not see by
/// the hundred.
pub const MAX_READERS: usize = 16;

/// Readers started in a helper's life at most: readers that keep dying (a
/// server that drops every connection) are not restarted for ever.
const MAX_STARTS: usize = 4 * MAX_READERS;

/// How long a reader may take to answer one request: longer than
/// libsmbclient's own limit on one SMB request (30 s), since one read of
/// the walk's buffer may be several.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest payload a frame may carry (a read of the walk's buffer, a
/// URL): a larger length is a broken pipe's garbage.
const MAX_FRAME: usize = 4 << 20;

/// The most a reader reads of a file at its open: the walk's read buffer,
/// so a file that fits it is read in one exchange with the reader.
pub const MAX_AHEAD: usize = 1 << 20;

/// How often a reader checks that its parent is alive.
const PARENT_CHECK: Duration = Duration::from_millis(100);

const OPEN: u8 = b'O';
const READ: u8 = b'R';
const SEEK: u8 = b'S';
const STAT: u8 = b'T';
const CLOSE: u8 = b'C';

const DONE: u8 = 0;
const FAILED: u8 = 1;

/// The reader processes of the helper.
pub struct Readers {
    shared: Arc<Shared>,
}

struct Shared {
    pool: Mutex<Pool>,
    freed: Condvar,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Reader>,
    /// Readers started and not yet ended, lent or idle.
    alive: usize,
    started: usize,
    /// Closes sent and not yet answered (idle readers, or readers being
    /// lent): [`Readers::settle_closes`] waits until there are none.
    closing: usize,
}

impl Shared {
    fn pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes an idle reader, starts one if fewer than MAX_READERS live,
    /// else waits for one to be given back. Fails only when none can be
    /// started and none lives.
    fn lend(&self) -> io::Result<Reader> {
        let mut pool = self.pool();
        loop {
            if let Some(mut reader) = pool.idle.pop() {
                drop(pool);
                // The answer to the last file's close, which nobody waited
                // for; a reader that ended or failed it since is dropped
                // here, so no file is lost with it.
                if self.settle(&mut reader).is_ok() {
                    return Ok(reader);
                }
                self.ended();
                pool = self.pool();
                continue;
            }
            if pool.alive < MAX_READERS && pool.started < MAX_STARTS {
                pool.alive += 1;
                pool.started += 1;
                drop(pool);
                return Reader::start().inspect_err(|_| self.ended());
            }
            if pool.alive == 0 {
                return Err(io::Error::other(format!(
                    "{MAX_STARTS} SMB reader processes started and ended: no more are started"
                )));
            }
            pool = self.freed.wait(pool).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give_back(&self, reader: Reader) {
        let mut pool = self.pool();
        if reader.closing {
            pool.closing += 1;
        }
        pool.idle.push(reader);
        drop(pool);
        self.freed.notify_all();
    }

    /// Reads the answer to the close an idle reader sent, if any, and
    /// counts it answered (or its reader lost).
    fn settle(&self, reader: &mut Reader) -> Result<(), Failure> {
        let was_closing = reader.closing;
        let settled = reader.settle();
        if was_closing {
            self.pool().closing -= 1;
            self.freed.notify_all();
        }
        settled
    }

    /// A lent reader is gone (killed and reaped by [`Reader::lose`]).
    fn ended(&self) {
        self.pool().alive -= 1;
        self.freed.notify_one();
    }
}

impl Readers {
    /// Waits until every close sent so far is answered: the server then
    /// holds none of those files open. While an SMB client holds a file
    /// open, Samba shows the time the file had when it was opened, in a
    /// listing and by the handle alike, so a check taken before the close
    /// is answered would not see the server's own writes during the read.
    pub fn settle_closes(&self) {
        loop {
            let idle = std::mem::take(&mut self.shared.pool().idle);
            for mut reader in idle {
                match self.shared.settle(&mut reader) {
                    Ok(()) => self.shared.give_back(reader),
                    Err(_) => self.shared.ended(),
                }
            }
            let pool = self.shared.pool();
            if pool.closing == 0 {
                return;
            }
            // The others are being settled by the threads lending them.
            let _ = self
                .shared
                .freed
                .wait_timeout(pool, Duration::from_millis(5))
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    pub fn new() -> Readers {
        Readers {
            shared: Arc::new(Shared {
                pool: Mutex::new(Pool::default()),
                freed: Condvar::new(),
            }),
        }
    }

    /// Opens `url` in a reader, which reads its first `ahead` bytes at
    /// once (at most [`MAX_AHEAD`]): a small file is then read in one
    /// exchange with the reader. `Ok(None)`: no reader could be lent (none
    /// could be started), the caller reads in its own process.
    pub fn open(&self, url: &str, ahead: u64) -> io::Result<Option<Remote>> {
        let Ok(mut reader) = self.shared.lend() else {
            return Ok(None);
        };
        let ahead = u32::try_from(ahead.min(MAX_AHEAD as u64)).unwrap_or(0);
        let mut payload = ahead.to_le_bytes().to_vec();
        payload.extend_from_slice(url.as_bytes());
        match reader.call(OPEN, &payload) {
            Ok(read) => Ok(Some(Remote {
                shared: self.shared.clone(),
                reader: Some(reader),
                ahead: read,
                at: 0,
            })),
            Err(Failure::Refused(err)) => {
                self.shared.give_back(reader);
                Err(err)
            }
            Err(Failure::Lost(err)) => {
                self.shared.ended();
                Err(err)
            }
        }
    }
}

impl Drop for Readers {
    /// Idle readers end when their stdin closes: reaped here, so none is
    /// left to whoever adopts them.
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.shared.pool().idle);
        for Reader { mut child, input, .. } in idle {
            drop(input);
            let _ = child.wait();
        }
    }
}

/// Why a request to a reader failed.
enum Failure {
    /// The reader answered with an error (no such file, access denied...):
    /// it goes on serving.
    Refused(io::Error),
    /// The reader died, hung or spoke nonsense: it is killed and reaped.
    Lost(io::Error),
}

/// One reader process, as the helper holds it.
struct Reader {
    child: Child,
    input: ChildStdin,
    output: ChildStdout,
    /// A close sent and not yet answered.
    closing: bool,
}

impl Reader {
    fn start() -> io::Result<Reader> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg(READER_ARG)
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // The helper's own stderr, which smsaudit keeps for reasons.
            .stderr(Stdio::inherit())
            .spawn()?;
        match (child.stdin.take(), child.stdout.take()) {
            (Some(input), Some(output)) => Ok(Reader {
                child,
                input,
                output,
                closing: false,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::other("a reader process without pipes"))
            }
        }
    }

    /// Sends a close without waiting for its answer (read by
    /// [`Reader::settle`] before the reader's next file).
    fn close(&mut self) -> io::Result<()> {
        write_frame(&mut self.input, CLOSE, &[]).and_then(|()| self.input.flush())?;
        self.closing = true;
        Ok(())
    }

    /// Reads the answer to a close sent by [`Reader::close`], if any: a
    /// reader whose close failed is killed, not trusted with another file.
    fn settle(&mut self) -> Result<(), Failure> {
        if !self.closing {
            return Ok(());
        }
        self.closing = false;
        match self.answer() {
            Ok(_) => Ok(()),
            Err(Failure::Refused(_)) => Err(Failure::Lost(self.lose("did not close a file"))),
            Err(lost) => Err(lost),
        }
    }

    /// Sends one request and waits for its answer, at most ANSWER_TIMEOUT.
    fn call(&mut self, op: u8, payload: &[u8]) -> Result<Vec<u8>, Failure> {
        self.settle()?;
        let sent = write_frame(&mut self.input, op, payload).and_then(|()| self.input.flush());
        if sent.is_err() {
            return Err(Failure::Lost(self.lose("ended")));
        }
        self.answer()
    }

    /// Reads the answer to the request sent last, at most ANSWER_TIMEOUT.
    fn answer(&mut self) -> Result<Vec<u8>, Failure> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut header = [0u8; 5];
        let answer = self.read_by(&mut header, deadline).and_then(|()| {
            let len = frame_len(&header)?;
            let mut body = vec![0u8; len];
            self.read_by(&mut body, deadline)?;
            Ok((header[0], body))
        });
        match answer {
            Ok((DONE, body)) => Ok(body),
            Ok((FAILED, body)) if body.len() >= 4 => {
                let errno = i32::from_le_bytes([body[0], body[1], body[2], body[3]]);
                let message = String::from_utf8_lossy(&body[4..]);
                Err(Failure::Refused(match errno {
                    0 => io::Error::other(message.into_owned()),
                    errno => io::Error::from_raw_os_error(errno),
                }))
            }
            Ok(_) => Err(Failure::Lost(self.lose("answered nonsense"))),
            Err(err) if err.kind() == io::ErrorKind::TimedOut => Err(Failure::Lost(
                self.lose(&format!("did not answer within {} s", ANSWER_TIMEOUT.as_secs())),
            )),
            Err(_) => Err(Failure::Lost(self.lose("ended"))),
        }
    }

    /// Fills `buffer` from the reader's stdout, or fails at `deadline`.
    fn read_by(&mut self, buffer: &mut [u8], deadline: Instant) -> io::Result<()> {
        let mut done = 0;
        while done < buffer.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut poll = libc::pollfd {
                fd: self.output.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let millis = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
            // SAFETY: one valid pollfd for the call.
            match unsafe { libc::poll(&mut poll, 1, millis) } {
                0 => return Err(io::ErrorKind::TimedOut.into()),
                -1 => {
                    let err = io::Error::last_os_error();
                    if err.kind() != io::ErrorKind::Interrupted {
                        return Err(err);
                    }
                }
                _ => match self.output.read(&mut buffer[done..]) {
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => done += n,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err),
                },
            }
        }
        Ok(())
    }

    /// Kills and reaps the reader; the error its file gets.
    fn lose(&mut self, what: &str) -> io::Error {
        let pid = self.child.id();
        let _ = self.child.kill();
        let status = match self.child.wait() {
            Ok(status) => format!(" ({status})"),
            Err(_) => String::new(),
        };
        io::Error::other(format!("the SMB reader process {pid} {what}{status}"))
    }
}

fn write_frame(out: &mut impl Write, first: u8, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut header = [first, 0, 0, 0, 0];
    header[1..].copy_from_slice(&len.to_le_bytes());
    out.write_all(&header)?;
    out.write_all(payload)
}

fn frame_len(header: &[u8; 5]) -> io::Result<usize> {
    let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "a frame too long"));
    }
    Ok(len)
}

/// A file open in a reader, which is lent to it until it is dropped.
pub struct Remote {
    shared: Arc<Shared>,
    /// None once the reader is lost.
    reader: Option<Reader>,
    /// Bytes the reader read at the open, from `at` not yet read here; the
    /// reader's own position is past them.
    ahead: Vec<u8>,
    at: usize,
}

impl Remote {
    fn call(&mut self, op: u8, payload: &[u8]) -> io::Result<Vec<u8>> {
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| io::Error::other("its SMB reader process was lost"))?;
        match reader.call(op, payload) {
            Ok(body) => Ok(body),
            Err(Failure::Refused(err)) => Err(err),
            Err(Failure::Lost(err)) => {
                self.reader = None;
                self.shared.ended();
                Err(err)
            }
        }
    }

    /// The open file's `struct stat`, as the reader's libsmbclient gives it.
    pub fn stat(&mut self) -> io::Result<libc::stat> {
        let body = self.call(STAT, &[])?;
        decode_stat(&body)
    }
}

impl Read for Remote {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.at < self.ahead.len() {
            let n = buffer.len().min(self.ahead.len() - self.at);
            buffer[..n].copy_from_slice(&self.ahead[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        let asked = u32::try_from(buffer.len().min(MAX_FRAME)).unwrap_or(u32::MAX);
        let body = self.call(READ, &asked.to_le_bytes())?;
        if body.len() > buffer.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a reader sent more than asked",
            ));
        }
        buffer[..body.len()].copy_from_slice(&body);
        Ok(body.len())
    }
}

impl Seek for Remote {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let (offset, whence) = match to {
            SeekFrom::Start(at) => (
                i64::try_from(at).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
                0u8,
            ),
            // From where this side is: the reader is past what was read ahead.
            SeekFrom::Current(by) => (by - (self.ahead.len() - self.at) as i64, 1),
            SeekFrom::End(by) => (by, 2),
        };
        self.ahead = Vec::new();
        self.at = 0;
        let mut payload = offset.to_le_bytes().to_vec();
        payload.push(whence);
        let body = self.call(SEEK, &payload)?;
        let at: [u8; 8] = body
            .as_slice()
            .try_into()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a bad seek answer"))?;
        Ok(u64::from_le_bytes(at))
    }
}

impl Drop for Remote {
    /// The close is sent and the reader given back at once: the walk does
    /// not wait for the close's round trip, the reader's next file does.
    fn drop(&mut self) {
        let Some(mut reader) = self.reader.take() else { return };
        if reader.close().is_ok() {
            self.shared.give_back(reader);
        } else {
            reader.lose("ended");
            self.shared.ended();
        }
    }
}

/// The fields of `struct stat` the walk reads, as sent between processes.
fn encode_stat(stat: &libc::stat) -> Vec<u8> {
    #[allow(clippy::unnecessary_cast)]
    let fields: [i64; 7] = [
        stat.st_size as i64,
        stat.st_mtime as i64,
        stat.st_mtime_nsec as i64,
        stat.st_ctime as i64,
        stat.st_ctime_nsec as i64,
        stat.st_ino as i64,
        stat.st_mode as i64,
    ];
    fields.iter().flat_map(|field| field.to_le_bytes()).collect()
}

#[allow(clippy::unnecessary_cast)]
fn decode_stat(body: &[u8]) -> io::Result<libc::stat> {
    if body.len() != 7 * 8 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "a bad stat answer"));
    }
    let field = |i: usize| i64::from_le_bytes(body[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    // SAFETY: a zeroed `struct stat` is valid.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    stat.st_size = field(0) as _;
    stat.st_mtime = field(1) as _;
    stat.st_mtime_nsec = field(2) as _;
    stat.st_ctime = field(3) as _;
    stat.st_ctime_nsec = field(4) as _;
    stat.st_ino = field(5) as _;
    stat.st_mode = field(6) as _;
    Ok(stat)
}

/// A reader's `main`: its own context, then requests from stdin until it
/// ends. Returns the exit code.
pub fn reader_main() -> i32 {
    watch_parent();
    if let Err(err) = fs::init_library() {
        eprintln!("smsaudit-smb reader: {err}");
        return 2;
    }
    let mut input = io::stdin().lock();
    let mut output = BufWriter::new(io::stdout().lock());
    let mut file: Option<SmbFile> = None;
    let mut buffer = Vec::new();
    loop {
        let mut header = [0u8; 5];
        if input.read_exact(&mut header).is_err() {
            return 0;
        }
        let Ok(len) = frame_len(&header) else { return 2 };
        let mut payload = vec![0u8; len];
        if input.read_exact(&mut payload).is_err() {
            return 2;
        }
        let answer = serve(header[0], &payload, &mut file, &mut buffer);
        let written = match &answer {
            Ok(body) => write_frame(&mut output, DONE, body),
            Err(err) => {
                let mut body = err.raw_os_error().unwrap_or(0).to_le_bytes().to_vec();
                body.extend_from_slice(err.to_string().as_bytes());
                write_frame(&mut output, FAILED, &body)
            }
        };
        if written.and_then(|()| output.flush()).is_err() {
            return 0;
        }
    }
}

/// One read of at most `asked` bytes.
fn read_some(file: &mut SmbFile, asked: usize, buffer: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    if buffer.len() < asked {
        buffer.resize(asked, 0);
    }
    let n = loop {
        match file.read(&mut buffer[..asked]) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    Ok(buffer[..n].to_vec())
}

fn open(file: &mut Option<SmbFile>) -> io::Result<&mut SmbFile> {
    file.as_mut().ok_or_else(|| io::Error::other("no file open"))
}

/// One request: its answer's payload.
fn serve(op: u8, payload: &[u8], file: &mut Option<SmbFile>, buffer: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    match op {
        OPEN => {
            // A file left open by a helper that went on is closed first.
            *file = None;
            let (ahead, url) = payload
                .split_first_chunk::<4>()
                .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
            let url = std::str::from_utf8(url).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            let opened = file.insert(SmbFile::open_here(url)?);
            let ahead = (u32::from_le_bytes(*ahead) as usize).min(MAX_AHEAD);
            if ahead == 0 {
                return Ok(Vec::new());
            }
            read_some(opened, ahead, buffer)
        }
        READ => {
            let asked: [u8; 4] = payload
                .try_into()
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            let asked = (u32::from_le_bytes(asked) as usize).min(MAX_FRAME);
            read_some(open(file)?, asked, buffer)
        }
        SEEK => {
            if payload.len() != 9 {
                return Err(io::ErrorKind::InvalidInput.into());
            }
            let offset = i64::from_le_bytes(payload[..8].try_into().unwrap_or([0; 8]));
            let to = match payload[8] {
                0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?),
                1 => SeekFrom::Current(offset),
                _ => SeekFrom::End(offset),
            };
            Ok(open(file)?.seek(to)?.to_le_bytes().to_vec())
        }
        STAT => Ok(encode_stat(&open(file)?.handle_stat()?)),
        CLOSE => {
            *file = None;
            Ok(Vec::new())
        }
        _ => Err(io::ErrorKind::InvalidInput.into()),
    }
}

/// Ends this reader as soon as the helper that started it is gone: a
/// reader must not outlive a helper smsaudit killed (orphans holding
/// connections to a server that stopped answering).
fn watch_parent() {
    let parent: Option<u32> = std::env::var(PARENT_ENV).ok().and_then(|pid| pid.parse().ok());
    let gone = move || parent.is_none_or(|parent| std::os::unix::process::parent_id() != parent);
    if gone() {
        std::process::exit(2);
    }
    let _ = std::thread::Builder::new()
        .name("smsaudit-smb-parent".into())
        .spawn(move || loop {
            std::thread::sleep(PARENT_CHECK);
            if gone() {
                // SAFETY: ends the process at once, whatever the main
                // thread is blocked in (a request to a frozen server).
                unsafe { libc::_exit(2) };
            }
        });
}
