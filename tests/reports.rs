//! Report formats: exact CSV bytes and key HTML/XLSX content from a
//! hand-made audit, then a hostile estate through the real binary, read
//! back by calamine, LibreOffice and Chromium.

use crate::common;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use smsaudit::audit::{Audit, Cause, Cell, CellState, Column, Found, Matrix, Row, Summary};
use smsaudit::model::{
    Artifact, CheckCode, FileKind, FileRecord, Finding, Judged, Location, LocationKind, RowKey, Status,
};
use smsaudit::report::{self, CsvFlavor};
use smsaudit::sms::checks::Severity;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

fn cell(value: &str, state: CellState, text: &str) -> Cell {
    Cell {
        value: value.into(),
        state,
        text: text.into(),
        string_version: None,
    }
}

fn location(name: &str, share: &str, site: &str) -> Location {
    Location {
        name: name.into(),
        server: "SRV".into(),
        share: share.into(),
        kind: LocationKind::Cap,
        root: format!("/mnt/{share}"),
        sites: vec![site.into()],
        status: Status::Ok,
        reason: String::new(),
        files: 1,
        bytes: 10,
        share_comment: Default::default(),
        folder_acls: Default::default(),
    }
}

/// Two CAPs of site AB1, one base compver row that disagrees, one CFG row.
fn hand_made() -> Audit {
    let columns = vec![
        Column {
            location: r"\\SRV\CAP_AB1".into(),
            kind: LocationKind::Cap,
            sites: vec!["AB1".into()],
            header: r"\\SRV\CAP_AB1 (CAP AB1)".into(),
            other_cells: CellState::NotApplicable,
        },
        Column {
            location: r"\\SRV2\CAP_AB1".into(),
            kind: LocationKind::Cap,
            sites: vec!["AB1".into()],
            header: r"\\SRV2\CAP_AB1 (CAP AB1)".into(),
            other_cells: CellState::NotApplicable,
        },
    ];
    let rows = vec![
        Row {
            key: RowKey::new("base", Artifact::Compver, ""),
            item: "base compver.ini".into(),
            cells: vec![
                (0, cell("2.00.1380.1000", CellState::Ok, "2.00.1380.1000")),
                (
                    1,
                    cell(
                        "2.00.1239.0000",
                        CellState::Mismatch {
                            found: Found::Value,
                            expected: "2.00.1380.1000".into(),
                        },
                        "!! 2.00.1239.0000 (expected 2.00.1380.1000)",
                    ),
                ),
            ],
        },
        Row {
            key: RowKey::new("smsapm32", Artifact::Cfg, ""),
            item: "smsapm32.CFG version".into(),
            cells: vec![
                (0, cell("", CellState::Empty, "(empty)")),
                (1, cell("", CellState::Missing, "(missing)")),
            ],
        },
    ];
    let finding = Judged {
        finding: Finding {
            severity: Severity::Error,
            code: CheckCode::F03,
            kb: "Q236596".into(),
            site: "AB1".into(),
            location: r"\\SRV2\CAP_AB1".into(),
            path: r"clicomp.box\base\compver.ini".into(),
            observed: "=1+1".into(),
            expected: "2.00.1380.1000".into(),
            message: "CAP <b>behind</b> its site".into(),
            fix: "Copy the site's clicomp.src".into(),
            fingerprint: "0123456789abcdef".into(),
            marks: vec![],
        },
        cause: "C1".into(),
        first_seen: "2026-11-20T01:02:03Z".into(),
        accepted: None,
    };
    let cause = Cause {
        id: "C1".into(),
        key: "F03:site:AB1".into(),
        severity: Severity::Error,
        title: "Site AB1: CAP base release older than the SP2+ Clicore clients get from the logon point".into(),
        sites: vec!["AB1".into()],
        locations: vec![r"\\SRV2\CAP_AB1".into()],
        kb: vec!["Q236596".into()],
        codes: vec![CheckCode::F03],
        fix: vec!["=Copy the site's clicomp.src".into()],
        findings: vec![0],
    };
    let file = FileRecord {
        location: r"\\SRV\CAP_AB1".into(),
        path: r"clicomp.box\base\compver.ini".into(),
        size: Some(35),
        modified: Some("2024-01-02T03:04:05Z".into()),
        sha256: Some(smsaudit::model::Sha256Digest([0xab; 32])),
        kind: FileKind::Compver,
        version: Some("2.00.1380.1000".into()),
        version_source: Some("key Version".into()),
        string_version: None,
        status: Status::Ok,
        reason: Default::default(),
    };
    Audit {
        tool: "smsaudit".into(),
        version: "0.0.0".into(),
        roots: vec!["/mnt".into()],
        inventory: None,
        started: "2026-11-24T01:02:03Z".into(),
        duration_seconds: 1.5,
        summary: Summary {
            locations: 2,
            files: 1,
            bytes: 35,
            errors: 1,
            mismatched_items: 1,
            ..Summary::default()
        },
        locations: vec![
            location(r"\\SRV\CAP_AB1", "CAP_AB1", "AB1"),
            location(r"\\SRV2\CAP_AB1", "CAP_AB1", "AB1"),
        ],
        matrix: Matrix { columns, rows },
        findings: vec![finding],
        causes: vec![cause],
        sites: vec![],
        history: None,
        accepted: None,
        symptoms: None,
        stamps: vec![],
        files: smsaudit::audit::FileRecords::from_vec(vec![file]),
        baseline: None,
        drift: None,
        drift_error: None,
        upgrade: None,
    }
}

