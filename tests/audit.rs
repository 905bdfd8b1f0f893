//! End-to-end tests of `smsaudit audit`: the real binary on the sample
//! estate and on trees built in a temp dir.

use crate::common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;

fn audit(roots: &[&Path], out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    let mut cmd = common::smsaudit();
    cmd.arg("audit")
        .args(roots)
        .arg("--out")
        .arg(out)
        .args(["--csv", "machine", "--quiet"])
        .args(extra);
    cmd.timeout(std::time::Duration::from_secs(120)).assert()
}

fn findings(out: &Path) -> Vec<BTreeMap<String, String>> {
    read_csv_maps(&out.join("findings.csv"))
}

/// The matrix as item -> (column header -> cell).
fn matrix(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let rows = read_csv(&out.join("matrix.csv"));
    let header = &rows[0];
    rows[1..]
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                header.iter().cloned().zip(r.iter().cloned()).skip(5).collect(),
            )
        })
        .collect()
}

fn cell<'a>(matrix: &'a BTreeMap<String, BTreeMap<String, String>>, item: &str, location: &str) -> &'a str {
    let row = matrix
        .get(item)
        .unwrap_or_else(|| panic!("no row {item}: {:?}", matrix.keys()));
    row.iter()
        .find(|(header, _)| header.starts_with(&format!("{location} (")))
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {location}: {:?}", row.keys()))
}

#[test]
fn sample_estate_reproduces_q236596() {
    let out = tempfile::tempdir().unwrap();
    audit(&[&sample_shares()], out.path(), &[]).code(1);

    let matrix = matrix(out.path());
    let header = read_csv(&out.path().join("matrix.csv"))[0].clone();
    for location in [
        r"\\SERVER1\CAP_MS1",
        r"\\SERVER1\SMS_MS1",
        r"\\SERVER2\CAP_MS2",
        r"\\SERVER2\SMS_MS2",
        r"\\SERVER3\CAP_LN1",
        r"\\SERVER3\SMS_LN1",
        r"\\DC1\SMSLOGON",
        r"\\DC2\SMSLOGON",
        r"\\DC3\SMSLOGON",
    ] {
        assert!(
            header.iter().any(|h| h.starts_with(location)),
            "{location} missing from {header:?}"
        );
    }
    for component in ["smsapm32", "swdist", "sinv", "hinv", "licmtr"] {
        let item = format!("{component}.CFG version");
        assert_eq!(
            cell(&matrix, &item, r"\\SERVER1\CAP_MS1"),
            "!! (empty) (expected 2.00.1239.0000)"
        );
        assert_eq!(cell(&matrix, &item, r"\\SERVER2\CAP_MS2"), "2.00.1380.1000");
    }
    assert_eq!(
        cell(&matrix, "smsapm32 compver.ini", r"\\SERVER3\CAP_LN1"),
        "2.00.1493.2011"
    );
    assert_eq!(
        cell(&matrix, "wbem compver.ini", r"\\SERVER3\CAP_LN1"),
        "698.0012",
        "UTF-16 compver"
    );
    assert!(cell(&matrix, "base compver.ini", r"\\SERVER1\CAP_MS1").starts_with("!! 2.00.1239.0000"));
    assert_eq!(
        cell(&matrix, "base compver.ini", r"\\SERVER2\CAP_MS2"),
        "2.00.1380.1000"
    );
    assert_eq!(
        cell(
            &matrix,
            r"base Copylog source site of x86.bin\clicore.exe",
            r"\\DC1\SMSLOGON"
        ),
        "MS2"
    );

    let findings = findings(out.path());
    let f01: Vec<_> = findings.iter().filter(|f| f["code"] == "F01").collect();
    assert_eq!(f01.len(), 2, "{f01:?}");
    for (finding, lp) in f01.iter().zip([r"\\DC1\SMSLOGON", r"\\DC2\SMSLOGON"]) {
        assert_eq!(finding["kb"], "Q236596");
        assert_eq!(finding["site"], "MS1");
        assert_eq!(finding["location"], lp);
        assert_eq!(finding["severity"], "error");
        assert!(!finding["fix"].is_empty());
    }
    let f02: Vec<_> = findings.iter().filter(|f| f["code"] == "F02").collect();
    assert_eq!(f02.len(), 5, "{f02:?}");
    assert!(f02
        .iter()
        .all(|f| f["location"] == r"\\SERVER1\CAP_MS1" && f["observed"] == "(empty)"));
    assert!(f02.iter().any(|f| f["message"].contains(
        r"\\SERVER1\CAP_MS1\clicomp.box\smsapm32.CFG version (empty) out of sync with offer file version (2.00.1239.0000)"
    )));
    assert!(
        findings.iter().all(|f| f["site"] == "MS1"),
        "only the RTM site is affected: {findings:?}"
    );
}

