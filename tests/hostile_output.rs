//! What the audit writes and prints, against a report folder another
//! account can write to and share content made to forge or mislead: no
//! file written through a link or onto a FIFO, no input that hangs, no
//! formula under any CSV separator, no control character on the terminal
//! or in the log, no hidden bidi or invisible character in what people
//! read, and one report's failure keeps the whole previous set.

use crate::common;

use common::{lone_cap, smsaudit};
use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;

/// Runs an audit of `estate` into `out` with extra arguments; returns the
/// exit code, stdout and stderr.
fn audit(estate: &Path, out: &Path, extra: &[&str]) -> (i32, Vec<u8>, Vec<u8>) {
    let output = smsaudit()
        .args(["audit", "--fail-on", "never", "--out"])
        .arg(out)
        .args(extra)
        .arg(estate)
        .output()
        .unwrap();
    let code = output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed (a hang?): {}", String::from_utf8_lossy(&output.stderr)));
    (code, output.stdout, output.stderr)
}

/// Links planted where the audit writes (the write probe, every report,
/// and the temporary names the old writer derived from its pid, for the
/// pids the run may get) all point at a file outside: it is unchanged
/// afterwards, each report is a file of its own, and no link was followed.
#[cfg(unix)]
#[test]
fn links_planted_in_the_report_folder_are_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    lone_cap(&estate);
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let link = |name: String| std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    link(".smsaudit-write-test".into());
    for report in common::REPORT_FILES {
        link(report.into());
    }
    let last_pid: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    for pid in last_pid + 1..last_pid + 400 {
        for report in common::REPORT_FILES {
            link(format!(".{report}.{pid}.tmp"));
        }
    }
    let (code, _, err) = audit(&estate, &out, &["--quiet"]);
    assert_eq!(code, 3, "{}", String::from_utf8_lossy(&err));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    for report in common::REPORT_FILES {
        let meta = std::fs::symlink_metadata(out.join(report)).unwrap();
        assert!(meta.file_type().is_file(), "{report}: the link itself is replaced");
    }
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_type().unwrap().is_symlink())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !common::REPORT_FILES.contains(&name.as_str()))
        .filter(|name| !["causes.csv", "manifest.json", ".smsaudit.lock"].contains(&name.as_str()))
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

/// A FIFO where the old probe and temporary files were written: opening
/// one for writing waits for a reader that never comes.
#[cfg(unix)]
#[test]
fn a_fifo_planted_in_the_report_folder_does_not_hang_the_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    lone_cap(&estate);
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    common::mkfifo(&out.join(".smsaudit-write-test"));
    common::mkfifo(&out.join("report.html"));
    let (code, _, err) = audit(&estate, &out, &["--quiet"]);
    assert_eq!(code, 3, "{}", String::from_utf8_lossy(&err));
    assert!(std::fs::symlink_metadata(out.join("report.html"))
        .unwrap()
        .file_type()
        .is_file());
}

/// `--log` naming a link is refused before the crawl, and a hard link is
/// replaced, not rewritten: the file it shares its data with is unchanged.
#[cfg(unix)]
#[test]
fn a_log_is_never_written_through_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    lone_cap(&estate);
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let out = tmp.path().join("out");
    let log = tmp.path().join("smsaudit.log");
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    let (code, _, err) = audit(&estate, &out, &["--quiet", "--log", log.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&err);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!out.exists(), "refused before anything is written");

    std::fs::remove_file(&log).unwrap();
    std::fs::hard_link(&victim, &log).unwrap();
    let (code, _, err) = audit(&estate, &out, &["--quiet", "--log", log.to_str().unwrap()]);
    assert_eq!(code, 3, "{}", String::from_utf8_lossy(&err));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::read_to_string(&log).unwrap().contains("location "));

    let fifo = tmp.path().join("fifo.log");
    common::mkfifo(&fifo);
    let (code, _, err) = audit(&estate, &out, &["--quiet", "--log", fifo.to_str().unwrap()]);
    assert_eq!(code, 2, "{}", String::from_utf8_lossy(&err));
}

