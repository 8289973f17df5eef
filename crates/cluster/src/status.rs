//! `newswire cluster status`: the workers alive, the shards each holds, lease ages and
//! feeds per shard, as a table (`Display`) or JSON (`Serialize`).

use std::collections::BTreeMap;
use std::fmt;

use async_nats::jetstream;
use futures_util::{StreamExt, future::join_all};
use newswire_core::cluster_config::ClusterConfig;
use newswire_core::nats::{connect, existing_bucket};
use serde::Serialize;

use crate::{
    ClusterError, Heartbeat, LeaseValue, lease_key, leases_bucket, now_millis, workers_bucket,
};

/// The cluster as the lease and worker buckets show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterStatus {
    pub shards: u32,
    pub workers: Vec<WorkerStatus>,
    /// One row per shard, held or not.
    pub leases: Vec<ShardStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerStatus {
    pub worker: String,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: i64,
    pub shards: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardStatus {
    pub shard: u32,
    /// `None` when no worker holds it.
    pub worker: Option<String>,
    /// Milliseconds since the lease was last renewed.
    pub lease_age_ms: Option<i64>,
    /// Milliseconds since the holder claimed it.
    pub held_for_ms: Option<i64>,
    /// Feeds of the given list that hash into this shard.
    pub feeds: usize,
}

/// Reads the cluster's state. `feed_urls` (the config's feeds) fills the per-shard feed
/// counts; pass an empty list to leave them at 0.
pub async fn cluster_status(
    config: &ClusterConfig,
    feed_urls: &[String],
) -> Result<ClusterStatus, ClusterError> {
    let client = connect(&config.connection())
        .await
        .map_err(|message| ClusterError::Connect {
            url: config.nats_url.clone(),
            message,
        })?;
    let js = jetstream::new(client);
    let open_existing = |name: String| {
        let js = js.clone();
        async move {
            existing_bucket(&js, &name)
                .await
                .map_err(|message| ClusterError::Bucket {
                    bucket: name.clone(),
                    message,
                })
        }
    };
    let now = now_millis();
    let per_shard = crate::feeds_per_shard(feed_urls.iter().map(String::as_str), config.shards);

    let mut leases = Vec::new();
    let mut holdings: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let lease_store = open_existing(leases_bucket(&config.namespace)).await?;
    let reads = (0..config.shards).map(|shard| {
        let store = lease_store.clone();
        async move {
            match store {
                Some(store) => (shard, store.get(lease_key(shard)).await.ok().flatten()),
                None => (shard, None),
            }
        }
    });
    for (shard, value) in join_all(reads).await {
        let lease = value.and_then(|v| serde_json::from_slice::<LeaseValue>(&v).ok());
        if let Some(lease) = &lease {
            holdings
                .entry(lease.worker.clone())
                .or_default()
                .push(shard);
        }
        leases.push(ShardStatus {
            shard,
            worker: lease.as_ref().map(|l| l.worker.clone()),
            lease_age_ms: lease.as_ref().map(|l| now - l.renewed),
            held_for_ms: lease.as_ref().map(|l| now - l.since),
            feeds: per_shard.get(&shard).copied().unwrap_or(0),
        });
    }

    let mut workers = Vec::new();
    if let Some(store) = open_existing(workers_bucket(&config.namespace)).await? {
        let fail = |e: String| ClusterError::Bucket {
            bucket: store.name.clone(),
            message: e,
        };
        let mut keys = store.keys().await.map_err(|e| fail(e.to_string()))?;
        let mut names = Vec::new();
        while let Some(key) = keys.next().await {
            names.push(key.map_err(|e| fail(e.to_string()))?);
        }
        for name in names {
            let Some(value) = store.get(&name).await.map_err(|e| fail(e.to_string()))? else {
                continue;
            };
            let Ok(beat) = serde_json::from_slice::<Heartbeat>(&value) else {
                continue;
            };
            workers.push(WorkerStatus {
                shards: holdings.remove(&beat.worker).unwrap_or_default(),
                heartbeat_age_ms: now - beat.at,
                worker: beat.worker,
            });
        }
    }
    // Leases whose holder has no heartbeat any more (dying, or just gone).
    for (worker, shards) in holdings {
        workers.push(WorkerStatus {
            worker,
            heartbeat_age_ms: -1,
            shards,
        });
    }
    workers.sort_by(|a, b| a.worker.cmp(&b.worker));
    Ok(ClusterStatus {
        shards: config.shards,
        workers,
        leases,
    })
}

impl ClusterStatus {
    /// Shards no worker holds.
    pub fn unheld(&self) -> Vec<u32> {
        self.leases
            .iter()
            .filter(|l| l.worker.is_none())
            .map(|l| l.shard)
            .collect()
    }
}

impl fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<32} {:>10} {:>7}  SHARDS",
            "WORKER", "HEARTBEAT", "COUNT"
        )?;
        for w in &self.workers {
            let beat = if w.heartbeat_age_ms < 0 {
                "gone".to_string()
            } else {
                format!("{:.1}s ago", w.heartbeat_age_ms as f64 / 1000.0)
            };
            let shards: Vec<String> = w.shards.iter().map(u32::to_string).collect();
            writeln!(
                f,
                "{:<32} {:>10} {:>7}  {}",
                w.worker,
                beat,
                w.shards.len(),
                shards.join(",")
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>5} {:<32} {:>10} {:>10} {:>6}",
            "SHARD", "WORKER", "LEASE AGE", "HELD FOR", "FEEDS"
        )?;
        for l in &self.leases {
            let secs = |ms: Option<i64>| {
                ms.map(|ms| format!("{:.1}s", ms as f64 / 1000.0))
                    .unwrap_or_else(|| "-".into())
            };
            writeln!(
                f,
                "{:>5} {:<32} {:>10} {:>10} {:>6}",
                l.shard,
                l.worker.as_deref().unwrap_or("(none)"),
                secs(l.lease_age_ms),
                secs(l.held_for_ms),
                l.feeds
            )?;
        }
        let unheld = self.unheld();
        if !unheld.is_empty() {
            writeln!(f, "\n{} of {} shards unheld", unheld.len(), self.shards)?;
        }
        Ok(())
    }
}