#[test]
fn healthy_estate_has_no_findings_and_exits_zero() {
    let out = tempfile::tempdir().unwrap();
    let sample = sample_shares();
    audit(&[&sample.join("SERVER3"), &sample.join("DC3")], out.path(), &[]).code(0);
    assert!(findings(out.path()).is_empty());
    let rows = read_csv_maps(&out.path().join("matrix.csv"));
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["mismatch"] == "no"), "{rows:?}");
}

#[test]
fn hashes_equal_sha256sum() {
    if !require("sha256sum", "as the reference for every hash") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let sample = sample_shares();
    audit(&[&sample], out.path(), &["--fail-on", "never"]).code(0);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    let roots: BTreeMap<String, String> = json["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["root"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let files = findings_free_files(out.path());
    assert!(files.len() > 150, "{}", files.len());
    let mut paths = Vec::new();
    let mut expected = Vec::new();
    for f in &files {
        let path = Path::new(&roots[&f["location"]]).join(f["path"].replace('\\', "/"));
        paths.push(path);
        expected.push(f["sha256"].clone());
    }
    let output = std::process::Command::new("sha256sum").args(&paths).output().unwrap();
    assert!(output.status.success());
    let actual: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(actual, expected);
}

fn findings_free_files(out: &Path) -> Vec<BTreeMap<String, String>> {
    read_csv_maps(&out.join("files.csv"))
        .into_iter()
        .filter(|f| !f["sha256"].is_empty())
        .collect()
}

#[test]
fn reports_are_identical_whatever_the_thread_count() {
    let one = tempfile::tempdir().unwrap();
    let many = tempfile::tempdir().unwrap();
    audit(&[&sample_shares()], one.path(), &["-j", "1"]).code(1);
    audit(&[&sample_shares()], many.path(), &["-j", "16"]).code(1);
    assert_same_reports(one.path(), many.path(), "between -j 1 and -j 16");
}

#[test]
fn spreadsheet_csv_has_bom_crlf_and_neutralised_formulas() {
    let estate = tempfile::tempdir().unwrap();
    write(
        estate.path(),
        "SRV/CAP_AB1/clicomp.box/base/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    write(estate.path(), "SRV/CAP_AB1/=HYPERLINK(\"x\",\"y\").txt", "x");
    write(estate.path(), "SRV/CAP_AB1/+1.txt", "x");
    let out = tempfile::tempdir().unwrap();
    let mut cmd = common::smsaudit();
    cmd.arg("audit")
        .arg(estate.path())
        .arg("--out")
        .arg(out.path())
        .arg("--quiet")
        .assert()
        // A CAP alone: Q236596 could not be judged (A06), so not clean.
        .code(3);
    let bytes = std::fs::read(out.path().join("files.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFlocation,path,"));
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("\r\n"));
    assert!(text.contains("'+1.txt"));
    assert!(text.contains("\"'=HYPERLINK(\"\"x\"\",\"\"y\"\").txt\""));
    assert!(!text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"));
}

/// An estate laid out like the sample but with other names, letter case and
/// encodings: an SP1 site and an RTM site sharing one logon point.
#[test]
fn unseen_estate_with_odd_case_and_encodings() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let utf16 = |text: &str| -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.replace('\n', "\r\n").encode_utf16().flat_map(|u| u.to_le_bytes()));
        bytes
    };
    // Old site XY1 at RTM, lower-case share and mixed-case box names.
    write_bytes(
        r,
        "alpha/cap_xy1/CLICOMP.BOX/Base/COMPVER.INI",
        &utf16("[Version]\nVersion=2.00.1239.0000\n"),
    );
    write(r, "alpha/cap_xy1/CLICOMP.BOX/SmsApm32/Compver.ini", "2.00.1239.0000\n");
    write_bytes(
        r,
        "alpha/cap_xy1/CLICOMP.BOX/SMSAPM32.cfg",
        b"[Component Configuration]\r\nName=Programme verf\xFCgbar\r\nLastUpdate=1, 2\r\n[IDENT]\r\nTYPE=Base Config File Type\r\n",
    );
    // New site XY2 at SP1 whose CFG carries its version.
    write(
        r,
        "beta/CAP_XY2/clicomp.box/base/compver.ini",
        "\u{feff}Version=2.00.1380.1072\n",
    );
    write(
        r,
        "beta/CAP_XY2/clicomp.box/smsapm32/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    write(
        r,
        "beta/CAP_XY2/clicomp.box/smsapm32.CFG",
        "[Component Configuration]\n(REG_SZ) Version=2.00.1380.1000\n",
    );
    // One logon point, lower-case names, Copylog names the SP1 site.
    write(
        r,
        "pdc/smslogon/CONFIG/COPYLOG.TCF",
        "[FILE SOURCE]\nX86.BIN\\CLICORE.EXE=XY2\nSITES\\XY1\\CLI_INST.CFG=XY1\n",
    );
    write(r, "pdc/smslogon/SITES/XY1/CLI_INST.CFG", "x");
    write(r, "pdc/smslogon/SITES/xy2/cli_inst.cfg", "x");
    write(r, "pdc/smslogon/X86.BIN/CLICORE.EXE", "not a PE");
    let out = tempfile::tempdir().unwrap();
    audit(&[r], out.path(), &[]).code(1);
    let findings = findings(out.path());
    let f01: Vec<_> = findings.iter().filter(|f| f["code"] == "F01").collect();
    assert_eq!(f01.len(), 1, "{findings:?}");
    assert_eq!(f01[0]["site"], "XY1");
    assert_eq!(f01[0]["location"], r"\\pdc\smslogon");
    let f02: Vec<_> = findings.iter().filter(|f| f["code"] == "F02").collect();
    assert_eq!(f02.len(), 1, "{findings:?}");
    assert_eq!(f02[0]["location"], r"\\alpha\cap_xy1");
    assert_eq!(f02[0]["path"], r"CLICOMP.BOX\SMSAPM32.cfg");
    let matrix = matrix(out.path());
    assert_eq!(cell(&matrix, "base compver.ini", r"\\beta\CAP_XY2"), "2.00.1380.1072");
    assert_eq!(
        cell(&matrix, "smsapm32.CFG version", r"\\alpha\cap_xy1"),
        "!! (empty) (expected 2.00.1239.0000)"
    );
    let files = read_csv_maps(&out.path().join("files.csv"));
    let clicore = files.iter().find(|f| f["path"] == r"X86.BIN\CLICORE.EXE").unwrap();
    assert_eq!(clicore["version"], "", "a placeholder binary carries no version");
    assert_eq!(clicore["reason"], "not a PE file");
}

