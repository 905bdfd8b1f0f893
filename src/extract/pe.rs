//! PE version resources (temporary: replaced by the bounds-checked walker).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub fixed_file_version: String,
    pub fixed_product_version: String,
    pub translations: Vec<(u16, u16)>,
    pub string_tables: Vec<StringTable>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StringTable {
    pub key: String,
    pub values: Vec<(String, String)>,
}

impl VersionInfo {
    pub fn string_file_version(&self) -> Option<&str> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeError {
    #[error("not a PE file")]
    NotPe,
    #[error("no resource section")]
    NoResources,
    #[error("no version resource")]
    NoVersionResource,
    #[error("malformed PE: {0}")]
    Malformed(String),
}

pub fn read_version_info(data: &[u8]) -> Result<VersionInfo, PeError> {
    if !data.starts_with(b"MZ") {
        return Err(PeError::NotPe);
    }
    Err(PeError::Malformed("version resource reader not available".into()))
}
