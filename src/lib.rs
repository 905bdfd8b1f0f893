//! smsaudit: audit SMS 2.0 client access points, logon points and site server
//! shares for version mismatches before clients run into them.
//!
//! Modules in the order the data flows (ARCHITECTURE.md): SMS knowledge
//! ([`sms`]), the data model ([`model`]), the validated settings
//! ([`config`]), the stages ([`discover`], [`crawl`], [`extract`],
//! [`estate`], [`rules`], [`matrix`], [`upgrade`], [`drift`]), the assembled
//! [`audit`], the [`report`]s, and the commands ([`app`], [`cli`]).

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod crawl;
pub mod discover;
pub mod drift;
pub mod estate;
pub mod exit;
pub mod extract;
pub mod matrix;
pub mod model;
pub mod names;
pub mod report;
pub mod rules;
pub mod sms;
pub mod text;
pub mod upgrade;

pub use audit::Audit;
pub use config::Config;

use std::sync::Arc;

/// Runs a whole audit: discover locations, crawl them, extract stamps, build
/// the matrix and findings. Writing reports is the caller's business.
pub fn run_audit(config: &Config) -> Audit {
    run_audit_with_progress(config, Arc::new(crawl::Progress::default()))
}

/// [`run_audit`], counting progress into `progress` as it goes.
pub(crate) fn run_audit_with_progress(config: &Config, progress: Arc<crawl::Progress>) -> Audit {
    let locations = discover::discover_all(config);
    let crawled = crawl::crawl_all(locations, config, progress);
    let estate = estate::build(crawled);
    let view = estate::EstateView::new(&estate);
    let findings = rules::evaluate(&view, config.inventory.as_ref());
    let matrix = matrix::build(&view, &findings);
    let upgrade = config.upgrade.as_ref().map(|request| upgrade::plan(&view, request));
    let drift = config.baseline.as_ref().map(|baseline| {
        let now = drift::Snapshot::of(&estate.locations, &estate.files, &estate.stamps);
        drift::compare(&baseline.snapshot, &now)
    });
    audit::Audit::assemble(
        config,
        audit::Results {
            estate,
            matrix,
            findings,
            upgrade,
            drift,
        },
    )
}
