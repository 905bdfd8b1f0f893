//! One test per implemented check of the catalogue: a tree built to
//! trigger it, and the healthy tree (or a near miss) that must not.

use crate::common;

use common::estate::*;
use smsaudit::sms::checks::CHECKS;

fn has(e: &EstateBuilder, code: &str) -> bool {
    e.codes().iter().any(|c| c == code)
}

fn assert_clean(e: &EstateBuilder) {
    let audit = e.audit();
    let findings: Vec<String> = audit
        .findings
        .iter()
        .map(|f| format!("{} {}", f.code, f.message))
        .collect();
    assert!(findings.is_empty(), "healthy estate has findings: {findings:#?}");
}

#[test]
fn healthy_estates_have_no_findings() {
    for base in [RTM, SP1, SP2, SP3] {
        assert_clean(&lone(base));
        assert_clean(&shared(base, base));
    }
}

#[test]
fn f01_logon_base_newer_than_cap() {
    let e = shared(RTM, SP1);
    let audit = e.audit();
    let f = audit.findings.iter().find(|f| f.code.as_str() == "F01").expect("F01");
    assert_eq!(f.site, "AAA");
    assert!(f.message.contains("identical"), "{}", f.message);
    assert!(!has(&shared(SP1, SP1), "F01"));
}

#[test]
fn f02_cfg_without_version_under_newer_base() {
    let e = EstateBuilder::new();
    e.site_with("SRVA", "AAA", RTM, false)
        .site("SRVB", "BBB", SP1)
        .logon_point("DC1", &["AAA", "BBB"], "BBB", SP1);
    assert!(has(&e, "F02"));
    assert!(!has(&shared(RTM, SP1), "F02"));
}

#[test]
fn f03_cap_release_below_sp2_logon_clicore() {
    assert!(has(&shared(SP1, SP2), "F03"));
    assert!(!has(&shared(RTM, SP1), "F03"));
    assert!(!has(&shared(SP2, SP2), "F03"));
}

#[test]
fn f04_copylog_names_site_of_other_release() {
    let e = shared(SP1, SP2);
    e.copylog(
        "DC1",
        "[FILE SOURCE]\r\nX86.BIN\\CLICORE.EXE=AAA\r\nX86.BIN\\SMSBOOT1.EXE=BBB\r\nX86.BIN\\BOOT32WN.EXE=BBB\r\nX86.BIN\\SLWNT32.EXE=BBB\r\nI386\\NTLGDSCA.EXE=BBB",
    );
    assert!(has(&e, "F04"));
    assert!(!has(&shared(SP1, SP2), "F04"));
}

#[test]
fn f05_copylog_site_without_configuration() {
    let e = lone(SP2);
    e.remove("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg");
    assert!(has(&e, "F05"));
    assert!(!has(&lone(SP2), "F05"));
}

#[test]
fn f06_copylog_names_removed_site() {
    let e = lone(SP2);
    e.copylog(
        "DC1",
        "[FILE SOURCE]\r\nX86.BIN\\CLICORE.EXE=OLD\r\nX86.BIN\\SMSBOOT1.EXE=AAA\r\nX86.BIN\\BOOT32WN.EXE=AAA\r\nX86.BIN\\SLWNT32.EXE=AAA\r\nI386\\NTLGDSCA.EXE=AAA\r\nSITES\\AAA\\cli_inst.cfg=AAA",
    );
    let codes = e.codes();
    assert!(codes.contains(&"F06".to_string()), "{codes:?}");
    assert!(!has(&lone(SP2), "F06"));
}

#[test]
fn f07_copylog_lacks_shared_files() {
    let e = lone(SP2);
    e.copylog("DC1", "[FILE SOURCE]\r\nSITES\\AAA\\cli_inst.cfg=AAA");
    assert!(has(&e, "F07"));
    let e = lone(SP2);
    e.file("DC1/SMSLOGON/x86.bin/bootdwn.exe", "new");
    assert!(has(&e, "F07"));
    let e = lone(SP2);
    e.remove("DC1/SMSLOGON/Config/copylog.tcf");
    assert!(has(&e, "F07"));
}

#[test]
fn f08_sharing_sites_at_different_sp2_releases() {
    assert!(has(&shared(SP2, SP3), "F08"));
    assert!(!has(&shared(RTM, SP1), "F08"));
}

#[test]
fn f09_participant_without_site_files() {
    let e = lone(SP2);
    e.remove("DC1/SMSLOGON/Sites/AAA/NETCONF.NCF");
    assert!(has(&e, "F09"));
}

#[test]
fn f10_orphaned_site_folder() {
    let e = lone(SP2);
    e.file("DC1/SMSLOGON/Sites/OLD/cli_inst.cfg", "x");
    assert!(has(&e, "F10"));
    // A folder for a site that still has an LCF is not orphaned.
    assert!(!has(&shared(SP2, SP2), "F10"));
}

