//! Finds the article body in a [`Dom`] and renders it as paragraphs.
//!
//! The algorithm is ours, in the Readability family, tuned for news pages:
//! 1. every block with enough text of its own is a paragraph; its score (length, commas)
//!    flows to its ancestors, decaying with distance;
//! 2. each ancestor's score is weighted by its tag and class words and damped by its link
//!    density; the best one is the article container, widened to its parent when the
//!    runners-up live beside it;
//! 3. the container is rendered block by block, dropping furniture subtrees, link lists,
//!    blocks that are mostly links, and short lines that are boilerplate phrases.
//!
//! When furniture rules leave too little text (some sites put the whole article in a box
//! whose class says "sidebar" or "promo"), the search is repeated without them.

use crate::dom::{Dom, Drop, Kind, Layout};
use crate::text::{content_chars, is_boilerplate_line, is_leading_furniture, push_collapsed};

/// The rendered body.
#[derive(Debug, Default)]
pub struct Body {
    /// Paragraphs separated by a blank line.
    pub text: String,
    /// Share of the container's text that sits inside links.
    pub link_density: f64,
    /// Furniture rules had to be relaxed to find text.
    pub relaxed: bool,
}

/// Per-element sums over the subtree, under one set of drop rules.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    chars: u32,
    link_chars: u32,
    /// Characters attributed to this element as the nearest block ancestor.
    own_chars: u32,
    own_commas: u32,
    score: f32,
    scored: bool,
}

fn dropped(drop: Drop, strict: bool) -> bool {
    match drop {
        Drop::No => false,
        Drop::Always => true,
        Drop::Furniture => strict,
    }
}

