//! `newswire eval` on a corpus laid out as `expected.jsonl` plus the pages it names.
//!
//! Each line of `expected.jsonl` is `{"id", "file", "url", "title", "authors", "date",
//! "body", "body_kind", "lang", ...}`; `file` is `pages/<id>.html` or `pages/<id>.html.gz`
//! relative to the corpus directory; a `null` field is not annotated and not scored.
//!
//! Metrics (each over the pages that annotate the field):
//! - `body_f1` (`body_kind` absent or `"gold"`): the benchmark's shingle F1 (see
//!   `newswire_extractor::score`), precision and recall averaged over pages;
//! - `snippet_found` (`body_kind` `"snippet"`): share of pages whose snippet's first eight
//!   word tokens occur, in order and contiguous, in the extracted text's tokens;
//!   `snippet_at_start`: the same, but the match must begin within the extracted text's
//!   first 40 tokens (room for a dateline or a caption before the body proper);
//! - `title_exact`: extracted title equals the expected one after whitespace collapsing;
//! - `date_day`: the publication day equals the expected day; `date_day_pm1` within one
//!   day. Days are compared in UTC when the expected value carries an offset, else the
//!   expected value's own calendar day is compared with the extracted UTC day. A page with
//!   no extracted date counts as a miss;
//! - `authors_f1`: per page, the F1 of the expected and extracted name sets (case and
//!   whitespace folded), averaged over pages.
//!
//! `--json` prints `{"layout": "expected.jsonl", "pages", "overall": M, "by_language":
//! {lang: M}, "by_source": {source: M}, "date_sources": {source: count}, "extract_pages_per_sec",
//! "parse_pages_per_sec", "ratio", "worst": [...]}` where each `M` is
//! `{"pages", "title": {"n", "exact"}, "date": {"n", "day", "day_pm1", "found"},
//! "authors": {"n", "f1", "precision", "recall"}, "snippet": {"n", "found", "at_start"},
//! "body": {"n", "f1", "precision", "recall"}}`. A rate is `null` when its `n` is 0. The
//! language key is the primary subtag of the expected `lang` (lower case), `und` when absent.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use newswire_extractor::score::{self, PageScore};
use newswire_extractor::{Article, FeedHints, extract};
use serde::Deserialize;
use serde_json::{Value, json};

use super::eval::EvalArgs;

/// Tokens of the snippet that must be found.
const SNIPPET_TOKENS: usize = 8;
/// How far into the extracted text a snippet may start and still count as "at start".
const SNIPPET_START_WINDOW: usize = 40;

/// The corpus directory uses this layout when it holds `expected.jsonl`.
pub fn is_expected_layout(dir: &Path) -> bool {
    dir.join("expected.jsonl").is_file()
}

#[derive(Debug, Deserialize)]
struct Expected {
    id: String,
    #[serde(default)]
    source: Option<String>,
    file: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    authors: Option<Vec<String>>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_kind: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

struct Page {
    expected: Expected,
    html: String,
    url: Option<url::Url>,
}

fn load(dir: &Path) -> anyhow::Result<Vec<Page>> {
    let path = dir.join("expected.jsonl");
    let raw =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut pages = Vec::new();
    for (n, line) in raw.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let expected: Expected = serde_json::from_str(line)
            .with_context(|| format!("parsing {} line {}", path.display(), n + 1))?;
        let file = dir.join(&expected.file);
        let mut bytes =
            std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        if expected.file.ends_with(".gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut out)
                .with_context(|| format!("decompressing {}", file.display()))?;
            bytes = out;
        }
        let html = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let url = expected
            .url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok());
        pages.push(Page {
            expected,
            html,
            url,
        });
    }
    anyhow::ensure!(!pages.is_empty(), "no pages in {}", path.display());
    Ok(pages)
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How one page fared on each annotated field (`None`: not annotated).
#[derive(Debug, Default, Clone)]
struct PageResult {
    title: Option<bool>,
    /// (same day, within one day, any date extracted)
    date: Option<(bool, bool, bool)>,
    /// (f1, precision, recall)
    authors: Option<(f64, f64, f64)>,
    /// (found anywhere, found at the start)
    snippet: Option<(bool, bool)>,
    body: Option<PageScore>,
}

impl PageResult {
    /// Failed fields, for ranking the worst pages.
    fn misses(&self) -> f64 {
        let mut m = 0.0;
        if self.title == Some(false) {
            m += 1.0;
        }
        if let Some((day, _, _)) = self.date
            && !day
        {
            m += 1.0;
        }
        if let Some((f1, _, _)) = self.authors {
            m += 1.0 - f1;
        }
        if let Some((found, _)) = self.snippet
            && !found
        {
            m += 1.0;
        }
        if let Some(s) = self.body {
            m += 1.0 - s.f1;
        }
        m
    }
}