#[test]
fn f11_senior_list_names_no_participant() {
    let e = shared(SP2, SP2);
    e.file("DC1/SMSLOGON/Sitescfg/Senior.lst", "bbb\r\n");
    assert!(has(&e, "F11"));
    let e = shared(SP2, SP2);
    e.file("DC1/SMSLOGON/Sitescfg/Senior.lst", "BBB\r\n");
    assert!(!has(&e, "F11"));
}

#[test]
fn f12_lock_token_in_offerinf() {
    let e = lone(SP3);
    e.file("SRVA/CAP_AAA/offerinf.box/Inboxlck.tok", "");
    assert_eq!(e.codes(), vec!["F12"]);
}

#[test]
fn f13_swdist_stuck() {
    let e = lone(SP3);
    e.file("SRVA/CAP_AAA/clicomp.box/SWDist/inboxlck.tok", "");
    assert_eq!(e.codes(), vec!["F13"]);
    let e = lone(SP3);
    e.file("SRVA/CAP_AAA/clicomp.box/SWDist/i386/swdist32.exe", "half a copy");
    assert_eq!(e.codes(), vec!["F13"]);
}

#[test]
fn f14_instruction_names_missing_offer() {
    let e = lone(SP2);
    e.remove("SRVA/CAP_AAA/offerinf.box/AAA00001.ofr");
    assert_eq!(e.codes(), vec!["F14"]);
    let e = lone(SP2);
    e.file("SRVA/CAP_AAA/offerinf.box/AAA00001.ofr", "");
    assert_eq!(e.codes(), vec!["F14"]);
    // A truncated .ins is a deleted advertisement, not a fault.
    let e = lone(SP2);
    e.file("SRVA/CAP_AAA/offerinf.box/AAA00001.ins", "");
    assert!(e.codes().is_empty());
}

#[test]
fn f16_caplist_missing_from_clidata_src() {
    let e = lone(SP2);
    e.remove("SRVA/SMS_AAA/inboxes/clidata.src/caplist.ini");
    assert_eq!(e.codes(), vec!["F16"]);
}

#[test]
fn f17_client_lkp_differs() {
    let e = lone(SP2);
    e.file("SRVA/CAP_AAA/clidata.box/client.lkp", "[Resync]\r\nold\r\n");
    assert_eq!(e.codes(), vec!["F17"]);
}

#[test]
fn f19_cli_inst_differs() {
    let e = lone(SP2);
    e.file("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg", "stale CRCs");
    assert_eq!(e.codes(), vec!["F19"]);
    let e = lone(SP2);
    e.file("SRVA/CAP_AAA/clidata.box/clibase.cfg", "stale CRCs");
    assert_eq!(e.codes(), vec!["F19"]);
}

#[test]
fn f20_clicore_differs() {
    let e = lone(SP3);
    e.file("SRVA/CAP_AAA/clicomp.box/base/i386/clicore.exe", "corrupt");
    assert_eq!(e.codes(), vec!["F20"]);
    let e = lone(SP3);
    e.file("DC1/SMSLOGON/x86.bin/CLICORE.EXE", "corrupt");
    assert!(has(&e, "F20"));
}

#[test]
fn f21_site_clicore_dated_before_logon_copy() {
    let build = |src_days: u64| {
        let e = EstateBuilder::new();
        e.site("SRVA", "AAA", "2.00.1493.4009")
            .site("SRVB", "BBB", SP3)
            .logon_point("DC1", &["AAA", "BBB"], "BBB", SP3)
            .dated("DC1/SMSLOGON/x86.bin/CLICORE.EXE", 700)
            .dated("SRVA/SMS_AAA/inboxes/clicomp.src/base/i386/clicore.exe", src_days);
        e
    };
    assert!(has(&build(383), "F21"));
    assert!(!has(&build(748), "F21"));
}

#[test]
fn f22_revision_does_not_match_build() {
    let e = lone(SP1);
    for rel in [
        "SRVA/CAP_AAA/clicomp.box/base/compver.ini",
        "SRVA/SMS_AAA/inboxes/clicomp.src/base/compver.ini",
    ] {
        e.file(rel, compver("2.00.1380.2004"));
    }
    assert!(has(&e, "F22"));
}

#[test]
fn f23_site_server_compver_lower_than_cap() {
    let e = lone(SP1);
    // The CAP got a hotfix the site server's clicomp.src no longer has.
    e.file(
        "SRVA/CAP_AAA/clicomp.box/remctrl/compver.ini",
        compver("2.00.1380.1056"),
    );
    assert_eq!(e.codes(), vec!["F23"]);
}

#[test]
fn f24_cap_compver_behind_site_server() {
    let e = lone(SP1);
    e.file("SRVA/CAP_AAA/clicomp.box/hinv/compver.ini", compver("2.00.1239.0000"));
    assert!(has(&e, "F24"));
    assert!(!has(&e, "F23"));
}

