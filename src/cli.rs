//! Command-line definitions. Parsing ends here, in a [`Command`] holding a
//! validated [`Config`]; nothing below sees clap.

use crate::catalog::Severity;
use crate::config::{self, Config};
use crate::report::{CsvFlavor, ReportFormat};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "smsaudit",
    version,
    about = "Audit SMS 2.0 CAPs, logon points and site server shares for version mismatches",
    long_about = "Audit SMS 2.0 client access points (CAP_<site>), logon points (SMSLOGON) and site server \
shares (SMS_<site>) for version mismatches before clients run into them (KB Q236596 and its family).\n\n\
Exit codes: 0 clean, 1 findings at or above --fail-on, 2 could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Crawl shares and write matrix.csv, files.csv, findings.csv, audit.json,
    /// audit.xlsx and report.html.
    Audit(AuditArgs),
    /// List the catalogue of checks with their KB articles.
    Rules,
    /// Print one check of the catalogue, by code (F01) or KB article (Q236596).
    Explain {
        /// A check code such as F01, or a KB article such as Q236596.
        key: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Shares (\\SERVER\CAP_MS1, /mnt/SERVER1/CAP_MS1) or folders that hold
    /// <SERVER>/<SHARE> folders.
    #[arg(required = true, value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// Folder for the reports; created if missing.
    #[arg(short, long, value_name = "DIR", default_value = "smsaudit-report")]
    pub out: PathBuf,
    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
    /// CSV dialect of matrix.csv, files.csv and findings.csv.
    ///
    /// `spreadsheet` (default): UTF-8 BOM and CRLF so Excel shows accents
    /// right on double-click, and every cell starting with = + - @ tab CR
    /// LF or NUL is prefixed with ' so no file name or CFG value can run
    /// as a formula. `machine`: plain RFC 4180 (no BOM, CRLF), every value
    /// exactly as found, for scripts and pipelines.
    #[arg(long, value_enum, default_value_t = CsvArg::Spreadsheet)]
    pub csv: CsvArg,
    /// Reports to write, repeatable or comma-separated: csv (matrix.csv,
    /// files.csv, findings.csv), json (audit.json), xlsx (audit.xlsx),
    /// html (report.html) [default: all; none when --stdout is given].
    #[arg(long = "format", value_enum, value_name = "FORMAT", value_delimiter = ',')]
    pub formats: Vec<FormatArg>,
    /// Print a report on standard output: `matrix` prints matrix.csv
    /// in the machine flavour, for pipelines (no files unless --format).
    #[arg(long, value_enum, value_name = "REPORT")]
    pub stdout: Option<StdoutArg>,
    /// Worker threads for crawling and hashing [default: 2 x cores, 2..16].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// How many folder levels below each root to look for shares.
    #[arg(long, value_name = "N", default_value_t = config::DEFAULT_DISCOVER_DEPTH)]
    pub depth: usize,
    /// Print nothing but errors.
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
pub enum CsvArg {
    Spreadsheet,
    Machine,
}

/// What the program was asked to do, validated.
#[derive(Debug)]
pub enum Command {
    Audit(AuditCommand),
    Rules,
    Explain(String),
}

#[derive(Debug)]
pub struct AuditCommand {
    pub config: Config,
    pub out: PathBuf,
    pub csv: CsvFlavor,
    /// Report files to write into `out`; empty writes none.
    pub formats: Vec<ReportFormat>,
    /// Print matrix.csv (machine flavour) on standard output.
    pub matrix_stdout: bool,
    pub quiet: bool,
}

impl Cli {
    pub fn into_command(self) -> Result<Command, String> {
        match self.command {
            CliCommand::Rules => Ok(Command::Rules),
            CliCommand::Explain { key } => Ok(Command::Explain(key)),
            CliCommand::Audit(args) => {
                let mut config = Config::new(args.roots);
                if let Some(jobs) = args.jobs {
                    if jobs == 0 {
                        return Err("--jobs must be at least 1".into());
                    }
                    config.jobs = jobs;
                }
                config.discover_depth = args.depth;
                config.fail_on = match args.fail_on {
                    FailOn::Error => Some(Severity::Error),
                    FailOn::Warning => Some(Severity::Warning),
                    FailOn::Info => Some(Severity::Info),
                    FailOn::Never => None,
                };
                let matrix_stdout = args.stdout == Some(StdoutArg::Matrix);
                let mut formats: Vec<ReportFormat> = if args.formats.is_empty() && !matrix_stdout {
                    ReportFormat::ALL.to_vec()
                } else {
                    args.formats
                        .iter()
                        .map(|f| match f {
                            FormatArg::Csv => ReportFormat::Csv,
                            FormatArg::Json => ReportFormat::Json,
                            FormatArg::Xlsx => ReportFormat::Xlsx,
                            FormatArg::Html => ReportFormat::Html,
                        })
                        .collect()
                };
                formats.sort();
                formats.dedup();
                Ok(Command::Audit(AuditCommand {
                    config,
                    out: args.out,
                    csv: match args.csv {
                        CsvArg::Spreadsheet => CsvFlavor::Spreadsheet,
                        CsvArg::Machine => CsvFlavor::Machine,
                    },
                    formats,
                    matrix_stdout,
                    quiet: args.quiet,
                }))
            }
        }
    }
}
