//! `newswire feeds show` and `newswire feeds discover` on local files: the JSON lines a
//! user sees when a feed looks wrong.

use std::process::Command;

fn newswire(args: &[&str]) -> (String, String, bool) {
    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .args(args)
        .output()
        .expect("run newswire");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.success(),
    )
}

#[test]
fn feeds_show_prints_the_feed_then_its_entries() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("broken.xml");
    std::fs::write(
        &path,
        "<rss><channel><title>Caf&eacute; &amp; co</title><language>en_US</language>\
         <item><title>AT&T deal</title><link>/news/1</link><pubDate>Tue, 10 Jun 2003 04:00:00 +0200</pubDate></item>\
         <item><title>Permalink only</title><guid>https://news.example.org/news/2</guid></item>\
         </channel></rss>",
    )
    .unwrap();
    let (stdout, stderr, success) = newswire(&[
        "feeds",
        "show",
        path.to_str().unwrap(),
        "--url",
        "https://news.example.org/rss",
    ]);
    assert!(success, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0]["title"], "Café & co");
    assert_eq!(lines[0]["language"], "en-US");
    assert_eq!(lines[1]["title"], "AT&T deal");
    assert_eq!(lines[1]["link"], "https://news.example.org/news/1");
    assert_eq!(lines[1]["published"], "2003-06-10T02:00:00Z");
    assert_eq!(lines[2]["link"], "https://news.example.org/news/2");
    // The feed reader reads a versionless `<rss>` and HTML entities as they are (as the
    // Universal Feed Parser does): nothing needed repairing, so nothing is reported.
    assert_eq!(lines[0]["warnings"], serde_json::json!([]), "{stderr}");
}

#[test]
fn feeds_show_names_a_missing_file() {
    let (_, stderr, success) = newswire(&["feeds", "show", "/nonexistent/feed.xml"]);
    assert!(!success);
    assert!(stderr.contains("/nonexistent/feed.xml"), "{stderr}");
}

#[test]
fn feeds_discover_lists_announced_feeds() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("index.html");
    std::fs::write(
        &path,
        r#"<!doctype html><html><head><base href="https://news.example.org/">
        <link rel="alternate" type="application/rss+xml" title="World" href="world/rss.xml">
        <link rel="alternate" type="application/atom+xml" href="https://news.example.org/atom"></head><body></body></html>"#,
    )
    .unwrap();
    let (stdout, stderr, success) = newswire(&["feeds", "discover", path.to_str().unwrap()]);
    assert!(success, "{stderr}");
    let feeds: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(feeds.len(), 2, "{stdout}");
    assert_eq!(feeds[0]["url"], "https://news.example.org/world/rss.xml");
    assert_eq!(feeds[0]["title"], "World");
    assert_eq!(feeds[1]["type"], "application/atom+xml");
}

mod common;

#[test]
fn feeds_show_over_http_uses_the_configs_fetch_settings() {
    let server = common::FixtureServer::start();
    server.put(
        "/rss.xml",
        common::Resource::ok(
            "application/rss+xml",
            "<rss version=\"2.0\"><channel><title>Local</title><item><title>One</title><link>/a</link></item></channel></rss>",
        ),
    );
    let url = server.url("/rss.xml");
    // Without a config the defaults refuse loopback addresses (SSRF guard)…
    let (_, stderr, success) = newswire(&["feeds", "show", &url]);
    assert!(!success);
    assert!(
        stderr.contains(&url) && stderr.contains("127.0.0.1"),
        "{stderr}"
    );
    // …a config that allows them applies to `feeds show` too.
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), "");
    let (stdout, stderr, success) =
        newswire(&["feeds", "show", &url, "--config", config.to_str().unwrap()]);
    assert!(success, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "feed line + one entry: {stdout}");
    assert!(
        stdout.contains(&server.url("/a")),
        "relative link resolved: {stdout}"
    );
}

/// A saved page whose feed links are relative (the common case): without a base they
/// name the files beside it, with `--url` they name the site's feeds.
#[test]
fn feeds_discover_on_a_file_with_relative_links() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("index.html");
    std::fs::write(
        &path,
        r#"<!doctype html><html><head>
        <link rel="alternate" type="application/rss+xml" title="World" href="world/rss.xml">
        <link rel="alternate" type="application/atom+xml" href="/atom.xml"></head><body></body></html>"#,
    )
    .unwrap();
    let discovered = |extra: &[&str]| {
        let mut args = vec!["feeds", "discover", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (stdout, stderr, success) = newswire(&args);
        assert!(success, "{stderr}");
        assert!(!stderr.contains("announces no feed"), "{stderr}");
        stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["url"].clone())
            .collect::<Vec<_>>()
    };

    let with_base = discovered(&["--url", "https://news.example.org/en/index.html"]);
    assert_eq!(
        with_base,
        [
            "https://news.example.org/en/world/rss.xml",
            "https://news.example.org/atom.xml"
        ]
    );

    let beside = directory.path().join("world/rss.xml");
    let beside = url::Url::from_file_path(std::path::absolute(&beside).unwrap()).unwrap();
    let without_base = discovered(&[]);
    assert_eq!(without_base.len(), 2, "{without_base:?}");
    assert_eq!(without_base[0], beside.as_str());
    assert_eq!(without_base[1], "file:///atom.xml");

    let (_, stderr, success) = newswire(&[
        "feeds",
        "discover",
        path.to_str().unwrap(),
        "--url",
        "not a url",
    ]);
    assert!(!success);
    assert!(stderr.contains("--url"), "{stderr}");
}
