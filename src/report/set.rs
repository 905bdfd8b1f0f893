//! A report set, all or nothing. Every report of a run is first written in
//! full to a temporary file of its own; only when all of them are written
//! are they put in place, one rename each, and `manifest.json` last.
//!
//! What a reader can rely on: the old manifest is taken away before the
//! first report is replaced, and the new one is put in place after the last
//! report and after the removal of the reports of an earlier run that this
//! run did not write. So a folder whose `manifest.json` lists every report
//! with its size and SHA-256, and whose files match, holds one complete set
//! of one run; a folder without a manifest is being written, or was cut by
//! a crash or power loss, and is not to be trusted. A failure or a signal
//! before the manifest is in place puts the previous reports and manifest
//! back, byte for byte.
//!
//! The reports are written at once, each on a thread of its own (as many
//! as the machine has cores), the heaviest first; what each writes does not
//! depend on the others, so the bytes are the same whatever the number of
//! threads. The first report to fail stops the others and rolls back the
//! whole set, and so does a signal.

use super::registry::{start_rank, REPORT_NAMES};
use crate::audit::Audit;
use crate::config::{Pause, PausePoint};
use crate::interrupt::{self, Temp};
use crate::model::Sha256Digest;
use crate::output::exclusive_temp_file;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Written last: what makes a set complete.
pub(crate) const MANIFEST: &str = "manifest.json";

/// Where a report is written: its temporary file, buffered. Seekable, for
/// the workbook's zip; sendable, as each report is written on a thread.
pub(crate) trait ReportOut: Write + Seek + Send {}

impl<T: Write + Seek + Send> ReportOut for T {}

/// What writes one report into the stream it is given.
pub(crate) type WriteReport<'a> = Box<dyn FnOnce(&mut dyn ReportOut) -> Result<()> + Send + 'a>;

/// One report to write: its name (one of [`REPORT_NAMES`]) and what writes it.
pub(crate) struct Job<'a> {
    pub(crate) name: &'static str,
    pub(crate) write: WriteReport<'a>,
}

/// A report written in full to its temporary file.
struct Staged {
    name: &'static str,
    temp: Temp,
    size: u64,
    sha256: String,
}

#[derive(serde::Serialize)]
struct Manifest<'a> {
    tool: &'a str,
    version: &'a str,
    /// When the audit started, UTC, as in audit.json.
    started: &'a str,
    duration_seconds: f64,
    reports: Vec<ManifestEntry<'a>>,
}

#[derive(serde::Serialize)]
struct ManifestEntry<'a> {
    name: &'a str,
    size: u64,
    sha256: &'a str,
}

/// Writes the reports of `jobs` and the manifest into `dir` as one set (see
/// the module's documentation); returns the paths put in place, manifest
/// last. On error nothing of this run is left in `dir` and the previous
/// reports are as they were; the error says which report failed and so.
pub(crate) fn write_set(audit: &Audit, dir: &Path, jobs: Vec<Job>, pause: Option<&Pause>) -> Result<Vec<PathBuf>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    write_set_on(audit, dir, jobs, pause, threads)
}

/// [`write_set`] on at most `threads` threads.
pub(crate) fn write_set_on(
    audit: &Audit,
    dir: &Path,
    jobs: Vec<Job>,
    pause: Option<&Pause>,
    threads: usize,
) -> Result<Vec<PathBuf>> {
    let kept = || {
        format!(
            "nothing of this run was put in place: the reports already in {} are as they were",
            dir.display()
        )
    };
    let staged = stage_all(dir, jobs, pause, threads).with_context(kept)?;
    let entries = staged
        .iter()
        .map(|s| ManifestEntry {
            name: s.name,
            size: s.size,
            sha256: &s.sha256,
        })
        .collect();
    let manifest = Manifest {
        tool: &audit.tool,
        version: &audit.version,
        started: &audit.started,
        duration_seconds: audit.duration_seconds,
        reports: entries,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest)?;
    bytes.push(b'\n');
    let manifest = stage(
        dir,
        MANIFEST,
        Box::new(|out: &mut dyn ReportOut| Ok(out.write_all(&bytes)?)),
        &AtomicBool::new(false),
    )
    .and_then(|manifest| {
        manifest.temp.as_file().sync_all()?;
        Ok(manifest)
    })
    .with_context(|| format!("cannot write {}", dir.join(MANIFEST).display()))
    .with_context(kept)?;
    commit(dir, staged, manifest, pause).with_context(kept)
}

