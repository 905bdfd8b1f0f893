//! Client logs (`audit --client-logs DIR`): the logs collected from SMS
//! clients, read ([`reader`]), each line matched against the catalogue of
//! symptoms ([`crate::sms::symptoms`], compiled in [`signatures`]) and tied
//! to the finding and cause that explain it ([`tie`]). Comes after the
//! causes in the flow of the data: it reads findings and causes, and the
//! audit carries what it found as [`Symptoms`].

mod reader;
mod signatures;
mod tie;

pub use reader::Entry;
pub use tie::Outcome;

use crate::causes::Cause;
use crate::model::{Finding, Location, Status};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Everything the client logs showed.
#[derive(Debug, Clone, Serialize)]
pub struct Symptoms {
    /// The `--client-logs` folders, as given.
    pub folders: Vec<String>,
    pub counts: Counts,
    /// Every file read, or named like a client log and not read.
    pub logs: Vec<ClientLog>,
    /// Every line that shows a symptom, by client, log and line.
    pub lines: Vec<SymptomLine>,
    /// For each cause, in report order: the clients it explains.
    pub causes: Vec<CauseClients>,
    /// For each finding, by its position in the audit's findings: the
    /// clients that show it.
    pub finding_clients: Vec<Vec<String>>,
}

/// How many of each.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub clients: usize,
    pub logs: usize,
    /// Logs that could not be read, or not wholly (see their reason).
    pub logs_not_read_wholly: usize,
    pub symptoms: usize,
    pub explained: usize,
    pub not_checked: usize,
    pub unexplained: usize,
    pub not_share_related: usize,
    /// Clients with a symptom nothing on the shares explains.
    pub unexplained_clients: usize,
}

/// One log file.
#[derive(Debug, Clone, Serialize)]
pub struct ClientLog {
    pub client: String,
    /// The folder given with `--client-logs`.
    pub folder: String,
    /// The path below that folder, with `/`.
    pub path: String,
    /// The log it is, lower case (`ccim32.log`).
    pub log: String,
    pub encoding: String,
    pub lines: u64,
    pub symptoms: usize,
    pub status: Status,
    pub reason: String,
}

/// One line that shows a symptom.
#[derive(Debug, Clone, Serialize)]
pub struct SymptomLine {
    pub client: String,
    /// The log's path below its folder.
    pub log: String,
    pub line: u64,
    /// As the log writes it; empty when it is cut off.
    pub time: String,
    /// The signature's name (`cfg-out-of-sync`).
    pub symptom: String,
    pub kb: String,
    /// The `\\SERVER\SHARE` the line names, if any.
    pub location: String,
    pub path: String,
    pub site: String,
    pub component: String,
    /// The version the client found, and the one it wanted, when the line says.
    pub observed: String,
    pub expected: String,
    pub outcome: Outcome,
    /// The causes that explain it (empty unless explained).
    pub explained_by: Vec<String>,
    /// The findings that explain it, or say what could not be checked.
    pub findings: Vec<usize>,
    pub reason: String,
    /// The log line as written (wrapped lines joined by a space).
    pub text: String,
}

/// The clients one cause explains.
#[derive(Debug, Clone, Serialize)]
pub struct CauseClients {
    pub cause: String,
    pub clients: Vec<String>,
}

impl SymptomLine {
    /// The columns of symptoms.csv, in order.
    pub(crate) const COLUMNS: [&'static str; 12] = [
        "client",
        "log",
        "line",
        "time",
        "symptom",
        "kb",
        "location",
        "path",
        "outcome",
        "explained_by",
        "reason",
        "text",
    ];

    pub(crate) fn cells(&self) -> [String; 12] {
        [
            self.client.clone(),
            self.log.clone(),
            self.line.to_string(),
            self.time.clone(),
            self.symptom.clone(),
            self.kb.clone(),
            self.location.clone(),
            self.path.clone(),
            self.outcome.as_str().to_string(),
            self.explained_by.join(" "),
            self.reason.clone(),
            self.text.clone(),
        ]
    }
}

impl ClientLog {
    /// A symptoms.csv row for a log that could not be read wholly, in
    /// [`SymptomLine::COLUMNS`] order.
    pub(crate) fn cells(&self) -> [String; 12] {
        [
            self.client.clone(),
            self.path.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!("log {}", self.status.as_str()),
            String::new(),
            self.reason.clone(),
            String::new(),
        ]
    }
}

/// A symptom line before it is tied.
struct Seen {
    entry: Entry,
    matched: signatures::Matched,
    context: signatures::Context,
}

/// Reads one log: its row, and the lines that match a signature.
fn read_log(folder: &str, found: reader::Found) -> (ClientLog, Vec<Seen>) {
    let mut log = ClientLog {
        client: found.client.clone(),
        folder: folder.to_string(),
        path: found.relative.clone(),
        log: found.log.to_string(),
        encoding: String::new(),
        lines: 0,
        symptoms: 0,
        status: Status::Ok,
        reason: String::new(),
    };
    if let Some((status, reason)) = found.not_read {
        log.status = status;
        log.reason = reason;
        return (log, Vec::new());
    }
    let file = match crate::input::open_regular_no_follow(&found.path) {
        Ok(file) => file,
        Err(err) => {
            log.status = Status::Unreadable;
            log.reason = format!("cannot open: {err}");
            return (log, Vec::new());
        }
    };
    let mut seen = Vec::new();
    let mut context = signatures::Context::default();
    let scanned = reader::scan(file, |entry| {
        if let Some(matched) = signatures::match_entry(&entry) {
            seen.push(Seen {
                entry: entry.clone(),
                matched,
                context: context.clone(),
            });
        }
        context.follow(&entry);
    });
    match scanned {
        Ok(scan) => {
            (log.status, log.reason) = scan.outcome(seen.len());
            log.encoding = scan.encoding.to_string();
            log.lines = scan.lines;
            if log.client.is_empty() {
                log.client = scan.named_client.unwrap_or_default();
            }
        }
        Err(err) => {
            log.status = Status::Unreadable;
            log.reason = format!("read failed after {} symptoms: {err}", seen.len());
        }
    }
    log.symptoms = seen.len();
    (log, seen)
}

