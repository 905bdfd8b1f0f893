//! Roots to locations: finds CAP, logon point and site server shares under
//! each root, names them `\\SERVER\SHARE` and reads their site codes.

use crate::config::Config;
use crate::config::{InventoryShare, Isolation};
use crate::model::{Location, LocationKind, ShareComment, Status};
use crate::names;
use crate::smb;
use crate::sms::layout;
use crate::worker::{self, Program, Session, Worker};
use over_smb::SmbRoot;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod over_smb;

/// The hidden first argument that makes smsaudit a discovery worker.
pub const DISCOVER_WORKER_COMMAND: &str = "__discover-worker";

/// A share to crawl: its location record plus the real path to read.
/// Serialisable, because a discovery worker sends it to the audit.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Discovered {
    pub location: Location,
    #[serde(with = "exact_path")]
    pub path: PathBuf,
    /// A root that is not there, is not a folder, or holds no share (as
    /// opposed to one that could not be read or did not answer).
    pub holds_no_share: bool,
    /// A share that is a link below a root: a row, never followed.
    pub linked: bool,
}

/// Whether `root` did not answer its search: asking it anything more (even
/// its identity) could hang as its search did.
pub(crate) fn did_not_answer(found: &[Discovered], root: &Path) -> bool {
    found
        .iter()
        .any(|d| d.path == root && d.location.status == Status::NoAnswer)
}

/// The reason on the location of a share that is a link below a root.
pub(crate) const LINKED_SHARE_REASON: &str = "symbolic link, not followed";

/// One search for shares, run on a path: a root of the command line, or a
/// share the inventory names (a worker gets the path as its argument).
#[derive(serde::Serialize, serde::Deserialize)]
enum Search {
    Root { depth: usize },
    Known(KnownShare),
}

/// What the inventory says of a share, but its path.
#[derive(serde::Serialize, serde::Deserialize)]
struct KnownShare {
    server: String,
    share: String,
    kind: LocationKind,
    sites: Vec<String>,
}

impl Search {
    fn run(self, path: &Path) -> Vec<Discovered> {
        match self {
            Search::Root { depth } => discover(std::slice::from_ref(&path.to_path_buf()), depth),
            Search::Known(share) => vec![discover_known(path, &share)],
        }
    }
}

/// Finds every share the inventory names and every share under the roots.
/// Roots are searched concurrently; one that does not answer within the
/// location timeout becomes an unreadable location, as does one that is
/// missing or holds no share. With [`Isolation::Process`] each root and
/// share is searched by a worker process, killed and abandoned when late.
pub(crate) fn discover_all(config: &Config) -> Vec<Discovered> {
    let mut searches: Vec<(PathBuf, Search)> = Vec::new();
    if let Some(inventory) = &config.inventory {
        for share in inventory.shares() {
            let InventoryShare {
                server,
                share,
                path,
                kind,
                sites,
                ..
            } = share;
            searches.push((
                path,
                Search::Known(KnownShare {
                    server,
                    share,
                    kind,
                    sites,
                }),
            ));
        }
    }
    let mut smb_roots = Vec::new();
    for root in &config.roots {
        if let Some(smb_root) = SmbRoot::of(root) {
            smb_roots.push((root.clone(), smb_root));
            continue;
        }
        let depth = config.discover_depth;
        searches.push((root.clone(), Search::Root { depth }));
    }
    // Finding shares lists a few folders per root: a root that cannot do
    // that within the stall limit is not answering.
    let limit = match (config.stall_timeout, config.location_timeout) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let started = Instant::now();
    let listings = over_smb::start_listing(&smb_roots, config.smb_auth.as_deref());
    let mut found = run_with_deadline(searches, config.isolation, limit);
    let lists = listings.finish(started, limit);
    for (root, smb_root) in &smb_roots {
        found.extend(over_smb::discover(root, smb_root, &lists));
    }
    make_names_unique(&mut found);
    found
}

/// Refuses a command-line root that is not there, or that holds no share,
/// when its name does not say it is a share: a typo (`sampel-shares`) must
/// not become an invented location. A missing share named as one (a UNC
/// path, `CAP_<site>`, `SMSLOGON`, `SMS_<site>`) stays an unreadable
/// location, as a scheduled audit needs.
pub(crate) fn refuse_roots_without_shares(config: &Config, found: &[Discovered]) -> anyhow::Result<()> {
    for root in &config.roots {
        let shown = names::display_path(root);
        let Some(unread) = found.iter().find(|d| d.holds_no_share && d.location.root == shown) else {
            continue;
        };
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let named_as_share =
            names::parse_unc(&root.to_string_lossy()).is_some() || layout::classify_share(&name, |_| false).is_some();
        if !named_as_share && smb::looks_like_url(root) {
            anyhow::bail!(
                "root {shown}: {}. Name one of its shares (smb://host/CAP_<site>, smb://host/SMSLOGON, smb://host/SMS_<site>), or another server",
                unread.location.reason
            );
        }
        if !named_as_share {
            anyhow::bail!(
                "root {shown}: {}. smsaudit looked {} folder level(s) down for CAP_<site>, SMSLOGON and SMS_<site> shares (by name or layout); name a share, or a folder that holds <SERVER>/<SHARE> folders, or raise --depth",
                unread.location.reason,
                config.discover_depth
            );
        }
    }
    Ok(())
}

