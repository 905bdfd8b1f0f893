//! Roots read over SMB by the `smsaudit-smb` helper: `smb://host[:port]/share`
//! (and `\\host\share` on Linux and macOS when the helper is installed)
//! names one share; `smb://host[:port]` names a server whose disk shares are
//! listed and classified by name, as the CAP_<site>, SMSLOGON and SMS_<site>
//! shares they are. Each server's share list is asked once, by a helper
//! process (`smsaudit-smb __enumerate URL`), killed and abandoned when it
//! does not answer in time; it also gives each share's comment (Q235173).

use super::{found_at, no_share, Discovered};
use crate::model::{Location, LocationKind, ShareComment, Status};
use crate::names;
use crate::smb::{self, ServerShare, SmbServer, SmbUrl};
use crate::sms::layout;
use crate::worker::{self, Program, Worker};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server's share list may take when no stall or location
/// limit is set: libsmbclient gives up on one call after 30 s.
const LIST_LIMIT: Duration = Duration::from_secs(90);

/// A root read over SMB.
pub(super) enum SmbRoot {
    Share(SmbUrl),
    Server(SmbServer),
    /// Spelled as an `smb://` URL, but not one smsaudit reads.
    NotAUrl,
}

impl SmbRoot {
    /// What `root` is over SMB; `None` for a root read from the file system.
    pub(super) fn of(root: &Path) -> Option<SmbRoot> {
        if smb::looks_like_url(root) {
            return Some(match (smb::parse_url(root), smb::parse_server_url(root)) {
                (Some(share), _) => SmbRoot::Share(share),
                (None, Some(server)) => SmbRoot::Server(server),
                (None, None) => SmbRoot::NotAUrl,
            });
        }
        if cfg!(unix) && smb::helper_path().is_some() {
            return smb::unc_url(root).map(SmbRoot::Share);
        }
        None
    }

    fn server(&self) -> Option<SmbServer> {
        match self {
            SmbRoot::Share(url) => Some(url.server()),
            SmbRoot::Server(server) => Some(server.clone()),
            SmbRoot::NotAUrl => None,
        }
    }
}

/// A server's share list, or why there is none.
#[derive(Debug, Clone)]
pub(super) enum Listed {
    Shares(Vec<ServerShare>),
    Failed(String),
    /// No answer in time: the helper was killed.
    NoAnswer,
}

/// The share lists being asked for, one helper per server.
pub(super) struct Listings {
    receiver: mpsc::Receiver<(SmbServer, Listed)>,
    workers: BTreeMap<SmbServer, Worker>,
    lists: BTreeMap<SmbServer, Listed>,
}

/// Starts asking every server of `roots` for its share list, each in a
/// helper process, logged on with `--smb-auth`'s file (`auth`) or the
/// environment's credentials.
pub(super) fn start_listing(roots: &[(PathBuf, SmbRoot)], auth: Option<&Path>) -> Listings {
    let (sender, receiver) = mpsc::channel();
    let mut listings = Listings {
        receiver,
        workers: BTreeMap::new(),
        lists: BTreeMap::new(),
    };
    for server in roots.iter().filter_map(|(_, root)| root.server()) {
        if listings.workers.contains_key(&server) || listings.lists.contains_key(&server) {
            continue;
        }
        match start_helper(&server, auth, sender.clone()) {
            Ok(worker) => {
                listings.workers.insert(server, worker);
            }
            Err(reason) => {
                listings.lists.insert(server, Listed::Failed(reason));
            }
        }
    }
    listings
}

fn start_helper(
    server: &SmbServer,
    auth: Option<&Path>,
    sender: mpsc::Sender<(SmbServer, Listed)>,
) -> Result<Worker, String> {
    let path = smb::helper_path().ok_or_else(missing_helper)?;
    let env = auth
        .map(|file| (smb::AUTH_FILE_ENV, file.as_os_str().to_os_string()))
        .into_iter()
        .collect();
    let program = Program::Helper { path, env };
    let args = [smb::ENUMERATE_COMMAND.into(), server.url().into()];
    let listed = server.clone();
    let talk = move |mut session: worker::Session| {
        session.end_requests();
        let list = match session.next::<Vec<ServerShare>>() {
            Ok(shares) => Listed::Shares(shares),
            Err(why) => Listed::Failed(session.failure(&why)),
        };
        let _ = sender.send((listed, list));
    };
    worker::start("SMB share list", &program, &args, talk)
        .map(|(worker, _)| worker)
        .map_err(|err| format!("cannot start {}: {err}", smb::HELPER_NAME))
}

fn missing_helper() -> String {
    format!(
        "not read: the SMB reader {} is not installed beside smsaudit (build it with `cargo build --features smb`)",
        smb::HELPER_NAME
    )
}

