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
    server.put("/rss.xml", Resource::ok("application/rss+xml", FEED));
    let feed_url = server.url("/rss.xml");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rss.xml");
    std::fs::write(&file, FEED).unwrap();

    let shown = run_newswire(
        &["feeds", "show", file.to_str().unwrap(), "--url", &feed_url],
        dir.path(),
    );
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let shown = json_lines(&shown.stdout);
    let entries = &shown[1..];
    assert_eq!(entries.len(), 2, "{shown:#?}");

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
    let records = json_lines(&run.stdout);
    assert_eq!(records.len(), 2, "{records:#?}");

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
    }
    // And the values are the normalised ones, not the raw text.
    assert_eq!(entries[0]["title"], "Ferry fares rise \u{2013} again");
    assert_eq!(entries[0]["authors"], serde_json::json!(["Mara Lind"]));
    assert_eq!(entries[0]["published"], "2024-03-05T14:00:00Z");
    assert_eq!(entries[1]["title"], "Council votes on the pier");
    assert_eq!(entries[1]["authors"], serde_json::json!(["Jon Berg"]));
    assert_eq!(entries[1]["published"], "2024-03-06T14:30:00Z");
    assert_eq!(entries[1]["categories"], serde_json::json!(["Politics"]));
}
