//! The extraction stage: page → article → record, on blocking threads.
//!
//! Extraction is CPU-bound, so it runs on tokio's blocking pool, at most one job per
//! worker, each with a wall-clock budget (`pipeline.extract_timeout`) that the extractor
//! checks in its loops: a page that takes longer stops, is counted
//! (`newswire_extraction_timeouts_total`) and yields a record built from the feed entry.

use std::sync::Arc;

use newswire_extractor::{Article, FeedHints};
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::task::JoinSet;
use tracing::Instrument;
use url::Url;

use super::context::Context;
use super::record::RecordParts;
use super::work::{Delivery, PageJob};
use crate::telemetry::{self, Stats};

pub async fn run(
    ctx: Arc<Context>,
    mut pages: Receiver<PageJob>,
    out: Sender<Delivery>,
) -> anyhow::Result<()> {
    // One more than the cores: a slot also waits on the blocking-pool hand-off and
    // assembles the record on the async side, which left a core partly idle with one per
    // core (bench 1,000 × 20: +5 % articles/s at the same CPU per article).
    let workers = match ctx.config.pipeline.extract_workers {
        0 => std::thread::available_parallelism()
            .map(|n| n.get() + 1)
            .unwrap_or(2),
        n => n,
    };
    let budget = ctx.config.pipeline.extract_timeout.0;
    let mut running = JoinSet::new();
    loop {
        if running.len() >= workers {
            if let Some(result) = running.join_next().await {
                result?;
            }
            continue;
        }
        tokio::select! {
            page = pages.recv() => match page {
                Some(page) => {
                    let out = out.clone();
                    let stats = Arc::clone(&ctx.stats);
                    // Error level so that warnings keep their context at any `--log-level`.
                    let span = tracing::error_span!(
                        "article",
                        feed = %page.job.feed.url,
                        url = %page.final_url.as_ref().or(page.job.entry.link.as_ref()).map_or("", Url::as_str),
                    );
                    running.spawn(async move {
                        let delivery = extract_with_budget(page, budget, &stats).instrument(span).await;
                        // A closed channel drops the delivery, and its claim with it.
                        let _ = out.send(delivery).await;
                    });
                }
                None => break,
            },
            Some(result) = running.join_next(), if !running.is_empty() => result?,
        }
    }
    while let Some(result) = running.join_next().await {
        result?;
    }
    Ok(())
}

async fn extract_with_budget(
    page: PageJob,
    budget: std::time::Duration,
    stats: &Stats,
) -> Delivery {
    let PageJob {
        job,
        final_url,
        html,
        warning,
    } = page;
    let hints = job.hints();
    let page_url = final_url.or_else(|| job.entry.link.clone());
    let article = match html {
        Some(html) => extract_page(html, page_url.as_ref(), hints, budget).await,
        None => newswire_extractor::from_feed(
            &hints,
            page_url.as_ref(),
            warning.as_deref().unwrap_or("no page"),
        ),
    };
    let (record, fingerprint) =
        RecordParts::of_job(&job, page_url.as_ref(), article).build_with_fingerprint();
    stats.extraction_quality(record.extraction.quality);
    Delivery::new(record, fingerprint, job.ticket, job.claim)
}

/// Extracts `html` on a blocking thread within `budget`; the article from the feed entry
/// alone when the extractor fails or runs out of time.
///
/// The extractor checks the deadline in its own loops and stops there, so a slow page
/// frees its blocking thread instead of running on after its slot was handed on.
async fn extract_page(
    html: String,
    page_url: Option<&Url>,
    hints: FeedHints,
    budget: std::time::Duration,
) -> Article {
    let url = page_url.cloned();
    let task_hints = hints.clone();
    let task = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let options = newswire_extractor::ExtractOptions::default();
        let article = newswire_extractor::extract_until(
            &html,
            url.as_ref(),
            &task_hints,
            &options,
            started + budget,
        );
        telemetry::extraction_time(started.elapsed().as_secs_f64());
        article
    });
    let shown_url = page_url.map_or("", Url::as_str);
    match task.await {
        Ok(Ok(article)) => article,
        Ok(Err(newswire_extractor::ExtractError::DeadlineExceeded { stage })) => {
            telemetry::extraction_timed_out(stage);
            tracing::warn!(url = %shown_url, stage, "extraction exceeded {budget:?}");
            newswire_extractor::from_feed(&hints, page_url, "extraction time budget exceeded")
        }
        Err(join_error) => {
            tracing::error!(url = %shown_url, "extractor failed: {join_error}");
            newswire_extractor::from_feed(&hints, page_url, "extractor failed on this page")
        }
    }
}
