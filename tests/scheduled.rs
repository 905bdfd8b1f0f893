//! Scheduled-audit scenarios in the Tripwire style: baseline, mutate, audit
//! again; inventory files; dead shares; exit codes; logs.

use crate::common;

use common::*;
#[cfg(target_os = "linux")]
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Audits the healthy part of a copy of sample-shares (site LN1 on SERVER3
/// and DC3), where the only reason for a non-zero exit is drift.
fn audit_healthy(estate: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    smsaudit()
        .arg("audit")
        .arg(estate.join("SERVER3"))
        .arg(estate.join("DC3"))
        .arg("--out")
        .arg(out)
        .args(["--csv", "machine", "--quiet"])
        .args(extra)
        .assert()
}

fn drift_rows(out: &Path) -> Vec<(String, String, String)> {
    read_csv_maps(&out.join("drift.csv"))
        .into_iter()
        .map(|r| (r["change"].clone(), r["path"].clone(), r["what"].clone()))
        .collect()
}

fn estate_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    sample_copy(dir.path());
    dir
}

#[test]
fn unchanged_estate_has_no_drift_and_exits_zero() {
    let estate = estate_copy();
    let base = tempfile::tempdir().unwrap();
    let again = tempfile::tempdir().unwrap();
    audit_healthy(estate.path(), base.path(), &[]).code(0);
    let baseline = base.path().join("audit.json");
    audit_healthy(estate.path(), again.path(), &["--baseline", baseline.to_str().unwrap()]).code(0);
    assert!(drift_rows(again.path()).is_empty());
}

#[test]
fn each_kind_of_change_is_reported_once() {
    let estate = estate_copy();
    let base = tempfile::tempdir().unwrap();
    audit_healthy(estate.path(), base.path(), &[]).code(0);

    let cap = estate.path().join("SERVER3/CAP_LN1");
    // content
    std::fs::write(cap.join("clidata.box/client.lkp"), "[Resync]\r\nAll=1\r\n").unwrap();
    // time only
    let touched = std::fs::File::options()
        .write(true)
        .open(cap.join("clidata.box/clibase.cfg"))
        .unwrap();
    touched
        .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    drop(touched);
    // rename
    std::fs::rename(
        cap.join("pkginfo.box/LN100001.pkg"),
        cap.join("pkginfo.box/LN100002.pkg"),
    )
    .unwrap();
    // delete
    std::fs::remove_file(cap.join("clifiles.box/hinv/sms_def.mof")).unwrap();
    // add
    std::fs::write(cap.join("offerinf.box/LN100009.ofr"), "[Offer]\r\n").unwrap();
    // CFG value
    let cfg = cap.join("clicomp.box/sinv.CFG");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("Version=2.00.1493.2006", "Version=2.00.1493.2007")).unwrap();
    // compver
    std::fs::write(
        cap.join("clicomp.box/sinv/compver.ini"),
        "[Version]\r\nVersion=2.00.1493.2007\r\n",
    )
    .unwrap();

    let out = tempfile::tempdir().unwrap();
    let baseline = base.path().join("audit.json");
    // The edits are also findings now (client.lkp differs from clidata.src:
    // F17; a CAP compver above the site server's: F23), so only drift may
    // decide the exit code here.
    audit_healthy(
        estate.path(),
        out.path(),
        &["--baseline", baseline.to_str().unwrap(), "--fail-on", "never"],
    )
    .code(4);
    // The modification time is kept to the second, so an edit made within
    // the same second as the baseline shows as content only.
    let rows: Vec<(String, String, String)> = drift_rows(out.path())
        .into_iter()
        .map(|(change, path, what)| (change, path, what.trim_end_matches(", modified time").to_string()))
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("added", r"offerinf.box\LN100009.ofr", "file"),
        ("changed", r"clicomp.box\sinv.CFG", "content"),
        ("changed", r"clicomp.box\sinv\compver.ini", "content"),
        ("changed", r"clidata.box\clibase.cfg", "modified time"),
        ("changed", r"clidata.box\client.lkp", "content, size"),
        ("moved", r"pkginfo.box\LN100002.pkg", "path"),
        ("removed", r"clifiles.box\hinv\sms_def.mof", "file"),
        ("version", r"clicomp.box\sinv.CFG", "sinv cfg"),
        ("version", r"clicomp.box\sinv\compver.ini", "sinv compver"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    let mut sorted = rows.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "{rows:#?}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    assert_eq!(json["drift"].as_array().unwrap().len(), expected.len());

    // The same comparison from the two saved audits, without rescanning.
    let diff = smsaudit()
        .arg("diff")
        .arg(&baseline)
        .arg(out.path().join("audit.json"))
        .assert()
        .code(4);
    let stdout = String::from_utf8(diff.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), expected.len() + 1);
    assert!(stdout.contains(r"moved,\\SERVER3\CAP_LN1,pkginfo.box\LN100002.pkg,pkginfo.box\LN100001.pkg"));
}