#[test]
fn f25_unrenamed_compver_variant() {
    let e = lone(SP1);
    e.file(
        "SRVA/CAP_AAA/clicomp.box/smsapm32/Compver1110.ini",
        compver("2.00.1380.1110"),
    );
    let audit = e.audit();
    let f = audit.findings.iter().find(|f| f.code.as_str() == "F25").expect("F25");
    assert_eq!(f.severity, smsaudit::sms::checks::Severity::Warning);
    let e = lone(SP2);
    e.file(
        "SRVA/CAP_AAA/clicomp.box/smsapm32/Compver1110.ini",
        compver("2.00.1380.1110"),
    );
    let audit = e.audit();
    assert_eq!(audit.findings[0].severity, smsaudit::sms::checks::Severity::Info);
}

#[test]
fn f26_withdrawn_sp3_rc9() {
    let e = lone("2.00.1493.3009");
    assert!(has(&e, "F26"));
    assert!(!has(&lone("2.00.1493.3010"), "F26"));
}

#[test]
fn f27_reserved_site_code() {
    let e = lone(SP2);
    e.site("SRVP", "PRN", SP2);
    // PRN uses no audited logon point: A06 says so beside F27.
    assert_eq!(e.codes(), vec!["A06", "F27"]);
}

/// Sites AAA (US English) and BBB (German) at `base` sharing DC1, their
/// site servers' `bin\i386` language folders (Q202941) and both on DC1.
fn two_languages(base: &str) -> EstateBuilder {
    let e = shared(base, base);
    e.file("SRVA/SMS_AAA/bin/i386/00000409/smsman.exe", "Smsman 0409\r\n")
        .file("SRVA/SMS_AAA/bin/i386/cliver.exe", "Cliver\r\n")
        .file("SRVB/SMS_BBB/bin/i386/00000407/smsman.exe", "Smsman 0407\r\n")
        .folder("DC1/SMSLOGON/x86.bin/00000409")
        .folder("DC1/SMSLOGON/x86.bin/00000407");
    e
}

/// N16 (the SMSLOGON share comment, Q235173) needs a share read over SMB:
/// tests/smb_native.rs serves a wrong comment and one that cannot be read.
/// A local logon point has no comment to read: no N16, no A06 note, and
/// its location says `not_applicable`.
#[test]
fn n16_is_not_judged_on_a_local_logon_point() {
    use smsaudit::model::{LocationKind, ShareComment};
    let e = shared(SP1, SP1);
    let audit = e.audit();
    assert!(audit.locations.iter().any(|l| l.kind == LocationKind::LogonPoint));
    for location in &audit.locations {
        assert_eq!(location.share_comment, ShareComment::NotApplicable, "{location:?}");
    }
    assert_clean(&e);
}

/// F32 (a CAP's folder permissions, Q252856) needs a CAP read over SMB:
/// tests/smb_native.rs serves RTM's Change on an SP2 CAP, the same CAP set
/// up right, and a descriptor that cannot be read. A local CAP has no
/// permissions to read: no F32, no A06 note, and its location says
/// `not_applicable`.
#[test]
fn f32_is_not_judged_on_a_local_cap() {
    use smsaudit::model::{FolderAcls, LocationKind};
    let e = shared(SP1, SP1);
    let audit = e.audit();
    assert!(audit.locations.iter().any(|l| l.kind == LocationKind::Cap));
    for location in &audit.locations {
        assert_eq!(location.folder_acls, FolderAcls::NotApplicable, "{location:?}");
    }
    assert_clean(&e);
}

fn findings_of(e: &EstateBuilder, code: &str) -> Vec<smsaudit::model::Finding> {
    e.audit()
        .findings
        .into_iter()
        .map(|j| j.finding)
        .filter(|f| f.code.as_str() == code)
        .collect()
}

#[test]
fn f30_language_folder_missing_on_mixed_language_logon_point() {
    for base in [RTM, SP1, SP2, SP3] {
        let e = two_languages(base);
        assert!(!has(&e, "F30"), "{base}: both languages present");
        e.remove_folder("DC1/SMSLOGON/x86.bin/00000407");
        let found = findings_of(&e, "F30");
        assert_eq!(found.len(), 1, "{base}: {found:#?}");
        assert_eq!(found[0].site, "BBB");
        assert_eq!(found[0].path, "x86.bin\\00000407");
        assert_eq!(found[0].severity, smsaudit::model::Severity::Info);
        assert!(found[0].message.contains("Q275591"), "{}", found[0].message);
    }
    // Sites of one language: nothing to lose, whatever the logon point holds.
    let e = shared(SP2, SP2);
    e.file("SRVA/SMS_AAA/bin/i386/00000409/smsman.exe", "x")
        .file("SRVB/SMS_BBB/bin/i386/00000409/smsman.exe", "x");
    assert!(!has(&e, "F30"));
    // A bin\\i386 without language folders is a partial copy: not judged.
    let e = two_languages(SP2);
    e.remove_folder("DC1/SMSLOGON/x86.bin/00000409")
        .remove_folder("SRVB/SMS_BBB/bin/i386/00000407")
        .file("SRVB/SMS_BBB/bin/i386/ccm.dll", "x");
    assert!(!has(&e, "F30"));
    // Without BBB's site server its languages are unknown: not judged.
    let e = two_languages(SP2);
    e.remove_folder("DC1/SMSLOGON/x86.bin/00000407")
        .remove_folder("SRVB/SMS_BBB");
    assert!(!has(&e, "F30"));
}