/// Runs each search on its own thread or worker process and keeps what
/// finishes in time. A thread stuck in a kernel call cannot be cancelled and
/// is left behind; a worker is killed and abandoned.
fn run_with_deadline(
    searches: Vec<(PathBuf, Search)>,
    isolation: Isolation,
    timeout: Option<Duration>,
) -> Vec<Discovered> {
    let (sender, receiver) = mpsc::channel();
    let mut results: Vec<Option<Vec<Discovered>>> = (0..searches.len()).map(|_| None).collect();
    let mut workers: Vec<Option<Worker>> = Vec::new();
    let mut roots = Vec::new();
    for (index, (root, search)) in searches.into_iter().enumerate() {
        let started = match isolation {
            Isolation::Thread => start_thread(index, root.clone(), search, sender.clone()).map(|()| None),
            Isolation::Process => start_worker(index, root.clone(), search, sender.clone()).map(Some),
        };
        match started {
            Ok(worker) => workers.push(worker),
            Err(reason) => {
                results[index] = Some(vec![unreadable_root(&root, &reason)]);
                workers.push(None);
            }
        }
        roots.push(root);
    }
    drop(sender);
    let deadline = timeout.map(|t| Instant::now() + t);
    while results.iter().any(Option::is_none) {
        let received = match deadline {
            Some(deadline) => receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())),
            None => receiver.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok((index, found)) => results[index] = Some(found),
            Err(_) => break,
        }
    }
    for (result, worker) in results.iter().zip(workers) {
        if let (None, Some(worker)) = (result, worker) {
            worker.abandon();
        }
    }
    results
        .into_iter()
        .zip(&roots)
        .flat_map(|(result, root)| result.unwrap_or_else(|| vec![unanswered_root(root)]))
        .collect()
}

type Found = (usize, Vec<Discovered>);

fn start_thread(index: usize, root: PathBuf, search: Search, sender: mpsc::Sender<Found>) -> Result<(), String> {
    std::thread::Builder::new()
        .name("smsaudit-discover".into())
        .spawn(move || {
            let _ = sender.send((index, search.run(&root)));
        })
        .map(drop)
        .map_err(|err| format!("cannot start a thread: {err}"))
}

/// Starts a worker process for one search; what it finds, or the root as
/// unreadable with why the worker failed, goes to `sender`.
fn start_worker(index: usize, root: PathBuf, search: Search, sender: mpsc::Sender<Found>) -> Result<Worker, String> {
    let program = Program::Own(DISCOVER_WORKER_COMMAND);
    let path = root.clone().into_os_string();
    let talk = move |mut session: Session| {
        // The request is small; a worker that cannot take it fails below.
        let _ = session.request(&search);
        session.end_requests();
        let found = session
            .next::<Vec<Discovered>>()
            .unwrap_or_else(|why| vec![unreadable_root(&root, &session.failure(&why))]);
        let _ = sender.send((index, found));
    };
    worker::start("discovery worker", &program, &[path], talk)
        .map(|(worker, _)| worker)
        .map_err(|err| format!("cannot start a discovery worker: {err}"))
}

/// The discovery worker's side: `path` is the argument after
/// [`DISCOVER_WORKER_COMMAND`], the search is on stdin, and what it finds
/// goes to stdout as one line. Returns the exit code.
pub fn discover_worker_main(path: Option<OsString>) -> i32 {
    worker::serve(DISCOVER_WORKER_COMMAND, || {
        let path = PathBuf::from(path.ok_or_else(|| anyhow::anyhow!("no path given"))?);
        let search: Search = worker::read_request()?;
        worker::send(&search.run(&path))?;
        Ok(())
    })
}

/// A path as its exact bytes (Unix) or UTF-16 units (Windows), so a name
/// that is not Unicode crosses the process boundary unchanged.
mod exact_path {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::{Path, PathBuf};

    #[cfg(unix)]
    pub(super) fn serialize<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().serialize(serializer)
    }

    #[cfg(unix)]
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
        use std::os::unix::ffi::OsStringExt;
        Ok(std::ffi::OsString::from_vec(Vec::<u8>::deserialize(deserializer)?).into())
    }

    #[cfg(windows)]
    pub(super) fn serialize<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
        use std::os::windows::ffi::OsStrExt;
        path.as_os_str()
            .encode_wide()
            .collect::<Vec<u16>>()
            .serialize(serializer)
    }

    #[cfg(windows)]
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
        use std::os::windows::ffi::OsStringExt;
        Ok(std::ffi::OsString::from_wide(&Vec::<u16>::deserialize(deserializer)?).into())
    }
}

