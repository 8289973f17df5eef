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
//! 200,000 hashes (the default `dedup.max_entries`), and roughly 100 bytes of memory per
//! hash. Two workers committing near-duplicates within the same few milliseconds can both
//! miss each other, which is the same race two polls of one SQLite store would have if
//! they were concurrent.
//!
//! KV operations per call: `feed_state`, `save_feed_state`, `is_emitted`, `sink_position`:
//! one each. `near_duplicate`: none. `commit`: one put per position, then one put per
//! record plus one per indexed simhash, sent concurrently (one round trip per batch).
//! So a new article costs one read (`is_emitted`) and one or two writes.
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use newswire_core::cluster_config::NatsConnection;
use newswire_core::delivery::SinkPosition;
use newswire_core::fingerprint::{MinHash, Simhash};
use newswire_core::near_dup::Candidate;
use serde::{Deserialize, Serialize};

use crate::{EmittedRecord, FeedState, PruneStats, StateError, StateStats, StateStore};

/// Default bucket name prefix.
pub const DEFAULT_NAMESPACE: &str = "newswire";
/// Longest key written as escaped text; longer ones are hashed.
pub const MAX_PLAIN_KEY: usize = 512;
/// Default bound on one call (connect, one read, one commit).
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(10);
/// Writes of one commit in flight at once.
const COMMIT_CHUNK: usize = 256;
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

/// [`StateStore`] on JetStream KV (see the module doc).
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

/// One indexed simhash in the in-memory replica.
#[derive(Debug, Clone)]
struct Indexed {
    simhash: u64,
    at_millis: i64,
    minhash: Option<MinHash>,
    published_millis: Option<i64>,
    /// KV revision: breaks ties between equal times in commit order, as SQLite's rowid does.
    revision: u64,
}

#[derive(Debug, Default)]
struct SimhashIndex {
    entries: HashMap<String, Indexed>,
    /// Ids this store pruned, with the revision they had: the watch may still deliver the
    /// `Put` that created them after the prune, which must not bring them back. An id
    /// leaves this map when the watch delivers its purge.
    pruned: HashMap<String, u64>,
    loaded: bool,
}

