//! Hostile content for the parsers: text files shaped to make the INI reader
//! allocate without bound, CR-only line ends, and large PE images whose
//! version resource sits at their end. The audit finishes, the rows say
//! what happened, and parser memory follows the input, not the file.
//!
//! Memory is measured with a counting allocator that counts per thread, so
//! tests running in parallel do not disturb each other: the counts are
//! exact, not sampled.
#![cfg(unix)]

use crate::common;

use common::pe::{fixture, FIXTURES};
use common::*;
use smsaudit::crawl;
use smsaudit::extract::{self, pe, Content};
use smsaudit::model::FileKind;
use std::io::Cursor;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

/// A section name of 400 KiB and 300,000 entries, under the 1 MiB text
/// parse limit: the reader of old cloned the name into every entry
/// (about 120 GiB) and aborted the run.
fn section_bomb(first_line: &str) -> Vec<u8> {
    let mut text = format!("{first_line}\r\n[{}]\r\n", "S".repeat(400 * 1024));
    text.push_str(&"=\n".repeat(300_000));
    assert!(text.len() < 1024 * 1024, "must stay under the text parse limit");
    text.into_bytes()
}

fn audit(root: &Path, out: &Path) -> i32 {
    let output = common::smsaudit()
        .arg("audit")
        .arg(root)
        .arg("--out")
        .arg(out)
        .args(["--csv", "machine", "--quiet", "-j", "2"])
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(
        code.is_some_and(|c| c < 100),
        "the audit died ({:?}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    code.unwrap_or(-1)
}

fn row(out: &Path, location: &str, path: &str) -> std::collections::BTreeMap<String, String> {
    read_csv_maps(&out.join("files.csv"))
        .into_iter()
        .find(|r| r["location"] == location && r["path"] == path)
        .unwrap_or_else(|| panic!("no row for {location} {path}"))
}

const CFG_PATH: &str = "SRV/CAP_HP1/clicomp.box/hinv.CFG";
const COMPVER_PATH: &str = "SRV/CAP_HP1/clicomp.box/hinv/compver.ini";
const COPYLOG_PATH: &str = "DC9/SMSLOGON/Config/copylog.tcf";

/// The same estate twice: with the hostile files, and with ordinary
/// malformed files in their place.
fn estate(root: &Path, hostile: bool) {
    write(
        root,
        "SRV/CAP_HP1/clicomp.box/base/compver.ini",
        "[Version]\nVersion=2.00.1380.1000\n",
    );
    write(root, "DC9/SMSLOGON/Sites/HP1/cli_inst.cfg", "x");
    if hostile {
        write_bytes(root, CFG_PATH, &section_bomb("[Component Configuration]"));
        write_bytes(root, COMPVER_PATH, &section_bomb("Version=2.00.1380.1000"));
        write_bytes(root, COPYLOG_PATH, &section_bomb("[FILE SOURCE]"));
    } else {
        write_bytes(root, CFG_PATH, b"");
        write_bytes(root, COMPVER_PATH, b"");
        write_bytes(root, COPYLOG_PATH, b"just text");
    }
}

#[test]
fn ini_bombs_are_malformed_rows_naming_the_limit_and_the_audit_finishes() {
    let hostile = tempfile::tempdir().unwrap();
    let plain = tempfile::tempdir().unwrap();
    estate(hostile.path(), true);
    estate(plain.path(), false);
    let (hostile_out, plain_out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let code = audit(hostile.path(), hostile_out.path());
    assert_eq!(
        code,
        audit(plain.path(), plain_out.path()),
        "exit code differs from ordinary malformed files"
    );
    for (location, path) in [
        (r"\\SRV\CAP_HP1", r"clicomp.box\hinv.CFG"),
        (r"\\SRV\CAP_HP1", r"clicomp.box\hinv\compver.ini"),
        (r"\\DC9\SMSLOGON", r"Config\copylog.tcf"),
    ] {
        let hostile_row = row(hostile_out.path(), location, path);
        assert_eq!(hostile_row["status"], "malformed", "{hostile_row:?}");
        assert!(
            hostile_row["reason"].contains("section name of 409600 bytes at line 2, longer than the INI reader limit"),
            "{hostile_row:?}"
        );
        assert_eq!(hostile_row["version"], "", "{hostile_row:?}");
        assert_eq!(hostile_row["sha256"].len(), 64, "{hostile_row:?}");
        assert_eq!(row(plain_out.path(), location, path)["status"], "malformed");
    }
}

#[test]
fn ini_bombs_are_refused_quickly_whatever_the_kind() {
    for kind in [FileKind::ComponentCfg, FileKind::Compver, FileKind::Copylog] {
        let started = std::time::Instant::now();
        let extracted = extract::parse(kind, &section_bomb("[Version]"));
        assert_eq!(extracted.status, smsaudit::model::Status::Malformed, "{kind:?}");
        assert!(
            extracted.reason.contains("INI reader limit"),
            "{kind:?}: {}",
            extracted.reason
        );
        // Generous: the refusal is at line 2; a debug build takes milliseconds.
        assert!(started.elapsed() < Duration::from_secs(20), "{kind:?}");
    }
}

/// Texts shaped against the INI reader, each within the bounds or beyond.
fn hostile_texts() -> Vec<(&'static str, Vec<u8>)> {
    let long_section = format!("[{}]\n", "S".repeat(1024));
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            format!("{long_section}{}", "=\r\n".repeat(20_000))
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    vec![
        ("400 KiB section, 300,000 entries", section_bomb("[Version]")),
        (
            "1 KiB section, 49,999 entries",
            format!("{long_section}{}", "=\n".repeat(49_999)).into_bytes(),
        ),
        (
            "1 KiB section, 49,999 entries, CR only",
            format!("{long_section}{}", "=\r".repeat(49_999)).into_bytes(),
        ),
        ("1 KiB section, UTF-16", utf16),
        ("many sections", "[s]\n".repeat(10_000).into_bytes()),
        (
            "1 KiB keys",
            format!("[FILE SOURCE]\n{}", format!("{}=MS1\n", "k".repeat(1024)).repeat(900)).into_bytes(),
        ),
        ("blank lines", "\n".repeat(1024 * 1024 - 1).into_bytes()),
    ]
}

/// Memory of every text parser is O(input): at most a fixed multiple of
/// the input (decoding, and one small borrowed record per line), whatever
/// the shape, where the old reader cloned the section name into every entry.
#[test]
fn text_parser_memory_follows_the_input() {
    for (shape, bytes) in hostile_texts() {
        for kind in [FileKind::ComponentCfg, FileKind::Compver, FileKind::Copylog] {
            let (extracted, peak) = common::alloc::thread_peak_during(|| extract::parse(kind, &bytes));
            let bound = 128 * bytes.len() + 64 * 1024;
            assert!(
                peak <= bound && peak <= 16 << 20,
                "{shape}, {kind:?}: {peak} bytes at peak for {} bytes of input ({})",
                bytes.len(),
                extracted.reason
            );
        }
    }
}

#[test]
fn cr_only_cfg_in_a_share_keeps_its_version() {
    let root = tempfile::tempdir().unwrap();
    write_bytes(
        root.path(),
        "SRV/CAP_CR1/clicomp.box/swdist.CFG",
        b"[Component Configuration]\r    Name=SOFTWARE DISTRIBUTION\r      (REG_SZ) Version=2.00.1493.2011\r[IDENT]\r    TYPE=Base Config File Type\r",
    );
    write(
        root.path(),
        "SRV/CAP_CR1/clicomp.box/base/compver.ini",
        "[Version]\nVersion=2.00.1493.2011\n",
    );
    let out = tempfile::tempdir().unwrap();
    audit(root.path(), out.path());
    let row = row(out.path(), r"\\SRV\CAP_CR1", r"clicomp.box\swdist.CFG");
    assert_eq!(row["status"], "ok", "{row:?}");
    assert_eq!(row["version"], "2.00.1493.2011", "{row:?}");
}

/// Writes `fixture` as a sparse file of `size` bytes whose `.rsrc` section
/// (and so the version resource) is moved to the end of the file.
fn pe_with_resources_at_the_end(path: &Path, fixture_name: &str, size: u64) {
    let mut image = fixture(fixture_name);
    let u16_at = |d: &[u8], at: usize| u16::from_le_bytes([d[at], d[at + 1]]) as usize;
    let u32_at = |d: &[u8], at: usize| u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
    let pe_at = u32_at(&image, 0x3c) as usize;
    let table = pe_at + 24 + u16_at(&image, pe_at + 20);
    let rsrc = (0..u16_at(&image, pe_at + 6))
        .map(|i| table + 40 * i)
        .find(|&s| image[s..s + 8].starts_with(b".rsrc\0"))
        .expect("fixture has a .rsrc section");
    let (raw_size, raw_at) = (u32_at(&image, rsrc + 16), u32_at(&image, rsrc + 20));
    let section = image[raw_at as usize..(raw_at + raw_size) as usize].to_vec();
    let moved_to = (size - u64::from(raw_size)) & !511;
    image[rsrc + 20..rsrc + 24].copy_from_slice(&u32::try_from(moved_to).unwrap().to_le_bytes());
    let file = std::fs::File::create(path).unwrap();
    file.set_len(size).unwrap();
    file.write_all_at(&image, 0).unwrap();
    file.write_all_at(&section, moved_to).unwrap();
}

/// A 60 MiB PE image with its resources at the end gets its version, and
/// reading it needs no more memory than a 2 MiB one: the headers and the
/// resource section are read, not the file.
#[test]
fn large_pe_memory_does_not_grow_with_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.exe");
    let large = dir.path().join("large.exe");
    pe_with_resources_at_the_end(&small, "clicore32.exe", 2 << 20);
    pe_with_resources_at_the_end(&large, "clicore32.exe", 60 << 20);
    let cap = 64 << 20;
    let version = |content: Option<Content>| match content {
        Some(Content::PeVersion(Ok(info))) => info.fixed_file_version,
        other => panic!("{other:?}"),
    };
    // The first read on a thread sizes its read buffer; measure after it.
    assert_eq!(
        version(crawl::hash_file(&small, FileKind::Binary, cap).unwrap().content),
        "2.0.1380.1123"
    );
    let (small_read, small_peak) =
        common::alloc::thread_peak_during(|| crawl::hash_file(&small, FileKind::Binary, cap).unwrap());
    let (large_read, large_peak) =
        common::alloc::thread_peak_during(|| crawl::hash_file(&large, FileKind::Binary, cap).unwrap());
    assert_eq!(version(small_read.content), "2.0.1380.1123");
    assert_eq!(version(large_read.content), "2.0.1380.1123");
    assert!(
        large_peak <= small_peak + 64 * 1024 && large_peak < 1 << 20,
        "60 MiB image: {large_peak} bytes at peak; 2 MiB image: {small_peak}"
    );
    // Found by content too (a file of no known kind that starts with MZ).
    let other = dir.path().join("large.bin");
    std::fs::rename(&large, &other).unwrap();
    let (other_read, other_peak) =
        common::alloc::thread_peak_during(|| crawl::hash_file(&other, FileKind::Other, cap).unwrap());
    assert_eq!(version(other_read.content), "2.0.1380.1123");
    assert!(other_peak < 1 << 20, "{other_peak}");
}

#[test]
fn large_pe_in_a_share_gets_its_version() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "SRV/CAP_PE1/clicomp.box/base/compver.ini",
        "[Version]\nVersion=2.00.1380.1000\n",
    );
    let path = root.path().join("SRV/CAP_PE1/x86.bin/big.exe");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    pe_with_resources_at_the_end(&path, "mismatch64.exe", 60 << 20);
    let out = tempfile::tempdir().unwrap();
    audit(root.path(), out.path());
    let row = row(out.path(), r"\\SRV\CAP_PE1", r"x86.bin\big.exe");
    assert_eq!(row["version"], "2.0.1493.2163", "{row:?}");
    assert_eq!(row["size"], (60u64 << 20).to_string(), "{row:?}");
}

