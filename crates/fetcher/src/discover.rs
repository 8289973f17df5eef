//! Feed discovery: the feeds an HTML page announces with `<link rel="alternate">`.
//!
//! Used by `newswire feeds discover URL` and to make "this URL is a page, not a feed"
//! errors useful (they name the feeds to use instead).

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;
use url::Url;

/// One feed a page announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredFeed {
    pub url: Url,
    pub title: Option<String>,
    /// The announced media type, e.g. `application/rss+xml`.
    pub content_type: String,
}

/// Announced types that are feeds. Plain `application/json` is not among them: on news
/// sites it is almost always an API endpoint (WordPress announces every post's
/// `/wp-json/wp/v2/posts/…` that way), and a JSON Feed says so with `feed+json` or, once
/// fetched, with its `version` ([`is_json_feed`]).
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
];

/// The feeds announced in `html`, resolved against `<base href>` or `base`, in page order,
/// without duplicates. Only http(s) links are kept, and `file:` links too when `base` is
/// itself a `file:` URL (a page read from disk, whose relative links name files beside it).
///
/// Linear in the length of `html`.
///
/// The tags are found with a linear scan, not a DOM: this runs on whatever a feed URL
/// returned, and an HTML parser takes seconds on hostile, deeply nested pages.
pub fn discover_feeds(html: &str, base: &Url) -> Vec<DiscoveredFeed> {
    static TAG: OnceLock<Regex> = OnceLock::new();
    let tag = TAG.get_or_init(|| {
        Regex::new(r"(?i)<(link|base)\s[^>]*>")
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let mut document_base = base.clone();
    let mut feeds: Vec<DiscoveredFeed> = Vec::new();
    // Checking the list for every tag made pages with thousands of link tags quadratic.
    let mut seen: HashSet<Url> = HashSet::new();
    for found in tag.captures_iter(html) {
        let attributes = attributes(&found[0]);
        let attribute = |name: &str| {
            attributes
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        if found[1].eq_ignore_ascii_case("base") {
            if let Some(href) = attribute("href")
                && let Ok(url) = base.join(href.trim())
            {
                document_base = url;
            }
            continue;
        }
        let is_alternate = attribute("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
        });
        let content_type = attribute("type")
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        if !is_alternate || !FEED_TYPES.contains(&essence.as_str()) {
            continue;
        }
        let Some(href) = attribute("href").map(str::trim).filter(|h| !h.is_empty()) else {
            continue;
        };
        let Ok(url) = document_base.join(href) else {
            continue;
        };
        let usable = match url.scheme() {
            "http" | "https" => true,
            // A local page's relative links are local files; a web page's never are.
            "file" => base.scheme() == "file",
            _ => false,
        };
        if !usable || !seen.insert(url.clone()) {
            continue;
        }
        let title = attribute("title")
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty());
        feeds.push(DiscoveredFeed {
            url,
            title,
            content_type: essence,
        });
    }
    feeds
}

/// Whether a fetched JSON document is a JSON Feed: a top-level `version` naming
/// `https://jsonfeed.org/version/…`. Callers that fetch an `application/json` alternate
/// use it to decide whether it is a feed.
pub fn is_json_feed(text: &str) -> bool {
    static VERSION: OnceLock<Regex> = OnceLock::new();
    let version = VERSION.get_or_init(|| {
        Regex::new(r#""version"\s*:\s*"https?://jsonfeed\.org/version/"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    text.trim_start().starts_with('{') && version.is_match(text)
}

/// The attributes of one start tag, values entity-decoded.
fn attributes(tag: &str) -> Vec<(String, String)> {
    static ATTRIBUTE: OnceLock<Regex> = OnceLock::new();
    let attribute = ATTRIBUTE.get_or_init(|| {
        Regex::new(r#"([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    attribute
        .captures_iter(tag)
        .map(|c| {
            let value = c[2].trim_matches(|q| q == '"' || q == '\'');
            (
                c[1].to_string(),
                html_escape::decode_html_entities(value).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_feeds_are_found_and_resolved() {
        let html = r#"<!doctype html><html><head>
            <link rel="stylesheet" href="/style.css">
            <link rel="alternate" type="application/rss+xml" title="All  news" href="/rss.xml">
            <link rel="alternate" type="application/atom+xml" href="https://cdn.example.org/atom">
            <link rel="alternate" type="application/rss+xml" href="/rss.xml">
            <link rel="alternate" hreflang="de" href="/de/">
            <LINK REL="Alternate Feed" TYPE="application/feed+json" HREF='feed.json?a=1&amp;b=2'>
        </head><body></body></html>"#;
        let base = Url::parse("https://news.example.org/world/index.html").unwrap();
        let feeds = discover_feeds(html, &base);
        let urls: Vec<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://news.example.org/rss.xml",
                "https://cdn.example.org/atom",
                "https://news.example.org/world/feed.json?a=1&b=2"
            ]
        );
        assert_eq!(feeds[0].title.as_deref(), Some("All news"));
        assert_eq!(feeds[2].content_type, "application/feed+json");
    }

    #[test]
    fn base_element_is_honoured() {
        let html = r#"<html><head><base href="https://other.example/sub/">
            <link rel="alternate" type="application/atom+xml" href="feed"></head></html>"#;
        let base = Url::parse("https://news.example.org/").unwrap();
        let feeds = discover_feeds(html, &base);
        assert_eq!(feeds[0].url.as_str(), "https://other.example/sub/feed");
    }

    #[test]
    fn page_without_feeds_gives_nothing() {
        let base = Url::parse("https://news.example.org/").unwrap();
        assert!(discover_feeds("<html><body>hi</body></html>", &base).is_empty());
    }

    #[test]
    fn local_pages_keep_file_links_web_pages_never_do() {
        let html = r#"<link rel="alternate" type="application/rss+xml" href="feeds/rss.xml">
            <link rel="alternate" type="application/atom+xml" href="file:///etc/atom.xml">"#;
        let local = Url::parse("file:///srv/site/index.html").unwrap();
        let urls: Vec<String> = discover_feeds(html, &local)
            .into_iter()
            .map(|f| f.url.to_string())
            .collect();
        assert_eq!(
            urls,
            ["file:///srv/site/feeds/rss.xml", "file:///etc/atom.xml"]
        );
        let web = Url::parse("https://news.example.org/").unwrap();
        let urls: Vec<String> = discover_feeds(html, &web)
            .into_iter()
            .map(|f| f.url.to_string())
            .collect();
        assert_eq!(urls, ["https://news.example.org/feeds/rss.xml"]);
        let based = format!(r#"<base href="file:///srv/">{html}"#);
        assert!(
            discover_feeds(&based, &web)
                .iter()
                .all(|f| f.url.scheme() == "https"),
            "a web page's <base> cannot make its links local"
        );
    }

    #[test]
    fn thousands_of_link_tags_are_deduplicated_in_one_pass() {
        let mut html = String::new();
        for n in 0..20_000 {
            html.push_str(&format!(
                "<link rel=alternate type=application/rss+xml href=/f{}>",
                n % 10_000
            ));
        }
        let base = Url::parse("https://news.example.org/").unwrap();
        let feeds = discover_feeds(&html, &base);
        assert_eq!(feeds.len(), 10_000);
        assert_eq!(feeds[9_999].url.path(), "/f9999");
    }

    #[test]
    fn deeply_nested_page_is_scanned_quickly() {
        let html = format!(
            "<html><head><link rel=alternate type=application/rss+xml href=/rss></head><body>{}</body></html>",
            "<div>".repeat(100_000)
        );
        let base = Url::parse("https://news.example.org/").unwrap();
        assert_eq!(discover_feeds(&html, &base).len(), 1);
    }
}