/// The sample estate through slowfs, where what `stall` names never answers.
#[cfg(target_os = "linux")]
fn mount_with_stall(dir: &Path, stall: &str) -> Option<slowfs::SlowFs> {
    slowfs::SlowFs::mount(&sample_shares(), &dir.join("mnt"), &["--stall", stall])
}

#[cfg(target_os = "linux")]
#[test]
fn a_share_that_never_answers_does_not_stop_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    // Opening or reading any file of CAP_LN1 never answers: the server died
    // after it was found.
    let Some(mount) = mount_with_stall(dir.path(), "open,read:/SERVER3/CAP_LN1/*") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let assert = smsaudit()
        .arg("audit")
        .arg(mount.path())
        .arg("--out")
        .arg(out.path())
        .args([
            "--csv",
            "machine",
            "--quiet",
            "--location-timeout",
            "2",
            "--fail-on",
            "never",
        ])
        .assert()
        .code(3);
    drop(assert);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    let locations: BTreeMap<String, (String, String)> = json["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let name = l["name"].as_str().unwrap().to_string();
            (
                name,
                (
                    l["status"].as_str().unwrap().to_string(),
                    l["reason"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(locations.len(), 9);
    let (status, reason) = &locations[r"\\SERVER3\CAP_LN1"];
    assert_eq!(status, "unreadable");
    assert!(reason.starts_with("timed out after 2 s"), "{reason}");
    assert!(locations
        .iter()
        .filter(|(n, _)| !n.contains("CAP_LN1"))
        .all(|(_, (s, _))| s == "ok"));
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    assert!(findings
        .iter()
        .any(|f| f["code"] == "A01" && f["location"] == r"\\SERVER3\CAP_LN1"));
    assert!(findings.iter().any(|f| f["code"] == "F01"), "the rest is still audited");
}

/// examples/sample-inventory.toml as committed.
fn sample_inventory() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-inventory.toml")).unwrap()
}

/// The sample inventory with its shares under the estate copy it is
/// written into (`unc_root = "."`).
fn sample_inventory_in_the_copy() -> String {
    sample_inventory().replace("unc_root = \"../sample-shares\"", "unc_root = \".\"")
}

#[test]
fn inventory_names_shares_and_unreachable_ones_are_findings() {
    let estate = estate_copy();
    let inventory = estate.path().join("estate.toml");
    let example = sample_inventory_in_the_copy()
        .replace("expected_release = \"SP2\"", "expected_release = \"SP3\"")
        .replace(
            r"caps = ['\\SERVER3\CAP_LN1']",
            r"caps = ['\\SERVER3\CAP_LN1', '\\SERVER9\CAP_LN1']",
        );
    std::fs::write(&inventory, example).unwrap();
    let out = tempfile::tempdir().unwrap();
    smsaudit()
        .args(["audit", "--inventory"])
        .arg(&inventory)
        .arg("--out")
        .arg(out.path())
        .args(["--csv", "machine", "--quiet"])
        .assert()
        .code(1);
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    let codes: Vec<(&str, &str, &str)> = findings
        .iter()
        .filter(|f| f["site"] == "LN1")
        .map(|f| (f["code"].as_str(), f["location"].as_str(), f["severity"].as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("A01", r"\\SERVER9\CAP_LN1", "error"),
            ("A02", r"\\SERVER3\CAP_LN1", "warning"),
            ("A02", r"\\SERVER3\SMS_LN1", "warning"),
        ]
    );
    // MS1 and MS2 are at the releases the inventory expects.
    assert!(!findings.iter().any(|f| f["code"] == "A02" && f["site"] != "LN1"));
    assert!(findings.iter().any(|f| f["code"] == "F01" && f["site"] == "MS1"));
}

/// A run from an inventory alone has no roots: the page and audit.json
/// name the inventory file instead of an empty "Roots" line.
#[test]
fn an_inventory_only_run_names_the_inventory_in_the_reports() {
    let estate = estate_copy();
    let inventory = estate.path().join("estate.toml");
    let example = sample_inventory_in_the_copy();
    std::fs::write(&inventory, example).unwrap();
    let out = tempfile::tempdir().unwrap();
    smsaudit()
        .args(["audit", "--inventory"])
        .arg(&inventory)
        .arg("--out")
        .arg(out.path())
        .args(["--format", "json,html", "--quiet"])
        .assert()
        .code(1);
    let audit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    assert_eq!(audit["roots"], serde_json::json!([]));
    assert_eq!(audit["inventory"], inventory.to_str().unwrap());
    let page = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(!page.contains("<dt>Roots</dt>"), "no empty Roots line");
    let line = page.split("<dt>Inventory</dt>").nth(1).expect("an Inventory line");
    let shown = line.split("</dd>").next().unwrap().replace("<wbr>", "");
    assert!(shown.contains("estate.toml"), "{shown}");

    // With roots as well, both are named.
    let both = tempfile::tempdir().unwrap();
    smsaudit()
        .args(["audit", "--inventory"])
        .arg(&inventory)
        .arg(estate.path().join("SERVER1"))
        .arg("--out")
        .arg(both.path())
        .args(["--format", "json", "--quiet"])
        .assert()
        .code(1);
    let audit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(both.path().join("audit.json")).unwrap()).unwrap();
    assert_eq!(audit["roots"].as_array().unwrap().len(), 1);
    assert_eq!(audit["inventory"], inventory.to_str().unwrap());
}

/// The TOML parser's message points at the line and column in several
/// lines: the terminal and the log show them as lines (not `\x0a`), the
/// control characters of the file still escaped.
#[test]
fn an_inventory_parse_error_is_shown_in_lines_on_the_terminal_and_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let example = sample_inventory();
    let cases = [
        (
            "typo.toml",
            example.replace("expected_release", "expected_relase"),
            "expected_relase",
        ),
        (
            "control.toml",
            format!("# \u{1b}]0;owned\u{7}\n{example}"),
            r"\x1b]0;owned\x07",
        ),
    ];
    for (name, text, shown) in cases {
        let inventory = dir.path().join(name);
        std::fs::write(&inventory, text).unwrap();
        let log = dir.path().join(format!("{name}.log"));
        let output = smsaudit()
            .args(["audit", "--inventory"])
            .arg(&inventory)
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg("--log")
            .arg(&log)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8(output.stderr).unwrap();
        let logged = std::fs::read_to_string(&log).unwrap();
        let error = logged.split("error: ").nth(1).expect("the error is logged");
        for text in [stderr.as_str(), error] {
            assert!(!text.contains(r"\x0a"), "{text}");
            assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text}");
            let lines: Vec<&str> = text.lines().collect();
            assert!(lines[0].contains("is not valid: TOML parse error at line"), "{text}");
            assert!(lines[1..4].iter().all(|l| l.starts_with("  ")), "indented: {text}");
            assert!(lines.iter().any(|l| l.contains(shown) && l.contains(" | ")), "{text}");
        }
    }
}

