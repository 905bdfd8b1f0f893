//! The `--log` file of an audit, for a scheduler: one block per run,
//! appended, so the log keeps every night until it is rotated. A block
//! says when the run started and ended, its command line, what was read,
//! the summary, the drift rows (or their count and where they are), every
//! fatal error and the exit code. Written once at the end of the run
//! whatever the outcome (refused before the crawl, finished, stopped by a
//! signal), also with `--quiet` and with a closed stderr.

use crate::exit::ExitCode;
use crate::output;
use crate::text;
use anyhow::Result;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

/// Whether the log's path was checked against the audited roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Not yet: the run ended before the roots were looked at.
    Unchecked,
    /// Outside every root that answered, its folder created.
    Ready,
    /// Refused (inside a root, a link, a FIFO...): never written.
    Refused,
}

/// The log of one run, filled in as the run goes.
#[derive(Debug)]
pub struct RunLog {
    path: Option<PathBuf>,
    place: Place,
    /// The roots given on the command line, for a log written before they
    /// were looked at.
    roots: Vec<PathBuf>,
    /// The run's own files named on the command line (`--inventory`,
    /// `--baseline`, `--history`), for a log written before they were
    /// compared with it: never replaced by the log.
    own_files: Vec<(&'static str, PathBuf)>,
    started: SystemTime,
    clock: Instant,
    command_line: String,
    lines: Vec<String>,
}

impl RunLog {
    /// Starts the log of a run now. `path` is `--log` (no file without
    /// it); `roots` are the roots on the command line.
    pub fn start(path: Option<PathBuf>, roots: Vec<PathBuf>) -> RunLog {
        RunLog {
            path,
            place: Place::Unchecked,
            roots,
            own_files: Vec::new(),
            started: SystemTime::now(),
            clock: Instant::now(),
            command_line: command_line(std::env::args_os()),
            lines: Vec::new(),
        }
    }

    /// The run's own files, by the flag that names them: a log written
    /// before the run's checks (a refused inventory or history) is not
    /// written over one of them.
    pub fn with_own_files(mut self, files: impl IntoIterator<Item = (&'static str, Option<PathBuf>)>) -> RunLog {
        self.own_files = files
            .into_iter()
            .filter_map(|(flag, path)| Some((flag, path?)))
            .collect();
        self
    }

    /// The path, if there is one and it was not refused.
    pub(crate) fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref().filter(|_| self.place != Place::Refused)
    }

    /// The path is outside the roots and its folder exists.
    pub(crate) fn ready(&mut self) {
        self.place = Place::Ready;
    }

    /// The path was refused: the log is never written there.
    pub(crate) fn refuse(&mut self) {
        self.place = Place::Refused;
    }

    /// Lines already escaped for the terminal ([`super::console::log_lines`],
    /// the summary).
    pub(crate) fn add_lines(&mut self, lines: impl IntoIterator<Item = String>) {
        self.lines.extend(lines);
    }

    /// A fatal error, or the note that the run was stopped.
    pub(crate) fn error(&mut self, message: &str) {
        self.lines.push(format!("error: {}", text::for_terminal(message)));
    }

    /// An error already made safe for the terminal and the log
    /// ([`text::error_for_terminal`]): its lines, if it has several, are
    /// written as they are.
    pub(crate) fn error_shown(&mut self, shown: &str) {
        self.lines.push(format!("error: {shown}"));
    }

    /// Appends this run's block to the log, ending with `code`. Nothing without `--log` or when
    /// its path was refused; a log written before the roots were looked at
    /// must not be inside one by its spelling.
    pub(crate) fn write(&self, code: ExitCode) -> Result<()> {
        let Some(path) = self.path() else {
            return Ok(());
        };
        if self.place == Place::Unchecked {
            if output::inside_roots_by_spelling(path, &self.roots) {
                anyhow::bail!(
                    "log {} not written: it is inside an audited root, and smsaudit never writes to what it audits",
                    path.display()
                );
            }
            if let Some((flag, file)) = self.own_files.iter().find(|(_, file)| output::same_file(path, file)) {
                anyhow::bail!(
                    "log {} not written: it is the file of {flag} {}, which the log would replace; give --log a path of its own",
                    path.display(),
                    file.display()
                );
            }
            output::prepare_log(path)?;
        }
        output::append_log(path, &self.text(code, SystemTime::now()))
    }

    fn text(&self, code: ExitCode, now: SystemTime) -> String {
        let mut text = format!(
            "smsaudit {} audit\nstarted {}\ncommand: {}\n",
            env!("CARGO_PKG_VERSION"),
            humantime::format_rfc3339_seconds(self.started),
            self.command_line
        );
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        // The blank line ends the block: the next run's starts after it.
        text.push_str(&format!(
            "finished {} after {:.1} s\nexit code {}: {}\n\n",
            humantime::format_rfc3339_seconds(now),
            self.clock.elapsed().as_secs_f64(),
            code.code(),
            code.meaning()
        ));
        text
    }
}

/// The command line as one line: each argument escaped for the terminal,
/// quoted when it holds a space or a quote, or is empty.
fn command_line(args: impl Iterator<Item = std::ffi::OsString>) -> String {
    args.map(|arg| {
        let arg = arg.to_string_lossy().into_owned();
        let shown = text::for_terminal(&arg).into_owned();
        if arg.is_empty() || arg.contains([' ', '\t', '"', '\'']) {
            format!("\"{}\"", shown.replace('"', "\\\""))
        } else {
            shown
        }
    })
    .collect::<Vec<_>>()
    .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_says_when_what_and_how_it_ended() {
        let mut log = RunLog::start(Some("x.log".into()), Vec::new());
        log.command_line = command_line(
            ["smsaudit", "audit", "--out", "my reports", ""]
                .into_iter()
                .map(Into::into),
        );
        log.add_lines(["location a".to_string()]);
        log.error("bad\x1b[2J inventory");
        let text = log.text(ExitCode::CouldNotRun, SystemTime::UNIX_EPOCH);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("started 20"), "{text}");
        assert_eq!(lines[2], r#"command: smsaudit audit --out "my reports" """#);
        assert_eq!(lines[3], "location a");
        assert!(
            lines[4].starts_with("error: bad") && !lines[4].contains('\x1b'),
            "{text}"
        );
        assert!(lines[5].starts_with("finished 1970-01-01T00:00:00Z after "), "{text}");
        assert_eq!(lines[6], "exit code 2: could not run");
        assert!(text.ends_with("could not run\n\n"), "a blank line ends the block");
    }
}
