//! The README's first command: the bundled offline demo prints valid, clean records, one
//! per article (the article linked from two feeds once), with the syndicated copy marked
//! as a near-duplicate and the independently written report of the same incident not.
//! The demo clusters stories: the three reports of the incursion share one story, and a
//! `newswire.story/1` line per story follows the records on stdout.

mod common;

use std::path::Path;

use common::{run_newswire, schema_validator};

#[test]
fn demo_prints_clean_valid_records() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = run_newswire(
        &[
            "run",
            "--once",
            "--config",
            "config/demo.toml",
            "--output",
            "-",
        ],
        &root,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("5 feeds ok, 0 failed, 15 new records"),
        "{stderr}"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("stdout carries only JSON lines"))
        .collect();
    let (records, story_lines): (Vec<serde_json::Value>, Vec<serde_json::Value>) = lines
        .into_iter()
        .partition(|l| l["schema"] == "newswire.record/1");
    assert!(
        story_lines
            .iter()
            .all(|l| l["schema"] == "newswire.story/1"),
        "only records and story lines: {story_lines:#?}"
    );
    assert_eq!(
        records.len(),
        15,
        "16 entries, the bridge story linked twice"
    );

    let validator = schema_validator();
    for record in &records {
        assert!(validator.is_valid(record), "{record:#}");
        let text = record["text"].as_str().unwrap();
        for junk in [
            "Accept all",
            "Share this article",
            "Copy link",
            "Jonas Pell / Tarn Valley Herald",
            "Support the Herald",
            "Monthly",
            "The Valley Morning",
            "newsletter",
            "privacy policy",
            "Skip to",
        ] {
            assert!(
                !text.contains(junk),
                "{junk:?} in {}: {text}",
                record["url"]
            );
        }
    }

    let by_page = |page: &str| {
        records
            .iter()
            .find(|r| r["url"].as_str().unwrap().ends_with(page))
            .unwrap_or_else(|| panic!("no record for {page}"))
    };
    let wire = by_page("meridian-wire/articles/brenik-incursion.html");
    let copy = by_page("tarn-valley-herald/articles/monitors-accuse-karsova.html");
    let families = by_page("tarn-valley-herald/articles/brenik-families.html");
    let marked: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| !r["duplicate_of"].is_null())
        .collect();
    assert_eq!(marked.len(), 1, "exactly the syndicated copy is marked");
    // The Herald republished the wire story (09:48Z) at 11:05Z: the later-published copy
    // points at the earlier one whichever page the run happens to finish first.
    assert_eq!(
        copy["duplicate_of"], wire["id"],
        "the copy points at the wire"
    );
    assert!(wire["duplicate_of"].is_null(), "the original is not marked");
    assert!(
        families["duplicate_of"].is_null(),
        "same incident, own reporting"
    );

    // One incident, three reports (wire, its syndicated copy, the Herald's own): one story.
    let story = &wire["story"]["id"];
    assert!(
        story.as_str().is_some_and(|s| s.starts_with("st-")),
        "{story}"
    );
    assert_eq!(&copy["story"]["id"], story);
    assert_eq!(&families["story"]["id"], story);
    assert_ne!(
        &by_page("the-price-of-bread.html")["story"]["id"],
        story,
        "a different story"
    );
    let mut story_ids: Vec<&serde_json::Value> =
        records.iter().map(|r| &r["story"]["id"]).collect();
    story_ids.sort_by_key(|v| v.to_string());
    story_ids.dedup();
    for id in &story_ids {
        assert!(
            story_lines.iter().any(|l| &l["id"] == *id),
            "no story line for {id}"
        );
    }
    let incursion = story_lines
        .iter()
        .rfind(|l| &l["id"] == story)
        .expect("the incursion's story line");
    let members = records
        .iter()
        .filter(|r| &r["story"]["id"] == story)
        .count();
    assert!(members >= 3, "wire, copy and own report");
    assert_eq!(
        incursion["article_count"], members,
        "the line counts the story's records"
    );

    let pdf = by_page("report.pdf");
    assert_eq!(pdf["extraction"]["method"], "feed");
    let german = by_page("drossener-tageblatt/articles/haushaltsdebatte.html");
    assert_eq!(german["language"], "de");
    assert_eq!(
        german["published_at"], "2026-11-19T15:45:00Z",
        "date from the feed"
    );
}
