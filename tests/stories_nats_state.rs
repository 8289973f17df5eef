//! Story state round-trips through the NATS KV state backend's blob path: the clusterer's
//! state, saved with `save_blob` in a JetStream KV bucket and loaded by a second store opened
//! on the same namespace (a restarted worker), resumes the same stories, so a later report
//! joins the story the first run opened. A state larger than one KV chunk is used, and saving
//! twice replaces the earlier generation.
//!
//! Needs NATS JetStream at 127.0.0.1:4222 (skipped, or failed under
//! `NEWSWIRE_REQUIRE_SERVICES=1`, when absent). Buckets are unique per run and deleted
//! afterwards, also when an assertion fails.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::{reachable, require};
use newswire_state::{NatsKvOptions, NatsKvState, StateStore};
use newswire_stories::{ArticleIn, Clusterer, Config, StoryState};

use newswire_test_support::services::NATS_ADDR as NATS;
const KEY: &str = "stories";

/// Deletes the run's buckets even when an assertion fails.
struct Buckets(NatsKvOptions);

impl Drop for Buckets {
    fn drop(&mut self) {
        if let Err(e) = NatsKvState::delete_buckets(&self.0) {
            eprintln!("could not delete test buckets: {e}");
        }
    }
}

fn options() -> NatsKvOptions {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let mut options = NatsKvOptions::new(format!("nats://{NATS}"), Duration::from_secs(3600));
    options.namespace = format!("nwstories_{}_{nanos}", std::process::id());
    options
}

fn article<'a>(id: &'a str, hour: u32, title: &'a str, text: &'a str) -> ArticleIn<'a> {
    ArticleIn {
        id,
        published_at: Utc.with_ymd_and_hms(2024, 3, 5, hour, 0, 0).single(),
        title,
        text,
        language: Some("en"),
        source: Some("valley-news"),
        duplicate_of: None,
    }
}

const QUAKE: &str = "A magnitude 6.1 earthquake struck the mountain town of Valmora on Tuesday, \
    collapsing the old grain hall and damaging the Tessin bridge, governor Ilse Brandt said. \
    Fourteen people were injured in Valmora.";
const QUAKE_LATER: &str = "Governor Ilse Brandt said the two people missing after the magnitude \
    6.1 earthquake in Valmora were found alive under the grain hall; the Tessin bridge reopened \
    and the fourteen injured were recovering.";

/// Filler stories so that the saved state spans several KV chunks.
fn filler_text(i: usize) -> String {
    format!(
        "Council {i} of the district of Norhaven{i} approved budget item {n} on harbour works \
         by engineer Castellan{i}, mayor Orsolya{i} said, after a vote of {v} to {w}.",
        n = 1000 + i,
        v = 10 + i % 7,
        w = i % 5
    )
}

fn encode(state: &StoryState) -> Vec<u8> {
    serde_json::to_vec(state).unwrap()
}

#[test]
fn story_state_survives_the_nats_kv_blob_path() {
    let test = "story_state_survives_the_nats_kv_blob_path";
    if !require(test, &format!("NATS JetStream at {NATS}"), reachable(NATS)) {
        return;
    }
    let options = options();
    let _cleanup = Buckets(options.clone());

    let mut first = Clusterer::new(Config::default());
    let opened = first.assign(&article("quake-1", 8, "Earthquake hits Valmora", QUAKE));
    let mut saved = encode(first.state());
    let mut i = 0;
    while saved.len() <= 1 << 20 && i < 20_000 {
        for _ in 0..250 {
            let (id, text) = (format!("filler-{i}"), filler_text(i));
            first.assign(&article(&id, 9, "Council vote", &text));
            i += 1;
        }
        saved = encode(first.state());
    }
    assert!(
        saved.len() > 1 << 20,
        "the state ({} bytes) should span more than one KV chunk",
        saved.len()
    );

    let mut store = NatsKvState::open(options.clone()).unwrap();
    store.save_blob(KEY, b"an older generation").unwrap();
    store.save_blob(KEY, &saved).unwrap();
    drop(store);

    // A restarted worker: a new store on the same buckets, a clusterer resumed from the blob.
    let store = NatsKvState::open(options.clone()).unwrap();
    let loaded = store
        .load_blob(KEY)
        .unwrap()
        .expect("the saved story state");
    assert_eq!(loaded.len(), saved.len());
    assert!(
        loaded == saved,
        "the blob read back differs from the one saved"
    );
    let state: StoryState = serde_json::from_slice(&loaded).unwrap();
    let mut resumed = Clusterer::with_state(Config::default(), state);
    assert_eq!(resumed.live_stories(), first.live_stories());
    let later = resumed.assign(&article(
        "quake-2",
        12,
        "Missing found alive in Valmora",
        QUAKE_LATER,
    ));
    assert_eq!(later.story.id, opened.story.id);
    assert!(later.story.score > 0.0);
    assert!(store.load_blob("no-such-blob").unwrap().is_none());
}