fn tag_weight(name: &str) -> f32 {
    match name {
        "article" => 10.0,
        "div" | "main" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

const POSITIVE_WORDS: &[&str] = &[
    "article", "body", "content", "entry", "main", "page", "post", "text", "blog", "story",
    "hentry", "prose",
];
const NEGATIVE_WORDS: &[&str] = &[
    "hidden",
    "banner",
    "combx",
    "comment",
    "com-",
    "contact",
    "foot",
    "footer",
    "footnote",
    "masthead",
    "media",
    "meta",
    "outbrain",
    "promo",
    "related",
    "scroll",
    "share",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "sponsor",
    "shopping",
    "tags",
    "tool",
    "widget",
    "teaser",
    "card",
    "list",
];

fn class_weight(class_id: &str) -> f32 {
    if class_id.is_empty() {
        return 0.0;
    }
    let mut weight = 0.0;
    if NEGATIVE_WORDS.iter().any(|w| class_id.contains(w)) {
        weight -= 25.0;
    }
    if POSITIVE_WORDS.iter().any(|w| class_id.contains(w)) {
        weight += 25.0;
    }
    weight
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Computes [`Stats`] for every node under the given strictness.
fn compute_stats(dom: &Dom<'_>, strict: bool) -> Vec<Stats> {
    let nodes = &dom.nodes;
    let mut stats = vec![Stats::default(); nodes.len()];
    // Nearest block ancestor and link state are tracked with a stack of (end, index).
    let mut blocks: Vec<(usize, usize)> = Vec::with_capacity(64);
    let mut link_end = 0usize;
    let mut i = 0;
    while i < nodes.len() {
        while blocks.last().is_some_and(|&(end, _)| end <= i) {
            blocks.pop();
        }
        let node = &nodes[i];
        match &node.kind {
            Kind::Element(el) => {
                if dropped(el.drop, strict) {
                    i = node.end;
                    continue;
                }
                if el.layout == Layout::Block {
                    blocks.push((node.end, i));
                }
                if el.is_link && link_end <= i {
                    link_end = node.end;
                }
            }
            Kind::Text(text) => {
                let chars = content_chars(text) as u32;
                if chars > 0 {
                    let commas = text
                        .chars()
                        .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
                        .count() as u32;
                    if let Some(&(_, block)) = blocks.last() {
                        stats[block].own_chars += chars;
                        stats[block].own_commas += commas;
                    }
                    let in_link = i < link_end;
                    // Add to every element ancestor.
                    let mut p = node.parent;
                    while p != usize::MAX {
                        stats[p].chars += chars;
                        if in_link {
                            stats[p].link_chars += chars;
                        }
                        p = nodes[p].parent;
                    }
                }
            }
        }
        i += 1;
    }
    stats
}

fn link_density(s: &Stats) -> f64 {
    if s.chars == 0 {
        0.0
    } else {
        f64::from(s.link_chars) / f64::from(s.chars)
    }
}

/// Scores paragraphs into their ancestors; returns the best container, if any.
fn choose_container(dom: &Dom<'_>, stats: &mut [Stats], strict: bool) -> Option<usize> {
    let nodes = &dom.nodes;
    let mut candidates: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let node = &nodes[i];
        if let Kind::Element(el) = &node.kind {
            if dropped(el.drop, strict) {
                i = node.end;
                continue;
            }
            let own = stats[i].own_chars;
            if el.layout == Layout::Block && own >= 25 && !is_heading(el.name) && el.name != "li" {
                let own_link = link_density(&stats[i]);
                let content_score =
                    (1.0 + stats[i].own_commas as f32 + (own as f32 / 100.0).min(3.0))
                        * (1.0 - own_link as f32);
                // A generic box holding its own prose (text straight in a <div>) is a
                // container candidate itself, not only its ancestors.
                let holds_prose = matches!(
                    el.name,
                    "div" | "section" | "article" | "main" | "td" | "font" | "center"
                );
                let (mut ancestor, mut level) = if holds_prose {
                    (i, 0)
                } else {
                    (node.parent, 0)
                };
                while ancestor != usize::MAX && level < 5 {
                    if let Kind::Element(anc) = &nodes[ancestor].kind {
                        if anc.name == "html" {
                            break;
                        }
                        if !stats[ancestor].scored {
                            stats[ancestor].scored = true;
                            stats[ancestor].score =
                                tag_weight(anc.name) + class_weight(&anc.class_id);
                            candidates.push(ancestor);
                        }
                        let divider = match level {
                            0 => 1.0,
                            1 => 2.0,
                            n => n as f32 * 3.0,
                        };
                        stats[ancestor].score += content_score / divider;
                    }
                    ancestor = nodes[ancestor].parent;
                    level += 1;
                }
            }
        }
        i += 1;
    }
    let final_score =
        |idx: usize, stats: &[Stats]| stats[idx].score * (1.0 - link_density(&stats[idx]) as f32);
    let mut ranked: Vec<(f32, usize)> = candidates
        .iter()
        .map(|&c| (final_score(c, stats), c))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let &(top_score, mut top) = ranked.first()?;
    // When several strong candidates share an ancestor, the article was split in parts:
    // take the nearest ancestor holding at least three of them.
    let strong: Vec<usize> = ranked
        .iter()
        .skip(1)
        .take(5)
        .filter(|(s, _)| *s >= top_score * 0.75)
        .map(|&(_, c)| c)
        .collect();
    if strong.len() >= 3 {
        let mut ancestor = nodes[top].parent;
        while ancestor != usize::MAX {
            if matches!(&nodes[ancestor].kind, Kind::Element(e) if e.name == "body" || e.name == "html")
            {
                break;
            }
            let holds = strong
                .iter()
                .filter(|&&c| c > ancestor && c < nodes[ancestor].end)
                .count();
            if holds >= 3 {
                top = ancestor;
                break;
            }
            ancestor = nodes[ancestor].parent;
        }
    }
    // A container that is its parent's only real content: the parent is the container.
    loop {
        let parent = nodes[top].parent;
        if parent == usize::MAX {
            break;
        }
        if matches!(&nodes[parent].kind, Kind::Element(e) if e.name == "body" || e.name == "html") {
            break;
        }
        if stats[parent].chars > 0 && stats[top].chars >= stats[parent].chars {
            top = parent;
        } else {
            break;
        }
    }
    Some(top)
}

/// Indices of the container's siblings that belong to the article too.
fn article_parts(dom: &Dom<'_>, stats: &[Stats], top: usize, strict: bool) -> Vec<usize> {
    let nodes = &dom.nodes;
    let parent = nodes[top].parent;
    if parent == usize::MAX {
        return vec![top];
    }
    let top_score = stats[top].score * (1.0 - link_density(&stats[top]) as f32);
    let threshold = (top_score * 0.45).max(10.0);
    let top_class = match &nodes[top].kind {
        Kind::Element(e) => e.class_id.as_str(),
        Kind::Text(_) => "",
    };
    let mut parts = Vec::new();
    let mut i = parent + 1;
    while i < nodes[parent].end {
        let node = &nodes[i];
        if i == top {
            parts.push(i);
        } else if let Kind::Element(el) = &node.kind
            && !dropped(el.drop, strict)
        {
            let s = &stats[i];
            let mut score = if s.scored {
                s.score * (1.0 - link_density(s) as f32)
            } else {
                0.0
            };
            if !top_class.is_empty() && el.class_id == top_class {
                score += top_score * 0.2;
            }
            let density = link_density(s);
            let keep = score >= threshold
                || (el.name == "p" && s.own_chars > 80 && density < 0.25)
                || (el.name == "p" && s.own_chars > 0 && density == 0.0 && ends_sentence(dom, i));
            if keep {
                parts.push(i);
            }
        }
        i = node.end;
    }
    parts
}

/// Long articles are often cut into sections of one repeated class, with figures and pull
/// quotes between them; the container found is then one section. Looks a few levels up for
/// an ancestor whose siblings repeat its class and hold prose, and returns them all.
fn repeated_sections(
    dom: &Dom<'_>,
    stats: &[Stats],
    top: usize,
    strict: bool,
) -> Option<Vec<usize>> {
    let nodes = &dom.nodes;
    let mut level_node = top;
    for _ in 0..4 {
        let Kind::Element(el) = &nodes[level_node].kind else {
            return None;
        };
        if matches!(el.name, "body" | "html") {
            return None;
        }
        let parent = nodes[level_node].parent;
        if parent == usize::MAX {
            return None;
        }
        if !el.class_id.is_empty() {
            let mut same = Vec::new();
            let mut i = parent + 1;
            while i < nodes[parent].end {
                if let Kind::Element(sib) = &nodes[i].kind
                    && sib.name == el.name
                    && sib.class_id == el.class_id
                    && !dropped(sib.drop, strict)
                {
                    same.push(i);
                }
                i = nodes[i].end;
            }
            let prose = |&i: &usize| stats[i].chars >= 200 && link_density(&stats[i]) < 0.3;
            if same.len() >= 2 && same.iter().filter(|i| prose(i)).count() >= 2 {
                return Some(same.into_iter().filter(|i| prose(i)).collect());
            }
        }
        level_node = parent;
    }
    None
}

fn ends_sentence(dom: &Dom<'_>, idx: usize) -> bool {
    let node = &dom.nodes[idx];
    dom.nodes[idx + 1..node.end]
        .iter()
        .rev()
        .find_map(|n| match n.kind {
            Kind::Text(t) if !t.trim().is_empty() => {
                Some(t.trim_end().ends_with(['.', '!', '?', '"', '”', '。']))
            }
            _ => None,
        })
        == Some(true)
}

/// Whether a subtree inside the article is a link list or a furniture box by its numbers.
fn is_link_block(name: &str, s: &Stats) -> bool {
    let density = link_density(s);
    match name {
        "ul" | "ol" | "dl" | "table" | "div" | "section" | "form" | "li" => {
            s.chars > 0 && density > 0.5 && s.chars < 2000
        }
        "p" => s.chars > 0 && density > 0.8 && s.chars < 300,
        _ => false,
    }
}

/// Whether a subtree holds most of the container's text outside links: then it is the
/// article itself (a short article followed by a long list of related links), not a link
/// box inside it.
fn holds_most_prose(s: &Stats, root: &Stats) -> bool {
    let plain = |s: &Stats| s.chars.saturating_sub(s.link_chars);
    plain(s) * 2 > plain(root)
}

struct Renderer<'s> {
    out: String,
    line: String,
    line_link_chars: usize,
    max_bytes: usize,
    stats: &'s [Stats],
}

impl Renderer<'_> {
    fn flush(&mut self) {
        let line = self.line.trim();
        if !line.is_empty() {
            let chars = content_chars(line);
            let mostly_links = chars > 0 && self.line_link_chars * 10 > chars * 7 && chars < 200;
            let leading = self.out.is_empty() && is_leading_furniture(line);
            if !mostly_links
                && !leading
                && !is_boilerplate_line(line)
                && self.out.len() < self.max_bytes
            {
                if !self.out.is_empty() {
                    self.out.push_str("\n\n");
                }
                let mut room = self
                    .max_bytes
                    .saturating_sub(self.out.len())
                    .min(line.len());
                while !line.is_char_boundary(room) {
                    room -= 1;
                }
                self.out.push_str(&line[..room]);
            }
        }
        self.line.clear();
        self.line_link_chars = 0;
    }
}

