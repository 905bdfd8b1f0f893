//! Client logs (`audit --client-logs DIR`, issue #18): the KB excerpts of
//! client-logs.md (tests/fixtures/client-logs) in both renderings, in ANSI,
//! UTF-8 and UTF-16, with the malformations real logs have, against
//! estates that match them; symptoms nothing on the shares explains;
//! symptoms no share causes; garbage, links, FIFOs and a 200 MB line.

use crate::common;

use common::estate::*;
use common::*;
use proptest::prelude::*;
use smsaudit::clientlogs::{Outcome, SymptomLine, Symptoms};
use smsaudit::{Audit, Config};
use std::collections::BTreeMap;
use std::path::Path;

/// A KB excerpt of tests/fixtures/client-logs.
fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/client-logs")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// CRLF line ends, as Windows writes them.
fn crlf(text: &str) -> String {
    text.lines().map(|l| format!("{l}\r\n")).collect()
}

fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'é' => 0xE9,
            c if c.is_ascii() => c as u8,
            c => panic!("not in the fixture alphabet: {c:?}"),
        })
        .collect()
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    let units = bom.then_some(0xFEFF_u16).into_iter().chain(text.encode_utf16());
    for unit in units {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// A raw trace line in the viewer's columns: text, date and time,
/// component, thread, tab-separated.
fn viewer_tabs(raw: &str) -> String {
    let (text, _) = raw.split_once("$$<").unwrap();
    format!(
        "{}\t6/22/1999 1:26:12 AM\tCCIM32\t4294798339 (0xFFFD6C03)",
        text.trim_end()
    )
}

/// The same with spaces, the date first, or cut down to the component.
fn viewer_spaces(raw: &str, n: usize) -> String {
    let (text, _) = raw.split_once("$$<").unwrap();
    let text = text.trim_end();
    match n % 3 {
        0 => format!("{text} CCIM32 6/22/1999 1:26:12 AM 4294798339 (0xFFFD6C03)"),
        1 => format!("6/22/1999 1:26:12 AM {text}  CCIM32  4294798339 (0xFFFD6C03)"),
        _ => format!("{text}~  CCIM32"),
    }
}

/// The raw excerpt as a KB page shows it: wrapped at 80 columns, the
/// trailer broken across lines, `<$$` for `$$<` on one of them.
fn kb_wrapped(raw: &str) -> String {
    let mut out = String::new();
    for (n, line) in raw.lines().enumerate() {
        let line = if n == 4 {
            line.replace("$$<", "<$$")
        } else {
            line.to_string()
        };
        let mut rest = line.as_str();
        while rest.len() > 80 {
            let cut = rest[..80].rfind(' ').unwrap_or(80);
            out.push_str(&rest[..cut]);
            out.push_str("\r\n");
            rest = rest[cut..].trim_start();
        }
        out.push_str(rest);
        out.push_str("\r\n");
    }
    out
}

/// Runs the command's audit; returns its report folder and stderr.
fn run_cli(roots: &[&Path], logs: &[&Path], out: &Path, extra: &[&str]) -> (i32, String) {
    let mut cmd = common::smsaudit();
    cmd.arg("audit")
        .args(roots)
        .arg("-o")
        .arg(out)
        .args(["--fail-on", "never"]);
    for dir in logs {
        cmd.arg("--client-logs").arg(dir);
    }
    let output = cmd.args(extra).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn audit_with_logs(roots: Vec<std::path::PathBuf>, logs: &[&Path]) -> Audit {
    let mut config = Config::new(roots);
    config.jobs = 2;
    config.client_logs = logs.iter().map(|p| p.to_path_buf()).collect();
    smsaudit::run_audit(&config)
}

fn lines_of<'a>(symptoms: &'a Symptoms, client: &str) -> Vec<&'a SymptomLine> {
    symptoms.lines.iter().filter(|l| l.client == client).collect()
}

/// Clients and layouts: `<client>/Ccim32.log`, `<client>_Ccim32.log`,
/// `<client>/Logs/CCIM32.LOG`.
fn q236596_logs(dir: &Path) -> Vec<&'static str> {
    let raw = fixture("q236596.log");
    // A line with an accent, so the ANSI log is not also valid UTF-8.
    let ansi_text = format!("Démarrage du client $$<CCIM32><Tue Jun 22 01:26:11.000 1999><thread=1 (0x1)>\n{raw}");
    write_bytes(dir, "PC-ANSI/Ccim32.log", &windows_1252(&crlf(&ansi_text)));
    write_bytes(
        dir,
        "PC-UTF8_Ccim32.log",
        &[&b"\xEF\xBB\xBF"[..], crlf(&raw).as_bytes()].concat(),
    );
    write_bytes(dir, "PC-UTF16LE/Logs/CCIM32.LOG", &utf16(&crlf(&raw), false, true));
    write_bytes(dir, "PC-UTF16BE/ccim32.log", &utf16(&crlf(&raw), true, false));
    let tabs: String = raw.lines().map(viewer_tabs).map(|l| l + "\r\n").collect();
    write_bytes(dir, "PC-VIEWER/Ccim32.log", tabs.as_bytes());
    let spaces: String = raw
        .lines()
        .enumerate()
        .map(|(n, l)| viewer_spaces(l, n) + "\n")
        .collect();
    write_bytes(dir, "PC-SPACES/Ccim32.log", &utf16(&spaces, false, false));
    write_bytes(dir, "PC-WRAPPED/Ccim32.log", kb_wrapped(&raw).as_bytes());
    vec![
        "PC-ANSI",
        "PC-SPACES",
        "PC-UTF16BE",
        "PC-UTF16LE",
        "PC-UTF8",
        "PC-VIEWER",
        "PC-WRAPPED",
    ]
}

