//! Differential test against pelite, a second independent PE parser (pure Rust, so it always runs).

use crate::common;

use common::pe::{fixture, FIXTURES};
use pelite::resources::version_info::Language;
use pelite::PeFile;
use smsaudit::extract::pe::read_version_info;

#[test]
fn matches_pelite() {
    for name in FIXTURES {
        let data = fixture(name);
        let theirs = PeFile::from_bytes(&data)
            .unwrap_or_else(|e| panic!("{name}: pelite: {e}"))
            .resources()
            .ok()
            .and_then(|r| r.version_info().ok());
        let ours = read_version_info(&data);
        let (Some(theirs), Ok(ours)) = (theirs, &ours) else {
            assert!(
                theirs.is_none() && ours.is_err(),
                "{name}: pelite found {}, we got {ours:?}",
                theirs.is_some()
            );
            continue;
        };

        let fixed = theirs
            .fixed()
            .unwrap_or_else(|| panic!("{name}: pelite sees no fixed info"));
        let v = |x: pelite::image::VS_VERSION| format!("{}.{}.{}.{}", x.Major, x.Minor, x.Patch, x.Build);
        assert_eq!(v(fixed.dwFileVersion), ours.fixed_file_version, "{name}");
        assert_eq!(v(fixed.dwProductVersion), ours.fixed_product_version, "{name}");

        let langs: Vec<(u16, u16)> = theirs.translation().iter().map(|l| (l.lang_id, l.charset_id)).collect();
        assert_eq!(langs, ours.translations, "{name}");

        for table in &ours.string_tables {
            let key: Vec<u16> = table.key.encode_utf16().collect();
            let lang = Language::parse(&key).unwrap_or_else(|_| panic!("{name}: table key {}", table.key));
            let mut values = Vec::new();
            theirs.strings(lang, |k, v| values.push((k.to_string(), v.to_string())));
            assert_eq!(values, table.values, "{name} table {}", table.key);
        }
    }
}
