//! The site control file (reference 10, issue 29): each site's
//! configuration as read, and the checks that need it, on estates whose
//! site servers carry `inboxes\sitectrl.box\sitectrl.ct0` written in the
//! syntax of reference 10.2 with variations (property order, unknown
//! sections, CRLF and LF, truncation).

use crate::common;

use common::estate::*;

/// What a site control file says, to write one.
struct Scf<'a> {
    code: &'a str,
    build: &'a str,
    parent: &'a str,
    site_type: u32,
    /// (flag, domains) of logon discovery and installation.
    discovery: (u32, &'a [&'a str]),
    installation: (u32, &'a [&'a str]),
    /// Domains left in LSM's list (Q262942: never read as "uses").
    lsm: &'a [&'a str],
    travel_mode: Option<u32>,
    crlf: bool,
    /// Properties before the domain lists, and an unknown section.
    reordered: bool,
}

impl Default for Scf<'_> {
    fn default() -> Self {
        Scf {
            code: "AAA",
            build: "1380",
            parent: "",
            site_type: 2,
            discovery: (6, &["CORP"]),
            installation: (6, &["CORP"]),
            lsm: &["CORP"],
            travel_mode: None,
            crlf: false,
            reordered: false,
        }
    }
}

impl Scf<'_> {
    fn text(&self) -> String {
        let mut t = format!(
            "SITE CONTROL FILE [{}][2.00]\nBEGIN_FILE_DEFINITION\n  <1>\n  <Actual Site Control File>\n  <{code}>\n  <{code}>\n  <00000007>\n  <1>\nEND_FILE_DEFINITION\n",
            self.build,
            code = self.code
        );
        if self.reordered {
            t.push_str("BEGIN_SOMETHING_UNKNOWN\n  <x>\n  PROPERTY <y><z><><1>\nEND_SOMETHING_UNKNOWN\n");
        }
        t.push_str(&format!(
            "BEGIN_SITE_DEFINITION\n  <Site Definition>\n  <{}>\n  <{}>\n  <Site name>\n  <{}>\nEND_SITE_DEFINITION\n",
            self.code, self.parent, self.site_type
        ));
        for (name, (flag, domains)) in [
            ("SMS_NT_LOGON_DISCOVERY_MANAGER", self.discovery),
            ("SMS_NT_LOGON_INSTALLATION_MANAGER", self.installation),
            ("SMS_NT_LOGON_SERVER_MANAGER", (6, self.lsm)),
        ] {
            let list: String = domains.iter().map(|d| format!("    <{d}>\n")).collect();
            let list = format!("  BEGIN_PROPERTY_LIST\n    <Domain List>\n{list}  END_PROPERTY_LIST\n");
            let settings = "  PROPERTY <SETTINGS><ACTIVE><><0>\n";
            let body = if self.reordered {
                format!("{settings}{list}")
            } else {
                format!("{list}{settings}")
            };
            t.push_str(&format!(
                "BEGIN_COMPONENT\n  <{name}>\n  <{flag}>\n  <SERVER>\n{body}END_COMPONENT\n"
            ));
        }
        t.push_str("BEGIN_CLIENT_COMPONENT\n  <SMS Client Base Components>\n  <65537>\n  SITE_KEY_FLAGS <1>\nEND_CLIENT_COMPONENT\n");
        t.push_str("BEGIN_CLIENT_COMPONENT\n  <Remote Control>\n  <0>\n  SITE_KEY_FLAGS <1>\nEND_CLIENT_COMPONENT\n");
        if let Some(value) = self.travel_mode {
            t.push_str(&format!(
                "BEGIN_CLIENT_CONFIGURATION\n  <Client Properties>\n  <3>\n  TARGET_PLATFORM <ALL>\n  SITE_KEY_FLAGS <0>\n  Property <Travel Mode Switch><><><{value}>\nEND_CLIENT_CONFIGURATION\n"
            ));
        }
        if self.crlf {
            t = t.replace('\n', "\r\n");
        }
        t
    }
}

fn scf_path(server: &str, code: &str) -> String {
    format!("{server}/SMS_{code}/inboxes/sitectrl.box/sitectrl.ct0")
}

fn with_scf(e: &EstateBuilder, server: &str, scf: &Scf) {
    e.file(&scf_path(server, &scf.code.to_ascii_uppercase()), scf.text());
}

