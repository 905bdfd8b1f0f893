//! The walk of one share: every entry below its root, in a stable order,
//! with rows for what is not read (links, special files, mount points,
//! errors). Folders and files are opened relative to handles
//! ([`handles`]), never by re-resolving a path, so nothing outside the
//! share is ever listed as part of it or read.

pub(super) mod handles;

use super::Activity;
use crate::config::Config;
use crate::model::{FileKind, FileRecord, Location, Status, EXCLUDED_REASON};
use crate::names::{self, Escapes};
use crate::sms::layout;
use handles::{EntryType, Folder, Listed};
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The reason on the row of a folder that is the root of another mount.
const MOUNT_POINT_REASON: &str = "mount point (another file system), not walked";

/// A regular file found by the walk, before it is read: the read opens it
/// from `parent`, the folder handle the walk listed it in.
pub(crate) struct Entry {
    pub(super) parent: Arc<Folder>,
    pub(super) name: OsString,
    pub(super) relative: String,
    pub(super) listed: Listed,
    pub(super) kind: FileKind,
    /// What its path had to escape, for the row's reason.
    pub(super) escapes: Escapes,
}

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
pub(crate) struct Walked {
    /// Rows for what is not read (links, special files, errors).
    pub rows: Vec<FileRecord>,
    /// Every folder listed, share-relative: an empty folder exists too.
    pub folders: Vec<String>,
    /// Why the share root itself could not be opened or listed: then
    /// nothing of the share was checked.
    pub root_error: Option<String>,
}

/// A folder being listed: its handle, path and the names left to visit.
struct Frame {
    folder: Arc<Folder>,
    relative: String,
    escapes: Escapes,
    names: std::vec::IntoIter<OsString>,
}

/// Walks one location: hands each regular file to `on_file` as it is found.
pub(crate) fn walk_location(
    location: &Location,
    path: &Path,
    config: &Config,
    activity: &Activity,
    on_file: &mut dyn FnMut(Entry),
) -> Walked {
    raise_open_file_limit();
    let touch = &|| activity.touch();
    let mut walked = Walked::default();
    let exclude = Exclusions::new(&config.exclude);
    pause(config, activity);
    let (root, root_listed) = match retry_transient(touch, || handles::open_root(path)) {
        Ok(opened) => opened,
        Err(err) => {
            walked.root_error = Some(format!("cannot open the share: {err}"));
            return walked;
        }
    };
    let names = match retry_transient(touch, || handles::list(&root)) {
        Ok(names) => names,
        Err(err) => {
            walked.root_error = Some(format!("cannot list the share: {err}"));
            return walked;
        }
    };
    let mut stack = vec![Frame {
        folder: Arc::new(root),
        relative: String::new(),
        escapes: Escapes::default(),
        names: names.into_iter(),
    }];
    while let Some(frame) = stack.last_mut() {
        let Some(name) = frame.names.next() else {
            stack.pop();
            continue;
        };
        pause(config, activity);
        let (escaped, own_escapes) = names::escape_name(&name);
        let relative = names::join_relative(&frame.relative, &escaped);
        let escapes = frame.escapes.with(own_escapes);
        let row = |kind, status, reason: &str| {
            FileRecord::not_read(
                &location.name,
                relative.clone(),
                kind,
                status,
                with_note(reason, escapes),
            )
        };
        let listed = match retry_transient(touch, || handles::stat_entry(&frame.folder, &name)) {
            Ok(listed) => listed,
            Err(err) => {
                let kind = layout::file_kind(location.kind, &relative);
                walked
                    .rows
                    .push(row(kind, Status::Unreadable, &format!("cannot read: {err}")));
                continue;
            }
        };
        // An excluded entry is a row, so what it hides is known.
        if exclude.matches(&relative) {
            let kind = if listed.kind == EntryType::Folder {
                FileKind::Directory
            } else {
                layout::file_kind(location.kind, &relative)
            };
            walked.rows.push(row(kind, Status::Skipped, EXCLUDED_REASON));
            continue;
        }
        let mount_point = listed.mount_root || listed.identity.other_file_system(&root_listed.identity);
        match listed.kind {
            EntryType::Folder => {
                walked.folders.push(relative.clone());
                if mount_point {
                    // Its files are not the share's: unread, so not clean.
                    walked
                        .rows
                        .push(row(FileKind::Directory, Status::Unreadable, MOUNT_POINT_REASON));
                    continue;
                }
                let opened = retry_transient(touch, || handles::open_folder(&frame.folder, &name, &listed))
                    .and_then(|folder| Ok((retry_transient(touch, || handles::list(&folder))?, folder)));
                match opened {
                    Ok((names, folder)) => stack.push(Frame {
                        folder: Arc::new(folder),
                        relative,
                        escapes,
                        names: names.into_iter(),
                    }),
                    Err(err) => walked.rows.push(row(
                        FileKind::Directory,
                        Status::Unreadable,
                        &format!("cannot read: {err}"),
                    )),
                }
            }
            EntryType::Link => walked
                .rows
                .push(row(FileKind::Symlink, Status::Skipped, "symbolic link, not followed")),
            EntryType::File if mount_point => {
                let kind = layout::file_kind(location.kind, &relative);
                walked.rows.push(row(
                    kind,
                    Status::Unreadable,
                    "mount point (a file mounted from another file system), not read",
                ));
            }
            EntryType::File => {
                let kind = layout::file_kind(location.kind, &relative);
                on_file(Entry {
                    parent: frame.folder.clone(),
                    name,
                    relative,
                    listed,
                    kind,
                    escapes,
                });
            }
            EntryType::Special(what) => walked.rows.push(row(
                FileKind::Special,
                Status::Skipped,
                &format!("{what}, not a regular file"),
            )),
        }
    }
    walked
}

