//! Feed bytes to [`ParsedFeed`]: charset decoding, feed-rs, repairs, and the conversion to
//! newswire's model (absolute links, plain-text titles and summaries, permalink guids).
//!
//! feed-rs handles the common formats but fails or silently returns nothing on a good
//! share of real feeds (`../shared/DESIGN.md`, "Known traps"). The body is therefore
//! always decoded to UTF-8 first (feed-rs cannot guess undeclared charsets), parsed once,
//! and when that parse fails or looks empty, repaired at the text level ([`repair`]) and
//! parsed again. A quick-xml scan ([`supplement`]) then fills what feed-rs ignores.

use std::collections::HashSet;
use std::time::Duration;

use feed_rs::model;
use url::Url;

use crate::charset::{self, DocumentKind};
use crate::{FeedEntry, FetchError, ParsedFeed};
use repair::repair;

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
    let mut repaired_with = Vec::new();
    let escaped = repair::escape_stray_less_than(text);
    if escaped.is_some() {
        repaired_with.push("a '<' that opens no markup escaped");
    }
    let text = escaped.as_deref().unwrap_or(text);
    let mut reading = reader::read(text, base)?;
    if reading.error.is_some() {
        let (repaired, repairs) = repair(text);
        if !repairs.is_empty()
            && let Some(second) = reader::read(&repaired, base)
            && second.weight() > reading.weight()
        {
            reading = second;
            repaired_with.extend(repairs);
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
    let parse_error = |message: String| FetchError::Parse {
        url: base.to_string(),
        message,
    };
    let mut document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| parse_error(format!("malformed JSON: {e}")))?;
    let images = normalise_json_feed(&mut document);
    let text = document.to_string();
    let mut parsed = match parse_with_feed_rs(&text, base) {
        Ok(feed) => convert(feed, base),
        Err(error) => return Err(parse_error(describe_feed_rs_error(&error))),
    };
    // feed-rs reads no item `image`; entries keep the items' order.
    if parsed.entries.len() == images.len() {
        for (entry, image) in parsed.entries.iter_mut().zip(images) {
            if entry.image.is_none() {
                entry.image = image
                    .and_then(|raw| base.join(raw.trim()).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"));
            }
        }
    }
    Ok(parsed)
}

/// Brings a JSON Feed to what feed-rs reads, as JSON Feed 1.1 tells readers to: any
/// `https://jsonfeed.org/version/…` is read as 1.1 (feed-rs knows only 1.x; later versions
/// are supersets for our purposes), an `id` given as a number becomes a string, and an
/// item's `authors` replaces its legacy `author`. Returns each item's `image` (else its
/// `banner_image`), which feed-rs leaves out.
fn normalise_json_feed(document: &mut serde_json::Value) -> Vec<Option<String>> {
    use serde_json::Value;
    if let Some(version) = document.get_mut("version")
        && version
            .as_str()
            .is_some_and(|v| v.contains("jsonfeed.org/version/"))
    {
        *version = Value::String("https://jsonfeed.org/version/1.1".into());
    }
    let Some(items) = document.get_mut("items").and_then(Value::as_array_mut) else {
        return Vec::new();
    };
    items
        .iter_mut()
        .map(|item| {
            let item = item.as_object_mut()?;
            if let Some(id) = item.get_mut("id")
                && let Value::Number(number) = id
            {
                *id = Value::String(number.to_string());
            }
            if item
                .get("authors")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
            {
                item.remove("author");
            }
            ["image", "banner_image"]
                .iter()
                .find_map(|key| item.get(*key).and_then(Value::as_str).map(str::to_string))
        })
        .collect()
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
            | "blockquote" | "ul" | "ol" | "table" | "section" | "article" | "figure"
            | "figcaption" | "dl" | "dt" | "dd" | "hr" | "pre" | "caption" | "header"
            | "footer" | "aside" | "nav" | "main" => out.push('\n'),
            // Table cells side by side stay apart.
            "td" | "th" => out.push(' '),
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
    let twice = if once.contains('&') {
        html_escape::decode_html_entities(&once).into_owned()
    } else {
        once.into_owned()
    };
    c1_as_windows_1252(&twice)
}

/// Control characters U+0080–U+009F read as the windows-1252 characters they stand for
/// (`&#150;` is an en dash, `&#146;` an apostrophe), as the HTML standard reads numeric
/// references: old CMSs write windows-1252 code points as references. Applied to decoded
/// text, so the same characters written literally are read alike (they are never text).
fn c1_as_windows_1252(text: &str) -> String {
    text.chars().map(windows_1252_for_c1).collect()
}

/// One character of [`c1_as_windows_1252`]: a C1 control as its windows-1252 character,
/// anything else as it is.
pub(crate) fn windows_1252_for_c1(c: char) -> char {
    match u8::try_from(u32::from(c)) {
        Ok(byte @ 0x80..=0x9f) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(&[byte])
            .0
            .chars()
            .next()
            .unwrap_or(c),
        _ => c,
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
mod repair;

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
