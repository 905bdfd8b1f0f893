//! The estate history (`--history FILE`): every run kept in one SQLite
//! file, so findings know since when they are open, drift needs no saved
//! audit.json, and `smsaudit history` shows what changed when.
//!
//! It grows with what changes, not with the estate: each state (a file's
//! size, time, hash and version at a location; a location's status; a
//! matrix cell; a finding) is one row with the first and last run it held
//! for ([`store`]). A run that sees the same state as the run before only
//! moves that row's `last_run`.
//!
//! The file is refused, never touched, when it is not an SQLite database,
//! is another program's database (its `application_id`), was written by a
//! newer smsaudit (its `user_version`), or is damaged (`quick_check`).
//! Each run writes in one immediate transaction; a second run waits for it
//! ([`HistoryFile::wait`]) or fails with a clear message.
//!
//! [`past`] is what the pipeline reads before the audit is assembled;
//! [`store`] writes an assembled audit; [`query`] reads for the command.

pub(crate) mod forget;
pub(crate) mod past;
pub(crate) mod query;
pub(crate) mod store;

pub use past::{HistorySummary, Past, PastFinding, SeenLocation};
pub use query::Filter;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `PRAGMA application_id` of an smsaudit history ("SMSH").
pub(crate) const APPLICATION_ID: i32 = 0x534D_5348;
/// `PRAGMA user_version`: the schema this smsaudit writes. Older files are
/// migrated step by step ([`MIGRATIONS`]); newer ones are refused.
pub(crate) const SCHEMA_VERSION: i32 = 3;
/// How long a run waits for another run writing the same history.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(120);
/// The most seconds `--history-wait` (`history --wait`) takes, about 11
/// days: SQLite's wait is counted in milliseconds in 32 bits (24 days).
pub const MAX_WAIT_SECONDS: u64 = 1_000_000;
/// The most days `--keep-days` takes (a century); a larger value is
/// refused by the argument step.
pub const MAX_KEEP_DAYS: u64 = 36_500;

/// `MIGRATIONS[n]` takes a history from schema `n` to `n + 1`; schema 0 is
/// an empty database.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    include_str!("schema1.sql"),
    include_str!("schema2.sql"),
    include_str!("schema3.sql"),
];

/// A history file named on the command line.
#[derive(Debug, Clone)]
pub struct HistoryFile {
    pub path: PathBuf,
    /// How long to wait for a run that is writing to it.
    pub wait: Duration,
    /// Whether this run has checked the file for damage already: its
    /// `integrity_check` reads the whole file, once a run is enough (a damage
    /// appearing later fails the read that meets it).
    checked: Arc<AtomicBool>,
    /// The lease this run holds ([`store::take_lease`]), shared by clones.
    lease: Arc<std::sync::Mutex<Option<i64>>>,
}

/// Which runs to keep: a run goes when any rule given says so; the latest
/// run always stays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    pub keep_runs: Option<u64>,
    pub keep_days: Option<u64>,
}

impl Retention {
    pub(crate) fn is_requested(&self) -> bool {
        self.keep_runs.is_some() || self.keep_days.is_some()
    }
}