fn render(
    dom: &Dom<'_>,
    stats: &[Stats],
    roots: &[usize],
    strict: bool,
    max_bytes: usize,
) -> String {
    let nodes = &dom.nodes;
    let mut r = Renderer {
        out: String::new(),
        line: String::new(),
        line_link_chars: 0,
        max_bytes,
        stats,
    };
    for &root in roots {
        let mut block_ends: Vec<usize> = Vec::new();
        let mut link_end = 0usize;
        let mut i = root;
        let end = nodes[root].end;
        while i < end {
            while block_ends.last().is_some_and(|&e| e <= i) {
                block_ends.pop();
                r.flush();
            }
            let node = &nodes[i];
            match &node.kind {
                Kind::Element(el) => {
                    // The headline is metadata, not body text.
                    if dropped(el.drop, strict)
                        || el.name == "h1"
                        || (i != root
                            && is_link_block(el.name, &r.stats[i])
                            && !holds_most_prose(&r.stats[i], &r.stats[root]))
                    {
                        i = node.end;
                        continue;
                    }
                    match el.layout {
                        Layout::Break => r.flush(),
                        Layout::Block => {
                            r.flush();
                            block_ends.push(node.end);
                        }
                        Layout::Inline => {}
                    }
                    if el.is_link && link_end <= i {
                        link_end = node.end;
                    }
                }
                Kind::Text(text) => {
                    push_collapsed(&mut r.line, text);
                    if i < link_end {
                        r.line_link_chars += content_chars(text);
                    }
                }
            }
            i += 1;
        }
        while block_ends.pop().is_some() {
            r.flush();
        }
        r.flush();
    }
    r.out
}

