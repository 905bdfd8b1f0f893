//! Reads the VERSIONINFO resource (RT_VERSION) of PE32 and PE32+ files, defensively against hostile input.
//!
//! `object` locates the resource tree; the VS_VERSIONINFO block itself is walked by a local,
//! bounds-checked parser so every length field is clamped to the bytes actually present.
//!
//! The same code reads an image held in memory or an open file: it is generic over `object`'s
//! `ReadRef`, and a file is read through `object::read::ReadCache`, which reads only the ranges
//! asked for: the headers, the section table, the resource directory and the version block. The
//! COFF symbol table, code and data are never read, so memory does not grow with the file.

use object::pe;
use object::pe::{ImageNtHeaders32, ImageNtHeaders64};
use object::read::pe::{ImageNtHeaders, ResourceDirectory, SectionTable};
use object::read::{ReadCache, ReadCacheOps, ReadRef};
use object::FileKind;
use serde::Serialize;
use std::io::{self, Read, Seek, SeekFrom};

/// VS_FIXEDFILEINFO.dwSignature.
const FIXED_SIGNATURE: u32 = 0xFEEF_04BD;
/// sizeof(VS_FIXEDFILEINFO).
const FIXED_INFO_LEN: usize = 52;
/// wLength + wValueLength + wType.
const BLOCK_HEADER_LEN: usize = 6;
/// Conventional name ID of the version resource; preferred when several exist.
const VS_VERSION_INFO_ID: u16 = 1;
/// Cap on (name, language) candidates tried, so a huge hostile resource tree stays cheap.
const MAX_CANDIDATES: usize = 16;
/// The root wLength is a u16, so the walker never looks past this many bytes of a version
/// resource, whatever size its data entry claims.
const VERSION_BLOCK_MAX: u32 = 1 << 16;

/// Parsed VERSIONINFO resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct VersionInfo {
    /// VS_FIXEDFILEINFO dwFileVersionMS/LS as "a.b.c.d" (decimal, no padding); empty if the block has no fixed info.
    pub fixed_file_version: String,
    /// VS_FIXEDFILEINFO dwProductVersionMS/LS as "a.b.c.d"; empty if the block has no fixed info.
    pub fixed_product_version: String,
    /// (language, codepage) pairs from VarFileInfo\Translation, in file order
    pub translations: Vec<(u16, u16)>,
    /// One table per StringFileInfo StringTable, in file order
    pub string_tables: Vec<StringTable>,
}

/// One StringFileInfo StringTable: a language/codepage key and its name/value pairs in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StringTable {
    /// Language and codepage as 8 hex digits, e.g. "040904b0".
    pub key: String,
    /// (name, value) pairs, values as stored up to their NUL (untrimmed).
    pub values: Vec<(String, String)>,
}

impl VersionInfo {
    /// The FileVersion string of the first table that has one (trimmed, NULs removed)
    pub fn string_file_version(&self) -> Option<&str> {
        self.value("FileVersion")
    }

    /// The ProductVersion string of the first table that has one (trimmed, NULs removed)
    pub fn string_product_version(&self) -> Option<&str> {
        self.value("ProductVersion")
    }

    /// Value of `key` (case-insensitive) from the first table having it, trimmed.
    ///
    /// A table whose value is blank is skipped in favour of a later non-blank one, because
    /// localized tables are often left partly empty; `Some("")` only if every match is blank.
    pub fn value(&self, key: &str) -> Option<&str> {
        let mut blank = None;
        for table in &self.string_tables {
            for (k, v) in &table.values {
                if k.trim_matches(is_trim_char).eq_ignore_ascii_case(key) {
                    let v = v.trim_matches(is_trim_char);
                    if !v.is_empty() {
                        return Some(v);
                    }
                    blank.get_or_insert(v);
                }
            }
        }
        blank
    }
}

fn is_trim_char(c: char) -> bool {
    c.is_whitespace() || c == '\0'
}

/// Why a version resource could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeError {
    #[error("not a PE file")]
    NotPe,
    #[error("malformed PE: {0}")]
    Malformed(String),
    #[error("no resource section")]
    NoResources,
    #[error("no version resource")]
    NoVersionResource,
    #[error("truncated version block: {0}")]
    Truncated(String),
    #[error("bad version block: {0}")]
    BadVersionBlock(String),
}

