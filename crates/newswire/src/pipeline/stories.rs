//! The stories stage (after dedup, before delivery): groups records into stories and
//! names their places, countries and actors (`newswire_stories`), and makes the
//! `newswire.story/1` lines.
//!
//! What flows to delivery, in order:
//! - every record, with `story`, `places`, `countries`, `actors` filled (a syndicated copy
//!   joins its original's story through `duplicate_of`; suppressed copies are passed on
//!   untouched and not clustered, so story counts match the records written);
//! - story lines, due every few seconds (`Clusterer::take_story_lines`: a changed story at
//!   most once per `stories.story_line_interval`) and all changed ones at the end. Each is a
//!   delivery of its own with id `story:<story id>:<article count>`: the sinks take it like
//!   a record (a JSONL file truncated back to its committed offset after a crash loses and
//!   doubles nothing; NATS uses the id as `Nats-Msg-Id`), and delivery skips an id already
//!   committed, so a line made again after a restart is not written twice;
//! - checkpoints: the clusterer's state (JSON, zstd), at most every
//!   `stories.checkpoint_interval` and at the end. Delivery stores it (state key
//!   `stories`, in cluster mode `stories.<worker id>`: each worker clusters the records of
//!   its own shards) after committing everything sent before it, so the saved state never
//!   counts an undelivered record: after a restart, uncommitted records are assigned
//!   again, and story ids carry on. After a `kill -9` the records committed since the last
//!   checkpoint are unknown to the clusterer (their reports may open new stories).
//!
//! A record is placed at its publication time, or at its fetch time when it has none or
//! one more than a day ahead of the fetch (see [`clustering_time`]). A checkpoint that
//! cannot be read is logged and stories start afresh.
//!
//! Off (`stories.enabled = false`, the default), records pass through unchanged.
//! `assign` costs about 0.1 ms per article, so it runs inline; serialising the state
//! (megabytes at scale) runs on the blocking pool.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use newswire_core::record::{Place, Record, StoryRef};
use newswire_stories::{ArticleIn, Assignment, Clusterer, Config, StoryLine, StoryState};
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::time::Instant;

use super::context::Context;
use super::deliver::story_state_key;
use super::work::{Delivery, Outbound};
use crate::telemetry::{self, Stage};

/// How often due story lines are collected (each story is still rate-limited on its own).
const LINE_TICK: Duration = Duration::from_secs(5);
/// zstd level of checkpoints: fast, and JSON shrinks several-fold.
const CHECKPOINT_LEVEL: i32 = 3;

pub async fn run(
    ctx: Arc<Context>,
    mut input: Receiver<Delivery>,
    out: Sender<Outbound>,
) -> anyhow::Result<()> {
    if !ctx.config.stories.enabled {
        while let Some(delivery) = input.recv().await {
            let _ = out.send(Outbound::Record(Box::new(delivery))).await;
        }
        return Ok(());
    }
    let mut clusterer = load(&ctx).await?;
    let checkpoint_every = ctx.config.stories.checkpoint_interval.0;
    let mut last_checkpoint = Instant::now();
    let mut changed = false;
    let mut tick = tokio::time::interval(LINE_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            delivery = input.recv() => {
                let Some(mut delivery) = delivery else { break };
                if !delivery.suppress {
                    let started = std::time::Instant::now();
                    let assignment = clusterer.assign(&article_of(&delivery.record));
                    fill(&mut delivery.record, assignment);
                    telemetry::stage_time(Stage::Stories, started);
                    changed = true;
                }
                // A closed channel means delivery failed: its error stops the pipeline.
                let _ = out.send(Outbound::Record(Box::new(delivery))).await;
            }
            _ = tick.tick() => {
                send_lines(&out, clusterer.take_story_lines(Utc::now())).await?;
                if changed && last_checkpoint.elapsed() >= checkpoint_every {
                    clusterer = checkpoint(clusterer, &out).await?;
                    last_checkpoint = Instant::now();
                    changed = false;
                }
            }
        }
    }
    send_lines(&out, clusterer.flush_story_lines()).await?;
    checkpoint(clusterer, &out).await?;
    Ok(())
}

