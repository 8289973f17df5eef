//! The in-memory replica of the simhash bucket: a KV store cannot answer "which hash is
//! within d bits" without enumerating keys, so each store loads the bucket at open and a
//! KV watch keeps the copy current (other workers' commits included). Lookups scan it.

use std::collections::HashMap;
use std::sync::Mutex;

use async_nats::jetstream::kv;
use newswire_core::fingerprint::{MinHash, Simhash};
use newswire_core::near_dup::Candidate;
use serde::{Deserialize, Serialize};

use super::keys::{decode_key, from_millis};

/// One indexed simhash in the in-memory replica, held as the [`Candidate`] a lookup
/// returns, so that a lookup's `keep` runs on it in place and only kept ones are copied.
#[derive(Debug, Clone)]
pub(super) struct Indexed {
    pub(super) candidate: Candidate,
    pub(super) at_millis: i64,
    /// KV revision: breaks ties between equal times in commit order, as SQLite's rowid does.
    pub(super) revision: u64,
}

#[derive(Debug, Default)]
pub(super) struct SimhashIndex {
    pub(super) entries: HashMap<String, Indexed>,
    /// Ids this store pruned, with the revision they had: the watch may still deliver the
    /// `Put` that created them after the prune, which must not bring them back. An id
    /// leaves this map when the watch delivers its purge.
    pub(super) pruned: HashMap<String, u64>,
    pub(super) loaded: bool,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredSimhash {
    pub(super) id: String,
    pub(super) simhash: u64,
    pub(super) at: i64,
    /// The MinHash signature ([`MinHash::to_bytes`]); absent = not confirmable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) minhash: Option<Vec<u8>>,
    /// Publication date in Unix milliseconds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) published: Option<i64>,
}

pub(super) fn mark_loaded(
    index: &Mutex<SimhashIndex>,
    tx: &mut Option<tokio::sync::oneshot::Sender<()>>,
) {
    if let Ok(mut index) = index.lock() {
        index.loaded = true;
    }
    if let Some(tx) = tx.take() {
        let _ = tx.send(());
    }
}

pub(super) fn apply_entry(index: &Mutex<SimhashIndex>, entry: &kv::Entry) {
    let Ok(mut index) = index.lock() else {
        return;
    };
    match entry.operation {
        kv::Operation::Put => {
            if let Ok(stored) = serde_json::from_slice::<StoredSimhash>(&entry.value)
                && index
                    .pruned
                    .get(&stored.id)
                    .is_none_or(|pruned| *pruned < entry.revision)
            {
                let candidate = Candidate {
                    id: stored.id.clone(),
                    simhash: Simhash(stored.simhash),
                    minhash: stored.minhash.as_deref().and_then(MinHash::from_bytes),
                    published_at: stored.published.and_then(from_millis),
                };
                index.entries.insert(
                    stored.id,
                    Indexed {
                        candidate,
                        at_millis: stored.at,
                        revision: entry.revision,
                    },
                );
            }
        }
        kv::Operation::Delete | kv::Operation::Purge => {
            if let Some(id) = decode_key(&entry.key) {
                index.entries.remove(&id);
                index.pruned.remove(&id);
            }
        }
    }
}
