//! Politeness: how many requests go to one host at once, how far apart they start, and
//! what robots.txt allows.
//!
//! Each host gets a slot with its own semaphore and a "next start" ticket: a request takes
//! a permit, then the next free start time, then sleeps until it. This is hand-written
//! rather than governor's keyed limiter because the delay of one host can change at run
//! time (robots.txt `Crawl-delay`) and the slot is needed for the semaphore anyway. Idle
//! slots are pruned so that months of article links to new hosts do not grow the map.
//!
//! robots.txt is fetched once per origin and cached with its own expiry (`robots_ttl`);
//! concurrent pages of one origin wait for the single fetch. Following RFC 9309, a 4xx
//! means "everything allowed" and a 5xx or network error "nothing allowed" (for a short
//! time, then it is fetched again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Slots kept before idle ones are pruned.
const PRUNE_ABOVE: usize = 4096;
/// Upper bound for a robots.txt `Crawl-delay`, so one site cannot stall a feed for hours.
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);

struct HostSlot {
    permits: Arc<Semaphore>,
    schedule: Mutex<HostSchedule>,
}

struct HostSchedule {
    next_start: Instant,
    min_delay: Duration,
}

/// Per-host concurrency and spacing.
pub struct HostLimits {
    per_host: usize,
    min_delay: Duration,
    slots: Mutex<HashMap<String, Arc<HostSlot>>>,
}

/// Held while a request to a host is in flight.
pub struct HostPermit {
    _permit: OwnedSemaphorePermit,
}

impl HostLimits {
    pub fn new(per_host: usize, min_delay: Duration) -> HostLimits {
        HostLimits {
            per_host: per_host.max(1),
            min_delay,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, host: &str) -> Arc<HostSlot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() > PRUNE_ABOVE {
            let now = Instant::now();
            let per_host = self.per_host;
            slots.retain(|_, slot| {
                let idle = slot.permits.available_permits() == per_host
                    && Arc::strong_count(&slot.permits) == 1;
                let schedule = slot.schedule.lock().unwrap_or_else(|e| e.into_inner());
                !(idle && schedule.next_start <= now)
            });
        }
        slots
            .entry(host.to_string())
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    permits: Arc::new(Semaphore::new(self.per_host)),
                    schedule: Mutex::new(HostSchedule {
                        next_start: Instant::now(),
                        min_delay: self.min_delay,
                    }),
                })
            })
            .clone()
    }

    /// Waits for a free request slot for `host` and for the host's minimum delay.
    pub async fn acquire(&self, host: &str) -> HostPermit {
        let slot = self.slot(host);
        let permit = match slot.permits.clone().acquire_owned().await {
            Ok(permit) => permit,
            // The semaphore is never closed; a fresh one keeps the request going.
            Err(_) => Arc::new(Semaphore::new(1))
                .acquire_owned()
                .await
                .unwrap_or_else(|_| unreachable!("a fresh semaphore is open")),
        };
        let start = {
            let mut schedule = slot.schedule.lock().unwrap_or_else(|e| e.into_inner());
            let start = schedule.next_start.max(Instant::now());
            schedule.next_start = start.checked_add(schedule.min_delay).unwrap_or(start);
            start
        };
        tokio::time::sleep_until(start).await;
        HostPermit { _permit: permit }
    }

    /// Raises a host's minimum delay (robots.txt `Crawl-delay`), never above
    /// [`MAX_CRAWL_DELAY`] and never below the configured delay.
    pub fn set_crawl_delay(&self, host: &str, delay: Duration) {
        let slot = self.slot(host);
        let mut schedule = slot.schedule.lock().unwrap_or_else(|e| e.into_inner());
        schedule.min_delay = delay.min(MAX_CRAWL_DELAY).max(self.min_delay);
    }
}

/// What robots.txt says for one origin.
pub enum RobotsRules {
    AllowAll,
    DisallowAll,
    Parsed(Box<texting_robots::Robot>),
}

