//! The shared state store: JetStream KV buckets, so that several workers see one state.
//!
//! Buckets (names prefixed by the namespace, default `newswire`):
//! - `<ns>_feeds`: per feed URL, its [`FeedState`] as JSON;
//! - `<ns>_seen`: per record id, when it was emitted; the bucket's `max_age` is
//!   `state.retention`, so the server forgets old ids by itself (NATS 2.9 has no per-key
//!   TTL: a lifetime belongs to a bucket);
//! - `<ns>_simhashes`: per indexed record id, its simhash and time, `max_age` = retention;
//! - `<ns>_sinks`: per sink state name, its committed position.
//!
//! Keys are the URL, id or sink name with every byte outside `[A-Za-z0-9_-]` written as
//! `=XX` (readable and reversible); names longer than [`MAX_PLAIN_KEY`] become
//! `hash.<blake3>` (the escaped form never contains a dot, so the two cannot collide).
//!
//! Near-duplicate lookups: a KV store cannot answer "which hash is within d bits" without
//! enumerating keys, so each store keeps an in-memory replica of `<ns>_simhashes`, loaded
//! at open and kept current by a KV watch (it also sees other workers' commits within
//! milliseconds). A lookup is a scan of that replica: no KV operation, about 1 ms per
//! 200,000 hashes (the default `dedup.max_entries`), and roughly 700 bytes of memory per
//! hash, most of it the 512-byte MinHash signature. The replica holds each entry as the
//! candidate a lookup returns, so the rule's `keep` runs on it in place and only the kept
//! ones are copied. Two workers committing near-duplicates within the same few
//! milliseconds can both miss each other, which is the same race two polls of one SQLite
//! store would have if they were concurrent.
//!
//! KV operations per call: `feed_state`, `save_feed_state`, `is_emitted`, `sink_position`:
//! one each. `near_duplicate`: none. `commit`: one put per position, then one put per
//! record plus one per indexed simhash, sent concurrently (one round trip per batch).
//! So a new article costs one read (`is_emitted`) and one or two writes. Every operation
//! is counted in `newswire_kv_operations_total` (and [`NatsKvState::kv_operations`]); each
//! call's time goes to `newswire_kv_op_seconds{op}`.
//!
//! Files: this one opens the store and runs calls; `store.rs` is the [`StateStore`](crate::StateStore)
//! implementation (and saved blobs), `index.rs` the simhash replica, `keys.rs` key
//! escaping and batched writes. Connecting and creating buckets is `newswire_core::nats`,
//! shared with the leases and the NATS sink.
//!
//! Atomicity: KV has no multi-key transaction. `commit` writes the sink positions first
//! and the ids after them, so a crash in between re-emits records (at least once, and a
//! NATS sink's duplicate window removes the copy) instead of losing them, which the
//! opposite order would do to a JSONL sink rolled back to its position.
//!
//! Why the trait stays synchronous: the pipeline calls it from `spawn_blocking`, and the
//! trait is being extended in parallel. This store owns a one-thread tokio runtime; each
//! call is spawned onto it and the calling thread waits on a channel. That works from any
//! thread (blocking on a runtime from inside async code would panic, this does not) and
//! keeps the NATS connection serviced between calls (a current-thread runtime would only
//! answer server pings while a call is running). Each call is bounded by a timeout.

mod index;
mod keys;
mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use chrono::Utc;
use futures_util::StreamExt;
use newswire_core::cluster_config::NatsConnection;
use newswire_core::nats::{connect, open_bucket};

use crate::StateError;
use index::{SimhashIndex, apply_entry, mark_loaded};
pub use keys::{decode_key, encode_key};

/// Default bucket name prefix.
pub const DEFAULT_NAMESPACE: &str = "newswire";
/// Longest key written as escaped text; longer ones are hashed.
pub const MAX_PLAIN_KEY: usize = 512;
/// Default bound on one call (connect, one read, one commit).
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long opening waits for the simhash replica to load.
const INDEX_LOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// Where and how to open a [`NatsKvState`].
#[derive(Debug, Clone)]
pub struct NatsKvOptions {
    /// URL (from `[state] path = "nats://…"`), credentials and TLS.
    pub connection: NatsConnection,
    /// Bucket name prefix (`state.namespace`).
    pub namespace: String,
    /// `state.retention`: the `max_age` of the seen-id and simhash buckets.
    pub retention: Duration,
    /// Replicas of each bucket (1 on a single server, 3 on a 3-node cluster).
    pub replicas: usize,
    /// Bound on each call.
    pub op_timeout: Duration,
}

