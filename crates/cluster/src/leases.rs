//! Shard leases in JetStream KV: claim, renew, rebalance, release.
//!
//! Two buckets, both with `max_age = lease_ttl` (NATS 2.9 has no per-key TTL, so a
//! lifetime is a bucket's): `<ns>_leases` holds key `shard-N` per held shard, valued with
//! the holder's id; `<ns>_workers` holds one heartbeat per live worker. Every third of
//! the TTL each worker, in one tick:
//! 1. writes its heartbeat and lists the live workers (`alive`);
//! 2. renews each held lease by compare-and-set on the revision it last wrote; a lease
//!    whose revision moved belongs to someone else now and is dropped at once; a lease that
//!    could not be renewed for `lease_ttl - renew period` (NATS unreachable) is dropped
//!    before it can expire, so two workers never both believe they hold a shard;
//! 3. computes its fair share `ceil(shards / alive)`. Above it, it releases the surplus,
//!    which lets a newly started worker in without restarting anybody: each surplus shard
//!    is closed in the [`ShardGate`] (no new poll starts), its lease is kept and renewed
//!    while polls of it are still in flight, and deleted (with the expected revision) the
//!    moment the last one has committed, so the next holder never polls a feed this
//!    worker is still polling. Below it, it reads every lease and claims free shards with
//!    create-if-absent, starting at an offset derived from its id so that workers starting
//!    together do not all race for shard 0.
//!
//! A worker that dies stops renewing: its leases and heartbeat vanish after `lease_ttl`,
//! the others' fair share grows, and they claim the shards on their next tick, so a shard
//! is taken over within `lease_ttl` plus one renew period. The held set is published on a
//! `watch` channel; a shard leaves it before its lease is released and joins it only after
//! the claim succeeded. On shutdown the caller drains its pipeline first (with
//! [`LeaseHandle::claim_stopper`] so no shard is taken meanwhile), then cancels the token:
//! every lease is deleted at once.
//!
//! Metrics: `newswire_cluster_shards_held` and `newswire_cluster_workers_alive` (gauges),
//! `newswire_cluster_lease_renew_failures_total`, `newswire_cluster_takeovers_total`
//! (counters), `newswire_cluster_kv_op_seconds{op}` (histogram).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use futures_util::{StreamExt, future::join_all};
use newswire_core::cluster_config::ClusterConfig;
use newswire_core::nats::{connect, open_bucket};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    ClusterError, Heartbeat, LeaseValue, ShardGate, lease_key, leases_bucket, now_millis,
    workers_bucket,
};

/// Longest wait for a released shard's polls to finish; past it the lease is deleted
/// anyway (a poll stuck this long is a fault, and holding the shard would starve it).
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

/// Starts lease workers. See the module doc.
pub struct Leases;

/// A running lease worker.
pub struct LeaseHandle {
    worker_id: String,
    held: watch::Receiver<BTreeSet<u32>>,
    gate: Arc<ShardGate>,
    claiming: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for LeaseHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseHandle")
            .field("worker_id", &self.worker_id)
            .field("held", &*self.held.borrow())
            .finish_non_exhaustive()
    }
}

impl Leases {
    /// Connects, opens (creating) the lease and worker buckets and starts the lease task
    /// on the current runtime. Cancel `shutdown` to release every lease and stop.
    pub async fn start(
        config: &ClusterConfig,
        shutdown: CancellationToken,
    ) -> Result<LeaseHandle, ClusterError> {
        let problems = config.problems();
        if let Some(problem) = problems.first() {
            return Err(ClusterError::Config(problem.message.clone()));
        }
        let client =
            connect(&config.connection())
                .await
                .map_err(|message| ClusterError::Connect {
                    url: config.nats_url.clone(),
                    message,
                })?;
        let js = jetstream::new(client);
        let ttl = config.lease_ttl.0;
        let replicas = config.replicas;
        let open = |name: String| {
            let js = js.clone();
            async move {
                open_bucket(&js, &name, ttl, replicas)
                    .await
                    .map_err(|message| ClusterError::Bucket {
                        bucket: name.clone(),
                        message,
                    })
            }
        };
        let leases = open(leases_bucket(&config.namespace)).await?;
        let workers = open(workers_bucket(&config.namespace)).await?;
        let worker_id = config.worker_id();
        let (tx, held) = watch::channel(BTreeSet::new());
        let gate = Arc::new(ShardGate::default());
        let claiming = CancellationToken::new();
        let worker = Worker {
            id: worker_id.clone(),
            shards: config.shards,
            ttl,
            renew_every: config.renew_interval(),
            started: now_millis(),
            leases,
            workers,
            held: BTreeMap::new(),
            draining: BTreeMap::new(),
            last_owner: HashMap::new(),
            tx,
            gate: gate.clone(),
            claiming: claiming.clone(),
        };
        let task = tokio::spawn(worker.run(shutdown));
        Ok(LeaseHandle {
            worker_id,
            held,
            gate,
            claiming,
            task,
        })
    }
}

