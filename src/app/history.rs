//! `smsaudit history`: the runs a `--history` file holds and the timelines
//! of findings, locations, files and matrix items; and, for `audit`,
//! recording the finished run.

use super::console::print_stdout;
use super::inputs::AuditCommand;
use crate::audit::Audit;
use crate::cli::HistoryArgs;
use crate::exit::ExitCode;
use crate::history::{self, query, store, HistoryFile, Retention};
use crate::report::{self, CsvDialect};
use crate::text;
use anyhow::{Context, Result};
use std::time::Duration;

/// `smsaudit history`, from its arguments.
#[derive(Debug)]
pub struct HistoryCommand {
    pub file: HistoryFile,
    pub filter: history::Filter,
    /// CSV in this flavour instead of a table.
    pub csv: Option<CsvDialect>,
    pub retention: Retention,
    /// `--forget LOCATION`: drop it from what later audits expect.
    pub forget: Option<String>,
    /// `--run N`: that run instead of the run table.
    pub run: Option<i64>,
}

impl HistoryCommand {
    pub fn new(args: HistoryArgs) -> HistoryCommand {
        HistoryCommand {
            file: HistoryFile::waiting(args.file, Duration::from_secs(args.wait)),
            filter: history::Filter {
                fingerprint: args.finding,
                code: args.code,
                site: args.site,
                location: args.location,
                path: args.path,
                item: args.item,
            },
            csv: args.csv.map(|csv| csv.dialect(args.csv_separator)),
            retention: Retention {
                keep_runs: args.keep_runs,
                keep_days: args.keep_days,
            },
            forget: args.forget,
            run: args.run,
        }
    }
}

/// Prints the runs, or the timeline the filter asks for, as a table or CSV;
/// applies retention first when asked.
pub fn history(command: &HistoryCommand) -> Result<ExitCode> {
    let file = &command.file;
    let Some(mut conn) = file.open_existing()? else {
        anyhow::bail!(
            "there is no history at {}: `smsaudit audit --history {}` starts one",
            file.path.display(),
            file.path.display()
        );
    };
    let context = || format!("cannot read history {}", file.path.display());
    if let Some(location) = &command.forget {
        drop(conn);
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let (name, last_seen) = file
            .open_for_writing()
            .and_then(|mut conn| history::forget::forget(&mut conn, location, &now))
            .map_err(|err| file.explain_busy(err))
            .with_context(|| format!("cannot forget a location in history {}", file.path.display()))?;
        text::println_stderr(&format!(
            "smsaudit: {} (last seen {last_seen}) is no longer expected: audits over its roots will not report it missing (A01) unless they see it again",
            text::for_terminal(&name)
        ));
        return Ok(ExitCode::Clean);
    }
    if command.retention.is_requested() {
        let pruned = store::prune(&mut conn, command.retention)
            .map_err(|err| file.explain_busy(err))
            .with_context(|| format!("cannot prune history {}", file.path.display()))?;
        let shown = text::for_terminal(&file.path.display().to_string()).into_owned();
        text::println_stderr(&match pruned {
            Some(pruned) => format!(
                "smsaudit: removed {pruned} {} from {shown}",
                if pruned == 1 { "run" } else { "runs" }
            ),
            None => format!("smsaudit: nothing removed from {shown}: an audit is in progress on it; prune again later"),
        });
    }
    if let Some(run) = command.run {
        let Some(view) = query::run_view(&conn, run).with_context(context)? else {
            anyhow::bail!(
                "history {} has no run {run}: `smsaudit history {}` lists the runs it has",
                file.path.display(),
                file.path.display()
            );
        };
        print_stdout(render_run(&view).as_bytes())?;
        return Ok(ExitCode::Clean);
    }
    let table = match command.filter.subject() {
        None => query::runs(&conn).with_context(context)?,
        Some(subject) => query::timeline(&conn, subject, &command.filter).with_context(context)?,
    };
    match command.csv {
        Some(flavor) => print_stdout(&report::csv::table(&table.headers, &table.rows, flavor)?)?,
        None if table.rows.is_empty() => text::println_stderr("smsaudit: nothing in the history matches"),
        None => print_stdout(render(&table).as_bytes())?,
    }
    Ok(ExitCode::Clean)
}

