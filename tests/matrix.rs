//! The matrix agrees with the findings: a cell is red only when a finding
//! marks it, every mark is a red cell, and "expected" names the value that
//! is right, never two cells each other.

use crate::common;

use common::estate::*;
use smsaudit::audit::{CellState, Found};
use smsaudit::model::CheckCode;
use smsaudit::Audit;
use std::collections::BTreeSet;

/// Every red cell is marked by a finding, every mark is a red cell, and no
/// two red cells of a row expect each other's value.
fn assert_matrix_agrees_with_findings(audit: &Audit) {
    let marks: BTreeSet<(String, String)> = audit
        .findings
        .iter()
        .flat_map(|f| f.marks.iter())
        .map(|m| (m.row.label(), m.location.clone()))
        .collect();
    let csv = smsaudit::report::csv::matrix(audit, smsaudit::report::CsvFlavor::Machine).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (item, mismatch) = (column("item"), column("mismatch"));
    let shown_mismatch: std::collections::BTreeMap<String, String> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[item].to_string(), r[mismatch].to_string()))
        .collect();
    for row in &audit.matrix.rows {
        let red: Vec<(usize, &smsaudit::audit::Cell)> = row
            .cells
            .iter()
            .map(|(i, c)| (*i, c))
            .filter(|(_, c)| c.state.is_mismatch())
            .collect();
        for (i, cell) in &red {
            let location = &audit.matrix.columns[*i].location;
            assert!(
                marks.contains(&(row.item.clone(), location.clone())),
                "red cell {} at {location} ({}) is marked by no finding",
                row.item,
                cell.text
            );
        }
        for (i, a) in &red {
            for (j, b) in &red {
                let names_other = |x: &smsaudit::audit::Cell, y: &smsaudit::audit::Cell| {
                    x.state
                        .expected()
                        .is_some_and(|e| !y.value.is_empty() && e.contains(&y.value))
                };
                assert!(
                    i == j || !(names_other(a, b) && names_other(b, a)),
                    "{}: cells {} and {} name each other as expected",
                    row.item,
                    a.text,
                    b.text
                );
            }
        }
        // What matrix.csv says of the row (Row::mismatch derives from the
        // cells, so the row itself cannot disagree; the report could).
        let shown = shown_mismatch.get(&row.item).map(String::as_str);
        let expected = if red.is_empty() { "no" } else { "yes" };
        assert_eq!(shown, Some(expected), "{}", row.item);
    }
    for (item, location) in &marks {
        let Some(row) = audit.matrix.rows.iter().find(|r| &r.item == item) else {
            continue; // a mark on a row the matrix does not show (none today)
        };
        let column = audit
            .matrix
            .columns
            .iter()
            .position(|c| &c.location == location)
            .unwrap();
        assert!(
            audit.matrix.cell(row, column).state.is_mismatch(),
            "mark on {item} at {location} is not red"
        );
    }
}

#[test]
fn sample_matrix_agrees_with_findings_and_logon_base_is_not_blamed() {
    let audit = smsaudit::run_audit(&smsaudit::Config::new(vec![common::sample_shares()]));
    assert_matrix_agrees_with_findings(&audit);
    // F01: the CAP lags the logon point; the logon point's base is right
    // and is not shown as expecting the CAP's older release.
    let base = audit
        .matrix
        .rows
        .iter()
        .find(|r| r.item == "base logon point base (derived)")
        .unwrap();
    assert!(!base.mismatch(), "{:?}", base.cells);
    assert!(audit.findings.iter().any(|f| f.code == CheckCode::F01));
}

