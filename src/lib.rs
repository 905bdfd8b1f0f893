//! smsaudit: audit SMS 2.0 client access points, logon points and site server
//! shares for version mismatches before clients run into them.
//!
//! Modules in the order the data flows (ARCHITECTURE.md): SMS knowledge
//! ([`sms`]), the data model ([`model`]), the validated settings
//! ([`config`]), the stages ([`discover`], [`crawl`], [`extract`],
//! [`estate`], [`rules`], [`causes`], [`clientlogs`], [`sites`], [`matrix`],
//! [`upgrade`], [`drift`]), the assembled
//! [`audit`], the [`report`]s, and the commands ([`app`], [`cli`]).

pub mod app;
pub mod audit;
pub mod causes;
pub mod cli;
pub mod clientlogs;
pub mod config;
pub mod crawl;
pub mod discover;
pub mod drift;
pub mod estate;
pub mod exit;
pub mod extract;
pub mod history;
pub(crate) mod input;
pub(crate) mod interrupt;
pub mod matrix;
pub mod model;
pub mod names;
pub(crate) mod output;
pub mod records;
pub mod report;
pub mod rules;
pub mod sites;
pub mod sms;
pub mod text;
pub mod upgrade;
pub(crate) mod worker;

pub use audit::Audit;
pub use config::Config;

use anyhow::Context;
use std::sync::Arc;

/// Runs a whole audit: discover locations, crawl them, extract stamps, build
/// the matrix and findings. Writing reports is the caller's business. Input
/// the command refuses ([`run_audit_checked`]) is audited as it is.
///
/// Panics only if file records spilled to `config.spill_dir` cannot be
/// written or read back (without a spill folder they stay in memory).
pub fn run_audit(config: &Config) -> Audit {
    pipeline(config, Arc::new(crawl::Progress::default()), None)
        .unwrap_or_else(|err| panic!("the audit failed: {err:#}"))
}

/// What the command checks once the shares are found, before the crawl
/// (the output folder against the roots that answered).
pub(crate) type BeforeCrawl<'a> = &'a dyn Fn(&[discover::Discovered]) -> anyhow::Result<()>;

/// [`run_audit`] for the command: counts progress into `progress`, and
/// refuses input that would give a meaningless report (a root that holds
/// no share, an `--upgrade` site that is not in the estate, a target
/// release older than a site's): roots and sites before the crawl, the
/// downgrade as soon as the site's release is known. `before_crawl` runs
/// after discovery, so it never touches a root that did not answer.
pub(crate) fn run_audit_checked(
    config: &Config,
    progress: Arc<crawl::Progress>,
    before_crawl: BeforeCrawl,
) -> anyhow::Result<Audit> {
    pipeline(config, progress, Some(before_crawl))
}

fn pipeline(
    config: &Config,
    progress: Arc<crawl::Progress>,
    before_crawl: Option<BeforeCrawl>,
) -> anyhow::Result<Audit> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let refuse = before_crawl.is_some();
    let locations = discover::discover_all(config);
    if let Some(before_crawl) = before_crawl {
        before_crawl(&locations)?;
    }
    if refuse {
        discover::refuse_roots_without_shares(config, &locations)?;
        if let Some(request) = &config.upgrade {
            let mut known: std::collections::BTreeSet<String> = locations
                .iter()
                .flat_map(|d| d.location.sites.iter().cloned())
                .collect();
            if let Some(inventory) = &config.inventory {
                known.extend(inventory.sites.iter().map(|s| s.code.to_ascii_uppercase()));
            }
            upgrade::refuse_unknown_sites(request, &known)?;
        }
    }
    let gatherer = estate::Gatherer::new(config.spill_dir.as_deref());
    let crawled = crawl::crawl_all(locations, config, progress, &gatherer);
    let (estate, files) = estate::build(crawled, gatherer).context("cannot keep the file records")?;
    let view = estate::EstateView::new(&estate);
    if let (true, Some(request)) = (refuse, &config.upgrade) {
        upgrade::refuse_downgrade(request, &view)?;
    }
    let findings = rules::evaluate(&view, config.inventory.as_ref());
    let matrix = matrix::build(&view, &findings);
    let upgrade = config.upgrade.as_ref().map(|request| upgrade::plan(&view, request));
    let drift = config.baseline.as_ref().map(|baseline| {
        let now = drift::Snapshot::of(&estate.locations, &estate.stamps);
        drift::compare_with_files(&baseline.snapshot, &now, drift::Snapshot::files_of(&files))
    });
    let drift = drift.transpose().context("cannot compare with the baseline")?;
    let causes = causes::group(&view, &findings, upgrade.as_ref());
    let (first_seen, history) = config
        .history
        .as_ref()
        .map(|past| {
            let started = humantime::format_rfc3339_seconds(started).to_string();
            (past.first_seen(&findings, &started), past.summarise(&findings))
        })
        .unzip();
    let sites = sites::summarise(&view, &causes);
    let symptoms = (!config.client_logs.is_empty())
        .then(|| clientlogs::read_and_tie(&config.client_logs, &findings, &causes, &estate.locations));
    let timing = audit::Timing {
        started,
        elapsed: clock.elapsed(),
    };
    Ok(audit::Audit::assemble(
        config,
        audit::Results {
            estate,
            files,
            matrix,
            findings,
            first_seen,
            causes,
            sites,
            symptoms,
            timing,
            upgrade,
            drift,
            history,
        },
    ))
}
