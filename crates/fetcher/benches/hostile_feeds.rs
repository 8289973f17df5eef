//! Criterion benchmark of `parse_feed` on hostile feed shapes at two sizes, to show that
//! the cost grows linearly with the body (a quadratic shape takes 16 times as long at four
//! times the size; a linear one 4 times).
//!
//! Run with `taskset -c 1 cargo bench -p newswire-fetcher --bench hostile_feeds`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use newswire_fetcher::parse_feed;
use url::Url;

/// Repeats `unit` (numbered with `{n}`) until the result holds about `bytes`.
fn repeat_numbered(unit: &str, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + unit.len() * 2);
    let mut n = 0;
    while out.len() < bytes {
        out.push_str(&unit.replace("{n}", &n.to_string()));
        n += 1;
    }
    out
}

fn rss(items: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Hostile</title>{items}</channel></rss>"#
    )
}

const SCRIPTS: &str =
    "<script>var a = '<p>';</script><STYLE>p { x: 1 }</STYLE><noscript>no</noscript>";

/// The hostile shapes, each built to about `bytes`.
fn shapes(bytes: usize) -> Vec<(&'static str, String)> {
    vec![
        (
            "script_tags_in_one_summary",
            rss(&format!(
                "<item><title>One</title><link>/1</link><description><![CDATA[{}]]></description></item>",
                repeat_numbered(SCRIPTS, bytes)
            )),
        ),
        (
            "rss10_items_never_closed",
            format!(
                r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="/"><title>T</title></channel>{}</rdf:RDF>"#,
                repeat_numbered(r#"<item rdf:about="/story/{n}"><title>S{n}</title>"#, bytes)
            ),
        ),
        (
            "authors_on_one_entry",
            rss(&format!(
                "<item><title>Crowd</title><link>/1</link>{}</item>",
                repeat_numbered("<dc:creator>Writer {n}</dc:creator>", bytes)
            )),
        ),
        (
            "declared_entity_expansion",
            format!(
                r#"<!DOCTYPE rss [<!ENTITY lol "{}">]><rss version="2.0"><channel><title>A & B</title><item><title>t</title><link>/1</link><description>{}</description></item></channel></rss>"#,
                "laugh ".repeat(10_000),
                "&lol;".repeat(bytes / 5)
            ),
        ),
    ]
}

fn hostile_feeds(c: &mut Criterion) {
    let base = Url::parse("https://hostile.example/feed.xml").expect("static URL");
    let mut group = c.benchmark_group("parse_feed_hostile");
    group.sample_size(10);
    for bytes in [256 * 1024, 1024 * 1024] {
        for (name, document) in shapes(bytes) {
            group.throughput(Throughput::Bytes(document.len() as u64));
            group.bench_with_input(BenchmarkId::new(name, bytes / 1024), &document, |b, d| {
                b.iter(|| parse_feed(d.as_bytes(), None, &base))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, hostile_feeds);
criterion_main!(benches);
