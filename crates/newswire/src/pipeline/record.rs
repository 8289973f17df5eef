//! Record assembly: the one place where the extracted article, the feed it came from and
//! the fetch facts become a `newswire.record/1`.
//!
//! Precedence between the page and the feed entry (title, authors, summary, dates, image,
//! the entry's tags) is the extractor's: it was given the entry as `FeedHints` and already
//! fell back to them, so the article is taken as it is. What only the pipeline knows is
//! added here: the id, the feed and site, the guid, the configured tags, the URLs after
//! redirects and canonicalisation, the fingerprints and `fetched_at`.

use chrono::Utc;
use newswire_core::canonical::canonicalize;
use newswire_core::fingerprint::{self, Fingerprint};
use newswire_core::ids::{self, IdSources};
use newswire_core::record::SCHEMA_ID;
use newswire_core::{Extraction, FeedRef, Record, SiteRef};
use newswire_extractor::Article;
use url::Url;

use super::work::ArticleJob;

/// The feed a record came from, as the config and the feed document name it.
#[derive(Debug, Clone, Copy)]
pub struct FeedPart<'a> {
    pub url: &'a Url,
    /// The feed's own `<title>`.
    pub title: Option<&'a str>,
    /// The feed's `name` in the config.
    pub name: Option<&'a str>,
    /// The feed's own `<link>` (its site).
    pub link: Option<&'a Url>,
    /// The feed's `tags` in the config, copied to every record.
    pub tags: &'a [String],
}

/// Everything a record is made of, by name.
#[derive(Debug)]
pub struct RecordParts<'a> {
    /// From [`newswire_core::ids::record_id`].
    pub id: &'a str,
    /// What the extractor made of the page (or of the feed entry alone).
    pub article: Article,
    pub feed: FeedPart<'a>,
    /// The feed entry's guid.
    pub guid: Option<&'a str>,
    /// The page's address after redirects, else the entry's link.
    pub page_url: Option<&'a Url>,
}

impl<'a> RecordParts<'a> {
    /// The parts of the record of a pipeline job, its page read from `page_url`.
    pub fn of_job(job: &'a ArticleJob, page_url: Option<&'a Url>, article: Article) -> Self {
        RecordParts {
            id: job.id(),
            article,
            feed: FeedPart {
                url: &job.feed.url,
                title: job.feed_title.as_deref(),
                name: job.feed.name.as_deref(),
                link: job.feed_link.as_ref(),
                tags: &job.feed.tags,
            },
            guid: job.entry.id.as_deref(),
            page_url,
        }
    }

    /// Assembles the record.
    pub fn build(self) -> Record {
        self.build_with_fingerprint().0
    }

