//! Fuzzes every text parser (compver, component CFG, Copylog, Senior.lst,
//! Offerinf .ins, site control file) and
//! the text decoder: none may panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsaudit::extract;
use smsaudit::model::FileKind;

fuzz_target!(|data: &[u8]| {
    let _ = smsaudit::extract::decode(data);
    for kind in [FileKind::Compver, FileKind::ComponentCfg, FileKind::Copylog, FileKind::SeniorList, FileKind::OfferInstruction, FileKind::SiteControl] {
        let _ = extract::parse(kind, data);
    }
});
