//! Fuzzes the site control file reader: it may not panic whatever the
//! bytes, and what it keeps stays within its limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsaudit::extract::{self, Detail};
use smsaudit::model::FileKind;

fuzz_target!(|data: &[u8]| {
    let extracted = extract::parse(FileKind::SiteControl, data);
    if let Detail::SiteControl(control) = extracted.detail {
        assert!(control.logon.len() <= 3);
        assert!(control.client_components.len() <= 64);
        assert!(control.logon.iter().all(|c| c.domains.len() <= 256));
    }
});
