//! A hostile `--history` (issue 28, items 4 to 6): a link planted at its
//! path is never followed, a damaged file is refused before the crawl with
//! a way to recover, and every refused file stays byte for byte as it was.
#![cfg(unix)]

use crate::common;

use common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A copy of sample-shares, report folders and a history path.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        sample_copy(&dir.path().join("estate"));
        std::fs::create_dir_all(dir.path().join("history")).unwrap();
        Scene { dir }
    }

    fn history(&self) -> PathBuf {
        self.dir.path().join("history").join("estate.sqlite")
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Audits the estate into `out` with the history: (exit code, stderr).
    fn audit(&self, out: &str) -> (i32, String) {
        let output = smsaudit()
            .arg("audit")
            .arg(self.dir.path().join("estate"))
            .arg("--out")
            .arg(self.out(out))
            .arg("--history")
            .arg(self.history())
            .args(["--format", "csv,json", "--quiet"])
            .timeout(std::time::Duration::from_secs(300))
            .output()
            .unwrap();
        let code = output.status.code().unwrap_or(-1);
        (code, String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn sha256(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs an audit that must be refused before the crawl: exit 2, the
/// message, no report, and the history byte for byte as it was (and no
/// journal or other file left beside it).
fn assert_refused(scene: &Scene, message: &str, why: &str) -> String {
    let before = sha256(&scene.history());
    let beside = std::fs::read_dir(scene.history().parent().unwrap()).unwrap().count();
    let (code, stderr) = scene.audit("refused");
    assert_eq!(code, 2, "{why}: {stderr}");
    assert!(stderr.contains(message), "{why}: {stderr}");
    assert!(stderr.contains("estate.sqlite"), "{why}: {stderr}");
    assert!(!scene.out("refused").join("audit.json").exists(), "{why}");
    assert_eq!(
        sha256(&scene.history()),
        before,
        "{why}: the refused history was changed"
    );
    assert_eq!(
        std::fs::read_dir(scene.history().parent().unwrap()).unwrap().count(),
        beside,
        "{why}: a file was left beside the history"
    );
    stderr
}

/// Item 4: `--history` through a planted dangling link, or a link to a
/// history, is refused and nothing is created where the link leads.
#[test]
fn a_history_through_a_planted_link_is_never_followed() {
    let scene = Scene::new();
    let elsewhere = scene.dir.path().join("elsewhere.sqlite");
    std::os::unix::fs::symlink(&elsewhere, scene.history()).unwrap();
    let (code, stderr) = scene.audit("r1");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(!elsewhere.exists(), "the dangling link was followed: {stderr}");
    assert!(!scene.out("r1").join("audit.json").exists());

    // A link to a real history is not followed either.
    std::fs::remove_file(scene.history()).unwrap();
    let (code, stderr) = scene.audit("r0");
    assert!(code == 0 || code == 1, "a plain path still works: {stderr}");
    let real = scene.history().with_file_name("real.sqlite");
    std::fs::rename(scene.history(), &real).unwrap();
    std::os::unix::fs::symlink(&real, scene.history()).unwrap();
    let before = sha256(&real);
    let (code, stderr) = scene.audit("r2");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(sha256(&real), before);
}

/// The first page of the table `file_states` that is a table leaf and
/// holds a record's location and path (an indexed pair): one byte of the
/// path is changed, so the record no longer matches its index entry.
/// Returns the offset changed.
fn damage_a_file_states_record(history: &Path) -> usize {
    let db = rusqlite::Connection::open_with_flags(history, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let page_size: i64 = db.pragma_query_value(None, "page_size", |r| r.get(0)).unwrap();
    let page_size = page_size as usize;
    let (location, path): (String, String) = db
        .query_row(
            "SELECT location, path FROM file_states WHERE length(path) > 8 ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(db);
    let needle = format!("{location}{path}").into_bytes();
    let mut bytes = std::fs::read(history).unwrap();
    for (index, page) in bytes.chunks(page_size).enumerate() {
        let kind = if index == 0 { page[100] } else { page[0] };
        if kind != 0x0D {
            continue;
        }
        if let Some(at) = page.windows(needle.len()).position(|w| w == needle) {
            let offset = index * page_size + at + needle.len() - 2;
            bytes[offset] = if bytes[offset] == b'x' { b'y' } else { b'x' };
            std::fs::write(history, &bytes).unwrap();
            return offset;
        }
    }
    panic!("no table leaf page holds {location}{path}");
}

/// Item 5: a history with one damaged byte (a record of file_states that
/// no longer matches its index, which `quick_check` does not see; the
/// header; a truncated file) is refused before the crawl, with a way to
/// recover, and kept as it was.
#[test]
fn a_history_with_one_damaged_byte_is_refused_before_the_crawl_with_a_way_to_recover() {
    type Damage = fn(&Path);
    let damages: [(&str, Damage); 3] = [
        ("a record of file_states", |h| {
            damage_a_file_states_record(h);
        }),
        ("the header's payload fractions", |h| {
            let mut bytes = std::fs::read(h).unwrap();
            bytes[21] ^= 0x01;
            std::fs::write(h, bytes).unwrap();
        }),
        ("a truncated file", |h| {
            let len = std::fs::metadata(h).unwrap().len();
            let file = std::fs::OpenOptions::new().write(true).open(h).unwrap();
            file.set_len(len / 2 + 1000).unwrap();
        }),
    ];
    for (why, damage) in damages {
        let scene = Scene::new();
        let (code, stderr) = scene.audit("r1");
        assert!(code == 0 || code == 1, "{stderr}");
        damage(&scene.history());
        let stderr = assert_refused(&scene, "damaged", why);
        assert!(stderr.contains(".recover"), "{why}: says how to recover: {stderr}");
        assert!(
            stderr.contains("move it aside") || stderr.contains("Move it aside"),
            "{why}: {stderr}"
        );
    }
}

/// Item 6: every kind of refused history stays byte for byte as it was,
/// and nothing is left beside it.
#[test]
fn refused_histories_stay_byte_for_byte_as_they_were() {
    type Make = fn(&Path);
    let kinds: [(&str, &str, Make); 6] = [
        ("another program's database", "another program", |h| {
            let db = rusqlite::Connection::open(h).unwrap();
            db.execute_batch("PRAGMA application_id = 0x47504B47; CREATE TABLE customers (name TEXT);")
                .unwrap();
        }),
        ("a database with user tables", "another program", |h| {
            let db = rusqlite::Connection::open(h).unwrap();
            db.execute_batch("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('Contoso');")
                .unwrap();
        }),
        ("an empty database with an application_id", "another program", |h| {
            let db = rusqlite::Connection::open(h).unwrap();
            db.execute_batch("PRAGMA application_id = 0x47504B47; VACUUM;").unwrap();
        }),
        ("an empty database with a user_version", "another program", |h| {
            let db = rusqlite::Connection::open(h).unwrap();
            db.execute_batch("PRAGMA user_version = 1; VACUUM;").unwrap();
        }),
        ("an empty database with user_version 2", "another program", |h| {
            let db = rusqlite::Connection::open(h).unwrap();
            db.execute_batch("PRAGMA user_version = 2; VACUUM;").unwrap();
        }),
        (
            "a database of another program with an unfinished transaction",
            "another program",
            |h| {
                // A program stopped in the middle of its write: the file and
                // its hot journal, as a crash leaves them.
                let dir = tempfile::tempdir().unwrap();
                let source = dir.path().join("db.sqlite");
                let db = rusqlite::Connection::open(&source).unwrap();
                db.execute_batch(
                "CREATE TABLE customers (name TEXT); \
                 INSERT INTO customers SELECT hex(randomblob(200)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) SELECT i FROM n); \
                 PRAGMA cache_size = 2; BEGIN; UPDATE customers SET name = 'x' || name;",
            )
            .unwrap();
                let journal = dir.path().join("db.sqlite-journal");
                assert!(journal.exists(), "the transaction spilled to a journal");
                std::fs::copy(&source, h).unwrap();
                let mut hot = h.as_os_str().to_owned();
                hot.push("-journal");
                std::fs::copy(&journal, hot).unwrap();
                drop(db);
            },
        ),
    ];
    for (why, message, make) in kinds {
        let scene = Scene::new();
        make(&scene.history());
        assert_refused(&scene, message, why);
    }
    // Our own kinds: a newer schema and a damaged file.
    let scene = Scene::new();
    let (code, stderr) = scene.audit("r1");
    assert!(code == 0 || code == 1, "{stderr}");
    let db = rusqlite::Connection::open(scene.history()).unwrap();
    let version: i32 = db.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    db.pragma_update(None, "user_version", 99).unwrap();
    drop(db);
    assert_refused(&scene, "newer smsaudit", "a newer schema");
    let db = rusqlite::Connection::open(scene.history()).unwrap();
    db.pragma_update(None, "user_version", version).unwrap();
    drop(db);
    damage_a_file_states_record(&scene.history());
    assert_refused(&scene, "damaged", "a damaged record");
}

/// Item 5, after the crawl: a history that cannot take the run once the
/// crawl is done (here held by another program's write lock, which lets
/// the run read it but not record) still gets the report set written;
/// the run exits 2 and its log says why.
#[test]
fn a_history_failing_after_the_crawl_keeps_the_reports_and_is_in_the_log() {
    let scene = Scene::new();
    // The history's first run (no drift to read): another program locks the
    // history once the run has opened it and holds before its crawl, so only
    // the record after the crawl meets the lock.
    let resume = scene.out("resume");
    let log = scene.out("run.log");
    let mut command = std::process::Command::new(BIN);
    command
        .arg("audit")
        .arg(scene.dir.path().join("estate"))
        .arg("--out")
        .arg(scene.out("r2"))
        .arg("--history")
        .arg(scene.history())
        .args(["--history-wait", "1", "--format", "csv,json", "--log"])
        .arg(&log);
    let run = PausedRun::start(command, &resume);
    let holder = rusqlite::Connection::open(scene.history()).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, rest) = run.finish();
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(status, Some(2), "{rest}");
    assert!(
        scene.out("r2").join("audit.json").is_file(),
        "the set is written: {rest}"
    );
    assert!(
        scene.out("r2").join("manifest.json").is_file(),
        "the set is whole: {rest}"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("error: ") && log.contains("estate.sqlite"),
        "the log says the history failed: {log}"
    );
}

/// A history that fails while drift reads it (here another program's
/// exclusive lock, taken once the run has opened the history and holds
/// before its crawl): the set is still written, without drift and without
/// naming the baseline, the run exits 2, and stderr and the log say that
/// drift could not be computed and why.
#[test]
fn a_history_failing_while_drift_reads_it_keeps_the_reports_and_says_why() {
    let scene = Scene::new();
    let (code, stderr) = scene.audit("r1");
    assert!(code == 0 || code == 1, "{stderr}");
    // The next run's start time differs from the first's.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let resume = scene.out("resume");
    let log = scene.out("run.log");
    let mut command = std::process::Command::new(BIN);
    command
        .arg("audit")
        .arg(scene.dir.path().join("estate"))
        .arg("--out")
        .arg(scene.out("r2"))
        .arg("--history")
        .arg(scene.history())
        .args(["--history-wait", "1", "--format", "csv,json", "--log"])
        .arg(&log);
    let run = PausedRun::start(command, &resume);
    let holder = rusqlite::Connection::open(scene.history()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let (status, rest) = run.finish();
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(status, Some(2), "{rest}");
    let set = scene.out("r2");
    assert!(set.join("manifest.json").is_file(), "the set is written: {rest}");
    assert!(
        rest.contains("drift against the baseline could not be computed"),
        "stderr says drift failed: {rest}"
    );
    let audit: serde_json::Value = serde_json::from_slice(&std::fs::read(set.join("audit.json")).unwrap()).unwrap();
    assert!(audit["drift"].is_null(), "no drift, not part of one");
    assert!(audit["baseline"].is_null(), "the baseline was not compared with");
    assert!(
        audit["drift_error"]
            .as_str()
            .unwrap_or_default()
            .contains("could not be computed"),
        "{}",
        audit["drift_error"]
    );
    let status: serde_json::Value = serde_json::from_slice(&std::fs::read(set.join("status.json")).unwrap()).unwrap();
    assert_eq!(status["exit_code"], 2, "{status}");
    assert!(!set.join("drift.csv").exists(), "no drift.csv claims a comparison");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("error: drift against the baseline could not be computed"),
        "the log says why: {log}"
    );
    assert!(!log.contains("drift: 0"), "never 0 changes: {log}");
}
