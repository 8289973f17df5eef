//! Shared vocabulary of the newswire pipeline.
//!
//! Every other crate of the workspace depends on this one and on nothing else of ours:
//! - [`record`]: the output record (`newswire.record/1`) and its JSON Schema;
//! - [`config`]: the TOML configuration, with errors that name the key and line;
//! - [`canonical`]: URL canonicalisation (tracking parameters, AMP variants, fragments…);
//! - [`ids`]: stable record ids derived from canonical URLs;
//! - [`fingerprint`]: text normalisation, content hashes and 64-bit simhashes.
//!
//! ```
//! use newswire_core::{canonical::canonicalize, ids::record_id_for_url};
//! let a = url::Url::parse("https://news.example/a/?utm_source=x#top").unwrap();
//! let b = url::Url::parse("https://news.example/a").unwrap();
//! assert_eq!(record_id_for_url(&canonicalize(&a)), record_id_for_url(&canonicalize(&b)));
//! ```

pub mod canonical;
pub mod cluster_config;
pub mod config;
pub mod delivery;
pub mod fingerprint;
pub mod ids;
pub mod record;

pub use record::{Extraction, FeedRef, Record, SiteRef};
