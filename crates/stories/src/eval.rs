//! Scoring the clusterer on an incident-labelled corpus: `DIR/articles.jsonl` with
//! `{id, published_at, title, text, label}` per line, in publication order.
//!
//! The metrics are those of the project's scorer, `shared/tools/score_stories.py` (BCubed
//! averaged over articles; pairwise over unordered pairs); `newswire eval-stories` and the
//! `eval_stories` example call [`evaluate_corpus`].
//!
//! Every article is clustered; the scores are over the articles with a label. (On a corpus
//! whose labels are all set, as the scorer expects, the two agree; the scorer would count
//! articles with a null label as one incident of their own, which here they are not.) Ids
//! are taken as given: a corpus that repeats an id has each line scored.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cluster::{ArticleIn, Clusterer, Config};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read corpus {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corpus {path} line {line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot write predictions {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corpus {path} has no articles")]
    Empty { path: PathBuf },
}

/// One corpus line.
#[derive(Debug, Clone, Deserialize)]
pub struct CorpusArticle {
    #[serde(deserialize_with = "id_as_string")]
    pub id: String,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub duplicate_of: Option<String>,
    #[serde(default)]
    pub label: Option<serde_json::Value>,
}

fn id_as_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub corpus_dir: PathBuf,
    /// Where to write `{id, story_id}` lines (of the first order).
    pub predictions: Option<PathBuf>,
    /// 0: the file's order. N > 0: N random orders that keep dated articles in time order
    /// (articles with equal or missing dates are shuffled), scores averaged.
    pub shuffles: usize,
    pub seed: u64,
    pub config: Config,
}

impl EvalOptions {
    pub fn new(corpus_dir: impl Into<PathBuf>) -> Self {
        EvalOptions {
            corpus_dir: corpus_dir.into(),
            predictions: None,
            shuffles: 0,
            seed: 1,
            config: Config::default(),
        }
    }
}

/// BCubed and pairwise precision, recall and F1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    pub bcubed_precision: f64,
    pub bcubed_recall: f64,
    pub bcubed_f1: f64,
    pub pair_precision: f64,
    pub pair_recall: f64,
    pub pair_f1: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub articles: usize,
    pub labelled: usize,
    pub labels: usize,
    /// Stories predicted (mean over orders).
    pub stories: f64,
    pub orders: usize,
    /// Mean over orders; `None` when the corpus has no labels.
    pub scores: Option<Scores>,
    /// Per order.
    pub per_order: Vec<Scores>,
    /// Wall-clock rate of the clustering alone (reading and scoring excluded).
    pub articles_per_sec: f64,
    /// The same per CPU second of this process (Linux; `None` elsewhere): on a busy machine the
    /// wall-clock rate understates what one core does.
    pub articles_per_cpu_sec: Option<f64>,
    pub state_bytes: usize,
}

/// Reads a corpus file (`DIR/articles.jsonl` or the file itself).
pub fn read_corpus(dir: &Path) -> Result<Vec<CorpusArticle>, EvalError> {
    let path = if dir.is_dir() {
        dir.join("articles.jsonl")
    } else {
        dir.to_path_buf()
    };
    let file = std::fs::File::open(&path).map_err(|source| EvalError::Read {
        path: path.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| EvalError::Read {
            path: path.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let a: CorpusArticle = serde_json::from_str(&line).map_err(|e| EvalError::Parse {
            path: path.clone(),
            line: n + 1,
            message: e.to_string(),
        })?;
        out.push(a);
    }
    if out.is_empty() {
        return Err(EvalError::Empty { path });
    }
    Ok(out)
}

fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    let s = s?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(12, 0, 0)
                .map(|t| t.and_utc())
        })
}

