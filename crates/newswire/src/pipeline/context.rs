//! What every stage shares: config, the HTTP client, the state, counters, shutdown.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use newswire_core::config::Config;
use newswire_fetcher::Fetcher;
use tokio_util::sync::CancellationToken;

use super::state::StateHandle;
use crate::metrics::Health;

/// Shared by all stages (behind an `Arc`).
pub struct Context {
    pub config: Config,
    pub fetcher: Fetcher,
    pub state: StateHandle,
    pub stats: Arc<Stats>,
    /// What `/readyz` reports.
    pub health: Arc<Health>,
    /// Ids between the gate and their commit: a second sighting is skipped, not doubled.
    pub in_flight: Mutex<HashSet<String>>,
    /// Each feed's own interval hint (`ttl`, `sy:*`) from its last download, by feed key:
    /// a 304 carries no body, so without this the hint would be lost on every 304.
    /// Bounded by the number of configured feeds (a reload forgets removed ones).
    pub feed_hints: Mutex<HashMap<String, Duration>>,
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

    /// Remembers (or forgets, with `None`) the interval hint a feed's body gave.
    pub fn remember_feed_hint(&self, feed: &str, hint: Option<Duration>) {
        if let Ok(mut hints) = self.feed_hints.lock() {
            match hint {
                Some(hint) => {
                    hints.insert(feed.to_string(), hint);
                }
                None => {
                    hints.remove(feed);
                }
            }
        }
    }

    /// The interval hint of the feed's last download, if it had one.
    pub fn feed_hint(&self, feed: &str) -> Option<Duration> {
        self.feed_hints
            .lock()
            .ok()
            .and_then(|hints| hints.get(feed).copied())
    }

    /// Keeps the hints of the feeds in `keys` only (after a reload).
    pub fn retain_feed_hints(&self, keep: &HashSet<&str>) {
        if let Ok(mut hints) = self.feed_hints.lock() {
            hints.retain(|feed, _| keep.contains(feed.as_str()));
        }
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

/// How a feed's last poll ended, for `--report` and the failed-feed table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedStatus {
    /// Configured, not polled (yet).
    Pending,
    Ok,
    NotModified,
    Failed,
}

/// One feed's part of the run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedResult {
    pub url: String,
    pub status: FeedStatus,
    /// Records of this feed made durable in this run.
    pub new_records: u64,
    /// Why the last poll failed.
    pub error: Option<String>,
    /// The fetcher's error kind (`timeout`, `http_4xx`, …), when it failed.
    pub reason: Option<String>,
}

/// Counters for the end-of-pass summary, and each feed's outcome (bounded by the number
/// of configured feeds).
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
    feeds: Mutex<BTreeMap<String, FeedResult>>,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Lists the configured feeds (all pending), so that a feed never polled shows too.
    pub fn expect_feeds<'a>(&self, urls: impl IntoIterator<Item = &'a str>) {
        if let Ok(mut feeds) = self.feeds.lock() {
            for url in urls {
                feeds.entry(url.to_string()).or_insert_with(|| FeedResult {
                    url: url.to_string(),
                    status: FeedStatus::Pending,
                    new_records: 0,
                    error: None,
                    reason: None,
                });
            }
        }
    }

    /// After a reload: forgets feeds no longer configured, lists new ones as pending.
    pub fn set_feeds<'a>(&self, urls: impl IntoIterator<Item = &'a str>) {
        let keep: HashSet<&str> = urls.into_iter().collect();
        if let Ok(mut feeds) = self.feeds.lock() {
            feeds.retain(|url, _| keep.contains(url.as_str()));
        }
        self.expect_feeds(keep);
    }

    /// Records how a poll of `url` ended.
    pub fn feed_polled(&self, url: &str, status: FeedStatus, failure: Option<(&str, String)>) {
        if let Ok(mut feeds) = self.feeds.lock() {
            let entry = feeds.entry(url.to_string()).or_insert_with(|| FeedResult {
                url: url.to_string(),
                status,
                new_records: 0,
                error: None,
                reason: None,
            });
            entry.status = status;
            let (reason, error) = failure.unzip();
            entry.reason = reason.map(str::to_string);
            entry.error = error;
        }
    }

    /// Adds records of `url` made durable.
    pub fn feed_records(&self, url: &str, n: u64) {
        if let Ok(mut feeds) = self.feeds.lock()
            && let Some(entry) = feeds.get_mut(url)
        {
            entry.new_records += n;
        }
    }

    /// Every feed's outcome, by URL.
    pub fn feed_results(&self) -> Vec<FeedResult> {
        self.feeds
            .lock()
            .map(|feeds| feeds.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Polls finished (ok, not modified or failed).
    pub fn feeds_done(&self) -> u64 {
        Self::get(&self.feeds_ok)
            + Self::get(&self.feeds_not_modified)
            + Self::get(&self.feeds_failed)
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
