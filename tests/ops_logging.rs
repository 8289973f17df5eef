//! Logs as an operator reads them: at `--log-level warn` a warning still names its feed
//! and article (their spans survive the level), span fields are plain values (a URL, not
//! `Some("…")`), and a misspelt level is refused with exit 1.

mod common;

use common::{FixtureServer, Resource, rss_feed, run_newswire, write_config};

#[test]
fn warnings_keep_their_feed_and_article_at_log_level_warn() {
    let server = FixtureServer::start();
    // The feed works, its one article is gone (404): a warning inside both spans.
    server.put(
        "/news.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("News", &server.url(""), &["/gone-story"]),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{}\"\n",
            server.url("/news.xml")
        ),
    );
    let run = run_newswire(
        &[
            "--log-level",
            "warn",
            "--log-format",
            "json",
            "run",
            "--once",
            "--quiet",
            "--config",
            config.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let warning: serde_json::Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["level"] == "WARN" && l.to_string().contains("page unavailable"))
        .unwrap_or_else(|| panic!("a warning about the missing page: {stderr}"));
    let spans = warning["spans"].as_array().expect("spans on the warning");
    let article = spans
        .iter()
        .find(|s| s["name"] == "article")
        .unwrap_or_else(|| panic!("article span: {warning}"));
    assert_eq!(article["url"], server.url("/gone-story"), "{warning}");
    assert_eq!(article["feed"], server.url("/news.xml"), "{warning}");
    assert!(
        !stderr.contains("Some("),
        "no Debug-formatted fields: {stderr}"
    );
    assert!(
        !stderr.contains("\"level\":\"INFO\""),
        "nothing below warn: {stderr}"
    );
}

#[test]
fn a_misspelt_log_level_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let run = run_newswire(
        &[
            "--log-level",
            "verbose",
            "validate",
            "--config",
            config.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("verbose") && stderr.contains("log level"),
        "{stderr}"
    );
}
