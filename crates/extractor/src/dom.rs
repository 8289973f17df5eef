//! A flat, pre-order copy of the parsed page, built in one iterative walk of scraper's tree.
//!
//! Each element's subtree is the contiguous range `index..end`, so later passes (scoring,
//! text output) are plain loops over a slice with no recursion (deep pages cannot overflow
//! the stack) and no per-node hashing. While walking, the few things metadata extraction
//! needs (`<meta>`, JSON-LD, `<time>`, `<title>`, `lang`, `rel=canonical`, microdata) are
//! collected too, so the page is walked exactly once.

use ego_tree::iter::Edge;
use scraper::{Html, Node as ScraperNode};

/// Why an element (and its subtree) never reaches the article text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Kept.
    No,
    /// Never content: scripts, styles, navigation, forms controls, hidden elements.
    Always,
    /// Its class, id or role names page furniture (share bars, related lists, newsletter
    /// boxes…). Ignored when a first attempt found too little text.
    Furniture,
}

/// How an element lays out its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Inline,
    /// Starts a new paragraph of output.
    Block,
    /// `<br>`: a line break inside a block.
    Break,
}

#[derive(Debug)]
pub struct Element<'a> {
    pub name: &'a str,
    pub layout: Layout,
    pub drop: Drop,
    /// Class and id joined, lowercased: input of the class weight.
    pub class_id: String,
    pub is_link: bool,
}

#[derive(Debug)]
pub enum Kind<'a> {
    Element(Element<'a>),
    Text(&'a str),
}

#[derive(Debug)]
pub struct Node<'a> {
    pub kind: Kind<'a>,
    /// One past the last node of this node's subtree.
    pub end: usize,
    /// Index of the parent element (`usize::MAX` for roots).
    pub parent: usize,
}

/// Metadata found while walking, raw (not yet cleaned).
#[derive(Debug, Default)]
pub struct RawMeta {
    /// `(name or property or itemprop, content)`, keys lowercased.
    pub metas: Vec<(String, String)>,
    pub json_ld: Vec<String>,
    pub title: Option<String>,
    pub lang: Option<String>,
    pub canonical: Option<String>,
    /// `datetime` of `<time>` elements, in page order, with whether it said `pubdate` or
    /// `itemprop=datePublished`, and the element's index in [`Dom::nodes`].
    pub times: Vec<(String, bool, usize)>,
    /// Text of elements marked `itemprop=author` / `rel=author` (microdata and links).
    pub author_elements: Vec<String>,
    /// Texts of the first `<h1>`s (at most `titles::MAX_H1S`), empty ones included.
    pub h1s: Vec<String>,
    /// `itemprop` values that carry text rather than `content` (headline, datePublished,
    /// dateModified).
    pub itemprops: Vec<(String, String)>,
    /// The page has a `<frameset>` or its body is made of `<iframe>`s only.
    pub frames: bool,
    /// Machine dates in attributes: `<time datetime>`, `<abbr title>` with a date class,
    /// `datetime`/`data-published`/`data-date` on any element, in page order.
    pub date_attrs: Vec<DateAttr>,
}

/// A date value found in an attribute, with what the element's class says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateAttr {
    pub value: String,
    /// Index of the element in [`Dom::nodes`].
    pub node: usize,
    /// The class/id says published/posted/created (or the element is `<time pubdate>`).
    pub published_class: bool,
    /// The class/id says updated/modified.
    pub updated_class: bool,
}

const PUBLISHED_CLASS_WORDS: &[&str] = &[
    "published",
    "publish",
    "pubdate",
    "posted",
    "created",
    "publication",
    "postdate",
];
const UPDATED_CLASS_WORDS: &[&str] = &["updated", "modified", "update", "lastmod"];

/// The flattened page.
#[derive(Debug, Default)]
pub struct Dom<'a> {
    pub nodes: Vec<Node<'a>>,
    pub meta: RawMeta,
    /// Elements marked as the article body by microdata (`itemprop=articleBody`), in order.
    pub marked_bodies: Vec<usize>,
}

impl Dom<'_> {
    /// Visible text of nodes `from..to`, stopping once it holds `max` bytes: each block
    /// starts a line, text nodes are trimmed and joined by a space, and the elements `skip`
    /// names are left out with everything inside them.
    pub(crate) fn visible_text(
        &self,
        from: usize,
        to: usize,
        max: usize,
        skip: fn(&str) -> bool,
    ) -> String {
        let mut out = String::new();
        let mut i = from;
        while i < to && out.len() < max {
            match &self.nodes[i].kind {
                Kind::Element(e) => {
                    if skip(e.name) {
                        i = self.nodes[i].end;
                        continue;
                    }
                    if e.layout != Layout::Inline && !out.ends_with('\n') {
                        out.push('\n');
                    }
                }
                Kind::Text(t) => {
                    if !out.is_empty() && !out.ends_with(['\n', ' ']) {
                        out.push(' ');
                    }
                    out.push_str(t.trim());
                }
            }
            i += 1;
        }
        out
    }
}