/// The first bytes of every SQLite 3 database.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl HistoryFile {
    pub fn new(path: PathBuf) -> HistoryFile {
        HistoryFile::waiting(path, DEFAULT_WAIT)
    }

    /// A history that waits `wait` for a run writing to it.
    pub(crate) fn waiting(path: PathBuf, wait: Duration) -> HistoryFile {
        HistoryFile {
            path,
            wait,
            checked: Arc::default(),
            lease: Arc::default(),
        }
    }

    /// Opens the history to read it: `None` when there is none yet (no
    /// file, or an empty one). A file of an older schema is migrated.
    pub(crate) fn open_existing(&self) -> Result<Option<Connection>> {
        match self.open(false)? {
            Some(mut conn) if schema_version(&conn)? > 0 => {
                migrate(&mut conn, &self.path).map_err(|err| self.explain_busy(err))?;
                Ok(Some(conn))
            }
            _ => Ok(None),
        }
    }

    /// Opens the history to write it, creating the file (and its folder)
    /// and the schema when missing.
    pub(crate) fn open_for_writing(&self) -> Result<Connection> {
        let mut conn = self
            .open(true)?
            .unwrap_or_else(|| unreachable!("open(true) creates the file"));
        migrate(&mut conn, &self.path).map_err(|err| self.explain_busy(err))?;
        Ok(conn)
    }

    /// Notes in the history that this run is in progress, until it is
    /// recorded ([`HistoryFile::lease`]) or [`HistoryFile::give_back_lease`]:
    /// meanwhile no other run prunes the runs it compares with.
    pub(crate) fn take_lease(&self, conn: &Connection) -> Result<()> {
        let lease = store::take_lease(conn).map_err(|err| self.explain_busy(err))?;
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Some(lease);
        Ok(())
    }

    /// The lease this run holds, taken out of the file: the record gives
    /// it back in its own transaction.
    pub(crate) fn lease(&self) -> Option<i64> {
        self.lease.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Gives back the lease of a run that ended without being recorded;
    /// a failure only leaves it to expire.
    pub(crate) fn give_back_lease(&self) {
        if let Some(lease) = self.lease() {
            if let Ok(Some(conn)) = self.open_existing() {
                let _ = store::give_back_lease(&conn, lease);
            }
        }
    }

    /// What the history knew before this run ([`Past`]), for the pipeline.
    pub fn past(&self) -> Result<Past> {
        let file = self.path.display().to_string();
        match self.open_existing()? {
            None => Ok(Past {
                file,
                ..Past::default()
            }),
            Some(conn) => query::past(&conn, self).with_context(|| self.cannot_read()),
        }
    }

    fn cannot_read(&self) -> String {
        format!("cannot read history {}", self.path.display())
    }

    /// Opens the history for writing once it is known to be one. The path
    /// is never followed when it is a link (`lstat`, `O_EXCL` at creation,
    /// `SQLITE_OPEN_NOFOLLOW`), and an existing file is first judged on a
    /// read-only connection, so a file refused (another program's, newer,
    /// damaged) stays byte for byte as it was.
    fn open(&self, create: bool) -> Result<Option<Connection>> {
        let path = &self.path;
        let meta = match std::fs::symlink_metadata(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create the folder of history {}", path.display()))?;
                }
                // O_CREAT|O_EXCL: a link planted meanwhile, even a dangling
                // one, is never followed; a file another run created is fine.
                match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                    Ok(_) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(err) => return Err(err).with_context(|| format!("cannot create history {}", path.display())),
                }
                std::fs::symlink_metadata(path).with_context(|| self.cannot_read())?
            }
            Err(err) => return Err(err).with_context(|| self.cannot_read()),
            Ok(meta) => meta,
        };
        if meta.file_type().is_symlink() {
            bail!(
                "history {} is a symbolic link: it is never followed (a planted link could put the history anywhere); give the path of the history file itself",
                path.display()
            );
        }
        if !meta.is_file() {
            bail!(
                "history {} is not a regular file (a folder, a FIFO, a device...); give the path of an smsaudit history or of a new file",
                path.display()
            );
        }
        if meta.len() == 0 && !create {
            return Ok(None);
        }
        let for_damage = !self.checked.load(Ordering::Relaxed);
        let mut checked = false;
        if meta.len() > 0 {
            let header = check_header(path)?;
            checked = match self.judge_read_only(for_damage) {
                Ok(checked) => checked,
                // A run stopped in the middle of its write left a journal
                // that only a writer can roll back: on our own file only.
                Err(err) if needs_rollback(&err) && header.application_id == APPLICATION_ID => {
                    let conn = self.connect(OpenFlags::SQLITE_OPEN_READ_WRITE)?;
                    let checked = check_owner(&conn, path, for_damage).map_err(|err| self.explain_busy(err))?;
                    drop(conn);
                    checked
                }
                Err(err) if needs_rollback(&err) => bail!(
                    "history {} holds an unfinished transaction of another program (a hot journal), so it is not an smsaudit history; it was left as it is",
                    path.display()
                ),
                Err(err) => return Err(self.explain_busy(err)),
            };
        }
        let conn = self.connect(OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        if meta.len() == 0 {
            // Created just now, or by another run meanwhile: judged again on
            // this connection (it may hold another run's tables by now).
            checked = check_owner(&conn, path, for_damage).map_err(|err| self.explain_busy(err))?;
        }
        if checked {
            self.checked.store(true, Ordering::Relaxed);
        }
        Ok(Some(conn))
    }

    /// Judges an existing file on a read-only connection: nothing is written
    /// to a file that is refused.
    fn judge_read_only(&self, for_damage: bool) -> Result<bool> {
        let conn = self.connect(OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        check_owner(&conn, &self.path, for_damage)
    }

    /// An SQLite connection to the file as it is: never created by SQLite,
    /// never through a link.
    fn connect(&self, mode: OpenFlags) -> Result<Connection> {
        let flags = mode | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(&self.path, flags).with_context(|| self.cannot_read())?;
        let wait = self.wait.min(Duration::from_secs(MAX_WAIT_SECONDS));
        conn.busy_timeout(wait).with_context(|| self.cannot_read())?;
        Ok(conn)
    }

    /// An error of a history that stayed locked says so, and for how long
    /// it was waited for.
    pub(crate) fn explain_busy(&self, err: anyhow::Error) -> anyhow::Error {
        let busy = err.chain().any(|cause| {
            cause.downcast_ref::<rusqlite::Error>().is_some_and(|e| {
                matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                )
            })
        });
        if !busy {
            return err;
        }
        anyhow::anyhow!(
            "history {} is in use: another run or program kept it locked for more than {} s (--history-wait); nothing was written to it",
            self.path.display(),
            self.wait.as_secs()
        )
    }
}

