//! The audit's one loading step: from the parsed arguments to everything
//! the run needs, each input read and checked once (inventory, baseline,
//! history, client-log folders, exclusions), before anything is crawled.
//! An error names the flag to fix.

use crate::cli::{AuditArgs, FailOn, FormatArg, IsolationArg, StdoutArg};
use crate::config::{self, BadClientLogs, BadPattern, Baseline, Config, Exclusions, Faults, Inventory, Isolation};
use crate::history::{HistoryFile, Retention};
use crate::model::Severity;
use crate::report::{CsvDialect, ReportFormat};
use std::path::PathBuf;
use std::time::Duration;

/// Why the arguments of `audit` cannot be run; the text is what the user
/// reads, naming the flag.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("--jobs must be at least 1")]
    Jobs,
    #[error("--per-server must be at least 1")]
    PerServer,
    /// `--upgrade` or `--to`, named in the text.
    #[error("{0}")]
    Upgrade(String),
    #[error("{0:#}")]
    Inventory(anyhow::Error),
    #[error(transparent)]
    ClientLogs(#[from] BadClientLogs),
    #[error("{0:#}")]
    Baseline(anyhow::Error),
    #[error("{0:#}")]
    History(anyhow::Error),
    #[error("{0:#}")]
    Accepted(anyhow::Error),
    #[error(transparent)]
    Exclude(#[from] BadPattern),
    /// The reason never quotes the file's content.
    #[error("--smb-auth {0}")]
    SmbAuth(String),
}

impl InputError {
    /// The message for the terminal and the log: a parser's lines as lines
    /// ([`text::error_for_terminal`]), every other control escaped.
    pub(crate) fn for_terminal(&self) -> String {
        match self {
            InputError::Inventory(err)
            | InputError::Baseline(err)
            | InputError::History(err)
            | InputError::Accepted(err) => crate::text::error_for_terminal(err),
            other => crate::text::for_terminal(&other.to_string()).into_owned(),
        }
    }

    /// The flag whose value is refused (the messages name it; the tests
    /// check each error against its flag through this).
    #[cfg(test)]
    pub(crate) fn flag(&self) -> &'static str {
        match self {
            InputError::Jobs => "--jobs",
            InputError::PerServer => "--per-server",
            InputError::Upgrade(message) if message.starts_with("--to") => "--to",
            InputError::Upgrade(_) => "--upgrade",
            InputError::Inventory(_) => "--inventory",
            InputError::ClientLogs(_) => "--client-logs",
            InputError::Baseline(_) => "--baseline",
            InputError::History(_) => "--history",
            InputError::Accepted(_) => "--accepted",
            InputError::Exclude(_) => "--exclude",
            InputError::SmbAuth(_) => "--smb-auth",
        }
    }
}

/// `smsaudit audit` with its inputs loaded: what to audit ([`Config`]) and
/// how this run goes (reports, output, log, history, exit policy).
#[derive(Debug)]
pub struct AuditCommand {
    pub config: Config,
    pub out: PathBuf,
    pub csv: CsvDialect,
    /// Report files to write into `out`; empty writes none.
    pub formats: Vec<ReportFormat>,
    /// Print matrix.csv (machine flavour) on standard output.
    pub matrix_stdout: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub log: Option<PathBuf>,
    /// The files the run reads, with the flag that names them
    /// (`--inventory`, `--baseline`): never replaced by its log.
    pub(crate) input_files: Vec<(&'static str, PathBuf)>,
    /// `--history`: the file every run is kept in.
    pub history: Option<HistoryFile>,
    pub retention: Retention,
    /// Findings at or above this severity make the exit code 1; `None`
    /// never fails on findings.
    pub fail_on: Option<Severity>,
    /// Faults injected for tests.
    pub faults: Faults,
    /// Notes for stderr about arguments changed (a `--jobs` above the cap).
    pub notes: Vec<String>,
}

impl AuditCommand {
    /// Checks the arguments and loads every input they name, in a fixed
    /// order (the first error is the one reported).
    pub fn load(args: AuditArgs) -> Result<AuditCommand, InputError> {
        let mut config = Config::new(args.roots);
        let mut notes = Vec::new();
        if let Some(jobs) = args.jobs {
            if jobs == 0 {
                return Err(InputError::Jobs);
            }
            if jobs > config::MAX_JOBS {
                notes.push(format!(
                    "--jobs {jobs} is more than {max}; using {max}",
                    max = config::MAX_JOBS
                ));
            }
            config.jobs = jobs.min(config::MAX_JOBS);
        }
        config.isolation = match args.isolation {
            IsolationArg::Process => Isolation::Process,
            IsolationArg::Thread => Isolation::Thread,
        };
        config.discover_depth = args.depth;
        if let (Some(sites), Some(to)) = (&args.upgrade, &args.to) {
            config.upgrade = Some(config::UpgradeRequest::parse(sites, to).map_err(InputError::Upgrade)?);
        }
        let fail_on = match args.fail_on {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        };
        config.location_timeout = (args.location_timeout > 0).then(|| Duration::from_secs(args.location_timeout));
        config.stall_timeout = (args.stall_timeout > 0).then(|| Duration::from_secs(args.stall_timeout));
        if args.per_server == 0 {
            return Err(InputError::PerServer);
        }
        config.per_server = args.per_server;
        let mut exclude = Vec::new();
        if let Some(path) = &args.inventory {
            let inventory = Inventory::load(path).map_err(InputError::Inventory)?;
            exclude.extend(inventory.exclude.iter().cloned());
            config.inventory = Some(inventory);
        }
        exclude.extend(args.exclude);
        for folder in &args.client_logs {
            config.client_logs.push(config::client_log_folder(folder)?);
        }
        if config.roots.iter().any(|root| crate::smb::url_holds_credentials(root)) {
            // Not quoted: the root holds a password.
            return Err(InputError::SmbAuth(
                "is where credentials go: an smb:// root that names a user or password (user:password@host) is refused, since the command line and the reports would show it".into(),
            ));
        }
        if let Some(path) = &args.smb_auth {
            crate::smb::read_auth_file(path)
                .map_err(|err| InputError::SmbAuth(format!("{}: {err}", path.display())))?;
            // The helper is given the path, absolute: it reads the file itself.
            let absolute =
                std::path::absolute(path).map_err(|err| InputError::SmbAuth(format!("{}: {err}", path.display())))?;
            config.smb_auth = Some(absolute);
        }
        if let Some(path) = &args.baseline {
            config.baseline = Some(Baseline::load(path).map_err(InputError::Baseline)?);
        }
        if let Some(path) = &args.accepted {
            config.accepted = Some(config::Accepted::load(path).map_err(InputError::Accepted)?);
        }
        let history = args
            .history
            .map(|path| HistoryFile::waiting(path, Duration::from_secs(args.history_wait)));
        if let Some(file) = &history {
            let past = file.past().map_err(InputError::History)?;
            if let (None, Some(previous)) = (&config.baseline, &past.previous) {
                config.baseline = Some(Baseline {
                    path: format!("{} (the run of {})", file.path.display(), previous.started),
                    snapshot: previous.snapshot.clone(),
                });
            }
            config.history = Some(past);
        }
        config.exclude = Exclusions::new(exclude)?;
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
        let input_files = [
            ("--inventory", args.inventory),
            ("--baseline", args.baseline),
            ("--smb-auth", args.smb_auth),
        ]
        .into_iter()
        .filter_map(|(flag, path)| Some((flag, path?)))
        .collect();
        Ok(AuditCommand {
            config,
            out: args.out,
            csv: args.csv.dialect(args.csv_separator),
            formats,
            matrix_stdout,
            quiet: args.quiet,
            verbose: args.verbose,
            log: args.log,
            input_files,
            history,
            retention: Retention {
                keep_runs: args.keep_runs,
                keep_days: args.keep_days,
            },
            fail_on,
            faults: Faults::from_env(),
            notes,
        })
    }