fn layout_of(name: &str) -> Layout {
    match name {
        "br" => Layout::Break,
        "address" | "article" | "aside" | "blockquote" | "body" | "center" | "dd" | "details"
        | "dialog" | "dir" | "div" | "dl" | "dt" | "fieldset" | "figcaption" | "figure"
        | "footer" | "form" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "header" | "hgroup"
        | "hr" | "li" | "main" | "menu" | "nav" | "ol" | "p" | "pre" | "section" | "summary"
        | "table" | "tbody" | "thead" | "tfoot" | "tr" | "td" | "th" | "caption" | "ul"
        | "html" | "frameset" | "noscript" | "legend" | "option" => Layout::Block,
        _ => Layout::Inline,
    }
}

fn always_dropped_tag(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "math"
            | "iframe"
            | "frame"
            | "object"
            | "embed"
            | "canvas"
            | "video"
            | "audio"
            | "select"
            | "option"
            | "button"
            | "input"
            | "textarea"
            | "label"
            | "nav"
            | "aside"
            | "footer"
            | "header"
            | "figcaption"
            | "dialog"
            | "head"
            | "title"
            | "link"
            | "meta"
            | "menu"
    )
}

/// Class/id words that name page furniture, matched as whole words of the class or id
/// (split on `-`, `_`, space and camel case).
const FURNITURE_WORDS: &[&str] = &[
    "ad",
    "ads",
    "adv",
    "advert",
    "advertisement",
    "advertising",
    "banner",
    "bio",
    "breadcrumb",
    "breadcrumbs",
    "byline",
    "bylines",
    "caption",
    "captions",
    "comment",
    "comments",
    "consent",
    "cookie",
    "cookies",
    "credit",
    "credits",
    "disqus",
    "donate",
    "donation",
    "footer",
    "gdpr",
    "hidden",
    "masthead",
    "menu",
    "modal",
    "nav",
    "navbar",
    "navigation",
    "newsletter",
    "outbrain",
    "popular",
    "popup",
    "promo",
    "promotion",
    "rail",
    "recirc",
    "recommendations",
    "recommended",
    "related",
    "share",
    "sharebar",
    "sharing",
    "sidebar",
    "signup",
    "skip",
    "social",
    "sponsor",
    "sponsored",
    "subscribe",
    "subscription",
    "taboola",
    "tags",
    "toolbar",
    "tools",
    "trending",
    "widget",
];

/// Substrings that name furniture even inside a compound class name.
const FURNITURE_SUBSTRINGS: &[&str] = &[
    "advert",
    "breadcrumb",
    "newsletter",
    "sharing",
    "share-",
    "social",
    "related",
    "recommend",
    "cookie",
    "consent",
    "donat",
    "outbrain",
    "taboola",
    "sidebar",
    "readmore",
    "read-more",
    "mostread",
    "most-read",
    "most-popular",
    "byline",
    "caption",
    "signup",
    "sign-up",
    "subscribe",
    "promo",
];

/// Class/id names that mark the article body itself; they protect an element from the
/// furniture test.
const CONTENT_MARKERS: &[&str] = &[
    "articlebody",
    "article-body",
    "article__body",
    "article_body",
    "article-content",
    "article__content",
    "articlecontent",
    "story-body",
    "storybody",
    "story-content",
    "post-body",
    "post-content",
    "entry-content",
    "body-text",
    "main-content",
    "article-text",
    "articletext",
];

pub(crate) fn has_word(class_id: &str, words: &[&str]) -> bool {
    // Split on non-alphanumerics and on lower→upper camel-case boundaries.
    let bytes = class_id.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i <= bytes.len() {
        let boundary = i == bytes.len()
            || !bytes[i].is_ascii_alphanumeric()
            || (i > start && bytes[i].is_ascii_uppercase() && bytes[i - 1].is_ascii_lowercase());
        if boundary {
            if i > start {
                let word = &class_id[start..i];
                // Only words of a plausible length can match; most class words are hashes
                // or long compounds.
                if word.len() <= 16
                    && words
                        .iter()
                        .any(|w| w.len() == word.len() && w.eq_ignore_ascii_case(word))
                {
                    return true;
                }
            }
            start = if i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i
            } else {
                i + 1
            };
        }
        i += 1;
    }
    false
}

