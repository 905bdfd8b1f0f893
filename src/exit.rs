//! Process exit codes, in one place and in the README.

/// What the process tells a scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The audit ran and found nothing at or above `--fail-on`.
    Clean = 0,
    /// The audit ran and found problems at or above `--fail-on`.
    Findings = 1,
    /// The audit could not run: bad arguments, unwritable output.
    CouldNotRun = 2,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}
