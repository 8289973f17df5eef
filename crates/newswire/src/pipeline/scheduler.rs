//! The scheduler: decides when each feed is polled, and records how each poll ended.
//!
//! `--once` sends every feed once. The daemon keeps a due time per feed (from the state,
//! so restarts keep the schedule), sends feeds as they fall due, and reschedules each one
//! when its poll report arrives: after a success by its interval, after a failure by an
//! exponential backoff capped at `fetch.max_interval`. Poll reports are also where feed
//! state (validators, error counts) is written, after the poll's articles are delivered.
//!
//! The daemon's feed list is a `watch` channel: a reload (SIGHUP) publishes a new list and
//! the scheduler applies the difference. Added feeds are polled at once, removed feeds are
//! dropped from the schedule (a poll in flight finishes, but is not rescheduled), changed
//! feeds keep their due time, brought forward when the new interval is shorter.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use tokio::sync::mpsc::{Sender, UnboundedReceiver};
use tokio::sync::watch;
use tokio::time::Instant;

use super::context::Context;
use super::work::{FeedSpec, PollReport};

/// How often a daemon prunes its state.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Longest wait a server's `Retry-After` can impose: beyond a day it is more likely a
/// misconfigured server than a plan, and the feed should be tried again.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// At a daemon's start, feeds due now are spread over at most this long (and at most
/// their interval), so that thousands of feeds do not all fire in the first second.
const MAX_START_SPREAD: Duration = Duration::from_secs(300);

/// Start spread per feed due now: one feed waits at most this, 300 feeds (or more) use the
/// whole [`MAX_START_SPREAD`], about one poll started per second.
const START_SPREAD_PER_FEED: Duration = Duration::from_secs(1);

/// Runs until every report is in (`--once`) or until shutdown and then every report is in.
pub async fn run(
    ctx: Arc<Context>,
    mut feed_list: watch::Receiver<Vec<FeedSpec>>,
    once: bool,
    out: Sender<Arc<FeedSpec>>,
    mut reports: UnboundedReceiver<PollReport>,
) -> anyhow::Result<()> {
    let mut out = Some(out);
    let mut due: HashMap<String, (Instant, Arc<FeedSpec>)> = HashMap::new();
    // In config order: a `--once` pass polls them in the order the operator wrote.
    let ordered: Vec<Arc<FeedSpec>> = feed_list
        .borrow_and_update()
        .iter()
        .map(|f| Arc::new(f.clone()))
        .collect();
    // The feeds as currently configured, by key.
    let mut current: HashMap<String, Arc<FeedSpec>> = ordered
        .iter()
        .map(|f| (f.key().to_string(), Arc::clone(f)))
        .collect();
    metrics::gauge!(crate::metrics::FEEDS_CONFIGURED).set(current.len() as f64);
    if once {
        if let Some(sender) = out.take() {
            for feed in ordered {
                tokio::select! {
                    biased;
                    _ = ctx.shutdown.cancelled() => {
                        tracing::info!("shutting down: the remaining feeds of this pass are not polled");
                        break;
                    }
                    sent = sender.send(feed) => if sent.is_err() { break },
                }
            }
        }
    } else {
        let feed_count = u32::try_from(ordered.len()).unwrap_or(u32::MAX);
        for feed in ordered {
            let wait = initial_wait(&ctx, &feed, feed_count).await?;
            due.insert(feed.key().to_string(), (Instant::now() + wait, feed));
        }
    }
    // Reloads only matter to a daemon, and only while its publisher exists.
    let mut reloads_open = !once;

    // The daemon prunes the state now and then; `--once` runs prune at start only.
    let mut prune_tick = tokio::time::interval_at(Instant::now() + PRUNE_EVERY, PRUNE_EVERY);
    loop {
        let next = due.values().map(|(at, _)| *at).min();
        tokio::select! {
            report = reports.recv() => match report {
                Some(report) => {
                    let wait = record_poll(&ctx, &report).await?;
                    if out.is_some() && !ctx.shutdown.is_cancelled() {
                        // Rescheduled as configured now: a reload may have changed or removed it.
                        match current.get(report.feed.key()) {
                            Some(feed) => {
                                due.insert(feed.key().to_string(), (Instant::now() + wait, Arc::clone(feed)));
                            }
                            None => tracing::info!(feed = %report.feed.url, "feed removed from the config: not polled again"),
                        }
                    }
                }
                None => return Ok(()),
            },
            changed = feed_list.changed(), if reloads_open && out.is_some() => {
                if changed.is_err() {
                    reloads_open = false;
                    continue;
                }
                let new_list: Vec<FeedSpec> = feed_list.borrow_and_update().clone();
                apply_reload(&ctx, &mut current, &mut due, new_list);
            },
            _ = ctx.shutdown.cancelled(), if out.is_some() => {
                tracing::info!("shutting down: no new polls, draining work in flight");
                out = None;
                due.clear();
            },
            _ = prune_tick.tick(), if out.is_some() => {
                super::prune(&ctx.state, &ctx.config).await?;
            },
            _ = sleep_until(next), if out.is_some() && next.is_some() => {
                let now = Instant::now();
                let ready: Vec<String> = due.iter().filter(|(_, (at, _))| *at <= now).map(|(k, _)| k.clone()).collect();
                for key in ready {
                    if let (Some((_, feed)), Some(sender)) = (due.remove(&key), out.as_ref())
                        && sender.send(feed).await.is_err()
                    {
                        return Ok(());
                    }
                }
            },
        }
    }
}

