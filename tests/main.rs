//! The integration tests: one binary, one module per topic, and one test
//! environment (`common`) to run smsaudit, build estates and decide when a
//! test needs a program that is not here.

mod common;

mod audit;
mod causes;
mod client_logs;
mod crawl_concurrency;
mod docs;
mod drift_memory;
mod findings;
mod history;
mod hostile;
mod hostile_history;
mod hostile_isolation;
mod hostile_output;
mod hostile_parse;
mod hostile_walk;
mod matrix;
mod nightly;
#[cfg(unix)] // unreadable nights are made with Unix permissions and setpriv
mod nightly_drift;
mod nightly_views;
mod pe_fixtures;
mod pe_pefile_oracle;
mod pe_pelite_oracle;
mod pe_proptest_version;
mod plans;
mod presentation;
mod properties;
mod report_set;
mod reports;
mod scheduled;
mod site_control;
mod slowfs;
mod smb;
mod smb_native;
mod terminal;
mod trust;
mod windows;
mod worker_reuse;
