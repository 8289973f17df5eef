//! The pipeline, wired: one screen that shows every stage and channel.
//!
//! ```text
//! scheduler ─feeds─► feed stage (poll + gate) ─articles─► page stage ─pages─► extraction
//!     ▲                                                                          │
//!     └──── poll reports (validators saved once a poll's articles are delivered) │
//!                   delivery (sinks + commit) ◄─ stories ◄─ dedup ◄─records
//! ```
//! Every arrow is a bounded channel (`pipeline.channel_capacity`; poll reports see
//! [`report_capacity`]); every poll reserves its report's slot before it starts, so a
//! report is never dropped and never waits, and the scheduler reads reports while it waits
//! to send feeds, so a full report channel only holds back new polls. Shutdown
//! cancels the token: the scheduler stops sending, each stage ends when its input closes,
//! so work in flight drains, sinks flush and the state commits.
//!
//! The feed list arrives through a `watch` channel so that a daemon can be reloaded
//! (SIGHUP) without a restart; queue depths are sampled once a second for the metrics.

mod claims;
mod context;
mod dedup;
mod deliver;
mod extract;
mod feeds;
mod pages;
mod record;
mod schedule;
mod scheduler;
mod state;
mod stories;
mod work;

use std::sync::Arc;

use anyhow::Context as _;
use newswire_core::config::Config;
use newswire_fetcher::Fetcher;
use newswire_sink::Sink;
use newswire_state::StateStore;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::metrics::Health;

pub use crate::telemetry::Stats;
pub use record::page_record;
pub use scheduler::PollGate;
pub use state::StateHandle;
pub use work::FeedSpec;

/// Forgets ids and simhashes older than `state.retention` (and simhashes beyond
/// `dedup.max_entries`), so the state stops growing in a steady state.
pub async fn prune(state: &StateHandle, config: &Config) -> anyhow::Result<()> {
    let horizon =
        chrono::Duration::from_std(config.state.retention.0).unwrap_or(chrono::Duration::MAX);
    let older_than = chrono::Utc::now()
        .checked_sub_signed(horizon)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let pruned = state.prune(older_than, config.dedup.max_entries).await?;
    if pruned.records > 0 || pruned.simhashes > 0 {
        tracing::info!(
            records = pruned.records,
            simhashes = pruned.simhashes,
            "pruned state past retention"
        );
    }
    Ok(())
}

/// What the caller keeps a hand on while the pipeline runs.
pub struct Controls {
    /// The feeds; a daemon applies every new value (config reload).
    pub feeds: watch::Receiver<Vec<FeedSpec>>,
    /// Cancelled on SIGTERM/SIGINT: stop polling, drain, exit.
    pub shutdown: CancellationToken,
    /// Counters and per-feed outcomes, readable during the run (progress display).
    pub stats: Arc<Stats>,
    /// What `/readyz` reports.
    pub health: Arc<Health>,
    /// Fired once every stage runs (systemd READY=1).
    pub started: Option<tokio::sync::oneshot::Sender<()>>,
    /// Cluster mode: may a due feed be polled now (see [`PollGate`]).
    pub gate: Option<Arc<dyn PollGate>>,
}

