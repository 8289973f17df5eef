//! What a run counts, counted once: each pipeline event updates the run statistics (the
//! summary line, `--report`, the progress bar) and its Prometheus metric together.
//!
//! | event (method) | run statistic | metric |
//! | --- | --- | --- |
//! | [`Stats::feeds_configured`] | the per-feed table | `newswire_feeds_configured` |
//! | [`Stats::feed_ok`], [`Stats::feed_not_modified`], [`Stats::feed_failed`] | `feeds_ok`, `feeds_not_modified`, `feeds_failed` | `newswire_feed_polls_total{status}`, `newswire_feed_failures_total{reason}` |
//! | [`Stats::entries`] | `entries_seen`, `entries_new` | `newswire_entries_seen_total`, `newswire_entries_new_total` |
//! | [`Stats::page_html`], [`Stats::page_not_html`], [`Stats::page_failed`] | `pages_failed` | `newswire_pages_fetched_total{outcome}`, `newswire_page_bytes_total`, `newswire_page_failures_total{reason}` |
//! | [`extraction_time`], [`Stats::extraction_quality`] | | `newswire_extraction_seconds`, `newswire_extraction_cpu_seconds`, `newswire_extraction_quality` |
//! | [`extraction_timed_out`] | | `newswire_extraction_timeouts_total` |
//! | [`Stats::duplicate`] | `duplicates` | `newswire_duplicates_total` |
//! | [`Stats::committed`], [`Stats::commit_failed`] | `records_emitted`, each feed's `new_records` | `newswire_records_emitted_total{sink}`, `newswire_state_commits_total{result}`, `newswire_publish_delay_seconds` |
//! | [`queue_depth`] | | `newswire_queue_depth{queue}` |
//! | [`stage_time`] | | `newswire_stage_seconds{stage}` |
//! | [`config_reloaded`] | | `newswire_config_reloads_total{result}` |
//!
//! Metrics go through the `metrics` facade: without `[metrics] listen` no recorder is
//! installed and those calls cost next to nothing. The names below are relied upon by
//! dashboards (README, "Metrics"): they do not change.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};

/// Feed polls by `status`: `ok`, `not_modified`, `failed`.
pub const FEED_POLLS: &str = "newswire_feed_polls_total";
/// Failed feed polls by `reason` (the fetcher's error kind: `timeout`, `http_4xx`, …).
pub const FEED_FAILURES: &str = "newswire_feed_failures_total";
/// Feeds in the current configuration (changes on reload).
pub const FEEDS_CONFIGURED: &str = "newswire_feeds_configured";
/// Entries read from fetched feeds.
pub const ENTRIES_SEEN: &str = "newswire_entries_seen_total";
/// Entries not delivered before, sent on to the page stage.
pub const ENTRIES_NEW: &str = "newswire_entries_new_total";
/// Article links fetched, by `outcome`: `html`, `not_html`, `failed`.
pub const PAGES_FETCHED: &str = "newswire_pages_fetched_total";
/// Failed article fetches by `reason` (fetcher error kind).
pub const PAGE_FAILURES: &str = "newswire_page_failures_total";
/// Decoded bytes of the HTML pages fetched.
pub const PAGE_BYTES: &str = "newswire_page_bytes_total";
/// Records made durable, by `sink`.
pub const RECORDS_EMITTED: &str = "newswire_records_emitted_total";
/// Records marked as near-duplicates of an earlier one.
pub const DUPLICATES: &str = "newswire_duplicates_total";
/// The extractor's 0..1 confidence per record.
pub const EXTRACTION_QUALITY: &str = "newswire_extraction_quality";
/// Wall-clock time of one page's extraction.
pub const EXTRACTION_SECONDS: &str = "newswire_extraction_seconds";
/// CPU time of one page's extraction (the extraction thread's own clock): its sum is the
/// extractor's share of the process's CPU, the rest is what the pipeline around it costs.
pub const EXTRACTION_CPU_SECONDS: &str = "newswire_extraction_cpu_seconds";
/// Pages whose extraction ran past `pipeline.extract_timeout` (record built from the feed).
pub const EXTRACTION_TIMEOUTS: &str = "newswire_extraction_timeouts_total";
/// Items waiting in the channel in front of a stage, by `queue`.
pub const QUEUE_DEPTH: &str = "newswire_queue_depth";
/// Wall-clock time of one unit of a stage's work, by `stage` (see [`Stage`]).
pub const STAGE_SECONDS: &str = "newswire_stage_seconds";
/// From an entry's `published_at` to the commit of its record.
pub const PUBLISH_DELAY_SECONDS: &str = "newswire_publish_delay_seconds";
/// State commits, by `result`: `ok`, `failed`.
pub const COMMITS: &str = "newswire_state_commits_total";
/// Config reloads (SIGHUP), by `result`: `ok`, `rejected`.
pub const CONFIG_RELOADS: &str = "newswire_config_reloads_total";

