//! End to end: a local HTTP server with feeds and article pages, one `run --once` pass,
//! the records checked field by field, then a second pass that must emit nothing and
//! must use conditional requests. Broken feeds are reported and do not stop the others.

mod common;

use common::{FixtureServer, Resource, read_records, run_newswire, schema_validator, write_config};

fn article_page(title: &str, author: &str, published: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | Lakeside Courier</title>
<meta name="author" content="{author}">
<meta property="og:site_name" content="Lakeside Courier">
<meta property="article:published_time" content="{published}">
</head><body>
<a href="#main">Skip to content</a>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/region">Region</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main id="main"><article>
<h1>{title}</h1>
<p class="byline">By {author}</p>
{body}
</article>
<aside class="newsletter"><h3>Get the morning briefing</h3><p>Sign up for our newsletter and never miss a story from the valley.</p><form><input type="email"><button>Subscribe</button></form><p>By subscribing you agree to our privacy policy.</p></aside>
<section class="related"><h3>Read more</h3><ul><li><a href="/x">Council approves new ferry timetable</a></li><li><a href="/y">Harvest festival returns</a></li></ul></section>
</main>
<footer><p>© Lakeside Courier. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
<script>var tracking = "should never appear";</script>
</body></html>"##
    )
}

const BRIDGE: [&str; 4] = [
    "Engineers closed the old Mill Street bridge to lorries on Thursday after an inspection found corrosion in two of the steel girders that carry the eastern span across the river.",
    "The county transport office said cars and cyclists could still cross while a detailed survey is carried out, but that vehicles heavier than seven tonnes would be sent on a diversion through the northern ring road for at least six weeks.",
    "Local businesses on both banks warned that the closure would add up to forty minutes to delivery rounds, and the chamber of commerce asked the council to publish a timetable for the repairs before the end of the month.",
    "A spokesperson for the council said the bridge had been scheduled for refurbishment next year and that the work would now be brought forward, with a budget to be agreed at the next full meeting.",
];

const FERRY: [&str; 3] = [
    "The lake ferry will run an extra evening crossing from next week, the operator announced, after commuters complained that the last boat left before most offices closed in the town centre.",
    "The additional service will leave the north pier at half past seven and return forty minutes later, and the operator said it would review passenger numbers at the end of the summer before deciding whether to keep it.",
    "Season tickets bought before the change will be valid on the new crossing without any extra charge, according to the timetable published on Monday.",
];

const SCHOOL: [&str; 3] = [
    "Parents at Hillcrest primary school have started a petition asking the education board to reverse its decision to merge two reception classes next autumn.",
    "The board said falling birth rates in the district meant it could no longer justify the cost of a second teacher, but parents argue that a class of thirty-two four-year-olds is too large to manage safely.",
    "A public meeting to discuss the plan is due to take place in the school hall on the first Tuesday of next month, and the board has promised to publish the figures behind its decision beforehand.",
];

