//! Feed bytes to [`ParsedFeed`]: charset decoding, feed-rs, repairs, and the conversion to
//! newswire's model (absolute links, plain-text titles and summaries, permalink guids).
//!
//! feed-rs handles the common formats but fails or silently returns nothing on a good
//! share of real feeds (`../shared/DESIGN.md`, "Known traps"). The body is therefore
//! always decoded to UTF-8 first (feed-rs cannot guess undeclared charsets), parsed once,
//! and when that parse fails or looks empty, repaired at the text level ([`repair`]) and
//! parsed again. A quick-xml scan ([`supplement`]) then fills what feed-rs ignores.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::Duration;

use feed_rs::model;
use regex::Regex;
use url::Url;

use crate::charset::{self, DocumentKind};
use crate::{FeedEntry, FetchError, ParsedFeed};

/// Parses feed bytes fetched from `base` (the feed URL after redirects; relative links
/// resolve against it). `content_type` is the HTTP header value, when there was one.
///
/// Time and memory are linear in `bytes.len()`, whatever the bytes: the body is decoded
/// once, parsed by feed-rs at most twice, repaired by a fixed series of single passes that
/// each grow the text by at most a constant factor (declared entities stop expanding once
/// they have added as many bytes as the text holds), scanned once by quick-xml, and every
/// text field is reduced to plain text in one pass. The hostile
/// shapes that once broke this (script tags in summaries, unclosed items, entity
/// expansion, thousands of authors) are in `feed/hostile_tests.rs`.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<ParsedFeed, FetchError> {
    let url = base.to_string();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(first) = body.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(FetchError::Empty { url });
    };
    if *first == b'{' {
        let text = String::from_utf8_lossy(body);
        if !crate::discover::is_json_feed(&text) {
            return Err(FetchError::Parse {
                url,
                message: "JSON but not a JSON Feed (no https://jsonfeed.org/version/ version)"
                    .into(),
            });
        }
        return parse_json_feed(&text, base);
    }

    let decoded = charset::decode(
        bytes,
        content_type,
        DocumentKind::Xml,
        charset::tld_of(base),
    );
    let text = charset::relabel_xml_prolog_utf8(&decoded.text);

    if let Some(parsed) = read_own(&text, base) {
        return Ok(parsed);
    }

    // Not an RSS, RDF or Atom root as far as our reader can tell: feed-rs has a go,
    // after repairs, and an HTML page is reported with the feeds it announces.
    let first_try = parse_with_feed_rs(&text, base);
    let suspect = match &first_try {
        Err(_) => true,
        Ok(feed) => {
            (feed.entries.is_empty() && feed.title.is_none())
                // feed-rs drops RSS 1.0 items without <link>: more items than entries.
                || crate::feed_scan::count_items(&text) > feed.entries.len()
        }
    };
    let mut warnings = Vec::new();
    // The repaired text, when the repaired parse was chosen; the scan must read the same.
    let mut repaired_text: Option<String> = None;
    let chosen = if suspect {
        let (repaired, repairs) = repair(&text);
        if repairs.is_empty() {
            first_try
        } else {
            match (first_try, parse_with_feed_rs(&repaired, base)) {
                (Err(_), Ok(second)) => {
                    warnings.extend(repairs.iter().map(|r| format!("repaired: {r}")));
                    repaired_text = Some(repaired);
                    Ok(second)
                }
                (Ok(first), Ok(second))
                    if second.entries.len() > first.entries.len()
                        || (first.title.is_none() && second.title.is_some()) =>
                {
                    warnings.extend(repairs.iter().map(|r| format!("repaired: {r}")));
                    repaired_text = Some(repaired);
                    Ok(second)
                }
                (first, _) => first,
            }
        }
    } else {
        first_try
    };

    let feed = match chosen {
        Ok(feed) => feed,
        Err(error) => {
            if crate::sniff::looks_like_html(&text) {
                let discovered = crate::discover::discover_feeds(&text, base)
                    .into_iter()
                    .map(|d| d.url)
                    .collect();
                return Err(FetchError::NotAFeed { url, discovered });
            }
            return Err(FetchError::Parse {
                url,
                message: describe_feed_rs_error(&error),
            });
        }
    };
    let mut parsed = convert(feed, base);
    parsed.warnings.extend(warnings);
    supplement(repaired_text.as_deref().unwrap_or(&text), base, &mut parsed);
    if parsed.entries.is_empty() && parsed.title.is_none() {
        parsed
            .warnings
            .push("no title and no entries: unrecognised or empty feed".into());
    }
    Ok(parsed)
}

