//! `audit.json`: the whole audit in one document (schema in docs/reference.md).
//!
//! The document is serde_json's pretty printing of [`Audit`], but for the
//! `files` array (every record, most of the document): one record a line,
//! as serde_json writes it compactly, so that `grep` finds a file's whole
//! record and the file is a fifth smaller (35 MB instead of 45 at 100,000
//! files). The array is written here rather than through serde, at a third
//! of the cost: each field straight to the buffer, each string copied
//! whole unless it needs escaping.

use crate::audit::{Audit, FileRecords};
use crate::model::FileRecord;
use anyhow::Result;
use serde::ser::{self, Impossible, Serialize};
use serde_json::ser::{Formatter, PrettyFormatter};
use std::io::{self, Write};

/// Streams audit.json into `out`, without building it in memory.
pub(crate) fn write(audit: &Audit, out: &mut dyn Write) -> Result<()> {
    // serde_json writes a value a few bytes at a time: gathered here, they
    // cross `dyn Write` once per 64 KiB.
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    audit.serialize(TopLevel {
        out: &mut out,
        files: &audit.files,
    })?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Takes the audit's fields one by one: each pretty printed by serde_json
/// one level in, but `files`, written by [`write_files`].
struct TopLevel<'a, W> {
    out: &'a mut W,
    files: &'a FileRecords,
}

struct Fields<'a, W> {
    out: &'a mut W,
    files: &'a FileRecords,
    first: bool,
}

impl<W: Write> ser::SerializeStruct for Fields<'_, W> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Self::Error> {
        let out = &mut *self.out;
        out.write_all(if self.first { b"\n  " } else { b",\n  " })
            .map_err(serde_json::Error::io)?;
        self.first = false;
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b": ").map_err(serde_json::Error::io)?;
        if key == "files" {
            return write_files(out, self.files).map_err(serde_json::Error::io);
        }
        // serde_json's own pretty printing, started one level in: the value
        // of a top-level field.
        let mut one_level_in = PrettyFormatter::new();
        one_level_in
            .begin_object(&mut io::sink())
            .map_err(serde_json::Error::io)?;
        value.serialize(&mut serde_json::Serializer::with_formatter(out, one_level_in))
    }

    fn end(self) -> Result<(), Self::Error> {
        self.out
            .write_all(if self.first { b"{}" } else { b"\n}" })
            .map_err(serde_json::Error::io)
    }
}

/// The `files` array, the value of a top-level field: each record on a line
/// of its own, two levels in, as serde_json writes it compactly; its status
/// the one reports show.
fn write_files<W: Write>(out: &mut W, files: &FileRecords) -> io::Result<()> {
    let mut first = true;
    files.visit(
        |err| err,
        |record| {
            out.write_all(if first { b"[\n    {" } else { b",\n    {" })?;
            first = false;
            // Every field named: a field added to FileRecord does not
            // compile here until it is written too.
            let FileRecord {
                location,
                path,
                size,
                modified,
                sha256,
                kind,
                version,
                version_source,
                string_version,
                status,
                reason,
            } = record;
            field(out, "location", true)?;
            text(out, location)?;
            field(out, "path", false)?;
            text(out, path)?;
            field(out, "size", false)?;
            match size {
                Some(size) => serde_json::to_writer(&mut *out, size).map_err(io::Error::other)?,
                None => out.write_all(b"null")?,
            }
            field(out, "modified", false)?;
            optional_text(out, modified.as_deref())?;
            field(out, "sha256", false)?;
            optional_text(out, sha256.map(|digest| digest.hex()).as_ref().map(|hex| hex.as_str()))?;
            field(out, "kind", false)?;
            serde_json::to_writer(&mut *out, kind).map_err(io::Error::other)?;
            field(out, "version", false)?;
            optional_text(out, version.as_deref())?;
            field(out, "version_source", false)?;
            optional_text(out, version_source.as_deref())?;
            field(out, "string_version", false)?;
            optional_text(out, string_version.as_deref())?;
            field(out, "status", false)?;
            serde_json::to_writer(&mut *out, &status.reported()).map_err(io::Error::other)?;
            field(out, "reason", false)?;
            text(out, reason)?;
            out.write_all(b"}")
        },
    )?;
    out.write_all(if first { b"[]" } else { b"\n  ]" })
}

/// A record's key, as serde_json writes it compactly.
fn field<W: Write>(out: &mut W, key: &str, first: bool) -> io::Result<()> {
    out.write_all(if first { b"\"" } else { b",\"" })?;
    out.write_all(key.as_bytes())?;
    out.write_all(b"\":")
}

/// A string as serde_json writes it: as it is between quotes, unless it
/// holds a byte serde_json escapes (a quote, a backslash, a control
/// character), then through serde_json.
fn text<W: Write>(out: &mut W, value: &str) -> io::Result<()> {
    if value.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        return serde_json::to_writer(out, value).map_err(io::Error::other);
    }
    out.write_all(b"\"")?;
    out.write_all(value.as_bytes())?;
    out.write_all(b"\"")
}

