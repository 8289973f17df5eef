//! A feed's declared language reaches its records: a record built from the feed entry
//! alone (its page could not be fetched) has too little text to tell its language, and
//! takes the one the feed declares.

mod common;

use common::{FixtureServer, Resource, run_once_to_jsonl};

#[test]
fn a_record_built_from_its_feed_entry_takes_the_feeds_declared_language() {
    let server = FixtureServer::start();
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>Tarnbote</title><language>de-DE</language>\
         <item><title>Liveticker 14:00</title><link>{}</link><guid>tb-1</guid>\
         <pubDate>Mon, 04 Mar 2024 09:00:00 GMT</pubDate>\
         <description>1:0 (Tor)</description></item></channel></rss>",
        server.url("/gone")
    );
    server.put("/feed.xml", Resource::ok("application/rss+xml", feed));
    let dir = tempfile::tempdir().unwrap();
    let (records, stderr) = run_once_to_jsonl(dir.path(), "", &server.url("/feed.xml"));
    assert_eq!(records.len(), 1, "{stderr}");
    assert_eq!(records[0]["extraction"]["method"], "feed", "{}", records[0]);
    assert_eq!(records[0]["language"], "de", "{}", records[0]);
}
