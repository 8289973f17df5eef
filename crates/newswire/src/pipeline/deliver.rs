//! The delivery stage: writes records to every sink and commits them to the state.
//!
//! Records are written to all sinks as they come; every `flush_records` records or
//! `flush_interval` (whichever first, per sink) all sinks are flushed (made durable) and
//! then, in one state transaction, the batch's ids are marked emitted together with each
//! sink's new position. A sink failure stops the pipeline before the commit, so a restart
//! delivers the uncommitted records again (and a JSONL sink first truncates its file back
//! to the committed position: nothing is doubled).
//!
//! Story lines (from the stories stage) go the same way under their own ids; one whose id
//! is already committed is skipped, so a line re-made after a restart is not doubled. A
//! story checkpoint is saved right after the commit that covers the items before it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use chrono::Utc;
use newswire_sink::{Route, Sink};
use newswire_state::{EmittedRecord, IndexEntry};
use tokio::sync::mpsc::Receiver;
use tokio::time::Instant;

use super::claims::Claim;
use super::context::Context;
use super::work::{Delivery, Outbound, PollTicket};
use crate::telemetry::{self, Stage};

/// Upper bound on records between commits, whatever the sinks say (bounds memory).
pub(super) const MAX_BATCH: usize = 1000;

#[derive(Default)]
struct Pending {
    emitted: Vec<EmittedRecord>,
    tickets: Vec<Arc<PollTicket>>,
    /// The batch's ids stay claimed until committed (or, on failure, until dropped).
    claims: Vec<Claim>,
    /// Records written per feed URL, credited to the feed once committed.
    per_feed: HashMap<String, u64>,
    /// `published_at` of the written records, for the delay histogram at commit.
    published: Vec<chrono::DateTime<Utc>>,
    /// The latest story checkpoint received, saved after the next commit.
    story_checkpoint: Option<Vec<u8>>,
}

/// The state key of the story clusterer's checkpoint: `stories`, or in cluster mode
/// `stories.<worker id>`. Each worker clusters the records of the shards it holds, so each
/// keeps a state of its own; one shared key would have the workers overwrite (and, saving
/// at once, interleave) each other's checkpoints.
pub fn story_state_key(config: &newswire_core::config::Config) -> String {
    match &config.cluster {
        Some(cluster) => format!("stories.{}", cluster.worker_id()),
        None => "stories".to_string(),
    }
}

