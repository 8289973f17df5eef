//! `--once --report FILE`: the JSON summary says per feed what happened (ok with its new
//! records, failed with the reason, not_modified on the next pass), the one-line summary
//! stays, and failed feeds are listed in a table on stderr.

mod common;

use common::{FixtureServer, Resource, rss_feed, run_newswire, story_page, write_config};

fn feed<'a>(report: &'a serde_json::Value, url: &str) -> &'a serde_json::Value {
    report["feeds"]
        .as_array()
        .and_then(|feeds| feeds.iter().find(|f| f["url"] == url))
        .unwrap_or_else(|| panic!("{url} in {report:#}"))
}

#[test]
fn report_matches_what_happened() {
    let server = FixtureServer::start();
    let paths = ["/n/first", "/n/second"];
    for path in paths {
        server.put(path, Resource::ok("text/html", story_page(path)));
    }
    server.put(
        "/news.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("News", &server.url(""), &paths),
        ),
    );
    server.put(
        "/broken.xml",
        Resource {
            status: 500,
            content_type: "text/plain".into(),
            body: b"oops".to_vec(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{}\"\n\n[[feed]]\nurl = \"{}\"\n\n[[feed]]\nurl = \"{}\"\n",
            server.url("/news.xml"),
            server.url("/gone.xml"),
            server.url("/broken.xml"),
        ),
    );
    let report_path = dir.path().join("report.json");
    let args = [
        "run",
        "--once",
        "--quiet",
        "--config",
        config.to_str().unwrap(),
        "--report",
        report_path.to_str().unwrap(),
    ];
    let run = run_newswire(&args, dir.path());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        run.status.code(),
        Some(0),
        "a pass with failed feeds still finishes: {stderr}"
    );
    assert!(
        stderr.contains("1 feeds ok, 2 failed, 2 new records"),
        "{stderr}"
    );
    assert!(stderr.contains("failed feeds (2):"), "table: {stderr}");
    let table_row = stderr
        .lines()
        .find(|l| l.contains(&server.url("/gone.xml")) && l.contains("http_4xx"))
        .unwrap_or_else(|| panic!("a table row for the 404 feed: {stderr}"));
    assert!(table_row.contains("404"), "{table_row}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).expect("report written")).unwrap();
    assert_eq!(report["schema"], "newswire.report/1");
    assert_eq!(report["status"], "finished");
    assert_eq!(report["totals"]["feeds"], 3);
    assert_eq!(report["totals"]["records_emitted"], 2);
    assert_eq!(report["totals"]["feeds_failed"], 2);
    let news = feed(&report, &server.url("/news.xml"));
    assert_eq!(news["status"], "ok");
    assert_eq!(news["new_records"], 2);
    assert!(news["error"].is_null());
    let gone = feed(&report, &server.url("/gone.xml"));
    assert_eq!(gone["status"], "failed");
    assert_eq!(gone["reason"], "http_4xx");
    assert!(
        gone["error"]
            .as_str()
            .is_some_and(|e| e.contains("404") && e.contains("/gone.xml")),
        "{gone}"
    );
    let broken = feed(&report, &server.url("/broken.xml"));
    assert_eq!(broken["status"], "failed");
    assert_eq!(broken["reason"], "http_5xx");
    assert_eq!(broken["new_records"], 0);

    // The next pass: the feed has not changed (304), nothing new.
    let again = run_newswire(&args, dir.path());
    assert_eq!(again.status.code(), Some(0));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let news = feed(&report, &server.url("/news.xml"));
    assert_eq!(news["status"], "not_modified", "{report:#}");
    assert_eq!(news["new_records"], 0);
    assert_eq!(report["totals"]["records_emitted"], 0);
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_before_the_pass() {
    let server = FixtureServer::start();
    server.put(
        "/news.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("News", &server.url(""), &[]),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("[[feed]]\nurl = \"{}\"\n", server.url("/news.xml")),
    );
    let report_path = dir.path().join("no-such-dir/report.json");
    let run = run_newswire(
        &[
            "run",
            "--once",
            "--quiet",
            "--config",
            config.to_str().unwrap(),
            "--report",
            report_path.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--report"), "names the flag: {stderr}");
    assert!(
        server.requests_for("/news.xml").is_empty(),
        "no pass was run"
    );
}

#[test]
fn a_state_that_cannot_be_opened_still_writes_a_failed_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    // A regular file where the state's directory should be.
    std::fs::write(dir.path().join("blocker"), "not a directory").unwrap();
    let report_path = dir.path().join("report.json");
    let run = run_newswire(
        &[
            "run",
            "--once",
            "--quiet",
            "--config",
            config.to_str().unwrap(),
            "--state",
            "blocker/newswire.db",
            "--report",
            report_path.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).expect("report written")).unwrap();
    assert_eq!(report["status"], "failed", "{report:#}");
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("blocker")),
        "{report:#}"
    );
}
