//! `smsaudit audit`: run the audit, write its reports as one set, print its
//! summary, and log the run whatever its outcome. SIGINT and SIGTERM stop
//! it ([`crate::interrupt`]) with the previous report set kept.

use super::console;
use super::inputs::AuditCommand;
use super::runlog::RunLog;
use crate::audit::Audit;
use crate::crawl::Progress;
use crate::exit::ExitCode;
use crate::interrupt::{self, Signal};
use crate::model::Severity;
use crate::output;
use crate::report;
use crate::text;
use anyhow::{Context, Result};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Runs an audit, writes its reports and its log, and says how it ended.
/// Everything that can make the run fail (output folder, its lock, the
/// log's place) is checked before the crawl starts; an error is printed
/// and logged, and makes the run one that could not run.
pub fn audit(command: &AuditCommand, log: RunLog) -> ExitCode {
    let log = Arc::new(Mutex::new(log));
    let out = (!command.formats.is_empty()).then(|| command.out.clone());
    let for_signal = log.clone();
    let assembled = Assembled::default();
    let recorder = Recorder {
        history: command.history.clone(),
        retention: command.retention,
        quiet: command.quiet,
        scope: crate::config::Scope::of(&command.config),
        audit: assembled.clone(),
    };
    if let Err(err) = interrupt::install(move |signal| stop(signal, &for_signal, out.as_deref(), &recorder)) {
        text::println_stderr(&format!("smsaudit: cannot take SIGINT and SIGTERM: {err}"));
    }
    let code = match run(command, &log, &assembled) {
        Ok(code) => code,
        Err(err) => {
            // An error caused by a stop under way: the stop ends the process.
            interrupt::claim_finish();
            // Errors can carry share and file names: no raw control characters.
            let shown = text::error_for_terminal(&err);
            text::println_stderr(&format!("smsaudit: {shown}"));
            lock(&log).error_shown(&shown);
            ExitCode::CouldNotRun
        }
    };
    // A run that ended before its record gives its lease back.
    if let Some(history) = &command.history {
        history.give_back_lease();
    }
    let written = lock(&log).write(code);
    match written {
        Ok(()) => code,
        Err(err) => {
            text::println_stderr(&format!("smsaudit: {}", text::error_for_terminal(&err)));
            ExitCode::CouldNotRun
        }
    }
}

/// Logs a run refused before it started (an inventory or baseline that
/// cannot be used, a bad `--jobs`...): the error is already printed, and
/// `shown` is its text for the terminal.
pub fn refused(mut log: RunLog, shown: &str) -> ExitCode {
    log.error_shown(shown);
    if let Err(err) = log.write(ExitCode::CouldNotRun) {
        text::println_stderr(&format!("smsaudit: {}", text::error_for_terminal(&err)));
    }
    ExitCode::CouldNotRun
}

/// A history that could not take the run (damaged, locked, full): said on
/// stderr and in the log, and the run is one that could not run (2); its
/// reports stay written.
fn history_failed(log: &Mutex<RunLog>, err: &anyhow::Error) -> ExitCode {
    let shown = text::error_for_terminal(err);
    text::println_stderr(&format!("smsaudit: {shown}"));
    lock(log).error_shown(&shown);
    ExitCode::CouldNotRun
}

fn lock(log: &Mutex<RunLog>) -> MutexGuard<'_, RunLog> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

/// The assembled audit, once there is one, for a stop that comes after
/// its report set was put in place.
type Assembled = Arc<Mutex<Option<Arc<Audit>>>>;

/// What a stop needs to record a run whose report set is in place: such a
/// run is finished, and the next run's baseline.
struct Recorder {
    history: Option<crate::history::HistoryFile>,
    retention: crate::history::Retention,
    quiet: bool,
    /// The run's roots and inventory shares ([`crate::config::Scope`]).
    scope: crate::config::Scope,
    audit: Assembled,
}

