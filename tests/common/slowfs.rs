//! `benches/slowfs.py` mounted for a test: a folder passed through FUSE with
//! a delay per operation, and operations held, failed or slowed on request
//! (see the script's help). Unmounted, and its server killed, when dropped.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The script, and the Python that has Debian's python3-pyfuse3.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/slowfs.py");
const PYTHON: &str = "/usr/bin/python3";

/// Long enough for a loaded machine; a mount that takes longer is broken.
const MOUNT_WAIT: Duration = Duration::from_secs(30);

pub struct SlowFs {
    server: Child,
    mountpoint: PathBuf,
    /// The server's ready, held, release and stats files, and its log.
    control: tempfile::TempDir,
}

impl SlowFs {
    /// Mounts `source` on `mountpoint` (created if missing) with slowfs
    /// `options` (`--delay-ms 2`, `--stall open:/SRV/*`...), and waits until
    /// it answers. `None`, after saying why, when FUSE or python3-pyfuse3 is
    /// missing; a failure instead under SMSAUDIT_REQUIRE_EXTERNAL=1.
    pub fn mount(source: &Path, mountpoint: &Path, options: &[&str]) -> Option<SlowFs> {
        if !available() {
            return None;
        }
        std::fs::create_dir_all(mountpoint).unwrap();
        let control = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(control.path().join("slowfs.log")).unwrap();
        let dir = control.path().to_path_buf();
        let file = |name: &str| dir.join(name);
        let server = Command::new(PYTHON)
            .arg(SCRIPT)
            .arg(source)
            .arg(mountpoint)
            .args(options)
            .arg("--ready")
            .arg(file("ready"))
            .arg("--held")
            .arg(file("held"))
            .arg("--release")
            .arg(file("release"))
            .arg("--stats")
            .arg(file("stats.json"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut mount = SlowFs {
            server,
            mountpoint: mountpoint.to_path_buf(),
            control,
        };
        let deadline = Instant::now() + MOUNT_WAIT;
        while !file("ready").exists() {
            let exited = mount.server.try_wait().unwrap().is_some();
            if exited || Instant::now() > deadline {
                let log = std::fs::read_to_string(file("slowfs.log")).unwrap_or_default();
                super::require_that(false, &format!("slowfs did not mount {}: {log}", mountpoint.display()));
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(mount)
    }

    /// Where the file system is mounted.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// Waits until an operation is held (`--stall`); returns its name and
    /// path(s), as the server wrote them.
    pub fn wait_until_held(&self, within: Duration) -> String {
        let held = self.control.path().join("held");
        let deadline = Instant::now() + within;
        while !held.exists() {
            assert!(Instant::now() < deadline, "slowfs held nothing within {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::read_to_string(held).unwrap()
    }

    /// Lets the held operations, and any later ones, go on.
    pub fn release(&self) {
        std::fs::write(self.control.path().join("release"), "").unwrap();
    }

    /// The operations counted so far (the `--stats` JSON), asked for with
    /// SIGUSR1.
    pub fn stats(&self) -> serde_json::Value {
        let path = self.control.path().join("stats.json");
        let _ = std::fs::remove_file(&path);
        let pid = rustix::process::Pid::from_raw(self.server.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::USR1).unwrap();
        let deadline = Instant::now() + MOUNT_WAIT;
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return serde_json::from_str(&text).unwrap();
            }
            assert!(Instant::now() < deadline, "slowfs wrote no stats");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SlowFs {
    /// Kills the server first: that ends every request still waiting on the
    /// mount (a held one included), so no process stays blocked in it; then
    /// the dead mount is detached.
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let unmounted = Command::new("fusermount3")
            .arg("-u")
            .arg("-z")
            .arg(&self.mountpoint)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(&self.mountpoint)
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Whether slowfs can mount here: /dev/fuse, fusermount3 and python3-pyfuse3.
fn available() -> bool {
    let why = "for slowfs";
    if !super::require_fuse(why) || !super::require("fusermount3", why) {
        return false;
    }
    let pyfuse3 = Command::new(PYTHON)
        .args(["-c", "import pyfuse3, trio"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    super::require_that(
        pyfuse3,
        &format!("python3-pyfuse3 not found for {PYTHON} (needed {why})"),
    )
}
