//! Report writers, one module per format. Every file is written to a
//! temporary name in the output folder and renamed when complete, so a
//! crash never leaves half a report.

pub mod csv;
pub mod html;
pub(crate) mod json;
pub(crate) mod palette;
pub mod xlsx;

use crate::audit::Audit;
use anyhow::{Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The columns of files.csv and of the Files sheet, in order.
pub(crate) const FILE_COLUMNS: [&str; 11] = [
    "location",
    "path",
    "size",
    "modified",
    "sha256",
    "kind",
    "version",
    "version_source",
    "string_version",
    "status",
    "reason",
];

/// The CSV dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvFlavor {
    /// UTF-8 BOM, CRLF, cells that could start a formula prefixed with `'`:
    /// safe to double-click open in Excel or LibreOffice.
    #[default]
    Spreadsheet,
    /// Plain RFC 4180: no BOM, CRLF, every value exactly as found.
    Machine,
}

/// Refuses an output folder inside an audited root: the audit never writes
/// to a share, and its reports would show up in its own crawl.
pub(crate) fn check_outside_roots(out: &Path, roots: &[PathBuf]) -> Result<()> {
    let out = resolved(out);
    for root in roots {
        let root_resolved = resolved(root);
        if out.starts_with(&root_resolved) {
            anyhow::bail!(
                "output folder {} is inside the audited root {}: smsaudit never writes to what it audits",
                out.display(),
                root.display()
            );
        }
    }
    Ok(())
}

/// An absolute path with links resolved as far as it exists, so two
/// spellings of one folder compare equal.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
    let mut result = fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
    result.extend(rest.iter().rev());
    result
}

/// Creates the output folder and proves it is writable, before any crawl.
pub(crate) fn prepare_output(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let probe = dir.join(".smsaudit-write-test");
    fs::write(&probe, b"").with_context(|| format!("output folder {} is not writable", dir.display()))?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    write_atomically_with(dir, name, |out| Ok(out.write_all(bytes)?))
}

/// Streams a report into `dir/name` through a buffered temporary file and a
/// rename, so a large report never has to be held in memory whole.
pub(crate) fn write_atomically_with(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<PathBuf> {
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> Result<()> {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, fs::File::create(&temp)?);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&temp, &target)?;
        Ok(())
    })();
    if let Err(err) = result {
        let _ = fs::remove_file(&temp);
        return Err(err).with_context(|| format!("cannot write {}", target.display()));
    }
    Ok(target)
}

/// One kind of report file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportFormat {
    /// matrix.csv, files.csv, findings.csv.
    Csv,
    /// audit.json.
    Json,
    /// audit.xlsx.
    Xlsx,
    /// report.html.
    Html,
}

impl ReportFormat {
    pub(crate) const ALL: [ReportFormat; 4] = [
        ReportFormat::Csv,
        ReportFormat::Json,
        ReportFormat::Xlsx,
        ReportFormat::Html,
    ];
}

/// Writes the reports of the given formats. Returns the paths written.
pub(crate) fn write_selected(
    audit: &Audit,
    dir: &Path,
    flavor: CsvFlavor,
    formats: &[ReportFormat],
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for format in ReportFormat::ALL.into_iter().filter(|f| formats.contains(f)) {
        match format {
            ReportFormat::Csv => {
                written.push(write_atomically(dir, "matrix.csv", &csv::matrix(audit, flavor)?)?);
                written.push(write_atomically_with(dir, "files.csv", |out| {
                    csv::files_to(audit, flavor, out)
                })?);
                written.push(write_atomically(dir, "findings.csv", &csv::findings(audit, flavor)?)?);
                if let Some(plan) = &audit.upgrade {
                    written.push(write_atomically(dir, "upgrade.csv", &csv::upgrade(plan, flavor)?)?);
                }
                if let Some(drift) = &audit.drift {
                    written.push(write_atomically(dir, "drift.csv", &csv::drift(drift, flavor)?)?);
                }
            }
            ReportFormat::Json => {
                written.push(write_atomically_with(dir, "audit.json", |out| json::write(audit, out))?)
            }
            ReportFormat::Xlsx => written.push(write_atomically(dir, "audit.xlsx", &xlsx::audit(audit)?)?),
            ReportFormat::Html => written.push(write_atomically(dir, "report.html", &html::audit(audit))?),
        }
    }
    Ok(written)
}