/// Reads every client log under `folders` and ties each symptom to the
/// findings and causes that explain it. Logs are read in parallel; the
/// result is sorted, the same whatever the thread count.
pub(crate) fn read_and_tie(
    folders: &[PathBuf],
    findings: &[Finding],
    causes: &[Cause],
    locations: &[Location],
) -> Symptoms {
    let work: Vec<(String, reader::Found)> = folders
        .iter()
        .flat_map(|folder| {
            let shown = crate::names::display_path(folder);
            reader::find_logs(folder).into_iter().map(move |f| (shown.clone(), f))
        })
        .collect();
    let read: Vec<(ClientLog, Vec<Seen>)> = work
        .into_par_iter()
        .map(|(folder, found)| read_log(&folder, found))
        .collect();
    let cause_of = crate::causes::cause_of_each(causes, findings.len());
    let shares = tie::Shares {
        findings,
        cause_of: &cause_of,
        locations,
    };
    let mut logs = Vec::new();
    let mut lines = Vec::new();
    for (log, seen) in read {
        for Seen {
            entry,
            matched,
            context,
        } in seen
        {
            let tied = tie::tie(&matched, &context, &shares);
            let explained = tied.outcome == Outcome::Explained;
            lines.push(SymptomLine {
                client: log.client.clone(),
                log: log.path.clone(),
                line: entry.line,
                time: entry.time,
                symptom: matched.signature.name.to_string(),
                kb: matched.signature.kb.join(", "),
                location: matched.location,
                path: matched.path,
                site: matched.site,
                component: matched.component,
                observed: matched.version,
                expected: matched.expected,
                outcome: tied.outcome,
                explained_by: if explained { tied.causes } else { Vec::new() },
                findings: tied.findings,
                reason: tied.reason,
                text: entry.text,
            });
        }
        logs.push(log);
    }
    logs.sort_by(|a, b| (&a.client, &a.folder, &a.path).cmp(&(&b.client, &b.folder, &b.path)));
    lines.sort_by(|a, b| (&a.client, &a.log, a.line).cmp(&(&b.client, &b.log, b.line)));
    summarise(folders, logs, lines, findings, causes)
}

fn summarise(
    folders: &[PathBuf],
    logs: Vec<ClientLog>,
    lines: Vec<SymptomLine>,
    findings: &[Finding],
    causes: &[Cause],
) -> Symptoms {
    let mut by_cause: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut by_finding: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); findings.len()];
    for line in lines.iter().filter(|l| l.outcome == Outcome::Explained) {
        for cause in &line.explained_by {
            by_cause.entry(cause).or_default().insert(&line.client);
        }
        for &finding in &line.findings {
            by_finding[finding].insert(&line.client);
        }
    }
    let of = |outcome: Outcome| lines.iter().filter(|l| l.outcome == outcome).count();
    let clients: BTreeSet<&str> = logs.iter().map(|l| l.client.as_str()).collect();
    let unexplained_clients: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l.outcome == Outcome::Unexplained)
        .map(|l| l.client.as_str())
        .collect();
    let owned = |set: &BTreeSet<&str>| set.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let counts = Counts {
        clients: clients.len(),
        logs: logs.len(),
        logs_not_read_wholly: logs.iter().filter(|l| l.status != Status::Ok).count(),
        symptoms: lines.len(),
        explained: of(Outcome::Explained),
        not_checked: of(Outcome::NotChecked),
        unexplained: of(Outcome::Unexplained),
        not_share_related: of(Outcome::NotShareRelated),
        unexplained_clients: unexplained_clients.len(),
    };
    Symptoms {
        folders: folders.iter().map(|f| crate::names::display_path(f)).collect(),
        counts,
        causes: causes
            .iter()
            .map(|c| CauseClients {
                cause: c.id.clone(),
                clients: by_cause.get(c.id.as_str()).map(owned).unwrap_or_default(),
            })
            .collect(),
        finding_clients: by_finding.iter().map(owned).collect(),
        logs,
        lines,
    }
}

/// Every entry of a log's bytes, with the symptom it shows if any: the
/// parser on its own, for property tests and fuzzing.
pub fn scan_bytes(bytes: &[u8]) -> Vec<(Entry, Option<&'static str>)> {
    let mut out = Vec::new();
    let _ = reader::scan(bytes, |entry| {
        let symptom = signatures::match_entry(&entry).map(|m| m.signature.name);
        out.push((entry, symptom));
    });
    out
}

/// The longest line the reader keeps, in bytes.
pub const MAX_LINE_BYTES: usize = reader::MAX_LINE_BYTES;
