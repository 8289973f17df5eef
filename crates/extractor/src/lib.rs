//! HTML page → [`Article`]: the article text and its metadata.
//!
//! Pure, synchronous and deterministic: no network, no files, no clock. The pipeline
//! calls [`extract`] on a blocking worker with the page's HTML (already decoded to UTF-8),
//! its final URL and what the feed entry said about it ([`FeedHints`]).
//!
//! ```
//! use newswire_extractor::{extract, FeedHints};
//! let html = "<html><head><title>Rain returns to the valley | Daily Example</title></head><body><article>\
//!     <p>Rain returned to the valley on Tuesday, ending a dry spell that had lasted, by the \
//!     count of local farmers, for more than two months.</p></article></body></html>";
//! let article = extract(html, None, &FeedHints::default());
//! assert_eq!(article.title.as_deref(), Some("Rain returns to the valley"));
//! assert!(article.text.starts_with("Rain returned"));
//! ```
//!
//! Stages: [`guard`] (byte pre-pass: size, depth, binary) → html5ever parse (scraper) →
//! one walk into a flat pre-order copy ([`dom`]) → body search and rendering ([`body`]) →
//! metadata with a documented precedence ([`meta`]) → wall detection (paywall, consent,
//! bot challenge), which falls back to the feed's own content.

mod body;
pub mod bounds;
mod bylines;
pub mod dates;
mod dom;
pub mod guard;
pub mod meta;
pub mod score;
mod text;
mod titles;

use std::time::Instant;

use chrono::{DateTime, Utc};
pub use guard::Limits;
pub use newswire_core::Extraction;
use url::Url;

use crate::text::{content_chars, normalize_space, word_count};

/// What the feed entry says about the article; used as fallback and cross-check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedHints {
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Plain-text summary from the feed.
    pub summary: Option<String>,
    /// Full content from the feed (HTML), when the feed carries it.
    pub content_html: Option<String>,
    pub language: Option<String>,
    pub tags: Vec<String>,
    pub image: Option<String>,
}

/// The extracted article.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// ISO 639-1.
    pub language: Option<String>,
    /// Paragraphs separated by a blank line.
    pub text: String,
    pub summary: Option<String>,
    pub image: Option<String>,
    pub tags: Vec<String>,
    pub site_name: Option<String>,
    pub canonical_url: Option<String>,
    pub extraction: Extraction,
}

/// Options of [`extract_with`]; [`extract`] uses the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractOptions {
    pub limits: Limits,
    /// When the page was fetched: dates after it (plus one day) are implausible. `None`
    /// reads the clock once (the only clock read of the extractor).
    pub fetched_at: Option<DateTime<Utc>>,
}

/// Why [`extract_until`] gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The deadline passed; `stage` names the step that was running.
    #[error("extraction deadline exceeded during {stage}")]
    DeadlineExceeded { stage: &'static str },
}

/// A point in time the extraction must not run past.
#[derive(Debug, Clone, Copy)]
struct Deadline(Option<Instant>);

impl Deadline {
    fn check(self, stage: &'static str) -> Result<(), ExtractError> {
        match self.0 {
            Some(at) if Instant::now() >= at => Err(ExtractError::DeadlineExceeded { stage }),
            _ => Ok(()),
        }
    }
}

/// Stable warning phrases (the pipeline and dashboards may match on them).
pub mod warnings {
    pub const EMPTY: &str = "no article text found";
    pub const SHORT: &str = "article text is very short";
    pub const PAYWALL: &str = "paywall: page says the article is not free";
    pub const LOGIN_WALL: &str = "paywall: short text behind a login or subscription prompt";
    pub const CONSENT: &str =
        "consent wall: page shows a cookie or consent notice instead of the article";
    pub const CHALLENGE: &str = "bot challenge: page is an anti-bot or captcha interstitial";
    pub const FRAMES: &str = "page is built from frames; their content is not fetched";
    pub const RELAXED: &str = "boilerplate rules relaxed to find text";
}

/// Extracts the article from `html`.
pub fn extract(html: &str, url: Option<&Url>, hints: &FeedHints) -> Article {
    extract_with(html, url, hints, &ExtractOptions::default())
}