#[test]
fn matrix_csv_bytes_are_exact_in_both_flavours() {
    let audit = hand_made();
    let body = "item,component,artifact,detail,mismatch,\\\\SRV\\CAP_AB1 (CAP AB1),\\\\SRV2\\CAP_AB1 (CAP AB1)\r\n\
base compver.ini,base,compver.ini,,yes,2.00.1380.1000,!! 2.00.1239.0000 (expected 2.00.1380.1000)\r\n\
smsapm32.CFG version,smsapm32,CFG version,,no,(empty),(missing)\r\n";
    let machine = report::csv::matrix(&audit, CsvFlavor::Machine).unwrap();
    assert_eq!(String::from_utf8(machine).unwrap(), body);
    let spreadsheet = report::csv::matrix(&audit, CsvFlavor::Spreadsheet).unwrap();
    assert_eq!(spreadsheet, [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat());
}

#[test]
fn findings_csv_neutralises_only_in_spreadsheet_flavour() {
    let audit = hand_made();
    let header = "severity,code,cause,first_seen,kb,site,location,path,observed,expected,message,fix,fingerprint,accepted,accepted_until\r\n";
    let machine = String::from_utf8(report::csv::findings(&audit, CsvFlavor::Machine).unwrap()).unwrap();
    assert_eq!(
        machine,
        format!(
            "{header}error,F03,C1,2026-11-20T01:02:03Z,Q236596,AB1,\\\\SRV2\\CAP_AB1,clicomp.box\\base\\compver.ini,=1+1,2.00.1380.1000,\
CAP <b>behind</b> its site,Copy the site's clicomp.src,0123456789abcdef,,\r\n"
        )
    );
    let sheet = String::from_utf8(report::csv::findings(&audit, CsvFlavor::Spreadsheet).unwrap()).unwrap();
    assert!(sheet.starts_with('\u{feff}'));
    assert!(sheet.contains(",'=1+1,2.00.1380.1000,"), "{sheet}");
}

#[test]
fn html_has_every_part_escaped_and_no_external_or_script() {
    let html = String::from_utf8(report::html::audit(&hand_made()).unwrap()).unwrap();
    for needle in [
        "<title>SMS 2.0 share audit report</title>",
        "Findings (1)",
        "Version matrix",
        "F03",
        "Q236596",
        // Paths break after separators only (tests/presentation.rs).
        r"\\SRV2\<wbr>CAP_AB1",
        r"clicomp.box\<wbr>base\<wbr>compver.ini",
        "CAP &lt;b&gt;behind&lt;/<wbr>b&gt; its site",
        "Copy the site's clicomp.src",
        "!! 2.00.1239.0000 (expected 2.00.1380.1000)",
        "class=\"s-mismatch\"",
        "class=\"s-ok-sp1\"",
        "class=\"s-empty\"",
        "class=\"s-missing\"",
        "Files of interest (1 of 1)",
        &"ab".repeat(32),
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    assert!(!html.contains("<b>behind"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "external reference"
    );
}

fn xlsx_sheet(bytes: &[u8], name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    book.worksheet_range(name).unwrap()
}

fn string_at(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("({row},{col}) is not a string cell: {other:?}"),
    }
}

/// The zip part `name` of an XLSX.
fn xlsx_part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut text = String::new();
    archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

/// The fill colour (`FFRRGGBB`) of cell `reference` (`F2`) in a sheet part.
fn fill_of(bytes: &[u8], sheet_part: &str, reference: &str) -> Option<String> {
    let sheet = xlsx_part(bytes, sheet_part);
    let at = sheet.find(&format!("<c r=\"{reference}\""))?;
    let tag = &sheet[at..at + sheet[at..].find('>')?];
    let style: usize = attr(tag, "s")?.parse().ok()?;
    let styles = xlsx_part(bytes, "xl/styles.xml");
    let xfs = &styles[styles.find("<cellXfs")?..styles.find("</cellXfs>")?];
    let xf = xfs.split("<xf ").nth(style + 1)?;
    let fill_id: usize = attr(xf, "fillId")?.parse().ok()?;
    let fills = &styles[styles.find("<fills")?..styles.find("</fills>")?];
    let fill = fills.split("<fill>").nth(fill_id + 1)?;
    let fg = &fill[fill.find("<fgColor")?..];
    attr(fg, "rgb").map(str::to_string)
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

#[test]
fn xlsx_has_its_sheets_string_cells_and_state_fills() {
    let bytes = report::xlsx::audit(&hand_made()).unwrap();
    let book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["Summary", "Causes", "Sites", "Matrix", "Findings", "Files"]
    );
    let matrix = xlsx_sheet(&bytes, "Matrix");
    assert_eq!(string_at(&matrix, 0, 5), r"\\SRV\CAP_AB1 (CAP AB1)");
    assert_eq!(string_at(&matrix, 1, 5), "2.00.1380.1000");
    assert_eq!(string_at(&matrix, 1, 6), "!! 2.00.1239.0000 (expected 2.00.1380.1000)");
    let findings = xlsx_sheet(&bytes, "Findings");
    assert_eq!(string_at(&findings, 1, 8), "=1+1");
    let files = xlsx_sheet(&bytes, "Files");
    assert_eq!(
        files.get_value((1, 2)),
        Some(&Data::Float(35.0)),
        "size is numeric by design"
    );
    assert_eq!(string_at(&files, 1, 6), "2.00.1380.1000");
    // Fills: F2 ok SP1, G2 mismatch, F3 empty (white: not a problem by
    // itself), G3 missing.
    let sheet = "xl/worksheets/sheet4.xml";
    assert_eq!(fill_of(&bytes, sheet, "F2").as_deref(), Some("FFD6EFC4"));
    assert_eq!(fill_of(&bytes, sheet, "G2").as_deref(), Some("FFF4A6A6"));
    assert_eq!(fill_of(&bytes, sheet, "F3").as_deref(), Some("FFFFFFFF"));
    assert_eq!(fill_of(&bytes, sheet, "G3").as_deref(), Some("FFD0D0D0"));
    let xml = xlsx_part(&bytes, sheet);
    assert!(!xml.contains("<f>"), "no formula anywhere");
    assert!(
        xml.contains("<pane") && xml.contains("state=\"frozen\""),
        "frozen panes"
    );
    assert!(xml.contains("<autoFilter"), "autofilter");
    assert_eq!(report::xlsx::audit(&hand_made()).unwrap(), bytes, "deterministic");
}

// ---- a hostile estate through the real binary ----

const HOSTILE_NAMES: &[&str] = &[
    // `/` cannot be in a Unix file name, and a literal `\` is reported
    // escaped (`%5C`), so neither is used.
    r#"=HYPERLINK("http:x","y").txt"#,
    "+1.txt",
    "-1.txt",
    "@x.txt",
    "\tlead.txt",
    "Ünïcødé ñame.txt",
    "<script>alert(1)<script>.txt",
    "<img src=x onerror=alert(2)>.txt",
];

fn hostile_estate(root: &Path) {
    let cap = root.join("SERVER9").join("CAP_HX1");
    let write = |rel: &str, body: &str| {
        let path = cap.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    };
    write(
        "clicomp.box/base/compver.ini",
        "[Version]\r\nVersion=2.00.1239.0000\r\n",
    );
    write("clicomp.box/smsapm32/compver.ini", "[Version]\r\nVersion=1.10\r\n");
    write(
        "clicomp.box/smsapm32.CFG",
        "[Component Configuration]\r\n    Name==1+1\r\n      (REG_SZ) Version==1+1\r\n\r\n[IDENT]\r\n    TYPE=Base Config File Type\r\n",
    );
    for name in HOSTILE_NAMES {
        write(name, "hi\n");
        // The workbook and the page list files of interest only: a
        // binary's name is one of them.
        write(&format!("{name}.exe"), "hi\n");
    }
}

struct Run {
    _tmp: tempfile::TempDir,
    out: PathBuf,
}

fn run_hostile(flavor: &str) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    hostile_estate(&estate);
    let out = tmp.path().join("out");
    common::smsaudit()
        .args(["audit", "--quiet", "--fail-on", "never", "--csv", flavor, "--out"])
        .arg(&out)
        .arg(&estate)
        .assert()
        // A lone CAP: Q236596 cannot be judged without its logon points (A06).
        .code(3);
    Run { _tmp: tmp, out }
}

fn read(path: &Path) -> String {
    String::from_utf8(std::fs::read(path).unwrap()).unwrap()
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Column `col` of every row of files.csv (header skipped).
fn column(text: &str, col: usize) -> Vec<String> {
    csv_rows(text).into_iter().skip(1).map(|r| r[col].clone()).collect()
}

#[test]
fn hostile_names_are_neutralised_in_spreadsheet_csv_only() {
    let run = run_hostile("spreadsheet");
    let paths = column(&read(&run.out.join("files.csv")), 1);
    for name in HOSTILE_NAMES {
        let risky = matches!(name.chars().next(), Some('=' | '+' | '-' | '@' | '\t'));
        let shown = if risky { format!("'{name}") } else { name.to_string() };
        assert!(paths.contains(&shown), "{shown:?} not in {paths:?}");
    }
    let versions = column(&read(&run.out.join("files.csv")), 6);
    assert!(versions.contains(&"'=1+1".to_string()), "{versions:?}");
    // A version is no formula: written as found, without an apostrophe.
    assert!(versions.contains(&"1.10".to_string()) && versions.contains(&"2.00.1239.0000".to_string()));

    let machine = run_hostile("machine");
    let text = read(&machine.out.join("files.csv"));
    assert!(!text.starts_with('\u{feff}'));
    let paths = column(&text, 1);
    for name in HOSTILE_NAMES {
        assert!(paths.contains(&name.to_string()), "{name:?} altered in machine CSV");
    }
    assert!(column(&text, 6).contains(&"=1+1".to_string()));
}

#[test]
fn hostile_estate_xlsx_keeps_everything_as_text() {
    let run = run_hostile("spreadsheet");
    let bytes = std::fs::read(run.out.join("audit.xlsx")).unwrap();
    let files = xlsx_sheet(&bytes, "Files");
    let (rows, _) = files.get_size();
    let paths: Vec<String> = (1..rows as u32).map(|r| string_at(&files, r, 1)).collect();
    for name in HOSTILE_NAMES {
        let name = format!("{name}.exe");
        assert!(paths.contains(&name), "{name:?} not a string cell as is: {paths:?}");
    }
    let versions: Vec<String> = (1..rows as u32)
        .filter_map(|r| match files.get_value((r, 6)) {
            Some(Data::String(s)) => Some(s.clone()),
            Some(Data::Empty) | None => None,
            other => panic!("version cell is not text: {other:?}"),
        })
        .collect();
    for v in ["=1+1", "1.10", "2.00.1239.0000"] {
        assert!(versions.contains(&v.to_string()), "{v} in {versions:?}");
    }
    let matrix = xlsx_sheet(&bytes, "Matrix");
    let (mrows, _) = matrix.get_size();
    let items: Vec<String> = (1..mrows as u32).map(|r| string_at(&matrix, r, 0)).collect();
    let cfg_row = items.iter().position(|i| i == "smsapm32.CFG version").unwrap() + 1;
    assert_eq!(string_at(&matrix, cfg_row as u32, 5), "!! =1+1 (expected 1.10)");
    let reference = format!("F{}", cfg_row + 1);
    assert_eq!(
        fill_of(&bytes, "xl/worksheets/sheet4.xml", &reference).as_deref(),
        Some("FFF4A6A6"),
        "mismatch fill"
    );
    for part in [
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml",
        "xl/worksheets/sheet3.xml",
        "xl/worksheets/sheet4.xml",
    ] {
        assert!(!xlsx_part(&bytes, part).contains("<f>"), "formula in {part}");
    }
}

#[test]
fn hostile_estate_html_is_escaped() {
    let run = run_hostile("spreadsheet");
    let html = read(&run.out.join("report.html"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;script&gt;.txt"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;.txt"));
    assert!(html.contains("Ünïcødé ñame.txt"));
    assert!(html.contains("=HYPERLINK(&quot;http:x&quot;,&quot;y&quot;).txt"));
    assert!(!html.contains("<script") && !html.contains("<img"));
}

#[test]
fn stdout_matrix_is_machine_csv_and_writes_no_files() {
    let tmp = tempfile::tempdir().unwrap();
    hostile_estate(&tmp.path().join("estate"));
    let out = tmp.path().join("out");
    let assert = common::smsaudit()
        .args(["audit", "--quiet", "--fail-on", "never", "--stdout", "matrix", "--out"])
        .arg(&out)
        .arg(tmp.path().join("estate"))
        .assert()
        // A lone CAP: Q236596 cannot be judged without its logon points (A06).
        .code(3);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.starts_with("item,component,artifact,detail,mismatch,"),
        "{stdout}"
    );
    assert!(stdout.contains(",yes,!! =1+1 (expected 1.10)\r\n"));
    assert!(!out.exists(), "no report files without --format");
}

#[test]
fn format_selects_the_files_written() {
    let tmp = tempfile::tempdir().unwrap();
    hostile_estate(&tmp.path().join("estate"));
    let out = tmp.path().join("out");
    common::smsaudit()
        .args([
            "audit",
            "--quiet",
            "--fail-on",
            "never",
            "--format",
            "html,xlsx",
            "--format",
            "json",
            "--out",
        ])
        .arg(&out)
        .arg(tmp.path().join("estate"))
        .assert()
        // A lone CAP: Q236596 cannot be judged without its logon points (A06).
        .code(3);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".smsaudit.lock",
            "audit.json",
            "audit.xlsx",
            "manifest.json",
            "report.html",
            "status.json"
        ]
    );
}

