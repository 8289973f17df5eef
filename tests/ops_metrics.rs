//! The metrics endpoint during an end-to-end daemon run: `/metrics` shows what the run
//! did (feeds polled, not modified and failed by reason, entries, pages and bytes,
//! records per sink, near-duplicates, extraction quality, publish delay, queue depths),
//! `/healthz` and `/readyz` answer, and SIGTERM still drains and exits 0.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    FixtureServer, Resource, free_port, http_get, metric_value, newswire_bin, read_records,
    rss_feed, send_signal, wait_for, write_config,
};

#[test]
fn metrics_endpoint_shows_the_run() {
    let server = FixtureServer::start();
    let paths = ["/a/one", "/a/two", "/a/three", "/a/copy"];
    // Three different stories (the shared story_page template differs in too few words
    // to tell apart by simhash), and a syndicated copy of the first one under another
    // address: exactly one near-duplicate.
    let pages = [
        distinct_page(0),
        distinct_page(1),
        distinct_page(2),
        distinct_page(0),
    ];
    for (path, page) in paths.iter().zip(&pages) {
        server.put(path, Resource::ok("text/html; charset=utf-8", page.clone()));
    }
    server.put(
        "/feed.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("Harbour", &server.url(""), &paths),
        ),
    );
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[metrics]\nlisten = \"127.0.0.1:{port}\"\n\n[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 1\n\n\
             [[feed]]\nurl = \"{}\"\ninterval = \"1s\"\n\n[[feed]]\nurl = \"{}\"\ninterval = \"1h\"\n",
            server.url("/feed.xml"),
            server.url("/missing.xml"),
        ),
    );
    let mut child = Command::new(newswire_bin())
        .args(["run", "--config", config.to_str().unwrap()])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start daemon");

    let emitted = "newswire_records_emitted_total{sink=\"jsonl:out/records.jsonl\"}";
    let mut scrape = String::new();
    // The feed polled every second answers 304 from its second poll on.
    wait_for(
        Duration::from_secs(30),
        "4 records and a 304 in /metrics",
        || {
            if let Some((200, body)) = http_get(port, "/metrics") {
                scrape = body;
            }
            metric_value(&scrape, emitted) == Some(4.0)
                && metric_value(&scrape, "newswire_feed_polls_total{status=\"failed\"}").is_some()
                && metric_value(
                    &scrape,
                    "newswire_feed_polls_total{status=\"not_modified\"}",
                )
                .is_some()
        },
    );
    // Queue depths are sampled once a second: wait for the first sample.
    wait_for(Duration::from_secs(10), "queue depth gauges", || {
        if let Some((200, body)) = http_get(port, "/metrics") {
            scrape = body;
        }
        scrape.contains("newswire_queue_depth{queue=\"pages\"}")
    });

    let value = |series: &str| metric_value(&scrape, series);
    assert_eq!(
        value("newswire_feed_polls_total{status=\"ok\"}"),
        Some(1.0),
        "{scrape}"
    );
    assert_eq!(
        value("newswire_feed_polls_total{status=\"failed\"}"),
        Some(1.0),
        "{scrape}"
    );
    assert_eq!(
        value("newswire_feed_failures_total{reason=\"http_4xx\"}"),
        Some(1.0),
        "{scrape}"
    );
    assert!(
        value("newswire_feed_polls_total{status=\"not_modified\"}").is_some_and(|n| n >= 1.0),
        "{scrape}"
    );
    assert_eq!(value("newswire_duplicates_total"), Some(1.0), "{scrape}");
    assert_eq!(value("newswire_feeds_configured"), Some(2.0), "{scrape}");
    assert_eq!(value("newswire_entries_seen_total"), Some(4.0), "{scrape}");
    assert_eq!(value("newswire_entries_new_total"), Some(4.0), "{scrape}");
    assert_eq!(
        value("newswire_pages_fetched_total{outcome=\"html\"}"),
        Some(4.0),
        "{scrape}"
    );
    let page_bytes: usize = pages.iter().map(String::len).sum();
    assert_eq!(
        value("newswire_page_bytes_total"),
        Some(page_bytes as f64),
        "{scrape}"
    );
    assert_eq!(value(emitted), Some(4.0), "{scrape}");
    assert_eq!(
        value("newswire_extraction_quality_count"),
        Some(4.0),
        "{scrape}"
    );
    assert_eq!(
        value("newswire_extraction_quality_bucket{le=\"1\"}"),
        Some(4.0),
        "{scrape}"
    );
    // Every extracted page is timed on the wall clock and on its thread's CPU clock; a
    // thread cannot use more CPU than the time that passed.
    let extracted = value("newswire_extraction_seconds_count");
    assert!(extracted.is_some_and(|n| n >= 1.0), "{scrape}");
    assert_eq!(
        value("newswire_extraction_cpu_seconds_count"),
        extracted,
        "{scrape}"
    );
    let cpu = value("newswire_extraction_cpu_seconds_sum").unwrap_or(-1.0);
    let wall = value("newswire_extraction_seconds_sum").unwrap_or(0.0);
    assert!(cpu > 0.0 && cpu <= wall + 0.001, "cpu {cpu} wall {wall}");
    assert_eq!(
        value("newswire_publish_delay_seconds_count"),
        Some(4.0),
        "{scrape}"
    );
    // Published in March 2024: far beyond the largest bucket (a week).
    assert_eq!(
        value("newswire_publish_delay_seconds_bucket{le=\"604800\"}"),
        Some(0.0),
        "{scrape}"
    );
    assert!(
        value("newswire_state_commits_total{result=\"ok\"}").is_some_and(|n| n >= 1.0),
        "{scrape}"
    );
    assert_eq!(
        value("newswire_queue_depth{queue=\"pages\"}"),
        Some(0.0),
        "{scrape}"
    );
    assert!(
        scrape.contains("# HELP newswire_feed_polls_total"),
        "described: {scrape}"
    );
    // Every stage's time: a unit of work each (a poll, a page, a batch, a record, a commit).
    let stage = |name: &str, suffix: &str| {
        value(&format!(
            "newswire_stage_seconds_{suffix}{{stage=\"{name}\"}}"
        ))
    };
    assert_eq!(stage("page_fetch", "count"), Some(4.0), "{scrape}");
    assert_eq!(stage("sink_write", "count"), Some(4.0), "{scrape}");
    for name in ["feed_poll", "near_duplicates", "commit"] {
        assert!(
            stage(name, "count").is_some_and(|n| n >= 1.0),
            "{name}: {scrape}"
        );
        assert!(
            stage(name, "sum").is_some_and(|s| s > 0.0),
            "{name}: {scrape}"
        );
    }
    assert!(
        scrape.contains("# HELP newswire_stage_seconds"),
        "described: {scrape}"
    );

    assert_eq!(http_get(port, "/healthz").map(|r| r.0), Some(200));
    assert_eq!(http_get(port, "/readyz").map(|r| r.0), Some(200));
    assert_eq!(http_get(port, "/nothing").map(|r| r.0), Some(404));

    send_signal(child.id(), "TERM");
    let mut exit = None;
    wait_for(Duration::from_secs(30), "exit after SIGTERM", || {
        exit = child.try_wait().expect("wait");
        exit.is_some()
    });
    assert_eq!(exit.and_then(|e| e.code()), Some(0));
    let records = read_records(&dir.path().join("out"));
    assert_eq!(records.len(), 4);
    assert_eq!(
        records
            .iter()
            .filter(|r| !r["duplicate_of"].is_null())
            .count(),
        1,
        "one record marked as the copy"
    );
}

