//! Publication and update dates from every place a page gives them, with their source.
//!
//! Sources, in order of trust (the first that yields a plausible date wins):
//! 1. `json-ld`: `datePublished` (`dateCreated`, `uploadDate`) of the article object;
//! 2. `meta`: the common `<meta>` names (Open Graph, Dublin Core, Parse.ly, Sailthru, …);
//! 3. `json-ld`: the same keys of any object at any depth (after the meta tags: it may be a
//!    video's upload or a comment's date);
//! 4. `microdata`: `itemprop=datePublished` elements;
//! 5. `time`: a `<time datetime>` marked as the publication time (`pubdate`, a class
//!    saying published/posted), or `<abbr title>` with a date class;
//! 6. `url`: a full date in the URL path (`/2019/03/12/`, `/20190312/`, `-2019-03-12`);
//! 7. `time`: any other `<time datetime>` not marked as an update, outside boxes beside
//!    the article (`<aside>`, `<nav>`, comments, related stories, sidebars, widgets);
//! 8. `text`: visible text of elements whose class or id says date/published/posted/byline
//!    (also run together: `postmetadata`, `publishdate`), then the visible text right after
//!    the headline, then labelled lines anywhere, read in many languages ("Published 12
//!    March 2019", "Veröffentlicht am 12.03.2019", "le 1er mars 2019", "12 de marzo de
//!    2019", "12 marca 2019", "5 Mart 2021", "2019年3月12日");
//! 9. `time`: a `<time>` in a box beside the article;
//! 10. `last-modified`: the update date (from the meta tags, the body's update markers or a
//!     "last updated" line) when the page gives nothing else.
//!
//! The update date comes from JSON-LD `dateModified`, the update meta tags, microdata
//! `dateModified` or a `<time class="updated">`, else from the text. On a line of text each
//! date belongs to the label before it ("Updated: March 7 · Published: March 5"; "March 5 ·
//! Updated March 7"), and a date labelled as an update never becomes the publication date.
//! Dates before 1995 or after `now` + 1 day are rejected. When a value carries a time zone
//! it is converted to UTC with it; a value without one is read as UTC (day precision is
//! what such values are trusted for). Numeric day/month order is decided by the page's
//! language, else the feed's, else the one its text is written in (month first only for
//! US English), unless one of the numbers cannot be a month. No date is ever invented: no
//! year-only or "2 hours ago" value is read.
//!
//! All string parsing goes through [`parse_date_string`], so it can be swapped for a
//! shared lenient parser in one place.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::dom::{Dom, Kind};
use crate::meta::{self, JsonLdArticle};

mod text;

pub(crate) use text::is_month_word;
pub use text::{FoundDate, find_text_date, parse_date_string, url_date};

/// Where a date was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSource {
    JsonLd,
    Meta,
    Microdata,
    Time,
    Url,
    Text,
    LastModified,
    Feed,
}

impl DateSource {
    /// The stable name written to `extraction.date_source`.
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::JsonLd => "json-ld",
            DateSource::Meta => "meta",
            DateSource::Microdata => "microdata",
            DateSource::Time => "time",
            DateSource::Url => "url",
            DateSource::Text => "text",
            DateSource::LastModified => "last-modified",
            DateSource::Feed => "feed",
        }
    }
}

/// Dates found on a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageDates {
    pub published: Option<DateTime<Utc>>,
    pub published_source: Option<DateSource>,
    pub updated: Option<DateTime<Utc>>,
}

/// How numeric dates like `03/04/2019` are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOrder {
    DayFirst,
    MonthFirst,
}

impl DayOrder {
    /// Month first for US English (and English without a region), day first elsewhere.
    pub fn for_language(lang: Option<&str>) -> DayOrder {
        let Some(lang) = lang else {
            return DayOrder::MonthFirst;
        };
        let lower = lang.trim().to_ascii_lowercase().replace('_', "-");
        if lower == "en" || lower.starts_with("en-us") || lower.is_empty() {
            DayOrder::MonthFirst
        } else {
            DayOrder::DayFirst
        }
    }
}