/// Site AAA with three CAPs and no site server: SRV1 at SP2 (the newest,
/// being rolled out), SRV2 and SRV3 still at SP1.
#[test]
fn three_caps_without_site_server_expect_the_newest() {
    let e = EstateBuilder::new();
    for (server, base) in [("SRV1", SP2), ("SRV2", SP1), ("SRV3", SP1)] {
        e.site(server, "AAA", base);
        std::fs::remove_dir_all(e.path(&format!("{server}/SMS_AAA"))).unwrap();
    }
    let audit = e.audit();
    assert_matrix_agrees_with_findings(&audit);
    let row = audit.matrix.rows.iter().find(|r| r.item == "base compver.ini").unwrap();
    let cell = |server: &str| {
        let i = audit
            .matrix
            .columns
            .iter()
            .position(|c| c.location == format!(r"\\{server}\CAP_AAA"))
            .unwrap();
        audit.matrix.cell(row, i)
    };
    assert!(
        !cell("SRV1").state.is_mismatch(),
        "the newest CAP is right: {}",
        cell("SRV1").text
    );
    for lagging in ["SRV2", "SRV3"] {
        assert!(matches!(
            cell(lagging).state,
            CellState::Mismatch {
                found: Found::Value,
                ..
            }
        ));
        assert_eq!(cell(lagging).state.expected(), Some(SP2), "{lagging}");
    }
    let f24: Vec<&str> = audit
        .findings
        .iter()
        .filter(|f| f.code == CheckCode::F24 && f.path.contains(r"\base\"))
        .map(|f| f.location.as_str())
        .collect();
    assert_eq!(f24, vec![r"\\SRV2\CAP_AAA", r"\\SRV3\CAP_AAA"]);
}

#[test]
fn a03_logon_point_that_lags_its_domain() {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", SP1);
    for dc in ["DC1", "DC2", "DC3"] {
        e.logon_point(dc, &["AAA"], "AAA", SP1);
    }
    e.file("DC3/SMSLOGON/x86.bin/boot32wn.exe", "an older boot32wn\r\n");
    let audit = e.audit();
    assert_matrix_agrees_with_findings(&audit);
    let a03: Vec<_> = audit.findings.iter().filter(|f| f.code == CheckCode::A03).collect();
    assert_eq!(a03.len(), 1, "{a03:#?}");
    assert_eq!(a03[0].location, r"\\DC3\SMSLOGON");
    assert!(
        a03[0].expected.starts_with("no version, content "),
        "{}",
        a03[0].expected
    );
    assert!(audit
        .matrix
        .rows
        .iter()
        .any(|r| r.mismatch() && r.item.contains("boot32wn")));
    // Healthy copies agree: no A03.
    let healthy = EstateBuilder::new();
    healthy.site("SRVA", "AAA", SP1);
    for dc in ["DC1", "DC2"] {
        healthy.logon_point(dc, &["AAA"], "AAA", SP1);
    }
    assert!(!healthy.codes().contains(&"A03".to_string()));
}

#[test]
fn a04_string_version_that_disagrees_with_the_fixed_one() {
    let e = EstateBuilder::new();
    e.site("SRVA", "AAA", SP1).logon_point("DC1", &["AAA"], "AAA", SP1);
    let pe = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pe/mismatch64.exe")).unwrap();
    e.file("DC1/SMSLOGON/x86.bin/boot32wn.exe", pe);
    let audit = e.audit();
    assert_matrix_agrees_with_findings(&audit);
    let a04 = audit.findings.iter().find(|f| f.code == CheckCode::A04).expect("A04");
    assert_eq!(a04.severity, smsaudit::model::Severity::Info);
    assert!(a04.path.eq_ignore_ascii_case(r"x86.bin\boot32wn.exe"), "{}", a04.path);
}

/// Issue 30: many sites, each on its own logon point with its own
/// compver.ini. A site's own row holds one cell, on that site's logon
/// point; every other share's cell of the row is blank (not applicable),
/// and audit.json lists only the cells a row holds, so its matrix grows
/// with the sites, not with sites x shares (a dense matrix of 2,000 sites
/// made audit.json 3.7 GB).
#[test]
fn a_sites_own_row_holds_cells_only_on_that_sites_logon_point() {
    let listed = |sites: usize| -> (usize, usize) {
        let e = EstateBuilder::new();
        for i in 0..sites {
            let code = format!("S{i:02}");
            e.site(&format!("SRV{i}"), &code, SP2)
                .logon_point(&format!("DC{i}"), &[&code], &code, SP2);
            e.file(&format!("DC{i}/SMSLOGON/Sites/{code}/compver.ini"), compver(SP2));
        }
        let audit = e.audit();
        let json = serde_json::to_value(&audit).unwrap();
        let matrix = &json["matrix"];
        let columns = matrix["columns"].as_array().unwrap();
        assert_eq!(columns.len(), 3 * sites);
        let mut listed = 0;
        for (r, row) in matrix["rows"].as_array().unwrap().iter().enumerate() {
            let cells = row["cells"].as_array().unwrap();
            listed += cells.len();
            let held: Vec<&str> = cells
                .iter()
                .map(|c| {
                    columns[c["column"].as_u64().unwrap() as usize]["location"]
                        .as_str()
                        .unwrap()
                })
                .collect();
            let item = row["item"].as_str().unwrap();
            let Some(code) = item.strip_prefix("base logon point compver.ini of site ") else {
                continue;
            };
            let own = format!(r"\\DC{}\SMSLOGON", &code[1..].parse::<usize>().unwrap());
            assert_eq!(held, [own.as_str()], "{item}");
            let i = audit.matrix.rows[r].cells[0].0;
            assert_eq!(audit.matrix.cell(&audit.matrix.rows[r], i).text, SP2);
            // Every other share: blank, not applicable.
            for (c, column) in audit.matrix.columns.iter().enumerate().filter(|(c, _)| *c != i) {
                let cell = audit.matrix.cell(&audit.matrix.rows[r], c);
                assert_eq!(cell.state, CellState::NotApplicable, "{item} at {}", column.location);
                assert_eq!(cell.text, "");
            }
        }
        assert_matrix_agrees_with_findings(&audit);
        (listed, audit.matrix.rows.len() * columns.len())
    };
    let (four, dense_four) = listed(4);
    let (eight, dense_eight) = listed(8);
    // Twice the sites, twice the cells (each site the same); a dense
    // matrix grows with rows x columns, more than twice.
    assert_eq!(eight, 2 * four, "{four} cells for 4 sites, {eight} for 8");
    assert!(dense_eight > 2 * dense_four);
    assert!(eight < dense_eight, "{eight} of {dense_eight}");
}
