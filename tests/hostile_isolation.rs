//! A dying share costs only its own time, and the audit always finishes
//! and exits: one share whose reads stall beside many healthy ones, and a
//! FUSE share whose reads never return.

use crate::common;

#[cfg(target_os = "linux")]
use common::write;
#[cfg(target_os = "linux")]
use std::path::Path;
#[cfg(target_os = "linux")]
use std::path::PathBuf;
use std::time::Duration;
#[cfg(target_os = "linux")]
use std::time::Instant;

#[cfg(target_os = "linux")]
const HEALTHY_SHARES: usize = 40;

/// `DEAD\CAP_DED` with more files than hashing threads, and 40 healthy CAPs
/// (one per server, so they run side by side).
#[cfg(target_os = "linux")]
fn estate_with_a_dying_share(root: &Path) -> Vec<PathBuf> {
    let dead = root.join("DEAD").join("CAP_DED");
    for i in 0..24 {
        write(&dead, &format!("clifiles.box/file{i:02}.dat"), "slow");
    }
    let mut roots = vec![dead];
    for i in 0..HEALTHY_SHARES {
        let share = root.join(format!("SRV{i:02}")).join(format!("CAP_H{i:02}"));
        write(
            &share,
            "clicomp.box/base/compver.ini",
            "[Version]\nVersion=2.00.1493.3004\n",
        );
        for f in 0..5 {
            write(&share, &format!("clifiles.box/file{f}.dat"), "healthy");
        }
        roots.push(share);
    }
    roots
}

/// Reads from `\\DEAD\CAP_DED` take a minute each (through slowfs); with a
/// 3 s stall limit only that share is unreadable, every healthy one is read
/// in full.
#[cfg(target_os = "linux")]
fn a_slow_share_costs_only_its_own_time(isolation: &str) {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let roots = estate_with_a_dying_share(&source);
    let Some(mount) =
        common::slowfs::SlowFs::mount(&source, &dir.path().join("mnt"), &["--slow", "/DEAD/CAP_DED/*:60000"])
    else {
        return;
    };
    let roots: Vec<PathBuf> = roots
        .iter()
        .map(|root| mount.path().join(root.strip_prefix(&source).unwrap()))
        .collect();
    let out = dir.path().join("out");
    let started = Instant::now();
    common::smsaudit()
        .arg("audit")
        .args(&roots)
        .arg("--out")
        .arg(&out)
        .args(["--csv", "machine", "--quiet", "--fail-on", "never"])
        .args(["--stall-timeout", "3", "-j", "4", "--isolation", isolation])
        .timeout(Duration::from_secs(300))
        .assert()
        .code(3);
    let found = common::locations(&out);
    assert_eq!(found.len(), HEALTHY_SHARES + 1, "{found:?}");
    for (name, (status, reason)) in &found {
        if name == r"\\DEAD\CAP_DED" {
            assert_eq!(status, "unreadable", "{name}");
            assert!(reason.starts_with("no answer for 3 s"), "{name}: {reason}");
        } else {
            assert_eq!((status.as_str(), reason.as_str()), ("ok", ""), "{name}");
        }
    }
    let files = common::read_csv_maps(&out.join("files.csv"));
    let healthy_ok = files
        .iter()
        .filter(|f| f["location"] != r"\\DEAD\CAP_DED" && f["status"] == "ok" && !f["sha256"].is_empty())
        .count();
    assert_eq!(healthy_ok, HEALTHY_SHARES * 6);
    // The dying share's minute-long reads are not waited for.
    assert!(started.elapsed() < Duration::from_secs(55), "{:?}", started.elapsed());
}

#[cfg(target_os = "linux")]
#[test]
fn a_slow_share_costs_only_its_own_time_in_worker_processes() {
    a_slow_share_costs_only_its_own_time("process");
}

#[cfg(target_os = "linux")]
#[test]
fn a_slow_share_costs_only_its_own_time_on_threads() {
    a_slow_share_costs_only_its_own_time("thread");
}

/// `-j` far above the cap is lowered, said so, and still audits right.
#[test]
fn a_huge_job_count_is_capped_with_a_note() {
    let out = tempfile::tempdir().unwrap();
    let assert = common::smsaudit()
        .arg("audit")
        .arg(common::sample_shares())
        .arg("--out")
        .arg(out.path())
        .args(["--csv", "machine", "-j", "5000", "--format", "json"])
        .timeout(Duration::from_secs(120))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("--jobs 5000 is more than 128; using 128"), "{stderr}");
    assert!(common::locations(out.path()).values().all(|(status, _)| status == "ok"));
}

