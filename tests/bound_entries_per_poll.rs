//! `fetch.max_entries_per_poll` bounds what one poll takes from a feed: a feed of 30 new
//! entries with a bound of 10 is delivered over three passes, 10 at a time, every entry
//! once; the truncated polls do not keep the feed's validators (so the next poll downloads
//! the feed again instead of getting `304 Not Modified`), and each says so naming the feed.

mod common;

use std::collections::HashSet;

use common::{FixtureServer, Resource, read_records, run_newswire, story_page, write_config};

const ENTRIES: usize = 30;
const PER_POLL: usize = 10;

#[test]
fn a_long_feed_is_taken_a_bounded_number_of_entries_per_poll() {
    let server = FixtureServer::start();
    let base = server.url("");
    let mut items = String::new();
    for n in 0..ENTRIES {
        server.put(
            &format!("/a/{n}"),
            Resource::ok(
                "text/html",
                story_page(&format!("Bounded entry number {n}")),
            ),
        );
        items.push_str(&format!(
            "<item><title>Entry {n}</title><link>{base}/a/{n}</link><guid>entry-{n}</guid></item>"
        ));
    }
    server.put(
        "/feed.xml",
        Resource::ok(
            "application/rss+xml",
            format!("<rss version=\"2.0\"><channel><title>Long</title>{items}</channel></rss>"),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "max_entries_per_poll = {PER_POLL}\n\n\
             [[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 1\n\n\
             [[feed]]\nurl = \"{}\"\n",
            server.url("/feed.xml")
        ),
    );
    let config = config.to_str().unwrap();
    let feed_url = server.url("/feed.xml");

    for pass in 1..=3 {
        let output = run_newswire(&["run", "--once", "--config", config], dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "pass {pass}: {stderr}");
        let records = read_records(&dir.path().join("out"));
        assert_eq!(records.len(), pass * PER_POLL, "pass {pass}: {stderr}");
        let left_over = stderr.contains("max_entries_per_poll") && stderr.contains(&feed_url);
        assert_eq!(
            left_over,
            pass < 3,
            "pass {pass}: a warning naming the feed exactly when entries were left: {stderr}"
        );
    }

    let records = read_records(&dir.path().join("out"));
    let urls: HashSet<&str> = records
        .iter()
        .map(|r| r["url"].as_str().expect("every record has a url"))
        .collect();
    assert_eq!(urls.len(), ENTRIES, "every entry exactly once");
    for n in 0..ENTRIES {
        assert!(
            urls.contains(format!("{base}/a/{n}").as_str()),
            "entry {n} missing"
        );
    }

    // Passes 2 and 3 downloaded the feed again (no validators saved after a truncated
    // poll); pass 3 took the rest, so a fourth pass may ask "not modified?" and deliver
    // nothing new.
    let output = run_newswire(&["run", "--once", "--config", config], dir.path());
    assert!(output.status.success());
    assert_eq!(read_records(&dir.path().join("out")).len(), ENTRIES);
    let polls = server.requests_for("/feed.xml");
    assert_eq!(polls.len(), 4);
    assert!(!polls[1].headers.contains_key("if-none-match"));
    assert!(!polls[2].headers.contains_key("if-none-match"));
    assert!(polls[3].headers.contains_key("if-none-match"));
}