/// Classifies an element by its class, id, role and style.
fn furniture(class_id_raw: &str, lower: &str, role: Option<&str>) -> bool {
    if let Some(role) = role
        && matches!(
            role,
            "navigation"
                | "banner"
                | "contentinfo"
                | "complementary"
                | "dialog"
                | "alertdialog"
                | "menu"
                | "menubar"
                | "search"
                | "toolbar"
        )
    {
        return true;
    }
    if lower.is_empty() || CONTENT_MARKERS.iter().any(|m| lower.contains(m)) {
        return false;
    }
    if has_word(class_id_raw, FURNITURE_WORDS)
        || FURNITURE_SUBSTRINGS.iter().any(|s| lower.contains(s))
    {
        // Layout words ("content-with-sidebar", "main-rail") describe where a box sits, not
        // what it holds: a box that also calls itself content is not furniture.
        let strong = has_word(class_id_raw, STRONG_FURNITURE_WORDS)
            || STRONG_FURNITURE_SUBSTRINGS
                .iter()
                .any(|s| lower.contains(s));
        return strong || !has_word(class_id_raw, CONTENT_WORDS);
    }
    false
}

/// Furniture words that stay furniture even next to a content word ("article-comments",
/// "post-share").
const STRONG_FURNITURE_WORDS: &[&str] = &[
    "ad",
    "ads",
    "advert",
    "advertisement",
    "byline",
    "comment",
    "comments",
    "consent",
    "cookie",
    "cookies",
    "donate",
    "donation",
    "newsletter",
    "outbrain",
    "promo",
    "related",
    "share",
    "sharing",
    "signup",
    "social",
    "sponsor",
    "sponsored",
    "subscribe",
    "taboola",
    "recommended",
    "breadcrumb",
    "breadcrumbs",
    "caption",
    "credit",
    "credits",
];
const STRONG_FURNITURE_SUBSTRINGS: &[&str] = &[
    "advert",
    "newsletter",
    "social",
    "related",
    "recommend",
    "cookie",
    "consent",
    "donat",
    "outbrain",
    "taboola",
];
/// Words that say a box holds the content.
const CONTENT_WORDS: &[&str] = &[
    "article", "body", "content", "main", "story", "entry", "post", "text", "column",
];

fn hidden_style(style: &str) -> bool {
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    compact.contains("display:none") || compact.contains("visibility:hidden")
}

/// Walks `html` once into a [`Dom`].
pub fn build(html: &Html) -> Dom<'_> {
    // Without a deadline the walk always completes.
    build_until(html, None).unwrap_or_default()
}

/// Nodes walked between two looks at the clock.
const DEADLINE_STRIDE: usize = 4096;

