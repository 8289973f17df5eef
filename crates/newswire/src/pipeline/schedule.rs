//! When is a feed next due: every timing rule of the pipeline, in one place.
//!
//! The fetcher only reports facts (the `Cache-Control`/`Expires` lifetime, the feed's own
//! `ttl`/`sy:*` hint, a failed poll's `Retry-After`); the rules that turn them into a wait
//! are all here:
//! - **interval**: a feed's configured `interval` is honoured as given; otherwise the longer
//!   of its header hint and its own hint, clamped to `[fetch.min_interval,
//!   fetch.max_interval]`; without a hint, `fetch.default_interval` (clamped too);
//! - **hint memory**: a `304 Not Modified` has no body, so the feed's own hint of its last
//!   download is remembered (per feed, forgotten when a download has none or the feed is
//!   removed by a reload);
//! - **failure backoff**: after `n` failures in a row, the feed's normal interval (without
//!   hints) doubled `n - 1` times, capped at `fetch.max_interval` (or the interval when it
//!   is longer); a server's `Retry-After` lengthens the wait, up to [`MAX_RETRY_AFTER`];
//! - **jitter**: every wait gets up to 5 % added at random, so feeds with one interval drift
//!   apart instead of firing together;
//! - **start-up spread**: a daemon's feeds due at start wait a random part of a window that
//!   grows with the feed count (one second per feed, at most [`MAX_START_SPREAD`] and at
//!   most the feed's interval);
//! - **reload**: a changed feed keeps its due time, brought forward when its new interval is
//!   shorter.
//!
//! The scheduler task owns the one [`Schedule`]; it holds no clock, so every rule is
//! tested without time passing.

use std::collections::HashMap;
use std::time::Duration;

use newswire_core::config::FetchConfig;
use rand::Rng;
use tokio::time::Instant;

use super::work::{FeedSpec, PollOutcome};

/// Longest wait a server's `Retry-After` can impose: beyond a day it is more likely a
/// misconfigured server than a plan, and the feed should be tried again.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// At a daemon's start, feeds due now are spread over at most this long (and at most
/// their interval), so that thousands of feeds do not all fire in the first second.
pub const MAX_START_SPREAD: Duration = Duration::from_secs(300);

/// Start spread per feed due now: one feed waits at most this, 300 feeds (or more) use the
/// whole [`MAX_START_SPREAD`], about one poll started per second.
const START_SPREAD_PER_FEED: Duration = Duration::from_secs(1);

/// Jitter added to every wait: up to one twentieth (5 %) of it.
const JITTER_DIVISOR: u32 = 20;

/// The timing rules plus what they remember between polls (see the module doc).
#[derive(Debug)]
pub struct Schedule {
    min: Duration,
    max: Duration,
    default: Duration,
    /// Each feed's own hint (`ttl`, `sy:*`) from its last download, by feed key. Bounded
    /// by the configured feeds: [`Schedule::retain`] forgets removed ones.
    feed_hints: HashMap<String, Duration>,
}

impl Schedule {
    pub fn new(fetch: &FetchConfig) -> Self {
        Schedule {
            min: fetch.min_interval.0,
            max: fetch.max_interval.0,
            default: fetch.default_interval.0,
            feed_hints: HashMap::new(),
        }
    }

    /// The wait until `feed`'s next poll after a poll that ended in `outcome`, jitter
    /// included. `consecutive_errors` counts failures in a row, this one included.
    pub fn next_wait(
        &mut self,
        feed: &FeedSpec,
        outcome: &PollOutcome,
        consecutive_errors: u32,
    ) -> Duration {
        with_jitter(self.wait_without_jitter(feed, outcome, consecutive_errors))
    }

