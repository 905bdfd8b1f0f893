//! A series of nights (issue 26): accepted findings (`--accepted`),
//! status.json against the exit code, and shares the history expects.

use crate::common;

use common::*;
use std::path::Path;

/// Audits the copy of the sample estate at `estate` into `out` with a
/// history at `history`, plus `extra`; returns the exit code.
fn night(estate: &Path, out: &Path, history: &Path, extra: &[&str]) -> i32 {
    let output = smsaudit()
        .arg("audit")
        .arg(estate)
        .arg("--out")
        .arg(out)
        .arg("--history")
        .arg(history)
        .args(["--csv", "machine", "--quiet"])
        .args(extra)
        .output()
        .unwrap();
    output.status.code().unwrap_or(-1)
}

/// An `--accepted` file accepting each fingerprint until `until`.
fn accept_all(path: &Path, fingerprints: &[String], until: &str) {
    let text: String = fingerprints
        .iter()
        .map(|f| format!("[[accept]]\nfingerprint = \"{f}\"\nreason = \"known: ticket 42\"\nuntil = {until}\n\n"))
        .collect();
    std::fs::write(path, text).unwrap();
}

fn status(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("status.json")).unwrap()).unwrap()
}

/// The sample estate has seven errors, all known: accepted, a quiet night
/// exits 0 and says why; a night with a changed file exits 4 (drift) all
/// the same; an acceptance that expired makes the night 1 again.
#[test]
fn accepted_findings_leave_the_exit_code_to_what_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("shares");
    sample_copy(&estate);
    let history = dir.path().join("h.sqlite");
    let out = dir.path().join("out");
    let accepted = dir.path().join("accepted.toml");
    let audited = smsaudit()
        .arg("audit")
        .arg(&estate)
        .arg("--out")
        .arg(&out)
        .args(["--csv", "machine", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(audited.status.code(), Some(1), "the sample estate has errors");
    let fingerprints: Vec<String> = read_csv_maps(&out.join("findings.csv"))
        .into_iter()
        .map(|r| r["fingerprint"].clone())
        .collect();
    assert!(fingerprints.len() >= 5, "{fingerprints:?}");
    accept_all(&accepted, &fingerprints, "2099-12-31");
    let with = ["--accepted", accepted.to_str().unwrap()];

    // Quiet night: every finding accepted.
    assert_eq!(night(&estate, &out, &history, &with), 0);
    let findings = read_csv_maps(&out.join("findings.csv"));
    assert_eq!(findings.len(), fingerprints.len());
    for row in &findings {
        assert_eq!(row["accepted"], "known: ticket 42");
        assert_eq!(row["accepted_until"], "2099-12-31");
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(json["findings"][0]["accepted"]["until"], "2099-12-31");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("accepted until 2099-12-31"));

    // Bad night: a file of a logon point changed.
    std::fs::write(
        estate.join("DC1/SMSLOGON/Sites/MS1/NETCONF.NCF"),
        "[Planted]\r\nlogon.bat=1\r\n",
    )
    .unwrap();
    assert_eq!(night(&estate, &out, &history, &with), 4);
    assert!(read_csv_maps(&out.join("drift.csv")).iter().any(|r| r["path"].ends_with("NETCONF.NCF")));

    // The next night, nothing new again.
    assert_eq!(night(&estate, &out, &history, &with), 0);

    // One acceptance expired: the night is one with findings again.
    accept_all(&accepted, &fingerprints[..1], "2001-01-31");
    let mut text = std::fs::read_to_string(&accepted).unwrap();
    let rest = dir.path().join("rest.toml");
    accept_all(&rest, &fingerprints[1..], "2099-12-31");
    text.push_str(&std::fs::read_to_string(&rest).unwrap());
    std::fs::write(&accepted, text).unwrap();
    assert_eq!(night(&estate, &out, &history, &with), 1);
    let findings = read_csv_maps(&out.join("findings.csv"));
    let expired = findings.iter().find(|r| r["fingerprint"] == fingerprints[0]).unwrap();
    assert_eq!(expired["accepted"], "");
}

/// The file is checked before anything is crawled: a bad one is refused
/// with exit 2, naming `--accepted` and the entry.
#[test]
fn a_bad_accepted_file_is_refused_before_the_crawl() {
    let dir = tempfile::tempdir().unwrap();
    let accepted = dir.path().join("accepted.toml");
    for (text, says) in [
        (
            "[[accept]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\n",
            "--accepted file",
        ),
        (
            "[[accept]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nuntil = 2027-02-30\n",
            "is not valid",
        ),
        (
            "[[accept]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nuntil = \"tomorrow\"\n",
            "entry 1 (0123456789abcdef): until \"tomorrow\" is not a date YYYY-MM-DD",
        ),
        (
            "[[accept]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nuntil = 2027-01-31\nby = \"me\"\n",
            "unknown field",
        ),
    ] {
        std::fs::write(&accepted, text).unwrap();
        let out = dir.path().join("out");
        let output = smsaudit()
            .arg("audit")
            .arg(sample_shares())
            .arg("--out")
            .arg(&out)
            .arg("--accepted")
            .arg(&accepted)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains("--accepted file"), "{stderr}");
        assert!(stderr.contains(says), "{text}: {stderr}");
        assert!(!out.exists(), "nothing written for a refused run");
    }
    let big = "# padding\n".repeat(200_000);
    std::fs::write(&accepted, big).unwrap();
    let output = smsaudit()
        .arg("audit")
        .arg(sample_shares())
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--accepted")
        .arg(&accepted)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is larger than 1024 KiB"));
}
