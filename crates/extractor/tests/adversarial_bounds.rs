//! Hostile pages with a bound on time and on memory: whatever the shape, one extraction
//! stays within a fixed multiple of the guard's input limit (6 MiB) and finishes in seconds.
//!
//! `pathological.rs` checks what these pages produce (warnings, truncation); this file checks
//! what they cost. A counting global allocator (`newswire-test-support`) records the peak
//! heap growth during one `extract` call (the input itself is built before and not
//! counted); each test holds one lock throughout, so that each peak is its own. The time
//! bounds are generous ceilings for a debug build on a loaded 2-core machine: they catch quadratic behaviour (minutes), they are not
//! speed targets (the benchmark measures speed). Measured values are printed with
//! `--nocapture`.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use newswire_extractor::{Article, FeedHints, Limits, extract};
use newswire_test_support::{CountingAllocator, HeapMeter};

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
/// Ceiling for one extraction in a debug build on a shared machine.
const TIME_BOUND: Duration = Duration::from_secs(30);

/// Extracts `html` alone, and returns the article, the peak heap growth and the time.
fn measured(case: &str, html: &str) -> (Article, usize, Duration) {
    let meter = HeapMeter::start();
    let started = Instant::now();
    let article = extract(html, None, &FeedHints::default());
    let took = started.elapsed();
    let peak = meter.peak_growth();
    println!(
        "{case}: input {:.1} MiB, peak heap growth {:.1} MiB, {:.2} s",
        html.len() as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        took.as_secs_f64()
    );
    assert!(took < TIME_BOUND, "{case}: took {took:?}");
    (article, peak, took)
}

/// Memory allowed for one page: a multiple of what the guard lets through to the parser,
/// whatever the size of the input.
fn memory_bound() -> usize {
    24 * Limits::default().max_input_bytes
}