    fn wait_without_jitter(
        &mut self,
        feed: &FeedSpec,
        outcome: &PollOutcome,
        consecutive_errors: u32,
    ) -> Duration {
        match outcome {
            PollOutcome::Fetched {
                header_hint,
                feed_hint,
            } => {
                self.remember(feed.key(), *feed_hint);
                self.interval(feed, longer(*header_hint, *feed_hint))
            }
            PollOutcome::NotModified { header_hint } => {
                let remembered = self.feed_hints.get(feed.key()).copied();
                self.interval(feed, longer(*header_hint, remembered))
            }
            PollOutcome::Failed { retry_after, .. } => {
                let base = self.interval(feed, None);
                let backoff = failure_backoff(consecutive_errors, base, self.max.max(base));
                failure_wait(backoff, *retry_after)
            }
        }
    }

    /// The wait before a daemon's first poll of `feed`: what is left of the wait the
    /// state remembers, else (a new feed, or one overdue after a pause) a random part of
    /// the start-up spread for `feed_count` feeds.
    pub fn first_wait(
        &self,
        feed: &FeedSpec,
        remaining: Option<Duration>,
        feed_count: u32,
    ) -> Duration {
        match remaining.filter(|r| !r.is_zero()) {
            // Already spread by the jitter added when it was scheduled.
            Some(remaining) => remaining,
            None => jitter(start_spread(self.reload_interval(feed), feed_count)),
        }
    }

    /// The due time of a feed changed by a reload: kept, or brought forward to one
    /// interval from `now` when that is sooner.
    pub fn due_after_reload(&self, feed: &FeedSpec, due: Instant, now: Instant) -> Instant {
        due.min(now + self.reload_interval(feed))
    }

    /// Forgets the hints of feeds no longer configured (after a reload).
    pub fn retain(&mut self, is_configured: impl Fn(&str) -> bool) {
        self.feed_hints.retain(|feed, _| is_configured(feed));
    }

    /// A feed's interval: as configured, else `hint` clamped to the bounds, else the
    /// default (clamped).
    fn interval(&self, feed: &FeedSpec, hint: Option<Duration>) -> Duration {
        if let Some(configured) = feed.interval {
            return configured;
        }
        let max = self.max.max(self.min);
        hint.unwrap_or(self.default).clamp(self.min, max)
    }

    /// The interval used before any poll: as configured, else the shortest allowed.
    fn reload_interval(&self, feed: &FeedSpec) -> Duration {
        feed.interval.unwrap_or(self.min)
    }

    fn remember(&mut self, feed: &str, hint: Option<Duration>) {
        match hint {
            Some(hint) => {
                self.feed_hints.insert(feed.to_string(), hint);
            }
            None => {
                self.feed_hints.remove(feed);
            }
        }
    }
}

/// The longer of two hints: a feed that asks to be polled less often in one place is
/// taken at its word.
fn longer(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The wait after `consecutive_errors` failures in a row: `base` doubled per error after
/// the first, capped at `max`.
fn failure_backoff(consecutive_errors: u32, base: Duration, max: Duration) -> Duration {
    if consecutive_errors == 0 {
        return base.min(max);
    }
    let factor = 2u32.saturating_pow(consecutive_errors.saturating_sub(1).min(31));
    base.saturating_mul(factor).min(max)
}

/// The wait after a failed poll: the backoff, or longer when the server asked for it
/// (`Retry-After`, capped at [`MAX_RETRY_AFTER`]).
fn failure_wait(backoff: Duration, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(asked) => backoff.max(asked.min(MAX_RETRY_AFTER)),
        None => backoff,
    }
}

/// The window over which feeds due at start are spread: at most the feed's interval, at
/// most [`MAX_START_SPREAD`], and short when there are few feeds (one feed starts at once).
fn start_spread(interval: Duration, feed_count: u32) -> Duration {
    START_SPREAD_PER_FEED
        .saturating_mul(feed_count.saturating_sub(1))
        .min(MAX_START_SPREAD)
        .min(interval)
}

/// `wait` plus up to 5 % of it.
fn with_jitter(wait: Duration) -> Duration {
    wait.saturating_add(jitter(wait / JITTER_DIVISOR))
}

/// A random duration in `[0, max]`, at millisecond resolution.
fn jitter(max: Duration) -> Duration {
    let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    if max_ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::rng().random_range(0..=max_ms))
}

#[cfg(test)]
mod tests {
    use newswire_core::config::HumanDuration;

    use super::*;