#[test]
fn help_explains_csv_flavours_and_formats() {
    let assert = common::smsaudit().args(["audit", "--help"]).assert().success();
    let help = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for needle in [
        "spreadsheet",
        "machine",
        "BOM",
        "RFC 4180",
        "--format",
        "xlsx",
        "html",
        "--stdout",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}

// ---- LibreOffice and Chromium, the programs people open reports with ----

fn soffice_to_csv(profile: &Path, input: &Path, outdir: &Path, all_sheets: bool) {
    // Export options: comma, double quote, UTF-8, from line 1; for an XLSX
    // every sheet (-1) to <name>-<Sheet>.csv. Import: LibreOffice defaults.
    let export = if all_sheets {
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    } else {
        "csv:Text - txt - csv (StarCalc):44,34,76,1"
    };
    let status = std::process::Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args([
            "--headless",
            "--infilter=CSV:44,34,76",
            "--convert-to",
            export,
            "--outdir",
        ])
        .arg(outdir)
        .arg(input)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "soffice failed on {}", input.display());
}

#[test]
fn libreoffice_runs_no_formula_from_the_reports() {
    if !common::require("soffice", "to open the CSV and XLSX reports") {
        return;
    }
    let run = run_hostile("spreadsheet");
    let machine = run_hostile("machine");
    let work = tempfile::tempdir().unwrap();
    let profile = work.path().join("profile");
    let (csv_out, xlsx_out, control_out) = (
        work.path().join("csv"),
        work.path().join("xlsx"),
        work.path().join("ctl"),
    );

    // The spreadsheet CSV: the formula stays text (with its apostrophe).
    soffice_to_csv(&profile, &run.out.join("files.csv"), &csv_out, false);
    let versions = column(&read(&csv_out.join("files.csv")), 6);
    assert!(versions.contains(&"'=1+1".to_string()), "{versions:?}");
    assert!(!versions.contains(&"2".to_string()), "=1+1 was evaluated: {versions:?}");
    assert!(versions.contains(&"2.00.1239.0000".to_string()), "{versions:?}");
    // A version gets no visible apostrophe (the spreadsheet may show a
    // decimal-looking one as a number: 1.10 as 1.1; audit.xlsx keeps it).
    assert!(!versions.iter().any(|v| v.starts_with("'1")), "{versions:?}");
    let paths = column(&read(&csv_out.join("files.csv")), 1);
    assert!(paths.iter().any(|p| p.starts_with("'=HYPERLINK(")), "{paths:?}");

    // Control: the machine CSV is not for spreadsheets; LibreOffice runs its
    // =1+1. This proves the check above can fail.
    soffice_to_csv(&profile, &machine.out.join("files.csv"), &control_out, false);
    assert!(column(&read(&control_out.join("files.csv")), 6).contains(&"2".to_string()));

    // The XLSX: every value as written, nothing evaluated or re-typed.
    soffice_to_csv(&profile, &run.out.join("audit.xlsx"), &xlsx_out, true);
    let files = read(&xlsx_out.join("audit-Files.csv"));
    let versions = column(&files, 6);
    for v in ["=1+1", "1.10", "2.00.1239.0000"] {
        assert!(versions.contains(&v.to_string()), "{v} in {versions:?}");
    }
    let paths = column(&files, 1);
    for name in HOSTILE_NAMES {
        let name = format!("{name}.exe");
        assert!(paths.contains(&name), "{name:?} in {paths:?}");
    }
    let matrix = read(&xlsx_out.join("audit-Matrix.csv"));
    assert!(matrix.contains(",1.10\n") || matrix.contains(",1.10\r\n"), "{matrix}");
    assert!(matrix.contains("!! =1+1 (expected 1.10)"), "{matrix}");
}

