//! Keys and values of the state buckets: names escaped into valid KV keys (reversibly,
//! see the module doc of `nats_kv`), times as Unix milliseconds, and batched writes and
//! purges (at most [`COMMIT_CHUNK`] in flight).

use async_nats::jetstream::kv;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::MAX_PLAIN_KEY;

/// Writes of one commit in flight at once.
const COMMIT_CHUNK: usize = 256;

/// `name` as a KV key (see the module doc).
pub fn encode_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("={byte:02X}"));
        }
    }
    if out.is_empty() {
        // An empty key is invalid in KV; "=" alone never comes out of an escape.
        return "=".into();
    }
    if out.len() > MAX_PLAIN_KEY {
        return format!("hash.{}", blake3::hash(name.as_bytes()).to_hex());
    }
    out
}

/// The name an escaped key stands for; `None` for hashed keys.
pub fn decode_key(key: &str) -> Option<String> {
    if key == "=" {
        return Some(String::new());
    }
    if key.starts_with("hash.") {
        return None;
    }
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = key.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(super) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

pub(super) async fn put_all(
    store: &kv::Store,
    items: Vec<(String, Bytes)>,
) -> Result<Vec<u64>, String> {
    let mut revisions = Vec::with_capacity(items.len());
    for chunk in items.chunks(COMMIT_CHUNK) {
        let puts = chunk.iter().map(|(key, value)| {
            let store = store.clone();
            async move {
                store
                    .put(key, value.clone())
                    .await
                    .map_err(|e| format!("cannot write key {key} to bucket {}: {e}", store.name))
            }
        });
        revisions.extend(futures_util::future::try_join_all(puts).await?);
    }
    Ok(revisions)
}

/// Removes `keys` with no delete marker left behind (a stream purge by subject), so that
/// message counts stay equal to key counts.
pub(super) async fn purge_keys(store: &kv::Store, keys: Vec<String>) -> Result<(), String> {
    for chunk in keys.chunks(COMMIT_CHUNK) {
        let purges = chunk.iter().map(|key| {
            let store = store.clone();
            async move {
                store
                    .stream
                    .purge()
                    .filter(format!("{}{key}", store.prefix))
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("cannot remove key {key} from bucket {}: {e}", store.name))
            }
        });
        futures_util::future::try_join_all(purges).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_and_reversible() {
        for name in [
            "https://news.example/feed.xml?x=1&y=a b",
            "jsonl:out/records.jsonl",
            "0123456789abcdef0123456789abcdef",
            "ünïcödé",
            "",
            "=",
        ] {
            let key = encode_key(name);
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b)),
                "{key}"
            );
            assert_eq!(decode_key(&key).as_deref(), Some(name));
        }
        let long = "https://news.example/".to_string() + &"a/".repeat(400);
        let key = encode_key(&long);
        assert!(key.starts_with("hash.") && key.len() < 80, "{key}");
        assert_eq!(decode_key(&key), None);
        assert_ne!(encode_key(&(long.clone() + "b")), key);
    }
}
