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
    /// UTF-8 BOM, CRLF, cells (and parts of cells after a `,`, `;`, tab or
    /// line break) that could start a formula prefixed with `'`, bidi and
    /// invisible characters named (`<U+202E>`): safe to double-click open
    /// in Excel or LibreOffice, whatever separator they split it at.
    #[default]
    Spreadsheet,
    /// Plain RFC 4180: no BOM, CRLF, every value exactly as found.
    Machine,
}

/// Refuses an output folder (or a log file) inside an audited root: the
/// audit never writes to a share, and its reports would show up in its own
/// crawl. Compared by spelling and by identity, so a bind mount, a junction
/// or a second drive letter for a share is still the share.
pub(crate) fn check_outside_roots(out: &Path, roots: &[PathBuf]) -> Result<()> {
    let out_resolved = resolved(out);
    let out_and_ancestors: Vec<FolderId> = out_resolved.ancestors().filter_map(folder_id).collect();
    let mounts = mounts::Table::read();
    let out_in_filesystem = mounts.filesystem_path(&out_resolved);
    for root in roots {
        let root_resolved = resolved(root);
        let by_spelling = out_resolved.starts_with(&root_resolved);
        let by_identity = folder_id(root).is_some_and(|id| out_and_ancestors.contains(&id));
        // A bind mount of a folder below the root has none of the root's
        // folders among its ancestors; its place in the filesystem tells.
        let by_filesystem = match (&out_in_filesystem, mounts.filesystem_path(&root_resolved)) {
            (Some((out_device, out_path)), Some((root_device, root_path))) => {
                out_device == &root_device && out_path.starts_with(root_path)
            }
            _ => false,
        };
        if by_spelling || by_identity || by_filesystem {
            anyhow::bail!(
                "output folder {} is inside the audited root {}: smsaudit never writes to what it audits",
                out.display(),
                root.display()
            );
        }
    }
    Ok(())
}

/// Where a path is inside its filesystem, whichever mount shows it
/// (Linux's `/proc/self/mountinfo`); elsewhere nothing is known.
mod mounts {
    use std::path::{Path, PathBuf};

    struct Mount {
        device: String,
        /// The folder of the filesystem the mount shows: `/` for a plain
        /// mount, the source folder for a bind mount.
        root: PathBuf,
        mount_point: PathBuf,
    }

    pub(super) struct Table(Vec<Mount>);

    impl Table {
        #[cfg(target_os = "linux")]
        pub(super) fn read() -> Table {
            let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
            Table(text.lines().filter_map(parse).collect())
        }

        #[cfg(not(target_os = "linux"))]
        pub(super) fn read() -> Table {
            Table(Vec::new())
        }

        /// The device and the path inside it of an absolute, resolved
        /// path: the mount with the longest mount point holding it, the
        /// last mounted if several (it hides the others).
        pub(super) fn filesystem_path(&self, path: &Path) -> Option<(String, PathBuf)> {
            let mount = self
                .0
                .iter()
                .filter(|m| path.starts_with(&m.mount_point))
                .max_by_key(|m| m.mount_point.components().count())?;
            let rest = path.strip_prefix(&mount.mount_point).ok()?;
            Some((mount.device.clone(), mount.root.join(rest)))
        }
    }

    /// `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw`
    #[cfg(target_os = "linux")]
    fn parse(line: &str) -> Option<Mount> {
        let mut fields = line.split(' ');
        let device = fields.nth(2)?.to_string();
        let root = PathBuf::from(unescape(fields.next()?));
        let mount_point = PathBuf::from(unescape(fields.next()?));
        Some(Mount {
            device,
            root,
            mount_point,
        })
    }

