//! Where the text of each field element goes: which elements are fields, the
//! attributes that carry fields, and the store of a finished element into the feed's or
//! the entry's [`Fields`] (first one wins, except where a list collects them).

use quick_xml::events::BytesStart;
use url::Url;

use super::{Capture, Fields, Ns, Text, plain_attribute, resolve_id, resolve_link};

pub(super) fn is_person(capture: &Capture) -> bool {
    capture.ns == Ns::Core && matches!(capture.local.as_str(), "author" | "contributor")
}

/// Elements whose text is a field.
pub(super) fn captures_text(ns: Ns, local: &str) -> bool {
    match ns {
        Ns::Core => matches!(
            local,
            "title"
                | "link"
                | "id"
                | "guid"
                | "description"
                | "summary"
                | "subtitle"
                | "tagline"
                | "content"
                | "language"
                | "pubDate"
                | "pubdate"
                | "published"
                | "issued"
                | "created"
                | "updated"
                | "modified"
                | "lastBuildDate"
                | "author"
                | "contributor"
                | "managingEditor"
                | "webMaster"
                | "category"
                | "ttl"
        ),
        Ns::Dc => matches!(
            local,
            "title"
                | "description"
                | "creator"
                | "author"
                | "contributor"
                | "publisher"
                | "subject"
                | "language"
                | "date"
        ),
        Ns::DcTerms => matches!(local, "created" | "issued" | "modified"),
        Ns::Content => local == "encoded",
        Ns::Itunes => matches!(local, "author" | "subtitle" | "keywords"),
        Ns::Media => local == "category",
        Ns::Sy => matches!(local, "updatePeriod" | "updateFrequency"),
        Ns::Xhtml => local == "body",
        Ns::Rdf | Ns::Other => false,
    }
}

/// Fields carried by attributes: Atom links, enclosures, media, categories.
pub(super) fn attribute_fields(
    ns: Ns,
    local: &str,
    start: &BytesStart,
    reader: &quick_xml::NsReader<&[u8]>,
    base: &Url,
    target: &mut Fields,
) {
    match (ns, local) {
        (Ns::Core, "link") => {
            let Some(href) = plain_attribute(start, "href").filter(|h| !h.trim().is_empty()) else {
                return;
            };
            let rel = plain_attribute(start, "rel")
                .map(|r| r.trim().to_ascii_lowercase())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "alternate".into());
            let kind = plain_attribute(start, "type").map(|t| t.trim().to_ascii_lowercase());
            if rel == "enclosure" {
                if is_image(kind.as_deref().unwrap_or_default(), "", &href) {
                    set_image(target, &href, base);
                }
                return;
            }
            if rel != "alternate" && rel != "http://www.iana.org/assignments/relation/alternate" {
                return;
            }
            let priority = match kind.as_deref() {
                None
                | Some("")
                | Some("text/html")
                | Some("application/xhtml+xml")
                | Some("html") => 0,
                _ => 1,
            };
            offer_link(target, priority, &href, base);
        }
        (Ns::Core, "enclosure") => {
            let kind = plain_attribute(start, "type").unwrap_or_default();
            if let Some(url) = plain_attribute(start, "url")
                && is_image(&kind, "", &url)
            {
                set_image(target, &url, base);
            }
        }
        (Ns::Core, "category") => {
            if let Some(term) = plain_attribute(start, "term").filter(|t| !t.trim().is_empty()) {
                push_unique(&mut target.categories, normalise_space(&term));
            }
        }
        (Ns::Itunes, "category") => {
            if let Some(term) = plain_attribute(start, "text").filter(|t| !t.trim().is_empty()) {
                push_unique(&mut target.categories, normalise_space(&term));
            }
        }
        (Ns::Media, "thumbnail") => {
            if let Some(url) = plain_attribute(start, "url") {
                set_image(target, &url, base);
            }
        }
        (Ns::Media, "content") => {
            let kind = plain_attribute(start, "type").unwrap_or_default();
            let medium = plain_attribute(start, "medium").unwrap_or_default();
            if let Some(url) = plain_attribute(start, "url")
                && is_image(&kind, &medium, &url)
            {
                set_image(target, &url, base);
            }
        }
        (Ns::Rdf, _) | (Ns::Core, "items") => {}
        _ => {
            let _ = reader;
        }
    }
}

