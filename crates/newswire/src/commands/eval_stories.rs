//! `newswire eval-stories`: scores the story clusterer on an incident-labelled corpus.
//!
//! The corpus is `DIR/articles.jsonl`, one article per line in publication order
//! (`id`, `published_at` or null, `title`, `text`, `label`). The work and the metrics are
//! `newswire_stories::eval::evaluate_corpus` (BCubed averaged over articles, pairwise over
//! unordered pairs: the definitions of `shared/tools/score_stories.py`); this file only
//! parses the flags and prints. Without labels it still clusters, writes the predictions
//! and reports the rate. `articles_per_sec` is the clustering alone, wall clock, one thread.

use std::path::PathBuf;

use anyhow::Context;
use newswire_stories::{EvalOptions, EvalReport, evaluate_corpus};

/// Arguments of `newswire eval-stories`.
#[derive(clap::Args, Debug)]
pub struct EvalStoriesArgs {
    /// Corpus directory holding `articles.jsonl` (or the file itself).
    #[arg(long)]
    pub corpus: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write `{id, story_id}` per article (score_stories.py's input), of the first order.
    #[arg(long, value_name = "OUT.jsonl")]
    pub predictions: Option<PathBuf>,
    /// Score N random orders (dated articles stay in time order) and average; 0 keeps the
    /// file's order.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub shuffles: usize,
    /// Seed of the first random order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(args: &EvalStoriesArgs) -> anyhow::Result<()> {
    let mut options = EvalOptions::new(&args.corpus);
    options.predictions = args.predictions.clone();
    options.shuffles = args.shuffles;
    options.seed = args.seed;
    let report = evaluate_corpus(&options)
        .with_context(|| format!("evaluating stories on {}", args.corpus.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(())
}

fn table(report: &EvalReport) -> String {
    let mut out = format!(
        "articles {}  labelled {}  labels {}  stories {:.1}  orders {}\n",
        report.articles, report.labelled, report.labels, report.stories, report.orders
    );
    match report.scores {
        Some(s) => {
            out += &format!(
                "bcubed    precision {:.4}  recall {:.4}  f1 {:.4}\n",
                s.bcubed_precision, s.bcubed_recall, s.bcubed_f1
            );
            out += &format!(
                "pairwise  precision {:.4}  recall {:.4}  f1 {:.4}\n",
                s.pair_precision, s.pair_recall, s.pair_f1
            );
        }
        None => out += "no labels: clustered only\n",
    }
    let cpu = report
        .articles_per_cpu_sec
        .map(|r| format!("{r:.0}"))
        .unwrap_or_else(|| "n/a".into());
    out += &format!(
        "articles/s {:.0} (wall), {cpu} per CPU second; state {} bytes\n",
        report.articles_per_sec, report.state_bytes
    );
    out
}
