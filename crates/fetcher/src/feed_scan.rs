//! A quick second pass over feed XML for the fields feed-rs ignores.
//!
//! feed-rs does not read Dublin Core on channels, `managingEditor`, channel `<author>`,
//! `sy:updatePeriod`/`sy:updateFrequency`, or RSS 1.0 `rdf:about`. This scanner walks the
//! same text with quick-xml, keeps only those fields, and never fails: on broken XML it
//! returns what it saw so far.

use std::collections::HashSet;
use std::time::Duration;

use quick_xml::events::Event;

/// What the scan found.
#[derive(Debug, Default)]
pub struct Scan {
    pub channel: ChannelExtras,
    pub items: Vec<ItemExtras>,
    /// From `sy:updatePeriod` and `sy:updateFrequency`.
    pub update_hint: Option<Duration>,
}

#[derive(Debug, Default)]
pub struct ChannelExtras {
    /// RSS 1.0 `rdf:about` of the channel, as written.
    pub about: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub authors: Vec<String>,
    pub subjects: Vec<String>,
    pub date: Option<String>,
}

#[derive(Debug, Default)]
pub struct ItemExtras {
    pub about: Option<String>,
    pub creators: Vec<String>,
    pub subjects: Vec<String>,
    pub date: Option<String>,
    /// `media:thumbnail` URL, as written.
    pub thumbnail: Option<String>,
}

