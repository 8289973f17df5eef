//! `newswire eval`: scores the extractor against a corpus with ground truth.
//!
//! Two corpus layouts are read. The article-extraction-benchmark's: `html/<id>.html.gz` and
//! `ground-truth.json` mapping each id to `{"articleBody", "url"}`, handled here; and
//! `expected.jsonl` plus the pages it names (title, authors, date, body or snippet per
//! page), handled by `super::eval_corpus`, which documents its metrics and JSON keys. The metric lives in
//! `newswire_extractor::score` and mirrors `shared/tools/aeb_evaluate.py`; `--dump` writes
//! the predictions in that script's input format so the two can be compared.
//!
//! Speed is measured in the same run over the same in-memory pages: extraction alone, and
//! html5ever parsing alone (scraper's `Html::parse_document`, the floor of any DOM-based
//! extractor), each the best of `--passes` passes, one thread.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use newswire_extractor::score::{self, PageScore};
use newswire_extractor::{FeedHints, extract};
use serde_json::{Value, json};

/// Arguments of `newswire eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Corpus directory: `html/*.html.gz` and `ground-truth.json`, or `expected.jsonl` and
    /// the pages it names.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// List the N pages with the lowest F1.
    #[arg(long, value_name = "N")]
    pub worst: Option<usize>,
    /// Print what was missed and what was extra on one page (id or id prefix).
    #[arg(long, value_name = "ID")]
    pub show: Option<String>,
    /// Write the predictions as `{id: {"articleBody": text}}` (aeb_evaluate.py's input).
    #[arg(long, value_name = "FILE")]
    pub dump: Option<PathBuf>,
    /// Timing passes over the corpus; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// Bootstrap resamples for the F1 interval.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
}

struct Page {
    id: String,
    url: Option<url::Url>,
    html: String,
    truth: String,
}

fn load_corpus(dir: &Path) -> anyhow::Result<Vec<Page>> {
    let truth_path = dir.join("ground-truth.json");
    let raw = std::fs::read_to_string(&truth_path)
        .with_context(|| format!("reading {}", truth_path.display()))?;
    let truth: BTreeMap<String, Value> =
        serde_json::from_str(&raw).with_context(|| format!("parsing {}", truth_path.display()))?;
    let mut pages = Vec::with_capacity(truth.len());
    for (id, entry) in truth {
        let path = dir.join("html").join(format!("{id}.html.gz"));
        let file =
            std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .with_context(|| format!("decompressing {}", path.display()))?;
        let html = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let url = entry
            .get("url")
            .and_then(Value::as_str)
            .and_then(|u| url::Url::parse(u).ok());
        let truth = entry
            .get("articleBody")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        pages.push(Page {
            id,
            url,
            html,
            truth,
        });
    }
    anyhow::ensure!(!pages.is_empty(), "no pages in {}", truth_path.display());
    Ok(pages)
}

/// Deterministic xorshift, so the bootstrap interval repeats exactly from run to run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// 2.5th and 97.5th percentiles of F1 over bootstrap resamples of pages.
fn bootstrap_interval(scores: &[PageScore], resamples: usize) -> (f64, f64) {
    if scores.is_empty() || resamples < 2 {
        return (0.0, 0.0);
    }
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut f1s: Vec<f64> = (0..resamples)
        .map(|_| {
            let sample: Vec<PageScore> = (0..scores.len())
                .map(|_| scores[rng.below(scores.len())])
                .collect();
            score::aggregate(&sample).f1
        })
        .collect();
    f1s.sort_by(f64::total_cmp);
    let at = |q: f64| f1s[((f1s.len() - 1) as f64 * q).round() as usize];
    (at(0.025), at(0.975))
}

