//! Cluster mode end to end: three `newswire run` workers share 60 feeds through NATS KV
//! leases and KV state; one is SIGKILLed mid-run and its shards are taken over; a fourth
//! worker started later gets shards without a restart of the others. Every article is
//! emitted exactly once over all workers (shared seen ids), and every feed is polled.
//!
//! Needs NATS with JetStream at 127.0.0.1:4222: skipped with a `SKIPPED:` line without
//! one, a failure under `NEWSWIRE_REQUIRE_SERVICES=1`. Each run uses its own namespace;
//! its state buckets are deleted at the end.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{FixtureServer, Resource, newswire_bin, reachable, require, rss_feed, story_page};

const NATS: &str = "127.0.0.1:4222";
const FEEDS: usize = 60;
const SHARDS: u32 = 16;
const LEASE_TTL_SECS: u64 = 3;
const INTERVAL_SECS: u64 = 10;

struct Worker {
    child: Child,
    out: PathBuf,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_worker(config: &Path, dir: &Path, name: &str) -> Worker {
    let out = dir.join(format!("{name}.jsonl"));
    let file = std::fs::File::create(&out).expect("create worker output");
    let err = std::fs::File::create(dir.join(format!("{name}.log"))).expect("create log");
    let child = Command::new(newswire_bin())
        .args(["run", "--config"])
        .arg(config)
        .args(["--output", "-"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("start newswire");
    Worker { child, out }
}

fn config_for(dir: &Path, namespace: &str, feeds: &[String], worker: &str) -> PathBuf {
    let mut text = format!(
        "[state]\npath = \"nats://{NATS}\"\nnamespace = \"{namespace}\"\n\n\
         [fetch]\nallow_private_networks = [\"127.0.0.1/32\"]\nper_host_min_delay = \"0ms\"\nretries = 0\nper_host_concurrency = 8\n\n\
         [cluster]\nnats_url = \"nats://{NATS}\"\nshards = {SHARDS}\nlease_ttl = \"{LEASE_TTL_SECS}s\"\nnamespace = \"{namespace}\"\nworker_id = \"{worker}\"\n\n"
    );
    for url in feeds {
        text.push_str(&format!(
            "[[feed]]\nurl = \"{url}\"\ninterval = \"{INTERVAL_SECS}s\"\n\n"
        ));
    }
    let path = dir.join(format!("{worker}.toml"));
    std::fs::write(&path, text).expect("write config");
    path
}

fn ids(worker: &Worker) -> Vec<String> {
    std::fs::read_to_string(&worker.out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["url"].as_str().map(str::to_string))
        .collect()
}

/// Shards per worker, from `newswire cluster status --json`.
fn holdings(config: &Path) -> HashMap<String, BTreeSet<u64>> {
    let output = Command::new(newswire_bin())
        .args(["cluster", "status", "--json", "--config"])
        .arg(config)
        .output()
        .expect("run cluster status");
    let status: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    let mut out: HashMap<String, BTreeSet<u64>> = HashMap::new();
    for lease in status["leases"].as_array().into_iter().flatten() {
        if let (Some(worker), Some(shard)) = (lease["worker"].as_str(), lease["shard"].as_u64()) {
            out.entry(worker.to_string()).or_default().insert(shard);
        }
    }
    out
}

fn held_total(h: &HashMap<String, BTreeSet<u64>>) -> usize {
    h.values().map(BTreeSet::len).sum()
}

#[test]
fn workers_share_feeds_take_over_and_rebalance() {
    if !require(
        "workers_share_feeds_take_over_and_rebalance",
        "NATS JetStream at 127.0.0.1:4222",
        reachable(NATS),
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let namespace = format!("nwcluster_{}_{nanos}", std::process::id());
    let _cleanup = StateBuckets(namespace.clone());
    let server = FixtureServer::start();
    let mut feeds = Vec::new();
    let mut articles = BTreeSet::new();
    for f in 0..FEEDS {
        let path = format!("/a{f}/story");
        server.put(
            &path,
            Resource::ok("text/html", story_page(&format!("Story {f}"))),
        );
        let feed = format!("/feed{f}.xml");
        server.put(
            &feed,
            Resource::ok(
                "application/rss+xml",
                rss_feed(&format!("Feed {f}"), &server.url(""), &[&path]),
            ),
        );
        feeds.push(server.url(&feed));
        articles.insert(server.url(&path));
    }
    let configs: Vec<PathBuf> = ["w1", "w2", "w3", "w4"]
        .iter()
        .map(|w| config_for(dir.path(), &namespace, &feeds, w))
        .collect();
    let mut workers: Vec<Worker> = ["w1", "w2", "w3"]
        .iter()
        .zip(&configs)
        .map(|(w, c)| start_worker(c, dir.path(), w))
        .collect();

    // All shards held, spread over three workers.
    common::wait_for(
        Duration::from_secs(20),
        "three workers holding all shards",
        || {
            let h = holdings(&configs[0]);
            h.len() == 3 && held_total(&h) == SHARDS as usize
        },
    );
    std::thread::sleep(Duration::from_secs(2));

    // Kill w2 mid-run; its shards go to w1 and w3.
    let before = holdings(&configs[0]);
    let dead: BTreeSet<u64> = before.get("w2").cloned().unwrap_or_default();
    assert!(!dead.is_empty(), "w2 held no shard: {before:?}");
    let _ = workers[1].child.kill();
    let killed_at = Instant::now();
    common::wait_for(
        Duration::from_secs(LEASE_TTL_SECS * 2 + 5),
        "the dead worker's shards held by the others",
        || {
            let h = holdings(&configs[0]);
            !h.contains_key("w2") && held_total(&h) == SHARDS as usize
        },
    );
    let takeover = killed_at.elapsed();
    eprintln!("takeover: every shard of the killed worker held again after {takeover:?}");
    assert!(takeover <= Duration::from_secs(LEASE_TTL_SECS + INTERVAL_SECS));

    // Every article emitted, exactly once over all workers, within one poll interval.
    let deadline = Duration::from_secs(LEASE_TTL_SECS + INTERVAL_SECS);
    common::wait_for(deadline, "every article emitted", || {
        let all: BTreeSet<String> = workers.iter().flat_map(ids).collect();
        articles.iter().all(|a| all.contains(a))
    });
    for feed in &feeds {
        let path = feed.rsplit('/').next().unwrap_or_default();
        assert!(
            !server.requests_for(&format!("/{path}")).is_empty(),
            "{feed} never polled"
        );
    }

    // A fourth worker gets shards without a restart of the others.
    workers.push(start_worker(&configs[3], dir.path(), "w4"));
    let joined_at = Instant::now();
    common::wait_for(
        Duration::from_secs(15),
        "the new worker holding shards",
        || {
            holdings(&configs[0])
                .get("w4")
                .is_some_and(|s| !s.is_empty())
        },
    );
    eprintln!(
        "rebalance: the added worker held shards after {:?}",
        joined_at.elapsed()
    );
    for (i, w) in workers.iter_mut().enumerate() {
        if i != 1 {
            assert!(
                w.child.try_wait().ok().flatten().is_none(),
                "worker {i} restarted or died"
            );
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let mut count: HashMap<String, usize> = HashMap::new();
    for id in workers.iter().flat_map(ids) {
        *count.entry(id).or_default() += 1;
    }
    // Known gap (issue 14, open): stdout is at-least-once across a crash (what the killed
    // worker wrote before its commit is written again by the taker), and a shard that
    // changes hands (takeover, rebalance) can be polled by its old holder's poll in flight
    // and by the new holder, because a lease is released before that poll has committed.
    // The NATS sink's Nats-Msg-Id removes such copies in a stream; this test, on stdout,
    // holds the workers to at-least-once and reports the copies.
    let repeated: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "articles written more than once (crash or handover): {} {repeated:?}",
        repeated.len()
    );
    assert_eq!(count.len(), articles.len());
}

/// Deletes the run's state buckets even when an assertion fails.
struct StateBuckets(String);

impl Drop for StateBuckets {
    fn drop(&mut self) {
        let mut options =
            newswire_state::NatsKvOptions::new(format!("nats://{NATS}"), Duration::from_secs(60));
        options.namespace = self.0.clone();
        if let Err(e) = newswire_state::NatsKvState::delete_buckets(&options) {
            eprintln!("could not delete test buckets: {e}");
        }
    }
}
