//! Cluster mode in the binary: the sharded feed list `run` gives the scheduler, and
//! `newswire cluster status`.
//!
//! The scheduler already applies a changing feed list (config reloads): feeds that
//! appear are polled at once, feeds that disappear are dropped (a poll in flight
//! finishes). Sharding reuses exactly that: [`shard_feeds`] publishes the configured
//! feeds whose shard this worker holds, again whenever the held set or the configured
//! list changes. So a gained shard's feeds are polled at once (a takeover), a lost
//! shard's feeds are not polled again here, and a reload keeps both rules.
//!
//! The list alone cannot stop a feed from being polled twice while a shard changes hands
//! (the scheduler may dispatch a feed before it sees the new list, and a poll in flight
//! may still be committing). So every poll also passes the leases' [`ShardGate`]
//! ([`ClusterGate`]): it starts only while the shard is held, and a shard given up to
//! rebalance keeps its lease until its last poll has committed. On shutdown the worker
//! stops claiming, drains, and only then deletes its leases (`run.rs`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use newswire_cluster::{ClusterStatus, LeaseHandle, Leases, ShardGate, cluster_status, shard_of};
use newswire_core::cluster_config::ClusterConfig;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config_file::{Overrides, load_config};
use crate::exit::Failure;
use crate::feed_list::feed_specs;
use crate::pipeline::{FeedSpec, PollGate};

/// The pipeline's [`PollGate`] in cluster mode: a feed's poll passes its shard's gate.
pub struct ClusterGate {
    gate: Arc<ShardGate>,
    shards: u32,
}

impl PollGate for ClusterGate {
    fn begin(&self, feed_key: &str) -> bool {
        self.gate.begin(shard_of(feed_key, self.shards))
    }

    fn end(&self, feed_key: &str) {
        self.gate.end(shard_of(feed_key, self.shards));
    }
}

/// What [`shard_feeds`] gives the run.
pub struct Sharded {
    /// The feeds of the shards held, for the scheduler.
    pub feeds: watch::Receiver<Vec<FeedSpec>>,
    /// For the pipeline's [`crate::pipeline::Controls::gate`].
    pub gate: Arc<dyn PollGate>,
    /// Cancel the `stop` token given to [`shard_feeds`], then await
    /// [`LeaseHandle::stopped`]: the leases are released.
    pub leases: LeaseHandle,
}

/// Starts the leases and returns the feed list the scheduler should see, the poll gate
/// and the lease handle. Waits up to one renewal period for the first claims, so that
/// the first schedule starts from the state's due times instead of treating every feed
/// as gained. Once `draining` is cancelled (the pipeline's shutdown) no shard is claimed
/// or released any more; `stop` (after the drain) releases every lease.
pub async fn shard_feeds(
    cluster: &ClusterConfig,
    mut configured: watch::Receiver<Vec<FeedSpec>>,
    draining: CancellationToken,
    stop: CancellationToken,
) -> Result<Sharded, Failure> {
    let leases = Leases::start(cluster, stop.clone())
        .await
        .map_err(|e| Failure::Runtime(e.into()))?;
    let claim_stopper = leases.claim_stopper();
    tokio::spawn(async move {
        draining.cancelled().await;
        claim_stopper.cancel();
    });
    let gate = Arc::new(ClusterGate {
        gate: leases.gate(),
        shards: cluster.shards,
    });
    let mut held = leases.held();
    let _ = tokio::time::timeout(cluster.renew_interval(), held.changed()).await;
    let shards = cluster.shards;
    let mine = move |feeds: &[FeedSpec], held: &BTreeSet<u32>| -> Vec<FeedSpec> {
        feeds
            .iter()
            .filter(|f| held.contains(&shard_of(f.key(), shards)))
            .cloned()
            .collect()
    };
    let first = mine(&configured.borrow_and_update(), &held.borrow_and_update());
    tracing::info!(
        worker = leases.worker_id(),
        shards = held.borrow().len(),
        feeds = first.len(),
        "cluster: polling the feeds of the shards held"
    );
    let (tx, rx) = watch::channel(first);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = held.changed() => if changed.is_err() { break },
                changed = configured.changed() => if changed.is_err() { break },
                _ = stop.cancelled() => break,
            }
            let list = mine(&configured.borrow_and_update(), &held.borrow_and_update());
            tracing::info!(
                shards = held.borrow().len(),
                feeds = list.len(),
                "cluster: shards held changed"
            );
            if tx.send(list).is_err() {
                break;
            }
        }
    });
    Ok(Sharded {
        feeds: rx,
        gate,
        leases,
    })
}

/// Flags of `newswire cluster status`.
#[derive(clap::Subcommand, Debug)]
pub enum ClusterCommand {
    /// The workers alive, the shards each holds, lease ages and feeds per shard.
    Status {
        #[arg(long, env = "NEWSWIRE_CONFIG")]
        config: PathBuf,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `newswire cluster …`.
pub async fn cluster_command(command: &ClusterCommand) -> Result<(), Failure> {
    let ClusterCommand::Status { config, json } = command;
    let loaded = load_config(config, &Overrides::default())?;
    let Some(cluster) = loaded.cluster.clone() else {
        return Err(Failure::Usage(anyhow::anyhow!(
            "{}: no [cluster] section",
            config.display()
        )));
    };
    let urls: Vec<String> = feed_specs(&loaded)?
        .iter()
        .map(|f| f.key().to_string())
        .collect();
    let status = tokio::time::timeout(Duration::from_secs(30), cluster_status(&cluster, &urls))
        .await
        .map_err(|_| {
            Failure::Runtime(anyhow::anyhow!(
                "cluster {}: no answer within 30s",
                cluster.nats_url
            ))
        })?
        .map_err(|e| Failure::Runtime(e.into()))?;
    if *json {
        let text = serde_json::to_string_pretty(&status).map_err(|e| Failure::Runtime(e.into()))?;
        println!("{text}");
    } else {
        print!("{}", table(&status));
    }
    Ok(())
}

/// The human view: one line per worker, then one per shard.
fn table(status: &ClusterStatus) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} shards, {} workers alive, {} shards unheld",
        status.shards,
        status.workers.len(),
        status.unheld().len()
    );
    let _ = writeln!(
        out,
        "\n{:<32} {:>10} {:>7}",
        "WORKER", "HEARTBEAT", "SHARDS"
    );
    for worker in &status.workers {
        let _ = writeln!(
            out,
            "{:<32} {:>9.1}s {:>7}",
            worker.worker,
            worker.heartbeat_age_ms as f64 / 1000.0,
            worker.shards.len()
        );
    }
    let _ = writeln!(
        out,
        "\n{:>5} {:<32} {:>9} {:>9} {:>5}",
        "SHARD", "HELD BY", "LEASE AGE", "HELD FOR", "FEEDS"
    );
    let secs =
        |ms: Option<i64>| ms.map_or("-".to_string(), |ms| format!("{:.1}s", ms as f64 / 1000.0));
    for lease in &status.leases {
        let _ = writeln!(
            out,
            "{:>5} {:<32} {:>9} {:>9} {:>5}",
            lease.shard,
            lease.worker.as_deref().unwrap_or("(unheld)"),
            secs(lease.lease_age_ms),
            secs(lease.held_for_ms),
            lease.feeds
        );
    }
    out
}