impl LeaseHandle {
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// The shards this worker holds now, updated as they change.
    pub fn held(&self) -> watch::Receiver<BTreeSet<u32>> {
        self.held.clone()
    }

    /// The gate every poll must pass (see [`ShardGate`]).
    pub fn gate(&self) -> Arc<ShardGate> {
        self.gate.clone()
    }

    /// Cancelling this token stops claiming shards and rebalancing (renewals go on):
    /// for a worker that starts draining before it stops.
    pub fn claim_stopper(&self) -> CancellationToken {
        self.claiming.clone()
    }

    /// Waits for the task to finish (after the shutdown token was cancelled, once every
    /// lease was released).
    pub async fn stopped(self) {
        let _ = self.task.await;
    }

    /// Stops renewing without releasing anything, as a crash would (for tests and for a
    /// process that must stop at once): the leases lapse after `lease_ttl`.
    pub fn abandon(self) {
        self.task.abort();
    }
}

/// A lease this worker holds.
#[derive(Debug, Clone)]
struct Held {
    revision: u64,
    since: i64,
    /// Last successful write of the lease.
    renewed_at: Instant,
}

/// A lease being given up: closed in the gate, kept until its polls are over.
#[derive(Debug, Clone)]
struct Draining {
    held: Held,
    since: Instant,
}

struct Worker {
    id: String,
    shards: u32,
    ttl: Duration,
    renew_every: Duration,
    started: i64,
    leases: kv::Store,
    workers: kv::Store,
    held: BTreeMap<u32, Held>,
    /// Released shards whose polls are still in flight (not in `held`, not claimable).
    draining: BTreeMap<u32, Draining>,
    /// Holder seen at the last full read of the leases, to count takeovers.
    last_owner: HashMap<u32, String>,
    tx: watch::Sender<BTreeSet<u32>>,
    gate: Arc<ShardGate>,
    /// Cancelled by [`LeaseHandle::claim_stopper`].
    claiming: CancellationToken,
}

/// Times a KV operation into `newswire_cluster_kv_op_seconds{op}`.
async fn timed<T>(op: &'static str, future: impl std::future::Future<Output = T>) -> T {
    let start = Instant::now();
    let out = future.await;
    metrics::histogram!("newswire_cluster_kv_op_seconds", "op" => op)
        .record(start.elapsed().as_secs_f64());
    out
}

