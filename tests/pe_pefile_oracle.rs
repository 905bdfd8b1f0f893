//! Differential test: every fixture is also read by Debian's python3-pefile and the results compared.
//!
//! Skips (with a message) when python3 or pefile is missing, unless SMSAUDIT_REQUIRE_EXTERNAL=1.
//! SMSAUDIT_PYTHON picks the interpreter.

use crate::common;

use common::pe::{fixture, fixture_path, FIXTURES};
use serde_json::Value;
use smsaudit::extract::pe::read_version_info;
use std::process::Command;

/// Dumps what pefile sees as JSON. pefile keeps only the last Translation pair of each Var
/// (it stores them in a dict), so one pair per Var is emitted.
const DUMP: &str = r#"
import json, sys, pefile
pe = pefile.PE(sys.argv[1], fast_load=True)
pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
out = {"fixed_file_version": None, "fixed_product_version": None, "string_tables": [], "translations": []}
def v(ms, ls):
    return "%d.%d.%d.%d" % (ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF)
if getattr(pe, "VS_FIXEDFILEINFO", None):
    f = pe.VS_FIXEDFILEINFO[0]
    out["fixed_file_version"] = v(f.FileVersionMS, f.FileVersionLS)
    out["fixed_product_version"] = v(f.ProductVersionMS, f.ProductVersionLS)
def s(x):
    return x.decode("utf-8", "replace") if isinstance(x, bytes) else x
for fi in (getattr(pe, "FileInfo", None) or [[]])[0]:
    key = s(getattr(fi, "Key", b""))
    if key == "StringFileInfo":
        for st in fi.StringTable:
            out["string_tables"].append({"key": s(st.LangID), "values": [[s(k), s(val)] for k, val in st.entries.items()]})
    elif key == "VarFileInfo":
        for var in fi.Var:
            for k, val in var.entry.items():
                if s(k) == "Translation":
                    lang, cp = (int(w, 16) for w in s(val).split())
                    out["translations"].append([lang, cp])
print(json.dumps(out))
"#;

/// A python3 that can import pefile: $SMSAUDIT_PYTHON if set, else PATH, then Debian's own (pyenv shims hide it).
fn python_with_pefile() -> Option<String> {
    let candidates = match std::env::var("SMSAUDIT_PYTHON") {
        Ok(py) => vec![py],
        Err(_) => vec!["python3".to_string(), "/usr/bin/python3".to_string()],
    };
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import pefile"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

#[test]
fn matches_pefile() {
    let python = python_with_pefile();
    if !common::require_that(
        python.is_some(),
        "python3-pefile not found (needed as a second PE parser)",
    ) {
        return;
    }
    let python = python.unwrap();
    for name in FIXTURES {
        let out = Command::new(&python)
            .args(["-c", DUMP])
            .arg(fixture_path(name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: pefile failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = read_version_info(&fixture(name));
        println!("{name}: pefile {theirs}");

        let Ok(ours) = ours else {
            assert!(
                theirs["fixed_file_version"].is_null(),
                "{name}: we failed ({ours:?}) but pefile read {theirs}"
            );
            assert_eq!(theirs["string_tables"], Value::Array(vec![]), "{name}");
            continue;
        };
        assert_eq!(theirs["fixed_file_version"], ours.fixed_file_version.as_str(), "{name}");
        assert_eq!(
            theirs["fixed_product_version"],
            ours.fixed_product_version.as_str(),
            "{name}"
        );
        let our_tables = serde_json::to_value(&ours.string_tables).unwrap();
        assert_eq!(theirs["string_tables"], our_tables, "{name}");
        for pair in theirs["translations"].as_array().unwrap() {
            let pair = (pair[0].as_u64().unwrap() as u16, pair[1].as_u64().unwrap() as u16);
            assert!(
                ours.translations.contains(&pair),
                "{name}: pefile translation {pair:?} not in {:?}",
                ours.translations
            );
        }
    }
}
