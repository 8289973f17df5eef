//! Shared vocabulary of the newswire pipeline.
//!
//! Every other crate of the workspace depends on this one and on nothing else of ours:
//! - [`record`]: the output record (`newswire.record/1`) and its JSON Schema;
//! - [`config`]: the TOML configuration, with errors that name the key and line;
//! - [`dates`]: the one lenient date parser (feeds and pages), converting to UTC;
//! - [`canonical`]: URL canonicalisation (tracking parameters, AMP variants, fragments…);
//! - [`ids`]: the one rule for record ids (canonical link, else guid, else the entry's words);
//! - [`fingerprint`]: text normalisation, content hashes, simhash and MinHash sketches;
//! - [`near_dup`]: the near-duplicate rule (eligibility, candidates, confirmation, direction);
//! - `nats` (feature `nats`): connecting to NATS and opening KV buckets, for the crates
//!   that talk to JetStream.
//!
//! ```
//! use newswire_core::ids::{IdSources, record_id};
//! let a = url::Url::parse("https://news.example/a/?utm_source=x#top").unwrap();
//! let b = url::Url::parse("https://news.example/a").unwrap();
//! assert_eq!(record_id(&IdSources::page(&a)), record_id(&IdSources::page(&b)));
//! ```

pub mod canonical;
pub mod cluster_config;
pub mod config;
pub mod dates;
pub mod delivery;
pub mod fingerprint;
pub mod ids;
#[cfg(feature = "nats")]
pub mod nats;
pub mod near_dup;
pub mod record;

pub use record::{Extraction, FeedRef, Record, SiteRef};