/// The spreadsheet CSV written with `,` and with `--csv-separator ;` (Excel
/// in German or French), each opened by LibreOffice with that separator:
/// every value in its column, and a version (`698.0012`) shown without an
/// apostrophe, the same in the observed column and in the message.
#[test]
fn libreoffice_opens_the_csv_in_its_columns_with_comma_or_semicolon_and_no_apostrophe_on_a_version() {
    if !common::require("soffice", "to open the CSV reports") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    common::sample_copy(&estate);
    std::fs::write(
        estate.join("SERVER1/CAP_MS1/clicomp.box/hinv/compver.ini"),
        "[Version]\r\nVersion=698.0012\r\n",
    )
    .unwrap();
    let audit = |out: &Path, extra: &[&str]| {
        common::smsaudit()
            .args(["audit", "--quiet", "--format", "csv", "--out"])
            .arg(out)
            .arg(&estate)
            .args(extra)
            .assert()
            .code(1);
    };
    let machine = tmp.path().join("machine");
    audit(&machine, &["--csv", "machine"]);
    let expected = csv_rows(&read(&machine.join("findings.csv")));
    let header = &expected[0];
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (name, separator) in [("comma", 44), ("semicolon", 59)] {
        let out = tmp.path().join(name);
        audit(&out, &["--csv-separator", name]);
        let written = read(&out.join("findings.csv"));
        assert_eq!(
            written.lines().next().unwrap().contains(';'),
            name == "semicolon",
            "{written}"
        );
        let converted = tmp.path().join(format!("{name}-opened"));
        let status = std::process::Command::new("soffice")
            .arg(format!(
                "-env:UserInstallation=file://{}",
                tmp.path().join("profile").display()
            ))
            .arg("--headless")
            .arg(format!("--infilter=CSV:{separator},34,76,1"))
            .args(["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir"])
            .arg(&converted)
            .arg(out.join("findings.csv"))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "soffice failed");
        let opened = csv_rows(&read(&converted.join("findings.csv")));
        assert_eq!(&opened[0], header, "{name}: the header in its columns");
        assert_eq!(opened.len(), expected.len(), "{name}");
        for (row, want) in opened.iter().zip(&expected).skip(1) {
            assert_eq!(row.len(), header.len(), "{name}: {row:?}");
            for column in [
                "severity",
                "code",
                "site",
                "location",
                "path",
                "expected",
                "message",
                "fingerprint",
            ] {
                assert_eq!(row[at(column)], want[at(column)], "{name}, {column}: {row:?}");
            }
        }
        let f24 = opened
            .iter()
            .find(|r| r[at("code")] == "F24")
            .unwrap_or_else(|| panic!("{name}: no F24 in {opened:?}"));
        assert_eq!(f24[at("observed")], "698.0012", "{name}");
        assert!(
            f24[at("message")].contains("offers hinv 698.0012 but"),
            "{name}: {f24:?}"
        );
        assert!(
            !opened
                .iter()
                .flatten()
                .any(|c| c.starts_with("'6") || c.contains(" '6")),
            "{name}"
        );
    }
}