/// Quick content check: starts with "MZ" and e_lfanew points at "PE\0\0" inside the data.
pub fn looks_like_pe(data: &[u8]) -> bool {
    looks_like_pe_in(data)
}

fn looks_like_pe_in<'data, R: ReadRef<'data>>(data: R) -> bool {
    if data.read_bytes_at(0, 2) != Ok(b"MZ".as_slice()) {
        return false;
    }
    let Some(e_lfanew) = data.read_bytes_at(0x3c, 4).ok().and_then(|b| read_u32(b, 0)) else {
        return false;
    };
    data.read_bytes_at(u64::from(e_lfanew), 4) == Ok(b"PE\0\0".as_slice())
}

/// Parse the version resource. Never panics, never loops forever, never allocates based on an unchecked length field (all allocations bounded by data.len()).
pub fn read_version_info(data: &[u8]) -> Result<VersionInfo, PeError> {
    version_info(data, u64::MAX)
}

/// [`read_version_info`] from an open file (or any `Read + Seek`), reading only the headers,
/// the section table, the resource directory and the version block: memory is bounded by
/// those, not by the file's size, and no single range larger than `limit` is read. Gives the
/// same result as [`read_version_info`] on the whole content. A failed read is an `Err`, never
/// a malformed image: what could not be read was not checked.
pub fn read_version_info_from<R: Read + Seek>(reader: R, limit: u64) -> io::Result<Result<VersionInfo, PeError>> {
    let cache = ReadCache::new(ErrorKeeping {
        inner: reader,
        error: None,
    });
    let result = version_info(&cache, limit);
    match cache.into_inner().error {
        Some(err) => Err(err),
        None => Ok(result),
    }
}

/// A reader for `ReadCache` that keeps the first I/O error, which `ReadRef` reduces to `()`.
struct ErrorKeeping<R> {
    inner: R,
    error: Option<io::Error>,
}

impl<R> ErrorKeeping<R> {
    fn keep<T>(&mut self, result: io::Result<T>) -> Result<T, ()> {
        result.map_err(|err| {
            self.error.get_or_insert(err);
        })
    }
}

impl<R: Read + Seek> ReadCacheOps for ErrorKeeping<R> {
    fn len(&mut self) -> Result<u64, ()> {
        let result = Seek::seek(&mut self.inner, SeekFrom::End(0));
        self.keep(result)
    }

