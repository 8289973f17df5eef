//! End-to-end behaviours of the extractor on small hand-written pages (fixtures named
//! after what they prove): dates from visible text and URLs, bylines in other languages,
//! and the deadline of `extract_until`.

use std::path::Path;
use std::time::{Duration, Instant};

use newswire_extractor::{ExtractError, ExtractOptions, FeedHints, extract, extract_until};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn day(article: &newswire_extractor::Article) -> Option<String> {
    article.published_at.map(|d| d.date_naive().to_string())
}

#[test]
fn date_in_german_visible_text_is_the_publication_not_the_update() {
    let html = fixture("dates/date_in_german_visible_text.html");
    let a = extract(&html, None, &FeedHints::default());
    assert_eq!(day(&a).as_deref(), Some("2019-03-12"));
    assert_eq!(a.extraction.date_source.as_deref(), Some("text"));
    assert_eq!(
        a.updated_at.map(|d| d.date_naive().to_string()).as_deref(),
        Some("2019-03-14")
    );
}

#[test]
fn date_in_url_beats_an_updated_label() {
    let html = fixture("dates/date_only_in_url_and_updated_label.html");
    let url = url::Url::parse("https://news.example.org/2019/03/11/harbour-reopens").ok();
    let a = extract(&html, url.as_ref(), &FeedHints::default());
    assert_eq!(day(&a).as_deref(), Some("2019-03-11"));
    assert_eq!(a.extraction.date_source.as_deref(), Some("url"));
}

#[test]
fn page_without_any_date_gets_none() {
    let html = "<html><body><h1>A headline</h1><p>Text without a date, about 12 boats \
        and 2019 visitors.</p></body></html>";
    let a = extract(html, None, &FeedHints::default());
    assert_eq!(a.published_at, None);
    assert_eq!(a.extraction.date_source, None);
}

#[test]
fn byline_in_french_visible_text_names_both_authors() {
    let html = fixture("bylines/byline_in_french_visible_text.html");
    let a = extract(&html, None, &FeedHints::default());
    assert_eq!(a.authors, vec!["Marie Dupont", "Jean Martin"]);
    assert_eq!(day(&a).as_deref(), Some("2019-03-12"));
}

#[test]
fn a_passed_deadline_stops_the_extraction_with_a_named_error() {
    let html = fixture("dates/date_in_german_visible_text.html");
    let past = Instant::now()
        .checked_sub(Duration::from_millis(1))
        .unwrap_or_else(Instant::now);
    let result = extract_until(
        &html,
        None,
        &FeedHints::default(),
        &ExtractOptions::default(),
        past,
    );
    assert!(matches!(result, Err(ExtractError::DeadlineExceeded { .. })));
    let later = Instant::now() + Duration::from_secs(60);
    let ok = extract_until(
        &html,
        None,
        &FeedHints::default(),
        &ExtractOptions::default(),
        later,
    );
    assert!(ok.is_ok_and(|a| a.text.contains("Brücke")));
}
