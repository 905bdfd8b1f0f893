//! A report set is all or nothing: interrupted by SIGINT or SIGTERM at any
//! point, on a full disk, or beside another run, the previous set stays
//! byte for byte and no temporary file is left; the manifest proves a set
//! complete; an earlier run's reports this run did not write are removed;
//! the log says how every run ended, refusals included.

use crate::common;

use common::smsaudit;
#[cfg(unix)]
use common::WALL_CLOCK;
use std::collections::BTreeMap;
#[cfg(unix)]
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::{Child, Stdio};
#[cfg(unix)]
use std::sync::mpsc;
#[cfg(unix)]
use std::time::Duration;
#[cfg(unix)]
use std::time::Instant;

/// A lone CAP: a small estate at `root` whose reports differ from the sample's.
fn lone_cap(root: &Path) -> PathBuf {
    common::lone_cap(root);
    root.to_path_buf()
}

/// Every entry of a folder, hidden ones included, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// An earlier run's complete set of the lone CAP in `out`; returns it.
#[cfg(unix)]
fn previous_set(tmp: &Path, out: &Path) -> BTreeMap<String, Vec<u8>> {
    let small = lone_cap(&tmp.join("small"));
    smsaudit()
        .args(["audit", "--quiet", "--fail-on", "never", "--out"])
        .arg(out)
        .arg(small)
        .assert()
        .code(3);
    let set = snapshot(out);
    assert!(
        set.contains_key("manifest.json") && set.contains_key("matrix.csv"),
        "{:?}",
        set.keys()
    );
    set
}

/// An audit running in the background, its stderr read line by line.
#[cfg(unix)]
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

#[cfg(unix)]
impl Running {
    fn start(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Running {
        let mut command = std::process::Command::new(common::BIN);
        command.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits until stderr has a line holding `needle`.
    fn wait_for_line(&mut self, needle: &str) {
        let deadline = Instant::now() + WALL_CLOCK;
        while !self.seen.iter().any(|l| l.contains(needle)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line with {needle:?}; stderr so far: {:?}", self.seen),
            }
        }
    }

    #[cfg(unix)]
    fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid()).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
    }

    /// Waits for the exit; returns the code and all of stderr.
    fn finish(mut self) -> (i32, String) {
        let deadline = Instant::now() + WALL_CLOCK;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "still running: {:?}", self.seen);
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader thread ends with the pipe.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let code = status
            .code()
            .unwrap_or_else(|| panic!("killed by {status:?}: {:?}", self.seen));
        (code, self.seen.join("\n"))
    }
}

#[cfg(unix)]
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(unix)]
fn audit_args(out: &Path, log: &Path, estate: &Path) -> Vec<std::ffi::OsString> {
    ["audit", "--quiet", "--fail-on", "never", "--out"]
        .iter()
        .map(Into::into)
        .chain([out.into(), "--log".into(), log.into(), estate.into()])
        .collect()
}

#[cfg(unix)]
fn os(args: &[std::ffi::OsString]) -> Vec<&std::ffi::OsStr> {
    args.iter().map(|a| a.as_os_str()).collect()
}

/// Interrupts an audit of the sample estate held at `pause` with `signal`,
/// over the lone CAP's set: the previous set stays byte for byte, no
/// temporary file is left, and the code, message and log say so.
#[cfg(unix)]
fn interrupted_at(pause: &str, signal: rustix::process::Signal, code: i32, name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let before = previous_set(tmp.path(), &out);
    let log = tmp.path().join("audit.log");
    let args = audit_args(&out, &log, &common::sample_shares());
    let mut run = Running::start(&os(&args), &[("SMSAUDIT_FAULT_PAUSE", pause)]);
    run.wait_for_line("fault injected: paused");
    let during = snapshot(&out);
    assert!(
        during.keys().any(|name| name.ends_with(".tmp")),
        "{pause}: the run is under way: {:?}",
        during.keys()
    );
    run.signal(signal);
    let (exit, stderr) = run.finish();
    assert_eq!(exit, code, "{pause}: {stderr}");
    assert!(
        stderr.contains(&format!(
            "stopped by {name}: the reports in {} are as they were before this run, and no temporary file of it is left",
            out.display()
        )),
        "{pause}: {stderr}"
    );
    assert_eq!(
        snapshot(&out),
        before,
        "{pause}: the previous set, byte for byte, and nothing else"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains(&format!("error: stopped by {name}")), "{log}");
    assert!(log.contains(&format!("exit code {code}: stopped by {name}")), "{log}");
}

