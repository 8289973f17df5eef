//! End-to-end behaviour of the story clusterer on our own fixtures: reports of one incident join,
//! copies join, later escalations and same-kind incidents elsewhere stay apart, state survives a
//! restart, memory stays bounded, story lines are rate-limited.

use chrono::{DateTime, Duration, Utc};
use newswire_stories::{ArticleIn, Assignment, Clusterer, Config, ResolvedBy, StoryState};
use serde::Deserialize;

#[derive(Deserialize, Clone)]
struct Fixture {
    id: String,
    published_at: DateTime<Utc>,
    source: String,
    title: String,
    text: String,
    #[serde(default)]
    duplicate_of: Option<String>,
}

fn load(name: &str) -> Vec<Fixture> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assign(c: &mut Clusterer, f: &Fixture) -> Assignment {
    c.assign(&ArticleIn {
        id: &f.id,
        published_at: Some(f.published_at),
        title: &f.title,
        text: &f.text,
        language: Some("en"),
        source: Some(&f.source),
        duplicate_of: f.duplicate_of.as_deref(),
    })
}

/// Unrelated news of the same days, so that the online IDF has seen ordinary vocabulary.
fn background(c: &mut Clusterer, at: DateTime<Utc>) {
    let items = [
        (
            "Central bank holds interest rates",
            "The central bank in Frankfurt kept its main rate at 4 percent on Thursday, citing slowing inflation in the euro area.",
        ),
        (
            "Champions League draw pairs Madrid and Munich",
            "Real Madrid will face Bayern Munich in the quarter-finals after the draw in Nyon on Friday.",
        ),
        (
            "Heatwave grips southern Spain",
            "Temperatures in Seville reached 44 degrees as authorities in Andalusia warned of wildfires.",
        ),
        (
            "Tech firm unveils new phone",
            "The company presented its new smartphone in Cupertino, promising a longer battery life and a faster chip.",
        ),
        (
            "Parliament passes budget in Ottawa",
            "Canadian lawmakers approved the federal budget after a late-night vote in Ottawa on Wednesday.",
        ),
    ];
    for (i, (title, text)) in items.iter().enumerate() {
        let id = format!("bg-{}-{i}", at.timestamp());
        c.assign(&ArticleIn {
            id: &id,
            published_at: Some(at),
            title,
            text,
            language: Some("en"),
            source: Some("Background Wire"),
            duplicate_of: None,
        });
    }
}

fn t0() -> DateTime<Utc> {
    "2023-04-10T06:00:00Z".parse().unwrap()
}

#[test]
fn one_incident_in_three_outlets_wordings_joins_one_story_with_one_village() {
    let mut c = Clusterer::new(Config::default());
    background(&mut c, t0());
    let reports = load("one_incident_three_outlets.json");
    let got: Vec<Assignment> = reports.iter().map(|f| assign(&mut c, f)).collect();
    assert_eq!(
        got[0].story.id, got[1].story.id,
        "second outlet joins: {:?}",
        got[1].story
    );
    assert_eq!(
        got[0].story.id, got[2].story.id,
        "third outlet joins: {:?}",
        got[2].story
    );
    assert!(got[2].story.score > 0.0);

    // Farrukh / Farukh / Parukh: one place, the other spellings its aliases.
    let village: Vec<_> = got[2]
        .places
        .iter()
        .filter(|p| p.resolved_by == ResolvedBy::Context)
        .collect();
    assert_eq!(village.len(), 1, "{:?}", got[2].places);
    let mut spellings: Vec<&str> = village[0].aliases.iter().map(String::as_str).collect();
    spellings.push(&village[0].name);
    for s in ["Farukh", "Parukh", "Farrukh"] {
        assert!(spellings.contains(&s), "{s} missing from {spellings:?}");
    }
    // "Azeri troops", "Baku", "Yerevan", "the Kremlin" make actors.
    assert!(
        got[1].actors.contains(&"Azerbaijan".to_string()),
        "{:?}",
        got[1].actors
    );
    assert!(
        got[1].actors.contains(&"Russia".to_string()),
        "{:?}",
        got[1].actors
    );
    assert!(
        got[0].actors.contains(&"Armenia".to_string()),
        "{:?}",
        got[0].actors
    );
    assert!(
        got[0].countries.contains(&"AZ".to_string()),
        "{:?}",
        got[0].countries
    );
    let baku = got[0]
        .places
        .iter()
        .find(|p| p.name == "Baku")
        .expect("Baku resolved");
    assert_eq!(baku.geonames_id, Some(587084));
    assert_eq!(baku.country.as_deref(), Some("AZ"));
}

