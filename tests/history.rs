//! `--history FILE` and `smsaudit history`: runs kept in SQLite, first
//! seen, new and resolved findings, drift against the last run, files that
//! are not a history left alone, concurrent runs, retention.

use crate::common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A copy of sample-shares, a report folder and a history path.
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

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Audits the estate into `out` with the history and `extra` arguments.
    fn audit(&self, out: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
        smsaudit()
            .arg("audit")
            .arg(self.estate())
            .arg("--out")
            .arg(self.out(out))
            .arg("--history")
            .arg(self.history())
            .args(["--csv", "machine", "--format", "csv,json", "--quiet"])
            .args(extra)
            .assert()
    }

    fn json(&self, out: &str) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.out(out).join("audit.json")).unwrap()).unwrap()
    }

    fn history_command(&self, args: &[&str]) -> String {
        let output = smsaudit()
            .arg("history")
            .arg(self.history())
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }
}

/// Runs SQLite's own shell on `db`; `None` (skip) when it is not installed.
fn sqlite3(db: &Path, sql: &str) -> Option<String> {
    if !require("sqlite3", "to check the history with SQLite's own shell") {
        return None;
    }
    let output = std::process::Command::new("sqlite3").arg(db).arg(sql).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    Some(String::from_utf8(output.stdout).unwrap().trim().to_string())
}

/// Run starts have one-second precision: the next run must start later.
fn next_second() {
    std::thread::sleep(Duration::from_millis(1100));
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
    assert!(text.contains("2.00.1380.1000"));
    std::fs::write(&broken, text.replace("2.00.1380.1000", "2.00.1239.0000")).unwrap();
}

fn finding<'a>(audit: &'a serde_json::Value, location: &str, path: &str) -> &'a serde_json::Value {
    audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"] == location && f["path"] == path)
        .unwrap_or_else(|| panic!("no finding at {location} {path}"))
}

#[test]
fn a_second_run_keeps_first_seen_and_lists_new_and_resolved_findings_and_drift() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    let first = scene.json("r1");
    let first_start = first["started"].as_str().unwrap().to_string();
    assert_eq!(first["history"]["previous_run"], serde_json::Value::Null);
    assert!(first["drift"].is_null(), "no previous run, no drift");
    next_second();
    fix_one_break_one(&scene.estate());
    scene.audit("r2", &[]).code(1);
    let second = scene.json("r2");
    let second_start = second["started"].as_str().unwrap();
    assert_ne!(first_start, second_start);

    let kept = finding(&second, r"\\SERVER1\CAP_MS1", r"clicomp.box\sinv.CFG");
    assert_eq!(kept["first_seen"], first_start.as_str());
    let new = finding(&second, r"\\SERVER2\CAP_MS2", r"clicomp.box\hinv.CFG");
    assert_eq!(new["first_seen"], second_start);
    let history = &second["history"];
    assert_eq!(history["previous_run"], first_start.as_str());
    assert_eq!(history["new"], serde_json::json!([new["fingerprint"]]));
    let resolved = history["resolved"].as_array().unwrap();
    assert_eq!(resolved.len(), 1, "{history}");
    assert_eq!(resolved[0]["code"], "F02");
    assert_eq!(resolved[0]["location"], r"\\SERVER1\CAP_MS1");
    assert_eq!(resolved[0]["path"], r"clicomp.box\hinv.CFG");
    assert_eq!(resolved[0]["first_seen"], first_start.as_str());
    assert_eq!(resolved[0]["last_seen"], first_start.as_str());

    // findings.csv carries first_seen and the fingerprint.
    let rows = read_csv_maps(&scene.out("r2").join("findings.csv"));
    let row = rows.iter().find(|r| r["path"] == r"clicomp.box\sinv.CFG").unwrap();
    assert_eq!(row["first_seen"], first_start);
    assert_eq!(row["fingerprint"], kept["fingerprint"].as_str().unwrap());

    // Drift against the previous run, without a baseline file.
    assert!(second["baseline"].as_str().unwrap().contains("estate.sqlite"));
    let drift = read_csv_maps(&scene.out("r2").join("drift.csv"));
    for location in [r"\\SERVER1\CAP_MS1", r"\\SERVER2\CAP_MS2"] {
        assert!(
            drift
                .iter()
                .any(|d| d["location"] == location && d["path"] == r"clicomp.box\hinv.CFG" && d["change"] == "changed"),
            "{drift:?}"
        );
    }
    assert!(drift.iter().all(|d| d["path"].ends_with("hinv.CFG")), "{drift:?}");
}

