//! `audit.json`: the whole audit in one document (schema in the README).

use crate::audit::Audit;
use anyhow::Result;

pub fn audit(audit: &Audit) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(audit)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Streams [`audit`]'s bytes into `out`, without building them in memory.
pub fn write(audit: &Audit, out: &mut dyn std::io::Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, audit)?;
    out.write_all(b"\n")?;
    Ok(())
}
