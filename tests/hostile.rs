//! Hostile shares: links, FIFOs, sockets, sparse and huge files, odd names,
//! malformed SMS files, unreadable entries. Nothing hangs, nothing panics,
//! every entry gets a truthful row, and nothing under the root changes.
#![cfg(unix)]

use crate::common;

use common::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SPARSE_SIZE: u64 = 3 * 1024 * 1024 * 1024;

/// Builds the hostile estate: one CAP and one logon point.
fn hostile_estate(root: &Path) -> PathBuf {
    let cap = root.join("SRV/CAP_HX1");
    write(
        root,
        "SRV/CAP_HX1/clicomp.box/base/compver.ini",
        "[Version]\nVersion=2.00.1380.1000\n",
    );
    write(
        root,
        "SRV/CAP_HX1/clicomp.box/smsapm32/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    // Malformed component files.
    write_bytes(root, "SRV/CAP_HX1/clicomp.box/hinv.CFG", b"");
    write_bytes(
        root,
        "SRV/CAP_HX1/clicomp.box/sinv.CFG",
        &[0u8, 1, 2, 3, 0, 0, 0xFF, 0xFE, 0, 0, 7, 0],
    );
    write_bytes(
        root,
        "SRV/CAP_HX1/clicomp.box/smsapm32.CFG",
        b"[Component Configuration]\r\n(REG_SZ) Vers",
    );
    let utf16_no_bom: Vec<u8> = "[Component Configuration]\r\nVersion=2.00.1380.1000\r\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    write_bytes(root, "SRV/CAP_HX1/clicomp.box/swdist.CFG", &utf16_no_bom);
    let mut huge = b"[Component Configuration]\r\n".to_vec();
    huge.resize(50 * 1024 * 1024, b'A');
    write_bytes(root, "SRV/CAP_HX1/clicomp.box/licmtr.CFG", &huge);
    write(
        root,
        "SRV/CAP_HX1/clicomp.box/remctrl.CFG",
        "[Component Configuration]\nVersion=2.00.1380.1000\nVersion=9.9.9.9\n[Component Configuration]\nVersion=1.1.1.1\n",
    );
    write_bytes(
        root,
        "SRV/CAP_HX1/clicomp.box/wbem.CFG",
        b"[Component\0 Configuration]\r\nVer\0sion=2.00\0.1380.1000\r\n",
    );
    write_bytes(root, "SRV/CAP_HX1/clicomp.box/hinv/compver.ini", b"");
    write_bytes(
        root,
        "SRV/CAP_HX1/clicomp.box/sinv/compver.ini",
        b"\0\0\0\0binary\0\0\0",
    );
    // Odd sizes and names.
    write_bytes(root, "SRV/CAP_HX1/empty.bin", b"");
    write_bytes(root, "SRV/CAP_HX1/one.bin", b"x");
    write(root, "SRV/CAP_HX1/=cmd|' -C calc'!A0.txt", "formula");
    write(root, "SRV/CAP_HX1/<img src=x onerror=alert(1)>.txt", "html");
    write(root, "SRV/CAP_HX1/Ünïcødé ñame 日本.txt", "unicode");
    write(root, "SRV/CAP_HX1/bell\u{7}line\nbreak.txt", "control");
    let bad_name = cap.join(OsStr::from_bytes(b"bad\xFFname.txt"));
    std::fs::write(&bad_name, "not utf-8 name").unwrap();
    let long_dir = cap.join("l".repeat(200)).join("o".repeat(200));
    std::fs::create_dir_all(&long_dir).unwrap();
    std::fs::write(long_dir.join("long-path-file.txt"), "long").unwrap();
    // Links and special files.
    std::os::unix::fs::symlink("/etc/passwd", cap.join("link-out-file")).unwrap();
    std::os::unix::fs::symlink("/etc", cap.join("link-out-dir")).unwrap();
    std::os::unix::fs::symlink(&cap, cap.join("loop")).unwrap();
    std::os::unix::fs::symlink(cap.join("nowhere"), cap.join("dangling")).unwrap();
    common::mkfifo(&cap.join("fifo"));
    let _socket = std::os::unix::net::UnixListener::bind(cap.join("socket")).unwrap();
    // A logon point with a damaged Copylog.
    write_bytes(root, "DC9/SMSLOGON/Config/copylog.tcf", b"\xFF\xFE\0\0\x01garbage");
    write(root, "DC9/SMSLOGON/Sites/HX1/cli_inst.cfg", "x");
    cap
}

fn run(roots: &[&Path], out: &Path, jobs: &str) -> assert_cmd::assert::Assert {
    common::smsaudit()
        .arg("audit")
        .args(roots)
        .arg("--out")
        .arg(out)
        .args(["--csv", "machine", "--quiet", "--fail-on", "never", "-j", jobs])
        .timeout(Duration::from_secs(300))
        .assert()
}

/// Everything observable about a tree: names, sizes, times, modes, content
/// hashes, link targets. Access times are included for files (the audit
/// opens them with O_NOATIME).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut seen = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let Ok(entry) = entry else { continue };
        let meta = entry.path().symlink_metadata().unwrap();
        let mut line = format!(
            "size={} mtime={}.{} ctime={}.{} mode={:o}",
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
            meta.mode()
        );
        if meta.file_type().is_file() {
            line += &format!(" atime={}.{}", meta.atime(), meta.atime_nsec());
            if meta.len() < 100 * 1024 * 1024 {
                line += &format!(" sha={}", hex(&Sha256::digest(read_without_atime(entry.path()))));
            }
        }
        if meta.file_type().is_symlink() {
            line += &format!(" -> {}", std::fs::read_link(entry.path()).unwrap().display());
        }
        seen.insert(entry.path().to_path_buf(), line);
    }
    seen
}

