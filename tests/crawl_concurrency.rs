//! The crawl inside one share is concurrent and streamed, and its output
//! does not depend on it: the same reports whatever the job count and the
//! isolation, case twins found per listing, and crawl worker processes
//! reused from one location to the next (a killed one replaced).

use crate::common;

use common::{assert_same_reports, copy_tree, read_csv_maps, sample_shares, write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs an audit of `roots` into `out` with `args`; returns the exit code.
fn audit(roots: &[PathBuf], out: &Path, args: &[&str]) -> Option<i32> {
    let status = common::smsaudit()
        .arg("audit")
        .args(roots)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--fail-on", "never", "--format", "csv,json"])
        .args(args)
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    assert!(
        status.status.code().is_some_and(|c| c == 0 || c == 3),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    status.status.code()
}

/// A share that is a copy of the sample CAP, with a folder and a file
/// whose names differ only in case from their siblings.
fn cap_with_twins(share: &Path) {
    copy_tree(&sample_shares().join("SERVER2").join("CAP_MS2"), share);
    let base = share.join("clicomp.box").join("base");
    copy_tree(&base, &share.join("clicomp.box").join("BASE"));
    write(share, "clicomp.box/Hinv.cfg", "[Hardware Inventory Agent]\n");
}

/// Audits `roots` at 1 job on threads, then at more jobs on threads and
/// in worker processes: the reports must be the same, byte for byte.
fn assert_same_whatever_the_jobs(roots: &[PathBuf], dir: &Path) -> PathBuf {
    let first = dir.join("out-1-thread");
    audit(roots, &first, &["-j", "1", "--isolation", "thread"]);
    for (jobs, isolation) in [("4", "process"), ("16", "process"), ("16", "thread"), ("64", "thread")] {
        let out = dir.join(format!("out-{jobs}-{isolation}"));
        audit(roots, &out, &["-j", jobs, "--isolation", isolation]);
        assert_same_reports(
            &first,
            &out,
            &format!("between -j 1 on threads and -j {jobs} in {isolation}"),
        );
    }
    first
}

/// A generated site with a large CAP, a CAP with case twins, and the
/// sample shares: the same reports, byte for byte, at 1 to 64 jobs (up to
/// 21 threads in one share), on threads and in worker processes, though
/// entries are found in a different order each time.
#[test]
fn reports_are_the_same_whatever_the_jobs_and_the_isolation() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    common::generated(
        &estate,
        &[
            "--sites",
            "1",
            "--caps-per-site",
            "0",
            "--logon-points",
            "0",
            "--small-files",
            "1500",
            "--seed",
            "7",
        ],
    );
    cap_with_twins(&dir.path().join("twins").join("SRVT").join("CAP_TWN"));
    // Three locations: at 16 jobs and more, several threads each.
    let generated = dir.path().join("generated");
    std::fs::create_dir(&generated).unwrap();
    let first = assert_same_whatever_the_jobs(&[estate, dir.path().join("twins")], &generated);
    let files = read_csv_maps(&first.join("files.csv"));
    assert!(files.len() > 1500, "{} files", files.len());
    let findings = read_csv_maps(&first.join("findings.csv"));
    assert!(
        findings.iter().any(|f| f["code"] == "A07"),
        "the twins are in the estate"
    );
    let sample = dir.path().join("sample");
    std::fs::create_dir(&sample).unwrap();
    assert_same_whatever_the_jobs(&[sample_shares()], &sample);
}

/// Twin folders are one A07 finding: what lies below them is covered by
/// it ("what lies at or below a twinned path is not known"), not found
/// again file by file. Twin files are found beside them.
#[cfg(unix)]
#[test]
fn twins_are_found_per_listing_not_once_more_below() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    cap_with_twins(&estate.join("SRVT").join("CAP_TWN"));
    let out = dir.path().join("out");
    for isolation in ["thread", "process"] {
        audit(std::slice::from_ref(&estate), &out, &["--isolation", isolation]);
        let findings = read_csv_maps(&out.join("findings.csv"));
        let mut twins: Vec<&str> = findings
            .iter()
            .filter(|f| f["code"] == "A07")
            .map(|f| f["observed"].as_str())
            .collect();
        twins.sort();
        assert_eq!(
            twins,
            [
                r"clicomp.box\BASE | clicomp.box\base",
                r"clicomp.box\Hinv.cfg | clicomp.box\hinv.CFG"
            ],
            "{isolation}"
        );
        // The files below the twin folders are still read and listed.
        let files = read_csv_maps(&out.join("files.csv"));
        for below in [r"clicomp.box\BASE\compver.ini", r"clicomp.box\base\compver.ini"] {
            assert!(
                files.iter().any(|f| f["path"] == below && f["status"] == "ok"),
                "{below}"
            );
        }
    }
}