    fn seek(&mut self, pos: u64) -> Result<u64, ()> {
        let result = Seek::seek(&mut self.inner, SeekFrom::Start(pos));
        self.keep(result)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ()> {
        let result = Read::read(&mut self.inner, buf);
        self.keep(result)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ()> {
        let result = Read::read_exact(&mut self.inner, buf);
        self.keep(result)
    }
}

fn version_info<'data, R: ReadRef<'data>>(data: R, limit: u64) -> Result<VersionInfo, PeError> {
    if !looks_like_pe_in(data) {
        return Err(PeError::NotPe);
    }
    match FileKind::parse(data) {
        Ok(FileKind::Pe32) => version_from_pe::<ImageNtHeaders32, R>(data, limit),
        Ok(FileKind::Pe64) => version_from_pe::<ImageNtHeaders64, R>(data, limit),
        // "PE\0\0" is present, so anything else means an unusable optional header.
        Ok(_) => Err(PeError::Malformed("unrecognised optional header".into())),
        Err(e) => Err(PeError::Malformed(e.to_string())),
    }
}

/// The steps of `PeFile::parse` this needs (DOS header, NT headers with data directories,
/// section table), in its order and with its errors, but not its read of the COFF symbol table,
/// which a hostile header can make as large as the file.
fn version_from_pe<'data, Pe: ImageNtHeaders, R: ReadRef<'data>>(data: R, limit: u64) -> Result<VersionInfo, PeError> {
    let malformed = |e: object::Error| PeError::Malformed(e.to_string());
    let dos_header = pe::ImageDosHeader::parse(data).map_err(malformed)?;
    let mut offset = dos_header.nt_headers_offset().into();
    let (nt_headers, data_directories) = Pe::parse(data, &mut offset).map_err(malformed)?;
    let sections = nt_headers.sections(data, offset).map_err(malformed)?;
    let dir = data_directories
        .get(pe::IMAGE_DIRECTORY_ENTRY_RESOURCE)
        .ok_or(PeError::NoResources)?;
    let (dir_rva, dir_size) = dir.address_range();
    if dir_size == 0 {
        return Err(PeError::NoResources);
    }
    let rsrc = map_rva(data, &sections, dir_rva, dir_size, limit)
        .map_err(|e| PeError::Malformed(format!("resource directory: {e}")))?;
    let rsrc = ResourceDirectory::new(rsrc);
    let root = rsrc
        .root()
        .map_err(|e| PeError::Malformed(format!("resource directory: {e}")))?;

    let type_entry = root
        .entries
        .iter()
        .find(|e| e.name_or_id().id() == Some(pe::RT_VERSION))
        .ok_or(PeError::NoVersionResource)?;
    let names = type_entry
        .data(rsrc)
        .ok()
        .and_then(|d| d.table())
        .ok_or_else(|| PeError::Malformed("RT_VERSION entry is not a directory".into()))?;

    // ID 1 first (what VerQueryValue reads), then the rest in file order.
    let is_vs_id = |e: &&pe::ImageResourceDirectoryEntry| e.name_or_id().id() == Some(VS_VERSION_INFO_ID);
    let ordered = names
        .entries
        .iter()
        .filter(is_vs_id)
        .chain(names.entries.iter().filter(|e| !is_vs_id(e)));

    let mut first_err = None;
    let mut tried = 0usize;
    for name in ordered {
        if tried >= MAX_CANDIDATES {
            break;
        }
        let Some(langs) = name.data(rsrc).ok().and_then(|d| d.table()) else {
            continue;
        };
        for lang in langs.entries {
            if tried >= MAX_CANDIDATES {
                break;
            }
            tried += 1;
            let Some(entry) = lang.data(rsrc).ok().and_then(|d| d.data()) else {
                continue;
            };
            let rva = entry.offset_to_data.get(object::LittleEndian);
            let size = entry.size.get(object::LittleEndian);
            let result = map_rva(data, &sections, rva, size.min(VERSION_BLOCK_MAX), limit)
                .map_err(|e| PeError::Truncated(format!("version resource data: {e}")))
                .and_then(parse_version_block);
            match result {
                Ok(info) => return Ok(info),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
    }
    Err(first_err.unwrap_or(PeError::NoVersionResource))
}

/// Maps an RVA range to file bytes, clamped to what the section and the file actually hold.
///
/// Done locally rather than via `object` so sections with VirtualSize 0 (old linkers) still map,
/// and a file cut inside the section yields the bytes present (the walker then reports truncation).
fn map_rva<'data, R: ReadRef<'data>>(
    data: R,
    sections: &SectionTable<'_>,
    rva: u32,
    size: u32,
    limit: u64,
) -> Result<&'data [u8], String> {
    let le = object::LittleEndian;
    for s in sections.iter() {
        let va = s.virtual_address.get(le);
        let raw_size = s.size_of_raw_data.get(le);
        let virt_size = match s.virtual_size.get(le) {
            0 => raw_size,
            v => v,
        };
        let Some(delta) = rva.checked_sub(va) else {
            continue;
        };
        if delta >= virt_size {
            continue;
        }
        // Part of the section that is backed by file bytes, from `rva` on.
        let backed = raw_size.min(virt_size).saturating_sub(delta);
        if backed == 0 {
            return Err(format!("RVA {rva:#x} is in uninitialised data"));
        }
        let start = u64::from(s.pointer_to_raw_data.get(le)) + u64::from(delta);
        let want = u64::from(size.min(backed));
        let len = data.len().map_err(|()| "file length unknown".to_string())?;
        if start >= len {
            return Err(format!("RVA {rva:#x} maps past end of file"));
        }
        let end = start.saturating_add(want).min(len);
        if end - start > limit {
            return Err(format!(
                "{} bytes at RVA {rva:#x}, more than the parse limit of {limit} bytes; not read",
                end - start
            ));
        }
        return data
            .read_bytes_at(start, end - start)
            .map_err(|()| "offset out of range".to_string());
    }
    Err(format!("RVA {rva:#x} is not inside any section"))
}

fn read_u16(data: &[u8], off: usize) -> Option<u16> {
    let end = off.checked_add(2)?;
    let b = data.get(off..end)?;
    Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
}

fn read_u32(data: &[u8], off: usize) -> Option<u32> {
    let end = off.checked_add(4)?;
    let b = data.get(off..end)?;
    Some(u32::from_le_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]))
}

/// Rounds up to the DWORD boundary, relative to the start of the version resource.
fn align4(off: usize) -> usize {
    off.saturating_add(3) & !3
}

/// Decodes UTF-16LE from `data[start..end]` up to the first NUL; returns the text and the offset just past
/// the NUL (or `end` when there is none).
fn utf16_until_nul(data: &[u8], start: usize, end: usize) -> (String, usize) {
    let end = end.min(data.len());
    let Some(bytes) = data.get(start..end) else {
        return (String::new(), end);
    };
    let mut units = Vec::new();
    let mut consumed = 0usize;
    let mut terminated = false;
    for pair in bytes.chunks_exact(2) {
        consumed += 2;
        let unit = u16::from_le_bytes([pair.first().copied().unwrap_or(0), pair.get(1).copied().unwrap_or(0)]);
        if unit == 0 {
            terminated = true;
            break;
        }
        units.push(unit);
    }
    let next = if terminated {
        start.saturating_add(consumed)
    } else {
        end
    };
    (String::from_utf16_lossy(&units), next)
}

/// One version block header with its offsets resolved inside the buffer.
struct Block {
    key: String,
    value_len: usize,
    /// Offset of the value (DWORD-aligned after the key).
    value_off: usize,
    /// End of this block, already clamped to its parent.
    end: usize,
    /// Whether the declared length ran past the parent (the walk stops after this block).
    overran: bool,
}

impl Block {
    /// Offset of the first child: the value's end, DWORD-aligned, never past `end`.
    fn children_off(&self, value_len: usize) -> usize {
        align4(self.value_off.saturating_add(value_len)).min(self.end)
    }
}

/// Reads the block header at `off`; `None` means "no further sibling" (zero/short length or no room).
fn read_block(buf: &[u8], off: usize, parent_end: usize) -> Option<Block> {
    if off.checked_add(BLOCK_HEADER_LEN)? > parent_end {
        return None;
    }
    let length = usize::from(read_u16(buf, off)?);
    let value_len = usize::from(read_u16(buf, off + 2)?);
    // A length that cannot even hold the header is padding or garbage: stop, don't spin.
    if length < BLOCK_HEADER_LEN {
        return None;
    }
    let declared_end = off.checked_add(length)?;
    let end = declared_end.min(parent_end);
    let (key, key_end) = utf16_until_nul(buf, off + BLOCK_HEADER_LEN, end);
    Some(Block {
        key,
        value_len,
        value_off: align4(key_end).min(end),
        end,
        overran: declared_end > parent_end,
    })
}

/// Walks the children of a block from `start` to `end`, calling `f` on each; every step advances
/// by at least one header, and a child that overran its parent is the last one visited.
fn for_each_child(buf: &[u8], start: usize, end: usize, mut f: impl FnMut(&Block)) {
    let mut off = start;
    while let Some(child) = read_block(buf, off, end) {
        f(&child);
        if child.overran {
            break;
        }
        off = align4(child.end);
    }
}

fn fixed_version(ms: u32, ls: u32) -> String {
    format!("{}.{}.{}.{}", ms >> 16, ms & 0xffff, ls >> 16, ls & 0xffff)
}

/// Parses a VS_VERSIONINFO block (the raw RT_VERSION resource data).
fn parse_version_block(buf: &[u8]) -> Result<VersionInfo, PeError> {
    let declared = read_u16(buf, 0).ok_or_else(|| PeError::Truncated(format!("{} bytes, no header", buf.len())))?;
    let declared = usize::from(declared);
    if declared < BLOCK_HEADER_LEN {
        return Err(PeError::BadVersionBlock(format!("root wLength {declared}")));
    }
    if declared > buf.len() {
        return Err(PeError::Truncated(format!(
            "root wLength {declared} but {} bytes present",
            buf.len()
        )));
    }
    let root = read_block(buf, 0, declared).ok_or_else(|| PeError::BadVersionBlock("unreadable root header".into()))?;
    if root.key != "VS_VERSION_INFO" {
        return Err(PeError::BadVersionBlock(format!("root key {:?}", root.key)));
    }

    let mut info = VersionInfo {
        fixed_file_version: String::new(),
        fixed_product_version: String::new(),
        translations: Vec::new(),
        string_tables: Vec::new(),
    };
    if root.value_len != 0 {
        let fixed_end = root.value_off.checked_add(FIXED_INFO_LEN).filter(|&e| e <= root.end);
        if root.value_len < FIXED_INFO_LEN || fixed_end.is_none() {
            return Err(PeError::BadVersionBlock(format!(
                "VS_FIXEDFILEINFO of {} bytes (need {FIXED_INFO_LEN})",
                root.value_len
            )));
        }
        let field = |i: usize| read_u32(buf, root.value_off.saturating_add(4 * i)).unwrap_or(0);
        if field(0) != FIXED_SIGNATURE {
            return Err(PeError::BadVersionBlock(format!(
                "VS_FIXEDFILEINFO signature {:#010x}",
                field(0)
            )));
        }
        info.fixed_file_version = fixed_version(field(2), field(3));
        info.fixed_product_version = fixed_version(field(4), field(5));
    }

    for_each_child(buf, root.children_off(root.value_len), root.end, |child| {
        if child.key.eq_ignore_ascii_case("StringFileInfo") {
            // StringFileInfo and StringTable carry no value by spec; skip whatever one claims.
            for_each_child(buf, child.children_off(child.value_len), child.end, |table| {
                let mut values = Vec::new();
                for_each_child(buf, table.children_off(table.value_len), table.end, |s| {
                    // wValueLength is unreliable (words vs bytes); the NUL inside the block is what counts.
                    let (value, _) = utf16_until_nul(buf, s.value_off, s.end);
                    values.push((s.key.clone(), value));
                });
                info.string_tables.push(StringTable {
                    key: table.key.clone(),
                    values,
                });
            });
        } else if child.key.eq_ignore_ascii_case("VarFileInfo") {
            for_each_child(buf, child.children_off(child.value_len), child.end, |var| {
                if !var.key.eq_ignore_ascii_case("Translation") {
                    return;
                }
                let value_end = var.value_off.saturating_add(var.value_len).min(var.end);
                if let Some(bytes) = buf.get(var.value_off..value_end) {
                    for pair in bytes.chunks_exact(4) {
                        let lang = read_u16(pair, 0).unwrap_or(0);
                        let cp = read_u16(pair, 2).unwrap_or(0);
                        info.translations.push((lang, cp));
                    }
                }
            });
        }
    });
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test-only serialiser for version blocks; lengths can be overridden to build broken input.
    #[derive(Clone, Default)]
    struct B {
        key: String,
        text: bool,
        value: Vec<u8>,
        children: Vec<B>,
        /// Overrides wLength.
        length: Option<u16>,
        /// Overrides wValueLength.
        value_length: Option<u16>,
        /// Omit the key's NUL terminator.
        no_key_nul: bool,
        /// Omit padding after the key.
        no_key_pad: bool,
    }

    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
    }

