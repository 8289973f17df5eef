//! Async access to the synchronous state store.
//!
//! SQLite calls block, so each one runs on tokio's blocking pool; a mutex serialises them
//! (SQLite serialises writers anyway, and every call is short).

use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow};
use newswire_core::delivery::SinkPosition;
use newswire_core::fingerprint::Simhash;
use newswire_core::near_dup::Candidate;
use newswire_state::{EmittedRecord, FeedState, StateStore};

/// Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct StateHandle {
    inner: Arc<Mutex<Box<dyn StateStore>>>,
}

impl StateHandle {
    pub fn new(store: Box<dyn StateStore>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(store)),
        }
    }

    pub(super) async fn call<T, F>(&self, what: &'static str, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn StateStore) -> Result<T, newswire_state::StateError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut guard = inner
                .lock()
                .map_err(|_| anyhow!("state store unusable after a panic"))?;
            f(guard.as_mut()).map_err(anyhow::Error::from)
        })
        .await
        .context("state task failed")?
        .with_context(|| format!("state: {what}"))
    }

    pub async fn feed_state(&self, feed: &str) -> anyhow::Result<Option<FeedState>> {
        let feed = feed.to_string();
        self.call("reading feed state", move |s| s.feed_state(&feed))
            .await
    }

    pub async fn save_feed_state(&self, feed: &str, state: FeedState) -> anyhow::Result<()> {
        let feed = feed.to_string();
        self.call("saving feed state", move |s| {
            s.save_feed_state(&feed, &state)
        })
        .await
    }

    /// A cheap read that proves the store answers (for `/readyz`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.call("answering a readiness probe", |s| {
            s.sink_position("readyz-probe").map(|_| ())
        })
        .await
    }

    pub async fn is_emitted(&self, id: &str) -> anyhow::Result<bool> {
        let id = id.to_string();
        self.call("checking a record id", move |s| s.is_emitted(&id))
            .await
    }

    pub async fn near_duplicates(
        &self,
        simhash: Simhash,
        max_distance: u32,
    ) -> anyhow::Result<Vec<Candidate>> {
        self.call("looking up near-duplicates", move |s| {
            s.near_duplicates(simhash, max_distance)
        })
        .await
    }

    pub async fn sink_position(&self, sink: &str) -> anyhow::Result<Option<SinkPosition>> {
        let sink = sink.to_string();
        self.call("reading a sink position", move |s| s.sink_position(&sink))
            .await
    }

    pub async fn commit(
        &self,
        records: Vec<EmittedRecord>,
        positions: Vec<SinkPosition>,
    ) -> anyhow::Result<()> {
        self.call("committing delivered records", move |s| {
            s.commit(&records, &positions)
        })
        .await
    }

    pub async fn prune(
        &self,
        older_than: chrono::DateTime<chrono::Utc>,
        max_simhashes: usize,
    ) -> anyhow::Result<newswire_state::PruneStats> {
        self.call("pruning", move |s| s.prune(older_than, max_simhashes))
            .await
    }
}
