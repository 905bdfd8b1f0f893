//! Decoding of text files written by Windows programs: UTF-8 (with or
//! without BOM), UTF-16LE/BE with BOM, UTF-16LE without BOM, Windows-1252.

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

/// Decodes bytes into text whatever their encoding; never fails.
pub fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return UTF_16LE.decode_without_bom_handling(rest).0.into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return UTF_16BE.decode_without_bom_handling(rest).0.into_owned();
    }
    if looks_like_utf16le(bytes) {
        return UTF_16LE.decode_without_bom_handling(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// ASCII text saved as UTF-16LE without a BOM has a NUL in most odd bytes.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    if bytes.len() < 4 {
        return false;
    }
    let sample = &bytes[..bytes.len().min(512) & !1];
    let pairs = sample.len() / 2;
    let odd_nuls = sample.chunks_exact(2).filter(|p| p[1] == 0 && p[0] != 0).count();
    odd_nuls * 10 >= pairs * 8
}

/// Whether bytes look like text rather than binary data.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") || looks_like_utf16le(bytes) {
        return false;
    }
    let sample = &bytes[..bytes.len().min(4096)];
    sample.iter().filter(|&&b| b == 0).count() > sample.len() / 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_windows_encoding() {
        let expected = "[Version]\r\nName=Café\r\n";
        let mut utf16le_bom = vec![0xFF, 0xFE];
        let mut utf16le = Vec::new();
        for unit in expected.encode_utf16() {
            utf16le.extend_from_slice(&unit.to_le_bytes());
        }
        utf16le_bom.extend_from_slice(&utf16le);
        let mut utf16be_bom = vec![0xFE, 0xFF];
        for unit in expected.encode_utf16() {
            utf16be_bom.extend_from_slice(&unit.to_be_bytes());
        }
        let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
        utf8_bom.extend_from_slice(expected.as_bytes());
        let cp1252 = b"[Version]\r\nName=Caf\xE9\r\n".to_vec();
        for bytes in [
            expected.as_bytes().to_vec(),
            utf8_bom,
            utf16le_bom,
            utf16le,
            utf16be_bom,
            cp1252,
        ] {
            assert_eq!(decode(&bytes), expected);
        }
    }

    #[test]
    fn tells_binary_from_text() {
        assert!(looks_binary(
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        ));
        assert!(!looks_binary(b"[FILE SOURCE]\r\nx86.bin\\clicore.exe=MS1\r\n"));
    }
}
