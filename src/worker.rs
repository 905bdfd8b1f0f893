//! Worker processes: this executable run as `smsaudit <command> <path>`,
//! with the rest of its request as JSON on stdin, answering with JSON lines
//! on stdout. The caller may kill and abandon a worker at any time without
//! waiting for it: a worker stuck in the kernel (a dead FUSE or network
//! mount) may stay alive, but never keeps the audit from exiting.
//!
//! Used by the crawl ([`crate::crawl`]) and by share discovery
//! ([`crate::discover`]).

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Lines, Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The most of a worker's stderr kept for the reason of a failure.
const STDERR_KEPT: u64 = 64 * 1024;

/// A worker's stdout, one JSON message a line.
pub(crate) type WorkerLines = Lines<BufReader<ChildStdout>>;

/// A running worker, as its caller holds it.
pub(crate) struct Worker {
    child: Arc<Mutex<Child>>,
}

impl Worker {
    /// Kills the worker (SIGKILL, TerminateProcess) without waiting for it:
    /// one stuck in the kernel dies when its call returns, and is reaped
    /// then by the thread that reads its output.
    pub(crate) fn abandon(self) {
        let _ = lock(&self.child).kill();
    }
}

fn lock(child: &Mutex<Child>) -> MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts `current_exe() command path`, writes `request` to its stdin and,
/// on a thread of this process, hands its stdout to `follow`. `finish` gets
/// what `follow` returns, or why the worker failed: `the <what> failed
/// (<exit status>): <follow's error>: <first line of its stderr>`.
pub(crate) fn spawn<T>(
    what: &'static str,
    command: &str,
    path: &OsStr,
    request: Vec<u8>,
    follow: impl FnOnce(WorkerLines) -> Result<T, String> + Send + 'static,
    finish: impl FnOnce(Result<T, String>) + Send + 'static,
) -> io::Result<Worker> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg(command)
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // Piped, not inherited: a worker stuck in the kernel must not hold
        // the caller's stderr open after smsaudit exits.
        .stderr(Stdio::piped())
        .spawn()?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        return Err(io::Error::other("no pipes to the worker"));
    };
    let child = Arc::new(Mutex::new(child));
    // A run being stopped by a signal kills its workers (crate::interrupt).
    if !crate::interrupt::track_child(&child) {
        let _ = lock(&child).kill();
        return Err(crate::interrupt::stopped_error());
    }
    let watched = child.clone();
    let spawned = std::thread::Builder::new()
        .name("smsaudit-worker-io".into())
        .spawn(move || {
            let errors = std::thread::spawn(move || {
                let mut text = String::new();
                let _ = BufReader::new(stderr).take(STDERR_KEPT).read_to_string(&mut text);
                text
            });
            // The request is small; a worker that cannot take it fails below.
            let _ = stdin.write_all(&request);
            drop(stdin);
            let outcome = follow(BufReader::new(stdout).lines()).map_err(|why| {
                let errors = errors.join().unwrap_or_default();
                let status = wait_briefly(&watched).map(|s| format!(" ({s})")).unwrap_or_default();
                let said = errors.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!(": {}", said.chars().take(300).collect::<String>())
                };
                format!("the {what} failed{status}: {why}{said}")
            });
            finish(outcome);
            reap(&watched);
        });
    if let Err(err) = spawned {
        let _ = lock(&child).kill();
        return Err(err);
    }
    Ok(Worker { child })
}

/// The next message of a worker; the error says why there is none.
pub(crate) fn next_message<M: DeserializeOwned>(lines: &mut WorkerLines) -> Result<M, String> {
    let line = lines
        .next()
        .ok_or("it ended without a result")?
        .map_err(|e| format!("cannot read its output: {e}"))?;
    serde_json::from_str(&line).map_err(|err| format!("unreadable output: {err}"))
}

/// The worker's exit status, if it exits within a second.
fn wait_briefly(child: &Mutex<Child>) -> Option<std::process::ExitStatus> {
    for _ in 0..20 {
        match lock(child).try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => return None,
        }
    }
    None
}

/// Waits for the worker to be gone, without ever holding the lock while
/// blocked, so the caller can always kill it.
fn reap(child: &Mutex<Child>) {
    let mut pause = Duration::from_millis(10);
    while let Ok(None) = lock(child).try_wait() {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// The worker's side: its request, read whole from stdin.
pub(crate) fn read_request<R: DeserializeOwned>() -> anyhow::Result<R> {
    use anyhow::Context;
    let mut input = String::new();
    io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the request")?;
    serde_json::from_str(&input).context("bad request")
}

/// The worker's side: writes one message as one line, whole, flushed.
pub(crate) fn send<M: Serialize>(message: &M) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut buffered = io::BufWriter::new(&mut out);
    serde_json::to_writer(&mut buffered, message)?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}
