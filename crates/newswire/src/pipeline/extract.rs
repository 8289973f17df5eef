//! The extraction stage: page → article → record, on blocking threads.
//!
//! Extraction is CPU-bound, so it runs on tokio's blocking pool, at most one job per
//! worker, each with a wall-clock budget: a page that takes longer yields a record built
//! from the feed entry (the stuck thread finishes on its own; the extractor's own guards
//! keep that rare and bounded).

use std::sync::Arc;

use chrono::Utc;
use newswire_core::canonical::canonicalize;
use newswire_core::fingerprint;
use newswire_core::record::SCHEMA_ID;
use newswire_core::{Extraction, FeedRef, Record, SiteRef};
use newswire_extractor::{Article, FeedHints};
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::task::JoinSet;
use tracing::Instrument;
use url::Url;

use super::context::Context;
use super::work::{Delivery, PageJob};
use crate::metrics as m;

pub async fn run(
    ctx: Arc<Context>,
    mut pages: Receiver<PageJob>,
    out: Sender<Delivery>,
) -> anyhow::Result<()> {
    let workers = match ctx.config.pipeline.extract_workers {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
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
                    let ctx = Arc::clone(&ctx);
                    // Error level so that warnings keep their context at any `--log-level`.
                    let span = tracing::error_span!(
                        "article",
                        feed = %page.job.feed.url,
                        url = %page.final_url.as_ref().or(page.job.entry.link.as_ref()).map_or("", Url::as_str),
                    );
                    running.spawn(async move {
                        let delivery = extract_with_budget(page, budget).instrument(span).await;
                        if let Err(returned) = out.send(delivery).await {
                            ctx.release([returned.0.record.id.as_str()]);
                        }
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

async fn extract_with_budget(page: PageJob, budget: std::time::Duration) -> Delivery {
    let PageJob {
        job,
        final_url,
        html,
        warning,
    } = page;
    let hints = job.hints();
    let page_url = final_url.or_else(|| job.entry.link.clone());
    let article = match html {
        Some(html) => {
            let url = page_url.clone();
            let task_hints = hints.clone();
            let task = tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let article = newswire_extractor::extract(&html, url.as_ref(), &task_hints);
                metrics::histogram!(m::EXTRACTION_SECONDS).record(started.elapsed().as_secs_f64());
                article
            });
            match tokio::time::timeout(budget, task).await {
                Ok(Ok(article)) => article,
                Ok(Err(join_error)) => {
                    tracing::error!(url = %page_url.as_ref().map_or("", Url::as_str), "extractor failed: {join_error}");
                    newswire_extractor::from_feed(
                        &hints,
                        page_url.as_ref(),
                        "extractor failed on this page",
                    )
                }
                Err(_) => {
                    tracing::warn!(url = %page_url.as_ref().map_or("", Url::as_str), "extraction exceeded {budget:?}");
                    newswire_extractor::from_feed(
                        &hints,
                        page_url.as_ref(),
                        "extraction time budget exceeded",
                    )
                }
            }
        }
        None => newswire_extractor::from_feed(
            &hints,
            page_url.as_ref(),
            warning.as_deref().unwrap_or("no page"),
        ),
    };
    let record = build_record(
        &job.id,
        &job.feed.url,
        job.feed_title.as_deref(),
        job.feed.name.as_deref(),
        job.feed_link.as_ref(),
        job.entry.id.as_deref(),
        page_url.as_ref(),
        &job.feed.tags,
        &hints,
        article,
    );
    metrics::histogram!(m::EXTRACTION_QUALITY).record(f64::from(record.extraction.quality));
    Delivery::new(record, job.ticket)
}

/// Assembles the record: the article first, the feed entry where the page said nothing.
#[allow(clippy::too_many_arguments)]
pub fn build_record(
    id: &str,
    feed_url: &Url,
    feed_title: Option<&str>,
    feed_name: Option<&str>,
    feed_link: Option<&Url>,
    guid: Option<&str>,
    page_url: Option<&Url>,
    feed_tags: &[String],
    hints: &FeedHints,
    article: Article,
) -> Record {
    let text = article.text;
    let canonical_url = article
        .canonical_url
        .as_deref()
        .and_then(|c| Url::parse(c).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https" | "file"))
        .or_else(|| page_url.cloned())
        .map(|u| canonicalize(&u).to_string());
    // The site is the publication's web origin: from the canonical URL when the page was
    // read from elsewhere (a file, a mirror), else from the page or the feed's link.
    let site_url = canonical_url
        .as_deref()
        .and_then(|c| Url::parse(c).ok())
        .into_iter()
        .chain(page_url.cloned())
        .chain(feed_link.cloned())
        .find(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| format!("{}/", u.origin().ascii_serialization()));
    let mut tags: Vec<String> = Vec::new();
    for tag in feed_tags
        .iter()
        .chain(article.tags.iter())
        .chain(hints.tags.iter())
    {
        let tag = tag.trim();
        if !tag.is_empty() && !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.to_string());
        }
    }
    let non_empty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Record {
        schema: SCHEMA_ID.to_string(),
        id: id.to_string(),
        url: page_url
            .map(Url::to_string)
            .unwrap_or_else(|| feed_url.to_string()),
        canonical_url,
        feed: FeedRef {
            url: feed_url.to_string(),
            title: non_empty(feed_title.map(str::to_string)),
        },
        site: SiteRef {
            name: non_empty(article.site_name)
                .or_else(|| non_empty(feed_name.map(str::to_string)))
                .or_else(|| non_empty(feed_title.map(str::to_string))),
            url: site_url,
        },
        guid: non_empty(guid.map(str::to_string)),
        title: non_empty(article.title).or_else(|| non_empty(hints.title.clone())),
        authors: if article.authors.is_empty() {
            hints.authors.clone()
        } else {
            article.authors
        },
        summary: non_empty(article.summary).or_else(|| non_empty(hints.summary.clone())),
        published_at: article.published_at.or(hints.published_at),
        updated_at: article.updated_at.or(hints.updated_at),
        fetched_at: Utc::now(),
        language: article
            .language
            .filter(|l| l.len() == 2 && l.chars().all(|c| c.is_ascii_lowercase())),
        word_count: fingerprint::word_count(&text),
        content_hash: fingerprint::content_hash(&text),
        simhash: fingerprint::Simhash::of(&text).to_string(),
        text,
        tags,
        image: non_empty(article.image).or_else(|| non_empty(hints.image.clone())),
        duplicate_of: None,
        extraction: Extraction {
            method: if article.extraction.method.is_empty() {
                "none".into()
            } else {
                article.extraction.method
            },
            quality: article.extraction.quality.clamp(0.0, 1.0),
            warnings: article.extraction.warnings,
        },
    }
}