pub async fn run(
    ctx: Arc<Context>,
    mut sinks: Vec<Sink>,
    mut input: Receiver<Outbound>,
) -> anyhow::Result<()> {
    let interval = sinks
        .iter()
        .map(Sink::flush_interval)
        .min()
        .unwrap_or(Duration::from_secs(1))
        .max(Duration::from_millis(10));
    let mut pending = Pending::default();
    let mut deadline: Option<Instant> = None;
    let result = async {
        loop {
            tokio::select! {
                delivery = input.recv() => match delivery {
                    Some(item) => {
                        match item {
                            Outbound::Record(delivery) => write(&ctx, &mut sinks, &mut pending, *delivery).await?,
                            Outbound::StoryLine { id, line } => write_story_line(&ctx, &mut sinks, &mut pending, id, line).await?,
                            Outbound::StoryCheckpoint(bytes) => pending.story_checkpoint = Some(bytes),
                        }
                        if deadline.is_none() {
                            deadline = Some(Instant::now() + interval);
                        }
                        if pending.emitted.len() >= MAX_BATCH || sinks.iter().any(Sink::wants_flush) {
                            commit(&ctx, &mut sinks, &mut pending).await?;
                            deadline = None;
                        }
                    }
                    None => break,
                },
                _ = sleep_until(deadline), if deadline.is_some() => {
                    commit(&ctx, &mut sinks, &mut pending).await?;
                    deadline = None;
                }
            }
        }
        commit(&ctx, &mut sinks, &mut pending).await
    }
    .await;
    if let Err(error) = &result {
        ctx.stats.commit_failed();
        ctx.health.commit_failed(&format!("{error:#}"));
        // Nothing of the failed batch was committed: those articles are retried later
        // (their tickets were never counted off, so no validators are saved for them).
        drop(pending);
        ctx.shutdown.cancel();
        return result;
    }
    // Everything is committed: let sinks finish their housekeeping (compress files
    // closed in the last batch, drop their start markers) now rather than at next start.
    for sink in sinks {
        let name = sink.name();
        sink.close()
            .await
            .with_context(|| format!("closing sink {name}"))?;
    }
    Ok(())
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn write(
    ctx: &Context,
    sinks: &mut [Sink],
    pending: &mut Pending,
    delivery: Delivery,
) -> anyhow::Result<()> {
    let Delivery {
        record,
        fingerprint,
        index_as_original,
        suppress,
        ticket,
        claim,
    } = delivery;
    if !suppress {
        let started = std::time::Instant::now();
        let line = serde_json::to_vec(&record)
            .map(Bytes::from)
            .with_context(|| format!("serialising record {}", record.id))?;
        let route = Route::of(&record);
        for sink in sinks.iter_mut() {
            if let Err(error) = sink.write(&record.id, &line, &route).await {
                ctx.health.sink_failed(&format!("{}: {error}", sink.name()));
                return Err(error)
                    .with_context(|| format!("writing record {} ({})", record.id, record.url));
            }
        }
        telemetry::stage_time(Stage::SinkWrite, started);
        *pending.per_feed.entry(record.feed.url.clone()).or_default() += 1;
        if let Some(published) = record.published_at {
            pending.published.push(published);
        }
    }
    pending.emitted.push(EmittedRecord {
        near_dup: index_as_original.then_some(IndexEntry {
            fingerprint,
            published_at: record.published_at,
        }),
        id: record.id,
        emitted_at: Utc::now(),
    });
    pending.tickets.push(ticket);
    pending.claims.push(claim);
    Ok(())
}

/// Writes one story line to every sink, unless a previous run committed it already.
async fn write_story_line(
    ctx: &Context,
    sinks: &mut [Sink],
    pending: &mut Pending,
    id: String,
    line: Vec<u8>,
) -> anyhow::Result<()> {
    let line = Bytes::from(line);
    if ctx.state.is_emitted(&id).await? || pending.emitted.iter().any(|e| e.id == id) {
        return Ok(());
    }
    for sink in sinks.iter_mut() {
        // A story line has no site or language of its own: the template's defaults.
        if let Err(error) = sink.write(&id, &line, &Route::default()).await {
            ctx.health.sink_failed(&format!("{}: {error}", sink.name()));
            return Err(error).with_context(|| format!("writing {id}"));
        }
    }
    pending.emitted.push(EmittedRecord {
        id,
        emitted_at: Utc::now(),
        near_dup: None,
    });
    Ok(())
}

async fn commit(ctx: &Context, sinks: &mut [Sink], pending: &mut Pending) -> anyhow::Result<()> {
    if pending.emitted.is_empty() {
        return save_story_checkpoint(ctx, pending).await;
    }
    let started = std::time::Instant::now();
    let mut positions = Vec::with_capacity(sinks.len());
    for sink in sinks.iter_mut() {
        match sink.flush().await {
            Ok(Some(position)) => positions.push(position),
            Ok(None) => {}
            Err(error) => {
                ctx.health.sink_failed(&format!("{}: {error}", sink.name()));
                return Err(error).with_context(|| format!("flushing sink {}", sink.name()));
            }
        }
    }
    let emitted = std::mem::take(&mut pending.emitted);
    ctx.state.commit(emitted, positions).await?;
    telemetry::stage_time(Stage::Commit, started);
    pending.claims.clear();
    ctx.health.commit_succeeded();
    ctx.stats.committed(
        sinks.iter().map(Sink::name),
        std::mem::take(&mut pending.per_feed),
        &pending.published,
    );
    pending.published.clear();
    // Count the articles off; dropping the tickets lets polls whose articles are all
    // delivered save their validators.
    for ticket in pending.tickets.drain(..) {
        ticket.delivered();
    }
    save_story_checkpoint(ctx, pending).await
}

/// Called once everything received before the checkpoint is committed.
async fn save_story_checkpoint(ctx: &Context, pending: &mut Pending) -> anyhow::Result<()> {
    if let Some(bytes) = pending.story_checkpoint.take() {
        let key = story_state_key(&ctx.config);
        ctx.state
            .call("saving the story clusterer's state", move |s| {
                s.save_blob(&key, &bytes)
            })
            .await?;
    }
    Ok(())
}
