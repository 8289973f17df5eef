//! The near-duplicate rule, in one place: which texts take part, which stored articles are
//! candidates, what confirms a candidate, and which copy points at which.
//!
//! 1. **Eligible**: texts of at least `dedup.min_words` words. Shorter briefs are never
//!    marked and never indexed: too few shingles to tell a copy from a template.
//! 2. **Candidates**: indexed originals whose [`Simhash`] is within
//!    `dedup.max_hamming_distance` bits (default 20; the fast filter). Copies re-templated by
//!    another outlet with an intro or a dropped paragraph sit up to ~20 bits apart on short
//!    texts (evaluation set: 248 of 250 within 20), so the filter is wide and the MinHash
//!    confirmation does the judging.
//! 3. **Confirmed** ([`Rule::confirms`]): the [`MinHash`] estimates of the two shingle sets
//!    reach [`MIN_CONTAINMENT`] *and* [`MIN_JACCARD`]. Containment (how much of the shorter
//!    text the longer holds) keeps a copy with an added local intro, a dropped paragraph or
//!    another outlet's boilerplate; the Jaccard floor stops a short text that merely sits
//!    inside a much longer one. Articles written from one template share phrases but not
//!    facts: each differing name, number or place breaks every 6-word shingle around it, so
//!    their containment stays far below that of a copy. A candidate stored without a
//!    signature (written by a release before signatures) is never confirmed. A quick test
//!    on the signatures' first 32 slots comes first ([`MinHash::agrees_in_first_slots`]).
//!    The thresholds were chosen from the distributions printed by
//!    `crates/state/tests/near_duplicate_eval.rs` (see the constants); the full
//!    distributions and the precision/recall are recorded in `crates/core/NEAR_DUPLICATES.md`.
//! 4. **Direction**: the copy published later points at the one published earlier. Among
//!    confirmed candidates, those published after the article (both dates known) are not
//!    its original; of the rest the earliest published wins (unknown dates count as
//!    earliest, since the candidate was processed first), then the most similar. When
//!    every confirmed candidate was published later, the article is not marked
//!    ([`Decision::PublishedFirst`]): the later copy has already been delivered unmarked
//!    and a record cannot be taken back, so the pair stays unmarked rather than pointing
//!    the wrong way. Without dates, the copy processed later is the one marked.
//!    The pipeline's dedup stage decides each burst of records (those arriving within
//!    half a second of each other, held at most 3 s) in publication order, so this case
//!    only arises when the copy was delivered in an earlier burst than its original.
//! 5. **Indexing**: only eligible originals are indexed (a copy is reachable through its
//!    original), bounded by `state.retention` and `dedup.max_entries`.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::config::DedupConfig;
use crate::fingerprint::{Fingerprint, MinHash, Simhash, Similarity};

/// Least estimated containment of the shorter shingle set in the longer one for a
/// confirmed copy. Measured on the evaluation set (128-slot signatures, 6-word shingles):
/// syndicated copies min 0.651, p1 0.701, median 0.948; template siblings (38,950 sampled
/// pairs) max 0.554, p99 0.327; other stories within the simhash distance max 0.554.
/// (With 4-word shingles siblings reached 0.601 against copies' 0.631, with 5-word ones
/// 0.638 against 0.639: hence 6.) The seed copy pair 002/004 measures 0.82.
pub const MIN_CONTAINMENT: f32 = 0.6;

/// Least estimated Jaccard similarity for a confirmed copy: a brief that is one paragraph
/// of a long article is contained in it but is not a copy of it. Measured: copies min
/// 0.477, template siblings max 0.383 (p99 0.187).
pub const MIN_JACCARD: f32 = 0.3;

/// The rule with its configured knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Simhash distance within which an indexed article is a candidate.
    pub max_hamming_distance: u32,
    /// Texts with fewer words are never marked nor indexed.
    pub min_words: u64,
}

impl From<&DedupConfig> for Rule {
    fn from(config: &DedupConfig) -> Self {
        Rule {
            max_hamming_distance: config.max_hamming_distance,
            min_words: config.min_words,
        }
    }
}

/// An indexed original, as the state or the in-run window returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub simhash: Simhash,
    /// `None` for entries stored before signatures existed: never confirmed.
    pub minhash: Option<MinHash>,
    pub published_at: Option<DateTime<Utc>>,
}

/// A confirmed copy's original.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub id: String,
    pub distance: u32,
    pub similarity: Similarity,
}

