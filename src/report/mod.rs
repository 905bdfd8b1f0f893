//! Report writers, one module per format, and the machinery that puts
//! them in place: a run's reports are written as one set, all or nothing
//! ([`set`]), in an output folder locked for the run ([`lock_output`]).

pub mod csv;
pub mod html;
pub(crate) mod json;
pub(crate) mod palette;
mod set;
pub mod xlsx;

use set::{Job, ReportOut};

use crate::audit::Audit;
use anyhow::{Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// The name (after a dot, before a random part) of the file that proves the
/// output folder writable.
const WRITE_PROBE: &str = "smsaudit-write-test";

/// The file in the output folder whose lock says a run is writing there.
pub(crate) const LOCK_FILE: &str = ".smsaudit.lock";

/// Creates the output folder and proves it is writable, before any crawl.
pub(crate) fn prepare_output(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    // Dropping the probe removes it.
    crate::interrupt::Temp::create(|| exclusive_temp_file(dir, WRITE_PROBE))
        .with_context(|| format!("output folder {} is not writable", dir.display()))?;
    Ok(())
}

/// Held for a whole run: one run at a time per output folder.
pub(crate) struct OutputLock {
    _file: fs::File,
}

/// Takes the output folder for this run, or fails at once when another
/// smsaudit run has it. The lock is the operating system's (`flock`,
/// `LockFileEx`) on [`LOCK_FILE`], so it ends with the process however that
/// ends; the file is opened only if it is a regular file, never through a
/// link. Then removes what a run cut by a crash left behind.
pub(crate) fn lock_output(dir: &Path) -> Result<OutputLock> {
    let path = dir.join(LOCK_FILE);
    let file = match open_lock_file(&path) {
        Ok(file) if file.metadata().is_ok_and(|m| m.is_file()) => file,
        Ok(_) => anyhow::bail!(
            "lock file {} is not a regular file (a FIFO, a folder...): smsaudit locks only a file it created; remove it",
            path.display()
        ),
        Err(_) if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) => anyhow::bail!(
            "lock file {} is a link: smsaudit never opens its lock file through a link; remove it",
            path.display()
        ),
        Err(err) => return Err(err).with_context(|| format!("cannot open lock file {}", path.display())),
    };
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => anyhow::bail!(
            "output folder {} is in use: another smsaudit run holds its lock ({}); wait for that run to end, or give another --out",
            dir.display(),
            path.display()
        ),
        Err(fs4::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
    set::sweep_leftovers(dir);
    Ok(OutputLock { _file: file })
}

/// Opened without following a link, without blocking on a FIFO.
#[cfg(unix)]
fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Opens a reparse point (a symbolic link, a junction) itself, not its
/// target, and refuses it.
#[cfg(windows)]
fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT;
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)?;
    if file.metadata()?.file_type().is_symlink() {
        return Err(std::io::Error::other("a link"));
    }
    Ok(file)
}

/// Gets the log's place ready: creates its missing folders, one at a time
/// (a name that turns up meanwhile must be a folder, not a link), and checks
/// that what is at `path` now, if anything, is a regular file (a link, a
/// FIFO or a device is refused, never written through). Call it only once
/// the log is known to be outside the audited roots.
pub(crate) fn prepare_log(path: &Path) -> Result<()> {
    let (dir, _) = log_folder_and_name(path)?;
    create_folders(&dir)
        .with_context(|| format!("cannot create the folder {} of log {}", dir.display(), path.display()))?;
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => anyhow::bail!(
            "log {} exists and is not a regular file (a link, a FIFO, a folder...): smsaudit replaces only a regular file",
            path.display()
        ),
        _ => Ok(()),
    }
}

fn create_folders(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut existing = Some(dir);
    while let Some(folder) = existing.filter(|f| !f.as_os_str().is_empty() && fs::symlink_metadata(f).is_err()) {
        missing.push(folder);
        existing = folder.parent();
    }
    for folder in missing.into_iter().rev() {
        match fs::create_dir(folder) {
            Ok(()) => {}
            Err(err)
                if err.kind() == std::io::ErrorKind::AlreadyExists
                    && fs::symlink_metadata(folder).is_ok_and(|m| m.file_type().is_dir()) => {}
            Err(err) => return Err(err),
        }
    }
    if !dir.as_os_str().is_empty() && !dir.is_dir() {
        return Err(std::io::Error::other("not a folder"));
    }
    Ok(())
}