    fn pad(out: &mut Vec<u8>) {
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    impl B {
        fn new(key: &str) -> Self {
            B {
                key: key.into(),
                ..Default::default()
            }
        }
        fn string(key: &str, value: &str) -> Self {
            B {
                key: key.into(),
                text: true,
                value: utf16z(value),
                ..Default::default()
            }
        }
        fn child(mut self, c: B) -> Self {
            self.children.push(c);
            self
        }
        fn serialize(&self) -> Vec<u8> {
            let mut out = vec![0u8; BLOCK_HEADER_LEN];
            let mut key = utf16z(&self.key);
            if self.no_key_nul {
                key.truncate(key.len() - 2);
            }
            out.extend(key);
            if !self.no_key_pad {
                pad(&mut out);
            }
            out.extend(&self.value);
            for c in &self.children {
                pad(&mut out);
                out.extend(c.serialize());
            }
            let len = self.length.unwrap_or(out.len() as u16);
            let vlen = self.value_length.unwrap_or(if self.text {
                (self.value.len() / 2) as u16
            } else {
                self.value.len() as u16
            });
            out[0..2].copy_from_slice(&len.to_le_bytes());
            out[2..4].copy_from_slice(&vlen.to_le_bytes());
            out[4..6].copy_from_slice(&u16::from(self.text).to_le_bytes());
            out
        }
    }

    fn fixed(file: [u16; 4], product: [u16; 4]) -> Vec<u8> {
        let ms_ls = |v: [u16; 4]| {
            [
                (u32::from(v[0]) << 16) | u32::from(v[1]),
                (u32::from(v[2]) << 16) | u32::from(v[3]),
            ]
        };
        let mut words = vec![FIXED_SIGNATURE, 0x0001_0000];
        words.extend(ms_ls(file));
        words.extend(ms_ls(product));
        words.extend([0x3f, 0, 0x4, 0x1, 0, 0, 0]);
        words.into_iter().flat_map(u32::to_le_bytes).collect()
    }

    fn table(key: &str, pairs: &[(&str, &str)]) -> B {
        pairs.iter().fold(B::new(key), |t, (k, v)| t.child(B::string(k, v)))
    }

    fn translation(pairs: &[(u16, u16)]) -> B {
        let mut var = B::new("Translation");
        var.value = pairs
            .iter()
            .flat_map(|(l, c)| [l.to_le_bytes(), c.to_le_bytes()].concat())
            .collect();
        B::new("VarFileInfo").child(var)
    }

    fn root(fixed_value: Vec<u8>) -> B {
        let mut r = B::new("VS_VERSION_INFO");
        r.value = fixed_value;
        r
    }

    fn sample() -> B {
        root(fixed([2, 0, 1493, 2163], [2, 0, 1493, 2163]))
            .child(B::new("StringFileInfo").child(table(
                "040904b0",
                &[
                    ("CompanyName", "Microsoft Corporation"),
                    ("FileVersion", "2.00.1493.2150"),
                    ("ProductVersion", " 2.00.1493.2150 "),
                ],
            )))
            .child(translation(&[(0x0409, 1200)]))
    }

    #[test]
    fn fixed_and_string_versions_differ() {
        let info = parse_version_block(&sample().serialize()).unwrap();
        assert_eq!(info.fixed_file_version, "2.0.1493.2163");
        assert_eq!(info.fixed_product_version, "2.0.1493.2163");
        assert_eq!(info.string_file_version(), Some("2.00.1493.2150"));
        assert_eq!(info.string_product_version(), Some("2.00.1493.2150"));
        assert_eq!(info.value("companyname"), Some("Microsoft Corporation"));
        assert_eq!(info.translations, vec![(0x0409, 1200)]);
        assert_eq!(info.string_tables.len(), 1);
        assert_eq!(info.string_tables[0].key, "040904b0");
        assert_eq!(info.string_tables[0].values[2].1, " 2.00.1493.2150 ");
    }

    #[test]
    fn two_languages_keep_file_order() {
        let blk = root(fixed([1, 2, 3, 4], [5, 6, 7, 8]))
            .child(
                B::new("StringFileInfo")
                    .child(table("040904b0", &[("FileDescription", "Client"), ("FileVersion", "")]))
                    .child(table(
                        "040704b0",
                        &[("FileDescription", "Klient"), ("FileVersion", "1.2.3.4")],
                    )),
            )
            .child(translation(&[(0x0409, 1200), (0x0407, 1200)]));
        let info = parse_version_block(&blk.serialize()).unwrap();
        assert_eq!(info.fixed_file_version, "1.2.3.4");
        assert_eq!(info.fixed_product_version, "5.6.7.8");
        let keys: Vec<_> = info.string_tables.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["040904b0", "040704b0"]);
        assert_eq!(info.value("FileDescription"), Some("Client"));
        assert_eq!(info.string_tables[1].values[0].1, "Klient");
        // Blank FileVersion in the first table falls through to the second.
        assert_eq!(info.string_file_version(), Some("1.2.3.4"));
        assert_eq!(info.translations, vec![(0x0409, 1200), (0x0407, 1200)]);
    }

