//! Lease workers against the real NATS server at 127.0.0.1:4222: shards are shared
//! disjointly, a dead worker's shards are taken over, a late worker gets a fair share, and
//! a stopping worker hands its shards back at once.
//!
//! Every test uses its own namespace (buckets deleted afterwards). Without a server the
//! tests print `SKIPPED: …`, or fail when `NEWSWIRE_REQUIRE_SERVICES=1`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use newswire_cluster::{LeaseHandle, Leases, cluster_status, leases_bucket, workers_bucket};
use newswire_core::cluster_config::ClusterConfig;
use newswire_core::config::HumanDuration;
use tokio_util::sync::CancellationToken;

use newswire_test_support::nats::Cleanup;
use newswire_test_support::services::{NATS_ADDR as NATS, nats_is_up};

const TTL: Duration = Duration::from_secs(3);

fn config(namespace: &str, worker: &str) -> ClusterConfig {
    let mut config = ClusterConfig::new(format!("nats://{NATS}"));
    config.namespace = namespace.to_string();
    config.worker_id = Some(worker.to_string());
    config.lease_ttl = HumanDuration(TTL);
    config
}

fn namespace(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("nwtest_{test}_{}_{nanos}", std::process::id())
}

/// A guard deleting a namespace's lease and worker buckets when dropped, also after a
/// failed assertion.
fn buckets(namespace: &str) -> Cleanup {
    Cleanup::buckets([leases_bucket(namespace), workers_bucket(namespace)])
}

fn sets(workers: &[&LeaseHandle]) -> Vec<BTreeSet<u32>> {
    workers.iter().map(|w| w.held().borrow().clone()).collect()
}

/// True when the sets are pairwise disjoint and cover `0..64`, each within `max`.
fn fair_partition(sets: &[BTreeSet<u32>], max: usize) -> bool {
    let total: usize = sets.iter().map(BTreeSet::len).sum();
    let union: BTreeSet<u32> = sets.iter().flatten().copied().collect();
    total == 64 && union.len() == 64 && sets.iter().all(|s| s.len() <= max && !s.is_empty())
}