const Q236596_CFGS: [&str; 4] = [
    r"clicomp.box\smsapm32.CFG",
    r"clicomp.box\SWDist.CFG",
    r"clicomp.box\sinv.CFG",
    r"clicomp.box\hinv.CFG",
];

#[test]
fn the_q236596_excerpt_is_explained_by_c1_in_every_encoding_and_rendering() {
    let logs = tempfile::tempdir().unwrap();
    let clients = q236596_logs(logs.path());
    let audit = audit_with_logs(vec![sample_shares()], &[logs.path()]);
    assert_eq!(audit.causes[0].id, "C1");
    let symptoms = audit.symptoms.as_ref().expect("symptoms");
    assert_eq!(symptoms.counts.clients, clients.len());
    for client in &clients {
        let lines = lines_of(symptoms, client);
        let paths: Vec<&str> = lines.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths, Q236596_CFGS, "{client}: {lines:#?}");
        for line in &lines {
            assert_eq!(line.symptom, "cfg-out-of-sync", "{client}");
            assert_eq!(line.kb, "Q236596");
            assert_eq!(line.location, r"\\SERVER1\CAP_MS1");
            assert_eq!((line.observed.as_str(), line.expected.as_str()), ("", "2.00.1239.0000"));
            assert_eq!(line.outcome, Outcome::Explained, "{client}: {}", line.reason);
            assert_eq!(line.explained_by, ["C1"], "{client}");
            let finding = &audit.findings[line.findings[0]];
            assert_eq!(
                (finding.code.as_str(), finding.path.as_str()),
                ("F02", line.path.as_str())
            );
        }
    }
    // The issue's example line, as the raw log holds it.
    let example = lines_of(symptoms, "PC-UTF8")[0];
    assert_eq!(example.line, 3);
    assert_eq!(example.first, "Tue Jun 22 01:26:12.270 1999");
    assert!(example.example.starts_with(
        r"Warning: \\SERVER1\CAP_MS1\clicomp.box\smsapm32.CFG version () out of sync with offer file version (2.00.1239.0000); skipping operations"
    ));
    assert_eq!(
        lines_of(symptoms, "PC-ANSI")[0].line,
        4,
        "one line more in the ANSI log"
    );
    let wrapped = lines_of(symptoms, "PC-WRAPPED");
    assert_eq!(wrapped[0].first, "Tue Jun 22 01:26:12.270 1999", "{:?}", wrapped[0]);
    assert_eq!(symptoms.causes[0].cause, "C1");
    assert_eq!(symptoms.causes[0].clients, clients);
    let f02_smsapm32 = audit
        .findings
        .iter()
        .position(|f| f.path == r"clicomp.box\smsapm32.CFG")
        .unwrap();
    assert_eq!(symptoms.finding_clients[f02_smsapm32], clients);
    assert!(
        symptoms.logs.iter().all(|l| l.status == smsaudit::model::Status::Ok),
        "{:#?}",
        symptoms.logs
    );
    let encodings: BTreeMap<&str, &str> = symptoms
        .logs
        .iter()
        .map(|l| (l.client.as_str(), l.encoding.as_str()))
        .collect();
    assert_eq!(encodings["PC-UTF16BE"], "UTF-16BE");
    assert_eq!(encodings["PC-SPACES"], "UTF-16LE");
    assert_eq!(encodings["PC-UTF8"], "UTF-8");
}

