//! Causes: findings grouped by the one thing to fix. Every finding belongs
//! to exactly one cause; Q236596 on shared logon points is one cause per
//! group of sites, however many CFGs and logon points show it.

use crate::common;

use common::estate::*;
use common::*;
use smsaudit::Audit;
use std::collections::BTreeSet;
use std::path::Path;

/// The invariants every audit's causes keep.
fn assert_partition(audit: &Audit) {
    let mut seen = vec![0usize; audit.findings.len()];
    for (n, cause) in audit.causes.iter().enumerate() {
        assert_eq!(cause.id, format!("C{}", n + 1), "ids follow report order");
        assert!(!cause.findings.is_empty(), "{} has no finding", cause.id);
        let members: Vec<_> = cause.findings.iter().map(|&i| &audit.findings[i]).collect();
        for (&position, finding) in cause.findings.iter().zip(&members) {
            seen[position] += 1;
            assert_eq!(finding.cause, cause.id, "finding {position} names another cause");
        }
        assert_eq!(
            Some(cause.severity),
            members.iter().map(|f| f.severity).max(),
            "{} takes its worst finding's severity",
            cause.id
        );
        let codes: BTreeSet<_> = members.iter().map(|f| f.code).collect();
        assert_eq!(cause.codes, codes.into_iter().collect::<Vec<_>>());
        assert!(!cause.fix.is_empty() && !cause.title.is_empty());
        for finding in &members {
            for kb in finding.kb.split(", ").filter(|k| *k != "-") {
                assert!(cause.kb.iter().any(|k| k == kb), "{} lacks {kb}", cause.id);
            }
        }
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "every finding belongs to exactly one cause: {seen:?}"
    );
    let severities: Vec<_> = audit.causes.iter().map(|c| c.severity).collect();
    assert!(severities.windows(2).all(|w| w[0] >= w[1]), "worst first");
    assert_eq!(audit.summary.causes, audit.causes.len());
}

fn sample_audit() -> Audit {
    let mut config = smsaudit::Config::new(vec![sample_shares()]);
    config.jobs = 2;
    smsaudit::run_audit(&config)
}

#[test]
fn the_sample_q236596_is_one_cause_with_every_symptom() {
    let audit = sample_audit();
    assert_partition(&audit);
    assert_eq!(audit.findings.len(), 7);
    assert_eq!(audit.causes.len(), 1, "{:#?}", audit.causes);
    let cause = &audit.causes[0];
    assert_eq!(cause.key, "behind-logon-points:MS1 MS2");
    assert_eq!(
        cause.title,
        r"Site MS1 is at RTM but shares logon points \\DC1\SMSLOGON and \\DC2\SMSLOGON with MS2, whose SP1 upgrade replaced the base files there"
    );
    assert_eq!(cause.sites, ["MS1", "MS2"]);
    assert_eq!(
        cause.locations,
        [r"\\DC1\SMSLOGON", r"\\DC2\SMSLOGON", r"\\SERVER1\CAP_MS1"]
    );
    assert_eq!(cause.kb, ["Q236596"]);
    assert!(
        cause.fix[0].starts_with("Upgrade site MS1 to SP1, the release of MS2."),
        "{}",
        cause.fix[0]
    );
    assert!(cause.fix[0].contains("Sites MS1 and MS2 share logon points and must move together"));
    assert!(cause.fix.iter().any(|s| s.contains("Smsls.bat")), "the interim step");
    assert!(
        cause
            .fix
            .last()
            .unwrap()
            .contains(r"5 component CFG files on \\SERVER1\CAP_MS1"),
        "the check after the upgrade: {:?}",
        cause.fix
    );
}

