//! [`StateStore`] on the KV buckets: what each call reads and writes (the counts are in
//! the module doc of `nats_kv`), and saved blobs split into chunks.

use std::sync::atomic::Ordering;

use async_nats::jetstream::kv;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use newswire_core::delivery::SinkPosition;
use newswire_core::fingerprint::Simhash;
use newswire_core::near_dup::Candidate;
use serde::{Deserialize, Serialize};

use super::NatsKvState;
use super::index::{Indexed, StoredSimhash};
use super::keys::{encode_key, from_millis, millis, purge_keys, put_all};
use crate::{EmittedRecord, FeedState, PruneStats, StateError, StateStats, StateStore};

#[derive(Serialize, Deserialize)]
pub(super) struct StoredFeed {
    pub(super) url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) next_due: Option<i64>,
    #[serde(default)]
    pub(super) error_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_success: Option<i64>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredSink {
    pub(super) name: String,
    pub(super) data: String,
}

impl StateStore for NatsKvState {
    fn feed_state(&self, feed_url: &str) -> Result<Option<FeedState>, StateError> {
        let Some(stored): Option<StoredFeed> =
            self.read_json(&self.feeds, feed_url, &format!("feed state of {feed_url}"))?
        else {
            return Ok(None);
        };
        Ok(Some(FeedState {
            etag: stored.etag,
            last_modified: stored.last_modified,
            next_due: stored.next_due.and_then(from_millis),
            error_count: stored.error_count,
            last_error: stored.last_error,
            last_success: stored.last_success.and_then(from_millis),
        }))
    }

    fn save_feed_state(&mut self, feed_url: &str, state: &FeedState) -> Result<(), StateError> {
        self.count_ops(1);
        let stored = StoredFeed {
            url: feed_url.to_string(),
            etag: state.etag.clone(),
            last_modified: state.last_modified.clone(),
            next_due: state.next_due.map(millis),
            error_count: state.error_count,
            last_error: state.last_error.clone(),
            last_success: state.last_success.map(millis),
        };
        let value = serde_json::to_vec(&stored).map_err(|e| StateError::Storage {
            path: self.url.clone(),
            message: format!("cannot encode feed state of {feed_url}: {e}"),
        })?;
        let store = self.feeds.clone();
        let key = encode_key(feed_url);
        self.call("save_feed_state", "saving feed state", async move {
            put_all(&store, vec![(key, Bytes::from(value))])
                .await
                .map(|_| ())
        })
    }

    fn is_emitted(&self, id: &str) -> Result<bool, StateError> {
        self.count_ops(1);
        let store = self.seen.clone();
        let key = encode_key(id);
        self.call("is_emitted", "checking a record id", async move {
            store
                .get(key.clone())
                .await
                .map(|v| v.is_some())
                .map_err(|e| format!("bucket {} key {key}: {e}", store.name))
        })
    }

    fn kept_near_duplicates(
        &self,
        simhash: Simhash,
        max_distance: u32,
        keep: &dyn Fn(&Candidate) -> bool,
    ) -> Result<Vec<Candidate>, StateError> {
        let cutoff = self.retention_cutoff_millis();
        let index = self.index.lock().map_err(|_| StateError::Storage {
            path: self.url.clone(),
            message: "the simhash replica is unusable (a thread panicked holding it)".into(),
        })?;
        let mut found: Vec<(u32, u64, &Candidate)> = index
            .entries
            .values()
            .filter(|e| e.at_millis >= cutoff)
            .filter_map(|e| {
                let distance = simhash.distance(e.candidate.simhash);
                (distance <= max_distance && keep(&e.candidate)).then_some((
                    distance,
                    e.revision,
                    &e.candidate,
                ))
            })
            .collect();
        // Closest first; among equals in commit order (KV revision), as SQLite's rowid order.
        found.sort_by_key(|(distance, revision, _)| (*distance, *revision));
        Ok(found
            .into_iter()
            .take(crate::MAX_CANDIDATES)
            .map(|(.., c)| c.clone())
            .collect())
    }

