//! Process exit codes, in one place and in the README. When several apply,
//! the lowest non-zero code wins: findings, then could-not-run, then
//! unreadable locations, then drift; except that a report that could not
//! be written is could-not-run even with findings (the set is incomplete).

/// What the process tells a scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The audit ran: nothing at or above `--fail-on`, every location read,
    /// no drift since the baseline.
    Clean = 0,
    /// The audit ran and found problems at or above `--fail-on`.
    Findings = 1,
    /// The audit could not run: bad arguments, unwritable output, bad
    /// inventory or baseline; or a report could not be written.
    CouldNotRun = 2,
    /// The audit ran, but some locations could not be read or timed out.
    Unreadable = 3,
    /// The audit ran clean, but files or versions changed since the baseline.
    Drift = 4,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}
