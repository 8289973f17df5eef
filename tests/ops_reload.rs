//! Daemon reload (SIGHUP): a feed added to the config is polled without a restart; a
//! broken config is rejected with its problems and the running feed list stays; a feed
//! removed from the config is no longer polled.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{
    Daemon, FixtureServer, Resource, read_records, rss_feed, story_page, wait_for, write_config,
};

const SINK: &str =
    "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 1\n\n";

fn feed_entry(url: &str) -> String {
    format!("[[feed]]\nurl = \"{url}\"\ninterval = \"1s\"\n\n")
}

fn records_from(dir: &Path, feed_url: &str) -> usize {
    read_records(&dir.join("out"))
        .iter()
        .filter(|r| r["feed"]["url"] == feed_url)
        .count()
}

#[test]
fn sighup_adds_rejects_and_removes_feeds() {
    let server = FixtureServer::start();
    for path in ["/a/1", "/b/1"] {
        server.put(path, Resource::ok("text/html", story_page(path)));
    }
    server.put(
        "/a.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("A", &server.url(""), &["/a/1"]),
        ),
    );
    server.put(
        "/b.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("B", &server.url(""), &["/b/1"]),
        ),
    );
    let (a, b) = (server.url("/a.xml"), server.url("/b.xml"));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &format!("{SINK}{}", feed_entry(&a)));
    let mut daemon = Daemon::start(&config, dir.path());

    wait_for(Duration::from_secs(30), "feed A's record", || {
        records_from(dir.path(), &a) == 1
    });
    assert!(server.requests_for("/b.xml").is_empty());

    // Added: B is polled and delivered without a restart.
    let valid = format!(
        "[state]\npath = \"state/newswire.db\"\n\n[fetch]\nallow_private_networks = [\"127.0.0.1/32\"]\nper_host_min_delay = \"0ms\"\nretries = 0\n\n{SINK}"
    );
    std::fs::write(
        &config,
        format!("{valid}{}{}", feed_entry(&a), feed_entry(&b)),
    )
    .unwrap();
    daemon.signal("HUP");
    wait_for(
        Duration::from_secs(30),
        "feed B's record after SIGHUP",
        || records_from(dir.path(), &b) == 1,
    );
    assert!(
        daemon.log().contains("feed added by reload"),
        "{}",
        daemon.log()
    );

    // Broken: rejected with every problem and its line; A and B keep being polled.
    std::fs::write(
        &config,
        format!(
            "{valid}[[feed]]\nurl = \"{a}\"\ninterval = \"whenever\"\ncolour = \"red\"\n\n{}{}",
            feed_entry(&b),
            feed_entry(&b)
        ),
    )
    .unwrap();
    daemon.signal("HUP");
    wait_for(Duration::from_secs(10), "the rejection in the log", || {
        daemon.log().contains("config reload rejected")
    });
    let text = daemon.log();
    assert!(
        text.contains("whenever") && text.contains("colour"),
        "{text}"
    );
    assert!(
        text.contains("newswire.toml:16: invalid duration")
            && text.contains("newswire.toml:17: unknown field `colour`"),
        "both problems, with file and line: {text}"
    );
    assert!(
        text.contains("is listed twice"),
        "the semantic problem too, not only the type errors: {text}"
    );
    let (a_polls, b_polls) = (
        server.requests_for("/a.xml").len(),
        server.requests_for("/b.xml").len(),
    );
    wait_for(Duration::from_secs(15), "both feeds polled again", || {
        server.requests_for("/a.xml").len() > a_polls
            && server.requests_for("/b.xml").len() > b_polls
    });
    assert!(daemon.is_running(), "still running");

    // Removed: A is not polled any more (one poll in flight may still finish).
    std::fs::write(&config, format!("{valid}{}", feed_entry(&b))).unwrap();
    daemon.signal("HUP");
    wait_for(Duration::from_secs(10), "the removal in the log", || {
        daemon.log().contains("feed removed by reload")
    });
    let a_polls = server.requests_for("/a.xml").len();
    let b_polls = server.requests_for("/b.xml").len();
    wait_for(Duration::from_secs(15), "B polled twice more", || {
        server.requests_for("/b.xml").len() >= b_polls + 2
    });
    assert!(
        server.requests_for("/a.xml").len() <= a_polls + 1,
        "a removed feed is not polled again"
    );

    daemon.stop();
}