/// The clusterer resumed from the last checkpoint, or a new one.
async fn load(ctx: &Context) -> anyhow::Result<Clusterer> {
    let config = clusterer_config(ctx);
    let key = story_state_key(&ctx.config);
    if ctx
        .config
        .cluster
        .as_ref()
        .is_some_and(|cluster| cluster.worker_id.is_none())
    {
        tracing::warn!(
            state_key = %key,
            "stories in cluster mode without cluster.worker_id: the default id changes with \
             every restart, so this worker's stories start afresh each time"
        );
    }
    let read_key = key.clone();
    let saved = ctx
        .state
        .call("reading the story clusterer's state", move |s| {
            s.load_blob(&read_key)
        })
        .await?;
    let Some(bytes) = saved else {
        return Ok(Clusterer::new(config));
    };
    let state = tokio::task::spawn_blocking(move || {
        zstd::decode_all(bytes.as_slice())
            .map_err(anyhow::Error::from)
            .and_then(|json| Ok(serde_json::from_slice::<StoryState>(&json)?))
    })
    .await
    .context("loading the story state failed")?;
    match state {
        Ok(state) => Ok(Clusterer::with_state(config, state)),
        // A damaged checkpoint costs story continuity, not the pipeline: stories start
        // afresh and the next checkpoint replaces it.
        Err(error) => {
            tracing::error!(
                state_key = %key,
                error = format!("{error:#}"),
                "the saved story state is unreadable; stories start afresh"
            );
            Ok(Clusterer::new(config))
        }
    }
}

fn clusterer_config(ctx: &Context) -> Config {
    let stories = &ctx.config.stories;
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    Config {
        window_secs: secs(stories.window.0),
        story_line_interval_secs: secs(stories.story_line_interval.0),
        ..Config::default()
    }
}

/// Serialises the state off the async runtime and sends it to delivery.
async fn checkpoint(clusterer: Clusterer, out: &Sender<Outbound>) -> anyhow::Result<Clusterer> {
    let (clusterer, bytes) = tokio::task::spawn_blocking(move || {
        let bytes = serde_json::to_vec(clusterer.state())
            .map_err(anyhow::Error::from)
            .and_then(|json| Ok(zstd::encode_all(json.as_slice(), CHECKPOINT_LEVEL)?));
        (clusterer, bytes)
    })
    .await
    .context("saving the story state failed")?;
    let bytes = bytes.context("serialising the story state")?;
    let _ = out.send(Outbound::StoryCheckpoint(bytes)).await;
    Ok(clusterer)
}

async fn send_lines(out: &Sender<Outbound>, lines: Vec<StoryLine>) -> anyhow::Result<()> {
    for line in lines {
        let id = line_delivery_id(&line);
        let bytes =
            serde_json::to_vec(&line).with_context(|| format!("serialising story line {id}"))?;
        let _ = out.send(Outbound::StoryLine { id, line: bytes }).await;
    }
    Ok(())
}

/// A publication time this far past the fetch is a wrong date, not a scoop.
const FUTURE_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// The time the clusterer places a record at: its publication time, or when it has none or
/// one in the future, its fetch time. The clusterer's clock is the latest time it has
/// seen, so one record dated years ahead would retire every live story at once, and an
/// undated record would join a story of any age.
fn clustering_time(
    published_at: Option<chrono::DateTime<Utc>>,
    fetched_at: chrono::DateTime<Utc>,
) -> chrono::DateTime<Utc> {
    published_at
        .filter(|published| *published <= fetched_at + FUTURE_TOLERANCE)
        .unwrap_or(fetched_at)
}

/// A story line's delivery id: one per story state worth a line. Delivery skips an id it
/// has committed, and a story merged into another keeps its article count, so its
/// `merged_into` line needs an id of its own.
fn line_delivery_id(line: &StoryLine) -> String {
    match &line.merged_into {
        Some(_) => format!("story:{}:{}:merged", line.id, line.article_count),
        None => format!("story:{}:{}", line.id, line.article_count),
    }
}

fn article_of(record: &Record) -> ArticleIn<'_> {
    ArticleIn {
        id: &record.id,
        published_at: Some(clustering_time(record.published_at, record.fetched_at)),
        title: record.title.as_deref().unwrap_or(""),
        // A record built from its feed entry alone may have only a summary.
        text: if record.text.is_empty() {
            record.summary.as_deref().unwrap_or("")
        } else {
            &record.text
        },
        language: record.language.as_deref(),
        source: record
            .site
            .name
            .as_deref()
            .or(record.site.url.as_deref())
            .or(Some(record.feed.url.as_str())),
        duplicate_of: record.duplicate_of.as_deref(),
    }
}