/// Finds every share under the roots, looking at most `depth` levels down.
/// A root that is missing or holds no share becomes an unreadable location.
pub(crate) fn discover(roots: &[PathBuf], depth: usize) -> Vec<Discovered> {
    let mut found = Vec::new();
    for root in roots {
        let before = found.len();
        match fs::symlink_metadata(root) {
            Ok(meta) if meta.is_dir() || fs::metadata(root).map(|m| m.is_dir()).unwrap_or(false) => {
                // A root the user names may itself be a link (a mount point,
                // a mapped folder); links below it are never followed.
                scan(root, depth, &mut found);
                if found.len() == before {
                    found.push(no_share(unreadable_root(
                        root,
                        "no CAP, logon point or site server share found under this root",
                    )));
                }
            }
            Ok(_) => found.push(no_share(unreadable_root(root, "not a folder"))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                found.push(no_share(unreadable_root(root, &format!("cannot read: {err}"))))
            }
            Err(err) => found.push(unreadable_root(root, &format!("cannot read: {err}"))),
        }
    }
    found
}

/// A share the inventory names: its kind, name and sites are known, so it
/// is a location even when it is missing or empty.
fn discover_known(path: &Path, share: &KnownShare) -> Discovered {
    let mut discovered = describe(path, share.kind);
    let location = &mut discovered.location;
    location.server = share.server.clone();
    location.share = share.share.clone();
    location.name = names::location_name(&share.server, &share.share);
    location.sites.extend(share.sites.iter().cloned());
    location.sites.sort();
    location.sites.dedup();
    if let Err(err) = fs::metadata(path) {
        location.status = Status::Unreadable;
        location.reason = format!("cannot read: {err}");
    }
    discovered
}

fn scan(dir: &Path, depth: usize, found: &mut Vec<Discovered>) {
    if let Some(kind) = classify(dir) {
        found.push(describe(dir, kind));
        return;
    }
    if depth == 0 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut children: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file_type = e.file_type().ok()?;
            (file_type.is_dir() || file_type.is_symlink()).then(|| (e.path(), file_type.is_symlink()))
        })
        .collect();
    children.sort();
    for (child, is_link) in children {
        if !is_link {
            scan(&child, depth - 1, found);
        } else if let Some(kind) = classify_link(&child) {
            found.push(linked(&child, kind));
        }
    }
}

/// A link named like a share, judged by its name alone: what it points to
/// is not looked at. Other links are not shares and are not followed.
fn classify_link(link: &Path) -> Option<LocationKind> {
    let name = link
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    // `SMS_<site>` needs an `inboxes` folder to be a site server; a link's
    // name is all there is to go on.
    layout::classify_share(&name, |parts| parts == ["inboxes"])
}

/// A share that is a link below a root: a location that says so, so it is
/// not silently left out, and is not crawled.
fn linked(link: &Path, kind: LocationKind) -> Discovered {
    let (_, share) = names::server_and_share(link);
    let sites = layout::site_from_share(kind, &share).into_iter().collect();
    Discovered {
        linked: true,
        ..found_at(link, kind, sites, Status::Unreadable, LINKED_SHARE_REASON.to_string())
    }
}

/// The location found at `path`, named by its server and share folders.
fn found_at(path: &Path, kind: LocationKind, sites: Vec<String>, status: Status, reason: String) -> Discovered {
    let (server, share) = names::server_and_share(path);
    Discovered {
        location: Location {
            name: names::location_name(&server, &share),
            server,
            share,
            kind,
            root: names::display_path(path),
            sites,
            status,
            reason,
            files: 0,
            bytes: 0,
            share_comment: ShareComment::NotApplicable,
            folder_acls: Default::default(),
        },
        path: path.to_path_buf(),
        holds_no_share: false,
        linked: false,
    }
}

/// Classifies a folder by its name and layout ([`layout::classify_share`]).
pub(crate) fn classify(dir: &Path) -> Option<LocationKind> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    layout::classify_share(&name, |parts| child_path_ci(dir, parts).is_some())
}

fn describe(dir: &Path, kind: LocationKind) -> Discovered {
    let (_, share) = names::server_and_share(dir);
    let sites = match kind {
        LocationKind::LogonPoint => logon_point_sites(dir),
        kind => layout::site_from_share(kind, &share).into_iter().collect(),
    };
    let (status, reason) = match fs::read_dir(dir) {
        Ok(_) => (Status::Ok, String::new()),
        Err(err) => (Status::Unreadable, format!("cannot list the share: {err}")),
    };
    found_at(dir, kind, sites, status, reason)
}