#[test]
fn an_explicit_baseline_file_wins_over_the_history() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    next_second();
    scene.audit("r2", &[]).code(1);
    fix_one_break_one(&scene.estate());
    let baseline = scene.out("r1").join("audit.json");
    scene.audit("r3", &["--baseline", baseline.to_str().unwrap()]).code(1);
    let third = scene.json("r3");
    assert_eq!(third["baseline"], baseline.display().to_string());
}

#[test]
fn an_unchanged_run_grows_the_history_by_far_less_than_the_first() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    let after_first = std::fs::metadata(scene.history()).unwrap().len();
    scene.audit("r2", &[]).code(1);
    scene.audit("r3", &[]).code(1);
    let after_third = std::fs::metadata(scene.history()).unwrap().len();
    assert!(
        (after_third - after_first) * 10 < after_first,
        "two unchanged runs grew the history from {after_first} to {after_third} bytes"
    );
    let files = read_csv_maps(&scene.out("r3").join("files.csv")).len();
    if let Some(check) = sqlite3(&scene.history(), "PRAGMA integrity_check") {
        assert_eq!(check, "ok");
        let counts = sqlite3(
            &scene.history(),
            "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM file_states) || ' ' || \
             (SELECT count(*) FROM file_states WHERE first_run = 1 AND last_run = 3)",
        )
        .unwrap();
        assert_eq!(counts, format!("3 {files} {files}"));
    }
}

/// Runs an audit that must be refused before the crawl: exit 2, the
/// message, no report, and the history byte for byte as it was.
fn assert_refused(scene: &Scene, extra: &[&str], message: &str) {
    let before = std::fs::read(scene.history()).unwrap();
    let output = scene.audit("refused", extra).code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(message), "{stderr}");
    assert!(stderr.contains("estate.sqlite"), "{stderr}");
    assert!(!scene.out("refused").join("audit.json").exists());
    assert_eq!(
        std::fs::read(scene.history()).unwrap(),
        before,
        "the history was changed"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_as_it_is() {
    let scene = Scene::new();
    std::fs::create_dir_all(scene.history().parent().unwrap()).unwrap();
    std::fs::write(scene.history(), "site,version\r\nMS1,2.00.1239.0000\r\n".repeat(200)).unwrap();
    assert_refused(&scene, &[], "not an SQLite database");
}

#[test]
fn a_damaged_history_is_refused_and_left_as_it_is() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    let mut bytes = std::fs::read(scene.history()).unwrap();
    let page = 4096;
    assert!(bytes.len() > 8 * page);
    // Pages 3 to 6 (tables and indexes) become garbage; the header stays.
    for byte in &mut bytes[2 * page..6 * page] {
        *byte = 0xA5;
    }
    std::fs::write(scene.history(), &bytes).unwrap();
    assert_refused(&scene, &[], "damaged");
}

#[test]
fn another_programs_database_is_refused_and_left_as_it_is() {
    let scene = Scene::new();
    std::fs::create_dir_all(scene.history().parent().unwrap()).unwrap();
    let db = rusqlite::Connection::open(scene.history()).unwrap();
    db.execute_batch("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('Contoso');")
        .unwrap();
    drop(db);
    assert_refused(&scene, &[], "another program");
    // And one that names itself with its own application_id.
    let db = rusqlite::Connection::open(scene.history()).unwrap();
    db.pragma_update(None, "application_id", 0x4750_4B47).unwrap();
    drop(db);
    assert_refused(&scene, &[], "another program");
}

#[test]
fn a_history_of_a_newer_smsaudit_is_refused_and_left_as_it_is() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    let db = rusqlite::Connection::open(scene.history()).unwrap();
    db.pragma_update(None, "user_version", 99).unwrap();
    drop(db);
    assert_refused(&scene, &[], "newer smsaudit");
}

#[test]
fn a_history_locked_longer_than_the_wait_is_refused_clearly() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    let before = std::fs::read(scene.history()).unwrap();
    let lock = rusqlite::Connection::open(scene.history()).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // No other open of the file in this process until the lock goes: closing
    // any descriptor of a file drops this process's POSIX locks on it.
    let output = scene
        .audit("refused", &["--history-wait", "1"])
        .code(2)
        .get_output()
        .clone();
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is in use") && stderr.contains("1 s"), "{stderr}");
    assert!(!scene.out("refused").join("audit.json").exists());
    assert_eq!(std::fs::read(scene.history()).unwrap(), before);
    scene.audit("r2", &[]).code(1);
}