/// Whether `path` is inside one of `roots` by spelling alone: for a log
/// written before the roots were looked at (the run was refused before
/// discovery), when touching a root could hang.
pub(crate) fn inside_roots_by_spelling(path: &Path, roots: &[PathBuf]) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let path = absolute(path);
    roots.iter().any(|root| path.starts_with(absolute(root)))
}

/// Writes the log like a report: a new file renamed onto `path`, which
/// replaces a link planted there since [`prepare_log`], not its target.
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

/// Writes the reports of the given formats into `dir` as one set, all or
/// nothing ([`set`]): returns the files put in place, the manifest last. On
/// error the previous reports in `dir` are as they were.
pub(crate) fn write_selected(
    audit: &Audit,
    dir: &Path,
    flavor: CsvFlavor,
    formats: &[ReportFormat],
    pause: Option<&crate::config::Pause>,
) -> Result<Vec<PathBuf>> {
    let jobs = report_jobs(audit, flavor, formats);
    set::write_set(audit, dir, jobs, pause)
}

/// What writes each report of the given formats, in [`set::REPORT_NAMES`] order.
fn report_jobs<'a>(audit: &'a Audit, flavor: CsvFlavor, formats: &[ReportFormat]) -> Vec<Job<'a>> {
    fn job<'a>(name: &'static str, write: impl FnOnce(&mut dyn ReportOut) -> Result<()> + Send + 'a) -> Job<'a> {
        Job {
            name,
            write: Box::new(write),
        }
    }
    let mut jobs = Vec::new();
    for format in ReportFormat::ALL.into_iter().filter(|f| formats.contains(f)) {
        match format {
            ReportFormat::Csv => {
                jobs.push(job("matrix.csv", move |out| {
                    Ok(out.write_all(&csv::matrix(audit, flavor)?)?)
                }));
                jobs.push(job("files.csv", move |out| csv::files_to(audit, flavor, out)));
                jobs.push(job("findings.csv", move |out| {
                    Ok(out.write_all(&csv::findings(audit, flavor)?)?)
                }));
                jobs.push(job("causes.csv", move |out| {
                    Ok(out.write_all(&csv::causes(audit, flavor)?)?)
                }));
                if let Some(symptoms) = &audit.symptoms {
                    jobs.push(job("symptoms.csv", move |out| {
                        Ok(out.write_all(&csv::symptoms(symptoms, flavor)?)?)
                    }));
                }
                if let Some(plan) = &audit.upgrade {
                    jobs.push(job("upgrade.csv", move |out| {
                        Ok(out.write_all(&csv::upgrade(plan, flavor)?)?)
                    }));
                }
                if let Some(drift) = &audit.drift {
                    jobs.push(job("drift.csv", move |out| {
                        Ok(out.write_all(&csv::drift(drift, flavor)?)?)
                    }));
                }
            }
            ReportFormat::Json => jobs.push(job("audit.json", |out| json::write(audit, out))),
            ReportFormat::Xlsx => jobs.push(job("audit.xlsx", |out| xlsx::write(audit, out))),
            ReportFormat::Html => jobs.push(job("report.html", |out| Ok(out.write_all(&html::audit(audit)?)?))),
        }
    }
    jobs
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

    /// Written at once or one after the other, the set is the same, byte
    /// for byte, manifest included.
    #[test]
    fn a_set_written_on_many_threads_is_the_set_written_on_one() {
        let shares = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-shares");
        let audit = crate::run_audit(&crate::Config::new(vec![shares]));
        assert!(audit.files.len() > 10, "the sample estate has files");
        let write = |threads: usize| {
            let dir = tempfile::tempdir().unwrap();
            let jobs = report_jobs(&audit, CsvFlavor::Spreadsheet, &ReportFormat::ALL);
            set::write_set_on(&audit, dir.path(), jobs, None, threads).unwrap();
            let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap())
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        fs::read(e.path()).unwrap(),
                    )
                })
                .collect();
            files.sort();
            files
        };
        let one = write(1);
        let names: Vec<&str> = one.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "audit.json",
                "audit.xlsx",
                "causes.csv",
                "files.csv",
                "findings.csv",
                "manifest.json",
                "matrix.csv",
                "report.html"
            ]
        );
        assert_eq!(write(4), one);
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
