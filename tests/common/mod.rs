//! The test environment: how to run smsaudit, how to build an estate to
//! audit, and when a test may skip for want of an outside program.
#![allow(dead_code)]

pub mod alloc;
pub mod estate;
pub mod external;
pub mod pe;
pub mod slowfs;

pub use estate::{generated, lone_cap, sample_copy, sample_shares};
#[cfg_attr(not(unix), allow(unused_imports))] // root and FUSE: Unix-only tests
pub use external::{require, require_fuse, require_root, require_that, require_unprivileged, smsaudit_as_nobody};

use std::path::Path;
use std::time::Duration;

/// The smsaudit binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_smsaudit");

/// Long enough for a debug build on a loaded machine; a hang never ends.
pub const WALL_CLOCK: Duration = Duration::from_secs(120);

/// `smsaudit` with no arguments yet, killed if it runs past `WALL_CLOCK`.
/// Tests that need a plain `std::process::Command` (to wrap the binary in
/// another program, or to signal it) start `BIN`.
///
/// The `smsaudit-smb` helper, which a `cargo test --features smb` leaves
/// beside `BIN`, is hidden from it: a `\\SERVER\SHARE` root stays a path,
/// as on a machine without the helper (`tests/smb_native.rs` names it).
pub fn smsaudit() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(BIN);
    command.timeout(WALL_CLOCK).env("SMSAUDIT_SMB_HELPER", "");
    command
}

/// Runs the calling test again, alone, in a process of its own, for a test
/// that measures the whole process (its peak memory, its allocations), which
/// other tests running beside it in this binary would disturb. Returns true
/// in that process, where the test goes on; false in the calling one, where
/// the test returns after asserting the run in the other passed.
/// `module` is the caller's `module_path!()`, `test` its function's name.
pub fn in_own_process(module: &str, test: &str) -> bool {
    const ALONE: &str = "SMSAUDIT_TEST_ALONE";
    // Test names leave out the crate: `integration::drift_memory` -> `drift_memory::TEST`.
    let name = match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{test}"),
        None => test.to_string(),
    };
    if std::env::var(ALONE).as_deref() == Ok(name.as_str()) {
        return true;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &name, "--test-threads", "1", "--nocapture"])
        .env(ALONE, &name)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("1 passed"), "the process of its own ran {name}: {said}");
    false
}

/// The report files an audit writes by default, in the manifest's order.
pub const REPORT_FILES: [&str; 8] = [
    "matrix.csv",
    "files.csv",
    "findings.csv",
    "causes.csv",
    "audit.json",
    "audit.xlsx",
    "report.html",
    "status.json",
];

/// Makes a FIFO (opening one blocks until the other end opens).
#[cfg(unix)]
pub fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Writes a file, creating its folders, with CRLF line ends like Windows.
pub fn write(root: &Path, relative: &str, text: &str) {
    write_bytes(root, relative, text.replace('\n', "\r\n").as_bytes());
}

pub fn write_bytes(root: &Path, relative: &str, bytes: &[u8]) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Copies a tree (regular files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Parses a machine-flavour CSV into rows of cells (header included).
pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Rows of a CSV as maps from header to value.
pub fn read_csv_maps(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let rows = read_csv(path);
    let header = rows[0].clone();
    rows[1..]
        .iter()
        .map(|r| header.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

/// Asserts that two report folders hold the same CSVs byte for byte, and
/// the same audit.json but for when the run started and how long it took.
#[allow(dead_code)]
pub fn assert_same_reports(a: &Path, b: &Path, why: &str) {
    for name in ["matrix.csv", "files.csv", "findings.csv", "causes.csv"] {
        let (left, right) = (
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
        );
        assert!(left == right, "{name} differs {why}");
    }
    let without_time = |dir: &Path| {
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("audit.json")).unwrap()).unwrap();
        let object = json.as_object_mut().unwrap();
        assert!(object.remove("started").unwrap().is_string());
        assert!(object.remove("duration_seconds").unwrap().is_number());
        serde_json::to_string_pretty(&json).unwrap()
    };
    assert!(
        without_time(a) == without_time(b),
        "audit.json differs {why} beyond its run time"
    );
}

/// A mount made for a test (`mount ARGS... AT`), unmounted when dropped.
/// `None`, with a line saying why, when mounting is not permitted here;
/// a panic instead under `SMSAUDIT_REQUIRE_EXTERNAL=1`.
#[cfg(target_os = "linux")]
pub struct Mount(pub std::path::PathBuf);

#[cfg(target_os = "linux")]
impl Mount {
    pub fn new(args: &[&std::ffi::OsStr], at: &Path) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(args)
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let what = format!("mount {}", args.join(std::ffi::OsStr::new(" ")).to_string_lossy());
        if !require_that(mounted, &format!("{what} is not permitted here (not root?)")) {
            return None;
        }
        Some(Mount(at.to_path_buf()))
    }
}

#[cfg(target_os = "linux")]
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// `name -> (status, reason)` of every location in an audit.json.
pub fn locations(out: &Path) -> std::collections::BTreeMap<String, (String, String)> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap();
    json["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let text = |key: &str| l[key].as_str().unwrap().to_string();
            (text("name"), (text("status"), text("reason")))
        })
        .collect()
}

/// An audit held before its crawl by the fault seam
/// (`SMSAUDIT_FAULT_PAUSE=crawl:1`), once its outputs and history are
/// ready: started from `command` and returned when it says it is paused,
/// with its stderr still to read. It goes on when `resume` exists.
pub struct PausedRun {
    pub child: std::process::Child,
    pub stderr: std::io::BufReader<std::process::ChildStderr>,
    resume: std::path::PathBuf,
}

impl PausedRun {
    pub fn start(mut command: std::process::Command, resume: &Path) -> PausedRun {
        use std::io::BufRead;
        let mut child = command
            .env("SMSAUDIT_FAULT_PAUSE", "crawl:1")
            .env("SMSAUDIT_FAULT_RESUME", resume)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("paused at Crawl 1") {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "the run ended before its crawl"
            );
        }
        PausedRun {
            child,
            stderr,
            resume: resume.to_path_buf(),
        }
    }

    /// Lets the run go on and waits for it: its exit code and the rest of
    /// its stderr.
    pub fn finish(mut self) -> (Option<i32>, String) {
        std::fs::write(&self.resume, "").unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stderr, &mut rest).unwrap();
        (self.child.wait().unwrap().code(), rest)
    }
}
