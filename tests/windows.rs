//! The real Windows build, run under Wine, must write the same reports as
//! the Linux build on the same mixed-case copy of the sample estate.
//!
//! Needs the `x86_64-pc-windows-gnu` Rust target, MinGW-w64 and Wine. Wine 8
//! lacks `ProcessPrng` (bcryptprimitives.dll), which current Rust std
//! imports, so a stub DLL built from tests/windows/ is put beside the .exe.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const TARGET: &str = "x86_64-pc-windows-gnu";
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";
/// The first start of Wine creates its prefix, which takes up to a minute.
const WINE_TIMEOUT: Duration = Duration::from_secs(300);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn windows_target_installed() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = std::process::Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
}

fn target_dir() -> PathBuf {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(manifest_dir())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    PathBuf::from(meta["target_directory"].as_str().expect("target_directory"))
}

/// Whether Wine, mingw and the Rust Windows target are here to build and run
/// the Windows build (`why` says for what); else skipped, or failed under
/// `SMSAUDIT_REQUIRE_EXTERNAL=1`.
fn windows_build_can_run(why: &str) -> bool {
    common::require("wine", why)
        && common::require(MINGW_GCC, why)
        && common::require_that(
            windows_target_installed(),
            &format!("Rust target {TARGET} not found (needed {why})"),
        )
}

/// `work/bin` holding the Windows build as smsaudit.exe and the stub DLL
/// it loads.
fn windows_exe_in(work: &Path) -> PathBuf {
    let exe = build_windows_exe();
    let bin = work.join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::copy(&exe, bin.join("smsaudit.exe")).unwrap();
    build_stub_dll(&bin);
    bin
}

/// Builds smsaudit.exe (debug) in the workspace's target dir.
fn build_windows_exe() -> PathBuf {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["build", "--target", TARGET, "--bin", "smsaudit"])
        .current_dir(manifest_dir())
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build --target {TARGET} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = target_dir().join(TARGET).join("debug").join("smsaudit.exe");
    assert!(exe.is_file(), "no {}", exe.display());
    exe
}