/// What the rule says about one article.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Too short to take part: not marked, not indexed.
    Ineligible,
    /// No confirmed candidate: index it as an original.
    Original,
    /// A copy of `Match::id`: mark it, do not index it.
    CopyOf(Match),
    /// Confirmed copies exist but were all published later than this article: it is the
    /// original of a pair already delivered the other way round. Not marked; indexed.
    PublishedFirst(Match),
}

impl Decision {
    /// Whether the article goes into the index as an original.
    pub fn indexes(&self) -> bool {
        matches!(self, Decision::Original | Decision::PublishedFirst(_))
    }
}

impl Rule {
    /// Whether a text of `word_count` words takes part at all.
    pub fn eligible(&self, word_count: u64) -> bool {
        word_count >= self.min_words
    }

    /// Whether `candidate` is within the simhash distance (the cheap filter).
    pub fn is_candidate(&self, article: Simhash, candidate: Simhash) -> bool {
        article.distance(candidate) <= self.max_hamming_distance
    }

    /// The similarity of the two texts when it confirms a copy, else `None`. Signatures
    /// that agree in none of their first slots are rejected without the full comparison
    /// ([`MinHash::agrees_in_first_slots`] gives the odds of missing a copy that way).
    pub fn confirms(&self, article: &MinHash, candidate: &MinHash) -> Option<Similarity> {
        if !article.agrees_in_first_slots(candidate) {
            return None;
        }
        let similarity = article.similarity(candidate);
        (similarity.containment >= MIN_CONTAINMENT && similarity.jaccard >= MIN_JACCARD)
            .then_some(similarity)
    }

    /// Whether `candidate` is a copy the rule confirms for an article of signature
    /// `article` (a candidate without a signature never is); the store applies it in place.
    pub fn confirms_candidate(&self, article: &MinHash, candidate: &Candidate) -> bool {
        candidate
            .minhash
            .as_ref()
            .is_some_and(|m| self.confirms(article, m).is_some())
    }

    /// Decides an article against the candidates found for it (any order; candidates
    /// beyond the distance, without a signature, or with the article's own `id` are
    /// ignored).
    pub fn decide<'a>(
        &self,
        id: &str,
        word_count: u64,
        fingerprint: &Fingerprint,
        published_at: Option<DateTime<Utc>>,
        candidates: impl IntoIterator<Item = &'a Candidate>,
    ) -> Decision {
        if !self.eligible(word_count) {
            return Decision::Ineligible;
        }
        let mut earlier: Option<(&Candidate, Match)> = None;
        let mut later: Option<(&Candidate, Match)> = None;
        for candidate in candidates {
            if candidate.id == id || !self.is_candidate(fingerprint.simhash, candidate.simhash) {
                continue;
            }
            let Some(minhash) = &candidate.minhash else {
                continue;
            };
            let Some(similarity) = self.confirms(&fingerprint.minhash, minhash) else {
                continue;
            };
            let found = Match {
                id: candidate.id.clone(),
                distance: fingerprint.simhash.distance(candidate.simhash),
                similarity,
            };
            let published_later = matches!(
                (published_at, candidate.published_at),
                (Some(mine), Some(theirs)) if theirs > mine
            );
            let slot = if published_later {
                &mut later
            } else {
                &mut earlier
            };
            if slot
                .as_ref()
                .is_none_or(|(best, best_match)| precedes(candidate, &found, best, best_match))
            {
                *slot = Some((candidate, found));
            }
        }
        match (earlier, later) {
            (Some((_, found)), _) => Decision::CopyOf(found),
            (None, Some((_, found))) => Decision::PublishedFirst(found),
            (None, None) => Decision::Original,
        }
    }
}

/// Whether `a` is a better original than `b`: published earlier (unknown first), then
/// more alike, then closer.
fn precedes(a: &Candidate, a_match: &Match, b: &Candidate, b_match: &Match) -> bool {
    let date = |c: &Candidate| c.published_at.map_or(i64::MIN, |d| d.timestamp_millis());
    let key = |c: &Candidate, m: &Match| {
        (
            date(c),
            std::cmp::Reverse(ordered(m.similarity.containment)),
            std::cmp::Reverse(ordered(m.similarity.jaccard)),
            m.distance,
        )
    };
    key(a, a_match) < key(b, b_match)
}

/// A float in `0..=1` as an integer, for ordering.
fn ordered(x: f32) -> u32 {
    (x.clamp(0.0, 1.0) * 1_000_000.0) as u32
}

