//! Bylines from the visible page: elements whose class or id says byline/author, and
//! "By A and B" lines near the headline, in several languages.
//!
//! These are the fallbacks after structured data (JSON-LD, `<meta>`, microdata and
//! `rel=author`, see `meta`); the strings found here go through `meta::clean_authors`,
//! which splits names and strips prefixes, roles, agencies and dates.

use crate::dom::{Dom, Kind, has_word};

/// Class/id words of byline elements.
const BYLINE_CLASS_WORDS: &[&str] = &[
    "byline",
    "bylines",
    "author",
    "authors",
    "autor",
    "auteur",
    "writer",
    "writers",
    "creator",
    "reporter",
    "contributor",
    "contributors",
];
/// Class/id words that mark an author box that is not a byline (biographies, avatars).
const NOT_BYLINE_CLASS_WORDS: &[&str] = &[
    "bio",
    "avatar",
    "image",
    "img",
    "photo",
    "picture",
    "description",
    "desc",
    "about",
    "social",
    "follow",
    "comment",
    "comments",
    "label",
];
/// "By"-like words that open a byline, lower case, in several languages.
pub const BY_WORDS: &[&str] = &[
    "by",
    "von",
    "par",
    "por",
    "di",
    "door",
    "da",
    "av",
    "af",
    "przez",
    "autor",
    "autorin",
    "auteur",
    "text",
    "texte",
    "written by",
    "story by",
    "words by",
];
/// Longest byline element text that is still read (longer boxes are biographies).
const MAX_BYLINE_CHARS: usize = 160;
/// Characters after the headline searched for a "By …" line.
const AFTER_HEADLINE_CHARS: usize = 2000;

/// Elements whose text is never part of a byline.
fn not_byline_text(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "noscript" | "template" | "svg" | "button" | "select"
    )
}

fn visible_text(dom: &Dom<'_>, from: usize, to: usize, max: usize) -> String {
    dom.visible_text(from, to, max, not_byline_text)
}

/// Text of byline-classed elements, nearest the headline first.
pub fn byline_elements(dom: &Dom<'_>) -> Vec<String> {
    let nodes = &dom.nodes;
    let h1 = nodes
        .iter()
        .position(|n| matches!(&n.kind, Kind::Element(e) if e.name == "h1"))
        .unwrap_or(0);
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < nodes.len() && found.len() < 20 {
        if let Kind::Element(e) = &nodes[i].kind
            && !e.class_id.is_empty()
            && !matches!(
                e.name,
                "script" | "style" | "meta" | "link" | "img" | "body" | "html"
            )
            && has_word(&e.class_id, BYLINE_CLASS_WORDS)
            && !has_word(&e.class_id, NOT_BYLINE_CLASS_WORDS)
        {
            let text = visible_text(dom, i, nodes[i].end, MAX_BYLINE_CHARS + 1);
            // A byline box often holds tools too ("Share", "Text size"): its "By …" line,
            // else its first line, names the people.
            let lines: Vec<&str> = text
                .split('\n')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let text = lines
                .iter()
                .find(|l| starts_with_by(l))
                .or(lines.first())
                .map(|l| (*l).to_owned())
                .unwrap_or_default();
            if !text.is_empty() && text.chars().count() <= MAX_BYLINE_CHARS {
                found.push((i.abs_diff(h1), text));
                i = nodes[i].end;
                continue;
            }
        }
        i += 1;
    }
    found.sort_by_key(|(d, _)| *d);
    found.into_iter().map(|(_, t)| t).take(1).collect()
}

/// A "By A and B" line right after the headline (or before it, in the page header).
pub fn byline_line(dom: &Dom<'_>) -> Option<String> {
    let h1 = dom
        .nodes
        .iter()
        .position(|n| matches!(&n.kind, Kind::Element(e) if e.name == "h1"))?;
    let text = visible_text(dom, h1, dom.nodes.len(), AFTER_HEADLINE_CHARS);
    text.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty() && l.chars().count() <= MAX_BYLINE_CHARS)
        .find(|l| starts_with_by(l))
        .map(str::to_owned)
}

fn starts_with_by(line: &str) -> bool {
    BY_WORDS.iter().any(|w| {
        let rest = line
            .get(..w.len())
            .filter(|head| head.eq_ignore_ascii_case(w))
            .and_then(|_| line.get(w.len()..));
        rest.is_some_and(|rest| {
            let rest_trim = rest.trim_start_matches([':', ' ', '\u{a0}']);
            (rest.starts_with([' ', ':', '\u{a0}']))
                && rest_trim
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_uppercase())
                // "By the way", "Von der Leyen": a name follows, not an article.
                && rest_trim.split_whitespace().count() >= 2
        })
    }) && line.split_whitespace().count() <= 14
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dom_of(html: &str) -> scraper::Html {
        scraper::Html::parse_document(html)
    }

    #[test]
    fn a_by_line_after_the_headline_is_found_in_several_languages() {
        for (line, expect) in [
            ("By Jane Doe and John Roe", true),
            ("Von Anna Schmidt und Max Müller", true),
            ("Par Marie Dupont et Jean Martin", true),
            ("Door Piet de Vries en Jan Jansen", true),
            ("By the way, this is not a byline", false),
        ] {
            let html =
                format!("<html><body><h1>Headline</h1><p>{line}</p><p>Body.</p></body></html>");
            let parsed = dom_of(&html);
            let dom = crate::dom::build(&parsed);
            assert_eq!(byline_line(&dom).is_some(), expect, "{line}");
        }
    }

    #[test]
    fn byline_elements_skip_biographies() {
        let html = "<html><body><h1>H</h1><div class=\"author-bio\">Jane Doe writes about \
            trains.</div><span class=\"byline\">By Jane Doe</span></body></html>";
        let parsed = dom_of(html);
        let dom = crate::dom::build(&parsed);
        assert_eq!(byline_elements(&dom), vec!["By Jane Doe".to_owned()]);
    }
}