/// [`build`] that gives up (`None`) once `deadline` has passed.
// Long on purpose: one iterative pass over the tree (no recursion, so deep pages cannot
// overflow the stack) whose per-node cases share the open-element stack.
pub fn build_until(html: &Html, deadline: Option<std::time::Instant>) -> Option<Dom<'_>> {
    let mut dom = Dom {
        nodes: Vec::with_capacity(4096),
        meta: RawMeta::default(),
        marked_bodies: Vec::new(),
    };
    // Stack of open element indices; `usize::MAX` marks elements we do not copy.
    let mut open: Vec<usize> = Vec::with_capacity(64);
    // Text capture for <title>, <h1>, JSON-LD and author elements.
    let mut capture: Option<(Capture, usize, String)> = None;
    let mut frame_count = 0usize;
    for (walked, edge) in html.tree.root().traverse().enumerate() {
        if walked % DEADLINE_STRIDE == DEADLINE_STRIDE - 1
            && deadline.is_some_and(|at| std::time::Instant::now() >= at)
        {
            return None;
        }
        match edge {
            Edge::Open(node_ref) => match node_ref.value() {
                ScraperNode::Element(el) => {
                    let name = el.name();
                    let parent = open.last().copied().unwrap_or(usize::MAX);
                    let index = dom.nodes.len();
                    let mut class_id = String::new();
                    let mut role = None;
                    let mut hidden = false;
                    let mut itemprop = None;
                    let mut rel = None;
                    let mut content = None;
                    let mut meta_key = None;
                    let mut json_ld = false;
                    let mut datetime = None;
                    let mut pubdate = false;
                    let mut title_attr = None;
                    let mut data_date = None;
                    for (key, value) in el.attrs() {
                        match key {
                            "class" | "id" => {
                                if !class_id.is_empty() {
                                    class_id.push(' ');
                                }
                                class_id.push_str(value);
                            }
                            "role" => role = Some(value),
                            "hidden" => hidden = true,
                            "aria-hidden" => hidden |= value.eq_ignore_ascii_case("true"),
                            "style" => hidden |= hidden_style(value),
                            "itemprop" => itemprop = Some(value),
                            "rel" => rel = Some(value),
                            "content" => content = Some(value),
                            "name" | "property" if name == "meta" => meta_key = Some(value),
                            "http-equiv" if name == "meta" => meta_key = Some(value),
                            "type" if name == "script" => {
                                json_ld = value.trim().eq_ignore_ascii_case("application/ld+json")
                            }
                            "datetime" => datetime = Some(value),
                            "pubdate" => pubdate = true,
                            "title" if name == "abbr" => title_attr = Some(value),
                            "data-published" | "data-date" | "data-publish-date"
                            | "data-timestamp" | "data-datetime" => data_date = Some(value),
                            "lang" if name == "html" => dom.meta.lang = Some(value.to_owned()),
                            "href"
                                if name == "link"
                                    && rel.is_some_and(|r| r.eq_ignore_ascii_case("canonical")) =>
                            {
                                dom.meta.canonical = Some(value.to_owned());
                            }
                            _ => {}
                        }
                    }
                    // `rel` may come after `href` in attribute order.
                    if name == "link"
                        && rel.is_some_and(|r| r.eq_ignore_ascii_case("canonical"))
                        && dom.meta.canonical.is_none()
                    {
                        dom.meta.canonical = el
                            .attrs()
                            .find(|(k, _)| *k == "href")
                            .map(|(_, v)| v.to_owned());
                    }
                    if name == "meta" {
                        if let (Some(key), Some(content)) = (meta_key.or(itemprop), content) {
                            dom.meta
                                .metas
                                .push((key.to_ascii_lowercase(), content.to_owned()));
                        }
                    } else if let (Some(prop), Some(content)) = (itemprop, content) {
                        dom.meta
                            .metas
                            .push((prop.to_ascii_lowercase(), content.to_owned()));
                    }
                    if name == "time"
                        && let Some(dt) = datetime
                    {
                        // Bounded like `date_attrs`: a page of thousands of times (an archive)
                        // dates the article by its first ones.
                        if dom.meta.times.len() < 200 {
                            let published = pubdate
                                || itemprop
                                    .is_some_and(|p| p.eq_ignore_ascii_case("datePublished"));
                            dom.meta.times.push((dt.to_owned(), published, index));
                        }
                    } else if let (Some(prop), Some(dt)) = (itemprop, datetime) {
                        dom.meta
                            .metas
                            .push((prop.to_ascii_lowercase(), dt.to_owned()));
                    }
                    let date_value = datetime.or(data_date).or_else(|| {
                        title_attr.filter(|_| {
                            let lower = class_id.to_ascii_lowercase();
                            lower.contains("date")
                                || lower.contains("publish")
                                || lower.contains("time")
                        })
                    });
                    if let Some(value) = date_value
                        && dom.meta.date_attrs.len() < 200
                    {
                        let itemprop_published =
                            itemprop.is_some_and(|p| p.eq_ignore_ascii_case("datePublished"));
                        let itemprop_updated =
                            itemprop.is_some_and(|p| p.eq_ignore_ascii_case("dateModified"));
                        dom.meta.date_attrs.push(DateAttr {
                            value: value.to_owned(),
                            node: index,
                            published_class: pubdate
                                || itemprop_published
                                || has_word(&class_id, PUBLISHED_CLASS_WORDS),
                            updated_class: itemprop_updated
                                || has_word(&class_id, UPDATED_CLASS_WORDS),
                        });
                    }
                    if name == "frameset" || name == "frame" || name == "iframe" {
                        frame_count += 1;
                    }
                    if capture.is_none() {
                        let what = match name {
                            "title" if dom.meta.title.is_none() => Some(Capture::Title),
                            "h1" if dom.meta.h1s.len() < crate::titles::MAX_H1S => {
                                Some(Capture::H1)
                            }
                            "script" if json_ld => Some(Capture::JsonLd),
                            _ if itemprop.is_some_and(|p| p.eq_ignore_ascii_case("author"))
                                || rel.is_some_and(|r| r.eq_ignore_ascii_case("author")) =>
                            {
                                Some(Capture::Author)
                            }
                            _ if content.is_none()
                                && itemprop.is_some_and(|p| {
                                    p.eq_ignore_ascii_case("headline")
                                        || p.eq_ignore_ascii_case("datePublished")
                                        || p.eq_ignore_ascii_case("dateModified")
                                }) =>
                            {
                                Some(Capture::Itemprop(
                                    itemprop.unwrap_or_default().to_ascii_lowercase(),
                                ))
                            }
                            _ => None,
                        };
                        if let Some(what) = what {
                            capture = Some((what, open.len(), String::new()));
                        }
                    }
                    let lower = class_id.to_ascii_lowercase();
                    let marked_body =
                        itemprop.is_some_and(|p| p.eq_ignore_ascii_case("articleBody"));
                    if marked_body {
                        dom.marked_bodies.push(index);
                    }
                    let drop = if always_dropped_tag(name) || hidden {
                        Drop::Always
                    } else if !matches!(name, "html" | "body" | "main" | "article")
                        && !itemprop.is_some_and(|p| p.eq_ignore_ascii_case("articleBody"))
                        && furniture(&class_id, &lower, role)
                    {
                        Drop::Furniture
                    } else {
                        Drop::No
                    };
                    dom.nodes.push(Node {
                        kind: Kind::Element(Element {
                            name,
                            layout: layout_of(name),
                            drop,
                            class_id: lower,
                            is_link: name == "a",
                        }),
                        end: index + 1,
                        parent,
                    });
                    open.push(index);
                }
                ScraperNode::Text(text) => {
                    let text: &str = text;
                    if let Some((_, _, buf)) = capture.as_mut()
                        && buf.len() < 1 << 20
                    {
                        buf.push_str(text);
                    }
                    let parent = open.last().copied().unwrap_or(usize::MAX);
                    let index = dom.nodes.len();
                    dom.nodes.push(Node {
                        kind: Kind::Text(text),
                        end: index + 1,
                        parent,
                    });
                }
                _ => {}
            },
            Edge::Close(node_ref) => {
                if node_ref.value().is_element()
                    && let Some(index) = open.pop()
                {
                    let end = dom.nodes.len();
                    if let Some(node) = dom.nodes.get_mut(index) {
                        node.end = end;
                    }
                    if let Some((_, depth, _)) = &capture
                        && *depth == open.len()
                        && let Some((what, _, buf)) = capture.take()
                    {
                        match what {
                            Capture::Title => dom.meta.title = Some(buf),
                            Capture::H1 => dom.meta.h1s.push(buf),
                            Capture::JsonLd => dom.meta.json_ld.push(buf),
                            Capture::Author => dom.meta.author_elements.push(buf),
                            Capture::Itemprop(prop) => dom.meta.itemprops.push((prop, buf)),
                        }
                    }
                }
            }
        }
    }
    dom.meta.frames = frame_count > 0;
    // A box that holds the marked article body is not furniture, whatever its class says
    // (layouts name their columns "rail" or "sidebar").
    for &body in &dom.marked_bodies {
        let mut p = dom.nodes[body].parent;
        while p != usize::MAX {
            if let Kind::Element(el) = &mut dom.nodes[p].kind
                && el.drop == Drop::Furniture
            {
                el.drop = Drop::No;
            }
            p = dom.nodes[p].parent;
        }
    }
    Some(dom)
}

#[derive(Debug)]
enum Capture {
    Title,
    H1,
    JsonLd,
    Author,
    Itemprop(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_and_dashed_words_are_split() {
        assert!(has_word("articleShareBar", &["share"]));
        assert!(has_word("post-share_tools", &["share"]));
        assert!(!has_word("shareholders", &["share"]));
        assert!(!has_word("download", &["ad"]));
    }

    #[test]
    fn subtrees_are_contiguous_ranges() {
        let html =
            Html::parse_document("<html><body><div><p>a</p><p>b</p></div><p>c</p></body></html>");
        let dom = build(&html);
        let div = dom
            .nodes
            .iter()
            .position(|n| matches!(&n.kind, Kind::Element(e) if e.name == "div"))
            .unwrap_or(0);
        // div, p, "a", p, "b"
        assert_eq!(dom.nodes[div].end - div, 5);
    }

    #[test]
    fn furniture_is_recognised_but_article_body_is_protected() {
        assert!(furniture("newsletter-signup", "newsletter-signup", None));
        assert!(furniture("x", "x", Some("navigation")));
        assert!(!furniture(
            "article-body share-free",
            "article-body share-free",
            None
        ));
        assert!(!furniture("story", "story", None));
    }
}