impl Listings {
    /// Waits for the share lists until `started + limit` (the stall or
    /// location limit, else [`LIST_LIMIT`]); a helper still silent then is
    /// killed and its server did not answer.
    pub(super) fn finish(mut self, started: Instant, limit: Option<Duration>) -> BTreeMap<SmbServer, Listed> {
        let deadline = started + limit.unwrap_or(LIST_LIMIT);
        while self.workers.keys().any(|server| !self.lists.contains_key(server)) {
            match self
                .receiver
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok((server, list)) => {
                    self.lists.insert(server, list);
                }
                Err(_) => break,
            }
        }
        for (server, worker) in self.workers {
            if let std::collections::btree_map::Entry::Vacant(late) = self.lists.entry(server) {
                worker.abandon();
                late.insert(Listed::NoAnswer);
            }
        }
        self.lists
    }
}

/// The locations of one root read over SMB, with the server's share list.
pub(super) fn discover(root: &Path, smb_root: &SmbRoot, lists: &BTreeMap<SmbServer, Listed>) -> Vec<Discovered> {
    let shown = names::display_path(root);
    let listed = smb_root.server().and_then(|server| lists.get(&server));
    match smb_root {
        SmbRoot::NotAUrl => {
            let reason =
                "not read: not an smb://host[:port]/share[/path] URL (credentials go in --smb-auth, never the URL)";
            vec![server_row(&shown, "", Status::Unreadable, reason.into())]
        }
        SmbRoot::Share(url) => {
            let comment = match listed {
                Some(Listed::Shares(shares)) => match shares.iter().find(|s| s.name.eq_ignore_ascii_case(&url.share)) {
                    Some(share) => ShareComment::Read(share.comment.clone()),
                    None => ShareComment::Unread("the server's share list does not name the share".into()),
                },
                Some(Listed::Failed(reason)) => ShareComment::Unread(reason.clone()),
                Some(Listed::NoAnswer) | None => {
                    ShareComment::Unread("the server did not list its shares in time".into())
                }
            };
            let kind = layout::classify_share_name(&url.share).unwrap_or(LocationKind::Unknown);
            vec![share_location(url, kind, shown, comment)]
        }
        SmbRoot::Server(server) => match listed {
            Some(Listed::Shares(shares)) => {
                let found: Vec<Discovered> = shares
                    .iter()
                    .filter(|share| share.disk)
                    .filter_map(|share| {
                        let kind = layout::classify_share_name(&share.name)?;
                        let url = server.share(share.name.clone(), String::new());
                        let shown = url.url();
                        Some(share_location(
                            &url,
                            kind,
                            shown,
                            ShareComment::Read(share.comment.clone()),
                        ))
                    })
                    .collect();
                if found.is_empty() {
                    let reason = format!(
                        "no CAP_<site>, SMSLOGON or SMS_<site> share among the {} disk share(s) the server lists",
                        shares.iter().filter(|s| s.disk).count()
                    );
                    return vec![no_share(server_row(&shown, &server.host, Status::Unreadable, reason))];
                }
                found
            }
            Some(Listed::Failed(reason)) => {
                vec![server_row(&shown, &server.host, Status::Unreadable, reason.clone())]
            }
            Some(Listed::NoAnswer) | None => {
                let status = Status::NoAnswer;
                vec![server_row(
                    &shown,
                    &server.host,
                    status,
                    status.own_reason().to_string(),
                )]
            }
        },
    }
}

/// A share to be read by the helper: named `\\HOST\SHARE` and classified
/// by its name; its folders are first seen by the crawl.
fn share_location(url: &SmbUrl, kind: LocationKind, shown: String, share_comment: ShareComment) -> Discovered {
    let (status, reason) = match smb::helper_path() {
        Some(_) => (Status::Ok, String::new()),
        None => (Status::Unreadable, missing_helper()),
    };
    Discovered {
        location: Location {
            name: names::location_name(&url.host, &url.share),
            server: url.host.clone(),
            sites: layout::site_from_share(kind, &url.share).into_iter().collect(),
            share: url.share.clone(),
            kind,
            root: shown,
            status,
            reason,
            files: 0,
            bytes: 0,
            share_comment,
            folder_acls: Default::default(),
        },
        path: PathBuf::from(url.url()),
        holds_no_share: false,
        linked: false,
    }
}

/// A server root (or a URL that is none) as one location that says why it
/// gave no share: `\\HOST`.
fn server_row(shown: &str, host: &str, status: Status, reason: String) -> Discovered {
    let mut row = found_at(Path::new(shown), LocationKind::Unknown, Vec::new(), status, reason);
    if !host.is_empty() {
        row.location.name = format!(r"\\{host}");
        row.location.server = host.to_string();
        row.location.share = String::new();
    }
    row.location.root = shown.to_string();
    row
}