fn no_share(mut discovered: Discovered) -> Discovered {
    discovered.holds_no_share = true;
    discovered
}

/// A root that did not answer its search in time.
fn unanswered_root(root: &Path) -> Discovered {
    let status = Status::NoAnswer;
    found_at(
        root,
        LocationKind::Unknown,
        Vec::new(),
        status,
        status.own_reason().to_string(),
    )
}

fn unreadable_root(root: &Path, reason: &str) -> Discovered {
    found_at(
        root,
        LocationKind::Unknown,
        Vec::new(),
        Status::Unreadable,
        reason.to_string(),
    )
}

/// Sites taking part in a logon point: `Sites\<code>` folders and
/// `Sitescfg\<code>_cfg.lcf` files.
fn logon_point_sites(dir: &Path) -> Vec<String> {
    let mut sites = Vec::new();
    if let Some(sites_dir) = child_ci(dir, layout::LOGON_SITES_FOLDER) {
        for entry in fs::read_dir(sites_dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_ascii_uppercase();
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) && layout::is_site_code(&name) {
                sites.push(name);
            }
        }
    }
    if let Some(cfg_dir) = child_ci(dir, layout::LOGON_CONFIG_FOLDER) {
        for entry in fs::read_dir(cfg_dir).into_iter().flatten().flatten() {
            sites.extend(layout::lcf_site(&entry.file_name().to_string_lossy()));
        }
    }
    sites.sort();
    sites.dedup();
    sites
}

/// The child of `dir` whose name equals `name` ignoring ASCII case.
/// Links are not returned: a share's layout is judged on its own folders.
pub(crate) fn child_ci(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if fs::symlink_metadata(&exact)
        .map(|m| !m.file_type().is_symlink())
        .unwrap_or(false)
    {
        return Some(exact);
    }
    let mut matches: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .filter(|e| e.file_type().map(|t| !t.is_symlink()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    matches.sort();
    matches.into_iter().next()
}

fn child_path_ci(dir: &Path, parts: &[&str]) -> Option<PathBuf> {
    parts
        .iter()
        .try_fold(dir.to_path_buf(), |path, part| child_ci(&path, part))
}

/// Two shares with the same `\\SERVER\SHARE` (the same share given twice,
/// or copies under different roots) keep distinct names.
fn make_names_unique(found: &mut Vec<Discovered>) {
    let mut seen_paths = std::collections::HashSet::new();
    // A link not followed is its own location, never a copy of its target;
    // a root that did not answer is not asked again (it would hang here).
    found.retain(|d| {
        let key = match d.linked || d.location.status != Status::Ok {
            true => d.path.clone(),
            false => fs::canonicalize(&d.path).unwrap_or_else(|_| d.path.clone()),
        };
        seen_paths.insert(key)
    });
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in found.iter_mut() {
        let key = d.location.name.to_ascii_uppercase();
        let n = counts.entry(key).or_insert(0);
        *n += 1;
        if *n > 1 {
            d.location.name = format!("{} #{}", d.location.name, n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name that is not Unicode: bytes on Unix, an unpaired surrogate on
    /// Windows.
    fn not_unicode() -> OsString {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            OsString::from_vec(b"SRV\xff".to_vec())
        }
        #[cfg(windows)]
        {
            use std::os::windows::ffi::OsStringExt;
            OsString::from_wide(&[0x53, 0xD800, 0x56])
        }
    }

    /// What a discovery worker sends is what the audit gets, its path
    /// byte for byte.
    #[test]
    fn a_path_that_is_not_unicode_survives_the_trip() {
        let path = PathBuf::from("roots").join(not_unicode()).join("CAP_AB1");
        let sent = vec![unreadable_root(&path, "cannot read: gone")];
        let line = serde_json::to_string(&sent).unwrap();
        let got: Vec<Discovered> = serde_json::from_str(&line).unwrap();
        assert_eq!(got[0].path.as_os_str(), path.as_os_str());
        assert_eq!(got[0].location.root, sent[0].location.root);
        assert_eq!(serde_json::to_string(&got).unwrap(), line);
    }

    /// A search given to a worker runs as it would on a thread.
    #[test]
    fn a_search_survives_the_trip() {
        let search = Search::Known(KnownShare {
            server: "S".into(),
            share: "CAP_AB1".into(),
            kind: LocationKind::Cap,
            sites: vec!["AB1".into()],
        });
        let got: Search = serde_json::from_slice(&serde_json::to_vec(&search).unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let found = got.run(&dir.path().join("missing"));
        assert_eq!(found[0].location.name, r"\\S\CAP_AB1");
        assert_eq!(found[0].location.sites, ["AB1"]);
        assert_eq!(found[0].location.status, Status::Unreadable);
    }
}