#[test]
fn missing_root_is_a_row_and_the_rest_is_audited() {
    let out = tempfile::tempdir().unwrap();
    let missing = Path::new("/nonexistent/SERVERX/CAP_ZZ9");
    let sample = sample_shares();
    audit(&[missing, &sample.join("SERVER3")], out.path(), &[]).code(3);
    // SERVER3 alone has no logon point: A06 says Q236596 was not judged.
    let findings: Vec<_> = findings(out.path())
        .into_iter()
        .filter(|f| f["code"] != "A06")
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], "A01");
    assert_eq!(findings[0]["location"], r"\\SERVERX\CAP_ZZ9");
    let header = read_csv(&out.path().join("matrix.csv"))[0].clone();
    assert!(
        header.iter().any(|h| h == r"\\SERVERX\CAP_ZZ9 (unreadable)"),
        "{header:?}"
    );
    assert!(header.iter().any(|h| h.starts_with(r"\\SERVER3\CAP_LN1")));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    let missing = json["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["share"] == "CAP_ZZ9")
        .unwrap();
    assert_eq!(missing["status"], "unreadable");
    assert!(missing["reason"].as_str().unwrap().starts_with("cannot read"));
}

#[test]
fn unwritable_output_fails_with_exit_2_before_crawling() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let mut cmd = common::smsaudit();
    cmd.arg("audit").arg(sample_shares()).arg("--out").arg(file.join("sub"));
    cmd.assert()
        .code(2)
        .stderr(predicates::str::contains("cannot create output folder"));
}