    /// mountinfo writes space, tab, newline and backslash as `\040`-style
    /// octal escapes.
    #[cfg(target_os = "linux")]
    fn unescape(field: &str) -> String {
        use std::os::unix::ffi::OsStringExt;
        let bytes = field.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let octal = bytes
                .get(i + 1..i + 4)
                .and_then(|d| std::str::from_utf8(d).ok().and_then(|d| u8::from_str_radix(d, 8).ok()));
            match (bytes[i], octal) {
                (b'\\', Some(byte)) => {
                    out.push(byte);
                    i += 4;
                }
                (byte, _) => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        std::ffi::OsString::from_vec(out).to_string_lossy().into_owned()
    }

    #[cfg(all(test, target_os = "linux"))]
    mod tests {
        use super::*;

        #[test]
        fn a_bind_mount_maps_back_to_its_source_folder() {
            let table = Table(
                [
                    "22 1 8:1 / / rw - ext4 /dev/sda1 rw",
                    "40 22 8:1 /srv/estate/SRV/CAP_AB1 /mnt/my\\040alias rw - ext4 /dev/sda1 rw",
                ]
                .into_iter()
                .filter_map(parse)
                .collect(),
            );
            assert_eq!(
                table.filesystem_path(Path::new("/mnt/my alias/clicomp.box")),
                Some(("8:1".into(), PathBuf::from("/srv/estate/SRV/CAP_AB1/clicomp.box")))
            );
            assert_eq!(
                table.filesystem_path(Path::new("/srv/estate")),
                Some(("8:1".into(), PathBuf::from("/srv/estate")))
            );
            assert_eq!(unescape("a\\134b\\011"), "a\\b\t");
        }
    }
}

/// What makes a folder the same folder whatever path reaches it.
#[cfg(unix)]
type FolderId = (u64, u64);
#[cfg(windows)]
type FolderId = same_file::Handle;

/// Device and inode, from `stat`: nothing is opened, so a FIFO cannot block.
#[cfg(unix)]
fn folder_id(path: &Path) -> Option<FolderId> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Volume serial number and file index.
#[cfg(windows)]
fn folder_id(path: &Path) -> Option<FolderId> {
    same_file::Handle::from_path(path).ok()
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

/// A file created in `dir` under a random name beginning `.{name}.`, with
/// `O_CREAT|O_EXCL` (`CREATE_NEW`): whatever another account planted in the
/// folder (a link, a FIFO) makes the creation pick another name, and is
/// never opened.
fn exclusive_temp_file(dir: &Path, name: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Reports are as readable as any file the user creates (umask), not
    // private like a temporary file.
    #[cfg(unix)]
    let permissions = std::os::unix::fs::PermissionsExt::from_mode(0o666);
    #[cfg(unix)]
    builder.permissions(permissions);
    builder.tempfile_in(dir)
}

/// Creates the output folder and proves it is writable, before any crawl.
pub(crate) fn prepare_output(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    // Dropping the probe removes it.
    exclusive_temp_file(dir, "smsaudit-write-test")
        .with_context(|| format!("output folder {} is not writable", dir.display()))?;
    Ok(())
}

/// Checks before the crawl that the log can be written where `path` says:
/// its folder exists, and what is there now, if anything, is a regular file
/// (a link, a FIFO or a device is refused, never written through).
pub(crate) fn check_log_file(path: &Path) -> Result<()> {
    let (dir, _) = log_folder_and_name(path)?;
    if !dir.is_dir() {
        anyhow::bail!(
            "cannot write log {}: folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => anyhow::bail!(
            "log {} exists and is not a regular file (a link, a FIFO, a folder...): smsaudit replaces only a regular file",
            path.display()
        ),
        _ => Ok(()),
    }
}

/// Writes the log like a report: a new file renamed onto `path`, which
/// replaces a link planted there since [`check_log_file`], not its target.
pub(crate) fn write_log(path: &Path, text: &str) -> Result<()> {
    let (dir, name) = log_folder_and_name(path)?;
    write_atomically(&dir, &name, text.as_bytes())
        .map(|_| ())
        .with_context(|| format!("cannot write log {}", path.display()))
}

fn log_folder_and_name(path: &Path) -> Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("--log {}: not a file name", path.display()))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_string()))
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    write_atomically_with(dir, name, |out| Ok(out.write_all(bytes)?))
}