fn run(command: &AuditCommand, log: &Mutex<RunLog>, assembled: &Assembled) -> Result<ExitCode> {
    let started = Instant::now();
    let progress = Arc::new(Progress::default());
    let bar = (!command.quiet && std::io::stderr().is_terminal()).then(|| console::progress_bar(progress.clone()));
    let audited = run_stages(command, log, progress);
    if let Some((done, thread)) = bar {
        done.store(true, Ordering::Relaxed);
        let _ = thread.join();
    }
    // Held until the run ends: one run at a time per folder.
    let (audit, _output_lock) = audited?;
    // The code this run exits with once its set is in place: status.json
    // says it (a set that cannot be put in place is 2, and the previous
    // set, with its own status.json, stays).
    let verdict_code = exit_code(&audit, command.fail_on);
    let audit = Arc::new(audit);
    *assembled.lock().unwrap_or_else(|e| e.into_inner()) = Some(audit.clone());
    // All reports or none: on error the previous set stays, and the log and
    // the summary are still written.
    let written = if command.formats.is_empty() {
        Ok(Vec::new())
    } else {
        report::write_selected(
            &audit,
            &command.out,
            command.csv,
            verdict_code,
            &command.formats,
            command.faults.pause.as_ref(),
        )
    };
    // From here the run ends the process, even if a signal comes: a stop
    // no longer needs the audit, and holding it there would keep the file
    // records' spilled runs in the report folder past the end of the run.
    interrupt::claim_finish();
    assembled.lock().unwrap_or_else(|e| e.into_inner()).take();
    if command.matrix_stdout {
        let bytes = report::csv::matrix(&audit, report::CsvFlavor::Machine)?;
        console::print_stdout(&bytes)?;
    }
    let detail = (command.verbose || command.log.is_some()).then(|| console::log_lines(&audit));
    if let (true, Some(lines)) = (command.verbose, &detail) {
        let shown: String = lines.iter().map(|l| format!("{l}\n")).collect();
        text::print_stderr(&console::fit_to_width(&shown, console::stderr_width()));
    }
    let files = written.as_deref().unwrap_or_default();
    let drift_csv = files
        .iter()
        .find(|f| f.file_name() == Some(report::registry::DRIFT_CSV.as_ref()));
    let drift_lines = console::drift_log_lines(&audit, drift_csv.map(|p| p.as_path()));
    let drift_csv = drift_csv.is_some();
    let mut summary = console::summary(&audit, started.elapsed().as_secs_f64(), command.verbose, drift_csv);
    if let Some(plan) = &audit.upgrade {
        summary.push_str(&console::terminal_lines(&crate::upgrade::summary(plan)));
    }
    for path in files {
        summary.push_str(&format!(
            "  wrote {}\n",
            text::for_terminal(&path.display().to_string())
        ));
    }
    if !command.quiet {
        // Fitted to the console; the log keeps one line per fact for grep.
        text::print_stderr(&console::fit_to_width(&summary, console::stderr_width()));
    }
    let mut lines = lock(log);
    lines.add_lines(detail.into_iter().flatten());
    lines.add_lines(summary.lines().map(str::to_string));
    lines.add_lines(drift_lines);
    drop(lines);
    // Drift that could not be computed (the history failed while it was
    // read) is said on stderr and in the log; exit_code made it 2.
    if let Some(message) = &audit.drift_error {
        text::println_stderr(&format!("smsaudit: {}", text::for_terminal(message)));
        lock(log).error(message);
    }
    // The history records every run that got this far, with its exit code.
    let code = match &written {
        Ok(_) => verdict_code,
        Err(_) => ExitCode::CouldNotRun,
    };
    // A history that cannot take the run (damaged, locked, full) fails the
    // run, said on stderr and in the log; the reports stay written.
    let code = match super::history::record(command, &audit, code, written.is_ok()) {
        Ok(code) => code,
        Err(err) => history_failed(log, &err),
    };
    written?;
    Ok(code)
}

/// The audit's stages in order: discovery; then this command's own
/// output, log and history checked against the roots that answered;
/// then the refusals before the crawl; then the crawl and the rest.
fn run_stages(
    command: &AuditCommand,
    log: &Mutex<RunLog>,
    progress: Arc<Progress>,
) -> Result<(Audit, Option<output::OutputLock>)> {
    let config = &command.config;
    let discovery = crate::Discovery::run(config);
    let output_lock = prepare_outputs(command, log, &discovery.locations)?;
    discovery.refuse_unauditable(config)?;
    crate::config::Pause::hold_at(command.faults.pause.as_ref(), crate::config::PausePoint::Crawl, 1);
    let audit = discovery.audit(config, progress, command.spill())?;
    Ok((audit, output_lock))
}

