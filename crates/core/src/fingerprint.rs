//! Text fingerprints: normalised word lists, content hashes and 64-bit simhashes.
//!
//! The simhash is written here rather than taken from the `simhash` crate because its
//! value is persisted in the state store and compared across releases: we need to own the
//! tokenisation (lower-cased Unicode words, 3-word shingles) and the feature hash (blake3,
//! stable forever) instead of inheriting whatever a dependency picks.

/// Lower-cased runs of alphanumeric characters (the words of `text`).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
}

/// Number of words in `text`, counted like [`words`].
pub fn word_count(text: &str) -> u64 {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count() as u64
}

/// Hex blake3 of the text with whitespace runs collapsed, so re-flowed copies hash alike.
pub fn content_hash(text: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    let mut first = true;
    for word in text.split_whitespace() {
        if !first {
            hasher.update(b" ");
        }
        hasher.update(word.as_bytes());
        first = false;
    }
    hasher.finalize().to_hex().to_string()
}

/// Words per shingle for [`simhash`].
const SHINGLE: usize = 3;

/// 64-bit simhash over word shingles of `text`; near-identical texts differ in few bits.
pub fn simhash(text: &str) -> u64 {
    let words: Vec<String> = words(text).collect();
    if words.is_empty() {
        return 0;
    }
    let mut weights = [0i64; 64];
    let mut add = |feature: &[String]| {
        let mut hasher = blake3::Hasher::new();
        for w in feature {
            hasher.update(w.as_bytes());
            hasher.update(b" ");
        }
        let bytes = hasher.finalize();
        let mut eight = [0u8; 8];
        eight.copy_from_slice(&bytes.as_bytes()[..8]);
        let h = u64::from_le_bytes(eight);
        for (bit, weight) in weights.iter_mut().enumerate() {
            if h >> bit & 1 == 1 {
                *weight += 1;
            } else {
                *weight -= 1;
            }
        }
    };
    if words.len() < SHINGLE {
        add(&words);
    } else {
        for window in words.windows(SHINGLE) {
            add(window);
        }
    }
    weights
        .iter()
        .enumerate()
        .filter(|(_, w)| **w > 0)
        .fold(0u64, |acc, (bit, _)| acc | 1 << bit)
}

/// Number of differing bits between two simhashes.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The simhash as it appears in records: 16 lower-case hex digits.
pub fn simhash_hex(value: u64) -> String {
    format!("{value:016x}")
}

/// Parses [`simhash_hex`] output back.
pub fn parse_simhash_hex(text: &str) -> Option<u64> {
    u64::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "The regional council voted on Tuesday to close the old river bridge \
        to heavy traffic after engineers found cracks in two of its supports. Repairs are \
        expected to take most of the summer, and buses will be diverted through the northern \
        industrial estate while the work goes on. Shop owners on both banks said they feared \
        losing customers during the closure.";

    #[test]
    fn near_copies_are_close_and_other_texts_far() {
        let copy = format!(
            "{} Reporting by staff.",
            STORY.replace("Tuesday", "Wednesday")
        );
        let other = "Fishermen in the bay reported the largest herring catch in a decade, \
            which local scientists attribute to colder water and a ban on trawling near the reef \
            introduced three years ago by the regional government after long negotiations.";
        let a = simhash(STORY);
        assert!(
            hamming(a, simhash(&copy)) <= 10,
            "{}",
            hamming(a, simhash(&copy))
        );
        assert!(
            hamming(a, simhash(other)) > 16,
            "{}",
            hamming(a, simhash(other))
        );
    }

    #[test]
    fn whitespace_does_not_change_the_content_hash() {
        assert_eq!(content_hash("a  b\n\nc"), content_hash("a b c"));
        assert_ne!(content_hash("a b c"), content_hash("a b d"));
    }

    #[test]
    fn hex_round_trip() {
        let h = simhash(STORY);
        assert_eq!(parse_simhash_hex(&simhash_hex(h)), Some(h));
        assert_eq!(simhash_hex(1).len(), 16);
    }

    #[test]
    fn word_count_counts_unicode_words() {
        assert_eq!(word_count("Война и мир — 1869."), 4);
    }
}

/// Checked against the seed texts the project started from (`../shared/seeds`): two
/// templates of one syndicated story must fall within the default threshold
/// (`dedup.max_hamming_distance = 10`), different reports of the same incident far outside.
#[cfg(test)]
mod seed_texts {
    use super::{hamming, simhash};

    #[test]
    fn syndicated_copies_are_near_and_other_reports_far() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            println!("skipped: no seed texts at {}", dir.display());
            return;
        };
        let mut texts: Vec<(String, u64)> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy()[..3].to_string();
                Some((name, simhash(&std::fs::read_to_string(&p).ok()?)))
            })
            .collect();
        texts.sort();
        assert_eq!(texts.len(), 5, "five seed texts");
        for (i, (a, ha)) in texts.iter().enumerate() {
            for (b, hb) in &texts[i + 1..] {
                let distance = hamming(*ha, *hb);
                if (a.as_str(), b.as_str()) == ("002", "004") {
                    assert!(distance <= 10, "{a}~{b}: {distance} bits");
                } else {
                    assert!(distance >= 20, "{a} vs {b}: only {distance} bits apart");
                }
            }
        }
    }
}