/// Writes every job to its temporary file, on up to `threads` threads;
/// returns them in the order of `jobs`. The first report to fail gives the
/// error; it stops the jobs still writing (their own errors, "stopped",
/// are not the cause, however a writer wraps them), and every temporary
/// file is removed.
fn stage_all(dir: &Path, jobs: Vec<Job>, pause: Option<&Pause>, threads: usize) -> Result<Vec<Staged>> {
    for job in &jobs {
        anyhow::ensure!(REPORT_NAMES.contains(&job.name), "{} is not a report name", job.name);
    }
    stop_if_signalled()?;
    let count = jobs.len();
    let mut queue: Vec<(usize, Job)> = jobs.into_iter().enumerate().collect();
    queue.sort_by_key(|(index, job)| (start_rank(job.name), *index));
    // Taken from the back.
    queue.reverse();
    let queue = Mutex::new(queue);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..count).map(|_| None).collect());
    let failed = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    // Reports whose sync failed: (index, error, after another failure).
    let unsynced: Mutex<Vec<(usize, anyhow::Error, bool)>> = Mutex::default();
    let cannot_write = |name: &str| format!("cannot write {}", dir.join(name).display());
    let (failed, syncs_failed, cannot_write) = (&failed, &unsynced, &cannot_write);
    let threads = threads.clamp(1, count.max(1));
    std::thread::scope(|scope| {
        // Each report written is made durable on a thread of its own: a
        // writer waiting for the disk (tens of ms for a large report)
        // would leave its core idle while reports are still to write.
        // False if no thread was to be had.
        let sync_aside = move |index: usize, name: &'static str, file: fs::File| {
            let sync = move || {
                if let Err(err) = file.sync_all() {
                    let after_another = failed.swap(true, Ordering::SeqCst);
                    let err = anyhow::Error::new(err).context(cannot_write(name));
                    let mut unsynced = syncs_failed.lock().unwrap_or_else(|e| e.into_inner());
                    unsynced.push((index, err, after_another));
                }
            };
            std::thread::Builder::new().spawn_scoped(scope, sync).is_ok()
        };
        let (queue, results, done) = (&queue, &results, &done);
        let work = move || loop {
            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some((index, job)) = next else { break };
            let name = job.name;
            let result = if failed.load(Ordering::SeqCst) {
                Err(abandoned().into())
            } else {
                stage(dir, name, job.write, failed)
                    .and_then(|staged| {
                        let file = staged.temp.as_file();
                        if !sync_aside(index, name, file.try_clone()?) {
                            file.sync_all()?;
                        }
                        Ok(staged)
                    })
                    .with_context(|| cannot_write(name))
            };
            let after_another = result.is_err() && failed.swap(true, Ordering::SeqCst);
            let ok = result.is_ok();
            results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some((result, after_another));
            if ok {
                Pause::hold_at(pause, PausePoint::Stage, done.fetch_add(1, Ordering::SeqCst) + 1);
            }
        };
        if threads == 1 {
            work();
        } else {
            for _ in 0..threads {
                scope.spawn(work);
            }
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    for (index, err, after_another) in unsynced.into_inner().unwrap_or_else(|e| e.into_inner()) {
        results[index] = Some((Err(err), after_another));
    }
    let mut staged = Vec::with_capacity(count);
    let mut first_error = None;
    for (result, after_another) in results.into_iter().flatten() {
        match result {
            Ok(report) => staged.push(report),
            Err(err) if first_error.is_none() && !after_another => first_error = Some(err),
            Err(_) => {}
        }
    }
    match first_error {
        // Dropping the staged reports removes their temporary files.
        Some(err) => Err(err),
        None => Ok(staged),
    }
}

/// A report's result, and for a failure whether another report had
/// failed first (then it is not the cause).
type Outcome = (Result<Staged>, bool);

/// What a report still being written gets once another has failed.
fn abandoned() -> io::Error {
    io::Error::other(Abandoned)
}

#[derive(Debug)]
struct Abandoned;

impl std::fmt::Display for Abandoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped: another report of the set failed")
    }
}