/// A FIFO given as an input file is refused at once, not read forever.
#[cfg(unix)]
#[test]
fn a_fifo_given_as_baseline_inventory_or_diff_input_is_refused_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    lone_cap(&estate);
    let out = tmp.path().join("out");
    let fifo = tmp.path().join("fifo");
    common::mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    for args in [vec!["--baseline", fifo], vec!["--inventory", fifo]] {
        let (code, _, err) = audit(&estate, &out, &args);
        let err = String::from_utf8_lossy(&err);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("is not a regular file"), "{args:?}: {err}");
    }
    let output = smsaudit().args(["diff", fifo, fifo]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

// ---- CSV separators: what Excel in most of Europe opens a CSV with ----

/// Names that are a formula once a spreadsheet splits them at `;`, tab or
/// `,`, and one that is a formula after a line break.
#[cfg(unix)]
const SPLIT_NAMES: [&str; 4] = ["K;=21*2;x", "K\t=21*2\tx", "K,=21*2,x", "K;x;\n=21*2"];

#[cfg(unix)]
fn soffice_csv(profile: &Path, separator: u32, inputs: &[PathBuf], outdir: &Path) {
    let status = std::process::Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .arg("--headless")
        .arg(format!("--infilter=CSV:{separator},34,76,1"))
        .args(["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir"])
        .arg(outdir)
        .args(inputs)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "soffice failed");
}

#[cfg(unix)]
fn cells(path: &Path) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

#[cfg(unix)]
#[test]
fn spreadsheet_csv_runs_no_formula_with_semicolon_tab_or_comma_as_separator() {
    if !common::require("soffice", "to open the reports as a spreadsheet user would") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    let cap = lone_cap(&estate);
    for name in SPLIT_NAMES {
        common::write_bytes(&cap, name, b"hi\n");
    }
    let mut inputs = Vec::new();
    for flavor in ["spreadsheet", "machine"] {
        let out = tmp.path().join(flavor);
        let (code, _, err) = audit(&estate, &out, &["--quiet", "--format", "csv", "--csv", flavor]);
        assert_eq!(code, 3, "{}", String::from_utf8_lossy(&err));
        let input = tmp.path().join(format!("{flavor}-files.csv"));
        std::fs::copy(out.join("files.csv"), &input).unwrap();
        inputs.push(input);
    }
    for (separator, name) in [(59, "semicolon"), (9, "tab"), (44, "comma")] {
        let converted = tmp.path().join(name);
        soffice_csv(&tmp.path().join("profile"), separator, &inputs, &converted);
        let safe = cells(&converted.join("spreadsheet-files.csv"));
        assert!(
            !safe.iter().any(|c| c == "42"),
            "a formula ran with {name} as separator: {safe:?}"
        );
        assert!(safe.iter().any(|c| c.contains("'=21*2")), "{name}: {safe:?}");
        // Control: the machine flavour is not for spreadsheets, and
        // LibreOffice runs its =21*2 under `;` and tab. This proves the
        // check above can fail.
        if separator != 44 {
            let raw = cells(&converted.join("machine-files.csv"));
            assert!(raw.iter().any(|c| c == "42"), "{name}: {raw:?}");
        }
    }
}

// ---- terminal, log and what people read ----

/// Share content that would retitle the terminal, clear it, and start a
/// line of its own in the log.
#[cfg(unix)]
const FORGING_FOLDER: &str = "evil\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\nforged line";