/// Waits until `check` holds for the workers' sets; returns how long that took.
async fn wait_for(
    workers: &[&LeaseHandle],
    within: Duration,
    what: &str,
    check: impl Fn(&[BTreeSet<u32>]) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let now = sets(workers);
        if check(&now) {
            return start.elapsed();
        }
        if start.elapsed() > within {
            let sizes: Vec<usize> = now.iter().map(BTreeSet::len).collect();
            panic!("{what}: not reached within {within:?}; shard counts {sizes:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_shards_and_take_over_a_dead_one() {
    if !nats_is_up("three_workers_share_shards_and_take_over_a_dead_one") {
        return;
    }
    let ns = namespace("takeover");
    let _buckets = buckets(&ns);
    let stop = CancellationToken::new();
    let a = Leases::start(&config(&ns, "worker-a"), stop.clone())
        .await
        .unwrap();
    let b = Leases::start(&config(&ns, "worker-b"), stop.clone())
        .await
        .unwrap();
    let c = Leases::start(&config(&ns, "worker-c"), stop.clone())
        .await
        .unwrap();

    let settled = wait_for(&[&a, &b, &c], Duration::from_secs(20), "3-way split", |s| {
        fair_partition(s, 22)
    })
    .await;
    println!("three workers: fair split of 64 shards after {settled:?}");
    let status = cluster_status(&config(&ns, "reader"), &["https://a.example/rss".into()])
        .await
        .unwrap();
    assert_eq!(status.workers.len(), 3, "{status}");
    assert!(status.unheld().is_empty(), "{status}");
    assert_eq!(status.leases.iter().map(|l| l.feeds).sum::<usize>(), 1);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["leases"].as_array().map(Vec::len), Some(64));
    println!("{status}");

    // worker-c dies: no release, its leases lapse after the TTL.
    let dead: BTreeSet<u32> = c.held().borrow().clone();
    let killed = Instant::now();
    c.abandon();
    let took = wait_for(&[&a, &b], TTL * 3, "takeover", |s| fair_partition(s, 32)).await;
    let limit = TTL + TTL / 3 + Duration::from_secs(1);
    println!(
        "takeover: {} shards of the dead worker held by the others {:?} after the kill (lease_ttl {:?}, limit {:?})",
        dead.len(),
        killed.elapsed().min(took),
        TTL,
        limit
    );
    assert!(took <= limit, "takeover took {took:?}, over {limit:?}");
    let survivors: BTreeSet<u32> = sets(&[&a, &b]).into_iter().flatten().collect();
    assert!(dead.is_subset(&survivors));

    stop.cancel();
    a.stopped().await;
    b.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_worker_gets_a_fair_share_and_a_stopping_one_hands_back() {
    if !nats_is_up("a_late_worker_gets_a_fair_share_and_a_stopping_one_hands_back") {
        return;
    }
    let ns = namespace("rebalance");
    let _buckets = buckets(&ns);
    let stop_ab = CancellationToken::new();
    let a = Leases::start(&config(&ns, "worker-a"), stop_ab.clone())
        .await
        .unwrap();
    let b = Leases::start(&config(&ns, "worker-b"), stop_ab.clone())
        .await
        .unwrap();
    wait_for(&[&a, &b], Duration::from_secs(20), "2-way split", |s| {
        fair_partition(s, 32)
    })
    .await;

    // A third worker joins; nobody restarts, the others release their surplus.
    let stop_c = CancellationToken::new();
    let c = Leases::start(&config(&ns, "worker-c"), stop_c.clone())
        .await
        .unwrap();
    let joined = wait_for(&[&a, &b, &c], Duration::from_secs(20), "late join", |s| {
        fair_partition(s, 22) && s[2].len() >= 20
    })
    .await;
    println!("late worker: fair share after {joined:?}");

    // worker-c stops cleanly: its leases are deleted at once, so the others take them
    // well before a TTL would have passed.
    stop_c.cancel();
    let stopping = Instant::now();
    c.stopped().await;
    let back = wait_for(&[&a, &b], TTL * 3, "hand back", |s| fair_partition(s, 32)).await;
    println!(
        "clean stop: shards held by the others {:?} after the stop",
        stopping.elapsed().max(back)
    );
    // The remaining workers' next ticks (every TTL/3) claim them; the dead worker's
    // heartbeat is gone at once, so no TTL wait is involved.
    assert!(back < TTL, "hand back took {back:?}");

    stop_ab.cancel();
    a.stopped().await;
    b.stopped().await;
    let status = cluster_status(&config(&ns, "reader"), &[]).await.unwrap();
    assert!(status.workers.is_empty(), "{status}");
    assert_eq!(status.unheld().len(), 64, "{status}");
}

#[tokio::test]
async fn an_invalid_config_is_refused_before_connecting() {
    let mut config = ClusterConfig::new("nats://127.0.0.1:1");
    config.shards = 0;
    let err = Leases::start(&config, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cluster.shards"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let config = ClusterConfig::new("nats://127.0.0.1:1");
    let err = Leases::start(&config, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_given_up_keeps_its_lease_until_its_polls_end() {
    if !nats_is_up("a_shard_given_up_keeps_its_lease_until_its_polls_end") {
        return;
    }
    let ns = namespace("drain");
    let _buckets = buckets(&ns);
    let stop = CancellationToken::new();
    let a = Leases::start(&config(&ns, "worker-a"), stop.clone())
        .await
        .unwrap();
    wait_for(&[&a], Duration::from_secs(20), "all shards", |s| {
        s[0].len() == 64
    })
    .await;
    // A poll is in flight in every shard.
    let gate = a.gate();
    assert!((0..64).all(|shard| gate.begin(shard)));

    let b = Leases::start(&config(&ns, "worker-b"), stop.clone())
        .await
        .unwrap();
    // a gives up its surplus at once (no new poll may start there)…
    wait_for(&[&a], TTL * 2, "surplus given up", |s| s[0].len() == 32).await;
    assert!((0..64).any(|shard| !gate.begin(shard)));
    // …but keeps the leases while the polls run: b gets nothing for two renewals.
    tokio::time::sleep(TTL * 2 / 3).await;
    assert!(
        b.held().borrow().is_empty(),
        "b took a shard with a poll in flight"
    );
    let status = cluster_status(&config(&ns, "reader"), &[]).await.unwrap();
    assert_eq!(status.unheld().len(), 0, "{status}");

    // The polls end: the leases go, b claims them.
    for shard in 0..64 {
        while gate.busy(shard) {
            gate.end(shard);
        }
    }
    let handed = wait_for(&[&a, &b], TTL * 2, "hand over after the drain", |s| {
        fair_partition(s, 32)
    })
    .await;
    println!("drained shards handed over {handed:?} after their polls ended");
    stop.cancel();
    a.stopped().await;
    b.stopped().await;
}