/// A folder that is there but cannot be opened (a link the audit does not
/// follow) is "could not check", never missing: no F30, no N04.
#[cfg(unix)]
#[test]
fn f30_and_n04_a_folder_that_cannot_be_opened_is_not_missing() {
    let e = two_languages(SP2);
    e.remove_folder("DC1/SMSLOGON/x86.bin/00000407");
    std::os::unix::fs::symlink("/nonexistent", e.path("DC1/SMSLOGON/x86.bin/00000407")).unwrap();
    assert!(!has(&e, "F30"));
    let e = lone(SP2);
    e.remove_folder("SRVA/CAP_AAA/ccr.box");
    std::os::unix::fs::symlink("/nonexistent", e.path("SRVA/CAP_AAA/ccr.box")).unwrap();
    let codes = e.codes();
    assert!(!codes.contains(&"N04".to_string()), "{codes:?}");
    assert!(
        codes.contains(&"A06".to_string()),
        "the link is said as not judged: {codes:?}"
    );
}

#[test]
fn n04_cap_lacks_inbox_folders() {
    for base in [RTM, SP1, SP2, SP3] {
        let e = lone(base);
        e.remove_folder("SRVA/CAP_AAA/ccr.box")
            .remove_folder("SRVA/CAP_AAA/pkginfo.box");
        let found = findings_of(&e, "N04");
        assert_eq!(found.len(), 1, "{base}: {found:#?}");
        assert_eq!(found[0].site, "AAA");
        assert_eq!(found[0].observed, "missing pkginfo.box, ccr.box");
    }
    // A copy of the read-only boxes alone is a partial copy: not judged.
    let e = lone(SP2);
    for b in ["ccr.box", "ddr.box", "inventry.box", "sinv.box", "statmsgs.box"] {
        e.remove_folder(&format!("SRVA/CAP_AAA/{b}"));
    }
    assert!(!has(&e, "N04"));
}

#[test]
fn n07_icp_revisions_differ_between_sharing_sites() {
    for (icp, plain) in [
        ("2.00.1380.1400", SP1),
        ("2.00.1493.2400", SP2),
        ("2.00.1493.3642", SP3),
    ] {
        let e = EstateBuilder::new();
        e.site("SRVA", "AAA", icp)
            .site("SRVB", "BBB", plain)
            .logon_point("DC1", &["AAA", "BBB"], "AAA", icp);
        let found = findings_of(&e, "N07");
        assert_eq!(found.len(), 1, "{icp}: {found:#?}");
        assert_eq!(found[0].site, "BBB");
        // The same ICP everywhere is healthy.
        let e = EstateBuilder::new();
        e.site("SRVA", "AAA", icp)
            .site("SRVB", "BBB", icp)
            .logon_point("DC1", &["AAA", "BBB"], "AAA", icp);
        assert!(!has(&e, "N07"), "{icp}");
    }
    // Different hotfix revisions without an ICP are not N07.
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", "2.00.1380.1105")
        .site("SRVB", "BBB", SP1)
        .logon_point("DC1", &["AAA", "BBB"], "AAA", "2.00.1380.1105");
    assert!(!has(&e, "N07"));
    // An SP1 ICP component on an SP2 site.
    let e = lone(SP2);
    e.file(
        "SRVA/SMS_AAA/inboxes/clicomp.src/SWDist/compver.ini",
        compver("2.00.1380.1400"),
    )
    .file("SRVA/CAP_AAA/clicomp.box/SWDist/compver.ini", compver("2.00.1380.1400"));
    let found = findings_of(&e, "N07");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].location, "\\\\SRVA\\SMS_AAA");
    // The same ICP component on its own service pack is fine.
    let e = lone(SP1);
    e.file(
        "SRVA/SMS_AAA/inboxes/clicomp.src/SWDist/compver.ini",
        compver("2.00.1380.1400"),
    )
    .file("SRVA/CAP_AAA/clicomp.box/SWDist/compver.ini", compver("2.00.1380.1400"));
    assert!(!has(&e, "N07"));
}

/// Site AAA at `base` with a hotfix log of `kb` and `files` in its site
/// server's bin\i386 at the versions given.
fn hotfixed(base: &str, kb: &str, files: &[(&str, &str)]) -> EstateBuilder {
    let e = lone(base);
    e.file(
        &format!("SRVA/SMS_AAA/Logs/{kb}r.txt"),
        format!("*** Installation Started ***\r\nFile Overwrite: E:\\SMS\\LOGS\\{kb}r.txt\r\n"),
    );
    for (file, version) in files {
        e.file(
            &format!("SRVA/SMS_AAA/bin/i386/{file}"),
            common::pe::with_version("smsdll32.dll", version),
        );
    }
    e
}

