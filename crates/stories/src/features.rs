//! The weighted, L2-normalised term vector of one article.
//!
//! Terms are 32-bit hashes (the lowest bit marks a *specific* term: a proper noun, a number, a
//! place or an actor; the next bit a specific term that is a place, an actor or a figure, so that
//! [`name_cosine`] can compare the remaining names: people, organisations). Specific terms are
//! weighted up: two reports of one incident share names, places and figures, while two incidents
//! of one kind share only the vocabulary of that kind.

use rustc_hash::FxHashMap;

use crate::places::Mentions;
use crate::text::{Token, fold, is_stopword, proper_stems, stemmer_for, term_hash};

/// Feature weights (part of [`crate::Config`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Weights {
    pub title: f32,
    pub proper: f32,
    pub number: f32,
    pub place: f32,
    pub actor: f32,
    /// Terms kept per article (the highest weighted).
    pub doc_terms: usize,
}

/// A sparse vector sorted by term.
pub type SparseVec = Vec<(u32, f32)>;

pub fn is_specific(term: u32) -> bool {
    term & 1 == 1
}

fn hash32(kind: u8, s: &str, specific: bool, located: bool) -> u32 {
    let h = term_hash(kind, s, false);
    (((h >> 32) ^ h) as u32 & !3) | u32::from(specific) | (u32::from(located) << 1)
}

/// Whether `folded` (one word) is a word of a place's name, an alternate name, or a demonym or
/// institution standing for a country. Common surnames that are also towns (Jackson, Wilson)
/// count too: the name waiver then rests on the rarer names, which is the safe side.
fn is_place_word(folded: &str) -> bool {
    let gazetteer = crate::gazetteer::Gazetteer::get();
    // Regions without a GeoNames id do not count (see `Gazetteer::is_name_word`).
    gazetteer.is_name_word(folded)
        || gazetteer
            .lookup(folded)
            .any(|hit| gazetteer.places[hit.place as usize].geonames_id.is_some())
        || crate::gazetteer::country_of_word(folded).is_some()
}

/// A place, actor or figure term (second-lowest bit; always specific).
pub fn is_located(term: u32) -> bool {
    term & 2 == 2
}

/// The cosine of two vectors over their specific terms that are neither places, actors nor
/// figures: the people and organisations they name. 0 when either names none.
pub fn name_cosine(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let names = |v: &[(u32, f32)]| -> Vec<(u32, f32)> {
        v.iter()
            .copied()
            .filter(|e| is_specific(e.0) && !is_located(e.0))
            .collect()
    };
    let (na, nb) = (names(a), names(b));
    let norm = |v: &[(u32, f32)]| v.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
    let (x, y) = (norm(&na), norm(&nb));
    if x == 0.0 || y == 0.0 {
        return 0.0;
    }
    dots(&na, &nb).0 / (x * y)
}

/// Raw term frequencies (before IDF) of an article.
pub fn term_counts(
    body_toks: &[Token<'_>],
    title_toks: &[Token<'_>],
    mentions: &Mentions,
    language: Option<&str>,
    w: &Weights,
) -> FxHashMap<u32, (f32, f32)> {
    let stemmer = stemmer_for(language);
    let proper = proper_stems(body_toks, &stemmer);
    // term -> (occurrences, the largest weight it was seen with)
    let mut counts: FxHashMap<u32, (f32, f32)> = FxHashMap::default();
    let mut add = |term: u32, n: f32, weight: f32| {
        let e = counts.entry(term).or_insert((0.0, 0.0));
        e.0 += n;
        e.1 = e.1.max(weight);
    };
    let mut stems: FxHashMap<String, (u32, bool)> = FxHashMap::default();
    for (toks, mult) in [(title_toks, w.title), (body_toks, 1.0f32)] {
        for t in toks {
            if t.numeric {
                let digits = t.text.trim_end_matches(|c: char| !c.is_ascii_digit());
                if digits.len() >= 2 || digits.contains('.') {
                    add(hash32(b'n', digits, true, true), 1.0, w.number * mult);
                }
                continue;
            }
            let f = fold(t.text);
            if f.chars().count() < 2 || is_stopword(&f) {
                continue;
            }
            // Words repeat within an article: stem each distinct word once.
            let (term, specific) = *stems.entry(f).or_insert_with_key(|f| {
                let stem = stemmer.stem(f);
                let specific = proper.contains(stem.as_ref());
                // Decided from the gazetteer, not from this article's place mentions, so that
                // a word hashes alike in every article: any word of a place name ("Chiang" of
                // Chiang Mai) and any demonym counts as a place. Both the word and its stem
                // are looked up, so that "Americans" is marked like "American".
                let located = specific && (is_place_word(f) || is_place_word(&stem));
                (hash32(b'w', &stem, specific, located), specific)
            });
            let weight = if specific { w.proper } else { 1.0 };
            add(term, 1.0, weight * mult);
        }
    }
    for p in &mentions.places {
        add(hash32(b'p', &p.key, true, true), p.count as f32, w.place);
    }
    for a in &mentions.actors {
        add(hash32(b'a', a, true, true), 1.0, w.actor);
    }
    counts
}

/// Sublinear TF times IDF, the top `doc_terms`, L2-normalised, sorted by term.
pub fn weigh(
    counts: &FxHashMap<u32, (f32, f32)>,
    idf: impl Fn(u32) -> f32,
    doc_terms: usize,
) -> SparseVec {
    let mut v: SparseVec = counts
        .iter()
        .map(|(&t, &(n, weight))| (t, (1.0 + n.max(1.0).ln()) * weight * idf(t)))
        .collect();
    if v.len() > doc_terms {
        v.select_nth_unstable_by(doc_terms, |a, b| b.1.total_cmp(&a.1));
        v.truncate(doc_terms);
    }
    normalise(&mut v);
    v.sort_unstable_by_key(|e| e.0);
    v
}

pub fn normalise(v: &mut SparseVec) {
    let norm = v.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
    if norm > 0.0 {
        for e in v.iter_mut() {
            e.1 /= norm;
        }
    }
}

/// Dot products of two term-sorted vectors: over all terms and over specific terms only,
/// plus the squared norms of each side's specific part.
pub fn dots(a: &[(u32, f32)], b: &[(u32, f32)]) -> (f32, f32) {
    let (mut i, mut j) = (0, 0);
    let (mut all, mut spec) = (0.0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let p = a[i].1 * b[j].1;
                all += p;
                if is_specific(a[i].0) {
                    spec += p;
                }
                i += 1;
                j += 1;
            }
        }
    }
    (all, spec)
}

pub fn specific_norm(v: &[(u32, f32)]) -> f32 {
    v.iter()
        .filter(|e| is_specific(e.0))
        .map(|e| e.1 * e.1)
        .sum::<f32>()
        .sqrt()
}

/// `a + b`, keeping the `keep` heaviest terms, sorted by term.
pub fn add_truncate(a: &[(u32, f32)], b: &[(u32, f32)], keep: usize) -> SparseVec {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i].0 < b[j].0) {
            out.push(a[i]);
            i += 1;
        } else if i >= a.len() || b[j].0 < a[i].0 {
            out.push(b[j]);
            j += 1;
        } else {
            out.push((a[i].0, a[i].1 + b[j].1));
            i += 1;
            j += 1;
        }
    }
    if out.len() > keep {
        out.select_nth_unstable_by(keep, |x, y| y.1.total_cmp(&x.1));
        out.truncate(keep);
        out.sort_unstable_by_key(|e| e.0);
    }
    out
}