#[cfg(unix)]
#[test]
fn sigint_while_reports_are_written_keeps_the_previous_set() {
    interrupted_at("stage:2", rustix::process::Signal::INT, 130, "SIGINT");
}

#[cfg(unix)]
#[test]
fn sigterm_while_reports_are_put_in_place_rolls_them_back() {
    // Three of the seven reports already renamed into place.
    interrupted_at("commit:3", rustix::process::Signal::TERM, 143, "SIGTERM");
}

#[cfg(unix)]
#[test]
fn sigint_after_the_last_report_but_before_the_manifest_rolls_back() {
    interrupted_at("commit:7", rustix::process::Signal::INT, 130, "SIGINT");
}

/// The worker processes of the audit, from /proc.
#[cfg(target_os = "linux")]
fn crawl_workers(pid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        found.extend(children.split_whitespace().filter_map(|c| c.parse::<i32>().ok()));
    }
    found.retain(|child| {
        std::fs::read(format!("/proc/{child}/cmdline"))
            .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains("__crawl-worker"))
    });
    found
}

/// Gone, or a zombie nobody reaped: not running.
#[cfg(target_os = "linux")]
fn is_running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some(Some('Z' | 'X')))
        })
        .unwrap_or(false)
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_during_the_crawl_kills_the_workers_and_keeps_the_previous_set() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let before = previous_set(tmp.path(), &out);
    let log = tmp.path().join("audit.log");
    // Reads of DC1's files never answer (through slowfs): its worker is alive
    // until killed. A read waits for its page killably, so a killed worker
    // ends at once.
    let Some(mount) = common::slowfs::SlowFs::mount(
        &common::sample_shares(),
        &tmp.path().join("mnt"),
        &["--stall", "read:/DC1/*"],
    ) else {
        return;
    };
    let args = audit_args(&out, &log, mount.path());
    let run = Running::start(&os(&args), &[]);
    let deadline = Instant::now() + WALL_CLOCK;
    let workers = loop {
        let workers = crawl_workers(run.pid());
        if !workers.is_empty() {
            break workers;
        }
        assert!(Instant::now() < deadline, "no crawl worker started");
        std::thread::sleep(Duration::from_millis(50));
    };
    // Killed whatever this test finds, so none outlives a failure.
    struct Reap(Vec<i32>);
    impl Drop for Reap {
        fn drop(&mut self) {
            for pid in &self.0 {
                if let Some(pid) = rustix::process::Pid::from_raw(*pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
        }
    }
    let _reap = Reap(workers.clone());
    run.signal(rustix::process::Signal::TERM);
    let (code, stderr) = run.finish();
    assert_eq!(code, 143, "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while workers.iter().any(|w| is_running(*w)) {
        assert!(Instant::now() < deadline, "crawl workers {workers:?} still running");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(snapshot(&out), before);
    assert!(std::fs::read_to_string(&log).unwrap().contains("exit code 143"));
}

#[cfg(unix)]
#[test]
fn a_second_run_on_the_same_folder_fails_at_once_and_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let before = previous_set(tmp.path(), &out);
    let first_log = tmp.path().join("first.log");
    let args = audit_args(&out, &first_log, &common::sample_shares());
    let mut first = Running::start(&os(&args), &[("SMSAUDIT_FAULT_PAUSE", "stage:1")]);
    first.wait_for_line("fault injected: paused");
    let second_log = tmp.path().join("second.log");
    let started = Instant::now();
    let second = smsaudit()
        .args(audit_args(&out, &second_log, &common::sample_shares()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "failed at once");
    assert!(
        stderr.contains(&format!(
            "output folder {} is in use: another smsaudit run holds its lock",
            out.display()
        )),
        "{stderr}"
    );
    let log = std::fs::read_to_string(&second_log).unwrap();
    assert!(log.contains("is in use") && log.contains("exit code 2"), "{log}");
    // The first run is unharmed: stopped, it too keeps the previous set.
    first.signal(rustix::process::Signal::INT);
    let (code, stderr) = first.finish();
    assert_eq!(code, 130, "{stderr}");
    assert_eq!(snapshot(&out), before);
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_output_disk_keeps_the_previous_set() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = common::Mount::new(
        &["-t", "tmpfs", "-o", "size=1m", "tmpfs"].map(std::ffi::OsStr::new),
        &tmp.path().join("disk"),
    ) else {
        return;
    };
    let out = disk.0.join("out");
    let before = previous_set(tmp.path(), &out);
    // Fill the disk but for 100 KiB: the CSVs, the workbook and the manifest
    // fit, audit.json (166 KiB) does not.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(disk.0.join("filler")).unwrap();
        while filler.write_all(&[0u8; 4096]).is_ok() {}
        let full = filler.metadata().unwrap().len();
        filler.set_len(full.saturating_sub(100 * 1024)).unwrap();
    }
    let log = tmp.path().join("audit.log");
    let output = smsaudit()
        .args(audit_args(&out, &log, &common::sample_shares()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "nothing of this run was put in place: the reports already in {} are as they were",
            out.display()
        )),
        "{stderr}"
    );
    assert_eq!(snapshot(&out), before, "the previous set, and no temporary file");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("No space left on device") && log.contains("exit code 2"),
        "{log}"
    );
}

