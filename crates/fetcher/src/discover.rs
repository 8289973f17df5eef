//! Feed discovery: the feeds an HTML page announces with `<link rel="alternate">`.
//!
//! Used by `newswire feeds discover URL` and to make "this URL is a page, not a feed"
//! errors useful (they name the feeds to use instead).

use url::Url;

/// One feed a page announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredFeed {
    pub url: Url,
    pub title: Option<String>,
    /// The announced media type, e.g. `application/rss+xml`.
    pub content_type: String,
}

const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
];

/// The feeds announced in `html`, resolved against `<base href>` or `base`, in page order,
/// without duplicates.
pub fn discover_feeds(html: &str, base: &Url) -> Vec<DiscoveredFeed> {
    let document = scraper::Html::parse_document(html);
    let document_base = scraper::Selector::parse("base[href]")
        .ok()
        .and_then(|selector| {
            document
                .select(&selector)
                .next()
                .and_then(|b| b.value().attr("href"))
                .and_then(|href| base.join(href.trim()).ok())
        })
        .unwrap_or_else(|| base.clone());
    let Ok(selector) = scraper::Selector::parse("link[href]") else {
        return Vec::new();
    };
    let mut feeds: Vec<DiscoveredFeed> = Vec::new();
    for link in document.select(&selector) {
        let element = link.value();
        let is_alternate = element.attr("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
        });
        let content_type = element
            .attr("type")
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
        let Some(href) = element
            .attr("href")
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            continue;
        };
        let Ok(url) = document_base.join(href) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") || feeds.iter().any(|f| f.url == url) {
            continue;
        }
        let title = element
            .attr("title")
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
            <link rel="Alternate Feed" type="application/feed+json" href="feed.json">
        </head><body></body></html>"#;
        let base = Url::parse("https://news.example.org/world/index.html").unwrap();
        let feeds = discover_feeds(html, &base);
        let urls: Vec<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://news.example.org/rss.xml",
                "https://cdn.example.org/atom",
                "https://news.example.org/world/feed.json"
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
}