#[test]
fn sites_behind_one_logon_point_are_one_cause_and_other_groups_their_own() {
    let e = EstateBuilder::new();
    // AAA and CCC (RTM, CFGs without versions) share DC1 with BBB (SP1);
    // DDD (SP1) shares DC2 with EEE (SP2).
    e.site_with("SRVA", "AAA", RTM, false)
        .site_with("SRVC", "CCC", RTM, false)
        .site("SRVB", "BBB", SP1)
        .logon_point("DC1", &["AAA", "BBB", "CCC"], "BBB", SP1)
        .site("SRVD", "DDD", SP1)
        .site("SRVE", "EEE", SP2)
        .logon_point("DC2", &["DDD", "EEE"], "EEE", SP2);
    let audit = e.audit();
    assert_partition(&audit);
    let behind: Vec<_> = audit
        .causes
        .iter()
        .filter(|c| c.key.starts_with("behind-logon-points:"))
        .collect();
    assert_eq!(behind.len(), 2, "{:#?}", audit.causes);
    let first = behind
        .iter()
        .find(|c| c.key == "behind-logon-points:AAA BBB CCC")
        .unwrap();
    assert_eq!(
        first.title,
        r"Sites AAA and CCC are at RTM but share logon point \\DC1\SMSLOGON with BBB, whose SP1 upgrade replaced the base files there"
    );
    let symptoms: BTreeSet<_> = first
        .findings
        .iter()
        .map(|&i| audit.findings[i].code.as_str())
        .collect();
    assert_eq!(symptoms, BTreeSet::from(["F01", "F02"]));
    assert!(
        first.fix[0].starts_with("Upgrade sites AAA and CCC to SP1"),
        "{}",
        first.fix[0]
    );
    let second = behind.iter().find(|c| c.key == "behind-logon-points:DDD EEE").unwrap();
    assert!(second.title.starts_with("Site DDD is at SP1 but"), "{}", second.title);
    assert!(
        second.kb.iter().any(|k| k == "Q264630"),
        "F03's article: {:?}",
        second.kb
    );
}

#[test]
fn one_check_at_several_shares_of_a_site_is_one_cause_per_site() {
    let e = shared(SP1, SP1);
    e.file("SRVA/CAP_AAA/offerinf.box/Inboxlck.tok", "")
        .file("SRVB/CAP_BBB/offerinf.box/Inboxlck.tok", "");
    // A second CAP of AAA with the same leftover.
    for (comp, version) in versions(SP1) {
        e.file(
            &format!("SRVA2/CAP_AAA/clicomp.box/{comp}/compver.ini"),
            compver(&version),
        );
    }
    e.file("SRVA2/CAP_AAA/offerinf.box/Inboxlck.tok", "");
    let audit = e.audit();
    assert_partition(&audit);
    let tokens: Vec<_> = audit
        .causes
        .iter()
        .filter(|c| c.codes.iter().any(|c| c.as_str() == "F12"))
        .collect();
    assert_eq!(tokens.len(), 2, "{:#?}", audit.causes);
    let aaa = tokens.iter().find(|c| c.key == "F12:site:AAA").expect("AAA's cause");
    assert_eq!(aaa.locations, [r"\\SRVA2\CAP_AAA", r"\\SRVA\CAP_AAA"]);
    assert_eq!(aaa.findings.len(), 2);
    assert!(aaa.title.starts_with("Site AAA: "), "{}", aaa.title);
}

#[test]
fn names_that_differ_in_case_are_one_cause_per_share() {
    let e = shared(SP1, SP1);
    e.file("SRVA/CAP_AAA/clicomp.box/BASE/compver.ini", compver(RTM))
        .file("SRVA/CAP_AAA/clicomp.box/HINV/compver.ini", compver(RTM));
    let audit = e.audit();
    assert_partition(&audit);
    let twins: Vec<_> = audit.causes.iter().filter(|c| c.key.starts_with("A07:")).collect();
    assert_eq!(twins.len(), 1, "{:#?}", audit.causes);
    assert_eq!(twins[0].key, r"A07:location:\\SRVA\CAP_AAA");
    assert!(twins[0].findings.len() >= 2, "both pairs: {:#?}", twins[0]);
}

#[test]
fn generated_estates_keep_the_partition() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    common::generated(
        &estate,
        &["--sites", "10", "--caps-per-site", "1", "--logon-points", "3"],
    );
    let mut config = smsaudit::Config::new(vec![estate]);
    config.jobs = 2;
    let audit = smsaudit::run_audit(&config);
    assert!(audit.locations.len() >= 30);
    assert_partition(&audit);
    assert!(
        audit.causes.len() < audit.findings.len() / 2,
        "{} causes for {} findings",
        audit.causes.len(),
        audit.findings.len()
    );
}

fn run(args: &[&str], out: &Path) -> assert_cmd::assert::Assert {
    common::smsaudit()
        .arg("audit")
        .arg(sample_shares())
        .arg("--out")
        .arg(out)
        .args(args)
        .assert()
}