/// Exit-2 refusals, before and after discovery, are in the log with
/// `--quiet`, with the times, the command line and the exit code; the
/// log's folder is created.
#[test]
fn refusals_are_logged_with_time_command_and_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = lone_cap(&tmp.path().join("estate"));
    let not_a_file = tmp.path().join("inventory.toml");
    std::fs::create_dir(&not_a_file).unwrap();
    let log = tmp.path().join("logs").join("nightly").join("audit.log");
    let assert = smsaudit()
        .args(["audit", "--quiet", "--inventory"])
        .arg(&not_a_file)
        .arg("--log")
        .arg(&log)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].starts_with("started 20") && lines[1].ends_with('Z'), "{text}");
    assert!(
        lines[2].starts_with("command: ") && lines[2].contains("--inventory"),
        "{text}"
    );
    assert!(
        text.contains("error: ") && text.contains("is not a regular file"),
        "{text}\n(stderr: {stderr})"
    );
    assert!(text.contains("\nfinished 20"), "{text}");
    assert!(text.ends_with("exit code 2: could not run\n\n"), "{text}");

    // The output folder inside the audited root: refused after discovery.
    let inside = estate.join("reports");
    smsaudit()
        .args(["audit", "--quiet", "--log"])
        .arg(&log)
        .arg("--out")
        .arg(&inside)
        .arg(&estate)
        .assert()
        .code(2);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("is inside the audited root"), "{text}");
    assert!(text.ends_with("exit code 2: could not run\n\n"), "{text}");
    assert!(!inside.exists(), "nothing written into the root");
}