#[cfg(unix)]
#[test]
fn terminal_and_log_carry_no_control_character_from_a_share() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    let cap = lone_cap(&estate);
    common::write(
        &cap,
        &format!("clicomp.box/{FORGING_FOLDER}/compver.ini"),
        "[Version]\nVersion=2.00.1239.0000\n",
    );
    common::write_bytes(&cap, &format!("{FORGING_FOLDER}.txt"), b"hi\n");
    let out = tmp.path().join("out");
    let log = tmp.path().join("smsaudit.log");
    let (code, stdout, stderr) = audit(&estate, &out, &["-v", "--log", log.to_str().unwrap()]);
    assert_eq!(code, 3, "{}", String::from_utf8_lossy(&stderr));
    let log = std::fs::read_to_string(&log).unwrap();
    let stderr = String::from_utf8(stderr).unwrap();
    assert!(
        log.contains(r"evil\x1b]0;owned\x07\x1b[2J\u{9b}31m\x0aforged line"),
        "{log}"
    );
    for (what, text) in [
        ("log", log.as_str()),
        ("stderr", &stderr),
        ("stdout", &String::from_utf8(stdout).unwrap()),
    ] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{what} has a raw control character: {text:?}"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("forged line")),
            "{what} has a forged line: {text}"
        );
    }
}

#[cfg(unix)]
const SPOOFED_NAME: &str = "report\u{202E}txt.exe";
/// A binary, so the workbook and the page, which list files of interest,
/// show it too.
#[cfg(unix)]
const INVISIBLE_NAME: &str = "a\u{200B}b\u{00AD}.dll";

#[cfg(unix)]
#[test]
fn bidi_and_invisible_characters_are_named_where_people_read() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    let cap = lone_cap(&estate);
    common::write_bytes(&cap, SPOOFED_NAME, b"hi\n");
    common::write_bytes(&cap, INVISIBLE_NAME, b"hi\n");
    let out = tmp.path().join("out");
    let (code, _, err) = audit(&estate, &out, &["--quiet"]);
    assert_eq!(code, 3, "{}", String::from_utf8_lossy(&err));
    let hidden = |text: &str| text.contains('\u{202E}') || text.contains('\u{200B}') || text.contains('\u{00AD}');

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("report&lt;U+202E&gt;txt.exe"),
        "bidi override not named in HTML"
    );
    assert!(html.contains("a&lt;U+200B&gt;b&lt;U+00AD&gt;.dll"));
    assert!(!hidden(&html));

    let csv = std::fs::read_to_string(out.join("files.csv")).unwrap();
    assert!(csv.contains("report<U+202E>txt.exe") && csv.contains("a<U+200B>b<U+00AD>.dll"));
    assert!(!hidden(&csv));

    let xlsx = std::fs::read(out.join("audit.xlsx")).unwrap();
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let files = book.worksheet_range("Files").unwrap();
    let paths: Vec<String> = files
        .rows()
        .filter_map(|r| match &r[1] {
            Data::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert!(paths.contains(&"report<U+202E>txt.exe".to_string()), "{paths:?}");
    assert!(!paths.iter().any(|p| hidden(p)));

    // For programs, values stay exact.
    let json = std::fs::read_to_string(out.join("audit.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let exact: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(
        exact.contains(&SPOOFED_NAME) && exact.contains(&INVISIBLE_NAME),
        "{exact:?}"
    );
    let machine = tmp.path().join("machine");
    audit(&estate, &machine, &["--quiet", "--format", "csv", "--csv", "machine"]);
    let paths: Vec<String> = common::read_csv(&machine.join("files.csv"))
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    assert!(paths.contains(&SPOOFED_NAME.to_string()), "{paths:?}");
}

// ---- the output folder's identity ----

#[cfg(target_os = "linux")]
#[test]
fn an_output_folder_reached_through_a_bind_mount_of_a_share_is_refused() {
    if !common::require("mount", "to bind mount a share") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    let cap = lone_cap(&estate);
    let alias = tmp.path().join("alias");
    let Some(_mount) = common::Mount::new(&["--bind".as_ref(), cap.as_os_str()], &alias) else {
        return;
    };
    let before: Vec<PathBuf> = walkdir::WalkDir::new(&cap)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .collect();
    for (root, out) in [
        (&cap, alias.join("reports")),
        (&estate, alias.join("clicomp.box/reports")),
    ] {
        let (code, _, err) = audit(root, &out, &["--quiet"]);
        let err = String::from_utf8_lossy(&err);
        assert_eq!(code, 2, "{}: {err}", out.display());
        assert!(err.contains("inside the audited root"), "{err}");
        let log = alias.join("audit.log");
        let (code, _, err) = audit(
            root,
            &tmp.path().join("elsewhere"),
            &["--quiet", "--log", log.to_str().unwrap()],
        );
        assert_eq!(code, 2, "log in the share: {}", String::from_utf8_lossy(&err));
    }
    let after: Vec<PathBuf> = walkdir::WalkDir::new(&cap)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .collect();
    assert_eq!(before, after, "nothing written into the share");
}

// ---- a report that cannot be written; a format's limits ----

/// A report set is all or nothing (tests/report_set.rs has the signals and
/// the full disk): one report that cannot be put in place keeps the whole
/// previous set, says so, and still prints the summary.
#[test]
fn a_report_that_cannot_be_written_keeps_the_previous_set() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    lone_cap(&estate);
    let out = tmp.path().join("out");
    // An earlier run's reports, then a folder where audit.xlsx goes:
    // renaming a file onto it fails.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.html"), "an earlier run").unwrap();
    std::fs::write(out.join("matrix.csv"), "an earlier run").unwrap();
    std::fs::create_dir_all(out.join("audit.xlsx").join("taken")).unwrap();
    let (code, _, err) = audit(&estate, &out, &[]);
    let err = String::from_utf8_lossy(&err);
    assert_eq!(code, 2, "a report missing is a run that could not finish: {err}");
    assert!(err.contains("audit.xlsx"), "{err}");
    assert!(
        err.contains("nothing of this run was put in place: the reports already in"),
        "{err}"
    );
    assert!(err.contains("findings: "), "the summary is still printed: {err}");
    assert!(!err.contains("wrote"), "{err}");
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".smsaudit.lock", "audit.xlsx", "matrix.csv", "report.html"]);
    for report in ["report.html", "matrix.csv"] {
        assert_eq!(std::fs::read_to_string(out.join(report)).unwrap(), "an earlier run");
    }
}

