//! OPML import: the feeds of an outline file, nested outlines included.
//!
//! Feed readers export subscriptions as OPML with folders as nested outlines; the folder
//! names are kept as categories so that the binary can turn them into tags.

use quick_xml::events::{BytesStart, Event};

use crate::FetchError;

/// One feed listed in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// The `xmlUrl` as written (absolute URL, or a path the caller resolves).
    pub url: String,
    /// `title`, else `text`.
    pub title: Option<String>,
    /// `htmlUrl`: the site.
    pub html_url: Option<String>,
    /// Titles of the enclosing outlines, outermost first.
    pub categories: Vec<String>,
}

/// Parses OPML text. `source` names the file in errors.
pub fn parse_opml(text: &str, source: &str) -> Result<Vec<OpmlFeed>, FetchError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut feeds: Vec<OpmlFeed> = Vec::new();
    // One entry per open outline: the folder title, or None for a feed outline.
    let mut open: Vec<Option<String>> = Vec::new();
    let mut saw_opml = false;
    loop {
        let event = reader.read_event().map_err(|e| FetchError::Parse {
            url: source.to_string(),
            message: format!("malformed OPML at byte {}: {e}", reader.buffer_position()),
        })?;
        match event {
            Event::Start(element) | Event::Empty(element)
                if element.local_name().as_ref().eq_ignore_ascii_case("opml") =>
            {
                saw_opml = true;
                let _ = element;
            }
            Event::Start(element) if is_outline(&element) => {
                let outline = read_outline(&element);
                let folder = match outline.url {
                    Some(url) => {
                        push_feed(&mut feeds, url, outline.title, outline.html_url, &open);
                        None
                    }
                    None => outline.title,
                };
                open.push(folder);
            }
            Event::Empty(element) if is_outline(&element) => {
                let outline = read_outline(&element);
                if let Some(url) = outline.url {
                    push_feed(&mut feeds, url, outline.title, outline.html_url, &open);
                }
            }
            Event::End(element)
                if element
                    .local_name()
                    .as_ref()
                    .eq_ignore_ascii_case("outline") =>
            {
                open.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_opml {
        return Err(FetchError::Parse {
            url: source.to_string(),
            message: "not an OPML file (no <opml> element)".into(),
        });
    }
    Ok(feeds)
}

struct Outline {
    url: Option<String>,
    title: Option<String>,
    html_url: Option<String>,
}

fn is_outline(element: &BytesStart) -> bool {
    element
        .local_name()
        .as_ref()
        .eq_ignore_ascii_case("outline")
}

fn read_outline(element: &BytesStart) -> Outline {
    let mut outline = Outline {
        url: None,
        title: None,
        html_url: None,
    };
    let mut text = None;
    for attribute in element.attributes().flatten() {
        let value = crate::feed_scan::attribute_text(&attribute)
            .trim()
            .to_string();
        if value.is_empty() {
            continue;
        }
        match attribute.key.as_ref().to_ascii_lowercase().as_str() {
            "xmlurl" => outline.url = Some(value),
            "title" => outline.title = Some(value),
            "text" => text = Some(value),
            "htmlurl" => outline.html_url = Some(value),
            _ => {}
        }
    }
    if outline.title.is_none() {
        outline.title = text;
    }
    outline
}

fn push_feed(
    feeds: &mut Vec<OpmlFeed>,
    url: String,
    title: Option<String>,
    html_url: Option<String>,
    open: &[Option<String>],
) {
    if feeds.iter().any(|f| f.url == url) {
        return;
    }
    feeds.push(OpmlFeed {
        url,
        title,
        html_url,
        categories: open.iter().flatten().cloned().collect(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_outlines_keep_their_folders() {
        let text = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>Subs</title></head><body>
  <outline text="News">
    <outline text="Europe" title="Europe">
      <outline type="rss" text="DW" xmlUrl="https://rss.dw.com/rdf/rss-en-all" htmlUrl="https://www.dw.com"/>
    </outline>
    <outline type="rss" text="BBC &amp; Co" xmlurl="https://feeds.bbci.co.uk/news/rss.xml"></outline>
  </outline>
  <outline text="Top" xmlUrl="https://top.example/feed"/>
  <outline text="Duplicate" xmlUrl="https://top.example/feed"/>
  <outline text="Empty folder"/>
</body></opml>"#;
        let feeds = parse_opml(text, "feeds.opml").unwrap();
        assert_eq!(feeds.len(), 3);
        assert_eq!(feeds[0].url, "https://rss.dw.com/rdf/rss-en-all");
        assert_eq!(feeds[0].categories, ["News", "Europe"]);
        assert_eq!(feeds[0].html_url.as_deref(), Some("https://www.dw.com"));
        assert_eq!(feeds[1].title.as_deref(), Some("BBC & Co"));
        assert_eq!(feeds[1].categories, ["News"]);
        assert!(feeds[2].categories.is_empty());
    }

    #[test]
    fn broken_opml_names_the_file() {
        let error = parse_opml("<opml><body><outline text=\"x", "subs.opml").unwrap_err();
        assert!(error.to_string().starts_with("subs.opml:"), "{error}");
        let error = parse_opml("<rss/>", "subs.opml").unwrap_err();
        assert!(error.to_string().contains("not an OPML"), "{error}");
    }
}
