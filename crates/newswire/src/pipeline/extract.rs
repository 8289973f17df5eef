//! The extraction stage: page → article → record, on threads that stay busy.
//!
//! Extraction is CPU-bound, so it runs on `pipeline.extract_workers` OS threads of its own
//! (`newswire-extract`) that take pages from the stage's input one after another, extract
//! each within its wall-clock budget (`pipeline.extract_timeout`, checked by the extractor
//! in its loops), assemble the record and its fingerprint, and send it on. A page that runs
//! out of time is counted (`newswire_extraction_timeouts_total`) and yields a record built
//! from the feed entry; so does a page on which the extractor panics.
//!
//! Why not a `spawn_blocking` per page: each hand-off parked and woke a pool thread and
//! the async worker that awaited it, which cost about 4 % of the pipeline's CPU in the
//! load benchmark's profile (thread wake-ups, the pool's lock), and the record was then
//! assembled on the async workers. A worker thread here goes straight from one page to
//! the next while the input queue has pages, which under load it has.
//!
//! Why threads of its own rather than tokio's blocking pool: the sinks' file work (JSONL
//! writes, compression) runs on that pool, and must never queue behind extractions (a pool
//! whose threads were all extracting would hold up every write and so every commit).

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use newswire_extractor::{Article, ExtractError, FeedHints};
use tokio::sync::mpsc::{Receiver, Sender};
use url::Url;

use super::context::Context;
use super::record::RecordParts;
use super::work::{Delivery, PageJob};
use crate::telemetry;

pub async fn run(
    ctx: Arc<Context>,
    pages: Receiver<PageJob>,
    out: Sender<Delivery>,
) -> anyhow::Result<()> {
    // One more than the cores: a worker also waits for its next page and for room in the
    // output queue, which left a core partly idle with one per core (bench 1,000 × 20:
    // +5 % articles/s at the same CPU per article).
    let workers = match ctx.config.pipeline.extract_workers {
        0 => std::thread::available_parallelism()
            .map(|n| n.get() + 1)
            .unwrap_or(2),
        n => n,
    };
    // One worker at a time waits on the queue; the others wait for the lock. Nothing else
    // is done under it, so it is held only while the queue is empty.
    let pages = Arc::new(Mutex::new(pages));
    let (finished, mut all_finished) = tokio::sync::mpsc::channel::<()>(1);
    let mut threads = Vec::with_capacity(workers);
    for n in 0..workers {
        let (ctx, pages, out) = (Arc::clone(&ctx), Arc::clone(&pages), out.clone());
        // Dropped when the thread ends, even by a panic: the stage sees every end.
        let finished = finished.clone();
        let thread = std::thread::Builder::new()
            .name("newswire-extract".into())
            .spawn(move || {
                // Declared first, so dropped last: after the page queue and the output,
                // when nothing of the stage is left on this thread.
                let _finished = finished;
                let (ctx, pages, out) = (ctx, pages, out);
                work(&ctx, &pages, &out);
            })
            // Threads already started end when the pipeline closes their page queue.
            .with_context(|| format!("starting extraction thread {} of {workers}", n + 1))?;
        threads.push(thread);
    }
    drop((out, finished));
    // Every thread has ended once the last `finished` sender is gone.
    let _ = all_finished.recv().await;
    let panicked = threads
        .into_iter()
        .filter_map(|thread| thread.join().err())
        .count();
    anyhow::ensure!(
        panicked == 0,
        "{panicked} extraction thread(s) panicked outside the extractor"
    );
    Ok(())
}

/// One worker: extracts pages until the input closes.
fn work(ctx: &Context, pages: &Mutex<Receiver<PageJob>>, out: &Sender<Delivery>) {
    loop {
        // A worker that panicked while holding the lock cannot have left the receiver
        // half-changed (it only waits in `blocking_recv`), so a poisoned lock is used as is.
        let next = pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .blocking_recv();
        let Some(page) = next else { return };
        // Error level so that warnings keep their context at any `--log-level`.
        let span = tracing::error_span!(
            "article",
            feed = %page.job.feed.url,
            url = %page.final_url.as_ref().or(page.job.entry.link.as_ref()).map_or("", Url::as_str),
        );
        let delivery = span.in_scope(|| deliver(ctx, page));
        // A closed channel drops the delivery, and its claim with it.
        let _ = out.blocking_send(delivery);
    }
}

