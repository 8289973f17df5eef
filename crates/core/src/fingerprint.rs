//! Text fingerprints: normalised word lists, content hashes, and the two sketches the
//! near-duplicate rule ([`crate::near_dup`]) works on: a 64-bit [`Simhash`] (candidate
//! filter) and a [`MinHash`] signature (confirmation on the shingle sets).
//!
//! Both sketches are written here rather than taken from a crate because their values
//! are persisted in the state store (and the simhash in every record) and compared across
//! releases: we must own the tokenisation and every hash bit for bit. The format is
//! **stable**; changing anything below (shingle size, word hash, shingle mixing, the
//! MinHash seeds) is a format change that makes stored signatures incomparable, and needs
//! a state migration that drops them.
//!
//! The format (version 2; version 1 hashed every 3-word shingle of the whole text with
//! blake3, which a profile showed costing 8 % of the pipeline's CPU):
//! - *words*: maximal runs of Unicode alphanumeric characters, lower-cased;
//! - *shingles*: [`SHINGLE`] consecutive words within one line (a line shorter than that
//!   is one shingle); shingles never span a line break, so reordered paragraphs keep
//!   their shingles;
//! - *word hash*: 64-bit FNV-1a of the lower-cased UTF-8 bytes (constants fixed by the
//!   FNV specification);
//! - *shingle hash*: the word hashes folded with `h = (h.rotate_left(27) ^ w) * FOLD`,
//!   then finalised with MurmurHash3's `fmix64`;
//! - *simhash*: bit `i` is set when more shingle hashes have bit `i` set than clear;
//! - *MinHash*: for slot `i`, the minimum over shingles of `A[i] * x + B[i]` (wrapping
//!   32-bit arithmetic, `x` = the shingle hash's halves xor-ed), of which the low 16 bits
//!   are kept (b-bit MinHash); `A`, `B` come from splitmix64 seeded with [`MINHASH_SEED`].
//!
//! One cheap hash per word and one mix per shingle replace blake3 per shingle; see
//! `crates/core/benches/fingerprint.rs` for the cost.

use std::fmt;
use std::str::FromStr;

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

/// Hex blake3 of the text with whitespace runs collapsed, so re-flowed copies hash alike:
/// the hash of the words of `str::split_whitespace` joined by single spaces.
pub fn content_hash(text: &str) -> String {
    // The collapsed text is built by copying spans of the text, cut only where whitespace
    // is not a lone ASCII space between two non-space characters (paragraph breaks, runs,
    // Unicode spaces), and hashed in one call, which lets blake3 hash whole chunks in
    // parallel (an `update` per short span runs one block at a time). Going word by word
    // through `split_whitespace` cost 2 % of the pipeline's CPU in the load benchmark.
    let bytes = text.as_bytes();
    let mut collapsed: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut span_start = 0;
    let mut space_pending = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b > b' ' && b < 0x80 {
            i += 1;
            continue;
        }
        // The common case first: one space between ASCII words.
        if b == b' ' && i > span_start && bytes.get(i + 1).is_some_and(|&n| n > b' ' && n < 0x80) {
            i += 2;
            continue;
        }
        let width = whitespace_width(bytes, i);
        if width == 0 {
            i += 1;
            continue;
        }
        let lone_space = b == b' '
            && i > span_start
            && i + 1 < bytes.len()
            && whitespace_width(bytes, i + 1) == 0;
        if lone_space {
            i += 1;
            continue;
        }
        // An irregular place: copy the span before it, skip the whole run, and owe one
        // space to whatever comes next (none at the start or the end of the text).
        push_span(&mut collapsed, &bytes[span_start..i], &mut space_pending);
        let mut end = i + width;
        loop {
            let next = whitespace_width(bytes, end);
            if next == 0 {
                break;
            }
            end += next;
        }
        space_pending |= !collapsed.is_empty();
        span_start = end;
        i = end;
    }
    push_span(&mut collapsed, &bytes[span_start..], &mut space_pending);
    blake3::hash(&collapsed).to_hex().to_string()
}