    #[test]
    fn custom_key_is_reported() {
        let blk = root(fixed([2, 0, 1380, 1123], [2, 0, 1380, 1123])).child(B::new("StringFileInfo").child(table(
            "040904b0",
            &[("SMSBuild", "1380"), ("FileVersion", "2.0.1380.1123")],
        )));
        let info = parse_version_block(&blk.serialize()).unwrap();
        assert_eq!(info.value("smsbuild"), Some("1380"));
        assert_eq!(info.value("Missing"), None);
        assert_eq!(info.string_file_version(), Some("2.0.1380.1123"));
    }

    #[test]
    fn value_length_in_bytes_is_tolerated() {
        let mut s = B::string("FileVersion", "4.5.6.7");
        s.value_length = Some(s.value.len() as u16); // bytes instead of words
        let blk = root(fixed([4, 5, 6, 7], [4, 5, 6, 7]))
            .child(B::new("StringFileInfo").child(B::new("040904b0").child(s).child(B::string("After", "x"))));
        let info = parse_version_block(&blk.serialize()).unwrap();
        assert_eq!(info.string_file_version(), Some("4.5.6.7"));
        assert_eq!(info.value("After"), Some("x"));
    }

    #[test]
    fn zero_length_child_stops_the_walk() {
        let mut zero = B::string("Ghost", "boo");
        zero.length = Some(0);
        let blk = root(fixed([1, 0, 0, 0], [1, 0, 0, 0])).child(
            B::new("StringFileInfo").child(
                B::new("040904b0")
                    .child(B::string("FileVersion", "1.0"))
                    .child(zero)
                    .child(B::string("Later", "never")),
            ),
        );
        let info = parse_version_block(&blk.serialize()).unwrap();
        assert_eq!(info.string_tables[0].values, vec![("FileVersion".into(), "1.0".into())]);
    }

