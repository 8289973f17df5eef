//! What every stage shares: config, the HTTP client, the state, counters, shutdown.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use newswire_core::config::Config;
use newswire_fetcher::Fetcher;
use tokio_util::sync::CancellationToken;

use super::state::StateHandle;

/// Shared by all stages (behind an `Arc`).
pub struct Context {
    pub config: Config,
    pub fetcher: Fetcher,
    pub state: StateHandle,
    pub stats: Arc<Stats>,
    /// Ids between the gate and their commit: a second sighting is skipped, not doubled.
    pub in_flight: Mutex<HashSet<String>>,
    /// Cancelled on SIGTERM/SIGINT: stop polling, let in-flight work drain.
    pub shutdown: CancellationToken,
}

impl Context {
    /// Claims `id` for this run; false when it is already on its way.
    pub fn claim(&self, id: &str) -> bool {
        self.in_flight
            .lock()
            .map(|mut set| set.insert(id.to_string()))
            .unwrap_or(false)
    }

    /// Releases ids after commit or failure.
    pub fn release<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        if let Ok(mut set) = self.in_flight.lock() {
            for id in ids {
                set.remove(id);
            }
        }
    }
}

/// Counters for the end-of-pass summary.
#[derive(Default)]
pub struct Stats {
    pub feeds_ok: AtomicU64,
    pub feeds_not_modified: AtomicU64,
    pub feeds_failed: AtomicU64,
    pub entries_seen: AtomicU64,
    pub entries_new: AtomicU64,
    pub pages_failed: AtomicU64,
    pub records_emitted: AtomicU64,
    pub duplicates: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// "N feeds ok, M failed, K new records".
    pub fn summary_line(&self) -> String {
        let ok = Self::get(&self.feeds_ok) + Self::get(&self.feeds_not_modified);
        format!(
            "{ok} feeds ok, {} failed, {} new records",
            Self::get(&self.feeds_failed),
            Self::get(&self.records_emitted)
        )
    }
}