/// Appends a span of words to the collapsed text, after the one space owed before it.
fn push_span(collapsed: &mut Vec<u8>, span: &[u8], space_pending: &mut bool) {
    if !span.is_empty() {
        if *space_pending {
            collapsed.push(b' ');
        }
        collapsed.extend_from_slice(span);
        *space_pending = false;
    }
}

/// Byte length of the whitespace character (Unicode White_Space, as `char::is_whitespace`)
/// starting at `at`, or 0 when there is none (or `at` is past the end).
fn whitespace_width(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at..).unwrap_or_default() {
        [b'\t'..=b'\r' | b' ', ..] => 1,
        [0xC2, 0x85 | 0xA0, ..] => 2,
        [0xE1, 0x9A, 0x80, ..]
        | [0xE2, 0x80, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF, ..]
        | [0xE2, 0x81, 0x9F, ..]
        | [0xE3, 0x80, 0x80, ..] => 3,
        _ => 0,
    }
}

/// Words per shingle (part of the stable format).
pub const SHINGLE: usize = 6;

/// Slots of a [`MinHash`] signature (part of the stable format).
pub const MINHASH_SLOTS: usize = 128;

/// Slots compared by [`MinHash::agrees_in_first_slots`] (not part of the format).
pub const QUICK_SLOTS: usize = 32;

/// Seed of the MinHash slot hashes (part of the stable format).
pub const MINHASH_SEED: u64 = 0x6e65_7773_7769_7265; // "newswire"

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const FOLD: u64 = 0x9e37_79b9_7f4a_7c15;

/// One byte of 64-bit FNV-1a.
fn fnv_step(hash: u64, byte: u8) -> u64 {
    (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
}

/// MurmurHash3's 64-bit finaliser: spreads every input bit over the output.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

fn shingle_hash(words: &[u64]) -> u64 {
    let folded = words
        .iter()
        .fold(0u64, |h, w| (h.rotate_left(27) ^ w).wrapping_mul(FOLD));
    fmix64(folded)
}

/// Calls `each` with the hash of every shingle of `text` (see the module doc); returns
/// the number of words, the same as [`word_count`] (line breaks separate words anyway).
///
/// One pass over the bytes: a word's FNV-1a is folded in as its bytes go by (FNV is
/// byte-sequential, so this equals the hash of the whole lower-cased word), and only a byte of a
/// multi-byte character is decoded. Splitting each line into word slices first, with a
/// `char` split for any line holding one non-ASCII character (a curly quote is enough),
/// was most of the fingerprint's cost.
fn for_each_shingle(text: &str, mut each: impl FnMut(u64)) -> u64 {
    let bytes = text.as_bytes();
    let mut line_words: Vec<u64> = Vec::with_capacity(64);
    let mut words = 0u64;
    let mut hash = FNV_OFFSET;
    let mut in_word = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            i += 1;
            if b.is_ascii_alphanumeric() {
                hash = fnv_step(hash, b.to_ascii_lowercase());
                in_word = true;
                continue;
            }
            if in_word {
                line_words.push(hash);
                (hash, in_word) = (FNV_OFFSET, false);
            }
            if b == b'\n' {
                words += end_line(&mut line_words, &mut each);
            }
            continue;
        }
        // `i` is at a character boundary: it only ever steps over whole characters.
        let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        if c.is_alphanumeric() {
            let mut buf = [0u8; 4];
            for lower in c.to_lowercase() {
                for b in lower.encode_utf8(&mut buf).bytes() {
                    hash = fnv_step(hash, b);
                }
            }
            in_word = true;
        } else if in_word {
            line_words.push(hash);
            (hash, in_word) = (FNV_OFFSET, false);
        }
    }
    if in_word {
        line_words.push(hash);
    }
    words + end_line(&mut line_words, &mut each)
}

/// Hands the shingles of one line's words to `each` and empties the list; returns the
/// line's word count.
fn end_line(line_words: &mut Vec<u64>, each: &mut impl FnMut(u64)) -> u64 {
    let n = line_words.len();
    match n {
        0 => {}
        n if n < SHINGLE => each(shingle_hash(line_words)),
        _ => line_words
            .windows(SHINGLE)
            .for_each(|w| each(shingle_hash(w))),
    }
    line_words.clear();
    n as u64
}