/// Meta names that carry the publication date, most specific first.
const PUBLISHED_META: &[&str] = &[
    "article:published_time",
    "article:published",
    "og:published_time",
    "og:article:published_time",
    "article.published",
    "article_date_original",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dcterms.created",
    "dc.date.created",
    "dc.date",
    "dcterms.date",
    "citation_publication_date",
    "citation_date",
    "citation_online_date",
    "prism.publicationdate",
    "rnews:datepublished",
    "datepublished",
    "datecreated",
    "originalpublicationdate",
    "og:pubdate",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published_date",
    "published-date",
    "publication_date",
    "publication-date",
    "date_published",
    "release_date",
    "bt:pubdate",
    "cxenseparse:recs:publishtime",
    "article:post_date",
    "displaydate",
    "created",
    "date",
];

/// Meta names that carry the update date.
const UPDATED_META: &[&str] = &[
    "article:modified_time",
    "article:modified",
    "og:updated_time",
    "og:modified_time",
    "dcterms.modified",
    "dc.date.modified",
    "datemodified",
    "last-modified",
    "lastmod",
    "revised",
];

/// Words that label a date as an update, in several languages (lower case).
const UPDATE_WORDS: &[&str] = &[
    "updated",
    "update:",
    "last modified",
    "modified",
    "last updated",
    "aktualisiert",
    "geändert",
    "stand:",
    "mis à jour",
    "mise à jour",
    "modifié",
    "actualizado",
    "actualización",
    "aggiornato",
    "aggiornamento",
    "bijgewerkt",
    "gewijzigd",
    "zaktualizowano",
    "aktualizacja",
    "atualizado",
    "atualização",
    "обновлено",
    "aktualizováno",
    "更新",
];

/// Words that label a date as the publication.
const PUBLISH_WORDS: &[&str] = &[
    "published",
    "posted",
    "publié",
    "veröffentlicht",
    "erschienen",
    "publicado",
    "publicada",
    "pubblicato",
    "gepubliceerd",
    "opublikowano",
    "publikováno",
    "опубликовано",
    "公開",
    "发布",
    "發布",
    "投稿",
];

/// Class names that run the words together ("postmetadata", htmldate's example), matched
/// inside the lower-cased class and id.
const DATE_CLASS_COMPOUNDS: &[&str] = &[
    "postmeta",
    "entrymeta",
    "publishdate",
    "publisheddate",
    "entrydate",
    "postdate",
    "pubdate",
    "articledate",
    "newsdate",
];

/// Class/id words of elements that hold a date or the byline line it sits in.
const DATE_CLASS_WORDS: &[&str] = &[
    "date",
    "dates",
    "time",
    "timestamp",
    "published",
    "publish",
    "pubdate",
    "posted",
    "postdate",
    "dateline",
    "byline",
    "meta",
    "datum",
    "fecha",
    "data",
    "info",
    "author",
];

fn label_of(context: &str) -> Option<bool> {
    // Some(true): update label; Some(false): publish label.
    let lower = context.to_lowercase();
    let update = UPDATE_WORDS.iter().filter_map(|w| lower.find(w)).min();
    let publish = PUBLISH_WORDS.iter().filter_map(|w| lower.find(w)).min();
    match (publish, update) {
        (Some(p), Some(u)) => Some(u < p),
        (None, Some(_)) => Some(true),
        (Some(_), None) => Some(false),
        (None, None) => None,
    }
}

/// Inputs besides the DOM that the date search uses.
pub struct DateInputs<'i> {
    pub ld: &'i JsonLdArticle,
    pub url: Option<&'i str>,
    pub language: Option<&'i str>,
    /// Upper bound of plausible dates (the fetch time).
    pub now: DateTime<Utc>,
}