/// Quality is a 0..1 score: tenths show where a site's pages fall.
const QUALITY_BUCKETS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
/// Extraction takes milliseconds; the tail up to the default 10 s budget matters.
const EXTRACTION_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 10.0];
/// From a minute (a fast feed) to a week (a backfill of an old feed).
const DELAY_BUCKETS: [f64; 10] = [
    60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0, 259200.0, 604800.0,
];

/// A stage's work is sub-millisecond (a near-duplicate batch, a record's write) to the
/// fetch timeout (a feed or page download).
const STAGE_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0];

/// The units of work timed by [`stage_time`] (extraction has its own histograms).
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// One feed's download and parse.
    FeedPoll,
    /// One article page's download (robots.txt, politeness waits and retries included).
    PageFetch,
    /// One batch of records through the near-duplicate rule (its state lookup included).
    NearDuplicates,
    /// One record placed in a story.
    Stories,
    /// One record encoded and handed to every sink.
    SinkWrite,
    /// One commit: the sinks flushed and the state written.
    Commit,
}

impl Stage {
    fn label(self) -> &'static str {
        match self {
            Stage::FeedPoll => "feed_poll",
            Stage::PageFetch => "page_fetch",
            Stage::NearDuplicates => "near_duplicates",
            Stage::Stories => "stories",
            Stage::SinkWrite => "sink_write",
            Stage::Commit => "commit",
        }
    }
}

/// Sets the histogram buckets of the metrics above on the exporter being built.
pub fn with_buckets(builder: PrometheusBuilder) -> Result<PrometheusBuilder, BuildError> {
    builder
        .set_buckets_for_metric(Matcher::Full(EXTRACTION_QUALITY.into()), &QUALITY_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full(EXTRACTION_SECONDS.into()),
            &EXTRACTION_BUCKETS,
        )?
        .set_buckets_for_metric(Matcher::Full(PUBLISH_DELAY_SECONDS.into()), &DELAY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(STAGE_SECONDS.into()), &STAGE_BUCKETS)
}

/// Registers the descriptions (the `# HELP` lines); call once the recorder is installed.
pub fn describe() {
    describe_counter!(
        FEED_POLLS,
        "Feed polls by status (ok, not_modified, failed)."
    );
    describe_counter!(FEED_FAILURES, "Failed feed polls by reason.");
    describe_gauge!(FEEDS_CONFIGURED, "Feeds in the current configuration.");
    describe_counter!(ENTRIES_SEEN, "Entries read from fetched feeds.");
    describe_counter!(ENTRIES_NEW, "Entries not delivered before.");
    describe_counter!(
        PAGES_FETCHED,
        "Article links fetched, by outcome (html, not_html, failed)."
    );
    describe_counter!(PAGE_FAILURES, "Failed article fetches by reason.");
    describe_counter!(
        PAGE_BYTES,
        Unit::Bytes,
        "Decoded bytes of HTML pages fetched."
    );
    describe_counter!(RECORDS_EMITTED, "Records made durable, by sink.");
    describe_counter!(
        EXTRACTION_TIMEOUTS,
        "Pages whose extraction ran past pipeline.extract_timeout."
    );
    describe_counter!(
        DUPLICATES,
        "Records marked as near-duplicates of an earlier record."
    );
    describe_histogram!(
        EXTRACTION_QUALITY,
        "Extraction confidence (0..1) per record."
    );
    describe_histogram!(
        EXTRACTION_SECONDS,
        Unit::Seconds,
        "Time to extract one page."
    );
    describe_histogram!(
        EXTRACTION_CPU_SECONDS,
        Unit::Seconds,
        "CPU time (the extraction thread's clock) to extract one page."
    );
    describe_gauge!(
        QUEUE_DEPTH,
        "Items waiting in the channel in front of a stage."
    );
    describe_histogram!(
        STAGE_SECONDS,
        Unit::Seconds,
        "Time of one unit of a stage's work, by stage (feed_poll, page_fetch, near_duplicates, stories, sink_write, commit)."
    );
    describe_histogram!(
        PUBLISH_DELAY_SECONDS,
        Unit::Seconds,
        "Delay from an entry's published_at to the commit of its record."
    );
    describe_counter!(COMMITS, "State commits by result (ok, failed).");
    describe_counter!(CONFIG_RELOADS, "Config reloads by result (ok, rejected).");
}

