//! Release labels from the release table and the pre-upgrade plan: stock
//! versions are their release, the plan names its prerequisites and steps,
//! is simulated through the checks, and answers with its own exit code.

use crate::common;

use common::estate::*;
use common::read_csv_maps;
use std::path::Path;

/// The release the Sites table gives a lone site at `base`, and its CAP's.
fn site_release(base: &str) -> (String, String) {
    let audit = lone(base).audit();
    let site = audit.sites.iter().find(|s| s.site == "AAA").expect("site AAA");
    (site.release.clone(), site.caps[0].release.clone())
}

#[test]
fn stock_service_pack_versions_are_their_release_not_a_hotfix() {
    for (base, label) in [(SP2, "SP2"), (SP3, "SP3"), ("2.00.1493.4009", "SP4")] {
        assert_eq!(site_release(base), (label.to_string(), label.to_string()), "{base}");
    }
    // Above the stock revision it is a hotfix; the hundreds digit 4-9 an ICP.
    assert_eq!(site_release("2.00.1493.2010").0, "SP2 hotfix");
    assert_eq!(site_release("2.00.1493.3442").0, "SP3 ICP build");
}

/// The sample's MS1 CAP is RTM under logon points whose Clicore is SP1's
/// 2.0.1380.1123: what its base compver.ini must hold is said in the form
/// a compver takes.
#[test]
fn a_caps_base_compver_is_expected_as_a_release_not_a_clicore_version() {
    let mut config = smsaudit::Config::new(vec![sample_shares()]);
    config.jobs = 2;
    let audit = smsaudit::run_audit(&config);
    let cell = cell_text(&audit, "base compver.ini", r"\\SERVER1\CAP_MS1");
    assert!(cell.ends_with("(expected SP1 (2.00.1380.1000 or later))"), "{cell}");
    let f01: Vec<_> = audit.findings.iter().filter(|f| f.code.to_string() == "F01").collect();
    assert!(!f01.is_empty());
    for finding in f01 {
        assert!(
            finding.expected.starts_with("SP1 (2.00.1380.1000 or later)"),
            "{}",
            finding.expected
        );
    }
    let ms1 = audit.sites.iter().find(|s| s.site == "MS1").unwrap();
    assert_eq!(ms1.logon_points[0].release, "SP1", "SP1's own Clicore is SP1");
}

fn audit_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap()
}

/// `smsaudit audit` over `root` into `out` with `args`; returns the exit
/// code and stderr.
fn audit_with(root: &Path, out: &Path, args: &[&str]) -> (i32, String) {
    let output = common::smsaudit()
        .arg("audit")
        .arg(root)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The SP2 plan for the Q236596 group names each site's prerequisites for
/// its release and the wait for Copylog.tcf, in every report.
#[test]
fn an_sp2_plan_names_the_prerequisites_of_each_sites_release() {
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = audit_with(
        &sample_shares(),
        out.path(),
        &["--fail-on", "never", "--upgrade", "MS1,MS2", "--to", "SP2"],
    );
    assert_eq!(code, 0, "a safe plan with --fail-on never: {stderr}");
    for needed in [
        "MS1 (RTM): Q251070 (Nt_logon.dll 2.0.1239.62) and Q252718 (CCM)",
        "MS2 (SP1): Q249077 (Nt_logon.dll 2.0.1380.1105) and Q252717 (CCM)",
        "Copylog.tcf of every logon point",
    ] {
        // The summary is wrapped to the console's width (100 columns off a terminal).
        let flat = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(needed), "console lacks {needed:?}: {stderr}");
    }
    let rows = read_csv_maps(&out.path().join("upgrade.csv"));
    let ms1 = rows.iter().find(|r| r["site"] == "MS1").unwrap();
    assert!(ms1["prerequisites"].contains("Q251070"), "{ms1:?}");
    assert!(ms1["steps"].contains("Copylog.tcf"), "{ms1:?}");
    let ms2 = rows.iter().find(|r| r["site"] == "MS2").unwrap();
    assert!(ms2["prerequisites"].contains("Q249077") && ms2["prerequisites"].contains("Q252717"));
    let json = audit_json(out.path());
    let prerequisites = &json["upgrade"]["groups"][0]["prerequisites"];
    assert_eq!(prerequisites[0]["kbs"], serde_json::json!(["Q251070", "Q252718"]));
    assert_eq!(prerequisites[1]["kbs"], serde_json::json!(["Q249077", "Q252717"]));
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("Q251070") && html.contains("Q249077") && html.contains("Q252718"));
    // Simulated: every finding of today goes away once both sites are at SP2.
    let simulation = &json["upgrade"]["simulation"];
    assert_eq!(simulation["remain"].as_array().unwrap().len(), 0, "{simulation}");
    assert_eq!(simulation["appear"].as_array().unwrap().len(), 0, "{simulation}");
    assert_eq!(simulation["go_away"].as_array().unwrap().len(), 7, "{simulation}");
}

