//! One behaviour suite for every [`StateStore`] backend: what the pipeline relies on,
//! checked the same way against SQLite and against JetStream KV.
//!
//! The NATS run needs a server at 127.0.0.1:4222 (unique buckets per run, deleted
//! afterwards). Without one it prints `SKIPPED: …`, or fails when
//! `NEWSWIRE_REQUIRE_SERVICES=1` (CI).

use std::time::Duration;

use chrono::{DateTime, Utc};
use newswire_core::delivery::SinkPosition;
use newswire_core::fingerprint::{Fingerprint, MinHash, Simhash};
use newswire_state::{
    EmittedRecord, FeedState, IN_MEMORY, IndexEntry, NatsKvOptions, NatsKvState, SqliteState,
    StateStore,
};

use newswire_test_support::services::{NATS_ADDR as NATS, nats_is_up};

fn ago(minutes: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::minutes(minutes)
}

/// Times stored at millisecond precision, as both backends do.
fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or_default()
}

/// An indexed original; its signature is the MinHash of its id, so each is distinct.
fn record(id: &str, simhash: u64, at: DateTime<Utc>) -> EmittedRecord {
    EmittedRecord {
        id: id.into(),
        emitted_at: at,
        near_dup: Some(IndexEntry {
            fingerprint: Fingerprint {
                simhash: Simhash(simhash),
                minhash: MinHash::of(&format!("the text of {id}")),
            },
            published_at: Some(ms(at)),
        }),
    }
}