/// How a feed's last poll ended, for `--report` and the failed-feed table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedStatus {
    /// Configured, not polled (yet).
    Pending,
    Ok,
    NotModified,
    Failed,
}

/// One feed's part of the run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedResult {
    pub url: String,
    pub status: FeedStatus,
    /// Records of this feed made durable in this run.
    pub new_records: u64,
    /// Why the last poll failed.
    pub error: Option<String>,
    /// The fetcher's error kind (`timeout`, `http_4xx`, …), when it failed.
    pub reason: Option<String>,
}

impl FeedResult {
    fn pending(url: &str) -> Self {
        FeedResult {
            url: url.to_string(),
            status: FeedStatus::Pending,
            new_records: 0,
            error: None,
            reason: None,
        }
    }
}

/// The run's counters at one moment (the `totals` of `--report`, without the feed count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub feeds_ok: u64,
    pub feeds_not_modified: u64,
    pub feeds_failed: u64,
    pub entries_seen: u64,
    pub entries_new: u64,
    pub pages_failed: u64,
    pub records_emitted: u64,
    pub duplicates: u64,
}

/// The run statistics, updated only through the event methods (each also records its
/// metric). Each feed's outcome is kept, bounded by the number of configured feeds.
#[derive(Debug, Default)]
pub struct Stats {
    feeds_ok: AtomicU64,
    feeds_not_modified: AtomicU64,
    feeds_failed: AtomicU64,
    entries_seen: AtomicU64,
    entries_new: AtomicU64,
    pages_failed: AtomicU64,
    records_emitted: AtomicU64,
    duplicates: AtomicU64,
    feeds: Mutex<BTreeMap<String, FeedResult>>,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Stats {
    /// The feed list (at start, or after a reload): feeds no longer configured are
    /// forgotten, new ones listed as pending so that a feed never polled shows too.
    pub fn feeds_configured<'a>(&self, urls: impl IntoIterator<Item = &'a str>) {
        let keep: HashSet<&str> = urls.into_iter().collect();
        metrics::gauge!(FEEDS_CONFIGURED).set(keep.len() as f64);
        if let Ok(mut feeds) = self.feeds.lock() {
            feeds.retain(|url, _| keep.contains(url.as_str()));
            for url in keep {
                feeds
                    .entry(url.to_string())
                    .or_insert_with(|| FeedResult::pending(url));
            }
        }
    }

    /// A poll downloaded and read the feed.
    pub fn feed_ok(&self, url: &str) {
        add(&self.feeds_ok, 1);
        metrics::counter!(FEED_POLLS, "status" => "ok").increment(1);
        self.set_feed_status(url, FeedStatus::Ok, None);
    }

    /// A poll found the feed unchanged (304).
    pub fn feed_not_modified(&self, url: &str) {
        add(&self.feeds_not_modified, 1);
        metrics::counter!(FEED_POLLS, "status" => "not_modified").increment(1);
        self.set_feed_status(url, FeedStatus::NotModified, None);
    }

    /// A poll failed; `reason` is the fetcher's error kind.
    pub fn feed_failed(&self, url: &str, reason: &'static str, error: String) {
        add(&self.feeds_failed, 1);
        metrics::counter!(FEED_POLLS, "status" => "failed").increment(1);
        metrics::counter!(FEED_FAILURES, "reason" => reason).increment(1);
        self.set_feed_status(url, FeedStatus::Failed, Some((reason, error)));
    }