impl NatsKvOptions {
    /// Options for `url` with the default namespace, one replica and `retention`.
    pub fn new(url: impl Into<String>, retention: Duration) -> NatsKvOptions {
        NatsKvOptions {
            connection: NatsConnection {
                nats_url: url.into(),
                ..NatsConnection::default()
            },
            namespace: DEFAULT_NAMESPACE.into(),
            retention,
            replicas: 1,
            op_timeout: DEFAULT_OP_TIMEOUT,
        }
    }
}

/// [`StateStore`](crate::StateStore) on JetStream KV (see the module doc).
pub struct NatsKvState {
    /// `Some` until drop; shut down in the background so dropping never blocks or panics.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    url: String,
    namespace: String,
    retention: Duration,
    op_timeout: Duration,
    feeds: kv::Store,
    seen: kv::Store,
    simhashes: kv::Store,
    sinks: kv::Store,
    index: Arc<Mutex<SimhashIndex>>,
    watcher: tokio::task::JoinHandle<()>,
    /// KV operations performed by this store (reads, writes, purges), for measurements.
    operations: Arc<AtomicU64>,
}

impl std::fmt::Debug for NatsKvState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsKvState")
            .field("url", &self.url)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Drop for NatsKvState {
    fn drop(&mut self) {
        self.watcher.abort();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl NatsKvState {
    /// Connects and opens (creating when absent) the four buckets, then loads the simhash
    /// replica. An existing bucket is used as it is (its `max_age` included).
    pub fn open(options: NatsKvOptions) -> Result<NatsKvState, StateError> {
        let url = options.connection.nats_url.clone();
        if options.namespace.is_empty()
            || !options
                .namespace
                .chars()
                .all(newswire_core::cluster_config::is_worker_id_char)
        {
            return Err(StateError::Storage {
                path: url,
                message: format!(
                    "state.namespace {:?} may only use letters, digits, '-' and '_'",
                    options.namespace
                ),
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("newswire-kv")
            .enable_all()
            .build()
            .map_err(|e| StateError::Storage {
                path: url.clone(),
                message: format!("cannot start the KV client runtime: {e}"),
            })?;
        let handle = runtime.handle().clone();
        let index = Arc::new(Mutex::new(SimhashIndex::default()));
        let setup = {
            let options = options.clone();
            let index = index.clone();
            async move { setup(options, index).await }
        };
        let (feeds, seen, simhashes, sinks, watcher) = run_on(
            &handle,
            &url,
            options.op_timeout + INDEX_LOAD_TIMEOUT,
            "opening the KV state",
            setup,
        )?;
        Ok(NatsKvState {
            runtime: Some(runtime),
            handle,
            url,
            namespace: options.namespace,
            retention: options.retention,
            op_timeout: options.op_timeout,
            feeds,
            seen,
            simhashes,
            sinks,
            index,
            watcher,
            operations: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The URL the store was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// KV operations (reads, writes, purges) performed so far by this store.
    pub fn kv_operations(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    /// Deletes the four buckets of `namespace` (for tests and `state reset`).
    pub fn delete_buckets(options: &NatsKvOptions) -> Result<(), StateError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StateError::Storage {
                path: options.connection.nats_url.clone(),
                message: format!("cannot start a runtime: {e}"),
            })?;
        let url = options.connection.nats_url.clone();
        let names = bucket_names(&options.namespace);
        let result = runtime.block_on(async {
            let client = connect(&options.connection).await?;
            let js = jetstream::new(client);
            for name in names {
                // Absent buckets are fine: deleting is idempotent.
                let _ = js.delete_key_value(&name).await;
            }
            Ok::<(), String>(())
        });
        result.map_err(|message| StateError::Storage { path: url, message })
    }

    /// Runs one call on the KV runtime; its time goes to `newswire_kv_op_seconds{op}`.
    fn call<T, F>(&self, op: &'static str, what: &str, future: F) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, String>> + Send + 'static,
    {
        let started = std::time::Instant::now();
        let outcome = run_on(&self.handle, &self.url, self.op_timeout, what, future);
        metrics::histogram!("newswire_kv_op_seconds", "op" => op)
            .record(started.elapsed().as_secs_f64());
        outcome
    }

    fn count_ops(&self, n: usize) {
        self.operations.fetch_add(n as u64, Ordering::Relaxed);
        metrics::counter!("newswire_kv_operations_total").increment(n as u64);
    }

    fn retention_cutoff_millis(&self) -> i64 {
        let retention = chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
        Utc::now()
            .checked_sub_signed(retention)
            .map(|t| t.timestamp_millis())
            .unwrap_or(i64::MIN)
    }
}

/// Runs `future` on the store's runtime and waits for it from the calling thread.
fn run_on<T, F>(
    handle: &tokio::runtime::Handle,
    url: &str,
    timeout: Duration,
    what: &str,
    future: F,
) -> Result<T, StateError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, String>> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle.spawn(async move {
        let outcome = match tokio::time::timeout(timeout, future).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("no answer within {}s", timeout.as_secs())),
        };
        let _ = tx.send(outcome);
    });
    match rx.recv() {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(StateError::Storage {
            path: url.to_string(),
            message: format!("{what}: {message}"),
        }),
        Err(_) => Err(StateError::Storage {
            path: url.to_string(),
            message: format!("{what}: the KV client runtime stopped"),
        }),
    }
}

fn bucket_names(namespace: &str) -> [String; 4] {
    ["feeds", "seen", "simhashes", "sinks"].map(|b| format!("{namespace}_{b}"))
}

type Opened = (
    kv::Store,
    kv::Store,
    kv::Store,
    kv::Store,
    tokio::task::JoinHandle<()>,
);

async fn setup(options: NatsKvOptions, index: Arc<Mutex<SimhashIndex>>) -> Result<Opened, String> {
    let client = connect(&options.connection).await?;
    let js = jetstream::new(client);
    let [feeds, seen, simhashes, sinks] = bucket_names(&options.namespace);
    let replicas = options.replicas;
    let feeds = open_bucket(&js, &feeds, Duration::ZERO, replicas).await?;
    let seen = open_bucket(&js, &seen, options.retention, replicas).await?;
    let simhashes = open_bucket(&js, &simhashes, options.retention, replicas).await?;
    let sinks = open_bucket(&js, &sinks, Duration::ZERO, replicas).await?;

    // Load the replica, then keep following the bucket.
    let stored = simhashes
        .stream
        .get_info()
        .await
        .map_err(|e| format!("bucket {}: {e}", simhashes.name))?
        .state
        .messages;
    let mut watch = simhashes
        .watch_with_history(">")
        .await
        .map_err(|e| format!("cannot watch bucket {}: {e}", simhashes.name))?;
    let (loaded_tx, loaded_rx) = tokio::sync::oneshot::channel::<()>();
    let mut loaded_tx = Some(loaded_tx);
    if stored == 0 {
        mark_loaded(&index, &mut loaded_tx);
    }
    let follower = index.clone();
    let bucket_name = simhashes.name.clone();
    let watcher = tokio::spawn(async move {
        while let Some(entry) = watch.next().await {
            match entry {
                Ok(entry) => {
                    apply_entry(&follower, &entry);
                    if entry.delta == 0 {
                        mark_loaded(&follower, &mut loaded_tx);
                    }
                }
                Err(e) => {
                    tracing::warn!(bucket = %bucket_name, error = %e, "simhash replica: watch error")
                }
            }
        }
        tracing::warn!(bucket = %bucket_name, "simhash replica: watch ended");
    });
    if !index.lock().map(|i| i.loaded).unwrap_or(false) {
        match tokio::time::timeout(INDEX_LOAD_TIMEOUT, loaded_rx).await {
            Ok(Ok(())) => {}
            _ => {
                watcher.abort();
                return Err(format!(
                    "the simhash replica of bucket {} did not load within {}s",
                    simhashes.name,
                    INDEX_LOAD_TIMEOUT.as_secs()
                ));
            }
        }
    }
    Ok((feeds, seen, simhashes, sinks, watcher))
}

impl NatsKvState {
    /// Reads the JSON value under `name` in `store` (one KV read); `what` names it in
    /// errors.
    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        store: &kv::Store,
        name: &str,
        what: &str,
    ) -> Result<Option<T>, StateError> {
        self.count_ops(1);
        let store = store.clone();
        let key = encode_key(name);
        let bytes = self.call("read", &format!("reading {what}"), async move {
            store
                .get(key.clone())
                .await
                .map_err(|e| format!("bucket {} key {key}: {e}", store.name))
        })?;
        bytes
            .map(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| StateError::Storage {
                    path: self.url.clone(),
                    message: format!("{what} is not readable: {e}"),
                })
            })
            .transpose()
    }
}