/// A 64-bit simhash: near-identical texts differ in few bits. In records it is written as
/// 16 lower-case hex digits (JSON numbers lose bits past 2^53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Simhash(pub u64);

impl Simhash {
    /// The simhash of `text` alone (see [`Fingerprint::of`] for both sketches in one pass).
    pub fn of(text: &str) -> Simhash {
        let mut acc = SimhashAccumulator::default();
        for_each_shingle(text, |h| acc.add(h));
        acc.finish()
    }

    /// Number of differing bits.
    pub fn distance(self, other: Simhash) -> u32 {
        (self.0 ^ other.0).count_ones()
    }

    /// Appends `(distance, position)` for every simhash in `others` within `max_distance`
    /// bits of this one, in position order.
    pub fn scan_within(self, others: &[u64], max_distance: u32, found: &mut Vec<(u32, usize)>) {
        scan_within(self.0, others, max_distance, found);
    }
}

/// Simhashes compared per block: a block's matches are first counted in one branch-free
/// loop (which vectorises), and only a block with a match is looked at again.
const SCAN_BLOCK: usize = 64;

/// [`Simhash::scan_within`]. Compiled also for AVX2 and POPCNT and chosen at run time
/// (`multiversion`): the baseline x86-64 target has no popcount instruction, and this scan
/// runs over the whole near-duplicate index (up to 200,000 entries) once per article.
/// Over 200,000 entries with none within 10 bits: 438 µs one by one, 89 µs so (criterion
/// `state_ops` in newswire-state). AVX-512's vector popcount (VPOPCNTDQ, Ice Lake and
/// later, Zen 4) counts eight entries per instruction.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vpopcntdq+avx2+popcnt",
    "x86_64+avx2+popcnt",
    "x86_64+popcnt"
))]
fn scan_within(simhash: u64, others: &[u64], max_distance: u32, found: &mut Vec<(u32, usize)>) {
    let within = |other: &u64| (simhash ^ other).count_ones() <= max_distance;
    for (block, chunk) in others.chunks(SCAN_BLOCK).enumerate() {
        let hits: u32 = chunk.iter().map(|other| u32::from(within(other))).sum();
        if hits == 0 {
            continue;
        }
        for (i, other) in chunk.iter().enumerate().filter(|(_, other)| within(other)) {
            found.push(((simhash ^ other).count_ones(), block * SCAN_BLOCK + i));
        }
    }
}

impl fmt::Display for Simhash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The hex form was not 1 to 16 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a simhash (16 hex digits): {0:?}")]
pub struct BadSimhash(pub String);

impl FromStr for Simhash {
    type Err = BadSimhash;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() || text.len() > 16 {
            return Err(BadSimhash(text.to_string()));
        }
        u64::from_str_radix(text, 16)
            .map(Simhash)
            .map_err(|_| BadSimhash(text.to_string()))
    }
}

/// Counts, per bit of the shingle hashes, how many hashes set it; a bit of the simhash is
/// set when more than half of them do (the classic +1/-1 weights, summed).
///
/// The counts are kept eight to a `u64`, one byte per bit (SWAR): a shingle costs one
/// table lookup and one add per byte of its hash instead of one step per bit, which the
/// baseline x86-64 target cannot vectorise. Byte counters are spilled into `ones` every
/// 255 shingles, before they can overflow.
struct SimhashAccumulator {
    ones: [u32; 64],
    packed: [u64; 8],
    /// Shingles added to `packed` since the last spill.
    pending: u32,
    total: u32,
}

/// `SPREAD[b]` has bit `i` of `b` in the lowest bit of its byte `i`.
const SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < 8 {
            table[b] |= ((b as u64 >> i) & 1) << (8 * i);
            i += 1;
        }
        b += 1;
    }
    table
};

impl Default for SimhashAccumulator {
    fn default() -> Self {
        Self {
            ones: [0; 64],
            packed: [0; 8],
            pending: 0,
            total: 0,
        }
    }
}

impl SimhashAccumulator {
    fn add(&mut self, h: u64) {
        for (k, packed) in self.packed.iter_mut().enumerate() {
            *packed += SPREAD[(h >> (8 * k) & 0xff) as usize];
        }
        self.total = self.total.saturating_add(1);
        self.pending += 1;
        if self.pending == 255 {
            self.spill();
        }
    }