/// FUSE is Linux's; the Windows build compiles these tests but does not run them.
#[cfg(target_os = "linux")]
mod fuse {
    use super::*;
    use std::process::{Child, Command, Stdio};

    /// A FUSE file system whose reads (or, in mode `listing`, listings) never
    /// answer, as a dead smbnetfs, sshfs or gvfs mount: a process blocked in
    /// such a call cannot be killed until the server goes away.
    const NEVER_ANSWERS: &str = include_str!("fixtures/never_answers.py");

    /// The FUSE server, its mount and the audit reading it. Killing the server
    /// ends every request stuck on the mount, so a process blocked in one can
    /// die: the audit is killed first, reaped last.
    struct FuseMount {
        server: Child,
        mountpoint: PathBuf,
        audit: Option<Child>,
    }

    impl Drop for FuseMount {
        fn drop(&mut self) {
            if let Some(audit) = &mut self.audit {
                let _ = audit.kill();
            }
            let _ = self.server.kill();
            let _ = self.server.wait();
            let _ = Command::new("fusermount3")
                .arg("-u")
                .arg("-z")
                .arg(&self.mountpoint)
                .stderr(Stdio::null())
                .status();
            let _ = Command::new("umount")
                .arg("-l")
                .arg(&self.mountpoint)
                .stderr(Stdio::null())
                .status();
            if let Some(audit) = &mut self.audit {
                let _ = audit.wait();
            }
        }
    }

