//! Fuzzes the client-log reader and the symptom signatures: no bytes may
//! make them panic, and no entry may outgrow the line limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (entry, _) in smsaudit::clientlogs::scan_bytes(data) {
        assert!(entry.text.len() <= smsaudit::clientlogs::MAX_LINE_BYTES);
    }
});