    const MIN: Duration = Duration::from_secs(300);
    const MAX: Duration = Duration::from_secs(6 * 3600);
    const DEFAULT: Duration = Duration::from_secs(1800);
    const HOUR: Duration = Duration::from_secs(3600);

    fn schedule() -> Schedule {
        Schedule::new(&FetchConfig {
            min_interval: HumanDuration(MIN),
            max_interval: HumanDuration(MAX),
            default_interval: HumanDuration(DEFAULT),
            ..FetchConfig::default()
        })
    }

    fn feed(url: &str, interval: Option<Duration>) -> FeedSpec {
        FeedSpec {
            url: url::Url::parse(url).unwrap(),
            name: None,
            interval,
            tags: Vec::new(),
            respect_robots_txt: true,
        }
    }

    fn fetched(header_hint: Option<Duration>, feed_hint: Option<Duration>) -> PollOutcome {
        PollOutcome::Fetched {
            header_hint,
            feed_hint,
        }
    }

    fn not_modified(header_hint: Option<Duration>) -> PollOutcome {
        PollOutcome::NotModified { header_hint }
    }

    fn failed(retry_after: Option<Duration>) -> PollOutcome {
        PollOutcome::Failed {
            error: "HTTP 503".into(),
            retry_after,
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_configured_interval_is_honoured_as_given() {
        let mut s = schedule();
        let every_minute = feed("https://a.example/rss", Some(secs(60)));
        let outcome = fetched(Some(MAX), Some(MAX));
        assert_eq!(s.wait_without_jitter(&every_minute, &outcome, 0), secs(60));
    }

    #[test]
    fn hints_are_clamped_to_the_bounds_and_the_default_applies_without_one() {
        let mut s = schedule();
        let f = feed("https://a.example/rss", None);
        let mut wait = |outcome| s.wait_without_jitter(&f, &outcome, 0);
        assert_eq!(wait(fetched(Some(secs(10)), None)), MIN);
        assert_eq!(wait(fetched(None, Some(secs(86_400)))), MAX);
        assert_eq!(wait(fetched(Some(HOUR), None)), HOUR);
        assert_eq!(wait(fetched(None, None)), DEFAULT);
    }

    #[test]
    fn the_longer_of_header_and_feed_hint_wins() {
        let mut s = schedule();
        let f = feed("https://a.example/rss", None);
        assert_eq!(
            s.wait_without_jitter(&f, &fetched(Some(secs(900)), Some(HOUR)), 0),
            HOUR
        );
        assert_eq!(
            s.wait_without_jitter(&f, &fetched(Some(HOUR * 2), Some(HOUR)), 0),
            HOUR * 2
        );
    }

    #[test]
    fn a_304_uses_the_feed_hint_of_the_last_download() {
        let mut s = schedule();
        let a = feed("https://a.example/rss", None);
        let b = feed("https://b.example/rss", None);
        s.wait_without_jitter(&a, &fetched(None, Some(HOUR * 2)), 0);
        assert_eq!(s.wait_without_jitter(&a, &not_modified(None), 0), HOUR * 2);
        assert_eq!(
            s.wait_without_jitter(&a, &not_modified(Some(HOUR * 3)), 0),
            HOUR * 3,
            "combined with the 304's header hint: the longer"
        );
        assert_eq!(
            s.wait_without_jitter(&b, &not_modified(None), 0),
            DEFAULT,
            "hints are per feed"
        );
        // A download without a hint forgets it.
        s.wait_without_jitter(&a, &fetched(None, None), 0);
        assert_eq!(s.wait_without_jitter(&a, &not_modified(None), 0), DEFAULT);
    }

    #[test]
    fn a_reload_forgets_the_hints_of_removed_feeds() {
        let mut s = schedule();
        let a = feed("https://a.example/rss", None);
        s.wait_without_jitter(&a, &fetched(None, Some(HOUR)), 0);
        s.retain(|key| key == "https://b.example/rss");
        assert_eq!(s.wait_without_jitter(&a, &not_modified(None), 0), DEFAULT);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_maximum() {
        let mut s = schedule();
        let f = feed("https://a.example/rss", None);
        // Hints do not shorten or lengthen the backoff: it starts at the normal interval.
        s.wait_without_jitter(&f, &fetched(None, Some(HOUR * 5)), 0);
        let mut after = |errors| s.wait_without_jitter(&f, &failed(None), errors);
        assert_eq!(after(1), DEFAULT);
        assert_eq!(after(2), DEFAULT * 2);
        assert_eq!(after(4), DEFAULT * 8);
        assert_eq!(after(30), MAX);
        assert_eq!(after(u32::MAX), MAX);
        assert_eq!(failure_backoff(0, secs(60), MAX), secs(60));
    }

    #[test]
    fn a_configured_interval_longer_than_the_maximum_caps_its_own_backoff() {
        let mut s = schedule();
        let daily = feed("https://a.example/rss", Some(HOUR * 24));
        assert_eq!(
            s.wait_without_jitter(&daily, &failed(None), 3),
            HOUR * 24,
            "never shorter than the feed's own interval"
        );
    }

    #[test]
    fn retry_after_lengthens_the_backoff_up_to_a_day() {
        let minute = secs(60);
        assert_eq!(failure_wait(minute, None), minute);
        assert_eq!(failure_wait(minute, Some(HOUR)), HOUR);
        assert_eq!(
            failure_wait(minute, Some(secs(5))),
            minute,
            "a short Retry-After does not shorten the backoff"
        );
        assert_eq!(
            failure_wait(minute, Some(secs(90 * 24 * 3600))),
            MAX_RETRY_AFTER
        );
        let mut s = schedule();
        let f = feed("https://a.example/rss", None);
        assert_eq!(
            s.wait_without_jitter(&f, &failed(Some(HOUR * 48)), 1),
            MAX_RETRY_AFTER
        );
    }

    #[test]
    fn jitter_adds_at_most_five_percent() {
        let mut s = schedule();
        let f = feed("https://a.example/rss", Some(secs(1000)));
        for _ in 0..200 {
            let wait = s.next_wait(&f, &fetched(None, None), 0);
            assert!(wait >= secs(1000) && wait <= secs(1050), "{wait:?}");
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
        for _ in 0..200 {
            assert!(jitter(secs(3)) <= secs(3));
        }
    }

    #[test]
    fn start_spread_grows_with_the_feed_count_within_bounds() {
        assert_eq!(
            start_spread(HOUR, 1),
            Duration::ZERO,
            "one feed starts at once"
        );
        assert_eq!(start_spread(HOUR, 11), secs(10));
        assert_eq!(start_spread(HOUR, 10_000), MAX_START_SPREAD);
        assert_eq!(
            start_spread(secs(30), 10_000),
            secs(30),
            "never longer than the interval"
        );
    }

    #[test]
    fn the_first_wait_keeps_the_remembered_due_time_else_spreads() {
        let s = schedule();
        let f = feed("https://a.example/rss", None);
        assert_eq!(s.first_wait(&f, Some(secs(42)), 10_000), secs(42));
        assert_eq!(s.first_wait(&f, None, 1), Duration::ZERO);
        for _ in 0..100 {
            let wait = s.first_wait(&f, Some(Duration::ZERO), 10_000);
            assert!(wait <= MAX_START_SPREAD, "{wait:?}");
        }
        let quick = feed("https://b.example/rss", Some(secs(20)));
        for _ in 0..100 {
            assert!(s.first_wait(&quick, None, 10_000) <= secs(20));
        }
    }

    #[test]
    fn a_reload_brings_a_due_time_forward_only() {
        let s = schedule();
        let now = Instant::now();
        let far = now + HOUR * 5;
        let soon = now + secs(10);
        let quick = feed("https://a.example/rss", Some(secs(60)));
        assert_eq!(s.due_after_reload(&quick, far, now), now + secs(60));
        assert_eq!(s.due_after_reload(&quick, soon, now), soon);
        let hinted = feed("https://a.example/rss", None);
        assert_eq!(s.due_after_reload(&hinted, far, now), now + MIN);
    }
}
