//! The walk of one share: every entry below its root, in a stable order,
//! with rows for what is not read (links, special files, errors).

use super::{Activity, Entry};
use crate::config::Config;
use crate::model::{FileKind, FileRecord, Location, Status, EXCLUDED_REASON};
use crate::names;
use crate::sms::layout;
use std::path::Path;
use walkdir::WalkDir;

/// Share-relative paths the user asked not to audit, matched without
/// regard to case or to `\` versus `/`.
struct Exclusions(Vec<glob::Pattern>);

impl Exclusions {
    fn new(patterns: &[String]) -> Exclusions {
        Exclusions(
            patterns
                .iter()
                .filter_map(|p| glob::Pattern::new(&p.replace('\\', "/")).ok())
                .collect(),
        )
    }

    fn matches(&self, relative: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let options = glob::MatchOptions {
            case_sensitive: false,
            require_literal_separator: false,
            require_literal_leading_dot: false,
        };
        let path = relative.replace('\\', "/");
        self.0.iter().any(|p| p.matches_with(&path, options))
    }
}

/// What a walk found besides the files it handed on.
#[derive(Default)]
pub(super) struct Walked {
    /// Rows for what is not read (links, special files, errors).
    pub rows: Vec<FileRecord>,
    /// Every folder listed, share-relative: an empty folder exists too.
    pub folders: Vec<String>,
}

/// Walks one location: hands each regular file to `on_file` as it is found.
pub(super) fn walk_location(
    location: &Location,
    path: &Path,
    config: &Config,
    activity: &Activity,
    on_file: &mut dyn FnMut(Entry),
) -> Walked {
    let mut folders = Vec::new();
    let exclude = Exclusions::new(&config.exclude);
    let mut rows = Vec::new();
    let mut walk = WalkDir::new(path).follow_links(false).min_depth(1).into_iter();
    while let Some(item) = walk.next() {
        activity.touch();
        if let Some(latency) = config.faults.latency {
            std::thread::sleep(latency);
        }
        match item {
            Ok(entry) => {
                let relative = names::share_relative(path, entry.path());
                let file_type = entry.file_type();
                // An excluded entry is a row, so what it hides is known.
                if exclude.matches(&relative) {
                    if file_type.is_dir() {
                        walk.skip_current_dir();
                    }
                    let kind = if file_type.is_dir() {
                        FileKind::Directory
                    } else {
                        layout::file_kind(location.kind, &relative)
                    };
                    rows.push(skipped(location, relative, kind, EXCLUDED_REASON));
                    continue;
                }
                if file_type.is_dir() {
                    folders.push(relative);
                    continue;
                }
                if file_type.is_symlink() {
                    rows.push(skipped(
                        location,
                        relative,
                        FileKind::Symlink,
                        "symbolic link, not followed",
                    ));
                } else if file_type.is_file() {
                    let kind = layout::file_kind(location.kind, &relative);
                    on_file(Entry {
                        path: entry.path().to_path_buf(),
                        relative,
                        metadata: entry.metadata().ok(),
                        kind,
                    });
                } else {
                    let what = special_kind(&file_type);
                    rows.push(skipped(
                        location,
                        relative,
                        FileKind::Special,
                        &format!("{what}, not a regular file"),
                    ));
                }
            }
            Err(err) => {
                let relative = err.path().map(|p| names::share_relative(path, p)).unwrap_or_default();
                let reason = match err.io_error() {
                    Some(io) => format!("cannot read: {io}"),
                    None => format!("cannot read: {err}"),
                };
                let kind = if err.loop_ancestor().is_some() {
                    FileKind::Symlink
                } else {
                    FileKind::Directory
                };
                rows.push(FileRecord::not_read(
                    &location.name,
                    relative,
                    kind,
                    Status::Unreadable,
                    reason,
                ));
            }
        }
    }
    Walked { rows, folders }
}

fn skipped(location: &Location, relative: String, kind: FileKind, reason: &str) -> FileRecord {
    FileRecord::not_read(&location.name, relative, kind, Status::Skipped, reason.to_string())
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_socket() {
        "socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_file_type: &std::fs::FileType) -> &'static str {
    "special file"
}
