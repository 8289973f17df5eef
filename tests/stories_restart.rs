//! Story ids survive a restart: the clusterer's state is saved to the state store at the
//! end of a pass and loaded by the next, so a second report of an incident, fetched by a
//! later run, joins the story the first run opened (a fresh clusterer would open a story
//! of its own, named after the second report). Story lines go to the same JSONL sink.

mod common;

use common::{FixtureServer, Resource, read_records, run_newswire, write_config};

fn page(title: &str, published: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta property=\"article:published_time\" content=\"{published}\"></head>\
         <body><article><h1>{title}</h1>{body}</article></body></html>"
    )
}

const FIRST: [&str; 3] = [
    "A magnitude 6.1 earthquake struck the mountain town of Valmora on Tuesday morning, collapsing the old grain hall and damaging the Tessin bridge, regional governor Ilse Brandt said.",
    "Rescue teams from Valmora and the neighbouring valley searched the rubble of the grain hall through the afternoon; Brandt said at least fourteen people were injured and two were missing.",
    "The Tessin bridge, the only road link to the upper valley, was closed to traffic while engineers inspected cracks in its central pier.",
];

const SECOND: [&str; 3] = [
    "Governor Ilse Brandt said on Wednesday that both people missing after the magnitude 6.1 earthquake in Valmora had been found alive under the grain hall, a day after the quake.",
    "Engineers reopened one lane of the Tessin bridge to emergency vehicles, Brandt told reporters in Valmora, and the fourteen injured were recovering in the regional hospital.",
    "Aftershocks continued to shake the Valmora area overnight, and families from the upper valley slept in the school gymnasium as a precaution.",
];

fn feed(base: &str, items: &[(&str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(path, date)| {
            format!("<item><title>{path}</title><link>{base}{path}</link><guid>{path}</guid><pubDate>{date}</pubDate></item>")
        })
        .collect();
    format!("<rss version=\"2.0\"><channel><title>Valley News</title>{items}</channel></rss>")
}

#[test]
fn a_report_fetched_after_a_restart_joins_the_story_opened_before_it() {
    let server = FixtureServer::start();
    let base = server.url("");
    server.put(
        "/quake-strikes",
        Resource::ok(
            "text/html",
            page(
                "Earthquake hits Valmora, governor Brandt reports injuries",
                "2024-03-05T08:00:00Z",
                &FIRST,
            ),
        ),
    );
    server.put(
        "/quake-missing-found",
        Resource::ok(
            "text/html",
            page(
                "Missing found alive after Valmora earthquake, Brandt says",
                "2024-03-06T09:00:00Z",
                &SECOND,
            ),
        ),
    );
    let first_day = [("/quake-strikes", "Tue, 05 Mar 2024 08:00:00 GMT")];
    server.put(
        "/rss.xml",
        Resource::ok("application/rss+xml", feed(&base, &first_day)),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[stories]\nenabled = true\n\n[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{}\"\n",
            server.url("/rss.xml")
        ),
    );
    let run = || {
        let out = run_newswire(
            &["run", "--once", "--config", config.to_str().unwrap()],
            dir.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run();
    let both_days = [
        ("/quake-strikes", "Tue, 05 Mar 2024 08:00:00 GMT"),
        ("/quake-missing-found", "Wed, 06 Mar 2024 09:00:00 GMT"),
    ];
    server.put(
        "/rss.xml",
        Resource::ok("application/rss+xml", feed(&base, &both_days)),
    );
    run();

    let lines = read_records(&dir.path().join("out"));
    let records: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["schema"] == "newswire.record/1")
        .collect();
    assert_eq!(records.len(), 2, "one record per run: {lines:#?}");
    let story_of = |path: &str| {
        records
            .iter()
            .find(|r| r["url"].as_str().unwrap().ends_with(path))
            .unwrap_or_else(|| panic!("no record for {path}"))["story"]["id"]
            .clone()
    };
    let story = story_of("/quake-strikes");
    assert!(story.as_str().is_some_and(|s| s.starts_with("st-")));
    assert_eq!(
        story_of("/quake-missing-found"),
        story,
        "same incident, same story across the restart"
    );

    // One story line per run for the story: one article, then two.
    let counts: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["schema"] == "newswire.story/1" && l["id"] == story)
        .map(|l| &l["article_count"])
        .collect();
    assert_eq!(counts, [1, 2], "{lines:#?}");
}
