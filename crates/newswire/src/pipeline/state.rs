//! Async access to the synchronous state store, on a thread of its own.
//!
//! The store (SQLite, or NATS KV behind a blocking facade) runs on one dedicated OS thread
//! that takes commands from a bounded channel and answers each through a oneshot. Not on
//! tokio's blocking pool: a state call queued behind a full pool (of stories' snapshots,
//! file writes, or anything else blocking) would stall the feed gate and the commits (and
//! so every sink). One thread also serialises the calls, which SQLite does for writers
//! anyway; every call is short.

use anyhow::{Context, anyhow};
use newswire_core::delivery::SinkPosition;
use newswire_core::fingerprint::Fingerprint;
use newswire_core::near_dup::{Candidate, Rule};
use newswire_state::{EmittedRecord, FeedState, StateStore};
use tokio::sync::{mpsc, oneshot};

/// Calls waiting for the state thread; callers beyond this wait to enqueue (backpressure).
const QUEUED_CALLS: usize = 256;

/// One call, run on the state thread.
type Command = Box<dyn FnOnce(&mut dyn StateStore) + Send>;

/// Cheap to clone; all clones share one store. The thread ends when the last clone is
/// dropped (after running the calls already queued), and the store is closed with it.
#[derive(Clone)]
pub struct StateHandle {
    commands: mpsc::Sender<Command>,
}

impl StateHandle {
    /// Starts the state thread.
    ///
    /// # Panics
    /// If the OS cannot start a thread (at startup, before any work is taken).
    pub fn new(store: Box<dyn StateStore>) -> Self {
        let (commands, mut queue) = mpsc::channel::<Command>(QUEUED_CALLS);
        let mut store = store;
        std::thread::Builder::new()
            .name("newswire-state".into())
            .spawn(move || {
                while let Some(command) = queue.blocking_recv() {
                    command(store.as_mut());
                }
            })
            .expect("starting the state thread");
        Self { commands }
    }

    pub(super) async fn call<T, F>(&self, what: &'static str, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn StateStore) -> Result<T, newswire_state::StateError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let command: Command = Box::new(move |store| {
            // The caller may be gone (shutdown); the call still ran.
            let _ = reply.send(f(store));
        });
        self.commands
            .send(command)
            .await
            .map_err(|_| anyhow!("state thread stopped"))
            .with_context(|| format!("state: {what}"))?;
        answer
            .await
            .map_err(|_| anyhow!("state thread stopped during the call (a panic in the store?)"))
            .with_context(|| format!("state: {what}"))?
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

    /// For each id, whether it was emitted before: one call for a chunk of a poll's
    /// entries, as a call per entry cost two thread wake-ups each (load benchmark profile).
    pub async fn emitted_among(&self, ids: Vec<String>) -> anyhow::Result<Vec<bool>> {
        self.call("checking record ids", move |s| {
            ids.iter().map(|id| s.is_emitted(id)).collect()
        })
        .await
    }

    /// For each article (`None`: not looked up), the indexed originals `rule` confirms as
    /// what it copies (the article's own id excluded), checked on the state thread before
    /// anything is copied. One call for a whole batch of the dedup stage.
    pub async fn confirmed_near_duplicates(
        &self,
        rule: Rule,
        articles: Vec<Option<(String, Fingerprint)>>,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        self.call("looking up near-duplicates", move |s| {
            articles
                .iter()
                .map(|article| {
                    let Some((id, fingerprint)) = article else {
                        return Ok(Vec::new());
                    };
                    // The signature first: most candidates fail it, and comparing the ids
                    // of all of them showed up in the profile (1 % of the CPU).
                    let keep = |c: &Candidate| {
                        rule.confirms_candidate(&fingerprint.minhash, c) && c.id != *id
                    };
                    s.kept_near_duplicates(fingerprint.simhash, rule.max_hamming_distance, &keep)
                })
                .collect()
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use newswire_state::SqliteState;

    use super::*;

    /// A runtime whose blocking pool has a single thread, held by a stand-in for a long
    /// extraction: state calls must still be answered.
    #[test]
    fn state_calls_proceed_while_every_blocking_thread_is_busy() {
        let runtime = crate::pipeline::one_blocking_thread_runtime();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteState::open(dir.path().join("state.db")).unwrap();
            let state = StateHandle::new(Box::new(store));
            let (release, held) = std::sync::mpsc::channel::<()>();
            let extraction = tokio::task::spawn_blocking(move || {
                let _ = held.recv_timeout(Duration::from_secs(30));
            });
            // The pool's only thread is now taken (a second spawn_blocking would queue).
            tokio::time::sleep(Duration::from_millis(50)).await;
            let answered = tokio::time::timeout(Duration::from_secs(5), async {
                state.is_emitted("some-id").await?;
                state.feed_state("https://a.example/rss").await?;
                state.commit(Vec::new(), Vec::new()).await
            })
            .await;
            release.send(()).unwrap();
            extraction.await.unwrap();
            let answered = answered.expect("state calls waited behind the blocking pool");
            answered.unwrap();
        });
    }

    #[tokio::test]
    async fn calls_after_the_thread_is_gone_name_the_call() {
        let (commands, queue) = mpsc::channel::<Command>(1);
        drop(queue);
        let state = StateHandle { commands };
        let error = state.is_emitted("x").await.unwrap_err();
        assert!(
            format!("{error:#}").contains("checking a record id"),
            "{error:#}"
        );
    }
}