    fn set_feed_status(&self, url: &str, status: FeedStatus, failure: Option<(&str, String)>) {
        if let Ok(mut feeds) = self.feeds.lock() {
            let entry = feeds
                .entry(url.to_string())
                .or_insert_with(|| FeedResult::pending(url));
            entry.status = status;
            let (reason, error) = failure.unzip();
            entry.reason = reason.map(str::to_string);
            entry.error = error;
        }
    }

    /// A fetched feed held `seen` entries, `new` of them not delivered before.
    pub fn entries(&self, seen: u64, new: u64) {
        add(&self.entries_seen, seen);
        add(&self.entries_new, new);
        metrics::counter!(ENTRIES_SEEN).increment(seen);
        metrics::counter!(ENTRIES_NEW).increment(new);
    }

    /// An article page was downloaded: `bytes` of decoded HTML.
    pub fn page_html(&self, bytes: usize) {
        metrics::counter!(PAGES_FETCHED, "outcome" => "html").increment(1);
        metrics::counter!(PAGE_BYTES).increment(bytes as u64);
    }

    /// An article link is not an HTML page (PDF, image, …).
    pub fn page_not_html(&self) {
        metrics::counter!(PAGES_FETCHED, "outcome" => "not_html").increment(1);
    }

    /// An article page could not be fetched; `reason` is the fetcher's error kind.
    pub fn page_failed(&self, reason: &'static str) {
        add(&self.pages_failed, 1);
        metrics::counter!(PAGES_FETCHED, "outcome" => "failed").increment(1);
        metrics::counter!(PAGE_FAILURES, "reason" => reason).increment(1);
    }

    /// A record was assembled with the extractor's 0..1 confidence `quality`.
    pub fn extraction_quality(&self, quality: f32) {
        metrics::histogram!(EXTRACTION_QUALITY).record(f64::from(quality));
    }

    /// A record was marked as a near-duplicate of an earlier one.
    pub fn duplicate(&self) {
        add(&self.duplicates, 1);
        metrics::counter!(DUPLICATES).increment(1);
    }

    /// A state commit went through: `per_feed` records written per feed URL, to each of
    /// `sinks`; `published` are their `published_at` dates (for the delay histogram).
    pub fn committed(
        &self,
        sinks: impl IntoIterator<Item = String>,
        per_feed: HashMap<String, u64>,
        published: &[DateTime<Utc>],
    ) {
        let written: u64 = per_feed.values().sum();
        add(&self.records_emitted, written);
        metrics::counter!(COMMITS, "result" => "ok").increment(1);
        for sink in sinks {
            metrics::counter!(RECORDS_EMITTED, "sink" => sink).increment(written);
        }
        if let Ok(mut feeds) = self.feeds.lock() {
            for (url, n) in per_feed {
                if let Some(entry) = feeds.get_mut(&url) {
                    entry.new_records += n;
                }
            }
        }
        let now = Utc::now();
        for published in published {
            // A date in the future (a feed's clock or a scheduled post) counts as no delay.
            let delay = (now - *published).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::histogram!(PUBLISH_DELAY_SECONDS).record(delay);
        }
    }

    /// A sink write, flush or state commit failed.
    pub fn commit_failed(&self) {
        metrics::counter!(COMMITS, "result" => "failed").increment(1);
    }

    /// The counters now.
    pub fn counts(&self) -> Counts {
        Counts {
            feeds_ok: get(&self.feeds_ok),
            feeds_not_modified: get(&self.feeds_not_modified),
            feeds_failed: get(&self.feeds_failed),
            entries_seen: get(&self.entries_seen),
            entries_new: get(&self.entries_new),
            pages_failed: get(&self.pages_failed),
            records_emitted: get(&self.records_emitted),
            duplicates: get(&self.duplicates),
        }
    }