#[test]
fn the_manifest_lists_every_report_with_its_sha256_and_size() {
    if !common::require("sha256sum", "to check the manifest's hashes") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    smsaudit()
        .args(["audit", "--quiet", "--out"])
        .arg(&out)
        .arg(common::sample_shares())
        .assert()
        .code(1);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(manifest["started"], audit["started"]);
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    let reports = manifest["reports"].as_array().unwrap();
    let names: Vec<&str> = reports.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, common::REPORT_FILES);
    let sums = std::process::Command::new("sha256sum")
        .args(&names)
        .current_dir(&out)
        .output()
        .unwrap();
    let sums = String::from_utf8(sums.stdout).unwrap();
    for (report, line) in reports.iter().zip(sums.lines()) {
        let (sum, name) = line.split_once("  ").unwrap();
        assert_eq!(report["name"], name);
        assert_eq!(report["sha256"], sum, "{name}");
        assert_eq!(
            report["size"].as_u64().unwrap(),
            std::fs::metadata(out.join(name)).unwrap().len(),
            "{name}"
        );
    }
}

#[test]
fn a_reused_folder_keeps_no_report_this_run_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let baseline = tmp.path().join("baseline.json");
    let estate = lone_cap(&tmp.path().join("estate"));
    let run = |extra: &[&str]| {
        let output = smsaudit()
            .args(["audit", "--fail-on", "never", "--out"])
            .arg(&out)
            .args(extra)
            .arg(&estate)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    run(&["--format", "json"]);
    std::fs::copy(out.join("audit.json"), &baseline).unwrap();
    common::write(&estate, "SERVER9/CAP_HX1/clicomp.box/new.txt", "new");
    let stderr = run(&["--baseline", baseline.to_str().unwrap()]);
    assert!(out.join("drift.csv").is_file(), "{stderr}");
    assert!(stderr.contains("(see drift.csv)"), "{stderr}");
    // A crashed run's temporary file, and a file of the user's.
    std::fs::write(out.join(".files.csv.a1B2c3.tmp"), "half").unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();

    let stderr = run(&["--format", "json", "--baseline", baseline.to_str().unwrap()]);
    assert!(
        stderr.contains("drift since the baseline: 1 changes\n"),
        "no drift.csv to see: {stderr}"
    );
    let mut names: Vec<String> = snapshot(&out).into_keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".smsaudit.lock",
            "audit.json",
            "manifest.json",
            "notes.txt",
            "status.json"
        ]
    );

    run(&[]);
    assert!(!out.join("drift.csv").exists());
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(!manifest.contains("drift.csv"), "{manifest}");
}

/// File records beyond memory are spilled to the report folder as sorted
/// runs (`.file-records.<random>.tmp`); once the run has ended none is
/// left beside the set, whether the history was asked for or not, and the
/// reports say what a run that spilled nothing says. A tiny record buffer
/// (`SMSAUDIT_FAULT_RECORD_BUFFER`) makes the sample estate spill dozens of
/// runs. Before the fix the audit kept for a stop held the records, and
/// their runs, until the process exited without dropping them.
#[test]
fn spilled_record_runs_are_gone_when_the_run_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let in_memory = tmp.path().join("in-memory");
    smsaudit()
        .args(["audit", "--quiet", "--fail-on", "never", "--out"])
        .arg(&in_memory)
        .arg(common::sample_shares())
        .assert()
        .success();
    for history in [false, true] {
        let out = tmp.path().join(format!("spilled-{history}"));
        let mut command = smsaudit();
        command
            .env("SMSAUDIT_FAULT_RECORD_BUFFER", "2048")
            .args(["audit", "--quiet", "--fail-on", "never", "--out"])
            .arg(&out)
            .arg(common::sample_shares());
        if history {
            command.arg("--history").arg(tmp.path().join("history.sqlite"));
        }
        command.assert().success();
        let left: Vec<String> = snapshot(&out)
            .into_keys()
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(
            left.is_empty(),
            "left in the report folder (history {history}): {left:?}"
        );
        if history {
            // Findings carry when the history first saw them: the rows of
            // files are what spilling could change.
            let read = |dir: &Path| std::fs::read(dir.join("files.csv")).unwrap();
            assert!(read(&in_memory) == read(&out), "files.csv differs when records spill");
        } else {
            common::assert_same_reports(&in_memory, &out, "when records spill");
        }
    }
}