/// The expected day of a date value: the UTC day when it carries an offset, else its own.
fn expected_day(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc).date_naive());
    }
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn name_key(name: &str) -> String {
    collapse(name).to_lowercase()
}

fn authors_score(expected: &[String], got: &[String]) -> (f64, f64, f64) {
    let want: Vec<String> = expected.iter().map(|n| name_key(n)).collect();
    let mut have: Vec<String> = got.iter().map(|n| name_key(n)).collect();
    have.dedup();
    if want.is_empty() && have.is_empty() {
        return (1.0, 1.0, 1.0);
    }
    let hits = have.iter().filter(|h| want.contains(h)).count() as f64;
    let precision = if have.is_empty() {
        0.0
    } else {
        hits / have.len() as f64
    };
    let recall = if want.is_empty() {
        0.0
    } else {
        hits / want.len() as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    (f1, precision, recall)
}

/// Whether the snippet's opening tokens occur in `text`, and whether near its start.
fn snippet_hit(snippet: &str, text: &str) -> (bool, bool) {
    let want: Vec<&str> = score::tokens(snippet)
        .into_iter()
        .take(SNIPPET_TOKENS)
        .collect();
    if want.is_empty() {
        return (false, false);
    }
    let have = score::tokens(text);
    let at = have.windows(want.len()).position(|w| w == want.as_slice());
    match at {
        Some(i) => (true, i <= SNIPPET_START_WINDOW),
        None => {
            // CJK snippets are whole sentence fragments that tokenise to one long token:
            // fall back to a plain substring test on collapsed text.
            if want.len() != 1 {
                return (false, false);
            }
            let collapsed = collapse(text);
            match collapsed.find(want[0]) {
                Some(p) => (true, collapsed[..p].chars().count() <= 200),
                None => (false, false),
            }
        }
    }
}

fn score_page(page: &Page, article: &Article) -> PageResult {
    let e = &page.expected;
    let mut r = PageResult::default();
    if let Some(title) = &e.title {
        r.title = Some(
            article
                .title
                .as_deref()
                .is_some_and(|t| collapse(t) == collapse(title)),
        );
    }
    if let Some(day) = e.date.as_deref().and_then(expected_day) {
        let got = article.published_at.map(|d| d.date_naive());
        r.date = Some(match got {
            Some(g) => (g == day, (g - day).num_days().abs() <= 1, true),
            None => (false, false, false),
        });
    }
    if let Some(authors) = &e.authors {
        r.authors = Some(authors_score(authors, &article.authors));
    }
    if let Some(body) = &e.body {
        if e.body_kind.as_deref() == Some("snippet") {
            r.snippet = Some(snippet_hit(body, &article.text));
        } else {
            r.body = Some(score::score_page(body, &article.text));
        }
    }
    r
}

fn rate(hits: usize, n: usize) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!(hits as f64 / n as f64)
    }
}

fn mean(values: &[f64]) -> Value {
    if values.is_empty() {
        Value::Null
    } else {
        json!(values.iter().sum::<f64>() / values.len() as f64)
    }
}

fn metrics(results: &[&PageResult]) -> Value {
    let titles: Vec<bool> = results.iter().filter_map(|r| r.title).collect();
    let dates: Vec<(bool, bool, bool)> = results.iter().filter_map(|r| r.date).collect();
    let authors: Vec<(f64, f64, f64)> = results.iter().filter_map(|r| r.authors).collect();
    let snippets: Vec<(bool, bool)> = results.iter().filter_map(|r| r.snippet).collect();
    let bodies: Vec<PageScore> = results.iter().filter_map(|r| r.body).collect();
    let body = if bodies.is_empty() {
        json!({"n": 0, "f1": null, "precision": null, "recall": null})
    } else {
        let agg = score::aggregate(&bodies);
        json!({"n": bodies.len(), "f1": agg.f1, "precision": agg.precision, "recall": agg.recall})
    };
    json!({
        "pages": results.len(),
        "title": {"n": titles.len(), "exact": rate(titles.iter().filter(|t| **t).count(), titles.len())},
        "date": {
            "n": dates.len(),
            "day": rate(dates.iter().filter(|d| d.0).count(), dates.len()),
            "day_pm1": rate(dates.iter().filter(|d| d.1).count(), dates.len()),
            "found": rate(dates.iter().filter(|d| d.2).count(), dates.len()),
        },
        "authors": {
            "n": authors.len(),
            "f1": mean(&authors.iter().map(|a| a.0).collect::<Vec<_>>()),
            "precision": mean(&authors.iter().map(|a| a.1).collect::<Vec<_>>()),
            "recall": mean(&authors.iter().map(|a| a.2).collect::<Vec<_>>()),
        },
        "snippet": {
            "n": snippets.len(),
            "found": rate(snippets.iter().filter(|s| s.0).count(), snippets.len()),
            "at_start": rate(snippets.iter().filter(|s| s.1).count(), snippets.len()),
        },
        "body": body,
    })
}

