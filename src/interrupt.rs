//! Stopping a run on SIGINT or SIGTERM (Ctrl-C or Ctrl-Break on Windows).
//!
//! The signal is taken on a thread of its own ([`install`]). That thread
//! kills the worker processes, waits for a report set being put in place to
//! be complete or rolled back ([`commit_section`]), removes the run's
//! temporary files ([`Temp`]) and hands over to the caller's `stop`, which
//! says so and ends the process. Exactly one of the run and the signal
//! thread ends the process: whichever claims it first ([`claim_finish`]).
//! It imports nothing of the crate, so any stage can register with it.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// Why the run was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT, Ctrl-C or Ctrl-Break.
    Interrupt,
    /// SIGTERM (what `kill`, systemd and cron's timeouts send).
    Terminate,
}

impl Signal {
    /// The signal's name as a user knows it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt if cfg!(windows) => "Ctrl-C",
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

const NONE: u8 = 0;
const INTERRUPT: u8 = 1;
const TERMINATE: u8 = 2;
static RECEIVED: AtomicU8 = AtomicU8::new(NONE);

/// Who ends the process: the run (its summary, log and exit code) or the
/// signal thread.
const RUN: u8 = 1;
const SIGNAL_THREAD: u8 = 2;
static FINISHER: AtomicU8 = AtomicU8::new(NONE);

/// Held while a report set is put in place or rolled back: a stop waits
/// for it, so the folder is never left half-committed by a signal.
static COMMIT: Mutex<()> = Mutex::new(());
static COMMITTED: AtomicBool = AtomicBool::new(false);

/// What a stop must undo.
struct Live {
    stopping: bool,
    temps: Vec<PathBuf>,
    children: Vec<Weak<Mutex<Child>>>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    stopping: false,
    temps: Vec::new(),
    children: Vec::new(),
});

fn live() -> MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The signal that stopped the run, if one did.
pub(crate) fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        INTERRUPT => Some(Signal::Interrupt),
        TERMINATE => Some(Signal::Terminate),
        _ => None,
    }
}

/// Why a stage stopped when a signal came: an error of its own, because
/// `io::ErrorKind::Interrupted` is retried by contract (`write_all`,
/// `read_to_end` and the read loops) and a stop must not be.
#[derive(Debug)]
pub(crate) struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the run is being stopped by a signal")
    }
}

impl std::error::Error for Stopped {}

/// The error a stage returns when it stops because of a signal: [`Stopped`]
/// in an `io::Error` (kind `Other`).
pub(crate) fn stopped_error() -> std::io::Error {
    std::io::Error::other(Stopped)
}

/// Whether `err` is a stop by signal ([`stopped_error`]).
pub(crate) fn is_stopped(err: &std::io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<Stopped>())
}

/// Claims the end of the process for the run. When the signal thread has
/// claimed it already, it is ending the process: this never returns.
pub(crate) fn claim_finish() {
    match FINISHER.compare_exchange(NONE, RUN, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => {}
        Err(RUN) => {}
        Err(_) => loop {
            std::thread::park();
        },
    }
}

/// Marks the stretch in which a report set is put in place: a stop waits
/// until it ends. Inside it, check [`received`] between steps and roll back.
pub(crate) fn commit_section() -> MutexGuard<'static, ()> {
    COMMIT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Called inside [`commit_section`] once the new report set is complete.
pub(crate) fn mark_committed() {
    COMMITTED.store(true, Ordering::SeqCst);
}

/// Whether this run put a complete report set in place.
pub(crate) fn committed() -> bool {
    COMMITTED.load(Ordering::SeqCst)
}

/// Records a worker process so a stop kills it. False once a stop has
/// begun: the caller kills it itself.
pub(crate) fn track_child(child: &Arc<Mutex<Child>>) -> bool {
    let mut live = live();
    if live.stopping {
        return false;
    }
    live.children.retain(|c| c.strong_count() > 0);
    live.children.push(Arc::downgrade(child));
    true
}

/// A temporary file of this run: removed when dropped, and by a stop.
pub(crate) struct Temp<F = std::fs::File> {
    file: Option<tempfile::NamedTempFile<F>>,
    path: PathBuf,
}

impl<F> Temp<F> {
    /// Creates the file with `create` and records it; refused once a stop
    /// has begun, so a stop never misses one.
    pub(crate) fn create(
        create: impl FnOnce() -> std::io::Result<tempfile::NamedTempFile<F>>,
    ) -> std::io::Result<Self> {
        let mut live = live();
        if live.stopping {
            return Err(stopped_error());
        }
        let file = create()?;
        let path = file.path().to_path_buf();
        live.temps.push(path.clone());
        Ok(Temp { file: Some(file), path })
    }

    pub(crate) fn as_file(&self) -> &F {
        self.file
            .as_ref()
            .map(|f| f.as_file())
            .expect("a Temp holds its file until used up")
    }

    /// Renames the file onto `target` (replacing what is there, a link
    /// itself and never its target); it is then no longer temporary.
    pub(crate) fn persist(mut self, target: &Path) -> std::io::Result<()> {
        let file = self.file.take().expect("a Temp holds its file until used up");
        match file.persist(target) {
            Ok(_) => {
                forget(&self.path);
                Ok(())
            }
            Err(err) => {
                self.file = Some(err.file);
                Err(err.error)
            }
        }
    }
}