/// [`extract`] with explicit options.
pub fn extract_with(
    html: &str,
    url: Option<&Url>,
    hints: &FeedHints,
    options: &ExtractOptions,
) -> Article {
    match extract_inner(html, url, hints, options, Deadline(None)) {
        Ok(article) => article,
        // Unreachable without a deadline; the feed's own content is the honest fallback.
        Err(e) => from_feed(hints, url, &e.to_string()),
    }
}

/// [`extract_with`] that stops once `deadline` has passed: the deadline is checked between
/// stages and inside the page walk, so a slow page gives its worker back instead of running
/// on. Parsing itself (html5ever) is not interruptible; the guard's size and depth limits
/// bound it.
pub fn extract_until(
    html: &str,
    url: Option<&Url>,
    hints: &FeedHints,
    options: &ExtractOptions,
    deadline: Instant,
) -> Result<Article, ExtractError> {
    extract_inner(html, url, hints, options, Deadline(Some(deadline)))
}

fn extract_inner(
    html: &str,
    url: Option<&Url>,
    hints: &FeedHints,
    options: &ExtractOptions,
    deadline: Deadline,
) -> Result<Article, ExtractError> {
    deadline.check("start")?;
    let guarded = guard::guard(html, &options.limits);
    if guarded.refused {
        let warning = guarded.warnings.join("; ");
        return Ok(from_feed(hints, url, &warning));
    }
    let mut warnings = guarded.warnings;
    deadline.check("guard")?;
    let parsed = scraper::Html::parse_document(&guarded.html);
    deadline.check("parse")?;
    let page = dom::build_until(&parsed, deadline.0)
        .ok_or(ExtractError::DeadlineExceeded { stage: "page walk" })?;
    deadline.check("page walk")?;
    let found = body::extract_body(&page, options.limits.max_text_bytes);
    deadline.check("body")?;
    let ld = meta::json_ld_article(&page.meta.json_ld);

    let (mut text, mut method) = (found.text, "dom");
    if let Some(ld_body) = ld.body.as_deref().map(clean_json_ld_body)
        && json_ld_body_preferred(&ld_body, &text)
    {
        text = ld_body;
        method = "json-ld";
    }
    if found.relaxed && method == "dom" && !text.is_empty() {
        warnings.push(warnings::RELAXED.to_owned());
    }

    let mut article = metadata(&page, &ld, url, hints);
    warnings.extend(bounds::bound_fields(&mut article));
    let declared_language = [
        page.meta.lang.as_deref(),
        meta::meta_value(&page.meta, &["content-language", "language", "og:locale"]),
        ld.language.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find(|l| !l.trim().is_empty());
    let page_url = url.map(Url::as_str);
    // The order of numeric dates (05/03/2021) follows the language: the page's, else the
    // feed's, else the one its text is written in.
    let detected_language = match (declared_language, hints.language.as_deref()) {
        (None, None) if content_chars(&text) >= 100 => detect_language(&text),
        _ => None,
    };
    let found_dates = dates::find_dates(
        &page,
        &dates::DateInputs {
            ld: &ld,
            url: page_url,
            language: declared_language
                .or(hints.language.as_deref())
                .or(detected_language.as_deref()),
            now: options.fetched_at.unwrap_or_else(Utc::now),
        },
    );
    deadline.check("dates")?;
    let (published_at, date_source) = match (found_dates.published, hints.published_at) {
        (Some(d), _) => (
            Some(d),
            found_dates.published_source.map(|s| s.as_str().to_owned()),
        ),
        (None, Some(d)) => (Some(d), Some(dates::DateSource::Feed.as_str().to_owned())),
        (None, None) => (None, None),
    };
    article.published_at = published_at;
    article.updated_at = found_dates.updated.or(hints.updated_at);
    article.extraction.date_source = date_source;
    if method == "dom"
        && let Some(title) = article.title.as_deref()
    {
        text = drop_leading_title(&text, title);
    }
    let wall = detect_wall(&page.meta, &ld, &text, page.meta.title.as_deref());
    if page.meta.frames && content_chars(&text) < 200 {
        warnings.push(warnings::FRAMES.to_owned());
    }
    let chars = content_chars(&text);
    if let Some(wall) = wall {
        warnings.push(wall.to_owned());
        let fallback = feed_text(hints);
        if !fallback.is_empty() {
            text = fallback;
            method = "feed";
        }
    } else if chars == 0 {
        warnings.push(warnings::EMPTY.to_owned());
        let fallback = feed_text(hints);
        if !fallback.is_empty() {
            text = fallback;
            method = "feed";
        }
    } else if chars < 200 {
        warnings.push(warnings::SHORT.to_owned());
    }

    article.language = language(&page.meta, &ld, hints, &text, &mut warnings);
    let quality = quality(method, &text, found.link_density, &warnings);
    article.text = text;
    let date_source = article.extraction.date_source.take();
    article.extraction = Extraction {
        method: method.to_owned(),
        quality,
        warnings,
        date_source,
    };
    Ok(article)
}

/// Builds the article from the feed entry alone (non-HTML link, page unavailable, paywall):
/// `extraction.method = "feed"` and `warning` recorded.
pub fn from_feed(hints: &FeedHints, url: Option<&Url>, warning: &str) -> Article {
    let text = feed_text(hints);
    let mut warnings = Vec::new();
    if !warning.is_empty() {
        warnings.push(warning.to_owned());
    }
    if text.is_empty() {
        warnings.push(warnings::EMPTY.to_owned());
    }
    let language = hints
        .language
        .as_deref()
        .and_then(meta::normalize_language)
        .or_else(|| detect_language(&text));
    let quality = if text.is_empty() { 0.0 } else { 0.3 };
    let mut article = Article {
        title: hints
            .title
            .as_deref()
            .map(normalize_space)
            .filter(|t| !t.is_empty()),
        authors: meta::clean_authors(&hints.authors),
        published_at: hints.published_at,
        updated_at: hints.updated_at,
        language,
        text,
        summary: hints
            .summary
            .as_deref()
            .map(normalize_space)
            .filter(|s| !s.is_empty()),
        image: hints.image.clone(),
        tags: hints.tags.clone(),
        site_name: None,
        canonical_url: url.map(Url::to_string),
        extraction: Extraction {
            method: "feed".to_owned(),
            quality,
            warnings,
            date_source: hints.published_at.map(|_| "feed".to_owned()),
        },
    };
    let cut = bounds::bound_fields(&mut article);
    article.extraction.warnings.extend(cut);
    article
}

/// The feed entry's own text: its full content rendered like a page, else its summary.
fn feed_text(hints: &FeedHints) -> String {
    if let Some(content) = hints
        .content_html
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    {
        let limits = Limits::default();
        let guarded = guard::guard(content, &limits);
        if !guarded.refused {
            let parsed = scraper::Html::parse_document(&guarded.html);
            let page = dom::build(&parsed);
            let rendered = body::render_all(&page, limits.max_text_bytes);
            if !rendered.is_empty() {
                return rendered;
            }
        }
    }
    hints
        .summary
        .as_deref()
        .map(normalize_space)
        .unwrap_or_default()
}

/// Removes a copy of the headline from the first paragraphs of the body (pages that put
/// the title in a `<h2>`, a `<p>` or a styled `<div>` instead of the `<h1>`).
fn drop_leading_title(text: &str, title: &str) -> String {
    let key = |s: &str| score::tokens(s).join(" ").to_lowercase();
    let title_key = key(title);
    if title_key.is_empty() {
        return text.to_owned();
    }
    let paragraphs: Vec<&str> = text.split("\n\n").collect();
    match paragraphs.iter().take(3).position(|p| key(p) == title_key) {
        Some(at) if paragraphs.len() > 1 => paragraphs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, p)| *p)
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => text.to_owned(),
    }
}

