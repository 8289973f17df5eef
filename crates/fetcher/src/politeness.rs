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
//!
//! Both maps are pruned only when a new key arrives and the map has doubled since its last
//! prune ([`PruneSchedule`]): a pass over every host costs as much as the hosts it
//! follows, so its cost per request stays constant at 10,000 hosts and more, however many
//! of them are busy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Entries of either map before the first prune.
const PRUNE_ABOVE: usize = 4096;
/// Origins whose robots.txt rules are kept; beyond it the rules that expire soonest (those
/// fetched longest ago) go first, before their expiry.
const MAX_ROBOTS_ORIGINS: usize = 16_384;
/// robots.txt bytes whose rules are kept, counted as the files' sizes (the parsed rules
/// take about as much): typical files are a few KB, but a site can serve 512 KiB, and
/// 16,384 of those would be 8 GB. Beyond it, the soonest-expiring go first as above.
const MAX_ROBOTS_BYTES: usize = 64 << 20;
/// robots.txt files larger than this are not parsed: a site whose file cannot be read in
/// full is taken as disallowing everything for a while (Google reads 500 KiB).
pub const ROBOTS_MAX_BYTES: u64 = 512 * 1024;
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

/// When a map that only prunes on insertion is pruned next: at twice the entries it kept
/// the last time (at least [`PRUNE_ABOVE`]).
struct PruneSchedule {
    at: usize,
    /// Prunes so far (what the tests check the amortisation by).
    passes: usize,
}

impl PruneSchedule {
    fn new() -> Self {
        PruneSchedule {
            at: PRUNE_ABOVE,
            passes: 0,
        }
    }

    fn due(&self, len: usize) -> bool {
        len >= self.at
    }

    fn pruned(&mut self, kept: usize, most: usize) {
        self.passes += 1;
        self.at = kept
            .saturating_mul(2)
            .clamp(PRUNE_ABOVE, most.max(PRUNE_ABOVE));
    }
}

/// Per-host concurrency and spacing.
pub struct HostLimits {
    per_host: usize,
    min_delay: Duration,
    slots: Mutex<HostSlots>,
}

struct HostSlots {
    by_host: HashMap<String, Arc<HostSlot>>,
    prune: PruneSchedule,
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
            slots: Mutex::new(HostSlots {
                by_host: HashMap::new(),
                prune: PruneSchedule::new(),
            }),
        }
    }

    fn slot(&self, host: &str) -> Arc<HostSlot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.by_host.get(host) {
            return Arc::clone(slot);
        }
        if slots.prune.due(slots.by_host.len()) {
            let now = Instant::now();
            let per_host = self.per_host;
            slots.by_host.retain(|_, slot| {
                let idle = slot.permits.available_permits() == per_host
                    && Arc::strong_count(&slot.permits) == 1;
                let schedule = slot.schedule.lock().unwrap_or_else(|e| e.into_inner());
                !(idle && schedule.next_start <= now)
            });
            // Busy slots are never dropped, so the map has no upper bound of its own: it
            // is bounded by the requests in flight and the hosts within their delay.
            let kept = slots.by_host.len();
            slots.prune.pruned(kept, usize::MAX);
        }
        let slot = Arc::new(HostSlot {
            permits: Arc::new(Semaphore::new(self.per_host)),
            schedule: Mutex::new(HostSchedule {
                next_start: Instant::now(),
                min_delay: self.min_delay,
            }),
        });
        slots.by_host.insert(host.to_string(), Arc::clone(&slot));
        slot
    }

    /// Hosts with a slot, and the prunes so far.
    #[cfg(test)]
    fn tracked(&self) -> (usize, usize) {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        (slots.by_host.len(), slots.prune.passes)
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
    Parsed {
        robot: Box<texting_robots::Robot>,
        /// The file's size, what the cache counts it as.
        bytes: usize,
    },
}

impl RobotsRules {
    /// The rules of a robots.txt body (at most [`ROBOTS_MAX_BYTES`]) for the robots.txt
    /// product token `agent`; a body that does not parse allows everything, as RFC 9309
    /// reads an unparseable file.
    pub fn from_body(agent: &str, body: &[u8]) -> RobotsRules {
        match texting_robots::Robot::new(agent, body) {
            Ok(mut robot) => {
                // Never read, and a file can list thousands.
                robot.sitemaps = Vec::new();
                RobotsRules::Parsed {
                    robot: Box::new(robot),
                    bytes: body.len(),
                }
            }
            Err(_) => RobotsRules::AllowAll,
        }
    }

    /// What the cache counts these rules as: the file's size.
    fn bytes(&self) -> usize {
        match self {
            RobotsRules::Parsed { bytes, .. } => *bytes,
            _ => 0,
        }
    }