#[test]
fn syndicated_copy_joins_its_originals_story() {
    let mut c = Clusterer::new(Config::default());
    background(&mut c, t0());
    let reports = load("one_incident_three_outlets.json");
    let original = assign(&mut c, &reports[1]);
    let mut copy = reports[1].clone();
    copy.id = "partner-site-copy".into();
    copy.source = "Partner Site".into();
    copy.title = "Russia: Azeri forces entered peacekeepers' area".into();
    copy.published_at += Duration::hours(2);
    copy.duplicate_of = Some(reports[1].id.clone());
    let got = assign(&mut c, &copy);
    assert_eq!(got.story.id, original.story.id);
    assert_eq!(got.story.score, 1.0, "placed through duplicate_of");
}

#[test]
fn escalation_weeks_later_is_a_different_story() {
    let mut c = Clusterer::new(Config::default());
    background(&mut c, t0());
    let reports = load("one_incident_three_outlets.json");
    let first: Vec<Assignment> = reports.iter().map(|f| assign(&mut c, f)).collect();
    let later = t0() + Duration::weeks(5);
    background(&mut c, later);
    let escalation = Fixture {
        id: "escalation-1".into(),
        published_at: later,
        source: "Caucasus Monitor".into(),
        title: "Azerbaijani troops advance beyond Farukh as Armenia appeals to Moscow".into(),
        text: "Azerbaijani forces pushed past the village of Farukh in Nagorno-Karabakh on Sunday and took two more hills, Karabakh officials said.\n\nArmenia again asked Russian peacekeepers to intervene. The defence ministry in Baku said its soldiers were answering fire.".into(),
        duplicate_of: None,
    };
    let got = assign(&mut c, &escalation);
    assert_ne!(
        got.story.id, first[0].story.id,
        "five weeks later is another story"
    );
}

#[test]
fn two_quakes_on_the_same_day_in_different_places_stay_apart() {
    let mut c = Clusterer::new(Config::default());
    background(&mut c, "2024-02-03T00:00:00Z".parse().unwrap());
    let reports = load("same_kind_same_day.json");
    let got: Vec<Assignment> = reports.iter().map(|f| assign(&mut c, f)).collect();
    let (a1, b1, a2, b2) = (
        &got[0].story.id,
        &got[1].story.id,
        &got[2].story.id,
        &got[3].story.id,
    );
    assert_ne!(a1, b1, "Arequipa and Izmir are different incidents");
    assert_eq!(a1, a2, "both Arequipa reports join");
    assert_eq!(b1, b2, "both Izmir reports join");
    assert!(
        got[0].countries.contains(&"PE".to_string()),
        "{:?}",
        got[0].countries
    );
    assert!(
        got[1].countries.contains(&"TR".to_string()),
        "{:?}",
        got[1].countries
    );
}

#[test]
fn restart_in_the_middle_keeps_story_ids() {
    let reports = load("one_incident_three_outlets.json");
    let mut c = Clusterer::new(Config::default());
    background(&mut c, t0());
    let first = assign(&mut c, &reports[0]);
    let second = assign(&mut c, &reports[1]);
    let saved = serde_json::to_string(c.state()).expect("state serialises");
    drop(c);

    let state: StoryState = serde_json::from_str(&saved).expect("state deserialises");
    let mut resumed = Clusterer::with_state(Config::default(), state);
    let third = assign(&mut resumed, &reports[2]);
    assert_eq!(first.story.id, second.story.id);
    assert_eq!(
        third.story.id, first.story.id,
        "the story id survives the restart"
    );
}

#[test]
fn story_lines_are_emitted_when_a_story_changes_at_most_once_per_interval() {
    let config = Config {
        story_line_interval_secs: 600,
        ..Config::default()
    };
    let mut c = Clusterer::new(config);
    background(&mut c, t0());
    let reports = load("one_incident_three_outlets.json");
    let a = assign(&mut c, &reports[0]);
    let now = reports[0].published_at;
    let lines = c.take_story_lines(now);
    let line = lines
        .iter()
        .find(|l| l.id == a.story.id)
        .expect("a line for the new story");
    assert_eq!(line.schema, "newswire.story/1");
    assert_eq!(line.article_count, 1);
    assert!(c.take_story_lines(now).is_empty(), "nothing changed");

    let b = assign(&mut c, &reports[1]);
    assert_eq!(b.story.id, a.story.id);
    let early = c.take_story_lines(now + Duration::seconds(60));
    assert!(
        early.iter().all(|l| l.id != a.story.id),
        "changed, but within the interval"
    );
    let later = c.take_story_lines(now + Duration::seconds(601));
    let line = later
        .iter()
        .find(|l| l.id == a.story.id)
        .expect("line after the interval");
    assert_eq!(line.article_count, 2);
    assert_eq!(line.source_count, 2);
    assert!(line.actors.contains(&"Azerbaijan".to_string()));
    assert_eq!(line.merged_into, None);
}

