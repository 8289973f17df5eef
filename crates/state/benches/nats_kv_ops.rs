//! Benchmarks of the JetStream KV state on the hot path, against the server at
//! 127.0.0.1:4222 (skipped with a `SKIPPED` line without one): the emitted-id check and a
//! feed-state read (one KV read each), a commit of 100 records with one sink position, and
//! the near-duplicate lookup, which scans the in-memory replica of a 100,000-entry index.
//! Also prints the KV operations per article of a simulated pipeline pass.

use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use newswire_core::delivery::SinkPosition;
use newswire_core::fingerprint::{Fingerprint, MinHash, Simhash};
use newswire_state::{
    EmittedRecord, FeedState, IndexEntry, NatsKvOptions, NatsKvState, StateStore,
};

const INDEX_SIZE: u64 = 100_000;

fn spread(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn record(i: u64) -> EmittedRecord {
    let id = format!("{:032x}", spread(i ^ 0xabcdef));
    EmittedRecord {
        near_dup: Some(IndexEntry {
            fingerprint: Fingerprint {
                simhash: Simhash(spread(i)),
                minhash: MinHash::of(&id),
            },
            published_at: None,
        }),
        id,
        emitted_at: Utc::now(),
    }
}

fn simhash_of(record: &EmittedRecord) -> Simhash {
    record
        .near_dup
        .as_ref()
        .map_or(Simhash(0), |entry| entry.fingerprint.simhash)
}

fn benches(c: &mut Criterion) {
    let up = "127.0.0.1:4222"
        .parse()
        .ok()
        .and_then(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_millis(500)).ok())
        .is_some();
    if !up {
        println!("SKIPPED: nats_kv_ops: NATS not reachable at 127.0.0.1:4222");
        return;
    }
    let mut options = NatsKvOptions::new("nats://127.0.0.1:4222", Duration::from_secs(24 * 3600));
    options.namespace = format!("nwbench_{}", std::process::id());
    options.op_timeout = Duration::from_secs(120);
    let mut state = NatsKvState::open(options.clone()).unwrap_or_else(|e| panic!("{e}"));
    let records: Vec<_> = (0..INDEX_SIZE).map(record).collect();
    for chunk in records.chunks(5_000) {
        state.commit(chunk, &[]).unwrap_or_else(|e| panic!("{e}"));
    }
    state
        .save_feed_state("https://bench.example/rss", &FeedState::default())
        .unwrap_or_else(|e| panic!("{e}"));

    // One simulated pass over 100 new articles of one feed: the pipeline's calls.
    let before = state.kv_operations();
    let _ = state.feed_state("https://bench.example/rss");
    let batch: Vec<_> = (INDEX_SIZE..INDEX_SIZE + 100).map(record).collect();
    for r in &batch {
        let _ = state.is_emitted(&r.id);
        let _ = state.near_duplicates(simhash_of(r), 10);
    }
    let position = SinkPosition {
        sink: "nats:NEWSWIRE".into(),
        data: String::new(),
    };
    let _ = state.commit(&batch, std::slice::from_ref(&position));
    let _ = state.save_feed_state("https://bench.example/rss", &FeedState::default());
    println!(
        "KV operations per article (100 new articles, one feed poll, one commit): {:.2}",
        (state.kv_operations() - before) as f64 / 100.0
    );

    let mut probe = 0u64;
    c.bench_function("kv is_emitted (1 read)", |b| {
        b.iter(|| {
            probe = (probe + 1) % (2 * INDEX_SIZE);
            state.is_emitted(&record(probe).id)
        })
    });
    c.bench_function("kv feed_state (1 read)", |b| {
        b.iter(|| state.feed_state("https://bench.example/rss"))
    });
    c.bench_function("kv near_duplicates miss, d=10, 100k replica", |b| {
        b.iter(|| {
            probe += 1;
            state.near_duplicates(Simhash(spread(probe + 1_000_000_000)), 10)
        })
    });
    let mut next = 2 * INDEX_SIZE;
    c.bench_function("kv commit of 100 records + 1 position", |b| {
        b.iter(|| {
            let batch: Vec<_> = (next..next + 100).map(record).collect();
            next += 100;
            state.commit(&batch, std::slice::from_ref(&position))
        })
    });
    drop(state);
    let _ = NatsKvState::delete_buckets(&options);
}

criterion_group! {
    name = kv;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(kv);