fn optional_text<W: Write>(out: &mut W, value: Option<&str>) -> io::Result<()> {
    match value {
        Some(value) => text(out, value),
        None => out.write_all(b"null"),
    }
}

/// What the audit is not: only a struct is written at the top level.
fn not_a_struct() -> serde_json::Error {
    ser::Error::custom("audit.json holds one object")
}

macro_rules! refuse {
    ($($method:ident($($ty:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $ty),*) -> Result<(), serde_json::Error> {
            Err(not_a_struct())
        })*
    };
}

impl<'a, W: Write> ser::Serializer for TopLevel<'a, W> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<(), serde_json::Error>;
    type SerializeTuple = Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = Impossible<(), serde_json::Error>;
    type SerializeMap = Impossible<(), serde_json::Error>;
    type SerializeStruct = Fields<'a, W>;
    type SerializeStructVariant = Impossible<(), serde_json::Error>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'a, W>, serde_json::Error> {
        self.out.write_all(b"{").map_err(serde_json::Error::io)?;
        Ok(Fields {
            out: self.out,
            files: self.files,
            first: true,
        })
    }

    refuse!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<(), serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, serde_json::Error> {
        Err(not_a_struct())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, serde_json::Error> {
        Err(not_a_struct())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileKind, Status};

    /// audit.json is byte for byte serde_json's pretty printing of the
    /// audit but for its files, each record one line as serde_json writes it
    /// compactly, whatever the records hold: every field set or none,
    /// strings to escape (quotes, backslashes, control characters),
    /// non-ASCII, the statuses reports show; and with no record at all.
    #[test]
    fn audit_json_is_serde_jsons_pretty_printing_with_a_record_a_line() {
        let mut full = FileRecord::not_read(
            r"\\SRV01\CAP_A01",
            "clicomp.box\\\"odd\"\n\u{1}é.exe".into(),
            FileKind::Binary,
            Status::Excluded,
            "tab\there, \u{7f} and \u{2028}".into(),
        );
        full.size = Some(u64::MAX);
        full.modified = Some("2026-11-24T16:26:00Z".into());
        full.sha256 = Some(crate::model::Sha256Digest([0xab; 32]));
        full.version = Some("2.00.1493.3004".into());
        full.version_source = Some("PE FileVersion".into());
        full.string_version = Some("2.00.1493.3004 (SP1) \\ \"x\"".into());
        let mut bare = FileRecord::not_read("L0", "a".into(), FileKind::Other, Status::NoAnswer, String::new());
        bare.size = Some(0);
        let plain = FileRecord::not_read("L1", "p".into(), FileKind::Directory, Status::Ok, String::new());
        let same = |audit: &Audit| {
            let mut ours = Vec::new();
            write(audit, &mut ours).unwrap();
            let ours = String::from_utf8(ours).unwrap();
            // The same JSON value as serde_json's.
            let value: serde_json::Value = serde_json::from_str(&ours).unwrap();
            assert_eq!(value, serde_json::to_value(audit).unwrap());
            // The same bytes as its pretty printing once each record of
            // that is made one compact line: `"key": value` lines joined as
            // `"key":value`.
            let pretty = String::from_utf8(serde_json::to_vec_pretty(audit).unwrap()).unwrap() + "\n";
            let (start, end) = match pretty.find("\n  \"files\": [\n") {
                Some(at) => {
                    let start = at + "\n  \"files\": [\n".len();
                    (start, start + pretty[start..].find("\n  ]").unwrap())
                }
                None => (0, 0),
            };
            let mut records = Vec::new();
            for line in pretty[start..end].lines() {
                match line {
                    "    {" => records.push(String::from("    {")),
                    "    }" | "    }," => records.last_mut().unwrap().push('}'),
                    field => {
                        let (key, value) = field.trim_start().split_once("\": ").unwrap();
                        records.last_mut().unwrap().push_str(&format!("{key}\":{value}"));
                    }
                }
            }
            let want = format!("{}{}{}", &pretty[..start], records.join(",\n"), &pretty[end..]);
            assert_eq!(ours, want);
            assert_eq!(
                ours.lines()
                    .filter(|line| line.starts_with("    {\"location\":"))
                    .count(),
                audit.files.len() as usize,
                "a record a line"
            );
        };
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-shares");
        let mut audit = crate::run_audit(&crate::Config::new(vec![sample]));
        assert!(audit.files.len() > 10 && !audit.findings.is_empty());
        same(&audit);
        for records in [vec![full, bare, plain.clone()], vec![plain], vec![]] {
            audit.files = FileRecords::from_vec(records);
            same(&audit);
        }
    }
}
