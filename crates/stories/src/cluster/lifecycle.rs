//! Retiring stories (window and cap), story lines, and the memory estimate.

use chrono::{DateTime, Utc};

use super::{
    Clusterer, MAX_SOURCES, STORY_SCHEMA, Story, StoryLine, StoryPlace, to_time, top_names,
};
use crate::places::Place;

impl Clusterer {
    pub(super) fn retire_expired(&mut self) {
        let Some(now) = self.state.now else { return };
        let window = self.config.window_secs;
        let expired: Vec<u64> = self
            .state
            .stories
            .iter()
            .filter(|(_, s)| s.first_seen.is_some_and(|f| now - f > window))
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            self.retire(key);
        }
    }

    pub(super) fn retire_least_recent(&mut self) {
        // Retire a tenth at once so that the scan is paid rarely.
        let excess =
            self.state.stories.len() - self.config.max_stories + self.config.max_stories / 10;
        let mut by_age: Vec<(u64, u64)> = self
            .state
            .stories
            .iter()
            .map(|(k, s)| (s.touched, *k))
            .collect();
        let nth = excess.min(by_age.len() - 1);
        by_age.select_nth_unstable(nth);
        let victims: Vec<u64> = by_age[..excess.min(by_age.len())]
            .iter()
            .map(|e| e.1)
            .collect();
        for key in victims {
            self.retire(key);
        }
    }

    fn retire(&mut self, key: u64) {
        let Some(story) = self.state.stories.remove(&key) else {
            return;
        };
        self.index.dead += story.posted.len();
        if self.index.dead > self.index.arena.len() / 2 + 1024 {
            self.index.rebuild(
                self.state
                    .stories
                    .iter()
                    .map(|(k, s)| (*k, s.posted.as_slice())),
            );
        }
        if story.dirty {
            self.state.pending_lines.push(line_of(&story));
        }
    }

    /// Story lines due at `now`: stories changed since their last line, at most one line per
    /// story per `story_line_interval_secs`, plus the final lines of retired stories. Call it
    /// regularly (the pipeline does every few seconds): retired stories' lines wait in the
    /// state until then.
    pub fn take_story_lines(&mut self, now: DateTime<Utc>) -> Vec<StoryLine> {
        let now = now.timestamp();
        let interval = self.config.story_line_interval_secs;
        let mut out = std::mem::take(&mut self.state.pending_lines);
        let mut due: Vec<&mut Box<Story>> = self
            .state
            .stories
            .values_mut()
            .filter(|s| s.dirty && s.last_emitted.is_none_or(|e| now - e >= interval))
            .collect();
        due.sort_by(|a, b| a.id.cmp(&b.id));
        for s in due {
            s.dirty = false;
            s.last_emitted = Some(now);
            out.push(line_of(s));
        }
        out
    }

    /// Every changed story's line now, whatever the interval (at shutdown).
    pub fn flush_story_lines(&mut self) -> Vec<StoryLine> {
        let mut out = std::mem::take(&mut self.state.pending_lines);
        let mut dirty: Vec<&mut Box<Story>> = self
            .state
            .stories
            .values_mut()
            .filter(|s| s.dirty)
            .collect();
        dirty.sort_by(|a, b| a.id.cmp(&b.id));
        for s in dirty {
            s.dirty = false;
            out.push(line_of(s));
        }
        out
    }

    /// Approximate heap bytes held by the state and index (for the memory bound).
    pub fn heap_bytes(&self) -> usize {
        let s = &self.state;
        let mut total = s.stories.capacity() * 17 + s.stories.len() * std::mem::size_of::<Story>();
        for st in s.stories.values() {
            total += st.id.capacity() + st.title.capacity();
            total += (st.centroid.capacity() + st.seed.capacity()) * 8 + st.posted.capacity() * 4;
            total +=
                st.years.capacity() * 2 + st.evidence.bytes() + st.source_hashes.capacity() * 4;
            total += st
                .sources
                .iter()
                .map(|e| e.0.capacity() + 32)
                .sum::<usize>();
            total += st
                .countries
                .iter()
                .chain(st.actors.iter())
                .map(|e| e.0.capacity() + 32)
                .sum::<usize>();
            total += st
                .places
                .iter()
                .map(|p| {
                    std::mem::size_of::<StoryPlace>()
                        + p.key.capacity()
                        + p.place.name.capacity()
                        + p.place
                            .aliases
                            .iter()
                            .map(|a| a.capacity() + 24)
                            .sum::<usize>()
                        + 8
                })
                .sum::<usize>();
        }
        // Final lines of retired stories wait here until `take_story_lines` hands them out.
        total += s
            .pending_lines
            .iter()
            .map(|l| {
                std::mem::size_of::<StoryLine>()
                    + l.id.capacity()
                    + l.title.capacity()
                    + l.sources.iter().map(|x| x.capacity() + 24).sum::<usize>()
                    + l.top_places.len() * (std::mem::size_of::<Place>() + 32)
                    + (l.countries.len() + l.actors.len()) * 32
            })
            .sum::<usize>();
        total += s.df.capacity() * 9;
        total += s.recent.capacity() * 16 + self.recent_index.capacity() * 17;
        total += self.index.bytes();
        total
    }
}

fn vec_places(story: &Story) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..story.places.len()).collect();
    idx.sort_by(|&a, &b| {
        story.places[b]
            .count
            .cmp(&story.places[a].count)
            .then(a.cmp(&b))
    });
    idx.truncate(8);
    idx
}

fn story_places_for(story: &Story, idx: &[usize]) -> Vec<Place> {
    idx.iter().map(|&i| story.places[i].place.clone()).collect()
}

fn line_of(story: &Story) -> StoryLine {
    let mut sources = top_names(&story.sources);
    sources.truncate(MAX_SOURCES);
    StoryLine {
        schema: STORY_SCHEMA.to_string(),
        id: story.id.clone(),
        first_seen: to_time(story.first_seen),
        last_seen: to_time(story.last_seen),
        article_count: story.articles,
        // States saved before the hashes were kept have only the named sources.
        source_count: story.sources.len().max(story.source_hashes.len()) as u32,
        sources,
        top_places: story_places_for(story, &vec_places(story)),
        countries: top_names(&story.countries).into_iter().take(8).collect(),
        actors: top_names(&story.actors).into_iter().take(8).collect(),
        title: story.title.clone(),
        merged_into: story.merged_into.clone(),
    }
}
