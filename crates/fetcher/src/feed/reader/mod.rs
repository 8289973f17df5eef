//! Our own reading of RSS 0.90–2.0, RSS 1.0/RDF and Atom 0.3/1.0 with quick-xml, following
//! the Universal Feed Parser's documented element-to-field mapping (its reference pages,
//! one per field), where feed-rs reads only about half of it.
//!
//! Namespaces are matched by URI, never by prefix (`<foo:creator>` bound to Dublin Core
//! is a creator); a prefix that is used without being declared falls back to its usual
//! meaning (`dc:`, `content:`…), as lenient readers do. The reader never fails once it has
//! seen a feed root: on broken or truncated XML it keeps every entry that was complete
//! and says that the document ended early.
//!
//! Field sources, first one found wins unless said otherwise:
//! - title: `title` (RSS, RDF, Atom), else `dc:title`;
//! - link: Atom `link` with an `href` and rel `alternate` (or none) of an HTML type, an
//!   RSS/RDF `<link>` text; never an enclosure, image or `self` link; a `guid` that is a
//!   permalink URL when there is no link;
//! - id: Atom `id`, RSS `guid`, RDF `rdf:about`, resolved against `xml:base` / the
//!   document URI (not a `guid isPermaLink="false"`);
//! - feed description: `subtitle`, Atom 0.3 `tagline`, `description`, `dc:description`,
//!   `itunes:subtitle`; entry summary: `summary`, `description`, `dc:description`; a
//!   second of `summary`/`description` becomes the content when there is none;
//! - content: Atom `content` (text, html, xhtml, Atom 0.3 `mode="escaped"`/`"base64"`),
//!   `content:encoded`, `xhtml:body`;
//! - published: Atom `published`, Atom 0.3 `issued`, `pubDate`, `dcterms:issued`, then
//!   the created dates (Atom 0.3 `created`, `dcterms:created`); updated: Atom `updated`,
//!   Atom 0.3 `modified`, `dc:date`, `dcterms:modified`, `lastBuildDate` (a `dc:date`
//!   also stands in for a missing published date: RSS 1.0 has no other);
//! - authors: Atom `author` (name, else email), `author`, `dc:creator`, `dc:author`,
//!   `itunes:author`, `managingEditor`; then `dc:contributor`/Atom `contributor`, and
//!   for a feed `webMaster`/`dc:publisher`, only when there is no author;
//! - categories: `category` (Atom `term`), `dc:subject`, `itunes:category` (`text`),
//!   `itunes:keywords` (comma-separated), `media:category`;
//! - language: `language`, `dc:language`, else `xml:lang` of the root or channel.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use url::Url;

use super::repair::doctype_entities;

mod fields;
use fields::{attribute_fields, captures_text, is_person, normalise_space, store};

/// Which vocabulary an element belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// No namespace, RSS 0.90/1.0/Userland, or Atom (0.3, 1.0 and its draft names).
    Core,
    Rdf,
    Dc,
    DcTerms,
    Content,
    Itunes,
    Media,
    Sy,
    Xhtml,
    Other,
}

fn ns_of_uri(uri: &str) -> Ns {
    // Compared without case, as the Universal Feed Parser does: feeds write the iTunes and
    // Dublin Core URIs in several casings.
    let uri = uri.trim().to_ascii_lowercase();
    match uri.as_str() {
        "http://www.w3.org/2005/atom"
        | "http://purl.org/atom/ns#"
        | "http://purl.org/rss/1.0/"
        | "http://my.netscape.com/rdf/simple/0.9/"
        | "http://backend.userland.com/rss"
        | "http://backend.userland.com/rss2"
        | "http://blogs.law.harvard.edu/tech/rss"
        | "http://purl.org/echo/"
        | "http://example.com/newformat#"
        | "http://example.com/necho"
        | "uri/of/echo/namespace#"
        | "http://purl.org/pie/"
        | "http://example.com/pie/" => Ns::Core,
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#" => Ns::Rdf,
        "http://purl.org/dc/elements/1.1/" | "http://purl.org/dc/elements/1.0/" => Ns::Dc,
        "http://purl.org/dc/terms/" => Ns::DcTerms,
        "http://purl.org/rss/1.0/modules/content/" => Ns::Content,
        "http://www.itunes.com/dtds/podcast-1.0.dtd" => Ns::Itunes,
        "http://search.yahoo.com/mrss/" | "http://search.yahoo.com/mrss" => Ns::Media,
        "http://purl.org/rss/1.0/modules/syndication/" => Ns::Sy,
        "http://www.w3.org/1999/xhtml" => Ns::Xhtml,
        _ => Ns::Other,
    }
}

