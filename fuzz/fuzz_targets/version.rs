//! Fuzzes the version model: parsing, finding a version in text, labels and
//! comparisons must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsaudit::sms::version::Version;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (left, right) = text.split_at(text.char_indices().nth(text.chars().count() / 2).map_or(0, |(i, _)| i));
    let _ = Version::find_in(&text);
    if let (Some(a), Some(b)) = (Version::parse(left), Version::parse(right)) {
        let _ = (a.compare(&b), a.same_as(&b), a.label(), a.release(), a.normalized());
    }
});
