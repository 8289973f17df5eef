//! Quick quality check of the extractor on a benchmark-layout corpus, without the binary:
//! `cargo run --release -p newswire-extractor --example corpus_score -- DIR [worst N] [show ID] [dump FILE]`.
//! `newswire eval` is the full command (timing, bootstrap, JSON); this exists so the
//! extractor can be tuned while the binary is being changed by others.

use std::io::Read;

use newswire_extractor::score;
use newswire_extractor::{FeedHints, extract};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(
        args.get(1)
            .ok_or("usage: corpus_score DIR [worst N] [show ID]")?,
    );
    let worst: usize = args
        .iter()
        .position(|a| a == "worst")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let show = args
        .iter()
        .position(|a| a == "show")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let truth: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ground-truth.json"))?)?;
    let dump = args
        .iter()
        .position(|a| a == "dump")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut predictions = serde_json::Map::new();
    let mut rows = Vec::new();
    let mut scores = Vec::new();
    let start = std::time::Instant::now();
    let mut elapsed = std::time::Duration::ZERO;
    for (id, entry) in &truth {
        let mut html = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(
            dir.join("html").join(format!("{id}.html.gz")),
        )?)
        .read_to_string(&mut html)?;
        let url = entry
            .get("url")
            .and_then(|u| u.as_str())
            .and_then(|u| url::Url::parse(u).ok());
        let t = std::time::Instant::now();
        let article = extract(&html, url.as_ref(), &FeedHints::default());
        elapsed += t.elapsed();
        let gt = entry
            .get("articleBody")
            .and_then(|b| b.as_str())
            .unwrap_or_default();
        let s = score::score_page(gt, &article.text);
        if show.as_deref().is_some_and(|w| id.starts_with(w)) {
            let (extra, missed) = score::differences(gt, &article.text);
            println!(
                "== {id} {:?} {:?}",
                url.as_ref().map(|u| u.as_str()),
                article.extraction
            );
            println!(
                "title={:?} authors={:?} published={:?} lang={:?}",
                article.title, article.authors, article.published_at, article.language
            );
            missed.iter().for_each(|m| println!("  - {m}"));
            extra.iter().for_each(|m| println!("  + {m}"));
            println!("---- text ----\n{}", article.text);
        }
        predictions.insert(
            id.clone(),
            serde_json::json!({ "articleBody": article.text }),
        );
        rows.push((
            s.f1,
            s.precision.unwrap_or(0.0),
            s.recall.unwrap_or(0.0),
            id.clone(),
            url.map(|u| u.to_string()).unwrap_or_default(),
            article.extraction.method,
        ));
        scores.push(s);
    }
    if let Some(path) = dump {
        std::fs::write(path, serde_json::to_vec(&predictions)?)?;
    }
    let agg = score::aggregate(&scores);
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for r in rows.iter().take(worst) {
        println!(
            "{:.3} P={:.3} R={:.3} {} {} [{}]",
            r.0,
            r.1,
            r.2,
            &r.3[..8],
            r.4,
            r.5
        );
    }
    println!(
        "F1 {:.4} P {:.4} R {:.4}  extract {:.0} pages/s (incl. first-touch), total {:?}",
        agg.f1,
        agg.precision,
        agg.recall,
        truth.len() as f64 / elapsed.as_secs_f64(),
        start.elapsed()
    );
    Ok(())
}