impl std::error::Error for Abandoned {}

fn stop_if_signalled() -> Result<()> {
    match interrupt::received() {
        Some(_) => Err(interrupt::stopped_error().into()),
        None => Ok(()),
    }
}

/// Writes one report to a new temporary file (see [`exclusive_temp_file`]),
/// hashing it on the way; the caller makes it durable. Stops at the next
/// write once `failed` is set or a signal came.
fn stage(dir: &Path, name: &'static str, write: WriteReport<'_>, failed: &AtomicBool) -> Result<Staged> {
    let temp = Temp::create(|| exclusive_temp_file(dir, name))?;
    let (size, sha256) = {
        let mut out = Stoppable {
            inner: io::BufWriter::with_capacity(256 * 1024, temp.as_file()),
            failed,
            hasher: Sha256::new(),
            size: 0,
            seeked: false,
        };
        // A writer that panics (rust_xlsxwriter does when its own temporary
        // file cannot be written) fails its report like any error, so the
        // set is rolled back and the run ends with a message.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(&mut out))) {
            Ok(written) => written?,
            Err(panic) => anyhow::bail!("the {name} writer failed: {}", panic_message(panic.as_ref())),
        }
        out.inner.flush()?;
        // Hashed on the way, unless the writer went back (the workbook's
        // zip does): then once whole, from its file.
        match out.seeked {
            false => (out.size, Sha256Digest(out.hasher.finalize().into()).to_string()),
            true => hash_file(temp.as_file())?,
        }
    };
    Ok(Staged {
        name,
        size,
        sha256,
        temp,
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("panicked")
}

/// A report's output that fails as soon as the set is given up on, so a
/// long report does not run on for nothing; it hashes what goes through.
struct Stoppable<'a, W> {
    inner: W,
    failed: &'a AtomicBool,
    hasher: Sha256,
    size: u64,
    /// The hash and size are of the stream, not of the file, once the
    /// writer has seeked.
    seeked: bool,
}

impl<W> Stoppable<'_, W> {
    fn check(&self) -> io::Result<()> {
        if interrupt::received().is_some() {
            return Err(interrupt::stopped_error());
        }
        if self.failed.load(Ordering::Relaxed) {
            return Err(abandoned());
        }
        Ok(())
    }
}

impl<W: Write> Write for Stoppable<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check()?;
        let written = self.inner.write(buf)?;
        // Once the writer has gone back, the file is hashed when whole.
        if !self.seeked {
            self.hasher.update(&buf[..written]);
            self.size += written as u64;
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Seek> Seek for Stoppable<'_, W> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.seeked = true;
        self.inner.seek(pos)
    }
}

/// The size and SHA-256 of a written report, read back from its file.
fn hash_file(mut file: &fs::File) -> io::Result<(u64, String)> {
    file.seek(io::SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 256 * 1024];
    let mut size = 0u64;
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((size, Sha256Digest(hasher.finalize().into()).to_string()))
}

