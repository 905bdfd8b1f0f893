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
    let code = output.status.code().unwrap_or(-1);
    assert_eq!(
        status(out)["exit_code"],
        code,
        "status.json says the code the run exits with: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    code
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
    assert!(read_csv_maps(&out.join("drift.csv"))
        .iter()
        .any(|r| r["path"].ends_with("NETCONF.NCF")));

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

/// status.json holds the code the process exits with, its meaning and the
/// counts behind it, in every set (whatever --format), with the plan's
/// verdict under --upgrade; and it is listed in the manifest.
#[test]
fn status_json_says_the_exit_code_of_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("shares");
    sample_copy(&estate);
    let history = dir.path().join("h.sqlite");
    let out = dir.path().join("out");
    // Night 1: the sample's errors.
    assert_eq!(night(&estate, &out, &history, &[]), 1);
    let first = status(&out);
    assert_eq!(first["meaning"], "findings at or above --fail-on");
    assert_eq!(first["findings"]["errors"], first["findings"]["total"]);
    assert_eq!(
        first["findings"]["new"], first["findings"]["total"],
        "all new on the first night"
    );
    assert_eq!(first["findings"]["standing"], 0);
    assert_eq!(first["findings"]["accepted"], 0);
    assert_eq!(
        first["drift_changes"],
        serde_json::Value::Null,
        "no baseline on the first night"
    );
    assert_eq!(first["upgrade"], serde_json::Value::Null);
    let audit: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(first["started"], audit["started"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let listed = manifest["reports"].as_array().unwrap();
    assert!(listed.iter().any(|r| r["name"] == "status.json"), "{manifest}");

    // Night 2, with --fail-on never and a changed file: drift, 4.
    std::fs::write(estate.join("DC1/SMSLOGON/Logs/.keep"), "planted").unwrap();
    assert_eq!(night(&estate, &out, &history, &["--fail-on", "never"]), 4);
    let second = status(&out);
    assert_eq!(second["meaning"], "drift since the baseline");
    assert_eq!(second["drift_changes"], 1);
    assert_eq!(second["findings"]["new"], 0);
    assert_eq!(second["findings"]["standing"], first["findings"]["total"]);
    assert_eq!(second["findings"]["resolved"], 0);

    // Night 3, csv only, with the pre-upgrade check: still a status.json.
    assert_eq!(
        night(
            &estate,
            &out,
            &history,
            &["--format", "csv", "--upgrade", "MS1", "--to", "SP1"]
        ),
        1
    );
    let third = status(&out);
    assert_eq!(third["upgrade"]["sites"], serde_json::json!(["MS1"]));
    assert_eq!(third["upgrade"]["to"], "SP1");
    assert!(third["upgrade"]["safe"].is_boolean());
    assert!(!out.join("audit.json").exists(), "csv only");

    // A lone CAP that cannot be judged: 3, without a history.
    let lone = dir.path().join("lone");
    let cap = lone_cap(&lone);
    let out = dir.path().join("out-lone");
    let code = smsaudit()
        .arg("audit")
        .arg(&cap)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(3));
    let lone = status(&out);
    assert_eq!(lone["exit_code"], 3);
    assert_eq!(lone["meaning"], "not everything could be checked");
    assert_eq!(lone["findings"]["new"], serde_json::Value::Null, "no history");
    assert!(lone["duration_seconds"].is_number());
    assert!(
        std::fs::metadata(out.join("status.json")).unwrap().len() < 2048,
        "small"
    );
}

/// A share that disappears (audited by roots) is an A01 finding every
/// night, not a `location_removed` once: exit 3 night after night, until it
/// is excluded or dropped on purpose with `history --forget`.
#[test]
fn a_vanished_share_is_missed_every_night_until_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("shares");
    sample_copy(&estate);
    let history = dir.path().join("h.sqlite");
    let out = dir.path().join("out");
    // The sample's errors would win over 3: only what could not be checked counts.
    let never = ["--fail-on", "never"];
    assert_eq!(night(&estate, &out, &history, &never), 0);
    std::fs::remove_dir_all(estate.join("DC2/SMSLOGON")).unwrap();
    for _ in 0..2 {
        assert_eq!(night(&estate, &out, &history, &never), 3);
        let missing: Vec<_> = read_csv_maps(&out.join("findings.csv"))
            .into_iter()
            .filter(|r| r["code"] == "A01")
            .collect();
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0]["location"], r"\\DC2\SMSLOGON");
        assert!(missing[0]["observed"].starts_with("seen until "), "{missing:?}");
        assert!(missing[0]["observed"].ends_with(", not found now"), "{missing:?}");
        assert!(missing[0]["message"].contains("--forget"), "{missing:?}");
    }
    // Listed in the exclusions: not expected that night.
    let excluded = [&never[..], &["--exclude", r"\\DC2\SMSLOGON"]].concat();
    assert_eq!(night(&estate, &out, &history, &excluded), 0);

    let forgotten = smsaudit()
        .arg("history")
        .arg(&history)
        .args(["--forget", r"\\dc2\smslogon"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&forgotten.stderr);
    assert_eq!(forgotten.status.code(), Some(0), "{said}");
    assert!(
        said.contains(r"\\DC2\SMSLOGON") && said.contains("no longer expected"),
        "{said}"
    );
    assert_eq!(night(&estate, &out, &history, &never), 0);
    assert!(!read_csv_maps(&out.join("findings.csv"))
        .iter()
        .any(|r| r["code"] == "A01"));

    // An ad-hoc run of another root misses nothing of the nightly roots.
    let adhoc = dir.path().join("out-adhoc");
    let code = smsaudit()
        .arg("audit")
        .arg(estate.join("SERVER3"))
        .arg("--out")
        .arg(&adhoc)
        .arg("--history")
        .arg(&history)
        .args(["--quiet", "--fail-on", "never"])
        .output()
        .unwrap()
        .status
        .code();
    assert!(
        !read_csv_maps(&adhoc.join("findings.csv"))
            .iter()
            .any(|r| r["code"] == "A01"),
        "exit {code:?}"
    );

    // A location the history never saw is refused.
    let unknown = smsaudit()
        .arg("history")
        .arg(&history)
        .args(["--forget", r"\\NOWHERE\CAP_XX1"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("has never seen location"));
}