#[test]
fn a_storys_source_count_goes_past_the_sources_it_names() {
    let mut c = Clusterer::new(Config::default());
    background(&mut c, t0());
    let reports = load("one_incident_three_outlets.json");
    let original = assign(&mut c, &reports[1]);
    for n in 0..40 {
        let mut copy = reports[1].clone();
        copy.id = format!("partner-copy-{n}");
        copy.source = format!("Partner Site {n}");
        copy.duplicate_of = Some(reports[1].id.clone());
        assert_eq!(assign(&mut c, &copy).story.id, original.story.id);
    }
    let lines = c.take_story_lines(reports[1].published_at + Duration::days(1));
    let line = lines
        .iter()
        .find(|l| l.id == original.story.id)
        .expect("the story's line");
    assert_eq!(line.article_count, 41);
    assert_eq!(line.source_count, 41, "every outlet counted");
    assert!(line.sources.len() <= 32, "the names listed stay bounded");
}

/// A deterministic synthetic stream: `n` articles spread over `span_secs`, three per story on
/// average, each story with its own names and vocabulary drawn from 300,000 made-up words (so that,
/// like real news, most stories are small and distinct).
pub fn synthetic_stream(n: usize, span_secs: i64, mut each: impl FnMut(&ArticleIn<'_>)) {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ren", "tas", "vo", "dri", "sel", "mon", "pa", "gur", "the", "nal",
        "bri", "os", "ul", "fen", "zar", "qui", "dem", "hol", "ast", "ber", "cy", "ter", "wen",
        "ix", "yor",
    ];
    let word = |k: u64| -> String {
        let k = k % 300_000;
        let s = SYLLABLES.len() as u64;
        let syl = |d: u64| SYLLABLES[((k / s.pow(d as u32)) % s) as usize];
        format!("{}{}{}{}", syl(0), syl(1), syl(2), syl(3))
    };
    let start: DateTime<Utc> = "2025-03-01T00:00:00Z".parse().unwrap();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..n {
        let story = (i / 3) as u64;
        let story_word = |j: u64| word(story.wrapping_mul(2_654_435_761).wrapping_add(j * 7_919));
        let mut text = String::new();
        for s in 0..8 {
            let name = story_word(s % 4);
            text.push_str(&format!(
                "The {} {} met {} about the {} and the {} in {}{} on {}.\n",
                story_word(4 + rnd() % 12),
                word(rnd()),
                capitalise(&name),
                story_word(4 + rnd() % 12),
                word(rnd()),
                capitalise(&story_word(16)),
                story % 997,
                word(rnd()),
            ));
        }
        let id = format!("a{i}");
        let title = format!(
            "{} {} {}",
            capitalise(&story_word(0)),
            story_word(5),
            story_word(6)
        );
        let at = start + Duration::seconds(span_secs * i as i64 / n as i64);
        let source = format!("outlet{}", i % 50);
        each(&ArticleIn {
            id: &id,
            published_at: Some(at),
            title: &title,
            text: &text,
            language: Some("en"),
            source: Some(&source),
            duplicate_of: None,
        });
    }
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[test]
fn state_stays_bounded_by_the_story_cap() {
    let config = Config {
        max_stories: 300,
        max_recent_articles: 1_000,
        max_df_terms: 5_000,
        ..Config::default()
    };
    let mut c = Clusterer::new(config);
    let mut peak = 0;
    let mut most_stories = 0;
    synthetic_stream(3_000, 7 * 86_400, |a| {
        c.assign(a);
        most_stories = most_stories.max(c.live_stories());
        peak = peak.max(c.heap_bytes());
    });
    assert!(most_stories <= 301, "{most_stories} live stories");
    assert!(
        c.state().df_terms() <= 5_001 + 2_000,
        "df table pruned: {}",
        c.state().df_terms()
    );
    assert!(peak < 2 << 20, "peak {peak} bytes for a 300-story cap");
}

/// The 64 MB bound at 100k articles in a 7-day window, with the shipped configuration
/// (`--nocapture` prints the figures; the crate is optimised in test builds, see Cargo.toml).
#[test]
fn hundred_thousand_articles_in_seven_days_stay_under_64_mb() {
    let mut c = Clusterer::new(Config::default());
    let mut peak = 0;
    let mut i = 0;
    let started = std::time::Instant::now();
    synthetic_stream(100_000, 7 * 86_400, |a| {
        c.assign(a);
        i += 1;
        if i % 5000 == 0 {
            peak = peak.max(c.heap_bytes());
            // The pipeline hands out story lines every few seconds; here every 5,000 articles.
            if let Some(now) = a.published_at {
                let _ = c.take_story_lines(now);
            }
        }
    });
    // Resident memory of the whole test process (gazetteer and allocator slack included), Linux only.
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    eprintln!("process peak resident memory before serialising the state: {rss}");
    let json = serde_json::to_vec(c.state()).unwrap_or_default();
    // What the pipeline's checkpoint stores: the JSON, zstd level 3.
    let stored = zstd::encode_all(json.as_slice(), 3).map_or(0, |z| z.len());
    eprintln!(
        "peak heap {peak} bytes, {} live stories, serialised state {} bytes ({stored} bytes compressed), {:.0} articles/s",
        c.live_stories(),
        json.len(),
        100_000.0 / started.elapsed().as_secs_f64()
    );
    assert!(peak < 64 << 20, "peak {peak} bytes");
}

#[test]
fn two_stories_that_converge_are_merged_and_the_younger_records_merged_into() {
    // Joining is made impossible so that one incident opens two stories; copies (which join their
    // original's story whatever the thresholds) give each story a second article, after which
    // the two centroids are the same and the stories must merge.
    let config = Config {
        join_threshold: 2.0,
        sure_threshold: 2.0,
        merge_threshold: 0.8,
        ..Config::default()
    };
    let mut c = Clusterer::new(config);
    background(&mut c, t0());
    let reports = load("one_incident_three_outlets.json");
    let base = &reports[0];
    let variant = |id: &str, dup: Option<&str>| Fixture {
        id: id.to_string(),
        duplicate_of: dup.map(str::to_string),
        ..base.clone()
    };
    let a1 = assign(&mut c, &variant("a1", None));
    assign(&mut c, &variant("a1-copy", Some("a1")));
    let b1 = assign(&mut c, &variant("b1", None));
    assert_ne!(
        a1.story.id, b1.story.id,
        "joining is off: a second story opens"
    );
    let b2 = assign(&mut c, &variant("b1-copy", Some("b1")));
    assert_eq!(b2.story.id, b1.story.id, "an emitted id is never rewritten");
    let later = assign(&mut c, &variant("b1-copy-2", Some("b1")));
    assert_eq!(
        later.story.id, a1.story.id,
        "after the merge, the younger story's reports go to the older one"
    );
    let lines = c.flush_story_lines();
    let merged = lines
        .iter()
        .find(|l| l.id == b1.story.id)
        .expect("a line for the merged story");
    assert_eq!(merged.merged_into.as_deref(), Some(a1.story.id.as_str()));
    let survivor = lines
        .iter()
        .find(|l| l.id == a1.story.id)
        .expect("a line for the surviving story");
    assert_eq!(survivor.merged_into, None);
    assert_eq!(survivor.article_count, 5);
}

/// Undated reports, as in an archive: two interceptions of pirates by one navy in one gulf, three
/// years apart, share their names and places; their figures and the years they name differ.
fn undated(c: &mut Clusterer, id: &str, title: &str, text: &str) -> String {
    c.assign(&ArticleIn {
        id,
        published_at: None,
        title,
        text,
        language: Some("en"),
        source: None,
        duplicate_of: None,
    })
    .story
    .id
}

fn pirate_reports(config: Config) -> (String, String, String) {
    let mut c = Clusterer::new(config);
    background(&mut c, t0());
    let a1 = undated(
        &mut c,
        "navy-a1",
        "Indian Navy captures 23 pirates in Gulf of Aden",
        "The Indian Navy captured 23 pirates in the Gulf of Aden on Saturday, December 13, 2008, after \
         warship INS Mysore answered a distress call from the merchant vessel Gibe. The pirates, 12 \
         Somali and 11 Yemeni, were handed to the authorities in Mumbai, a navy spokesman said.",
    );
    let a2 = undated(
        &mut c,
        "navy-a2",
        "Indian warship foils pirate attack, 23 held in Gulf of Aden",
        "An Indian Navy warship foiled a pirate attack in the Gulf of Aden and held 23 pirates, the \
         navy said on December 13, 2008. INS Mysore sent commandos to the merchant ship Gibe; 12 of \
         the pirates are Somali and 11 Yemeni, the spokesman in Mumbai said.",
    );
    let b1 = undated(
        &mut c,
        "navy-b1",
        "INS Sukanya thwarts multi-boat piracy attempt, 26 Somali pirates nabbed",
        "Patrolling the Gulf of Aden, INS Sukanya intercepted three pirate boats approaching five \
         merchant vessels on Thursday, November 10, 2011. Marine commandos seized rifles and \
         ammunition and apprehended 26 Somali pirates, the Western Naval Command in Mumbai said.",
    );
    (a1, a2, b1)
}

#[test]
fn undated_same_kind_incident_with_other_figures_and_years_opens_its_own_story() {
    let (a1, a2, b1) = pirate_reports(Config::default());
    assert_eq!(a1, a2, "two reports of the 2008 interception join");
    assert_ne!(a1, b1, "the 2011 interception is another incident");
    // Without the figure, year and date evidence the names, places and vocabulary make them one
    // story: the assertion above is the evidence's doing.
    let (a1, _, b1) = pirate_reports(Config {
        figure_weight: 0.0,
        year_weight: 0.0,
        date_weight: 0.0,
        ..Config::default()
    });
    assert_eq!(a1, b1);
}

#[test]
fn a_young_story_needs_a_stronger_match_than_an_established_one() {
    let strict = Config {
        young_articles: 1,
        // Above any cosine plus the figure and year evidence.
        young_threshold: 2.0,
        ..Config::default()
    };
    let (a1, a2, _) = pirate_reports(strict.clone());
    assert_ne!(
        a1, a2,
        "a one-report story takes nothing below the young threshold"
    );
    let (a1, a2, _) = pirate_reports(Config {
        young_articles: 0,
        ..strict
    });
    assert_eq!(
        a1, a2,
        "without the young-story rule the second report joins"
    );
}

/// A fraud verdict in Leeds, then a second outlet's report on the same case that shares its
/// people and firm but hardly a word of what happened; `third` is the second report's place.
fn verdict_reports(config: Config, third_place: &str) -> (String, String) {
    let mut c = Clusterer::new(config);
    background(&mut c, t0());
    let report = |c: &mut Clusterer, id: &str, title: &str, text: &str| {
        c.assign(&ArticleIn {
            id,
            published_at: Some(t0() + Duration::hours(2)),
            title,
            text,
            language: Some("en"),
            source: Some(id),
            duplicate_of: None,
        })
        .story
        .id
    };
    let first = report(
        &mut c,
        "verdict-a",
        "Jury convicts pair in pension fraud trial",
        "A jury in Leeds found Dorian Vasquez and Mirela Talbot guilty of defrauding pensioners \
         through Quellmark Holdings, prosecutors said. Judge Ansel Brightwater will sentence \
         them next month.",
    );
    let second = report(
        &mut c,
        "verdict-b",
        "Quellmark founders face years behind bars",
        &format!(
            "Dorian Vasquez and Mirela Talbot, who ran Quellmark Holdings, could spend a decade \
             in prison, their lawyer told reporters outside the court in {third_place}. Judge \
             Ansel Brightwater set the hearing for May."
        ),
    );
    (first, second)
}

#[test]
fn a_report_worded_differently_that_names_the_storys_people_joins() {
    let (first, second) = verdict_reports(Config::default(), "Leeds");
    assert_eq!(
        first, second,
        "same people, same city, other words: one story"
    );
    // The ordinary words alone would keep them apart: the join is the names' doing.
    let (first, second) = verdict_reports(
        Config {
            generic_waiver: 0.0,
            ..Config::default()
        },
        "Leeds",
    );
    assert_ne!(
        first, second,
        "without the waiver the ordinary words split them"
    );
}

#[test]
fn the_same_names_in_another_city_do_not_outweigh_what_happened() {
    let (first, second) = verdict_reports(Config::default(), "Bristol");
    assert_ne!(
        first, second,
        "other words in another city: not waived by the names"
    );
}
