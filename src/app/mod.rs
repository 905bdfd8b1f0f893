//! The subcommands, from a validated command to an exit code: one module
//! each, plus what they print ([`console`]).

mod audit;
mod catalog;
mod console;
mod diff;
mod history;
mod runlog;

pub use audit::{audit, exit_code, refused};
pub use catalog::{explain, rules};

pub use diff::diff;
pub use history::history;
pub use runlog::RunLog;
