//! The article-extraction-benchmark metric: word 4-gram shingles compared as multisets.
//!
//! Text is split into maximal runs of word characters (`\w+` in Python's Unicode sense:
//! letters, digits, marks and the underscore). Each text becomes a multiset of 4-grams
//! (a text of 1–3 tokens gives one shorter shingle). Per page, TP is the multiset
//! intersection; precision is averaged over pages with a non-empty prediction, recall over
//! pages with a non-empty truth, and F1 is the harmonic mean of the two averages.
//! `shared/tools/aeb_evaluate.py` is the reference implementation this mirrors.

use std::collections::HashMap;

/// Per-page counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PageScore {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    /// `None` when the prediction has no shingle.
    pub precision: Option<f64>,
    /// `None` when the truth has no shingle.
    pub recall: Option<f64>,
    pub f1: f64,
}

/// Corpus-level figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Aggregate {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

fn is_word_char(c: char) -> bool {
    // Python's `\w` for str patterns: alphanumerics of any script and the underscore.
    // (Rust's `is_alphanumeric` also admits a few combining vowel signs that Python does
    // not; on the benchmark's scripts the difference does not show.)
    c.is_alphanumeric() || c == '_'
}

/// Splits `text` into word tokens as the benchmark does.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(&text[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

fn shingles<'t>(toks: &[&'t str]) -> HashMap<Vec<&'t str>, usize> {
    let mut map = HashMap::new();
    if toks.is_empty() {
        return map;
    }
    if toks.len() < 4 {
        map.insert(toks.to_vec(), 1);
        return map;
    }
    for window in toks.windows(4) {
        *map.entry(window.to_vec()).or_insert(0) += 1;
    }
    map
}

/// Scores one predicted text against its truth.
pub fn score_page(truth: &str, predicted: &str) -> PageScore {
    let (t_tok, p_tok) = (tokens(truth), tokens(predicted));
    let (t_sh, p_sh) = (shingles(&t_tok), shingles(&p_tok));
    let tp: usize = p_sh
        .iter()
        .map(|(k, &n)| n.min(t_sh.get(k).copied().unwrap_or(0)))
        .sum();
    let p_total: usize = p_sh.values().sum();
    let t_total: usize = t_sh.values().sum();
    let fp = p_total - tp;
    let fn_ = t_total - tp;
    let precision = (p_total > 0).then(|| tp as f64 / p_total as f64);
    let recall = (t_total > 0).then(|| tp as f64 / t_total as f64);
    let f1 = match (precision, recall) {
        (Some(p), Some(r)) if p + r > 0.0 => 2.0 * p * r / (p + r),
        (None, None) => 1.0,
        _ => 0.0,
    };
    PageScore {
        tp,
        fp,
        fn_,
        precision,
        recall,
        f1,
    }
}

/// Aggregates page scores the way the benchmark does.
pub fn aggregate(pages: &[PageScore]) -> Aggregate {
    let mean = |values: Vec<f64>| {
        if values.is_empty() {
            0.0
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        }
    };
    let precision = mean(pages.iter().filter_map(|p| p.precision).collect());
    let recall = mean(pages.iter().filter_map(|p| p.recall).collect());
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Aggregate {
        precision,
        recall,
        f1,
    }
}

/// The shingles of `predicted` missing from `truth` (extra) and of `truth` missing from
/// `predicted` (missed), as word runs: used by `newswire eval --show`.
pub fn differences(truth: &str, predicted: &str) -> (Vec<String>, Vec<String>) {
    let (t_tok, p_tok) = (tokens(truth), tokens(predicted));
    let runs = |from: &[&str], against: &[&str]| -> Vec<String> {
        let mut budget = shingles(against);
        let mut covered = vec![false; from.len()];
        if from.len() >= 4 {
            for (i, w) in from.windows(4).enumerate() {
                if let Some(n) = budget.get_mut(w)
                    && *n > 0
                {
                    *n -= 1;
                    covered[i..i + 4].iter_mut().for_each(|c| *c = true);
                }
            }
        }
        let mut out = Vec::new();
        let mut current: Vec<&str> = Vec::new();
        for (tok, hit) in from.iter().zip(&covered) {
            if *hit {
                if !current.is_empty() {
                    out.push(current.join(" "));
                    current.clear();
                }
            } else {
                current.push(tok);
            }
        }
        if !current.is_empty() {
            out.push(current.join(" "));
        }
        out
    };
    (runs(&p_tok, &t_tok), runs(&t_tok, &p_tok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_score_one() {
        let s = score_page("one two three four five", "one two, three four five!");
        assert_eq!((s.tp, s.fp, s.fn_), (2, 0, 0));
        assert_eq!(s.f1, 1.0);
    }

    #[test]
    fn short_texts_form_one_shingle() {
        let s = score_page("a b", "a b c");
        assert_eq!(s.tp, 0);
        assert_eq!(s.precision, Some(0.0));
    }

    #[test]
    fn empty_prediction_costs_recall_only() {
        let pages = [
            score_page("one two three four", ""),
            score_page("one two three four", "one two three four"),
        ];
        let agg = aggregate(&pages);
        assert_eq!(agg.precision, 1.0);
        assert_eq!(agg.recall, 0.5);
    }

    #[test]
    fn tokens_follow_unicode_words() {
        assert_eq!(
            tokens("Ça va? 東京, naïve_x-y"),
            vec!["Ça", "va", "東京", "naïve_x", "y"]
        );
    }
}