    #[test]
    fn child_longer_than_parent_is_clamped_and_last() {
        let mut long = B::string("FileVersion", "9.9");
        long.length = Some(0xfff0);
        let blk = root(fixed([9, 9, 0, 0], [9, 9, 0, 0]))
            .child(B::new("StringFileInfo").child(B::new("040904b0").child(B::string("A", "a")).child(long)))
            .child(translation(&[(0x0409, 1252)]));
        let info = parse_version_block(&blk.serialize()).unwrap();
        assert_eq!(info.value("A"), Some("a"));
        assert_eq!(info.string_file_version(), Some("9.9"));
        // The table's own length still bounds it, so the sibling VarFileInfo is read.
        assert_eq!(info.translations, vec![(0x0409, 1252)]);
    }

    #[test]
    fn root_longer_than_data_is_truncated() {
        let mut bytes = sample().serialize();
        bytes.truncate(bytes.len() - 10);
        assert!(matches!(parse_version_block(&bytes), Err(PeError::Truncated(_))));
        assert!(matches!(parse_version_block(&[0x10]), Err(PeError::Truncated(_))));
        assert!(matches!(parse_version_block(&[]), Err(PeError::Truncated(_))));
    }

    #[test]
    fn odd_padding_does_not_break_the_walk() {
        // Key "Odd" + NUL ends at offset 14, so a correct writer pads to 16; this one does not.
        let mut s = B::string("Odd", "v");
        s.no_key_pad = true;
        let blk = root(fixed([1, 0, 0, 1], [1, 0, 0, 1]))
            .child(B::new("StringFileInfo").child(B::new("040904b0").child(s).child(B::string("Even", "w"))));
        let info = parse_version_block(&blk.serialize()).unwrap();
        assert_eq!(info.string_tables[0].values.len(), 2);
        assert_eq!(info.value("Even"), Some("w"));
        // Must not panic or loop whatever the reader makes of the unpadded value.
        let _ = info.value("Odd");
    }

