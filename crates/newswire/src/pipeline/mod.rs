//! The pipeline, wired: one screen that shows every stage and channel.
//!
//! ```text
//! scheduler ─feeds─► feed stage (poll + gate) ─articles─► page stage ─pages─► extraction
//!     ▲                                                                          │
//!     └──── poll reports (validators saved once a poll's articles are delivered) │
//!                                       delivery (sinks + commit) ◄─ dedup ◄─records
//! ```
//! Every arrow is a bounded channel (`pipeline.channel_capacity`) except poll reports,
//! which are bounded by the number of feeds (one report per poll in flight). Shutdown
//! cancels the token: the scheduler stops sending, each stage ends when its input closes,
//! so work in flight drains, sinks flush and the state commits.

mod context;
mod dedup;
mod deliver;
mod extract;
mod feeds;
mod pages;
mod scheduler;
mod state;
mod work;

use std::sync::Arc;

use anyhow::Context as _;
use newswire_core::config::Config;
use newswire_fetcher::Fetcher;
use newswire_sink::Sink;
use newswire_state::StateStore;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use context::Stats;
pub use extract::build_record;
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

/// Runs the pipeline until the pass is done (`once`) or `shutdown` is cancelled.
pub async fn run(
    config: Config,
    feeds: Vec<FeedSpec>,
    store: Box<dyn StateStore>,
    once: bool,
    shutdown: CancellationToken,
) -> anyhow::Result<Arc<Stats>> {
    let state = StateHandle::new(store);
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
    let ctx = Arc::new(context::Context {
        config,
        fetcher,
        state,
        stats: Arc::new(Stats::default()),
        in_flight: Default::default(),
        shutdown,
    });
    let feeds = feeds.into_iter().map(Arc::new).collect();

    let (feed_tx, feed_rx) = mpsc::channel(capacity);
    let (report_tx, report_rx) = mpsc::unbounded_channel();
    let (article_tx, article_rx) = mpsc::channel(capacity);
    let (page_tx, page_rx) = mpsc::channel(capacity);
    let (record_tx, record_rx) = mpsc::channel(capacity);
    let (delivery_tx, delivery_rx) = mpsc::channel(capacity);

    let stages = [
        tokio::spawn(scheduler::run(
            Arc::clone(&ctx),
            feeds,
            once,
            feed_tx,
            report_rx,
        )),
        tokio::spawn(feeds::run(Arc::clone(&ctx), feed_rx, article_tx, report_tx)),
        tokio::spawn(pages::run(Arc::clone(&ctx), article_rx, page_tx)),
        tokio::spawn(extract::run(Arc::clone(&ctx), page_rx, record_tx)),
        tokio::spawn(dedup::run(Arc::clone(&ctx), record_rx, delivery_tx)),
        tokio::spawn(deliver::run(Arc::clone(&ctx), sinks, delivery_rx)),
    ];
    let names = [
        "scheduler",
        "feed stage",
        "page stage",
        "extraction",
        "dedup",
        "delivery",
    ];
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
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(Arc::clone(&ctx.stats)),
    }
}