/// The usual meaning of a prefix used without a declaration.
fn ns_of_prefix(prefix: &str) -> Ns {
    match prefix.to_ascii_lowercase().as_str() {
        "atom" | "atom03" | "atom10" | "rss" => Ns::Core,
        "rdf" => Ns::Rdf,
        "dc" => Ns::Dc,
        "dcterms" => Ns::DcTerms,
        "content" => Ns::Content,
        "itunes" => Ns::Itunes,
        "media" => Ns::Media,
        "sy" => Ns::Sy,
        "xhtml" => Ns::Xhtml,
        _ => Ns::Other,
    }
}

fn resolve_ns(result: &ResolveResult) -> Ns {
    match result {
        ResolveResult::Unbound => Ns::Core,
        ResolveResult::Bound(ns) => ns_of_uri(ns.as_ref()),
        ResolveResult::Unknown(prefix) => ns_of_prefix(prefix),
    }
}

/// A text value as found: HTML (escaped or inline markup) or plain text.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Text {
    pub value: String,
    pub is_html: bool,
    /// The feed said `type="text"`: the value is read as written, never as markup
    /// (RFC 4287 section 3.1.1.1).
    pub declared_plain: bool,
}

/// What one feed or entry said, before normalisation.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub title: Option<Text>,
    pub dc_title: Option<Text>,
    /// (priority, absolute URL): 0 for an HTML alternate or RSS link, 1 for another type.
    pub link: Option<(u8, Url)>,
    pub permalink_guid: Option<Url>,
    pub id: Option<String>,
    pub summary: Option<Text>,
    pub summary_fallback: Option<Text>,
    pub content: Option<Text>,
    pub language: Option<String>,
    pub published: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    /// `dc:date`: feedparser's "updated", and in RSS 1.0 the only publication date.
    pub dc_date: Option<String>,
    pub authors: Vec<String>,
    pub contributors: Vec<String>,
    pub publishers: Vec<String>,
    pub categories: Vec<String>,
    pub image: Option<Url>,
    pub ttl: Option<String>,
    pub update_period: Option<String>,
    pub update_frequency: Option<String>,
}

/// HTML elements that have no end tag: unescaped HTML in a description writes `<br>` and
/// `<img …>` without closing them, and counting them as open would swallow the rest of the
/// feed into the field.
fn is_void_element(local: &str) -> bool {
    const VOID: [&str; 14] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    VOID.iter().any(|v| v.eq_ignore_ascii_case(local))
}

/// The reading of one document.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    pub feed: Fields,
    pub entries: Vec<Fields>,
    /// The root element was closed: the document was read to its end.
    pub complete: bool,
    /// An entry was open when the document ended (dropped).
    pub dropped_partial_entry: bool,
    /// Entries closed by the next entry's start tag (their end tag was missing).
    pub unclosed_entries: usize,
    /// The root is Atom's `feed`.
    pub atom: bool,
    /// The XML error that ended the reading early, if any.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Feed level (`rss`, `channel`, `rdf:RDF`, Atom `feed`).
    Feed,
    Entry,
    /// Inside an element whose children are not fields (`image`, `textinput`, `source`).
    Ignored,
}

/// A field element being read.
struct Capture {
    ns: Ns,
    local: String,
    /// Byte offset after the start tag, for inline markup.
    start: usize,
    text: String,
    /// Depth of child elements (inline markup) currently open.
    child_depth: usize,
    had_children: bool,
    type_attr: Option<String>,
    mode_attr: Option<String>,
    /// `isPermaLink` of a `guid`.
    permalink: bool,
    /// Atom person construct parts.
    person_name: Option<String>,
    person_email: Option<String>,
    person_part: Option<&'static str>,
    base: Url,
    /// The document is Atom: a `<link>` without `href` is not the page link.
    atom_document: bool,
}

struct Frame {
    context: Context,
    base: Url,
    /// This element is the capture's own element.
    captures: bool,
}