    #[test]
    fn missing_nul_is_bounded_by_block() {
        let mut s = B::string("FileVersion", "");
        s.value = "3.1".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut nokey = B::string("NoNulKey", "");
        nokey.value.clear();
        nokey.no_key_nul = true;
        nokey.no_key_pad = true;
        let blk = root(fixed([3, 1, 0, 0], [3, 1, 0, 0])).child(
            B::new("StringFileInfo").child(B::new("040904b0").child(s).child(nokey).child(B::string("Next", "n"))),
        );
        let info = parse_version_block(&blk.serialize()).unwrap();
        // The unterminated value stops at its block's end; no bytes of the next block leak in.
        assert_eq!(info.string_file_version(), Some("3.1"));
        assert_eq!(info.value("Next"), Some("n"));
        assert!(info.string_tables[0]
            .values
            .iter()
            .any(|(k, v)| k == "NoNulKey" && v.is_empty()));
    }

    #[test]
    fn wrong_signature_is_rejected() {
        let mut f = fixed([1, 0, 0, 0], [1, 0, 0, 0]);
        f[0] ^= 0xff;
        let err = parse_version_block(&root(f).serialize()).unwrap_err();
        assert!(matches!(err, PeError::BadVersionBlock(_)), "{err:?}");
        let short = parse_version_block(&root(vec![0xbd, 0x04, 0xef, 0xfe]).serialize()).unwrap_err();
        assert!(matches!(short, PeError::BadVersionBlock(_)), "{short:?}");
    }

