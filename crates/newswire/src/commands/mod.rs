//! The binary's commands, one per file. Shared pieces live beside them in the crate root:
//! exit codes (`exit`), reading the config and the command-line overrides
//! (`config_file`), the feed list with its OPML file (`feed_list`), signals and reload
//! (`signals`).

pub mod cluster;
pub mod eval;
pub mod eval_corpus;
pub mod eval_stories;
pub mod extract;
pub mod feeds;
pub mod run;
pub mod state;
pub mod validate;