fn findings(e: &EstateBuilder) -> Vec<(String, String, String)> {
    e.audit()
        .findings
        .iter()
        .map(|f| (f.code.to_string(), f.site.clone(), f.message.clone()))
        .collect()
}

fn codes(e: &EstateBuilder) -> Vec<String> {
    e.codes()
}

#[test]
fn healthy_estates_with_site_control_files_stay_clean() {
    for (base, build) in [(RTM, "1239"), (SP1, "1380"), (SP2, "1493"), (SP3, "1493")] {
        for (crlf, reordered) in [(false, false), (true, true)] {
            let e = lone(base);
            with_scf(
                &e,
                "SRVA",
                &Scf {
                    build,
                    crlf,
                    reordered,
                    ..Scf::default()
                },
            );
            let audit = e.audit();
            assert!(audit.findings.is_empty(), "{base}: {:#?}", audit.findings);
            let site = audit.sites.iter().find(|s| s.site == "AAA").unwrap();
            let config = site.configuration.as_ref().expect("configuration read");
            assert!(
                config.source.ends_with(r"\SMS_AAA\inboxes\sitectrl.box\sitectrl.ct0"),
                "{}",
                config.source
            );
            assert_eq!(config.site_type, "primary");
            assert_eq!(config.build, build);
            assert_eq!(config.logon_discovery.as_deref(), Some(&["CORP".to_string()][..]));
            assert_eq!(config.logon_server_manager.as_deref(), Some(&["CORP".to_string()][..]));
            assert_eq!(config.client_components_enabled, ["SMS Client Base Components"]);
            assert_eq!(config.client_components_disabled, ["Remote Control"]);
            assert!(
                config.q236596_workaround.starts_with("not configured"),
                "{}",
                config.q236596_workaround
            );
        }
    }
}

#[test]
fn without_a_site_control_file_the_sites_have_no_configuration() {
    let audit = shared(RTM, SP1).audit();
    assert!(audit.sites.iter().all(|s| s.configuration.is_none()));
}

#[test]
fn a_damaged_site_control_file_is_a_coverage_note_and_no_kb_finding() {
    // Truncated inside a section, a lower-case code and travel mode 9 in
    // what was read: nothing of it may count.
    let e = lone(SP1);
    let text = Scf {
        code: "aaa",
        travel_mode: Some(9),
        discovery: (6, &["AAA"]),
        ..Scf::default()
    }
    .text();
    let cut = &text[..text.find("END_COMPONENT").unwrap()];
    e.file(&scf_path("SRVA", "AAA"), cut);
    let found = findings(&e);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "A06");
    assert!(found[0].2.contains("truncated"), "{}", found[0].2);
    let audit = e.audit();
    let config = audit.sites[0].configuration.as_ref().unwrap();
    assert_eq!(config.status.as_str(), "malformed");
    assert!(config.reason.contains("truncated"), "{}", config.reason);
}

#[test]
fn an_oversized_site_control_file_is_not_read_and_says_so() {
    let e = lone(SP1);
    let mut text = Scf {
        travel_mode: Some(9),
        ..Scf::default()
    }
    .text();
    text.push_str(&"BEGIN_X\n  <padding>\nEND_X\n".repeat(60_000));
    assert!(text.len() > 1024 * 1024);
    e.file(&scf_path("SRVA", "AAA"), text);
    let found = findings(&e);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "A06");
    assert!(found[0].2.contains("content not parsed"), "{}", found[0].2);
}

#[test]
fn n09_lower_case_site_code() {
    let e = lone(SP2);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            code: "aaa",
            build: "1493",
            ..Scf::default()
        },
    );
    assert_eq!(codes(&e), ["N09"]);
    let audit = e.audit();
    assert_eq!(audit.sites[0].configuration.as_ref().unwrap().site_code, "aaa");
}

#[test]
fn n11_travel_mode_switch_by_release() {
    for (base, value, want) in [
        (SP2, 9, true),
        (SP3, 9, false),
        (SP3, 1, true),
        ("2.00.1493.4000", 1, false),
        (SP1, 0, false),
    ] {
        let e = lone(base);
        with_scf(
            &e,
            "SRVA",
            &Scf {
                travel_mode: Some(value),
                ..Scf::default()
            },
        );
        assert_eq!(codes(&e).contains(&"N11".to_string()), want, "{base} {value}");
    }
}

