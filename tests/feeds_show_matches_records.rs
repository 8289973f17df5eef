//! The pipeline uses the very values `newswire feeds show` prints (issue 10, must-have 2):
//! one feed, read by `feeds show` from a file and polled by `run --once --output -` from a
//! local server, gives per entry the same title, authors, publication date, categories
//! (the record's tags), guid and summary.
//!
//! The entries link to PDFs, which are never downloaded as pages, so every record is built
//! from its feed entry alone and nothing but the feed layer decides these values.

mod common;

use common::{FixtureServer, Resource, run_newswire, write_config};
use serde_json::Value;

/// Values that each need the normalisation step: entities, Dublin Core fallbacks,
/// `email (Name)` authors, offsets converted to UTC, relative links, categories from
/// several elements.
const FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">
<channel><title>Harbour &amp; Town</title><link>/</link><description>Local news</description>
<item><title>Ferry fares rise &#8211; again</title><link>/files/fares.pdf</link><guid isPermaLink="false">ht-1</guid>
<pubDate>Tue, 05 Mar 2024 16:00:00 +0200</pubDate><author>desk@harbour.example (Mara Lind)</author>
<category>Transport</category><category domain="x">Prices</category>
<description>Fares go up by &lt;b&gt;ten&lt;/b&gt; percent.</description></item>
<item><dc:title>Council votes on the pier</dc:title><link>/files/pier.pdf</link><guid isPermaLink="false">ht-2</guid>
<dc:creator>Jon Berg</dc:creator><dc:subject>Politics</dc:subject><dcterms:issued>2024-03-06T09:30:00-05:00</dcterms:issued>
<dc:description>The vote is on Thursday.</dc:description></item>
</channel></rss>"#;

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn feeds_show_and_the_records_carry_the_same_entry_values() {
    let server = FixtureServer::start();
    let (shown, records) = show_and_run(&server, "/rss.xml", FEED);
    let entries = &shown[1..];
    assert_eq!(entries.len(), 2, "{shown:#?}");
    assert_records_carry_the_entry_values(entries, &records);
    // And the values are the normalised ones, not the raw text.
    assert_eq!(entries[0]["title"], "Ferry fares rise \u{2013} again");
    assert_eq!(entries[0]["authors"], serde_json::json!(["Mara Lind"]));
    assert_eq!(entries[0]["published"], "2024-03-05T14:00:00Z");
    assert_eq!(entries[1]["title"], "Council votes on the pier");
    assert_eq!(entries[1]["authors"], serde_json::json!(["Jon Berg"]));
    assert_eq!(entries[1]["published"], "2024-03-06T14:30:00Z");
    assert_eq!(entries[1]["categories"], serde_json::json!(["Politics"]));
}

/// `feeds show` on `feed` as a file, and `run --once --output -` polling it from the
/// server at `path`: the lines each prints.
fn show_and_run(server: &FixtureServer, path: &str, feed: &str) -> (Vec<Value>, Vec<Value>) {
    server.put(path, Resource::ok("application/xml", feed));
    let feed_url = server.url(path);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed");
    std::fs::write(&file, feed).unwrap();
    let shown = run_newswire(
        &["feeds", "show", file.to_str().unwrap(), "--url", &feed_url],
        dir.path(),
    );
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let config = write_config(dir.path(), &format!("[[feed]]\nurl = \"{feed_url}\"\n"));
    let run = run_newswire(
        &[
            "run",
            "--once",
            "--config",
            config.to_str().unwrap(),
            "--output",
            "-",
        ],
        dir.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    (json_lines(&shown.stdout), json_lines(&run.stdout))
}

/// Each entry's record carries its title, authors, publication date, categories, summary
/// and image.
fn assert_records_carry_the_entry_values(entries: &[Value], records: &[Value]) {
    assert_eq!(records.len(), entries.len(), "{records:#?}");
    for entry in entries {
        let record = records
            .iter()
            .find(|r| r["guid"] == entry["id"])
            .unwrap_or_else(|| panic!("no record for {entry}: {records:#?}"));
        assert_eq!(record["title"], entry["title"], "{entry}");
        assert_eq!(record["authors"], entry["authors"], "{entry}");
        assert_eq!(record["published_at"], entry["published"], "{entry}");
        assert_eq!(record["tags"], entry["categories"], "{entry}");
        assert_eq!(record["summary"], entry["summary"], "{entry}");
        assert_eq!(record["image"], entry["image"], "{entry}");
    }
}

/// This stop's feed rules reach the records unchanged: an Atom entry without an author has
/// the feed's (one with a name and an address gives the name), a `type="text"` title keeps its
/// `<`, a windows-1252 reference is its character, an untyped `media:content` picture is
/// the image, and a JSON Feed's numeric id and item image are read.
#[test]
fn feeds_show_and_the_records_agree_on_atom_and_json_feed_rules() {
    const ATOM: &str = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
<title>Harbour Atom</title><author><name>Harbour Desk</name></author>
<entry><title type="text">Fares &lt;10% up &#150; again</title><id>urn:h:1</id>
<link href="/files/one.pdf"/><published>2024-03-05T16:00:00+02:00</published>
<summary>Fares rise.</summary><media:content url="https://img.example/one.jpg?w=140"/></entry>
<entry><title>Pier vote</title><id>urn:h:2</id><link href="/files/two.pdf"/>
<author><name>Jon Berg</name><email>jon@harbour.example</email></author>
<updated>2024-03-06T09:30:00Z</updated><summary>On Thursday.</summary></entry></feed>"#;
    const JSON: &str = r#"{"version":"https://jsonfeed.org/version/1.1","title":"Harbour JSON",
"items":[{"id":7,"url":"/files/three.pdf","title":"Ferry timetable","summary":"New times.",
"image":"/img/three.png","date_published":"2024-03-07T08:00:00Z","authors":[{"name":"Mara Lind"}],
"author":{"name":"Legacy"}}]}"#;
    let server = FixtureServer::start();

    let (shown, records) = show_and_run(&server, "/atom.xml", ATOM);
    let entries = &shown[1..];
    assert_records_carry_the_entry_values(entries, &records);
    assert_eq!(entries[0]["title"], "Fares <10% up \u{2013} again");
    assert_eq!(entries[0]["authors"], serde_json::json!(["Harbour Desk"]));
    assert_eq!(entries[0]["image"], "https://img.example/one.jpg?w=140");
    assert_eq!(entries[1]["authors"], serde_json::json!(["Jon Berg"]));

    let (shown, records) = show_and_run(&server, "/feed.json", JSON);
    let entries = &shown[1..];
    assert_records_carry_the_entry_values(entries, &records);
    assert_eq!(entries[0]["id"], "7");
    assert_eq!(entries[0]["authors"], serde_json::json!(["Mara Lind"]));
    assert_eq!(entries[0]["image"], server.url("/img/three.png"));
}
