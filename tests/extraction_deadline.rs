//! `pipeline.extract_timeout` is honoured by the pipeline: a page whose extraction runs past
//! it still gives its record, built from the feed entry, with the reason in the record's
//! warnings and in the log naming the page, and the run goes on to the feed's next page.

mod common;

use common::{FixtureServer, Resource, rss_feed, run_once_to_jsonl, story_page};

/// A page far too long to extract within a millisecond, even in a release build.
fn long_page() -> String {
    let paragraph = "<p>The council met again on Tuesday to discuss the harbour plan, and residents \
                     asked once more why the ferry timetable had changed without notice.</p>";
    format!(
        "<html><head><title>Long page</title></head><body><article>{}</article></body></html>",
        paragraph.repeat(10_000)
    )
}

#[test]
fn a_page_past_the_extraction_deadline_gives_the_feed_entrys_record() {
    let server = FixtureServer::start();
    server.put("/long", Resource::ok("text/html", long_page()));
    server.put(
        "/short",
        Resource::ok("text/html", story_page("Short page")),
    );
    server.put(
        "/feed.xml",
        Resource::ok(
            "application/rss+xml",
            rss_feed("Deadline", &server.url(""), &["/long", "/short"]),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let (records, stderr) = run_once_to_jsonl(
        dir.path(),
        "[pipeline]\nextract_timeout = \"1ms\"\n",
        &server.url("/feed.xml"),
    );
    assert_eq!(records.len(), 2, "no record lost: {stderr}");
    let long_url = server.url("/long");
    let long = records
        .iter()
        .find(|r| r["url"] == long_url.as_str())
        .expect("the long page's record");
    assert_eq!(long["extraction"]["method"], "feed", "{long}");
    assert_eq!(long["title"], "/long", "the feed entry's title: {long}");
    let warnings = long["extraction"]["warnings"].to_string();
    assert!(
        warnings.contains("extraction time budget exceeded"),
        "{warnings}"
    );
    assert!(
        stderr.contains("extraction exceeded") && stderr.contains(&long_url),
        "the log names the page: {stderr}"
    );
}
