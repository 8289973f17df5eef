//! The feed stage: polls feeds, and lets through the entries not delivered before (the gate).
//!
//! A failing feed is reported with its URL and reason and never holds up the others.
//! One poll takes at most `fetch.max_entries_per_poll` new entries; the rest wait for the
//! next poll (the poll's validators are not saved, so that poll downloads the feed again).
//! Each poll reserves its report's slot in the bounded report channel before it starts.

use std::sync::Arc;

use newswire_core::ids;
use newswire_fetcher::{FeedEntry, FeedOutcome, FeedRequest, ParsedFeed, Validators};
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::claims::Claim;
use super::context::Context;
use super::work::{ArticleJob, FeedSpec, PollOutcome, PollReport, PollTicket, ReportSlot};
use crate::telemetry::{self, Stage};

/// Feeds polled at the same time (HTTP concurrency is limited again inside the fetcher).
const PARALLEL_POLLS: usize = 16;

/// Entries of one poll checked against the state in one call.
const GATE_CHUNK: usize = 64;

pub async fn run(
    ctx: Arc<Context>,
    mut feeds: Receiver<Arc<FeedSpec>>,
    out: Sender<ArticleJob>,
    reports: Sender<PollReport>,
) -> anyhow::Result<()> {
    let mut polls = JoinSet::new();
    loop {
        if polls.len() >= PARALLEL_POLLS {
            if let Some(result) = polls.join_next().await {
                result??;
            }
            continue;
        }
        tokio::select! {
            feed = feeds.recv() => match feed {
                Some(feed) if ctx.shutdown.is_cancelled() => {
                    tracing::info!(feed = %feed.url, "shutting down: not polled");
                }
                Some(feed) => {
                    // The report's slot first: when the scheduler has not taken the reports
                    // yet, no new poll starts (see `pipeline::run` for the capacity).
                    let slot = tokio::select! {
                        slot = reports.clone().reserve_owned() => match slot {
                            Ok(slot) => slot,
                            Err(_) => break, // the scheduler is gone: nothing to report to
                        },
                        Some(result) = polls.join_next(), if !polls.is_empty() => {
                            result??;
                            match reports.clone().reserve_owned().await {
                                Ok(slot) => slot,
                                Err(_) => break,
                            }
                        }
                    };
                    // At error level so that the feed's context stays on its warnings
                    // whatever `--log-level` is (a span disabled by the filter is lost).
                    let span = tracing::error_span!("feed", url = %feed.url);
                    polls.spawn(poll(Arc::clone(&ctx), feed, out.clone(), slot).instrument(span));
                }
                None => break,
            },
            Some(result) = polls.join_next(), if !polls.is_empty() => result??,
        }
    }
    while let Some(result) = polls.join_next().await {
        result??;
    }
    Ok(())
}

async fn poll(
    ctx: Arc<Context>,
    feed: Arc<FeedSpec>,
    out: Sender<ArticleJob>,
    slot: ReportSlot,
) -> anyhow::Result<()> {
    let saved = ctx.state.feed_state(feed.key()).await?.unwrap_or_default();
    let request = FeedRequest {
        url: feed.url.clone(),
        validators: Validators {
            etag: saved.etag.clone(),
            last_modified: saved.last_modified.clone(),
        },
    };
    let started = std::time::Instant::now();
    let fetched = ctx.fetcher.fetch_feed(&request).await;
    telemetry::stage_time(Stage::FeedPoll, started);
    match fetched {
        Ok(FeedOutcome::NotModified {
            validators,
            header_hint,
        }) => {
            ctx.stats.feed_not_modified(feed.key());
            tracing::info!("feed not modified");
            slot.send(PollReport {
                feed,
                validators: Some(validators),
                outcome: PollOutcome::NotModified { header_hint },
            });
        }
        Ok(FeedOutcome::Fetched {
            feed: parsed,
            final_url: _,
            validators,
            header_hint,
            truncated,
        }) => {
            ctx.stats.feed_ok(feed.key());
            for warning in &parsed.warnings {
                tracing::warn!(feed = %feed.url, "{warning}");
            }
            let ticket = PollTicket::new(
                PollReport {
                    feed: Arc::clone(&feed),
                    // A cut body (its warning is among the feed's) must be downloaded
                    // in full next time: no validators.
                    validators: (!truncated).then_some(validators),
                    outcome: PollOutcome::Fetched {
                        header_hint,
                        feed_hint: parsed.ttl_hint,
                    },
                },
                slot,
            );
            gate(&ctx, &feed, parsed, &ticket, &out).await?;
        }
        Err(error) => {
            ctx.stats
                .feed_failed(feed.key(), error.kind(), error.to_string());
            tracing::warn!(kind = error.kind(), "feed failed: {error}");
            slot.send(PollReport {
                feed,
                validators: None,
                outcome: PollOutcome::Failed {
                    error: error.to_string(),
                    retry_after: error.retry_after(),
                },
            });
        }
    }
    Ok(())
}