/// One run: its facts as aligned name and value, then its new and
/// resolved findings and its drift rows as tables.
fn render_run(view: &query::RunView) -> String {
    let width = view.facts.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (name, value) in &view.facts {
        out.push_str(&format!("{name:width$}  {}\n", text::for_terminal(value)));
    }
    let section = |out: &mut String, title: &str, table: Option<&query::Table>, none: &str| {
        out.push('\n');
        match table {
            None => out.push_str(&format!("{title}: {none}\n")),
            Some(table) if table.rows.is_empty() => out.push_str(&format!("{title}: none\n")),
            Some(table) => {
                out.push_str(&format!("{title} ({}):\n", table.rows.len()));
                out.push_str(&render(table));
            }
        }
    };
    let first = "the first run the history has, nothing to compare with";
    section(&mut out, "new findings", view.new.as_ref(), first);
    section(&mut out, "resolved findings", view.resolved.as_ref(), first);
    let unknown = "unknown (no baseline, or recorded before the history kept drift)";
    let drift = view.drift_changes.map(|_| &view.drift);
    section(&mut out, "drift", drift, unknown);
    out
}

/// Columns aligned with spaces; every cell escaped for the terminal.
fn render(table: &query::Table) -> String {
    let cells: Vec<Vec<String>> = std::iter::once(table.headers.iter().map(|h| h.to_string()).collect())
        .chain(
            table
                .rows
                .iter()
                .map(|row| row.iter().map(|c| text::for_terminal(c).into_owned()).collect()),
        )
        .collect();
    let columns = table.headers.len();
    let widths: Vec<usize> = (0..columns)
        .map(|n| cells.iter().map(|row| row[n].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (n, cell) in row.iter().enumerate() {
            if n + 1 == columns {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', widths[n] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Records the finished run with its exit code: the exit code, or why the
/// history could not take it (the caller says so on stderr and in the log,
/// and the run is one that could not run, 2; its reports are written).
/// `finished`: whether the report set was put in place (a run whose set
/// failed is kept, but is never a baseline).
pub(super) fn record(command: &AuditCommand, audit: &Audit, code: ExitCode, finished: bool) -> Result<ExitCode> {
    match &command.history {
        None => Ok(code),
        Some(file) => {
            let scope = crate::config::Scope::of(&command.config);
            record_in(file, command.retention, command.quiet, &scope, audit, code, finished)
        }
    }
}

/// [`record`] into `file`, for a run stopped by a signal after its report
/// set was put in place too.
pub(super) fn record_in(
    file: &HistoryFile,
    retention: Retention,
    quiet: bool,
    scope: &crate::config::Scope,
    audit: &Audit,
    code: ExitCode,
    finished: bool,
) -> Result<ExitCode> {
    let command_line: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let run = store::RunInfo {
        ended: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        exit_code: code.code(),
        command_line: &command_line,
        lease: file.lease(),
        finished,
        scope,
    };
    let recorded = file
        .open_for_writing()
        .and_then(|mut conn| store::record(&mut conn, audit, &run, retention))
        .map_err(|err| file.explain_busy(err))
        .with_context(|| format!("cannot record this run in history {}", file.path.display()));
    match recorded {
        Ok(recorded) => {
            if !quiet {
                let pruned = match recorded.pruned {
                    _ if recorded.postponed => {
                        ", no old run removed: another run is in progress on it (the next run prunes)".to_string()
                    }
                    0 => String::new(),
                    n => format!(", {n} old {} removed", if n == 1 { "run" } else { "runs" }),
                };
                text::println_stderr(&format!(
                    "  recorded run {} in {}{pruned}",
                    recorded.run,
                    text::for_terminal(&file.path.display().to_string())
                ));
            }
            Ok(code)
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_and_escapes_cells() {
        let table = query::Table {
            headers: vec!["run", "started"],
            rows: vec![vec!["10".into(), "a\u{1b}[31m".into()], vec!["9".into(), "b".into()]],
        };
        let shown = render(&table);
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[0], "run  started");
        assert!(lines[1].starts_with("10   a"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert_eq!(lines[2], "9    b");
    }
}
