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
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

/// The most symptom rows kept, per log being read and in all: a row is
/// one (client, log, signature, target) with its count, so memory is
/// bounded by the kinds of symptom, not by the lines of the logs. Lines of
/// kinds beyond it are counted, not kept, and a row says so.
pub const MAX_SYMPTOM_ROWS: usize = 100_000;
/// The longest example line a row keeps, in characters (cut with `...`).
pub const MAX_EXAMPLE_CHARS: usize = 2_000;
/// The most lines no signature matches that a log keeps as a sample, and
/// the most the audit lists in all; the rest are counted.
pub const MAX_UNRECOGNISED_PER_LOG: usize = 5;
pub const MAX_UNRECOGNISED_SAMPLE: usize = 200;
/// The longest share, path, site or component a row keeps, in characters.
const MAX_TARGET_CHARS: usize = 1_000;

/// Everything the client logs showed.
#[derive(Debug, Clone, Serialize)]
pub struct Symptoms {
    /// The `--client-logs` folders, as given.
    pub folders: Vec<String>,
    pub counts: Counts,
    /// Every file read, or named like a client log and not read.
    pub logs: Vec<ClientLog>,
    /// Every kind of symptom, by client, log and first line: the lines of
    /// one log with the same signature and target, counted (at most
    /// [`MAX_SYMPTOM_ROWS`]).
    pub lines: Vec<SymptomLine>,
    /// For each cause, in report order: the clients it explains.
    pub causes: Vec<CauseClients>,
    /// For each finding, by its position in the audit's findings: the
    /// clients that show it.
    pub finding_clients: Vec<Vec<String>>,
    /// Lines that read as a failure ([`crate::sms::symptoms::FAILURE_WORDS`])
    /// but match no symptom signature, per client: "not recognised", beside
    /// the symptoms nothing on the shares explains.
    pub unrecognised_by_client: BTreeMap<String, u64>,
    /// A sample of those lines, by client, log and line: at most
    /// [`MAX_UNRECOGNISED_PER_LOG`] a log and [`MAX_UNRECOGNISED_SAMPLE`]
    /// in all.
    pub unrecognised: Vec<UnrecognisedLine>,
}

/// A log line that reads as a failure and matches no known symptom.
#[derive(Debug, Clone, Serialize)]
pub struct UnrecognisedLine {
    pub client: String,
    /// The log's path below its folder.
    pub log: String,
    pub line: u64,
    /// The time as the log writes it; empty when cut off.
    pub time: String,
    /// The line as written, cut at [`MAX_EXAMPLE_CHARS`].
    pub text: String,
}

impl UnrecognisedLine {
    /// Its symptoms.csv row, in [`SymptomLine::COLUMNS`] order.
    pub(crate) fn cells(&self) -> [String; 14] {
        [
            self.client.clone(),
            self.log.clone(),
            self.line.to_string(),
            self.time.clone(),
            self.time.clone(),
            "1".to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "not recognised".to_string(),
            String::new(),
            "reads as a failure but matches no known symptom: not tied to the shares".to_string(),
            self.text.clone(),
        ]
    }
}

/// How many of each.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub clients: usize,
    pub logs: usize,
    /// Logs that could not be read, or not wholly (see their reason).
    pub logs_not_read_wholly: usize,
    /// Symptom lines read, kept in a row or not.
    pub symptoms: u64,
    /// Symptom rows kept (kinds of symptom per client and log).
    pub rows: usize,
    /// Symptom lines of the kept rows, by outcome.
    pub explained: u64,
    pub not_checked: u64,
    pub unexplained: u64,
    /// Lines a finding the history saw explains, older than the run that
    /// first no longer saw it (`--history`): they predate its fix.
    pub before_fix: u64,
    pub not_share_related: u64,
    /// Symptom lines of kinds not kept: beyond [`MAX_SYMPTOM_ROWS`].
    pub not_kept: u64,
    /// Clients with a symptom nothing on the shares explains.
    pub unexplained_clients: usize,
    /// Lines that read as a failure but match no symptom signature, and
    /// the clients that have them.
    pub unrecognised: u64,
    pub unrecognised_clients: usize,
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
    /// Its symptom lines, kept in a row or not.
    pub symptoms: u64,
    /// Its symptom lines of kinds not kept (beyond [`MAX_SYMPTOM_ROWS`]).
    pub not_kept: u64,
    /// Its lines that read as a failure but match no symptom signature.
    pub unrecognised: u64,
    pub status: Status,
    pub reason: String,
    /// The first of those lines, up to [`MAX_UNRECOGNISED_PER_LOG`].
    #[serde(skip)]
    pub(crate) unrecognised_sample: Vec<UnrecognisedLine>,
}

