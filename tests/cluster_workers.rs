//! Cluster mode end to end: three `newswire run` workers share 60 feeds (served by a
//! local HTTP server) through NATS KV leases and KV state, and publish to one JetStream
//! stream. One worker is SIGKILLed mid-run: within `lease_ttl` plus one poll interval its
//! shards are held by the others, every feed has been polled and every article is in the
//! stream exactly once (what the dead worker published but never committed is published
//! again by the taker with the same `Nats-Msg-Id`, and the stream's duplicate window drops
//! the copy). A fourth worker started later gets shards without a restart of the others,
//! while every feed gets a new article: shards change hands between polls (the releasing
//! worker keeps a lease until its polls of the shard have committed), so each new article
//! page is fetched exactly once over all workers.
//!
//! Needs NATS with JetStream at 127.0.0.1:4222: skipped with a `SKIPPED:` line without
//! one, a failure under `NEWSWIRE_REQUIRE_SERVICES=1`. Each run uses its own namespace
//! and stream; a drop guard deletes the state, lease and worker buckets and the stream,
//! also when an assertion fails.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use common::{FixtureServer, Resource, newswire_bin, reachable, require, rss_feed, story_page};
use futures_util::StreamExt;
use newswire_test_support::nats::Cleanup;

use newswire_test_support::services::NATS_ADDR as NATS;
const FEEDS: usize = 60;
const SHARDS: u32 = 16;
const LEASE_TTL_SECS: u64 = 3;
const INTERVAL_SECS: u64 = 10;