impl Worker {
    async fn run(mut self, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(self.renew_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ended = self.gate.ended();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => self.tick().await,
                changed = ended.changed(), if !self.draining.is_empty() => {
                    if changed.is_ok() {
                        self.release_drained().await;
                    }
                }
            }
        }
        self.release_all().await;
    }

    fn publish(&self) {
        let set: BTreeSet<u32> = self.held.keys().copied().collect();
        metrics::gauge!("newswire_cluster_shards_held").set(set.len() as f64);
        self.tx.send_if_modified(|current| {
            if *current != set {
                *current = set;
                true
            } else {
                false
            }
        });
    }

    fn lease_value(&self, since: i64) -> Bytes {
        let value = LeaseValue {
            worker: self.id.clone(),
            since,
            renewed: now_millis(),
        };
        Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
    }

    async fn tick(&mut self) {
        let alive = match self.heartbeat_and_count().await {
            Ok(alive) => alive.max(1),
            Err(e) => {
                tracing::warn!(worker = %self.id, error = %e, "cluster: heartbeat failed");
                // Without a view of the others, only renew what we hold.
                self.renew().await;
                self.publish();
                return;
            }
        };
        metrics::gauge!("newswire_cluster_workers_alive").set(alive as f64);
        self.renew().await;
        self.release_drained().await;
        if self.claiming.is_cancelled() {
            self.publish();
            return;
        }
        let fair = self.shards.div_ceil(alive as u32) as usize;
        if self.held.len() > fair {
            self.release_surplus(self.held.len() - fair).await;
        } else if self.held.len() < fair {
            self.claim(fair - self.held.len()).await;
        }
        self.publish();
    }

    /// Writes this worker's heartbeat; returns how many workers are alive.
    async fn heartbeat_and_count(&self) -> Result<usize, String> {
        let beat = Heartbeat {
            worker: self.id.clone(),
            started: self.started,
            at: now_millis(),
            shards_held: self.held.len() as u32,
        };
        let value = Bytes::from(serde_json::to_vec(&beat).unwrap_or_default());
        timed("heartbeat", self.workers.put(&self.id, value))
            .await
            .map_err(|e| format!("bucket {}: {e}", self.workers.name))?;
        let keys = timed("list_workers", async {
            let mut keys = self.workers.keys().await?;
            let mut out = Vec::new();
            while let Some(key) = keys.next().await {
                out.push(key?);
            }
            Ok::<_, async_nats::Error>(out)
        })
        .await
        .map_err(|e| format!("bucket {}: {e}", self.workers.name))?;
        Ok(keys.len())
    }

    async fn renew(&mut self) {
        let leases = self
            .held
            .iter()
            .chain(self.draining.iter().map(|(shard, d)| (shard, &d.held)));
        let renewals = leases.map(|(shard, held)| {
            let value = self.lease_value(held.since);
            let store = self.leases.clone();
            let (shard, revision) = (*shard, held.revision);
            async move {
                let result = timed("renew", store.update(lease_key(shard), value, revision)).await;
                (shard, result)
            }
        });
        let results = join_all(renewals).await;
        let give_up_after = self.ttl.saturating_sub(self.renew_every);
        for (shard, result) in results {
            match result {
                Ok(revision) => {
                    let held = match self.held.get_mut(&shard) {
                        Some(held) => Some(held),
                        None => self.draining.get_mut(&shard).map(|d| &mut d.held),
                    };
                    if let Some(held) = held {
                        held.revision = revision;
                        held.renewed_at = Instant::now();
                    }
                }
                Err(e) => {
                    metrics::counter!("newswire_cluster_lease_renew_failures_total").increment(1);
                    let lost = e.kind() == kv::UpdateErrorKind::WrongLastRevision;
                    let stale = self
                        .held
                        .get(&shard)
                        .or(self.draining.get(&shard).map(|d| &d.held))
                        .is_some_and(|h| h.renewed_at.elapsed() >= give_up_after);
                    if lost || stale {
                        tracing::warn!(worker = %self.id, shard, error = %e, "cluster: lease lost");
                        self.gate.close(shard);
                        self.held.remove(&shard);
                        self.draining.remove(&shard);
                    } else {
                        tracing::warn!(worker = %self.id, shard, error = %e, "cluster: lease renewal failed; retrying");
                    }
                }
            }
        }
    }

    /// Gives up `count` shards: out of the held set and closed in the gate at once, the
    /// leases deleted once their polls in flight are over ([`Worker::release_drained`]).
    async fn release_surplus(&mut self, count: usize) {
        // The most recently claimed shards go first: the older ones have warm caches.
        let mut by_age: Vec<(i64, u32)> = self.held.iter().map(|(s, h)| (h.since, *s)).collect();
        by_age.sort_unstable_by(|a, b| b.cmp(a));
        let surplus: Vec<u32> = by_age.into_iter().take(count).map(|(_, s)| s).collect();
        for shard in &surplus {
            if let Some(held) = self.held.remove(shard) {
                self.gate.close(*shard);
                self.draining.insert(
                    *shard,
                    Draining {
                        held,
                        since: Instant::now(),
                    },
                );
            }
        }
        // Out of the held set before the lease goes.
        self.publish();
        tracing::info!(worker = %self.id, released = ?surplus, "cluster: releasing surplus shards once their polls are over");
        self.release_drained().await;
    }

    /// Deletes the leases of draining shards with no poll in flight any more.
    async fn release_drained(&mut self) {
        let ready: Vec<(u32, u64)> = self
            .draining
            .iter()
            .filter(|(shard, d)| !self.gate.busy(**shard) || d.since.elapsed() >= DRAIN_LIMIT)
            .map(|(shard, d)| (*shard, d.held.revision))
            .collect();
        for (shard, revision) in ready {
            if let Some(d) = self.draining.remove(&shard)
                && self.gate.busy(shard)
            {
                tracing::warn!(worker = %self.id, shard, waited = ?d.since.elapsed(), "cluster: polls of a released shard still running; releasing it anyway");
            }
            if let Err(e) = timed(
                "release",
                self.leases
                    .delete_expect_revision(lease_key(shard), Some(revision)),
            )
            .await
            {
                tracing::debug!(worker = %self.id, shard, error = %e, "cluster: release failed; the lease will lapse");
            }
            tracing::debug!(worker = %self.id, shard, "cluster: released shard after its polls ended");
        }
    }

    async fn claim(&mut self, wanted: usize) {
        let reads = (0..self.shards).map(|shard| {
            let store = self.leases.clone();
            async move {
                let entry = timed("read_lease", store.entry(lease_key(shard))).await;
                (shard, entry)
            }
        });
        let entries = join_all(reads).await;
        let mut free = Vec::new();
        for (shard, entry) in entries {
            match entry {
                Ok(Some(entry)) if entry.operation == kv::Operation::Put => {
                    let owner = serde_json::from_slice::<LeaseValue>(&entry.value)
                        .map(|v| v.worker)
                        .unwrap_or_default();
                    if self.draining.contains_key(&shard) {
                        // Being given up: not ours to take back.
                    } else if owner == self.id && !self.held.contains_key(&shard) {
                        // Ours from before (a lease we stopped renewing): adopt it.
                        free.push((shard, Some(entry.revision)));
                    } else {
                        self.last_owner.insert(shard, owner);
                    }
                }
                Ok(_) => free.push((shard, None)),
                Err(e) => {
                    tracing::debug!(worker = %self.id, shard, error = %e, "cluster: cannot read lease")
                }
            }
        }
        // Start at an offset derived from the worker id, so that workers starting together
        // spread over different shards instead of racing for the same ones.
        let offset = crate::shard_of(&self.id, self.shards);
        free.sort_unstable_by_key(|(shard, _)| (shard + self.shards - offset) % self.shards);
        let mut claimed = 0;
        for (shard, adopt) in free {
            if claimed == wanted {
                break;
            }
            if self.held.contains_key(&shard) {
                continue;
            }
            let since = now_millis();
            let value = self.lease_value(since);
            let result = match adopt {
                Some(revision) => timed(
                    "claim",
                    self.leases.update(lease_key(shard), value, revision),
                )
                .await
                .map_err(|e| e.to_string()),
                None => timed("claim", self.leases.create(lease_key(shard), value))
                    .await
                    .map_err(|e| e.to_string()),
            };
            match result {
                Ok(revision) => {
                    if let Some(previous) = self.last_owner.remove(&shard)
                        && previous != self.id
                        && !previous.is_empty()
                    {
                        metrics::counter!("newswire_cluster_takeovers_total").increment(1);
                        tracing::info!(worker = %self.id, shard, from = %previous, "cluster: took over shard");
                    }
                    self.held.insert(
                        shard,
                        Held {
                            revision,
                            since,
                            renewed_at: Instant::now(),
                        },
                    );
                    self.gate.open(shard);
                    claimed += 1;
                }
                // Another worker was faster: fine, it is held.
                Err(e) => {
                    tracing::debug!(worker = %self.id, shard, error = %e, "cluster: claim lost")
                }
            }
        }
    }

    /// On shutdown, once the caller's pipeline has drained: every lease goes at once.
    async fn release_all(&mut self) {
        let held: Vec<(u32, u64)> = self
            .held
            .iter()
            .chain(self.draining.iter().map(|(s, d)| (s, &d.held)))
            .map(|(s, h)| (*s, h.revision))
            .collect();
        for (shard, _) in &held {
            self.gate.close(*shard);
        }
        self.held.clear();
        self.draining.clear();
        self.publish();
        let deletes = held.iter().map(|(shard, revision)| {
            timed(
                "release",
                self.leases
                    .delete_expect_revision(lease_key(*shard), Some(*revision)),
            )
        });
        let failures = join_all(deletes)
            .await
            .iter()
            .filter(|r| r.is_err())
            .count();
        let _ = timed("heartbeat", self.workers.delete(&self.id)).await;
        tracing::info!(
            worker = %self.id,
            released = held.len() - failures,
            failed = failures,
            "cluster: leases released on shutdown"
        );
    }
}
