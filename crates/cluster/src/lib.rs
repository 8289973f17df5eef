//! newswire workers side by side on one NATS JetStream cluster.
//!
//! - [`shard_of`]: which shard a feed belongs to (a stable hash of its URL);
//! - [`Leases`]: claims, renews, rebalances and releases shards through JetStream KV
//!   leases, and publishes the set of shards this worker holds;
//! - [`ShardGate`]: lets a poll start only in a held shard, and lets a shard go only
//!   once its polls in flight are over (so no feed is polled by two workers at once);
//! - [`cluster_status`]: the workers alive, the shards each holds and lease ages.
//!
//! The scheduler polls only the feeds whose shard is in the held set:
//!
//! ```no_run
//! # async fn demo(config: newswire_core::cluster_config::ClusterConfig) -> Result<(), newswire_cluster::ClusterError> {
//! use newswire_cluster::{Leases, shard_of};
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let leases = Leases::start(&config, shutdown.clone()).await?;
//! let mut held = leases.held();
//! let mine = |url: &str| held.borrow().contains(&shard_of(url, config.shards));
//! // … schedule feeds for which `mine(url)`; `held.changed().await` when the set moves;
//! // start each poll only if `leases.gate().begin(shard)`, and `end(shard)` once committed.
//! shutdown.cancel();
//! leases.stopped().await; // leases released
//! # Ok(()) }
//! ```

mod gate;
mod leases;
mod shard;
mod status;

pub use gate::ShardGate;
pub use leases::{LeaseHandle, Leases};
pub use shard::{feeds_per_shard, shard_of};
pub use status::{ClusterStatus, ShardStatus, WorkerStatus, cluster_status};

/// Everything that can go wrong talking to the cluster; messages name the server or bucket.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cluster: {url}: {message}")]
    Connect { url: String, message: String },
    #[error("cluster: bucket {bucket}: {message}")]
    Bucket { bucket: String, message: String },
    #[error("cluster: {0}")]
    Config(String),
}

/// Bucket holding one lease per shard (`max_age` = lease TTL).
pub fn leases_bucket(namespace: &str) -> String {
    format!("{namespace}_leases")
}

/// Bucket holding one heartbeat per live worker (`max_age` = lease TTL).
pub fn workers_bucket(namespace: &str) -> String {
    format!("{namespace}_workers")
}

/// KV key of shard `n`'s lease.
pub fn lease_key(shard: u32) -> String {
    format!("shard-{shard}")
}

/// Milliseconds since the Unix epoch, from the local clock.
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A lease's value.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
struct LeaseValue {
    worker: String,
    /// When this worker claimed the shard.
    since: i64,
    /// The last renewal.
    renewed: i64,
}

/// A worker's heartbeat value.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
struct Heartbeat {
    worker: String,
    started: i64,
    at: i64,
    shards_held: u32,
}
