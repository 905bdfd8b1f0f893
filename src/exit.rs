//! Process exit codes, in one place and in docs/reference.md (in short in the README). When several apply,
//! the lowest non-zero code wins: findings, then could-not-run, then
//! unreadable locations, then drift; except that a report set that could not
//! be put in place is could-not-run even with findings (the previous set
//! stays), and a signal ends the run with its own code.

/// What the process tells a scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The audit ran: nothing at or above `--fail-on`, every location read,
    /// no drift since the baseline.
    Clean = 0,
    /// The audit ran and found problems at or above `--fail-on`, or the
    /// pre-upgrade plan (`--upgrade`) is unsafe, whatever `--fail-on` says.
    Findings = 1,
    /// The audit could not run: bad arguments, unwritable output, bad
    /// inventory or baseline, an output folder another run holds; or a
    /// report could not be written, so the previous report set was kept.
    CouldNotRun = 2,
    /// The audit ran, but some locations could not be read or timed out,
    /// or the pre-upgrade plan cannot be judged.
    Unreadable = 3,
    /// The audit ran clean, but files or versions changed since the baseline.
    Drift = 4,
    /// Stopped by SIGINT (Ctrl-C, Ctrl-Break on Windows): 128 + 2, the
    /// shell's convention. The previous report set is kept.
    Interrupted = 130,
    /// Stopped by SIGTERM: 128 + 15. The previous report set is kept.
    Terminated = 143,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// What the code means, for the log.
    pub fn meaning(self) -> &'static str {
        match self {
            ExitCode::Clean => "clean",
            ExitCode::Findings => "findings at or above --fail-on",
            ExitCode::CouldNotRun => "could not run",
            ExitCode::Unreadable => "not everything could be checked",
            ExitCode::Drift => "drift since the baseline",
            ExitCode::Interrupted => "stopped by SIGINT",
            ExitCode::Terminated => "stopped by SIGTERM",
        }
    }
}
