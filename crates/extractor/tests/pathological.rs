//! Hostile pages must finish quickly with a warning, never hang, overflow the stack or
//! return junk silently. (No timing assertions here: the guards make the work small, the
//! benchmark measures speed.)

use newswire_extractor::{FeedHints, extract};

fn warnings_of(html: &str) -> Vec<String> {
    extract(html, None, &FeedHints::default())
        .extraction
        .warnings
}

#[test]
fn hundred_thousand_nested_elements() {
    let html = format!(
        "<html><body>{}<p>deep text</p>{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let warnings = warnings_of(&html);
    assert!(
        warnings.iter().any(|w| w.contains("flattened")),
        "{warnings:?}"
    );
}

#[test]
fn hundred_thousand_unclosed_inline_elements() {
    let html = format!(
        "<html><body><p>{}text</p></body></html>",
        "<b><i>".repeat(50_000)
    );
    let warnings = warnings_of(&html);
    assert!(
        warnings.iter().any(|w| w.contains("flattened")),
        "{warnings:?}"
    );
}

#[test]
fn fifty_megabyte_text_node() {
    let mut html = String::with_capacity(50 * 1024 * 1024 + 100);
    html.push_str("<html><body><p>");
    while html.len() < 50 * 1024 * 1024 {
        html.push_str("word ");
    }
    html.push_str("</p></body></html>");
    let article = extract(&html, None, &FeedHints::default());
    assert!(
        article
            .extraction
            .warnings
            .iter()
            .any(|w| w.contains("truncated")),
        "{:?}",
        article.extraction
    );
    assert!(article.text.len() <= newswire_extractor::Limits::default().max_text_bytes);
}

#[test]
fn page_without_body() {
    let warnings = warnings_of("<html><head><title>Nothing here</title></head></html>");
    assert!(
        warnings
            .iter()
            .any(|w| w == newswire_extractor::warnings::EMPTY),
        "{warnings:?}"
    );
}

#[test]
fn page_of_frames_only() {
    let warnings = warnings_of(
        r#"<html><head><title>Frames</title></head><frameset cols="50%,50%"><frame src="a.html"><frame src="b.html"></frameset></html>"#,
    );
    assert!(
        warnings
            .iter()
            .any(|w| w == newswire_extractor::warnings::FRAMES),
        "{warnings:?}"
    );
}

#[test]
fn binary_garbage() {
    let mut state = 0x1234_5678_u32;
    let garbage: String = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from((state & 0xff) as u8)
        })
        .collect();
    let article = extract(&garbage, None, &FeedHints::default());
    assert!(article.text.is_empty());
    assert!(
        article
            .extraction
            .warnings
            .iter()
            .any(|w| w.contains("not text")),
        "{:?}",
        article.extraction
    );
}

#[test]
fn empty_input() {
    let warnings = warnings_of("");
    assert!(
        warnings
            .iter()
            .any(|w| w == newswire_extractor::warnings::EMPTY),
        "{warnings:?}"
    );
}
