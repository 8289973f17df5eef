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