    fn spill(&mut self) {
        for (packed, ones) in self.packed.iter_mut().zip(self.ones.chunks_exact_mut(8)) {
            for (i, count) in ones.iter_mut().enumerate() {
                *count += (*packed >> (8 * i) & 0xff) as u32;
            }
            *packed = 0;
        }
        self.pending = 0;
    }

    fn finish(mut self) -> Simhash {
        self.spill();
        let total = u64::from(self.total);
        Simhash(
            self.ones
                .iter()
                .enumerate()
                .filter(|(_, ones)| 2 * u64::from(**ones) > total)
                .fold(0u64, |acc, (bit, _)| acc | 1 << bit),
        )
    }
}

/// splitmix64, a fixed sequence: the MinHash slot constants are derived from it at
/// compile time so that they are part of the source, not of a dependency.
const fn splitmix64(state: u64) -> (u64, u64) {
    let next = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = next;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (next, z ^ (z >> 31))
}

/// `(A, B)` of the slot hashes `A[i] * x + B[i]`; every `A[i]` is odd, so each slot hash
/// is a permutation of the 32-bit values.
const SLOT_HASHES: ([u32; MINHASH_SLOTS], [u32; MINHASH_SLOTS]) = {
    let mut a = [0u32; MINHASH_SLOTS];
    let mut b = [0u32; MINHASH_SLOTS];
    let mut state = MINHASH_SEED;
    let mut i = 0;
    while i < MINHASH_SLOTS {
        let (s, r) = splitmix64(state);
        state = s;
        a[i] = (r as u32) | 1;
        b[i] = (r >> 32) as u32;
        i += 1;
    }
    (a, b)
};

/// A b-bit (16-bit) MinHash signature of a text's shingle set, plus the set's size so
/// that containment can be estimated next to Jaccard similarity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinHash {
    slots: [u16; MINHASH_SLOTS],
    shingles: u32,
}

/// Bytes of [`MinHash::to_bytes`].
pub const MINHASH_BYTES: usize = 4 + 2 * MINHASH_SLOTS;

impl MinHash {
    /// The signature of `text` alone (see [`Fingerprint::of`] for both sketches).
    pub fn of(text: &str) -> MinHash {
        let mut acc = MinHashAccumulator::new();
        for_each_shingle(text, |h| acc.add(h));
        acc.finish()
    }

    /// Number of distinct shingles the signature was taken over (at most; repeated
    /// shingles are counted again, which only matters for texts that repeat themselves).
    pub fn shingles(&self) -> u32 {
        self.shingles
    }

    /// Estimated Jaccard similarity and containment of the two shingle sets.
    pub fn similarity(&self, other: &MinHash) -> Similarity {
        if self.shingles == 0 || other.shingles == 0 {
            return Similarity::default();
        }
        let same = self
            .slots
            .iter()
            .zip(other.slots.iter())
            .filter(|(a, b)| a == b)
            .count();
        // Two different minima agree on 16 bits by chance with probability 2^-16: correct
        // for it (b-bit MinHash, Li & König 2010).
        let chance = 1.0 / 65536.0;
        let raw = same as f64 / MINHASH_SLOTS as f64;
        let jaccard = ((raw - chance) / (1.0 - chance)).clamp(0.0, 1.0);
        // |A ∩ B| = J (|A| + |B|) / (1 + J); containment is that over the smaller set.
        let (a, b) = (f64::from(self.shingles), f64::from(other.shingles));
        let common = jaccard * (a + b) / (1.0 + jaccard);
        let containment = (common / a.min(b)).clamp(0.0, 1.0);
        Similarity {
            jaccard: jaccard as f32,
            containment: containment as f32,
        }
    }