fn language_key(lang: Option<&str>) -> String {
    lang.and_then(|l| l.split(['-', '_']).next())
        .map(|l| l.trim().to_ascii_lowercase())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "und".to_owned())
}

fn fmt_rate(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{x:.3}"))
        .unwrap_or_else(|| "-".to_owned())
}

fn table_row(name: &str, m: &Value) -> String {
    format!(
        "{name:<12} {:>5}  title {:>5} ({:>3})  date {:>5} ±1 {:>5} ({:>3})  authors {:>5} ({:>3})  snippet {:>5} start {:>5} ({:>3})  body F1 {:>5} ({:>3})",
        m["pages"],
        fmt_rate(&m["title"]["exact"]),
        m["title"]["n"],
        fmt_rate(&m["date"]["day"]),
        fmt_rate(&m["date"]["day_pm1"]),
        m["date"]["n"],
        fmt_rate(&m["authors"]["f1"]),
        m["authors"]["n"],
        fmt_rate(&m["snippet"]["found"]),
        fmt_rate(&m["snippet"]["at_start"]),
        m["snippet"]["n"],
        fmt_rate(&m["body"]["f1"]),
        m["body"]["n"],
    )
}

fn time_pass<F: FnOnce()>(pass: F) -> Duration {
    let start = Instant::now();
    pass();
    start.elapsed()
}

