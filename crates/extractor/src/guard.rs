//! Cheap byte-level pre-pass run before any DOM is built.
//!
//! html5ever is super-linear on deeply nested markup (20,000 nested `<div>` take seconds,
//! 100,000 take minutes) and a huge page costs memory proportional to its size, so the
//! input is measured first with a single linear scan and, when it is hostile, made harmless:
//! truncated to [`Limits::max_input_bytes`], or flattened (nesting tags dropped) when its
//! estimated depth passes [`Limits::max_depth`]. Binary garbage is refused outright.

use std::borrow::Cow;

/// Bounds applied to one page before and after parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Input longer than this is cut (at a character boundary) before parsing.
    pub max_input_bytes: usize,
    /// Estimated element depth above which nesting tags are removed before parsing.
    pub max_depth: usize,
    /// Longest article text returned; longer text is cut at a paragraph boundary.
    pub max_text_bytes: usize,
    /// Most start tags parsed; the input is cut before the first tag past it. The DOM
    /// costs ~400 bytes per element, so the byte limit alone lets a page of tiny elements
    /// take hundreds of MiB.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // The benchmark's largest page is 1.5 MB; real article pages rarely pass 3 MB.
            max_input_bytes: 6 * 1024 * 1024,
            // Real news pages nest 20–60 deep; html5ever stays linear far beyond that.
            max_depth: 400,
            max_text_bytes: 512 * 1024,
            // The largest page of both corpora (a Wikipedia article) has ~13,000 start
            // tags; 100,000 elements cost ~40 MiB of DOM.
            max_elements: 100_000,
        }
    }
}

/// What the pre-pass decided about the input.
#[derive(Debug)]
pub struct Guarded<'a> {
    /// The HTML to parse (borrowed when nothing had to change).
    pub html: Cow<'a, str>,
    /// Short stable phrases describing what was done to the input.
    pub warnings: Vec<String>,
    /// The input is not text at all: do not parse it.
    pub refused: bool,
}

/// Tags whose end tag is optional or that never nest, so they must not count as depth.
fn is_non_nesting(name: &[u8]) -> bool {
    matches!(
        name,
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
            | b"p"
            | b"li"
            | b"dt"
            | b"dd"
            | b"option"
            | b"tr"
            | b"td"
            | b"th"
            | b"!doctype"
    )
}

/// Raw-text elements: their content is not markup and must be skipped by the scanner.
fn raw_text_end(name: &[u8]) -> Option<&'static [u8]> {
    match name {
        b"script" => Some(b"</script"),
        b"style" => Some(b"</style"),
        b"textarea" => Some(b"</textarea"),
        b"title" => Some(b"</title"),
        _ => None,
    }
}

/// Finds `needle` (ASCII, lowercase, starting with a non-letter such as `<` or `-`) in
/// `hay` ignoring ASCII case.
fn find_ascii_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(pos) = memchr::memchr(first, &hay[from..]) {
        let at = from + pos;
        if hay.len() - at >= needle.len() && hay[at..at + needle.len()].eq_ignore_ascii_case(needle)
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Reads a tag name starting at `at` (just after `<` or `</`), lowercased into `buf`.
fn tag_name<'b>(bytes: &[u8], at: usize, buf: &'b mut [u8; 16]) -> &'b [u8] {
    let mut len = 0;
    for &b in bytes.iter().skip(at) {
        if b.is_ascii_alphanumeric() || b == b'!' || b == b'-' {
            if len < buf.len() {
                buf[len] = b.to_ascii_lowercase();
            }
            len += 1;
        } else {
            break;
        }
    }
    &buf[..len.min(buf.len())]
}

/// Estimated maximum element depth of `html`: open tags minus close tags, ignoring void and
/// auto-closing elements, comments and raw-text content. Linear, allocation-free.
pub fn estimate_depth(html: &str) -> usize {
    scan(html, usize::MAX).max_depth
}

/// What one linear scan of the markup measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scan {
    /// See [`estimate_depth`].
    max_depth: usize,
    /// Byte offset of the first start tag past the element cap, if any.
    element_cap_at: Option<usize>,
}

