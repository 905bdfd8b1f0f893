//! Fuzzes the PE VERSIONINFO reader: it must never panic, hang, or return more text than it was given,
//! and reading from a file must give what reading the bytes in memory gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsaudit::extract::pe::{looks_like_pe, read_version_info, read_version_info_from};

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_pe(data);
    let in_memory = read_version_info(data);
    let from_reader = read_version_info_from(std::io::Cursor::new(data), u64::MAX).expect("a cursor cannot fail");
    assert_eq!(from_reader, in_memory);
    if let Ok(v) = in_memory {
        let text: usize = v
            .string_tables
            .iter()
            .map(|t| t.key.len() + t.values.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>())
            .sum();
        // UTF-16 to UTF-8 grows at most 3 bytes per 2 input bytes.
        assert!(
            text <= data.len() / 2 * 3,
            "{text} bytes of text from {} input bytes",
            data.len()
        );
        assert!(v.translations.len() * 4 <= data.len());
    }
});