#[test]
fn an_estate_wider_than_an_excel_sheet_still_gets_its_workbook() {
    use calamine::{Data, Reader};
    use smsaudit::audit::{Cell, CellState, Column, Matrix, Row};
    use smsaudit::model::{Artifact, LocationKind, RowKey};
    const LOCATIONS: usize = 16_400;
    let columns: Vec<Column> = (0..LOCATIONS)
        .map(|i| Column {
            location: format!(r"\\SRV{i:05}\CAP_AB1"),
            kind: LocationKind::Cap,
            sites: vec!["AB1".into()],
            header: format!(r"\\SRV{i:05}\CAP_AB1 (CAP AB1)"),
            other_cells: CellState::NotApplicable,
        })
        .collect();
    let cells = (0..LOCATIONS)
        .map(|i| {
            let cell = Cell {
                value: format!("2.00.1493.{i:04}"),
                state: CellState::Ok,
                text: format!("2.00.1493.{i:04}"),
                string_version: None,
            };
            (i, cell)
        })
        .collect();
    let audit = smsaudit::Audit {
        tool: "smsaudit".into(),
        version: "0.0.0".into(),
        roots: vec!["/mnt".into()],
        inventory: None,
        started: "2026-11-24T00:00:00Z".into(),
        duration_seconds: 1.0,
        summary: Default::default(),
        causes: vec![],
        sites: vec![],
        history: None,
        accepted: None,
        symptoms: None,
        locations: vec![],
        matrix: Matrix {
            columns,
            rows: vec![Row {
                key: RowKey::new("base", Artifact::Compver, ""),
                item: "base compver.ini".into(),
                cells,
            }],
        },
        findings: vec![],
        stamps: vec![],
        files: Default::default(),
        baseline: None,
        drift: None,
        drift_error: None,
        upgrade: None,
    };
    let bytes = smsaudit::report::xlsx::audit(&audit).expect("the workbook is written");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["Summary", "Causes", "Sites", "Matrix", "Matrix 2", "Findings", "Files"]
    );
    // item, component, artifact, detail, mismatch (matrix::KEY_COLUMNS).
    let keys = 5;
    let mut shown = Vec::new();
    for sheet in ["Matrix", "Matrix 2"] {
        let range = book.worksheet_range(sheet).unwrap();
        assert!(range.get_size().1 <= 16_384, "{sheet} is {} wide", range.get_size().1);
        assert_eq!(range.get_value((1, 0)), Some(&Data::String("base compver.ini".into())));
        for col in keys..range.get_size().1 {
            let header = range.get_value((0, col as u32)).unwrap().to_string();
            let value = range.get_value((1, col as u32)).unwrap().to_string();
            shown.push((header, value));
        }
    }
    assert_eq!(shown.len(), LOCATIONS, "every location on one of the sheets");
    assert_eq!(
        shown.last().unwrap(),
        &(
            r"\\SRV16399\CAP_AB1 (CAP AB1)".to_string(),
            "2.00.1493.16399".to_string()
        )
    );
    // The page shows the first 500 shares and says where the rest are.
    let html = String::from_utf8(smsaudit::report::html::audit(&audit).unwrap()).unwrap();
    assert!(html.contains(&format!("This page shows the first 500 of {LOCATIONS} shares")));
    assert!(!html.contains(r"\\SRV16399\CAP_AB1"));
}

