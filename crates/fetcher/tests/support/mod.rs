//! Helpers shared by the fetcher's integration tests: the counting global allocator (its one
//! home is the dev-only `newswire-test-support` crate) and the lock that runs heap-measuring
//! cases one at a time so that each peak is the case's own.
//!
//! Each test file installs the allocator itself (`#[global_allocator] static ALLOCATOR:
//! support::CountingAllocator = support::CountingAllocator;`).

#![allow(dead_code)]

pub use newswire_test_support::{CountingAllocator, HeapMeter};

/// Cases that measure the heap run one at a time (hold this lock for the whole case).
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
