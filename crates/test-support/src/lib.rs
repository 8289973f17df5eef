//! Dev-only helpers shared by the crates' tests: the one home of the counting allocator that
//! the adversarial "bound on memory" tests use, and of the skip-or-fail rule for tests that
//! need a service or data set ([`services`]); with the `nats` feature, the guard that
//! deletes a test's streams and buckets (`nats::Cleanup`).
//!
//! A test binary installs the allocator itself, once:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: newswire_test_support::CountingAllocator =
//!     newswire_test_support::CountingAllocator;
//! ```
//!
//! and measures a case with [`HeapMeter`]. The counters are process-wide, so every test of
//! such a binary must hold the file's one lock (std or tokio) from its first line to its
//! last, input building included, for a peak to be the case's own: a lock around the
//! measured call alone lets another test's input land in the peak.

#[cfg(feature = "nats")]
pub mod nats;
pub mod services;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes currently allocated, and the most since the last [`HeapMeter::start`].
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes and their peak.
pub struct CountingAllocator;

impl CountingAllocator {
    fn grew(by: usize) {
        let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    fn shrank(by: usize) {
        CURRENT.fetch_sub(by, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; only counters change.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            Self::grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            Self::grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(pointer, layout) };
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            if new_size >= layout.size() {
                Self::grew(new_size - layout.size());
            } else {
                Self::shrank(layout.size() - new_size);
            }
        }
        moved
    }
}

/// Heap growth above the level at the start of a case (meaningful only in a test binary
/// that installed [`CountingAllocator`]).
pub struct HeapMeter {
    baseline: usize,
}

impl HeapMeter {
    /// Starts measuring: the peak is reset to what is allocated now.
    pub fn start() -> HeapMeter {
        let baseline = CURRENT.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        HeapMeter { baseline }
    }

    /// The most bytes allocated at once since [`HeapMeter::start`], above the baseline.
    pub fn peak_growth(&self) -> usize {
        PEAK.load(Ordering::Relaxed).saturating_sub(self.baseline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    #[test]
    fn peak_growth_sees_a_freed_allocation_and_its_growth_by_realloc() {
        let meter = HeapMeter::start();
        let mut block: Vec<u8> = Vec::with_capacity(1 << 20);
        block.reserve_exact(4 << 20);
        std::hint::black_box(&block);
        drop(block);
        let peak = meter.peak_growth();
        assert!(peak >= 4 << 20, "peak {peak}");
        assert!(peak < 64 << 20, "peak {peak}");
    }
}