#[test]
fn n08_hotfix_logged_but_binaries_at_stock_versions() {
    let cases: [(&str, &str, &[&str], &str, &str); 4] = [
        (
            "Q252717",
            SP1,
            &["Ccm.dll", "Ccmbtldr.exe", "Baseobj.dll"],
            "2.0.1380.1000",
            "2.0.1380.1125",
        ),
        ("Q249077", SP1, &["Nt_logon.dll"], "2.0.1380.1000", "2.0.1380.1105"),
        (
            "Q252718",
            RTM,
            &["Ccm.dll", "Ccmbtldr.exe"],
            "2.0.1239.0",
            "2.0.1239.64",
        ),
        ("Q251070", RTM, &["Nt_logon.dll"], "2.0.1239.0", "2.0.1239.62"),
    ];
    for (kb, base, files, stock, fixed) in cases {
        let at = |v: &'static str| files.iter().map(|f| (*f, v)).collect::<Vec<_>>();
        let found = findings_of(&hotfixed(base, kb, &at(stock)), "N08");
        assert_eq!(found.len(), 1, "{kb}: {found:#?}");
        assert_eq!(found[0].site, "AAA");
        assert!(found[0].path.ends_with(&format!("{kb}r.txt")), "{}", found[0].path);
        assert!(found[0].message.contains("Q273853"), "{}", found[0].message);
        // The hotfix did its work (Baseobj.dll of Q252717 is 2.0.1380.1101).
        let done: Vec<(&str, &str)> = files
            .iter()
            .map(|f| (*f, if *f == "Baseobj.dll" { "2.0.1380.1101" } else { fixed }))
            .collect();
        assert!(!has(&hotfixed(base, kb, &done), "N08"), "{kb}");
        // One file replaced: not "all still at stock".
        let mut partial = at(stock);
        partial[0].1 = "2.0.1493.2000";
        assert!(!has(&hotfixed(base, kb, &partial), "N08"), "{kb}");
    }
    // No file of the table in bin\i386: nothing to compare, not judged.
    assert!(!has(&hotfixed(SP1, "Q252717", &[]), "N08"));
    // A hotfix whose table is not known is not judged.
    assert!(!has(&hotfixed(SP1, "Q999999", &[("Ccm.dll", "2.0.1380.1000")]), "N08"));
}

/// AAA and BBB at `base` share DC1 and DC2 (Copylog source `dc2_source`);
/// DC1 holds Senior.lst.
fn two_domains(base: &str, dc2_source: &str) -> EstateBuilder {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", base)
        .site("SRVB", "BBB", base)
        .logon_point("DC1", &["AAA", "BBB"], "AAA", base)
        .logon_point("DC2", &["AAA", "BBB"], dc2_source, base)
        .file("DC1/SMSLOGON/Sitescfg/Senior.lst", "AAA\r\n");
    e
}

/// The N03 findings of an audit of `e` with `inventory` (TOML) as (location, site).
fn n03_with_inventory(e: &EstateBuilder, inventory: &str) -> Vec<(String, String)> {
    let path = e.path("estate.toml");
    std::fs::write(&path, inventory).unwrap();
    let out = tempfile::tempdir().unwrap();
    common::smsaudit()
        .args(["audit", "--inventory"])
        .arg(&path)
        .arg("--out")
        .arg(out.path())
        .args(["--csv", "machine", "--quiet", "--fail-on", "never"])
        .assert()
        .success();
    common::read_csv_maps(&out.path().join("findings.csv"))
        .into_iter()
        .filter(|f| f["code"] == "N03")
        .map(|f| (f["location"].clone(), f["site"].clone()))
        .collect()
}

#[test]
fn n03_senior_list_on_one_domain_only() {
    for base in [RTM, SP1, SP2] {
        // Without an inventory: the Copylog sources split DC1 and DC2 apart.
        let found = findings_of(&two_domains(base, "BBB"), "N03");
        assert_eq!(found.len(), 1, "{base}: {found:#?}");
        assert_eq!(found[0].location, "\\\\DC2\\SMSLOGON");
        assert_eq!(found[0].site, "AAA BBB");
        assert!(found[0].message.contains("Q263395"), "{}", found[0].message);
        // Senior.lst in both: healthy.
        let e = two_domains(base, "BBB");
        e.file("DC2/SMSLOGON/Sitescfg/Senior.lst", "AAA\r\n");
        assert!(!has(&e, "N03"), "{base}");
        // The same Copylog sources: one domain (a PDC and its BDC) as far as
        // the shares tell, and Senior.lst is on the PDC only by design.
        assert!(!has(&two_domains(base, "AAA"), "N03"), "{base}");
    }
    // With the inventory's domains: DC1 and DC2 are EAST (Senior.lst on
    // its PDC DC1), DC3 is WEST, all with the same Copylog sources.
    let e = two_domains(SP2, "AAA");
    e.logon_point("DC3", &["AAA", "BBB"], "AAA", SP2);
    let inventory = |west: &str| {
        format!(
            "unc_root = \".\"\n[[site]]\ncode = \"AAA\"\ncaps = ['\\\\SRVA\\CAP_AAA']\nsite_server = '\\\\SRVA\\SMS_AAA'\ndomains = [\"EAST\", \"WEST\"]\n[[site]]\ncode = \"BBB\"\ncaps = ['\\\\SRVB\\CAP_BBB']\nsite_server = '\\\\SRVB\\SMS_BBB'\ndomains = [\"EAST\", \"WEST\"]\n[[domain]]\nname = \"EAST\"\nlogon_points = ['\\\\DC1\\SMSLOGON', '\\\\DC2\\SMSLOGON']\n[[domain]]\nname = \"WEST\"\nlogon_points = [{west}]\n"
        )
    };
    assert_eq!(
        n03_with_inventory(&e, &inventory("'\\\\DC3\\SMSLOGON'")),
        vec![("\\\\DC3\\SMSLOGON".to_string(), "AAA BBB".to_string())]
    );
    assert!(!has(&e, "N03"), "without the inventory the domains are not told apart");
    e.file("DC3/SMSLOGON/Sitescfg/Senior.lst", "AAA\r\n");
    assert!(n03_with_inventory(&e, &inventory("'\\\\DC3\\SMSLOGON'")).is_empty());
}