#[test]
fn reports_carry_the_causes() {
    let out = tempfile::tempdir().unwrap();
    run(&[], out.path()).code(1);
    let causes = read_csv_maps(&out.path().join("causes.csv"));
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0]["cause"], "C1");
    assert_eq!(causes[0]["severity"], "error");
    assert_eq!(causes[0]["findings"], "7");
    assert_eq!(causes[0]["codes"], "F01 F02");
    assert_eq!(causes[0]["clients"], "", "no client logs, no count");
    assert!(causes[0]["fix"].starts_with("1. Upgrade site MS1 to SP1"));
    assert!(causes[0]["fix"].contains("\n2. Until then"));
    let findings = read_csv_maps(&out.path().join("findings.csv"));
    assert_eq!(findings.len(), 7);
    assert!(findings.iter().all(|f| f["cause"] == "C1"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    assert_eq!(json["causes"][0]["findings"].as_array().unwrap().len(), 7);
    assert_eq!(json["findings"][0]["cause"], "C1");
    assert_eq!(json["summary"]["causes"], 1);
    let site = json["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == "MS1")
        .unwrap();
    assert_eq!(site["release"], "RTM");
    assert_eq!(site["upgrade_group"], serde_json::json!(["MS1", "MS2"]));
    assert_eq!(site["causes"], serde_json::json!(["C1"]));
    assert_eq!(site["logon_points"][0]["name"], r"\\DC1\SMSLOGON");
    assert!(json["started"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn the_pre_upgrade_plan_goes_into_the_fix() {
    let out = tempfile::tempdir().unwrap();
    run(&["--upgrade", "MS2", "--to", "SP2"], out.path()).code(1);
    let causes = read_csv_maps(&out.path().join("causes.csv"));
    assert!(
        causes[0]["fix"].contains("\n2. Pre-upgrade plan: "),
        "{}",
        causes[0]["fix"]
    );
}

#[test]
fn the_summary_lists_causes_and_verbose_lists_their_findings() {
    let out = tempfile::tempdir().unwrap();
    let plain = run(&[], out.path()).code(1);
    let stderr = String::from_utf8_lossy(&plain.get_output().stderr).into_owned();
    assert!(stderr.contains("in 1 cause"), "{stderr}");
    assert!(stderr.contains("  error C1 Q236596: Site MS1 is at RTM"), "{stderr}");
    assert!(stderr.contains("      1. Upgrade site MS1 to SP1"), "{stderr}");
    assert!(!stderr.contains("F02"), "findings only with -v: {stderr}");
    let verbose = run(&["-v"], out.path()).code(1);
    let stderr = String::from_utf8_lossy(&verbose.get_output().stderr).into_owned();
    assert_eq!(
        stderr.matches("      - error F0").count(),
        7,
        "every finding under its cause: {stderr}"
    );
}

const SP4: &str = "2.00.1493.4009";

/// Every fix step of every cause, one string each.
fn fix_steps(audit: &Audit) -> Vec<String> {
    audit.causes.iter().flat_map(|c| c.fix.iter().cloned()).collect()
}

/// Issue 27: a second CAP of the SP2 site LN1 whose clicomp.box is still
/// SP1 is one cause, named by that CAP and the copy that did not happen;
/// LN1 is not "behind" and nothing says to replace Clicore.exe.
#[test]
fn a_lagging_cap_is_one_cause_named_by_the_cap_and_its_replication() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("estate");
    sample_copy(&root);
    common::copy_tree(&sample_shares().join("SERVER3/CAP_LN1"), &root.join("SERVER4/CAP_LN1"));
    std::fs::remove_dir_all(root.join("SERVER4/CAP_LN1/clicomp.box")).unwrap();
    common::copy_tree(
        &sample_shares().join("SERVER2/CAP_MS2/clicomp.box"),
        &root.join("SERVER4/CAP_LN1/clicomp.box"),
    );
    let mut config = smsaudit::Config::new(vec![root]);
    config.jobs = 2;
    let audit = smsaudit::run_audit(&config);
    assert_partition(&audit);
    let ln1: Vec<_> = audit
        .causes
        .iter()
        .filter(|c| c.sites.iter().any(|s| s == "LN1"))
        .collect();
    assert_eq!(ln1.len(), 1, "one cause for LN1: {:#?}", audit.causes);
    let cause = ln1[0];
    assert_eq!(cause.key, r"lagging-cap:\\SERVER4\CAP_LN1");
    assert!(
        cause
            .title
            .starts_with(r"\\SERVER4\CAP_LN1 still offers SP1; replication from \\SERVER3\SMS_LN1 did not complete"),
        "{}",
        cause.title
    );
    assert_eq!(cause.severity.as_str(), "error", "F03 makes it an error");
    assert!(
        cause.fix[0].contains("Inbox Manager"),
        "replication first: {:?}",
        cause.fix
    );
    let codes: BTreeSet<&str> = cause.codes.iter().map(|c| c.as_str()).collect();
    assert!(
        codes.contains("F03") && codes.contains("F24") && codes.contains("F20"),
        "{codes:?}"
    );
    assert!(cause
        .findings
        .iter()
        .all(|&i| audit.findings[i].location.contains("SERVER4") || audit.findings[i].code.as_str() == "F01"));
    for step in fix_steps(&audit) {
        assert!(!step.contains("Upgrade site LN1"), "{step}");
        assert!(!step.contains("Replace Clicore"), "{step}");
    }
    assert!(audit.causes.iter().all(|c| !c.title.starts_with("Site LN1")));
    assert!(
        cause.kb.iter().any(|k| k == "Q263411"),
        "manual runs do not bridge: {:?}",
        cause.kb
    );
}

/// Issue 27: during an SP4 upgrade the upgraded senior site AAA (the one
/// Copylog and Senior.lst name) has a second CAP still at SP3. AAA is not
/// behind: nothing tells the admin to upgrade it or to disable its logon
/// methods (which would remove Sites\AAA and break every new logon
/// installation, Q263345); BBB, still at SP3, is the site behind.
#[test]
fn an_upgraded_senior_site_with_a_lagging_cap_is_not_behind() {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", SP4)
        .site("SRVB", "BBB", SP3)
        .logon_point("DC1", &["AAA", "BBB"], "AAA", SP4)
        .file("DC1/SMSLOGON/Sitescfg/Senior.lst", "AAA\r\n");
    for (comp, version) in versions(SP3) {
        e.file(
            &format!("SRVA2/CAP_AAA/clicomp.box/{comp}/compver.ini"),
            compver(&version),
        );
    }
    e.file("SRVA2/CAP_AAA/clicomp.box/base/i386/clicore.exe", clicore(SP3));
    let audit = e.audit();
    assert_partition(&audit);
    let lagging = audit
        .causes
        .iter()
        .find(|c| c.key == r"lagging-cap:\\SRVA2\CAP_AAA")
        .unwrap_or_else(|| panic!("{:#?}", audit.causes));
    assert!(
        lagging.title.contains("replication from \\\\SRVA\\SMS_AAA"),
        "{}",
        lagging.title
    );
    let behind = audit
        .causes
        .iter()
        .find(|c| c.key.starts_with("behind-logon-points:"))
        .unwrap_or_else(|| panic!("{:#?}", audit.causes));
    assert!(behind.title.starts_with("Site BBB is at SP3"), "{}", behind.title);
    for step in fix_steps(&audit) {
        assert!(
            !step.contains("Upgrade site AAA") && !step.contains("sites AAA"),
            "{step}"
        );
        assert!(!step.contains("Installation for AAA"), "{step}");
    }
    assert!(behind.fix[0].starts_with("Upgrade site BBB to SP4"), "{:?}", behind.fix);
}

/// Q263345, Q235726: when the site behind is the one the bootstrap
/// follows (Senior.lst names it), the interim step is GOTO END only, and
/// the fix says what disabling its logon methods breaks.
#[test]
fn the_site_the_bootstrap_follows_is_never_told_to_disable_its_logon_methods() {
    let e = shared(SP1, SP2);
    e.file("DC1/SMSLOGON/Sitescfg/Senior.lst", "AAA\r\n");
    let audit = e.audit();
    assert_partition(&audit);
    let steps = fix_steps(&audit);
    assert!(
        steps
            .iter()
            .all(|s| !s.contains("disable Windows Networking Logon Discovery and Installation for AAA")),
        "{steps:#?}"
    );
    let interim = steps
        .iter()
        .find(|s| s.starts_with("Until then, keep the clients of AAA"))
        .unwrap_or_else(|| panic!("{steps:#?}"));
    assert!(
        interim.contains("GOTO END") && interim.contains("Senior.lst on \\\\DC1\\SMSLOGON names it"),
        "{interim}"
    );
    assert!(
        interim.contains("Q263345") && interim.contains("Sites\\AAA"),
        "{interim}"
    );
}

/// Q238302, Q259816: the Q236596 workaround for an SP1 site says that LSM
/// may leave the logon points in place and what to do by hand.
#[test]
fn the_workaround_for_an_sp1_site_carries_the_q238302_caveat() {
    let audit = shared(SP1, SP2).audit();
    assert_partition(&audit);
    let steps = fix_steps(&audit);
    let interim = steps
        .iter()
        .find(|s| s.starts_with("Until then, keep the clients of AAA"))
        .unwrap_or_else(|| panic!("{steps:#?}"));
    assert!(interim.contains("Site AAA is at SP1"), "{interim}");
    assert!(interim.contains("Q238302") && interim.contains("Q259816"), "{interim}");
    assert!(interim.contains("delete AAA_cfg.lcf from the PDC"), "{interim}");
    assert!(interim.contains("confirm Sites\\AAA goes"), "{interim}");
}
