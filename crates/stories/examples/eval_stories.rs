//! Scores the story clusterer on a corpus: `DIR/articles.jsonl` in publication order.
//!
//! cargo run -p newswire-stories --release --example eval_stories -- --corpus DIR [--json]
//!     [--predictions OUT.jsonl] [--shuffles N] [--seed S]

use std::process::ExitCode;

use newswire_stories::{EvalOptions, evaluate_corpus};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut corpus = None;
    let mut json = false;
    let mut predictions = None;
    let mut shuffles = 0usize;
    let mut seed = 1u64;
    let mut overrides: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--corpus" => corpus = args.next(),
            "--json" => json = true,
            "--predictions" => predictions = args.next(),
            "--shuffles" => shuffles = args.next().and_then(|v| v.parse().ok()).unwrap_or(5),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            // Development only: override one Config field, e.g. --set join_threshold=0.3 or
            // --set weights.proper=3 (the shipped configuration is Config::default()).
            "--set" => overrides.push(args.next().unwrap_or_default()),
            other => {
                eprintln!("eval_stories: unknown argument {other}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(corpus) = corpus else {
        eprintln!(
            "usage: eval_stories --corpus DIR [--json] [--predictions OUT.jsonl] [--shuffles N] [--seed S]"
        );
        return ExitCode::from(2);
    };
    let mut opts = EvalOptions::new(corpus);
    opts.predictions = predictions.map(Into::into);
    opts.shuffles = shuffles;
    opts.seed = seed;
    for o in &overrides {
        match apply_override(&opts.config, o) {
            Some(c) => opts.config = c,
            None => {
                eprintln!("eval_stories: cannot apply --set {o}");
                return ExitCode::from(2);
            }
        }
    }
    match evaluate_corpus(&opts) {
        Ok(report) => {
            if json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!(
                    "articles {}  labelled {}  labels {}  stories {:.1}  orders {}",
                    report.articles, report.labelled, report.labels, report.stories, report.orders
                );
                if let Some(s) = report.scores {
                    println!(
                        "bcubed  precision {:.4}  recall {:.4}  f1 {:.4}",
                        s.bcubed_precision, s.bcubed_recall, s.bcubed_f1
                    );
                    println!(
                        "pairs   precision {:.4}  recall {:.4}  f1 {:.4}",
                        s.pair_precision, s.pair_recall, s.pair_f1
                    );
                }
                let cpu = report
                    .articles_per_cpu_sec
                    .map(|r| format!("{r:.0}"))
                    .unwrap_or_else(|| "n/a".into());
                println!(
                    "articles/s {:.0} (wall)  {} per CPU second  state {} bytes",
                    report.articles_per_sec, cpu, report.state_bytes
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("eval_stories: {e}");
            ExitCode::FAILURE
        }
    }
}

fn apply_override(
    config: &newswire_stories::Config,
    spec: &str,
) -> Option<newswire_stories::Config> {
    let (path, value) = spec.split_once('=')?;
    let mut v = serde_json::to_value(config).ok()?;
    let mut slot = &mut v;
    for part in path.split('.') {
        slot = slot.get_mut(part)?;
    }
    *slot = serde_json::from_str(value).ok()?;
    serde_json::from_value(v).ok()
}