    fn sink_position(&self, sink: &str) -> Result<Option<SinkPosition>, StateError> {
        let Some(stored): Option<StoredSink> =
            self.read_json(&self.sinks, sink, &format!("position of sink {sink}"))?
        else {
            return Ok(None);
        };
        Ok(Some(SinkPosition {
            sink: sink.to_string(),
            data: stored.data,
        }))
    }

    fn commit(
        &mut self,
        records: &[EmittedRecord],
        positions: &[SinkPosition],
    ) -> Result<(), StateError> {
        let encode = |value: &dyn ToJson| {
            value.to_json().map_err(|e| StateError::Storage {
                path: self.url.clone(),
                message: format!("cannot encode a commit: {e}"),
            })
        };
        let mut position_puts = Vec::with_capacity(positions.len());
        for position in positions {
            let value = StoredSink {
                name: position.sink.clone(),
                data: position.data.clone(),
            };
            position_puts.push((encode_key(&position.sink), encode(&value)?));
        }
        // An id indexed before keeps its first entry, as in SQLite.
        let already_indexed: std::collections::HashSet<&str> = match self.index.lock() {
            Ok(index) => records
                .iter()
                .filter(|r| index.entries.contains_key(&r.id))
                .map(|r| r.id.as_str())
                .collect(),
            Err(_) => Default::default(),
        };
        let mut seen_puts = Vec::with_capacity(records.len());
        let mut simhash_puts = Vec::new();
        let mut indexed_ids = Vec::new();
        for record in records {
            let at = millis(record.emitted_at);
            seen_puts.push((encode_key(&record.id), Bytes::from(at.to_string())));
            if let Some(entry) = &record.near_dup
                && !already_indexed.contains(record.id.as_str())
            {
                let value = StoredSimhash {
                    id: record.id.clone(),
                    simhash: entry.fingerprint.simhash.0,
                    at,
                    minhash: Some(entry.fingerprint.minhash.to_bytes()),
                    published: entry.published_at.map(|p| p.timestamp_millis()),
                };
                simhash_puts.push((encode_key(&record.id), encode(&value)?));
                indexed_ids.push((
                    Candidate {
                        id: record.id.clone(),
                        simhash: entry.fingerprint.simhash,
                        minhash: Some(entry.fingerprint.minhash.clone()),
                        // As the bucket stores it, so that this copy equals the watch's.
                        published_at: entry.published_at.map(millis).and_then(from_millis),
                    },
                    at,
                ));
            }
        }
        self.count_ops(position_puts.len() + seen_puts.len() + simhash_puts.len());
        let (sinks, seen, simhashes) = (
            self.sinks.clone(),
            self.seen.clone(),
            self.simhashes.clone(),
        );
        let revisions = self.call("commit", "committing", async move {
            // Positions first: see "Atomicity" in the module doc.
            put_all(&sinks, position_puts).await?;
            let (seen_result, simhash_result) =
                tokio::join!(put_all(&seen, seen_puts), put_all(&simhashes, simhash_puts));
            seen_result?;
            simhash_result
        })?;
        // The watch brings these too; inserting now makes them visible to this store's
        // next lookup without waiting for it. An id indexed before keeps its first entry.
        if let Ok(mut index) = self.index.lock() {
            for ((candidate, at_millis), revision) in indexed_ids.into_iter().zip(revisions) {
                index
                    .entries
                    .entry(candidate.id.clone())
                    .or_insert(Indexed {
                        candidate,
                        at_millis,
                        revision,
                    });
            }
        }
        Ok(())
    }

