//! newswire-stories: groups reports of one incident into stories, and finds the places, countries
//! and actors they name. Pure and synchronous like the extractor: no I/O in the clustering; the
//! state is a serialisable value ([`StoryState`]) that the caller persists.
//!
//! Use: build a [`Clusterer`] (from [`Config::default()`], the one configuration for every corpus),
//! call [`Clusterer::assign`] for each article in publication order, and write the
//! [`StoryLine`]s that [`Clusterer::take_story_lines`] hands out. [`eval`] scores it on a corpus.

pub mod cluster;
pub mod eval;
pub mod features;
pub mod gazetteer;
pub mod places;
pub mod text;

pub use cluster::{
    ArticleIn, Assignment, Clusterer, Config, STORY_SCHEMA, StoryLine, StoryRef, StoryState,
};
pub use eval::{EvalError, EvalOptions, EvalReport, Scores, evaluate_corpus, score};
pub use places::{Place, ResolvedBy};
