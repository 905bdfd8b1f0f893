//! Worker processes: this executable run as `smsaudit <command> [path]`,
//! with requests as JSON on stdin, answering with JSON lines on stdout.
//! The caller may kill and abandon a worker at any time without waiting
//! for it: a worker stuck in the kernel (a dead FUSE or network mount) may
//! stay alive, but never keeps the audit from exiting.
//!
//! Both sides of every worker, one runner: the caller starts a [`Program`]
//! with [`start`] and talks to it through a [`Session`], a request and its
//! answers at a time; the worker's `main` is [`serve`]. Share discovery
//! ([`crate::discover`]) sends each worker one request; the crawl
//! ([`crate::crawl`]) keeps workers that take one request after another.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The most of a worker's stderr kept for the reason of a failure.
const STDERR_KEPT: u64 = 64 * 1024;

/// A worker's stdout: one JSON message a line, or the frames of a
/// protocol of its own ([`Session::next_with`]).
pub(crate) type WorkerOutput = BufReader<ChildStdout>;

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

    /// The worker's process id.
    pub(crate) fn id(&self) -> u32 {
        lock(&self.child).id()
    }

    /// Whether the worker has exited (it is reaped if so). One that cannot
    /// be asked counts as exited: it is not trusted with more work.
    pub(crate) fn exited(&self) -> bool {
        !matches!(lock(&self.child).try_wait(), Ok(None))
    }
}

fn lock(child: &Mutex<Child>) -> MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(|e| e.into_inner())
}

/// A started worker's pipes and its stderr, being read on a thread.
struct Launched {
    child: Arc<Mutex<Child>>,
    stdin: ChildStdin,
    stdout: ChildStdout,
    errors: JoinHandle<String>,
}

/// What a worker process runs.
pub(crate) enum Program {
    /// This executable with a hidden command (`current_exe() command`).
    Own(&'static str),
    /// The `smsaudit-smb` helper (another executable), with the
    /// environment it is given on top of this process's (the path of the
    /// `--smb-auth` file, never a password).
    Helper {
        path: std::path::PathBuf,
        env: Vec<(&'static str, OsString)>,
    },
    /// `argv[0]` and its arguments instead: a stand-in that unit tests give.
    #[cfg(all(test, unix))]
    StandIn(Vec<OsString>),
}

impl Program {
    /// A stand-in for this executable.
    #[cfg(all(test, unix))]
    pub(crate) fn stand_in(argv: &[&str]) -> Program {
        Program::StandIn(argv.iter().map(OsString::from).collect())
    }

    /// The command to start, with `args` after the program's own.
    pub(crate) fn command(&self, args: &[OsString]) -> io::Result<Command> {
        let mut command = match self {
            Program::Own(hidden) => {
                let mut own = Command::new(std::env::current_exe()?);
                own.arg(hidden);
                own
            }
            Program::Helper { path, env } => {
                let mut helper = Command::new(path);
                helper.envs(env.iter().map(|(name, value)| (name, value)));
                helper
            }
            #[cfg(all(test, unix))]
            Program::StandIn(argv) => {
                let (first, rest) = argv.split_first().ok_or_else(|| io::Error::other("no program"))?;
                let mut command = Command::new(first);
                command.args(rest);
                command
            }
        };
        command.args(args);
        Ok(command)
    }
}

/// Starts `program` with its three pipes, tracked so that a stop of the
/// run kills it.
fn launch(mut program: Command) -> io::Result<Launched> {
    let mut child = program
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // Piped, not inherited: a worker stuck in the kernel must not hold
        // the caller's stderr open after smsaudit exits.
        .stderr(Stdio::piped())
        .spawn()?;
    let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
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
    let errors = std::thread::Builder::new()
        .name("smsaudit-worker-stderr".into())
        .spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).take(STDERR_KEPT).read_to_string(&mut text);
            text
        });
    match errors {
        Ok(errors) => Ok(Launched {
            child,
            stdin,
            stdout,
            errors,
        }),
        Err(err) => {
            let _ = lock(&child).kill();
            Err(err)
        }
    }
}

/// Runs `talk` on a thread of this process; kills the worker if there is
/// no thread for it.
fn on_thread(child: &Arc<Mutex<Child>>, talk: impl FnOnce() + Send + 'static) -> io::Result<Worker> {
    let spawned = std::thread::Builder::new()
        .name("smsaudit-worker-io".into())
        .spawn(talk);
    if let Err(err) = spawned {
        let _ = lock(child).kill();
        return Err(err);
    }
    Ok(Worker { child: child.clone() })
}