#[test]
fn a07_names_that_differ_only_in_case_are_not_judged() {
    // A stray RTM copy beside the SP1 component folder: Windows gets one
    // of the two, so the CAP's base is neither compared nor called missing.
    let e = shared(SP1, SP1);
    e.file("SRVA/CAP_AAA/clicomp.box/BASE/compver.ini", compver(RTM));
    let audit = e.audit();
    let twin = audit.findings.iter().find(|f| f.code.as_str() == "A07").expect("A07");
    assert!(twin.observed.contains("clicomp.box\\BASE") && twin.observed.contains("clicomp.box\\base"));
    assert!(
        !audit.findings.iter().any(|f| f.code.as_str().starts_with('F')),
        "a twinned path is not judged either way: {:#?}",
        audit.findings
    );
    assert_eq!(cell_text(&audit, "base compver.ini", r"\\SRVA\CAP_AAA"), "(ambiguous)");
    assert!(!has(&shared(SP1, SP1), "A07"));
}

#[test]
fn a08_a_share_that_fans_out_is_bounded_and_not_clean() {
    let e = shared(SP1, SP1);
    let extra = smsaudit::audit::MAX_ITEMS_PER_LOCATION + 20;
    for i in 0..extra {
        e.file(&format!("SRVA/CAP_AAA/clicomp.box/x{i:05}/compver.ini"), compver(SP1));
    }
    let audit = e.audit();
    let fan = audit.findings.iter().find(|f| f.code.as_str() == "A08").expect("A08");
    assert!(fan.location.ends_with("CAP_AAA"), "{}", fan.location);
    let rows = audit.matrix.rows.len();
    assert!(
        rows <= smsaudit::audit::MAX_ITEMS_PER_LOCATION + 40,
        "matrix bounded per share, got {rows} rows"
    );
    // The real components sort before the extra ones and are still compared.
    assert!(audit.matrix.rows.iter().any(|r| r.item == "base compver.ini"));
    // Every file is still hashed and listed.
    assert!(
        audit
            .files
            .to_vec()
            .unwrap()
            .iter()
            .filter(|f| f.path.contains("\\x0"))
            .count()
            >= extra
    );
    assert!(!has(&shared(SP1, SP1), "A08"));
}

#[test]
fn healthy_sample_part_has_no_findings() {
    let config = smsaudit::Config::new(vec![sample_shares().join("SERVER3"), sample_shares().join("DC3")]);
    let audit = smsaudit::run_audit(&config);
    assert_eq!(audit.summary.locations, 3);
    assert!(audit.findings.is_empty(), "{:#?}", audit.findings);
}

#[test]
fn full_sample_names_q236596_for_ms1_on_dc1_and_dc2() {
    let audit = smsaudit::run_audit(&smsaudit::Config::new(vec![sample_shares()]));
    let f01: Vec<(&str, &str)> = audit
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "F01")
        .map(|f| (f.site.as_str(), f.location.as_str()))
        .collect();
    assert_eq!(f01, vec![("MS1", r"\\DC1\SMSLOGON"), ("MS1", r"\\DC2\SMSLOGON")]);
    assert!(
        audit.findings.iter().all(|f| f.kb.contains("Q236596")),
        "{:#?}",
        audit.findings
    );
    assert!(audit.findings.iter().all(|f| f.site == "MS1"));
}

#[test]
fn upgrade_check_names_the_group_through_the_binary() {
    let out = tempfile::tempdir().unwrap();
    let output = common::smsaudit()
        .arg("audit")
        .arg(sample_shares())
        .arg("-o")
        .arg(out.path())
        .args(["--fail-on", "never", "--upgrade", "ms2", "--to", "SP2"])
        .output()
        .unwrap();
    // The plan leaves MS1 behind: it answers 1 even with --fail-on never.
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("must move together: {MS1, MS2}"), "{stderr}");
    let csv = std::fs::read_to_string(out.path().join("upgrade.csv")).unwrap();
    assert!(csv.contains("MS1,left behind,2.00.1239.0000 (RTM),yes"), "{csv}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    assert_eq!(json["upgrade"]["groups"][0]["sites"], serde_json::json!(["MS1", "MS2"]));
    assert_eq!(json["upgrade"]["safe"], serde_json::json!(false));
    // LN1 shares nothing: safe, and no upgrade.csv row names another site.
    let out2 = tempfile::tempdir().unwrap();
    common::smsaudit()
        .arg("audit")
        .arg(sample_shares())
        .arg("-o")
        .arg(out2.path())
        .args(["--fail-on", "never", "--upgrade", "LN1", "--to", "2.00.1493.4009"])
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out2.path().join("audit.json")).unwrap()).unwrap();
    assert_eq!(json["upgrade"]["safe"], serde_json::json!(true));
    common::smsaudit()
        .arg("audit")
        .arg(sample_shares())
        .args(["--upgrade", "MS1", "--to", "SP9"])
        .assert()
        .code(2);
}