    fn prune(
        &mut self,
        older_than: DateTime<Utc>,
        max_simhashes: usize,
    ) -> Result<PruneStats, StateError> {
        let cutoff = millis(older_than);
        // Simhashes: decided on the replica, which holds every indexed id.
        let doomed: Vec<String> = {
            let mut index = self.index.lock().map_err(|_| StateError::Storage {
                path: self.url.clone(),
                message: "the simhash replica is unusable (a thread panicked holding it)".into(),
            })?;
            let mut by_age: Vec<(i64, u64, String)> = index
                .entries
                .iter()
                .map(|(id, e)| (e.at_millis, e.revision, id.clone()))
                .collect();
            // Newest first; everything older than the cutoff or past the count goes.
            by_age.sort_unstable_by(|a, b| b.cmp(a));
            let doomed: Vec<String> = by_age
                .into_iter()
                .enumerate()
                .filter(|(rank, (at, ..))| *at < cutoff || *rank >= max_simhashes)
                .map(|(_, (.., id))| id)
                .collect();
            for id in &doomed {
                if let Some(entry) = index.entries.remove(id) {
                    index.pruned.insert(id.clone(), entry.revision);
                }
            }
            doomed
        };
        let simhashes_pruned = doomed.len() as u64;
        let keys: Vec<String> = doomed.iter().map(|id| encode_key(id)).collect();
        self.count_ops(keys.len());
        let simhashes = self.simhashes.clone();
        self.call("prune", "pruning simhashes", async move {
            purge_keys(&simhashes, keys).await
        })?;

        // Seen ids: the bucket's max_age already removes ids older than the retention.
        // Only a cutoff beyond that (an explicit, stricter prune) needs a scan.
        let records_pruned = if cutoff > self.retention_cutoff_millis() + 60_000 {
            let seen = self.seen.clone();
            let operations = self.operations.clone();
            self.call("prune", "pruning seen ids", async move {
                let mut watch = seen
                    .watch_with_history(">")
                    .await
                    .map_err(|e| format!("cannot scan bucket {}: {e}", seen.name))?;
                let total = seen
                    .stream
                    .get_info()
                    .await
                    .map_err(|e| format!("bucket {}: {e}", seen.name))?
                    .state
                    .messages;
                let mut old = Vec::new();
                if total > 0 {
                    while let Some(entry) = watch.next().await {
                        let entry = entry.map_err(|e| format!("scanning {}: {e}", seen.name))?;
                        let at = std::str::from_utf8(&entry.value)
                            .ok()
                            .and_then(|s| s.parse::<i64>().ok());
                        if entry.operation == kv::Operation::Put && at.is_some_and(|at| at < cutoff)
                        {
                            old.push(entry.key.clone());
                        }
                        if entry.delta == 0 {
                            break;
                        }
                    }
                }
                operations.fetch_add(total + old.len() as u64, Ordering::Relaxed);
                let n = old.len() as u64;
                purge_keys(&seen, old).await?;
                Ok(n)
            })?
        } else {
            0
        };
        Ok(PruneStats {
            records: records_pruned,
            simhashes: simhashes_pruned,
        })
    }

    fn stats(&self) -> Result<StateStats, StateError> {
        let stores = [
            self.feeds.clone(),
            self.seen.clone(),
            self.sinks.clone(),
            self.simhashes.clone(),
        ];
        self.count_ops(stores.len());
        let infos = self.call("stats", "reading state stats", async move {
            let mut out = Vec::new();
            for store in stores {
                let info = store
                    .stream
                    .get_info()
                    .await
                    .map_err(|e| format!("bucket {}: {e}", store.name))?;
                out.push((info.state.messages, info.state.bytes));
            }
            Ok(out)
        })?;
        let simhashes = self
            .index
            .lock()
            .map(|i| i.entries.len() as u64)
            .unwrap_or_default();
        Ok(StateStats {
            feeds: infos[0].0,
            emitted_records: infos[1].0,
            sinks: infos[2].0,
            simhashes,
            file_bytes: infos.iter().map(|(_, bytes)| bytes).sum(),
        })
    }