/// The originals of this run not yet committed to the state, newest last; a bounded
/// window so that two copies arriving in one batch still find each other.
#[derive(Debug)]
pub struct RecentOriginals {
    entries: VecDeque<Candidate>,
    /// The entries' simhashes, kept apart: every article scans all of them, and reading
    /// them out of the ~300-byte candidates cost 1 % of the pipeline's CPU in cache misses.
    simhashes: VecDeque<u64>,
    capacity: usize,
}

impl RecentOriginals {
    pub fn new(capacity: usize) -> Self {
        let reserved = capacity.min(4096);
        Self {
            entries: VecDeque::with_capacity(reserved),
            simhashes: VecDeque::with_capacity(reserved),
            capacity: capacity.max(1),
        }
    }

    /// Entries within the rule's simhash distance of `simhash`, oldest first.
    pub fn candidates<'a>(
        &'a self,
        rule: &Rule,
        simhash: Simhash,
    ) -> impl Iterator<Item = &'a Candidate> + 'a {
        // The vectorised scan of the state's index: every article scans the whole window,
        // and a filter over it one entry at a time cost 1 % of the pipeline's CPU.
        let (front, back) = self.simhashes.as_slices();
        let mut found = Vec::new();
        simhash.scan_within(front, rule.max_hamming_distance, &mut found);
        let from_back = found.len();
        simhash.scan_within(back, rule.max_hamming_distance, &mut found);
        for (_, index) in &mut found[from_back..] {
            *index += front.len();
        }
        found
            .into_iter()
            .filter_map(|(_, index)| self.entries.get(index))
    }

    /// Remembers an original, forgetting the oldest when full.
    pub fn push(&mut self, candidate: Candidate) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.simhashes.pop_front();
        }
        self.simhashes.push_back(candidate.simhash.0);
        self.entries.push_back(candidate);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const WIRE: &str = "Engineers closed the Harbour Street bridge on Monday after divers \
        found a crack in the third pier, the city's transport department said.\n\
        Buses on routes 4 and 17 will run through the eastern ring road until further notice, \
        adding about ten minutes to journeys into the centre.\n\
        The bridge carries around 22,000 vehicles a day and was last inspected in March, \
        when no damage was reported.\n\
        A spokesperson said repairs could take up to six weeks, depending on the weather and \
        the availability of steel.";

    fn rule() -> Rule {
        Rule {
            max_hamming_distance: 12,
            min_words: 40,
        }
    }

    fn at(day: u32) -> Option<DateTime<Utc>> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).single()
    }

    fn candidate(id: &str, text: &str, published: Option<DateTime<Utc>>) -> Candidate {
        let fp = Fingerprint::of(text);
        Candidate {
            id: id.into(),
            simhash: fp.simhash,
            minhash: Some(fp.minhash),
            published_at: published,
        }
    }

    fn decide(text: &str, published: Option<DateTime<Utc>>, known: &[Candidate]) -> Decision {
        rule().decide(
            "new",
            crate::fingerprint::word_count(text),
            &Fingerprint::of(text),
            published,
            known,
        )
    }

    #[test]
    fn a_copy_with_a_local_intro_points_at_the_wire_story() {
        let copy = format!(
            "Local drivers were warned on Monday evening.\nBy Staff Reporter\n{WIRE}\nCopyright Local Paper"
        );
        let known = [candidate("wire", WIRE, at(1))];
        match decide(&copy, at(2), &known) {
            Decision::CopyOf(m) => assert_eq!(m.id, "wire"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_earlier_published_copy_is_not_marked() {
        let known = [candidate("later", WIRE, at(5))];
        assert!(matches!(
            decide(WIRE, at(2), &known),
            Decision::PublishedFirst(m) if m.id == "later"
        ));
        // Without dates, the one processed first is the original.
        let known = [candidate("first", WIRE, None)];
        assert!(matches!(decide(WIRE, at(2), &known), Decision::CopyOf(_)));
    }

    #[test]
    fn the_earliest_published_original_wins() {
        let known = [
            candidate("b", WIRE, at(3)),
            candidate("a", WIRE, at(1)),
            candidate("c", WIRE, at(2)),
        ];
        assert!(matches!(
            decide(WIRE, at(9), &known),
            Decision::CopyOf(m) if m.id == "a"
        ));
    }

    #[test]
    fn the_quick_slot_test_passes_a_reworded_copy_and_rejects_an_unrelated_text() {
        let copy = format!("Our correspondent reports from the river.\n{WIRE}");
        let unrelated = "The orchestra announced its spring season on Friday, with three \
            premieres and a festival of chamber music in the old town hall.\n\
            Tickets go on sale next week; students and pensioners pay half price.";
        let minhash = |text: &str| Fingerprint::of(text).minhash;
        assert!(minhash(WIRE).agrees_in_first_slots(&minhash(&copy)));
        assert!(!minhash(WIRE).agrees_in_first_slots(&minhash(unrelated)));
    }

    #[test]
    fn signatures_agreeing_only_after_the_first_slots_are_not_confirmed() {
        let rule = Rule::from(&DedupConfig::default());
        let signature = |first: u16, rest: u16, shingles: u32| {
            let mut bytes = shingles.to_le_bytes().to_vec();
            for slot in 0..crate::fingerprint::MINHASH_SLOTS {
                let value = if slot < crate::fingerprint::QUICK_SLOTS {
                    first
                } else {
                    rest
                };
                bytes.extend_from_slice(&value.to_le_bytes());
            }
            MinHash::from_bytes(&bytes)
        };
        let (Some(a), Some(b), Some(c)) = (
            signature(1, 7, 300),
            signature(2, 7, 300),
            signature(1, 8, 300),
        ) else {
            panic!("signatures of the right length");
        };
        // 96 of 128 slots agree (a Jaccard estimate of 0.75), but none of the first 32:
        // rejected by the quick test, as a copy would be with probability 0.25^32.
        assert!(a.similarity(&b).jaccard > 0.7);
        assert!(rule.confirms(&a, &b).is_none());
        // 32 of 128 agree, all among the first: passes the quick test, fails the floor.
        assert!(a.agrees_in_first_slots(&c));
        assert!(rule.confirms(&a, &c).is_none());
        assert!(rule.confirms(&a, &a).is_some());
    }

    #[test]
    fn unsigned_and_own_entries_are_never_confirmed() {
        let mut old = candidate("old", WIRE, at(1));
        old.minhash = None;
        let me = candidate("new", WIRE, at(1));
        assert_eq!(decide(WIRE, at(2), &[old, me]), Decision::Original);
    }

    #[test]
    fn short_texts_take_no_part() {
        let brief = "Harbour Street bridge closed after divers found a crack.";
        let known = [candidate("wire", brief, at(1))];
        assert_eq!(decide(brief, at(2), &known), Decision::Ineligible);
        assert!(!Decision::Ineligible.indexes());
    }

    #[test]
    fn the_same_template_with_other_facts_is_not_a_copy() {
        let sibling = WIRE
            .replace("Harbour Street", "Mill Lane")
            .replace("Monday", "Thursday")
            .replace("third", "second")
            .replace("4 and 17", "9 and 12")
            .replace("eastern", "western")
            .replace("ten", "fifteen")
            .replace("22,000", "8,500")
            .replace("March", "January")
            .replace("six", "three")
            .replace("steel", "concrete");
        let known = [candidate("other", WIRE, at(1))];
        assert_eq!(decide(&sibling, at(2), &known), Decision::Original);
    }

    #[test]
    fn the_window_forgets_its_oldest() {
        let mut window = RecentOriginals::new(2);
        for id in ["a", "b", "c"] {
            window.push(candidate(id, WIRE, None));
        }
        let rule = rule();
        let ids: Vec<_> = window
            .candidates(&rule, Simhash::of(WIRE))
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(ids, ["b", "c"]);
    }

    #[test]
    fn the_window_finds_each_entry_after_it_has_wrapped_around() {
        // Odd entries are the bitwise complement of even ones (64 bits apart), so a query
        // finds only entries of its own parity; which of those are near, the rule says.
        let simhash_of =
            |i: u64| Simhash(if i.is_multiple_of(2) { 0 } else { u64::MAX } ^ (i << 32));
        let mut window = RecentOriginals::new(5);
        let rule = rule();
        for i in 0..13u64 {
            window.push(Candidate {
                id: i.to_string(),
                simhash: simhash_of(i),
                minhash: None,
                published_at: None,
            });
            // The window holds the latest five, in order, wherever its ring starts.
            for held in i.saturating_sub(4)..=i {
                let found: Vec<_> = window
                    .candidates(&rule, simhash_of(held))
                    .map(|c| c.id.clone())
                    .collect();
                let expected: Vec<_> = (i.saturating_sub(4)..=i)
                    .filter(|j| rule.is_candidate(simhash_of(held), simhash_of(*j)))
                    .map(|j| j.to_string())
                    .collect();
                assert_eq!(found, expected, "after {i} pushes, looking for {held}");
                assert!(found.contains(&held.to_string()));
            }
        }
    }
}