/// Finds and renders the article body. `max_bytes` bounds the text returned.
pub fn extract_body(dom: &Dom<'_>, max_bytes: usize) -> Body {
    let mut best = Body::default();
    for strict in [true, false] {
        let mut stats = compute_stats(dom, strict);
        let Some(mut top) = choose_container(dom, &mut stats, strict) else {
            continue;
        };
        // Microdata that names the article body is trusted when it holds real prose and
        // the scoring did not find a container inside it already.
        if let Some(&marked) = dom
            .marked_bodies
            .iter()
            .filter(|&&m| stats[m].chars >= 400 && link_density(&stats[m]) < 0.4)
            .max_by_key(|&&m| stats[m].chars)
            && !(top > marked
                && top < dom.nodes[marked].end
                && stats[top].chars as f64 >= stats[marked].chars as f64 * 0.9)
        {
            top = marked;
        }
        let parts = repeated_sections(dom, &stats, top, strict)
            .unwrap_or_else(|| article_parts(dom, &stats, top, strict));
        let text = render(dom, &stats, &parts, strict, max_bytes);
        let enough = content_chars(&text) >= 250;
        if text.len() > best.text.len() {
            best = Body {
                text,
                link_density: link_density(&stats[top]),
                relaxed: !strict,
            };
        }
        if enough {
            break;
        }
    }
    best
}

