//! A clean result must mean everything was checked: domain corrections
//! found on held-back estates, and what is said when something could not
//! be judged. Each test fails on the behaviour it replaces.

mod common;

use common::estate::*;
use smsaudit::model::CheckCode;

fn lone(base: &str) -> EstateBuilder {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", base).logon_point("DC1", &["AAA"], "AAA", base);
    e
}

fn shared(a: &str, b: &str) -> EstateBuilder {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", a)
        .site("SRVB", "BBB", b)
        .logon_point("DC1", &["AAA", "BBB"], "BBB", b);
    e
}

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
        let senior = audit.files.iter().find(|f| f.path.ends_with("Senior.lst")).unwrap();
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