/// Searches the page for its publication and update dates.
pub fn find_dates(dom: &Dom<'_>, inputs: &DateInputs<'_>) -> PageDates {
    let order = DayOrder::for_language(inputs.language);
    let earliest = NaiveDate::from_ymd_opt(1995, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let latest = inputs.now + Duration::days(1);
    let plausible = |d: DateTime<Utc>| d >= earliest && d <= latest;
    let parse = |s: &str| parse_date_string(s, order).filter(|d| plausible(*d));
    let raw = &dom.meta;
    let mut out = PageDates::default();

    let updated = inputs
        .ld
        .modified
        .as_deref()
        .and_then(parse)
        .or_else(|| {
            UPDATED_META
                .iter()
                .find_map(|k| meta::meta_value(raw, &[k]).and_then(parse))
        })
        // In the body: microdata `dateModified`, a `<time class="updated">`.
        .or_else(|| {
            raw.itemprops
                .iter()
                .filter(|(k, _)| k == "datemodified")
                .find_map(|(_, v)| parse(v))
        })
        .or_else(|| {
            raw.date_attrs
                .iter()
                .filter(|a| {
                    a.updated_class && !a.published_class && !beside_the_article(dom, a.node)
                })
                .find_map(|a| parse(&a.value))
        });
    out.updated = updated;

    let mut found: Option<(DateTime<Utc>, DateSource)> = None;
    let mut try_source = |value: Option<DateTime<Utc>>, source: DateSource| {
        if found.is_none()
            && let Some(v) = value
        {
            found = Some((v, source));
        }
    };
    try_source(
        inputs.ld.published.as_deref().and_then(parse),
        DateSource::JsonLd,
    );
    try_source(
        PUBLISHED_META
            .iter()
            .find_map(|k| meta::meta_value(raw, &[k]).and_then(parse)),
        DateSource::Meta,
    );
    // A date of any JSON-LD object comes after the page's own meta tags: it may be a
    // video's upload or a comment's date.
    try_source(
        json_ld_any_published(&raw.json_ld)
            .as_deref()
            .and_then(parse),
        DateSource::JsonLd,
    );
    try_source(
        raw.itemprops
            .iter()
            .filter(|(k, _)| k == "datepublished" || k == "datecreated")
            .find_map(|(_, v)| parse(v)),
        DateSource::Microdata,
    );
    try_source(
        raw.times
            .iter()
            .filter(|(_, published, _)| *published)
            .find_map(|(v, _, _)| parse(v)),
        DateSource::Time,
    );
    try_source(
        raw.date_attrs
            .iter()
            .filter(|a| a.published_class && !a.updated_class)
            .find_map(|a| parse(&a.value)),
        DateSource::Time,
    );
    try_source(
        inputs
            .url
            .and_then(url_date)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .filter(|d| plausible(*d)),
        DateSource::Url,
    );
    // Unlabelled <time> values: the first that is not labelled as an update.
    // (WordPress marks an unchanged post `class="entry-date published updated"`: that is
    // its publication date.)
    let update_only = |a: &&crate::dom::DateAttr| a.updated_class && !a.published_class;
    let update_values: Vec<&str> = raw
        .date_attrs
        .iter()
        .filter(update_only)
        .map(|a| a.value.as_str())
        .collect();
    // Those in a sidebar, comments or related stories come last, after the text's own.
    let unlabelled_time = |elsewhere: bool| {
        raw.date_attrs
            .iter()
            .filter(|a| !update_only(a) && beside_the_article(dom, a.node) == elsewhere)
            .find_map(|a| parse(&a.value))
            .or_else(|| {
                raw.times
                    .iter()
                    .filter(|(v, _, node)| {
                        !update_values.contains(&v.as_str())
                            && beside_the_article(dom, *node) == elsewhere
                    })
                    .find_map(|(v, _, _)| parse(v))
            })
    };
    try_source(unlabelled_time(false), DateSource::Time);
    if found.is_none() {
        let (text_published, text_updated) = text_dates(dom, order, &plausible);
        if out.updated.is_none() {
            out.updated = text_updated;
        }
        found = text_published
            .map(|d| (d, DateSource::Text))
            .or_else(|| unlabelled_time(true).map(|d| (d, DateSource::Time)));
        if found.is_none()
            && let Some(modified) = text_updated
        {
            // Last resort: a page that only says when it was last changed.
            found = Some((modified, DateSource::LastModified));
        }
    }
    // A page that only says when it was last changed (in its meta tags as in its text).
    if found.is_none()
        && let Some(modified) = out.updated
    {
        found = Some((modified, DateSource::LastModified));
    }
    if let Some((date, source)) = found {
        out.published = Some(date);
        out.published_source = Some(source);
    }
    // An "updated" date before the publication is a mislabel; drop it.
    if let (Some(p), Some(u)) = (out.published, out.updated)
        && u < p
    {
        out.updated = None;
    }
    out
}

/// Whether node `at` sits in a box beside the article: an `<aside>` or `<nav>`, or a box
/// for comments, related or recommended stories, a sidebar or a widget. Dates there are
/// other items' dates. (Not `<footer>`: an article's own footer often holds its date.)
fn beside_the_article(dom: &Dom<'_>, at: usize) -> bool {
    const BESIDE: &[&str] = &[
        "comment",
        "comments",
        "related",
        "sidebar",
        "recommended",
        "recommendations",
        "trending",
        "popular",
        "widget",
        "teaser",
        "teasers",
        "promo",
    ];
    let mut node = at;
    for _ in 0..64 {
        let Some(n) = dom.nodes.get(node) else {
            return false;
        };
        if let Kind::Element(e) = &n.kind {
            // The article's own box, or the page's: classes above it ("has-sidebar" on
            // <body>) describe the layout, not the date.
            if matches!(e.name, "article" | "main" | "body") {
                return false;
            }
            if matches!(e.name, "aside" | "nav") || crate::dom::has_word(&e.class_id, BESIDE) {
                return true;
            }
        }
        node = n.parent;
    }
    false
}

/// `datePublished` (or `dateCreated`/`uploadDate`) of any JSON-LD object at any depth.
fn json_ld_any_published(blocks: &[String]) -> Option<String> {
    fn walk(v: &serde_json::Value, depth: usize) -> Option<String> {
        if depth > 12 {
            return None;
        }
        match v {
            serde_json::Value::Object(map) => {
                for key in ["datePublished", "dateCreated", "uploadDate"] {
                    if let Some(serde_json::Value::String(s)) = map.get(key) {
                        return Some(s.clone());
                    }
                }
                map.values().find_map(|x| walk(x, depth + 1))
            }
            serde_json::Value::Array(items) => items.iter().find_map(|x| walk(x, depth + 1)),
            _ => None,
        }
    }
    blocks.iter().find_map(|b| {
        let v: serde_json::Value = serde_json::from_str(crate::meta::json_ld_json(b)).ok()?;
        walk(&v, 0)
    })
}

/// Characters of visible text read after the headline.
const AFTER_HEADLINE_CHARS: usize = 1500;
/// Characters of a date-classed element's text that are read.
const DATE_ELEMENT_CHARS: usize = 300;

/// Dates from visible text: date-classed elements first (nearest the headline), then the
/// text that follows the headline, then labelled dates anywhere on the page.
fn text_dates(
    dom: &Dom<'_>,
    order: DayOrder,
    plausible: &dyn Fn(DateTime<Utc>) -> bool,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let nodes = &dom.nodes;
    let h1 = nodes
        .iter()
        .position(|n| matches!(&n.kind, Kind::Element(e) if e.name == "h1"));
    let mut state = TextDates {
        order,
        plausible,
        h1,
        published: None,
        updated: None,
    };
    // 1. Elements whose class or id says date/published/byline.
    let mut i = 0;
    while i < nodes.len() {
        if let Kind::Element(e) = &nodes[i].kind
            && !matches!(
                e.name,
                "script" | "style" | "head" | "title" | "option" | "select"
            )
            && !e.class_id.is_empty()
            && (crate::dom::has_word(&e.class_id, DATE_CLASS_WORDS)
                || DATE_CLASS_COMPOUNDS.iter().any(|c| e.class_id.contains(c)))
        {
            let text = subtree_text(dom, i, DATE_ELEMENT_CHARS);
            if text.len() < DATE_ELEMENT_CHARS {
                state.consider(i, &text);
                // The element's own subtree is done.
                i = nodes[i].end;
                continue;
            }
        }
        i += 1;
    }
    if let Some((_, date)) = state.published {
        return (Some(date), state.updated);
    }
    // 2. The text right after the headline.
    if let Some(h) = h1 {
        let text = text_from(dom, h, AFTER_HEADLINE_CHARS);
        for line in text.split('\n') {
            state.consider(h, line);
            if state.published.is_some() {
                break;
            }
        }
        if let Some((_, date)) = state.published {
            return (Some(date), state.updated);
        }
    }
    // 3. Labelled dates anywhere ("Published on …", "Veröffentlicht am …").
    let text = text_from(dom, 0, 200_000);
    for line in text.split('\n') {
        if line.len() > 300 {
            continue;
        }
        match label_of(line) {
            Some(false) => {
                state.consider(usize::MAX / 2, line);
                if state.published.is_some() {
                    break;
                }
            }
            Some(true) if state.updated.is_none() => state.consider(usize::MAX / 2, line),
            _ => {}
        }
    }
    (state.published.map(|(_, d)| d), state.updated)
}

/// Best text dates so far: the publication date nearest the headline, the first update.
struct TextDates<'p> {
    order: DayOrder,
    plausible: &'p dyn Fn(DateTime<Utc>) -> bool,
    h1: Option<usize>,
    published: Option<(usize, DateTime<Utc>)>,
    updated: Option<DateTime<Utc>>,
}

