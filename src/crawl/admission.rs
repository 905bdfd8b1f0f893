//! How many locations the crawl runs at once, and hashing threads in all:
//! one per core at first, then twice as many each time a look shows the
//! crawl leaving cores idle (its shares wait on a disk or a network: more
//! at once hide that), up to `--jobs`. A crawl that keeps every core busy (files in the
//! page cache, a fast disk) gains nothing from more locations at once, only
//! more worker processes taking turns on the same cores: at 100,000 small
//! files on 2 cores, 16 workers took 11 % more CPU than 4 (benches/RESULTS.md).
//!
//! The crawl's CPU time is read from `/proc` (this process and its
//! workers), so on Linux only; elsewhere every job runs from the start, as
//! before. A share read over SMB by the helper keeps its part of `--jobs`
//! in threads from its start (the scheduler's choice): it waits on the
//! network whatever the cores do.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often the crawl's CPU time is looked at while the limit may grow.
pub(super) const LOOK_EVERY: Duration = Duration::from_millis(50);

/// Below this share of the cores' time the crawl is waiting, not working.
const BUSY: f64 = 0.75;

/// The limit on locations at once and what it is raised by.
#[derive(Debug)]
pub(super) struct Admission {
    limit: usize,
    max: usize,
    cores: usize,
    /// The last look: when, and each process's CPU time then (clock ticks).
    last: Option<(Instant, BTreeMap<u32, u64>)>,
}

impl Admission {
    /// Up to `max` locations at once, `cores` of them at first; all of them
    /// where the crawl's CPU time cannot be read.
    pub(super) fn new(max: usize, cores: usize) -> Admission {
        let max = max.max(1);
        let limit = if cpu_ticks(std::process::id()).is_some() {
            cores.clamp(1, max)
        } else {
            max
        };
        Admission {
            limit,
            max,
            cores: cores.max(1),
            last: None,
        }
    }

    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// When to look next, if the limit may still grow.
    pub(super) fn next_look(&self) -> Option<Duration> {
        (self.limit < self.max).then_some(LOOK_EVERY)
    }

    /// Looks at the CPU time of this process and of the workers `pids`, at
    /// most every [`LOOK_EVERY`]; raises the limit if it holds anything back
    /// (`held_back`: locations waiting, threads of those running) and the
    /// crawl left cores idle since the last look.
    pub(super) fn look(&mut self, pids: impl Iterator<Item = u32>, held_back: bool) {
        if self.limit >= self.max {
            return;
        }
        let due = self.last.as_ref().is_none_or(|(at, _)| at.elapsed() >= LOOK_EVERY);
        if !due {
            return;
        }
        let now: BTreeMap<u32, u64> = std::iter::once(std::process::id())
            .chain(pids)
            .filter_map(|pid| cpu_ticks(pid).map(|ticks| (pid, ticks)))
            .collect();
        self.judge(Instant::now(), now, held_back, ticks_per_second());
    }

    /// The decision, given what a look read.
    fn judge(&mut self, at: Instant, now: BTreeMap<u32, u64>, held_back: bool, ticks_per_second: f64) {
        if let Some((then, before)) = self.last.take() {
            // A worker started since counts from its start; one gone, not at all.
            let used: u64 = now
                .iter()
                .map(|(pid, ticks)| ticks.saturating_sub(before.get(pid).copied().unwrap_or(0)))
                .sum();
            let available = at.duration_since(then).as_secs_f64() * ticks_per_second * self.cores as f64;
            if held_back && available > 0.0 && (used as f64) < BUSY * available {
                self.limit = (self.limit * 2).min(self.max);
            }
        }
        self.last = Some((at, now));
    }
}

/// A process's CPU time so far (user and system, all its threads), in
/// clock ticks: fields 14 and 15 of `/proc/<pid>/stat`, counted after the
/// command name (which may hold spaces and parentheses).
fn cpu_ticks(pid: u32) -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_ascii_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

fn ticks_per_second() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf only reads a configuration value.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if ticks > 0 {
            return ticks as f64;
        }
    }
    100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(pairs: &[(u32, u64)]) -> BTreeMap<u32, u64> {
        pairs.iter().copied().collect()
    }

    /// A crawl that keeps the cores busy stays at one location per core; one
    /// that leaves them idle while locations wait doubles, up to the most;
    /// nothing grows while no location waits.
    #[test]
    fn the_limit_grows_only_while_cores_are_idle_and_locations_wait() {
        let mut admission = Admission {
            limit: 2,
            max: 16,
            cores: 2,
            last: None,
        };
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        // 100 ticks a second: 2 cores give 20 ticks in 100 ms.
        admission.judge(at(0), ticks(&[(1, 0), (2, 0)]), true, 100.0);
        assert_eq!(admission.limit(), 2, "the first look only reads");
        admission.judge(at(100), ticks(&[(1, 2), (2, 17)]), true, 100.0);
        assert_eq!(admission.limit(), 2, "19 of 20 ticks: busy");
        admission.judge(at(200), ticks(&[(1, 3), (2, 20)]), false, 100.0);
        assert_eq!(admission.limit(), 2, "idle, but nothing waits");
        admission.judge(at(300), ticks(&[(1, 4), (2, 25)]), true, 100.0);
        assert_eq!(admission.limit(), 4, "6 of 20 ticks, locations waiting");
        // A worker gone and a new one: the new one counts from its start.
        admission.judge(at(400), ticks(&[(1, 5), (3, 16)]), true, 100.0);
        assert_eq!(admission.limit(), 4, "17 of 20 ticks");
        for (step, ms) in [(8, 500), (16, 600), (16, 700)] {
            admission.judge(at(ms), ticks(&[(1, 5), (3, 16)]), true, 100.0);
            assert_eq!(admission.limit(), step);
        }
        assert_eq!(admission.next_look(), None, "at the most, no more looks");
    }

    /// This process's own CPU time reads where `/proc` has it; then the
    /// crawl starts at one location per core.
    #[test]
    fn the_crawl_starts_at_one_location_per_core_where_cpu_time_reads() {
        let admission = Admission::new(16, 2);
        if cfg!(target_os = "linux") {
            assert!(cpu_ticks(std::process::id()).is_some());
            assert_eq!(admission.limit(), 2);
            assert_eq!(admission.next_look(), Some(LOOK_EVERY));
        } else {
            assert_eq!(admission.limit(), 16);
        }
        assert_eq!(Admission::new(1, 8).limit(), 1, "never above the most");
        assert_eq!(cpu_ticks(u32::MAX), None, "no such process");
    }
}