#[test]
fn n12_old_deltas_in_incoming() {
    let e = lone(SP2);
    with_scf(&e, "SRVA", &Scf::default());
    e.file("SRVA/SMS_AAA/inboxes/sitectrl.box/incoming/0000000a.ct1", "delta");
    // A fresh delta is being processed.
    assert!(!codes(&e).contains(&"N12".to_string()));
    e.dated("SRVA/SMS_AAA/inboxes/sitectrl.box/incoming/0000000a.ct1", 100);
    let found = findings(&e);
    let n12 = found.iter().find(|f| f.0 == "N12").expect("N12");
    assert!(n12.2.contains("0000000a.ct1"), "{}", n12.2);
    let audit = e.audit();
    assert_eq!(audit.sites[0].configuration.as_ref().unwrap().pending_deltas, 1);
}

#[test]
fn f28_domain_named_like_a_sharing_site_below_sp2() {
    let e = shared(SP1, SP1);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            discovery: (6, &["BBB"]),
            installation: (6, &["BBB"]),
            ..Scf::default()
        },
    );
    assert!(codes(&e).contains(&"F28".to_string()));
    let e = shared(SP2, SP2);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1493",
            discovery: (6, &["BBB"]),
            installation: (6, &["BBB"]),
            ..Scf::default()
        },
    );
    assert!(!codes(&e).contains(&"F28".to_string()));
    // LSM's list alone does not count (Q262942).
    let e = shared(SP1, SP1);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            lsm: &["BBB"],
            ..Scf::default()
        },
    );
    assert!(!codes(&e).contains(&"F28".to_string()));
}

#[test]
fn f31_discovery_only_site_and_no_f05_f09_for_its_missing_cli_inst() {
    let e = lone(SP2);
    e.remove("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg");
    let before = codes(&e);
    // NETCONF.NCF is there: not Q242492's F09, F05 for the CLICORE.EXE site.
    assert!(before.contains(&"F05".to_string()), "{before:?}");
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1493",
            installation: (2, &["CORP"]),
            ..Scf::default()
        },
    );
    assert_eq!(codes(&e), ["F31"]);
    // A site with installation on keeps F05.
    let e = lone(SP2);
    e.remove("DC1/SMSLOGON/Sites/AAA/cli_inst.cfg");
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1493",
            ..Scf::default()
        },
    );
    let after = codes(&e);
    assert!(
        after.contains(&"F05".to_string()) && !after.contains(&"F31".to_string()),
        "{after:?}"
    );
}

#[test]
fn n01_q236596_workaround_state_on_f01_and_configured_not_in_effect_on_rtm_sp1() {
    // AAA lags (RTM) behind BBB (SP1) on DC1: F01. Without a file the
    // finding says nothing of the workaround.
    let e = shared(RTM, SP1);
    let plain = findings(&e);
    assert!(plain.iter().any(|f| f.0 == "F01" && !f.2.contains("workaround")));
    // Not configured: logon discovery still on.
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1239",
            ..Scf::default()
        },
    );
    let f01 = findings(&e).into_iter().find(|f| f.0 == "F01").unwrap();
    assert!(f01.2.contains("Q236596 workaround: not configured"), "{}", f01.2);
    // Configured (both off) but DC1 still holds AAA_cfg.lcf: N01 on RTM.
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1239",
            discovery: (2, &[]),
            installation: (2, &[]),
            ..Scf::default()
        },
    );
    let found = findings(&e);
    let f01 = found.iter().find(|f| f.0 == "F01").unwrap();
    assert!(f01.2.contains("configured but not in effect"), "{}", f01.2);
    let n01 = found.iter().find(|f| f.0 == "N01").expect("N01");
    assert!(n01.2.contains("Q259816"), "{}", n01.2);
    // SP1 alone on its logon point: the same.
    let e = lone(SP1);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            discovery: (2, &[]),
            installation: (2, &[]),
            ..Scf::default()
        },
    );
    assert!(codes(&e).contains(&"N01".to_string()));
    // The same on SP2 (fixed there): no N01.
    let e = shared(SP2, SP3);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1493",
            discovery: (2, &[]),
            installation: (2, &[]),
            ..Scf::default()
        },
    );
    assert!(!codes(&e).contains(&"N01".to_string()));
    // In effect: no logon point names the site any more.
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", SP1)
        .site("SRVB", "BBB", SP1)
        .logon_point("DC1", &["BBB"], "BBB", SP1);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            discovery: (2, &[]),
            installation: (2, &[]),
            ..Scf::default()
        },
    );
    let audit = e.audit();
    let site = audit.sites.iter().find(|s| s.site == "AAA").unwrap();
    assert!(site
        .configuration
        .as_ref()
        .unwrap()
        .q236596_workaround
        .starts_with("configured and in effect"));
    assert!(!audit.findings.iter().any(|f| f.code.as_str() == "N01"));
}