/// The gate: sends on the entries of a fetched feed that are neither delivered before nor
/// on their way, each with its id claimed.
async fn gate(
    ctx: &Context,
    feed: &Arc<FeedSpec>,
    parsed: ParsedFeed,
    ticket: &Arc<PollTicket>,
    out: &Sender<ArticleJob>,
) -> anyhow::Result<()> {
    let entries = parsed.entries.len();
    let limit = ctx.config.fetch.max_entries_per_poll.max(1);
    let mut new = 0usize;
    let mut not_looked_at = 0usize;
    let mut rest = parsed.entries.into_iter();
    'poll: loop {
        let room = limit - new;
        if room == 0 {
            // Counted, not taken: the next poll gets them (the feed is downloaded again).
            not_looked_at = rest.len();
            break;
        }
        // Never more entries claimed at once than may still be taken, so that the ones
        // past the limit stay unclaimed; and one state call per chunk, not per entry.
        let claimed: Vec<(FeedEntry, Claim)> = rest
            .by_ref()
            .take(room.min(GATE_CHUNK))
            .filter_map(|entry| {
                let Some(id) = ids::record_id(&entry.id_sources(feed.key())) else {
                    tracing::warn!(feed = %feed.url, title = ?entry.title, "entry has no link, id, title or text: skipped");
                    return None;
                };
                Some((entry, ctx.in_flight.claim(id)?))
            })
            .collect();
        if claimed.is_empty() {
            if rest.as_slice().is_empty() {
                break;
            }
            continue;
        }
        let ids = claimed.iter().map(|(_, c)| c.id().to_string()).collect();
        let emitted = ctx.state.emitted_among(ids).await?;
        for ((entry, claim), emitted) in claimed.into_iter().zip(emitted) {
            if emitted {
                continue;
            }
            new += 1;
            let job = ArticleJob {
                claim,
                feed: Arc::clone(feed),
                feed_title: parsed.title.clone(),
                feed_link: parsed.link.clone(),
                feed_language: parsed.language.clone(),
                entry,
                ticket: Arc::clone(ticket),
            };
            ticket.expect_delivery();
            if out.send(job).await.is_err() {
                // Downstream is gone (a sink failed): the job, and its claim, are dropped
                // and the article is retried later.
                break 'poll;
            }
        }
    }
    if not_looked_at > 0 {
        ticket.entries_left_over();
        tracing::warn!(
            feed = %feed.url,
            taken = new,
            not_looked_at,
            "feed {}: took fetch.max_entries_per_poll ({limit}) new entries, the other {not_looked_at} entries wait for the next poll",
            feed.url
        );
    }
    ctx.stats.entries(entries as u64, new as u64);
    tracing::info!(entries, new, "feed polled");
    Ok(())
}

#[cfg(test)]
mod tests {
    use newswire_fetcher::FeedEntry;

    use super::*;

    const FEED: &str = "https://a.example/rss";

    fn id(entry: &FeedEntry) -> Option<String> {
        ids::record_id(&entry.id_sources(FEED))
    }

    #[test]
    fn an_entry_without_link_or_guid_gets_a_stable_content_id() {
        let entry = FeedEntry {
            title: Some("Storm closes the harbour".into()),
            summary: Some("Ferries stay in port until Friday.".into()),
            ..Default::default()
        };
        let first = id(&entry);
        assert!(first.is_some());
        assert_eq!(id(&entry.clone()), first);
        let other = FeedEntry {
            title: Some("Storm closes the harbour".into()),
            summary: Some("Ferries sail again.".into()),
            ..Default::default()
        };
        assert_ne!(id(&other), first);
        assert_eq!(id(&FeedEntry::default()), None);
    }

    #[test]
    fn a_guid_wins_over_the_content() {
        let entry = FeedEntry {
            id: Some("urn:x:1".into()),
            title: Some("T".into()),
            ..Default::default()
        };
        let guid_only = FeedEntry {
            id: Some("urn:x:1".into()),
            ..Default::default()
        };
        assert_eq!(id(&entry), id(&guid_only));
    }
}