/// Issue 28 item 7: the workbook's scratch file is staged in the output
/// folder, not in `$TMPDIR`: with `TMPDIR` naming a folder that does not
/// exist, a file, or a folder that cannot be written, the whole set is
/// still written, and nothing of the staging is left beside it.
#[cfg(unix)]
#[test]
fn the_set_is_staged_in_the_output_folder_not_in_tmpdir() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    lone_cap(&estate);
    let not_a_folder = tmp.path().join("a-file");
    std::fs::write(&not_a_folder, "x").unwrap();
    let read_only = tmp.path().join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
    for tmpdir in [tmp.path().join("missing"), not_a_folder, read_only] {
        let out = tmp.path().join("out");
        let output = smsaudit()
            .args(["audit", "--fail-on", "never", "--quiet", "--out"])
            .arg(&out)
            .arg(&estate)
            .env("TMPDIR", &tmpdir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(0 | 1 | 3 | 4)),
            "TMPDIR={}: {:?} {err}",
            tmpdir.display(),
            output.status
        );
        for report in ["audit.xlsx", "audit.json", "report.html", "files.csv"] {
            assert!(
                out.join(report).is_file(),
                "TMPDIR={}: {report} written",
                tmpdir.display()
            );
        }
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') || n.contains("tmp"))
            .filter(|n| n != ".smsaudit.lock")
            .collect();
        assert!(names.is_empty(), "nothing staged is left: {names:?}");
    }
}

