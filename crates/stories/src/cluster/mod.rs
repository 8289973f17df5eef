//! Online story clustering: each article, in publication order, joins the most similar live story
//! or opens a new one.
//!
//! Similarity is the cosine between the article's TF-IDF vector and the story's centroid (the sum
//! of its articles' vectors, truncated to its heaviest terms). Two incidents of one kind share
//! their vocabulary but not their names, places and figures, so an article joins only when the
//! *specific* part of the vectors (proper nouns, numbers, places, actors) agrees too. Place and
//! actor overlap breaks near-ties. Stories live for a time window and the number of live stories
//! is capped, so memory is bounded; the whole state is a serialisable value ([`StoryState`]).

mod dates;
mod evidence;
mod index;
mod lifecycle;
mod merge;
mod model;

use std::collections::VecDeque;

use chrono::{DateTime, TimeZone, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::features::{
    SparseVec, add_truncate, dots, name_cosine, specific_norm, term_counts, weigh,
};
use crate::places::{Mentions, Place, PlaceMention, find_mentions};
use crate::text::{tokens, within_one_edit};
use dates::text_years;
use evidence::{Evidence, EvidenceWeights, StoryEvidence, adjustment, evidence};
use index::PostingIndex;
pub use model::{ArticleIn, Assignment, Config, STORY_SCHEMA, StoryLine, StoryRef};

const MAX_SOURCES: usize = 32;
/// Distinct sources counted per story (by hash) beyond the ones listed by name.
const MAX_COUNTED_SOURCES: usize = 1024;
const MAX_STORY_PLACES: usize = 24;
const MAX_LABELS: usize = 16;
const POSTED_TERMS_PER_ARTICLE: usize = 8;
const MAX_POSTED_TERMS: usize = 24;
/// Terms of the first article kept as the story's anchor.
const SEED_TERMS: usize = 24;
const QUERY_TERMS: usize = 24;
/// Stories looked at per query term (the most recent first): bounds the work per article.
const MAX_POSTING_SCAN: usize = 400;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoryPlace {
    place: Place,
    key: String,
    count: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Story {
    id: String,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    touched: u64,
    articles: u32,
    title: String,
    centroid: SparseVec,
    spec_norm: f32,
    norm: f32,
    posted: Vec<u32>,
    sources: Vec<(String, u32)>,
    places: Vec<StoryPlace>,
    countries: Vec<(String, u32)>,
    actors: Vec<(String, u32)>,
    dirty: bool,
    last_emitted: Option<i64>,
    merged_into: Option<String>,
    /// The first article's vector: a report must resemble it too, so the story cannot drift.
    #[serde(default)]
    seed: SparseVec,
    /// Incident years of its articles (publication year, or for undated ones the year the text names most).
    #[serde(default)]
    years: Vec<u16>,
    /// Key of the story this one was merged into (its id is `merged_into`).
    #[serde(default)]
    merged_key: Option<u64>,
    /// Figures, years and days of dates its reports name (evidence for or against a report
    /// joining).
    #[serde(default)]
    evidence: StoryEvidence,
    /// Hashes of its distinct sources, so that the source count goes past the named ones.
    #[serde(default)]
    source_hashes: Vec<u32>,
}

/// Everything the clusterer remembers; serialise it to keep story ids across restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoryState {
    stories: FxHashMap<u64, Box<Story>>,
    next_key: u64,
    seq: u64,
    /// The stream's clock: the latest publication time seen (seconds).
    now: Option<i64>,
    docs: u32,
    df: FxHashMap<u32, u32>,
    recent: VecDeque<(u64, u64)>,
    /// Final lines of retired stories, handed out by the next `take_story_lines`.
    pending_lines: Vec<StoryLine>,
}

impl StoryState {
    /// Entries in the document-frequency table.
    pub fn df_terms(&self) -> usize {
        self.df.len()
    }
}

/// The online clusterer: a [`Config`], the [`StoryState`] and an index rebuilt from it.
pub struct Clusterer {
    config: Config,
    state: StoryState,
    /// term -> stories that posted it
    index: PostingIndex,
    recent_index: FxHashMap<u64, u64>,
}

fn id_hash(id: &str) -> u64 {
    crate::text::term_hash(b'i', id, false)
}

fn secs(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

fn to_time(s: Option<i64>) -> Option<DateTime<Utc>> {
    s.and_then(|s| Utc.timestamp_opt(s, 0).single())
}

fn bump(list: &mut Vec<(String, u32)>, name: &str, cap: usize) {
    if let Some(e) = list.iter_mut().find(|e| e.0 == name) {
        e.1 += 1;
    } else if list.len() < cap {
        list.push((name.to_string(), 1));
    }
}

fn top_names(list: &[(String, u32)]) -> Vec<String> {
    let mut v: Vec<&(String, u32)> = list.iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.into_iter().map(|e| e.0.clone()).collect()
}

impl Clusterer {
    pub fn new(config: Config) -> Self {
        Self::with_state(config, StoryState::default())
    }

    /// Resumes from a saved state: story ids continue where they were.
    pub fn with_state(config: Config, state: StoryState) -> Self {
        let mut c = Clusterer {
            config,
            state,
            index: PostingIndex::default(),
            recent_index: FxHashMap::default(),
        };
        c.index.rebuild(
            c.state
                .stories
                .iter()
                .map(|(k, s)| (*k, s.posted.as_slice())),
        );
        for &(a, s) in &c.state.recent {
            c.recent_index.insert(a, s);
        }
        c
    }

    pub fn state(&self) -> &StoryState {
        &self.state
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn live_stories(&self) -> usize {
        self.state.stories.len()
    }

    /// Places one article; call in publication order.
    pub fn assign(&mut self, article: &ArticleIn<'_>) -> Assignment {
        let t = secs(article.published_at);
        if let Some(t) = t {
            let advanced = self.state.now.is_none_or(|n| t > n + 3600);
            if self.state.now.is_none_or(|n| t > n) {
                self.state.now = Some(t);
            }
            if advanced {
                self.retire_expired();
            }
        }
        self.state.seq += 1;

        let body_toks = tokens(article.text);
        let title_toks = tokens(article.title);
        let mut mentions = find_mentions(&body_toks, article.text);
        if !article.text.contains(article.title) {
            merge_mentions(&mut mentions, find_mentions(&title_toks, article.title));
        }
        let counts = term_counts(
            &body_toks,
            &title_toks,
            &mentions,
            article.language,
            &self.config.weights,
        );
        self.state.docs = self.state.docs.saturating_add(1);
        for &term in counts.keys() {
            *self.state.df.entry(term).or_insert(0) += 1;
        }
        if self.state.df.len() > self.config.max_df_terms {
            // Drop the rarest terms until a quarter of the room is free, so that pruning is rare.
            let mut floor = 1;
            while self.state.df.len() > self.config.max_df_terms * 3 / 4 {
                self.state.df.retain(|_, n| *n > floor);
                floor += 1;
            }
        }
        let n = self.state.docs as f32;
        let df = &self.state.df;
        let vec = weigh(
            &counts,
            |term| ((n + 1.0) / (*df.get(&term).unwrap_or(&1) as f32 + 1.0)).ln() + 1.0,
            self.config.weights.doc_terms,
        );

        let copy_of = article
            .duplicate_of
            .and_then(|d| self.recent_index.get(&id_hash(d)).copied())
            .map(|k| self.survivor(k))
            .filter(|k| self.state.stories.contains_key(k));
        let year = article
            .published_at
            .map(|d| chrono::Datelike::year(&d) as u16)
            .map(|y| vec![y])
            .unwrap_or_else(|| text_years(&title_toks, &body_toks));
        let ev = evidence([(article.title, &title_toks), (article.text, &body_toks)]);
        let (key, score) = match copy_of {
            Some(k) => (k, 1.0),
            None => match self.best_story(&vec, &mentions, t, &year, &ev) {
                Some((k, s)) => (k, s),
                None => (self.open_story(article), 0.0),
            },
        };
        // The article's own places: named and aliased as its story knows them, or as found
        // here when the story's list is full.
        let own_places: Vec<(String, Place)> = mentions
            .places
            .iter()
            .map(|m| (m.key.clone(), m.place.clone()))
            .collect();
        let countries = mentions.countries.clone();
        let actors = mentions.actors.clone();
        self.join(key, article, &vec, mentions, t);
        if let Some(story) = self.state.stories.get_mut(&key) {
            story.evidence.add(&ev);
            for y in year {
                if !story.years.contains(&y) && story.years.len() < 16 {
                    story.years.push(y);
                }
            }
        }
        self.remember(article.id, key);
        if self.config.merge_threshold > 0.0 {
            self.merge_if_converged(key, t);
        }
        let Some(story) = self.state.stories.get(&key) else {
            return Assignment {
                story: StoryRef {
                    id: String::new(),
                    score,
                },
                places: Vec::new(),
                countries,
                actors,
            };
        };
        let places = own_places
            .into_iter()
            .map(|(key, own)| {
                story
                    .places
                    .iter()
                    .find(|p| p.key == key || same_variant(&p.key, &key))
                    .map_or(own, |p| p.place.clone())
            })
            .collect();
        let assignment = Assignment {
            story: StoryRef {
                id: story.id.clone(),
                score,
            },
            places,
            countries,
            actors,
        };
        if self.state.stories.len() > self.config.max_stories {
            self.retire_least_recent();
        }
        assignment
    }

    fn best_story(
        &self,
        vec: &SparseVec,
        mentions: &Mentions,
        t: Option<i64>,
        years: &[u16],
        ev: &Evidence,
    ) -> Option<(u64, f32)> {
        let cfg = &self.config;
        let mut query: Vec<(u32, f32)> = vec.clone();
        query.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        let mut seen: FxHashSet<u64> = FxHashSet::default();
        let doc_spec = specific_norm(vec);
        // (story, score with the figure, year and date evidence, cosine)
        let mut scored: Vec<(u64, f32, f32)> = Vec::new();
        for &(term, _) in query.iter().take(QUERY_TERMS) {
            for key in self.index.stories(term).take(MAX_POSTING_SCAN) {
                if !seen.insert(key) {
                    continue;
                }
                let Some(story) = self.state.stories.get(&key) else {
                    continue;
                };
                let year_conflict = cfg.year_rule
                    && !years.is_empty()
                    && !story.years.is_empty()
                    && !years.iter().any(|y| story.years.contains(y));
                if story.merged_into.is_some() || year_conflict || !in_window(story, t, cfg) {
                    continue;
                }
                let (dot, spec_dot) = dots(vec, &story.centroid);
                let cos = if story.norm > 0.0 {
                    dot / story.norm
                } else {
                    0.0
                };
                if cos < cfg.join_threshold {
                    continue;
                }
                let spec_cos = if doc_spec > 0.0 && story.spec_norm > 0.0 {
                    spec_dot / (doc_spec * story.spec_norm)
                } else {
                    1.0
                };
                // The same incident shares what happened as well as who and where: a quake and a
                // clash in one city share only the city.
                let doc_gen = (1.0 - doc_spec * doc_spec).max(0.0).sqrt();
                let story_gen = (story.norm * story.norm - story.spec_norm * story.spec_norm)
                    .max(0.0)
                    .sqrt();
                let gen_cos = if doc_gen > 0.0 && story_gen > 0.0 {
                    (dot - spec_dot) / (doc_gen * story_gen)
                } else {
                    1.0
                };
                let combined = cos + cfg.specific_weight * spec_cos + cfg.generic_weight * gen_cos;
                if cos < cfg.sure_threshold
                    && if cfg.combined_threshold > 0.0 {
                        combined < cfg.combined_threshold
                    } else {
                        spec_cos < cfg.specific_threshold
                            || (gen_cos < cfg.generic_threshold
                                && !same_names_same_places(vec, mentions, story, cfg))
                    }
                {
                    continue;
                }
                let seed = if story.seed.is_empty() {
                    &story.centroid
                } else {
                    &story.seed
                };
                if cos < cfg.sure_threshold
                    && dots(vec, seed).0 / seed_norm(seed) < cfg.seed_threshold
                {
                    continue;
                }
                let adjusted = cos
                    + adjustment(
                        ev,
                        &story.evidence,
                        EvidenceWeights {
                            figure: cfg.figure_weight,
                            year: cfg.year_weight,
                            date: cfg.date_weight,
                        },
                        t.is_none(),
                    );
                let needed = if story.articles <= cfg.young_articles {
                    cfg.young_threshold.max(cfg.join_threshold)
                } else {
                    cfg.join_threshold
                };
                if cos < cfg.sure_threshold && adjusted < needed {
                    continue;
                }
                scored.push((key, adjusted, cos));
            }
        }
        let best = scored.iter().map(|e| e.1).fold(f32::MIN, f32::max);
        scored
            .iter()
            .filter(|e| e.1 >= best - cfg.tie_margin)
            .max_by(|a, b| {
                let oa = overlap(&self.state.stories[&a.0], mentions);
                let ob = overlap(&self.state.stories[&b.0], mentions);
                oa.cmp(&ob).then(a.1.total_cmp(&b.1)).then(b.0.cmp(&a.0))
            })
            .map(|e| (e.0, e.2))
    }

    /// The live story a (possibly merged) story's articles now belong to.
    fn survivor(&self, mut key: u64) -> u64 {
        for _ in 0..8 {
            match self.state.stories.get(&key).and_then(|s| s.merged_key) {
                Some(next) => key = next,
                None => break,
            }
        }
        key
    }

    fn open_story(&mut self, article: &ArticleIn<'_>) -> u64 {
        let key = self.state.next_key;
        self.state.next_key += 1;
        let hash = blake3::hash(article.id.as_bytes());
        let story = Story {
            id: format!("st-{}", &hash.to_hex()[..20]),
            first_seen: None,
            last_seen: None,
            touched: 0,
            articles: 0,
            title: article.title.to_string(),
            centroid: Vec::new(),
            spec_norm: 0.0,
            norm: 0.0,
            posted: Vec::new(),
            sources: Vec::new(),
            source_hashes: Vec::new(),
            places: Vec::new(),
            countries: Vec::new(),
            actors: Vec::new(),
            dirty: true,
            last_emitted: None,
            merged_into: None,
            years: Vec::new(),
            seed: Vec::new(),
            merged_key: None,
            evidence: StoryEvidence::default(),
        };
        self.state.stories.insert(key, Box::new(story));
        key
    }

    fn join(
        &mut self,
        key: u64,
        article: &ArticleIn<'_>,
        vec: &SparseVec,
        mentions: Mentions,
        t: Option<i64>,
    ) {
        let keep = self.config.centroid_terms;
        let seq = self.state.seq;
        let Some(story) = self.state.stories.get_mut(&key) else {
            return;
        };
        // A one-article story's centroid is its seed: keep the copy only once a second article joins.
        if story.articles == 1 {
            let mut seed = story.centroid.clone();
            if seed.len() > SEED_TERMS {
                seed.select_nth_unstable_by(SEED_TERMS, |a, b| b.1.total_cmp(&a.1));
                seed.truncate(SEED_TERMS);
                seed.sort_unstable_by_key(|e| e.0);
            }
            story.seed = seed;
        }
        story.centroid = add_truncate(&story.centroid, vec, keep);
        story.norm = story.centroid.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
        story.spec_norm = specific_norm(&story.centroid);
        story.articles += 1;
        story.touched = seq;
        story.dirty = true;
        if let Some(t) = t {
            story.first_seen = Some(story.first_seen.map_or(t, |f| f.min(t)));
            story.last_seen = Some(story.last_seen.map_or(t, |l| l.max(t)));
        }
        if let Some(src) = article.source {
            bump(&mut story.sources, src, MAX_SOURCES);
            let hash = crate::text::term_hash(b's', src, false) as u32;
            if !story.source_hashes.contains(&hash)
                && story.source_hashes.len() < MAX_COUNTED_SOURCES
            {
                story.source_hashes.push(hash);
            }
        }
        for c in &mentions.countries {
            bump(&mut story.countries, c, MAX_LABELS);
        }
        for a in &mentions.actors {
            bump(&mut story.actors, a, MAX_LABELS);
        }
        for m in mentions.places {
            add_story_place(&mut story.places, m);
        }
        // Post the article's heaviest terms so that later reports find this story.
        let mut top: Vec<(u32, f32)> = vec.clone();
        top.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        for &(term, _) in top.iter().take(POSTED_TERMS_PER_ARTICLE) {
            if story.posted.len() >= MAX_POSTED_TERMS {
                break;
            }
            if !story.posted.contains(&term) {
                story.posted.push(term);
                self.index.add(term, key);
            }
        }
    }

    fn remember(&mut self, article_id: &str, key: u64) {
        let h = id_hash(article_id);
        self.state.recent.push_back((h, key));
        self.recent_index.insert(h, key);
        while self.state.recent.len() > self.config.max_recent_articles {
            if let Some((old, k)) = self.state.recent.pop_front()
                && self.recent_index.get(&old) == Some(&k)
            {
                self.recent_index.remove(&old);
            }
        }
    }
}

fn in_window(story: &Story, t: Option<i64>, cfg: &Config) -> bool {
    let Some(t) = t else { return true };
    let (Some(first), Some(last)) = (story.first_seen, story.last_seen) else {
        return true;
    };
    t - first <= cfg.window_secs
        && first - t <= cfg.window_secs
        && (t - last).abs() <= cfg.max_gap_secs
        || (t >= first && t <= last)
}

fn seed_norm(v: &[(u32, f32)]) -> f32 {
    v.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt().max(1e-6)
}

fn overlap(story: &Story, mentions: &Mentions) -> usize {
    let actors = mentions
        .actors
        .iter()
        .filter(|a| story.actors.iter().any(|e| &e.0 == *a))
        .count();
    shared_places(story, mentions) * 2 + actors
}

/// Places the article names that the story names too (one-edit spelling variants included).
fn shared_places(story: &Story, mentions: &Mentions) -> usize {
    mentions
        .places
        .iter()
        .filter(|m| {
            story
                .places
                .iter()
                .any(|p| p.key == m.key || same_variant(&p.key, &m.key))
        })
        .count()
}

/// Whether a report that words what happened differently from the story (its ordinary-word
/// cosine below `generic_threshold`) still names the story's people, organisations and other
/// names (a cosine of at least `generic_waiver` over the specific terms that are neither places,
/// actors nor figures) without naming only other places. Outlets word one incident differently
/// but name the same people; two incidents in one city share the city, not the names.
fn same_names_same_places(
    vec: &SparseVec,
    mentions: &Mentions,
    story: &Story,
    cfg: &Config,
) -> bool {
    cfg.generic_waiver > 0.0
        && (mentions.places.is_empty()
            || story.places.is_empty()
            || shared_places(story, mentions) > 0)
        && name_cosine(vec, &story.centroid) >= cfg.generic_waiver
}

fn same_variant(a: &str, b: &str) -> bool {
    a.starts_with('u') && b.starts_with('u') && within_one_edit(a, b)
}

fn merge_mentions(into: &mut Mentions, other: Mentions) {
    for m in other.places {
        if let Some(e) = into.places.iter_mut().find(|e| e.key == m.key) {
            e.count += m.count;
        } else {
            into.places.push(m);
        }
    }
    into.countries.extend(other.countries);
    into.countries.sort();
    into.countries.dedup();
    into.actors.extend(other.actors);
    into.actors.sort();
    into.actors.dedup();
}

/// Adds a mention to the story's places: the same GeoNames place, or an unresolved name within
/// one edit of one already there (Farukh, Parukh, Farrukh), becomes one place with aliases.
fn add_story_place(list: &mut Vec<StoryPlace>, m: PlaceMention) {
    let existing = list
        .iter()
        .position(|p| p.key == m.key || same_variant(&p.key, &m.key));
    match existing {
        Some(i) => {
            let p = &mut list[i];
            p.count += m.count;
            for name in std::iter::once(&m.place.name)
                .chain(m.place.aliases.iter())
                .chain(std::iter::once(&m.surface))
            {
                if *name != p.place.name
                    && !p.place.aliases.contains(name)
                    && p.place.aliases.len() < 8
                {
                    p.place.aliases.push(name.clone());
                }
            }
        }
        None if list.len() < MAX_STORY_PLACES => list.push(StoryPlace {
            key: m.key,
            place: m.place,
            count: m.count,
        }),
        None => {}
    }
}