#[test]
fn n05_zero_length_offer_at_a_secondary_site() {
    let e = lone(SP2);
    e.file("SRVA/SMS_AAA/inboxes/offermgr.box/AAA00001.ofr", "");
    e.file("SRVA/SMS_AAA/inboxes/offermgr.box/AAA00002.ofr", "[Offer]\r\n");
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1493",
            site_type: 2,
            parent: "CEN",
            ..Scf::default()
        },
    );
    assert!(!codes(&e).contains(&"N05".to_string()));
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1493",
            site_type: 1,
            parent: "CEN",
            ..Scf::default()
        },
    );
    let found = findings(&e);
    let n05: Vec<_> = found.iter().filter(|f| f.0 == "N05").collect();
    assert_eq!(n05.len(), 1, "{found:#?}");
    assert!(n05[0].2.contains("AAA00001.ofr"));
    let audit = e.audit();
    let config = audit.sites[0].configuration.as_ref().unwrap();
    assert_eq!(
        (config.site_type.as_str(), config.parent.as_str()),
        ("secondary", "CEN")
    );
}

#[test]
fn f29_without_an_inventory_is_a_coverage_note_naming_the_domain() {
    // AAA enables CORP, but no audited logon point carries AAA_cfg.lcf.
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", SP2)
        .site("SRVB", "BBB", SP2)
        .logon_point("DC1", &["BBB"], "BBB", SP2);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1493",
            ..Scf::default()
        },
    );
    let found = findings(&e);
    let note = found
        .iter()
        .find(|f| f.0 == "A06" && f.1 == "AAA" && f.2.contains("domain CORP"))
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(note.2.contains("F29"), "{}", note.2);
    assert!(!found.iter().any(|f| f.0 == "F29" || f.0 == "N14"));
}

/// N14 and F29 with an inventory: a domain it lists whose logon points are
/// not audited shares is F29; a domain it does not know is N14.
#[test]
fn n14_and_f29_with_an_inventory() {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", SP2)
        .site("SRVB", "BBB", SP2)
        .logon_point("DC1", &["BBB"], "BBB", SP2);
    with_scf(
        &e,
        "SRVA",
        &Scf {
            build: "1493",
            discovery: (6, &["CORP", "TYPO"]),
            installation: (6, &["CORP"]),
            ..Scf::default()
        },
    );
    let root = e.root().display().to_string();
    let inventory = e.path("estate.toml");
    std::fs::write(
        &inventory,
        format!(
            "unc_root = '{root}'\n\n[[site]]\ncode = 'AAA'\ncaps = ['\\\\SRVA\\CAP_AAA']\nsite_server = '\\\\SRVA\\SMS_AAA'\ndomains = ['CORP']\n\n[[site]]\ncode = 'BBB'\ncaps = ['\\\\SRVB\\CAP_BBB']\nsite_server = '\\\\SRVB\\SMS_BBB'\ndomains = ['OTHER']\n\n[[domain]]\nname = 'CORP'\nlogon_points = ['\\\\DC9\\SMSLOGON']\n\n[[domain]]\nname = 'OTHER'\nlogon_points = ['\\\\DC1\\SMSLOGON']\n"
        ),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = common::smsaudit()
        .args(["audit", "--inventory"])
        .arg(&inventory)
        .arg("--out")
        .arg(out.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("audit.json"))
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr))),
    )
    .unwrap();
    let findings = json["findings"].as_array().unwrap();
    let of = |code: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["code"] == code && f["site"] == "AAA")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(of("F29").iter().any(|m| m.contains("domain CORP")), "{findings:#?}");
    assert!(of("N14").iter().any(|m| m.contains("domain TYPO")), "{findings:#?}");
    let sites = json["sites"].as_array().unwrap();
    let aaa = sites.iter().find(|s| s["site"] == "AAA").unwrap();
    assert!(aaa["configuration"]["source"]
        .as_str()
        .unwrap()
        .ends_with("sitectrl.ct0"));
}
