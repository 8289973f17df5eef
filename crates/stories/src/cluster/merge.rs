//! Merging two live stories that turned out to be one (`merged_into`).

use rustc_hash::FxHashSet;

use super::{
    Clusterer, MAX_COUNTED_SOURCES, MAX_LABELS, MAX_POSTED_TERMS, MAX_POSTING_SCAN, MAX_SOURCES,
    MAX_STORY_PLACES, Story, bump, in_window, same_variant,
};
use crate::features::{add_truncate, dots, specific_norm};

impl Clusterer {
    /// Merges the story `key` with the most similar other live story when their centroids have
    /// converged: the younger story keeps its id and records `merged_into`; the older one takes
    /// its centroid, counts and labels, and later reports join it.
    pub(super) fn merge_if_converged(&mut self, key: u64, t: Option<i64>) {
        let cfg = &self.config;
        let Some(story) = self.state.stories.get(&key) else {
            return;
        };
        if story.articles < 2 || story.norm <= 0.0 {
            return;
        }
        let mut seen: FxHashSet<u64> = FxHashSet::default();
        let mut best: Option<(u64, f32)> = None;
        for &term in &story.posted {
            for other_key in self.index.stories(term).take(MAX_POSTING_SCAN) {
                if other_key == key || !seen.insert(other_key) {
                    continue;
                }
                let Some(other) = self.state.stories.get(&other_key) else {
                    continue;
                };
                if other.merged_key.is_some() || other.norm <= 0.0 || !in_window(other, t, cfg) {
                    continue;
                }
                let (dot, spec_dot) = dots(&story.centroid, &other.centroid);
                let cos = dot / (story.norm * other.norm);
                if cos < cfg.merge_threshold || best.is_some_and(|b| b.1 >= cos) {
                    continue;
                }
                let spec_cos = if story.spec_norm > 0.0 && other.spec_norm > 0.0 {
                    spec_dot / (story.spec_norm * other.spec_norm)
                } else {
                    1.0
                };
                let generic_norm = |s: &Story| {
                    (s.norm * s.norm - s.spec_norm * s.spec_norm)
                        .max(0.0)
                        .sqrt()
                };
                let (ga, gb) = (generic_norm(story), generic_norm(other));
                let gen_cos = if ga > 0.0 && gb > 0.0 {
                    (dot - spec_dot) / (ga * gb)
                } else {
                    1.0
                };
                // No name waiver here: two whole stories are merged only when they agree on
                // what happened too (a wrong merge takes every later report with it).
                if spec_cos >= cfg.specific_threshold && gen_cos >= cfg.generic_threshold {
                    best = Some((other_key, cos));
                }
            }
        }
        let Some((other_key, _)) = best else { return };
        // The older story survives: its id is the one readers have seen longest.
        let (keep, gone) = if other_key < key {
            (other_key, key)
        } else {
            (key, other_key)
        };
        let Some(mut absorbed) = self.state.stories.remove(&gone) else {
            return;
        };
        let centroid_terms = self.config.centroid_terms;
        if let Some(survivor) = self.state.stories.get_mut(&keep) {
            survivor.centroid =
                add_truncate(&survivor.centroid, &absorbed.centroid, centroid_terms);
            survivor.norm = survivor
                .centroid
                .iter()
                .map(|e| e.1 * e.1)
                .sum::<f32>()
                .sqrt();
            survivor.spec_norm = specific_norm(&survivor.centroid);
            survivor.articles += absorbed.articles;
            survivor.evidence.absorb(&absorbed.evidence);
            survivor.touched = survivor.touched.max(absorbed.touched);
            survivor.dirty = true;
            survivor.first_seen = match (survivor.first_seen, absorbed.first_seen) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            survivor.last_seen = survivor.last_seen.max(absorbed.last_seen);
            for (name, n) in &absorbed.sources {
                for _ in 0..*n {
                    bump(&mut survivor.sources, name, MAX_SOURCES);
                }
            }
            for hash in &absorbed.source_hashes {
                if !survivor.source_hashes.contains(hash)
                    && survivor.source_hashes.len() < MAX_COUNTED_SOURCES
                {
                    survivor.source_hashes.push(*hash);
                }
            }
            for (name, n) in &absorbed.countries {
                for _ in 0..*n {
                    bump(&mut survivor.countries, name, MAX_LABELS);
                }
            }
            for (name, n) in &absorbed.actors {
                for _ in 0..*n {
                    bump(&mut survivor.actors, name, MAX_LABELS);
                }
            }
            for p in &absorbed.places {
                if !survivor
                    .places
                    .iter()
                    .any(|q| q.key == p.key || same_variant(&q.key, &p.key))
                    && survivor.places.len() < MAX_STORY_PLACES
                {
                    survivor.places.push(p.clone());
                }
            }
            for &term in &absorbed.posted {
                if survivor.posted.len() >= MAX_POSTED_TERMS {
                    break;
                }
                if !survivor.posted.contains(&term) {
                    survivor.posted.push(term);
                    self.index.add(term, keep);
                }
            }
            absorbed.merged_into = Some(survivor.id.clone());
            absorbed.merged_key = Some(keep);
            absorbed.dirty = true;
        }
        self.state.stories.insert(gone, absorbed);
    }
}