fn serve_fixtures(server: &FixtureServer) {
    let base = server.url("");
    server.put(
        "/news/bridge-closure",
        Resource::ok(
            "text/html; charset=utf-8",
            article_page(
                "Mill Street bridge closed to lorries",
                "Maria Keller",
                "2024-03-04T09:30:00+01:00",
                &BRIDGE,
            ),
        ),
    );
    server.put(
        "/news/evening-ferry",
        Resource::ok(
            "text/html; charset=utf-8",
            article_page(
                "Lake ferry adds an evening crossing",
                "Tom Abara",
                "2024-03-05T16:00:00Z",
                &FERRY,
            ),
        ),
    );
    server.put(
        "/news/school-merger",
        Resource::ok(
            "text/html",
            article_page(
                "Parents petition against class merger",
                "Ines Duval",
                "2024-03-06T08:15:00-05:00",
                &SCHOOL,
            ),
        ),
    );
    server.put(
        "/rss.xml",
        Resource::ok(
            "application/rss+xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Lakeside Courier &amp; Region</title><link>{base}/</link><description>Local news</description>
<item><title>Mill Street bridge closed to lorries</title><link>{base}/news/bridge-closure?utm_source=rss&amp;utm_medium=feed</link><guid isPermaLink="false">lc-1001</guid><pubDate>Mon, 04 Mar 2024 08:30:00 GMT</pubDate><category>Transport</category></item>
<item><title><![CDATA[Lake ferry adds an evening crossing]]></title><link>{base}/news/evening-ferry</link><guid>lc-1002</guid><pubDate>Tue, 05 Mar 2024 16:00:00 GMT</pubDate></item>
</channel></rss>"#
            ),
        ),
    );
    server.put(
        "/atom.xml",
        Resource::ok(
            "application/atom+xml",
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Lakeside Courier: Education</title><id>urn:lc:education</id><updated>2024-03-06T13:15:00Z</updated>
<entry><title>Parents petition against class merger</title><link href="{base}/news/school-merger"/><id>urn:lc:1003</id><updated>2024-03-06T13:15:00Z</updated><author><name>Ines Duval</name></author><summary>Parents want two reception classes kept.</summary></entry>
<entry><title>Mill Street bridge closed to lorries</title><link href="{base}/news/bridge-closure#top"/><id>urn:lc:1001</id><updated>2024-03-04T08:30:00Z</updated></entry>
</feed>"#
            ),
        ),
    );
    server.put(
        "/not-a-feed.xml",
        Resource::ok(
            "text/html",
            "<html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
        ),
    );
}