/// Parses the part of a feed body that arrived before the transfer was cut (`cause`: the
/// size cap, a timeout, a broken connection). Every entry that is complete before the cut
/// is kept and a warning names the feed and the cause; the partial entry is dropped.
pub fn parse_truncated_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    cause: &str,
) -> Result<ParsedFeed, FetchError> {
    let mut parsed = parse_feed(bytes, content_type, base)?;
    parsed.warnings.push(format!(
        "{base}: body cut after {} bytes ({cause}); kept {} complete entries",
        bytes.len(),
        parsed.entries.len()
    ));
    Ok(parsed)
}

/// Our own reading (see [`reader`]), normalised; `None` when the text has no feed root.
/// When the XML breaks before its end, the text-level repairs are tried once and the
/// reading that found more is kept.
fn read_own(text: &str, base: &Url) -> Option<ParsedFeed> {
    let mut reading = reader::read(text, base)?;
    let mut repaired_with = Vec::new();
    if reading.error.is_some() {
        let (repaired, repairs) = repair(text);
        if !repairs.is_empty()
            && let Some(second) = reader::read(&repaired, base)
            && second.weight() > reading.weight()
        {
            reading = second;
            repaired_with = repairs;
        }
    }
    let mut parsed = normalise::normalise(reading, base.as_str());
    parsed
        .warnings
        .extend(repaired_with.iter().map(|r| format!("repaired: {r}")));
    if parsed.entries.is_empty() && parsed.title.is_none() && parsed.link.is_none() {
        parsed
            .warnings
            .push("no title, link or entries: an empty feed".into());
    }
    Some(parsed)
}

