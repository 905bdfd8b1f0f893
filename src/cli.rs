//! Command-line definitions. Parsing ends here, in a [`Command`] holding a
//! validated [`Config`]; nothing below sees clap.

use crate::catalog::Severity;
use crate::config::{self, Config};
use crate::report::CsvFlavor;
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
    /// Crawl shares and write matrix.csv, files.csv, findings.csv, audit.json.
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
    /// CSV dialect: `spreadsheet` (UTF-8 BOM, CRLF, formula-like cells
    /// prefixed with ') or `machine` (plain RFC 4180, values untouched).
    #[arg(long, value_enum, default_value_t = CsvArg::Spreadsheet)]
    pub csv: CsvArg,
    /// Worker threads for crawling and hashing [default: 2 x cores, 2..16].
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
                if let (Some(sites), Some(to)) = (&args.upgrade, &args.to) {
                    config.upgrade = Some(crate::upgrade::UpgradeRequest::parse(sites, to)?);
                }
                config.fail_on = match args.fail_on {
                    FailOn::Error => Some(Severity::Error),
                    FailOn::Warning => Some(Severity::Warning),
                    FailOn::Info => Some(Severity::Info),
                    FailOn::Never => None,
                };
                Ok(Command::Audit(AuditCommand {
                    config,
                    out: args.out,
                    csv: match args.csv {
                        CsvArg::Spreadsheet => CsvFlavor::Spreadsheet,
                        CsvArg::Machine => CsvFlavor::Machine,
                    },
                    quiet: args.quiet,
                }))
            }
        }
    }
}
