//! Hostile feeds and pages with a bound on time and on memory, through the fetcher's pure
//! entry points (`parse_feed`, `charset::decode`): nested entity expansion ("billion
//! laughs"), a 100,000-entry feed, invalid UTF-8 in every field, a 1 MiB attribute.
//!
//! The network-level cases (slow drips, bombs, redirect loops, a 20,000-entry feed over
//! HTTP) are in `adversarial.rs` next to this file and in
//! `compression_bombs.rs`; the flat entity repetition and quadratic text shapes are in
//! `src/feed/hostile_tests.rs`. A counting global allocator (`newswire-test-support`)
//! records the peak heap growth of each case (the input is built before and not counted);
//! each test holds one lock throughout.
//! Time bounds are generous ceilings for a debug build on a loaded 2-core machine.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use newswire_fetcher::charset::{self, DocumentKind};
use newswire_fetcher::{FetchError, ParsedFeed, parse_feed};
use newswire_test_support::{CountingAllocator, HeapMeter};
use url::Url;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

static SERIAL: Mutex<()> = Mutex::new(());

/// Held for a whole test, input building included: the allocator's counters are
/// process-wide, so another test building its multi-megabyte input while a case is measured
/// would count as that case's growth (CI saw an 8 MiB input counted this way).
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const MIB: usize = 1024 * 1024;
const TIME_BOUND: Duration = Duration::from_secs(60);

fn base() -> Url {
    Url::parse("https://hostile.example/feed.xml").expect("static URL")
}

/// Runs `work` alone; returns its result, the peak heap growth and prints both.
fn measured<T>(case: &str, input_bytes: usize, work: impl FnOnce() -> T) -> (T, usize) {
    let meter = HeapMeter::start();
    let started = Instant::now();
    let result = work();
    let took = started.elapsed();
    let peak = meter.peak_growth();
    println!(
        "{case}: input {:.2} MiB, peak heap growth {:.1} MiB, {:.2} s",
        input_bytes as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        took.as_secs_f64()
    );
    assert!(took < TIME_BOUND, "{case}: took {took:?}");
    (result, peak)
}

fn parse(case: &str, document: &[u8]) -> (Result<ParsedFeed, FetchError>, usize) {
    let (result, peak) = measured(case, document.len(), || parse_feed(document, None, &base()));
    if let Err(error) = &result {
        assert!(error.to_string().contains("hostile.example"), "{error}");
    }
    (result, peak)
}

#[test]
fn billion_laughs_nested_entities_stay_bounded() {
    let _serial = serial();
    // Ten levels, each entity ten references to the one below: 10^9 "lol"s if expanded.
    let mut dtd = String::from("<!ENTITY lol0 \"lol\">");
    for level in 1..=9 {
        let below = format!("&lol{};", level - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY lol{level} \"{below}\">"));
    }
    // The bare '&' in the title makes the first parse fail, which sends the document
    // through the repair pass that expands declared entities.
    let document = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE rss [{dtd}]><rss version=\"2.0\"><channel>\
         <title>Laughs & co</title><item><title>&lol9;</title><link>https://hostile.example/1</link>\
         <description>&lol9;&lol9;</description></item></channel></rss>"
    );
    let (result, peak) = parse("billion laughs", document.as_bytes());
    assert!(peak < 16 * MIB, "{peak} bytes");
    if let Ok(feed) = result {
        for entry in &feed.entries {
            let sizes = entry.title.as_deref().map_or(0, str::len)
                + entry.summary.as_deref().map_or(0, str::len);
            // The expansion budget is about the document's own size, not 3 GB.
            assert!(sizes < 64 * document.len().max(4096), "{sizes} bytes");
        }
    }
}

#[test]
fn hundred_thousand_entry_feed_is_bounded() {
    let _serial = serial();
    let mut document = String::with_capacity(8 * MIB);
    document.push_str(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Many</title>\
         <link>https://hostile.example/</link>",
    );
    for n in 0..100_000 {
        document.push_str(&format!(
            "<item><title>Item {n}</title><link>https://hostile.example/a/{n}</link></item>"
        ));
    }
    document.push_str("</channel></rss>");
    // 7.6 MB: under the default fetch.max_body_bytes (10 MiB), so a server can send it.
    assert!(document.len() < 10 * MIB);
    let (result, peak) = parse("100,000-entry feed", document.as_bytes());
    let feed = result.expect("a well-formed feed parses");
    assert_eq!(feed.entries.len(), 100_000);
    // About 1 KB per parsed entry (URL, id, title, the empty fields): 13 times the input
    // was measured (105 MiB); the bound leaves half as much again. The pipeline keeps only
    // `fetch.max_entries_per_poll` of them past the poll.
    assert!(peak < 20 * document.len(), "{peak} bytes");
}

