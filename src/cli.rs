//! Command-line definitions: the shapes of the arguments, nothing else.
//! No file is read and nothing is checked here beyond what clap checks;
//! `audit`'s inputs are loaded by `app::AuditCommand::load`. Nothing below
//! `app` sees clap.

use crate::config;
use crate::history;
use crate::report::{CsvDialect, CsvFlavor, CsvSeparator};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "smsaudit",
    version,
    about = "Audit SMS 2.0 CAPs, logon points and site server shares for version mismatches",
    long_about = "Audit SMS 2.0 client access points (CAP_<site>), logon points (SMSLOGON) and site server \
shares (SMS_<site>) for version mismatches before clients run into them (KB Q236596 and its family).\n\n\
Exit codes: 0 clean, 1 findings at or above --fail-on, 2 could not run, 3 not everything could be checked, \
4 drift since the baseline, 130/143 stopped by SIGINT/SIGTERM (the previous report set is kept). A share that stops answering (see audit --stall-timeout) is reported unreadable \
with its reason, and the audit finishes without it: exit 3, unless findings make it 1."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
}

// Parsed once per run: the size of the audit's arguments costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Crawl shares and write matrix.csv, files.csv, findings.csv, causes.csv,
    /// audit.json, audit.xlsx, report.html and status.json.
    Audit(AuditArgs),
    /// List the catalogue of checks with their KB articles.
    Rules,
    /// Print one check of the catalogue, by code (F01) or KB article (Q236596).
    Explain {
        /// A check code such as F01, or a KB article such as Q236596.
        key: String,
    },
    /// Compare two saved audit.json files without rescanning; writes drift.csv.
    Diff(DiffArgs),
    /// Show what a --history file holds: its runs, one run, or the
    /// timeline of a finding, a location, a file or a matrix item.
    History(HistoryArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\
\n  smsaudit history estate.sqlite\
\n      the runs, oldest first, with how many findings were new and resolved\
\n      and how many drift changes each had\
\n  smsaudit history estate.sqlite --run 12\
\n      run 12: its counts, exit code, new and resolved findings and drift\
\n  smsaudit history estate.sqlite --site MS1\
\n      every finding of site MS1: since when, until when\
\n  smsaudit history estate.sqlite --finding 3f2a9c0d11e4b7a2\
\n      one finding, by the fingerprint column of findings.csv\
\n  smsaudit history estate.sqlite --location '\\\\SERVER1\\CAP_MS1' --item 'base compver.ini'\
\n      when the base compver.ini of that CAP changed, and to what\
\n  smsaudit history estate.sqlite --keep-runs 90\
\n      removes all but the last 90 runs\
\n  smsaudit history estate.sqlite --forget '\\\\SERVER2\\CAP_MS2'\
\n      a share removed on purpose: later audits no longer report it missing (A01)\
\n\nEach row of a timeline is one state and the runs it held for: from and to are the start times of the \
first and last run that saw it, runs how many runs that is, now whether the latest run still saw it.")]
pub struct HistoryArgs {
    /// The history file (`audit --history FILE`).
    pub file: PathBuf,
    /// The timeline of one finding, by its fingerprint (the fingerprint
    /// column of findings.csv).
    #[arg(long, value_name = "FINGERPRINT")]
    pub finding: Option<String>,
    /// The timeline of the findings of one check (F01, A05...).
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,
    /// The timeline of the findings of one site, those of the logon points
    /// it shares with other sites included.
    #[arg(long, value_name = "SITE")]
    pub site: Option<String>,
    /// A location (`\\SERVER1\CAP_MS1`, any case): alone, its status run by
    /// run; with the other options, only what is at that location.
    #[arg(long, value_name = "LOCATION")]
    pub location: Option<String>,
    /// The timeline of a file (share-relative path, any case): size, time,
    /// hash and version as each run saw them.
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// The timeline of matrix items whose label contains TEXT, any case
    /// (`base compver.ini`, `CFG version`): the value each location showed.
    #[arg(long, value_name = "TEXT")]
    pub item: Option<String>,
    /// One run, by its number in the run table: its counts, exit code,
    /// the findings new in it and those it resolved, and its drift rows
    /// (or their count).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..),
          conflicts_with_all = ["finding", "code", "site", "location", "path", "item", "csv"])]
    pub run: Option<i64>,
    /// Print CSV instead of a table: `--csv` or `--csv=spreadsheet` (BOM,
    /// formula-safe, see `audit --help`), `--csv=machine` (values as stored).
    #[arg(long, value_enum, value_name = "FLAVOR", num_args = 0..=1, require_equals = true,
          default_missing_value = "spreadsheet")]
    pub csv: Option<CsvArg>,
    /// The separator of `--csv`: `comma` (or `,`, the default: RFC 4180, Excel
    /// and LibreOffice in English-speaking locales), `semicolon` (or `;`:
    /// Excel in locales whose decimal separator is a comma, such as German,
    /// French, Dutch, Spanish or Italian, which puts a comma-separated file
    /// all in column A on a double click) or `tab`.
    #[arg(long, value_enum, value_name = "SEPARATOR", default_value_t = SeparatorArg::Comma)]
    pub csv_separator: SeparatorArg,
    /// Remove all but the last N runs first (and the states only they
    /// held); see `audit --keep-runs`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_runs: Option<u64>,
    /// Remove the runs that started more than DAYS days ago first (1 to
    /// 36500); see `audit --keep-days`.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u64).range(1..=history::MAX_KEEP_DAYS))]
    pub keep_days: Option<u64>,
    /// Seconds to wait for an audit that is writing the history (at most
    /// 1000000).
    #[arg(long, value_name = "SECONDS", default_value_t = history::DEFAULT_WAIT.as_secs(),
          value_parser = clap::value_parser!(u64).range(..=history::MAX_WAIT_SECONDS))]
    pub wait: u64,
    /// Drop a location (`\\SERVER\SHARE`, any case) from what later audits
    /// expect. Every location the history has seen is expected in each
    /// audit over its roots, and one not found is an A01 finding ("seen
    /// until <date>, not found now", exit 3) every night; after --forget it
    /// is not, until an audit sees it again. Its past runs stay in the
    /// history. Nothing else is done or shown.
    #[arg(long, value_name = "LOCATION", conflicts_with_all = ["finding", "code", "site", "location", "path", "item", "csv"])]
    pub forget: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier audit.json.
    pub old: PathBuf,
    /// The later audit.json.
    pub new: PathBuf,
    /// Folder to write drift.csv to; without it, drift.csv goes to stdout.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// CSV dialect (see `audit --help`).
    #[arg(long, value_enum, default_value_t = CsvArg::Machine)]
    pub csv: CsvArg,
    /// The CSV separator: `comma` (or `,`, the default: RFC 4180, Excel
    /// and LibreOffice in English-speaking locales), `semicolon` (or `;`:
    /// Excel in locales whose decimal separator is a comma, such as German,
    /// French, Dutch, Spanish or Italian, which puts a comma-separated file
    /// all in column A on a double click) or `tab`.
    #[arg(long, value_enum, value_name = "SEPARATOR", default_value_t = SeparatorArg::Comma)]
    pub csv_separator: SeparatorArg,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Shares (\\SERVER\CAP_MS1, /mnt/SERVER1/CAP_MS1,
    /// smb://SERVER[:PORT]/CAP_MS1 read by the smsaudit-smb helper),
    /// folders that hold <SERVER>/<SHARE> folders, or servers whose
    /// CAP_, SMSLOGON and SMS_ shares are read (smb://SERVER[:PORT]).
    #[arg(value_name = "ROOT", required_unless_present = "inventory")]
    pub roots: Vec<PathBuf>,
    /// An inventory (TOML) naming the estate's sites, CAPs, site servers,
    /// domains and logon points; its shares are audited too.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// A previous audit.json: report what changed since, in drift.csv.
    /// With --history, the history's last run is the baseline unless this
    /// names a file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Findings you know of and accept for a while (TOML): `[[accept]]`
    /// entries with `fingerprint` (the fingerprint column of findings.csv),
    /// `reason` and `until` (the last day, YYYY-MM-DD). An accepted finding
    /// stays in every report, marked with its reason (the accepted column),
    /// and does not count towards the exit code until that day has passed;
    /// an expired entry counts as a warning, and an entry no finding has is
    /// a note.
    #[arg(long, value_name = "FILE")]
    pub accepted: Option<PathBuf>,
    /// Keep every run in this SQLite file (created, with its folder, if
    /// missing): findings get first_seen, the summary and audit.json say
    /// what is new since the previous run and what was resolved, drift is
    /// reported against the previous run, and `smsaudit history FILE`
    /// shows the timelines. A file that is not an smsaudit history is
    /// refused (exit 2) before the crawl and left as it is.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Seconds to wait for another run writing the same --history before
    /// giving up (exit 2); at most 1000000.
    #[arg(long, value_name = "SECONDS", requires = "history",
          default_value_t = history::DEFAULT_WAIT.as_secs(),
          value_parser = clap::value_parser!(u64).range(..=history::MAX_WAIT_SECONDS))]
    pub history_wait: u64,
    /// With --history: after recording this run, remove the runs beyond the
    /// last N (any N: a larger one than the history holds removes none).
    /// The latest finished run always stays.
    #[arg(long, value_name = "N", requires = "history", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_runs: Option<u64>,
    /// With --history: after recording this run, remove the runs that
    /// started more than DAYS days ago (1 to 36500) and are older, by
    /// order, than every run that started within them (a run whose clock
    /// was wrong cannot make the runs before it old); never the latest
    /// finished run.
    #[arg(long, value_name = "DAYS", requires = "history", value_parser = clap::value_parser!(u64).range(1..=history::MAX_KEEP_DAYS))]
    pub keep_days: Option<u64>,
    /// Folder for the reports; created if missing.
    #[arg(short, long, value_name = "DIR", default_value = "smsaudit-report")]
    pub out: PathBuf,
    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
    /// CSV dialect of the csv reports (see --format).
    ///
    /// `spreadsheet` (default): UTF-8 BOM and CRLF so Excel shows accents
    /// right on double-click; every cell, and every part of a cell after a
    /// `,` `;` tab or line break, that starts with = + - @ tab CR LF or
    /// NUL is prefixed with ' so no file name or CFG value can run as a
    /// formula whatever separator the spreadsheet uses (a version never
    /// gets one); bidi and invisible
    /// characters are shown as <U+202E>. `machine`: plain RFC 4180 (no BOM,
    /// CRLF), every value exactly as found, for scripts and pipelines.
    #[arg(long, value_enum, default_value_t = CsvArg::Spreadsheet)]
    pub csv: CsvArg,
    /// The CSV separator: `comma` (or `,`, the default: RFC 4180, Excel
    /// and LibreOffice in English-speaking locales), `semicolon` (or `;`:
    /// Excel in locales whose decimal separator is a comma, such as German,
    /// French, Dutch, Spanish or Italian, which puts a comma-separated file
    /// all in column A on a double click) or `tab`.
    #[arg(long, value_enum, value_name = "SEPARATOR", default_value_t = SeparatorArg::Comma)]
    pub csv_separator: SeparatorArg,
    /// Reports to write, repeatable or comma-separated: csv (matrix.csv,
    /// files.csv, findings.csv, causes.csv; symptoms.csv with --client-logs,
    /// upgrade.csv with --upgrade, drift.csv with a baseline), json
    /// (audit.json), xlsx (audit.xlsx), html (report.html) [default: all;
    /// none when --stdout is given]. A set also holds manifest.json, and
    /// status.json in every set: the exit code and the counts behind it,
    /// for monitors.
    #[arg(long = "format", value_enum, value_name = "FORMAT", value_delimiter = ',')]
    pub formats: Vec<FormatArg>,
    /// Print a report on standard output: `matrix` prints matrix.csv
    /// in the machine flavour, for pipelines (no files unless --format).
    #[arg(long, value_enum, value_name = "REPORT")]
    pub stdout: Option<StdoutArg>,
    /// Locations crawled at once at most, and hashing threads in all: each
    /// location hashes on its own share of them [default: 4 x cores,
    /// 16..64; at most 128, a larger N is lowered to 128 with a note]. On
    /// Linux the crawl starts with one location per core and doubles that
    /// while cores sit idle (shares that wait on a disk or a network), up
    /// to N.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// How many folder levels below each root to look for shares.
    #[arg(long, value_name = "N", default_value_t = config::DEFAULT_DISCOVER_DEPTH)]
    pub depth: usize,
    /// Pre-upgrade check: the sites (comma-separated) about to be upgraded.
    #[arg(long, value_name = "SITE[,SITE...]", requires = "to")]
    pub upgrade: Option<String>,
    /// Pre-upgrade check: the release they go to (RTM, SP1..SP5 or a
    /// version such as 2.00.1493.4009).
    #[arg(long, value_name = "RELEASE", requires = "upgrade")]
    pub to: Option<String>,
    /// Seconds a location may go without any progress (no folder entry
    /// listed, no data read) before it is reported as not answering
    /// (unreadable, exit 3) and the audit goes on without it; 0 for no
    /// limit. Only the location's own I/O counts: a slow share never uses up
    /// another's time.
    /// At most 31536000 (a year).
    #[arg(long, value_name = "SECONDS", default_value_t = config::DEFAULT_STALL_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(..=config::MAX_TIMEOUT_SECONDS))]
    pub stall_timeout: u64,
    /// Seconds a location may take in all, however busy; 0 (the default)
    /// for no limit; at most 31536000 (a year).
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(..=config::MAX_TIMEOUT_SECONDS))]
    pub location_timeout: u64,
    /// Locations of one server crawled at the same time.
    #[arg(long, value_name = "N", default_value_t = config::DEFAULT_PER_SERVER)]
    pub per_server: usize,
    /// Where each share is read. `process` (default): in a worker process
    /// per location, killed and left behind when its share stops answering,
    /// so the audit finishes and exits even when a read hangs in the kernel
    /// (a dead network or FUSE mount). `thread`: in this process, which
    /// starts a little faster but may not be able to exit after such a hang.
    #[arg(long, value_enum, value_name = "WHERE", default_value_t = IsolationArg::Process)]
    pub isolation: IsolationArg,
    /// Share-relative paths not to audit (glob, case-insensitive, `/` or
    /// `\`), e.g. `--exclude '*.log' --exclude 'ddr.box/*'`. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// A folder of logs collected from SMS clients (`DIR/<client>/Ccim32.log`,
    /// `DIR/<client>_Ccim32.log`...): each symptom line is tied to the
    /// finding and cause that explain it, in symptoms.csv. Repeatable.
    #[arg(long = "client-logs", value_name = "DIR")]
    pub client_logs: Vec<PathBuf>,
    /// Credentials for smb:// roots, in smbclient's authentication-file
    /// format (`username = `, `password = `, `domain = ` lines); refused
    /// when others than its owner may read it. Without it, the environment's
    /// SMSAUDIT_SMB_USER, SMSAUDIT_SMB_PASSWORD and SMSAUDIT_SMB_DOMAIN, else a
    /// guest logon. Credentials are never taken from the command line.
    #[arg(long = "smb-auth", value_name = "FILE")]
    pub smb_auth: Option<PathBuf>,
    /// Write a log of what was read, skipped and why to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Print that log to stderr as well.
    #[arg(short, long)]
    pub verbose: bool,
    /// Print nothing but errors (no progress, no summary).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Csv,
    Json,
    Xlsx,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StdoutArg {
    Matrix,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IsolationArg {
    Process,
    Thread,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CsvArg {
    Spreadsheet,
    Machine,
}

impl CsvArg {
    pub fn flavor(self) -> CsvFlavor {
        match self {
            CsvArg::Spreadsheet => CsvFlavor::Spreadsheet,
            CsvArg::Machine => CsvFlavor::Machine,
        }
    }

    /// This flavour with the separator `--csv-separator` asks for.
    pub fn dialect(self, separator: SeparatorArg) -> CsvDialect {
        CsvDialect {
            flavor: self.flavor(),
            separator: match separator {
                SeparatorArg::Comma => CsvSeparator::Comma,
                SeparatorArg::Semicolon => CsvSeparator::Semicolon,
                SeparatorArg::Tab => CsvSeparator::Tab,
            },
        }
    }
}

/// `--csv-separator`: by name, or the character itself.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SeparatorArg {
    #[value(alias = ",")]
    Comma,
    #[value(alias = ";")]
    Semicolon,
    #[value(alias = "\t")]
    Tab,
}