/// The ids of the candidates within `max_distance`, in the store's order.
fn near(store: &dyn StateStore, simhash: u64, max_distance: u32) -> Vec<String> {
    store
        .near_duplicates(Simhash(simhash), max_distance)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn simhash_of(record: &EmittedRecord) -> u64 {
    record
        .near_dup
        .as_ref()
        .map(|e| e.fingerprint.simhash.0)
        .unwrap_or_default()
}

fn position(sink: &str, data: &str) -> SinkPosition {
    SinkPosition {
        sink: sink.into(),
        data: data.into(),
    }
}

/// Well-spread 64-bit values (splitmix64), so unrelated hashes sit ~32 bits apart.
fn unrelated_hash(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The behaviours, in one pass over one fresh store.
fn behaves_like_a_state_store(store: &mut dyn StateStore) {
    // Feed state: absent, saved, updated; keys with any characters.
    let feed = "https://a.example/feed.xml?lang=de&x=a b#frag";
    assert_eq!(store.feed_state(feed).unwrap(), None);
    let mut fs = FeedState {
        etag: Some("\"abc\"".into()),
        last_modified: Some("Sat, 21 Nov 2026 10:00:00 GMT".into()),
        next_due: Some(ms(ago(-30))),
        error_count: 3,
        last_error: Some("HTTP 503".into()),
        last_success: Some(ms(ago(60))),
    };
    store.save_feed_state(feed, &fs).unwrap();
    assert_eq!(store.feed_state(feed).unwrap(), Some(fs.clone()));
    fs.error_count = 0;
    fs.last_error = None;
    store.save_feed_state(feed, &fs).unwrap();
    assert_eq!(store.feed_state(feed).unwrap(), Some(fs.clone()));
    let long_feed = format!("https://b.example/{}", "segment/".repeat(200));
    store
        .save_feed_state(&long_feed, &FeedState::default())
        .unwrap();
    assert_eq!(
        store.feed_state(&long_feed).unwrap(),
        Some(FeedState::default())
    );
    assert_eq!(store.feed_state("https://a.example/other").unwrap(), None);
    assert_eq!(store.stats().unwrap().feeds, 2);

    // Commit: ids and positions together; re-committing is harmless; positions move.
    let (h1, h2) = (unrelated_hash(1), unrelated_hash(2));
    assert!(!store.is_emitted("r1").unwrap());
    assert_eq!(store.sink_position("jsonl:out/a.jsonl").unwrap(), None);
    store
        .commit(
            &[record("r1", h1, ago(20)), record("r2", h2, ago(20))],
            &[position("jsonl:out/a.jsonl", "{\"offset\":10}")],
        )
        .unwrap();
    assert!(store.is_emitted("r1").unwrap());
    assert!(store.is_emitted("r2").unwrap());
    assert!(!store.is_emitted("r3").unwrap());
    assert_eq!(
        store.sink_position("jsonl:out/a.jsonl").unwrap(),
        Some(position("jsonl:out/a.jsonl", "{\"offset\":10}"))
    );
    store
        .commit(
            &[record("r2", h2, ago(19))],
            &[position("jsonl:out/a.jsonl", "{\"offset\":20}")],
        )
        .unwrap();
    assert_eq!(
        store
            .sink_position("jsonl:out/a.jsonl")
            .unwrap()
            .map(|p| p.data),
        Some("{\"offset\":20}".into())
    );
    store.commit(&[], &[position("stdout", "")]).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.emitted_records, 2);
    assert_eq!(stats.simhashes, 2);
    assert_eq!(stats.sinks, 2);
    assert!(stats.file_bytes > 0);
    assert!(store.delete_sink_position("stdout").unwrap());
    assert!(!store.delete_sink_position("stdout").unwrap());
    assert_eq!(store.sink_position("stdout").unwrap(), None);
    assert_eq!(store.stats().unwrap().sinks, 1);

    // A record not indexed is emitted but never a near-duplicate.
    let h_short = unrelated_hash(3);
    let mut short = record("short", h_short, ago(18));
    short.near_dup = None;
    store.commit(&[short], &[]).unwrap();
    assert!(store.is_emitted("short").unwrap());
    assert!(near(store, h_short, 6).is_empty());

    // Every hash within the distance is found, none beyond; bits spread over all bands.
    let base = unrelated_hash(4);
    let spread = |d: u32| (0..d).fold(base, |h, k| h ^ (1u64 << (16 * (k % 4) + (k / 4) * 3 + 1)));
    store.commit(&[record("orig", base, ago(17))], &[]).unwrap();
    for d in 0..=12 {
        let query = spread(d);
        assert_eq!((query ^ base).count_ones(), d);
        assert_eq!(near(store, query, d), ["orig"], "distance {d}");
        if d > 0 {
            assert!(near(store, query, d - 1).is_empty(), "{d}");
        }
    }
    assert!(near(store, !base, 6).is_empty());
    // Large distances (beyond any band index) still work.
    assert_eq!(near(store, spread(20), 20), ["orig"]);

    // A candidate comes back whole: simhash, signature and publication date.
    let found = store.near_duplicates(Simhash(base), 0).unwrap();
    let stored = record("orig", base, ago(17));
    let entry = stored
        .near_dup
        .as_ref()
        .map(|e| e.fingerprint.minhash.clone());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].simhash, Simhash(base));
    assert_eq!(found[0].minhash, entry);
    assert!(found[0].published_at.is_some());

    // Closest first; among equal distances, in commit order (choosing the original is
    // the near-duplicate rule's job, not the store's).
    let close_base = unrelated_hash(5);
    store
        .commit(
            &[
                record("later-exact", close_base, ago(14)),
                record("earlier-exact", close_base, ago(15)),
                record("close", close_base ^ 0b11, ago(16)),
            ],
            &[],
        )
        .unwrap();
    assert_eq!(
        near(store, close_base, 6),
        ["later-exact", "earlier-exact", "close"]
    );
    assert_eq!(
        near(store, close_base ^ 0b11, 6),
        ["close", "later-exact", "earlier-exact"]
    );
    assert_eq!(near(store, close_base, 1), ["later-exact", "earlier-exact"]);

    // Prune: ids older than the cutoff go; of the rest, simhashes beyond the newest N.
    let before = store.stats().unwrap();
    let old: Vec<EmittedRecord> = (0..10)
        .map(|i| {
            record(
                &format!("p{i}"),
                unrelated_hash(100 + i),
                ago(600 - 60 * i as i64),
            )
        })
        .collect();
    store.commit(&old, &[]).unwrap();
    // p0..p2 (600, 540, 480 minutes old) are older than 450 minutes; of the 7 left plus
    // everything indexed before, keep all but 2, which drops p3 and p4 (the oldest).
    let keep = before.simhashes as usize + 7 - 2;
    let pruned = store.prune(ago(450), keep).unwrap();
    assert_eq!(pruned.records, 3);
    assert_eq!(pruned.simhashes, 5);
    assert!(!store.is_emitted("p2").unwrap());
    assert!(store.is_emitted("p3").unwrap());
    assert!(store.is_emitted("r1").unwrap());
    assert!(near(store, simhash_of(&old[4]), 0).is_empty());
    assert_eq!(near(store, simhash_of(&old[5]), 0), ["p5"]);
    let after = store.stats().unwrap();
    assert_eq!(after.emitted_records, before.emitted_records + 7);
    assert_eq!(after.simhashes, keep as u64);
}