fn chromium(profile: &Path, args: &[&str], page: &Path) -> std::process::Output {
    std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

#[test]
fn chromium_renders_the_report_without_running_anything() {
    if !common::require("chromium", "to render report.html") {
        return;
    }
    let run = run_hostile("spreadsheet");
    let page = run.out.join("report.html");
    let profile = tempfile::tempdir().unwrap();
    let output = chromium(profile.path(), &["--dump-dom"], &page);
    assert!(output.status.success());
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        dom.contains("<title>SMS 2.0 share audit report</title>"),
        "title changed"
    );
    assert!(
        !dom.contains("<script") && !dom.contains("<img"),
        "markup from a file name got through"
    );
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;script&gt;.txt"));
    assert!(dom.contains(r"\\SERVER9\CAP_HX1"));
    // F02, and A06 for the logon points and site server a lone CAP lacks.
    assert!(dom.contains("Findings (3)") && dom.contains("F02") && dom.contains("Q236596"));
    assert!(dom.contains("A06"));
    assert!(dom.contains("!! =1+1 (expected 1.10)"));

    // A screenshot of the sample estate's report, for a person to look at.
    let sample = common::sample_shares();
    let out = tempfile::tempdir().unwrap();
    common::smsaudit()
        .args(["audit", "--quiet", "--fail-on", "never", "--format", "html", "--out"])
        .arg(out.path())
        .arg(&sample)
        .assert()
        .success();
    // In the target folder's own scratch space, wherever CARGO_TARGET_DIR puts it.
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let shot = chromium(
        profile.path(),
        &["--window-size=1600,2600", &format!("--screenshot={}", png.display())],
        &out.path().join("report.html"),
    );
    assert!(shot.status.success());
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    eprintln!("report screenshot: {}", png.display());
}