/// One kind of symptom in one log: the lines with the same signature and
/// target (share, path, site, component), counted, with the first as the
/// example.
#[derive(Debug, Clone, Serialize)]
pub struct SymptomLine {
    pub client: String,
    /// The log's path below its folder.
    pub log: String,
    /// The line of the example: the first of the kind.
    pub line: u64,
    /// The time of the first and the last line of the kind, as the log
    /// writes it; empty when cut off.
    pub first: String,
    pub last: String,
    /// The line of the last one.
    pub last_line: u64,
    /// How many lines of the log show it.
    pub count: u64,
    /// The signature's name (`cfg-out-of-sync`).
    pub symptom: String,
    pub kb: String,
    /// The `\\SERVER\SHARE` the line names, if any.
    pub location: String,
    pub path: String,
    pub site: String,
    pub component: String,
    /// The version the client found, and the one it wanted, when the first
    /// line says.
    pub observed: String,
    pub expected: String,
    pub outcome: Outcome,
    /// The causes that explain it (empty unless explained).
    pub explained_by: Vec<String>,
    /// The findings that explain it, or say what could not be checked.
    pub findings: Vec<usize>,
    pub reason: String,
    /// The first line as written (wrapped lines joined by a space), cut at
    /// [`MAX_EXAMPLE_CHARS`].
    pub example: String,
}

/// The clients one cause explains.
#[derive(Debug, Clone, Serialize)]
pub struct CauseClients {
    pub cause: String,
    pub clients: Vec<String>,
}

impl SymptomLine {
    /// The columns of symptoms.csv, in order.
    pub(crate) const COLUMNS: [&'static str; 14] = [
        "client",
        "log",
        "line",
        "first",
        "last",
        "count",
        "symptom",
        "kb",
        "location",
        "path",
        "outcome",
        "explained_by",
        "reason",
        "example",
    ];

    pub(crate) fn cells(&self) -> [String; 14] {
        [
            self.client.clone(),
            self.log.clone(),
            self.line.to_string(),
            self.first.clone(),
            self.last.clone(),
            self.count.to_string(),
            self.symptom.clone(),
            self.kb.clone(),
            self.location.clone(),
            self.path.clone(),
            self.outcome.as_str().to_string(),
            self.explained_by.join(" "),
            self.reason.clone(),
            self.example.clone(),
        ]
    }
}

impl ClientLog {
    /// A symptoms.csv row for a log that could not be read wholly, in
    /// [`SymptomLine::COLUMNS`] order.
    pub(crate) fn cells(&self) -> [String; 14] {
        self.row(format!("log {}", self.status.as_str()), self.reason.clone(), 0)
    }

    /// A symptoms.csv row for a log some of whose symptom lines were not
    /// kept in a row: how many.
    pub(crate) fn not_kept_cells(&self) -> [String; 14] {
        self.row(
            "not kept".to_string(),
            format!(
                "{} symptom lines of kinds beyond the first {MAX_SYMPTOM_ROWS} rows were counted, not kept: \
                 the rows above leave them out",
                self.not_kept
            ),
            self.not_kept,
        )
    }

    fn row(&self, outcome: String, reason: String, count: u64) -> [String; 14] {
        let mut cells: [String; 14] = Default::default();
        cells[0] = self.client.clone();
        cells[1] = self.path.clone();
        if count > 0 {
            cells[5] = count.to_string();
        }
        cells[10] = outcome;
        cells[12] = reason;
        cells
    }
}

