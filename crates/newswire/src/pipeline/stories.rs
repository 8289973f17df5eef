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
//!   `stories`) after committing everything sent before it, so the saved state never
//!   counts an undelivered record: after a restart, uncommitted records are assigned
//!   again, and story ids carry on. After a `kill -9` the records committed since the last
//!   checkpoint are unknown to the clusterer (their reports may open new stories).
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
use super::deliver::STORY_STATE_KEY;
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
    let saved = ctx
        .state
        .call("reading the story clusterer's state", |s| {
            s.load_blob(STORY_STATE_KEY)
        })
        .await?;
    let Some(bytes) = saved else {
        return Ok(Clusterer::new(config));
    };
    tokio::task::spawn_blocking(move || {
        let state: StoryState = zstd::decode_all(bytes.as_slice())
            .map_err(anyhow::Error::from)
            .and_then(|json| Ok(serde_json::from_slice(&json)?))
            .context("the saved story state (state key `stories`) is unreadable")?;
        Ok(Clusterer::with_state(config, state))
    })
    .await
    .context("loading the story state failed")?
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
        let id = format!("story:{}:{}", line.id, line.article_count);
        let bytes =
            serde_json::to_vec(&line).with_context(|| format!("serialising story line {id}"))?;
        let _ = out.send(Outbound::StoryLine { id, line: bytes }).await;
    }
    Ok(())
}

fn article_of(record: &Record) -> ArticleIn<'_> {
    ArticleIn {
        id: &record.id,
        published_at: record.published_at,
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
