//! The posting index: which live stories posted a term (rebuilt from the state on restart).

use rustc_hash::FxHashMap;

/// term -> stories, as linked lists in one arena (8 bytes a posting, no allocation per term:
/// most terms are posted by a single story, and a `Vec` per term cost more than the stories).
/// Retired stories' postings are skipped when read and dropped when the arena is rebuilt.
#[derive(Default)]
pub(super) struct PostingIndex {
    pub(super) heads: FxHashMap<u32, u32>,
    /// (story key, next posting + 1; 0 ends the list)
    pub(super) arena: Vec<(u64, u32)>,
    pub(super) dead: usize,
}

impl PostingIndex {
    pub(super) fn add(&mut self, term: u32, story: u64) {
        let next = self.heads.get(&term).map_or(0, |h| h + 1);
        self.heads.insert(term, self.arena.len() as u32);
        self.arena.push((story, next));
    }

    /// Stories that posted `term`, the most recent first.
    pub(super) fn stories(&self, term: u32) -> impl Iterator<Item = u64> + '_ {
        let mut at = self.heads.get(&term).map(|h| *h as usize);
        std::iter::from_fn(move || {
            let i = at?;
            let (story, next) = self.arena[i];
            at = (next > 0).then(|| next as usize - 1);
            Some(story)
        })
    }

    pub(super) fn rebuild<'a>(&mut self, stories: impl Iterator<Item = (u64, &'a [u32])>) {
        self.heads.clear();
        self.arena.clear();
        self.dead = 0;
        let mut all: Vec<(u64, &[u32])> = stories.collect();
        all.sort_unstable_by_key(|e| e.0);
        for (key, terms) in all {
            for &t in terms {
                self.add(t, key);
            }
        }
        self.heads.shrink_to_fit();
        self.arena.shrink_to_fit();
    }

    pub(super) fn bytes(&self) -> usize {
        self.heads.capacity() * 9 + self.arena.capacity() * 16
    }
}
