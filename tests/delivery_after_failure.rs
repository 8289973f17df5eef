//! A sink failure must not cost the articles that were still on their way: a feed whose
//! articles were queued but never committed keeps no HTTP validators, so the next run
//! downloads it again (no 304) and delivers them. Regression test for a loss found in
//! review: validators were saved for polls whose queued records died with the pipeline.

mod common;

use std::process::Command;

use common::{FixtureServer, Resource, newswire_bin, read_records, write_config};

fn page(feed: &str, n: usize) -> String {
    let sentence = format!(
        "Report {n} from the {feed} desk describes the day's events at the harbour, the council and the market in some detail. "
    );
    format!(
        "<html lang=\"en\"><head><title>{feed} {n}</title></head><body><article><h1>{feed} {n}</h1><p>{}</p><p>{}</p></article></body></html>",
        sentence.repeat(4),
        sentence.repeat(3)
    )
}

#[test]
fn queued_articles_of_a_failed_run_are_delivered_by_the_next() {
    let server = FixtureServer::start();
    let base = server.url("");
    for feed in ["north", "south"] {
        let mut items = String::new();
        for n in 0..25 {
            server.put(
                &format!("/{feed}/{n}"),
                Resource::ok("text/html", page(feed, n)),
            );
            items.push_str(&format!(
                "<item><title>{feed} {n}</title><link>{base}/{feed}/{n}</link></item>"
            ));
        }
        server.put(
            &format!("/{feed}.xml"),
            Resource::ok(
                "application/rss+xml",
                format!(
                    "<rss version=\"2.0\"><channel><title>{feed}</title>{items}</channel></rss>"
                ),
            ),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 3\n\n[[feed]]\nurl = \"{}\"\n\n[[feed]]\nurl = \"{}\"\n",
            server.url("/north.xml"),
            server.url("/south.xml")
        ),
    );
    let config = config.to_str().unwrap();

    // The disk "fills up" after a few records: the run fails with records still queued.
    let failed = Command::new(newswire_bin())
        .args(["run", "--once", "--config", config])
        .current_dir(dir.path())
        .env(common::JSONL_CAPACITY_ENV, "12000")
        .output()
        .unwrap();
    assert_eq!(
        failed.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );

    // After the fix (space again), everything arrives, once.
    let fixed = Command::new(newswire_bin())
        .args(["run", "--once", "--config", config])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        fixed.status.success(),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    let records = read_records(&dir.path().join("out"));
    let mut ids: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), records.len(), "no record twice");
    assert_eq!(records.len(), 50, "every article of both feeds delivered");
}