/// The injected latency of a WAN link, and a sign of life for the watcher.
fn pause(config: &Config, activity: &Activity) {
    activity.touch();
    if let Some(latency) = config.faults.latency {
        std::thread::sleep(latency);
    }
}

/// `reason` with the note of what the path escaped, if anything.
pub(super) fn with_note(reason: &str, escapes: Escapes) -> String {
    match (reason.is_empty(), escapes.any()) {
        (_, false) => reason.to_string(),
        (true, true) => escapes.note(),
        (false, true) => format!("{reason}; {}", escapes.note()),
    }
}

/// Runs `op`, retrying a few times with a short backoff while the process
/// or the system is out of file handles: such an error passes, and a
/// share is not to be reported unreadable for it.
pub(super) fn retry_transient<T>(touch: &dyn Fn(), mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    const BACKOFF_MILLIS: [u64; 5] = [10, 40, 160, 640, 1500];
    let mut waits = BACKOFF_MILLIS.iter();
    loop {
        match op() {
            Err(err) if is_out_of_handles(&err) => match waits.next() {
                Some(millis) => {
                    touch();
                    std::thread::sleep(Duration::from_millis(*millis));
                }
                None => return Err(err),
            },
            other => return other,
        }
    }
}

fn is_out_of_handles(err: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(windows)]
    {
        const ERROR_TOO_MANY_OPEN_FILES: i32 = 4;
        err.raw_os_error() == Some(ERROR_TOO_MANY_OPEN_FILES)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = err;
        false
    }
}

/// A read in flight keeps its folder open, so a wide share can hold many
/// folders open at once: the soft limit on open files (often 1024) is
/// raised to the hard one, once per process.
fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            use rustix::process::{getrlimit, setrlimit, Resource};
            let mut limit = getrlimit(Resource::Nofile);
            let target = limit.maximum.unwrap_or(u64::MAX).min(1 << 20);
            if limit.current.is_some_and(|current| current < target) {
                limit.current = Some(target);
                // Only a ceiling: when it cannot be raised, retries cope.
                let _ = setrlimit(Resource::Nofile, limit);
            }
        });
    }
}