    #[test]
    fn wrong_root_key_and_no_fixed_info() {
        let err = parse_version_block(&B::new("NOT_VERSION").serialize()).unwrap_err();
        assert!(matches!(err, PeError::BadVersionBlock(_)));
        let info = parse_version_block(&root(Vec::new()).serialize()).unwrap();
        assert_eq!(info.fixed_file_version, "");
        assert!(info.string_tables.is_empty());
    }

    #[test]
    fn every_truncation_and_byte_flip_is_safe() {
        let bytes = sample().serialize();
        for cut in 0..bytes.len() {
            let _ = parse_version_block(&bytes[..cut]);
        }
        for i in 0..bytes.len() {
            for v in [0x00, 0x01, 0x06, 0x7f, 0xff] {
                let mut m = bytes.clone();
                m[i] = v;
                if let Ok(info) = parse_version_block(&m) {
                    let units: usize = info
                        .string_tables
                        .iter()
                        .flat_map(|t| std::iter::once(&t.key).chain(t.values.iter().flat_map(|(k, v)| [k, v])))
                        .map(|s| s.encode_utf16().count())
                        .sum();
                    assert!(units * 2 <= m.len());
                }
            }
        }
    }

    /// A reader whose reads fail from `fail_at` on, like a share that dies mid-read.
    struct DyingShare {
        data: std::io::Cursor<&'static [u8]>,
        fail_at: u64,
    }

    impl Read for DyingShare {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.data.position() >= self.fail_at {
                return Err(io::Error::other("the share went away"));
            }
            Read::read(&mut self.data, buf)
        }
    }

    impl Seek for DyingShare {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            Seek::seek(&mut self.data, pos)
        }
    }

    #[test]
    fn a_failed_read_is_an_io_error_not_a_malformed_image() {
        const IMAGE: &[u8] = include_bytes!("../../tests/fixtures/pe/clicore32.exe");
        let read = |fail_at| {
            read_version_info_from(
                DyingShare {
                    data: std::io::Cursor::new(IMAGE),
                    fail_at,
                },
                u64::MAX,
            )
        };
        let whole = read(u64::MAX).unwrap().unwrap();
        assert_eq!(whole.fixed_file_version, "2.0.1380.1123");
        // In the headers, and in the resource section (at 2560).
        for fail_at in [0, 0x80, 2560] {
            let err = read(fail_at).unwrap_err();
            assert_eq!(err.to_string(), "the share went away", "{fail_at}");
        }
    }

    #[test]
    fn ranges_beyond_the_limit_are_not_read() {
        const IMAGE: &[u8] = include_bytes!("../../tests/fixtures/pe/clicore32.exe");
        let result = read_version_info_from(std::io::Cursor::new(IMAGE), 512).unwrap();
        match result {
            Err(PeError::Malformed(reason)) => assert!(
                reason
                    .starts_with("resource directory: 944 bytes at RVA 0x4000, more than the parse limit of 512 bytes"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn looks_like_pe_checks_signature() {
        assert!(!looks_like_pe(b""));
        assert!(!looks_like_pe(b"MZ"));
        let mut d = vec![0u8; 0x48];
        d[..2].copy_from_slice(b"MZ");
        d[0x3c] = 0x40;
        d[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert!(looks_like_pe(&d));
        d[0x3c] = 0x46; // points past the end
        assert!(!looks_like_pe(&d));
        d[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(!looks_like_pe(&d));
        assert_eq!(read_version_info(b"hello"), Err(PeError::NotPe));
    }
}
