//! The same generated pages through `newswire_extractor::extract` alone, in this process:
//! the yardstick the pipeline's CPU per article and throughput are compared with.

use std::time::Instant;

use newswire_extractor::FeedHints;
use serde::Serialize;
use url::Url;

use crate::generate;
use crate::probe;

/// One page as the pipeline sees it: its HTML, URL and what the feed said.
pub struct SamplePage {
    html: String,
    url: Option<Url>,
    hints: FeedHints,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExtractResult {
    pub threads: usize,
    pub pages: usize,
    pub wall_s: f64,
    pub pages_per_s: f64,
    pub cpu_ms_per_page: f64,
    /// CPU ms per page of every round, in the order run (the figures above are the
    /// median round's).
    pub rounds: Vec<f64>,
}

/// `count` pages spread evenly over all `feeds × articles` (so every template and size
/// class is represented in its share).
pub fn sample(feeds: u32, articles: u64, count: usize, origin: &str) -> Vec<SamplePage> {
    let total = u64::from(feeds) * articles;
    let count = (count as u64).min(total);
    (0..count)
        .map(|i| {
            let index = i * total / count;
            let (feed, seq) = ((index / articles) as u32, index % articles);
            let meta = generate::article_meta(feed, seq);
            SamplePage {
                html: generate::page(feed, seq, origin),
                url: Url::parse(&format!("{origin}{}", meta.path)).ok(),
                hints: FeedHints {
                    title: Some(meta.title),
                    authors: vec![meta.author],
                    published_at: Some(meta.published),
                    summary: Some(meta.summary),
                    tags: vec![meta.section.to_owned()],
                    ..FeedHints::default()
                },
            }
        })
        .collect()
}

/// `rounds` rounds of [`measure`] for each thread count, interleaved so that a slow spell
/// of the machine falls on both counts; for each count, the round of median CPU per page.
pub fn measure_rounds(
    pages: &[SamplePage],
    threads: &[usize],
    rounds: usize,
) -> Vec<ExtractResult> {
    let mut runs: Vec<Vec<ExtractResult>> = threads.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds.max(1) {
        for (count, runs) in threads.iter().zip(&mut runs) {
            runs.push(measure(pages, *count));
        }
    }
    runs.into_iter()
        .map(|mut runs| {
            let order: Vec<f64> = runs.iter().map(|r| r.cpu_ms_per_page).collect();
            runs.sort_by(|a, b| a.cpu_ms_per_page.total_cmp(&b.cpu_ms_per_page));
            let mut median = runs.swap_remove(runs.len() / 2);
            median.rounds = order;
            median
        })
        .collect()
}

/// The rounds taken while a run was paused ([`crate::run::Pauses`]), pooled per thread
/// count: CPU over all their pages, pages over all their wall time; `rounds` keeps each
/// pause's CPU ms/page in order.
pub fn pooled(results: &[ExtractResult], threads: usize) -> Option<ExtractResult> {
    let of_count: Vec<&ExtractResult> = results.iter().filter(|r| r.threads == threads).collect();
    let pages: usize = of_count.iter().map(|r| r.pages).sum();
    if pages == 0 {
        return None;
    }
    let cpu_ms: f64 = of_count
        .iter()
        .map(|r| r.cpu_ms_per_page * r.pages as f64)
        .sum();
    let wall_s: f64 = of_count.iter().map(|r| r.wall_s).sum();
    Some(ExtractResult {
        threads,
        pages,
        wall_s,
        pages_per_s: pages as f64 / wall_s.max(1e-9),
        cpu_ms_per_page: cpu_ms / pages as f64,
        rounds: of_count.iter().map(|r| r.cpu_ms_per_page).collect(),
    })
}

/// Extracts every page once on `threads` threads (pages dealt out round-robin).
pub fn measure(pages: &[SamplePage], threads: usize) -> ExtractResult {
    // One untimed page first so that lazy statics (regexes, language models) are built.
    if let Some(page) = pages.first() {
        std::hint::black_box(newswire_extractor::extract(
            &page.html,
            page.url.as_ref(),
            &page.hints,
        ));
    }
    let cpu_start = probe::own_cpu_s();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                let mut words = 0usize;
                for page in pages.iter().skip(t).step_by(threads) {
                    let article =
                        newswire_extractor::extract(&page.html, page.url.as_ref(), &page.hints);
                    words += article.text.len();
                }
                std::hint::black_box(words)
            });
        }
    });
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_s = probe::own_cpu_s() - cpu_start;
    ExtractResult {
        threads,
        pages: pages.len(),
        wall_s,
        pages_per_s: pages.len() as f64 / wall_s.max(1e-9),
        cpu_ms_per_page: cpu_s * 1000.0 / pages.len().max(1) as f64,
        rounds: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(threads: usize, pages: usize, wall_s: f64, cpu_ms_per_page: f64) -> ExtractResult {
        ExtractResult {
            threads,
            pages,
            wall_s,
            pages_per_s: pages as f64 / wall_s,
            cpu_ms_per_page,
            rounds: Vec::new(),
        }
    }

    #[test]
    fn pauses_pool_cpu_over_pages_and_pages_over_wall_time_per_thread_count() {
        let pauses = [
            round(1, 400, 0.4, 1.0),
            round(2, 400, 0.25, 1.2),
            round(1, 100, 0.2, 2.0),
        ];
        let one = pooled(&pauses, 1).expect("1-thread rounds");
        assert_eq!(one.pages, 500);
        assert!(
            (one.cpu_ms_per_page - 1.2).abs() < 1e-9,
            "{}",
            one.cpu_ms_per_page
        );
        assert!((one.pages_per_s - 500.0 / 0.6).abs() < 1e-9);
        assert_eq!(one.rounds, vec![1.0, 2.0]);
        assert_eq!(pooled(&pauses, 2).map(|r| r.pages), Some(400));
        assert!(pooled(&pauses, 4).is_none());
    }
}
