//! The slow file system the benchmarks and the dying-share tests stand on
//! (benches/slowfs.py) does what they count on: a delay on each round trip,
//! listings with or without attributes, and held, failed and slow operations.
#![cfg(target_os = "linux")]

use crate::common;

use common::slowfs::SlowFs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// A folder of `files` small files, under `dir/source`.
fn folder_of(dir: &Path, files: usize) -> std::path::PathBuf {
    let source = dir.join("source");
    for i in 0..files {
        common::write(&source, &format!("share/file{i:02}.ini"), "[Version]\nVersion=1\n");
    }
    source
}

fn delayed(stats: &serde_json::Value, op: &str) -> u64 {
    stats["delayed"][op].as_u64().unwrap_or(0)
}

/// Without --listing-attrs every entry's attributes cost delayed round
/// trips after the listing (its lookup and its getattr); with it, none do.
/// Either way the listing is one round trip.
#[test]
fn a_listing_carries_attributes_only_when_asked() {
    for (options, round_trips_per_entry) in [(&[][..], 2), (&["--listing-attrs"][..], 0)] {
        let dir = tempfile::tempdir().unwrap();
        let source = folder_of(dir.path(), 10);
        let mut options = options.to_vec();
        options.extend(["--delay-ms", "1"]);
        let Some(mount) = SlowFs::mount(&source, &dir.path().join("mnt"), &options) else {
            return;
        };
        let share = mount.path().join("share");
        let before = mount.stats();
        let sizes: u64 = std::fs::read_dir(&share)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().size())
            .sum();
        assert_eq!(sizes, 10 * "[Version]\r\nVersion=1\r\n".len() as u64);
        let after = mount.stats();
        let delta = |op: &str| delayed(&after, op) - delayed(&before, op);
        assert_eq!(delta("readdir"), 1, "{after}");
        // The lookup and getattr of `share` itself, then the entries'.
        let round_trips = delta("lookup") + delta("getattr");
        assert_eq!(round_trips, 2 + 10 * round_trips_per_entry, "{options:?}: {after}");
    }
}

/// Each delayed request takes the delay; concurrent ones overlap.
#[test]
fn each_round_trip_takes_the_delay_and_concurrent_ones_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let source = folder_of(dir.path(), 8);
    let Some(mount) = SlowFs::mount(&source, &dir.path().join("mnt"), &["--delay-ms", "200"]) else {
        return;
    };
    let file = |i: usize| mount.path().join(format!("share/file{i:02}.ini"));
    let started = Instant::now();
    std::fs::symlink_metadata(file(0)).unwrap();
    // The lookups of `share` and of the file, and the file's getattr.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    // Names the kernel knows from a listing: their lookups may overlap (the
    // first lookup of a name is one at a time per folder, see slowfs.py).
    std::fs::read_dir(mount.path().join("share")).unwrap().for_each(drop);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for i in 0..8 {
            let file = file(i);
            scope.spawn(move || std::fs::symlink_metadata(file).unwrap());
        }
    });
    // 24 round trips of 200 ms, 8 at a time: well under their 4.8 s in a row.
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
}

/// --fail fails what it names with EIO, and only that; --slow slows only
/// the reads it names.
#[test]
fn failures_and_slow_reads_touch_only_what_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let source = folder_of(dir.path(), 3);
    let options = ["--fail", "open:/share/file01.ini", "--slow", "/share/file02.ini:500"];
    let Some(mount) = SlowFs::mount(&source, &dir.path().join("mnt"), &options) else {
        return;
    };
    let file = |i: usize| mount.path().join(format!("share/file{i:02}.ini"));
    let started = Instant::now();
    std::fs::read(file(0)).unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    let err = std::fs::read(file(1)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO), "{err}");
    assert!(std::fs::symlink_metadata(file(1)).is_ok(), "only the open fails");
    let started = Instant::now();
    std::fs::read(file(2)).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

/// A stalled read answers only once released, and says when it is held;
/// a reader killed meanwhile lets go at once (the kernel waits for a page
/// killably), and the rest of the mount answers.
#[test]
fn a_stalled_read_waits_for_its_release() {
    let dir = tempfile::tempdir().unwrap();
    let source = folder_of(dir.path(), 2);
    let Some(mount) = SlowFs::mount(&source, &dir.path().join("mnt"), &["--stall", "read:/share/file01.ini"]) else {
        return;
    };
    let stalled = mount.path().join("share/file01.ini");
    let mut reader = std::process::Command::new("cat")
        .arg(&stalled)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(
        mount.wait_until_held(Duration::from_secs(30)).trim(),
        "read /share/file01.ini"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(reader.try_wait().unwrap().is_none(), "the read answered while held");
    std::fs::read(mount.path().join("share/file00.ini")).expect("the rest answers");
    reader.kill().unwrap();
    let killed = Instant::now();
    while reader.try_wait().unwrap().is_none() {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "a killed reader stayed blocked"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let released = std::thread::spawn({
        let stalled = stalled.clone();
        move || std::fs::read(stalled)
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!released.is_finished(), "the read answered while held");
    mount.release();
    assert_eq!(released.join().unwrap().unwrap(), b"[Version]\r\nVersion=1\r\n");
}