#[derive(Serialize, Deserialize)]
struct StoredFeed {
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_due: Option<i64>,
    #[serde(default)]
    error_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_success: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct StoredSimhash {
    id: String,
    simhash: u64,
    at: i64,
    /// The MinHash signature ([`MinHash::to_bytes`]); absent = not confirmable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minhash: Option<Vec<u8>>,
    /// Publication date in Unix milliseconds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    published: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct StoredSink {
    name: String,
    data: String,
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

    fn call<T, F>(&self, what: &str, future: F) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, String>> + Send + 'static,
    {
        run_on(&self.handle, &self.url, self.op_timeout, what, future)
    }

    fn count_ops(&self, n: usize) {
        self.operations.fetch_add(n as u64, Ordering::Relaxed);
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

/// Connects with the configured credentials and TLS.
pub async fn connect(connection: &NatsConnection) -> Result<async_nats::Client, String> {
    let mut options = match (&connection.creds_file, &connection.nkey_seed_file) {
        (Some(creds), _) => async_nats::ConnectOptions::with_credentials_file(creds)
            .await
            .map_err(|e| format!("cannot read creds file {}: {e}", creds.display()))?,
        (None, Some(seed_file)) => {
            let seed = std::fs::read_to_string(seed_file)
                .map_err(|e| format!("cannot read nkey seed file {}: {e}", seed_file.display()))?;
            async_nats::ConnectOptions::with_nkey(seed.trim().to_string())
        }
        (None, None) => async_nats::ConnectOptions::new(),
    };
    if let Some(ca) = &connection.tls_ca_file {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let (Some(cert), Some(key)) = (&connection.tls_cert_file, &connection.tls_key_file) {
        options = options
            .add_client_certificate(cert.clone(), key.clone())
            .require_tls(true);
    }
    let servers: Vec<async_nats::ServerAddr> = connection
        .nats_url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|e| format!("bad NATS URL {s:?}: {e}")))
        .collect::<Result<_, _>>()?;
    options
        .connection_timeout(Duration::from_secs(5))
        .connect(servers)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", connection.nats_url))
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
    let bucket = |name: String, max_age: Duration| {
        let js = js.clone();
        let replicas = options.replicas.max(1);
        async move {
            if let Ok(store) = js.get_key_value(&name).await {
                return Ok(store);
            }
            create_bucket(&js, &name, max_age, replicas).await?;
            js.get_key_value(&name)
                .await
                .map_err(|e| format!("cannot open bucket {name}: {e}"))
        }
    };
    let feeds = bucket(feeds, Duration::ZERO).await?;
    let seen = bucket(seen, options.retention).await?;
    let simhashes = bucket(simhashes, options.retention).await?;
    let sinks = bucket(sinks, Duration::ZERO).await?;

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

/// Creates bucket `name` as JetStream KV lays it out (stream `KV_<name>` on subjects
/// `$KV.<name>.>`, one value per key, rollups and direct gets allowed).
///
/// Written out instead of `create_key_value` because that first queries the account
/// info, whose 2.9 answer async-nats 0.51 fails to parse.
pub async fn create_bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    replicas: usize,
) -> Result<(), String> {
    js.get_or_create_stream(jetstream::stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age,
        allow_rollup: true,
        deny_delete: true,
        deny_purge: false,
        allow_direct: true,
        num_replicas: replicas.max(1),
        discard: jetstream::stream::DiscardPolicy::New,
        ..Default::default()
    })
    .await
    .map(|_| ())
    .map_err(|e| format!("cannot create bucket {name}: {e}"))
}

fn mark_loaded(index: &Mutex<SimhashIndex>, tx: &mut Option<tokio::sync::oneshot::Sender<()>>) {
    if let Ok(mut index) = index.lock() {
        index.loaded = true;
    }
    if let Some(tx) = tx.take() {
        let _ = tx.send(());
    }
}

fn apply_entry(index: &Mutex<SimhashIndex>, entry: &kv::Entry) {
    let Ok(mut index) = index.lock() else {
        return;
    };
    match entry.operation {
        kv::Operation::Put => {
            if let Ok(stored) = serde_json::from_slice::<StoredSimhash>(&entry.value)
                && index
                    .pruned
                    .get(&stored.id)
                    .is_none_or(|pruned| *pruned < entry.revision)
            {
                index.entries.insert(
                    stored.id,
                    Indexed {
                        simhash: stored.simhash,
                        at_millis: stored.at,
                        minhash: stored.minhash.as_deref().and_then(MinHash::from_bytes),
                        published_millis: stored.published,
                        revision: entry.revision,
                    },
                );
            }
        }
        kv::Operation::Delete | kv::Operation::Purge => {
            if let Some(id) = decode_key(&entry.key) {
                index.entries.remove(&id);
                index.pruned.remove(&id);
            }
        }
    }
}

/// `name` as a KV key (see the module doc).
pub fn encode_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("={byte:02X}"));
        }
    }
    if out.is_empty() {
        // An empty key is invalid in KV; "=" alone never comes out of an escape.
        return "=".into();
    }
    if out.len() > MAX_PLAIN_KEY {
        return format!("hash.{}", blake3::hash(name.as_bytes()).to_hex());
    }
    out
}