    /// Whether FUSE can be used here (`common::require`'s rule).
    fn fuse_available() -> bool {
        let why = "for a file system that never answers";
        let python = Path::new("/usr/bin/python3");
        common::require_fuse(why)
            && common::require_that(
                python.exists()
                    && Command::new(python)
                        .args(["-c", "import fusepy"])
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success()),
                &format!("python3-fusepy (for /usr/bin/python3) not found (needed {why})"),
            )
            && common::require("fusermount3", why)
    }

    /// Whether a file system is mounted on `dir` (its device differs from
    /// its parent's).
    fn mounted(dir: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let device = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
        matches!((device(dir), device(dir.parent().unwrap())), (Some(a), Some(b)) if a != b)
    }

    /// Mounts the never-answering file system on `mountpoint`, where `mode`
    /// (`read` or `listing`) never answers; `None` (after saying why) if FUSE
    /// cannot mount here and that is allowed.
    fn mount_never_answering(dir: &Path, mountpoint: &Path, mode: &str) -> Option<FuseMount> {
        std::fs::create_dir_all(mountpoint).unwrap();
        let script = dir.join("never_answers.py");
        std::fs::write(&script, NEVER_ANSWERS).unwrap();
        let log = std::fs::File::create(dir.join("fuse.log")).unwrap();
        let server = Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(mountpoint)
            .arg(mode)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mount = FuseMount {
            server,
            mountpoint: mountpoint.to_path_buf(),
            audit: None,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if mounted(mountpoint) {
                return Some(mount);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let why = std::fs::read_to_string(dir.join("fuse.log")).unwrap_or_default();
        common::require_that(false, &format!("the FUSE file system did not mount: {why}"));
        None
    }

    /// Runs an audit of `roots` into `out` with a 2 s stall limit, held by
    /// `mount` so it is killed if the test fails; fails unless it exits
    /// within 60 s and its stderr, piped as a scheduler would, then reaches
    /// end of file. Returns its exit code and stderr.
    fn audit_until_it_exits(mount: &mut FuseMount, roots: &[&std::ffi::OsStr], out: &Path) -> (Option<i32>, String) {
        let audit = mount.audit.insert(
            Command::new(common::BIN)
                .arg("audit")
                .args(roots)
                .arg("--out")
                .arg(out)
                .args([
                    "--csv",
                    "machine",
                    "--quiet",
                    "--fail-on",
                    "never",
                    "--stall-timeout",
                    "2",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stderr = audit.stderr.take().unwrap();
        let (sender, stderr_closed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut text);
            let _ = sender.send(text);
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = audit.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the audit did not exit within 60 s beside a share that never answers"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let stderr = stderr_closed
            .recv_timeout(Duration::from_secs(10))
            .expect("the audit's stderr stayed open after it exited");
        (status.code(), stderr)
    }

    /// A share whose reads hang in the kernel beside a healthy one: the audit
    /// exits on its own, with exit 3 (a location could not be read), complete
    /// reports, the dead share unreadable with its reason and the healthy one
    /// read. Its stderr, piped as a scheduler would, reaches end of file.
    #[test]
    fn a_share_that_never_answers_does_not_keep_the_audit_from_exiting() {
        if !fuse_available() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let estate = dir.path().join("estate");
        let alive = estate.join("ALIVE").join("CAP_ALV");
        write(
            &alive,
            "clicomp.box/base/compver.ini",
            "[Version]\nVersion=2.00.1493.3004\n",
        );
        write(&alive, "clifiles.box/data.dat", "data");
        let Some(mut mount) = mount_never_answering(dir.path(), &estate.join("DEAD").join("CAP_DED"), "read") else {
            return;
        };
        let out = dir.path().join("out");
        let (status, stderr) = audit_until_it_exits(&mut mount, &[estate.as_os_str()], &out);
        assert_eq!(status, Some(3), "{stderr}");
        for report in common::REPORT_FILES {
            assert!(out.join(report).is_file(), "{report} missing");
        }
        let found = common::locations(&out);
        let (status, reason) = &found[r"\\DEAD\CAP_DED"];
        assert_eq!(status, "unreadable");
        assert!(reason.starts_with("no answer for 2 s"), "{reason}");
        assert_eq!(found[r"\\ALIVE\CAP_ALV"], ("ok".to_string(), String::new()));
        let files = common::read_csv_maps(&out.join("files.csv"));
        assert_eq!(
            files
                .iter()
                .filter(|f| f["location"] == r"\\ALIVE\CAP_ALV" && f["status"] == "ok")
                .count(),
            2
        );
        assert!(files.iter().all(|f| f["location"] != r"\\DEAD\CAP_DED"));
    }

    /// A root whose listing hangs in the kernel, beside a healthy share: the
    /// search for shares under it is abandoned, and the audit exits on its
    /// own with exit 3, complete reports, the root an unreadable location
    /// and the healthy share read.
    #[test]
    fn a_root_whose_listing_never_answers_does_not_keep_the_audit_from_exiting() {
        audit_beside_a_dead_root("listing");
    }

    /// A root whose server dies entirely: not even a stat of it answers.
    /// The output check must not ask it (it runs after discovery and leaves
    /// out roots that did not answer), so the audit still exits on its own.
    #[test]
    fn a_root_whose_every_lookup_never_answers_does_not_keep_the_audit_from_exiting() {
        audit_beside_a_dead_root("stat");
    }

    /// Audits a healthy CAP beside a FUSE root where `mode` never answers:
    /// exit 3 on its own, complete reports, the root a timed-out location.
    fn audit_beside_a_dead_root(mode: &str) {
        if !fuse_available() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let alive = dir.path().join("estate").join("ALIVE").join("CAP_ALV");
        write(
            &alive,
            "clicomp.box/base/compver.ini",
            "[Version]\nVersion=2.00.1493.3004\n",
        );
        // Not named like a share: it must be listed to find any.
        let dead_root = dir.path().join("dead-mount");
        let Some(mut mount) = mount_never_answering(dir.path(), &dead_root, mode) else {
            return;
        };
        if mode == "stat" {
            // The server dies after the mount was seen: from now on even a
            // stat of the root hangs (past the kernel's attribute cache).
            std::fs::write(dir.path().join("dead-mount.dead"), "").unwrap();
            std::thread::sleep(Duration::from_millis(1500));
        }
        let out = dir.path().join("out");
        let (status, stderr) = audit_until_it_exits(&mut mount, &[alive.as_os_str(), dead_root.as_os_str()], &out);
        assert_eq!(status, Some(3), "{stderr}");
        for report in common::REPORT_FILES {
            assert!(out.join(report).is_file(), "{report} missing");
        }
        let found = common::locations(&out);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[r"\\ALIVE\CAP_ALV"], ("ok".to_string(), String::new()));
        let dead: Vec<_> = found.iter().filter(|(name, _)| *name != r"\\ALIVE\CAP_ALV").collect();
        assert_eq!(
            dead[0].1,
            &(
                "unreadable".to_string(),
                "timed out: the root did not answer".to_string()
            ),
            "{found:?}"
        );
    }
}