/// Scans feed XML; `None` when the text is not XML at all.
// Long on purpose: one loop over quick-xml events; see `feed/reader/mod.rs` for the same shape.
pub fn scan(text: &str) -> Option<Scan> {
    if !text.trim_start().starts_with('<') {
        return None;
    }
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut scan = Scan::default();
    let mut stack: Vec<String> = Vec::new();
    let mut current_item: Option<ItemExtras> = None;
    let mut text_buffer = String::new();
    let mut update_period: Option<String> = None;
    let mut update_frequency: Option<String> = None;
    // On broken XML the scan ends where the error is, keeping what it saw.
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(start) => {
                let name = start.name().as_ref().to_string();
                let local = start.local_name().as_ref().to_ascii_lowercase();
                if (local == "item" || local == "entry") && current_item.is_none() {
                    let mut item = ItemExtras::default();
                    for attribute in start.attributes().flatten() {
                        if attribute.key.local_name().as_ref() == "about" {
                            item.about = Some(attribute_text(&attribute));
                        }
                    }
                    current_item = Some(item);
                } else if local == "channel" && current_item.is_none() {
                    for attribute in start.attributes().flatten() {
                        if attribute.key.local_name().as_ref() == "about" {
                            scan.channel.about.get_or_insert(attribute_text(&attribute));
                        }
                    }
                } else if let Some(item) = current_item.as_mut() {
                    note_thumbnail(&start, item);
                }
                stack.push(name);
                text_buffer.clear();
            }
            Event::Empty(start) => {
                let local = start.local_name().as_ref().to_ascii_lowercase();
                if local == "item" || local == "entry" {
                    let mut item = ItemExtras::default();
                    for attribute in start.attributes().flatten() {
                        if attribute.key.local_name().as_ref() == "about" {
                            item.about = Some(attribute_text(&attribute));
                        }
                    }
                    scan.items.push(item);
                } else if let Some(item) = current_item.as_mut() {
                    note_thumbnail(&start, item);
                }
            }
            Event::Text(t) => text_buffer.push_str(&t.html_content()),
            Event::CData(c) => text_buffer.push_str(&c.into_inner()),
            Event::GeneralRef(reference) => {
                if let Ok(Some(c)) = reference.resolve_char_ref() {
                    text_buffer.push(c);
                } else {
                    let name = reference.html_content();
                    let resolved =
                        html_escape::decode_html_entities(&format!("&{name};")).into_owned();
                    text_buffer.push_str(&resolved);
                }
            }
            Event::End(end) => {
                let local = end.local_name().as_ref().to_ascii_lowercase();
                let name = stack.pop().unwrap_or_default();
                let value = text_buffer.trim().to_string();
                text_buffer.clear();
                if local == "item" || local == "entry" {
                    if let Some(mut item) = current_item.take() {
                        dedup_in_order(&mut item.creators);
                        scan.items.push(item);
                    }
                    continue;
                }
                if value.is_empty() {
                    continue;
                }
                let qualified = name.to_ascii_lowercase();
                if let Some(item) = current_item.as_mut() {
                    match qualified.as_str() {
                        "dc:creator" | "author" | "dc:contributor" => {
                            // Duplicates go when the element closes (a linear pass).
                            item.creators.extend(clean_person(&value));
                        }
                        "dc:subject" => item.subjects.push(value),
                        "dc:date" | "dcterms:issued" | "dcterms:created" | "dcterms:modified" => {
                            item.date.get_or_insert(value);
                        }
                        _ => {}
                    }
                } else {
                    let channel = &mut scan.channel;
                    match qualified.as_str() {
                        "dc:title" => {
                            channel.title.get_or_insert(value);
                        }
                        "dc:description" => {
                            channel.description.get_or_insert(value);
                        }
                        "dc:language" => {
                            channel.language.get_or_insert(value);
                        }
                        "dc:creator" | "managingeditor" | "author" | "dc:publisher" => {
                            // Duplicates go when the element closes (a linear pass).
                            channel.authors.extend(clean_person(&value));
                        }
                        "dc:subject" => channel.subjects.push(value),
                        "dc:date" | "dcterms:modified" | "dcterms:issued" => {
                            channel.date.get_or_insert(value);
                        }
                        "sy:updateperiod" => update_period = Some(value),
                        "sy:updatefrequency" => update_frequency = Some(value),
                        _ => {}
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    dedup_in_order(&mut scan.channel.authors);
    scan.update_hint = syndication_hint(update_period.as_deref(), update_frequency.as_deref());
    Some(scan)
}

/// Drops repeated values, keeping the first of each, in one pass (checking the list before
/// every push made items with tens of thousands of `dc:creator`s quadratic).
fn dedup_in_order(values: &mut Vec<String>) {
    let mut seen = HashSet::with_capacity(values.len());
    values.retain(|value| seen.insert(value.clone()));
}

/// Keeps the first `media:thumbnail` of an item (feed-rs drops thumbnails outside a
/// `media:group`/`media:content`).
fn note_thumbnail(start: &quick_xml::events::BytesStart, item: &mut ItemExtras) {
    if item.thumbnail.is_some()
        || !start
            .name()
            .as_ref()
            .eq_ignore_ascii_case("media:thumbnail")
    {
        return;
    }
    item.thumbnail = start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == "url")
        .map(|a| attribute_text(&a))
        .filter(|u| !u.trim().is_empty());
}

/// How many `<item>`/`<entry>` start tags the text holds (a cheap count, no parse).
pub fn count_items(text: &str) -> usize {
    let mut count = 0;
    for (position, _) in text.match_indices('<') {
        let rest = &text[position + 1..];
        for name in ["item", "entry"] {
            if let Some(after) = rest.strip_prefix(name)
                && after.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace())
            {
                count += 1;
            }
        }
    }
    count
}

/// An attribute's value with references resolved; HTML entities, which XML does not
/// know, are resolved too rather than failing.
pub fn attribute_text(attribute: &quick_xml::events::attributes::Attribute) -> String {
    attribute
        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .map(|v| v.into_owned())
        .unwrap_or_else(|_| html_escape::decode_html_entities(&attribute.value).into_owned())
}

/// The poll interval the syndication module announces: the period divided by the
/// frequency (RSS 1.0 `sy:` module; the period defaults to daily, the frequency to 1).
pub fn syndication_hint(period: Option<&str>, frequency: Option<&str>) -> Option<Duration> {
    if period.is_none() && frequency.is_none() {
        return None;
    }
    let seconds: u64 = match period.map(|p| p.trim().to_ascii_lowercase()).as_deref() {
        Some("hourly") => 3600,
        Some("daily") | None => 86_400,
        Some("weekly") => 7 * 86_400,
        Some("monthly") => 30 * 86_400,
        Some("yearly") => 365 * 86_400,
        Some(_) => return None,
    };
    let frequency: u64 = frequency
        .and_then(|f| f.trim().parse().ok())
        .filter(|f| *f > 0)
        .unwrap_or(1);
    Some(Duration::from_secs(seconds / frequency))
}

/// A person as a display name: the name of `"jane@example.org (Jane Doe)"`,
/// `"Jane Doe (jane@example.org)"` and `"Jane Doe <jane@example.org>"` is `"Jane Doe"`
/// (the Universal Feed Parser splits these into `author_detail` name and email); a
/// parenthesis without an address ("Jane Doe (Reuters)") is part of the name, and an
/// address alone is kept as it is.
pub fn clean_person(raw: &str) -> Option<String> {
    let raw = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if raw.is_empty() {
        return None;
    }
    let name_and_address = |name: &str, address: &str| {
        let name = name.trim().trim_matches('"').trim();
        (address.contains('@') && !name.is_empty() && !name.contains('@')).then(|| name.to_string())
    };
    if let Some((before, after)) = raw.split_once('(')
        && let Some(inside) = after.strip_suffix(')')
        && let Some(name) =
            name_and_address(inside, before).or_else(|| name_and_address(before, inside))
    {
        return Some(name);
    }
    if let Some((before, after)) = raw.split_once('<')
        && let Some(address) = after.strip_suffix('>')
        && let Some(name) = name_and_address(before, address)
    {
        return Some(name);
    }
    Some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syndication_hints() {
        assert_eq!(
            syndication_hint(Some("hourly"), Some("2")),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(
            syndication_hint(Some("daily"), None),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(
            syndication_hint(None, Some("4")),
            Some(Duration::from_secs(21_600))
        );
        assert_eq!(syndication_hint(None, None), None);
        assert_eq!(syndication_hint(Some("fortnightly"), None), None);
    }

    #[test]
    fn people_names() {
        assert_eq!(
            clean_person("jane@example.org (Jane Doe)").as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(clean_person("  Jane   Doe ").as_deref(), Some("Jane Doe"));
        assert_eq!(
            clean_person("Jane Doe (jane@example.org)").as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(
            clean_person("\"Jane Doe\" <jane@example.org>").as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(
            clean_person("Jane Doe (Reuters)").as_deref(),
            Some("Jane Doe (Reuters)")
        );
        assert_eq!(
            clean_person("jane@example.org").as_deref(),
            Some("jane@example.org")
        );
        assert_eq!(clean_person(""), None);
    }

    #[test]
    fn broken_xml_still_gives_what_was_seen() {
        let scan = scan("<rss><channel><dc:creator>Ann</dc:creator><item><dc:creator>Bo").unwrap();
        assert_eq!(scan.channel.authors, ["Ann"]);
        assert!(scan.items.is_empty());
    }
}
