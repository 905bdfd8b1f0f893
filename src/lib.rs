//! smsaudit: audit SMS 2.0 client access points, logon points and site server
//! shares for version mismatches before clients run into them.

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod crawl;
pub mod discover;
pub mod exit;
pub mod extract;
pub mod matrix;
pub mod model;
pub mod names;
pub mod report;
pub mod rules;
pub mod text;
pub mod upgrade;
pub mod version;

pub use config::Config;
pub use model::Audit;

/// Runs a whole audit: discover locations, crawl them, extract stamps, build
/// the matrix and findings. Writing reports is the caller's business.
pub fn run_audit(config: &Config) -> Audit {
    let locations = discover::discover(&config.roots, config.discover_depth);
    let crawled = crawl::crawl_all(locations, config);
    let estate = extract::build_estate(crawled);
    let findings = rules::evaluate(&estate);
    let matrix = matrix::build(&estate, &findings);
    let upgrade = config.upgrade.as_ref().map(|request| upgrade::plan(&estate, request));
    let mut audit = Audit::assemble(config, estate, matrix, findings);
    audit.upgrade = upgrade;
    audit
}