fn fill(record: &mut Record, assignment: Assignment) {
    let score = assignment.story.score;
    record.story = Some(StoryRef {
        id: assignment.story.id,
        score: if score.is_finite() {
            score.clamp(0.0, 1.0)
        } else {
            0.0
        },
    });
    record.places = assignment
        .places
        .into_iter()
        .map(|p| Place {
            resolved_by: serde_json::to_value(p.resolved_by)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            name: p.name,
            aliases: p.aliases,
            geonames_id: p.geonames_id,
            country: p.country,
            region: p.region,
        })
        .collect();
    record.countries = assignment.countries;
    record.actors = assignment.actors;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::context::Context;
    use crate::pipeline::state::StateHandle;
    use chrono::TimeZone;
    use newswire_core::config::Config as NewswireConfig;
    use newswire_fetcher::Fetcher;
    use newswire_state::{SqliteState, StateStore};
    use tokio_util::sync::CancellationToken;

    fn context(config_text: &str, dir: &std::path::Path) -> Context {
        let config = NewswireConfig::from_text(config_text, &dir.join("newswire.toml")).unwrap();
        Context {
            fetcher: Fetcher::new(&config.fetch).unwrap(),
            config,
            state: StateHandle::new(Box::new(SqliteState::open(dir.join("state.db")).unwrap())),
            stats: Default::default(),
            health: Arc::new(crate::metrics::Health::new()),
            in_flight: Default::default(),
            shutdown: CancellationToken::new(),
        }
    }

    #[test]
    fn a_damaged_story_checkpoint_is_logged_and_stories_start_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = SqliteState::open(dir.path().join("state.db")).unwrap();
        state.save_blob("stories", b"not zstd, not JSON").unwrap();
        drop(state);
        let ctx = context("[stories]\nenabled = true\n", dir.path());
        let runtime = crate::pipeline::one_blocking_thread_runtime();
        let clusterer = runtime.block_on(load(&ctx)).expect("the stage starts");
        assert_eq!(clusterer.live_stories(), 0);
    }

    #[test]
    fn cluster_workers_keep_their_story_state_under_keys_of_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let config = |text: &str| {
            NewswireConfig::from_text(text, &dir.path().join("newswire.toml")).unwrap()
        };
        assert_eq!(story_state_key(&config("")), "stories");
        let worker = config(
            "[state]\npath = \"nats://127.0.0.1:4222\"\n\n\
             [cluster]\nnats_url = \"nats://127.0.0.1:4222\"\nworker_id = \"worker-2\"\n",
        );
        assert_eq!(story_state_key(&worker), "stories.worker-2");
    }

    #[test]
    fn undated_and_future_dated_records_are_placed_at_their_fetch_time() {
        let fetched = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let earlier = Utc.with_ymd_and_hms(2026, 11, 30, 18, 0, 0).unwrap();
        let later_today = Utc.with_ymd_and_hms(2026, 12, 1, 20, 0, 0).unwrap();
        let years_ahead = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(clustering_time(Some(earlier), fetched), earlier);
        // Time zones written wrong put a fresh report a few hours ahead: kept.
        assert_eq!(clustering_time(Some(later_today), fetched), later_today);
        assert_eq!(clustering_time(Some(years_ahead), fetched), fetched);
        assert_eq!(clustering_time(None, fetched), fetched);
    }

    #[test]
    fn a_merged_storys_line_gets_a_delivery_id_of_its_own() {
        let line = StoryLine {
            schema: newswire_stories::STORY_SCHEMA.to_string(),
            id: "st-0123456789abcdef0123".into(),
            first_seen: None,
            last_seen: None,
            article_count: 3,
            source_count: 2,
            sources: Vec::new(),
            top_places: Vec::new(),
            countries: Vec::new(),
            actors: Vec::new(),
            title: "Bridge closed".into(),
            merged_into: None,
        };
        let merged = StoryLine {
            merged_into: Some("st-fedcba9876543210fedc".into()),
            ..line.clone()
        };
        assert_eq!(line_delivery_id(&line), "story:st-0123456789abcdef0123:3");
        assert_ne!(line_delivery_id(&merged), line_delivery_id(&line));
    }
}
