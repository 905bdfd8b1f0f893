//! Hostile and dying shares, round two: a share writer racing the walk,
//! mounts inside a share, files that change while they are read, names
//! that would collide, and roots that vanish or are links. Nothing outside
//! a share is ever read, and nothing is reported as checked that was not.
#![cfg(target_os = "linux")]

use crate::common;

use common::*;
use sha2::{Digest, Sha256};
use smsaudit::model::{FileRecord, Status};
use smsaudit::{Audit, Config};
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn audit(root: &Path) -> Audit {
    let mut config = Config::new(vec![root.to_path_buf()]);
    config.jobs = 4;
    smsaudit::run_audit(&config)
}

fn cap(root: &Path, name: &str) -> PathBuf {
    write(
        root,
        &format!("SRV/{name}/clicomp.box/base/compver.ini"),
        "[Version]\nVersion=2.00.1380.1000\n",
    );
    root.join("SRV").join(name)
}

fn row(audit: &Audit, path: &str) -> FileRecord {
    let files = audit.files.to_vec().unwrap();
    files
        .iter()
        .find(|f| f.path == path)
        .cloned()
        .unwrap_or_else(|| panic!("no row for {path}: {files:#?}"))
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Sets `stop` and joins the thread when dropped, so a failing test does
/// not leave its helper thread running.
struct StopOnDrop(Arc<AtomicBool>, Option<std::thread::JoinHandle<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        if let Some(thread) = self.1.take() {
            let _ = thread.join();
        }
    }
}

fn spawn_until_stopped(mut step: impl FnMut() + Send + 'static) -> StopOnDrop {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            step();
        }
    });
    StopOnDrop(stop, Some(thread))
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

