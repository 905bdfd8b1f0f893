//! The nightly views and what keeps a scheduled history whole (issue 26
//! items 7-9, issue 28 items 8 and 10): `history --run`, the run table's
//! drift column, a `--log` that keeps every run, a closed stderr, pruning
//! that a wrong clock cannot turn against the history, and numeric
//! arguments that are refused, never a panic.

use crate::common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A copy of sample-shares, report folders, a history path and a log path.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        sample_copy(&dir.path().join("estate"));
        Scene { dir }
    }

    fn estate(&self) -> PathBuf {
        self.dir.path().join("estate")
    }

    fn history(&self) -> PathBuf {
        self.dir.path().join("history").join("estate.sqlite")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("logs").join("nightly.log")
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `smsaudit audit` of the estate into `out` with the history.
    fn command(&self, out: &str, extra: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(BIN);
        command
            .arg("audit")
            .arg(self.estate())
            .arg("--out")
            .arg(self.out(out))
            .arg("--history")
            .arg(self.history())
            .args(["--csv", "machine", "--format", "csv,json"])
            .args(extra);
        command
    }

    fn audit(&self, out: &str, extra: &[&str]) -> std::process::Output {
        self.command(out, extra).output().unwrap()
    }

    fn history_command(&self, args: &[&str]) -> std::process::Output {
        smsaudit()
            .arg("history")
            .arg(self.history())
            .args(args)
            .output()
            .unwrap()
    }

    fn runs(&self) -> Vec<i64> {
        let conn = rusqlite::Connection::open(self.history()).unwrap();
        let mut query = conn.prepare("SELECT id FROM runs ORDER BY id").unwrap();
        let ids = query.query_map([], |row| row.get(0)).unwrap();
        ids.map(Result::unwrap).collect()
    }
}

/// Run starts have one-second precision: the next run must start later.
fn next_second() {
    std::thread::sleep(Duration::from_millis(1100));
}

