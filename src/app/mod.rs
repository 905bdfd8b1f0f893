//! The subcommands, from their arguments to an exit code: one module each,
//! plus what they print ([`console`]) and `audit`'s loading step
//! ([`inputs`]).

mod audit;
mod catalog;
mod console;
mod diff;
mod history;
mod inputs;
mod runlog;

pub use audit::{audit, exit_code, refused};
pub use catalog::{explain, rules};

pub use diff::diff;
pub use history::{history, HistoryCommand};
pub use inputs::{AuditCommand, InputError};
pub use runlog::RunLog;