#[test]
fn symptoms_csv_audit_json_and_the_terminal_name_the_clients_of_each_cause() {
    let logs = tempfile::tempdir().unwrap();
    let clients = q236596_logs(logs.path());
    // A share that is fine, a share that was not audited, no share at all.
    let fine = fixture("q236596.log").replace(r"\\SERVER1\CAP_MS1", r"\\SERVER2\CAP_MS2");
    write(logs.path(), "PC-FINE/Ccim32.log", &fine);
    write(logs.path(), "PC-BOOT/Boot32wn.log", &fixture("q264976.log"));
    write(logs.path(), "PC-LOCKED/Ccim32.log", &fixture("q236052.log"));
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(&[&sample_shares()], &[logs.path()], out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&out.path().join("symptoms.csv"));
    let header = read_csv(&out.path().join("symptoms.csv"))[0].clone();
    for column in [
        "client",
        "log",
        "line",
        "first",
        "last",
        "count",
        "symptom",
        "kb",
        "location",
        "path",
        "explained_by",
        "example",
    ] {
        assert!(
            header.iter().any(|h| h.trim_start_matches('\u{feff}') == column),
            "{column} in {header:?}"
        );
    }
    let explained = rows.iter().filter(|r| r["explained_by"] == "C1").count();
    assert_eq!(explained, 4 * clients.len());
    let fine: Vec<_> = rows.iter().filter(|r| r["client"] == "PC-FINE").collect();
    assert_eq!(fine.len(), 4);
    for row in &fine {
        assert_eq!(
            (row["outcome"].as_str(), row["explained_by"].as_str()),
            ("unexplained", "")
        );
        assert_eq!(row["kb"], "Q236596");
        assert!(
            row["reason"].contains(r"nothing on \\SERVER2\CAP_MS2 explains it"),
            "{row:?}"
        );
    }
    let boot: Vec<_> = rows.iter().filter(|r| r["client"] == "PC-BOOT").collect();
    assert_eq!(boot.len(), 1, "{boot:?}");
    assert_eq!(
        (
            boot[0]["symptom"].as_str(),
            boot[0]["kb"].as_str(),
            boot[0]["line"].as_str()
        ),
        ("copylog-line-missing", "Q264976", "2")
    );
    assert_eq!(boot[0]["location"], r"\\MY_MACHINE\SMSLOGON");
    assert!(boot[0]["reason"].contains("was not audited"), "{:?}", boot[0]);
    let locked: Vec<_> = rows.iter().filter(|r| r["client"] == "PC-LOCKED").collect();
    let names: Vec<&str> = locked.iter().map(|r| r["symptom"].as_str()).collect();
    assert_eq!(
        names,
        ["site-files-unreadable", "no-accessible-path", "no-accessible-path"]
    );
    assert!(locked
        .iter()
        .all(|r| r["outcome"] == "not share-related" && r["kb"] == "Q236052"));
    // Spreadsheet flavour: a cell starting with = in a log stays text.
    assert!(rows.iter().all(|r| !r["example"].starts_with('=')));

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    let counts = &json["symptoms"]["counts"];
    assert_eq!(counts["clients"], clients.len() + 3);
    assert_eq!(counts["explained"], 4 * clients.len());
    assert_eq!(counts["unexplained"], 5);
    assert_eq!(counts["not_share_related"], 3);
    assert_eq!(
        json["symptoms"]["causes"][0]["clients"].as_array().unwrap().len(),
        clients.len()
    );
    assert!(
        stderr.contains(&format!("C1 explains {} clients", clients.len())),
        "{stderr}"
    );
    assert!(
        stderr.contains("5 symptoms nothing on the shares explains (2 clients)"),
        "{stderr}"
    );

    // The same bytes whatever the thread count.
    let again = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(&[&sample_shares()], &[logs.path()], again.path(), &["-j", "1"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read(out.path().join("symptoms.csv")).unwrap(),
        std::fs::read(again.path().join("symptoms.csv")).unwrap()
    );
}

#[test]
fn lock_tokens_explain_q322967_and_q275617_through_the_share_the_log_named() {
    let estate = EstateBuilder::new();
    estate.site("SERVER01", "SO1", SP3).site("OSHER", "DAN", SP3);
    estate.file("SERVER01/CAP_SO1/clicomp.box/SWDist/inboxlck.tok", "");
    estate.file("OSHER/CAP_DAN/offerinf.box/Inboxlck.tok", "");
    let logs = tempfile::tempdir().unwrap();
    write_bytes(
        logs.path(),
        "PC-SWD/Ccim32.log",
        &utf16(&crlf(&fixture("q322967.log")), false, true),
    );
    write(logs.path(), "PC-ODP_Odpsys32.log", &fixture("q275617.log"));
    let audit = audit_with_logs(vec![estate.root().to_path_buf()], &[logs.path()]);
    let cause_of = |code: &str, location: &str| {
        audit
            .findings
            .iter()
            .find(|f| f.code.as_str() == code && f.location == location)
            .unwrap_or_else(|| panic!("{code} at {location}: {:#?}", audit.findings))
            .cause
            .clone()
    };
    let f13 = cause_of("F13", r"\\SERVER01\CAP_SO1");
    let f12 = cause_of("F12", r"\\OSHER\CAP_DAN");
    let symptoms = audit.symptoms.as_ref().unwrap();
    let swd: Vec<(&str, &[String])> = lines_of(symptoms, "PC-SWD")
        .iter()
        .map(|l| (l.symptom.as_str(), l.explained_by.as_slice()))
        .collect();
    let by_f13 = std::slice::from_ref(&f13);
    assert_eq!(
        swd,
        [
            ("inbox-token-found", by_f13),
            ("directory-in-use", by_f13),
            ("no-uplevel-cap", by_f13)
        ],
        "{:#?}",
        symptoms.lines
    );
    let odp = lines_of(symptoms, "PC-ODP");
    let names: Vec<&str> = odp.iter().map(|l| l.symptom.as_str()).collect();
    // The three "no CAP offer inbox" lines are one kind, counted.
    assert_eq!(names, ["offer-lock-file", "no-cap-offer-inbox"]);
    assert_eq!(odp[1].count, 3, "{odp:#?}");
    // CAP_DAN is "part of site 'CH2'" in the log: the share decides.
    assert!(odp.iter().all(|l| l.explained_by == [f12.clone()]), "{odp:#?}");
    assert_eq!(odp[0].location, r"\\OSHER\CAP_DAN");
    assert!(odp[1].location.is_empty() && odp[1].reason.contains(r"through \\OSHER\CAP_DAN"));
    let clients = |cause: &str| {
        symptoms
            .causes
            .iter()
            .find(|c| c.cause == cause)
            .map(|c| c.clients.clone())
            .unwrap()
    };
    assert_eq!(clients(&f13), ["PC-SWD"]);
    assert_eq!(clients(&f12), ["PC-ODP"]);
}

#[test]
fn other_kb_excerpts_give_their_symptoms() {
    let logs = tempfile::tempdir().unwrap();
    write(logs.path(), "PC1/Ccim32.log", &fixture("q264630-ccim32.log"));
    write(logs.path(), "PC1/Wn_logon.log", &fixture("q264630-wn_logon.log"));
    write(logs.path(), "PC2/Clisvc.log", &fixture("q270912.log"));
    write(logs.path(), "PC3/Clisvcl.log", &fixture("q246331.log"));
    write(logs.path(), "PC4/Wnremote.log", &fixture("q260168.log"));
    write(logs.path(), "PC5/Ccim32.log", &fixture("q323532.log"));
    write(logs.path(), "PC6/Wn_logon.log", &fixture("q288218.log"));
    let audit = audit_with_logs(vec![sample_shares()], &[logs.path()]);
    let symptoms = audit.symptoms.as_ref().unwrap();
    let seen: Vec<(&str, &str, u64, Outcome)> = symptoms
        .lines
        .iter()
        .map(|l| (l.client.as_str(), l.symptom.as_str(), l.line, l.outcome))
        .collect();
    let unexplained = Outcome::Unexplained;
    let mut expected = vec![("PC1", "cap-base-release-older", 2, unexplained)];
    for line in 3..=8 {
        expected.push(("PC1", "no-uplevel-cap", line, unexplained));
    }
    expected.extend([
        ("PC1", "no-logon-site-compver", 1, unexplained),
        ("PC2", "client-service-not-authorized", 4, unexplained),
        ("PC3", "client-service-not-authorized", 3, unexplained),
        ("PC4", "caplist-unreadable", 1, unexplained),
    ]);
    assert_eq!(seen, expected, "{:#?}", symptoms.lines);
    let cap_pet = &symptoms.lines[0];
    assert_eq!(
        (
            cap_pet.location.as_str(),
            cap_pet.path.as_str(),
            cap_pet.observed.as_str(),
            cap_pet.expected.as_str()
        ),
        (r"\\SMSPDC20\CAP_PET", r"clicomp.box\base", "2.00.1380.1", "2.00.1493.2")
    );
    assert!(
        cap_pet.reason.contains(r"\\SMSPDC20\CAP_PET was not audited"),
        "{}",
        cap_pet.reason
    );
    assert_eq!(symptoms.lines[1].component, "smsapm32");
    assert_eq!(symptoms.lines[5].component, "remctrl");
    let crc = &symptoms.lines[8];
    assert_eq!(crc.kb, "Q246331, Q270912, Q277745, Q323652");
    assert_eq!(crc.first, "Thu Jul 27 20:40:04.529 2000", "the wrapped trailer");
    assert!(crc.reason.contains("nothing on the audited shares explains it"));
    // The Q323532 excerpt lost its trailers and shows no symptom: it is
    // no log, and says so; the others are read whole.
    for log in &symptoms.logs {
        let malformed = log.status == smsaudit::model::Status::Malformed;
        assert_eq!(malformed, log.client == "PC5", "{log:?}");
    }
}

#[test]
fn garbage_links_and_fifos_are_rows_with_a_reason() {
    let logs = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "Ccim32.log", &fixture("q236596.log"));
    let mut garbage = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00".to_vec();
    garbage.extend((0..4096u32).map(|i| (i * 7 % 251) as u8));
    write_bytes(logs.path(), "PC-BIN/Ccim32.log", &garbage);
    write(
        logs.path(),
        "PC-TEXT/Clicore.log",
        "dear diary\nnothing happened today\n",
    );
    write(logs.path(), "PC-OK/Ccim32.log", &fixture("q236596.log"));
    std::fs::create_dir_all(logs.path().join("PC-LINK")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            outside.path().join("Ccim32.log"),
            logs.path().join("PC-LINK/Ccim32.log"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), logs.path().join("PC-DIRLINK")).unwrap();
        std::fs::create_dir_all(logs.path().join("PC-FIFO")).unwrap();
        mkfifo(&logs.path().join("PC-FIFO/Ccim32.log"));
    }
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(
        &[&sample_shares()],
        &[logs.path()],
        out.path(),
        &["--format", "csv,json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&out.path().join("symptoms.csv"));
    let row = |client: &str| {
        rows.iter()
            .find(|r| r["client"] == client && r["outcome"].starts_with("log "))
            .unwrap_or_else(|| panic!("no log row for {client}: {rows:#?}"))
    };
    assert_eq!(row("PC-BIN")["outcome"], "log malformed");
    assert!(row("PC-BIN")["reason"].contains("binary data"));
    assert_eq!(row("PC-TEXT")["outcome"], "log malformed");
    assert!(
        row("PC-TEXT")["reason"].contains("none of its 2 lines"),
        "{:?}",
        row("PC-TEXT")
    );
    assert!(rows.iter().filter(|r| r["client"] == "PC-OK").count() == 4);
    #[cfg(unix)]
    {
        assert_eq!(row("PC-LINK")["outcome"], "log skipped");
        assert!(row("PC-LINK")["reason"].contains("not followed"));
        assert_eq!(row("PC-FIFO")["outcome"], "log skipped");
        assert!(row("PC-FIFO")["reason"].contains("not a regular file"));
        // Nothing was read through either link.
        assert!(!rows.iter().any(|r| r["client"] == "PC-DIRLINK"));
        assert!(!rows
            .iter()
            .any(|r| r["client"] == "PC-LINK" && r["outcome"] == "explained"));
    }
}

/// The peak resident memory of this process so far, in KiB.
#[cfg(target_os = "linux")]
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_200_mb_log_of_one_line_is_a_row_with_a_reason_in_bounded_memory() {
    // The peak memory is per process: measured in a process of its own,
    // this test alone, so no other test's allocations count.
    let name = "a_200_mb_log_of_one_line_is_a_row_with_a_reason_in_bounded_memory";
    if !common::in_own_process(module_path!(), name) {
        return;
    }
    let logs = tempfile::tempdir().unwrap();
    let mut head = crlf(&fixture("q236596.log"));
    while head.len() < 8 * 1024 {
        head.push_str(
            "Done processing active client components $$<CCIM32><Tue Jun 22 01:26:12.880 1999><thread=1 (0x1)>\r\n",
        );
    }
    head.push_str("Warning: the line that never ends ");
    let path = logs.path().join("PC-HUGE/Ccim32.log");
    write(logs.path(), "PC-HUGE/Ccim32.log", "");
    std::fs::write(&path, head.as_bytes()).unwrap();
    // Sparse: 200 MB of NULs after the text, with no line end.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    let before = peak_kib();
    let audit = audit_with_logs(vec![sample_shares()], &[logs.path()]);
    let grown_mib = peak_kib().saturating_sub(before) / 1024;
    let symptoms = audit.symptoms.as_ref().unwrap();
    let log = &symptoms.logs[0];
    assert_eq!(log.status, smsaudit::model::Status::Malformed, "{log:?}");
    assert!(log.reason.contains("longer than 64 KiB"), "{}", log.reason);
    assert_eq!(
        lines_of(symptoms, "PC-HUGE").len(),
        4,
        "the symptoms before it still count"
    );
    assert!(
        grown_mib < 64,
        "reading the log grew the peak memory by {grown_mib} MiB"
    );
}

#[test]
fn a_client_logs_folder_that_is_missing_or_a_file_is_refused_before_the_crawl() {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("Ccim32.log");
    std::fs::write(&file, "x").unwrap();
    for (dir, says) in [
        (out.path().join("missing"), "No such file"),
        (file.clone(), "not a folder"),
    ] {
        let (code, stderr) = run_cli(&[&sample_shares()], &[&dir], &out.path().join("r"), &[]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("--client-logs") && stderr.contains(&dir.display().to_string()),
            "{stderr}"
        );
        assert!(stderr.contains(says), "{stderr}");
        assert!(!out.path().join("r").exists(), "refused before writing anything");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The parser never panics, whatever the bytes, and keeps its bounds.
    #[test]
    fn the_log_parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let entries = smsaudit::clientlogs::scan_bytes(&bytes);
        let mut last = 0;
        for (entry, _) in &entries {
            prop_assert!(entry.line > last);
            last = entry.line;
            prop_assert!(entry.text.len() <= smsaudit::clientlogs::MAX_LINE_BYTES);
        }
    }

    /// Nor on log-like text: trailers cut anywhere, markers doubled,
    /// `~` marks, tabs and UNC paths.
    #[test]
    fn the_log_parser_never_panics_on_mangled_log_text(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("$$<".to_string()),
                Just("<$$".to_string()),
                Just("><thread=".to_string()),
                Just("<Tue Jun 22 01:26:12.050 1999>".to_string()),
                Just("9/15/2000 8:55:02 AM".to_string()),
                Just("~~".to_string()),
                Just("\t".to_string()),
                Just("\r\n".to_string()),
                Just(r"\\?\UNC\S\C\clicomp.box\x.CFG".to_string()),
                Just("Warning: ".to_string()),
                Just(" version () out of sync with offer file version (".to_string()),
                "[ -~]{0,12}",
            ],
            0..40,
        ),
        utf16_le in any::<bool>(),
    ) {
        let text = parts.concat();
        let bytes = if utf16_le { utf16(&text, false, true) } else { text.into_bytes() };
        let _ = smsaudit::clientlogs::scan_bytes(&bytes);
    }
}