/// Why a worker failed: `the <what> failed (<exit status>): <why>: <first
/// line of its stderr>`. A worker still running after a second is killed
/// first, so its stderr ends.
fn failure(what: &str, child: &Mutex<Child>, errors: JoinHandle<String>, why: &str) -> String {
    let status = wait_briefly(child);
    if status.is_none() {
        let _ = lock(child).kill();
    }
    let errors = errors.join().unwrap_or_default();
    let status = status.map(|s| format!(" ({s})")).unwrap_or_default();
    let said = errors.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(": {}", said.chars().take(300).collect::<String>())
    };
    format!("the {what} failed{status}: {why}{said}")
}

/// A worker's input, shared by whoever sends it requests: each message
/// is written whole, as one line.
#[derive(Clone)]
pub(crate) struct Input(Arc<Mutex<Option<ChildStdin>>>);

impl Input {
    /// Sends one message, as one line.
    pub(crate) fn send<M: Serialize>(&self, message: &M) -> io::Result<()> {
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        let mut stdin = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let stdin = stdin.as_mut().ok_or_else(|| io::Error::other("its input is closed"))?;
        stdin.write_all(&line)?;
        stdin.flush()
    }

    /// Closes the worker's input: a worker ends when its requests do.
    fn close(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// A worker that takes one request after another, as the thread of this
/// process that reads its answers holds it. Dropping it closes the
/// worker's input and waits for it to be gone.
pub(crate) struct Session {
    what: &'static str,
    child: Arc<Mutex<Child>>,
    input: Input,
    output: WorkerOutput,
    errors: Option<JoinHandle<String>>,
}

impl Session {
    /// Sends one request, as one line.
    pub(crate) fn request<R: Serialize>(&mut self, request: &R) -> io::Result<()> {
        self.input.send(request)
    }

    /// Closes the worker's input: it has all its requests, and ends once
    /// it has answered them.
    pub(crate) fn end_requests(&mut self) {
        self.input.close();
    }

    /// The worker's next message; the error says why there is none.
    pub(crate) fn next<M: DeserializeOwned>(&mut self) -> Result<M, String> {
        next_message(&mut self.output)
    }

    /// The worker's next message read by `read`, for a worker that answers
    /// in frames of its own (`None`: the output ended between messages);
    /// the error says why there is none.
    pub(crate) fn next_with<M>(
        &mut self,
        read: impl FnOnce(&mut WorkerOutput) -> io::Result<Option<M>>,
    ) -> Result<M, String> {
        match read(&mut self.output) {
            Ok(Some(message)) => Ok(message),
            Ok(None) => Err("it ended without a result".into()),
            Err(err) if err.kind() == io::ErrorKind::InvalidData => Err(format!("unreadable output: {err}")),
            Err(err) => Err(format!("cannot read its output: {err}")),
        }
    }

    /// Why the worker failed (see [`failure`]); it is not used again.
    pub(crate) fn failure(&mut self, why: &str) -> String {
        self.input.close();
        match self.errors.take() {
            Some(errors) => failure(self.what, &self.child, errors, why),
            None => format!("the {} failed: {why}", self.what),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.input.close();
        reap(&self.child);
    }
}

/// Starts `program` with `args` and hands it, as a [`Session`], to `talk`
/// on a thread of this process; the worker is reaped once `talk` is done
/// with it. Also returns its input, for messages besides the requests of
/// `talk`. `what` names the worker in the reason of its failure.
pub(crate) fn start(
    what: &'static str,
    program: &Program,
    args: &[OsString],
    talk: impl FnOnce(Session) + Send + 'static,
) -> io::Result<(Worker, Input)> {
    let Launched {
        child,
        stdin,
        stdout,
        errors,
    } = launch(program.command(args)?)?;
    let input = Input(Arc::new(Mutex::new(Some(stdin))));
    let session = Session {
        what,
        child: child.clone(),
        input: input.clone(),
        output: BufReader::new(stdout),
        errors: Some(errors),
    };
    Ok((on_thread(&child, move || talk(session))?, input))
}

/// The next message of a worker; the error says why there is none.
fn next_message<M: DeserializeOwned>(output: &mut WorkerOutput) -> Result<M, String> {
    let mut line = String::new();
    let read = output
        .read_line(&mut line)
        .map_err(|e| format!("cannot read its output: {e}"))?;
    if read == 0 {
        return Err("it ended without a result".into());
    }
    serde_json::from_str(line.trim_end_matches(['\n', '\r'])).map_err(|err| format!("unreadable output: {err}"))
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

/// The worker's side, its `main` after the hidden `command`: runs `work`
/// and returns the exit code, 2 when it failed (saying why on stderr, the
/// caller's reason).
pub(crate) fn serve(command: &str, work: impl FnOnce() -> anyhow::Result<()>) -> i32 {
    match work() {
        Ok(()) => 0,
        Err(err) => {
            crate::text::println_stderr(&format!("smsaudit {command}: {err:#}"));
            2
        }
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