#[test]
fn invalid_utf8_in_every_feed_field() {
    let _serial = serial();
    // \xFF and \xC3\x28 are never valid UTF-8; \xE9 is Latin-1 "é".
    let bad = "\u{0}"; // placeholder, replaced by raw bytes below
    let template = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
         <channel><title>Caf{bad} news</title><link>https://hostile.example/{bad}</link>\
         <description>Desc {bad}</description><language>e{bad}n</language>\
         <item><title>Title {bad}</title><link>https://hostile.example/a/{bad}1</link>\
         <guid>guid-{bad}</guid><pubDate>Mon, 0{bad} Jan 2026 10:00:00 GMT</pubDate>\
         <dc:creator>Ren{bad}e</dc:creator><category>Cat{bad}</category>\
         <description>Summary {bad} text</description></item>\
         <item><title>Second</title><link>https://hostile.example/a/2</link></item></channel></rss>"
    );
    let mut document = Vec::new();
    for (i, part) in template.split(bad).enumerate() {
        if i > 0 {
            document.extend_from_slice(if i % 2 == 0 { b"\xFF\xC3\x28" } else { b"\xE9" });
        }
        document.extend_from_slice(part.as_bytes());
    }
    assert!(std::str::from_utf8(&document).is_err());
    let (result, peak) = parse("invalid UTF-8 in every field", &document);
    assert!(peak < 4 * MIB, "{peak} bytes");
    let feed = result.expect("a feed with bad bytes still parses");
    assert_eq!(feed.entries.len(), 2);
    let first = &feed.entries[0];
    assert!(
        first
            .title
            .as_deref()
            .is_some_and(|t| t.starts_with("Title")),
        "{first:?}"
    );
    assert!(first.link.is_some(), "{first:?}");
    assert_eq!(
        feed.entries[1].link.as_ref().map(Url::as_str),
        Some("https://hostile.example/a/2")
    );
}

#[test]
fn invalid_utf8_page_decodes_to_text_of_the_same_order_of_size() {
    let _serial = serial();
    let mut page = Vec::with_capacity(2 * MIB);
    page.extend_from_slice(
        b"<html><head><meta charset=\"utf-8\"><title>T\xFF</title></head><body>",
    );
    while page.len() < 2 * MIB {
        page.extend_from_slice(b"<p>word \xC3\x28 caf\xE9 \xF0\x9F text</p>");
    }
    page.extend_from_slice(b"</body></html>");
    let (decoded, peak) = measured("invalid UTF-8 page, 2 MiB", page.len(), || {
        charset::decode(
            &page,
            Some("text/html; charset=utf-8"),
            DocumentKind::Html,
            None,
        )
    });
    // Every byte becomes at most one 3-byte replacement character or one character.
    assert!(decoded.text.len() <= 3 * page.len());
    assert!(peak < 8 * page.len(), "{peak} bytes");
    assert!(decoded.text.contains("word"));
}

#[test]
fn one_megabyte_attribute_in_a_feed_is_bounded() {
    let _serial = serial();
    let huge = "x".repeat(MIB);
    let document = format!(
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Big</title>\
         <id>urn:big</id><updated>2026-01-01T00:00:00Z</updated>\
         <entry><title type=\"text\" data-x=\"{huge}\">Entry</title><id>urn:1</id>\
         <link rel=\"alternate\" href=\"https://hostile.example/{huge}\"/>\
         <updated>2026-01-01T00:00:00Z</updated></entry>\
         <entry><title>Second</title><id>urn:2</id><link href=\"https://hostile.example/2\"/>\
         <updated>2026-01-01T00:00:00Z</updated></entry></feed>"
    );
    let (result, peak) = parse("1 MiB attributes in a feed", document.as_bytes());
    assert!(peak < 32 * MIB, "{peak} bytes");
    let feed = result.expect("well-formed Atom parses");
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(
        feed.entries[1].link.as_ref().map(Url::as_str),
        Some("https://hostile.example/2")
    );
}