impl Temp<std::fs::File> {
    /// The file opened again, with a position of its own (tempfile checks
    /// that it is still the same file).
    pub(crate) fn reopen(&self) -> std::io::Result<std::fs::File> {
        self.file
            .as_ref()
            .expect("a Temp holds its file until used up")
            .reopen()
    }
}

impl<F> std::fmt::Debug for Temp<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Temp").field("path", &self.path).finish()
    }
}

impl<F> Drop for Temp<F> {
    fn drop(&mut self) {
        // Removed first, forgotten after: a stop in between only finds it gone.
        if self.file.take().is_some() {
            forget(&self.path);
        }
    }
}

fn forget(path: &Path) {
    live().temps.retain(|p| p != path);
}

/// Takes SIGINT and SIGTERM (Ctrl-C and Ctrl-Break on Windows) from now
/// on: see the module's documentation. `stop` gets the signal once the
/// workers are killed and the temporary files removed, and should end
/// the process.
pub(crate) fn install(stop: impl FnOnce(Signal) + Send + 'static) -> std::io::Result<()> {
    platform::install(stop)
}

fn handle(signal: Signal, stop: impl FnOnce(Signal)) {
    RECEIVED.store(
        match signal {
            Signal::Interrupt => INTERRUPT,
            Signal::Terminate => TERMINATE,
        },
        Ordering::SeqCst,
    );
    if FINISHER
        .compare_exchange(NONE, SIGNAL_THREAD, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // The run has finished its work and is writing its summary and log.
        return;
    }
    let children = {
        let mut live = live();
        live.stopping = true;
        std::mem::take(&mut live.children)
    };
    for child in children.iter().filter_map(Weak::upgrade) {
        // Killed, not waited for: one stuck in the kernel dies when its call returns.
        let _ = child.lock().unwrap_or_else(|e| e.into_inner()).kill();
    }
    let _commit = commit_section();
    let temps = std::mem::take(&mut live().temps);
    for temp in temps {
        let _ = std::fs::remove_file(temp);
    }
    stop(signal);
}

#[cfg(unix)]
mod platform {
    use super::{handle, Signal};
    use signal_hook::consts::{SIGINT, SIGTERM};

    pub(super) fn install(stop: impl FnOnce(Signal) + Send + 'static) -> std::io::Result<()> {
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        std::thread::Builder::new()
            .name("smsaudit-signals".into())
            .spawn(move || {
                // Later signals are taken and ignored while the first is handled.
                if let Some(number) = signals.forever().next() {
                    let signal = if number == SIGTERM {
                        Signal::Terminate
                    } else {
                        Signal::Interrupt
                    };
                    handle(signal, stop);
                }
            })?;
        Ok(())
    }
}

#[cfg(windows)]
mod platform {
    use super::{handle, Signal};
    use std::sync::Mutex;

    pub(super) fn install(stop: impl FnOnce(Signal) + Send + 'static) -> std::io::Result<()> {
        let stop = Mutex::new(Some(stop));
        // ctrlc runs this on a thread of its own, for Ctrl-C and Ctrl-Break.
        ctrlc::try_set_handler(move || {
            let taken = stop.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(stop) = taken {
                handle(Signal::Interrupt, stop);
            }
        })
        .map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Fails its first call with a stop, then succeeds: a caller that
    /// retried the stop would get through.
    struct StopsOnce {
        calls: usize,
    }

    impl Write for StopsOnce {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.calls += 1;
            match self.calls {
                1 => Err(stopped_error()),
                _ => Ok(buf.len()),
            }
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Read for StopsOnce {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            match self.calls {
                1 => Err(stopped_error()),
                2 if !buf.is_empty() => {
                    buf[0] = b'x';
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn a_stop_is_not_retried_by_write_all_or_read_to_end() {
        let mut out = StopsOnce { calls: 0 };
        let err = out.write_all(b"report").unwrap_err();
        assert!(is_stopped(&err), "{err}");
        assert_eq!(out.calls, 1, "write_all retried the stop");
        let mut input = StopsOnce { calls: 0 };
        let err = input.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(is_stopped(&err), "{err}");
        assert_eq!(input.calls, 1, "read_to_end retried the stop");
        assert!(!is_stopped(&std::io::Error::from(std::io::ErrorKind::Interrupted)));
        let wrapped = anyhow::Error::from(stopped_error());
        assert!(wrapped.downcast_ref::<std::io::Error>().is_some_and(is_stopped));
    }

    #[test]
    fn a_temporary_file_is_forgotten_once_dropped_or_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let dropped = Temp::create(|| tempfile::NamedTempFile::new_in(dir.path())).unwrap();
        let dropped_path = dropped.path.clone();
        assert!(live().temps.contains(&dropped_path));
        drop(dropped);
        assert!(!dropped_path.exists());
        assert!(!live().temps.contains(&dropped_path));
        let kept = Temp::create(|| tempfile::NamedTempFile::new_in(dir.path())).unwrap();
        let kept_path = kept.path.clone();
        kept.persist(&dir.path().join("report")).unwrap();
        assert!(dir.path().join("report").is_file());
        assert!(!live().temps.contains(&kept_path));
    }
}
