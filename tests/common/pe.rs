//! Helpers for the PE fixture tests: the committed binaries and their version blocks.
#![allow(dead_code)]

use std::path::PathBuf;

/// Every committed fixture binary, in a stable order.
pub const FIXTURES: &[&str] = &[
    "clicore32.exe",
    "mismatch64.exe",
    "twolang32.exe",
    "customkey64.exe",
    "bundle32.exe",
    "noversion32.exe",
    "nores64.exe",
    "smsdll32.dll",
];

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pe")
        .join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Byte range of the VS_VERSIONINFO block inside a fixture, found by its UTF-16 key.
pub fn version_block_range(data: &[u8]) -> Option<std::ops::Range<usize>> {
    let key: Vec<u8> = "VS_VERSION_INFO".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let key_at = data.windows(key.len()).position(|w| w == key.as_slice())?;
    let start = key_at.checked_sub(6)?;
    let len = u16::from_le_bytes([data[start], data[start + 1]]) as usize;
    Some(start..start + len)
}

/// A fixture whose fixed FileVersion (VS_FIXEDFILEINFO) is set to
/// `version` (`2.0.1380.1125`): a real PE image that reports that version.
pub fn with_version(name: &str, version: &str) -> Vec<u8> {
    let mut data = fixture(name);
    let f: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    let at = data
        .windows(4)
        .position(|w| w == [0xBD, 0x04, 0xEF, 0xFE])
        .expect("VS_FIXEDFILEINFO");
    let ms = (f[0] << 16) | f[1];
    let ls = (f[2] << 16) | f[3];
    data[at + 8..at + 12].copy_from_slice(&ms.to_le_bytes());
    data[at + 12..at + 16].copy_from_slice(&ls.to_le_bytes());
    data
}