/// A candidate the caller keeps is found even behind more than `MAX_CANDIDATES` closer
/// neighbours it rejects (a full index of one template's articles), and rejected ones are
/// not returned.
fn keeps_before_the_candidate_cap(store: &mut dyn StateStore) {
    let base = 0x0f0f_f0f0_5555_aaaa_u64;
    let crowd: Vec<EmittedRecord> = (0..newswire_state::MAX_CANDIDATES as u64 + 44)
        .map(|i| record(&format!("crowd{i}"), base ^ (i & 1), ago(5)))
        .collect();
    store.commit(&crowd, &[]).unwrap();
    store
        .commit(&[record("wanted", base ^ 0b1111, ago(5))], &[])
        .unwrap();
    let kept = store
        .kept_near_duplicates(Simhash(base), 8, &|c| c.id == "wanted")
        .unwrap();
    assert_eq!(
        kept.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["wanted"]
    );
    // Unfiltered, the cap holds and the closest come first.
    let all = store.near_duplicates(Simhash(base), 8).unwrap();
    assert_eq!(all.len(), newswire_state::MAX_CANDIDATES);
    assert!(all.iter().all(|c| c.id.starts_with("crowd")));
}

#[test]
fn sqlite_behaves_like_a_state_store() {
    let mut memory = SqliteState::open(IN_MEMORY).unwrap();
    behaves_like_a_state_store(&mut memory);
    let dir = tempfile::tempdir().unwrap();
    let mut file = SqliteState::open(dir.path().join("state.db")).unwrap();
    behaves_like_a_state_store(&mut file);
    keeps_before_the_candidate_cap(&mut SqliteState::open(IN_MEMORY).unwrap());
}

/// Deletes the run's buckets even when an assertion fails.
struct Buckets(NatsKvOptions);

impl Drop for Buckets {
    fn drop(&mut self) {
        if let Err(e) = NatsKvState::delete_buckets(&self.0) {
            eprintln!("could not delete test buckets: {e}");
        }
    }
}

fn nats_options() -> NatsKvOptions {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let mut options = NatsKvOptions::new(format!("nats://{NATS}"), Duration::from_secs(24 * 3600));
    options.namespace = format!("nwtest_{}_{nanos}", std::process::id());
    options
}

#[test]
fn nats_kv_behaves_like_a_state_store() {
    if !nats_is_up("nats_kv_behaves_like_a_state_store") {
        return;
    }
    let options = nats_options();
    let _cleanup = Buckets(options.clone());
    let mut store = NatsKvState::open(options.clone()).unwrap();
    behaves_like_a_state_store(&mut store);
    keeps_before_the_candidate_cap(&mut store);
    println!(
        "nats kv: {} KV operations for the behaviour suite",
        store.kv_operations()
    );
}

#[test]
fn nats_kv_is_shared_between_workers() {
    if !nats_is_up("nats_kv_is_shared_between_workers") {
        return;
    }
    let options = nats_options();
    let _cleanup = Buckets(options.clone());
    let mut first = NatsKvState::open(options.clone()).unwrap();
    first
        .commit(
            &[record("shared", 0xdead_beef_0000_ffff, ago(1))],
            &[position("nats:NEWSWIRE", "")],
        )
        .unwrap();
    // A second worker (or a restart) sees ids, positions and the simhash index at open.
    let second = NatsKvState::open(options.clone()).unwrap();
    assert!(second.is_emitted("shared").unwrap());
    assert!(second.sink_position("nats:NEWSWIRE").unwrap().is_some());
    assert_eq!(near(&second, 0xdead_beef_0000_fff0, 4), ["shared"]);
    // …and later commits of the other worker through the watch, within moments.
    first
        .commit(&[record("later", 0x0123_4567_89ab_cdef, ago(0))], &[])
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        seen = near(&second, 0x0123_4567_89ab_cdef, 0);
        if !seen.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seen, ["later"]);
}

#[test]
fn unreachable_nats_names_the_url() {
    let mut options = NatsKvOptions::new("nats://127.0.0.1:1", Duration::from_secs(60));
    options.op_timeout = Duration::from_secs(3);
    let err = NatsKvState::open(options).unwrap_err();
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
}
