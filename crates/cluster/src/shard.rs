//! The shard of a feed: a hash of its URL that never changes between releases.
//!
//! `shard_of(url, shards)` = the first 8 bytes of BLAKE3(url as UTF-8 bytes), read as a
//! little-endian u64, modulo `shards`. BLAKE3 is a published, versioned specification, so
//! the mapping depends on neither our code nor a crate's hasher (unlike `std`'s
//! `DefaultHasher`, which may change between Rust releases). The URL is taken exactly as
//! the feed's key in the config: two spellings of one feed are two feeds. Changing
//! `cluster.shards` moves most feeds to other shards, so every worker must use one value.

use std::collections::BTreeMap;

/// The shard (`0..shards`) of the feed at `url`; 0 when `shards` is 0.
pub fn shard_of(url: &str, shards: u32) -> u32 {
    if shards == 0 {
        return 0;
    }
    let hash = blake3::hash(url.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    (u64::from_le_bytes(first) % u64::from(shards)) as u32
}

/// How many of `urls` fall into each shard (for `cluster status`).
pub fn feeds_per_shard<'a>(
    urls: impl IntoIterator<Item = &'a str>,
    shards: u32,
) -> BTreeMap<u32, usize> {
    let mut out = BTreeMap::new();
    for url in urls {
        *out.entry(shard_of(url, shards)).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_release_stable() {
        // Pinned values: a change here moves feeds between workers of a mixed-version
        // cluster, so it must never happen silently.
        assert_eq!(shard_of("https://news.example/feed.xml", 64), 44);
        assert_eq!(shard_of("https://news.example/feed.xml", 7), 4);
        assert_eq!(shard_of("", 64), 47);
        assert_eq!(shard_of("https://news.example/feed.xml", 0), 0);
    }

    #[test]
    fn feeds_spread_over_all_shards() {
        let urls: Vec<String> = (0..6400)
            .map(|i| format!("https://site{i}.example/rss"))
            .collect();
        let counts = feeds_per_shard(urls.iter().map(String::as_str), 64);
        assert_eq!(counts.len(), 64);
        // 100 expected per shard; a uniform hash stays well within ±40%.
        assert!(
            counts.values().all(|&n| (60..=140).contains(&n)),
            "{counts:?}"
        );
        assert_eq!(counts.values().sum::<usize>(), 6400);
    }
}
