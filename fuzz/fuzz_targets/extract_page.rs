//! Any text → `newswire_extractor::extract` (guard pre-pass, html5ever, body search,
//! metadata, wall detection), with and without a URL and feed hints: it must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newswire_extractor::{FeedHints, extract};

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let url =
        url::Url::parse("https://news.example.org/2026/01/02/story.html").expect("static URL");
    let hints = FeedHints {
        title: Some("Feed title".into()),
        summary: Some("Feed summary text.".into()),
        ..FeedHints::default()
    };
    let _ = extract(&html, Some(&url), &hints);
    let _ = extract(&html, None, &FeedHints::default());
});
