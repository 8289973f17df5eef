//! The state store: what newswire remembers between polls and across restarts.
//!
//! Per feed: HTTP validators, next due time, error count. Per record id: that it was
//! emitted. Per original article: its near-duplicate fingerprint (simhash + MinHash
//! signature) and publication date, so that later copies find it across restarts (the
//! rule that uses them lives in `newswire_core::near_dup`). Per sink: its committed
//! position. [`StateStore::commit`] writes record ids and sink positions in one
//! transaction, which is what makes JSONL delivery exactly-once.
//!
//! The trait is synchronous: callers run it on a blocking thread.
//!
//! ```no_run
//! use newswire_state::{SqliteState, StateStore};
//! let state = SqliteState::open("var/newswire.db")?; // or ":memory:"
//! println!("{} records emitted", state.stats()?.emitted_records);
//! # Ok::<(), newswire_state::StateError>(())
//! ```

pub mod nats_kv;
mod sqlite;

pub use nats_kv::{NatsKvOptions, NatsKvState};
pub use sqlite::{IN_MEMORY, SqliteState, lock_path};

use chrono::{DateTime, Utc};
use newswire_core::delivery::SinkPosition;
use newswire_core::fingerprint::{Fingerprint, Simhash};
use newswire_core::near_dup::Candidate;

/// Remembered per feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_due: Option<DateTime<Utc>>,
    /// Consecutive failures (0 after a success).
    pub error_count: u32,
    pub last_error: Option<String>,
    pub last_success: Option<DateTime<Utc>>,
}

/// One record made durable by every sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmittedRecord {
    pub id: String,
    pub emitted_at: DateTime<Utc>,
    /// Its entry in the near-duplicate index; `None` for records that take no part
    /// (copies, short texts: decided by `newswire_core::near_dup`).
    pub near_dup: Option<IndexEntry>,
}

/// What the near-duplicate index keeps of an original article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub fingerprint: Fingerprint,
    pub published_at: Option<DateTime<Utc>>,
}

/// Counts and sizes, for `newswire state stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateStats {
    pub feeds: u64,
    pub emitted_records: u64,
    /// Entries of the near-duplicate index.
    pub simhashes: u64,
    pub sinks: u64,
    pub file_bytes: u64,
}

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneStats {
    pub records: u64,
    pub simhashes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another process holds the state (exit code 75).
    #[error("state {path} is in use by another newswire process (lock {lock})")]
    Locked { path: String, lock: String },
    #[error("state {path}: {message}")]
    Storage { path: String, message: String },
}

/// Most candidates [`StateStore::near_duplicates`] returns: articles from one template can
/// crowd a simhash neighbourhood, and the closest are the likeliest copies.
pub const MAX_CANDIDATES: usize = 256;

/// The operations the pipeline needs from its state.
pub trait StateStore: Send {
    fn feed_state(&self, feed_url: &str) -> Result<Option<FeedState>, StateError>;
    fn save_feed_state(&mut self, feed_url: &str, state: &FeedState) -> Result<(), StateError>;
    fn is_emitted(&self, id: &str) -> Result<bool, StateError>;
    /// Indexed originals whose simhash is within `max_distance` bits of `simhash`, with
    /// their signatures and publication dates, closest first and at most
    /// [`MAX_CANDIDATES`]. The store only filters by distance: confirming a candidate and
    /// choosing the original is `newswire_core::near_dup::Rule::decide`'s job. Entries
    /// stored without a signature come back with `minhash: None`.
    fn near_duplicates(
        &self,
        simhash: Simhash,
        max_distance: u32,
    ) -> Result<Vec<Candidate>, StateError> {
        self.kept_near_duplicates(simhash, max_distance, &|_| true)
    }
    /// As [`StateStore::near_duplicates`], keeping only the candidates `keep` accepts
    /// (the pipeline passes the rule's confirmation). `keep` is checked on the entries in
    /// place, before any is copied and before the [`MAX_CANDIDATES`] cut, so that a full
    /// index's hundreds of unrelated neighbours cost neither copies nor a confirmed
    /// copy's place in the list.
    fn kept_near_duplicates(
        &self,
        simhash: Simhash,
        max_distance: u32,
        keep: &dyn Fn(&Candidate) -> bool,
    ) -> Result<Vec<Candidate>, StateError>;
    fn sink_position(&self, sink: &str) -> Result<Option<SinkPosition>, StateError>;
    /// Marks `records` emitted, indexes their near-duplicate entries and stores
    /// `positions`, in one transaction. Re-committing an id changes nothing.
    fn commit(
        &mut self,
        records: &[EmittedRecord],
        positions: &[SinkPosition],
    ) -> Result<(), StateError>;
    /// Drops ids and index entries emitted before `older_than` (`state.retention`), and
    /// index entries beyond the newest `max_simhashes` (`dedup.max_entries`).
    fn prune(
        &mut self,
        older_than: DateTime<Utc>,
        max_simhashes: usize,
    ) -> Result<PruneStats, StateError>;
    fn stats(&self) -> Result<StateStats, StateError>;
    /// Forgets a sink's committed position (a sink removed from the config); true if
    /// there was one.
    fn delete_sink_position(&mut self, sink: &str) -> Result<bool, StateError>;
    /// A value saved whole under `key` by [`StateStore::save_blob`] (the story clusterer's
    /// state), or `None`.
    fn load_blob(&self, key: &str) -> Result<Option<Vec<u8>>, StateError>;
    /// Replaces the value under `key` atomically: a reader sees the old or the new bytes.
    fn save_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), StateError>;
}