/// Builds the bcryptprimitives.dll stand-in into `dir`.
fn build_stub_dll(dir: &Path) {
    let src = manifest_dir().join("tests/windows");
    let out = std::process::Command::new(MINGW_GCC)
        .arg("-shared")
        .arg("-O2")
        .arg("-o")
        .arg(dir.join("bcryptprimitives.dll"))
        .arg(src.join("bcryptprimitives.c"))
        .arg(src.join("bcryptprimitives.def"))
        .arg("-ladvapi32")
        .output()
        .expect("run mingw gcc");
    assert!(
        out.status.success(),
        "stub DLL: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Folders renamed in the copy: SMS names must match whatever their case,
/// as they do on Windows.
const RENAMES: &[(&str, &str)] = &[
    ("SERVER1/CAP_MS1/clicomp.box", "SERVER1/CAP_MS1/CLICOMP.BOX"),
    ("DC1/SMSLOGON", "DC1/smslogon"),
    ("DC2/SMSLOGON/Sitescfg", "DC2/SMSLOGON/SITESCFG"),
    ("SERVER2/SMS_MS2/inboxes", "SERVER2/SMS_MS2/INBOXES"),
    ("SERVER3/CAP_LN1", "SERVER3/cap_ln1"),
];

fn mixed_case_copy(to: &Path) {
    common::sample_copy(to);
    for (from, into) in RENAMES {
        fs::rename(to.join(from), to.join(into)).unwrap_or_else(|e| panic!("rename {from}: {e}"));
    }
}

/// `/tmp/x` as Wine's drive Z: spells it.
fn wine_path(path: &Path) -> String {
    format!(r"Z:{}", path.display()).replace('/', "\\")
}

struct Wine {
    prefix: PathBuf,
}

impl Wine {
    fn command(&self, program: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            // No Mono or Gecko installer dialogs while the prefix is made.
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        cmd
    }

    /// Runs `exe args` under Wine; returns the exit code, stdout and stderr.
    fn run(&self, exe: &Path, args: &[String], logs: &Path) -> (Option<i32>, String, String) {
        let stdout_path = logs.join("wine.stdout");
        let stderr_path = logs.join("wine.stderr");
        let mut child = self
            .command("wine")
            .arg(exe)
            .args(args)
            .current_dir(exe.parent().unwrap())
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout_path).unwrap())
            .stderr(fs::File::create(&stderr_path).unwrap())
            .spawn()
            .expect("start wine");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > WINE_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
        let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
        let Some(status) = status else {
            self.stop();
            panic!("wine did not finish in {WINE_TIMEOUT:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        };
        (status.code(), stdout, stderr)
    }

    /// Stops this prefix's wineserver, so that nothing outlives the test.
    fn stop(&self) {
        // Debian puts wineserver on PATH only with the `wine` package.
        for server in ["wineserver", "/usr/lib/wine/wineserver"] {
            if self.command(server).arg("-k").status().is_ok() {
                break;
            }
        }
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        self.stop();
    }
}

fn linux_audit(root: &Path, out: &Path) -> Option<i32> {
    let output = common::smsaudit()
        .arg("audit")
        .arg(root)
        .arg("--out")
        .arg(out)
        .args(["--csv", "machine"])
        .output()
        .unwrap();
    assert!(
        out.join("files.csv").is_file(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.code()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reports that must be byte for byte the same from both builds. audit.json
/// is left out: it holds the roots as given (`Z:\...` against `/...`) and
/// timings.
const SAME_REPORTS: &[&str] = &["matrix.csv", "findings.csv", "files.csv"];

fn assert_same_reports(linux: &Path, windows: &Path, what: &str) {
    for name in SAME_REPORTS {
        let (l, w) = (read(&linux.join(name)), read(&windows.join(name)));
        assert!(l.lines().count() > 1, "{name} is empty");
        if l != w {
            let first = l.lines().zip(w.lines()).find(|(a, b)| a != b);
            panic!("{what}: {name} differs between Linux and Windows; first difference: {first:?}");
        }
    }
}

#[test]
fn windows_build_under_wine_writes_the_same_reports_as_linux() {
    let why = "to build and run the Windows build";
    if !windows_build_can_run(why) {
        return;
    }
    let work = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let bin = windows_exe_in(work.path());

    let shares = work.path().join("sample-shares");
    mixed_case_copy(&shares);
    let wine = Wine {
        prefix: work.path().join("wineprefix"),
    };

    // Plain drive path.
    let win_out = work.path().join("out-win");
    let args: Vec<String> = vec![
        "audit".into(),
        wine_path(&shares),
        "--out".into(),
        wine_path(&win_out),
        "--csv".into(),
        "machine".into(),
    ];
    let (win_code, stdout, stderr) = wine.run(&bin.join("smsaudit.exe"), &args, work.path());
    assert!(
        win_out.join("files.csv").is_file(),
        "the Windows build wrote no reports (exit {win_code:?})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let linux_out = work.path().join("out-linux");
    let linux_code = linux_audit(&shares, &linux_out);
    assert_eq!(win_code, linux_code, "exit codes differ\n{stdout}\n{stderr}");
    assert_same_reports(&linux_out, &win_out, "drive path");

    // Location names come from the folder names, whatever their case.
    let matrix = read(&win_out.join("matrix.csv"));
    for name in [r"\\DC1\smslogon", r"\\SERVER3\cap_ln1", r"\\SERVER1\CAP_MS1"] {
        assert!(matrix.contains(name), "no {name} in matrix.csv");
    }
    let files = read(&win_out.join("files.csv"));
    assert!(files.contains(r"\\SERVER1\CAP_MS1,CLICOMP.BOX\base\compver.ini,"));
    assert!(
        files.contains(r",compver,"),
        "compver.ini under CLICOMP.BOX was not recognised"
    );
    let findings = read(&win_out.join("findings.csv"));
    assert!(
        findings.contains(r"\\DC1\smslogon"),
        "no finding on the lower-case logon point"
    );

    // The same tree through a `\\?\` root deeper than MAX_PATH: names and
    // relative paths must not change, and no report shows the prefix.
    let deep = work.path().join("d".repeat(100)).join("e".repeat(100));
    fs::create_dir_all(&deep).unwrap();
    let deep_shares = deep.join("sample-shares");
    fs::rename(&shares, &deep_shares).unwrap();
    let deepest = deep_shares.join(r"SERVER1/SMS_MS1/inboxes/clicomp.src/smsapm32/compver.ini");
    assert!(wine_path(&deepest).len() > 260, "the tree is not deep enough");
    let long_out = work.path().join("out-long");
    let args: Vec<String> = vec![
        "audit".into(),
        format!(r"\\?\{}", wine_path(&deep_shares)),
        "--out".into(),
        wine_path(&long_out),
        "--csv".into(),
        "machine".into(),
    ];
    let (long_code, stdout, stderr) = wine.run(&bin.join("smsaudit.exe"), &args, work.path());
    assert!(
        long_out.join("files.csv").is_file(),
        "no reports from the \\\\?\\ root (exit {long_code:?})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(long_code, linux_code);
    assert_same_reports(&linux_out, &long_out, r"\\?\ root");
    let json = read(&long_out.join("audit.json"));
    assert!(!json.contains(r"\\\\?\\"), "audit.json shows a \\\\?\\ prefix");
    assert!(
        json.contains(&wine_path(&deep_shares).replace('\\', r"\\")),
        "roots not shown plainly"
    );
}

/// The Windows build's spinner in an 80-column pty under Wine: ASCII frames
/// (the console has no Braille glyphs), redrawn in place on one line
/// rather than one line per tick, never wider than the console.
#[cfg(unix)]
#[test]
fn the_spinner_of_the_windows_build_redraws_one_line_under_wine() {
    let why = "to run the Windows build's spinner under Wine in a pty";
    if !(common::require("python3", why) && windows_build_can_run(why)) {
        return;
    }
    let work = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let bin = windows_exe_in(work.path());
    let shares = work.path().join("sample-shares");
    common::sample_copy(&shares);
    let wine = Wine {
        prefix: work.path().join("wineprefix"),
    };
    let prefix = wine.prefix.to_str().unwrap().to_string();
    let args = [
        bin.join("smsaudit.exe").to_str().unwrap().to_string(),
        "audit".to_string(),
        wine_path(&shares),
        "--out".to_string(),
        wine_path(&work.path().join("out")),
        "--format".to_string(),
        "json".to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [
        ("WINEPREFIX", prefix.as_str()),
        ("WINEDEBUG", "-all"),
        ("WINEDLLOVERRIDES", "mscoree,mshtml="),
        ("DISPLAY", ""),
    ];
    let (code, shown) = crate::terminal::in_pty(80, Path::new("wine"), &args, &env);
    wine.stop();
    assert_eq!(code, Some(1), "{shown}");
    let ticks = shown.matches(" locations, ").count();
    assert!(ticks >= 2, "the spinner ticked {ticks} times: {shown}");
    let spinner_lines = shown.split('\n').filter(|l| l.contains(" locations, ")).count();
    assert_eq!(spinner_lines, 1, "each tick on a line of its own: {shown}");
    let frames = crate::terminal::drawn_lines(&shown);
    let ticks: Vec<&String> = frames.iter().filter(|l| l.contains(" locations, ")).collect();
    assert!(
        ticks.iter().all(|l| l.starts_with(['|', '/', '-', '\\'])),
        "ASCII frames: {ticks:?}"
    );
    assert!(frames.iter().all(|l| l.chars().count() <= 80), "{frames:?}");
    assert!(shown.contains("smsaudit: 9 locations"), "{shown}");
}