/// Reads `text`; `None` when the first element is not a feed root.
// Long on purpose: one loop over quick-xml's events with the element stack, namespace
// scopes and xml:base in local variables; split into helpers, each would need all of
// that state passed in, and the order of the match arms is the reading order.
pub(crate) fn read(text: &str, document_base: &Url) -> Option<Reading> {
    let mut reader = quick_xml::NsReader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_dangling_amp = true;
    }
    let mut declared: HashMap<String, String> = HashMap::new();
    // Declared entities may add at most as many bytes as the document holds (one level of
    // "billion laughs" would otherwise turn a small feed into gigabytes).
    let mut expansion_budget = text.len().max(64 * 1024);

    let mut reading = Reading::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut capture: Option<Capture> = None;
    let mut entry: Option<Fields> = None;
    let mut saw_root = false;
    let mut root_lang: Option<String> = None;
    let mut atom_document = false;
    // A default namespace on the root that is not a feed vocabulary (`<rss
    // xmlns="http://www.w3.org/1999/xhtml">`): its elements are the feed's own.
    let mut root_namespace: Option<String> = None;

    loop {
        let before = reader.buffer_position() as usize;
        let (resolved, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => {
                let ns = match (&resolved, &root_namespace) {
                    (ResolveResult::Bound(uri), Some(root)) if uri.as_ref() == root.as_str() => {
                        Ns::Core
                    }
                    _ => resolve_ns(&resolved),
                };
                if !saw_root
                    && matches!(event, Event::Start(_) | Event::Empty(_))
                    && matches!(ns, Ns::Xhtml | Ns::Other)
                    && let ResolveResult::Bound(uri) = &resolved
                {
                    root_namespace = Some(uri.as_ref().to_string());
                }
                (ns, event)
            }
            Err(error) => {
                reading.error = Some(error.to_string());
                break;
            }
        };
        let is_empty = matches!(event, Event::Empty(_));
        match event {
            Event::DocType(doctype) => {
                declared = doctype_entities(doctype.as_ref());
            }
            Event::Start(_) | Event::Empty(_)
                if capture
                    .as_ref()
                    .is_some_and(|c| c.person_part.is_none() && !is_person(c)) =>
            {
                // Inline markup inside a text field.
                let opens = match &event {
                    Event::Start(start) => !is_void_element(start.local_name().as_ref()),
                    _ => false,
                };
                if let Some(c) = capture.as_mut() {
                    c.had_children = true;
                    if opens {
                        c.child_depth += 1;
                    }
                }
                if opens {
                    stack.push(Frame {
                        context: Context::Ignored,
                        base: stack
                            .last()
                            .map_or_else(|| document_base.clone(), |f| f.base.clone()),
                        captures: false,
                    });
                }
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                let local = start.local_name().as_ref().to_string();
                let parent = stack.last();
                let parent_base = parent.map_or_else(|| document_base.clone(), |f| f.base.clone());
                let base = xml_base(start, &parent_base).unwrap_or(parent_base);
                let parent_context = parent.map(|f| f.context);

                if !saw_root {
                    saw_root = true;
                    let lowered = local.to_ascii_lowercase();
                    if !matches!(lowered.as_str(), "rss" | "rdf" | "feed" | "channel") {
                        return None;
                    }
                    root_lang = xml_lang(start);
                    atom_document = lowered == "feed";
                    reading.atom = atom_document;
                    if !is_empty {
                        stack.push(Frame {
                            context: Context::Feed,
                            base,
                            captures: false,
                        });
                    } else {
                        reading.complete = true;
                    }
                    continue;
                }

                // Person parts inside an Atom author/contributor.
                if let Some(c) = capture.as_mut()
                    && is_person(c)
                {
                    c.person_part = match local.as_str() {
                        "name" => Some("name"),
                        "email" => Some("email"),
                        _ => Some("other"),
                    };
                    c.text.clear();
                    if is_empty {
                        c.person_part = None;
                    } else {
                        stack.push(Frame {
                            context: Context::Ignored,
                            base,
                            captures: false,
                        });
                    }
                    continue;
                }

                // An item opened while one is still open: the first was never closed.
                // It ends here, as the Universal Feed Parser reads such feeds.
                let starts_item = resolved == Ns::Core
                    && matches!(local.to_ascii_lowercase().as_str(), "item" | "entry");
                // Only as a direct child of the entry: deeper, it belongs to an extension.
                let entry_is_parent = stack.len() >= 2
                    && stack.get(stack.len() - 2).map(|f| f.context) == Some(Context::Feed);
                let parent_context =
                    if starts_item && parent_context == Some(Context::Entry) && entry_is_parent {
                        while stack.last().is_some_and(|f| f.context != Context::Feed) {
                            stack.pop();
                        }
                        if let Some(unclosed) = entry.take() {
                            reading.entries.push(unclosed);
                            reading.unclosed_entries += 1;
                        }
                        stack.last().map(|f| f.context)
                    } else {
                        parent_context
                    };
                let context = match parent_context {
                    Some(Context::Feed) => {
                        let lowered = local.to_ascii_lowercase();
                        if resolved == Ns::Core && matches!(lowered.as_str(), "item" | "entry") {
                            let mut fields = Fields::default();
                            if let Some(about) = attribute(start, &reader, Ns::Rdf, "about") {
                                fields.id = resolve_id(&about, &base);
                                // RSS 1.0 names the item's page in rdf:about when it
                                // has no <link>.
                                fields.permalink_guid = resolve_link(&about, &base)
                                    .filter(|u| matches!(u.scheme(), "http" | "https"));
                            }
                            if is_empty {
                                reading.entries.push(fields);
                                continue;
                            }
                            entry = Some(fields);
                            Context::Entry
                        } else if resolved == Ns::Core && lowered == "channel" {
                            if let Some(about) = attribute(start, &reader, Ns::Rdf, "about")
                                && reading.feed.id.is_none()
                            {
                                reading.feed.id = resolve_id(&about, &base);
                            }
                            if root_lang.is_none() {
                                root_lang = xml_lang(start);
                            }
                            Context::Feed
                        } else if matches!(lowered.as_str(), "image" | "textinput" | "items")
                            && resolved == Ns::Core
                        {
                            Context::Ignored
                        } else {
                            Context::Feed
                        }
                    }
                    Some(Context::Entry) => {
                        // An entry's source feed and image have links of their own.
                        if resolved == Ns::Core && matches!(local.as_str(), "source" | "image") {
                            Context::Ignored
                        } else {
                            Context::Entry
                        }
                    }
                    _ => Context::Ignored,
                };
                if context == Context::Ignored || parent_context == Some(Context::Ignored) {
                    if !is_empty {
                        stack.push(Frame {
                            context: Context::Ignored,
                            base,
                            captures: false,
                        });
                    }
                    continue;
                }
                let in_entry = parent_context == Some(Context::Entry);
                let target = if in_entry {
                    entry.as_mut()
                } else {
                    Some(&mut reading.feed)
                };
                let Some(target) = target else {
                    continue;
                };
                // Attribute-only fields.
                attribute_fields(resolved, &local, start, &reader, &base, target);
                if is_empty {
                    continue;
                }
                let opens_entry = context == Context::Entry && !in_entry;
                if !opens_entry && captures_text(resolved, &local) {
                    capture = Some(Capture {
                        ns: resolved,
                        local: local.clone(),
                        start: reader.buffer_position() as usize,
                        text: String::new(),
                        child_depth: 0,
                        had_children: false,
                        type_attr: plain_attribute(start, "type"),
                        mode_attr: plain_attribute(start, "mode"),
                        permalink: plain_attribute(start, "isPermaLink")
                            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false")),
                        person_name: None,
                        person_email: None,
                        person_part: None,
                        base: base.clone(),
                        atom_document,
                    });
                }
                stack.push(Frame {
                    context,
                    base,
                    captures: capture.is_some() && !opens_entry,
                });
            }
            Event::Text(t) => {
                if let Some(c) = capture.as_mut() {
                    c.text.push_str(&t.html_content());
                }
            }
            Event::CData(data) => {
                if let Some(c) = capture.as_mut() {
                    c.text.push_str(&data.into_inner());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(c) = capture.as_mut() {
                    let name = reference.as_ref().to_string();
                    let resolved_text = if let Ok(Some(ch)) = reference.resolve_char_ref() {
                        super::windows_1252_for_c1(ch).to_string()
                    } else {
                        match name.as_str() {
                            "amp" => "&".into(),
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "quot" => "\"".into(),
                            "apos" => "'".into(),
                            _ => match declared.get(&name) {
                                Some(value) if value.len() <= expansion_budget => {
                                    expansion_budget -= value.len();
                                    value.clone()
                                }
                                Some(_) => format!("&{name};"),
                                None => html_escape::decode_html_entities(&format!("&{name};"))
                                    .into_owned(),
                            },
                        }
                    };
                    c.text.push_str(&resolved_text);
                }
            }
            Event::End(ref end) => {
                if let Some(c) = capture.as_mut()
                    && c.person_part.is_none()
                    && !is_person(c)
                {
                    let end_local = end.local_name();
                    // The field's own end tag: same name and namespace (an XHTML
                    // `<summary>` inside an Atom summary is not it).
                    let own_end =
                        resolved == c.ns && end_local.as_ref().eq_ignore_ascii_case(&c.local);
                    if is_void_element(end_local.as_ref()) && !own_end {
                        // `</br>` inside a field: nothing was opened for it.
                        continue;
                    }
                    if own_end && c.child_depth > 0 {
                        // The field's own end tag while inline markup is open (an HTML
                        // element left unclosed): the markup ends with the field.
                        for _ in 0..c.child_depth {
                            stack.pop();
                        }
                        c.child_depth = 0;
                    }
                }
                // The late end tag of an item already closed by the next one's start.
                if capture.is_none()
                    && resolved == Ns::Core
                    && stack.last().map(|f| f.context) == Some(Context::Feed)
                    && matches!(
                        end.local_name().as_ref().to_ascii_lowercase().as_str(),
                        "item" | "entry"
                    )
                {
                    continue;
                }
                let Some(frame) = stack.pop() else {
                    continue;
                };
                if let Some(c) = capture.as_mut() {
                    if c.child_depth > 0 {
                        c.child_depth -= 1;
                        continue;
                    }
                    if c.person_part.is_some() {
                        let value = normalise_space(&c.text);
                        match c.person_part.take() {
                            Some("name") if !value.is_empty() => c.person_name = Some(value),
                            Some("email") if !value.is_empty() => c.person_email = Some(value),
                            _ => {}
                        }
                        c.text.clear();
                        continue;
                    }
                }
                if frame.captures
                    && let Some(c) = capture.take()
                {
                    let raw_inner = if c.had_children {
                        text.get(c.start..before).map(str::to_string)
                    } else {
                        None
                    };
                    let in_entry = frame.context == Context::Entry && entry.is_some();
                    let target = if in_entry {
                        entry.as_mut()
                    } else {
                        Some(&mut reading.feed)
                    };
                    if let Some(target) = target {
                        store(c, raw_inner, target, in_entry);
                    }
                    continue;
                }
                if frame.context == Context::Entry
                    && stack.last().map(|f| f.context) == Some(Context::Feed)
                    && let Some(done) = entry.take()
                {
                    reading.entries.push(done);
                    continue;
                }
                if stack.is_empty() {
                    reading.complete = true;
                    break;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return None;
    }
    if entry.is_some() {
        reading.dropped_partial_entry = true;
    }
    if reading.feed.language.is_none() {
        reading.feed.language = root_lang;
    }
    Some(reading)
}

/// An id: a relative URI reference is resolved against the base when the base is a web
/// URL (a relative id read from a local file stays as written); absolute URIs of any
/// scheme (`urn:`, `tag:`) and opaque tokens are kept.
pub(crate) fn resolve_id(id: &str, base: &Url) -> Option<String> {
    let id = id.trim();
    if id.is_empty() {
        return None;
    }
    // Only what looks like a relative reference ("/stories/42", "./1", "a/b") is
    // resolved: an opaque token such as "id-1" or "12345" is kept as the feed wrote it.
    let looks_relative = id.contains('/') || id.starts_with(['#', '?', '.']);
    if Url::parse(id).is_ok() || !looks_relative || !matches!(base.scheme(), "http" | "https") {
        return Some(id.to_string());
    }
    Some(base.join(id).map_or_else(|_| id.to_string(), String::from))
}

fn resolve_link(href: &str, base: &Url) -> Option<Url> {
    base.join(href.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https" | "file"))
}

fn xml_base(start: &BytesStart, parent: &Url) -> Option<Url> {
    let value = start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == "xml:base")
        .map(|a| crate::feed_scan::attribute_text(&a))?;
    parent.join(value.trim()).ok()
}

fn xml_lang(start: &BytesStart) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == "xml:lang")
        .map(|a| crate::feed_scan::attribute_text(&a))
        .filter(|l| !l.trim().is_empty())
}

/// An attribute by local name, whatever its prefix (or none).
fn plain_attribute(start: &BytesStart, name: &str) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))
        .map(|a| crate::feed_scan::attribute_text(&a))
}

/// An attribute in namespace `ns` (or with no prefix when the document forgot to bind it).
fn attribute(
    start: &BytesStart,
    reader: &quick_xml::NsReader<&[u8]>,
    ns: Ns,
    name: &str,
) -> Option<String> {
    start.attributes().flatten().find_map(|a| {
        let (resolved, local) = reader.resolver().resolve_attribute(a.key);
        let matches_ns = match &resolved {
            ResolveResult::Bound(uri) => ns_of_uri(uri.as_ref()) == ns,
            ResolveResult::Unknown(prefix) => ns_of_prefix(prefix) == ns,
            ResolveResult::Unbound => false,
        };
        (matches_ns && local.as_ref() == name).then(|| crate::feed_scan::attribute_text(&a))
    })
}