/// Renders a whole document (no container search): used for feed content and HTML left in
/// JSON-LD bodies.
pub fn render_all(dom: &Dom<'_>, max_bytes: usize) -> String {
    let stats = compute_stats(dom, false);
    let roots: Vec<usize> = (0..dom.nodes.len())
        .filter(|&i| dom.nodes[i].parent == usize::MAX)
        .collect();
    render(dom, &stats, &roots, false, max_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(html: &str) -> String {
        let parsed = scraper::Html::parse_document(html);
        let dom = crate::dom::build(&parsed);
        extract_body(&dom, 1 << 20).text
    }

    const PROSE: &str = "<p>The harbour board met on Monday to discuss the new ferry timetable, \
        which residents have criticised for weeks, and agreed to review it in spring.</p>\
        <p>Several members said the earlier departures suited commuters, while others argued \
        that families on the islands had lost their only evening connection to the town.</p>\
        <p>A final decision is expected after a public consultation, the chair said, adding \
        that the board would publish every submission it received on its website.</p>";

    #[test]
    fn text_in_a_box_above_the_body_is_left_out() {
        let html = format!(
            "<html><body><div class=\"box\"><p>Elsewhere on this site: a long story about the \
             bakery that reopened after the flood last winter.</p></div>\
             <div class=\"story-body\">{PROSE}</div></body></html>"
        );
        let text = body_of(&html);
        assert!(!text.contains("bakery"), "{text}");
        assert!(
            text.starts_with("The harbour board met on Monday"),
            "{text}"
        );
    }

    #[test]
    fn short_article_followed_by_many_related_links_is_kept() {
        let links: String = (0..10)
            .map(|n| {
                format!(
                    "<b><a href=\"/r{n}\">Another story about the harbour board and its \
                     ferry timetable, part {n}</a></b><br>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><div class=\"wrap\"><div class=\"entry\"><p>The harbour board met \
             on Monday to discuss the new ferry timetable, which residents have criticised \
             for weeks.<br><br>It agreed to review it in spring, the chair said, adding that \
             every submission would be published.<br><br></p><p>{links}</p></div></div>\
             </body></html>"
        );
        let text = body_of(&html);
        assert!(text.contains("The harbour board met on Monday"), "{text}");
    }

    #[test]
    fn date_line_opening_the_body_is_dropped() {
        let html = format!(
            "<html><body><div class=\"story-body\"><p>Updated 14 March 2031, 09:12</p>{PROSE}\
             </div></body></html>"
        );
        let text = body_of(&html);
        assert!(
            text.starts_with("The harbour board met on Monday"),
            "{text}"
        );
    }

    #[test]
    fn advertising_label_in_another_language_is_dropped() {
        let html = format!(
            "<html><body><div class=\"story-body\"><p>Anzeige</p>{PROSE}<p>Werbung</p>\
             <p>Lesen Sie auch:</p></div></body></html>"
        );
        let text = body_of(&html);
        assert!(
            !text.contains("Anzeige") && !text.contains("Werbung"),
            "{text}"
        );
        assert!(!text.contains("Lesen Sie auch"), "{text}");
    }
}