#[test]
fn once_pass_emits_clean_records_then_nothing() {
    let server = FixtureServer::start();
    serve_fixtures(&server);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{}\"\nname = \"Courier\"\ntags = [\"local\"]\n\n[[feed]]\nurl = \"{}\"\n\n[[feed]]\nurl = \"{}\"\n\n[[feed]]\nurl = \"{}\"\n",
            server.url("/rss.xml"),
            server.url("/atom.xml"),
            server.url("/missing.xml"),
            server.url("/not-a-feed.xml"),
        ),
    );
    let config = config.to_str().unwrap();

    let first = run_newswire(&["run", "--once", "--config", config], dir.path());
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "first pass failed: {stderr}");
    assert!(
        first.stdout.is_empty(),
        "stdout must carry only records, and the sink is a file"
    );
    assert!(
        stderr.contains("2 feeds ok, 2 failed, 3 new records"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&server.url("/missing.xml")),
        "the 404 feed is named: {stderr}"
    );
    assert!(
        stderr.contains(&server.url("/not-a-feed.xml")),
        "the non-feed is named: {stderr}"
    );

    let records = read_records(&dir.path().join("out"));
    assert_eq!(
        records.len(),
        3,
        "one record per article, the bridge story once: {records:#?}"
    );
    let validator = schema_validator();
    for record in &records {
        let errors: Vec<String> = validator
            .iter_errors(record)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "schema errors {errors:?} in {record:#}");
    }

    let bridge = records
        .iter()
        .find(|r| r["canonical_url"] == server.url("/news/bridge-closure"))
        .unwrap_or_else(|| panic!("bridge record in {records:#?}"));
    assert_eq!(bridge["schema"], "newswire.record/1");
    assert_eq!(bridge["title"], "Mill Street bridge closed to lorries");
    assert_eq!(
        bridge["authors"],
        serde_json::json!(["Maria Keller"]),
        "{bridge:#}"
    );
    assert_eq!(
        bridge["published_at"], "2024-03-04T08:30:00Z",
        "page date converted to UTC"
    );
    assert_eq!(bridge["language"], "en");
    assert_eq!(bridge["canonical_url"], server.url("/news/bridge-closure"));
    assert_eq!(bridge["site"]["name"], "Lakeside Courier");
    // Both feeds link the bridge story; whichever got there first owns the record.
    let from_rss = bridge["feed"]["url"] == server.url("/rss.xml");
    let expected_title = if from_rss {
        "Lakeside Courier & Region"
    } else {
        "Lakeside Courier: Education"
    };
    assert_eq!(bridge["feed"]["title"], expected_title);
    assert!(
        bridge["guid"] == "lc-1001" || bridge["guid"] == "urn:lc:1001",
        "{}",
        bridge["guid"]
    );
    if from_rss {
        assert!(
            bridge["tags"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("local")),
            "feed tags copied"
        );
    }
    assert!(bridge["duplicate_of"].is_null());
    let text = bridge["text"].as_str().unwrap();
    for paragraph in BRIDGE {
        assert!(
            text.contains(paragraph),
            "missing paragraph {paragraph:?} in {text:?}"
        );
    }
    assert!(
        text.contains("\n\n"),
        "paragraphs separated by a blank line"
    );
    for junk in [
        "Skip to content",
        "Sign up for our newsletter",
        "Read more",
        "All rights reserved",
        "tracking",
        "Harvest festival",
    ] {
        assert!(
            !text.contains(junk),
            "boilerplate {junk:?} leaked into {text:?}"
        );
    }
    assert!(bridge["word_count"].as_u64().unwrap() > 100);
    assert_eq!(bridge["content_hash"].as_str().unwrap().len(), 64);

    let ferry = records
        .iter()
        .find(|r| r["guid"] == "lc-1002")
        .expect("ferry record");
    assert_eq!(ferry["title"], "Lake ferry adds an evening crossing");
    assert_eq!(ferry["published_at"], "2024-03-05T16:00:00Z");
    let school = records
        .iter()
        .find(|r| r["guid"] == "urn:lc:1003")
        .expect("school record");
    assert_eq!(
        school["published_at"], "2024-03-06T13:15:00Z",
        "-05:00 converted to UTC"
    );
    assert_eq!(school["feed"]["title"], "Lakeside Courier: Education");

    // Second pass: nothing new, and the feeds were asked conditionally.
    let second = run_newswire(&["run", "--once", "--config", config], dir.path());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "second pass failed: {stderr}");
    assert!(
        stderr.contains("2 feeds ok, 2 failed, 0 new records"),
        "{stderr}"
    );
    assert_eq!(
        read_records(&dir.path().join("out")).len(),
        3,
        "no record emitted twice"
    );
    for feed in ["/rss.xml", "/atom.xml"] {
        let polls = server.requests_for(feed);
        assert_eq!(polls.len(), 2, "{feed} polled once per pass");
        assert!(
            polls[1].headers.contains_key("if-none-match"),
            "{feed}: second poll is conditional: {:?}",
            polls[1].headers
        );
        assert_eq!(polls[1].status, 304);
    }
}

#[test]
fn stdout_output_carries_only_records() {
    let server = FixtureServer::start();
    serve_fixtures(&server);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("[[feed]]\nurl = \"{}\"\n", server.url("/rss.xml")),
    );
    let out = run_newswire(
        &[
            "run",
            "--once",
            "--config",
            config.to_str().unwrap(),
            "--output",
            "-",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in lines {
        let record: serde_json::Value =
            serde_json::from_str(line).expect("every stdout line is a record");
        assert_eq!(record["schema"], "newswire.record/1");
    }
}

#[test]
fn config_error_exits_non_zero_before_fetching() {
    let server = FixtureServer::start();
    serve_fixtures(&server);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[feed]]\nurl = \"{}\"\ninterval = \"often\"\n",
            server.url("/rss.xml")
        ),
    );
    let out = run_newswire(
        &["run", "--once", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("newswire.toml:") && stderr.contains("often"),
        "{stderr}"
    );
    assert!(
        server.requests.lock().unwrap().is_empty(),
        "nothing fetched"
    );
}
