//! The poll-report channel is bounded by the queues, not by the feed count: with
//! `pipeline.channel_capacity = 1` and `fetch.concurrency = 1` it holds 1,321 reports, and
//! a `--once` pass over more feeds than that, or a daemon reloaded from one feed to that
//! many, still polls every feed and delivers every article. (A scheduler that waited for
//! room in the feed queue without reading reports stalled here: the feed stage held every
//! report slot and waited for one more.) Most feeds are empty, which makes no difference
//! to the slots (a poll holds one until the scheduler reads its report) and keeps the
//! test quick.

mod common;

use std::time::Duration;

use common::{
    Daemon, FixtureServer, Resource, read_records, rss_feed, run_newswire, story_page, wait_for,
    write_config,
};

/// More than the 1,321 report slots of the configuration below (64 × 1 queue slot, 1
/// download, a near-duplicate batch of 256, a commit of 1,000).
const FEEDS: usize = 1_400;
/// Feeds with an article; the others are empty.
const WITH_ARTICLE: usize = 5;

const SETTINGS: &str = "concurrency = 1\n\n[pipeline]\nchannel_capacity = 1\n\n\
     [[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 1\n\n";

/// `FEEDS` feeds, the first `WITH_ARTICLE` of one article each; returns their `[[feed]]`
/// entries.
fn serve_feeds(server: &FixtureServer) -> Vec<String> {
    (0..FEEDS)
        .map(|n| {
            let page = format!("/p/{n}");
            let pages: &[&str] = if n < WITH_ARTICLE {
                server.put(
                    &page,
                    Resource::ok("text/html", story_page(&format!("Report slot story {n}"))),
                );
                &[page.as_str()]
            } else {
                &[]
            };
            let feed = format!("/f/{n}.xml");
            server.put(
                &feed,
                Resource::ok(
                    "application/rss+xml",
                    rss_feed(&format!("Feed {n}"), &server.url(""), pages),
                ),
            );
            format!(
                "[[feed]]\nurl = \"{}\"\ninterval = \"1h\"\n\n",
                server.url(&feed)
            )
        })
        .collect()
}

/// Feeds the server was never asked for.
fn unpolled(server: &FixtureServer) -> usize {
    (0..FEEDS)
        .filter(|n| server.requests_for(&format!("/f/{n}.xml")).is_empty())
        .count()
}

#[test]
fn a_once_pass_over_more_feeds_than_report_slots_polls_every_feed() {
    let server = FixtureServer::start();
    let feeds = serve_feeds(&server);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &format!("{SETTINGS}{}", feeds.concat()));
    let output = run_newswire(
        &["run", "--once", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        read_records(&dir.path().join("out")).len(),
        WITH_ARTICLE,
        "{stderr}"
    );
    assert_eq!(unpolled(&server), 0, "every feed polled");
}

#[test]
fn a_daemon_reloaded_to_more_feeds_than_report_slots_polls_every_feed() {
    let server = FixtureServer::start();
    let feeds = serve_feeds(&server);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &format!("{SETTINGS}{}", feeds[0]));
    let daemon = Daemon::start(&config, dir.path());
    let records = || read_records(&dir.path().join("out")).len();
    wait_for(Duration::from_secs(30), "the first feed's record", || {
        records() == 1
    });
    assert_eq!(unpolled(&server), FEEDS - 1);

    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}{}", feeds[1..].concat())).unwrap();
    daemon.signal("HUP");
    wait_for(
        Duration::from_secs(120),
        "every feed polled and every article delivered after the reload",
        || unpolled(&server) == 0 && records() == WITH_ARTICLE,
    );
    assert!(
        daemon.log().contains("feed added by reload"),
        "{}",
        daemon.log()
    );

    daemon.stop();
}