fn offer_link(target: &mut Fields, priority: u8, href: &str, base: &Url) {
    if target.link.as_ref().is_some_and(|(p, _)| *p <= priority) {
        return;
    }
    if let Some(url) = resolve_link(href, base) {
        target.link = Some((priority, url));
    }
}

/// Whether an enclosure or media object is a picture: its type or medium says so, or, when
/// it gives neither (both are optional in Media RSS and often left out), its URL's path
/// ends in a picture's extension.
fn is_image(kind: &str, medium: &str, url: &str) -> bool {
    let (kind, medium) = (kind.trim(), medium.trim());
    if !kind.is_empty() || !medium.is_empty() {
        return kind.to_ascii_lowercase().starts_with("image/") || medium == "image";
    }
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        extension.as_deref(),
        Some("jpg" | "jpeg" | "png" | "gif" | "webp" | "avif")
    )
}

fn set_image(target: &mut Fields, href: &str, base: &Url) {
    if target.image.is_none() {
        target.image = resolve_link(href, base).filter(|u| matches!(u.scheme(), "http" | "https"));
    }
}

/// Stores a finished field element.
// One arm per element, each with its own "first one wins" test: guards would hide which
// element an arm is about.
#[allow(clippy::collapsible_match)]
pub(super) fn store(
    capture: Capture,
    raw_inner: Option<String>,
    target: &mut Fields,
    in_entry: bool,
) {
    let Capture {
        ns,
        local,
        text,
        type_attr,
        mode_attr,
        permalink,
        person_name,
        person_email,
        base,
        had_children,
        atom_document,
        ..
    } = capture;
    let value = || normalise_space(&text);
    match (ns, local.as_str()) {
        (Ns::Core, "title") => {
            if target.title.is_none() {
                target.title = Some(text_construct(
                    &text, raw_inner, type_attr, mode_attr, false,
                ));
            }
        }
        (Ns::Dc, "title") => {
            if target.dc_title.is_none() {
                target.dc_title = Some(text_construct(&text, raw_inner, None, None, true));
            }
        }
        (Ns::Core, "link") => {
            // An RSS link: its text. (Atom links were handled from their attributes.)
            let href = value();
            if !href.is_empty() && !had_children {
                offer_link(target, u8::from(atom_document), &href, &base);
            }
        }
        (Ns::Core, "id") => {
            if target.id.is_none() {
                target.id = resolve_id(&value(), &base);
            }
        }
        (Ns::Core, "guid") => {
            let guid = value();
            if guid.is_empty() {
                return;
            }
            if target.id.is_none() || in_entry {
                // A guid replaces an rdf:about id only in an entry.
                target.id = if permalink {
                    resolve_id(&guid, &base)
                } else {
                    Some(guid.clone())
                };
            }
            if permalink
                && (guid.starts_with("http://")
                    || guid.starts_with("https://")
                    || guid.starts_with('/'))
            {
                target.permalink_guid = resolve_link(&guid, &base);
            }
        }
        (Ns::Core, "summary" | "description" | "subtitle" | "tagline") => {
            let construct = text_construct(&text, raw_inner, type_attr, mode_attr, true);
            if target.summary.is_none() {
                target.summary = Some(construct);
            } else if in_entry
                && target.content.is_none()
                && matches!(local.as_str(), "summary" | "description")
            {
                // Both a summary and a description: the second is the content.
                target.content = Some(construct);
            }
        }
        (Ns::Dc, "description") | (Ns::Itunes, "subtitle") => {
            if target.summary_fallback.is_none() && !(ns == Ns::Itunes && in_entry) {
                target.summary_fallback = Some(text_construct(&text, raw_inner, None, None, true));
            }
        }
        (Ns::Core, "content") | (Ns::Content, "encoded") | (Ns::Xhtml, "body") => {
            if target.content.is_none() {
                let default_html = ns != Ns::Core;
                let mut construct =
                    text_construct(&text, raw_inner, type_attr, mode_attr, default_html);
                if ns == Ns::Xhtml {
                    construct.is_html = true;
                }
                if !construct.value.trim().is_empty() {
                    target.content = Some(construct);
                }
            }
        }
        (Ns::Core, "language") | (Ns::Dc, "language") => {
            if target.language.is_none() && !value().is_empty() {
                target.language = Some(value());
            }
        }
        (Ns::Core, "pubDate" | "pubdate" | "published" | "issued") | (Ns::DcTerms, "issued") => {
            set_once(&mut target.published, value());
        }
        (Ns::Core, "created") | (Ns::DcTerms, "created") => set_once(&mut target.created, value()),
        (Ns::Dc, "date") => {
            set_once(&mut target.updated, value());
            set_once(&mut target.dc_date, value());
        }
        (Ns::Core, "updated" | "modified" | "lastBuildDate") | (Ns::DcTerms, "modified") => {
            set_once(&mut target.updated, value())
        }
        (Ns::Core, "author") => {
            let name = person_name.or(person_email).or_else(|| {
                crate::feed_scan::clean_person(&html_escape::decode_html_entities(&text))
            });
            if let Some(name) = name {
                push_unique(&mut target.authors, name);
            }
        }
        (Ns::Core, "contributor") => {
            if let Some(name) = person_name.or(person_email) {
                push_unique(&mut target.contributors, name);
            }
        }
        (Ns::Dc, "creator" | "author") | (Ns::Itunes, "author") | (Ns::Core, "managingEditor") => {
            if let Some(name) = crate::feed_scan::clean_person(&text) {
                push_unique(&mut target.authors, name);
            }
        }
        (Ns::Dc, "contributor") => {
            if let Some(name) = crate::feed_scan::clean_person(&text) {
                push_unique(&mut target.contributors, name);
            }
        }
        (Ns::Core, "webMaster") | (Ns::Dc, "publisher") => {
            if let Some(name) = crate::feed_scan::clean_person(&text) {
                push_unique(&mut target.publishers, name);
            }
        }
        (Ns::Core, "category") | (Ns::Dc, "subject") | (Ns::Media, "category") => {
            let term = value();
            if !term.is_empty() {
                push_unique(&mut target.categories, term);
            }
        }
        (Ns::Itunes, "keywords") => {
            for keyword in text
                .split(',')
                .map(normalise_space)
                .filter(|k| !k.is_empty())
            {
                push_unique(&mut target.categories, keyword);
            }
        }
        (Ns::Core, "ttl") => set_once(&mut target.ttl, value()),
        (Ns::Sy, "updatePeriod") => set_once(&mut target.update_period, value()),
        (Ns::Sy, "updateFrequency") => set_once(&mut target.update_frequency, value()),
        _ => {}
    }
}

