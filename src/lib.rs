//! smsaudit: audit SMS 2.0 client access points, logon points and site server
//! shares for version mismatches before clients run into them.
//!
//! Modules in the order the data flows (ARCHITECTURE.md): SMS knowledge
//! (`sms`), the data model (`model`), the validated settings (`config`),
//! the stages (`discover`, `crawl`, `extract`, `estate`, `rules`, `causes`,
//! `clientlogs`, `sites`, `matrix`, `upgrade`, `drift`), the assembled
//! `audit`, the `report`s, and the commands (`app`, `cli`).
//!
//! The public API is [`run_audit`], [`Config`], [`Audit`] and nine
//! modules, each public for the binary, the tests, benches, examples or
//! fuzz targets; every other module is the crate's own:
//! * [`sms`]: versions and the checks catalogue, which tests compare with;
//! * [`model`]: the data model audits and hand-made test audits are made of;
//! * [`extract`]: the file parsers, fuzzed and benchmarked on their own;
//! * [`crawl`]: [`crawl::hash_file`], one file's read, hash and parse; and
//!   the share file-system seam ([`crawl::ShareFs`], [`crawl::share_worker_main`])
//!   that the `smsaudit-smb` helper binary implements over libsmbclient;
//! * [`smb`]: `smb://` roots and the helper's credentials, shared by the
//!   binary and the helper;
//! * [`clientlogs`]: the client-log scanner (fuzzed) and the symptoms;
//! * [`audit`]: the audit document and what it holds (matrix, causes,
//!   drift changes, file records), re-exported from the stages that make
//!   them, plus the drift comparison and the history file that tests
//!   reach without a whole run;
//! * [`report`]: the writers, tested on hand-made audits;
//! * [`app`]: the command ([`app::main`], all the binary calls) and its
//!   clap definitions (for the man pages).

pub mod app;
pub mod audit;
pub(crate) mod causes;
pub(crate) mod cli;
pub mod clientlogs;
pub(crate) mod config;
pub mod crawl;
pub(crate) mod diagnosis;
pub(crate) mod discover;
pub(crate) mod drift;
pub(crate) mod estate;
pub(crate) mod exit;
pub mod extract;
pub(crate) mod history;
pub(crate) mod input;
pub(crate) mod interrupt;
pub(crate) mod matrix;
pub mod model;
pub(crate) mod names;
pub(crate) mod output;
pub(crate) mod records;
pub mod report;
pub(crate) mod rules;
pub(crate) mod sites;
pub mod smb;
pub mod sms;
pub(crate) mod text;
pub(crate) mod upgrade;
pub(crate) mod worker;

pub use audit::Audit;
pub use config::Config;

use anyhow::Context;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Runs a whole audit: discover locations, crawl them, extract stamps, build
/// the matrix and findings. Writing reports is the caller's business. It
/// refuses what the command refuses (a root that holds no share, an
/// `--upgrade` site not in the estate, a downgrade), by panicking.
///
/// Panics, saying why, on such a refusal, or if the file records cannot be
/// kept (without a spill folder they stay in memory).
pub fn run_audit(config: &Config) -> Audit {
    let discovery = Discovery::run(config);
    discovery
        .refuse_unauditable(config)
        .and_then(|()| discovery.audit(config, Arc::new(crawl::Progress::default()), None))
        .unwrap_or_else(|err| panic!("the audit failed: {err:#}"))
}

/// The run's first stage: the shares found under the roots and the
/// inventory, and when the run started. The command checks its own
/// output against the roots that answered here, before the crawl.
pub(crate) struct Discovery {
    started: SystemTime,
    clock: Instant,
    pub locations: Vec<discover::Discovered>,
}

impl Discovery {
    /// Starts the run: finds the shares to audit
    /// ([`discover::discover_all`]).
    pub(crate) fn run(config: &Config) -> Discovery {
        let started = SystemTime::now();
        let clock = Instant::now();
        Discovery {
            started,
            clock,
            locations: discover::discover_all(config),
        }
    }

    /// Refuses input that would give a meaningless report, before the
    /// crawl: a root that holds no share, an `--upgrade` site that is not
    /// in the estate.
    pub(crate) fn refuse_unauditable(&self, config: &Config) -> anyhow::Result<()> {
        discover::refuse_roots_without_shares(config, &self.locations)?;
        if let Some(request) = &config.upgrade {
            let mut known: std::collections::BTreeSet<String> = self
                .locations
                .iter()
                .flat_map(|d| d.location.sites.iter().cloned())
                .collect();
            if let Some(inventory) = &config.inventory {
                known.extend(inventory.sites.iter().map(|s| s.code.to_ascii_uppercase()));
            }
            upgrade::refuse_unknown_sites(request, &known)?;
        }
        Ok(())
    }

