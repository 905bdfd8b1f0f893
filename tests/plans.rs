//! Release labels from the release table and the pre-upgrade plan: stock
//! versions are their release, the plan names its prerequisites and steps,
//! is simulated through the checks, and answers with its own exit code.

use crate::common;

use common::estate::*;
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

#[allow(dead_code)]
fn audit_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap()
}