#[test]
fn a_folder_swapped_for_a_link_outside_is_never_read() {
    let root = tempfile::tempdir().unwrap();
    let share = cap(root.path(), "CAP_RC1");
    write(&share, "swap/inside.txt", "inside");
    let outside = tempfile::tempdir().unwrap();
    let secret = b"root:$6$not-a-real-hash:19000:0:99999:7:::\n";
    std::fs::write(outside.path().join("shadow-secret"), secret).unwrap();
    std::os::unix::fs::symlink(outside.path(), share.join("link")).unwrap();
    let (a, b) = (c_path(&share.join("swap")), c_path(&share.join("link")));
    let _swapper = spawn_until_stopped(move || {
        // SAFETY: both paths are valid NUL-terminated strings.
        let done = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        assert_eq!(done, 0, "renameat2: {}", std::io::Error::last_os_error());
    });
    let secret_hash = sha(secret);
    let started = Instant::now();
    let mut runs = 0;
    while runs < 30 || started.elapsed() < Duration::from_secs(3) {
        let report = serde_json::to_string(&audit(root.path())).unwrap();
        assert!(!report.contains(&secret_hash), "run {runs}: the secret was hashed");
        assert!(!report.contains("shadow-secret"), "run {runs}: outside listed");
        runs += 1;
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
}

/// `umount`s its path when dropped, even when the test fails.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let unmounted = std::process::Command::new("umount").arg(&self.0).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// `mount --bind source target` (a folder or a file), undone when the
/// guard drops; `None`, with a line, when mounting is not permitted here
/// (a failure under `SMSAUDIT_REQUIRE_EXTERNAL=1`).
fn bind_mount(source: &Path, target: &Path) -> Option<Unmount> {
    let status = std::process::Command::new("mount")
        .arg("--bind")
        .arg(source)
        .arg(target)
        .status()
        .unwrap();
    if !require_that(status.success(), "mount --bind failed (needs root)") {
        return None;
    }
    Some(Unmount(target.to_path_buf()))
}

#[test]
fn a_bind_mount_inside_a_share_is_a_row_and_is_not_walked() {
    if !require("mount", "for a bind mount inside a share") {
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("passwd-like"), "not the share's").unwrap();
    let root = tempfile::tempdir().unwrap();
    let share = cap(root.path(), "CAP_MT1");
    let target = share.join("mounted");
    std::fs::create_dir(&target).unwrap();
    let Some(_unmount) = bind_mount(outside.path(), &target) else {
        return;
    };
    let audit = audit(root.path());
    let mounted = row(&audit, "mounted");
    assert_eq!(mounted.status, Status::Unreadable, "{mounted:?}");
    assert!(mounted.reason.contains("mount point"), "{mounted:?}");
    assert!(
        !audit
            .files
            .to_vec()
            .unwrap()
            .iter()
            .any(|f| f.path.starts_with("mounted\\")),
        "walked into the mount: {:#?}",
        audit.files.to_vec().unwrap()
    );
}

/// A file mounted over one of the share's is listed as a regular file (the
/// listing's type is the covered file's), so the walk opens it without a
/// stat of its own: the opened handle's mount tells it apart, and what it
/// holds is never hashed.
#[test]
fn a_file_bind_mounted_inside_a_share_is_a_row_and_is_not_read() {
    if !require("mount", "for a bind mount inside a share") {
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("passwd-like");
    std::fs::write(&secret, "not the share's").unwrap();
    let secret_hash = sha(b"not the share's");
    let root = tempfile::tempdir().unwrap();
    let share = cap(root.path(), "CAP_MT2");
    let target = share.join("clicomp.box").join("base").join("cover.ini");
    std::fs::write(&target, "the share's own").unwrap();
    let Some(_unmount) = bind_mount(&secret, &target) else {
        return;
    };
    let audit = audit(root.path());
    let mounted = row(&audit, r"clicomp.box\base\cover.ini");
    assert_eq!(mounted.status, Status::Unreadable, "{mounted:?}");
    assert_eq!(
        mounted.reason, "mount point (a file mounted from another file system), not read",
        "{mounted:?}"
    );
    assert_eq!(
        (mounted.sha256, mounted.size),
        (None, None),
        "the mounted file was read"
    );
    let files = audit.files.to_vec().unwrap();
    assert!(
        !files
            .iter()
            .any(|f| f.sha256.map(|d| d.to_string()).as_deref() == Some(secret_hash.as_str())),
        "hashed the mounted file: {files:#?}"
    );
    let version = row(&audit, r"clicomp.box\base\compver.ini");
    assert_eq!(version.status, Status::Ok, "{version:?}");
}

#[test]
fn a_file_rewritten_while_it_is_read_gets_no_unmarked_hash() {
    use std::os::unix::fs::FileExt;
    const SIZE: usize = 24 * 1024 * 1024;
    let root = tempfile::tempdir().unwrap();
    let share = cap(root.path(), "CAP_CH1");
    let path = share.join("busy.bin");
    std::fs::write(&path, vec![b'a'; SIZE]).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mut generation = 0usize;
    // Rewrites the whole file, chunk by chunk, alternating 'a' and 'b'.
    let _writer = spawn_until_stopped(move || {
        generation += 1;
        let chunk = vec![if generation.is_multiple_of(2) { b'a' } else { b'b' }; 1024 * 1024];
        for at in (0..SIZE).step_by(chunk.len()) {
            file.write_all_at(&chunk, at as u64).unwrap();
        }
    });
    // A hash may still be of a half-rewritten file when the writer paused
    // for the whole read: that content existed, and no clock could tell.
    // What must hold: a read the writer changed is said to be changed.
    // (`crawl::read`'s unit tests change a file during a read in lockstep.)
    let mut changed = 0;
    for _ in 0..8 {
        let audit = audit(root.path());
        let busy = row(&audit, "busy.bin");
        match &busy.sha256 {
            Some(_) => assert_eq!(busy.status, Status::Ok, "{busy:?}"),
            None => {
                assert_eq!(busy.status, Status::Unreadable, "{busy:?}");
                assert!(busy.reason.contains("changed while read"), "{busy:?}");
                changed += 1;
            }
        }
    }
    assert!(
        changed > 0,
        "a file rewritten throughout every read was never said to change"
    );
}

/// An inotify watch on one path.
struct Watch(i32);

impl Watch {
    fn new(path: &Path, mask: u32) -> Watch {
        // SAFETY: plain system calls; the path is a valid C string.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_CLOEXEC);
            assert!(fd >= 0);
            let watch = libc::inotify_add_watch(fd, c_path(path).as_ptr(), mask);
            assert!(watch >= 0, "inotify_add_watch: {}", std::io::Error::last_os_error());
            Watch(fd)
        }
    }

    /// Whether an event came within `limit`.
    fn wait(&self, limit: Duration) -> bool {
        let mut poll = libc::pollfd {
            fd: self.0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the call.
        unsafe { libc::poll(&mut poll, 1, limit.as_millis() as i32) > 0 }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: the descriptor is owned by this watch.
        unsafe { libc::close(self.0) };
    }
}

#[test]
fn a_sparse_file_growing_faster_than_it_is_read_ends_changed_while_read() {
    let root = tempfile::tempdir().unwrap();
    let share = cap(root.path(), "CAP_GR1");
    let path = share.join("growing.img");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(256 * 1024 * 1024).unwrap();
    let read = Watch::new(&path, libc::IN_ACCESS);
    let mut growing = false;
    // Grows by 32 MiB a millisecond once the audit starts reading it: far
    // faster than a file can be hashed.
    let _grower = spawn_until_stopped(move || {
        if !growing {
            growing = read.wait(Duration::from_millis(100));
            return;
        }
        let len = file.metadata().unwrap().len();
        file.set_len(len + 32 * 1024 * 1024).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    });
    let folder = root.path().to_path_buf();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(audit(&folder));
    });
    let audit = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the audit of a growing file did not end");
    let growing = row(&audit, "growing.img");
    assert_eq!(growing.status, Status::Unreadable, "{growing:?}");
    assert!(growing.reason.contains("changed while read"), "{growing:?}");
    assert_eq!(growing.sha256, None);
}