#[test]
fn bad_inventory_or_baseline_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[site]]\ncode = \"TOOLONG\"\n").unwrap();
    smsaudit()
        .args(["audit", "--inventory"])
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("TOOLONG"));
    smsaudit()
        .arg("audit")
        .arg(sample_shares())
        .arg("--baseline")
        .arg(dir.path().join("missing.json"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read baseline"));
}

#[test]
fn log_says_what_was_read_and_skipped_and_exclusions_apply() {
    let estate = estate_copy();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc", estate.path().join("SERVER3/CAP_LN1/link-out")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let log = out.path().join("audit.log");
    audit_healthy(
        estate.path(),
        out.path(),
        &["--log", log.to_str().unwrap(), "--exclude", "OFFERINF.BOX/*"],
    )
    // The exclusion hides files F12 and F14 read: A06, not clean.
    .code(3);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains(r"location \\SERVER3\CAP_LN1 (CAP LN1) from"), "{log}");
    assert!(
        log.contains(r"version 2.00.1493.2011 from \\SERVER3\CAP_LN1\clicomp.box\smsapm32\compver.ini (key Version)")
    );
    #[cfg(unix)]
    assert!(
        log.contains(r"skipped \\SERVER3\CAP_LN1\link-out: symbolic link, not followed"),
        "{log}"
    );
    // Excluded entries are not read: each is a skipped row with no hash,
    // so what the exclusion hides is known (and A06 names it).
    let files = read_csv_maps(&out.path().join("files.csv"));
    let excluded: Vec<_> = files
        .iter()
        .filter(|f| f["path"].to_ascii_lowercase().starts_with("offerinf.box"))
        .collect();
    assert!(!excluded.is_empty());
    for f in excluded {
        assert_eq!((f["status"].as_str(), f["sha256"].as_str()), ("skipped", ""), "{f:?}");
        assert!(f["reason"].starts_with("excluded"), "{f:?}");
    }
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    assert!(findings
        .iter()
        .any(|f| f["code"] == "A06" && f["observed"].contains("excluded")));
    assert!(files.iter().any(|f| f["path"].starts_with("pkginfo.box")));
}