/// The name an escaped key stands for; `None` for hashed keys.
pub fn decode_key(key: &str) -> Option<String> {
    if key == "=" {
        return Some(String::new());
    }
    if key.starts_with("hash.") {
        return None;
    }
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = key.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

async fn put_all(store: &kv::Store, items: Vec<(String, Bytes)>) -> Result<Vec<u64>, String> {
    let mut revisions = Vec::with_capacity(items.len());
    for chunk in items.chunks(COMMIT_CHUNK) {
        let puts = chunk.iter().map(|(key, value)| {
            let store = store.clone();
            async move {
                store
                    .put(key, value.clone())
                    .await
                    .map_err(|e| format!("cannot write key {key} to bucket {}: {e}", store.name))
            }
        });
        revisions.extend(futures_util::future::try_join_all(puts).await?);
    }
    Ok(revisions)
}

/// Removes `keys` with no delete marker left behind (a stream purge by subject), so that
/// message counts stay equal to key counts.
async fn purge_keys(store: &kv::Store, keys: Vec<String>) -> Result<(), String> {
    for chunk in keys.chunks(COMMIT_CHUNK) {
        let purges = chunk.iter().map(|key| {
            let store = store.clone();
            async move {
                store
                    .stream
                    .purge()
                    .filter(format!("{}{key}", store.prefix))
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("cannot remove key {key} from bucket {}: {e}", store.name))
            }
        });
        futures_util::future::try_join_all(purges).await?;
    }
    Ok(())
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
        let bytes = self.call(&format!("reading {what}"), async move {
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

impl StateStore for NatsKvState {
    fn feed_state(&self, feed_url: &str) -> Result<Option<FeedState>, StateError> {
        let Some(stored): Option<StoredFeed> =
            self.read_json(&self.feeds, feed_url, &format!("feed state of {feed_url}"))?
        else {
            return Ok(None);
        };
        Ok(Some(FeedState {
            etag: stored.etag,
            last_modified: stored.last_modified,
            next_due: stored.next_due.and_then(from_millis),
            error_count: stored.error_count,
            last_error: stored.last_error,
            last_success: stored.last_success.and_then(from_millis),
        }))
    }

    fn save_feed_state(&mut self, feed_url: &str, state: &FeedState) -> Result<(), StateError> {
        self.count_ops(1);
        let stored = StoredFeed {
            url: feed_url.to_string(),
            etag: state.etag.clone(),
            last_modified: state.last_modified.clone(),
            next_due: state.next_due.map(millis),
            error_count: state.error_count,
            last_error: state.last_error.clone(),
            last_success: state.last_success.map(millis),
        };
        let value = serde_json::to_vec(&stored).map_err(|e| StateError::Storage {
            path: self.url.clone(),
            message: format!("cannot encode feed state of {feed_url}: {e}"),
        })?;
        let store = self.feeds.clone();
        let key = encode_key(feed_url);
        self.call("saving feed state", async move {
            put_all(&store, vec![(key, Bytes::from(value))])
                .await
                .map(|_| ())
        })
    }

    fn is_emitted(&self, id: &str) -> Result<bool, StateError> {
        self.count_ops(1);
        let store = self.seen.clone();
        let key = encode_key(id);
        self.call("checking a record id", async move {
            store
                .get(key.clone())
                .await
                .map(|v| v.is_some())
                .map_err(|e| format!("bucket {} key {key}: {e}", store.name))
        })
    }

    fn near_duplicates(
        &self,
        simhash: Simhash,
        max_distance: u32,
    ) -> Result<Vec<Candidate>, StateError> {
        let cutoff = self.retention_cutoff_millis();
        let index = self.index.lock().map_err(|_| StateError::Storage {
            path: self.url.clone(),
            message: "the simhash replica is unusable (a thread panicked holding it)".into(),
        })?;
        let mut found: Vec<(u32, u64, Candidate)> = index
            .entries
            .iter()
            .filter(|(_, e)| e.at_millis >= cutoff)
            .filter_map(|(id, e)| {
                let distance = (simhash.0 ^ e.simhash).count_ones();
                (distance <= max_distance).then(|| {
                    let candidate = Candidate {
                        id: id.clone(),
                        simhash: Simhash(e.simhash),
                        minhash: e.minhash.clone(),
                        published_at: e
                            .published_millis
                            .and_then(DateTime::<Utc>::from_timestamp_millis),
                    };
                    (distance, e.revision, candidate)
                })
            })
            .collect();
        // Closest first; among equals in commit order (KV revision), as SQLite's rowid order.
        found.sort_by_key(|(distance, revision, _)| (*distance, *revision));
        Ok(found
            .into_iter()
            .take(crate::MAX_CANDIDATES)
            .map(|(.., c)| c)
            .collect())
    }

    fn sink_position(&self, sink: &str) -> Result<Option<SinkPosition>, StateError> {
        let Some(stored): Option<StoredSink> =
            self.read_json(&self.sinks, sink, &format!("position of sink {sink}"))?
        else {
            return Ok(None);
        };
        Ok(Some(SinkPosition {
            sink: sink.to_string(),
            data: stored.data,
        }))
    }

    fn commit(
        &mut self,
        records: &[EmittedRecord],
        positions: &[SinkPosition],
    ) -> Result<(), StateError> {
        let encode = |value: &dyn ToJson| {
            value.to_json().map_err(|e| StateError::Storage {
                path: self.url.clone(),
                message: format!("cannot encode a commit: {e}"),
            })
        };
        let mut position_puts = Vec::with_capacity(positions.len());
        for position in positions {
            let value = StoredSink {
                name: position.sink.clone(),
                data: position.data.clone(),
            };
            position_puts.push((encode_key(&position.sink), encode(&value)?));
        }
        // An id indexed before keeps its first entry, as in SQLite.
        let already_indexed: std::collections::HashSet<&str> = match self.index.lock() {
            Ok(index) => records
                .iter()
                .filter(|r| index.entries.contains_key(&r.id))
                .map(|r| r.id.as_str())
                .collect(),
            Err(_) => Default::default(),
        };
        let mut seen_puts = Vec::with_capacity(records.len());
        let mut simhash_puts = Vec::new();
        let mut indexed_ids = Vec::new();
        for record in records {
            let at = millis(record.emitted_at);
            seen_puts.push((encode_key(&record.id), Bytes::from(at.to_string())));
            if let Some(entry) = &record.near_dup
                && !already_indexed.contains(record.id.as_str())
            {
                let value = StoredSimhash {
                    id: record.id.clone(),
                    simhash: entry.fingerprint.simhash.0,
                    at,
                    minhash: Some(entry.fingerprint.minhash.to_bytes()),
                    published: entry.published_at.map(|p| p.timestamp_millis()),
                };
                simhash_puts.push((encode_key(&record.id), encode(&value)?));
                indexed_ids.push((
                    record.id.clone(),
                    entry.fingerprint.simhash.0,
                    at,
                    Some(entry.fingerprint.minhash.clone()),
                    entry.published_at.map(|p| p.timestamp_millis()),
                ));
            }
        }
        self.count_ops(position_puts.len() + seen_puts.len() + simhash_puts.len());
        let (sinks, seen, simhashes) = (
            self.sinks.clone(),
            self.seen.clone(),
            self.simhashes.clone(),
        );
        let revisions = self.call("committing", async move {
            // Positions first: see "Atomicity" in the module doc.
            put_all(&sinks, position_puts).await?;
            let (seen_result, simhash_result) =
                tokio::join!(put_all(&seen, seen_puts), put_all(&simhashes, simhash_puts));
            seen_result?;
            simhash_result
        })?;
        // The watch brings these too; inserting now makes them visible to this store's
        // next lookup without waiting for it. An id indexed before keeps its first entry.
        if let Ok(mut index) = self.index.lock() {
            for ((id, simhash, at_millis, minhash, published_millis), revision) in
                indexed_ids.into_iter().zip(revisions)
            {
                index.entries.entry(id).or_insert(Indexed {
                    simhash,
                    at_millis,
                    minhash,
                    published_millis,
                    revision,
                });
            }
        }
        Ok(())
    }

    fn prune(
        &mut self,
        older_than: DateTime<Utc>,
        max_simhashes: usize,
    ) -> Result<PruneStats, StateError> {
        let cutoff = millis(older_than);
        // Simhashes: decided on the replica, which holds every indexed id.
        let doomed: Vec<String> = {
            let mut index = self.index.lock().map_err(|_| StateError::Storage {
                path: self.url.clone(),
                message: "the simhash replica is unusable (a thread panicked holding it)".into(),
            })?;
            let mut by_age: Vec<(i64, u64, String)> = index
                .entries
                .iter()
                .map(|(id, e)| (e.at_millis, e.revision, id.clone()))
                .collect();
            // Newest first; everything older than the cutoff or past the count goes.
            by_age.sort_unstable_by(|a, b| b.cmp(a));
            let doomed: Vec<String> = by_age
                .into_iter()
                .enumerate()
                .filter(|(rank, (at, ..))| *at < cutoff || *rank >= max_simhashes)
                .map(|(_, (.., id))| id)
                .collect();
            for id in &doomed {
                if let Some(entry) = index.entries.remove(id) {
                    index.pruned.insert(id.clone(), entry.revision);
                }
            }
            doomed
        };
        let simhashes_pruned = doomed.len() as u64;
        let keys: Vec<String> = doomed.iter().map(|id| encode_key(id)).collect();
        self.count_ops(keys.len());
        let simhashes = self.simhashes.clone();
        self.call("pruning simhashes", async move {
            purge_keys(&simhashes, keys).await
        })?;

        // Seen ids: the bucket's max_age already removes ids older than the retention.
        // Only a cutoff beyond that (an explicit, stricter prune) needs a scan.
        let records_pruned = if cutoff > self.retention_cutoff_millis() + 60_000 {
            let seen = self.seen.clone();
            let operations = self.operations.clone();
            self.call("pruning seen ids", async move {
                let mut watch = seen
                    .watch_with_history(">")
                    .await
                    .map_err(|e| format!("cannot scan bucket {}: {e}", seen.name))?;
                let total = seen
                    .stream
                    .get_info()
                    .await
                    .map_err(|e| format!("bucket {}: {e}", seen.name))?
                    .state
                    .messages;
                let mut old = Vec::new();
                if total > 0 {
                    while let Some(entry) = watch.next().await {
                        let entry = entry.map_err(|e| format!("scanning {}: {e}", seen.name))?;
                        let at = std::str::from_utf8(&entry.value)
                            .ok()
                            .and_then(|s| s.parse::<i64>().ok());
                        if entry.operation == kv::Operation::Put && at.is_some_and(|at| at < cutoff)
                        {
                            old.push(entry.key.clone());
                        }
                        if entry.delta == 0 {
                            break;
                        }
                    }
                }
                operations.fetch_add(total + old.len() as u64, Ordering::Relaxed);
                let n = old.len() as u64;
                purge_keys(&seen, old).await?;
                Ok(n)
            })?
        } else {
            0
        };
        Ok(PruneStats {
            records: records_pruned,
            simhashes: simhashes_pruned,
        })
    }

    fn stats(&self) -> Result<StateStats, StateError> {
        let stores = [
            self.feeds.clone(),
            self.seen.clone(),
            self.sinks.clone(),
            self.simhashes.clone(),
        ];
        self.count_ops(stores.len());
        let infos = self.call("reading state stats", async move {
            let mut out = Vec::new();
            for store in stores {
                let info = store
                    .stream
                    .get_info()
                    .await
                    .map_err(|e| format!("bucket {}: {e}", store.name))?;
                out.push((info.state.messages, info.state.bytes));
            }
            Ok(out)
        })?;
        let simhashes = self
            .index
            .lock()
            .map(|i| i.entries.len() as u64)
            .unwrap_or_default();
        Ok(StateStats {
            feeds: infos[0].0,
            emitted_records: infos[1].0,
            sinks: infos[2].0,
            simhashes,
            file_bytes: infos.iter().map(|(_, bytes)| bytes).sum(),
        })
    }

    fn delete_sink_position(&mut self, sink: &str) -> Result<bool, StateError> {
        self.count_ops(2);
        let store = self.sinks.clone();
        let key = encode_key(sink);
        self.call("deleting a sink position", async move {
            let existed = store
                .get(key.clone())
                .await
                .map_err(|e| format!("bucket {} key {key}: {e}", store.name))?
                .is_some();
            if existed {
                purge_keys(&store, vec![key]).await?;
            }
            Ok(existed)
        })
    }

    fn load_blob(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.count_ops(1);
        let store = self.sinks.clone();
        let name = blob_key(key);
        self.call("reading a saved blob", async move {
            let Some(manifest) = store
                .get(name.clone())
                .await
                .map_err(|e| format!("bucket {} key {name}: {e}", store.name))?
            else {
                return Ok(None);
            };
            let manifest: BlobManifest = serde_json::from_slice(&manifest).map_err(|e| {
                format!("bucket {} key {name}: not a blob manifest: {e}", store.name)
            })?;
            let mut out = Vec::with_capacity(manifest.len);
            for i in 0..manifest.chunks {
                let chunk_key = format!("{name}.{}.{i}", manifest.generation);
                let chunk = store
                    .get(chunk_key.clone())
                    .await
                    .map_err(|e| format!("bucket {} key {chunk_key}: {e}", store.name))?
                    .ok_or_else(|| format!("bucket {} key {chunk_key} is missing", store.name))?;
                out.extend_from_slice(&chunk);
            }
            if out.len() != manifest.len {
                return Err(format!("bucket {} blob {name} is truncated", store.name));
            }
            Ok(Some(out))
        })
    }

    fn save_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), StateError> {
        let chunks: Vec<Bytes> = bytes
            .chunks(BLOB_CHUNK)
            .map(Bytes::copy_from_slice)
            .collect();
        self.count_ops(chunks.len() + 3);
        let store = self.sinks.clone();
        let name = blob_key(key);
        let len = bytes.len();
        self.call("saving a blob", async move {
            let previous: Option<BlobManifest> = store
                .get(name.clone())
                .await
                .map_err(|e| format!("bucket {} key {name}: {e}", store.name))?
                .and_then(|m| serde_json::from_slice(&m).ok());
            let generation = previous.as_ref().map_or(0, |m| m.generation + 1);
            let manifest = BlobManifest {
                generation,
                chunks: chunks.len(),
                len,
            };
            let puts: Vec<(String, Bytes)> = chunks
                .into_iter()
                .enumerate()
                .map(|(i, c)| (format!("{name}.{generation}.{i}"), c))
                .collect();
            put_all(&store, puts).await?;
            // The manifest is written last: until then readers see the previous generation.
            let manifest = manifest.to_json().map_err(|e| e.to_string())?;
            put_all(&store, vec![(name.clone(), manifest)]).await?;
            if let Some(old) = previous {
                let stale = (0..old.chunks)
                    .map(|i| format!("{name}.{}.{i}", old.generation))
                    .collect();
                purge_keys(&store, stale).await?;
            }
            Ok(())
        })
    }
}

/// Blobs live in the sinks bucket (positions and saved states: small, no `max_age`), split
/// into chunks below the server's default 1 MiB message limit, under a manifest key that
/// is written last so a reader never sees half of a new value.
const BLOB_CHUNK: usize = 512 * 1024;

fn blob_key(key: &str) -> String {
    format!("blob.{}", encode_key(key))
}

#[derive(Serialize, Deserialize)]
struct BlobManifest {
    generation: u64,
    chunks: usize,
    len: usize,
}

/// The commit's two value types behind one signature, so encoding errors are mapped once.
trait ToJson {
    fn to_json(&self) -> Result<Bytes, serde_json::Error>;
}

impl<T: Serialize> ToJson for T {
    fn to_json(&self) -> Result<Bytes, serde_json::Error> {
        serde_json::to_vec(self).map(Bytes::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_and_reversible() {
        for name in [
            "https://news.example/feed.xml?x=1&y=a b",
            "jsonl:out/records.jsonl",
            "0123456789abcdef0123456789abcdef",
            "ünïcödé",
            "",
            "=",
        ] {
            let key = encode_key(name);
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b)),
                "{key}"
            );
            assert_eq!(decode_key(&key).as_deref(), Some(name));
        }
        let long = "https://news.example/".to_string() + &"a/".repeat(400);
        let key = encode_key(&long);
        assert!(key.starts_with("hash.") && key.len() < 80, "{key}");
        assert_eq!(decode_key(&key), None);
        assert_ne!(encode_key(&(long.clone() + "b")), key);
    }
}
