//! Property tests: no parser or the version model panics on arbitrary input,
//! and what they return is bounded by what they were given.

use proptest::prelude::*;
use smsaudit::extract::{self, Detail};
use smsaudit::model::FileKind;
use smsaudit::sms::version::Version;

const KINDS: [FileKind; 6] = [
    FileKind::Compver,
    FileKind::ComponentCfg,
    FileKind::Copylog,
    FileKind::SeniorList,
    FileKind::Binary,
    FileKind::Other,
];

/// Bytes that look like the files the parsers expect, then get mangled.
fn sms_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let seeds = prop_oneof![
        Just(
            b"[Component Configuration]\r\n(REG_SZ) Version=2.00.1380.1000\r\nName=X\r\n[IDENT]\r\nTYPE=Base\r\n"
                .to_vec()
        ),
        Just(b"[FILE SOURCE]\r\nX86.BIN\\CLICORE.EXE=MS2\r\nSITES\\MS1\\cli_inst.cfg=MS1\r\n".to_vec()),
        Just(b"[Version]\r\nVersion=2.00.1239.0000\r\n".to_vec()),
        Just(b"\xFF\xFE[\x00V\x00]\x00\r\x00\n\x00".to_vec()),
        Just(b"MZ\x90\x00".to_vec()),
    ];
    (
        seeds,
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..16),
        any::<usize>(),
    )
        .prop_map(|(mut bytes, edits, cut)| {
            for (at, value) in edits {
                if !bytes.is_empty() {
                    let len = bytes.len();
                    bytes[at % len] = value;
                }
            }
            let keep = if bytes.is_empty() { 0 } else { cut % (bytes.len() + 1) };
            bytes.truncate(keep);
            bytes
        })
}

fn check_bounded(bytes: &[u8], kind: FileKind) {
    let extracted = extract::parse(kind, bytes);
    // Text can grow when decoded (one byte of Windows-1252 is up to three of UTF-8).
    let bound = bytes.len() * 3 + 64;
    assert!(extracted.version.as_ref().map_or(0, String::len) <= bound);
    if let Detail::Copylog(lines) = &extracted.detail {
        assert!(lines.len() <= bytes.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for kind in KINDS {
            check_bounded(&bytes, kind);
        }
        let _ = smsaudit::extract::decode(&bytes);
    }

    #[test]
    fn parsers_never_panic_on_mangled_sms_files(bytes in sms_like_bytes()) {
        for kind in KINDS {
            check_bounded(&bytes, kind);
        }
    }

    #[test]
    fn versions_compare_consistently(a in "[0-9]{1,4}(\\.[0-9]{1,5}){1,3}", b in "[0-9]{1,4}(\\.[0-9]{1,5}){1,3}") {
        if let (Some(x), Some(y)) = (Version::parse(&a), Version::parse(&b)) {
            if let (Some(xy), Some(yx)) = (x.compare(&y), y.compare(&x)) {
                prop_assert_eq!(xy, yx.reverse());
            }
            prop_assert_eq!(x.same_as(&y), x.normalized() == y.normalized());
            let _ = (x.label(), x.release(), x.build_agrees_with_sp());
        }
    }
}
