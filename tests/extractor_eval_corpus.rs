//! End to end: `newswire eval --json` on the shared article-extraction-benchmark corpus
//! must report F1 >= 0.960. Without the corpus it is skipped visibly, or fails under
//! `NEWSWIRE_REQUIRE_SERVICES=1` (see `common::require`).

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn eval_on_the_shared_corpus_reaches_the_floor() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/article-extraction-benchmark");
    if !common::require(
        "eval_on_the_shared_corpus_reaches_the_floor",
        &format!("corpus not found at {}", corpus.display()),
        corpus.join("ground-truth.json").is_file(),
    ) {
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .args([
            "eval",
            "--json",
            "--passes",
            "1",
            "--bootstrap",
            "200",
            "--corpus",
        ])
        .arg(&corpus)
        .output()
        .expect("running newswire eval");
    assert!(
        output.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("eval --json prints one JSON object");
    let f1 = report["f1"].as_f64().expect("report has f1");
    for key in [
        "precision",
        "recall",
        "empty",
        "extract_pages_per_sec",
        "parse_pages_per_sec",
        "ratio",
    ] {
        assert!(report.get(key).is_some(), "report lacks {key}: {report}");
    }
    assert_eq!(report["pages"].as_u64(), Some(181));
    assert!(f1 >= 0.960, "F1 {f1:.4} is below 0.960: {report}");
}

/// `eval` on an `expected.jsonl` corpus reports title, date, authors and snippet figures,
/// overall and per language, under the documented keys.
#[test]
fn eval_reads_the_expected_jsonl_layout() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/extraction-dev");
    if !corpus.join("expected.jsonl").is_file() {
        eprintln!("skipped: corpus not found at {}", corpus.display());
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .args(["eval", "--json", "--passes", "0", "--corpus"])
        .arg(&corpus)
        .output()
        .expect("running newswire eval");
    assert!(
        output.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("eval --json prints one JSON object");
    assert_eq!(report["layout"], "expected.jsonl");
    let overall = &report["overall"];
    for (field, metric) in [
        ("title", "exact"),
        ("date", "day"),
        ("date", "day_pm1"),
        ("authors", "f1"),
        ("snippet", "found"),
    ] {
        let value = overall[field][metric].as_f64();
        assert!(
            value.is_some_and(|v| (0.0..=1.0).contains(&v)),
            "overall.{field}.{metric} missing or out of range: {overall}"
        );
    }
    assert!(report["by_language"]["en"]["pages"].as_u64().unwrap_or(0) > 0);
    assert!(report["date_sources"].is_object());
}