/// Reading from a file gives exactly what reading the whole image in memory
/// gives: on every fixture, every truncation, and every byte inverted.
#[test]
fn reading_from_a_file_equals_reading_in_memory() {
    let same = |data: &[u8], what: &str| {
        let from_reader = pe::read_version_info_from(Cursor::new(data), u64::MAX).unwrap();
        assert_eq!(from_reader, pe::read_version_info(data), "{what}");
    };
    for name in FIXTURES {
        let data = fixture(name);
        same(&data, name);
        for cut in 0..data.len() {
            same(&data[..cut], &format!("{name} cut at {cut}"));
        }
        let mut copy = data.clone();
        for i in 0..data.len() {
            copy[i] ^= 0xff;
            same(&copy, &format!("{name} byte {i} inverted"));
            copy[i] = data[i];
        }
    }
}

/// Issue 28 item 11: a UNC name of the inventory that would resolve
/// outside `unc_root` (`..`), or to another share (`.`, empty components),
/// is refused before anything is read, naming the entry; nothing outside
/// `unc_root` is audited.
#[test]
fn inventory_unc_names_that_leave_the_unc_root_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "shares/SRV/CAP_HU1/clicomp.box/base/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    // What `..` would reach: a CAP outside unc_root.
    write(
        dir.path(),
        "outside/CAP_HU1/clicomp.box/base/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    for bad in [
        r"\\SRV\..\..\outside\CAP_HU1",
        r"\\SRV\CAP_HU1\..\..\..\outside",
        r"\\..\outside\CAP_HU1",
        r"\\SRV\.\CAP_HU1",
        r"\\SRV\\CAP_HU1",
        r"//SRV/CAP_HU1/../../../outside",
        r"\\?\UNC\SRV\..\..\outside\CAP_HU1",
        r"\\SRV\CAP_HU1\ .. ",
    ] {
        let inventory = dir.path().join("inventory.toml");
        std::fs::write(
            &inventory,
            format!("unc_root = \"shares\"\n[[site]]\ncode = \"HU1\"\ncaps = ['{bad}']\n"),
        )
        .unwrap();
        let out = dir.path().join("out");
        let output = common::smsaudit()
            .arg("audit")
            .arg("--inventory")
            .arg(&inventory)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains("--inventory") || stderr.contains("inventory"),
            "{bad}: {stderr}"
        );
        assert!(stderr.contains(bad), "the message names the entry {bad}: {stderr}");
        assert!(!out.join("files.csv").exists(), "{bad}: nothing was audited");
    }
    // A plain name under unc_root is still audited.
    let inventory = dir.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        "unc_root = \"shares\"\n[[site]]\ncode = \"HU1\"\ncaps = ['\\\\SRV\\CAP_HU1']\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    common::smsaudit()
        .arg("audit")
        .arg("--inventory")
        .arg(&inventory)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .timeout(Duration::from_secs(120))
        .assert()
        .code(predicates::function::function(|c: &i32| *c != 2));
    assert!(out.join("files.csv").exists());
}
