//! The feed stage: polls feeds, and lets through the entries not delivered before (the gate).
//!
//! A failing feed is reported with its URL and reason and never holds up the others.

use std::sync::Arc;

use newswire_core::{canonical::canonicalize, ids};
use newswire_fetcher::{FeedEntry, FeedOutcome, FeedRequest, Validators};
use tokio::sync::mpsc::{Receiver, Sender, UnboundedSender};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::context::{Context, FeedStatus, Stats};
use super::scheduler::poll_interval;
use super::work::{ArticleJob, FeedSpec, PollReport, PollTicket};
use crate::metrics as m;

/// Feeds polled at the same time (HTTP concurrency is limited again inside the fetcher).
const PARALLEL_POLLS: usize = 16;

pub async fn run(
    ctx: Arc<Context>,
    mut feeds: Receiver<Arc<FeedSpec>>,
    out: Sender<ArticleJob>,
    reports: UnboundedSender<PollReport>,
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
                    // At error level so that the feed's context stays on its warnings
                    // whatever `--log-level` is (a span disabled by the filter is lost).
                    let span = tracing::error_span!("feed", url = %feed.url);
                    polls.spawn(poll(Arc::clone(&ctx), feed, out.clone(), reports.clone()).instrument(span));
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
    reports: UnboundedSender<PollReport>,
) -> anyhow::Result<()> {
    let saved = ctx.state.feed_state(feed.key()).await?.unwrap_or_default();
    let request = FeedRequest {
        url: feed.url.clone(),
        validators: Validators {
            etag: saved.etag.clone(),
            last_modified: saved.last_modified.clone(),
        },
    };
    let normal_interval = poll_interval(&ctx, &feed, None);
    match ctx.fetcher.fetch_feed(&request).await {
        Ok(FeedOutcome::NotModified {
            validators,
            interval_hint,
        }) => {
            Stats::add(&ctx.stats.feeds_not_modified, 1);
            ctx.stats
                .feed_polled(feed.key(), FeedStatus::NotModified, None);
            metrics::counter!(m::FEED_POLLS, "status" => "not_modified").increment(1);
            tracing::info!("feed not modified");
            // A 304 has no body, so the feed's own ttl/sy: hint comes from the last download;
            // combined with the header hint the way the fetcher does for a 200 (the longer).
            let hint = match (interval_hint, ctx.feed_hint(feed.key())) {
                (Some(header), Some(feed_hint)) => Some(header.max(feed_hint)),
                (header, feed_hint) => header.or(feed_hint),
            };
            let interval = poll_interval(&ctx, &feed, hint);
            let _ = reports.send(PollReport {
                feed,
                validators: Some(validators),
                interval,
                error: None,
                retry_after: None,
            });
        }
        Ok(FeedOutcome::Fetched {
            feed: parsed,
            final_url: _,
            validators,
            interval_hint,
        }) => {
            Stats::add(&ctx.stats.feeds_ok, 1);
            ctx.stats.feed_polled(feed.key(), FeedStatus::Ok, None);
            metrics::counter!(m::FEED_POLLS, "status" => "ok").increment(1);
            for warning in &parsed.warnings {
                tracing::warn!(feed = %feed.url, "{warning}");
            }
            ctx.remember_feed_hint(feed.key(), parsed.ttl_hint);
            let interval = poll_interval(&ctx, &feed, interval_hint.or(parsed.ttl_hint));
            let ticket = PollTicket::new(
                PollReport {
                    feed: Arc::clone(&feed),
                    validators: Some(validators),
                    interval,
                    error: None,
                    retry_after: None,
                },
                reports,
            );
            let entries = parsed.entries.len();
            Stats::add(&ctx.stats.entries_seen, entries as u64);
            metrics::counter!(m::ENTRIES_SEEN).increment(entries as u64);
            let mut new = 0u64;
            for entry in parsed.entries {
                let Some(id) = entry_id(&feed, &entry) else {
                    tracing::warn!(feed = %feed.url, title = ?entry.title, "entry has no link, id, title or text: skipped");
                    continue;
                };
                if !ctx.claim(&id) {
                    continue;
                }
                if ctx.state.is_emitted(&id).await? {
                    ctx.release([id.as_str()]);
                    continue;
                }
                new += 1;
                let job = ArticleJob {
                    id,
                    feed: Arc::clone(&feed),
                    feed_title: parsed.title.clone(),
                    feed_link: parsed.link.clone(),
                    entry,
                    ticket: Arc::clone(&ticket),
                };
                ticket.expect_delivery();
                if let Err(returned) = out.send(job).await {
                    // Downstream is gone (a sink failed): this article is retried later.
                    ctx.release([returned.0.id.as_str()]);
                    break;
                }
            }
            Stats::add(&ctx.stats.entries_new, new);
            metrics::counter!(m::ENTRIES_NEW).increment(new);
            tracing::info!(entries, new, "feed polled");
        }
        Err(error) => {
            Stats::add(&ctx.stats.feeds_failed, 1);
            ctx.stats.feed_polled(
                feed.key(),
                FeedStatus::Failed,
                Some((error.kind(), error.to_string())),
            );
            metrics::counter!(m::FEED_POLLS, "status" => "failed").increment(1);
            metrics::counter!(m::FEED_FAILURES, "reason" => error.kind()).increment(1);
            tracing::warn!(kind = error.kind(), "feed failed: {error}");
            let _ = reports.send(PollReport {
                feed,
                validators: None,
                interval: normal_interval,
                error: Some(error.to_string()),
                retry_after: error.retry_after(),
            });
        }
    }
    Ok(())
}

/// The record id of an entry: its canonical link, else its guid within the feed, else a
/// hash of its content within the feed (so an entry with neither link nor guid still
/// makes a record, and the same entry seen again gets the same id).
fn entry_id(feed: &FeedSpec, entry: &FeedEntry) -> Option<String> {
    if let Some(link) = &entry.link {
        return Some(ids::record_id_for_url(&canonicalize(link)));
    }
    entry
        .id
        .as_deref()
        .filter(|g| !g.trim().is_empty())
        .map(str::to_string)
        .or_else(|| newswire_fetcher::synthetic_entry_id(entry))
        .map(|guid| ids::record_id_for_guid(feed.key(), &guid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FeedSpec {
        FeedSpec {
            url: url::Url::parse("https://a.example/rss").unwrap(),
            name: None,
            interval: None,
            tags: Vec::new(),
            respect_robots_txt: true,
        }
    }

    #[test]
    fn an_entry_without_link_or_guid_gets_a_stable_content_id() {
        let entry = FeedEntry {
            title: Some("Storm closes the harbour".into()),
            summary: Some("Ferries stay in port until Friday.".into()),
            ..Default::default()
        };
        let id = entry_id(&spec(), &entry).expect("an id from the content");
        assert_eq!(entry_id(&spec(), &entry.clone()), Some(id.clone()));
        let other = FeedEntry {
            title: Some("Storm closes the harbour".into()),
            summary: Some("Ferries sail again.".into()),
            ..Default::default()
        };
        assert_ne!(entry_id(&spec(), &other), Some(id));
        assert_eq!(entry_id(&spec(), &FeedEntry::default()), None);
    }

    #[test]
    fn a_guid_wins_over_the_content() {
        let entry = FeedEntry {
            id: Some("urn:x:1".into()),
            title: Some("T".into()),
            ..Default::default()
        };
        assert_eq!(
            entry_id(&spec(), &entry),
            Some(ids::record_id_for_guid("https://a.example/rss", "urn:x:1"))
        );
    }
}
