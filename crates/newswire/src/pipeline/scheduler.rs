//! The scheduler: sends each feed when it is due, and records how each poll ended.
//!
//! `--once` sends every feed once. The daemon keeps a due time per feed (from the state,
//! so restarts keep the schedule), sends feeds as they fall due, and reschedules each one
//! when its poll report arrives, by the wait [`Schedule`] gives (every timing rule lives
//! there). Poll reports are also where feed state (validators, error counts, next due
//! time) is written, after the poll's articles are delivered.
//!
//! The daemon's feed list is a `watch` channel: a reload (SIGHUP) publishes a new list and
//! the scheduler applies the difference. Added feeds are polled at once, removed feeds are
//! dropped from the schedule (a poll in flight finishes, but is not rescheduled), changed
//! feeds keep their due time, brought forward when the new interval is shorter.
//!
//! In cluster mode a [`PollGate`] has the last word at the moment a due feed gets room in
//! the feed stage's queue, and hears when its poll is over, so that a shard changes hands
//! only between polls.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc::error::SendError;
use tokio::sync::mpsc::{OwnedPermit, Receiver, Sender};
use tokio::sync::watch;
use tokio::time::Instant;

use super::context::Context;
use super::schedule::Schedule;
use super::work::{FeedSpec, PollOutcome, PollReport};

/// How often a daemon prunes its state.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// A due feed the gate refused is asked about again after this long (its shard may come
/// back before the feed list says it left).
const GATE_RETRY: Duration = Duration::from_secs(1);

/// Whether this process may poll a feed now (cluster mode: its shard is held), and when a
/// poll it allowed is over (its report recorded, articles committed), so that the shard's
/// lease is released only between polls (`newswire_cluster::ShardGate`).
pub trait PollGate: Send + Sync {
    /// True lets the poll of `feed_key` start (and counts it in flight).
    fn begin(&self, feed_key: &str) -> bool;
    /// The poll of `feed_key` that `begin` allowed is over.
    fn end(&self, feed_key: &str);
}

