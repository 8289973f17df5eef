//! Two overlapping `--once` runs on one state (cron fired again before the last pass
//! ended): the second exits 75 at once with a clear message, the first finishes normally.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{FixtureServer, Resource, newswire_bin, rss_feed, wait_for, write_config};

#[test]
fn second_overlapping_run_exits_75() {
    let server = FixtureServer::start();
    // The first run spends seconds waiting for this feed, holding the state lock.
    server.put_slow(
        "/slow.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("Slow", &server.url(""), &[]),
        ),
        Duration::from_secs(3),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{}\"\n",
            server.url("/slow.xml")
        ),
    );
    let config = config.to_str().unwrap();
    let mut first = Command::new(newswire_bin())
        .args(["run", "--once", "--config", config])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the first run");
    wait_for(Duration::from_secs(20), "the first run to poll", || {
        !server.requests_for("/slow.xml").is_empty()
    });

    let report = dir.path().join("second-report.json");
    let second = Command::new(newswire_bin())
        .args(["run", "--once", "--config", config, "--report"])
        .arg(&report)
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("run the second");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("in use by another newswire process"),
        "clear message: {stderr}"
    );
    assert!(stderr.contains("newswire.db"), "names the state: {stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("a report on exit 75")).unwrap();
    assert_eq!(report["status"], "failed", "{report:#}");
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("in use by another newswire process")),
        "{report:#}"
    );
    assert_eq!(
        server.requests_for("/slow.xml").len(),
        1,
        "the second run polled nothing"
    );
    assert!(
        first.try_wait().expect("poll first").is_none(),
        "the second run ended while the first still held the lock"
    );

    let first = first.wait_with_output().expect("first run");
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
}
