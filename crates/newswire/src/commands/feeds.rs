//! `newswire feeds show|discover`: look at one feed or page without state or sinks.
//!
//! `show` is the first tool to reach for when a feed looks wrong: it prints exactly what
//! the fetcher made of it, as JSON lines (the feed, then one line per entry), with the
//! repairs it needed as warnings on stderr. `discover` prints the feeds a page announces.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use newswire_core::config::FetchConfig;
use newswire_fetcher::{FeedOutcome, FeedRequest, Fetcher, PageOutcome, PagePolicy, ParsedFeed};
use serde_json::json;
use url::Url;

/// Subcommands of `newswire feeds`.
#[derive(clap::Subcommand, Debug)]
pub enum FeedsCommand {
    /// Print a feed as JSON lines: the feed itself, then one line per entry.
    Show {
        /// Feed URL or file.
        target: String,
        /// Base URL for relative links when reading a file.
        #[arg(long)]
        url: Option<String>,
    },
    /// Print the feeds a page announces.
    Discover {
        /// Page URL or HTML file.
        target: String,
        /// The page's address when reading a file: relative links resolve against it.
        /// Without it they resolve against the file and name files beside it.
        #[arg(long)]
        url: Option<String>,
    },
}

pub async fn run(command: &FeedsCommand, fetch: &FetchConfig) -> anyhow::Result<()> {
    match command {
        FeedsCommand::Show { target, url } => show(target, url.as_deref(), fetch).await,
        FeedsCommand::Discover { target, url } => discover(target, url.as_deref(), fetch).await,
    }
}

/// An http(s) URL, or `None` for something to read from disk.
fn web_url(target: &str) -> Option<Url> {
    Url::parse(target)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// A file target (path or `file://` URL) as a path.
fn file_path(target: &str) -> anyhow::Result<std::path::PathBuf> {
    match Url::parse(target) {
        Ok(url) if url.scheme() == "file" => url
            .to_file_path()
            .map_err(|()| anyhow::anyhow!("{target}: not a local file path")),
        Ok(url) if url.scheme().len() > 1 => {
            bail!(
                "{target}: scheme {:?} is not supported (use http, https or a file)",
                url.scheme()
            )
        }
        _ => Ok(Path::new(target).to_path_buf()),
    }
}

/// The `--url BASE` option, checked.
fn base_option(base: Option<&str>) -> anyhow::Result<Option<Url>> {
    base.map(|b| Url::parse(b).with_context(|| format!("--url {b:?} is not an absolute URL")))
        .transpose()
}

/// The URL relative links of a file resolve against: `--url` when given, else the file.
fn file_base(path: &Path, base: Option<Url>) -> anyhow::Result<Url> {
    if let Some(base) = base {
        return Ok(base);
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    Url::from_file_path(&absolute)
        .map_err(|()| anyhow::anyhow!("{}: not a usable file path", path.display()))
}

async fn show(target: &str, base: Option<&str>, fetch: &FetchConfig) -> anyhow::Result<()> {
    let base = base_option(base)?;
    let feed = if let Some(url) = web_url(target) {
        let fetcher = Fetcher::new(fetch)?;
        let request = FeedRequest {
            url,
            validators: Default::default(),
        };
        match fetcher.fetch_feed(&request).await? {
            FeedOutcome::Fetched { feed, .. } => feed,
            FeedOutcome::NotModified { .. } => {
                bail!("{target}: 304 Not Modified without validators")
            }
        }
    } else {
        let path = file_path(target)?;
        let bytes = newswire_fetcher::read_local_file(&path, fetch.max_body_bytes).await?;
        let base = file_base(&path, base)?;
        newswire_fetcher::parse_feed(&bytes, None, &base)?
    };
    for warning in &feed.warnings {
        tracing::warn!(feed = target, "{warning}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    writeln!(out, "{}", feed_line(&feed))?;
    for entry in &feed.entries {
        let line = json!({
            "title": entry.title,
            "link": entry.link.as_ref().map(Url::as_str),
            "id": entry.id,
            "published": entry.published.map(rfc3339),
            "updated": entry.updated.map(rfc3339),
            "authors": entry.authors,
            "categories": entry.categories,
            "summary": entry.summary,
            "content": entry.content,
            "image": entry.image.as_ref().map(Url::as_str),
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

fn feed_line(feed: &ParsedFeed) -> serde_json::Value {
    json!({
        "title": feed.title,
        "link": feed.link.as_ref().map(Url::as_str),
        "id": feed.id,
        "description": feed.description,
        "language": feed.language,
        "published": feed.published.map(rfc3339),
        "updated": feed.updated.map(rfc3339),
        "authors": feed.authors,
        "categories": feed.categories,
        "entries": feed.entries.len(),
        "ttl_seconds": feed.ttl_hint.map(|d| d.as_secs()),
        "warnings": feed.warnings,
    })
}

fn rfc3339(date: DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn discover(target: &str, base: Option<&str>, fetch: &FetchConfig) -> anyhow::Result<()> {
    let base = base_option(base)?;
    let (html, base) = if let Some(url) = web_url(target) {
        let fetcher = Fetcher::new(fetch)?;
        let policy = PagePolicy {
            respect_robots_txt: fetch.respect_robots_txt,
            allow_file_under: None,
        };
        match fetcher.fetch_page(&url, &policy).await? {
            PageOutcome::Html { final_url, html } => (html, final_url),
            PageOutcome::NotHtml {
                final_url,
                content_type,
            } => {
                if is_feed_type(&content_type) {
                    print_discovered(&final_url, None, &content_type)?;
                    return Ok(());
                }
                bail!("{target}: not an HTML page ({content_type})");
            }
        }
    } else {
        let path = file_path(target)?;
        let html = newswire_fetcher::read_html_file(&path, fetch.max_body_bytes).await?;
        let base = file_base(&path, base)?;
        (html, base)
    };
    // A URL that is itself a feed (served as text/xml or similar) announces itself.
    if !newswire_fetcher::sniff::looks_like_html(&html)
        && newswire_fetcher::parse_feed(html.as_bytes(), None, &base).is_ok()
    {
        print_discovered(&base, None, "feed")?;
        return Ok(());
    }
    let feeds = newswire_fetcher::discover_feeds(&html, &base);
    if feeds.is_empty() {
        tracing::warn!(page = target, "the page announces no feed");
    }
    for feed in feeds {
        print_discovered(&feed.url, feed.title.as_deref(), &feed.content_type)?;
    }
    Ok(())
}

fn is_feed_type(content_type: &str) -> bool {
    content_type.contains("rss")
        || content_type.contains("atom")
        || content_type.contains("xml")
        || content_type.contains("json")
}

fn print_discovered(url: &Url, title: Option<&str>, content_type: &str) -> anyhow::Result<()> {
    let line = json!({"url": url.as_str(), "title": title, "type": content_type});
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    Ok(())
}