/// A share with thousands of plain files keeps the HTML report light: the
/// files that matter are listed, the rest are counted.
#[test]
fn html_lists_the_files_that_matter_when_there_are_thousands() {
    let estate = tempfile::tempdir().unwrap();
    let cap = estate.path().join("SRV/CAP_AB1");
    std::fs::create_dir_all(cap.join("clicomp.box/base")).unwrap();
    std::fs::write(cap.join("clicomp.box/base/compver.ini"), "Version=2.00.1380.1000\r\n").unwrap();
    // The ten folders of a CAP (an incomplete set is N04, not this test's topic).
    for b in [
        "clidata.box",
        "clifiles.box",
        "offerinf.box",
        "pkginfo.box",
        "ccr.box",
        "ddr.box",
        "inventry.box",
        "sinv.box",
        "statmsgs.box",
    ] {
        std::fs::create_dir_all(cap.join(b)).unwrap();
    }
    for i in 0..5_100 {
        std::fs::write(cap.join(format!("sinv.box/{i:05}.sic")), "x").unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    common::smsaudit()
        .arg("audit")
        .arg(estate.path())
        .arg("--out")
        .arg(out.path())
        .args(["--quiet", "--format", "html"])
        .assert()
        .code(3); // lone CAPs: A06
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("Files of interest (1 of 5101)"), "summary count");
    assert!(html.contains("5100 other files were read (no version, no kind the audit parses, no problem, no finding): files.csv and audit.json hold every file."));
    assert!(html.contains(r"clicomp.box\<wbr>base\<wbr>compver.ini"));
    assert!(!html.contains("00042.sic"));
}