#[test]
fn every_report_shows_the_clients_each_cause_explains() {
    use calamine::Reader;
    let logs = tempfile::tempdir().unwrap();
    let clients = q236596_logs(logs.path());
    write(logs.path(), "PC-LOCKED/Ccim32.log", &fixture("q236052.log"));
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(&[&sample_shares()], &[logs.path()], out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");

    let causes = read_csv_maps(&out.path().join("causes.csv"));
    assert_eq!(causes[0]["clients"], clients.len().to_string());

    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    let cause = html.split(r#"id="cause-C1""#).nth(1).unwrap();
    let cause = &cause[..cause.find("</article>").unwrap()];
    assert!(
        cause.contains(&format!(
            "<dt>Clients affected</dt><dd>{}: {}",
            clients.len(),
            clients.join(", ")
        )),
        "{cause}"
    );
    let section = html
        .split(r#"<section id="symptoms">"#)
        .nth(1)
        .expect("a client symptoms section");
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains(&format!("from {} clients", clients.len() + 1)),
        "{section}"
    );
    assert_eq!(
        section.matches(r##"<a href="#cause-C1">C1</a>"##).count(),
        4 * clients.len()
    );
    assert!(section.contains("not share-related"));

    let mut book: calamine::Xlsx<_> = calamine::open_workbook(out.path().join("audit.xlsx")).unwrap();
    let sheet = book
        .worksheet_range("Client symptoms")
        .expect("a Client symptoms sheet");
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let explained = rows.iter().filter(|r| r.get(11).is_some_and(|c| c == "C1")).count();
    assert_eq!(explained, 4 * clients.len(), "{rows:?}");
    let causes_sheet = book.worksheet_range("Causes").unwrap();
    assert_eq!(causes_sheet.get_value((0, 8)).unwrap().to_string(), "clients");
    assert_eq!(
        causes_sheet.get_value((1, 8)).unwrap().to_string(),
        clients.len().to_string()
    );
}

/// A log line a spreadsheet would take for a formula is written as text in
/// symptoms.csv (the same escaping as every report).
#[test]
fn a_log_line_that_looks_like_a_formula_stays_text() {
    let logs = tempfile::tempdir().unwrap();
    let line = fixture("q236596.log")
        .lines()
        .find(|l| l.contains("out of sync"))
        .map(|l| format!("=1+1 {l}\n"))
        .unwrap();
    write(logs.path(), "PC-FORMULA/Ccim32.log", &line);
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(&[&sample_shares()], &[logs.path()], out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&out.path().join("symptoms.csv"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0]["example"].starts_with("'=1+1 "), "{:?}", rows[0]);
}

/// A raw `cfg-out-of-sync` line for `cfg` on `\\SERVER1\CAP_MS1`.
fn cfg_line(cfg: &str, second: u32) -> String {
    format!(
        "Warning: \\\\SERVER1\\CAP_MS1\\clicomp.box\\{cfg}.CFG version () out of sync with offer file version (2.00.1239.0000); skipping operations $$<CCIM32><Tue Jun 22 01:{:02}:{:02}.050 1999><thread=1 (0x1)>\r\n",
        second / 60 % 60,
        second % 60
    )
}

/// Issue 28: a log of many symptom lines of few kinds is a few rows, each
/// with its count, first and last time, in memory that does not grow with
/// the lines (before, every line kept a copy of itself and its context:
/// about 1.3 KB a line).
#[test]
fn many_symptom_lines_of_few_kinds_are_few_rows_in_bounded_memory() {
    let name = "many_symptom_lines_of_few_kinds_are_few_rows_in_bounded_memory";
    if !common::in_own_process(module_path!(), name) {
        return;
    }
    const LINES: u32 = 30_000;
    let logs = tempfile::tempdir().unwrap();
    let path = logs.path().join("PC-LOUD/Ccim32.log");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for n in 0..LINES {
        let cfg = ["smsapm32", "SWDist", "hinv"][n as usize % 3];
        std::io::Write::write_all(&mut file, cfg_line(cfg, n).as_bytes()).unwrap();
    }
    std::io::Write::flush(&mut file).unwrap();
    drop(file);
    let size = std::fs::metadata(&path).unwrap().len();
    let shares = sample_shares();
    let (audit, peak, _) = common::alloc::process_peak_during(|| audit_with_logs(vec![shares.clone()], &[logs.path()]));
    let symptoms = audit.symptoms.as_ref().unwrap();
    let rows = lines_of(symptoms, "PC-LOUD");
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), u64::from(LINES));
    assert_eq!(symptoms.counts.symptoms, u64::from(LINES));
    let first = rows[0];
    assert_eq!(
        (first.line, first.count, first.path.as_str()),
        (1, u64::from(LINES / 3), r"clicomp.box\smsapm32.CFG")
    );
    assert_eq!(first.first, "Tue Jun 22 01:00:00.050 1999");
    assert_eq!(first.last_line, u64::from(LINES) - 2);
    assert_eq!(first.last, "Tue Jun 22 01:19:57.050 1999");
    assert!(first
        .example
        .starts_with(r"Warning: \\SERVER1\CAP_MS1\clicomp.box\smsapm32.CFG"));
    assert!(
        peak < 8 << 20,
        "reading a {} MiB log peaked at {} MiB",
        size >> 20,
        peak >> 20
    );
}

/// The rows of symptoms.csv whose log path starts with `prefix`.
fn rows_of<'a>(rows: &'a [BTreeMap<String, String>], prefix: &str) -> Vec<&'a BTreeMap<String, String>> {
    rows.iter().filter(|r| r["log"].starts_with(prefix)).collect()
}

