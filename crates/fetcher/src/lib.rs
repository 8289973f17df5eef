//! Everything newswire asks of the network: feeds and article pages.
//!
//! [`Fetcher`] wraps one reqwest client with the politeness rules (global and per-host
//! concurrency, per-host delay, robots.txt), the defensive limits (timeouts, body size
//! after decompression, redirects, SSRF guard on the address actually connected to),
//! retries with backoff and `Retry-After`, conditional GET, and browser-like charset
//! decoding. [`parse_feed`] turns feed bytes into a [`ParsedFeed`] (RSS 0.9x/1.0/2.0,
//! Atom 0.3/1.0, JSON Feed), repairing what feed-rs misreads.
//!
//! ```no_run
//! # async fn poll() -> Result<(), newswire_fetcher::FetchError> {
//! use newswire_fetcher::{FeedOutcome, FeedRequest, Fetcher, PageOutcome, PagePolicy};
//!
//! let fetcher = Fetcher::new(&newswire_core::config::FetchConfig::default())?;
//! let request = FeedRequest {
//!     url: url::Url::parse("https://www.dw.com/rss/rss-en-all").expect("static URL"),
//!     validators: Default::default(), // the ETag/Last-Modified stored from the last poll
//! };
//! if let FeedOutcome::Fetched { feed, validators, header_hint, .. } =
//!     fetcher.fetch_feed(&request).await?
//! {
//!     let policy = PagePolicy { respect_robots_txt: true, allow_file_under: None };
//!     for entry in &feed.entries {
//!         if let Some(link) = &entry.link {
//!             match fetcher.fetch_page(link, &policy).await {
//!                 Ok(PageOutcome::Html { html, .. }) => { /* extract */ }
//!                 Ok(PageOutcome::NotHtml { content_type, .. }) => { /* record from entry */ }
//!                 Err(error) => eprintln!("{} ({})", error, error.kind()),
//!             }
//!         }
//!     }
//!     // Timing facts for the caller's schedule: the header hint and the feed's own ttl.
//!     let _ = (validators, header_hint, feed.ttl_hint);
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

pub mod charset;
mod client;
pub mod dates;
pub mod discover;
mod entry_id;
mod feed;
mod feed_scan;
pub mod guard;
pub mod opml;
mod politeness;
pub mod sniff;
pub mod timing_headers;

pub use client::{Fetcher, FetcherBuilder, read_html_file, read_local_file};
pub use discover::{DiscoveredFeed, discover_feeds, is_json_feed};
pub use entry_id::{SYNTHETIC_ID_PREFIX, synthetic_entry_id};
pub use feed::{parse_feed, parse_truncated_feed};
pub use opml::{OpmlFeed, parse_opml};
pub use politeness::{ROBOTS_MAX_BYTES, RobotsRules};
pub use timing_headers::{interval_hint_from_headers, parse_retry_after};

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
// One value per poll, moved once: boxing the parsed feed would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum FeedOutcome {
    /// 304: nothing changed, nothing parsed.
    NotModified {
        validators: Validators,
        /// From `Cache-Control`/`Expires` (see [`Self::Fetched`]).
        header_hint: Option<Duration>,
    },
    Fetched {
        feed: ParsedFeed,
        /// URL after redirects.
        final_url: Url,
        validators: Validators,
        /// How long the response says it stays fresh (`Cache-Control: max-age`, else
        /// `Expires`), as given. The feed's own hint (`ttl`, `sy:*`) is
        /// [`ParsedFeed::ttl_hint`]; the caller's schedule decides what both mean.
        header_hint: Option<Duration>,
        /// The body was cut (`fetch.max_body_bytes`, the timeout, a broken connection):
        /// `feed` holds the complete entries before the cut and a warning naming the
        /// feed and the cause, and `validators` are empty so that nothing remembers a
        /// version that was never read in full.
        truncated: bool,
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
///
/// An entry with neither `link` nor `id` is still an article: its title, summary and
/// content make the record, and the id rule (`newswire_core::ids::record_id`, handed the
/// entry by [`FeedEntry::id_sources`]) gives it a stable id from its words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedEntry {
    /// The entry's guid / Atom id / RSS 1.0 `rdf:about` (resolved against the feed URL
    /// when relative); `None` when the feed gives none (never invented here).
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
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: invalid URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{url}: scheme {scheme:?} is not allowed here ({allowed})")]
    UnsupportedScheme {
        url: String,
        scheme: String,
        allowed: &'static str,
    },
    /// SSRF guard: the host is, or resolves to, a non-public address.
    #[error("{url}: refused: {reason}")]
    Blocked { url: String, reason: String },
    #[error("{url}: disallowed by robots.txt")]
    RobotsDisallowed { url: String },
    #[error("{url}: {what} timed out after {after:?}")]
    Timeout {
        url: String,
        what: &'static str,
        after: Duration,
    },
    #[error("{url}: connection failed: {message}")]
    Connect { url: String, message: String },
    /// The request failed after connecting: reset connection, malformed or oversized
    /// response head.
    #[error("{url}: request failed: {message}")]
    Protocol { url: String, message: String },
    /// The connection broke while the body was being read.
    #[error("{url}: reading the body failed: {message}")]
    Body { url: String, message: String },
    #[error("{url}: HTTP {status}{}", retry_after.map(|d| format!(" (Retry-After {}s)", d.as_secs())).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error(
        "{url}: body larger than {limit} bytes (fetch.max_body_bytes, counted after decompression)"
    )]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: more than {max} redirects (fetch.max_redirects)")]
    TooManyRedirects { url: String, max: usize },
    #[error("{url}: redirect loop: {to} was already visited")]
    RedirectLoop { url: String, to: String },
    /// The URL serves an HTML page, not a feed; `discovered` lists the feeds it announces.
    #[error(
        "{url}: not a feed but an HTML page; {}",
        describe_discovered(discovered)
    )]
    NotAFeed { url: String, discovered: Vec<Url> },
    #[error("{url}: empty body, no feed")]
    Empty { url: String },
    #[error("{url}: cannot parse feed: {message}")]
    Parse { url: String, message: String },
    #[error("{url}: {message}")]
    File { url: String, message: String },
    #[error(
        "{url}: file links are only followed for file feeds named in the config, below their directory"
    )]
    FileNotAllowed { url: String },
    #[error("{url}: {message}")]
    Other { url: String, message: String },
}

