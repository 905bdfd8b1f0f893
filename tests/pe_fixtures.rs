//! Fixture binaries built by tests/fixtures/pe/build.sh, plus truncated and bit-flipped copies.

use crate::common;

use common::pe::{fixture, version_block_range, FIXTURES};
use smsaudit::extract::pe::{looks_like_pe, read_version_info, PeError, VersionInfo};
use std::sync::mpsc;
use std::time::Duration;

fn info(name: &str) -> VersionInfo {
    read_version_info(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn all_fixtures_look_like_pe_and_are_small() {
    for name in FIXTURES {
        let data = fixture(name);
        assert!(looks_like_pe(&data), "{name}");
        assert!(data.len() < 20 * 1024, "{name} is {} bytes", data.len());
    }
}

#[test]
fn pe32_fixed_equals_string() {
    let v = info("clicore32.exe");
    assert_eq!(v.fixed_file_version, "2.0.1380.1123");
    assert_eq!(v.fixed_product_version, "2.0.1380.1123");
    assert_eq!(v.string_file_version(), Some("2.0.1380.1123"));
    assert_eq!(v.string_product_version(), Some("2.0.1380.1123"));
    assert_eq!(v.value("CompanyName"), Some("Microsoft Corporation"));
    assert_eq!(v.value("originalfilename"), Some("CLICORE.EXE"));
    assert_eq!(v.translations, vec![(0x0409, 1200)]);
}

#[test]
fn pe32_plus_fixed_differs_from_string() {
    let v = info("mismatch64.exe");
    assert_eq!(v.fixed_file_version, "2.0.1493.2163");
    assert_eq!(v.string_file_version(), Some("2.00.1493.2150"));
    assert_eq!(v.string_product_version(), Some("2.00.1493.2150"));
}

#[test]
fn two_languages() {
    let v = info("twolang32.exe");
    assert_eq!(v.fixed_file_version, "2.0.1239.0");
    let keys: Vec<_> = v.string_tables.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["040904b0", "040704b0"]);
    assert_eq!(v.translations, vec![(0x0409, 1200), (0x0407, 1200)]);
    assert_eq!(v.string_file_version(), Some("2.00.1239.0000"));
    let german = &v.string_tables[1].values;
    assert!(german.contains(&("FileDescription".into(), "SMS-Fernsteuerungsagent".into())));
    assert!(german.contains(&("FileVersion".into(), "2.00.1239.0001".into())));
}

#[test]
fn custom_key() {
    let v = info("customkey64.exe");
    assert_eq!(v.value("SMSBuild"), Some("1380"));
    assert_eq!(v.string_tables[0].key, "040904e4");
    assert_eq!(v.translations, vec![(0x0409, 1252)]);
}

#[test]
fn bundle_installer() {
    let v = info("bundle32.exe");
    assert_eq!(v.fixed_file_version, "2.0.91.3");
    assert_eq!(v.string_file_version(), Some("2.0.91.3"));
}

#[test]
fn dll() {
    let v = info("smsdll32.dll");
    assert_eq!(v.fixed_file_version, "2.0.1380.1123");
    assert_eq!(v.value("OriginalFilename"), Some("SMSBASE.DLL"));
}

#[test]
fn missing_version_resource() {
    assert_eq!(
        read_version_info(&fixture("noversion32.exe")),
        Err(PeError::NoVersionResource)
    );
    assert_eq!(read_version_info(&fixture("nores64.exe")), Err(PeError::NoResources));
}

#[test]
fn serializes_to_json() {
    let json = serde_json::to_value(info("customkey64.exe")).unwrap();
    assert_eq!(json["fixed_file_version"], "2.0.1380.1000");
    assert_eq!(json["string_tables"][0]["values"][2][0], "SMSBuild");
}

/// Runs `f` on a worker thread and fails if it does not finish in time (a hang) or panics.
fn within_deadline(what: &str, secs: u64, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = handle.join() {
                std::panic::resume_unwind(p)
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: did not finish in {secs}s"),
    }
}

#[test]
fn truncated_copies_never_panic_or_hang() {
    within_deadline("truncation", 120, || {
        for name in FIXTURES {
            let data = fixture(name);
            // Every prefix, so cuts land in headers, the section table, the resource tree and the block.
            for cut in 0..data.len() {
                let _ = read_version_info(&data[..cut]);
            }
            if let Some(block) = version_block_range(&data) {
                for cut in block.start..block.end {
                    let r = read_version_info(&data[..cut]);
                    assert!(r.is_err(), "{name} cut at {cut} inside the version block parsed: {r:?}");
                }
            }
        }
    });
}

#[test]
fn bit_flipped_copies_never_panic_or_hang() {
    within_deadline("bit flips", 300, || {
        for name in FIXTURES {
            let data = fixture(name);
            let mut copy = data.clone();
            for i in 0..data.len() {
                for bit in 0..8 {
                    copy[i] ^= 1 << bit;
                    if let Ok(v) = read_version_info(&copy) {
                        let total: usize = strings(&v).map(str::len).sum();
                        assert!(total <= copy.len(), "{name} byte {i} bit {bit}");
                    }
                    copy[i] = data[i];
                }
            }
        }
    });
}

fn strings(v: &VersionInfo) -> impl Iterator<Item = &str> {
    [v.fixed_file_version.as_str(), v.fixed_product_version.as_str()]
        .into_iter()
        .chain(v.string_tables.iter().flat_map(|t| {
            std::iter::once(t.key.as_str()).chain(t.values.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
        }))
}
