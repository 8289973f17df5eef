//! Feeds built to make the parser slow or large: each about 1 MB (a tenth of the default
//! `fetch.max_body_bytes`), each a shape that once cost time or memory quadratic in its
//! size. Every case must parse, or fail naming the URL, well inside a generous wall-clock
//! bound; the bound only catches the quadratic shapes (minutes at this size), it is not a
//! speed target. The time each case took is printed (`--nocapture`) for the record.

use std::time::{Duration, Instant};

use super::*;

/// Far above what a linear parse of 1 MB needs in a debug build on a loaded machine, far
/// below what the quadratic versions needed (the script-tag case took 157 s).
const GENEROUS: Duration = Duration::from_secs(20);

/// Size each hostile document grows to.
const TARGET_BYTES: usize = 1 << 20;

fn base() -> Url {
    Url::parse("https://hostile.example/feed.xml").unwrap()
}

/// Runs `parse_feed` on `document`, prints how long it took, and checks the bound.
fn timed_parse(case: &str, document: &str) -> Result<ParsedFeed, FetchError> {
    let started = Instant::now();
    let result = parse_feed(document.as_bytes(), None, &base());
    let elapsed = started.elapsed();
    eprintln!("{case}: {} KB parsed in {elapsed:?}", document.len() / 1024);
    assert!(
        elapsed < GENEROUS,
        "{case}: {elapsed:?} for {} bytes",
        document.len()
    );
    if let Err(error) = &result {
        assert!(error.to_string().starts_with(base().as_str()), "{error}");
    }
    result
}

/// Repeats `unit` (numbered with `{n}`) until the result holds about [`TARGET_BYTES`].
fn repeat_numbered(unit: &str) -> String {
    let mut out = String::with_capacity(TARGET_BYTES + unit.len() * 2);
    let mut n = 0;
    while out.len() < TARGET_BYTES {
        out.push_str(&unit.replace("{n}", &n.to_string()));
        n += 1;
    }
    out
}

fn rss(items: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Hostile</title><link>https://hostile.example/</link>{items}</channel></rss>"#
    )
}

const SCRIPTS: &str = "<script>var a = '<p>';</script><STYLE>p { x: 1 }</STYLE><noscript>no</noscript><Script type=x>1</sCrIpT >";

#[test]
fn one_summary_full_of_script_tags() {
    let summary = format!("Visible{}", repeat_numbered(SCRIPTS));
    let document = rss(&format!(
        "<item><title>One</title><link>/1</link><description><![CDATA[{summary}<p>End</p>]]></description></item>"
    ));
    let feed = timed_parse("one summary of script tags", &document).unwrap();
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].summary.as_deref(), Some("Visible\nEnd"));
}

#[test]
fn many_entries_with_script_tags_in_summary_and_content() {
    let scripts = SCRIPTS.repeat(20);
    let document = rss(&repeat_numbered(&format!(
        "<item><title>T{{n}}<![CDATA[{scripts}]]></title><link>/{{n}}</link><description><![CDATA[{scripts}Text {{n}}]]></description><content:encoded><![CDATA[{scripts}<p>Body {{n}}</p>]]></content:encoded></item>"
    )));
    let feed = timed_parse("entries with script tags", &document).unwrap();
    assert!(feed.entries.len() > 100, "{}", feed.entries.len());
    let last = feed.entries.len() - 1;
    assert_eq!(feed.entries[last].title, Some(format!("T{last}")));
    assert_eq!(feed.entries[last].summary, Some(format!("Text {last}")));
    assert!(
        feed.entries[last]
            .content
            .as_deref()
            .is_some_and(|c| c.ends_with(&format!("<p>Body {last}</p>"))),
        "content stays HTML"
    );
}

#[test]
fn script_tags_that_never_close() {
    let document = rss(&format!(
        "<item><title>Open</title><link>/1</link><description><![CDATA[Before{}]]></description></item>",
        repeat_numbered("<script>x{n} <style>y ")
    ));
    let feed = timed_parse("unclosed script tags", &document).unwrap();
    assert_eq!(feed.entries[0].summary.as_deref(), Some("Before"));
}

#[test]
fn rss_10_items_that_never_close() {
    let document = format!(
        r#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="/"><title>Open items</title></channel>{}</rdf:RDF>"#,
        repeat_numbered(r#"<item rdf:about="/story/{n}"><title>S{n}</title>"#)
    );
    // Broken beyond repair: the point is that the repair pass ends quickly.
    let _ = timed_parse("RSS 1.0 items never closed", &document);
}

#[test]
fn rss_10_items_without_links_at_scale() {
    let document = format!(
        r#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="/"><title>No links</title></channel>{}</rdf:RDF>"#,
        repeat_numbered(r#"<item rdf:about="/story/{n}"><title>S{n}</title></item>"#)
    );
    let feed = timed_parse("RSS 1.0 items without links", &document).unwrap();
    assert!(feed.entries.len() > 10_000, "{}", feed.entries.len());
    assert_eq!(
        feed.entries[7].link.as_ref().map(Url::as_str),
        Some("https://hostile.example/story/7")
    );
}

#[test]
fn thousands_of_authors_and_categories_on_one_entry() {
    let people = repeat_numbered(
        "<dc:creator>Writer {n}</dc:creator><category>Topic {n}</category><dc:creator>Writer 0</dc:creator>",
    );
    let document = rss(&format!(
        "<item><title>Crowd</title><link>/1</link>{people}</item>"
    ));
    let feed = timed_parse("authors and categories", &document).unwrap();
    let entry = &feed.entries[0];
    assert!(
        entry.categories.len() > 10_000,
        "{}",
        entry.categories.len()
    );
    assert!(entry.authors.len() > 10_000, "{}", entry.authors.len());
    let distinct: std::collections::HashSet<&String> = entry.authors.iter().collect();
    assert_eq!(distinct.len(), entry.authors.len(), "duplicates dropped");
    assert_eq!(entry.authors[0], "Writer 0");
}

#[test]
fn declared_entity_referenced_many_times_does_not_blow_up() {
    let value = "laugh ".repeat(10_000);
    let references = "&lol;".repeat(TARGET_BYTES / 5);
    // The bare '&' in the channel title fails the first parse, which sends the document
    // through the repair pass that expands declared entities.
    let document = format!(
        r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "{value}">]><rss version="2.0"><channel><title>Laughs & co</title><item><title>&lol;</title><link>/1</link><description>{references}</description></item></channel></rss>"#
    );
    let result = timed_parse("declared entity expansion", &document);
    if let Ok(feed) = result {
        let summary = feed.entries[0].summary.as_deref().unwrap_or("");
        // Unbounded, this would be 12 GB; the budget is about the document's own size.
        assert!(
            summary.len() <= 3 * document.len(),
            "{} bytes",
            summary.len()
        );
        // An entity used once still expands.
        assert!(
            feed.entries[0]
                .title
                .as_deref()
                .is_some_and(|t| t.starts_with("laugh laugh")),
            "{:?}",
            feed.entries[0]
                .title
                .as_deref()
                .map(|t| &t[..t.len().min(40)])
        );
    }
}