    /// Whether the two signatures agree in any of their first [`QUICK_SLOTS`] slots: one
    /// cache line of each instead of four. Two texts of Jaccard similarity J agree in none
    /// of them with probability (1 − J)^32: 1e-5 at [`crate::near_dup::MIN_JACCARD`]
    /// (0.3), 1e-9 at the least similar copy measured (0.477); unrelated texts agree in
    /// one of them with probability 32 / 65,536. [`crate::near_dup::Rule::confirms`]
    /// rejects on it first, which matters when thousands of texts of one kind sit within
    /// the simhash distance.
    pub fn agrees_in_first_slots(&self, other: &MinHash) -> bool {
        self.slots[..QUICK_SLOTS]
            .iter()
            .zip(&other.slots[..QUICK_SLOTS])
            .fold(false, |any, (a, b)| any | (a == b))
    }

    /// Stable little-endian encoding: the shingle count (u32), then the slots (u16 each).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MINHASH_BYTES);
        out.extend_from_slice(&self.shingles.to_le_bytes());
        for slot in &self.slots {
            out.extend_from_slice(&slot.to_le_bytes());
        }
        out
    }

    /// Reads [`MinHash::to_bytes`] back; `None` when the length is not [`MINHASH_BYTES`]
    /// (a signature of another format).
    pub fn from_bytes(bytes: &[u8]) -> Option<MinHash> {
        if bytes.len() != MINHASH_BYTES {
            return None;
        }
        let (count, rest) = bytes.split_at(4);
        let shingles = u32::from_le_bytes(count.try_into().ok()?);
        let mut slots = [0u16; MINHASH_SLOTS];
        for (slot, pair) in slots.iter_mut().zip(rest.chunks_exact(2)) {
            *slot = u16::from_le_bytes([pair[0], pair[1]]);
        }
        Some(MinHash { slots, shingles })
    }
}

struct MinHashAccumulator {
    minima: [u32; MINHASH_SLOTS],
    shingles: u32,
}

impl MinHashAccumulator {
    fn new() -> Self {
        Self {
            minima: [u32::MAX; MINHASH_SLOTS],
            shingles: 0,
        }
    }

    fn add(&mut self, h: u64) {
        self.shingles = self.shingles.saturating_add(1);
        lower_minima(&mut self.minima, (h ^ (h >> 32)) as u32);
    }

    fn finish(&self) -> MinHash {
        let mut slots = [0u16; MINHASH_SLOTS];
        for (slot, min) in slots.iter_mut().zip(&self.minima) {
            *slot = *min as u16;
        }
        MinHash {
            slots,
            shingles: self.shingles,
        }
    }
}

/// Lowers each slot's minimum with the slot's hash of `x`. Compiled also for AVX2 and
/// SSE4.1 and chosen at run time (`multiversion`): the baseline x86-64 target has no
/// 32-bit vector multiply, and this loop is most of a fingerprint's cost without one.
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn lower_minima(minima: &mut [u32; MINHASH_SLOTS], x: u32) {
    let (a, b) = &SLOT_HASHES;
    for ((min, a), b) in minima.iter_mut().zip(a).zip(b) {
        *min = (*min).min(a.wrapping_mul(x).wrapping_add(*b));
    }
}

/// How alike two texts are, estimated from their [`MinHash`] signatures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Similarity {
    /// |A ∩ B| / |A ∪ B| of the shingle sets.
    pub jaccard: f32,
    /// |A ∩ B| / min(|A|, |B|): how much of the shorter text the longer one contains.
    pub containment: f32,
}

/// Both sketches of one text, computed in one pass over its shingles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub simhash: Simhash,
    pub minhash: MinHash,
}

impl Fingerprint {
    pub fn of(text: &str) -> Fingerprint {
        Self::with_word_count(text).0
    }