/// The plan answers with its own exit code: with `--fail-on never` the
/// estate's findings do not count, the plan's verdict does.
#[test]
fn the_plan_has_its_own_exit_code() {
    let out = tempfile::tempdir().unwrap();
    let never = ["--fail-on", "never", "--upgrade"];
    let (unsafe_code, stderr) = audit_with(
        &sample_shares(),
        out.path(),
        &[&never[..], &["MS2", "--to", "SP2"]].concat(),
    );
    assert_eq!(unsafe_code, 1, "{stderr}");
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("status.json")).unwrap()).unwrap();
    assert_eq!(status["upgrade"]["verdict"], "unsafe");
    assert_eq!(status["exit_code"], 1);
    let (safe_code, stderr) = audit_with(
        &sample_shares(),
        out.path(),
        &[&never[..], &["MS1,MS2", "--to", "SP2"]].concat(),
    );
    assert_eq!(safe_code, 0, "{stderr}");
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("status.json")).unwrap()).unwrap();
    assert_eq!(status["upgrade"]["verdict"], "safe");
    // A safe plan on an estate with errors: the estate still fails by default.
    let (code, _) = audit_with(&sample_shares(), out.path(), &["--upgrade", "MS1,MS2", "--to", "SP2"]);
    assert_eq!(code, 1);
}

/// A site sharing the logon point whose release the audit cannot tell
/// makes the plan not judgeable: never "safe".
#[test]
fn a_plan_over_a_site_of_unknown_release_is_not_judgeable() {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", SP1)
        .logon_point("DC1", &["AAA", "BBB"], "AAA", SP1);
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = audit_with(
        e.root(),
        out.path(),
        &["--fail-on", "never", "--upgrade", "AAA", "--to", "SP2"],
    );
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("cannot be judged"), "{stderr}");
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("status.json")).unwrap()).unwrap();
    assert_eq!(status["upgrade"]["verdict"], "not_judgeable");
    assert_eq!(status["upgrade"]["safe"], false);
}

/// The plan's words match the plan: the cause's upgrade step goes to the
/// plan's target, a site already there is not "left behind", a request for
/// the release a site has is a no-op, SP1 plans say nothing of SP2's
/// prerequisites.
#[test]
fn the_plan_wording_matches_the_plan() {
    let out = tempfile::tempdir().unwrap();
    let (_, stderr) = audit_with(&sample_shares(), out.path(), &["--upgrade", "MS1", "--to", "SP2"]);
    assert!(!stderr.contains("Upgrade site MS1 to SP1"), "{stderr}");
    assert!(stderr.contains("1. Upgrade sites MS1 and MS2 to SP2"), "{stderr}");
    let causes = read_csv_maps(&out.path().join("causes.csv"));
    assert!(!causes[0]["fix"].contains("to SP1"), "{}", causes[0]["fix"]);
    // The simulation: MS2 left at SP1 under SP2 logon points.
    let json = audit_json(out.path());
    let appear = json["upgrade"]["simulation"]["appear"].as_array().unwrap();
    assert!(
        appear
            .iter()
            .any(|f| f["code"] == "F03" && f["location"] == r"\\SERVER2\CAP_MS2"),
        "{appear:?}"
    );

    let (_, stderr) = audit_with(&sample_shares(), out.path(), &["--upgrade", "MS1", "--to", "SP1"]);
    assert!(
        !stderr.contains("(already there)") && !stderr.contains("left behind: MS2"),
        "{stderr}"
    );
    assert!(stderr.contains("already at SP1 or later: MS2"), "{stderr}");
    assert!(
        !stderr.contains("Q251070") && !stderr.contains("SP2-or-later"),
        "{stderr}"
    );

    let (_, stderr) = audit_with(&sample_shares(), out.path(), &["--upgrade", "MS2", "--to", "SP1"]);
    assert!(stderr.contains("MS2 to SP1: nothing to do"), "{stderr}");
    assert!(stderr.contains("no-op"), "{stderr}");
    assert!(!stderr.contains("already at SP1 or later: MS1"), "{stderr}");

    // An unsafe SP1 plan: no SP2 prerequisite sentence.
    let e = shared(RTM, RTM);
    let (code, stderr) = audit_with(
        e.root(),
        out.path(),
        &["--fail-on", "never", "--upgrade", "AAA", "--to", "SP1"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("left behind: BBB"), "{stderr}");
    assert!(
        !stderr.contains("SP2-or-later") && !stderr.contains("Q252718"),
        "{stderr}"
    );
}