#[test]
fn bad_arguments_exit_2() {
    common::smsaudit().args(["audit"]).assert().code(2);
    common::smsaudit().args(["audit", ".", "-j", "0"]).assert().code(2);
    common::smsaudit().args(["explain", "Q000001"]).assert().code(2);
}

#[test]
fn explain_and_rules_name_the_kb() {
    common::smsaudit()
        .args(["explain", "Q236596"])
        .assert()
        .success()
        .stdout(predicates::str::contains("F01").and(predicates::str::contains("Fix:")));
    common::smsaudit()
        .arg("rules")
        .assert()
        .success()
        .stdout(predicates::str::contains("Q236596"));
}

use predicates::prelude::PredicateBooleanExt;

#[cfg(unix)]
#[test]
fn fifo_links_and_escapes_do_not_hang_or_leak() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "outside the share").unwrap();
    let cap = root.path().join("SRV/CAP_AB1");
    write(
        root.path(),
        "SRV/CAP_AB1/clicomp.box/base/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    let fifo = cap.join("clicomp.box/base/pipe");
    common::mkfifo(&fifo);
    std::os::unix::fs::symlink(outside.path(), cap.join("escape")).unwrap();
    std::os::unix::fs::symlink(&cap, cap.join("loop")).unwrap();
    std::os::unix::fs::symlink(cap.join("nowhere"), cap.join("dangling")).unwrap();
    let out = tempfile::tempdir().unwrap();
    audit(&[root.path()], out.path(), &[]).code(3); // a CAP alone: A06
    let files = read_csv_maps(&out.path().join("files.csv"));
    let by_path: BTreeMap<&str, &BTreeMap<String, String>> = files.iter().map(|f| (f["path"].as_str(), f)).collect();
    assert_eq!(by_path[r"clicomp.box\base\pipe"]["status"], "skipped");
    assert_eq!(by_path[r"clicomp.box\base\pipe"]["reason"], "FIFO, not a regular file");
    for link in ["escape", "loop", "dangling"] {
        assert_eq!(by_path[link]["status"], "skipped", "{link}");
        assert_eq!(by_path[link]["sha256"], "", "{link}");
    }
    assert!(!files.iter().any(|f| f["path"].contains("secret")));
    assert_eq!(by_path[r"clicomp.box\base\compver.ini"]["version"], "2.00.1380.1000");
}