/// Runs `newswire eval` on an `expected.jsonl` corpus.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let pages = load(&args.corpus)?;
    let hints = FeedHints::default();
    let outputs: Vec<Article> = pages
        .iter()
        .map(|p| extract(&p.html, p.url.as_ref(), &hints))
        .collect();
    let results: Vec<PageResult> = pages
        .iter()
        .zip(&outputs)
        .map(|(p, a)| score_page(p, a))
        .collect();

    // Speed as in the benchmark layout: extraction and parse-only passes alternate.
    let mut extract_time = Duration::MAX;
    let mut parse_time = Duration::MAX;
    for _ in 0..args.passes {
        extract_time = extract_time.min(time_pass(|| {
            for p in &pages {
                std::hint::black_box(extract(&p.html, p.url.as_ref(), &hints));
            }
        }));
        parse_time = parse_time.min(time_pass(|| {
            for p in &pages {
                std::hint::black_box(scraper::Html::parse_document(&p.html));
            }
        }));
    }
    let n = pages.len() as f64;
    let (extract_rate, parse_rate) = if args.passes == 0 {
        (Value::Null, Value::Null)
    } else {
        (
            json!(n / extract_time.as_secs_f64().max(1e-9)),
            json!(n / parse_time.as_secs_f64().max(1e-9)),
        )
    };
    let ratio = match (extract_rate.as_f64(), parse_rate.as_f64()) {
        (Some(e), Some(p)) => json!(e / p),
        _ => Value::Null,
    };

    let all: Vec<&PageResult> = results.iter().collect();
    let overall = metrics(&all);
    let mut by_lang: BTreeMap<String, Vec<&PageResult>> = BTreeMap::new();
    let mut by_source: BTreeMap<String, Vec<&PageResult>> = BTreeMap::new();
    for (p, r) in pages.iter().zip(&results) {
        by_lang
            .entry(language_key(p.expected.lang.as_deref()))
            .or_default()
            .push(r);
        by_source
            .entry(p.expected.source.clone().unwrap_or_else(|| "-".to_owned()))
            .or_default()
            .push(r);
    }
    let by_lang: BTreeMap<String, Value> =
        by_lang.into_iter().map(|(k, v)| (k, metrics(&v))).collect();
    let by_source: BTreeMap<String, Value> = by_source
        .into_iter()
        .map(|(k, v)| (k, metrics(&v)))
        .collect();
    let date_sources = outputs
        .iter()
        .fold(BTreeMap::<String, usize>::new(), |mut m, a| {
            let key = a
                .extraction
                .date_source
                .clone()
                .unwrap_or_else(|| "none".to_owned());
            *m.entry(key).or_default() += 1;
            m
        });

    let mut ranked: Vec<usize> = (0..pages.len()).collect();
    ranked.sort_by(|&a, &b| {
        results[b]
            .misses()
            .total_cmp(&results[a].misses())
            .then(pages[a].expected.id.cmp(&pages[b].expected.id))
    });
    let worst: Vec<Value> = ranked
        .iter()
        .take(args.worst.unwrap_or(0))
        .map(|&i| page_report(&pages[i], &outputs[i], &results[i]))
        .collect();

    if args.json {
        let report = json!({
            "layout": "expected.jsonl",
            "pages": pages.len(),
            "overall": overall,
            "by_language": by_lang,
            "by_source": by_source,
            "date_sources": date_sources,
            "extract_pages_per_sec": extract_rate,
            "parse_pages_per_sec": parse_rate,
            "ratio": ratio,
            "worst": worst,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", table_row("overall", &overall));
        for (k, m) in &by_source {
            println!("{}", table_row(&format!("src:{k}"), m));
        }
        for (k, m) in &by_lang {
            println!("{}", table_row(&format!("lang:{k}"), m));
        }
        println!(
            "date sources {}",
            date_sources
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        if let (Some(e), Some(p), Some(r)) =
            (extract_rate.as_f64(), parse_rate.as_f64(), ratio.as_f64())
        {
            println!("extract    {e:.0} pages/s");
            println!("parse only {p:.0} pages/s (html5ever via scraper)");
            println!("ratio      {r:.2} of parse-only speed");
        }
        if !worst.is_empty() {
            println!("\nworst pages:");
            for w in &worst {
                println!("  {}", serde_json::to_string(w)?);
            }
        }
    }
    if let Some(wanted) = &args.show {
        let i = pages
            .iter()
            .position(|p| p.expected.id.starts_with(wanted.as_str()))
            .with_context(|| format!("no page with id {wanted} in {}", args.corpus.display()))?;
        eprintln!(
            "{}",
            serde_json::to_string_pretty(&page_report(&pages[i], &outputs[i], &results[i]))?
        );
        eprintln!(
            "-- text:\n{}",
            outputs[i].text.chars().take(1500).collect::<String>()
        );
    }
    Ok(())
}

fn page_report(page: &Page, article: &Article, result: &PageResult) -> Value {
    let e = &page.expected;
    json!({
        "id": e.id,
        "misses": result.misses(),
        "title": {"expected": e.title, "got": article.title, "ok": result.title},
        "date": {
            "expected": e.date,
            "got": article.published_at.map(|d| d.to_rfc3339()),
            "source": article.extraction.date_source,
            "ok": result.date.map(|d| d.0),
        },
        "authors": {"expected": e.authors, "got": article.authors, "f1": result.authors.map(|a| a.0)},
        "snippet": {
            "expected": e.body.as_deref().filter(|_| e.body_kind.as_deref() == Some("snippet")),
            "got": article.text.chars().take(120).collect::<String>(),
            "found": result.snippet.map(|s| s.0),
        },
        "body_f1": result.body.map(|s| s.f1),
        "method": article.extraction.method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_day_uses_utc_only_when_an_offset_is_given() {
        assert_eq!(
            expected_day("2019-03-12T23:30:00-05:00"),
            NaiveDate::from_ymd_opt(2019, 3, 13)
        );
        assert_eq!(
            expected_day("2019-03-12T23:30:00"),
            NaiveDate::from_ymd_opt(2019, 3, 12)
        );
        assert_eq!(
            expected_day("2019-03-12"),
            NaiveDate::from_ymd_opt(2019, 3, 12)
        );
    }

    #[test]
    fn authors_are_compared_as_folded_sets() {
        let want = vec!["Jane Doe".to_owned(), "John  Roe".to_owned()];
        let got = vec!["jane doe".to_owned()];
        let (f1, p, r) = authors_score(&want, &got);
        assert_eq!((p, r), (1.0, 0.5));
        assert!((f1 - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(authors_score(&want, &[]).0, 0.0);
    }

    #[test]
    fn snippets_must_match_their_opening_tokens() {
        let text = "Berlin (dpa) - The storm reached the coast at dawn on Tuesday and more.";
        assert_eq!(
            snippet_hit("The storm reached the coast at dawn on Tuesday", text),
            (true, true)
        );
        assert_eq!(
            snippet_hit("The storm left the coast", text),
            (false, false)
        );
    }
}