/// One of three news pages with unrelated texts (`which` in 0..3).
fn distinct_page(which: usize) -> String {
    let (title, paragraphs) = [
        (
            "Harbour ferries cancelled",
            [
                "Storm warnings closed the harbour on Tuesday morning, and every ferry to the islands stayed tied up at the quay while crews checked moorings and lashed down cargo.",
                "Passengers queued at the ticket office for refunds; the operator said sailings would resume once the wind dropped below gale force, probably on Thursday.",
            ],
        ),
        (
            "Council approves library budget",
            [
                "The city council voted by a wide margin to fund longer opening hours at the central library, reversing cuts made three years ago during the financial crisis.",
                "Librarians welcomed the decision and promised new evening reading groups, homework clubs for teenagers and a larger collection of audiobooks and foreign newspapers.",
            ],
        ),
        (
            "Orchard harvest breaks record",
            [
                "Growers in the valley picked more apples this autumn than in any season since records began, helped by a warm spring without frost and steady summer rain.",
                "Cider makers bought much of the surplus, while schools organised tasting days and a cooperative opened a new cold store to keep fruit fresh until March.",
            ],
        ),
    ][which % 3];
    format!(
        "<html lang=\"en\"><head><title>{title}</title></head><body><article><h1>{title}</h1>\
         <p>{}</p><p>{}</p></article></body></html>",
        paragraphs[0], paragraphs[1]
    )
}

#[test]
fn a_metrics_port_in_use_is_a_config_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let run = common::run_newswire(
        &[
            "run",
            "--once",
            "--quiet",
            "--config",
            config.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("metrics.listen"), "names the key: {stderr}");
    drop(taken);
}
