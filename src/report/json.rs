//! `audit.json`: the whole audit in one document (schema in docs/reference.md).

use crate::audit::Audit;
use anyhow::Result;
use std::io::Write;

/// Streams audit.json into `out`, without building it in memory.
pub(crate) fn write(audit: &Audit, out: &mut dyn Write) -> Result<()> {
    // serde_json writes a value a few bytes at a time: gathered here, they
    // cross `dyn Write` once per 64 KiB.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    serde_json::to_writer_pretty(&mut out, audit)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
