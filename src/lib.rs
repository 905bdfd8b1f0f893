//! smsaudit: audit SMS 2.0 client access points, logon points and site server
//! shares for version mismatches before clients run into them.

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod crawl;
pub mod discover;
pub mod drift;
pub mod exit;
pub mod extract;
pub mod inventory;
pub mod matrix;
pub mod model;
pub mod names;
pub mod report;
pub mod rules;
pub mod text;
pub mod version;

pub use config::Config;
pub use model::Audit;

use std::sync::Arc;

/// Runs a whole audit: discover locations, crawl them, extract stamps, build
/// the matrix and findings. Writing reports is the caller's business.
pub fn run_audit(config: &Config) -> Audit {
    run_audit_with_progress(config, Arc::new(crawl::Progress::default()))
}

/// [`run_audit`], counting progress into `progress` as it goes.
pub fn run_audit_with_progress(config: &Config, progress: Arc<crawl::Progress>) -> Audit {
    let locations = discover::discover_all(config);
    let crawled = crawl::crawl_all(locations, config, progress);
    let estate = extract::build_estate(crawled);
    let mut findings = rules::evaluate(&estate);
    findings.extend(rules::inventory_checks(&estate, config.inventory.as_ref()));
    let matrix = matrix::build(&estate, &findings);
    Audit::assemble(config, estate, matrix, findings)
}