/// The rows of files.csv a person needs, found here from the CSV itself:
/// a version, a kind the audit parses, a status other than `ok` or a
/// reason, or a finding of findings.csv pointing at it.
fn files_of_interest(out: &Path) -> (Vec<(String, String)>, usize) {
    let files = csv_rows(&read(&out.join("files.csv")));
    let findings = csv_rows(&read(&out.join("findings.csv")));
    let at = |rows: &[Vec<String>], name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (location, path) = (at(&findings, "location"), at(&findings, "path"));
    let pointed: std::collections::HashSet<(String, String)> = findings[1..]
        .iter()
        .map(|r| (r[location].clone(), r[path].to_ascii_lowercase()))
        .collect();
    let interesting: Vec<(String, String)> = files[1..]
        .iter()
        .filter(|r| {
            !r[6].is_empty()
                || !matches!(r[5].as_str(), "other" | "directory")
                || r[9] != "ok"
                || !r[10].is_empty()
                || pointed.contains(&(r[0].clone(), r[1].to_ascii_lowercase()))
        })
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    (interesting, files.len() - 1)
}

/// An estate of many client uploads: the workbook's Files sheet holds the
/// files of interest only, then one line counting the others; files.csv
/// and audit.json keep every file, and the page lists the same rows.
#[test]
fn workbook_files_sheet_holds_the_files_of_interest() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    common::generated(
        &estate,
        &[
            "--sites",
            "2",
            "--caps-per-site",
            "1",
            "--logon-points",
            "1",
            "--small-files",
            "3000",
            "--seed",
            "42",
        ],
    );
    let out = tmp.path().join("out");
    common::smsaudit()
        .args(["audit", "--quiet", "--fail-on", "never", "--csv", "machine", "--out"])
        .arg(&out)
        .arg(&estate)
        .assert()
        .success();
    let (interesting, total) = files_of_interest(&out);
    let others = total - interesting.len();
    assert!(
        total > 3000 && !interesting.is_empty() && others >= 3000,
        "{total} {}",
        interesting.len()
    );

    let bytes = std::fs::read(out.join("audit.xlsx")).unwrap();
    let sheet = xlsx_sheet(&bytes, "Files");
    let (rows, _) = sheet.get_size();
    let listed: Vec<(String, String)> = (1..rows as u32)
        .take_while(|&r| matches!(sheet.get_value((r, 0)), Some(Data::String(_))))
        .map(|r| (string_at(&sheet, r, 0), string_at(&sheet, r, 1)))
        .collect();
    assert_eq!(
        listed, interesting,
        "the sheet's rows are the files of interest, in order"
    );
    let note = string_at(&sheet, listed.len() as u32 + 1, 1);
    assert_eq!(
        note,
        format!("{others} other files were read (no version, no kind the audit parses, no problem, no finding): files.csv and audit.json hold every file.")
    );
    assert_eq!(rows, listed.len() + 2, "nothing after the note");

    let json: serde_json::Value = serde_json::from_str(&read(&out.join("audit.json"))).unwrap();
    assert_eq!(
        json["files"].as_array().unwrap().len(),
        total,
        "audit.json keeps every row"
    );

    let html = read(&out.join("report.html"));
    let n = interesting.len();
    assert!(
        html.contains(&format!("Files of interest ({n} of {total})")),
        "page count"
    );
    assert!(html.contains(&format!("{others} other files were read")));
}

/// A matrix of thousands of shares: the page shows the first 500 share
/// columns, those that need attention first, and says how many more there
/// are and where they all are.
#[test]
fn html_matrix_of_thousands_of_shares_is_capped_with_a_note() {
    let mut audit = hand_made();
    let extra = 600;
    for n in 0..extra {
        let mut column = audit.matrix.columns[0].clone();
        column.location = format!(r"\\SRV{n:04}\CAP_AB1");
        column.header = format!("{} (CAP AB1)", column.location);
        audit.matrix.columns.push(column);
        let at = audit.matrix.columns.len() - 1;
        for row in &mut audit.matrix.rows {
            let cell = row.cells[0].1.clone();
            row.cells.push((at, cell));
        }
    }
    let total = audit.matrix.columns.len();
    let html = String::from_utf8(report::html::audit(&audit).unwrap()).unwrap();
    assert!(
        html.contains(&format!(
            "This page shows the first 500 of {total} shares, in the matrix's order, and the 2 of 2 items that have a cell in them; {} more shares are left out here: matrix.csv has every share and item.",
            total - 500
        )),
        "the note"
    );
    // The screen grid and the printed parts, 500 cells a row each.
    let cells = html.matches("<td class=\"s-").count();
    assert_eq!(cells, 2 * 500 * audit.matrix.rows.len());
    assert!(
        html.contains(r"\\<wbr>SRV\<wbr>CAP_AB1") || html.contains("SRV2"),
        "the problem share is shown"
    );

    // Under the cap, nothing is left out and no note.
    let small = String::from_utf8(report::html::audit(&hand_made()).unwrap()).unwrap();
    assert!(!small.contains("left out here: matrix.csv"));
}

