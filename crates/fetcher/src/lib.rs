//! Everything newswire asks of the network: feeds and article pages.
//!
//! [`Fetcher`] wraps one reqwest client with the politeness rules (global and per-host
//! concurrency, per-host delay, robots.txt), the defensive limits (timeouts, body size
//! after decompression, redirects, SSRF guard on the address actually connected to),
//! retries with backoff and `Retry-After`, conditional GET, and browser-like charset
//! decoding. [`parse_feed`] turns feed bytes into a [`ParsedFeed`] (RSS 0.9x/1.0/2.0,
//! Atom 0.3/1.0, JSON Feed), repairing what feed-rs misreads.

use std::time::Duration;

use chrono::{DateTime, Utc};
use newswire_core::config::FetchConfig;
use url::Url;

/// HTTP validators remembered per feed for conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One feed poll.
#[derive(Debug, Clone)]
pub struct FeedRequest {
    pub url: Url,
    pub validators: Validators,
}

/// Result of a successful feed poll.
#[derive(Debug, Clone)]
pub enum FeedOutcome {
    /// 304: nothing changed, nothing parsed.
    NotModified {
        validators: Validators,
        interval_hint: Option<Duration>,
    },
    Fetched {
        feed: ParsedFeed,
        /// URL after redirects.
        final_url: Url,
        validators: Validators,
        /// From `ttl`, `sy:updatePeriod`/`sy:updateFrequency`, `Cache-Control`, `Expires`
        /// (unclamped; the scheduler clamps).
        interval_hint: Option<Duration>,
    },
}

/// A feed as newswire needs it (see `newswire feeds show`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub link: Option<Url>,
    pub id: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub entries: Vec<FeedEntry>,
    /// Poll-interval hint from the feed itself (`ttl`, `sy:*`).
    pub ttl_hint: Option<Duration>,
    /// Repairs applied and oddities found, e.g. "repaired: missing rss version".
    pub warnings: Vec<String>,
}

/// One feed entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedEntry {
    pub id: Option<String>,
    /// Absolute link (resolved against `xml:base` / the feed URL); a permalink guid when
    /// there is no link.
    pub link: Option<Url>,
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    /// Plain text.
    pub summary: Option<String>,
    /// HTML.
    pub content: Option<String>,
    pub image: Option<Url>,
}

/// Per-request policy for article pages.
#[derive(Debug, Clone)]
pub struct PagePolicy {
    pub respect_robots_txt: bool,
    /// `file://` article links are only followed for entries of a `file://` feed named in
    /// the config, and only below this directory.
    pub allow_file_under: Option<std::path::PathBuf>,
}

/// Result of fetching an article link.
#[derive(Debug, Clone)]
pub enum PageOutcome {
    /// Decoded to UTF-8.
    Html { final_url: Url, html: String },
    /// PDF, image, audio, video…: not downloaded as a page.
    NotHtml {
        final_url: Url,
        content_type: String,
    },
}

/// Errors a caller sees; every message names the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {message}")]
    Other { url: String, message: String },
}

impl FetchError {
    /// Short stable name of the error kind, for metrics and per-feed error counts.
    pub fn kind(&self) -> &'static str {
        "other"
    }
}

/// The shared HTTP client.
pub struct Fetcher {
    _config: FetchConfig,
}

impl Fetcher {
    pub fn new(config: &FetchConfig) -> Result<Fetcher, FetchError> {
        Ok(Fetcher {
            _config: config.clone(),
        })
    }

    /// Polls one feed (conditional GET, retries, parse).
    pub async fn fetch_feed(&self, request: &FeedRequest) -> Result<FeedOutcome, FetchError> {
        Err(FetchError::Other {
            url: request.url.to_string(),
            message: "not implemented".into(),
        })
    }

    /// Downloads one article page.
    pub async fn fetch_page(
        &self,
        url: &Url,
        policy: &PagePolicy,
    ) -> Result<PageOutcome, FetchError> {
        let _ = policy;
        Err(FetchError::Other {
            url: url.to_string(),
            message: "not implemented".into(),
        })
    }
}

/// Parses feed bytes fetched from `base`.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<ParsedFeed, FetchError> {
    let _ = (bytes, content_type);
    Err(FetchError::Other {
        url: base.to_string(),
        message: "not implemented".into(),
    })
}
