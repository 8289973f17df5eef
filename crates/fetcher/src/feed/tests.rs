//! Feed format table: one small named document per case feed-rs or the real web gets wrong.

use super::*;

fn base() -> Url {
    Url::parse("https://news.example.org/feeds/main.xml").unwrap()
}

fn parse(text: &str) -> ParsedFeed {
    parse_feed(text.as_bytes(), None, &base()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn rss_2_basic() {
    let feed = parse(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Main</title><link>https://news.example.org/</link><ttl>30</ttl>
        <item><title>One &amp; two</title><link>/a/1</link><guid>id-1</guid><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item></channel></rss>"#,
    );
    assert_eq!(feed.title.as_deref(), Some("Main"));
    assert_eq!(feed.ttl_hint, Some(Duration::from_secs(1800)));
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("One & two"));
    assert_eq!(
        entry.link.as_ref().map(Url::as_str),
        Some("https://news.example.org/a/1")
    );
    assert_eq!(entry.id.as_deref(), Some("id-1"));
    assert!(entry.published.is_some());
}