/// `text` cut to `max` characters, `...` marking the cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// What makes two symptom lines of one log the same kind: the signature
/// and what the line points to (or, when it names nothing, what the log
/// named before it, which the tie uses).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    signature: &'static str,
    location: String,
    path: String,
    site: String,
    component: String,
    context_location: String,
    context_site: String,
}

/// The lines of one kind, before they are tied.
struct Group {
    matched: signatures::Matched,
    context: signatures::Context,
    line: u64,
    first: String,
    last: String,
    last_line: u64,
    count: u64,
    example: String,
}

/// The kinds of symptom of one log, in the order first seen, at most
/// [`MAX_SYMPTOM_ROWS`]; lines of further kinds only counted.
#[derive(Default)]
struct Groups {
    index: HashMap<Key, usize>,
    groups: Vec<Group>,
    lines: u64,
    not_kept: u64,
}

impl Groups {
    fn add(&mut self, entry: &Entry, mut matched: signatures::Matched, context: &signatures::Context) {
        self.lines += 1;
        for field in [
            &mut matched.location,
            &mut matched.path,
            &mut matched.site,
            &mut matched.component,
            &mut matched.version,
            &mut matched.expected,
        ] {
            if field.len() > MAX_TARGET_CHARS {
                *field = cut(field, MAX_TARGET_CHARS);
            }
        }
        let own = !matched.location.is_empty() || !matched.site.is_empty();
        let (context_location, context_site) = match own {
            true => (String::new(), String::new()),
            false => (
                cut(&context.location, MAX_TARGET_CHARS),
                cut(&context.site, MAX_TARGET_CHARS),
            ),
        };
        let key = Key {
            signature: matched.signature.name,
            location: matched.location.clone(),
            path: matched.path.clone(),
            site: matched.site.clone(),
            component: matched.component.clone(),
            context_location,
            context_site,
        };
        if let Some(&at) = self.index.get(&key) {
            let group = &mut self.groups[at];
            group.count += 1;
            group.last_line = entry.line;
            if group.last != entry.time {
                group.last.clone_from(&entry.time);
            }
            return;
        }
        if self.groups.len() >= MAX_SYMPTOM_ROWS {
            self.not_kept += 1;
            return;
        }
        let context = signatures::Context {
            location: key.context_location.clone(),
            site: key.context_site.clone(),
        };
        self.index.insert(key, self.groups.len());
        self.groups.push(Group {
            matched,
            context,
            line: entry.line,
            first: entry.time.clone(),
            last: entry.time.clone(),
            last_line: entry.line,
            count: 1,
            example: cut(&entry.text, MAX_EXAMPLE_CHARS),
        });
    }
}

/// Reads one log: its row, and its kinds of symptom.
fn read_log(dir: &std::path::Path, folder: &str, found: reader::Found) -> (ClientLog, Vec<Group>) {
    let mut log = ClientLog {
        client: found.client.clone(),
        folder: folder.to_string(),
        path: found.relative.clone(),
        log: found.log.to_string(),
        encoding: String::new(),
        lines: 0,
        symptoms: 0,
        not_kept: 0,
        unrecognised: 0,
        status: Status::Ok,
        reason: String::new(),
        unrecognised_sample: Vec::new(),
    };
    if let Some((status, reason)) = found.not_read {
        log.status = status;
        log.reason = reason;
        return (log, Vec::new());
    }
    let file = match found.open(dir) {
        Ok(file) => file,
        Err(err) => {
            log.status = Status::Unreadable;
            log.reason = format!("cannot open: {err}");
            return (log, Vec::new());
        }
    };
    let mut groups = Groups::default();
    let mut context = signatures::Context::default();
    let (mut unrecognised, mut sample) = (0, Vec::new());
    let scanned = reader::scan(file, |entry| {
        if let Some(matched) = signatures::match_entry(&entry) {
            groups.add(&entry, matched, &context);
        } else if crate::sms::symptoms::reads_as_failure(&entry.message) {
            unrecognised += 1;
            if sample.len() < MAX_UNRECOGNISED_PER_LOG {
                sample.push(UnrecognisedLine {
                    client: String::new(),
                    log: String::new(),
                    line: entry.line,
                    time: entry.time.clone(),
                    text: cut(&entry.text, MAX_EXAMPLE_CHARS),
                });
            }
        }
        context.follow(&entry);
    });
    log.unrecognised = unrecognised;
    log.unrecognised_sample = sample;
    let seen = usize::try_from(groups.lines).unwrap_or(usize::MAX);
    match scanned {
        Ok(scan) => {
            (log.status, log.reason) = scan.outcome(seen);
            log.encoding = scan.encoding.to_string();
            log.lines = scan.lines;
            if log.client.is_empty() {
                log.client = scan.named_client.unwrap_or_default();
            }
        }
        Err(err) => {
            log.status = Status::Unreadable;
            log.reason = format!("read failed after {seen} symptoms: {err}");
        }
    }
    log.symptoms = groups.lines;
    log.not_kept = groups.not_kept;
    (log, groups.groups)
}