/// Checks that the log, the history and the report folder are outside
/// every root that answered (a root that did not, whose very stat could
/// hang this process, is left out: nothing can be written into it), then
/// places the log, opens the history and creates and locks the report
/// folder.
fn prepare_outputs(
    command: &AuditCommand,
    log: &Mutex<RunLog>,
    found: &[crate::discover::Discovered],
) -> Result<Option<output::OutputLock>> {
    let mut audited = command.config.roots.clone();
    if let Some(inventory) = &command.config.inventory {
        audited.extend(inventory.shares().into_iter().map(|s| s.path));
    }
    let answered: Vec<_> = audited
        .into_iter()
        .filter(|root| !crate::discover::did_not_answer(found, root))
        .collect();
    if let Some(path) = &command.log {
        let checked = output::check_outside_roots(path, &answered)
            .and_then(|()| refuse_log_on_own_files(command, path))
            .and_then(|()| output::prepare_log(path));
        let mut log = lock(log);
        match checked {
            Ok(()) => log.ready(),
            Err(err) => {
                log.refuse();
                return Err(err);
            }
        }
    }
    // --history: never inside what is audited; created before the crawl.
    if let Some(history) = &command.history {
        output::check_outside_roots(&history.path, &answered).context("--history")?;
        let conn = history.open_for_writing()?;
        history.take_lease(&conn)?;
    }
    if command.formats.is_empty() {
        return Ok(None);
    }
    output::check_outside_roots(&command.out, &answered)?;
    output::prepare_output(&command.out)?;
    // Again on the folder as created: a link swapped in on the way is
    // judged by where it leads.
    output::check_outside_roots(&command.out, &answered)?;
    Ok(Some(report::lock_output(&command.out)?))
}

/// Refuses a `--log` that is one of the run's own files, which the log
/// would replace: an input (`--inventory`, `--baseline`, a file under
/// `--client-logs`), the `--history`, or a report of the set (a report's
/// name in `--out`). Compared by identity (device and inode, Windows's
/// file index), so a second spelling or a hard link is the same file.
fn refuse_log_on_own_files(command: &AuditCommand, log: &Path) -> Result<()> {
    let refuse = |what: String| {
        anyhow::anyhow!(
            "--log {} is {what}: the log would replace it. Give the log a path of its own",
            log.display()
        )
    };
    let mut files: Vec<(&str, &Path)> = command
        .input_files
        .iter()
        .map(|(flag, path)| (*flag, path.as_path()))
        .collect();
    if let Some(history) = &command.history {
        files.push(("--history", &history.path));
    }
    for (flag, path) in files {
        if output::same_file(log, path) {
            return Err(refuse(format!("the file of {flag} {}", path.display())));
        }
    }
    for folder in &command.config.client_logs {
        if output::check_outside_roots(log, std::slice::from_ref(folder)).is_err() {
            return Err(refuse(format!(
                "inside the --client-logs folder {}, which this run reads",
                folder.display()
            )));
        }
    }
    let folder = match log.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = log.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if !command.formats.is_empty()
        && output::same_file(folder, &command.out)
        && output::is_own_name(name, &report::own_names())
    {
        return Err(refuse(format!(
            "a file of the report set in --out {}",
            command.out.display()
        )));
    }
    Ok(())
}

/// What a signal does once the workers are killed and the temporary files
/// removed: says so, logs it and ends the process with the signal's code.
/// A run stopped after its report set was put in place is recorded in the
/// history with the signal's exit code.
fn stop(signal: Signal, log: &Mutex<RunLog>, out: Option<&Path>, recorder: &Recorder) {
    let mut code = match signal {
        Signal::Interrupt => ExitCode::Interrupted,
        Signal::Terminate => ExitCode::Terminated,
    };
    let audit = recorder.audit.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let (true, Some(file), Some(audit)) = (interrupt::committed(), &recorder.history, audit) {
        code = match super::history::record_in(
            file,
            recorder.retention,
            recorder.quiet,
            &recorder.scope,
            &audit,
            code,
            true,
        ) {
            Ok(code) => code,
            Err(err) => history_failed(log, &err),
        };
    }
    let message = match out {
        Some(out) if interrupt::committed() => format!(
            "stopped by {}: this run's report set in {} was already complete",
            signal.name(),
            out.display()
        ),
        Some(out) => format!(
            "stopped by {}: the reports in {} are as they were before this run, and no temporary file of it is left",
            signal.name(),
            out.display()
        ),
        None => format!("stopped by {}", signal.name()),
    };
    text::println_stderr(&format!("smsaudit: {}", text::for_terminal(&message)));
    let mut log = lock(log);
    log.error(&message);
    if let Err(err) = log.write(code) {
        text::println_stderr(&format!("smsaudit: {}", text::error_for_terminal(&err)));
    }
    std::process::exit(code.code());
}

/// The exit code for a finished audit; see [`ExitCode`] for the order.
/// An audit whose drift could not be computed did not do what was asked:
/// 2, whatever its findings.
pub fn exit_code(audit: &Audit, fail_on: Option<Severity>) -> ExitCode {
    if audit.drift_error.is_some() {
        return ExitCode::CouldNotRun;
    }
    audit.verdict().exit_code(fail_on)
}