#[test]
fn rules_lists_all_32_and_explain_says_what_is_not_checked() {
    let out = common::smsaudit().arg("rules").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for check in CHECKS {
        assert!(text.contains(check.code.as_str()), "{}", check.code);
    }
    assert!(text.contains("not checked: the Client.lkp format"), "{text}");
    let f32 = text.lines().find(|l| l.starts_with("F32 ")).unwrap();
    assert!(f32.contains(" over SMB only ") && !f32.contains("not checked"), "{f32}");
    let out = common::smsaudit().args(["explain", "F32"]).output().unwrap();
    let explained = String::from_utf8_lossy(&out.stdout);
    assert!(!explained.contains("Not checked:"), "{explained}");
    assert!(explained.contains("read over SMB") && explained.contains("Share permissions are not read"));
    assert!(
        explained.contains("Checked only on shares read over SMB"),
        "{explained}"
    );
    let out = common::smsaudit().args(["explain", "Q264630"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("F03") && text.contains("F04"), "{text}");
}

#[test]
fn every_implemented_check_has_a_test_here() {
    // The checks of the site control file have theirs beside its estates.
    let source = [include_str!("findings.rs"), include_str!("site_control.rs")].concat();
    for check in CHECKS
        .iter()
        .filter(|c| c.implemented() && (c.code.as_str().starts_with('F') || c.code.as_str().starts_with('N')))
    {
        let name = format!("fn {}_", check.code.as_str().to_ascii_lowercase());
        assert!(source.contains(&name), "no test for {}", check.code);
    }
}

/// The check table of docs/checks.md says what the catalogue says, row for row:
/// `| Code | KB | Severity | Condition checked | Implemented | [I] |`.
#[test]
fn checks_md_table_matches_the_catalogue() {
    let checks_md = include_str!("../docs/checks.md");
    let rows: Vec<&str> = checks_md
        .lines()
        .filter(|l| l.starts_with("| F") || l.starts_with("| N") || l.starts_with("| A"))
        .filter(|l| l.split('|').nth(1).is_some_and(|c| c.trim().len() == 3))
        .collect();
    let expected: Vec<String> = CHECKS
        .iter()
        .map(|c| {
            let implemented = c.implemented_text();
            let inferred = if c.inferred { "[I]" } else { "" };
            format!(
                "| {} | {} | {} | {} | {} | {} |",
                c.code,
                c.kb_text(),
                c.severity.as_str(),
                c.condition,
                implemented,
                inferred
            )
        })
        .collect();
    let rows: Vec<String> = rows.iter().map(|r| r.replace("|  |", "| |")).collect();
    let expected: Vec<String> = expected.iter().map(|r| r.replace("|  |", "| |")).collect();
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(row, want, "docs/checks.md's check table and src/sms/checks.rs disagree");
    }
    assert_eq!(
        rows.len(),
        expected.len(),
        "docs/checks.md's check table has another number of rows"
    );
}

/// The sample's LN1 part with its logon point's Clicore set back to the
/// site's previous SP2 build (2.0.1493.2150, the sample's Boot32wn image):
/// clicomp.src and the CAP carry the hotfixed 2.0.1493.2163.
fn hotfix_not_on_logon_point() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = sample_shares();
    for part in ["SERVER3", "DC3"] {
        common::copy_tree(&from.join(part), &dir.path().join(part));
    }
    std::fs::copy(
        from.join("DC3/SMSLOGON/x86.bin/boot32wn.exe"),
        dir.path().join("DC3/SMSLOGON/x86.bin/CLICORE.EXE"),
    )
    .unwrap();
    dir
}

fn audit_of(root: &std::path::Path) -> smsaudit::Audit {
    let mut config = smsaudit::Config::new(vec![root.to_path_buf()]);
    config.jobs = 2;
    smsaudit::run_audit(&config)
}