    pub fn allows(&self, url: &str) -> bool {
        match self {
            RobotsRules::AllowAll => true,
            RobotsRules::DisallowAll => false,
            RobotsRules::Parsed { robot, .. } => robot.allowed(url),
        }
    }

    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            RobotsRules::Parsed { robot, .. } => robot
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

impl RobotsEntry {
    fn bytes(&self) -> usize {
        self.rules.bytes()
    }
}

/// One origin's rules; locked while they are fetched, so that one fetch serves them all.
type RobotsCell = Arc<tokio::sync::Mutex<Option<RobotsEntry>>>;

/// robots.txt rules per origin, each with its own expiry; at most [`MAX_ROBOTS_ORIGINS`]
/// origins and [`MAX_ROBOTS_BYTES`] of files (give or take one file) besides those being
/// fetched or read right now.
pub struct RobotsCache {
    origins: Mutex<RobotsOrigins>,
    /// The sizes of the files whose rules are held ([`MAX_ROBOTS_BYTES`]).
    bytes: AtomicUsize,
}

struct RobotsOrigins {
    cells: HashMap<String, RobotsCell>,
    prune: PruneSchedule,
}

impl Default for RobotsCache {
    fn default() -> Self {
        RobotsCache {
            origins: Mutex::new(RobotsOrigins {
                cells: HashMap::new(),
                prune: PruneSchedule::new(),
            }),
            bytes: AtomicUsize::new(0),
        }
    }
}

impl RobotsOrigins {
    /// Drops the origins nobody is using whose rules expired, then, above either cap, those
    /// that expire soonest, down to three quarters of the caps; `bytes` is the cache's
    /// count of file sizes, lowered by what is dropped.
    fn prune(&mut self, bytes: &AtomicUsize) {
        let now = Instant::now();
        // `None`: in use (being fetched or read), kept. `Some(None)`: no rules yet.
        let expiry = |cell: &RobotsCell| -> Option<Option<(Instant, usize)>> {
            if Arc::strong_count(cell) > 1 {
                return None;
            }
            cell.try_lock()
                .ok()
                .map(|entry| entry.as_ref().map(|e| (e.expires, e.bytes())))
        };
        let mut dropped = 0;
        self.cells.retain(|_, cell| match expiry(cell) {
            None => true,
            Some(Some((at, _))) if at > now => true,
            Some(entry) => {
                dropped += entry.map_or(0, |(_, size)| size);
                false
            }
        });
        let mut held = bytes
            .fetch_sub(dropped, Ordering::Relaxed)
            .saturating_sub(dropped);
        let (keep, keep_bytes) = (MAX_ROBOTS_ORIGINS / 4 * 3, MAX_ROBOTS_BYTES / 4 * 3);
        if self.cells.len() > keep || held > keep_bytes {
            let mut by_expiry: Vec<(Instant, usize, String)> = self
                .cells
                .iter()
                .filter_map(|(origin, cell)| {
                    let (at, size) = expiry(cell)??;
                    Some((at, size, origin.clone()))
                })
                .collect();
            by_expiry.sort_unstable();
            for (_, size, origin) in by_expiry {
                if self.cells.len() <= keep && held <= keep_bytes {
                    break;
                }
                self.cells.remove(&origin);
                bytes.fetch_sub(size, Ordering::Relaxed);
                held = held.saturating_sub(size);
            }
        }
        let kept = self.cells.len();
        self.prune.pruned(kept, MAX_ROBOTS_ORIGINS);
    }
}

impl RobotsCache {
    /// Origins held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.origins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cells
            .len()
    }