impl RobotsRules {
    pub fn allows(&self, url: &str) -> bool {
        match self {
            RobotsRules::AllowAll => true,
            RobotsRules::DisallowAll => false,
            RobotsRules::Parsed(robot) => robot.allowed(url),
        }
    }

    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            RobotsRules::Parsed(robot) => robot
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f32(d.min(MAX_CRAWL_DELAY.as_secs_f32()))),
            _ => None,
        }
    }
}

struct RobotsEntry {
    rules: Arc<RobotsRules>,
    expires: Instant,
}

/// robots.txt rules per origin, each with its own expiry.
#[derive(Default)]
pub struct RobotsCache {
    origins: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<RobotsEntry>>>>>,
}

impl RobotsCache {
    /// The rules for `origin`, fetching them with `fetch` when missing or expired. `fetch`
    /// returns the rules and how long to trust them.
    pub async fn rules<F, Fut>(&self, origin: &str, fetch: F) -> Arc<RobotsRules>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = (RobotsRules, Duration)>,
    {
        let cell = {
            let mut origins = self.origins.lock().unwrap_or_else(|e| e.into_inner());
            if origins.len() > PRUNE_ABOVE {
                // Drop entries nobody is using; expired ones would be refetched anyway.
                origins.retain(|_, cell| Arc::strong_count(cell) > 1);
            }
            origins.entry(origin.to_string()).or_default().clone()
        };
        let mut entry = cell.lock().await;
        if let Some(cached) = entry.as_ref()
            && cached.expires > Instant::now()
        {
            return cached.rules.clone();
        }
        let (rules, ttl) = fetch().await;
        let rules = Arc::new(rules);
        *entry = Some(RobotsEntry {
            rules: rules.clone(),
            // A configured TTL too large for the clock means "until restart".
            expires: Instant::now()
                .checked_add(ttl)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86_400)),
        });
        rules
    }
}

/// The robots.txt product token of a User-Agent: `newswire/0.1 (+https://…)` gives
/// `newswire`.
pub fn robots_agent(user_agent: &str) -> &str {
    user_agent
        .split(|c: char| c == '/' || c.is_whitespace())
        .find(|t| !t.is_empty())
        .unwrap_or("newswire")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_rules_follow_the_file() {
        let robot = texting_robots::Robot::new(
            "newswire",
            b"User-agent: *\nDisallow: /private/\n\nUser-agent: newswire\nCrawl-delay: 2\nDisallow: /no-bots/\n",
        )
        .unwrap();
        let rules = RobotsRules::Parsed(Box::new(robot));
        assert!(rules.allows("https://a.example/news/1"));
        assert!(!rules.allows("https://a.example/no-bots/1"));
        assert_eq!(rules.crawl_delay(), Some(Duration::from_secs(2)));
        assert!(RobotsRules::AllowAll.allows("https://a.example/x"));
        assert!(!RobotsRules::DisallowAll.allows("https://a.example/x"));
    }

    #[test]
    fn agent_token_from_user_agent() {
        assert_eq!(
            robots_agent("newswire/0.1 (+https://example.org/bot)"),
            "newswire"
        );
        assert_eq!(robots_agent("MyBot"), "MyBot");
        assert_eq!(robots_agent(""), "newswire");
    }

    #[tokio::test]
    async fn robots_are_fetched_once_per_origin_until_expiry() {
        let cache = RobotsCache::default();
        let fetches = std::sync::atomic::AtomicUsize::new(0);
        for _ in 0..3 {
            let rules = cache
                .rules("https://a.example", || async {
                    fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    (RobotsRules::DisallowAll, Duration::from_secs(3600))
                })
                .await;
            assert!(!rules.allows("https://a.example/"));
        }
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn expired_robots_are_fetched_again() {
        let cache = RobotsCache::default();
        let fetches = std::sync::atomic::AtomicUsize::new(0);
        for _ in 0..2 {
            let rules = cache
                .rules("https://b.example", || async {
                    fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    (RobotsRules::AllowAll, Duration::ZERO)
                })
                .await;
            assert!(rules.allows("https://b.example/"));
        }
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
