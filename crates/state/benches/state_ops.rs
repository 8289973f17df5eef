//! Benchmarks of the state operations on the hot path: the near-duplicate lookup against a
//! full index (the default bound, 200,000 entries with signatures), unfiltered and with the
//! rule's confirmation applied in the store, the emitted-id check,
//! and a commit of one batch.

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use newswire_core::config::DedupConfig;
use newswire_core::fingerprint::{Fingerprint, MinHash, Simhash};
use newswire_core::near_dup::{Candidate, Rule};
use newswire_state::{EmittedRecord, IndexEntry, SqliteState, StateStore};

const INDEX_SIZE: u64 = 200_000;

/// A cheap deterministic spread of 64-bit values (splitmix64), so hashes look random.
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
            published_at: Some(Utc::now()),
        }),
        id,
        emitted_at: Utc::now(),
    }
}

fn filled_state(dir: &std::path::Path) -> SqliteState {
    let mut state = SqliteState::open(dir.join("bench.db")).unwrap_or_else(|e| panic!("{e}"));
    let records: Vec<_> = (0..INDEX_SIZE).map(record).collect();
    for chunk in records.chunks(10_000) {
        state.commit(chunk, &[]).unwrap_or_else(|e| panic!("{e}"));
    }
    state
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut state = filled_state(dir.path());
    let mut probe = 0u64;
    for distance in [10u32, 20] {
        c.bench_function(
            &format!("near_duplicates miss, d={distance}, 200k index"),
            |b| {
                b.iter(|| {
                    probe += 1;
                    state.near_duplicates(Simhash(spread(probe + 1_000_000_000)), distance)
                })
            },
        );
    }
    c.bench_function("near_duplicates hit at distance 5, d=20, 200k index", |b| {
        b.iter(|| {
            probe = (probe + 1) % INDEX_SIZE;
            state.near_duplicates(Simhash(spread(probe) ^ 0b1_0001_0001_0001_0001), 20)
        })
    });
    // What the pipeline asks: only candidates the rule confirms come back (none here).
    let rule = Rule::from(&DedupConfig::default());
    let article = MinHash::of("a text that no indexed article resembles in any way at all");
    let confirmed = |c: &Candidate| rule.confirms_candidate(&article, c);
    c.bench_function(
        "kept_near_duplicates (confirmed only), d=20, 200k index",
        |b| {
            b.iter(|| {
                probe = (probe + 1) % INDEX_SIZE;
                state.kept_near_duplicates(
                    Simhash(spread(probe) ^ 0b1_0001_0001_0001_0001),
                    20,
                    &confirmed,
                )
            })
        },
    );
    c.bench_function("is_emitted, 200k ids", |b| {
        b.iter(|| {
            probe = (probe + 1) % (2 * INDEX_SIZE);
            state.is_emitted(&format!("{:032x}", spread(probe ^ 0xabcdef)))
        })
    });
    let mut next = INDEX_SIZE;
    c.bench_function("commit of 100 records + 1 position (fsync)", |b| {
        b.iter(|| {
            let batch: Vec<_> = (next..next + 100).map(record).collect();
            next += 100;
            let position = newswire_core::delivery::SinkPosition {
                sink: "jsonl:bench".into(),
                data: format!("{{\"offset\":{next}}}"),
            };
            state.commit(&batch, &[position])
        })
    });
}

criterion_group! {
    name = state_ops;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(state_ops);
