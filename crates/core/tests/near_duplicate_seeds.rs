//! The near-duplicate rule on the seed texts (`../shared/seeds`): `002_*` and `004_*` are
//! one story in two outlets' templates and must be confirmed as copies; `000_*` reports the
//! same incident independently and must not be matched with either.
//! Skips visibly when the seeds are absent (fails under `NEWSWIRE_REQUIRE_SERVICES=1`).

use newswire_core::config::DedupConfig;
use newswire_core::fingerprint::{Fingerprint, word_count};
use newswire_core::near_dup::{Candidate, Decision, Rule};

fn seed(dir: &std::path::Path, prefix: &str) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    let path = entries.flatten().map(|e| e.path()).find(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
            && p.extension().is_some_and(|x| x == "txt")
    })?;
    std::fs::read_to_string(path).ok()
}

#[test]
fn seed_copies_are_confirmed_and_independent_reports_not() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
    let (Some(s000), Some(s002), Some(s004)) =
        (seed(&dir, "000_"), seed(&dir, "002_"), seed(&dir, "004_"))
    else {
        newswire_test_support::services::require(
            "seed_copies_are_confirmed_and_independent_reports_not",
            &format!("seed texts missing at {}", dir.display()),
            false,
        );
        return;
    };
    let rule = Rule::from(&DedupConfig::default());
    let known = |id: &str, text: &str| {
        let fp = Fingerprint::of(text);
        Candidate {
            id: id.into(),
            simhash: fp.simhash,
            minhash: Some(fp.minhash),
            published_at: None,
        }
    };
    let decide = |text: &str, candidates: &[Candidate]| {
        rule.decide(
            "new",
            word_count(text),
            &Fingerprint::of(text),
            None,
            candidates,
        )
    };
    let report = |a: &str, b: &str| {
        let (x, y) = (Fingerprint::of(a), Fingerprint::of(b));
        format!(
            "{} bits, {:?}",
            x.simhash.distance(y.simhash),
            x.minhash.similarity(&y.minhash)
        )
    };
    println!("002~004: {}", report(&s002, &s004));
    println!("000~002: {}", report(&s000, &s002));
    println!("000~004: {}", report(&s000, &s004));
    assert!(
        matches!(decide(&s004, &[known("002", &s002)]), Decision::CopyOf(m) if m.id == "002"),
        "004 must be a copy of 002: {}",
        report(&s002, &s004)
    );
    assert_eq!(
        decide(&s000, &[known("002", &s002), known("004", &s004)]),
        Decision::Original
    );
    assert_eq!(decide(&s002, &[known("000", &s000)]), Decision::Original);
}