    /// Where file records beyond what memory should hold are spilled: the
    /// report folder (checked and locked before the crawl), the one place
    /// the audit writes; none without reports.
    pub(crate) fn spill(&self) -> Option<crate::records::Spill> {
        (!self.formats.is_empty()).then(|| crate::records::Spill {
            dir: self.out.clone(),
            buffer_bytes: self.faults.record_buffer.unwrap_or(crate::records::BUFFER_BYTES),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, CliCommand};
    use clap::Parser;

    fn load(args: &[&str]) -> Result<AuditCommand, InputError> {
        let cli = Cli::try_parse_from([&["smsaudit", "audit"], args].concat()).unwrap();
        let CliCommand::Audit(args) = cli.command else {
            unreachable!()
        };
        AuditCommand::load(args)
    }

    /// Each refusal names the flag to fix, in its text and by `flag`.
    #[test]
    fn a_refused_input_names_its_flag() {
        let missing = std::env::temp_dir().join("smsaudit-no-such-input.json");
        let missing = missing.to_str().unwrap();
        for (args, flag, text) in [
            (vec!["r", "--jobs", "0"], "--jobs", "--jobs must be at least 1"),
            (
                vec!["r", "--per-server", "0"],
                "--per-server",
                "--per-server must be at least 1",
            ),
            (
                vec!["r", "--upgrade", "TOOLONG", "--to", "SP2"],
                "--upgrade",
                "--upgrade: ",
            ),
            (vec!["r", "--upgrade", "AB1", "--to", "SP9"], "--to", "--to: "),
            (vec!["r", "--client-logs", missing], "--client-logs", "--client-logs "),
            (
                vec!["r", "--exclude", "[", "--exclude", "ok"],
                "--exclude",
                "bad --exclude pattern \"[\": ",
            ),
        ] {
            let err = load(&args).unwrap_err();
            assert_eq!(err.flag(), flag, "{args:?}");
            assert!(err.to_string().starts_with(text), "{args:?}: {err}");
        }
        assert_eq!(load(&["r", "--baseline", missing]).unwrap_err().flag(), "--baseline");
        assert_eq!(load(&["r", "--inventory", missing]).unwrap_err().flag(), "--inventory");
        let accepted = load(&["r", "--accepted", missing]).unwrap_err();
        assert_eq!(accepted.flag(), "--accepted");
        assert!(
            accepted.to_string().starts_with("cannot read --accepted file "),
            "{accepted}"
        );
    }

    /// The inventory's patterns and `--exclude` are compiled together, once.
    #[test]
    fn exclusions_are_compiled_in_the_loading_step() {
        let loaded = load(&["r", "--exclude", r"ddr.box\*", "--exclude", "*.LOG"]).unwrap();
        assert_eq!(loaded.config.exclude.patterns(), [r"ddr.box\*", "*.LOG"]);
        assert!(loaded.config.exclude.matches("ddr.box/x.ddr"));
        assert!(loaded.config.exclude.matches(r"a\b.log"));
        let spill = loaded.spill().unwrap();
        assert_eq!(spill.dir, std::path::Path::new("smsaudit-report"));
        assert_eq!(spill.buffer_bytes, crate::records::BUFFER_BYTES);
        let piped = load(&["r", "--stdout", "matrix"]).unwrap();
        assert!(piped.spill().is_none());
    }
}
