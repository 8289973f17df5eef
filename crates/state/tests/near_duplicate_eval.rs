//! Precision and recall of the near-duplicate marking on a labelled, generated set.
//!
//! The set (see `support/templated_news.rs`, seeded, deterministic): 2,000 articles from
//! five templates with two house styles each, 200 independent reports of the same
//! incidents, 250 syndicated variants (another outlet's template + a paragraph added,
//! removed or reordered, a local intro, or a copy-edit) and 60 short briefs with copies.
//! Articles are processed in publication order through the real decision code: the
//! simhash filter of the SQLite state (band indexes), `Rule::decide` (MinHash
//! confirmation, direction), and indexing at commit; a second pass does the same through
//! the pipeline's in-run window (`RecentOriginals`).
//!
//! Fails below precision 1.0 or recall 0.95, and prints the numbers with the simhash
//! distance and similarity distributions of true and false candidates (`cargo test -p
//! newswire-state --test near_duplicate_eval -- --nocapture`).

#[path = "support/templated_news.rs"]
mod templated_news;

use chrono::{DateTime, Duration, TimeZone, Utc};
use newswire_core::config::DedupConfig;
use newswire_core::fingerprint::{Fingerprint, Similarity, word_count};
use newswire_core::near_dup::{Candidate, Decision, RecentOriginals, Rule};
use newswire_state::{EmittedRecord, IN_MEMORY, IndexEntry, SqliteState, StateStore};
use templated_news::{Article, Label, generate};

const SEED: u64 = 20_261_129;

/// Where originals are looked up: the state store or the in-run window.
trait Index {
    fn candidates(&self, rule: &Rule, fingerprint: &Fingerprint) -> Vec<Candidate>;
    fn add(&mut self, id: &str, entry: Option<IndexEntry>);
}