    fn delete_sink_position(&mut self, sink: &str) -> Result<bool, StateError> {
        self.count_ops(2);
        let store = self.sinks.clone();
        let key = encode_key(sink);
        self.call(
            "delete_sink_position",
            "deleting a sink position",
            async move {
                let existed = store
                    .get(key.clone())
                    .await
                    .map_err(|e| format!("bucket {} key {key}: {e}", store.name))?
                    .is_some();
                if existed {
                    purge_keys(&store, vec![key]).await?;
                }
                Ok(existed)
            },
        )
    }

    fn load_blob(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.count_ops(1);
        let store = self.sinks.clone();
        let name = blob_key(key);
        self.call("load_blob", "reading a saved blob", async move {
            let Some(manifest) = store
                .get(name.clone())
                .await
                .map_err(|e| format!("bucket {} key {name}: {e}", store.name))?
            else {
                return Ok(None);
            };
            let manifest: BlobManifest = serde_json::from_slice(&manifest).map_err(|e| {
                format!("bucket {} key {name}: not a blob manifest: {e}", store.name)
            })?;
            let mut out = Vec::with_capacity(manifest.len);
            for i in 0..manifest.chunks {
                let chunk_key = format!("{name}.{}.{i}", manifest.generation);
                let chunk = store
                    .get(chunk_key.clone())
                    .await
                    .map_err(|e| format!("bucket {} key {chunk_key}: {e}", store.name))?
                    .ok_or_else(|| format!("bucket {} key {chunk_key} is missing", store.name))?;
                out.extend_from_slice(&chunk);
            }
            if out.len() != manifest.len {
                return Err(format!("bucket {} blob {name} is truncated", store.name));
            }
            Ok(Some(out))
        })
    }

    fn save_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), StateError> {
        let chunks: Vec<Bytes> = bytes
            .chunks(BLOB_CHUNK)
            .map(Bytes::copy_from_slice)
            .collect();
        self.count_ops(chunks.len() + 3);
        let store = self.sinks.clone();
        let name = blob_key(key);
        let len = bytes.len();
        self.call("save_blob", "saving a blob", async move {
            let previous: Option<BlobManifest> = store
                .get(name.clone())
                .await
                .map_err(|e| format!("bucket {} key {name}: {e}", store.name))?
                .and_then(|m| serde_json::from_slice(&m).ok());
            let generation = previous.as_ref().map_or(0, |m| m.generation + 1);
            let manifest = BlobManifest {
                generation,
                chunks: chunks.len(),
                len,
            };
            let puts: Vec<(String, Bytes)> = chunks
                .into_iter()
                .enumerate()
                .map(|(i, c)| (format!("{name}.{generation}.{i}"), c))
                .collect();
            put_all(&store, puts).await?;
            // The manifest is written last: until then readers see the previous generation.
            let manifest = manifest.to_json().map_err(|e| e.to_string())?;
            put_all(&store, vec![(name.clone(), manifest)]).await?;
            if let Some(old) = previous {
                let stale = (0..old.chunks)
                    .map(|i| format!("{name}.{}.{i}", old.generation))
                    .collect();
                purge_keys(&store, stale).await?;
            }
            Ok(())
        })
    }
}

/// Blobs live in the sinks bucket (positions and saved states: small, no `max_age`), split
/// into chunks below the server's default 1 MiB message limit, under a manifest key that
/// is written last so a reader never sees half of a new value.
const BLOB_CHUNK: usize = 512 * 1024;

fn blob_key(key: &str) -> String {
    format!("blob.{}", encode_key(key))
}

#[derive(Serialize, Deserialize)]
struct BlobManifest {
    generation: u64,
    chunks: usize,
    len: usize,
}

/// The commit's two value types behind one signature, so encoding errors are mapped once.
trait ToJson {
    fn to_json(&self) -> Result<Bytes, serde_json::Error>;
}

impl<T: Serialize> ToJson for T {
    fn to_json(&self) -> Result<Bytes, serde_json::Error> {
        serde_json::to_vec(self).map(Bytes::from)
    }
}