/// Runs the pipeline until the pass is done (`once`) or `shutdown` is cancelled.
pub async fn run(
    config: Config,
    store: Box<dyn StateStore>,
    once: bool,
    controls: Controls,
) -> anyhow::Result<()> {
    let Controls {
        feeds,
        shutdown,
        stats,
        health,
        started,
        gate,
    } = controls;
    let state = StateHandle::new(store);
    let probe_state = state.clone();
    health.set_state_probe(Box::new(move || {
        let state = probe_state.clone();
        Box::pin(async move { state.ping().await.map_err(|e| format!("{e:#}")) })
    }));
    prune(&state, &config).await?;
    let mut sinks = Vec::with_capacity(config.sinks.len());
    for sink_config in &config.sinks {
        let committed = state.sink_position(&sink_config.state_name()).await?;
        let sink = Sink::open(sink_config, &config.base_dir, committed)
            .await
            .with_context(|| format!("opening sink {}", sink_config.state_name()))?;
        sinks.push(sink);
    }
    let fetcher = Fetcher::new(&config.fetch).context("building the HTTP client")?;
    let capacity = config.pipeline.channel_capacity;
    stats.feeds_configured(feeds.borrow().iter().map(FeedSpec::key));
    let ctx = Arc::new(context::Context {
        config,
        fetcher,
        state,
        stats,
        health: Arc::clone(&health),
        in_flight: Default::default(),
        shutdown,
    });

    let (feed_tx, feed_rx) = mpsc::channel(capacity);
    let (report_tx, report_rx) =
        mpsc::channel(report_capacity(capacity, ctx.config.fetch.concurrency));
    let (article_tx, article_rx) = mpsc::channel(capacity);
    let (page_tx, page_rx) = mpsc::channel(capacity);
    let (record_tx, record_rx) = mpsc::channel(capacity);
    let (dedup_tx, dedup_rx) = mpsc::channel(capacity);
    let (delivery_tx, delivery_rx) = mpsc::channel(capacity);

    let sampler = tokio::spawn(sample_queue_depths(vec![
        ("feeds", QueueProbe::of(&feed_tx)),
        ("articles", QueueProbe::of(&article_tx)),
        ("pages", QueueProbe::of(&page_tx)),
        ("records", QueueProbe::of(&record_tx)),
        ("stories", QueueProbe::of(&dedup_tx)),
        ("deliveries", QueueProbe::of(&delivery_tx)),
    ]));

    let stages = [
        tokio::spawn(scheduler::run(
            Arc::clone(&ctx),
            feeds,
            once,
            feed_tx,
            report_rx,
            gate,
        )),
        tokio::spawn(feeds::run(Arc::clone(&ctx), feed_rx, article_tx, report_tx)),
        tokio::spawn(pages::run(Arc::clone(&ctx), article_rx, page_tx)),
        tokio::spawn(extract::run(Arc::clone(&ctx), page_rx, record_tx)),
        tokio::spawn(dedup::run(Arc::clone(&ctx), record_rx, dedup_tx)),
        tokio::spawn(stories::run(Arc::clone(&ctx), dedup_rx, delivery_tx)),
        tokio::spawn(deliver::run(Arc::clone(&ctx), sinks, delivery_rx)),
    ];
    let names = [
        "scheduler",
        "feed stage",
        "page stage",
        "extraction",
        "dedup",
        "stories",
        "delivery",
    ];
    health.set_running(true);
    if let Some(started) = started {
        let _ = started.send(());
    }
    let mut first_error = None;
    for (stage, name) in stages.into_iter().zip(names) {
        let outcome = stage
            .await
            .with_context(|| format!("{name} panicked"))
            .and_then(|r| r.with_context(|| format!("{name} failed")));
        if let Err(error) = outcome {
            // One failure stops the rest; keep the first cause, it is the real one.
            ctx.shutdown.cancel();
            first_error.get_or_insert(error);
        }
        // The scheduler is the first to end: from then on the pipeline only drains.
        health.set_running(false);
    }
    sampler.abort();
    match first_error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Room in the poll-report channel: one report per article the pipeline can hold between
/// the feed stage and the commit when every feed gives one article (5,416 at the defaults,
/// about 1.5 MB of reports when full).
///
/// A poll holds its report's slot from its start until its articles are committed and the
/// scheduler has read the report, so this bounds the polls whose articles are in flight,
/// and must not hold back a pipeline whose feeds give one new article each: the queues hold
/// about seven times `pipeline.channel_capacity` articles (64 times leaves ample room),
/// `fetch.concurrency` more are downloading, the near-duplicate stage holds a batch and
/// delivery the records of one commit. The feed count does not matter: the scheduler
/// never waits for room in the feed queue without reading reports, so more feeds than
/// slots (at start or after a reload) only wait their turn.
fn report_capacity(channel_capacity: usize, downloads: usize) -> usize {
    channel_capacity
        .saturating_mul(64)
        .saturating_add(downloads)
        .saturating_add(dedup::MAX_BATCH)
        .saturating_add(deliver::MAX_BATCH)
}

/// A runtime whose blocking pool has a single thread, for tests of what must not wait
/// behind blocking work.
#[cfg(test)]
fn one_blocking_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .expect("a test runtime")
}

/// Reads how full one channel is without keeping it open.
struct QueueProbe(Box<dyn Fn() -> Option<usize> + Send>);

impl QueueProbe {
    fn of<T: Send + 'static>(sender: &mpsc::Sender<T>) -> Self {
        let weak = sender.downgrade();
        Self(Box::new(move || {
            weak.upgrade()
                .map(|s| s.max_capacity().saturating_sub(s.capacity()))
        }))
    }
}

/// Publishes each channel's queue depth once a second until the pipeline ends.
async fn sample_queue_depths(probes: Vec<(&'static str, QueueProbe)>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        for (queue, probe) in &probes {
            crate::telemetry::queue_depth(queue, (probe.0)().unwrap_or(0));
        }
    }
}
