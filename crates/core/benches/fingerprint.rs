//! Cost of the near-duplicate sketches, before and after MinHash signatures. Each
//! measurement is one pass over all the texts below (five seed articles: divide by five
//! for one article).
//!
//! - `v1 simhash (blake3 per 3-shingle)`: the fingerprint of format 1, reproduced here as
//!   the "before" reference;
//! - `Simhash::of`: what record assembly computes for the record's `simhash` field;
//! - `Fingerprint::of`: simhash + 128-slot MinHash in one pass (the dedup stage's input);
//! - `confirm`: one MinHash comparison (per candidate within the simhash distance).
//!
//! Text: the seed articles (`../shared/seeds`, ~400-500 words each) when present, else a
//! generated 500-word text. Compare with the extractor's per-page time
//! (`cargo bench -p newswire-extractor`). Run with `cargo bench -p newswire-core`.

use criterion::{Criterion, criterion_group, criterion_main};
use newswire_core::fingerprint::{Fingerprint, Simhash, content_hash};
use std::hint::black_box;

fn texts() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect()
        })
        .unwrap_or_default();
    if out.is_empty() {
        let words = [
            "council",
            "bridge",
            "river",
            "traffic",
            "engineers",
            "repairs",
            "summer",
            "buses",
        ];
        let text: Vec<String> = (0..500)
            .map(|i| format!("{}{}", words[i % words.len()], i % 37))
            .collect();
        out.push(text.join(" "));
    }
    out
}

/// Format 1's simhash (blake3 of every 3-word shingle), kept only as the baseline.
fn simhash_v1(text: &str) -> u64 {
    let words: Vec<String> = newswire_core::fingerprint::words(text).collect();
    let mut weights = [0i64; 64];
    for window in words.windows(3) {
        let mut hasher = blake3::Hasher::new();
        for w in window {
            hasher.update(w.as_bytes());
            hasher.update(b" ");
        }
        let bytes = hasher.finalize();
        let mut eight = [0u8; 8];
        eight.copy_from_slice(&bytes.as_bytes()[..8]);
        let h = u64::from_le_bytes(eight);
        for (bit, weight) in weights.iter_mut().enumerate() {
            *weight += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    weights
        .iter()
        .enumerate()
        .filter(|(_, w)| **w > 0)
        .fold(0u64, |acc, (bit, _)| acc | 1 << bit)
}

fn benches(c: &mut Criterion) {
    let texts = texts();
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    println!(
        "{} texts, {} words on average",
        texts.len(),
        words / texts.len()
    );
    c.bench_function("v1 simhash (blake3 per 3-shingle), five seed texts", |b| {
        b.iter(|| texts.iter().map(|t| simhash_v1(black_box(t))).sum::<u64>() / texts.len() as u64)
    });
    c.bench_function("Simhash::of, five seed texts", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(Simhash::of(black_box(t)));
            }
        })
    });
    c.bench_function(
        "Fingerprint::of (simhash + MinHash), five seed texts",
        |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(Fingerprint::of(black_box(t)));
                }
            })
        },
    );
    c.bench_function("content_hash, five seed texts", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(content_hash(black_box(t)));
            }
        })
    });
    let prints: Vec<Fingerprint> = texts.iter().map(|t| Fingerprint::of(t)).collect();
    c.bench_function("MinHash confirm, one candidate", |b| {
        b.iter(|| {
            black_box(
                prints[0]
                    .minhash
                    .similarity(black_box(&prints[prints.len() - 1].minhash)),
            )
        })
    });
}

criterion_group! {
    name = fingerprint;
    config = Criterion::default().sample_size(30);
    targets = benches
}
criterion_main!(fingerprint);
