//! The subcommands, from a validated command to an exit code: one module
//! each, plus what they print ([`console`]).

mod audit;
mod catalog;
mod console;
mod diff;
mod runlog;

pub use audit::{audit, exit_code, refused};
pub use catalog::{explain, rules};

pub use diff::diff;
pub use runlog::RunLog;