/// What the first 100 bytes of an SQLite file say, read without SQLite.
struct Header {
    application_id: i32,
}

/// Refuses a file that is not an SQLite database before SQLite opens it
/// (opened without following a link and without blocking on a FIFO).
fn check_header(path: &Path) -> Result<Header> {
    let mut header = [0u8; 100];
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot read history {}", path.display()))?;
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    if read < SQLITE_HEADER.len() || &header[..SQLITE_HEADER.len()] != SQLITE_HEADER {
        bail!(
            "history {} is not an SQLite database, so not an smsaudit history; it was left as it is (give another path, or move it aside)",
            path.display()
        );
    }
    Ok(Header {
        application_id: i32::from_be_bytes([header[68], header[69], header[70], header[71]]),
    })
}

/// Whether SQLite could not read the file without rolling back a journal
/// (`SQLITE_READONLY_ROLLBACK` and kin on a read-only connection).
fn needs_rollback(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<rusqlite::Error>()
            .is_some_and(|e| e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly))
    })
}

/// Refuses another program's database, a newer schema and (with
/// `for_damage`) a damaged file; an empty database (no table, no ids) is a
/// new history. Returns whether the file was checked for damage.
fn check_owner(conn: &Connection, path: &Path, for_damage: bool) -> Result<bool> {
    let refused = |why: String| anyhow::anyhow!("history {} {why}; it was left as it is", path.display());
    let damaged = |err: rusqlite::Error| match err.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked | rusqlite::ErrorCode::ReadOnly,
        ) => anyhow::Error::new(err),
        _ => refused(format!(
            "cannot be read ({err}): it is damaged or not a database. {}",
            recovery(path)
        )),
    };
    // One statement, so one snapshot: read one by one, a history another
    // run created meanwhile could show its tables and not yet its id.
    let (application_id, tables, version): (i32, i64, i32) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id), \
                    (SELECT count(*) FROM sqlite_schema), \
                    (SELECT user_version FROM pragma_user_version)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(damaged)?;
    if application_id == 0 && tables == 0 && version == 0 {
        return Ok(false);
    }
    if application_id != APPLICATION_ID {
        return Err(refused(format!(
            "is an SQLite database of another program (application_id {application_id:#x}, {tables} schema entries, user_version {version}), not an smsaudit history"
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(refused(format!(
            "was written by a newer smsaudit (schema {version}; this one knows up to {SCHEMA_VERSION}): upgrade smsaudit"
        )));
    }
    if !for_damage {
        return Ok(false);
    }
    match whole_file_check(conn, INTEGRITY_CHECK_LIMIT).map_err(damaged)? {
        Some(verdict) if verdict == "ok" => Ok(true),
        Some(verdict) => Err(refused(format!("is damaged ({verdict}). {}", recovery(path)))),
        None => Err(refused(format!(
            "could not be checked for damage within {} s (SQLite's integrity_check of the whole file): the disk is slow or the file very large; check it with `sqlite3 {} 'PRAGMA integrity_check'`, or keep fewer runs (smsaudit history FILE --keep-runs N)",
            INTEGRITY_CHECK_LIMIT.as_secs(),
            path.display()
        ))),
    }
}

/// How long the whole-file damage check may take before the run is refused.
/// It reads every page and checks every index entry (measured: 17 s for a
/// 114 MB file with two indexes on a busy 2-core machine; `quick_check`,
/// which misses a record that no longer matches its index, took 0.9 s).
const INTEGRITY_CHECK_LIMIT: Duration = Duration::from_secs(600);

/// SQLite's `PRAGMA integrity_check(1)`: every page, every record against
/// its indexes (`quick_check` leaves those out, and a damaged record slips
/// through). Interrupted after `limit`: `None`.
fn whole_file_check(conn: &Connection, limit: Duration) -> rusqlite::Result<Option<String>> {
    let handle = conn.get_interrupt_handle();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let timer = std::thread::spawn(move || {
        let timed_out = matches!(
            finished.recv_timeout(limit),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        );
        if timed_out {
            handle.interrupt();
        }
        timed_out
    });
    let verdict = conn.query_row("PRAGMA integrity_check(1)", [], |row| row.get::<_, String>(0));
    drop(done);
    let timed_out = timer.join().unwrap_or(false);
    match verdict {
        Err(err) if timed_out && err.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) => Ok(None),
        verdict => verdict.map(Some),
    }
}

/// What to do with a damaged history: it is never overwritten.
fn recovery(path: &Path) -> String {
    format!(
        "Move it aside and start a new history (or give another --history path), or restore it from a backup; `sqlite3 {} .recover | sqlite3 NEW-FILE` can save its runs",
        path.display()
    )
}

fn schema_version(conn: &Connection) -> rusqlite::Result<i32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Brings the schema up to [`SCHEMA_VERSION`] in one immediate transaction;
/// a run that created or migrated it meanwhile leaves nothing to do.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let context = || format!("cannot prepare history {}", path.display());
    if schema_version(conn).with_context(context)? == SCHEMA_VERSION {
        return Ok(());
    }
    // Only a database without tables can take it, and not in a transaction:
    // lets a prune give pages back to the file system.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
        .with_context(context)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .with_context(context)?;
    let from = schema_version(&tx).with_context(context)?;
    for step in MIGRATIONS.iter().skip(from.max(0) as usize) {
        tx.execute_batch(step).with_context(context)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .with_context(context)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .with_context(context)?;
    tx.commit().with_context(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(dir: &Path) -> HistoryFile {
        HistoryFile::new(dir.join("h.sqlite"))
    }

    #[test]
    fn a_new_history_gets_the_schema_and_our_ids() {
        let dir = tempfile::tempdir().unwrap();
        let file = history(dir.path());
        assert!(file.open_existing().unwrap().is_none());
        let conn = file.open_for_writing().unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).unwrap();
        assert_eq!(id, APPLICATION_ID);
        drop(conn);
        assert!(file.open_existing().unwrap().is_some());
    }

    /// The whole-file damage check runs at the first open of a run that
    /// finds a history; the run's later opens (drift's read, the record),
    /// through clones of the same file, skip it; another run checks again.
    #[test]
    fn the_damage_check_runs_once_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let first_run = history(dir.path());
        drop(first_run.open_for_writing().unwrap());
        assert!(
            !first_run.checked.load(Ordering::Relaxed),
            "a new file has nothing to check"
        );
        let run = history(dir.path());
        let later = run.clone();
        drop(run.open_existing().unwrap());
        assert!(run.checked.load(Ordering::Relaxed));
        assert!(later.checked.load(Ordering::Relaxed), "clones share the check");
        assert!(!history(dir.path()).checked.load(Ordering::Relaxed));
    }

    /// A history judged while another run creates it is either new or
    /// ours, never "another program's" (its tables seen before its id).
    #[test]
    fn a_history_judged_while_another_run_creates_it_is_never_foreign() {
        for round in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("h.sqlite");
            std::fs::write(&path, b"").unwrap();
            let created = std::sync::atomic::AtomicBool::new(false);
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    drop(history(dir.path()).open_for_writing().unwrap());
                    created.store(true, Ordering::SeqCst);
                });
                let file = history(dir.path());
                while !created.load(Ordering::SeqCst) {
                    let conn = file.connect(OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
                    if let Err(err) = check_owner(&conn, &path, false) {
                        let err = format!("{err:#}");
                        assert!(!err.contains("another program"), "round {round}: {err}");
                    }
                }
            });
        }
    }

    #[test]
    fn refuses_a_newer_schema_and_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = history(dir.path());
        let conn = file.open_for_writing().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(conn);
        let before = std::fs::read(&file.path).unwrap();
        let err = format!("{:#}", file.open_for_writing().unwrap_err());
        assert!(err.contains("newer smsaudit"), "{err}");
        assert_eq!(std::fs::read(&file.path).unwrap(), before);
    }

    #[test]
    fn refuses_what_is_not_a_history() {
        let dir = tempfile::tempdir().unwrap();
        let file = history(dir.path());
        std::fs::write(&file.path, b"not a database at all, just some text").unwrap();
        let err = format!("{:#}", file.past().unwrap_err());
        assert!(err.contains("not an SQLite database"), "{err}");
        std::fs::remove_file(&file.path).unwrap();
        std::fs::create_dir(&file.path).unwrap();
        let err = format!("{:#}", file.open_for_writing().unwrap_err());
        assert!(err.contains("not a regular file"), "{err}");
    }

    #[test]
    fn an_empty_file_is_a_new_history() {
        let dir = tempfile::tempdir().unwrap();
        let file = history(dir.path());
        std::fs::write(&file.path, b"").unwrap();
        assert!(file.past().unwrap().previous.is_none());
        file.open_for_writing().unwrap();
        assert!(file.open_existing().unwrap().is_some());
    }

    /// A run killed in the middle of its write leaves a hot journal; the
    /// next run rolls it back (only a writer can) instead of refusing its
    /// own history.
    #[test]
    fn our_own_history_with_a_hot_journal_is_rolled_back_and_used() {
        let dir = tempfile::tempdir().unwrap();
        let file = history(dir.path());
        let conn = file.open_for_writing().unwrap();
        conn.execute_batch(
            "CREATE TABLE scratch (v TEXT); \
             INSERT INTO scratch SELECT hex(randomblob(200)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) SELECT i FROM n); \
             PRAGMA cache_size = 2; BEGIN; UPDATE scratch SET v = 'x' || v;",
        )
        .unwrap();
        let crashed = HistoryFile::new(dir.path().join("crashed.sqlite"));
        std::fs::copy(&file.path, &crashed.path).unwrap();
        std::fs::copy(
            dir.path().join("h.sqlite-journal"),
            dir.path().join("crashed.sqlite-journal"),
        )
        .unwrap();
        drop(conn);
        let conn = crashed.open_existing().unwrap().expect("our history");
        let changed: i64 = conn
            .query_row("SELECT count(*) FROM scratch WHERE v LIKE 'x%'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(changed, 0, "the unfinished write was rolled back");
        assert!(crashed.checked.load(Ordering::Relaxed));
    }
}