/// Clusters `articles` in the given order; returns the story id of each and the seconds spent.
pub fn cluster_in_order(
    articles: &[CorpusArticle],
    order: &[usize],
    config: &Config,
) -> (Vec<String>, f64, usize) {
    let mut clusterer = Clusterer::new(config.clone());
    let mut out = vec![String::new(); articles.len()];
    let started = Instant::now();
    for (k, &i) in order.iter().enumerate() {
        let a = &articles[i];
        let input = ArticleIn {
            id: &a.id,
            published_at: parse_time(a.published_at.as_deref()),
            title: a.title.as_deref().unwrap_or(""),
            text: a.text.as_deref().unwrap_or(""),
            language: a.language.as_deref(),
            source: a.source.as_deref(),
            duplicate_of: a.duplicate_of.as_deref(),
        };
        out[i] = clusterer.assign(&input).story.id;
        // Story lines are handed out as the pipeline does (it drains them every few seconds),
        // so that the state measured is the one a running pipeline holds.
        if (k + 1) % 1000 == 0 {
            let _ = clusterer.take_story_lines(input.published_at.unwrap_or_else(Utc::now));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    (out, elapsed, clusterer.heap_bytes())
}

/// BCubed and pairwise scores of `predicted` story keys against `gold` labels (same indices).
pub fn score<G: std::hash::Hash + Eq, P: std::hash::Hash + Eq>(
    gold: &[G],
    predicted: &[P],
) -> Scores {
    let n = gold.len().min(predicted.len());
    let mut size_p: HashMap<&P, u64> = HashMap::new();
    let mut size_g: HashMap<&G, u64> = HashMap::new();
    let mut cell: HashMap<(&P, &G), u64> = HashMap::new();
    for i in 0..n {
        *size_p.entry(&predicted[i]).or_default() += 1;
        *size_g.entry(&gold[i]).or_default() += 1;
        *cell.entry((&predicted[i], &gold[i])).or_default() += 1;
    }
    let pairs = |c: u64| (c * c.saturating_sub(1) / 2) as f64;
    let (mut bp, mut br, mut tp) = (0.0, 0.0, 0.0);
    for ((p, g), &c) in &cell {
        let c = c as f64;
        bp += c * c / size_p[p] as f64;
        br += c * c / size_g[g] as f64;
        tp += pairs(c as u64);
    }
    let nf = n.max(1) as f64;
    let (bp, br) = (bp / nf, br / nf);
    let pp: f64 = size_p.values().map(|&c| pairs(c)).sum();
    let gp: f64 = size_g.values().map(|&c| pairs(c)).sum();
    let f1 = |a: f64, b: f64| {
        if a + b > 0.0 {
            2.0 * a * b / (a + b)
        } else {
            0.0
        }
    };
    let (pp_, pr_) = (
        if pp > 0.0 { tp / pp } else { 1.0 },
        if gp > 0.0 { tp / gp } else { 1.0 },
    );
    Scores {
        bcubed_precision: bp,
        bcubed_recall: br,
        bcubed_f1: f1(bp, br),
        pair_precision: pp_,
        pair_recall: pr_,
        pair_f1: f1(pp_, pr_),
    }
}

/// A random order that keeps dated articles in time order. A tiny xorshift generator keeps the
/// crate free of a random-number dependency for this one use (orders must be reproducible).
pub fn shuffled_order(articles: &[CorpusArticle], seed: u64) -> Vec<usize> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut order: Vec<usize> = (0..articles.len()).collect();
    for i in (1..order.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let times: Vec<Option<i64>> = articles
        .iter()
        .map(|a| parse_time(a.published_at.as_deref()).map(|t| t.timestamp()))
        .collect();
    if times.iter().any(Option::is_some) {
        // Stable: equal times keep their shuffled order; undated articles go first.
        order.sort_by_key(|&i| times[i]);
    }
    order
}

/// Runs the evaluation; writes predictions when asked.
pub fn evaluate_corpus(opts: &EvalOptions) -> Result<EvalReport, EvalError> {
    let articles = read_corpus(&opts.corpus_dir)?;
    let labelled: Vec<usize> = (0..articles.len())
        .filter(|&i| articles[i].label.as_ref().is_some_and(|l| !l.is_null()))
        .collect();
    let orders: Vec<Vec<usize>> = if opts.shuffles == 0 {
        vec![(0..articles.len()).collect()]
    } else {
        (0..opts.shuffles)
            .map(|k| shuffled_order(&articles, opts.seed.wrapping_add(k as u64)))
            .collect()
    };
    let mut per_order = Vec::new();
    let (mut secs, mut stories, mut state_bytes) = (0.0, 0.0, 0);
    let mut cpu = Some(0.0);
    // Load the gazetteer before timing: it is a one-off cost per process.
    let _ = crate::gazetteer::Gazetteer::get();
    for (k, order) in orders.iter().enumerate() {
        let cpu_before = process_cpu_secs();
        let (pred, elapsed, bytes) = cluster_in_order(&articles, order, &opts.config);
        cpu = match (cpu, cpu_before, process_cpu_secs()) {
            (Some(c), Some(a), Some(b)) => Some(c + (b - a)),
            _ => None,
        };
        secs += elapsed;
        state_bytes = state_bytes.max(bytes);
        stories += pred.iter().collect::<std::collections::HashSet<_>>().len() as f64;
        if k == 0
            && let Some(path) = &opts.predictions
        {
            write_predictions(path, &articles, &pred)?;
        }
        if !labelled.is_empty() {
            let gold: Vec<String> = labelled
                .iter()
                .map(|&i| label_key(articles[i].label.as_ref()))
                .collect();
            let p: Vec<&String> = labelled.iter().map(|&i| &pred[i]).collect();
            per_order.push(score(&gold, &p));
        }
    }
    let n_orders = orders.len() as f64;
    let scores = (!per_order.is_empty()).then(|| mean(&per_order));
    let labels = labelled
        .iter()
        .map(|&i| label_key(articles[i].label.as_ref()))
        .collect::<std::collections::HashSet<_>>()
        .len();
    Ok(EvalReport {
        articles: articles.len(),
        labelled: labelled.len(),
        labels,
        stories: stories / n_orders,
        orders: orders.len(),
        scores,
        per_order,
        articles_per_sec: if secs > 0.0 {
            articles.len() as f64 * n_orders / secs
        } else {
            0.0
        },
        articles_per_cpu_sec: cpu
            .filter(|c| *c > 0.0)
            .map(|c| articles.len() as f64 * n_orders / c),
        state_bytes,
    })
}

/// User plus system CPU seconds of this process, from `/proc/self/stat` (clock ticks of 1/100 s,
/// the Linux default).
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn label_key(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn mean(all: &[Scores]) -> Scores {
    let n = all.len() as f64;
    let sum = |f: fn(&Scores) -> f64| all.iter().map(f).sum::<f64>() / n;
    Scores {
        bcubed_precision: sum(|s| s.bcubed_precision),
        bcubed_recall: sum(|s| s.bcubed_recall),
        bcubed_f1: sum(|s| s.bcubed_f1),
        pair_precision: sum(|s| s.pair_precision),
        pair_recall: sum(|s| s.pair_recall),
        pair_f1: sum(|s| s.pair_f1),
    }
}

fn write_predictions(
    path: &Path,
    articles: &[CorpusArticle],
    pred: &[String],
) -> Result<(), EvalError> {
    let err = |source| EvalError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(err)?);
    for (a, s) in articles.iter().zip(pred) {
        let line = serde_json::json!({"id": a.id, "story_id": s});
        writeln!(out, "{line}").map_err(err)?;
    }
    out.flush().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_hand_computed_values() {
        // gold: a a b b ; predicted: x x x y
        let gold = ["a", "a", "b", "b"];
        let pred = ["x", "x", "x", "y"];
        let s = score(&gold, &pred);
        // BCubed precision: (2/3 + 2/3 + 1/3 + 1)/4 = 2/3 ; recall: (1 + 1 + 1/2 + 1/2)/4 = 3/4
        assert!((s.bcubed_precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.bcubed_recall - 0.75).abs() < 1e-9);
        // pairs: predicted 3, gold 2, tp 1
        assert!((s.pair_precision - 1.0 / 3.0).abs() < 1e-9);
        assert!((s.pair_recall - 0.5).abs() < 1e-9);
    }
}