/// Issue 28 item 3: a `--log` that is one of the run's own files (the
/// history, the inventory, the baseline, a client log, a report of the
/// set; by identity, so another spelling counts) is refused before
/// anything is written, with a message naming `--log`, and that file
/// stays byte for byte as it was.
#[cfg(unix)]
#[test]
fn a_log_that_is_one_of_the_runs_own_files_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    lone_cap(&estate);
    let out = tmp.path().join("out");
    let history = tmp.path().join("h.sqlite");
    let inventory = tmp.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        "unc_root = \"estate\"\n[[site]]\ncode = \"HX1\"\ncaps = ['\\\\SERVER9\\CAP_HX1']\n",
    )
    .unwrap();
    let logs = tmp.path().join("client-logs");
    std::fs::create_dir(&logs).unwrap();
    let client_log = logs.join("PC1_Ccim32.log");
    std::fs::write(&client_log, "some client log line\n").unwrap();
    // A first run: the history, the baseline and a report set exist.
    let (code, _, err) = audit(&estate, &out, &["--quiet", "--history", history.to_str().unwrap()]);
    assert!(code != 2, "{}", String::from_utf8_lossy(&err));
    let baseline = tmp.path().join("baseline.json");
    std::fs::copy(out.join("audit.json"), &baseline).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let other_spelling = |p: &Path| {
        format!(
            "{}/../{}/{}",
            s(p.parent().unwrap()),
            tmp.path().file_name().unwrap().to_str().unwrap(),
            p.file_name().unwrap().to_str().unwrap()
        )
    };
    let cases: Vec<(&str, Vec<String>, PathBuf)> = vec![
        (
            "the history",
            vec!["--history".into(), s(&history), "--log".into(), s(&history)],
            history.clone(),
        ),
        (
            "the history, spelt otherwise",
            vec![
                "--history".into(),
                s(&history),
                "--log".into(),
                other_spelling(&history),
            ],
            history.clone(),
        ),
        (
            "the inventory",
            vec!["--inventory".into(), s(&inventory), "--log".into(), s(&inventory)],
            inventory.clone(),
        ),
        (
            "the baseline",
            vec!["--baseline".into(), s(&baseline), "--log".into(), s(&baseline)],
            baseline.clone(),
        ),
        (
            "a client log",
            vec!["--client-logs".into(), s(&logs), "--log".into(), s(&client_log)],
            client_log.clone(),
        ),
        (
            "a report",
            vec!["--log".into(), s(&out.join("audit.json"))],
            out.join("audit.json"),
        ),
        (
            "the manifest",
            vec!["--log".into(), s(&out.join("manifest.json"))],
            out.join("manifest.json"),
        ),
        (
            "a report in other case",
            vec!["--log".into(), s(&out.join("FILES.CSV"))],
            out.join("files.csv"),
        ),
    ];
    for (why, args, victim) in cases {
        let before = std::fs::read(&victim).unwrap();
        let manifest = std::fs::read(out.join("manifest.json")).unwrap();
        let mut extra = vec!["--quiet"];
        extra.extend(args.iter().map(String::as_str));
        let (code, _, err) = audit(&estate, &out, &extra);
        let err = String::from_utf8_lossy(&err);
        assert_eq!(code, 2, "{why}: {err}");
        assert!(err.contains("--log"), "{why}: names --log: {err}");
        assert_eq!(std::fs::read(&victim).unwrap(), before, "{why}: the file was replaced");
        assert_eq!(
            std::fs::read(out.join("manifest.json")).unwrap(),
            manifest,
            "{why}: refused before anything is written"
        );
    }
    // Inputs refused before the run's checks (a foreign database as the
    // history, a bad inventory): the log is not written over them either.
    let foreign = tmp.path().join("foreign.sqlite");
    let db = rusqlite::Connection::open(&foreign).unwrap();
    db.execute_batch("CREATE TABLE customers (name TEXT);").unwrap();
    drop(db);
    let bad_inventory = tmp.path().join("bad.toml");
    std::fs::write(&bad_inventory, "colour = \"red\"\n").unwrap();
    for (why, flag, victim) in [
        ("a refused history", "--history", &foreign),
        ("a bad inventory", "--inventory", &bad_inventory),
    ] {
        let before = std::fs::read(victim).unwrap();
        let (code, _, err) = audit(
            &estate,
            &out,
            &[
                "--quiet",
                flag,
                victim.to_str().unwrap(),
                "--log",
                victim.to_str().unwrap(),
            ],
        );
        let err = String::from_utf8_lossy(&err);
        assert_eq!(code, 2, "{why}: {err}");
        assert!(err.contains("--log"), "{why}: names --log: {err}");
        assert_eq!(
            std::fs::read(victim).unwrap(),
            before,
            "{why}: the file was replaced by the log"
        );
    }
    // A log of its own name in the report folder is fine.
    let log = out.join("smsaudit.log");
    let (code, _, err) = audit(&estate, &out, &["--quiet", "--log", log.to_str().unwrap()]);
    assert!(code != 2, "{}", String::from_utf8_lossy(&err));
    assert!(std::fs::read_to_string(&log).unwrap().contains("location "));
}
