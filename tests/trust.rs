//! A clean result must mean everything was checked: domain corrections
//! found on held-back estates, and what is said when something could not
//! be judged. Each test fails on the behaviour it replaces.

use crate::common;

use common::estate::*;
use common::smsaudit;
use smsaudit::model::CheckCode;

#[test]
fn f11_on_an_empty_senior_list_or_one_that_starts_with_white_space() {
    for content in ["", " BBB\r\n", "\tBBB\r\n"] {
        let e = shared(SP2, SP2);
        e.file("DC1/SMSLOGON/Sitescfg/Senior.lst", content);
        let audit = e.audit();
        let f11 = audit
            .findings
            .iter()
            .find(|f| f.code == CheckCode::F11)
            .unwrap_or_else(|| panic!("no F11 for {content:?}"));
        assert_eq!(f11.site, "AAA BBB", "the finding names the sites it affects");
        let senior = audit
            .files
            .to_vec()
            .unwrap()
            .into_iter()
            .find(|f| f.path.ends_with("Senior.lst"))
            .unwrap();
        assert_eq!(senior.status.as_str(), "ok", "a valid file, not a malformed one");
    }
}

#[test]
fn f16_whenever_clidata_src_lacks_caplist() {
    let e = lone(SP2);
    e.remove("SRVA/SMS_AAA/inboxes/clidata.src/caplist.ini");
    e.remove("SRVA/CAP_AAA/clidata.box/caplist.ini");
    let audit = e.audit();
    assert!(
        audit.findings.iter().any(|f| f.code == CheckCode::F16),
        "{:?}",
        audit.findings
    );
}