#[test]
fn two_audits_at_once_on_one_history_both_record_their_run() {
    let scene = Scene::new();
    let start = |out: &str| {
        std::process::Command::new(common::BIN)
            .arg("audit")
            .arg(scene.estate())
            .arg("--out")
            .arg(scene.out(out))
            .arg("--history")
            .arg(scene.history())
            .args(["--format", "json", "--quiet"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [start("a"), start("b")];
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let runs = scene.history_command(&["--csv=machine"]);
    assert_eq!(runs.lines().count(), 3, "{runs}");
    if let Some(check) = sqlite3(&scene.history(), "PRAGMA integrity_check") {
        assert_eq!(check, "ok");
        assert_eq!(sqlite3(&scene.history(), "SELECT count(*) FROM runs").unwrap(), "2");
    }
}

#[test]
fn the_history_command_lists_runs_and_timelines_as_tables_and_csv() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    next_second();
    fix_one_break_one(&scene.estate());
    scene.audit("r2", &[]).code(1);
    let second = scene.json("r2");

    let table = scene.history_command(&[]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("run  started"), "{table}");
    assert!(lines[2].starts_with("2 "), "{table}");

    let csv = scene.history_command(&["--csv"]);
    assert!(csv.starts_with('\u{feff}'), "the spreadsheet flavour has a BOM");
    let machine = scene.history_command(&["--csv=machine"]);
    assert!(!machine.starts_with('\u{feff}'));
    let mut reader = csv::Reader::from_reader(machine.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let runs: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(&runs[1][column("new")], "1");
    assert_eq!(&runs[1][column("resolved")], "1");
    assert_eq!(&runs[1][column("exit")], "1");
    assert_eq!(&runs[1][column("started")], second["started"].as_str().unwrap());

    // When did the CFG version of hinv on \\SERVER2\CAP_MS2 change?
    let item = scene.history_command(&[
        "--location",
        r"\\server2\cap_ms2",
        "--item",
        "hinv.CFG version",
        "--csv=machine",
    ]);
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(item.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{item}");
    assert_eq!(rows[0][3], "no");
    assert_eq!(rows[1][0], second["started"].as_str().unwrap());
    assert_eq!(rows[1][3], "yes");
    assert!(rows[1].iter().any(|c| c == "mismatch"), "{item}");

    // The resolved finding, by its fingerprint: one span, no longer open.
    let gone = second["history"]["resolved"][0]["fingerprint"].as_str().unwrap();
    let timeline = scene.history_command(&["--finding", gone]);
    let lines: Vec<&str> = timeline.lines().collect();
    assert_eq!(lines.len(), 2, "{timeline}");
    assert!(lines[0].starts_with("from"), "{timeline}");
    assert!(lines[1].contains(gone) && lines[1].contains(" no "), "{timeline}");

    let empty = smsaudit()
        .arg("history")
        .arg(scene.history())
        .args(["--site", "XYZ"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&empty.get_output().stderr).contains("nothing in the history matches"));
}

/// `--site MS1` picks the findings whose site field lists MS1 among others
/// (the A01 of a logon point MS1 and MS2 share), not those of MS2 alone,
/// and not a site whose code only starts the same; the timeline is in time
/// order, then worst first.
#[test]
fn the_site_timeline_includes_findings_of_shared_logon_points_in_time_order() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    next_second();
    fix_one_break_one(&scene.estate());
    std::fs::remove_dir_all(scene.estate().join("DC2").join("SMSLOGON")).unwrap();
    scene.audit("r2", &[]).code(1);

    let timeline = scene.history_command(&["--site", "ms1", "--csv=machine"]);
    let mut reader = csv::Reader::from_reader(timeline.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(
        rows.iter().any(|r| &r[column("code")] == "A01"
            && &r[column("site")] == "MS1 MS2"
            && &r[column("location")] == r"\\DC2\SMSLOGON"),
        "{timeline}"
    );
    for row in &rows {
        assert!(row[column("site")].split(' ').any(|s| s == "MS1"), "{timeline}");
    }
    let rank = |severity: &str| {
        ["error", "warning", "info"]
            .iter()
            .position(|s| *s == severity)
            .unwrap()
    };
    let keys: Vec<(String, usize)> = rows
        .iter()
        .map(|r| (r[column("from")].to_string(), rank(&r[column("severity")])))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "{timeline}");
    assert!(
        keys.first().unwrap().0 < keys.last().unwrap().0,
        "both runs: {timeline}"
    );

    let empty = smsaudit()
        .arg("history")
        .arg(scene.history())
        .args(["--site", "MS"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&empty.get_output().stderr).contains("nothing in the history matches"));
}

#[test]
fn retention_keeps_the_last_runs_and_their_states() {
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    next_second();
    fix_one_break_one(&scene.estate());
    scene.audit("r2", &[]).code(1);
    next_second();
    scene.audit("r3", &["--keep-runs", "2"]).code(1);
    let third = scene.json("r3");
    let runs = scene.history_command(&["--csv=machine"]);
    assert_eq!(runs.lines().count(), 3, "{runs}");
    assert!(runs.lines().nth(1).unwrap().starts_with("2,"), "{runs}");
    // The finding fixed after run 1 is gone with run 1; first seen starts
    // at the first run the history still has.
    let second_start = scene.json("r2")["started"].as_str().unwrap().to_string();
    let gone = smsaudit()
        .arg("history")
        .arg(scene.history())
        .args([
            "--location",
            r"\\SERVER1\CAP_MS1",
            "--path",
            r"clicomp.box\hinv.CFG",
            "--code",
            "F02",
        ])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&gone.get_output().stderr).contains("nothing in the history matches"));
    let kept = scene.history_command(&["--code", "F01", "--csv=machine"]);
    assert!(kept.lines().skip(1).all(|l| l.starts_with(&second_start)), "{kept}");
    assert!(third["history"]["resolved"].as_array().unwrap().is_empty());

    // The history command prunes too.
    let output = smsaudit()
        .arg("history")
        .arg(scene.history())
        .args(["--keep-runs", "1", "--csv=machine"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("removed 1 run"));
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 2);
    if let Some(check) = sqlite3(&scene.history(), "PRAGMA integrity_check") {
        assert_eq!(check, "ok");
        assert_eq!(
            sqlite3(
                &scene.history(),
                "SELECT count(*) FROM finding_states WHERE first_run < 3 OR last_run < 3"
            )
            .unwrap(),
            "0"
        );
    }
}

#[test]
fn a_history_inside_an_audited_root_is_refused_before_anything_is_written() {
    let scene = Scene::new();
    let inside = scene.estate().join("SERVER1").join("estate.sqlite");
    let output = smsaudit()
        .arg("audit")
        .arg(scene.estate())
        .arg("--out")
        .arg(scene.out("r1"))
        .arg("--history")
        .arg(&inside)
        .args(["--format", "json", "--quiet"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&output.stderr).contains("--history"));
    assert!(!inside.exists());
    assert!(!scene.out("r1").join("audit.json").exists());
}

#[test]
fn the_history_command_says_when_there_is_no_history() {
    let scene = Scene::new();
    let output = smsaudit()
        .arg("history")
        .arg(scene.history())
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is no history"));
    assert!(!scene.history().exists());
}

#[test]
fn the_html_and_the_workbook_show_first_seen_new_and_resolved() {
    use calamine::Reader;
    let scene = Scene::new();
    scene.audit("r1", &[]).code(1);
    next_second();
    fix_one_break_one(&scene.estate());
    scene.audit("r2", &["--format", "html,xlsx,json"]).code(1);
    let second = scene.json("r2");
    let started = second["started"].as_str().unwrap();
    let previous = second["history"]["previous_run"].as_str().unwrap();

    let html = std::fs::read_to_string(scene.out("r2").join("report.html")).unwrap();
    let section = html
        .split(r#"<section id="history">"#)
        .nth(1)
        .expect("a history section");
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains(&format!("started {previous}")) && section.contains("1 new finding, 1 resolved"),
        "{section}"
    );
    assert!(
        section.contains("Resolved") && section.contains("hinv.CFG"),
        "{section}"
    );
    let findings = html.split(r#"<section id="findings">"#).nth(1).unwrap();
    assert!(findings.contains("First seen"));
    assert!(
        findings.contains(&format!("{started} <b>new</b>")),
        "the new finding is marked"
    );

    let mut book: calamine::Xlsx<_> = calamine::open_workbook(scene.out("r2").join("audit.xlsx")).unwrap();
    assert!(
        book.sheet_names().contains(&"History".to_string()),
        "{:?}",
        book.sheet_names()
    );
    let sheet = book.worksheet_range("History").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let since: Vec<&str> = rows.iter().skip(3).map(|r| r[0].as_str()).collect();
    assert_eq!(since, ["new", "resolved"], "{rows:?}");
    assert_eq!(rows[4][5], r"clicomp.box\hinv.CFG");
    assert_eq!(
        rows[4][7].as_str(),
        second["history"]["resolved"][0]["first_seen"].as_str().unwrap()
    );
}