fn rows(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    read_csv_maps(&out.join("files.csv"))
        .into_iter()
        .map(|r| (format!("{}|{}", r["location"], r["path"]), r))
        .collect()
}

#[test]
fn hostile_estate_gets_truthful_rows_and_is_left_untouched() {
    let root = tempfile::tempdir().unwrap();
    hostile_estate(root.path());
    // Old access times make any atime update visible.
    let old = filetime_old();
    for entry in walkdir::WalkDir::new(root.path()).into_iter().flatten() {
        if entry.file_type().is_file() {
            let f = std::fs::File::options().write(true).open(entry.path()).unwrap();
            f.set_times(std::fs::FileTimes::new().set_accessed(old)).unwrap();
        }
    }
    let before = snapshot(root.path());
    let one = tempfile::tempdir().unwrap();
    let many = tempfile::tempdir().unwrap();
    // Lone CAPs without logon points or site servers: A06, exit 3.
    run(&[root.path()], one.path(), "1").code(3);
    run(&[root.path()], many.path(), "8").code(3);
    assert_eq!(
        before,
        snapshot(root.path()),
        "the audit changed something under its root"
    );
    assert_same_reports(one.path(), many.path(), "between -j 1 and -j 8");

    let rows = rows(one.path());
    let cap = |path: &str| -> &BTreeMap<String, String> {
        rows.get(&format!(r"\\SRV\CAP_HX1|{path}"))
            .unwrap_or_else(|| panic!("no row for {path}: {:#?}", rows.keys()))
    };
    let expect = |path: &str, status: &str, reason: &str| {
        let row = cap(path);
        assert_eq!(row["status"], status, "{path}: {row:?}");
        assert!(row["reason"].contains(reason), "{path}: {row:?}");
        if status == "skipped" || status == "unreadable" {
            assert_eq!(row["sha256"], "", "{path} was not read but has a hash");
            assert_eq!(row["version"], "", "{path} was not read but has a version");
        } else {
            assert_eq!(row["sha256"].len(), 64, "{path}");
        }
    };
    expect("fifo", "skipped", "FIFO");
    expect("socket", "skipped", "socket");
    for link in ["link-out-file", "link-out-dir", "loop", "dangling"] {
        expect(link, "skipped", "symbolic link, not followed");
    }
    expect(r"clicomp.box\hinv.CFG", "malformed", "no [section]");
    expect(r"clicomp.box\sinv.CFG", "malformed", "binary");
    expect(r"clicomp.box\licmtr.CFG", "malformed", "larger than 1048576 bytes");
    expect(r"clicomp.box\hinv\compver.ini", "malformed", "empty file");
    expect(r"clicomp.box\sinv\compver.ini", "malformed", "binary");
    expect(r"clicomp.box\smsapm32.CFG", "ok", "no version value");
    assert_eq!(
        cap(r"clicomp.box\swdist.CFG")["version"],
        "2.00.1380.1000",
        "UTF-16 without BOM"
    );
    assert_eq!(
        cap(r"clicomp.box\remctrl.CFG")["version"],
        "2.00.1380.1000",
        "first duplicate key wins"
    );
    assert_eq!(
        cap(r"clicomp.box\base\compver.ini")["version"],
        "2.00.1380.1000",
        "good rows stay good"
    );
    assert_eq!(
        cap("empty.bin")["sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        cap("one.bin")["sha256"],
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    );
    assert_eq!(cap("=cmd|' -C calc'!A0.txt")["status"], "ok");
    assert_eq!(cap("<img src=x onerror=alert(1)>.txt")["status"], "ok");
    assert_eq!(cap("Ünïcødé ñame 日本.txt")["sha256"].len(), 64);
    assert_eq!(cap("bell\u{7}line\nbreak.txt")["status"], "ok");
    expect("bad%FFname.txt", "ok", "not valid UTF-8");
    let long = format!(r"{}\{}\long-path-file.txt", "l".repeat(200), "o".repeat(200));
    assert_eq!(cap(&long)["status"], "ok");
    let copylog = &rows[r"\\DC9\SMSLOGON|Config\copylog.tcf"];
    assert_eq!(copylog["status"], "malformed");

    // Reports stay valid and safe.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.path().join("audit.json")).unwrap()).expect("valid JSON");
    assert!(json["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "bell\u{7}line\nbreak.txt"));
    let sheet = tempfile::tempdir().unwrap();
    common::smsaudit()
        .arg("audit")
        .arg(root.path())
        .arg("--out")
        .arg(sheet.path())
        .args(["--quiet", "--fail-on", "never"])
        .timeout(Duration::from_secs(300))
        .assert()
        .code(3);
    let csv = std::fs::read_to_string(sheet.path().join("files.csv")).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "unsafe cell {cell:?}"
            );
        }
    }
}