/// With process isolation a run starts about as many crawl workers as
/// locations run at once, each taking one location after another; one
/// killed for its stalled share is replaced, and the locations after it
/// are still crawled. Worker starts are counted with strace.
#[cfg(target_os = "linux")]
#[test]
fn crawl_workers_are_reused_and_a_killed_one_replaced() {
    if !common::require("strace", "to see which processes the audit starts") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    const SERVERS: usize = 6;
    for i in 0..SERVERS {
        copy_tree(&sample_shares().join("SERVER2"), &estate.join(format!("SRV{i}")));
    }
    // Opening or reading any file of \\SRV2\CAP_MS2 never answers.
    let Some(mount) = common::slowfs::SlowFs::mount(
        &estate,
        &dir.path().join("mnt"),
        &["--stall", "open,read:/SRV2/CAP_MS2/*"],
    ) else {
        return;
    };
    let out = dir.path().join("out");
    let trace = dir.path().join("trace");
    let mut strace = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o"])
        .arg(&trace)
        .arg(common::BIN)
        .arg("audit")
        .arg(mount.path())
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--fail-on", "never", "--format", "csv,json"])
        .args(["-j", "2", "--isolation", "process", "--stall-timeout", "2"])
        .spawn()
        .unwrap();
    // strace waits for every traced process, the killed worker too, whose
    // read never returns: once the audit has written its set, the stall is
    // let go so that worker can end.
    let manifest = out.join("manifest.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !manifest.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    mount.release();
    let ran = strace.wait().unwrap();
    assert_eq!(ran.code(), Some(3), "the stalled share is not audited");
    let found = common::locations(&out);
    assert_eq!(found.len(), 2 * SERVERS, "{found:?}");
    for (name, (status, reason)) in &found {
        if name == r"\\SRV2\CAP_MS2" {
            assert_eq!(status, "unreadable", "{name}");
            assert!(reason.starts_with("no answer for 2 s"), "{name}: {reason}");
        } else {
            assert_eq!((status.as_str(), reason.as_str()), ("ok", ""), "{name}");
        }
    }
    let trace = std::fs::read_to_string(&trace).unwrap();
    let started = trace
        .lines()
        .filter(|l| l.contains("execve(") && l.contains("\"__crawl-worker\""))
        .count();
    // Two at a time, plus the one that replaces the killed worker.
    assert!(
        (1..=3).contains(&started),
        "{started} crawl workers started for {} locations",
        found.len()
    );
}

/// A file the listing says is regular costs the round trips of its open,
/// read and handle checks, and no stat by name on top (on a share each
/// stat is a lookup and a getattr): counted by slowfs, per file.
#[cfg(target_os = "linux")]
#[test]
fn a_listed_file_is_opened_without_a_stat_by_name() {
    const FILES: u64 = 200;
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    let share = estate.join("SRV").join("CAP_AB1");
    for i in 0..FILES {
        write(&share, &format!("statmsgs.box/{i:08X}.SVF"), "status message");
    }
    let Some(mount) = common::slowfs::SlowFs::mount(&estate, &dir.path().join("mnt"), &["--delay-ms", "0"]) else {
        return;
    };
    let before = mount.stats();
    let out = dir.path().join("out");
    audit(&[mount.path().to_path_buf()], &out, &["-j", "4"]);
    let after = mount.stats();
    let count = |op: &str| after["ops"][op].as_u64().unwrap_or(0) - before["ops"][op].as_u64().unwrap_or(0);
    let files = read_csv_maps(&out.join("files.csv"));
    assert_eq!(
        files.iter().filter(|f| f["status"] == "ok").count() as u64,
        FILES,
        "{files:?}"
    );
    // One lookup per file (its open), some more for the folders and the
    // discovery of the share; a stat by name would make it two per file.
    assert!(count("lookup") <= FILES * 5 / 4, "{after}");
    // Lookup, open, the handle's getattr before and after the read, the
    // read and the kernel's getattr for it: a stat by name would add two.
    let per_file = (count("lookup") + count("getattr") + count("open") + count("read")) as f64 / FILES as f64;
    assert!(per_file <= 6.5, "{per_file} round trips per file: {after}");
}