/// A binary whose string FileVersion disagrees with its fixed one is
/// flagged; bundle-installer versions are compared by content instead.
#[test]
fn binaries_show_both_versions_and_bundles_compare_by_content() {
    let estate = tempfile::tempdir().unwrap();
    copy_tree(&sample_shares(), estate.path());
    copy_tree(&estate.path().join("DC2"), &estate.path().join("DC4"));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pe");
    let x86 = |dc: &str, file: &str| estate.path().join(dc).join("SMSLOGON/x86.bin").join(file);
    std::fs::copy(fixtures.join("mismatch64.exe"), x86("DC1", "CLICORE.EXE")).unwrap();
    for dc in ["DC1", "DC2", "DC4"] {
        std::fs::copy(fixtures.join("bundle32.exe"), x86(dc, "boot32wn.exe")).unwrap();
    }
    let mut changed = std::fs::read(fixtures.join("bundle32.exe")).unwrap();
    changed.extend_from_slice(b"patched");
    std::fs::write(x86("DC2", "boot32wn.exe"), changed).unwrap();

    let out = tempfile::tempdir().unwrap();
    audit(&[estate.path()], out.path(), &["--fail-on", "never"]).code(0);
    let files = read_csv_maps(&out.path().join("files.csv"));
    let clicore = files
        .iter()
        .find(|f| f["location"] == r"\\DC1\SMSLOGON" && f["path"] == r"x86.bin\CLICORE.EXE")
        .unwrap();
    assert_eq!(clicore["version"], "2.0.1493.2163");
    assert_eq!(clicore["version_source"], "PE fixed file version");
    assert_eq!(clicore["string_version"], "2.00.1493.2150");
    assert!(clicore["reason"].contains("differs"), "{clicore:?}");
    let matrix = matrix(out.path());
    assert_eq!(
        cell(&matrix, r"base logon point x86.bin\clicore.exe", r"\\DC1\SMSLOGON"),
        "!! 2.0.1493.2163 (expected 2.0.1380.1123; 2.00.1493.2150, its string FileVersion)"
    );
    let boot = r"base logon point x86.bin\boot32wn.exe";
    assert_eq!(cell(&matrix, boot, r"\\DC1\SMSLOGON"), "2.0.91.3");
    assert_eq!(cell(&matrix, boot, r"\\DC4\SMSLOGON"), "2.0.91.3");
    assert!(
        cell(&matrix, boot, r"\\DC2\SMSLOGON").starts_with("!! 2.0.91.3 (expected 2.0.91.3, content "),
        "{}",
        cell(&matrix, boot, r"\\DC2\SMSLOGON")
    );
}

/// `smsaudit rules | head` must not panic when the reader has gone: the
/// pipe's read end is closed before the program writes.
#[test]
fn a_closed_pipe_is_not_a_crash() {
    for args in [vec!["rules"], vec!["explain", "F01"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = std::process::Command::new(common::BIN)
            .args(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn refuses_to_write_reports_inside_an_audited_root() {
    let estate = tempfile::tempdir().unwrap();
    copy_tree(&sample_shares().join("SERVER3"), &estate.path().join("SERVER3"));
    let before: Vec<_> = walkdir::WalkDir::new(estate.path())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .collect();
    for out in [
        estate.path().join("report"),
        estate.path().join("SERVER3/CAP_LN1/../report"),
    ] {
        common::smsaudit()
            .arg("audit")
            .arg(estate.path())
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("inside the audited root"));
    }
    let after: Vec<_> = walkdir::WalkDir::new(estate.path())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .collect();
    assert_eq!(before, after);
}

/// A site alone at SP1 whose CFGs look like the KB's only sample (no
/// version key) is healthy: the empty version shows, but nothing is flagged
/// until a shared logon point gives its clients a newer base.
#[test]
fn empty_cfg_versions_alone_are_shown_but_not_flagged() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    write(
        r,
        "SRV/CAP_AB1/clicomp.box/base/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    write(
        r,
        "SRV/CAP_AB1/clicomp.box/licmtr/compver.ini",
        "Version=2.00.1380.1000\n",
    );
    write(
        r,
        "SRV/CAP_AB1/clicomp.box/LICMTR.CFG",
        "[Component Configuration]\n    LastUpdate=29228490, 61154480\n    Name=LICENSE METERING\n    KeyFlags=0\n[IDENT]\n    TYPE=Base Config File Type\n",
    );
    let out = tempfile::tempdir().unwrap();
    // A lone CAP: nothing but "could not be judged" (A06), exit 3.
    audit(&[r], out.path(), &[]).code(3);
    assert!(
        findings(out.path()).iter().all(|f| f["code"] == "A06"),
        "{:?}",
        findings(out.path())
    );
    assert_eq!(
        cell(&matrix(out.path()), "licmtr.CFG version", r"\\SRV\CAP_AB1"),
        "(empty)"
    );
}
