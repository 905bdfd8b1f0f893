//! Crawl worker processes are reused from one location to the next: one that
//! died while idle is dropped, reaped and replaced, and the location it
//! would have taken is read, not reported unreadable; one that dies while
//! working on a location fails that location, as before.
#![cfg(target_os = "linux")]

use crate::common;

use common::slowfs::SlowFs;
use common::{assert_same_reports, copy_tree, sample_shares};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Generous: every wait is on a condition, never a fixed time.
const WAIT: Duration = Duration::from_secs(60);

/// The audit, killed if the test ends before it does.
struct Audit(Child);

impl Drop for Audit {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "not within {WAIT:?}: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The crawl workers the process `parent` started (its children running
/// `__crawl-worker`).
fn crawl_workers(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command name in parentheses: state, then the parent.
        let after_name = &stat[stat.rfind(')').unwrap() + 1..];
        let ppid = after_name.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let is_worker = cmdline.split(|b| *b == 0).any(|arg| arg == b"__crawl-worker");
        if ppid == Some(parent) && is_worker {
            found.push(pid);
        }
    }
    found
}

/// Whether the process holds a descriptor of something under `dir`.
fn holds_under(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target.starts_with(dir)))
}

/// The process's threads whose name starts with `prefix`, and the system
/// call each is blocked in (None while it runs).
fn threads(pid: u32, prefix: &str) -> Vec<Option<i64>> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter(|task| std::fs::read_to_string(task.path().join("comm")).is_ok_and(|name| name.starts_with(prefix)))
        .map(|task| {
            let call = std::fs::read_to_string(task.path().join("syscall")).unwrap_or_default();
            call.split_whitespace().next().and_then(|n| n.parse().ok())
        })
        .collect()
}

fn kill(pid: u32) {
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
}

/// Two servers: SRVX with two shares, read through slowfs and held on the
/// first file opened until released, and SRVY with one plain share. The
/// audit runs two locations at once and one per server, so one SRVX share
/// (the held one) and SRVY's run first, and the other SRVX share waits.
/// Once SRVY's worker is idle, it is killed if `kill_idle`; then the worker
/// of the held share is killed, the hold released, and the waiting share
/// goes to an idle worker. Returns the report folder.
fn audit_with_kills(dir: &Path, kill_idle: bool) -> Option<PathBuf> {
    let source = dir.join("source");
    let plain = dir.join("plain");
    if !source.exists() {
        copy_tree(&sample_shares().join("SERVER2"), &source.join("SRVX"));
        copy_tree(
            &sample_shares().join("SERVER1").join("CAP_MS1"),
            &plain.join("SRVY").join("CAP_MS1"),
        );
    }
    // The same mount point each time: the reports name it.
    let mount = SlowFs::mount(&source, &dir.join("mnt"), &["--stall", "open,read:/SRVX/*"])?;
    let out = dir.join(if kill_idle { "out-idle-killed" } else { "out" });
    let audit = Audit(
        std::process::Command::new(common::BIN)
            .arg("audit")
            .arg(mount.path())
            .arg(&plain)
            .arg("--out")
            .arg(&out)
            .args(["--quiet", "--fail-on", "never", "--format", "csv,json"])
            .args(["-j", "2", "--per-server", "1", "--isolation", "process"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let held = mount.wait_until_held(WAIT);
    assert!(held.starts_with("open /SRVX/"), "{held}");
    let audit_pid = audit.0.id();
    // The held share's worker has its folders open through the mount.
    let (mut held_worker, mut idle_worker) = (0, 0);
    wait_for("two crawl workers, one in the held share", || {
        let workers = crawl_workers(audit_pid);
        let (inside, outside): (Vec<u32>, Vec<u32>) = workers.iter().partition(|pid| holds_under(**pid, mount.path()));
        if let ([a], [b]) = (&inside[..], &outside[..]) {
            (held_worker, idle_worker) = (*a, *b);
            return true;
        }
        false
    });
    // SRVY's worker is idle once it has a crawl pool (it took its location)
    // and the audit's thread that follows it waits for its next job
    // (blocked in a futex, not reading the worker's output as while it
    // crawls; the held worker's thread and the stderr readers read).
    wait_for("SRVY's worker done with its share", || {
        !threads(idle_worker, "smsaudit-crawl").is_empty()
            && threads(audit_pid, "smsaudit-worker").contains(&Some(libc::SYS_futex))
    });
    if kill_idle {
        kill(idle_worker);
        // Reaped while the audit goes on: no zombie is left.
        wait_for("the killed idle worker reaped", || {
            !Path::new(&format!("/proc/{idle_worker}")).exists()
        });
    }
    // Dies while working: its share is unreadable, and it is not reused.
    kill(held_worker);
    mount.release();
    let mut audit = audit;
    wait_for("the audit to end", || audit.0.try_wait().unwrap().is_some());
    assert_eq!(audit.0.wait().unwrap().code(), Some(3), "a share was not audited");
    Some(out)
}

/// A worker killed while idle is not blamed: the share it would have taken
/// next goes to a new worker and is read, and the reports are the same,
/// byte for byte, as when no idle worker died.
#[test]
fn a_worker_killed_while_idle_is_replaced_and_its_next_share_read() {
    let dir = tempfile::tempdir().unwrap();
    let Some(control) = audit_with_kills(dir.path(), false) else {
        return;
    };
    let Some(killed) = audit_with_kills(dir.path(), true) else {
        return;
    };
    let found: Vec<(String, String, String)> = common::locations(&killed)
        .into_iter()
        .map(|(name, (status, reason))| (name, status, reason))
        .collect();
    let names: Vec<&str> = found.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(names, [r"\\SRVX\CAP_MS2", r"\\SRVX\SMS_MS2", r"\\SRVY\CAP_MS1"]);
    // The held share is the one whose worker was killed while working on
    // it; the other two are read.
    let unreadable: Vec<_> = found.iter().filter(|(_, status, _)| status != "ok").collect();
    assert_eq!(unreadable.len(), 1, "{found:?}");
    let (_, status, reason) = unreadable[0];
    assert_eq!(status, "unreadable");
    assert!(
        reason.starts_with("the crawl worker failed (signal: 9 (SIGKILL))"),
        "{reason}"
    );
    let files = common::read_csv_maps(&killed.join("files.csv"));
    for (name, status, _) in found.iter().filter(|(_, status, _)| status == "ok") {
        let hashed = files
            .iter()
            .filter(|f| &f["location"] == name && f["status"] == "ok" && !f["sha256"].is_empty())
            .count();
        assert!(hashed > 5, "{name} ({status}): {hashed} files hashed");
    }
    assert_same_reports(&control, &killed, "after an idle worker was killed");
}