/// Applies a reloaded feed list to the schedule (see the module doc).
fn apply_reload(
    ctx: &Context,
    current: &mut HashMap<String, Arc<FeedSpec>>,
    due: &mut HashMap<String, (Instant, Arc<FeedSpec>)>,
    new_list: Vec<FeedSpec>,
) {
    let now = Instant::now();
    let mut next: HashMap<String, Arc<FeedSpec>> = HashMap::with_capacity(new_list.len());
    let (mut added, mut changed) = (0usize, 0usize);
    for feed in new_list {
        let key = feed.key().to_string();
        let feed = match current.get(&key) {
            Some(old) if **old == feed => Arc::clone(old),
            Some(_) => {
                changed += 1;
                let feed = Arc::new(feed);
                tracing::info!(feed = %feed.url, "feed changed by reload");
                if let Some((at, spec)) = due.get_mut(&key) {
                    *spec = Arc::clone(&feed);
                    let interval = feed.interval.unwrap_or(ctx.config.fetch.min_interval.0);
                    *at = (*at).min(now + interval);
                }
                feed
            }
            None => {
                added += 1;
                let feed = Arc::new(feed);
                tracing::info!(feed = %feed.url, "feed added by reload: polling it now");
                due.insert(key.clone(), (now, Arc::clone(&feed)));
                feed
            }
        };
        next.insert(key, feed);
    }
    let mut removed = 0usize;
    for key in current.keys() {
        if !next.contains_key(key) {
            removed += 1;
            due.remove(key);
            tracing::info!(feed = %key, "feed removed by reload");
        }
    }
    *current = next;
    ctx.retain_feed_hints(&current.keys().map(String::as_str).collect());
    ctx.stats.set_feeds(current.keys().map(String::as_str));
    metrics::gauge!(crate::metrics::FEEDS_CONFIGURED).set(current.len() as f64);
    tracing::info!(
        feeds = current.len(),
        added,
        removed,
        changed,
        "feed list reloaded"
    );
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Time until a feed's first poll in daemon mode: what the state says; a feed due now (new,
/// or overdue after a pause) waits a random part of [`start_spread`], so that many feeds do
/// not all fire in the first second.
async fn initial_wait(ctx: &Context, feed: &FeedSpec, feed_count: u32) -> anyhow::Result<Duration> {
    let state = ctx.state.feed_state(feed.key()).await?;
    let remaining = state
        .and_then(|s| s.next_due)
        .and_then(|due| (due - Utc::now()).to_std().ok())
        .unwrap_or_default();
    if !remaining.is_zero() {
        // Already spread by the jitter added when it was scheduled.
        return Ok(remaining);
    }
    let interval = feed.interval.unwrap_or(ctx.config.fetch.min_interval.0);
    Ok(jitter(start_spread(interval, feed_count)))
}

/// The window over which feeds due at start are spread: at most the feed's interval, at
/// most [`MAX_START_SPREAD`], and short when there are few feeds (one feed starts at once).
fn start_spread(interval: Duration, feed_count: u32) -> Duration {
    START_SPREAD_PER_FEED
        .saturating_mul(feed_count.saturating_sub(1))
        .min(MAX_START_SPREAD)
        .min(interval)
}

fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    Duration::from_millis(
        rand::rng().random_range(0..=max.as_millis().min(u64::MAX as u128) as u64),
    )
}