struct Worker {
    child: Child,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_worker(config: &Path, dir: &Path, name: &str) -> Worker {
    let err = std::fs::File::create(dir.join(format!("{name}.log"))).expect("create log");
    let child = Command::new(newswire_bin())
        .args(["run", "--config"])
        .arg(config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::from(err))
        .spawn()
        .expect("start newswire");
    Worker { child }
}

/// Everything one run creates on the server, named once.
struct Names {
    namespace: String,
    stream: String,
    subject: String,
}

impl Names {
    fn new() -> Names {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let namespace = format!("nwcluster_{}_{nanos}", std::process::id());
        Names {
            stream: namespace.to_uppercase(),
            subject: format!("nwtest.{namespace}.{{site}}"),
            namespace,
        }
    }
}

fn config_for(
    dir: &Path,
    names: &Names,
    feeds: &[String],
    worker: &str,
    metrics_port: u16,
) -> PathBuf {
    let Names {
        namespace,
        stream,
        subject,
    } = names;
    let mut text = format!(
        "[state]\npath = \"nats://{NATS}\"\nnamespace = \"{namespace}\"\n\n\
         [fetch]\nallow_private_networks = [\"127.0.0.1/32\"]\nper_host_min_delay = \"0ms\"\nretries = 0\n\
         per_host_concurrency = 8\nuser_agent = \"newswire-test/{worker}\"\n\n\
         [cluster]\nnats_url = \"nats://{NATS}\"\nshards = {SHARDS}\nlease_ttl = \"{LEASE_TTL_SECS}s\"\n\
         namespace = \"{namespace}\"\nworker_id = \"{worker}\"\n\n\
         [[sink]]\ntype = \"nats\"\nurl = \"nats://{NATS}\"\nstream = \"{stream}\"\nsubject = \"{subject}\"\n\
         flush_records = 16\nflush_interval = \"200ms\"\nduplicate_window = \"10m\"\n\n\
         [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n\n"
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

/// Shards per worker, from `newswire cluster status --json`.
fn holdings(config: &Path) -> HashMap<String, BTreeSet<u32>> {
    let output = Command::new(newswire_bin())
        .args(["cluster", "status", "--json", "--config"])
        .arg(config)
        .output()
        .expect("run cluster status");
    let status: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    let mut out: HashMap<String, BTreeSet<u32>> = HashMap::new();
    for lease in status["leases"].as_array().into_iter().flatten() {
        if let (Some(worker), Some(shard)) = (lease["worker"].as_str(), lease["shard"].as_u64()) {
            out.entry(worker.to_string())
                .or_default()
                .insert(shard as u32);
        }
    }
    out
}

fn held_total(h: &HashMap<String, BTreeSet<u32>>) -> usize {
    h.values().map(BTreeSet::len).sum()
}

/// Every message of `stream` as (Nats-Msg-Id, the record's `id`, the record's `url`).
async fn stream_records(stream: &str) -> Vec<(String, String, String)> {
    let Ok(client) = async_nats::connect(NATS).await else {
        return Vec::new();
    };
    let js = jetstream::new(client);
    let Ok(handle) = js.get_stream(stream).await else {
        return Vec::new();
    };
    let Ok(consumer) = handle
        .create_consumer(jetstream::consumer::pull::Config {
            // Never acked: each read makes a new consumer, dropped after 5 s idle.
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            inactive_threshold: Duration::from_secs(5),
            ..Default::default()
        })
        .await
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let Ok(mut messages) = consumer
        .fetch()
        .max_messages(10_000)
        .expires(Duration::from_millis(500))
        .messages()
        .await
    else {
        return out;
    };
    while let Some(Ok(message)) = messages.next().await {
        let msg_id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
            .unwrap_or_default();
        let record: serde_json::Value =
            serde_json::from_slice(&message.payload).unwrap_or_default();
        out.push((
            msg_id,
            record["id"].as_str().unwrap_or_default().to_string(),
            record["url"].as_str().unwrap_or_default().to_string(),
        ));
    }
    out
}

/// Times each article URL is in the stream.
fn copies(rt: &tokio::runtime::Runtime, stream: &str) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for (msg_id, id, url) in rt.block_on(stream_records(stream)) {
        assert_eq!(msg_id, id, "the message id is the record id");
        *count.entry(url).or_default() += 1;
    }
    count
}

fn page_fetches(server: &FixtureServer, path: &str) -> usize {
    server.requests_for(path).len()
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
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let names = Names::new();
    let _cleanup = ServerObjects::new(&names.namespace, &names.stream);
    let server = FixtureServer::start();
    let mut feeds = Vec::new();
    let mut first = BTreeMap::new(); // article URL → feed index
    for f in 0..FEEDS {
        let path = format!("/a{f}/story");
        server.put(
            &path,
            Resource::ok("text/html", story_page(&format!("Story {f}"))),
        );
        server.put(
            &format!("/feed{f}.xml"),
            Resource::ok(
                "application/rss+xml",
                rss_feed(&format!("Feed {f}"), &server.url(""), &[&path]),
            ),
        );
        feeds.push(server.url(&format!("/feed{f}.xml")));
        first.insert(server.url(&path), f);
    }
    let ports: Vec<u16> = (0..4).map(|_| common::free_port()).collect();
    let configs: Vec<PathBuf> = ["w1", "w2", "w3", "w4"]
        .iter()
        .zip(&ports)
        .map(|(w, port)| config_for(dir.path(), &names, &feeds, w, *port))
        .collect();
    let mut workers: Vec<Worker> = ["w1", "w2", "w3"]
        .iter()
        .zip(&configs)
        .map(|(w, c)| start_worker(c, dir.path(), w))
        .collect();

    // All shards held, spread over three workers; they start polling.
    common::wait_for(
        Duration::from_secs(30),
        "three workers holding all shards",
        || {
            let h = holdings(&configs[0]);
            h.len() == 3 && held_total(&h) == SHARDS as usize
        },
    );
    common::wait_for(Duration::from_secs(20), "the first records", || {
        !copies(&rt, &names.stream).is_empty()
    });

    // Kill w2 mid-run; its shards go to w1 and w3.
    let dead: BTreeSet<u32> = holdings(&configs[0]).get("w2").cloned().unwrap_or_default();
    assert!(!dead.is_empty(), "w2 held no shard");
    let _ = workers[1].child.kill();
    let killed_at = Instant::now();
    common::wait_for(
        Duration::from_secs(LEASE_TTL_SECS * 3 + 5),
        "the dead worker's shards held by the others",
        || {
            let h = holdings(&configs[0]);
            !h.contains_key("w2") && held_total(&h) == SHARDS as usize
        },
    );
    let takeover = killed_at.elapsed();
    eprintln!("takeover: every shard of the killed worker held again after {takeover:?}");

    // Within lease_ttl plus one poll interval: every article in the stream exactly once,
    // every feed polled. (Plus one renewal period: a lease is claimed at a renewal tick.)
    let limit = Duration::from_secs(LEASE_TTL_SECS + INTERVAL_SECS)
        + Duration::from_secs(LEASE_TTL_SECS) / 3;
    common::wait_for(
        limit.saturating_sub(killed_at.elapsed()),
        "every article in the stream",
        || {
            let count = copies(&rt, &names.stream);
            first.keys().all(|a| count.contains_key(a))
        },
    );
    eprintln!(
        "every article in the stream {:?} after the kill (limit {limit:?})",
        killed_at.elapsed()
    );
    let count = copies(&rt, &names.stream);
    let repeated: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "stored more than once: {repeated:?}");
    assert_eq!(count.len(), FEEDS, "{count:?}");
    for (f, feed) in feeds.iter().enumerate() {
        assert!(
            page_fetches(&server, &format!("/feed{f}.xml")) > 0,
            "{feed} never polled"
        );
    }
    // An article page is fetched twice only when the killed worker fetched it and died
    // before committing it: its feed is in one of the dead worker's shards.
    for (article, f) in &first {
        let path = format!("/a{f}/story");
        let shard = newswire_cluster::shard_of(&feeds[*f], SHARDS);
        if page_fetches(&server, &path) > 1 {
            assert!(
                dead.contains(&shard),
                "{article} fetched {} times, not in a dead worker's shard",
                page_fetches(&server, &path)
            );
        }
    }

    // A fourth worker joins while every feed gets a new article. Shards move to it only
    // between polls, so each new page is fetched once over all workers.
    let mut second = BTreeMap::new();
    for f in 0..FEEDS {
        let (old, new) = (format!("/a{f}/story"), format!("/b{f}/story"));
        server.put(
            &new,
            Resource::ok("text/html", story_page(&format!("Second story {f}"))),
        );
        server.put(
            &format!("/feed{f}.xml"),
            Resource::ok(
                "application/rss+xml",
                rss_feed(&format!("Feed {f}"), &server.url(""), &[&old, &new]),
            ),
        );
        second.insert(server.url(&new), new);
    }
    workers.push(start_worker(&configs[3], dir.path(), "w4"));
    let joined_at = Instant::now();
    common::wait_for(
        Duration::from_secs(20),
        "the new worker holding shards, all shards held",
        || {
            let h = holdings(&configs[0]);
            h.get("w4").is_some_and(|s| !s.is_empty()) && held_total(&h) == SHARDS as usize
        },
    );
    eprintln!(
        "rebalance: the added worker held shards after {:?}",
        joined_at.elapsed()
    );
    common::wait_for(
        Duration::from_secs(INTERVAL_SECS * 3),
        "every new article in the stream",
        || {
            let count = copies(&rt, &names.stream);
            second.keys().all(|a| count.contains_key(a))
        },
    );
    for (i, w) in workers.iter_mut().enumerate() {
        if i != 1 {
            assert!(
                w.child.try_wait().ok().flatten().is_none(),
                "worker {i} restarted or died"
            );
        }
    }
    let count = copies(&rt, &names.stream);
    assert_eq!(count.len(), FEEDS * 2);
    assert!(count.values().all(|n| *n == 1), "{count:?}");
    for (article, path) in &second {
        let fetched = page_fetches(&server, path);
        assert_eq!(
            fetched, 1,
            "{article} fetched {fetched} times: polled by two workers"
        );
    }
    let w4_feeds = server
        .requests
        .lock()
        .map(|r| {
            r.iter()
                .filter(|r| {
                    r.headers
                        .get("user-agent")
                        .is_some_and(|u| u.ends_with("/w4"))
                })
                .count()
        })
        .unwrap_or(0);
    assert!(w4_feeds > 0, "the added worker polled nothing");

    // The cluster and KV metrics of the live workers; KV operations per article.
    let (mut kv_ops, mut emitted, mut polls, mut takeovers) = (0.0, 0.0, 0.0, 0.0);
    for i in [0, 2, 3] {
        let (_, text) = common::http_get(ports[i], "/metrics").expect("metrics endpoint");
        for name in [
            "newswire_cluster_shards_held",
            "newswire_cluster_workers_alive",
            "newswire_cluster_kv_op_seconds",
            "newswire_kv_op_seconds",
            "newswire_kv_operations_total",
        ] {
            assert!(text.contains(name), "worker {i}: no {name} in\n{text}");
        }
        let value = |series: &str| common::metric_value(&text, series).unwrap_or(0.0);
        kv_ops += value("newswire_kv_operations_total");
        emitted += value(&format!(
            "newswire_records_emitted_total{{sink=\"nats:{}\"}}",
            names.stream
        ));
        polls += ["ok", "not_modified", "failed"]
            .iter()
            .map(|s| value(&format!("newswire_feed_polls_total{{status=\"{s}\"}}")))
            .sum::<f64>();
        takeovers += value("newswire_cluster_takeovers_total");
    }
    assert!(emitted > 0.0 && kv_ops > 0.0);
    eprintln!(
        "KV state operations (live workers): {kv_ops} for {emitted} records and {polls} polls: \
         {:.1} per record ({:.1} per poll); takeovers counted: {takeovers}",
        kv_ops / emitted,
        kv_ops / polls.max(1.0)
    );

    // SIGTERM: each remaining worker drains, releases its leases and exits 0.
    for (i, w) in workers.iter_mut().enumerate() {
        if i != 1 {
            common::send_signal(w.child.id(), "TERM");
        }
    }
    for (i, w) in workers.iter_mut().enumerate() {
        if i != 1 {
            let status = w.child.wait().expect("wait for worker");
            assert!(status.success(), "worker {i} exited with {status}");
        }
    }
    assert_eq!(held_total(&holdings(&configs[0])), 0, "leases left behind");
}

/// Deletes the run's buckets (state, leases, workers) and stream, even when an assertion
/// fails.
struct ServerObjects {
    state: newswire_state::NatsKvOptions,
    _cluster: Cleanup,
}

impl ServerObjects {
    fn new(namespace: &str, stream: &str) -> ServerObjects {
        let mut state =
            newswire_state::NatsKvOptions::new(format!("nats://{NATS}"), Duration::from_secs(60));
        state.namespace = namespace.to_string();
        let cluster = Cleanup::buckets([
            newswire_cluster::leases_bucket(namespace),
            newswire_cluster::workers_bucket(namespace),
        ])
        .and_stream(stream);
        ServerObjects {
            state,
            _cluster: cluster,
        }
    }
}

impl Drop for ServerObjects {
    fn drop(&mut self) {
        if let Err(e) = newswire_state::NatsKvState::delete_buckets(&self.state) {
            eprintln!("could not delete the state buckets: {e}");
        }
    }
}