#[test]
fn empty_site_folder_is_called_empty_not_missing() {
    let e = lone(SP2);
    e.remove("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg");
    e.remove("DC1/SMSLOGON/Sites/AAA/NETCONF.NCF");
    for entry in std::fs::read_dir(e.path("DC1/SMSLOGON/Sites/AAA")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let audit = e.audit();
    let f05 = audit.findings.iter().find(|f| f.code == CheckCode::F05).expect("F05");
    assert_eq!(f05.observed, r"an empty Sites\AAA folder");
    let f09 = audit.findings.iter().find(|f| f.code == CheckCode::F09).expect("F09");
    assert_eq!(f09.observed, r"Sites\AAA is empty");
    std::fs::remove_dir(e.path("DC1/SMSLOGON/Sites/AAA")).unwrap();
    let audit = e.audit();
    let f05 = audit.findings.iter().find(|f| f.code == CheckCode::F05).expect("F05");
    assert_eq!(f05.observed, r"no Sites\AAA folder");
}

#[test]
fn f06_only_for_a_site_absent_from_the_whole_audit() {
    let e = shared(SP2, SP2);
    e.site("SRVC", "CCC", SP2);
    let text = std::fs::read_to_string(e.path("DC1/SMSLOGON/Config/copylog.tcf")).unwrap();
    e.file(
        "DC1/SMSLOGON/Config/copylog.tcf",
        format!("{text}SITES\\CCC\\cli_inst.cfg=CCC\r\n"),
    );
    // CCC has a CAP and a site server in this audit: not a removed site.
    assert!(!e.codes().contains(&"F06".to_string()), "{:?}", e.codes());
    let gone = shared(SP2, SP2);
    gone.file(
        "DC1/SMSLOGON/Config/copylog.tcf",
        format!("{text}SITES\\OLD\\cli_inst.cfg=OLD\r\n"),
    );
    assert!(gone.codes().contains(&"F06".to_string()), "{:?}", gone.codes());
}

#[test]
fn no_f20_on_a_logon_point_holding_the_named_sites_exact_copy() {
    let e = lone(SP2);
    // The site server's copy moved on; the CAP and the logon point hold the
    // same older file, the one Copylog's site offers its clients.
    e.file(
        "SRVA/SMS_AAA/inboxes/clicomp.src/base/i386/clicore.exe",
        "a newer build\r\n",
    );
    let audit = e.audit();
    let f20: Vec<&str> = audit
        .findings
        .iter()
        .filter(|f| f.code == CheckCode::F20)
        .map(|f| f.location.as_str())
        .collect();
    assert_eq!(f20, vec![r"\\SRVA\CAP_AAA"], "{f20:?}");
}

#[test]
fn per_site_compver_row_is_blank_where_the_site_does_not_use_the_logon_point() {
    let e = lone(SP2);
    e.site("SRVB", "BBB", SP2).logon_point("DC2", &["BBB"], "BBB", SP2);
    e.file("DC1/SMSLOGON/Sites/AAA/compver.ini", compver(SP2));
    let audit = e.audit();
    let row = audit
        .matrix
        .rows
        .iter()
        .find(|r| r.item == "base logon point compver.ini of site AAA")
        .expect("row");
    let at = |name: &str| {
        let i = audit.matrix.columns.iter().position(|c| c.location == name).unwrap();
        audit.matrix.cell(row, i)
    };
    assert_eq!(at(r"\\DC2\SMSLOGON").text, "", "DC2 does not serve AAA");
    assert_eq!(at(r"\\DC1\SMSLOGON").text, SP2);
}

#[test]
fn every_finding_names_its_site() {
    let mut audits = vec![smsaudit::run_audit(&smsaudit::Config::new(vec![
        common::sample_shares(),
    ]))];
    let e = shared(RTM, SP2);
    e.file("DC1/SMSLOGON/Sitescfg/Senior.lst", "");
    audits.push(e.audit());
    for audit in audits {
        for f in &audit.findings {
            assert!(!f.site.trim().is_empty(), "{} at {} has no site", f.code, f.location);
        }
    }
}

/// Runs `smsaudit audit ARGS --out <temp>` and returns (exit code, stderr).
fn run(args: &[&str]) -> (i32, String) {
    let out = tempfile::tempdir().unwrap();
    let output = smsaudit()
        .arg("audit")
        .args(args)
        .arg("--out")
        .arg(out.path())
        .arg("--quiet")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_root_that_holds_no_share_is_refused_before_the_crawl() {
    let sample = common::sample_shares();
    let typo = sample.with_file_name("sampel-shares");
    let (code, err) = run(&[typo.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("looked 3 folder level(s) down"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let (code, err) = run(&[empty.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no CAP, logon point or site server share"), "{err}");
    // A missing share named as one stays an unreadable location (exit 3).
    let (code, _) = run(&["/nonexistent/SERVERX/CAP_ZZ9", sample.join("SERVER3").to_str().unwrap()]);
    assert_eq!(code, 3);
}

#[test]
fn upgrade_requests_that_cannot_be_judged_are_refused() {
    let sample = common::sample_shares();
    let root = sample.to_str().unwrap();
    let (code, err) = run(&[root, "--upgrade", "XX9", "--to", "SP2"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("XX9") && err.contains("sites found: LN1, MS1, MS2"),
        "{err}"
    );
    let (code, err) = run(&[root, "--upgrade", "MS2", "--to", "RTM"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("downgrade"), "{err}");
}

#[test]
fn a_whole_group_upgraded_together_is_not_said_to_be_there_already() {
    let sample = common::sample_shares();
    let out = tempfile::tempdir().unwrap();
    let output = smsaudit()
        .arg("audit")
        .arg(&sample)
        .args(["--upgrade", "MS1,MS2", "--to", "SP2", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains("already at"), "{err}");
    assert!(err.contains("are every site that shares these logon points"), "{err}");
}

#[test]
fn an_unsafe_upgrade_fails_like_a_finding() {
    let e = shared(SP1, SP1);
    let root = e.root().to_str().unwrap();
    let (code, err) = run(&[root, "--upgrade", "AAA", "--to", "SP2"]);
    assert_eq!(code, 1, "BBB would be left behind: {err}");
    let (code, _) = run(&[root, "--upgrade", "AAA,BBB", "--to", "SP2"]);
    assert_eq!(code, 0);
    // The plan answers first: --fail-on never silences findings, not the
    // plan's verdict.
    let (code, _) = run(&[root, "--upgrade", "AAA", "--to", "SP2", "--fail-on", "never"]);
    assert_eq!(code, 1);
}

#[test]
fn a_baseline_or_inventory_that_is_not_one_is_refused() {
    let sample = common::sample_shares();
    let root = sample.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.json");
    std::fs::write(&bogus, r#"{"a":1}"#).unwrap();
    let (code, err) = run(&[root, "--baseline", bogus.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not an smsaudit audit.json"), "{err}");
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let (code, err) = run(&["--inventory", empty.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("names no share"), "{err}");
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo");
        common::mkfifo(&fifo);
        let (code, err) = run(&[root, "--baseline", fifo.to_str().unwrap()]);
        assert_eq!(code, 2, "a FIFO baseline is refused, not read forever: {err}");
        let (code, err) = run(&["--inventory", fifo.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
    }
}

/// The KB's own file and a logon point's Sites folder unreadable to the
/// audit account: not "missing", not "no Sites folder", not clean.
#[cfg(unix)]
#[test]
fn unreadable_is_not_missing() {
    use std::os::unix::fs::PermissionsExt;
    if !common::require_unprivileged() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let estate = dir.path().join("estate");
    common::sample_copy(&estate);
    for entry in walkdir::WalkDir::new(&estate) {
        let entry = entry.unwrap();
        let mode = if entry.file_type().is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let cfg = estate.join("SERVER1/CAP_MS1/clicomp.box/smsapm32.CFG");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(
        estate.join("DC2/SMSLOGON/Sites"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    // `smsaudit audit <estate> --out <out> ARGS` as the unprivileged `nobody`.
    let as_nobody = |args: &[&str]| {
        common::smsaudit_as_nobody()
            .arg("audit")
            .arg(&estate)
            .arg("--out")
            .arg(&out)
            .args(args)
            .output()
            .unwrap()
    };
    let output = as_nobody(&["--csv", "machine", "--fail-on", "never"]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "could not check everything: {err}");
    assert!(err.contains("not checked: 1 files and 1 folders"), "{err}");
    let findings = common::read_csv_maps(&out.join("findings.csv"));
    let a05: Vec<&str> = findings
        .iter()
        .filter(|f| f["code"] == "A05")
        .map(|f| f["path"].as_str())
        .collect();
    assert_eq!(a05, vec![r"clicomp.box\smsapm32.CFG", "Sites"], "{findings:#?}");
    for f in &findings {
        assert!(
            !(f["location"] == r"\\DC2\SMSLOGON" && ["F05", "F09"].contains(&f["code"].as_str())),
            "an unreadable Sites folder is not a missing one: {f:?}"
        );
    }
    let matrix = common::read_csv(&out.join("matrix.csv"));
    let column = matrix[0]
        .iter()
        .position(|h| h.starts_with(r"\\SERVER1\CAP_MS1"))
        .unwrap();
    let row = matrix.iter().find(|r| r[0] == "smsapm32.CFG version").unwrap();
    assert_eq!(row[column], "(unreadable)");
    // Findings still win over "could not check".
    assert_eq!(as_nobody(&["--quiet"]).status.code(), Some(1));
    let _ = std::fs::set_permissions(
        estate.join("DC2/SMSLOGON/Sites"),
        std::fs::Permissions::from_mode(0o755),
    );
}

#[test]
fn expected_but_absent_is_a_finding_and_a_red_cell() {
    let e = lone(SP2);
    e.remove("SRVA/CAP_AAA/clicomp.box/smsapm32/compver.ini");
    let audit = e.audit();
    let f = audit
        .findings
        .iter()
        .find(|f| f.code == CheckCode::F24 && f.path.contains("smsapm32"))
        .expect("F24 for the missing compver.ini");
    assert_eq!(f.observed, "missing");
    let row = audit
        .matrix
        .rows
        .iter()
        .find(|r| r.item == "smsapm32 compver.ini")
        .unwrap();
    let i = audit
        .matrix
        .columns
        .iter()
        .position(|c| c.location == r"\\SRVA\CAP_AAA")
        .unwrap();
    let cell = audit.matrix.cell(row, i);
    assert!(cell.state.is_mismatch(), "{}", cell.text);
    assert_eq!(cell.text, format!("!! (missing) (expected {SP2})"));

    // An empty clicomp.box on a CAP of its own: nothing to compare with,
    // and still not clean.
    let e = lone(SP2);
    std::fs::remove_dir_all(e.path("SRVA/SMS_AAA")).unwrap();
    std::fs::remove_dir_all(e.path("SRVA/CAP_AAA/clicomp.box")).unwrap();
    std::fs::create_dir(e.path("SRVA/CAP_AAA/clicomp.box")).unwrap();
    let audit = e.audit();
    assert!(
        audit
            .findings
            .iter()
            .any(|f| f.code == CheckCode::F24 && f.observed == "an empty clicomp.box"),
        "{:#?}",
        audit.findings
    );

    // A CFG the site's other CAP holds.
    let e = EstateBuilder::new();
    e.site("SRV1", "AAA", SP2).site("SRV2", "AAA", SP2);
    e.logon_point("DC1", &["AAA"], "AAA", SP2);
    e.remove("SRV2/CAP_AAA/clicomp.box/sinv.CFG");
    let audit = e.audit();
    assert!(audit
        .findings
        .iter()
        .any(|f| f.code == CheckCode::F24 && f.location == r"\\SRV2\CAP_AAA" && f.path == r"clicomp.box\sinv.cfg"));
}

#[test]
fn what_could_not_be_judged_is_said_and_is_not_clean() {
    let sample = common::sample_shares();
    // The broken RTM CAP on its own: Q236596 cannot be judged.
    let cap = sample.join("SERVER1/CAP_MS1");
    let out = tempfile::tempdir().unwrap();
    let output = smsaudit()
        .arg("audit")
        .arg(&cap)
        .arg("--out")
        .arg(out.path())
        .args(["--csv", "machine"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let findings = common::read_csv_maps(&out.path().join("findings.csv"));
    let observed: Vec<&str> = findings
        .iter()
        .filter(|f| f["code"] == "A06")
        .map(|f| f["observed"].as_str())
        .collect();
    assert_eq!(
        observed,
        vec![
            "no logon point of site MS1 audited",
            "no site server of site MS1 audited"
        ]
    );

    // Excluding the component box is not a silent clean.
    let e = lone(SP2);
    let root = e.root().to_str().unwrap();
    let (code, _) = run(&[root, "--exclude", "clicomp.box/*"]);
    assert_eq!(code, 3);
    let (code, _) = run(&[root]);
    assert_eq!(code, 0, "the same estate without the exclusion is clean");

    // A CAP whose name gives no site code.
    let e = lone(SP2);
    std::fs::rename(e.path("SRVA/CAP_AAA"), e.path("SRVA/cap1")).unwrap();
    let audit = e.audit();
    assert!(
        audit
            .findings
            .iter()
            .any(|f| f.code == CheckCode::A06 && f.observed == "no site code" && f.site == "(unknown)"),
        "{:#?}",
        audit.findings
    );
}

/// The Q236596 estate mounted under ordinary names: without an inventory
/// nothing says what `/mnt/cap1` is; with one naming each mount, it audits
/// as the shares it is.
#[test]
fn an_inventory_names_what_mounted_paths_are() {
    let sample = common::sample_shares();
    let mnt = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("SERVER1/CAP_MS1", "cap1"),
        ("SERVER1/SMS_MS1", "srv1"),
        ("SERVER2/CAP_MS2", "cap2"),
        ("SERVER2/SMS_MS2", "srv2"),
        ("DC1/SMSLOGON", "dc1"),
        ("DC2/SMSLOGON", "dc2"),
    ] {
        common::copy_tree(&sample.join(from), &mnt.path().join(to));
    }
    let inventory = mnt.path().join("estate.toml");
    std::fs::write(
        &inventory,
        r#"
[[site]]
code = "MS1"
caps = [{ name = '\\SERVER1\CAP_MS1', path = "cap1" }]
site_server = { name = '\\SERVER1\SMS_MS1', path = "srv1" }
domains = ["CORP"]

[[site]]
code = "MS2"
caps = [{ name = '\\SERVER2\CAP_MS2', path = "cap2" }]
site_server = { name = '\\SERVER2\SMS_MS2', path = "srv2" }
domains = ["CORP"]

[[domain]]
name = "CORP"
logon_points = [{ name = '\\DC1\SMSLOGON', path = "dc1" }, { name = '\\DC2\SMSLOGON', path = "dc2" }]
"#,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    smsaudit()
        .args(["audit", "--csv", "machine", "--quiet", "--inventory"])
        .arg(&inventory)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1);
    let findings = common::read_csv_maps(&out.path().join("findings.csv"));
    let f01: Vec<&str> = findings
        .iter()
        .filter(|f| f["code"] == "F01")
        .map(|f| f["location"].as_str())
        .collect();
    assert_eq!(f01, vec![r"\\DC1\SMSLOGON", r"\\DC2\SMSLOGON"]);
    assert!(findings
        .iter()
        .any(|f| f["code"] == "F02" && f["path"].contains("smsapm32")));
    assert!(!findings.iter().any(|f| f["code"] == "A06"), "{findings:#?}");
}

#[test]
fn a_logon_point_missing_base_files_its_sites_need() {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", SP1);
    for dc in ["DC1", "DC2", "DC3"] {
        e.logon_point(dc, &["AAA"], "AAA", SP1);
    }
    e.remove("DC3/SMSLOGON/x86.bin/boot32wn.exe");
    let audit = e.audit();
    let f = audit
        .findings
        .iter()
        .find(|f| f.code == CheckCode::A03 && f.observed == "(missing)")
        .expect("A03 for the missing Boot32wn");
    assert_eq!(f.location, r"\\DC3\SMSLOGON");
    let row = audit.matrix.rows.iter().find(|r| r.item.contains("boot32wn")).unwrap();
    let i = audit
        .matrix
        .columns
        .iter()
        .position(|c| c.location == r"\\DC3\SMSLOGON")
        .unwrap();
    let cell = audit.matrix.cell(row, i);
    assert!(
        cell.state.is_mismatch() && cell.text.starts_with("!! (missing)"),
        "{}",
        cell.text
    );
}

#[cfg(unix)]
#[test]
fn a_component_folder_that_is_a_link_is_not_judged_missing_or_clean() {
    // The link is never followed, so what the CAP offers for `base` is
    // unknown: not missing (no F24), not compared (no F01), and not clean.
    let e = shared(SP1, SP1);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("compver.ini"), compver(RTM)).unwrap();
    let base = e.path("SRVA/CAP_AAA/clicomp.box/base");
    std::fs::remove_dir_all(&base).unwrap();
    std::os::unix::fs::symlink(outside.path(), &base).unwrap();
    let audit = e.audit();
    let codes: Vec<&str> = audit.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(
        !codes.iter().any(|c| c.starts_with('F')),
        "a link is neither missing nor compared: {:#?}",
        audit.findings
    );
    let not_judged = audit
        .findings
        .iter()
        .find(|f| f.code == CheckCode::A06 && f.observed.contains("links or special files"))
        .expect("A06 names the link");
    assert!(
        not_judged.observed.contains("clicomp.box\\base"),
        "{}",
        not_judged.observed
    );
    assert_eq!(cell_text(&audit, "base compver.ini", r"\\SRVA\CAP_AAA"), "(unreadable)");
}