fn time_pass<F: FnOnce()>(pass: F) -> Duration {
    let start = Instant::now();
    pass();
    start.elapsed()
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    if super::eval_corpus::is_expected_layout(&args.corpus) {
        return super::eval_corpus::run(args);
    }
    let pages = load_corpus(&args.corpus)?;
    let hints = FeedHints::default();
    let n = pages.len();

    let outputs: Vec<newswire_extractor::Article> = pages
        .iter()
        .map(|p| extract(&p.html, p.url.as_ref(), &hints))
        .collect();
    let (extract_time, parse_time) = timed_passes(&pages, args.passes);

    let scores: Vec<PageScore> = pages
        .iter()
        .zip(&outputs)
        .map(|(p, a)| score::score_page(&p.truth, &a.text))
        .collect();
    let agg = score::aggregate(&scores);
    let (low, high) = bootstrap_interval(&scores, args.bootstrap);
    let empty = outputs
        .iter()
        .filter(|a| score::tokens(&a.text).is_empty())
        .count();
    let extract_rate = n as f64 / extract_time.as_secs_f64().max(1e-9);
    let parse_rate = n as f64 / parse_time.as_secs_f64().max(1e-9);
    let ratio = extract_rate / parse_rate;
    let methods = outputs
        .iter()
        .fold(BTreeMap::<&str, usize>::new(), |mut m, a| {
            *m.entry(a.extraction.method.as_str()).or_default() += 1;
            m
        });

    if let Some(path) = &args.dump {
        dump_predictions(path, &pages, &outputs)?;
    }

    let mut ranked: Vec<usize> = (0..n).collect();
    ranked.sort_by(|&a, &b| {
        scores[a]
            .f1
            .total_cmp(&scores[b].f1)
            .then(pages[a].id.cmp(&pages[b].id))
    });
    let worst: Vec<Value> = ranked
        .iter()
        .take(args.worst.unwrap_or(0))
        .map(|&i| {
            json!({
                "id": pages[i].id,
                "url": pages[i].url.as_ref().map(url::Url::as_str),
                "f1": scores[i].f1,
                "precision": scores[i].precision,
                "recall": scores[i].recall,
                "method": outputs[i].extraction.method,
                "warnings": outputs[i].extraction.warnings,
            })
        })
        .collect();

    if args.json {
        let report = json!({
            "pages": n,
            "f1": agg.f1,
            "precision": agg.precision,
            "recall": agg.recall,
            "f1_ci95": [low, high],
            "empty": empty,
            "extract_pages_per_sec": extract_rate,
            "parse_pages_per_sec": parse_rate,
            "ratio": ratio,
            "methods": methods,
            "worst": worst,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("pages      {n}");
        println!(
            "F1         {:.4}  (95% bootstrap interval {:.4}–{:.4})",
            agg.f1, low, high
        );
        println!("precision  {:.4}", agg.precision);
        println!("recall     {:.4}", agg.recall);
        println!("empty      {empty}");
        println!(
            "methods    {}",
            methods
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!("extract    {extract_rate:.0} pages/s");
        println!("parse only {parse_rate:.0} pages/s (html5ever via scraper)");
        println!("ratio      {ratio:.2} of parse-only speed");
        if !worst.is_empty() {
            println!("\nworst pages:");
            for &i in ranked.iter().take(args.worst.unwrap_or(0)) {
                let s = &scores[i];
                println!(
                    "  {:.3}  P={:.3} R={:.3}  {}  {}  [{}]",
                    s.f1,
                    s.precision.unwrap_or(0.0),
                    s.recall.unwrap_or(0.0),
                    pages[i].id.chars().take(12).collect::<String>(),
                    pages[i].url.as_ref().map(url::Url::as_str).unwrap_or("-"),
                    outputs[i].extraction.method
                );
            }
        }
    }

    if let Some(wanted) = &args.show {
        show_page(args, wanted, &pages, &outputs, &scores)?;
    }
    Ok(())
}

/// The extraction and parse-only times of the corpus: passes alternate, so both see the
/// same machine load (the ratio is the robust figure on a shared machine); the fastest
/// pass of each counts.
fn timed_passes(pages: &[Page], passes: usize) -> (Duration, Duration) {
    let hints = FeedHints::default();
    let mut extract_time = Duration::MAX;
    let mut parse_time = Duration::MAX;
    for _ in 0..passes.max(1) {
        extract_time = extract_time.min(time_pass(|| {
            for p in pages {
                std::hint::black_box(extract(&p.html, p.url.as_ref(), &hints));
            }
        }));
        parse_time = parse_time.min(time_pass(|| {
            for p in pages {
                std::hint::black_box(scraper::Html::parse_document(&p.html));
            }
        }));
    }
    (extract_time, parse_time)
}

/// Writes the predictions in the reference scorer's format (`aeb_evaluate.py`).
fn dump_predictions(
    path: &std::path::Path,
    pages: &[Page],
    outputs: &[newswire_extractor::Article],
) -> anyhow::Result<()> {
    let predictions: serde_json::Map<String, Value> = pages
        .iter()
        .zip(outputs)
        .map(|(p, a)| (p.id.clone(), json!({ "articleBody": a.text })))
        .collect();
    std::fs::write(
        path,
        serde_json::to_vec_pretty(&Value::Object(predictions))?,
    )
    .with_context(|| format!("writing {}", path.display()))
}

/// `--show ID`: what one page's extraction missed and added, on stderr.
fn show_page(
    args: &EvalArgs,
    wanted: &str,
    pages: &[Page],
    outputs: &[newswire_extractor::Article],
    scores: &[PageScore],
) -> anyhow::Result<()> {
    let i = pages
        .iter()
        .position(|p| p.id.starts_with(wanted))
        .with_context(|| format!("no page with id {wanted} in {}", args.corpus.display()))?;
    let (extra, missed) = score::differences(&pages[i].truth, &outputs[i].text);
    eprintln!(
        "== {} ({})",
        pages[i].id,
        pages[i].url.as_ref().map(url::Url::as_str).unwrap_or("-")
    );
    eprintln!(
        "F1 {:.3} method {} warnings {:?}",
        scores[i].f1, outputs[i].extraction.method, outputs[i].extraction.warnings
    );
    eprintln!("-- missed (in truth, not extracted):");
    for run in missed {
        eprintln!("   - {run}");
    }
    eprintln!("-- extra (extracted, not in truth):");
    for run in extra {
        eprintln!("   + {run}");
    }
    Ok(())
}
