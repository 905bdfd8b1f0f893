//! Fuzzes the PE VERSIONINFO reader: it must never panic, hang, or return more text than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsaudit::extract::pe::{looks_like_pe, read_version_info};

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_pe(data);
    if let Ok(v) = read_version_info(data) {
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