/// An Atom/RSS text construct as HTML or plain text. `default_html`: how an element
/// without a `type` is read (RSS descriptions are HTML; Atom text is plain).
fn text_construct(
    text: &str,
    raw_inner: Option<String>,
    type_attr: Option<String>,
    mode_attr: Option<String>,
    default_html: bool,
) -> Text {
    let kind = type_attr
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let mode = mode_attr
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if mode == "base64" {
        use base64::Engine as _;
        let cleaned: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(cleaned.as_bytes())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        return Text {
            is_html: kind.contains("html") || kind.is_empty(),
            value: decoded,
            declared_plain: false,
        };
    }
    if let Some(inner) = raw_inner {
        // Inline markup (Atom xhtml, or unescaped HTML in an RSS description).
        return Text {
            value: strip_xhtml_div(&inner),
            is_html: true,
            declared_plain: false,
        };
    }
    let is_html = match kind.as_str() {
        "html" | "text/html" | "xhtml" | "application/xhtml+xml" => true,
        "text" | "text/plain" => false,
        "" => default_html || mode == "escaped",
        _ => kind.contains("html"),
    };
    Text {
        value: text.to_string(),
        is_html,
        declared_plain: matches!(kind.as_str(), "text" | "text/plain"),
    }
}

/// The content of Atom xhtml: the children of the wrapping `<div>`.
fn strip_xhtml_div(inner: &str) -> String {
    let trimmed = inner.trim();
    let opens_div = trimmed.starts_with("<div") || trimmed.contains(":div");
    if opens_div
        && trimmed.ends_with("div>")
        && let (Some(open_end), Some(close_start)) = (trimmed.find('>'), trimmed.rfind("</"))
        && open_end < close_start
    {
        return trimmed[open_end + 1..close_start].trim().to_string();
    }
    trimmed.to_string()
}

fn set_once(slot: &mut Option<String>, value: String) {
    if slot.is_none() && !value.is_empty() {
        *slot = Some(value);
    }
}

/// Duplicates are dropped once, at normalisation (checking here made entries with tens of
/// thousands of authors quadratic).
fn push_unique(list: &mut Vec<String>, value: String) {
    list.push(value);
}

pub(super) fn normalise_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