    /// Assembles the record and the near-duplicate sketches of its text, computed in one
    /// pass (the record carries the simhash as hex; the pipeline needs both sketches).
    pub fn build_with_fingerprint(self) -> (Record, Fingerprint) {
        let RecordParts {
            id,
            article,
            feed,
            guid,
            page_url,
        } = self;
        let text = article.text;
        let canonical = article
            .canonical_url
            .as_deref()
            .and_then(|c| Url::parse(c).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https" | "file"))
            .or_else(|| page_url.cloned())
            .map(|u| canonicalize(&u));
        let (sketches, word_count) = Fingerprint::with_word_count(&text);
        let record = Record {
            schema: SCHEMA_ID.to_string(),
            id: id.to_string(),
            url: page_url.unwrap_or(feed.url).to_string(),
            site: SiteRef {
                name: non_empty(article.site_name.as_deref())
                    .or_else(|| non_empty(feed.name))
                    .or_else(|| non_empty(feed.title)),
                url: site_url(canonical.as_ref(), page_url, feed.link),
            },
            canonical_url: canonical.map(String::from),
            feed: FeedRef {
                url: feed.url.to_string(),
                title: non_empty(feed.title),
            },
            guid: non_empty(guid),
            title: non_empty(article.title.as_deref()),
            authors: article.authors,
            summary: non_empty(article.summary.as_deref()),
            published_at: article.published_at,
            updated_at: article.updated_at,
            fetched_at: Utc::now(),
            language: article
                .language
                .filter(|l| l.len() == 2 && l.chars().all(|c| c.is_ascii_lowercase())),
            word_count,
            content_hash: fingerprint::content_hash(&text),
            simhash: sketches.simhash.to_string(),
            text,
            tags: merged_tags(feed.tags, &article.tags),
            image: non_empty(article.image.as_deref()),
            duplicate_of: None,
            extraction: Extraction {
                method: if article.extraction.method.is_empty() {
                    "none".into()
                } else {
                    article.extraction.method
                },
                quality: article.extraction.quality.clamp(0.0, 1.0),
                warnings: article.extraction.warnings,
                date_source: article.extraction.date_source,
            },
            // Filled by the stories stage when it runs.
            story: None,
            places: Vec::new(),
            countries: Vec::new(),
            actors: Vec::new(),
        };
        (record, sketches)
    }
}

/// The record of a page read on its own (`newswire extract`): no feed, so the page's
/// address stands for the feed and its id comes from that address alone.
pub fn page_record(page_url: &Url, article: Article) -> Record {
    let id = ids::record_id(&IdSources::page(page_url)).unwrap_or_default();
    RecordParts {
        id: &id,
        article,
        feed: FeedPart {
            url: page_url,
            title: None,
            name: None,
            link: None,
            tags: &[],
        },
        guid: None,
        page_url: Some(page_url),
    }
    .build()
}

/// The site is the publication's web origin: from the canonical URL when the page was
/// read from elsewhere (a file, a mirror), else from the page or the feed's link.
fn site_url(
    canonical: Option<&Url>,
    page: Option<&Url>,
    feed_link: Option<&Url>,
) -> Option<String> {
    [canonical, page, feed_link]
        .into_iter()
        .flatten()
        .find(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| format!("{}/", u.origin().ascii_serialization()))
}

/// The configured tags first, then the article's, trimmed, without case-insensitive
/// repeats.
fn merged_tags(configured: &[String], article: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in configured.iter().chain(article) {
        let tag = tag.trim();
        if !tag.is_empty() && !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.to_string());
        }
    }
    tags
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use newswire_extractor::FeedHints;

    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_record_keeps_the_feed_and_the_fetch_facts() {
        let feed_url = url("https://news.example/rss");
        let page = url("https://news.example/a?utm_source=rss");
        let site = url("https://news.example/");
        let tags = vec!["Europe".to_string(), " ".to_string()];
        let article = Article {
            title: Some(" Storm ".into()),
            tags: vec!["europe".into(), "Weather".into()],
            ..Article::default()
        };
        let record = RecordParts {
            id: "0123",
            article,
            feed: FeedPart {
                url: &feed_url,
                title: Some("News"),
                name: None,
                link: Some(&site),
                tags: &tags,
            },
            guid: Some(" urn:x:1 "),
            page_url: Some(&page),
        }
        .build();
        assert_eq!(record.id, "0123");
        assert_eq!(record.url, "https://news.example/a?utm_source=rss");
        assert_eq!(
            record.canonical_url.as_deref(),
            Some("https://news.example/a")
        );
        assert_eq!(record.feed.url, "https://news.example/rss");
        assert_eq!(record.feed.title.as_deref(), Some("News"));
        assert_eq!(record.site.name.as_deref(), Some("News"), "the feed title");
        assert_eq!(record.site.url.as_deref(), Some("https://news.example/"));
        assert_eq!(record.guid.as_deref(), Some("urn:x:1"));
        assert_eq!(record.title.as_deref(), Some("Storm"));
        assert_eq!(record.tags, ["Europe", "Weather"]);
        assert_eq!(record.extraction.method, "none");
    }

    #[test]
    fn the_feed_entry_reaches_the_record_through_the_extractor_only() {
        // The extractor merges the entry's hints; assembly adds nothing of its own.
        let hints = FeedHints {
            title: Some("From the feed".into()),
            authors: vec!["Ana Example".into()],
            summary: Some("Summary from the feed.".into()),
            tags: vec!["feed-tag".into()],
            image: Some("https://news.example/i.jpg".into()),
            ..FeedHints::default()
        };
        let page = url("https://news.example/a");
        let article = newswire_extractor::from_feed(&hints, Some(&page), "no page");
        let record = page_record(&page, article);
        assert_eq!(record.title.as_deref(), Some("From the feed"));
        assert_eq!(record.authors, ["Ana Example"]);
        assert_eq!(record.summary.as_deref(), Some("Summary from the feed."));
        assert_eq!(record.tags, ["feed-tag"]);
        assert_eq!(record.image.as_deref(), Some("https://news.example/i.jpg"));
        assert_eq!(record.extraction.method, "feed");
    }

    #[test]
    fn a_page_read_alone_is_its_own_feed_and_its_id_comes_from_its_address() {
        let page = url("https://news.example/a#top");
        let record = page_record(&page, Article::default());
        assert_eq!(
            Some(record.id.clone()),
            ids::record_id(&IdSources::page(&url("https://news.example/a")))
        );
        assert_eq!(record.feed.url, page.as_str());
        assert_eq!(record.guid, None);
        assert_eq!(record.site.url.as_deref(), Some("https://news.example/"));
    }

    #[test]
    fn a_record_is_routed_by_its_site_else_its_own_address() {
        use newswire_sink::subject::{Route, SubjectTemplate};
        let page = url("https://www.wire.example/story/1");
        let mut record = page_record(&page, Article::default());
        record.language = Some("de".into());
        let template = SubjectTemplate::parse("r.{site}.{lang}").unwrap();
        assert_eq!(template.render(&Route::of(&record)), "r.wire_example.de");
        record.site.url = None;
        record.url = "https://other.example/x".into();
        assert_eq!(template.render(&Route::of(&record)), "r.other_example.de");
    }
}