/// Puts the staged reports in place, removes the reports of an earlier run
/// this one did not write, then puts the manifest in place; rolls all of it
/// back on a failure or a signal. A stop waits for it to end either way.
fn commit(dir: &Path, staged: Vec<Staged>, manifest: Staged, pause: Option<&Pause>) -> Result<Vec<PathBuf>> {
    let _section = interrupt::commit_section();
    let mut undo = Undo::default();
    let written: Vec<&str> = staged.iter().map(|s| s.name).collect();
    let mut placed = Vec::new();
    let result = (|| -> Result<()> {
        stop_if_signalled()?;
        undo.set_aside(dir, MANIFEST)?;
        for report in staged {
            placed.push(undo.replace(dir, report)?);
            Pause::hold_at(pause, PausePoint::Commit, placed.len());
            stop_if_signalled()?;
        }
        for stale in REPORT_NAMES.into_iter().filter(|name| !written.contains(name)) {
            undo.set_aside(dir, stale)?;
        }
        stop_if_signalled()?;
        placed.push(undo.replace(dir, manifest)?);
        Ok(())
    })();
    match result {
        Ok(()) => {
            interrupt::mark_committed();
            Pause::hold_at(pause, PausePoint::Committed, 0);
            undo.remove_copies();
            Ok(placed)
        }
        Err(err) => match undo.roll_back() {
            Ok(()) => Err(err),
            Err(restore) => Err(err.context(format!(
                "and the previous reports could not all be put back ({restore:#}): the folder holds no manifest, so no report in it is to be trusted"
            ))),
        },
    }
}

/// What a commit changed so far, to be undone in reverse.
#[derive(Default)]
struct Undo {
    steps: Vec<Step>,
}

enum Step {
    /// A report put at `target`; what was there before, if it was a file.
    Placed {
        target: PathBuf,
        previous: Option<Temp<()>>,
    },
    /// An earlier run's file taken away from `target`.
    SetAside { target: PathBuf, previous: Temp<()> },
}

impl Undo {
    /// Removes the copies of the earlier run (dropping them does), each on
    /// a thread of its own: the kernel frees a large file's pages as it
    /// goes (the previous audit.json at 100,000 files, 45 MB: 11 ms), and
    /// the run ends only once all are gone.
    fn remove_copies(self) {
        std::thread::scope(|scope| {
            for step in self.steps {
                // A thread refused drops the step with it: removed here.
                let _ = std::thread::Builder::new().spawn_scoped(scope, move || drop(step));
            }
        });
    }

    fn replace(&mut self, dir: &Path, report: Staged) -> Result<PathBuf> {
        let target = dir.join(report.name);
        let previous = keep_previous(dir, report.name)?;
        report
            .temp
            .persist(&target)
            .with_context(|| format!("cannot put {} in place", target.display()))?;
        self.steps.push(Step::Placed {
            target: target.clone(),
            previous,
        });
        Ok(target)
    }

