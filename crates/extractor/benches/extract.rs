//! Criterion benchmark of `extract` over a fixed set of pages, next to html5ever parsing
//! alone (the floor of any DOM-based extractor).
//!
//! Pages: the first 40 pages (by id) of the shared article-extraction-benchmark corpus when
//! it is present next to the repository, else this crate's own test fixtures.
//! Run with `taskset -c 1 cargo bench -p newswire-extractor`.

use std::io::Read;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use newswire_extractor::{FeedHints, extract};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/article-extraction-benchmark/html")
}

fn load_pages() -> Vec<String> {
    let mut pages = Vec::new();
    if let Ok(entries) = std::fs::read_dir(corpus_dir()) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".html.gz"))
            .take(40)
        {
            let mut html = String::new();
            if let Ok(file) = std::fs::File::open(&path)
                && flate2::read::GzDecoder::new(file)
                    .read_to_string(&mut html)
                    .is_ok()
            {
                pages.push(html);
            }
        }
    }
    if pages.is_empty() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        if let Ok(entries) = std::fs::read_dir(fixtures) {
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            pages.extend(paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
        }
    }
    pages
}

fn bench(c: &mut Criterion) {
    let pages = load_pages();
    let bytes: usize = pages.iter().map(String::len).sum();
    let hints = FeedHints::default();
    let mut group = c.benchmark_group("pages");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.bench_function("extract", |b| {
        b.iter(|| {
            for page in &pages {
                std::hint::black_box(extract(page, None, &hints));
            }
        })
    });
    group.bench_function("html5ever_parse_only", |b| {
        b.iter(|| {
            for page in &pages {
                std::hint::black_box(scraper::Html::parse_document(page));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