#[test]
fn hundred_thousand_deep_nesting_is_bounded() {
    let _serial = serial();
    let html = format!(
        "<html><body>{}<p>deep text</p>{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let (_, peak, _) = measured("100,000-deep nesting", &html);
    assert!(peak < memory_bound(), "{peak} bytes");
}

#[test]
fn million_sibling_elements_are_bounded() {
    let _serial = serial();
    // html5ever's DOM costs about 400 bytes per element, so a page of tiny elements under
    // the 6 MiB input limit took ~430 MiB before the guard capped the element count
    // (`Limits::max_elements`). One million <p> siblings (an open <p> closes the previous
    // one): 5 MB, under the byte limit; the element cap cuts it.
    let mut html = String::with_capacity(5 * MIB + 64);
    html.push_str("<html><body><article>");
    for i in 0..1_000_000u32 {
        html.push_str(if i % 2 == 0 { "<p>ab" } else { "<p>cd" });
    }
    html.push_str("</article></body></html>");
    let (article, peak, _) = measured("1,000,000 sibling <p>", &html);
    assert!(peak < memory_bound(), "{peak} bytes");
    assert!(
        article
            .extraction
            .warnings
            .iter()
            .any(|w| w.contains("elements")),
        "{:?}",
        article.extraction.warnings
    );
    assert!(article.text.len() <= Limits::default().max_text_bytes);
}

#[test]
fn million_sibling_empty_divs_are_cut_by_the_input_limit() {
    let _serial = serial();
    // 11 MB of markup: the guard cuts it to its input limit before parsing.
    let html = format!(
        "<html><body>{}</body></html>",
        "<div></div>".repeat(1_000_000)
    );
    let (_, peak, _) = measured("1,000,000 sibling empty <div>", &html);
    // The element cap bounds it like the sibling <p> above.
    assert!(peak < memory_bound(), "{peak} bytes");
}

#[test]
fn fifty_megabyte_text_node_is_bounded() {
    let _serial = serial();
    let mut html = String::with_capacity(50 * MIB + 100);
    html.push_str("<html><body><p>");
    while html.len() < 50 * MIB {
        html.push_str("word ");
    }
    html.push_str("</p></body></html>");
    let (article, peak, _) = measured("50 MiB text node", &html);
    // Memory follows the guard's limit, not the 50 MiB input.
    assert!(peak < memory_bound(), "{peak} bytes");
    assert!(article.text.len() <= Limits::default().max_text_bytes);
}

#[test]
fn one_megabyte_attribute_is_bounded_and_not_copied_into_fields() {
    let _serial = serial();
    let huge = "x".repeat(MIB);
    let html = format!(
        "<html><head><title>Ferry timetable changes</title>\
         <meta property=\"og:image\" content=\"https://img.example.org/{huge}.jpg\">\
         </head><body><article data-tracking=\"{huge}\" class=\"{huge}\">\
         <h1 title=\"{huge}\">Ferry timetable changes</h1>\
         <p style=\"{huge}\">The harbour authority published a new ferry timetable on Monday, \
         adding two early crossings on weekdays and dropping the last Sunday sailing, which \
         carried few passengers over the winter.</p>\
         <p><a href=\"https://example.org/{huge}\">Passengers</a> can check the changes at the \
         terminal, where printed copies are available from the ticket office until the end of \
         the month.</p></article></body></html>"
    );
    let (article, peak, _) = measured("1 MiB attributes", &html);
    assert!(peak < memory_bound(), "{peak} bytes");
    assert!(
        article.text.contains("new ferry timetable"),
        "{}",
        article.text
    );
    assert!(!article.text.contains("xxxxxxxx"));
    assert_eq!(article.title.as_deref(), Some("Ferry timetable changes"));
}

#[test]
fn one_megabyte_meta_values_do_not_become_megabyte_fields() {
    let _serial = serial();
    // Titles and descriptions from metadata are shown in UIs and indexed: a hostile page
    // must not be able to make a record's title a megabyte long.
    let huge = "Headline words ".repeat(MIB / 15);
    let html = format!(
        "<html><head><title>{huge}</title><meta property=\"og:title\" content=\"{huge}\">\
         <meta name=\"description\" content=\"{huge}\"><meta name=\"author\" content=\"{huge}\">\
         </head><body><article><p>The harbour authority published a new ferry timetable on \
         Monday, adding two early crossings on weekdays and dropping the last Sunday sailing.\
         </p></article></body></html>"
    );
    let (article, peak, _) = measured("1 MiB metadata values", &html);
    assert!(peak < memory_bound(), "{peak} bytes");
    let title = article.title.as_deref().unwrap_or("").len();
    let summary = article.summary.as_deref().unwrap_or("").len();
    let authors: usize = article.authors.iter().map(String::len).sum();
    println!("field sizes: title {title}, summary {summary}, authors {authors} bytes");
    // Each field is capped at its documented limit (`newswire_extractor::bounds`), with a
    // warning, whatever the size of the value it came from.
    use newswire_extractor::bounds;
    assert!(
        title > 0 && title <= bounds::MAX_TITLE_CHARS * 4,
        "title: {title} bytes"
    );
    assert!(
        summary <= bounds::MAX_SUMMARY_CHARS * 4,
        "summary: {summary} bytes"
    );
    assert!(
        authors <= bounds::MAX_AUTHORS * bounds::MAX_AUTHOR_CHARS * 4,
        "authors: {authors} bytes"
    );
    assert!(
        article
            .extraction
            .warnings
            .iter()
            .any(|w| w.starts_with("title longer than")),
        "{:?}",
        article.extraction.warnings
    );
}

#[test]
fn replacement_characters_everywhere_are_handled() {
    let _serial = serial();
    // What a page with an invalid UTF-8 sequence in every field looks like after lossy
    // decoding. (Pages that are mostly U+FFFD are refused by the guard as wrongly decoded;
    // that case is in pathological.rs.)
    let bad = "caf\u{FFFD}";
    let paragraph = format!(
        "Bridge works in the old town {bad} will close the eastern approach for three weeks \
         starting on Monday, the council said, {bad} with diversions signposted. "
    );
    let html = format!(
        "<html lang=\"{bad}\"><head><meta charset=\"{bad}\"><title>Bridge {bad} works</title>\
         <meta name=\"author\" content=\"{bad}\"><meta property=\"article:published_time\" content=\"{bad}\">\
         <link rel=\"canonical\" href=\"https://example.org/{bad}\">\
         <script type=\"application/ld+json\">{{\"@type\":\"NewsArticle\",\"headline\":\"{bad}\",\"datePublished\":\"{bad}\"}}</script>\
         </head><body><article><h1>Bridge {bad} works</h1><p>{}</p><p>{}</p></article></body></html>",
        paragraph.repeat(3),
        paragraph.repeat(2)
    );
    let (article, peak, _) = measured("U+FFFD in every field", &html);
    assert!(peak < memory_bound(), "{peak} bytes");
    assert!(
        article.text.contains("Bridge works"),
        "{:?}",
        article.extraction
    );
    assert_eq!(article.published_at, None);
}