/// Findings the history saw that are gone (`--history`): those the last
/// run recorded had and this run no longer has, and those an earlier run
/// stopped finding.
pub(crate) struct Fixed {
    /// The fixed findings, as the history stored them.
    pub findings: Vec<Finding>,
    /// The start of the last run that saw each, by position (RFC 3339).
    pub last_seen: Vec<String>,
    /// The start of the first run that no longer saw each, by position
    /// (RFC 3339): this run's for a finding fixed since the last run.
    pub fixed_by: Vec<String>,
}

/// A client log writes its own local time with no zone: a line counts as
/// older than a run only when it is older by more than the widest zone
/// offset (UTC+14), so no line written after the fix is said to predate it.
const WIDEST_ZONE_OFFSET_SECS: i64 = 14 * 3600;

/// Seconds since 1970 of a log's time as written (`Tue Jun 22 01:26:12.820
/// 1999` or `1/16/2001 2:27:42 PM`), read as if UTC; `None` when it reads as
/// neither or lies before 1970.
fn log_seconds(time: &str) -> Option<i64> {
    let fields: Vec<&str> = time.split_whitespace().collect();
    let (year, month, day, clock, pm) = match fields.as_slice() {
        [_, month, day, clock, year] => {
            const MONTHS: [&str; 12] = [
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
            ];
            let month = MONTHS.iter().position(|m| month.eq_ignore_ascii_case(m))? as i64 + 1;
            (year.parse::<i64>().ok()?, month, day.parse::<i64>().ok()?, *clock, None)
        }
        [date, clock, half] => {
            let mut parts = date.split('/').map(|p| p.parse::<i64>().ok());
            let (month, day, year) = (parts.next()??, parts.next()??, parts.next()??);
            let pm = match half.to_ascii_uppercase().as_str() {
                "AM" => false,
                "PM" => true,
                _ => return None,
            };
            (year, month, day, *clock, Some(pm))
        }
        _ => return None,
    };
    let mut parts = clock.split(':');
    let mut hour: i64 = parts.next()?.parse().ok()?;
    let minute: i64 = parts.next()?.parse().ok()?;
    let second: i64 = parts.next()?.split('.').next()?.parse().ok()?;
    match pm {
        Some(pm) if (1..=12).contains(&hour) => hour = hour % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None => {}
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // humantime does the calendar (days per month, leap years).
    let utc = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
    let since_epoch = humantime::parse_rfc3339(&utc)
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    i64::try_from(since_epoch.as_secs()).ok()
}

/// Whether a line written at `time` (the log's) is surely older than the
/// run that started at `run` (RFC 3339).
fn predates(time: &str, run: &str) -> bool {
    let (Some(line), Ok(run)) = (log_seconds(time), humantime::parse_rfc3339(run)) else {
        return false;
    };
    let Ok(run) = run.duration_since(std::time::UNIX_EPOCH) else {
        return false;
    };
    line < i64::try_from(run.as_secs()).unwrap_or(i64::MAX) - WIDEST_ZONE_OFFSET_SECS
}

/// A symptom nothing on the shares explains, tied again to the findings
/// `fixed` holds: when one explains it and its last line predates the fix,
/// the tie says so.
fn before_fix(group: &Group, fixed: &Fixed, locations: &[Location]) -> Option<tie::Tie> {
    let no_causes = vec![String::new(); fixed.findings.len()];
    let shares = tie::Shares {
        findings: &fixed.findings,
        cause_of: &no_causes,
        locations,
    };
    let tied = tie::tie(&group.matched, &group.context, &shares);
    if tied.outcome != Outcome::Explained {
        return None;
    }
    // Only the fixes the line surely predates explain it.
    let predated: Vec<usize> = tied
        .findings
        .iter()
        .copied()
        .filter(|&i| predates(&group.last, &fixed.fixed_by[i]))
        .collect();
    if predated.is_empty() {
        return None;
    }
    let what: Vec<String> = predated
        .iter()
        .map(|&i| {
            let f = &fixed.findings[i];
            let path = if f.path.is_empty() {
                String::new()
            } else {
                format!("\\{}", f.path)
            };
            format!(
                "{} at {}{path} (last seen in the run of {}; the run of {} no longer found it)",
                f.code, f.location, fixed.last_seen[i], fixed.fixed_by[i]
            )
        })
        .collect();
    Some(tie::Tie {
        outcome: Outcome::BeforeFix,
        causes: Vec::new(),
        findings: Vec::new(),
        reason: format!("predates the fix: {} explained it", what.join("; ")),
    })
}

/// Reads every client log under `folders` and ties each kind of symptom
/// to the findings and causes that explain it; with `fixed`, a symptom
/// only a fixed finding explains, older than the fix, says it predates it.
/// Logs are read in parallel; the result is sorted, the same whatever the
/// thread count.
pub(crate) fn read_and_tie(
    folders: &[PathBuf],
    findings: &[Finding],
    causes: &[Cause],
    locations: &[Location],
    fixed: Option<&Fixed>,
) -> Symptoms {
    let work: Vec<(&PathBuf, String, reader::Found)> = folders
        .iter()
        .flat_map(|folder| {
            let shown = crate::names::display_path(folder);
            reader::find_logs(folder)
                .into_iter()
                .map(move |f| (folder, shown.clone(), f))
        })
        .collect();
    let mut read: Vec<(ClientLog, Vec<Group>)> = work
        .into_par_iter()
        .map(|(dir, folder, found)| read_log(dir, &folder, found))
        .collect();
    read.sort_by(|(a, _), (b, _)| (&a.client, &a.folder, &a.path).cmp(&(&b.client, &b.folder, &b.path)));
    let cause_of = crate::causes::cause_of_each(causes, findings.len());
    let shares = tie::Shares {
        findings,
        cause_of: &cause_of,
        locations,
    };
    let mut logs = Vec::new();
    let mut lines = Vec::new();
    for (mut log, groups) in read {
        for group in groups {
            if lines.len() >= MAX_SYMPTOM_ROWS {
                // The cap in all: the rest of this log's kinds are counted.
                log.not_kept += group.count;
                continue;
            }
            let mut tied = tie::tie(&group.matched, &group.context, &shares);
            if tied.outcome == Outcome::Unexplained {
                if let Some(before) = fixed.and_then(|fixed| before_fix(&group, fixed, locations)) {
                    tied = before;
                }
            }
            let explained = tied.outcome == Outcome::Explained;
            let matched = group.matched;
            lines.push(SymptomLine {
                client: log.client.clone(),
                log: log.path.clone(),
                line: group.line,
                first: group.first,
                last: group.last,
                last_line: group.last_line,
                count: group.count,
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
                example: group.example,
            });
        }
        logs.push(log);
    }
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
    let mut logs = logs;
    let mut unrecognised_by_client: BTreeMap<String, u64> = BTreeMap::new();
    let mut unrecognised = Vec::new();
    // `logs` is sorted by client, folder and path: the sample is the first
    // lines of the first logs, the same whatever the thread count.
    for log in logs.iter_mut().filter(|l| l.unrecognised > 0) {
        *unrecognised_by_client.entry(log.client.clone()).or_default() += log.unrecognised;
        for mut line in std::mem::take(&mut log.unrecognised_sample) {
            if unrecognised.len() < MAX_UNRECOGNISED_SAMPLE {
                line.client = log.client.clone();
                line.log = log.path.clone();
                unrecognised.push(line);
            }
        }
    }
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
    let of = |outcome: Outcome| lines.iter().filter(|l| l.outcome == outcome).map(|l| l.count).sum();
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
        symptoms: logs.iter().map(|l| l.symptoms).sum(),
        rows: lines.len(),
        not_kept: logs.iter().map(|l| l.not_kept).sum(),
        explained: of(Outcome::Explained),
        not_checked: of(Outcome::NotChecked),
        unexplained: of(Outcome::Unexplained),
        before_fix: of(Outcome::BeforeFix),
        not_share_related: of(Outcome::NotShareRelated),
        unexplained_clients: unexplained_clients.len(),
        unrecognised: unrecognised_by_client.values().sum(),
        unrecognised_clients: unrecognised_by_client.len(),
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
        unrecognised_by_client,
        unrecognised,
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

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn log_times_read_in_both_renderings_and_odd_ones_do_not() {
        assert_eq!(log_seconds("Thu Jan 01 00:00:01.500 1970"), Some(1));
        assert_eq!(log_seconds("Tue Jun 22 01:26:12.820 1999"), Some(930_014_772));
        assert_eq!(log_seconds("9/15/2000 8:57:54 AM"), Some(969_008_274));
        assert_eq!(
            log_seconds("9/15/2000 12:00:00 AM"),
            log_seconds("Fri Sep 15 00:00:00.000 2000")
        );
        assert_eq!(
            log_seconds("9/15/2000 12:30:00 PM"),
            log_seconds("Fri Sep 15 12:30:00.000 2000")
        );
        for odd in [
            "",
            "9/15/2000 13:00:00 PM",
            "Tue Foo 22 01:26:12.820 1999",
            "2/30x/2000 1:00:00 AM",
        ] {
            assert_eq!(log_seconds(odd), None, "{odd}");
        }
    }

    #[test]
    fn a_line_predates_a_run_only_beyond_the_widest_zone_offset() {
        let run = "2000-09-16T12:00:00Z";
        assert!(predates("9/15/2000 8:57:54 AM", run));
        assert!(
            !predates("9/15/2000 11:00:00 PM", run),
            "within 14 hours: could be after in UTC"
        );
        assert!(!predates("", run), "no time: cannot tell");
        assert!(!predates("9/15/2000 8:57:54 AM", "not a time"));
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Issue 28: a folder swapped for a link between the walk and the read
    /// (the race, made deterministic) is not followed out of the folder.
    #[test]
    fn a_folder_swapped_for_a_link_after_the_walk_is_not_read_through() {
        let logs = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let line = "Warning: \\\\SERVER1\\CAP_MS1\\clicomp.box\\hinv.CFG version () out of sync with offer file version (2.00.1239.0000); skipping operations $$<CCIM32><Tue Jun 22 01:26:12.820 1999><thread=1 (0x1)>\r\n";
        std::fs::create_dir_all(logs.path().join("PC-1")).unwrap();
        std::fs::write(
            logs.path().join("PC-1/Ccim32.log"),
            "nothing $$<CCIM32><Tue Jun 22 01:26:12.820 1999><thread=1 (0x1)>\r\n",
        )
        .unwrap();
        std::fs::write(outside.path().join("Ccim32.log"), line.repeat(3)).unwrap();
        let found = reader::find_logs(logs.path());
        assert_eq!(found.len(), 1);
        std::fs::rename(logs.path().join("PC-1"), logs.path().join("PC-1.old")).unwrap();
        std::os::unix::fs::symlink(outside.path(), logs.path().join("PC-1")).unwrap();
        let shown = crate::names::display_path(logs.path());
        let (log, symptoms) = read_log(logs.path(), &shown, found.into_iter().next().unwrap());
        assert_eq!(symptoms.len(), 0, "{log:?}");
        assert_eq!(log.status, Status::Unreadable, "{log:?}");
    }
}