/// The record of one page: extracted, or built from the feed entry when there is no page
/// or the extractor gave up.
fn deliver(ctx: &Context, page: PageJob) -> Delivery {
    let PageJob {
        job,
        final_url,
        html,
        warning,
    } = page;
    let hints = job.hints();
    let page_url = final_url.or_else(|| job.entry.link.clone());
    let article = match html {
        Some(html) => extract_page(
            &html,
            page_url.as_ref(),
            hints,
            ctx.config.pipeline.extract_timeout.0,
        ),
        None => newswire_extractor::from_feed(
            &hints,
            page_url.as_ref(),
            warning.as_deref().unwrap_or("no page"),
        ),
    };
    let (record, fingerprint) =
        RecordParts::of_job(&job, page_url.as_ref(), article).build_with_fingerprint();
    ctx.stats.extraction_quality(record.extraction.quality);
    Delivery::new(record, fingerprint, job.ticket, job.claim)
}

/// Extracts `html` within `budget`; the article from the feed entry alone when the
/// extractor runs out of time or panics.
fn extract_page(
    html: &str,
    page_url: Option<&Url>,
    hints: FeedHints,
    budget: std::time::Duration,
) -> Article {
    let started = std::time::Instant::now();
    let cpu_started = thread_cpu_seconds();
    let options = newswire_extractor::ExtractOptions::default();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        newswire_extractor::extract_until(html, page_url, &hints, &options, started + budget)
    }));
    telemetry::extraction_time(
        started.elapsed().as_secs_f64(),
        thread_cpu_seconds() - cpu_started,
    );
    let shown_url = page_url.map_or("", Url::as_str);
    match outcome {
        Ok(Ok(article)) => article,
        Ok(Err(ExtractError::DeadlineExceeded { stage })) => {
            telemetry::extraction_timed_out(stage);
            tracing::warn!(url = %shown_url, stage, "extraction exceeded {budget:?}");
            newswire_extractor::from_feed(&hints, page_url, "extraction time budget exceeded")
        }
        Err(_panic) => {
            tracing::error!(url = %shown_url, "extractor failed (panicked) on this page");
            newswire_extractor::from_feed(&hints, page_url, "extractor failed on this page")
        }
    }
}

/// This thread's CPU time so far (a vDSO call; what the extractor alone costs is the
/// difference of two readings on the thread that ran it).
fn thread_cpu_seconds() -> f64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use newswire_core::config::Config;
    use newswire_fetcher::Fetcher;
    use newswire_state::SqliteState;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::pipeline::state::StateHandle;

    /// A runtime whose blocking pool has a single thread, and more extraction workers than
    /// that, all waiting for pages: blocking work (what the sinks' file writes are) must
    /// still run at once.
    #[test]
    fn blocking_work_is_not_queued_behind_the_extraction_workers() {
        let runtime = crate::pipeline::one_blocking_thread_runtime();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let config = Config::from_text(
                "[pipeline]\nextract_workers = 3\n",
                &dir.path().join("newswire.toml"),
            )
            .unwrap();
            let ctx = Arc::new(Context {
                fetcher: Fetcher::new(&config.fetch).unwrap(),
                config,
                state: StateHandle::new(Box::new(
                    SqliteState::open(dir.path().join("state.db")).unwrap(),
                )),
                stats: Default::default(),
                health: Arc::new(crate::metrics::Health::new()),
                in_flight: Default::default(),
                shutdown: CancellationToken::new(),
            });
            let (pages_in, pages) = tokio::sync::mpsc::channel(1);
            let (out, mut records) = tokio::sync::mpsc::channel(1);
            let stage = tokio::spawn(run(ctx, pages, out));
            tokio::time::sleep(Duration::from_millis(100)).await;

            let write = tokio::task::spawn_blocking(|| "written");
            let written = tokio::time::timeout(Duration::from_secs(5), write).await;
            assert_eq!(
                written
                    .expect("blocking work waited behind the extraction workers")
                    .unwrap(),
                "written"
            );

            drop(pages_in);
            stage.await.unwrap().unwrap();
            assert!(
                records.recv().await.is_none(),
                "the stage closed its output"
            );
        });
    }
}