/// Writes the feed's state after a poll and returns the wait until its next poll.
async fn record_poll(ctx: &Context, report: &PollReport) -> anyhow::Result<Duration> {
    let fetch = &ctx.config.fetch;
    let mut state = ctx
        .state
        .feed_state(report.feed.key())
        .await?
        .unwrap_or_default();
    let wait = match &report.error {
        None => {
            if let Some(validators) = &report.validators {
                state.etag = validators.etag.clone();
                state.last_modified = validators.last_modified.clone();
            } else {
                // Some article must be retried: forget the validators so the next poll
                // downloads the feed again instead of getting a 304.
                state.etag = None;
                state.last_modified = None;
            }
            state.error_count = 0;
            state.last_error = None;
            state.last_success = Some(Utc::now());
            report.interval
        }
        Some(error) => {
            state.error_count = state.error_count.saturating_add(1);
            state.last_error = Some(error.clone());
            let backoff = newswire_fetcher::failure_backoff(
                state.error_count,
                report.interval,
                fetch.max_interval.0.max(report.interval),
            );
            failure_wait(backoff, report.retry_after)
        }
    };
    let wait = wait.saturating_add(jitter(wait / 20));
    state.next_due = chrono::Duration::from_std(wait)
        .ok()
        .map(|d| Utc::now() + d);
    ctx.state.save_feed_state(report.feed.key(), state).await?;
    Ok(wait)
}

/// The wait after a failed poll: the backoff, or longer when the server asked for it
/// (`Retry-After`, capped at [`MAX_RETRY_AFTER`]).
fn failure_wait(backoff: Duration, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(asked) => backoff.max(asked.min(MAX_RETRY_AFTER)),
        None => backoff,
    }
}

/// A feed's interval: as configured, else its own hint clamped to the bounds, else the
/// default.
pub fn poll_interval(ctx: &Context, feed: &FeedSpec, hint: Option<Duration>) -> Duration {
    let fetch = &ctx.config.fetch;
    newswire_fetcher::poll_interval(
        feed.interval,
        hint,
        fetch.min_interval.0,
        fetch.max_interval.0,
        fetch.default_interval.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_lengthens_the_backoff_up_to_a_day() {
        let minute = Duration::from_secs(60);
        assert_eq!(failure_wait(minute, None), minute);
        assert_eq!(
            failure_wait(minute, Some(Duration::from_secs(3600))),
            Duration::from_secs(3600)
        );
        assert_eq!(
            failure_wait(minute, Some(Duration::from_secs(5))),
            minute,
            "a short Retry-After does not shorten the backoff"
        );
        assert_eq!(
            failure_wait(minute, Some(Duration::from_secs(90 * 24 * 3600))),
            MAX_RETRY_AFTER
        );
    }

    #[test]
    fn start_spread_grows_with_the_feed_count_within_bounds() {
        let hour = Duration::from_secs(3600);
        assert_eq!(
            start_spread(hour, 1),
            Duration::ZERO,
            "one feed starts at once"
        );
        assert_eq!(start_spread(hour, 11), Duration::from_secs(10));
        assert_eq!(start_spread(hour, 10_000), MAX_START_SPREAD);
        assert_eq!(
            start_spread(Duration::from_secs(30), 10_000),
            Duration::from_secs(30),
            "never longer than the interval"
        );
    }
}
