//! The state store: what newswire remembers between polls and across restarts.
//!
//! Per feed: HTTP validators, next due time, error count. Per record id: that it was
//! emitted (with its simhash, for near-duplicate lookups). Per sink: its committed
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

mod bands;
pub mod nats_kv;
mod sqlite;

pub use nats_kv::{NatsKvOptions, NatsKvState};
pub use sqlite::{IN_MEMORY, SqliteState, lock_path};

use chrono::{DateTime, Utc};
use newswire_core::delivery::SinkPosition;

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
    pub simhash: u64,
    /// Whether the record's text is eligible for near-duplicate matching.
    pub index_simhash: bool,
    pub emitted_at: DateTime<Utc>,
}

/// Counts and sizes, for `newswire state stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateStats {
    pub feeds: u64,
    pub emitted_records: u64,
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

/// The operations the pipeline needs from its state.
pub trait StateStore: Send {
    fn feed_state(&self, feed_url: &str) -> Result<Option<FeedState>, StateError>;
    fn save_feed_state(&mut self, feed_url: &str, state: &FeedState) -> Result<(), StateError>;
    fn is_emitted(&self, id: &str) -> Result<bool, StateError>;
    /// Id of an emitted record whose simhash is within `max_distance` bits, if any.
    fn near_duplicate(&self, simhash: u64, max_distance: u32)
    -> Result<Option<String>, StateError>;
    fn sink_position(&self, sink: &str) -> Result<Option<SinkPosition>, StateError>;
    /// Marks `records` emitted and stores `positions`, in one transaction.
    fn commit(
        &mut self,
        records: &[EmittedRecord],
        positions: &[SinkPosition],
    ) -> Result<(), StateError>;
    /// Drops ids emitted before `older_than`, and simhashes beyond the newest `max_simhashes`.
    fn prune(
        &mut self,
        older_than: DateTime<Utc>,
        max_simhashes: usize,
    ) -> Result<PruneStats, StateError>;
    fn stats(&self) -> Result<StateStats, StateError>;
    /// Forgets a sink's committed position (a sink removed from the config); true if
    /// there was one.
    fn delete_sink_position(&mut self, sink: &str) -> Result<bool, StateError>;
}