    /// The fingerprint and [`word_count`] of `text` from one pass over its words (record
    /// assembly needs both; a second pass for the count cost 1 % of the pipeline's CPU).
    pub fn with_word_count(text: &str) -> (Fingerprint, u64) {
        let mut simhash = SimhashAccumulator::default();
        let mut minhash = MinHashAccumulator::new();
        let words = for_each_shingle(text, |h| {
            simhash.add(h);
            minhash.add(h);
        });
        let fingerprint = Fingerprint {
            simhash: simhash.finish(),
            minhash: minhash.finish(),
        };
        (fingerprint, words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "The regional council voted on Tuesday to close the old river bridge \
        to heavy traffic after engineers found cracks in two of its supports. Repairs are \
        expected to take most of the summer, and buses will be diverted through the northern \
        industrial estate while the work goes on. Shop owners on both banks said they feared \
        losing customers during the closure.";

    const OTHER: &str = "Fishermen in the bay reported the largest herring catch in a decade, \
        which local scientists attribute to colder water and a ban on trawling near the reef \
        introduced three years ago by the regional government after long negotiations.";

    #[test]
    fn near_copies_are_close_and_other_texts_far() {
        let copy = format!(
            "{} Reporting by staff.",
            STORY.replace("Tuesday", "Wednesday")
        );
        let a = Fingerprint::of(STORY);
        let b = Fingerprint::of(&copy);
        let c = Fingerprint::of(OTHER);
        let near = a.simhash.distance(b.simhash);
        let far = a.simhash.distance(c.simhash);
        assert!(near <= 10, "{near}");
        assert!(far > 16, "{far}");
        let same = a.minhash.similarity(&b.minhash);
        assert!(same.containment > 0.8, "{same:?}");
        let different = a.minhash.similarity(&c.minhash);
        assert!(different.jaccard < 0.1, "{different:?}");
    }

    #[test]
    fn one_pass_equals_the_separate_sketches() {
        let both = Fingerprint::of(STORY);
        assert_eq!(both.simhash, Simhash::of(STORY));
        assert_eq!(both.minhash, MinHash::of(STORY));
    }

    /// `n` well-spread 64-bit values from `seed`.
    fn random_hashes(seed: u64, n: usize) -> Vec<u64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                let (next, value) = splitmix64(state);
                state = next;
                value
            })
            .collect()
    }

    /// The packed simhash counters and the dispatched MinHash loop give what the plain
    /// definitions give, over enough hashes to spill the byte counters several times.
    #[test]
    fn fast_accumulators_equal_the_plain_definitions() {
        let hashes = random_hashes(42, 1000);
        for n in [1, 254, 255, 256, 511, 1000] {
            let mut packed = SimhashAccumulator::default();
            let mut weights = [0i64; 64];
            let mut minima = [u32::MAX; MINHASH_SLOTS];
            let mut fast = MinHashAccumulator::new();
            for &h in &hashes[..n] {
                packed.add(h);
                fast.add(h);
                for (bit, weight) in weights.iter_mut().enumerate() {
                    *weight += if h >> bit & 1 == 1 { 1 } else { -1 };
                }
                let x = (h ^ (h >> 32)) as u32;
                for (slot, min) in minima.iter_mut().enumerate() {
                    let hashed = SLOT_HASHES.0[slot]
                        .wrapping_mul(x)
                        .wrapping_add(SLOT_HASHES.1[slot]);
                    *min = (*min).min(hashed);
                }
            }
            let plain = weights
                .iter()
                .enumerate()
                .filter(|(_, w)| **w > 0)
                .fold(0u64, |acc, (bit, _)| acc | 1 << bit);
            assert_eq!(packed.finish(), Simhash(plain), "{n} hashes");
            assert_eq!(fast.minima, minima, "{n} hashes");
        }
    }

    /// The blocked, dispatched scan finds what comparing one by one finds, in position
    /// order, at every distance bound and across partial blocks.
    #[test]
    fn scan_within_equals_pairwise_distances() {
        let mut others = random_hashes(7, 1000);
        // Every third one close to the probe, so that there is something to find.
        others.iter_mut().step_by(3).for_each(|h| *h &= 0xff);
        let probe = Simhash(0x0f);
        for n in [0, 1, 63, 64, 65, 1000] {
            for max in [0, 3, 8, 20, 64] {
                let mut found = Vec::new();
                probe.scan_within(&others[..n], max, &mut found);
                let expected: Vec<(u32, usize)> = others[..n]
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (probe.distance(Simhash(*o)), i))
                    .filter(|(d, _)| *d <= max)
                    .collect();
                assert_eq!(found, expected, "{n} simhashes, distance {max}");
            }
        }
    }

    /// The format is persisted: these values must never change (see the module doc).
    #[test]
    fn format_is_stable() {
        assert_eq!(Simhash::of(STORY).to_string(), "984601f0d39e634f");
        let minhash = MinHash::of(STORY);
        assert_eq!(minhash.shingles(), 56);
        assert_eq!(
            &minhash.to_bytes()[..10],
            &[56, 0, 0, 0, 16, 204, 115, 178, 185, 242]
        );
    }

    #[test]
    fn ascii_lines_hash_their_words_as_unicode_lines_do() {
        // An ASCII line takes the byte path; a no-break space (not alphanumeric, so a
        // separator) sends the same words down the char path.
        let ascii = "The Cat-sat, on 2 MATS_today\nand then it left";
        let unicode = "The Cat-sat,\u{a0}on 2 MATS_today\nand then\u{a0}it left";
        assert!(ascii.is_ascii() && !unicode.is_ascii());
        assert_eq!(Fingerprint::of(ascii), Fingerprint::of(unicode));
        assert_eq!(
            Fingerprint::with_word_count(ascii).1,
            Fingerprint::with_word_count(unicode).1
        );
    }

    #[test]
    fn case_and_punctuation_do_not_matter_but_line_breaks_do() {
        assert_eq!(
            Fingerprint::of("The Cat sat, on the MAT."),
            Fingerprint::of("the cat sat on the mat")
        );
        assert_ne!(
            MinHash::of("one two three four five"),
            MinHash::of("one two three\nfour five")
        );
    }

    #[test]
    fn reordered_lines_keep_their_shingles() {
        let a = "first paragraph has some words in it\nsecond paragraph has other words";
        let b = "second paragraph has other words\nfirst paragraph has some words in it";
        let s = MinHash::of(a).similarity(&MinHash::of(b));
        assert_eq!(s.jaccard, 1.0);
    }

    #[test]
    fn contained_text_has_full_containment_but_lower_jaccard() {
        let with_intro = format!("{OTHER}\n{STORY}");
        let s = MinHash::of(STORY).similarity(&MinHash::of(&with_intro));
        assert!(s.containment > 0.9, "{s:?}");
        assert!(s.jaccard < 0.8, "{s:?}");
    }

    #[test]
    fn empty_texts_are_like_nothing() {
        let empty = Fingerprint::of("  \n ");
        assert_eq!(empty.simhash, Simhash(0));
        assert_eq!(empty.minhash.shingles(), 0);
        assert_eq!(
            empty.minhash.similarity(&empty.minhash),
            Similarity::default()
        );
    }

    #[test]
    fn serialisations_round_trip() {
        let fp = Fingerprint::of(STORY);
        assert_eq!(
            MinHash::from_bytes(&fp.minhash.to_bytes()),
            Some(fp.minhash)
        );
        assert_eq!(MinHash::from_bytes(&[1, 2, 3]), None);
        assert_eq!(fp.simhash.to_string().parse(), Ok(fp.simhash));
        assert_eq!(Simhash(1).to_string(), "0000000000000001");
        assert!("xyz".parse::<Simhash>().is_err());
        assert!("".parse::<Simhash>().is_err());
    }

    #[test]
    fn the_word_count_of_the_fingerprint_pass_equals_word_count() {
        for text in [
            "",
            "\n\n",
            STORY,
            "Zwei Wörter.\r\nUnd drei weitere — hier!\n\nÇa va, l'été?",
            "line one\rstill one\nline two, with-hyphen and 3.5 numbers",
        ] {
            let (fingerprint, words) = Fingerprint::with_word_count(text);
            assert_eq!(words, word_count(text), "{text:?}");
            assert_eq!(fingerprint, Fingerprint::of(text));
        }
    }

    #[test]
    fn word_count_counts_unicode_words() {
        assert_eq!(word_count("Война и мир — 1869."), 4);
        assert_eq!(
            Fingerprint::of("ВОЙНА И МИР"),
            Fingerprint::of("война и мир")
        );
    }

    /// The format's definition, word by word: FNV-1a of each lower-cased word.
    fn reference_word_hash(word: &str) -> u64 {
        let mut h = FNV_OFFSET;
        let mut buf = [0u8; 4];
        for c in word.chars().flat_map(char::to_lowercase) {
            for b in c.encode_utf8(&mut buf).bytes() {
                h = fnv_step(h, b);
            }
        }
        h
    }

    /// The format's shingles, from the definition: lines, their words, their windows.
    fn reference_shingles(text: &str) -> (Vec<u64>, u64) {
        let mut shingles = Vec::new();
        let mut count = 0;
        for line in text.lines() {
            let hashes: Vec<u64> = words(line).map(|w| reference_word_hash(&w)).collect();
            count += hashes.len() as u64;
            match hashes.len() {
                0 => {}
                n if n < SHINGLE => shingles.push(shingle_hash(&hashes)),
                _ => shingles.extend(hashes.windows(SHINGLE).map(shingle_hash)),
            }
        }
        (shingles, count)
    }

    #[test]
    fn the_one_pass_shingles_equal_the_word_by_word_definition() {
        // Letters whose lower case is longer (İ, ẞ) or another script, marks, digits of
        // other scripts, curly quotes and dashes, every kind of line end, a text that ends
        // inside a word and one that ends with a break.
        const PIECES: &[&str] = &[
            " ",
            "\n",
            "\r\n",
            "\r",
            ",",
            "\u{2014}",
            "\u{201c}",
            "\u{a0}",
            "\u{2028}",
            "İstanbul",
            "STRASSE",
            "Straße",
            "ẞ",
            "Łódź",
            "война",
            "日本語",
            "e\u{301}",
            "٣٤",
            "x",
            "Word",
            "the",
            "42",
            "a_b",
        ];
        let mut rng = 0x5eed_u64;
        for len in 0..400 {
            let mut text = String::new();
            for _ in 0..len % 60 {
                let (next, r) = splitmix64(rng);
                rng = next;
                text.push_str(PIECES[(r % PIECES.len() as u64) as usize]);
            }
            let mut one_pass = Vec::new();
            let count = for_each_shingle(&text, |h| one_pass.push(h));
            assert_eq!((one_pass, count), reference_shingles(&text), "{text:?}");
        }
    }

    #[test]
    fn whitespace_does_not_change_the_content_hash() {
        assert_eq!(content_hash("a  b\n\nc"), content_hash("a b c"));
        assert_ne!(content_hash("a b c"), content_hash("a b d"));
    }

    #[test]
    fn content_hash_equals_the_hash_of_the_words_joined_by_single_spaces() {
        // Every White_Space character, near-misses that share their lead bytes, and words.
        const PIECES: &[&str] = &[
            " ", "  ", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{85}", "\u{a0}", "\u{1680}",
            "\u{2000}", "\u{200a}", "\u{2028}", "\u{2029}", "\u{202f}", "\u{205f}", "\u{3000}",
            "\u{200b}", "\u{2019}", "\u{2060}", "\u{3001}", "\u{a9}", "\u{1c}", "a", "word",
            "über", "日本", "x",
        ];
        let reference = |text: &str| {
            let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
            blake3::hash(joined.as_bytes()).to_hex().to_string()
        };
        let mut state = 7u64;
        for _ in 0..5_000 {
            let (next, len) = splitmix64(state);
            state = next;
            let mut text = String::new();
            for _ in 0..len % 12 {
                let (next, pick) = splitmix64(state);
                state = next;
                text.push_str(PIECES[pick as usize % PIECES.len()]);
            }
            assert_eq!(content_hash(&text), reference(&text), "{text:?}");
        }
    }

    #[test]
    fn content_hash_is_blake3_of_the_collapsed_text_across_block_boundaries() {
        // Long words on an ASCII line and on a line with other characters.
        let long_word = format!(
            "{} {}\n{}ü",
            "x".repeat(20_000),
            "y".repeat(9_000),
            "z".repeat(8_191)
        );
        let words: Vec<String> = (0..5_000)
            .map(|i| format!("wörd{i}"))
            .chain([long_word])
            .chain((0..3).map(|i| format!("tail{i}")))
            .collect();
        let text = words.join(" \n\t ");
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            content_hash(&text),
            blake3::hash(collapsed.as_bytes()).to_hex().to_string()
        );
        assert_eq!(content_hash(""), blake3::hash(b"").to_hex().to_string());
    }
}