/// Streams a report into `dir/name` through a buffered temporary file
/// (see [`exclusive_temp_file`]) and a rename, so a large report never has
/// to be held in memory whole. The rename replaces whatever is at
/// `dir/name`, a planted link included, and never writes through it.
pub(crate) fn write_atomically_with(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<PathBuf> {
    let target = dir.join(name);
    // On error the temporary file is dropped, which removes it.
    let result = (|| -> Result<()> {
        let temp = exclusive_temp_file(dir, name)?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, temp);
        write(&mut out)?;
        let temp = out.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        temp.persist(&target).map_err(|e| e.error)?;
        Ok(())
    })();
    if let Err(err) = result {
        remove_stale(&target);
        return Err(err).with_context(|| format!("cannot write {}", target.display()));
    }
    Ok(target)
}

/// After a failed write, removes the file an earlier run left under that
/// name, so it cannot pass for this run's. Only a regular file: a link is
/// left alone like everything else this run did not write.
fn remove_stale(target: &Path) {
    if fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_file()) {
        let _ = fs::remove_file(target);
    }
}

/// One kind of report file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportFormat {
    /// matrix.csv, files.csv, findings.csv, causes.csv.
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

/// What [`write_selected`] did: the files written, and the errors of those
/// it could not write.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) failures: Vec<anyhow::Error>,
}

/// Writes the reports of the given formats, each file on its own: one that
/// cannot be written is recorded in [`Written::failures`] and the others
/// are still written.
pub(crate) fn write_selected(audit: &Audit, dir: &Path, flavor: CsvFlavor, formats: &[ReportFormat]) -> Written {
    let mut done = Written::default();
    let mut record = |result: Result<PathBuf>| match result {
        Ok(path) => done.files.push(path),
        Err(err) => done.failures.push(err),
    };
    let built = |name: &str, bytes: Result<Vec<u8>>| match bytes {
        Ok(bytes) => write_atomically(dir, name, &bytes),
        Err(err) => {
            remove_stale(&dir.join(name));
            Err(err).with_context(|| format!("cannot write {}", dir.join(name).display()))
        }
    };
    for format in ReportFormat::ALL.into_iter().filter(|f| formats.contains(f)) {
        match format {
            ReportFormat::Csv => {
                record(built("matrix.csv", csv::matrix(audit, flavor)));
                record(write_atomically_with(dir, "files.csv", |out| {
                    csv::files_to(audit, flavor, out)
                }));
                record(built("findings.csv", csv::findings(audit, flavor)));
                record(built("causes.csv", csv::causes(audit, flavor)));
                if let Some(symptoms) = &audit.symptoms {
                    record(built("symptoms.csv", csv::symptoms(symptoms, flavor)));
                }
                if let Some(plan) = &audit.upgrade {
                    record(built("upgrade.csv", csv::upgrade(plan, flavor)));
                }
                if let Some(drift) = &audit.drift {
                    record(built("drift.csv", csv::drift(drift, flavor)));
                }
            }
            ReportFormat::Json => record(write_atomically_with(dir, "audit.json", |out| json::write(audit, out))),
            ReportFormat::Xlsx => record(built("audit.xlsx", xlsx::audit(audit))),
            ReportFormat::Html => record(write_atomically(dir, "report.html", &html::audit(audit))),
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_neither_temporary_file_nor_an_earlier_report() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("audit.json"), "an earlier run").unwrap();
        let result = write_atomically_with(dir.path(), "audit.json", |out| {
            out.write_all(b"half")?;
            anyhow::bail!("disk full")
        });
        assert!(format!("{:#}", result.unwrap_err()).contains("disk full"));
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn report_temporary_names_are_random_and_created_exclusively() {
        let dir = tempfile::tempdir().unwrap();
        let first = exclusive_temp_file(dir.path(), "audit.json").unwrap();
        let second = exclusive_temp_file(dir.path(), "audit.json").unwrap();
        assert_ne!(first.path(), second.path());
        let name = first.path().file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".audit.json.") && name.ends_with(".tmp"), "{name}");
    }
}