impl Index for SqliteState {
    fn candidates(&self, rule: &Rule, fingerprint: &Fingerprint) -> Vec<Candidate> {
        self.near_duplicates(fingerprint.simhash, rule.max_hamming_distance)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn add(&mut self, id: &str, entry: Option<IndexEntry>) {
        let record = EmittedRecord {
            id: id.to_string(),
            emitted_at: Utc::now(),
            near_dup: entry,
        };
        self.commit(&[record], &[])
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Index for RecentOriginals {
    fn candidates(&self, rule: &Rule, fingerprint: &Fingerprint) -> Vec<Candidate> {
        RecentOriginals::candidates(self, rule, fingerprint.simhash)
            .cloned()
            .collect()
    }

    fn add(&mut self, id: &str, entry: Option<IndexEntry>) {
        if let Some(entry) = entry {
            self.push(Candidate {
                id: id.to_string(),
                simhash: entry.fingerprint.simhash,
                minhash: Some(entry.fingerprint.minhash),
                published_at: entry.published_at,
            });
        }
    }
}

fn published(article: &Article) -> DateTime<Utc> {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    start + Duration::minutes(article.published_minute as i64)
}

/// The story an article belongs to: a copy belongs to its base's.
fn group(articles: &[Article], i: usize) -> usize {
    match &articles[i].label {
        Label::CopyOf { base, .. } => *base,
        _ => i,
    }
}

#[derive(Default)]
struct Distribution {
    distances: Vec<u32>,
    similarities: Vec<Similarity>,
}

impl Distribution {
    fn add(&mut self, distance: u32, similarity: Similarity) {
        self.distances.push(distance);
        self.similarities.push(similarity);
    }

    fn print(&self, name: &str) {
        println!("{name}: {} pairs", self.distances.len());
        if self.distances.is_empty() {
            return;
        }
        let mut histogram = [0usize; 65];
        for d in &self.distances {
            histogram[*d as usize] += 1;
        }
        let bins: Vec<String> = histogram
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(d, n)| format!("{d}:{n}"))
            .collect();
        println!("  simhash distance (bits:count) {}", bins.join(" "));
        for (what, pick) in [
            (
                "containment",
                (|s: &Similarity| s.containment) as fn(&Similarity) -> f32,
            ),
            ("jaccard", |s: &Similarity| s.jaccard),
        ] {
            let mut values: Vec<f32> = self.similarities.iter().map(pick).collect();
            values.sort_by(f32::total_cmp);
            let q = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
            println!(
                "  {what:<11} min {:.3}  p1 {:.3}  p5 {:.3}  median {:.3}  p95 {:.3}  p99 {:.3}  max {:.3}",
                q(0.0),
                q(0.01),
                q(0.05),
                q(0.5),
                q(0.95),
                q(0.99),
                q(1.0)
            );
        }
    }
}

struct Outcome {
    precision: f64,
    recall: f64,
}

fn evaluate(name: &str, articles: &[Article], index: &mut dyn Index) -> Outcome {
    let rule = Rule::from(&DedupConfig::default());
    let fingerprints: Vec<Fingerprint> =
        articles.iter().map(|a| Fingerprint::of(&a.text)).collect();
    let mut order: Vec<usize> = (0..articles.len()).collect();
    order.sort_by_key(|i| (articles[*i].published_minute, *i));
    let id_index: std::collections::HashMap<&str, usize> = articles
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();

    let (mut true_candidates, mut false_candidates) =
        (Distribution::default(), Distribution::default());
    let (mut marked, mut correct, mut wrong) = (0usize, 0usize, Vec::new());
    let mut wrong_direction = 0usize;
    for &i in &order {
        let article = &articles[i];
        let fingerprint = &fingerprints[i];
        let words = word_count(&article.text);
        let candidates = if rule.eligible(words) {
            index.candidates(&rule, fingerprint)
        } else {
            Vec::new()
        };
        for candidate in &candidates {
            let Some(other) = id_index.get(candidate.id.as_str()) else {
                continue;
            };
            let Some(minhash) = &candidate.minhash else {
                continue;
            };
            let similarity = fingerprint.minhash.similarity(minhash);
            let distance = fingerprint.simhash.distance(candidate.simhash);
            if group(articles, *other) == group(articles, i) {
                true_candidates.add(distance, similarity);
            } else {
                false_candidates.add(distance, similarity);
            }
        }
        let date = Some(published(article));
        let decision = rule.decide(&article.id, words, fingerprint, date, &candidates);
        if let Decision::CopyOf(found) = &decision {
            marked += 1;
            let original = id_index[found.id.as_str()];
            if published(&articles[original]) > published(article) {
                wrong_direction += 1;
            }
            let is_copy = matches!(article.label, Label::CopyOf { .. });
            if is_copy && group(articles, original) == group(articles, i) {
                correct += 1;
            } else {
                wrong.push(format!(
                    "{} ({:?}) marked a copy of {} ({:?})",
                    article.id, article.label, found.id, found
                ));
            }
        }
        let entry = decision.indexes().then(|| IndexEntry {
            fingerprint: fingerprint.clone(),
            published_at: date,
        });
        index.add(&article.id, entry);
    }

    let copies: Vec<usize> = (0..articles.len())
        .filter(|i| matches!(articles[*i].label, Label::CopyOf { .. }))
        .collect();
    let mut all_true = Distribution::default();
    let mut missed = Vec::new();
    let mut weakest: Vec<(f32, f32, u32, String)> = Vec::new();
    for &i in &copies {
        let base = group(articles, i);
        let (d, s) = (
            fingerprints[i].simhash.distance(fingerprints[base].simhash),
            fingerprints[i]
                .minhash
                .similarity(&fingerprints[base].minhash),
        );
        all_true.add(d, s);
        if let Label::CopyOf { edits, .. } = &articles[i].label {
            weakest.push((s.containment, s.jaccard, d, edits.clone()));
        }
    }
    weakest.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (c, j, d, edits) in weakest.iter().take(3) {
        println!("  weakest copy: containment {c:.3} jaccard {j:.3} distance {d} ({edits})");
    }
    // Template siblings regardless of the simhash filter: each article against the next
    // 20 of its kind (independent reports and briefs are in the candidate numbers).
    let mut siblings = Distribution::default();
    let mut strongest: Vec<(f32, f32, u32, usize, usize)> = Vec::new();
    let originals: Vec<usize> = (0..articles.len())
        .filter(|i| articles[*i].label == Label::Original && articles[*i].kind != "brief")
        .collect();
    for (n, &i) in originals.iter().enumerate() {
        for &j in originals[n + 1..]
            .iter()
            .filter(|j| articles[**j].kind == articles[i].kind)
            .take(20)
        {
            let s = fingerprints[i].minhash.similarity(&fingerprints[j].minhash);
            let d = fingerprints[i].simhash.distance(fingerprints[j].simhash);
            strongest.push((s.containment, s.jaccard, d, i, j));
            siblings.add(d, s);
        }
    }
    for &i in &copies {
        let base = group(articles, i);
        let d = fingerprints[i].simhash.distance(fingerprints[base].simhash);
        if d > rule.max_hamming_distance {
            missed.push(format!("{} ({d} bits)", articles[i].id));
        }
    }

    let precision = if marked == 0 {
        1.0
    } else {
        correct as f64 / marked as f64
    };
    let recall = correct as f64 / copies.len() as f64;
    println!("== {name} ==");
    println!(
        "articles {}  syndicated copies {}  marked {marked}  correct {correct}  precision {precision:.4}  recall {recall:.4}  marked against publication order {wrong_direction}",
        articles.len(),
        copies.len()
    );
    true_candidates.print("true candidates (same story, within the simhash distance)");
    false_candidates.print("false candidates (other stories, within the simhash distance)");
    all_true.print("every copy against its base (regardless of the filter)");
    siblings.print("template siblings, sampled (regardless of the filter)");
    strongest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (c, j, d, a, b) in strongest.iter().take(3) {
        println!(
            "  strongest sibling: containment {c:.3} jaccard {j:.3} distance {d} ({} / {})",
            articles[*a].id, articles[*b].id
        );
    }
    println!(
        "copies beyond the simhash distance ({}): {}",
        missed.len(),
        missed.join(", ")
    );
    for line in wrong.iter().take(20) {
        println!("  WRONG: {line}");
    }
    assert_eq!(wrong_direction, 0, "a copy points at a later-published one");
    Outcome { precision, recall }
}

#[test]
fn marking_is_precise_and_finds_the_syndicated_copies() {
    let articles = generate(SEED, 2000, 250, 60);
    let kinds = ["sports", "earnings", "weather", "police", "council"];
    for kind in kinds {
        assert!(
            articles
                .iter()
                .filter(|a| a.kind == kind && a.label == Label::Original)
                .count()
                >= 400
        );
    }
    for (name, index) in [
        (
            "SQLite state",
            Box::new(SqliteState::open(IN_MEMORY).unwrap_or_else(|e| panic!("{e}")))
                as Box<dyn Index>,
        ),
        ("in-run window", Box::new(RecentOriginals::new(100_000))),
    ] {
        let mut index = index;
        let outcome = evaluate(name, &articles, index.as_mut());
        assert!(
            outcome.precision >= 1.0,
            "{name}: precision {:.4} < 1.0",
            outcome.precision
        );
        assert!(
            outcome.recall >= 0.95,
            "{name}: recall {:.4} < 0.95",
            outcome.recall
        );
    }
}

#[test]
fn the_generated_set_is_deterministic_and_labelled() {
    let a = generate(SEED, 50, 20, 5);
    let b = generate(SEED, 50, 20, 5);
    assert_eq!(
        a.iter().map(|x| &x.text).collect::<Vec<_>>(),
        b.iter().map(|x| &x.text).collect::<Vec<_>>()
    );
    let copies = a
        .iter()
        .filter(|x| matches!(x.label, Label::CopyOf { .. }))
        .count();
    assert_eq!(copies, 20);
    for article in &a {
        if let Label::CopyOf { base, edits } = &article.label {
            assert!(
                a[*base].published_minute < article.published_minute,
                "{edits}"
            );
        }
    }
}
