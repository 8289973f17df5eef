//! Text-level repairs of feeds feed-rs cannot read: stray bytes, RSS version attributes,
//! RDF item links, Atom 0.3 element names and text types, and entity references (HTML
//! names, bad numeric references, DOCTYPE-declared entities with an expansion budget).
//! Each repair is one pass over the text.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

/// Text-level repairs for what feed-rs cannot read; returns the repaired text and the
/// names of the repairs that changed something.
pub(super) fn repair(text: &str) -> (String, Vec<&'static str>) {
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

/// A `<` that cannot open markup ("Profits < forecast", "a <3 b") escaped as `&lt;`, so
/// that it does not swallow the text after it into a tag; CDATA sections and comments are
/// left as they are. `None` when there is none.
pub(super) fn escape_stray_less_than(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        let at = i + offset;
        let rest = &text[at..];
        let skip_to = |end: &str| rest.find(end).map_or(bytes.len(), |e| at + e + end.len());
        if rest.starts_with("<![CDATA[") {
            i = skip_to("]]>");
            continue;
        }
        if rest.starts_with("<!--") {
            i = skip_to("-->");
            continue;
        }
        // A name starts with a letter (of any script), `_` or `:`; `/`, `!` and `?` open
        // end tags, declarations and processing instructions.
        let opens_markup = text[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || matches!(c, '_' | ':' | '/' | '!' | '?'));
        if !opens_markup {
            let buffer = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
            buffer.push_str(&text[copied..at]);
            buffer.push_str("&lt;");
            copied = at + 1;
        }
        i = at + 1;
    }
    out.map(|mut buffer| {
        buffer.push_str(&text[copied..]);
        buffer
    })
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
    let declared = declared_entities(text);
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

/// The entities the text's DOCTYPE declares, values escaped for XML text.
fn declared_entities(text: &str) -> HashMap<String, String> {
    let Some(start) = text.find("<!DOCTYPE") else {
        return HashMap::new();
    };
    let end = doctype_end(&text[start..]).map_or(text.len(), |e| start + e);
    doctype_entities(&text[start..end])
        .into_iter()
        .map(|(name, value)| (name, escape_text(&value)))
        .collect()
}

/// `<!ENTITY name "value">` declarations of an internal DOCTYPE subset, values decoded as
/// HTML would. The first declaration of a name is binding (XML 1.0, section 4.2);
/// parameter entities (`<!ENTITY % …>`) are skipped. Shared by the repair pass and the
/// feed reader, so that both read a DOCTYPE alike.
pub(super) fn doctype_entities(doctype: &str) -> HashMap<String, String> {
    let mut entities = HashMap::new();
    let mut rest = doctype;
    while let Some(at) = rest.find("<!ENTITY") {
        rest = &rest[at + 8..];
        let trimmed = rest.trim_start();
        if trimmed.starts_with('%') {
            continue;
        }
        let name: String = trimmed
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect();
        let after = trimmed[name.len()..].trim_start();
        let Some(quote) = after.chars().next().filter(|q| *q == '"' || *q == '\'') else {
            continue;
        };
        let Some(end) = after[1..].find(quote) else {
            break;
        };
        if !name.is_empty() && !entities.contains_key(&name) {
            let value = html_escape::decode_html_entities(&after[1..1 + end]).into_owned();
            entities.insert(name, value);
        }
    }
    entities
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_declaration_of_an_entity_is_binding() {
        let doctype = r#"<!DOCTYPE rss [
            <!ENTITY % shared SYSTEM "x.ent">
            <!ENTITY who "Ann &amp; Bo">
            <!ENTITY who 'someone else'>
            <!ENTITY where 'Kyiv'>
        ]>"#;
        let entities = doctype_entities(doctype);
        assert_eq!(entities.len(), 2, "{entities:?}");
        assert_eq!(entities["who"], "Ann & Bo");
        assert_eq!(entities["where"], "Kyiv");
    }

    #[test]
    fn the_repair_pass_expands_declared_entities_escaped_for_xml() {
        let text = "<!DOCTYPE rss [<!ENTITY who \"A &lt; B\"><!ENTITY who \"C\">]>\
                    <rss><channel><title>&who; and &who;</title></channel></rss>";
        let (repaired, _) = repair(text);
        assert!(
            repaired.contains("<title>A &lt; B and A &lt; B</title>"),
            "{repaired}"
        );
    }
}
