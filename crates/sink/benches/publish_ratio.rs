//! Publish throughput with acks (the NATS sink: every record's JetStream ack awaited
//! before it counts as delivered) against the JSONL sink (fsync per batch), on the same
//! records, each sink with its default batch size. Prints records/s of each, the ratio
//! NATS/JSONL (issue 14's target: at least 0.5), and this process's CPU time per record.
//! The NATS server's own CPU is not included: it is another process.
//!
//! `cargo bench -p newswire-sink --bench publish_ratio` (release), or with
//! `--profile dev` for a quick look; `NEWSWIRE_BENCH_RECORDS` sets the record count
//! (default 20,000) and `NEWSWIRE_BENCH_ROUNDS` the rounds (default 3; the median ratio
//! is reported). Needs NATS at 127.0.0.1:4222 (prints `SKIPPED` without it); the stream
//! it creates is deleted at the end, also on failure.

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use newswire_core::config::{JsonlSinkConfig, NatsSinkConfig, SinkConfig};
use newswire_sink::{Route, Sink};

use newswire_test_support::services::NATS_ADDR as NATS;

/// A record of typical size (about 5 KB: a 600-word text plus metadata): its id, the
/// serialised line and its site's URL.
fn record(i: usize) -> (String, Bytes, String) {
    let id = format!(
        "{:032x}",
        (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    );
    let words: Vec<String> = (0..600)
        .map(|w| format!("word{}", (w * 7 + i) % 997))
        .collect();
    let value = serde_json::json!({
        "schema": "newswire.record/1",
        "id": id,
        "url": format!("https://news{}.example/{i}", i % 50),
        "site": {"name": "News", "url": format!("https://news{}.example/", i % 50)},
        "feed": {"url": format!("https://news{}.example/rss", i % 50), "title": "News"},
        "title": format!("Story number {i}"),
        "language": "en",
        "text": words.join(" "),
        "word_count": 600,
    });
    let site = format!("https://news{}.example/", i % 50);
    (
        id,
        Bytes::from(serde_json::to_vec(&value).unwrap_or_default()),
        site,
    )
}

/// This process's user + system CPU time, from /proc (Linux); zero elsewhere.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) end with ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

struct Measured {
    per_second: f64,
    cpu_per_record: Duration,
}

async fn pump(config: &SinkConfig, dir: &Path, records: &[(String, Bytes, String)]) -> Measured {
    let mut sink = Sink::open(config, dir, None).await.expect("open sink");
    let (started, cpu) = (Instant::now(), cpu_time());
    for (id, line, site) in records {
        let route = Route {
            site_url: Some(site),
            language: Some("en"),
            feed_url: None,
        };
        sink.write(id, line, &route).await.expect("write");
        if sink.wants_flush() {
            sink.flush().await.expect("flush");
        }
    }
    sink.flush().await.expect("final flush");
    let elapsed = started.elapsed();
    let cpu = cpu_time().saturating_sub(cpu);
    sink.close().await.expect("close");
    Measured {
        per_second: records.len() as f64 / elapsed.as_secs_f64(),
        cpu_per_record: cpu / records.len().max(1) as u32,
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if !newswire_test_support::services::reachable(NATS) {
        println!("SKIPPED: publish_ratio: NATS not reachable at {NATS}");
        return;
    }
    let count = env_number("NEWSWIRE_BENCH_RECORDS", 20_000);
    let rounds = env_number("NEWSWIRE_BENCH_ROUNDS", 3).max(1);
    let records: Vec<(String, Bytes, String)> = (0..count).map(record).collect();
    let bytes: usize = records.iter().map(|(_, l, _)| l.len()).sum();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let dir = tempfile::tempdir().expect("tempdir");
        let jsonl = SinkConfig::Jsonl(JsonlSinkConfig {
            name: None,
            path: "records.jsonl".into(),
            flush_records: None,
            flush_interval: None,
            rotate_bytes: None,
            rotate_interval: None,
            compress: None,
            simulated_disk_capacity: None,
        });
        let stream = format!("NWBENCH_{}_{round}", std::process::id());
        let _guard = newswire_test_support::nats::Cleanup::stream(&stream);
        let nats = SinkConfig::Nats(NatsSinkConfig {
            url: format!("nats://{NATS}"),
            stream: Some(stream.clone()),
            subject: Some(format!("nwbench.{}.{{site}}", stream.to_lowercase())),
            ..NatsSinkConfig::default()
        });
        let (j, n) = rt.block_on(async {
            let j = pump(&jsonl, dir.path(), &records).await;
            let n = pump(&nats, dir.path(), &records).await;
            (j, n)
        });
        let ratio = n.per_second / j.per_second;
        println!(
            "round {}: {count} records ({:.1} MB): jsonl {:.0}/s ({:?} CPU/record), nats with acks {:.0}/s ({:?} CPU/record): ratio {ratio:.2}",
            round + 1,
            bytes as f64 / 1e6,
            j.per_second,
            j.cpu_per_record,
            n.per_second,
            n.cpu_per_record
        );
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "publish_ratio: NATS-with-acks / JSONL throughput, median of {rounds}: {:.2} (target >= 0.5)",
        ratios[ratios.len() / 2]
    );
}