fn describe_discovered(discovered: &[Url]) -> String {
    if discovered.is_empty() {
        "it announces no feed".into()
    } else {
        let list: Vec<&str> = discovered.iter().map(Url::as_str).collect();
        format!("it announces: {}", list.join(", "))
    }
}

impl FetchError {
    /// Short stable name of the error kind, for metrics and per-feed error counts.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::InvalidUrl { .. } => "invalid_url",
            FetchError::UnsupportedScheme { .. } => "scheme",
            FetchError::Blocked { .. } => "blocked",
            FetchError::RobotsDisallowed { .. } => "robots",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Connect { .. } => "connect",
            FetchError::Protocol { .. } => "protocol",
            FetchError::Body { .. } => "body",
            FetchError::Status { status: 429, .. } => "rate_limited",
            FetchError::Status { status, .. } if *status >= 500 => "http_5xx",
            FetchError::Status { status, .. } if *status < 400 => "http_3xx",
            FetchError::Status { .. } => "http_4xx",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::TooManyRedirects { .. } => "redirects",
            FetchError::RedirectLoop { .. } => "redirect_loop",
            FetchError::NotAFeed { .. } => "not_a_feed",
            FetchError::Empty { .. } => "empty",
            FetchError::Parse { .. } => "parse",
            FetchError::File { .. } => "file",
            FetchError::FileNotAllowed { .. } => "file_not_allowed",
            FetchError::Other { .. } => "other",
        }
    }

    /// The URL the error is about.
    pub fn url(&self) -> &str {
        match self {
            FetchError::InvalidUrl { url, .. }
            | FetchError::UnsupportedScheme { url, .. }
            | FetchError::Blocked { url, .. }
            | FetchError::RobotsDisallowed { url }
            | FetchError::Timeout { url, .. }
            | FetchError::Connect { url, .. }
            | FetchError::Protocol { url, .. }
            | FetchError::Body { url, .. }
            | FetchError::Status { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::TooManyRedirects { url, .. }
            | FetchError::RedirectLoop { url, .. }
            | FetchError::NotAFeed { url, .. }
            | FetchError::Empty { url }
            | FetchError::Parse { url, .. }
            | FetchError::File { url, .. }
            | FetchError::FileNotAllowed { url }
            | FetchError::Other { url, .. } => url,
        }
    }

    /// Worth trying again soon: connection errors, timeouts, broken requests and bodies,
    /// 5xx and 429.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Protocol { .. }
            | FetchError::Body { .. } => true,
            FetchError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// The server's `Retry-After`, when it sent one; the scheduler should not poll sooner.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
