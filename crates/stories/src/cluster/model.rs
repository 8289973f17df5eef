//! The clusterer's public types: its configuration, the article it takes, and what it gives back
//! (a record's `story`, `places`, `countries`, `actors`, and `newswire.story/1` lines).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::features::Weights;
use crate::places::Place;

/// The one configuration used for every corpus (no per-source tuning).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// A story takes no article published more than this many seconds after its first one.
    pub window_secs: i64,
    /// …nor one published more than this many seconds after its latest one.
    pub max_gap_secs: i64,
    /// Live stories kept at most (the least recently updated are retired first).
    pub max_stories: usize,
    /// Terms kept in a story's centroid.
    pub centroid_terms: usize,
    /// Document-frequency entries kept (rare terms are dropped beyond it).
    pub max_df_terms: usize,
    /// Article ids remembered to place syndicated copies (`duplicate_of`) in their original's story.
    pub max_recent_articles: usize,
    /// Cosine an article needs with a story's centroid to join it.
    pub join_threshold: f32,
    /// Cosine of the specific parts (names, numbers, places) needed to join, when both have some.
    pub specific_threshold: f32,
    /// Cosine of the ordinary-word parts (what happened) needed to join…
    pub generic_threshold: f32,
    /// …unless the names that are neither places, actors nor figures (people, organisations)
    /// reach this cosine and the places do not disagree: outlets word one incident differently
    /// but name the same people. 0 turns the waiver off; unused with `combined_threshold`.
    #[serde(default)]
    pub generic_waiver: f32,
    /// Above this overall cosine the specific parts are not checked (a near-copy).
    pub sure_threshold: f32,
    /// Cosine an article needs with the story's first article (against drift).
    pub seed_threshold: f32,
    /// Texts' years must overlap with the story's (undated articles).
    pub year_rule: bool,
    /// Two candidate stories within this score of each other are a tie, broken by place/actor overlap.
    pub tie_margin: f32,
    /// A story line is emitted at most once per this many seconds per story.
    pub story_line_interval_secs: i64,
    /// When above 0, the specific and ordinary-word rules become one soft score instead of two
    /// gates: `cos + specific_weight * spec_cos + generic_weight * gen_cos` must reach this.
    #[serde(default)]
    pub combined_threshold: f32,
    #[serde(default)]
    pub specific_weight: f32,
    #[serde(default)]
    pub generic_weight: f32,
    /// Two live stories whose centroids reach this cosine (and pass the specific and
    /// ordinary-word rules) are one: the younger is merged into the older (`merged_into`).
    /// 0 turns merging off.
    #[serde(default)]
    pub merge_threshold: f32,
    /// Added to the similarity when a report shares a figure (a number of two or more digits
    /// that is not a year) with the story's reports, subtracted when both name figures and share
    /// none: two incidents of one kind rarely have the same counts.
    #[serde(default)]
    pub figure_weight: f32,
    /// Added when an undated report names a year the story's reports name, subtracted when both
    /// name years and share none.
    #[serde(default)]
    pub year_weight: f32,
    /// Added when an undated report names a day of a date ("December 13") the story's reports
    /// name, subtracted when both name days and not a month in common.
    #[serde(default)]
    pub date_weight: f32,
    /// A story of at most `young_articles` reports takes a report only at this adjusted score:
    /// its identity rests on one or two reports, and a same-kind incident joining it then takes
    /// every later report of both with it. Off (0 articles) in the shipped configuration: it
    /// costs more recall than it gains precision (README).
    #[serde(default)]
    pub young_threshold: f32,
    #[serde(default)]
    pub young_articles: u32,
    pub weights: Weights,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window_secs: 7 * 86_400,
            max_gap_secs: 3 * 86_400,
            max_stories: 22_000,
            centroid_terms: 96,
            max_df_terms: 200_000,
            max_recent_articles: 100_000,
            join_threshold: 0.20,
            specific_threshold: 0.20,
            sure_threshold: 0.90,
            generic_threshold: 0.05,
            generic_waiver: 0.5,
            tie_margin: 0.02,
            seed_threshold: 0.10,
            year_rule: false,
            story_line_interval_secs: 300,
            combined_threshold: 0.0,
            specific_weight: 0.0,
            generic_weight: 0.0,
            merge_threshold: 0.8,
            figure_weight: 0.05,
            year_weight: 0.2,
            date_weight: 0.15,
            young_threshold: 0.30,
            young_articles: 0,
            weights: Weights {
                title: 1.5,
                proper: 1.5,
                number: 1.5,
                place: 3.0,
                actor: 1.0,
                doc_terms: 60,
            },
        }
    }
}

/// One article as the clusterer needs it.
#[derive(Debug, Clone, Copy)]
pub struct ArticleIn<'a> {
    pub id: &'a str,
    pub published_at: Option<DateTime<Utc>>,
    pub title: &'a str,
    pub text: &'a str,
    /// ISO 639-1; English stemming when absent or unsupported.
    pub language: Option<&'a str>,
    /// The outlet (site name or feed URL), for source counts.
    pub source: Option<&'a str>,
    /// Id of the earlier article this one is a syndicated copy of.
    pub duplicate_of: Option<&'a str>,
}

/// A record's `story` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryRef {
    pub id: String,
    /// The similarity that placed the article (1.0 for a copy, 0.0 for a story it opened).
    pub score: f32,
}

/// What the clusterer adds to one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub story: StoryRef,
    pub places: Vec<Place>,
    pub countries: Vec<String>,
    pub actors: Vec<String>,
}

/// A `newswire.story/1` line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryLine {
    pub schema: String,
    pub id: String,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub article_count: u32,
    pub source_count: u32,
    pub sources: Vec<String>,
    pub top_places: Vec<Place>,
    pub countries: Vec<String>,
    pub actors: Vec<String>,
    pub title: String,
    /// Set when this story turned out to be part of another one.
    pub merged_into: Option<String>,
}

pub const STORY_SCHEMA: &str = "newswire.story/1";