    /// The rules for `origin`, fetching them with `fetch` when missing or expired. `fetch`
    /// returns the rules and how long to trust them.
    pub async fn rules<F, Fut>(&self, origin: &str, fetch: F) -> Arc<RobotsRules>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = (RobotsRules, Duration)>,
    {
        let cell = {
            let mut origins = self.origins.lock().unwrap_or_else(|e| e.into_inner());
            match origins.cells.get(origin) {
                Some(cell) => Arc::clone(cell),
                None => {
                    let held = self.bytes.load(Ordering::Relaxed);
                    if origins.prune.due(origins.cells.len()) || held > MAX_ROBOTS_BYTES {
                        origins.prune(&self.bytes);
                    }
                    let cell = RobotsCell::default();
                    origins.cells.insert(origin.to_string(), Arc::clone(&cell));
                    cell
                }
            }
        };
        let mut entry = cell.lock().await;
        if let Some(cached) = entry.as_ref()
            && cached.expires > Instant::now()
        {
            return cached.rules.clone();
        }
        let (rules, ttl) = fetch().await;
        let rules = Arc::new(rules);
        let replaced = entry.as_ref().map_or(0, RobotsEntry::bytes);
        self.bytes.fetch_add(rules.bytes(), Ordering::Relaxed);
        self.bytes.fetch_sub(replaced, Ordering::Relaxed);
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
        let rules = RobotsRules::from_body(
            "newswire",
            b"User-agent: *\nDisallow: /private/\n\nUser-agent: newswire\nCrawl-delay: 2\nDisallow: /no-bots/\n",
        );
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

    /// Asks `cache` for `origin`'s rules, counting a fetch in `fetches`.
    async fn ask(
        cache: &RobotsCache,
        origin: &str,
        ttl: Duration,
        fetches: &std::sync::atomic::AtomicUsize,
    ) {
        cache
            .rules(origin, || async {
                fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (RobotsRules::AllowAll, ttl)
            })
            .await;
    }

    #[tokio::test]
    async fn robots_rules_of_more_origins_than_the_first_prune_are_kept_until_they_expire() {
        // 10,000 hosts, each asked twice within its rules' lifetime: one fetch each.
        let cache = RobotsCache::default();
        let fetches = std::sync::atomic::AtomicUsize::new(0);
        for _round in 0..2 {
            for n in 0..10_000 {
                ask(
                    &cache,
                    &format!("https://h{n}.example"),
                    Duration::from_secs(3600),
                    &fetches,
                )
                .await;
            }
        }
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 10_000);
        assert_eq!(cache.len(), 10_000);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_robots_rules_leave_the_cache_as_new_origins_arrive() {
        let cache = RobotsCache::default();
        let fetches = std::sync::atomic::AtomicUsize::new(0);
        for n in 0..PRUNE_ABOVE {
            ask(
                &cache,
                &format!("https://old{n}.example"),
                Duration::from_secs(60),
                &fetches,
            )
            .await;
        }
        tokio::time::advance(Duration::from_secs(61)).await;
        for n in 0..PRUNE_ABOVE {
            ask(
                &cache,
                &format!("https://new{n}.example"),
                Duration::from_secs(60),
                &fetches,
            )
            .await;
        }
        // The first new origin past the threshold pruned every expired old one.
        assert_eq!(cache.len(), PRUNE_ABOVE);
    }

    #[tokio::test]
    async fn the_robots_cache_never_holds_more_than_its_cap_and_keeps_the_newest() {
        let cache = RobotsCache::default();
        let fetches = std::sync::atomic::AtomicUsize::new(0);
        let origins = MAX_ROBOTS_ORIGINS + 5_000;
        for n in 0..origins {
            // Later origins expire later, as when every file has the same lifetime.
            let ttl = Duration::from_secs(3600 + n as u64);
            ask(&cache, &format!("https://h{n}.example"), ttl, &fetches).await;
            assert!(
                cache.len() <= MAX_ROBOTS_ORIGINS,
                "{} after {n}",
                cache.len()
            );
        }
        let fetched = fetches.load(std::sync::atomic::Ordering::SeqCst);
        ask(
            &cache,
            &format!("https://h{}.example", origins - 1),
            Duration::from_secs(1),
            &fetches,
        )
        .await;
        assert_eq!(
            fetches.load(std::sync::atomic::Ordering::SeqCst),
            fetched,
            "the newest is cached"
        );
        ask(
            &cache,
            "https://h0.example",
            Duration::from_secs(1),
            &fetches,
        )
        .await;
        assert_eq!(
            fetches.load(std::sync::atomic::Ordering::SeqCst),
            fetched + 1,
            "the oldest went first"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn host_slots_are_pruned_rarely_however_many_hosts_are_busy() {
        // Every host stays within its hour-long delay, so no slot can be dropped: a prune
        // on every new host would pass over all of them each time.
        let limits = HostLimits::new(2, Duration::from_secs(3600));
        for n in 0..20_000 {
            drop(limits.acquire(&format!("h{n}.example")).await);
        }
        let (hosts, prunes) = limits.tracked();
        assert_eq!(hosts, 20_000);
        assert!(prunes <= 3, "{prunes} passes over the hosts");
    }

    #[tokio::test(start_paused = true)]
    async fn idle_host_slots_are_pruned_once_the_map_reaches_the_threshold() {
        let limits = HostLimits::new(2, Duration::from_millis(10));
        for n in 0..PRUNE_ABOVE {
            drop(limits.acquire(&format!("old{n}.example")).await);
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        drop(limits.acquire("new.example").await);
        assert_eq!(
            limits.tracked(),
            (1, 1),
            "every idle slot dropped, the new one kept"
        );
    }

    #[tokio::test]
    async fn the_robots_cache_holds_at_most_its_byte_budget_of_rules() {
        let cache = RobotsCache::default();
        let file = 512 * 1024;
        for n in 0..200 {
            cache
                .rules(&format!("https://big{n}.example"), || async {
                    let robot = texting_robots::Robot::new("newswire", b"").unwrap();
                    let rules = RobotsRules::Parsed {
                        robot: Box::new(robot),
                        bytes: file,
                    };
                    (rules, Duration::from_secs(3600 + n))
                })
                .await;
            // Pruning runs before a new origin's fetch, so one file may be over.
            let held = cache.bytes.load(Ordering::Relaxed);
            assert!(held <= MAX_ROBOTS_BYTES + file, "{held} bytes after {n}");
        }
        assert!(cache.len() < 200);
    }
}