/// Measures depth and counts start tags (stopping at the `max_elements + 1`-th).
fn scan(html: &str, max_elements: usize) -> Scan {
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    let mut max_depth = 0;
    let mut elements: usize = 0;
    let mut i = 0;
    let mut buf = [0u8; 16];
    while let Some(pos) = memchr::memchr(b'<', &bytes[i..]) {
        let tag_start = i + pos;
        i += pos + 1;
        let Some(&next) = bytes.get(i) else { break };
        if next == b'!' && bytes[i..].starts_with(b"!--") {
            match find_ascii_ci(&bytes[i..], b"-->") {
                Some(end) => i += end + 3,
                None => break,
            }
            continue;
        }
        let closing = next == b'/';
        let name_at = if closing { i + 1 } else { i };
        if !bytes.get(name_at).is_some_and(|b| b.is_ascii_alphabetic()) {
            continue;
        }
        let name = tag_name(bytes, name_at, &mut buf);
        if closing {
            if !is_non_nesting(name) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        elements += 1;
        if elements > max_elements {
            return Scan {
                max_depth,
                element_cap_at: Some(tag_start),
            };
        }
        if let Some(end_tag) = raw_text_end(name) {
            match find_ascii_ci(&bytes[i..], end_tag) {
                Some(end) => i += end + end_tag.len(),
                None => break,
            }
            continue;
        }
        // A self-closing `<x/>` does not nest.
        let tag_end = memchr::memchr(b'>', &bytes[i..]).map(|p| i + p);
        let self_closing = tag_end.is_some_and(|e| e > 0 && bytes[e - 1] == b'/');
        if !is_non_nesting(name) && !self_closing {
            depth += 1;
            max_depth = max_depth.max(depth);
        }
    }
    Scan {
        max_depth,
        element_cap_at: None,
    }
}

/// Keeps only the markup that cannot nest deeply (paragraph-level structure and the head),
/// turning every other tag into a line break. Used only on pages whose depth is hostile;
/// text survives, structure is lost.
fn flatten(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    let mut i = 0;
    let mut buf = [0u8; 16];
    while let Some(pos) = memchr::memchr(b'<', &bytes[i..]) {
        let start = i + pos;
        i = start + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let name_at = if closing { i + 1 } else { i };
        if !bytes.get(name_at).is_some_and(|b| b.is_ascii_alphabetic()) {
            continue;
        }
        let name = tag_name(bytes, name_at, &mut buf).to_vec();
        let Some(end) = bytes[i..]
            .iter()
            .position(|&b| b == b'>')
            .map(|p| i + p + 1)
        else {
            break;
        };
        let keep = matches!(
            name.as_slice(),
            b"html"
                | b"head"
                | b"body"
                | b"title"
                | b"meta"
                | b"link"
                | b"script"
                | b"style"
                | b"p"
                | b"h1"
                | b"h2"
                | b"h3"
                | b"h4"
                | b"h5"
                | b"h6"
                | b"br"
        );
        if !keep {
            out.push_str(&html[copied..start]);
            if !closing && !is_inline_name(&name) {
                out.push_str("<br>");
            }
            copied = end;
        }
        if !closing && let Some(end_tag) = raw_text_end(&name) {
            match find_ascii_ci(&bytes[end..], end_tag) {
                Some(raw_end) => i = end + raw_end,
                None => break,
            }
            continue;
        }
        i = end;
    }
    out.push_str(&html[copied..]);
    out
}

fn is_inline_name(name: &[u8]) -> bool {
    matches!(
        name,
        b"a" | b"b"
            | b"i"
            | b"em"
            | b"strong"
            | b"span"
            | b"small"
            | b"sup"
            | b"sub"
            | b"u"
            | b"font"
            | b"abbr"
    )
}

/// Share of characters in a prefix of `html` that cannot occur in text (controls, U+FFFD).
fn garbage_ratio(html: &str) -> f64 {
    let mut total = 0usize;
    let mut bad = 0usize;
    for c in html.chars().take(8 * 1024) {
        total += 1;
        if c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')) {
            bad += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        bad as f64 / total as f64
    }
}

/// Runs the pre-pass on `html` under `limits`.
pub fn guard<'a>(html: &'a str, limits: &Limits) -> Guarded<'a> {
    let mut warnings = Vec::new();
    if garbage_ratio(html) > 0.05 {
        warnings.push("input is not text (binary or wrongly decoded)".to_owned());
        return Guarded {
            html: Cow::Borrowed(""),
            warnings,
            refused: true,
        };
    }
    let mut html: Cow<'a, str> = Cow::Borrowed(html);
    if html.len() > limits.max_input_bytes {
        let mut cut = limits.max_input_bytes;
        while !html.is_char_boundary(cut) {
            cut -= 1;
        }
        warnings.push(format!("input truncated to {} bytes", cut));
        html = match html {
            Cow::Borrowed(s) => Cow::Borrowed(&s[..cut]),
            Cow::Owned(s) => Cow::Owned(s[..cut].to_owned()),
        };
    }
    let measured = scan(&html, limits.max_elements);
    if let Some(cut) = measured.element_cap_at {
        warnings.push(format!(
            "input cut after {} elements at byte {cut}",
            limits.max_elements
        ));
        html = match html {
            Cow::Borrowed(s) => Cow::Borrowed(&s[..cut]),
            Cow::Owned(s) => Cow::Owned(s[..cut].to_owned()),
        };
    }
    let depth = measured.max_depth;
    if depth > limits.max_depth {
        warnings.push(format!("markup nested {depth} deep was flattened"));
        html = Cow::Owned(flatten(&html));
    }
    Guarded {
        html,
        warnings,
        refused: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_of_ordinary_markup_is_its_nesting() {
        let html =
            "<html><body><div><p>a<p>b<ul><li>x<li>y</ul></div><br><img src=x></body></html>";
        assert_eq!(estimate_depth(html), 4);
    }

    #[test]
    fn depth_ignores_script_content_and_comments() {
        let html = "<div><script>var s='<div><div><div>';</script><!-- <div><div> --></div>";
        assert_eq!(estimate_depth(html), 1);
    }

    #[test]
    fn deep_nesting_is_flattened_and_keeps_text() {
        let html = format!(
            "<body>{}deep text{}</body>",
            "<div>".repeat(5000),
            "</div>".repeat(5000)
        );
        let guarded = guard(&html, &Limits::default());
        assert!(guarded.warnings.iter().any(|w| w.contains("flattened")));
        assert!(estimate_depth(&guarded.html) < 10);
        assert!(guarded.html.contains("deep text"));
    }

    #[test]
    fn oversized_input_is_cut_on_a_char_boundary() {
        let html = "é".repeat(100);
        let limits = Limits {
            max_input_bytes: 51,
            ..Limits::default()
        };
        let guarded = guard(&html, &limits);
        assert_eq!(guarded.html.len(), 50);
        assert_eq!(guarded.warnings.len(), 1);
    }

    #[test]
    fn too_many_elements_are_cut_before_the_first_one_past_the_cap() {
        let html = format!("<body>{}</body>", "<p>ab".repeat(50));
        let limits = Limits {
            max_elements: 11,
            ..Limits::default()
        };
        let guarded = guard(&html, &limits);
        // `<body>` and ten `<p>`: the eleventh `<p>` is where the cut falls.
        assert_eq!(guarded.html, format!("<body>{}", "<p>ab".repeat(10)));
        assert!(
            guarded.warnings.iter().any(|w| w.contains("11 elements")),
            "{:?}",
            guarded.warnings
        );
        let ordinary = guard(&html, &Limits::default());
        assert!(ordinary.warnings.is_empty());
        assert_eq!(ordinary.html, html);
    }

    #[test]
    fn binary_is_refused() {
        let garbage: String = (0u8..=255).cycle().take(4000).map(char::from).collect();
        assert!(guard(&garbage, &Limits::default()).refused);
    }
}