/// N02 (Q270036, Q249333): a hotfix on clicomp.src and the CAPs that has
/// not reached the logon point is an LSM cycle to force, not a corrupt
/// Clicore (F20, "replace Clicore.exe").
#[test]
fn n02_hotfix_not_reached_the_logon_point() {
    let dir = hotfix_not_on_logon_point();
    let audit = audit_of(dir.path());
    let codes: Vec<&str> = audit.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["N02"], "{:#?}", audit.findings);
    let finding = &audit.findings[0];
    assert_eq!(finding.location, r"\\DC3\SMSLOGON");
    assert_eq!(finding.site, "LN1");
    assert!(
        finding.fix.contains(r"Inboxes\NT_Logon.box\Notify\NT_LOGON.NOT"),
        "{}",
        finding.fix
    );
    assert!(
        finding.message.contains("2.0.1493.2150") && finding.message.contains("2.0.1493.2163"),
        "{}",
        finding.message
    );
    assert!(!finding.fix.starts_with("Replace"), "{}", finding.fix);
    // A logon point of another release is no hotfix left behind.
    let healthy = tempfile::tempdir().unwrap();
    for part in ["SERVER3", "DC3"] {
        common::copy_tree(&sample_shares().join(part), &healthy.path().join(part));
    }
    assert!(audit_of(healthy.path()).findings.is_empty());
}

/// N02: one zero-byte Sites\<code>\Cli_inst.cfg on one domain controller
/// while another's copy is the site server's is a copy LSM has to redo,
/// not the Q246331 procedure (F19).
#[test]
fn n02_zero_byte_copy_on_one_domain_controller() {
    let dir = tempfile::tempdir().unwrap();
    sample_copy(dir.path());
    std::fs::write(dir.path().join("DC2/SMSLOGON/Sites/MS2/cli_inst.cfg"), b"").unwrap();
    let audit = audit_of(dir.path());
    let on_dc2: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| f.location == r"\\DC2\SMSLOGON" && f.path.to_ascii_lowercase().ends_with("cli_inst.cfg"))
        .collect();
    assert_eq!(on_dc2.len(), 1, "{:#?}", audit.findings);
    assert_eq!(on_dc2[0].code.as_str(), "N02");
    assert!(on_dc2[0].message.contains(r"\\DC1\SMSLOGON"), "{}", on_dc2[0].message);
    // The only copy, zero bytes, has no good twin: F19 as before.
    let lone_copy = lone(SP2);
    lone_copy.file("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg", "");
    assert_eq!(lone_copy.codes(), vec!["F19"]);
}

/// Reference 11.1: F05 (Q263345) concerns the site the CLICORE.EXE line
/// names; F09 (Q242492) a Sites folder that is missing, empty or without
/// NETCONF.NCF. A folder with NETCONF.NCF but no Cli_inst.cfg of a site
/// named only on its own SITES lines is F19, which says what to check.
#[test]
fn f05_and_f09_only_for_their_kb_conditions() {
    // BBB is the CLICORE.EXE source; AAA's folder keeps NETCONF.NCF only.
    let e = shared(SP2, SP2);
    e.remove("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg");
    let audit = e.audit();
    let codes: Vec<&str> = audit.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["F19"], "{:#?}", audit.findings);
    let f19 = &audit.findings[0];
    assert_eq!(f19.site, "AAA");
    assert!(
        f19.message.contains("not Q242492") && f19.message.contains("Q235535"),
        "{}",
        f19.message
    );
    // The CLICORE.EXE site without Cli_inst.cfg: F05, and not F09.
    let e = lone(SP2);
    e.remove("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg");
    assert_eq!(e.codes(), vec!["F05"]);
    // An empty Sites folder is Q242492's condition.
    let e = lone(SP2);
    e.remove("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg")
        .remove("DC1/SMSLOGON/Sites/AAA/NETCONF.NCF");
    assert!(has(&e, "F09"));
}

/// F12's fix names the CAP, not `CAP_xxx`.
#[test]
fn f12_fix_names_the_cap() {
    let e = lone(SP3);
    e.file("SRVA/CAP_AAA/offerinf.box/Inboxlck.tok", "");
    let audit = e.audit();
    assert!(
        audit.findings[0].fix.contains(r"\\SRVA\CAP_AAA\clicomp.box\SWDist"),
        "{}",
        audit.findings[0].fix
    );
    assert!(audit.causes[0].fix.iter().all(|step| !step.contains("CAP_xxx")));
}

/// A logon point whose base cannot be derived (CLICORE.EXE not a PE image,
/// identical to no site's copy, no Copylog line for it) is an A06 naming
/// its sites: Q236596 could not be judged for them.
#[test]
fn a06_logon_point_base_not_derived() {
    let e = shared(SP1, SP2);
    e.file("DC1/SMSLOGON/x86.bin/CLICORE.EXE", "not a PE image").copylog(
        "DC1",
        "[FILE SOURCE]\r\nSITES\\AAA\\cli_inst.cfg=AAA\r\nSITES\\BBB\\cli_inst.cfg=BBB",
    );
    let audit = e.audit();
    let a06: Vec<_> = audit.findings.iter().filter(|f| f.code.as_str() == "A06").collect();
    assert_eq!(a06.len(), 1, "{:#?}", audit.findings);
    assert_eq!(a06[0].location, r"\\DC1\SMSLOGON");
    assert!(
        a06[0].message.contains("could not be judged for sites AAA, BBB"),
        "{}",
        a06[0].message
    );
    // With the base known there is no such note.
    assert!(!shared(SP1, SP2).codes().contains(&"A06".to_string()));
}