#[cfg(target_os = "linux")]
#[test]
fn a_silent_share_is_given_up_after_the_stall_limit() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mount) = mount_with_stall(dir.path(), "open,read:/DC3/SMSLOGON/*") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    smsaudit()
        .arg("audit")
        .arg(mount.path().join("SERVER3"))
        .arg(mount.path().join("DC3"))
        .arg("--out")
        .arg(out.path())
        .args(["--csv", "machine", "--quiet", "--stall-timeout", "2"])
        .assert()
        .code(3);
    // Without DC3, LN1 has no logon point in the audit: A06 says so.
    let findings: Vec<_> = read_csv_maps(&out.path().join("findings.csv"))
        .into_iter()
        .filter(|f| f["code"] != "A06")
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], "A01");
    assert_eq!(findings[0]["location"], r"\\DC3\SMSLOGON");
    assert!(findings[0]["observed"].starts_with("no answer for 2 s"), "{findings:?}");
}

/// A slow share that keeps answering is not a dead one: the stall limit
/// counts time without progress, not time in all.
#[cfg(target_os = "linux")]
#[test]
fn a_slow_share_that_keeps_answering_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    // Every read of a file takes 300 ms: each share takes longer than the
    // 1 s limit. (Discovery reads no file, so it is not slowed.)
    let Some(mount) = slowfs::SlowFs::mount(&sample_shares(), &dir.path().join("mnt"), &["--slow", "/SERVER3/*:300"])
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    smsaudit()
        .arg("audit")
        .arg(mount.path().join("SERVER3"))
        .arg("--out")
        .arg(out.path())
        .args(["--csv", "machine", "--quiet", "--stall-timeout", "1", "-j", "2"])
        .assert()
        // Read in full; only A06 (no logon point audited) keeps it from clean.
        .code(3);
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "not slow: {:?}",
        started.elapsed()
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    for location in json["locations"].as_array().unwrap() {
        assert_eq!(location["status"], "ok", "{location}");
    }
    let on_disk = walkdir::WalkDir::new(sample_shares().join("SERVER3"))
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_file())
        .count() as u64;
    assert_eq!(json["summary"]["files"].as_u64().unwrap(), on_disk);
}