/// Runs until every report is in (`--once`) or until shutdown and then every report is in.
pub async fn run(
    ctx: Arc<Context>,
    mut feed_list: watch::Receiver<Vec<FeedSpec>>,
    once: bool,
    out: Sender<Arc<FeedSpec>>,
    mut reports: Receiver<PollReport>,
    gate: Option<Arc<dyn PollGate>>,
) -> anyhow::Result<()> {
    let allowed = |feed: &FeedSpec| gate.as_ref().is_none_or(|g| g.begin(feed.key()));
    let mut out = Some(out);
    let mut schedule = Schedule::new(&ctx.config.fetch);
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
    // Feeds due now, waiting for room in the feed stage's queue. They are sent from the
    // loop below, one per free slot, so that the scheduler reads poll reports while it
    // waits for room: the feed stage holds a report slot per poll in flight, and a
    // scheduler blocked on a send would never free them.
    let mut ready = ReadyQueue::default();
    if once {
        for feed in &ordered {
            ready.push(feed.key());
        }
    } else {
        let feed_count = u32::try_from(ordered.len()).unwrap_or(u32::MAX);
        for feed in ordered {
            let wait = initial_wait(&ctx, &schedule, &feed, feed_count).await?;
            due.insert(feed.key().to_string(), (Instant::now() + wait, feed));
        }
    }
    // Reloads only matter to a daemon, and only while its publisher exists.
    let mut reloads_open = !once;

    // The daemon prunes the state now and then; `--once` runs prune at start only.
    let mut prune_tick = tokio::time::interval_at(Instant::now() + PRUNE_EVERY, PRUNE_EVERY);
    loop {
        if once && ready.is_empty() {
            // The pass is sent: closing the queue lets the stages drain and end.
            out = None;
        }
        let next = due.values().map(|(at, _)| *at).min();
        tokio::select! {
            report = reports.recv() => match report {
                Some(report) => {
                    let recorded = record_poll(&ctx, &mut schedule, &report).await;
                    if let Some(gate) = &gate {
                        gate.end(report.feed.key());
                    }
                    let wait = recorded?;
                    if !once && out.is_some() && !ctx.shutdown.is_cancelled() {
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
            permit = reserve(out.as_ref().filter(|_| !ready.is_empty()).cloned()), if !ready.is_empty() => {
                let Ok(permit) = permit else { return Ok(()) };
                if ctx.shutdown.is_cancelled() {
                    // The shutdown branch empties the queue; no poll starts now.
                    continue;
                }
                let Some(key) = ready.pop() else { continue };
                // As configured now: a reload may have changed or removed it since it fell
                // due, or removed and added it again (then it is due anew, not twice).
                let Some(feed) = current.get(&key) else { continue };
                if due.contains_key(&key) {
                    continue;
                }
                if allowed(feed) {
                    permit.send(Arc::clone(feed));
                } else if !once {
                    due.insert(key, (Instant::now() + GATE_RETRY, Arc::clone(feed)));
                }
            },
            changed = feed_list.changed(), if reloads_open && out.is_some() => {
                if changed.is_err() {
                    reloads_open = false;
                    continue;
                }
                let new_list: Vec<FeedSpec> = feed_list.borrow_and_update().clone();
                apply_reload(&ctx, &mut schedule, &mut current, &mut due, new_list);
            },
            _ = ctx.shutdown.cancelled(), if out.is_some() => {
                if once && !ready.is_empty() {
                    tracing::info!("shutting down: the remaining feeds of this pass are not polled");
                } else {
                    tracing::info!("shutting down: no new polls, draining work in flight");
                }
                out = None;
                due.clear();
                ready.clear();
            },
            _ = prune_tick.tick(), if !once && out.is_some() => {
                super::prune(&ctx.state, &ctx.config).await?;
            },
            _ = sleep_until(next), if out.is_some() && next.is_some() => {
                let now = Instant::now();
                let fallen_due: Vec<String> = due.iter().filter(|(_, (at, _))| *at <= now).map(|(k, _)| k.clone()).collect();
                for key in fallen_due {
                    due.remove(&key);
                    ready.push(&key);
                }
            },
        }
    }
}

/// Due feeds in the order they fell due, each at most once (a feed removed and added back
/// by reloads while it waits falls due again, and must not be polled twice).
#[derive(Default)]
struct ReadyQueue {
    order: VecDeque<String>,
    queued: HashSet<String>,
}

impl ReadyQueue {
    fn push(&mut self, key: &str) {
        if self.queued.insert(key.to_string()) {
            self.order.push_back(key.to_string());
        }
    }

    fn pop(&mut self) -> Option<String> {
        let key = self.order.pop_front()?;
        self.queued.remove(&key);
        Some(key)
    }

    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn clear(&mut self) {
        self.order.clear();
        self.queued.clear();
    }
}

/// Room for one feed in the feed stage's queue; never ready once the queue is closed
/// (`out` is `None`).
async fn reserve(
    out: Option<Sender<Arc<FeedSpec>>>,
) -> Result<OwnedPermit<Arc<FeedSpec>>, SendError<()>> {
    match out {
        Some(sender) => sender.reserve_owned().await,
        None => std::future::pending().await,
    }
}

/// Applies a reloaded feed list to the schedule (see the module doc).
fn apply_reload(
    ctx: &Context,
    schedule: &mut Schedule,
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
                    *at = schedule.due_after_reload(&feed, *at, now);
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
    schedule.retain(|key| current.contains_key(key));
    ctx.stats
        .feeds_configured(current.keys().map(String::as_str));
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

/// Time until a feed's first poll in daemon mode: the due time the state remembers, else
/// a share of the start-up spread (see [`Schedule::first_wait`]).
async fn initial_wait(
    ctx: &Context,
    schedule: &Schedule,
    feed: &FeedSpec,
    feed_count: u32,
) -> anyhow::Result<Duration> {
    let state = ctx.state.feed_state(feed.key()).await?;
    let remaining = state
        .and_then(|s| s.next_due)
        .and_then(|due| (due - Utc::now()).to_std().ok());
    Ok(schedule.first_wait(feed, remaining, feed_count))
}

/// Writes the feed's state after a poll and returns the wait until its next poll.
async fn record_poll(
    ctx: &Context,
    schedule: &mut Schedule,
    report: &PollReport,
) -> anyhow::Result<Duration> {
    let mut state = ctx
        .state
        .feed_state(report.feed.key())
        .await?
        .unwrap_or_default();
    match &report.outcome {
        PollOutcome::Failed { error, .. } => {
            state.error_count = state.error_count.saturating_add(1);
            state.last_error = Some(error.clone());
        }
        PollOutcome::Fetched { .. } | PollOutcome::NotModified { .. } => {
            // Without validators (some article must be retried) the next poll downloads
            // the feed again instead of getting a 304.
            let validators = report.validators.clone().unwrap_or_default();
            state.etag = validators.etag;
            state.last_modified = validators.last_modified;
            state.error_count = 0;
            state.last_error = None;
            state.last_success = Some(Utc::now());
        }
    }
    let wait = schedule.next_wait(&report.feed, &report.outcome, state.error_count);
    state.next_due = chrono::Duration::from_std(wait)
        .ok()
        .map(|d| Utc::now() + d);
    ctx.state.save_feed_state(report.feed.key(), state).await?;
    Ok(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_waits_to_be_sent_at_most_once() {
        // A feed removed and added back by reloads while it waits falls due a second time.
        let mut ready = ReadyQueue::default();
        for key in ["a", "b", "a", "c", "b"] {
            ready.push(key);
        }
        let sent: Vec<String> = std::iter::from_fn(|| ready.pop()).collect();
        assert_eq!(sent, ["a", "b", "c"]);
        assert!(ready.is_empty());
        // Once sent, it can fall due again.
        ready.push("a");
        assert_eq!(ready.pop().as_deref(), Some("a"));
    }
}
