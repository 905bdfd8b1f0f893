//! The counting global allocator of the test binary, for the memory tests.
//! It counts per thread (exact whatever runs beside it) and over the whole
//! process (for work that spans threads: such a test runs alone in a
//! process of its own, see `common::in_own_process`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};

pub struct Counting;

/// One per binary; every test's allocations go through it.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

thread_local! {
    /// Bytes this thread holds (allocated here minus freed here).
    static THREAD_LIVE: Cell<isize> = const { Cell::new(0) };
    /// The most `THREAD_LIVE` reached since the last reset.
    static THREAD_PEAK: Cell<isize> = const { Cell::new(0) };
}

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn count(delta: isize) {
    let now = LIVE.fetch_add(delta, Relaxed) + delta;
    PEAK.fetch_max(now, Relaxed);
    // A thread being torn down has no locals left: only the totals count.
    let _ = THREAD_LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = THREAD_PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            ALLOCATIONS.fetch_add(1, Relaxed);
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            ALLOCATIONS.fetch_add(1, Relaxed);
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if !new.is_null() {
            ALLOCATIONS.fetch_add(1, Relaxed);
            // Counted as a move: old and new both held for a moment.
            count(new_size as isize);
            count(-(layout.size() as isize));
        }
        new
    }
}

/// Runs `f` and returns its result with the most bytes this thread held
/// beyond what it held before.
pub fn thread_peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = THREAD_LIVE.with(Cell::get);
    THREAD_PEAK.with(|peak| peak.set(start));
    let out = f();
    let peak = THREAD_PEAK.with(Cell::get);
    (out, (peak - start).max(0) as usize)
}

/// Runs `work` and returns its result, the most bytes the whole process
/// held beyond what it held before, and how many allocations it made.
/// Only exact when nothing else runs meanwhile: call it in a test that
/// runs in a process of its own (`common::in_own_process`).
pub fn process_peak_during<T>(work: impl FnOnce() -> T) -> (T, usize, usize) {
    let start = LIVE.load(Relaxed);
    PEAK.store(start, Relaxed);
    let allocations = ALLOCATIONS.load(Relaxed);
    let result = work();
    let peak = (PEAK.load(Relaxed) - start).max(0) as usize;
    (result, peak, ALLOCATIONS.load(Relaxed) - allocations)
}
