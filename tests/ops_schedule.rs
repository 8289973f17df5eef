//! Daemon scheduling against a local server: a `429` with `Retry-After` holds the next
//! poll back even when the feed's interval is one second, and a feed's own update hint
//! (`sy:updatePeriod`/`sy:updateFrequency`) still applies after a `304 Not Modified`,
//! whose empty body carries no hint.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{FixtureServer, Resource, newswire_bin, send_signal, wait_for, write_config};

/// Starts `newswire run` (a daemon) on `config` in `dir`.
fn start_daemon(dir: &std::path::Path, config: &std::path::Path) -> Child {
    Command::new(newswire_bin())
        .args(["run", "--config", config.to_str().unwrap()])
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start daemon")
}

/// SIGTERM, then the exit code (the daemon must drain and exit 0).
fn stop(mut child: Child) -> Option<i32> {
    send_signal(child.id(), "TERM");
    let mut exit = None;
    wait_for(Duration::from_secs(30), "exit after SIGTERM", || {
        exit = child.try_wait().expect("wait");
        exit.is_some()
    });
    exit.and_then(|e| e.code())
}

#[test]
fn retry_after_holds_back_a_one_second_feed() {
    let server = FixtureServer::start();
    server.put_with_headers(
        "/busy.xml",
        Resource {
            status: 429,
            content_type: "text/plain".into(),
            body: b"slow down".to_vec(),
        },
        "Retry-After: 3600",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{}\"\ninterval = \"1s\"\n",
            server.url("/busy.xml")
        ),
    );
    let child = start_daemon(dir.path(), &config);
    wait_for(Duration::from_secs(20), "the first poll", || {
        !server.requests_for("/busy.xml").is_empty()
    });
    // Without Retry-After the backoff would poll again after 1 s, 2 s, 4 s.
    std::thread::sleep(Duration::from_secs(4));
    let polls = server.requests_for("/busy.xml").len();
    assert_eq!(stop(child), Some(0));
    assert_eq!(polls, 1, "polled again despite Retry-After: 3600");
    let state = newswire_state::SqliteState::open_read_only(
        dir.path().join("state/newswire.db").to_str().unwrap(),
    )
    .expect("open state");
    let saved = newswire_state::StateStore::feed_state(&state, &server.url("/busy.xml"))
        .expect("read feed state")
        .expect("feed state saved");
    let wait = saved.next_due.expect("next due saved") - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::minutes(50),
        "next poll in {wait} (Retry-After asked for an hour)"
    );
}

#[test]
fn the_feed_update_hint_survives_a_304() {
    let server = FixtureServer::start();
    // Every second, by the feed's own syndication hint (3600 times an hour).
    server.put(
        "/hinted.xml",
        Resource::ok(
            "application/rss+xml",
            "<rss version=\"2.0\" xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\">\
             <channel><title>Hinted</title><sy:updatePeriod>hourly</sy:updatePeriod>\
             <sy:updateFrequency>3600</sy:updateFrequency></channel></rss>",
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    // Without the hint the feed would wait the default hour after its first 304.
    let config = write_config(dir.path(), "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[fetch]\n",
        "[fetch]\nmin_interval = \"1s\"\nmax_interval = \"6h\"\ndefault_interval = \"1h\"\n",
    );
    std::fs::write(
        &config,
        format!(
            "{text}[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{}\"\n",
            server.url("/hinted.xml")
        ),
    )
    .unwrap();
    let child = start_daemon(dir.path(), &config);
    wait_for(
        Duration::from_secs(30),
        "a poll after the first 304",
        || {
            let seen = server.requests_for("/hinted.xml");
            seen.len() >= 3 && seen[1].status == 304
        },
    );
    assert_eq!(stop(child), Some(0));
}
