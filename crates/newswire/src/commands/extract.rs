//! `newswire extract FILE_OR_URL [--url URL]`: one page to one JSON record on stdout, no
//! state and no sink.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use newswire_extractor::FeedHints;
use newswire_fetcher::{Fetcher, PageOutcome, PagePolicy};
use url::Url;

use crate::config_file::fetch_config;
use crate::exit::Failure;
use crate::pipeline;

/// `newswire extract FILE_OR_URL [--url URL]`.
pub async fn extract(
    target: &str,
    url: Option<&str>,
    config: Option<&Path>,
) -> Result<(), Failure> {
    let fetch = fetch_config(config)?;
    let given_url = url
        .map(|u| Url::parse(u).with_context(|| format!("--url {u:?} is not a valid URL")))
        .transpose()
        .map_err(Failure::Usage)?;
    let (html, page_url) = match Url::parse(target) {
        Ok(remote) if matches!(remote.scheme(), "http" | "https") => {
            let fetcher = Fetcher::new(&fetch).map_err(|e| Failure::Runtime(e.into()))?;
            let policy = PagePolicy {
                respect_robots_txt: fetch.respect_robots_txt,
                allow_file_under: None,
            };
            match fetcher
                .fetch_page(&remote, &policy)
                .await
                .map_err(|e| Failure::Usage(e.into()))?
            {
                PageOutcome::Html { final_url, html } => (html, final_url),
                PageOutcome::NotHtml {
                    final_url,
                    content_type,
                } => {
                    return Err(Failure::Usage(anyhow::anyhow!(
                        "{final_url}: not an HTML page ({content_type})"
                    )));
                }
            }
        }
        _ => {
            let path = PathBuf::from(target);
            let html = newswire_fetcher::read_html_file(&path, fetch.max_body_bytes)
                .await
                .map_err(|e| Failure::Usage(e.into()))?;
            let file_url = std::path::absolute(&path)
                .ok()
                .and_then(|p| Url::from_file_path(p).ok());
            let page_url = given_url.clone().or(file_url).ok_or_else(|| {
                Failure::Usage(anyhow::anyhow!(
                    "{target}: cannot make a URL of this path; pass --url"
                ))
            })?;
            (html, page_url)
        }
    };
    let page_url = given_url.unwrap_or(page_url);
    let hints = FeedHints::default();
    let article = tokio::task::spawn_blocking({
        let page_url = page_url.clone();
        move || newswire_extractor::extract(&html, Some(&page_url), &hints)
    })
    .await
    .map_err(|e| Failure::Runtime(e.into()))?;
    let record = pipeline::page_record(&page_url, article);
    let line = serde_json::to_string(&record).map_err(|e| Failure::Runtime(e.into()))?;
    println!("{line}");
    Ok(())
}