/// JSON-LD bodies come as plain text, sometimes with HTML or escaped entities left in.
fn clean_json_ld_body(raw: &str) -> String {
    let unescaped = if raw.contains('<') || raw.contains("&") {
        let parsed = scraper::Html::parse_fragment(raw);
        let page = dom::build(&parsed);
        body::render_all(&page, usize::MAX)
    } else {
        raw.to_owned()
    };
    unescaped
        .split('\n')
        .map(normalize_space)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Uses JSON-LD `articleBody` only when it is consistent with the page: when the DOM
/// found next to nothing, or when the body covers what the DOM found and is not a teaser.
fn json_ld_body_preferred(ld_body: &str, dom_text: &str) -> bool {
    let ld_words = word_count(ld_body);
    let dom_words = word_count(dom_text);
    if ld_words < 50 {
        return false;
    }
    if dom_words < 30 {
        return true;
    }
    // A teaser (truncated body) is shorter than the page; a body that is much longer than
    // the page is probably the page missing content we should not trust either way.
    if ld_words < dom_words * 9 / 10 || ld_words > dom_words * 2 {
        return false;
    }
    // Consistency: most of the DOM text's shingles must appear in the JSON-LD body.
    let overlap = score::score_page(ld_body, dom_text);
    overlap.precision.unwrap_or(0.0) >= 0.8
}

// Long on purpose: the metadata precedence (JSON-LD, meta, microdata, feed hints) reads
// top to bottom, one field after another, which is what a reader of the rule wants to see.
fn metadata(
    page: &dom::Dom<'_>,
    ld: &meta::JsonLdArticle,
    url: Option<&Url>,
    hints: &FeedHints,
) -> Article {
    let raw = &page.meta;
    let m = |keys: &[&str]| meta::meta_value(raw, keys).map(str::to_owned);
    let site_name = m(&["og:site_name", "application-name", "twitter:site"])
        .or_else(|| ld.publisher.clone())
        .map(|s| normalize_space(&s))
        .filter(|s| !s.is_empty() && !s.starts_with('@'));
    let itemprop = |name: &str| {
        raw.itemprops
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let metadata_titles = [
        ld.headline.clone(),
        m(&["og:title"]),
        m(&["twitter:title"]),
        m(&["dc.title", "dcterms.title"]),
        m(&["headline"]).or_else(|| itemprop("headline")),
    ];
    let title = titles::choose_title(&titles::TitleSources {
        metadata: metadata_titles.into_iter().flatten().collect(),
        title_element: raw.title.as_deref(),
        h1s: &raw.h1s,
        site_name: site_name.as_deref(),
        host_label: url.and_then(Url::host_str).and_then(titles::host_label),
        feed: hints.title.as_deref(),
    });

    let mut authors = meta::clean_authors(&ld.authors);
    if authors.is_empty() {
        let meta_authors: Vec<String> = raw
            .metas
            .iter()
            .filter(|(k, v)| {
                matches!(
                    k.as_str(),
                    "author"
                        | "article:author"
                        | "dc.creator"
                        | "dcterms.creator"
                        | "parsely-author"
                        | "sailthru.author"
                        | "byl"
                ) && !v.contains("://")
            })
            .map(|(_, v)| v.clone())
            .collect();
        authors = meta::clean_authors(&meta_authors);
    }
    if authors.is_empty() {
        authors = meta::clean_authors(&raw.author_elements);
    }
    if authors.is_empty() {
        authors = meta::clean_authors(&bylines::byline_elements(page));
    }
    if authors.is_empty()
        && let Some(line) = bylines::byline_line(page)
    {
        authors = meta::clean_authors(&[line]);
    }
    if authors.is_empty() {
        authors = meta::clean_authors(&hints.authors);
    }

    // Dates are searched over the whole page by `dates::find_dates` (set by the caller).
    let summary = ld
        .description
        .clone()
        .or_else(|| {
            m(&[
                "og:description",
                "twitter:description",
                "description",
                "dc.description",
            ])
        })
        .or_else(|| hints.summary.clone())
        .map(|s| normalize_space(&s))
        .filter(|s| !s.is_empty());
    let image = ld
        .image
        .clone()
        .or_else(|| {
            m(&[
                "og:image",
                "og:image:url",
                "twitter:image",
                "twitter:image:src",
            ])
        })
        .or_else(|| hints.image.clone())
        .map(|i| resolve(url, &i));
    let mut tags: Vec<String> = if ld.keywords.is_empty() {
        raw.metas
            .iter()
            .filter(|(k, _)| k == "article:tag")
            .map(|(_, v)| normalize_space(v))
            .collect()
    } else {
        ld.keywords.iter().map(|k| normalize_space(k)).collect()
    };
    if tags.is_empty() {
        tags = m(&["keywords", "news_keywords"])
            .map(|k| {
                k.split(',')
                    .map(normalize_space)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
    }
    for tag in &hints.tags {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.clone());
        }
    }
    tags.truncate(30);
    let canonical_url = raw
        .canonical
        .clone()
        .or_else(|| m(&["og:url"]))
        .map(|c| resolve(url, &c));

    Article {
        title,
        authors,
        summary,
        image,
        tags,
        site_name,
        canonical_url,
        ..Article::default()
    }
}

fn resolve(base: Option<&Url>, href: &str) -> String {
    let href = href.trim();
    match base.and_then(|b| b.join(href).ok()) {
        Some(u) => u.to_string(),
        None => href.to_owned(),
    }
}

/// Paywalls, consent walls and bot challenges.
fn detect_wall(
    raw: &dom::RawMeta,
    ld: &meta::JsonLdArticle,
    text: &str,
    title: Option<&str>,
) -> Option<&'static str> {
    let chars = content_chars(text);
    let title = title.map(str::to_lowercase).unwrap_or_default();
    let challenge_titles = [
        "just a moment",
        "attention required",
        "access denied",
        "are you a robot",
        "security check",
        "captcha",
        "ddos-guard",
        "verify you are human",
    ];
    if chars < 1500 && challenge_titles.iter().any(|t| title.contains(t)) {
        return Some(warnings::CHALLENGE);
    }
    let lower = text.to_lowercase();
    if ld.paywalled && chars < 1500 {
        return Some(warnings::PAYWALL);
    }
    let login_prompts = [
        "subscribe to continue",
        "subscribe to read",
        "log in to continue",
        "sign in to continue",
        "subscribers only",
        "already a subscriber",
        "to continue reading",
    ];
    if chars < 800 && login_prompts.iter().any(|p| lower.contains(p)) {
        return Some(warnings::LOGIN_WALL);
    }
    let consent = [
        "cookie",
        "consent",
        "privacy settings",
        "we value your privacy",
    ];
    let consent_page =
        title.contains("consent") || title.contains("cookie") || title.contains("privacy");
    if chars < 600 && (consent_page || consent.iter().filter(|c| lower.contains(*c)).count() >= 2) {
        return Some(warnings::CONSENT);
    }
    let _ = raw;
    None
}

fn detect_language(text: &str) -> Option<String> {
    // A few hundred characters decide the language reliably; whatlang's cost grows with
    // the sample, and it runs on every page.
    let sample: String = text.chars().take(600).collect();
    let info = whatlang::detect(&sample)?;
    if !info.is_reliable() {
        return None;
    }
    meta::iso639_3_to_1(info.lang().code()).map(str::to_owned)
}

fn language(
    raw: &dom::RawMeta,
    ld: &meta::JsonLdArticle,
    hints: &FeedHints,
    text: &str,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let declared = [
        raw.lang.clone(),
        meta::meta_value(raw, &["content-language", "language", "dc.language"]).map(str::to_owned),
        ld.language.clone(),
        meta::meta_value(raw, &["og:locale"]).map(str::to_owned),
        hints.language.clone(),
    ]
    .into_iter()
    .flatten()
    .find_map(|l| meta::normalize_language(&l));
    let detected = if content_chars(text) >= 100 {
        detect_language(text)
    } else {
        None
    };
    match (declared, detected) {
        (Some(d), Some(t)) if d != t => {
            warnings.push(format!(
                "declared language {d} disagrees with the text ({t})"
            ));
            Some(t)
        }
        (Some(d), _) => Some(d),
        (None, t) => t,
    }
}

fn quality(method: &str, text: &str, link_density: f64, warnings: &[String]) -> f32 {
    let words = word_count(text) as f64;
    let length = (words / 300.0).min(1.0);
    let base = match method {
        "json-ld" => 0.9,
        "dom" => 0.85,
        _ => 0.4,
    };
    let penalty = if warnings.is_empty() { 0.0 } else { 0.15 };
    ((base * (0.3 + 0.7 * length) * (1.0 - link_density.min(1.0) * 0.5)) - penalty).clamp(0.0, 1.0)
        as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_repeated_in_the_body_is_dropped_once() {
        let text = "Storm Hits Coast\n\nThe storm reached the coast at dawn.\n\nStorm hits coast";
        assert_eq!(
            drop_leading_title(text, "Storm hits coast!"),
            "The storm reached the coast at dawn.\n\nStorm hits coast"
        );
        assert_eq!(
            drop_leading_title("Only the title", "Only the title"),
            "Only the title"
        );
    }

    #[test]
    fn json_ld_body_needs_to_agree_with_the_page() {
        let page = "word ".repeat(200);
        let teaser = "word ".repeat(60);
        assert!(
            !json_ld_body_preferred(&teaser, &page),
            "a teaser does not replace the page"
        );
        assert!(json_ld_body_preferred(&page, "too short"));
        let unrelated = "other ".repeat(200);
        assert!(!json_ld_body_preferred(&unrelated, &page));
    }
}
