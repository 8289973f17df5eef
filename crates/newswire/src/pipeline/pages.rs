//! The page stage: downloads each new article's page.
//!
//! Outcomes: HTML goes on to extraction; a non-HTML link (PDF, image, audio, video) or a
//! page that is gone for good (404, robots.txt disallow) becomes a record built from the
//! feed entry, with the reason in its warnings; a transient failure (timeout, 5xx, 429)
//! delivers nothing now and leaves the article to the next poll.

use std::sync::Arc;

use newswire_fetcher::{PageOutcome, PagePolicy};
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::context::Context;
use super::work::{ArticleJob, PageJob};
use crate::telemetry::{self, Stage};

pub async fn run(
    ctx: Arc<Context>,
    mut jobs: Receiver<ArticleJob>,
    out: Sender<PageJob>,
) -> anyhow::Result<()> {
    // Page downloads in flight; the fetcher applies the global and per-host HTTP limits.
    let parallel = ctx.config.fetch.concurrency.max(1);
    let mut downloads = JoinSet::new();
    loop {
        if downloads.len() >= parallel {
            if let Some(result) = downloads.join_next().await {
                result?;
            }
            continue;
        }
        tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => {
                    // Error level: the span must survive `--log-level warn` to give warnings
                    // their context. An entry without a link has an empty `url`.
                    let span = tracing::error_span!(
                        "article",
                        feed = %job.feed.url,
                        url = %job.entry.link.as_ref().map_or("", |u| u.as_str()),
                    );
                    downloads.spawn(download(Arc::clone(&ctx), job, out.clone()).instrument(span));
                }
                None => break,
            },
            Some(result) = downloads.join_next(), if !downloads.is_empty() => result?,
        }
    }
    while let Some(result) = downloads.join_next().await {
        result?;
    }
    Ok(())
}

async fn download(ctx: Arc<Context>, job: ArticleJob, out: Sender<PageJob>) {
    let Some(link) = job.entry.link.clone() else {
        let page = PageJob {
            job,
            final_url: None,
            html: None,
            warning: Some("entry has no link: record built from the feed entry".into()),
        };
        forward(page, &out).await;
        return;
    };
    let policy = PagePolicy {
        respect_robots_txt: job.feed.respect_robots_txt,
        allow_file_under: job.feed.file_dir(),
    };
    let started = std::time::Instant::now();
    let fetched = ctx.fetcher.fetch_page(&link, &policy).await;
    telemetry::stage_time(Stage::PageFetch, started);
    let page = match fetched {
        Ok(PageOutcome::Html { final_url, html }) => {
            ctx.stats.page_html(html.len());
            PageJob {
                job,
                final_url: Some(final_url),
                html: Some(html),
                warning: None,
            }
        }
        Ok(PageOutcome::NotHtml {
            final_url,
            content_type,
        }) => {
            ctx.stats.page_not_html();
            PageJob {
                job,
                final_url: Some(final_url),
                html: None,
                warning: Some(format!(
                    "link is not an HTML page ({content_type}): record built from the feed entry"
                )),
            }
        }
        Err(error) if error.is_transient() => {
            ctx.stats.page_failed(error.kind());
            tracing::warn!(url = %link, kind = error.kind(), "page failed, will retry on the next poll: {error}");
            // Dropping the job releases its claim; the next poll tries again.
            return;
        }
        Err(error) => {
            ctx.stats.page_failed(error.kind());
            tracing::warn!(url = %link, kind = error.kind(), "page unavailable, record built from the feed entry: {error}");
            PageJob {
                job,
                final_url: Some(link),
                html: None,
                warning: Some(format!("page unavailable: {error}")),
            }
        }
    };
    forward(page, &out).await;
}

/// Sends the page on; a closed channel drops it, and its claim with it.
async fn forward(page: PageJob, out: &Sender<PageJob>) {
    let _ = out.send(page).await;
}