fn parse_json_feed(text: &str, base: &Url) -> Result<ParsedFeed, FetchError> {
    // feed-rs only accepts version 1.x; later versions are supersets for our purposes.
    static VERSION: OnceLock<Regex> = OnceLock::new();
    let version = VERSION.get_or_init(|| {
        Regex::new(r#""version"\s*:\s*"https?://jsonfeed\.org/version/[^"]*""#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let text = version.replace(text, r#""version":"https://jsonfeed.org/version/1.1""#);
    match parse_with_feed_rs(&text, base) {
        Ok(feed) => Ok(convert(feed, base)),
        Err(error) => Err(FetchError::Parse {
            url: base.to_string(),
            message: describe_feed_rs_error(&error),
        }),
    }
}

fn parse_with_feed_rs(
    text: &str,
    base: &Url,
) -> Result<model::Feed, feed_rs::parser::ParseFeedError> {
    feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        // A missing id must stay visible: the default generator invents one.
        .id_generator(|_links, _title, _uri| String::new())
        .timestamp_parser(crate::dates::parse_feed_date)
        .sanitize_content(false)
        .build()
        .parse(text.as_bytes())
}

fn describe_feed_rs_error(error: &feed_rs::parser::ParseFeedError) -> String {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            "no RSS, Atom or JSON Feed root element".into()
        }
        ParseFeedError::XmlReader(e) => format!("malformed XML: {e}"),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Repairs

/// Text-level repairs for what feed-rs cannot read; returns the repaired text and the
/// names of the repairs that changed something.
pub(crate) fn repair(text: &str) -> (String, Vec<&'static str>) {
    let mut repairs = Vec::new();
    let mut text = text.to_string();

    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(*c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}'))
        .collect();
    if cleaned.len() != text.len() {
        repairs.push("control characters removed");
        text = cleaned;
    }

    if let Some(fixed) = fix_rss_version(&text) {
        repairs.push("rss version");
        text = fixed;
    }

    const NAMESPACES: &[(&str, &str, &str)] = &[
        (
            "http://my.netscape.com/rdf/simple/0.9/",
            "http://purl.org/rss/1.0/",
            "RSS 0.90 namespace",
        ),
        (
            "http://purl.org/atom/ns#",
            "http://www.w3.org/2005/Atom",
            "Atom 0.3 namespace",
        ),
    ];
    for (old, new, name) in NAMESPACES {
        if text.contains(old) {
            text = text.replace(old, new);
            repairs.push(name);
            if *old == "http://purl.org/atom/ns#" {
                text = rename_atom03_elements(&text);
            }
        }
    }
    // Userland's RSS namespaces put every element in a namespace feed-rs does not know.
    static USERLAND: OnceLock<Regex> = OnceLock::new();
    let userland = USERLAND.get_or_init(|| {
        Regex::new(r#"\sxmlns\s*=\s*["']http://(backend\.userland\.com/rss2?|blogs\.law\.harvard\.edu/tech/rss)["']"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    if userland.is_match(&text) {
        text = userland.replace_all(&text, "").into_owned();
        repairs.push("Userland RSS namespace");
    }

    if let Some(fixed) = fix_rdf_item_links(&text) {
        repairs.push("RSS 1.0 item links from rdf:about");
        text = fixed;
    }

    if let Some(fixed) = fix_atom_text_types(&text) {
        repairs.push("Atom text construct types");
        text = fixed;
    }

    let (fixed, changed) = fix_entities(&text);
    if changed {
        repairs.push("entities and bare ampersands");
        text = fixed;
    }
    (text, repairs)
}

/// `<rss>` without a version, or with one feed-rs does not know (0.93, 0.94, "2.0 "),
/// is read as RSS 2.0.
fn fix_rss_version(text: &str) -> Option<String> {
    static RSS: OnceLock<Regex> = OnceLock::new();
    static VERSION: OnceLock<Regex> = OnceLock::new();
    let rss = RSS.get_or_init(|| {
        Regex::new(r"<rss\b([^>]*)>").unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let version = VERSION.get_or_init(|| {
        Regex::new(r#"\sversion\s*=\s*("[^"]*"|'[^']*')"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let found = rss.captures(text)?;
    let attributes = found.get(1)?.as_str();
    let current = version
        .captures(attributes)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim_matches(|c| c == '"' || c == '\''));
    if matches!(current, Some("2.0") | Some("0.91") | Some("0.92")) {
        return None;
    }
    let without = version.replace(attributes, "");
    let whole = found.get(0)?;
    let mut fixed = String::with_capacity(text.len() + 16);
    fixed.push_str(&text[..whole.start()]);
    fixed.push_str(&format!("<rss version=\"2.0\"{without}>"));
    fixed.push_str(&text[whole.end()..]);
    Some(fixed)
}

/// RSS 1.0 items without `<link>` get one from their `rdf:about` (feed-rs drops them).
fn fix_rdf_item_links(text: &str) -> Option<String> {
    static ITEM: OnceLock<Regex> = OnceLock::new();
    let item = ITEM.get_or_init(|| {
        Regex::new(r#"<item\b[^>]*?rdf:about\s*=\s*["']([^"']+)["'][^>]*?>"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let mut out = String::with_capacity(text.len() + 256);
    let mut copied = 0;
    let mut changed = false;
    for found in item.captures_iter(text) {
        let (Some(whole), Some(about)) = (found.get(0), found.get(1)) else {
            continue;
        };
        if whole.as_str().ends_with("/>") {
            continue;
        }
        // The item's body ends at its end tag, or at the next item when the end tag is
        // missing. Bounding every search by the next item keeps the searched stretches
        // disjoint, so the pass stays linear even when no item is ever closed.
        let after_tag = &text[whole.end()..];
        let window = &after_tag[..after_tag.find("<item").unwrap_or(after_tag.len())];
        let body = window.find("</item>").map_or(window, |end| &window[..end]);
        if body.contains("<link") {
            continue;
        }
        out.push_str(&text[copied..whole.end()]);
        out.push_str("<link>");
        out.push_str(about.as_str());
        out.push_str("</link>");
        copied = whole.end();
        changed = true;
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Atom 0.3 element names mapped to their Atom 1.0 equivalents.
fn rename_atom03_elements(text: &str) -> String {
    static ELEMENTS: OnceLock<Regex> = OnceLock::new();
    let elements = ELEMENTS.get_or_init(|| {
        Regex::new(r"<(/?)(modified|issued|tagline|copyright)\b")
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    elements
        .replace_all(text, |c: &regex::Captures| {
            let new = match &c[2] {
                "modified" => "updated",
                "issued" => "published",
                "tagline" => "subtitle",
                _ => "rights",
            };
            format!("<{}{new}", &c[1])
        })
        .into_owned()
}

/// Atom text constructs with a MIME type or an empty type, which feed-rs rejects.
fn fix_atom_text_types(text: &str) -> Option<String> {
    static TAG: OnceLock<Regex> = OnceLock::new();
    let tag = TAG.get_or_init(|| {
        Regex::new(r#"<(title|subtitle|summary|content|rights)(\s[^>]*?)?\stype\s*=\s*["'](|text/plain|text/html|application/xhtml\+xml)["']"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    if !tag.is_match(text) {
        return None;
    }
    let fixed = tag.replace_all(text, |c: &regex::Captures| {
        let other_attributes = c.get(2).map_or("", |m| m.as_str());
        let kind = match &c[3] {
            "" => return format!("<{}{other_attributes}", &c[1]),
            "text/plain" => "text",
            "text/html" => "html",
            _ => "xhtml",
        };
        format!("<{}{other_attributes} type=\"{kind}\"", &c[1])
    });
    Some(fixed.into_owned())
}

/// Makes every `&` well-formed: HTML named entities become numeric references, entities
/// declared in the DOCTYPE are expanded, and bare ampersands are escaped. CDATA sections
/// and comments are copied untouched.
///
/// Hand-written because this must be a single linear pass over possibly broken XML that no
/// XML parser accepts.
fn fix_entities(text: &str) -> (String, bool) {
    let declared = doctype_entities(text);
    // References may grow the text by at most this many bytes in all: a DOCTYPE that
    // declares a long value and references it thousands of times ("billion laughs", one
    // level deep here) would otherwise turn a 1 MB feed into gigabytes. Past the budget a
    // reference stays visible as text.
    let mut expansion_budget = text.len().max(64 * 1024);
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    let mut rest = text;
    while let Some(position) = rest.find(['&', '<']) {
        out.push_str(&rest[..position]);
        rest = &rest[position..];
        if rest.starts_with('<') {
            let end = if rest.starts_with("<![CDATA[") {
                rest.find("]]>").map(|e| e + 3)
            } else if rest.starts_with("<!--") {
                rest.find("-->").map(|e| e + 3)
            } else if rest.starts_with("<!DOCTYPE") || rest.starts_with("<!doctype") {
                doctype_end(rest)
            } else {
                Some(1)
            };
            let end = end.unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        // `rest` starts with '&'.
        let reference_end = rest[1..]
            .char_indices()
            .take(40)
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '#'))
            .map(|(i, c)| (i + 1, c));
        match reference_end {
            Some((end, ';')) if end > 1 => {
                let name = &rest[1..end];
                let replacement = resolve_reference(name, &declared).filter(|replacement| {
                    let growth = replacement.len().saturating_sub(end + 1);
                    let Some(left) = expansion_budget.checked_sub(growth) else {
                        return false;
                    };
                    expansion_budget = left;
                    true
                });
                if let Some(replacement) = replacement {
                    changed |= replacement != rest[..=end];
                    out.push_str(&replacement);
                } else {
                    out.push_str("&amp;");
                    out.push_str(&rest[1..=end]);
                    changed = true;
                }
                rest = &rest[end + 1..];
            }
            _ => {
                out.push_str("&amp;");
                rest = &rest[1..];
                changed = true;
            }
        }
    }
    out.push_str(rest);
    (out, changed)
}

/// How `&name;` should be written so that an XML parser reads the intended text.
/// `declared` maps DOCTYPE entity names to their values, already escaped for XML text;
/// they are borrowed, not copied, as one value may be referenced many thousand times.
fn resolve_reference<'a>(
    name: &str,
    declared: &'a HashMap<String, String>,
) -> Option<Cow<'a, str>> {
    if matches!(name, "amp" | "lt" | "gt" | "quot" | "apos") {
        return Some(Cow::Owned(format!("&{name};")));
    }
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => number.parse::<u32>().ok(),
        };
        let valid = code
            .and_then(char::from_u32)
            .filter(|c| !matches!(*c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}'));
        return Some(Cow::Owned(match valid {
            Some(_) => format!("&{name};"),
            None => "&#xFFFD;".into(),
        }));
    }
    if let Some(escaped) = declared.get(name) {
        return Some(Cow::Borrowed(escaped));
    }
    let reference = format!("&{name};");
    let decoded = html_escape::decode_html_entities(&reference);
    if decoded != reference {
        return Some(Cow::Owned(
            decoded
                .chars()
                .map(|c| format!("&#{};", c as u32))
                .collect(),
        ));
    }
    None
}

fn escape_text(value: &str) -> String {
    value.replace('&', "&amp;").replace('<', "&lt;")
}

/// `<!ENTITY name "value">` declarations of the internal DOCTYPE subset, values decoded
/// and then escaped for XML text.
fn doctype_entities(text: &str) -> HashMap<String, String> {
    static ENTITY: OnceLock<Regex> = OnceLock::new();
    let entity = ENTITY.get_or_init(|| {
        Regex::new(r#"<!ENTITY\s+([A-Za-z_][A-Za-z0-9._-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let Some(start) = text.find("<!DOCTYPE") else {
        return HashMap::new();
    };
    let end = doctype_end(&text[start..]).map_or(text.len(), |e| start + e);
    entity
        .captures_iter(&text[start..end])
        .filter_map(|c| {
            let value = c.get(2).or_else(|| c.get(3))?.as_str();
            // Values that themselves hold references are decoded as HTML would.
            Some((
                c[1].to_string(),
                escape_text(&html_escape::decode_html_entities(value)),
            ))
        })
        .collect()
}

/// Length of a DOCTYPE declaration including an internal subset in brackets.
fn doctype_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '>' if depth == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Conversion to newswire's model

fn convert(feed: model::Feed, base: &Url) -> ParsedFeed {
    let is_rss = matches!(
        feed.feed_type,
        model::FeedType::RSS0 | model::FeedType::RSS1 | model::FeedType::RSS2
    );
    let link = pick_link(&feed.links, base, None);
    let entries = feed
        .entries
        .into_iter()
        .map(|entry| {
            let mut converted = convert_entry(entry, base);
            // feed-rs copies an RSS item's pubDate into `updated`; an update date that
            // the feed never gave must stay unknown.
            if is_rss && converted.updated == converted.published {
                converted.updated = None;
            }
            converted
        })
        .collect();
    ParsedFeed {
        title: feed.title.as_ref().map(text_of).filter(|t| !t.is_empty()),
        link,
        id: non_empty(feed.id),
        description: feed
            .description
            .as_ref()
            .map(text_of)
            .filter(|t| !t.is_empty()),
        language: feed.language.as_deref().and_then(normalise_language),
        published: feed.published,
        updated: feed.updated,
        authors: people(&feed.authors),
        categories: categories(&feed.categories),
        entries,
        ttl_hint: feed
            .ttl
            .filter(|minutes| *minutes > 0)
            .map(|minutes| Duration::from_secs(u64::from(minutes) * 60)),
        warnings: Vec::new(),
    }
}

fn convert_entry(entry: model::Entry, feed_base: &Url) -> FeedEntry {
    // xml:base on the entry (already absolute or relative to the feed URL).
    let base = entry
        .base
        .as_deref()
        .and_then(|b| feed_base.join(b).ok())
        .unwrap_or_else(|| feed_base.clone());
    let image = entry_image(&entry, &base);
    let id = non_empty(entry.id);
    let mut link = pick_link(&entry.links, &base, Some(&entry.media));
    if link.is_none() {
        // A guid that is a URL (RSS permalink) stands in for the missing link.
        link = id
            .as_deref()
            .filter(|id| {
                id.starts_with("http://") || id.starts_with("https://") || id.starts_with('/')
            })
            .and_then(|id| base.join(id).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"));
    }
    let content = entry.content.as_ref().and_then(|c| {
        let body = c.body.as_deref()?.trim();
        if body.is_empty() {
            return None;
        }
        Some(if c.content_type.essence().to_string() == "text/plain" {
            html_escape::encode_text(body).into_owned()
        } else {
            body.to_string()
        })
    });
    let summary = entry
        .summary
        .as_ref()
        .map(text_of)
        .filter(|s| !s.is_empty());
    FeedEntry {
        id,
        link,
        title: entry.title.as_ref().map(text_of).filter(|t| !t.is_empty()),
        published: entry.published,
        updated: entry.updated,
        authors: people(&entry.authors),
        categories: categories(&entry.categories),
        summary,
        content,
        image,
    }
}

/// The alternate (page) link among a feed's or entry's links, made absolute.
fn pick_link(
    links: &[model::Link],
    base: &Url,
    _media: Option<&Vec<model::MediaObject>>,
) -> Option<Url> {
    let is_page =
        |l: &&model::Link| matches!(l.rel.as_deref(), None | Some("") | Some("alternate"));
    let preferred = links
        .iter()
        .filter(is_page)
        .find(|l| {
            l.media_type
                .as_deref()
                .is_none_or(|t| t.contains("html") || t.is_empty())
        })
        .or_else(|| links.iter().find(is_page));
    let href = preferred?.href.trim();
    if href.is_empty() {
        return None;
    }
    base.join(href)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https" | "file"))
}

fn entry_image(entry: &model::Entry, base: &Url) -> Option<Url> {
    let from_media = entry.media.iter().find_map(|m| {
        m.thumbnails
            .first()
            .map(|t| t.image.uri.as_str())
            .or_else(|| {
                m.content.iter().find_map(|c| {
                    let is_image = c
                        .content_type
                        .as_ref()
                        .is_some_and(|t| t.ty().as_str() == "image");
                    if is_image {
                        c.url.as_ref().map(Url::as_str)
                    } else {
                        None
                    }
                })
            })
    });
    let from_enclosure = || {
        entry.links.iter().find_map(|l| {
            let is_image = l
                .media_type
                .as_deref()
                .is_some_and(|t| t.starts_with("image/"));
            (l.rel.as_deref() == Some("enclosure") && is_image).then_some(l.href.as_str())
        })
    };
    let raw = from_media.or_else(from_enclosure)?;
    base.join(raw.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

fn non_empty(text: String) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == text.len() {
        Some(text)
    } else {
        Some(trimmed.to_string())
    }
}

/// Plain text of a feed text construct: tags dropped, entities decoded, whitespace
/// normalised.
fn text_of(text: &model::Text) -> String {
    if text.content_type.subty().as_str() == "html" || text.content.contains('<') {
        html_to_text(&text.content)
    } else {
        normalise_whitespace(&html_escape::decode_html_entities(&text.content))
    }
}

/// Plain text of an HTML fragment; block elements become line breaks.
///
/// Hand-written as a linear scan rather than a DOM: summaries only need their text, this
/// runs for every entry, and an HTML parser costs time quadratic in the nesting depth on
/// hostile markup (50,000 nested `<div>`s took seconds). Every byte is passed over a
/// bounded number of times, so it stays linear in the length of `html`.
pub(crate) fn html_to_text(html: &str) -> String {
    if !html.contains('<') {
        return normalise_whitespace(&decode_entities_twice(html));
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(close) = rest.find('>') else {
            // A lone '<' is text.
            out.push_str(rest);
            rest = "";
            break;
        };
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() && !tag.starts_with('/') && !tag.starts_with('!') {
            // "a < b" style text, not a tag.
            out.push('<');
            out.push_str(tag);
            out.push('>');
            continue;
        }
        match name.as_str() {
            "script" | "style" | "noscript" if !tag.starts_with('/') => {
                // Skipped up to the end tag; without one, the rest is the element's.
                rest = find_end_tag(rest, &name).map_or("", |end| {
                    let after = &rest[end..];
                    after.find('>').map_or("", |gt| &after[gt + 1..])
                });
            }
            "p" | "br" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr"
            | "blockquote" | "ul" | "ol" | "table" | "section" | "article" | "figure" => {
                out.push('\n')
            }
            _ => {}
        }
    }
    out.push_str(rest);
    decode_entities_twice(&out)
        .lines()
        .map(normalise_whitespace)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Byte offset of the first `</name` end tag in `html`, the name matched without regard
/// to ASCII case (`name` is lowercase).
///
/// Compares in place: lowercasing a copy of the rest for every `<script>` made
/// [`html_to_text`] quadratic (a 1 MB summary of script tags took minutes). Each `</` is
/// looked at once, so this is linear in the bytes it passes.
fn find_end_tag(html: &str, name: &str) -> Option<usize> {
    html.match_indices("</").map(|(at, _)| at).find(|&at| {
        let after = &html.as_bytes()[at + 2..];
        after.len() >= name.len()
            && after[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            && after
                .get(name.len())
                .is_none_or(|next| !next.is_ascii_alphanumeric())
    })
}

/// Decodes HTML entities; feeds often escape twice ("&amp;amp;"), so what is left after
/// one pass is decoded again.
fn decode_entities_twice(text: &str) -> String {
    let once = html_escape::decode_html_entities(text);
    if once.contains('&') {
        html_escape::decode_html_entities(&once).into_owned()
    } else {
        once.into_owned()
    }
}

fn normalise_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn people(people: &[model::Person]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    // A set beside the list: `contains` on the list made hostile entries with tens of
    // thousands of authors quadratic.
    let mut seen: HashSet<String> = HashSet::new();
    for person in people {
        let name = person
            .name
            .as_deref()
            .map(|n| {
                n.trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .trim()
            })
            .filter(|n| !n.is_empty())
            .or(person.email.as_deref())
            .map(|n| normalise_whitespace(&html_escape::decode_html_entities(n)));
        if let Some(name) = name
            && !name.is_empty()
            && seen.insert(name.clone())
        {
            names.push(name);
        }
    }
    names
}

fn categories(categories: &[model::Category]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for category in categories {
        let name = category.label.as_deref().unwrap_or(&category.term);
        let name = normalise_whitespace(&html_escape::decode_html_entities(name));
        if !name.is_empty() && seen.insert(name.clone()) {
            out.push(name);
        }
    }
    out
}

/// `en_US` and `EN-us` become `en-US`; empty tags become `None`.
pub(crate) fn normalise_language(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-");
    let mut parts = tag.split('-').filter(|p| !p.is_empty());
    let primary = parts.next()?.to_ascii_lowercase();
    if !primary.chars().all(|c| c.is_ascii_alphabetic()) || primary.len() > 8 {
        return None;
    }
    let mut out = primary;
    for part in parts {
        out.push('-');
        if part.len() == 2 {
            out.push_str(&part.to_ascii_uppercase());
        } else {
            out.push_str(part);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// Second scan: fields feed-rs ignores

/// Fills fields feed-rs leaves empty, from a quick-xml scan of the same text: RSS 1.0
/// `rdf:about` as the item link, `sy:updatePeriod`/`sy:updateFrequency` as the poll hint,
/// channel `dc:*`, `managingEditor` and `author`, item `dc:creator`/`dc:date`.
fn supplement(text: &str, base: &Url, feed: &mut ParsedFeed) {
    let Some(scan) = crate::feed_scan::scan(text) else {
        return;
    };
    if feed.ttl_hint.is_none() {
        feed.ttl_hint = scan.update_hint;
    }
    if feed.id.is_none() {
        feed.id = scan
            .channel
            .about
            .as_deref()
            .and_then(|a| resolve_about(a, base));
    }
    if feed.title.is_none() {
        feed.title = scan
            .channel
            .title
            .map(|t| html_to_text(&t))
            .filter(|t| !t.is_empty());
    }
    if feed.description.is_none() {
        feed.description = scan
            .channel
            .description
            .map(|t| html_to_text(&t))
            .filter(|t| !t.is_empty());
    }
    if feed.language.is_none() {
        feed.language = scan
            .channel
            .language
            .as_deref()
            .and_then(normalise_language);
    }
    if feed.authors.is_empty() {
        feed.authors = scan.channel.authors;
    }
    if feed.categories.is_empty() {
        feed.categories = scan.channel.subjects;
    }
    if feed.updated.is_none() {
        feed.updated = scan
            .channel
            .date
            .as_deref()
            .and_then(crate::dates::parse_feed_date);
    }
    // Items are matched by position, so only when both sides saw the same items.
    if scan.items.len() != feed.entries.len() {
        return;
    }
    for (entry, item) in feed.entries.iter_mut().zip(scan.items) {
        if entry.link.is_none()
            && let Some(about) = item.about.as_deref()
        {
            entry.link = base
                .join(about.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
        }
        if entry.image.is_none()
            && let Some(thumbnail) = item.thumbnail.as_deref()
        {
            entry.image = base
                .join(thumbnail.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
        }
        if entry.authors.is_empty() {
            entry.authors = item.creators;
        }
        if entry.published.is_none() {
            entry.published = item.date.as_deref().and_then(crate::dates::parse_feed_date);
        }
        if entry.categories.is_empty() {
            entry.categories = item.subjects;
        }
        if entry.id.is_none() {
            entry.id = item.about.as_deref().and_then(|a| resolve_about(a, base));
        }
    }
}

/// An RSS 1.0 `rdf:about` as an id: a URI reference, so a relative one is resolved
/// against the feed URL (two feeds' "story/1" must not be the same id). Absolute URIs of
/// any scheme (`urn:`, `tag:`) are kept as written.
fn resolve_about(about: &str, base: &Url) -> Option<String> {
    let about = about.trim();
    if about.is_empty() {
        return None;
    }
    if Url::parse(about).is_ok() {
        return Some(about.to_string());
    }
    Some(
        base.join(about)
            .map_or_else(|_| about.to_string(), String::from),
    )
}

mod normalise;
mod reader;

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