impl TextDates<'_> {
    /// Reads the dates of one line of text. Each date belongs to the label before it:
    /// "Updated March 7 · Published March 5" and "March 5 · Updated March 7" give both;
    /// a date before any label is the publication date unless a label names one.
    fn consider(&mut self, at: usize, context: &str) {
        // Read lower-cased, so that the labels' offsets are the text's (the date reader
        // lower-cases words anyway).
        let lower = context.to_lowercase();
        let text = lower.as_str();
        let mut labels: Vec<(usize, Option<bool>)> = UPDATE_WORDS
            .iter()
            .flat_map(|w| lower.match_indices(w).map(|(p, _)| (p, Some(true))))
            .chain(
                PUBLISH_WORDS
                    .iter()
                    .flat_map(|w| lower.match_indices(w).map(|(p, _)| (p, Some(false)))),
            )
            .collect();
        labels.push((0, None));
        labels.sort_unstable();
        let (mut unlabelled, mut published, mut updated) = (None, None, None);
        for (i, &(from, label)) in labels.iter().enumerate() {
            let to = labels.get(i + 1).map_or(text.len(), |next| next.0);
            let Some(date) = text
                .get(from..to)
                .and_then(|segment| find_text_date(segment, self.order))
                .and_then(|found| found.utc())
                .filter(|d| (self.plausible)(*d))
            else {
                continue;
            };
            let slot = match label {
                None => &mut unlabelled,
                Some(true) => &mut updated,
                Some(false) => &mut published,
            };
            slot.get_or_insert(date);
        }
        if self.updated.is_none() {
            self.updated = updated;
        }
        let Some(date) = published.or(unlabelled) else {
            return;
        };
        let distance = self.h1.map_or(at, |h| h.abs_diff(at));
        if self.published.is_none_or(|(best, _)| distance < best) {
            self.published = Some((distance, date));
        }
    }
}

fn invisible(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "svg"
            | "option"
            | "select"
    )
}

/// Visible text of the subtree at `at`, up to `max` bytes, blocks on their own lines.
fn subtree_text(dom: &Dom<'_>, at: usize, max: usize) -> String {
    dom.visible_text(at, dom.nodes[at].end, max, invisible)
}

/// Visible text from node `at` on (to the end of the page), up to `max` bytes.
fn text_from(dom: &Dom<'_>, at: usize, max: usize) -> String {
    dom.visible_text(at, dom.nodes.len(), max, invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_tell_updates_from_publication() {
        assert_eq!(label_of("Updated: March 13, 2019"), Some(true));
        assert_eq!(
            label_of("Published March 12, 2019, updated March 13"),
            Some(false)
        );
        assert_eq!(label_of("Aktualisiert am 13.03.2019"), Some(true));
        assert_eq!(label_of("March 12, 2019"), None);
    }
}
