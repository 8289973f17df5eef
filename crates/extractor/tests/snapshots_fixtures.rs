//! Snapshot tests of extracted text and metadata on hand-written pages shaped like real
//! news pages, with every boilerplate kind the pipeline must remove (skip links, cookie
//! notices, navigation, bylines, share bars, captions and photo credits, related lists,
//! newsletter boxes, "Read more", donation appeals, tags, comments, footers).

use newswire_extractor::{Article, FeedHints, extract};
use url::Url;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading fixture {}: {e}", path.display()))
}

fn run(name: &str, url: &str) -> Article {
    let url = Url::parse(url).ok();
    extract(&fixture(name), url.as_ref(), &FeedHints::default())
}

/// Metadata as a stable, readable block for snapshots.
fn metadata_summary(a: &Article) -> String {
    format!(
        "title: {:?}\nauthors: {:?}\npublished_at: {:?}\nupdated_at: {:?}\nlanguage: {:?}\nsite_name: {:?}\ncanonical_url: {:?}\nimage: {:?}\ntags: {:?}\nsummary: {:?}\nmethod: {}\nwarnings: {:?}",
        a.title,
        a.authors,
        a.published_at.map(|d| d.to_rfc3339()),
        a.updated_at.map(|d| d.to_rfc3339()),
        a.language,
        a.site_name,
        a.canonical_url,
        a.image,
        a.tags,
        a.summary,
        a.extraction.method,
        a.extraction.warnings
    )
}

#[test]
fn boilerplate_is_removed_and_article_structure_kept() {
    let article = run(
        "boilerplate_everywhere.html",
        "https://ledger.example/news/harbour-ferry-resumes",
    );
    let text = &article.text;
    for furniture in [
        "Skip to",
        "cookies",
        "Share on",
        "Photo:",
        "Tomas Reyna",
        "Storm closes coastal road",
        "Sign up",
        "Subscribers agree",
        "Read more",
        "Dear readers",
        "Remind me later",
        "Monthly",
        "Most read",
        "All rights reserved",
        "Great news at last",
        "Transport Reporter",
    ] {
        assert!(
            !text.contains(furniture),
            "{furniture:?} leaked into the text:\n{text}"
        );
    }
    // Headings, block quotes and lists of the article stay, as separate paragraphs.
    assert!(text.contains("\n\nA timetable for spring\n\n"));
    assert!(text.contains("grateful for their patience"));
    assert!(text.contains("Weekend sailings: every ninety minutes from 8am"));
    assert!(text.starts_with("The passenger ferry"));
    assert!(text.ends_with("only at high tide."));
    insta::assert_snapshot!("boilerplate_everywhere_text", text);
    insta::assert_snapshot!("boilerplate_everywhere_meta", metadata_summary(&article));
}

#[test]
fn json_ld_graph_page() {
    let article = run(
        "json_ld_graph.html",
        "https://rundschau.example/lokal/bruecke",
    );
    assert_eq!(article.authors, vec!["Lena Vogt", "Jonas Albrecht"]);
    assert_eq!(article.language.as_deref(), Some("de"));
    assert!(!article.text.contains("Foto:"));
    insta::assert_snapshot!("json_ld_graph_text", &article.text);
    insta::assert_snapshot!("json_ld_graph_meta", metadata_summary(&article));
}

#[test]
fn paywall_falls_back_to_the_feed() {
    let hints = FeedHints {
        summary: Some("Energy prices and a cold season weigh on investors.".to_owned()),
        ..FeedHints::default()
    };
    let article = extract(&fixture("paywall.html"), None, &hints);
    assert_eq!(article.extraction.method, "feed");
    assert!(
        article
            .extraction
            .warnings
            .iter()
            .any(|w| w.starts_with("paywall")),
        "{:?}",
        article.extraction
    );
    assert_eq!(
        article.text,
        "Energy prices and a cold season weigh on investors."
    );
    assert_eq!(
        article.title.as_deref(),
        Some("Markets brace for a long winter")
    );
}

#[test]
fn consent_wall_is_reported() {
    let article = extract(&fixture("consent_wall.html"), None, &FeedHints::default());
    assert!(
        article
            .extraction
            .warnings
            .iter()
            .any(|w| w.starts_with("consent wall")),
        "{:?}",
        article.extraction
    );
}
