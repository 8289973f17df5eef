//! One fixture per feed-reading behaviour (issue 10), each run through `parse_feed`, the
//! function `newswire feeds show FILE --url URL` and the pipeline use, and checked field
//! by field. The fixtures were written for this test (tests/fixtures/feeds/).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use newswire_fetcher::{FetchError, ParsedFeed, parse_feed};
use proptest::prelude::*;
use url::Url;

const DOCUMENT_URI: &str = "https://fixtures.example/feeds/feed.xml";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/feeds")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn show(name: &str) -> ParsedFeed {
    let base = Url::parse(DOCUMENT_URI).expect("static URL");
    parse_feed(&fixture(name), None, &base).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn date(feed_date: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    feed_date.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn link(url: &Option<Url>) -> Option<&str> {
    url.as_ref().map(Url::as_str)
}

#[test]
fn channel_without_items_keeps_metadata() {
    let feed = show("channel_without_items_keeps_metadata.xml");
    assert!(feed.entries.is_empty());
    assert_eq!(feed.title.as_deref(), Some("Harbour Gazette"));
    assert_eq!(link(&feed.link), Some("https://harbour.example/"));
    assert_eq!(feed.description.as_deref(), Some("News from the quay"));
    assert_eq!(feed.language.as_deref(), Some("en-GB"));
    assert_eq!(feed.authors, ["Mary Quay"]);
    assert_eq!(
        date(feed.published).as_deref(),
        Some("2026-03-02T07:15:00Z")
    );
}

#[test]
fn dublin_core_fallback_item() {
    let feed = show("dublin_core_fallback_item.xml");
    assert_eq!(feed.title.as_deref(), Some("Valley Courier"));
    assert_eq!(feed.description.as_deref(), Some("Stories from the valley"));
    assert_eq!(feed.language.as_deref(), Some("de-AT"));
    assert_eq!(feed.authors, ["Anna Berg"]);
    assert_eq!(feed.categories, ["Regional"]);
    assert_eq!(date(feed.updated).as_deref(), Some("2026-03-02T09:00:00Z"));
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Bridge reopens"));
    assert_eq!(
        entry.summary.as_deref(),
        Some("The old bridge is open again.")
    );
    assert_eq!(entry.authors, ["Jonas Hof"]);
    assert_eq!(entry.categories, ["Transport"]);
    assert_eq!(
        date(entry.published).as_deref(),
        Some("2026-03-01T08:30:00Z")
    );
    assert_eq!(date(entry.updated).as_deref(), Some("2026-03-01T12:00:00Z"));
}

#[test]
fn managing_editor_and_webmaster_as_authors() {
    let feed = show("managing_editor_and_webmaster_as_authors.xml");
    // webMaster is the publisher; it stands in only when the feed names no author.
    assert_eq!(feed.authors, ["Site Team"]);
}

#[test]
fn atom03_tagline_and_dates() {
    let feed = show("atom03_tagline_and_dates.xml");
    assert_eq!(feed.title.as_deref(), Some("Le Fil"));
    assert_eq!(feed.description.as_deref(), Some("Les nouvelles du jour"));
    assert_eq!(feed.id.as_deref(), Some("tag:lefil.example,2026:feed"));
    assert_eq!(link(&feed.link), Some("https://lefil.example/"));
    assert_eq!(feed.language.as_deref(), Some("fr"));
    assert_eq!(feed.authors, ["Claire Dubois"]);
    assert_eq!(date(feed.updated).as_deref(), Some("2026-03-02T08:00:00Z"));
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Grève levée"));
    assert_eq!(link(&entry.link), Some("https://lefil.example/greve"));
    assert_eq!(entry.id.as_deref(), Some("tag:lefil.example,2026:1"));
    assert_eq!(
        date(entry.published).as_deref(),
        Some("2026-03-01T17:00:00Z")
    );
    assert_eq!(date(entry.updated).as_deref(), Some("2026-03-01T19:30:00Z"));
    assert_eq!(entry.summary.as_deref(), Some("La grève est terminée."));
    assert_eq!(
        entry.content.as_deref(),
        Some("<p>La grève est <b>terminée</b>.</p>")
    );
}

#[test]
fn atom03_content_base64() {
    let feed = show("atom03_content_base64.xml");
    let entry = &feed.entries[0];
    assert_eq!(entry.content.as_deref(), Some("<p>Hello <b>world</b></p>"));
    assert_eq!(entry.summary.as_deref(), Some("Hello world"));
}

#[test]
fn link_without_href_loses_to_alternate() {
    let feed = show("link_without_href_loses_to_alternate.xml");
    assert_eq!(link(&feed.link), Some("https://links.example/"));
    assert_eq!(link(&feed.entries[0].link), Some("https://links.example/1"));
}

#[test]
fn enclosure_never_wins_over_item_link() {
    let feed = show("enclosure_never_wins_over_item_link.xml");
    let entry = &feed.entries[0];
    assert_eq!(
        link(&entry.link),
        Some("https://pictures.example/photo-story")
    );
    assert_eq!(
        link(&entry.image),
        Some("https://cdn.pictures.example/photo.jpg")
    );
}

#[test]
fn rss20_module_unusual_prefix() {
    let feed = show("rss20_module_unusual_prefix.xml");
    let entry = &feed.entries[0];
    assert_eq!(entry.authors, ["Pat Lee"]);
    assert_eq!(date(entry.updated).as_deref(), Some("2026-03-02T12:00:00Z"));
    assert_eq!(entry.summary.as_deref(), Some("Short version."));
    assert_eq!(
        entry.content.as_deref(),
        Some("<p>Full <em>version</em>.</p>")
    );
}

#[test]
fn atom_bound_to_prefix() {
    let feed = show("atom_bound_to_prefix.xml");
    assert_eq!(feed.title.as_deref(), Some("Prefixed Atom"));
    assert_eq!(link(&feed.link), Some("https://prefixed.example/"));
    assert_eq!(
        feed.id.as_deref(),
        Some("urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6")
    );
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Cats & dogs"));
    assert_eq!(link(&entry.link), Some("https://prefixed.example/pets"));
    assert_eq!(date(entry.updated).as_deref(), Some("2026-03-02T09:00:00Z"));
    assert_eq!(entry.authors, ["Sam Rivera"]);
    assert_eq!(entry.categories, ["animals"]);
    assert_eq!(
        entry.content.as_deref(),
        Some("<p>Cats and <b>dogs</b>.</p>")
    );
}

#[test]
fn rss090_items() {
    let feed = show("rss090_items.xml");
    assert_eq!(feed.title.as_deref(), Some("Netscape Era"));
    assert_eq!(feed.description.as_deref(), Some("Retro news"));
    let links: Vec<_> = feed.entries.iter().map(|e| link(&e.link)).collect();
    assert_eq!(
        links,
        [Some("https://old.example/1"), Some("https://old.example/2")]
    );
    assert_eq!(feed.entries[1].title.as_deref(), Some("Second item"));
}

#[test]
fn doctype_entities() {
    let feed = show("doctype_entities.xml");
    assert_eq!(feed.title.as_deref(), Some("Entity Weekly"));
    assert_eq!(
        feed.description.as_deref(),
        Some("© 2026 Entity Weekly — all rights")
    );
    assert_eq!(
        feed.entries[0].title.as_deref(),
        Some("About Entity Weekly")
    );
}

#[test]
fn relative_id_resolved_against_document_uri() {
    let feed = show("relative_id_resolved_against_document_uri.xml");
    assert_eq!(link(&feed.link), Some("https://fixtures.example/"));
    let first = &feed.entries[0];
    assert_eq!(
        first.id.as_deref(),
        Some("https://fixtures.example/stories/42")
    );
    assert_eq!(
        link(&first.link),
        Some("https://fixtures.example/stories/42")
    );
    let second = &feed.entries[1];
    // isPermaLink="false": an opaque id, not a URI reference.
    assert_eq!(second.id.as_deref(), Some("story-43"));
    assert_eq!(
        link(&second.link),
        Some("https://fixtures.example/feeds/stories/43")
    );
}

#[test]
fn description_vs_content_encoded() {
    let feed = show("description_vs_content_encoded.xml");
    let entry = &feed.entries[0];
    assert_eq!(entry.summary.as_deref(), Some("The teaser."));
    assert_eq!(
        entry.content.as_deref(),
        Some("<p>The <b>whole</b> story.</p>")
    );
}

#[test]
fn description_and_summary_second_is_content() {
    let feed = show("description_and_summary_second_is_content.xml");
    let entry = &feed.entries[0];
    assert_eq!(entry.summary.as_deref(), Some("First is the summary."));
    assert_eq!(entry.content.as_deref(), Some("Second is the content."));
}

#[test]
fn categories_from_unusual_tags() {
    let feed = show("categories_from_unusual_tags.xml");
    assert_eq!(feed.categories, ["News", "politics", "economy"]);
    assert_eq!(
        feed.entries[0].categories,
        ["Elections", "Parliament", "Votes"]
    );
}

#[test]
fn rss_without_default_namespace_version() {
    let feed = show("rss_without_default_namespace_version.xml");
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(
        date(feed.entries[0].published).as_deref(),
        Some("2026-03-03T15:00:00Z")
    );
}

#[test]
fn xml_base_resolves_links() {
    let feed = show("xml_base_resolves_links.xml");
    assert_eq!(link(&feed.link), Some("https://base.example/news/"));
    let entry = &feed.entries[0];
    assert_eq!(
        link(&entry.link),
        Some("https://base.example/news/2026/story.html")
    );
    assert_eq!(
        entry.id.as_deref(),
        Some("https://base.example/news/2026/story-1")
    );
}

#[test]
fn truncated_feed_keeps_complete_entries() {
    let feed = show("truncated_feed_keeps_complete_entries.xml");
    let titles: Vec<_> = feed.entries.iter().map(|e| e.title.as_deref()).collect();
    assert_eq!(titles, [Some("Complete one"), Some("Complete two")]);
    assert!(
        feed.warnings
            .iter()
            .any(|w| w.contains(DOCUMENT_URI) && w.contains("truncated")),
        "{:?}",
        feed.warnings
    );
}

#[test]
fn body_cut_by_the_size_cap_keeps_complete_entries_and_names_the_feed() {
    let whole = fixture("rss090_items.xml");
    let base = Url::parse(DOCUMENT_URI).expect("static URL");
    let cut = whole
        .windows(b"Second".len())
        .position(|w| w == b"Second")
        .expect("fixture has a second item");
    let feed = newswire_fetcher::parse_truncated_feed(
        &whole[..cut],
        None,
        &base,
        "fetch.max_body_bytes reached",
    )
    .expect("a feed");
    assert_eq!(feed.entries.len(), 1);
    assert!(
        feed.warnings
            .iter()
            .any(|w| w.contains(DOCUMENT_URI) && w.contains("max_body_bytes")),
        "{:?}",
        feed.warnings
    );
}

#[test]
fn truncated_at_every_byte_never_fails_once_the_root_is_read() {
    let whole = fixture("dublin_core_fallback_item.xml");
    let base = Url::parse(DOCUMENT_URI).expect("static URL");
    let root = whole
        .windows(4)
        .position(|w| w == b"<rss")
        .expect("fixture has an rss root");
    let root_read = root
        + whole[root..]
            .iter()
            .position(|b| *b == b'>')
            .expect("root start tag ends")
        + 1;
    for cut in root_read..whole.len() {
        let feed =
            parse_feed(&whole[..cut], None, &base).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert!(feed.entries.len() <= 1);
    }
}

#[test]
fn unparseable_date_is_null_with_warning() {
    let feed = show("unparseable_date_is_null_with_warning.xml");
    assert_eq!(feed.entries[0].published, None);
    assert!(
        feed.warnings
            .iter()
            .any(|w| w.contains("sometime last week") && w.contains(DOCUMENT_URI)),
        "{:?}",
        feed.warnings
    );
    assert_eq!(
        date(feed.entries[1].published).as_deref(),
        Some("2026-03-04T07:30:00Z")
    );
}

#[test]
fn json_alternates_only_json_feed() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pages/json_alternates_only_json_feed.html");
    let html = std::fs::read_to_string(path).expect("fixture");
    let base = Url::parse("https://wp.example/2026/03/post/").expect("static URL");
    let found: Vec<String> = newswire_fetcher::discover_feeds(&html, &base)
        .into_iter()
        .map(|f| f.url.to_string())
        .collect();
    assert_eq!(
        found,
        ["https://wp.example/feed/", "https://wp.example/feed.json"]
    );
    assert!(!newswire_fetcher::is_json_feed(
        r#"{"id": 123, "title": {"rendered": "x"}}"#
    ));
    assert!(newswire_fetcher::is_json_feed(
        r#"{"version": "https://jsonfeed.org/version/1.1", "items": []}"#
    ));
    // A WordPress REST answer given as a feed is a named error, not an empty feed.
    let error = parse_feed(
        br#"{"id": 123, "link": "https://wp.example/p"}"#,
        None,
        &base,
    )
    .expect_err("not a JSON Feed");
    assert!(matches!(error, FetchError::Parse { .. }));
    assert!(error.to_string().contains("wp.example"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes given as a feed give a feed or an error naming the feed, quickly.
    #[test]
    fn any_bytes_give_a_feed_or_a_named_error(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let base = Url::parse(DOCUMENT_URI).expect("static URL");
        let started = Instant::now();
        let result = parse_feed(&bytes, None, &base);
        prop_assert!(started.elapsed() < Duration::from_secs(2));
        if let Err(error) = result {
            prop_assert!(error.to_string().contains(DOCUMENT_URI));
        }
    }

    /// Feed-shaped text with random damage: the same guarantees.
    #[test]
    fn damaged_feeds_give_a_feed_or_a_named_error(
        cut in 0usize..1200,
        junk in "[<>&;#a-z\"' /=\\]\\[!-]{0,20}",
    ) {
        let whole = String::from_utf8(fixture("atom_bound_to_prefix.xml")).expect("utf-8 fixture");
        let cut = (0..=cut.min(whole.len())).rev().find(|c| whole.is_char_boundary(*c)).unwrap_or(0);
        let damaged = format!("{}{junk}{}", &whole[..cut], &whole[cut..]);
        let base = Url::parse(DOCUMENT_URI).expect("static URL");
        let started = Instant::now();
        let result = parse_feed(damaged.as_bytes(), None, &base);
        prop_assert!(started.elapsed() < Duration::from_secs(2));
        if let Err(error) = result {
            prop_assert!(error.to_string().contains(DOCUMENT_URI));
        }
    }
}

#[test]
fn atom_under_an_older_namespace_uri() {
    // The pre-1.0 Atom drafts used other namespace URIs (`http://purl.org/pie/`,
    // `http://purl.org/echo/`, …); the elements mean the same.
    let feed = show("atom_under_an_older_namespace_uri.xml");
    assert_eq!(feed.title.as_deref(), Some("Polder Post"));
    assert_eq!(link(&feed.link), Some("https://polder.example/"));
    assert_eq!(feed.language.as_deref(), Some("nl"));
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Dijk versterkt"));
    assert_eq!(link(&entry.link), Some("https://polder.example/dijk"));
    assert_eq!(entry.id.as_deref(), Some("tag:polder.example,2026:dijk"));
    assert_eq!(entry.authors, ["Joost Veld"]);
    assert_eq!(
        date(entry.published).as_deref(),
        Some("2026-03-02T09:00:00Z")
    );
    assert_eq!(
        entry.summary.as_deref(),
        Some("De dijk bij de haven is versterkt.")
    );
}
