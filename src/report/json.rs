//! `audit.json`: the whole audit in one document (schema in the README).

use crate::audit::Audit;
use anyhow::Result;

/// Streams audit.json into `out`, without building it in memory.
pub(crate) fn write(audit: &Audit, out: &mut dyn std::io::Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, audit)?;
    out.write_all(b"\n")?;
    Ok(())
}