/// A hand-made matrix of `sites` sites of two CAPs each: one row on every
/// CAP, one row per site on its own two CAPs only (as a site's logon point
/// compver.ini is), the first and the last site's rows red.
fn many_sites(sites: usize) -> Audit {
    let mut audit = hand_made();
    let ok = |v: &str| cell(v, CellState::Ok, v);
    let mut columns = Vec::new();
    for s in 0..sites {
        for n in 0..2 {
            let location = format!(r"\\SRV{s:04}{n}\CAP_{s:03}");
            columns.push(Column {
                header: format!("{location} (CAP {s:03})"),
                location,
                kind: LocationKind::Cap,
                sites: vec![format!("{s:03}")],
                other_cells: CellState::NotApplicable,
            });
        }
    }
    let mut rows = vec![Row {
        key: RowKey::new("base", Artifact::Compver, ""),
        item: "base compver.ini".into(),
        cells: (0..columns.len()).map(|c| (c, ok("2.00.1493.2009"))).collect(),
    }];
    for s in 0..sites {
        rows.push(Row {
            key: RowKey::new("base", Artifact::LogonSiteCompver, &format!("{s:03}")),
            item: format!("base logon point compver.ini of site {s:03}"),
            cells: vec![(2 * s, ok("2.00.1493.2009")), (2 * s + 1, ok("2.00.1493.2009"))],
        });
    }
    rows[1].cells[1].1 = cell(
        "2.00.1239.0000",
        CellState::Mismatch {
            found: Found::Value,
            expected: "2.00.1493.2009".into(),
        },
        "!! 2.00.1239.0000 (expected 2.00.1493.2009)",
    );
    // A red row far right: first on a page of every row, absent from one
    // of the first shares.
    let last = rows.len() - 1;
    rows[last].cells[0].1 = rows[1].cells[1].1.clone();
    audit.matrix = Matrix { columns, rows };
    audit.findings.clear();
    audit
}

/// Issue 30: the page's matrix caps its cells, not only its shares: of
/// 1,200 shares of 600 sites it shows the first shares, as many as 50,000
/// cells allow, and only the items that have a cell in them (the other
/// sites' rows are blank there), and says what is left out and where it is.
#[test]
fn html_matrix_of_many_sites_shows_the_items_of_its_shares() {
    let audit = many_sites(600);
    let html = String::from_utf8(report::html::audit(&audit).unwrap()).unwrap();
    let matrix = &html[html.find("<section id=\"matrix\"").unwrap()..];
    let matrix = &matrix[..matrix.find("</section>").unwrap()];
    // k shares show the row on every CAP and k/2 sites' rows: the largest
    // k with (1 + k/2) x k <= 50,000 (and k <= 500) is 314.
    let (shares, items) = (314, 1 + 157);
    assert!(
        matrix.contains(&format!(
            "This page shows the first {shares} of 1200 shares, in the matrix's order, and the {items} of 601 items that have a cell in them; {} more shares and {} more items are left out here: matrix.csv has every share and item.",
            1200 - shares,
            601 - items
        )),
        "the note"
    );
    let cells = matrix.matches("<td class=\"s-").count();
    assert_eq!(cells, 2 * shares * items, "the screen grid and the printed parts");
    // The red row comes first; a site beyond the shown shares is not there.
    assert!(matrix.contains("base logon point compver.ini of site 000"));
    assert!(!matrix.contains("of site 157<"));
    assert!(!matrix.contains(r"SRV01570"));
    assert!(matrix.contains("Show only the 1 rows"));
}

/// Issue 30: the workbook's Matrix sheets hold runs of shares with the
/// items that have a cell in them, at most 250,000 cells in all; the
/// Summary says what is where and what is left out.
#[test]
fn xlsx_matrix_of_many_sites_is_capped_by_cells_with_a_note() {
    let audit = many_sites(1_500);
    let bytes = report::xlsx::audit(&audit).unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheets: Vec<String> = book
        .sheet_names()
        .into_iter()
        .filter(|s| s.starts_with("Matrix"))
        .collect();
    assert_eq!(sheets, ["Matrix"]);
    // (1 + k/2) rows x k shares <= 250,000: k = 706 shares, 353 sites'
    // rows and the row on every CAP (249,924 cells).
    let range = book.worksheet_range("Matrix").unwrap();
    let (rows, width) = range.get_size();
    assert_eq!((rows - 1, width - 5), (354, 706));
    assert_eq!(
        string_at(&range, 1, 0),
        "base logon point compver.ini of site 000",
        "the red row first"
    );
    for row in 2..rows as u32 {
        let item = string_at(&range, row, 0);
        let site = item.strip_prefix("base logon point compver.ini of site ");
        assert!(
            item == "base compver.ini" || site.is_some_and(|s| s.parse::<usize>().unwrap() < 353),
            "{item} has no cell in the sheet's shares"
        );
    }
    let summary = book.worksheet_range("Summary").unwrap();
    let note = summary
        .rows()
        .flat_map(|r| r.iter())
        .map(|c| c.to_string())
        .find(|t| t.starts_with("The matrix has 3000 locations and 1501 items"))
        .expect("the note on the Summary");
    assert!(
        note.contains("sheet Matrix holds the first 706 locations in the matrix's order and the 354 items that have a cell in them"),
        "{note}"
    );
    assert!(
        note.contains("The last 2294 locations are left out of this workbook"),
        "{note}"
    );
    assert!(note.ends_with("matrix.csv has every location and item."), "{note}");
}