    /// Every feed's outcome, by URL.
    pub fn feed_results(&self) -> Vec<FeedResult> {
        self.feeds
            .lock()
            .map(|feeds| feeds.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Polls finished (ok, not modified or failed).
    pub fn feeds_done(&self) -> u64 {
        let counts = self.counts();
        counts.feeds_ok + counts.feeds_not_modified + counts.feeds_failed
    }

    /// "N feeds ok, M failed, K new records".
    pub fn summary_line(&self) -> String {
        let counts = self.counts();
        format!(
            "{} feeds ok, {} failed, {} new records",
            counts.feeds_ok + counts.feeds_not_modified,
            counts.feeds_failed,
            counts.records_emitted
        )
    }
}

/// One page's extraction took `seconds` of wall-clock time and `cpu_seconds` of its
/// thread's CPU.
pub fn extraction_time(seconds: f64, cpu_seconds: f64) {
    metrics::histogram!(EXTRACTION_SECONDS).record(seconds);
    metrics::histogram!(EXTRACTION_CPU_SECONDS).record(cpu_seconds);
}

/// One page's extraction stopped at its deadline (`stage` names the step it was in).
pub fn extraction_timed_out(stage: &'static str) {
    metrics::counter!(EXTRACTION_TIMEOUTS, "stage" => stage).increment(1);
}

/// One unit of `stage`'s work took the time since `started`.
pub fn stage_time(stage: Stage, started: std::time::Instant) {
    metrics::histogram!(STAGE_SECONDS, "stage" => stage.label())
        .record(started.elapsed().as_secs_f64());
}

/// `depth` items wait in the channel in front of the stage named `queue`.
pub fn queue_depth(queue: &'static str, depth: usize) {
    metrics::gauge!(QUEUE_DEPTH, "queue" => queue).set(depth as f64);
}

/// A config reload (SIGHUP) was applied (`true`) or rejected.
pub fn config_reloaded(applied: bool) {
    let result = if applied { "ok" } else { "rejected" };
    metrics::counter!(CONFIG_RELOADS, "result" => result).increment(1);
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    const A: &str = "https://a.example/rss";
    const B: &str = "https://b.example/rss";

    /// Runs `events` with a local recorder and returns the rendered metrics.
    fn rendered(events: impl FnOnce()) -> String {
        let recorder = with_buckets(PrometheusBuilder::new())
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, events);
        handle.render()
    }

    #[test]
    fn each_event_counts_in_the_statistics_and_the_metric_together() {
        let stats = Stats::default();
        let text = rendered(|| {
            stats.feeds_configured([A, B]);
            stats.feed_ok(A);
            stats.feed_failed(B, "timeout", "b: timed out".into());
            stats.entries(5, 2);
            stats.page_html(1000);
            stats.page_failed("http_5xx");
            stats.duplicate();
            stats.committed(
                ["stdout".to_string()],
                HashMap::from([(A.to_string(), 2)]),
                &[],
            );
        });
        let counts = stats.counts();
        assert_eq!(
            counts,
            Counts {
                feeds_ok: 1,
                feeds_failed: 1,
                entries_seen: 5,
                entries_new: 2,
                pages_failed: 1,
                records_emitted: 2,
                duplicates: 1,
                ..Counts::default()
            }
        );
        for line in [
            "newswire_feeds_configured 2",
            "newswire_feed_polls_total{status=\"ok\"} 1",
            "newswire_feed_polls_total{status=\"failed\"} 1",
            "newswire_feed_failures_total{reason=\"timeout\"} 1",
            "newswire_entries_seen_total 5",
            "newswire_entries_new_total 2",
            "newswire_pages_fetched_total{outcome=\"html\"} 1",
            "newswire_page_bytes_total 1000",
            "newswire_page_failures_total{reason=\"http_5xx\"} 1",
            "newswire_duplicates_total 1",
            "newswire_records_emitted_total{sink=\"stdout\"} 2",
            "newswire_state_commits_total{result=\"ok\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        let feeds = stats.feed_results();
        assert_eq!(feeds[0].new_records, 2);
        assert_eq!(feeds[1].reason.as_deref(), Some("timeout"));
        assert_eq!(stats.feeds_done(), 2);
        assert_eq!(stats.summary_line(), "1 feeds ok, 1 failed, 2 new records");
    }

    #[test]
    fn a_reload_forgets_removed_feeds_and_lists_new_ones() {
        let stats = Stats::default();
        stats.feeds_configured([A, B]);
        stats.feed_ok(A);
        stats.feeds_configured([A, "https://c.example/rss"]);
        let feeds = stats.feed_results();
        let urls: Vec<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(urls, [A, "https://c.example/rss"]);
        assert_eq!(
            feeds[0].status,
            FeedStatus::Ok,
            "kept feeds keep their outcome"
        );
        assert_eq!(feeds[1].status, FeedStatus::Pending);
    }
}