    fn set_aside(&mut self, dir: &Path, name: &str) -> Result<()> {
        let target = dir.join(name);
        let Some(previous) = keep_previous(dir, name)? else {
            return Ok(());
        };
        match fs::remove_file(&target) {
            Ok(()) => {}
            // Already moved aside by the fallback of keep_previous.
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| format!("cannot remove {}", target.display())),
        }
        self.steps.push(Step::SetAside { target, previous });
        Ok(())
    }

    fn roll_back(&mut self) -> Result<()> {
        let mut first_error = None;
        while let Some(step) = self.steps.pop() {
            let restored = match step {
                Step::Placed {
                    target,
                    previous: Some(previous),
                }
                | Step::SetAside { target, previous } => previous.persist(&target).map_err(|e| (target, e)),
                Step::Placed { target, previous: None } => fs::remove_file(&target).map_err(|e| (target, e)),
            };
            if let (Err((target, err)), None) = (restored, &first_error) {
                first_error = Some(anyhow::Error::new(err).context(format!("cannot restore {}", target.display())));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A copy of the regular file at `dir/name` under a new random name
/// beginning `.{name}.`: a hard link, so the file stays in place until it
/// is replaced; where hard links are not supported, the file itself is
/// moved aside. `None` when there is no regular file there (a link or a
/// FIFO planted there is not an earlier report, and is left as it is).
fn keep_previous(dir: &Path, name: &str) -> Result<Option<Temp<()>>> {
    let target = dir.join(name);
    match fs::symlink_metadata(&target) {
        Ok(meta) if meta.file_type().is_file() => {}
        _ => return Ok(None),
    }
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".old");
    let kept = Temp::create(|| builder.make_in(dir, |path| fs::hard_link(&target, path)))
        .or_else(|err| {
            // A stop refused the copy: no fallback.
            if interrupt::is_stopped(&err) {
                Err(err)
            } else {
                Temp::create(|| builder.make_in(dir, |path| fs::rename(&target, path)))
            }
        })
        .with_context(|| {
            format!(
                "cannot keep a copy of {} until the new set is in place",
                target.display()
            )
        })?;
    Ok(Some(kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &'static str, text: &'static str) -> Job<'static> {
        Job {
            name,
            write: Box::new(move |out: &mut dyn ReportOut| Ok(out.write_all(text.as_bytes())?)),
        }
    }

    fn audit() -> Audit {
        crate::run_audit(&crate::Config::new(Vec::new()))
    }

    fn files(dir: &Path) -> Vec<(String, String)> {
        let mut found: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name, fs::read_to_string(e.path()).unwrap_or_default())
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_new_set_replaces_the_old_and_removes_what_it_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("drift.csv"), "old drift").unwrap();
        fs::write(dir.path().join("matrix.csv"), "old matrix").unwrap();
        fs::write(dir.path().join("notes.txt"), "the user's").unwrap();
        let placed = write_set(&audit(), dir.path(), vec![job("matrix.csv", "new matrix")], None).unwrap();
        assert_eq!(placed, [dir.path().join("matrix.csv"), dir.path().join(MANIFEST)]);
        let found = files(dir.path());
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["manifest.json", "matrix.csv", "notes.txt"]);
        assert_eq!(found[1].1, "new matrix");
        let manifest: serde_json::Value = serde_json::from_str(&found[0].1).unwrap();
        assert_eq!(manifest["reports"][0]["name"], "matrix.csv");
        assert_eq!(manifest["reports"][0]["size"], 10);
        assert_eq!(
            manifest["reports"][0]["sha256"],
            Sha256Digest::of(b"new matrix").to_string()
        );
    }

    #[test]
    fn a_failure_in_the_commit_puts_every_previous_report_back() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("matrix.csv"), "old matrix").unwrap();
        fs::write(dir.path().join("drift.csv"), "old drift").unwrap();
        fs::write(dir.path().join(MANIFEST), "old manifest").unwrap();
        // A folder where report.html goes: renaming a file onto it fails,
        // after matrix.csv was replaced.
        fs::create_dir_all(dir.path().join("report.html").join("taken")).unwrap();
        let before = files(dir.path());
        let err = write_set(
            &audit(),
            dir.path(),
            vec![job("matrix.csv", "new matrix"), job("report.html", "new html")],
            None,
        )
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("report.html") && message.contains("as they were"),
            "{message}"
        );
        assert_eq!(files(dir.path()), before);
    }

    #[test]
    fn a_failed_report_leaves_nothing_of_the_run() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("matrix.csv"), "old matrix").unwrap();
        let before = files(dir.path());
        let failing = Job {
            name: "audit.xlsx",
            write: Box::new(|out: &mut dyn ReportOut| {
                out.write_all(b"half")?;
                anyhow::bail!("too wide")
            }),
        };
        let err = write_set(&audit(), dir.path(), vec![job("matrix.csv", "new"), failing], None).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("audit.xlsx") && message.contains("too wide"),
            "{message}"
        );
        assert_eq!(files(dir.path()), before);
    }

    /// Each job waits until the other has started: written one after the
    /// other, the first would wait in vain.
    #[test]
    fn the_reports_of_a_set_are_written_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let (tell_a, a_started) = std::sync::mpsc::channel();
        let (tell_b, b_started) = std::sync::mpsc::channel();
        let waits_for =
            |name: &'static str, tell: std::sync::mpsc::Sender<()>, other: std::sync::mpsc::Receiver<()>| Job {
                name,
                write: Box::new(move |out: &mut dyn ReportOut| {
                    let _ = tell.send(());
                    other
                        .recv_timeout(std::time::Duration::from_secs(20))
                        .map_err(|_| anyhow::anyhow!("{name} was written alone"))?;
                    Ok(out.write_all(name.as_bytes())?)
                }),
            };
        let jobs = vec![
            waits_for("matrix.csv", tell_a, b_started),
            waits_for("findings.csv", tell_b, a_started),
        ];
        let placed = write_set_on(&audit(), dir.path(), jobs, None, 2).unwrap();
        assert_eq!(
            placed,
            [
                dir.path().join("matrix.csv"),
                dir.path().join("findings.csv"),
                dir.path().join(MANIFEST)
            ]
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("findings.csv")).unwrap(),
            "findings.csv"
        );
    }

    /// A report that would write for a minute stops at its next write once
    /// another failed; nothing of the set is left.
    #[test]
    fn a_failed_report_stops_the_others_at_once() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("audit.json"), "old json").unwrap();
        let before = files(dir.path());
        let endless = Job {
            name: "audit.json",
            write: Box::new(|out: &mut dyn ReportOut| {
                let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while std::time::Instant::now() < until {
                    out.write_all(&[b' '; 4096])?;
                    out.flush()?;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Ok(())
            }),
        };
        let failing = Job {
            name: "matrix.csv",
            write: Box::new(|_: &mut dyn ReportOut| anyhow::bail!("disk full")),
        };
        let started = std::time::Instant::now();
        let err = write_set_on(&audit(), dir.path(), vec![failing, endless], None, 2).unwrap_err();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
        let message = format!("{err:#}");
        assert!(
            message.contains("matrix.csv") && message.contains("disk full"),
            "{message}"
        );
        assert!(!message.contains("another report"), "{message}");
        assert_eq!(files(dir.path()), before);
    }

    /// The report that failed first is the error, even when it comes after
    /// a stopped report in the set and that one's writer hid the cause of
    /// its stop (rust_xlsxwriter's errors carry no source).
    #[test]
    fn the_first_failure_is_the_error_whatever_the_stopped_writers_say() {
        let dir = tempfile::tempdir().unwrap();
        let opaque = Job {
            name: "audit.xlsx",
            write: Box::new(|out: &mut dyn ReportOut| {
                let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while std::time::Instant::now() < until {
                    out.write_all(&[b' '; 4096])
                        .and_then(|()| out.flush())
                        .map_err(|err| anyhow::anyhow!("zip: {err}"))?;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Ok(())
            }),
        };
        let failing = Job {
            name: "report.html",
            write: Box::new(|_: &mut dyn ReportOut| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                anyhow::bail!("disk full")
            }),
        };
        let err = write_set_on(&audit(), dir.path(), vec![opaque, failing], None, 2).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("report.html") && message.contains("disk full"),
            "{message}"
        );
    }

    /// A report writer that panics fails its report: the set is rolled
    /// back and the others stop, the run goes on to say so.
    #[test]
    fn a_report_writer_that_panics_fails_the_set() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("audit.xlsx"), "old workbook").unwrap();
        let before = files(dir.path());
        let panicking = Job {
            name: "audit.xlsx",
            write: Box::new(|out: &mut dyn ReportOut| {
                out.write_all(b"PK")?;
                panic!("XML_WRITE_ERROR: No space left on device")
            }),
        };
        let err = write_set_on(&audit(), dir.path(), vec![job("matrix.csv", "new"), panicking], None, 2).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("audit.xlsx") && message.contains("No space left on device"),
            "{message}"
        );
        assert_eq!(files(dir.path()), before);
    }
}
