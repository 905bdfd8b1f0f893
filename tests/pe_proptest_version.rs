//! Property test: mutating a fixture's VS_VERSIONINFO bytes never panics and never yields more text than input.

use crate::common;

use common::pe::{fixture, version_block_range};
use proptest::prelude::*;
use smsaudit::extract::pe::read_version_info;

const WITH_VERSION: &[&str] = &[
    "clicore32.exe",
    "mismatch64.exe",
    "twolang32.exe",
    "customkey64.exe",
    "bundle32.exe",
    "smsdll32.dll",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_version_block_is_safe(
        which in 0..WITH_VERSION.len(),
        bytes in prop::collection::vec((any::<u16>(), any::<u8>()), 0..24),
        // Block headers sit on DWORD boundaries: (slot, field 0=wLength/1=wValueLength/2=wType, value).
        lengths in prop::collection::vec((any::<u16>(), 0usize..3, any::<u16>()), 0..8),
        cut in prop::option::of(any::<u16>()),
    ) {
        let mut data = fixture(WITH_VERSION[which]);
        let block = version_block_range(&data).expect("fixture has a version block");
        let len = block.len();
        for (off, b) in bytes {
            data[block.start + usize::from(off) % len] = b;
        }
        for (slot, field, v) in lengths {
            let at = block.start + (usize::from(slot) * 4) % (len - 4) / 4 * 4 + field * 2;
            data[at..at + 2].copy_from_slice(&v.to_le_bytes());
        }
        if let Some(c) = cut {
            data.truncate(block.start + usize::from(c) % (len + 1));
        }
        if let Ok(v) = read_version_info(&data) {
            let total: usize = v.fixed_file_version.len()
                + v.fixed_product_version.len()
                + v.string_tables.iter().map(|t| t.key.len() + t.values.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()).sum::<usize>();
            prop_assert!(total <= data.len(), "{total} bytes of text from {} bytes", data.len());
            prop_assert!(v.translations.len() * 4 <= data.len());
        }
    }
}