fn code(output: &std::process::Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

/// Every numeric argument of every command, at values that overflowed a
/// clock or SQLite's wait: refused by the argument step with a message
/// naming the flag (exit 2), or taken (saturated: --jobs, --depth,
/// --per-server, --keep-runs, and --keep-days up to 36500, whose window
/// reaching back before 1970 keeps every run), never a panic (101).
#[test]
fn extreme_numbers_are_refused_or_taken_never_a_panic() {
    let scene = Scene::new();
    let max = u64::MAX.to_string();
    let refused: &[(&[&str], &str)] = &[
        (&["--keep-days", "36501"], "--keep-days"),
        (&["--keep-days", &max], "--keep-days"),
        (&["--history-wait", "2147484"], "--history-wait"),
        (&["--history-wait", "3000000"], "--history-wait"),
        (&["--history-wait", &max], "--history-wait"),
        (&["--stall-timeout", &max], "--stall-timeout"),
        (&["--stall-timeout", "31536001"], "--stall-timeout"),
        (&["--location-timeout", &max], "--location-timeout"),
        (&["--jobs", "99999999999999999999999"], "--jobs"),
        (&["--keep-runs", "0"], "--keep-runs"),
        (&["--keep-days", "0"], "--keep-days"),
    ];
    for (args, flag) in refused {
        let output = scene.audit("refused", &[&["--quiet"], *args].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(code(&output), 2, "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert!(!scene.history().exists(), "a refused argument writes nothing");
    // Taken as they are: a limit larger than anything there is.
    for args in [
        &["--jobs", &max][..],
        &["--depth", &max],
        &["--per-server", &max],
        &["--keep-runs", &max],
        &["--keep-days", "20800"],
        &["--keep-days", "30000"],
        &["--keep-days", "36500", "--history-wait", "1000000"],
        &["--stall-timeout", "31536000", "--location-timeout", "31536000"],
    ] {
        let output = scene.audit("taken", &[&["--quiet"], args].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(code(&output), 1, "{args:?}: {stderr}");
    }
    assert_eq!(scene.runs().len(), 8, "no run was pruned");
    for args in [
        &["--keep-days", "36501"][..],
        &["--keep-days", &max],
        &["--wait", "2147484"],
        &["--wait", &max],
        &["--keep-runs", "0"],
    ] {
        let output = scene.history_command(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(code(&output), 2, "history {args:?}: {stderr}");
        assert!(stderr.contains(args[0]), "history {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "history {args:?}: {stderr}");
    }
    let output = scene.history_command(&["--keep-days", "36500", "--keep-runs", &max, "--wait", "1000000"]);
    assert_eq!(code(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(scene.runs().len(), 8);
}

/// Sets the start time of run `run` as a wrong clock would have written it.
fn set_started(history: &Path, run: i64, started: &str) {
    let conn = rusqlite::Connection::open(history).unwrap();
    conn.execute(
        "UPDATE runs SET started = ?1 WHERE id = ?2",
        rusqlite::params![started, run],
    )
    .unwrap();
}

/// One run recorded with its clock in 2001 (a CMOS reset, a restored VM):
/// the next `--keep-days 400` keeps every run before it, since they are
/// not older by order than the runs within the window; only runs both old
/// by time and before every recent run go.
#[test]
fn a_run_with_a_wrong_clock_does_not_make_pruning_delete_the_history() {
    let scene = Scene::new();
    for out in ["r1", "r2"] {
        assert_eq!(code(&scene.audit(out, &["--quiet"])), 1);
        next_second();
    }
    set_started(&scene.history(), 2, "2001-01-01T00:00:00Z");
    let output = scene.audit("r3", &["--quiet", "--keep-days", "400"]);
    assert_eq!(code(&output), 1, "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(scene.runs(), vec![1, 2, 3], "earlier runs kept");
    // The history command applies the same rule.
    let output = scene.history_command(&["--keep-days", "400"]);
    assert_eq!(code(&output), 0);
    assert_eq!(scene.runs(), vec![1, 2, 3]);
    // Runs that are old by both time and order still go.
    set_started(&scene.history(), 1, "2000-01-01T00:00:00Z");
    set_started(&scene.history(), 3, "2001-06-01T00:00:00Z");
    next_second();
    let output = scene.audit("r4", &["--quiet", "--keep-days", "400"]);
    assert_eq!(code(&output), 1, "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(scene.runs(), vec![4]);
}

/// Two runs into one `--log`: both blocks are there, each with its start,
/// its exit code and its drift (the count, where the rows are, the rows).
#[test]
fn the_log_keeps_every_run_one_block_each() {
    let scene = Scene::new();
    let log = scene.log();
    let log_arg = log.to_str().unwrap();
    let first = scene.audit("r1", &["--quiet", "--log", log_arg]);
    assert_eq!(code(&first), 1, "{}", String::from_utf8_lossy(&first.stderr));
    next_second();
    write(&scene.estate(), "SERVER1/CAP_MS1/clicomp.box/planted.txt", "new file");
    let second = scene.audit("r2", &["--quiet", "--log", log_arg]);
    // Its findings make it 1, drift or not.
    assert_eq!(code(&second), 1, "{}", String::from_utf8_lossy(&second.stderr));
    let text = std::fs::read_to_string(&log).unwrap();
    let blocks: Vec<&str> = text.split_terminator("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{text}");
    for (block, exit) in blocks.iter().zip(["exit code 1: ", "exit code 1: "]) {
        assert!(block.starts_with("smsaudit "), "{block}");
        assert!(block.lines().nth(1).unwrap().starts_with("started 20"), "{block}");
        assert!(block.lines().last().unwrap().starts_with(exit), "{block}");
    }
    let drift_csv = scene.out("r2").join("drift.csv");
    assert!(
        blocks[1].contains(&format!(
            "drift: 1 change since the baseline (all in {})",
            drift_csv.display()
        )),
        "{text}"
    );
    assert!(
        blocks[1].contains(r"drift added \\SERVER1\CAP_MS1 clicomp.box"),
        "{text}"
    );
}

/// A stderr closed by its reader (`2>&1 | head -c0`, a scheduler that
/// went away): the run goes on, exits with the audit's own code, writes
/// its log and records that same code in the history.
#[test]
fn a_closed_stderr_costs_neither_the_exit_code_nor_the_log() {
    let scene = Scene::new();
    let log = scene.log();
    for (out, extra) in [
        ("r1", &[][..]),
        ("r2", &["--verbose"][..]),
        ("r3", &["--isolation", "thread"][..]),
    ] {
        let mut child = scene
            .command(out, &[&["--log", log.to_str().unwrap()], extra].concat())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{extra:?}");
        assert!(scene.out(out).join("audit.json").is_file(), "{extra:?}");
        next_second();
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("exit code 1: ").count(), 3, "{text}");
    let conn = rusqlite::Connection::open(scene.history()).unwrap();
    let codes: Vec<i64> = conn
        .prepare("SELECT exit_code FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(codes, vec![1, 1, 1]);
}

/// `history FILE --run N`: that run's counts and exit code, the findings
/// new in it and resolved by it, and its drift rows; the run table's drift
/// column. A history written before drift was kept (schema 2) is migrated
/// and says its drift is unknown.
#[test]
fn history_shows_one_run_and_the_drift_of_each() {
    let scene = Scene::new();
    assert_eq!(code(&scene.audit("r1", &["--quiet"])), 1);
    {
        // As the schema 2 history of a previous smsaudit wrote it.
        let db = rusqlite::Connection::open(scene.history()).unwrap();
        db.execute_batch(
            "DROP TABLE run_drift_counts; DROP TABLE run_drift; DROP TABLE forgotten_locations;
             DROP TABLE run_leases; DROP INDEX location_states_location; DROP INDEX stamp_states_location;
             ALTER TABLE runs DROP COLUMN finished; PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    next_second();
    fix_one_break_one(&scene.estate());
    write(&scene.estate(), "SERVER1/CAP_MS1/clicomp.box/planted.txt", "new file");
    assert_eq!(code(&scene.audit("r2", &["--quiet"])), 1);

    let output = scene.history_command(&["--csv=machine"]);
    assert_eq!(code(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Vec<&str>> = table.lines().map(|l| l.split(',').collect()).collect();
    let drift = lines[0].iter().position(|h| *h == "drift").expect("a drift column");
    assert_eq!(lines[1][drift], "", "run 1: unknown, recorded before drift was kept");
    let drift_csv = read_csv(&scene.out("r2").join("drift.csv"));
    assert_eq!(lines[2][drift], (drift_csv.len() - 1).to_string(), "{table}");

    let output = scene.history_command(&["--run", "2"]);
    assert_eq!(code(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    let shown = String::from_utf8(output.stdout).unwrap();
    assert!(shown.starts_with("run "), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("exit code ") && l.ends_with(" 1: findings at or above --fail-on")),
        "{shown}"
    );
    let findings = read_csv_maps(&scene.out("r2").join("findings.csv"));
    let new = &scene_json(&scene, "r2")["history"];
    let new_count = new["new"].as_array().unwrap().len();
    let resolved_count = new["resolved"].as_array().unwrap().len();
    assert!(new_count > 0 && resolved_count > 0, "{new}");
    assert!(shown.contains(&format!("\nnew findings ({new_count}):\n")), "{shown}");
    assert!(
        shown.contains(&format!("\nresolved findings ({resolved_count}):\n")),
        "{shown}"
    );
    for fingerprint in new["new"].as_array().unwrap() {
        let fingerprint = fingerprint.as_str().unwrap();
        assert!(findings.iter().any(|f| f["fingerprint"] == fingerprint));
        assert!(shown.contains(fingerprint), "{shown}");
    }
    assert!(
        shown.contains(&format!("\ndrift ({}):\n", drift_csv.len() - 1)),
        "{shown}"
    );
    assert!(shown.contains("planted.txt"), "{shown}");

    let output = scene.history_command(&["--run", "1"]);
    let shown = String::from_utf8(output.stdout).unwrap();
    assert!(shown.contains("new findings: the first run the history has"), "{shown}");
    assert!(shown.contains("\ndrift: unknown"), "{shown}");

    let output = scene.history_command(&["--run", "9"]);
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no run 9"));
    let db = rusqlite::Connection::open(scene.history()).unwrap();
    let check: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok");
}

fn scene_json(scene: &Scene, out: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(scene.out(out).join("audit.json")).unwrap()).unwrap()
}

/// Between two runs: hinv.CFG of CAP_MS1 gets the version it lacked (its
/// F02 is fixed) and CAP_MS2's hinv.CFG falls behind its offer (a new F02).
fn fix_one_break_one(estate: &Path) {
    let fixed = estate.join(r"SERVER1/CAP_MS1/clicomp.box/hinv.CFG");
    let text = std::fs::read_to_string(&fixed).unwrap();
    let line_end = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let with_version = text.replacen(
        &format!("KeyFlags=0{line_end}"),
        &format!("KeyFlags=0{line_end}      (REG_SZ) Version=2.00.1239.0000{line_end}"),
        1,
    );
    assert_ne!(text, with_version);
    std::fs::write(&fixed, with_version).unwrap();
    let broken = estate.join(r"SERVER2/CAP_MS2/clicomp.box/hinv.CFG");
    let text = std::fs::read_to_string(&broken).unwrap();
    std::fs::write(&broken, text.replace("2.00.1380.1000", "2.00.1239.0000")).unwrap();
}

/// A `--keep-runs 1` run while another run crawls: it records its own run
/// but prunes nothing (the other run's baseline stays), and the other run
/// then finishes with its own exit code, not 2; the next run prunes.
#[test]
fn pruning_waits_for_a_run_in_progress() {
    let scene = Scene::new();
    assert_eq!(code(&scene.audit("r1", &["--quiet"])), 1);
    next_second();
    let resume = scene.dir.path().join("resume");
    let slow = PausedRun::start(scene.command("r2", &[]), &resume);
    let pruning = scene.audit("r3", &["--keep-runs", "1"]);
    let said = String::from_utf8_lossy(&pruning.stderr);
    assert_eq!(code(&pruning), 1, "{said}");
    assert!(said.contains("another run is in progress"), "{said}");
    let output = scene.history_command(&["--keep-runs", "1"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("an audit is in progress"));
    assert_eq!(scene.runs(), vec![1, 2]);
    let (status, rest) = slow.finish();
    assert_eq!(status, Some(1), "{rest}");
    assert_eq!(scene.runs(), vec![1, 2, 3]);
    next_second();
    assert_eq!(code(&scene.audit("r4", &["--quiet", "--keep-runs", "1"])), 1);
    assert_eq!(scene.runs(), vec![4]);
}