/// Issue 28: a link inside `--client-logs`, to a folder or to a file, is
/// never followed: no symptom from what it points to, and a row says it
/// was skipped (before, a linked folder was passed over with no row).
#[cfg(unix)]
#[test]
fn links_inside_the_client_logs_folder_are_never_read_and_are_rows() {
    let logs = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "PC-OUT/Ccim32.log", &fixture("q236596.log"));
    std::os::unix::fs::symlink(outside.path().join("PC-OUT"), logs.path().join("PC-DIRLINK")).unwrap();
    std::fs::create_dir_all(logs.path().join("PC-FILELINK")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("PC-OUT/Ccim32.log"),
        logs.path().join("PC-FILELINK/Ccim32.log"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(&[&sample_shares()], &[logs.path()], out.path(), &["--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&out.path().join("symptoms.csv"));
    assert!(rows.iter().all(|r| r["symptom"].is_empty()), "{rows:#?}");
    for link in ["PC-DIRLINK", "PC-FILELINK"] {
        let found = rows_of(&rows, link);
        assert_eq!(found.len(), 1, "{link}: {rows:#?}");
        assert_eq!(found[0]["outcome"], "log skipped", "{link}");
        assert!(found[0]["reason"].contains("not followed"), "{:?}", found[0]);
    }
}

/// Issue 28: logs are looked for 32 folders deep (before: 8, and deeper
/// ones were left out with no row); a folder deeper is a row that says
/// nothing in it was read.
#[test]
fn deep_logs_are_read_and_deeper_folders_are_a_row() {
    let logs = tempfile::tempdir().unwrap();
    let deep = |levels: usize| (0..levels).map(|i| format!("d{i}")).collect::<Vec<_>>().join("/");
    write(
        logs.path(),
        &format!("PC-DEEP/{}/Ccim32.log", deep(10)),
        &fixture("q236596.log"),
    );
    write(
        logs.path(),
        &format!("PC-DEEPER/{}/Ccim32.log", deep(40)),
        &fixture("q236596.log"),
    );
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(&[&sample_shares()], &[logs.path()], out.path(), &["--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&out.path().join("symptoms.csv"));
    let deep_rows = rows_of(&rows, "PC-DEEP/");
    assert_eq!(deep_rows.len(), 4, "{rows:#?}");
    assert!(deep_rows.iter().all(|r| r["outcome"] == "explained"));
    let deeper = rows_of(&rows, "PC-DEEPER/");
    assert_eq!(deeper.len(), 1, "{rows:#?}");
    assert_eq!(deeper[0]["outcome"], "log skipped");
    assert!(deeper[0]["reason"].contains("32 folders deep"), "{:?}", deeper[0]);
}

/// Issue 28: a log that switches to UTF-16 mid-file, or starts with a
/// block of NULs, keeps its symptoms, and its row says it was only partly
/// as written (before: the symptoms were lost and the log was `ok`).
#[test]
fn a_log_that_switches_encoding_or_starts_with_nuls_keeps_its_symptoms_and_says_so() {
    let logs = tempfile::tempdir().unwrap();
    let text = crlf(&fixture("q236596.log"));
    let noise = "Done processing active client components $$<CCIM32><Tue Jun 22 01:26:12.880 1999><thread=1 (0x1)>\r\n";
    for (client, before) in [("PC-EARLY", 1), ("PC-LATE", 200)] {
        let mut bytes = noise.repeat(before).into_bytes();
        bytes.extend(utf16(&text, false, false));
        write_bytes(logs.path(), &format!("{client}/Ccim32.log"), &bytes);
    }
    let mut bytes = vec![0u8; 8192];
    bytes.extend(text.as_bytes());
    write_bytes(logs.path(), "PC-NULS/Ccim32.log", &bytes);
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(&[&sample_shares()], &[logs.path()], out.path(), &["--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&out.path().join("symptoms.csv"));
    for (client, says) in [
        ("PC-EARLY", "encoding changed at byte 99"),
        ("PC-LATE", "encoding changed at byte 19800"),
        ("PC-NULS", "starts with 8192 NUL bytes"),
    ] {
        let of = rows_of(&rows, client);
        let explained = of.iter().filter(|r| r["outcome"] == "explained").count();
        assert_eq!(explained, 4, "{client}: {rows:#?}");
        let row = of
            .iter()
            .find(|r| r["outcome"] == "log malformed")
            .unwrap_or_else(|| panic!("no row for {client}: {rows:#?}"));
        assert!(row["reason"].contains(says), "{row:?}");
        assert!(row["reason"].starts_with("partly read"), "{row:?}");
    }
}

/// Lines that read as a failure but match no known symptom are counted per
/// client and in the summary, and a bounded sample is listed as "not
/// recognised"; plain lines are not counted.
#[test]
fn failure_lines_that_match_no_symptom_are_counted_and_sampled() {
    let logs = tempfile::tempdir().unwrap();
    let mut odd = String::from("Starting the client $$<CCIM32><Tue Jun 22 01:26:11.000 1999><thread=1 (0x1)>\r\n");
    for n in 0..8 {
        odd.push_str(&format!(
            "ERROR: Frobnicator returned {n}~  $$<CCIM32><Tue Jun 22 01:26:1{n}.000 1999><thread=1 (0x1)>\r\n"
        ));
    }
    write(logs.path(), "PC-ODD/Ccim32.log", &odd);
    write(
        logs.path(),
        "PC-TWO/Ccim32.log",
        "Unable to frobnicate the widget $$<CCIM32><Tue Jun 22 01:26:11.000 1999><thread=1 (0x1)>\r\n",
    );
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run_cli(&[&sample_shares()], &[logs.path()], out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("audit.json")).unwrap()).unwrap();
    let symptoms = &json["symptoms"];
    assert_eq!(symptoms["counts"]["unrecognised"], 9);
    assert_eq!(symptoms["counts"]["unrecognised_clients"], 2);
    assert_eq!(symptoms["unrecognised_by_client"]["PC-ODD"], 8);
    assert_eq!(symptoms["unrecognised_by_client"]["PC-TWO"], 1);
    let sample = symptoms["unrecognised"].as_array().unwrap();
    assert_eq!(sample.len(), 5 + 1, "at most 5 a log: {sample:?}");
    assert_eq!(sample[0]["line"], 2);
    assert!(sample[0]["text"].as_str().unwrap().contains("Frobnicator returned 0"));
    let rows = read_csv_maps(&out.path().join("symptoms.csv"));
    let listed: Vec<_> = rows.iter().filter(|r| r["outcome"] == "not recognised").collect();
    assert_eq!(listed.len(), 6, "{rows:?}");
    assert!(listed
        .iter()
        .any(|r| r["client"] == "PC-TWO" && r["example"].contains("Unable to frobnicate")));
    assert!(
        stderr.contains("9 failure lines match no known symptom, not recognised (2 clients: PC-ODD 8, PC-TWO 1)"),
        "{stderr}"
    );
}

/// Issue 32 item 8: with `--history`, a symptom line a finding of an
/// earlier night explained, older than the night that no longer found it,
/// says it predates the fix; a line written after that night stays
/// unexplained, and without the history nothing changes.
#[test]
fn with_the_history_a_symptom_older_than_the_fix_says_it_predates_it() {
    let estate = lone(SP3);
    estate.file("SRVA/CAP_AAA/offerinf.box/Inboxlck.tok", "");
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.sqlite");
    let history_arg = history.to_str().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let line = |year: u32| {
        format!(
            "TEST : Found Lock File '\\\\SRVA\\CAP_AAA\\OfferInf.box\\Inboxlck.tok'.Continuing retry attempts at every 5000 ms ODP\\WNet User Groups 9/15/{year} 8:57:54 AM 260 (0x104)\r\n"
        )
    };
    // Written in 2000, before either night; and in 2099, after both.
    write(logs.path(), "PC-OLD_Odpsys32.log", &line(2000));
    write(logs.path(), "PC-LATE_Odpsys32.log", &line(2099));
    let night1 = dir.path().join("night1");
    let (code, stderr) = run_cli(&[estate.root()], &[logs.path()], &night1, &["--history", history_arg]);
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&night1.join("symptoms.csv"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r["outcome"] == "explained"), "{rows:?}");
    let started1 = {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(night1.join("audit.json")).unwrap()).unwrap();
        json["started"].as_str().unwrap().to_string()
    };
    // The fix: the stale lock token is deleted, so F12 is gone.
    std::fs::remove_file(estate.root().join("SRVA/CAP_AAA/offerinf.box/Inboxlck.tok")).unwrap();
    let night2 = dir.path().join("night2");
    let (code, stderr) = run_cli(&[estate.root()], &[logs.path()], &night2, &["--history", history_arg]);
    // 4: the deleted token is drift since night 1.
    assert_eq!(code, 4, "{stderr}");
    let rows = read_csv_maps(&night2.join("symptoms.csv"));
    let row = |client: &str| rows.iter().find(|r| r["client"] == client).unwrap().clone();
    let old = row("PC-OLD");
    assert_eq!(old["outcome"], "before fix", "{old:?}");
    for part in ["F12", r"\\SRVA\CAP_AAA\offerinf.box\Inboxlck.tok", &started1] {
        assert!(
            old["reason"].to_lowercase().contains(&part.to_lowercase()),
            "{part} in {old:?}"
        );
    }
    assert_eq!(old["explained_by"], "");
    assert_eq!(row("PC-LATE")["outcome"], "unexplained", "{rows:?}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(night2.join("audit.json")).unwrap()).unwrap();
    let counts = &json["symptoms"]["counts"];
    assert_eq!(
        (counts["before_fix"].as_u64(), counts["unexplained"].as_u64()),
        (Some(1), Some(1)),
        "{counts}"
    );
    assert_eq!(counts["unexplained_clients"], 1);
    let lines = json["symptoms"]["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["client"] == "PC-OLD" && l["outcome"] == "before_fix"),
        "{lines:?}"
    );
    let page = std::fs::read_to_string(night2.join("report.html")).unwrap();
    assert!(page.contains("before fix"), "the row's outcome on the page");
    assert!(page.contains("1 predate the fix of the finding that explained them"));
    assert!(stderr.contains("1 symptoms predate the fix"), "{stderr}");
    let started2 = json["started"].as_str().unwrap().to_string();
    // A night later the fix is older than the last run: the old line still
    // predates it, fixed by night 2.
    let night3 = dir.path().join("night3");
    let (code, stderr) = run_cli(&[estate.root()], &[logs.path()], &night3, &["--history", history_arg]);
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&night3.join("symptoms.csv"));
    let old = rows.iter().find(|r| r["client"] == "PC-OLD").unwrap();
    assert_eq!(old["outcome"], "before fix", "{old:?}");
    assert!(
        old["reason"].contains(&started1) && old["reason"].contains(&started2),
        "{old:?}"
    );
    let late = rows.iter().find(|r| r["client"] == "PC-LATE").unwrap();
    assert_eq!(late["outcome"], "unexplained", "{rows:?}");
    // Without the history the same night says unexplained, as before.
    let bare = dir.path().join("bare");
    let (code, stderr) = run_cli(&[estate.root()], &[logs.path()], &bare, &[]);
    assert_eq!(code, 0, "{stderr}");
    let rows = read_csv_maps(&bare.join("symptoms.csv"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r["outcome"] == "unexplained"), "{rows:?}");
}