    /// The rest of the run, in order: crawl (progress counted into
    /// `progress`, records beyond memory spilled as `spill` says), estate,
    /// the downgrade refusal as soon as the sites' releases are known,
    /// rules, matrix, upgrade plan, drift, causes, history, sites, client
    /// logs, and the assembled audit.
    pub(crate) fn audit(
        self,
        config: &Config,
        progress: Arc<crawl::Progress>,
        spill: Option<records::Spill>,
    ) -> anyhow::Result<Audit> {
        let Discovery {
            started,
            clock,
            locations,
        } = self;
        let gatherer = estate::Gatherer::new(spill);
        let crawled = crawl::crawl_all(locations, &crawl::CrawlSettings::of(config), progress, &gatherer);
        let (mut estate, files) = estate::build(crawled, gatherer).context("cannot keep the file records")?;
        release_free_memory();
        estate.started = Some(started);
        let view = estate::EstateView::new(&estate);
        if let Some(request) = &config.upgrade {
            upgrade::refuse_downgrade(request, &view)?;
        }
        let findings = rules::evaluate(&view, config);
        let matrix = matrix::build(&view, &findings);
        let upgrade = config
            .upgrade
            .as_ref()
            .map(|request| upgrade::plan(&view, request, &findings, config));
        let drift = config.baseline.as_ref().map(|baseline| {
            let now = drift::Snapshot::of(&estate.locations, &estate.stamps);
            drift::compare_with_files(&baseline.snapshot, &now, drift::Snapshot::files_of(&files))
        });
        // A history that fails while drift reads it (damaged, locked, an I/O
        // error) leaves this run without drift, never with part of it: the
        // audit is still assembled and its set written, and the failure is
        // said and makes the exit code 2 (app::audit).
        let (drift, drift_error) = match drift.transpose() {
            Ok(drift) => (drift.map(|changes| only_expected(changes, &view, config)), None),
            Err(err) => (
                None,
                Some(format!("drift against the baseline could not be computed: {err:#}")),
            ),
        };
        let diagnosis = diagnosis::Diagnosis::of(&view, Some(&diagnosis::header_builds(&view)));
        let causes = causes::group(&view, &diagnosis, &findings, upgrade.as_ref());
        let (first_seen, history) = config
            .history
            .as_ref()
            .map(|past| {
                let started = humantime::format_rfc3339_seconds(started).to_string();
                (
                    past.first_seen(&findings, &started),
                    past.summarise(&findings, &config::Scope::of(config)),
                )
            })
            .unzip();
        let sites = sites::summarise(&view, &causes);
        let fixed = history.as_ref().map(|summary| {
            // Fixed by this run (resolved since the last run), then by
            // earlier runs; never one this run found again.
            let this_run = humantime::format_rfc3339_seconds(started).to_string();
            let found: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
            let earlier = config.history.iter().flat_map(|past| &past.fixed_earlier);
            let fixed: Vec<(&crate::history::PastFinding, String)> = summary
                .resolved
                .iter()
                .map(|f| (f, this_run.clone()))
                .chain(earlier.map(|(f, by)| (f, by.clone())))
                .filter(|(f, _)| !found.contains(f.fingerprint.as_str()))
                .collect();
            clientlogs::Fixed {
                findings: fixed.iter().map(|(f, _)| f.as_finding()).collect(),
                last_seen: fixed.iter().map(|(f, _)| f.last_seen.clone()).collect(),
                fixed_by: fixed.into_iter().map(|(_, by)| by).collect(),
            }
        });
        let symptoms = (!config.client_logs.is_empty()).then(|| {
            clientlogs::read_and_tie(
                &config.client_logs,
                &findings,
                &causes,
                &estate.locations,
                fixed.as_ref(),
            )
        });
        let timing = audit::Timing {
            started,
            elapsed: clock.elapsed(),
        };
        let audit = audit::Audit::assemble(
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
                drift_error,
                history,
            },
        );
        release_free_memory();
        Ok(audit)
    }
}

/// Lets glibc's allocator keep two arenas instead of up to eight a core.
/// Each thread otherwise allocates from an arena of its own: what the
/// crawl's and the checks' threads free stays in theirs, and the report
/// threads that come after take fresh pages beside it. At 10,000 shares
/// that is about 25 MiB of peak memory, and no speed was lost on 2 cores
/// (benches/RESULTS.md, issue 30). Worker processes run this too.
pub(crate) fn fewer_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes two integers and sets a glibc parameter, before
    // this process has started any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives the memory the allocator holds free back to the system: after the
/// crawl, whose threads leave their arenas full of holes (every record is
/// decoded, encoded and dropped there), and after the checks, once the
/// estate is gone. glibc otherwise keeps those pages, and they count in
/// the peak of what follows (at 10,000 shares a few tens of MiB).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer; it only walks glibc's own free
    // lists, under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// With a history, drift about a location this run did not find stays only
/// while the history expects it ([`rules::missing_expected`], the rule of
/// A01): one forgotten with `history --forget`, excluded, or outside this
/// run's roots is not reported gone night after night.
fn only_expected(mut changes: Vec<drift::Change>, view: &estate::EstateView, config: &Config) -> Vec<drift::Change> {
    if config.history.is_none() {
        return changes;
    }
    let found: std::collections::BTreeSet<String> =
        view.estate.locations.iter().map(|l| l.name.to_lowercase()).collect();
    let missing: std::collections::BTreeSet<String> = rules::missing_expected(view, config)
        .iter()
        .map(|seen| seen.name.to_lowercase())
        .collect();
    changes.retain(|change| {
        let location = change.location.to_lowercase();
        found.contains(&location) || missing.contains(&location)
    });
    changes
}
