//! Stable record ids.
//!
//! An id is the first 128 bits of the blake3 hash of the canonical URL, as 32 hex digits:
//! the same article reached through two feeds, or with tracking parameters, gets one id.
//! Entries without a usable link fall back to the feed URL plus the entry's own id.

use url::Url;

/// Id of the article at `canonical` (pass it through [`crate::canonical::canonicalize`] first).
pub fn record_id_for_url(canonical: &Url) -> String {
    short_hash(canonical.as_str().as_bytes())
}

/// Id of a feed entry that has no link: its guid is only unique within its feed.
pub fn record_id_for_guid(feed_url: &str, guid: &str) -> String {
    let mut key = Vec::with_capacity(feed_url.len() + guid.len() + 6);
    key.extend_from_slice(b"guid:");
    key.extend_from_slice(feed_url.as_bytes());
    key.push(b' ');
    key.extend_from_slice(guid.as_bytes());
    short_hash(&key)
}

fn short_hash(bytes: &[u8]) -> String {
    let hash = blake3::hash(bytes);
    hash.to_hex()[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_stable() {
        let url = Url::parse("https://news.example/a").unwrap();
        let id = record_id_for_url(&url);
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(id, record_id_for_url(&url));
    }

    #[test]
    fn guid_ids_depend_on_the_feed() {
        assert_ne!(
            record_id_for_guid("https://a.example/rss", "1"),
            record_id_for_guid("https://b.example/rss", "1")
        );
    }
}
