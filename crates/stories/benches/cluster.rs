//! Clustering throughput on real news text: the ECB+ development articles from `../shared`
//! (skipped when the corpus is absent). `cargo bench -p newswire-stories`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use newswire_stories::Config;
use newswire_stories::eval::{cluster_in_order, read_corpus};

fn bench(c: &mut Criterion) {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/stories-dev/ecbplus-dev"
    );
    let Ok(articles) = read_corpus(std::path::Path::new(dir)) else {
        eprintln!("corpus {dir} not found: nothing to measure");
        return;
    };
    let order: Vec<usize> = (0..articles.len()).collect();
    let config = Config::default();
    let mut group = c.benchmark_group("cluster");
    group.throughput(Throughput::Elements(articles.len() as u64));
    group.sample_size(10);
    group.bench_function("ecbplus_dev_772_articles", |b| {
        b.iter(|| cluster_in_order(&articles, &order, &config))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