#[test]
fn names_that_differ_in_bad_bytes_or_hold_backslashes_keep_distinct_rows() {
    let root = tempfile::tempdir().unwrap();
    let share = cap(root.path(), "CAP_NM1");
    std::fs::write(share.join(OsStr::from_bytes(b"bad\xFF.txt")), "ff").unwrap();
    std::fs::write(share.join(OsStr::from_bytes(b"bad\xFE.txt")), "fe").unwrap();
    std::fs::write(
        share.join(r"clicomp.box\base\compver.ini"),
        "[Version]\r\nVersion=9.9.9.9\r\n",
    )
    .unwrap();
    let audit = audit(root.path());
    let (ff, fe) = (row(&audit, "bad%FF.txt"), row(&audit, "bad%FE.txt"));
    assert_eq!(ff.sha256.map(|d| d.to_string()).as_deref(), Some(sha(b"ff").as_str()));
    assert_eq!(fe.sha256.map(|d| d.to_string()).as_deref(), Some(sha(b"fe").as_str()));
    assert!(ff.reason.contains("not valid UTF-8"), "{ff:?}");
    let real = row(&audit, r"clicomp.box\base\compver.ini");
    assert_eq!(real.version.as_deref(), Some("2.00.1380.1000"));
    assert_eq!(
        audit
            .files
            .to_vec()
            .unwrap()
            .iter()
            .filter(|f| f.path == real.path)
            .count(),
        1
    );
    let impostor = row(&audit, "clicomp.box%5Cbase%5Ccompver.ini");
    assert_ne!(impostor.kind, real.kind, "{impostor:?}");
    assert!(impostor.reason.contains("%5C"), "{impostor:?}");
    assert!(
        !audit.stamps.iter().any(|s| s.value.contains("9.9.9.9")),
        "the impostor's version was taken: {:#?}",
        audit.stamps
    );
}

fn run_binary(root: &Path, out: &Path) -> std::process::Child {
    std::process::Command::new(common::BIN)
        .arg("audit")
        .arg(root)
        .arg("--out")
        .arg(out)
        .args(["--csv", "machine", "--quiet", "--fail-on", "never"])
        .spawn()
        .unwrap()
}

fn locations(out: &Path) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap();
    json["locations"].as_array().unwrap().clone()
}

#[test]
fn a_share_root_that_vanishes_after_discovery_is_unreadable() {
    let root = tempfile::tempdir().unwrap();
    let share = cap(root.path(), "CAP_VN1");
    let out = tempfile::tempdir().unwrap();
    // Through slowfs, every open of the share's folder takes 1.5 s and then
    // fails if the folder is gone. Discovery lists the share once (and
    // closes it); the crawl's open of it is still waiting when the share
    // goes.
    let Some(mount) = slowfs::SlowFs::mount(
        root.path(),
        &out.path().join("mnt"),
        &["--slow", "opendir:/SRV/CAP_VN1:1500"],
    ) else {
        return;
    };
    let listed = Watch::new(&mount.path().join("SRV/CAP_VN1"), libc::IN_CLOSE_NOWRITE);
    let audited = tempfile::tempdir().unwrap();
    let mut child = run_binary(mount.path(), audited.path());
    assert!(listed.wait(Duration::from_secs(60)), "discovery never listed the share");
    std::fs::rename(&share, root.path().join("gone")).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "an unread share is not clean");
    let location = &locations(audited.path())[0];
    assert_eq!(location["status"], "unreadable", "{location}");
    assert!(
        location["reason"].as_str().unwrap().contains("cannot open the share"),
        "{location}"
    );
}

#[test]
fn a_share_that_is_a_link_under_a_root_is_a_row() {
    let root = tempfile::tempdir().unwrap();
    cap(root.path(), "CAP_OK1");
    let elsewhere = tempfile::tempdir().unwrap();
    let linked = cap(elsewhere.path(), "CAP_LK1");
    std::os::unix::fs::symlink(&linked, root.path().join("SRV/CAP_LK1")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let status = run_binary(root.path(), out.path()).wait().unwrap();
    assert_eq!(status.code(), Some(3), "a share not read is not clean");
    let locations = locations(out.path());
    let link = locations
        .iter()
        .find(|l| l["name"] == r"\\SRV\CAP_LK1")
        .unwrap_or_else(|| panic!("the linked share was dropped: {locations:#?}"));
    assert_eq!(link["status"], "unreadable", "{link}");
    assert_eq!(link["reason"], "symbolic link, not followed");
    assert_eq!(link["files"], 0);
}
