//! `newswire validate` reports every problem at once, each with file and line, and exits
//! non-zero; OPML feeds join the feed list (validated, polled, deduplicated).

mod common;

use common::{
    FixtureServer, Resource, read_records, rss_feed, run_newswire, story_page, write_config,
};

#[test]
fn three_errors_are_all_reported_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("newswire.toml");
    std::fs::write(
        &config,
        "[fetch]\n\
         timeout = \"soon\"\n\
         \n\
         [[feed]]\n\
         url = \"https://a.example/rss\"\n\
         colour = \"red\"\n\
         \n\
         [[feed]]\n\
         url = \"feeds/missing.xml\"\n",
    )
    .unwrap();
    let out = run_newswire(
        &["validate", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let shown = config.display();
    for (line, words) in [(2, "soon"), (6, "colour"), (9, "missing.xml")] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("{shown}:{line}: ")) && l.contains(words)),
            "line {line} ({words}) reported: {stderr}"
        );
    }
    assert!(stderr.contains("3 problems found"), "{stderr}");
}

#[test]
fn paths_duplicates_and_opml_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-a-dir"), "a file").unwrap();
    std::fs::write(
        dir.path().join("local.xml"),
        "<rss version=\"2.0\"><channel/></rss>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("feeds.opml"),
        "<opml version=\"2.0\"><body><outline text=\"Local\">\
         <outline type=\"rss\" text=\"Again\" xmlUrl=\"local.xml\"/>\
         <outline type=\"rss\" text=\"Gone\" xmlUrl=\"gone.xml\"/>\
         </outline></body></opml>",
    )
    .unwrap();
    let config = dir.path().join("newswire.toml");
    std::fs::write(
        &config,
        "feeds_opml = \"feeds.opml\"\n\
         \n\
         [state]\n\
         path = \"not-a-dir/state/newswire.db\"\n\
         \n\
         [[feed]]\n\
         url = \"local.xml\"\n\
         [[feed]]\n\
         url = \"local.xml\"\n",
    )
    .unwrap();
    let out = run_newswire(
        &["validate", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let shown = config.display();
    let reported = |line: usize, words: &str| {
        stderr
            .lines()
            .any(|l| l.starts_with(&format!("{shown}:{line}: ")) && l.contains(words))
    };
    assert!(
        reported(1, "listed in feeds_opml"),
        "OPML duplicate: {stderr}"
    );
    assert!(reported(1, "gone.xml"), "OPML feed file missing: {stderr}");
    assert!(reported(4, "is not a directory"), "state dir: {stderr}");
    assert!(reported(9, "listed twice"), "duplicate [[feed]]: {stderr}");
    assert!(stderr.contains("4 problems found"), "{stderr}");

    std::fs::remove_file(dir.path().join("not-a-dir")).unwrap();
    std::fs::write(
        &config,
        "feeds_opml = \"missing.opml\"\n[[feed]]\nurl = \"local.xml\"\n",
    )
    .unwrap();
    let out = run_newswire(
        &["validate", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{shown}:1: feeds_opml")) && stderr.contains("cannot read"),
        "{stderr}"
    );
}

#[test]
fn valid_config_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.xml"),
        "<rss version=\"2.0\"><channel/></rss>",
    )
    .unwrap();
    let config = dir.path().join("newswire.toml");
    std::fs::write(
        &config,
        "[state]\npath = \"var/state.db\"\n[[feed]]\nurl = \"local.xml\"\n",
    )
    .unwrap();
    let out = run_newswire(
        &["validate", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (1 feeds, 1 sinks)"));
    assert!(!dir.path().join("var").exists(), "validate creates nothing");
}

#[test]
fn opml_feeds_are_polled_once_with_folder_tags() {
    let server = FixtureServer::start();
    server.put("/o/1", Resource::ok("text/html", story_page("/o/1")));
    server.put("/c/1", Resource::ok("text/html", story_page("/c/1")));
    server.put(
        "/opml-feed.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("From OPML", &server.url(""), &["/o/1"]),
        ),
    );
    server.put(
        "/config-feed.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("From config", &server.url(""), &["/c/1"]),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("feeds.opml"),
        format!(
            "<opml version=\"2.0\"><body><outline text=\"Harbour\" title=\"Harbour\">\
             <outline type=\"rss\" text=\"O\" xmlUrl=\"{}\"/>\
             <outline type=\"rss\" text=\"C\" xmlUrl=\"{}\"/>\
             </outline></body></opml>",
            server.url("/opml-feed.xml"),
            server.url("/config-feed.xml")
        ),
    )
    .unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{}\"\n",
            server.url("/config-feed.xml")
        ),
    );
    // A top-level key must come before the first table.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("feeds_opml = \"feeds.opml\"\n{text}")).unwrap();

    let out = run_newswire(
        &["run", "--once", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("2 feeds ok, 0 failed, 2 new records"),
        "{stderr}"
    );
    assert_eq!(
        server.requests_for("/config-feed.xml").len(),
        1,
        "polled once"
    );
    let records = read_records(&dir.path().join("out"));
    let from_opml = records
        .iter()
        .find(|r| r["feed"]["url"] == server.url("/opml-feed.xml"))
        .unwrap_or_else(|| panic!("OPML feed record in {records:#?}"));
    assert!(
        from_opml["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "Harbour")),
        "folder title as tag: {from_opml}"
    );
}

#[test]
fn usage_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad_flag = run_newswire(&["run", "--no-such-flag"], dir.path());
    assert_eq!(bad_flag.status.code(), Some(1), "unknown flag");
    let missing = run_newswire(&["run", "--once", "--config", "missing.toml"], dir.path());
    assert_eq!(missing.status.code(), Some(1), "unreadable config");
    let help = run_newswire(&["--help"], dir.path());
    assert_eq!(help.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("75 another process holds the state lock")
    );
}

#[test]
fn semantic_problems_of_plain_values_carry_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("newswire.toml");
    std::fs::write(
        &config,
        "[fetch]\n\
         concurrency = 0\n\
         min_interval = \"2h\"\n\
         max_interval = \"1h\"\n\
         \n\
         [metrics]\n\
         listen = \"localhost\"\n",
    )
    .unwrap();
    let out = run_newswire(
        &["validate", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let shown = config.display();
    for (line, words) in [
        (2, "fetch.concurrency"),
        (3, "fetch.min_interval"),
        (7, "metrics.listen"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("{shown}:{line}: ")) && l.contains(words)),
            "line {line} ({words}) reported: {stderr}"
        );
    }
}