/// Reads a file without updating its access time, so the snapshot itself
/// does not change what it records.
fn read_without_atime(path: &Path) -> Vec<u8> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOATIME)
        .open(path)
        .unwrap();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    bytes
}

fn filetime_old() -> std::time::SystemTime {
    std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800)
}

/// A sparse file of several GiB is read to the end and hashed like any
/// other; its hash must equal sha256sum's.
#[test]
fn sparse_file_of_several_gib() {
    if !require("sha256sum", "as the reference for the sparse file's hash") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "SRV/CAP_HX1/clicomp.box/base/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    let sparse_path = root.path().join("SRV/CAP_HX1/sparse.img");
    let sparse = std::fs::File::create(&sparse_path).unwrap();
    sparse.set_len(SPARSE_SIZE).unwrap();
    let out = tempfile::tempdir().unwrap();
    run(&[root.path()], out.path(), "2").code(3); // a lone CAP: A06
    let row = &rows(out.path())[r"\\SRV\CAP_HX1|sparse.img"];
    assert_eq!(row["size"], SPARSE_SIZE.to_string());
    let output = std::process::Command::new("sha256sum")
        .arg(&sparse_path)
        .output()
        .unwrap();
    let expected = String::from_utf8(output.stdout).unwrap();
    assert_eq!(row["sha256"], expected.split_whitespace().next().unwrap());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Root can read everything, so unreadable entries are tested by running
/// the binary as `nobody`.
#[test]
fn unreadable_files_and_folders_as_an_unprivileged_user() {
    if !require_unprivileged() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    write(
        root.path(),
        "SRV/CAP_HX1/clicomp.box/base/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    write(root.path(), "SRV/CAP_HX1/secret.txt", "no");
    write(root.path(), "SRV/CAP_HX1/locked/inside.txt", "no");
    let cap = root.path().join("SRV/CAP_HX1");
    std::fs::set_permissions(cap.join("secret.txt"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(cap.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::set_permissions(out.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let binary = common::BIN;
    let status = common::smsaudit_as_nobody()
        .arg("audit")
        .arg(root.path())
        .arg("--out")
        .arg(out.path())
        .args(["--csv", "machine", "--quiet", "--fail-on", "never"])
        .status()
        .unwrap();
    if status.code() == Some(126) || status.code() == Some(127) {
        panic!("nobody cannot run {binary}: make the target folder readable");
    }
    assert_eq!(status.code(), Some(3), "unreadable entries: not clean (A05), exit 3");
    let rows = rows(out.path());
    let secret = &rows[r"\\SRV\CAP_HX1|secret.txt"];
    assert_eq!(secret["status"], "unreadable");
    assert!(secret["reason"].contains("ermission denied"), "{secret:?}");
    assert_eq!(secret["sha256"], "");
    let locked = &rows[r"\\SRV\CAP_HX1|locked"];
    assert_eq!(locked["status"], "unreadable");
    assert_eq!(locked["sha256"], "");
    assert_eq!(
        rows[r"\\SRV\CAP_HX1|clicomp.box\base\compver.ini"]["version"],
        "2.00.1380.1000"
    );
}
