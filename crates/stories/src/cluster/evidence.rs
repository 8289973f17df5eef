//! Figures, years and days of dates a report names: evidence for or against it being the same
//! incident as a story.
//!
//! Two incidents of one kind share vocabulary, names and places (the Indian navy, the Gulf of
//! Aden, pirates) but rarely their figures (23 pirates, 26 pirates), the years their texts name
//! (2008, 2011) or the days they date things with (December 13, November 10). A story keeps the
//! union of its reports' figures, years and days (each capped), which is what a check against
//! *any* member needs: a report shares a figure with some member exactly when it shares one with
//! the union. Sharing one is evidence for joining; both sides naming some and sharing none is
//! evidence against (for days: sharing not even a month).

use serde::{Deserialize, Serialize};

use super::dates::is_month;
use crate::text::Token;

/// Figures kept per article and per story, and years per story.
const ARTICLE_FIGURES: usize = 16;
const STORY_FIGURES: usize = 32;
const STORY_YEARS: usize = 12;
/// Days of dates ("November 12") kept per article and per story.
const ARTICLE_DATES: usize = 12;
const STORY_DATES: usize = 24;

/// What one report names: figures (numbers of two or more digits that are not years), years, and
/// days of dates (`month * 32 + day`).
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Evidence {
    pub(super) figures: Vec<u32>,
    pub(super) years: Vec<u16>,
    pub(super) dates: Vec<u16>,
}

/// A story's union of its reports' figures, years and days of dates.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StoryEvidence {
    #[serde(default)]
    pub(super) figures: Vec<u32>,
    #[serde(default)]
    pub(super) years: Vec<u16>,
    #[serde(default)]
    pub(super) dates: Vec<u16>,
}

fn as_year(digits: &str) -> Option<u16> {
    if digits.len() != 4 {
        return None;
    }
    digits
        .parse::<u16>()
        .ok()
        .filter(|y| (1900..=2099).contains(y))
}

/// The figures, years and days of dates in a title and body (each with its tokens). A figure is
/// kept as written without separators ("1,200" and "1200" are one figure); "2" or "5" are too
/// common to tell incidents apart; a day of a date ("November 11") is kept as a day, not a figure;
/// a clock time ("19: 04") is neither: two reports of one incident are written at other times.
pub(super) fn evidence(parts: [(&str, &[Token<'_>]); 2]) -> Evidence {
    let mut ev = Evidence::default();
    for (text, toks) in parts {
        for (i, t) in toks.iter().enumerate().filter(|(_, t)| t.numeric) {
            let digits: String = t
                .text
                .trim_end_matches(|c: char| !c.is_ascii_digit())
                .chars()
                .filter(|c| *c != ',')
                .collect();
            if let Some(y) = as_year(&digits) {
                push_new(&mut ev.years, y, STORY_YEARS);
                continue;
            }
            if let Some(date) = day_of_date(text, toks, i, &digits) {
                push_new(&mut ev.dates, date, ARTICLE_DATES);
                continue;
            }
            if digits.len() < 2 || is_date_or_time(text, toks, i) {
                continue;
            }
            let h = crate::text::term_hash(b'f', &digits, false);
            let h = ((h >> 32) ^ h) as u32;
            push_new(&mut ev.figures, h, ARTICLE_FIGURES);
        }
    }
    ev
}

/// Appends `value` unless `values` has it already or holds `cap` values.
fn push_new<T: PartialEq>(values: &mut Vec<T>, value: T, cap: usize) {
    if values.len() < cap && !values.contains(&value) {
        values.push(value);
    }
}

/// The day a number gives with the month name beside it ("November 12", "Nov. 12", "12 November",
/// "12th of November"), as `month * 32 + day`. Only spaces (and an abbreviation's dot) may stand
/// between them: in "November; 3 May" the 3 is May's.
fn day_of_date<'t>(text: &str, toks: &[Token<'t>], i: usize, digits: &str) -> Option<u16> {
    let day = digits
        .parse::<u16>()
        .ok()
        .filter(|d| (1..=31).contains(d))?;
    let close = |a: &Token<'_>, b: &Token<'_>| {
        text.get(a.start + a.text.len()..b.start)
            .is_some_and(|gap| gap.chars().all(|c| c == ' ' || c == '.'))
    };
    let word = |j: usize| toks.get(j).filter(|w| !w.numeric);
    // Months are written with a capital: "as many as 30 may have died" names no day.
    let month_word = |w: &Token<'t>| w.capitalized.then_some(w.text);
    let before = i
        .checked_sub(1)
        .and_then(word)
        .filter(|w| close(w, &toks[i]))
        .and_then(month_word);
    let after = word(i + 1).filter(|w| close(&toks[i], w)).and_then(|w| {
        if w.text.eq_ignore_ascii_case("of") {
            word(i + 2).filter(|m| close(w, m)).and_then(month_word)
        } else {
            month_word(w)
        }
    });
    let month = [before, after]
        .into_iter()
        .flatten()
        .find_map(month_number)?;
    Some(month * 32 + day)
}

/// 1–12 for an English month name or its usual abbreviation.
fn month_number(word: &str) -> Option<u16> {
    if !is_month(word) {
        return None;
    }
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    crate::places::MONTHS
        .iter()
        .position(|m| m.starts_with(&w[..3]))
        .map(|p| p as u16 + 1)
}

/// A number next to a month name (a day) or beside a colon (a clock time).
fn is_date_or_time(text: &str, toks: &[Token<'_>], i: usize) -> bool {
    let t = &toks[i];
    let near_month = toks[i.saturating_sub(1)..i]
        .iter()
        .chain(toks.get(i + 1))
        .any(|w| !w.numeric && is_month(w.text));
    let before = text.get(..t.start).unwrap_or("").trim_end();
    let after = text
        .get(t.start + t.text.len()..)
        .unwrap_or("")
        .trim_start();
    near_month || before.ends_with(':') || after.starts_with(':')
}

impl StoryEvidence {
    pub(super) fn add(&mut self, ev: &Evidence) {
        self.union(&ev.figures, &ev.years, &ev.dates);
    }

    pub(super) fn absorb(&mut self, other: &StoryEvidence) {
        self.union(&other.figures, &other.years, &other.dates);
    }

    fn union(&mut self, figures: &[u32], years: &[u16], dates: &[u16]) {
        for &f in figures {
            push_new(&mut self.figures, f, STORY_FIGURES);
        }
        for &y in years {
            push_new(&mut self.years, y, STORY_YEARS);
        }
        for &d in dates {
            push_new(&mut self.dates, d, STORY_DATES);
        }
    }

    pub(super) fn bytes(&self) -> usize {
        self.figures.capacity() * 4 + self.years.capacity() * 2 + self.dates.capacity() * 2
    }
}

/// +1 when the two share an item, −1 when both have items and share none, 0 when one has none.
fn agreement<T: PartialEq>(a: &[T], b: &[T]) -> f32 {
    if a.is_empty() || b.is_empty() {
        0.0
    } else if a.iter().any(|x| b.contains(x)) {
        1.0
    } else {
        -1.0
    }
}

/// +1 when the two name a day in common, −1 when both name days and not even a month in common
/// (two reports of one incident written on different days still name its month), 0 otherwise.
fn date_agreement(a: &[u16], b: &[u16]) -> f32 {
    if a.is_empty() || b.is_empty() {
        0.0
    } else if a.iter().any(|d| b.contains(d)) {
        1.0
    } else if a.iter().any(|x| b.iter().any(|y| x / 32 == y / 32)) {
        0.0
    } else {
        -1.0
    }
}

/// The weights of the evidence (part of [`crate::Config`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct EvidenceWeights {
    pub(super) figure: f32,
    pub(super) year: f32,
    pub(super) date: f32,
}

/// The adjustment to a report's similarity with a story: `figure` for a shared figure (or minus
/// it for figures that all differ), and likewise `year` for the years and `date` for the days of
/// dates named. `undated` is false for dated reports: their time window already decides when.
pub(super) fn adjustment(
    ev: &Evidence,
    story: &StoryEvidence,
    weights: EvidenceWeights,
    undated: bool,
) -> f32 {
    let figures = weights.figure * agreement(&ev.figures, &story.figures);
    let when = if undated {
        weights.year * agreement(&ev.years, &story.years)
            + weights.date * date_agreement(&ev.dates, &story.dates)
    } else {
        0.0
    };
    figures + when
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokens;

    const W: EvidenceWeights = EvidenceWeights {
        figure: 0.1,
        year: 0.2,
        date: 0.0,
    };
    const YEARS: EvidenceWeights = EvidenceWeights {
        figure: 0.0,
        year: 0.2,
        date: 0.0,
    };

    fn ev(text: &str) -> Evidence {
        evidence([("", &[]), (text, &tokens(text))])
    }

    #[test]
    fn figures_exclude_years_single_digits_days_and_times() {
        let e =
            ev("Navy captures 23 pirates and 3 boats on November 12, 2011, worth 1,200 dollars");
        assert_eq!(e.years, vec![2011]);
        // 23 and 1200; not 3, not the day 12, not 2011.
        assert_eq!(e.figures.len(), 2);
        assert_eq!(
            e.figures,
            ev("23 pirates, 1,200 dollars, at 19: 04 on 11 Nov").figures
        );
        assert_eq!(ev("1200 people").figures, ev("1,200 people").figures);
    }

    #[test]
    fn a_shared_figure_counts_for_and_disjoint_figures_against() {
        let mut story = StoryEvidence::default();
        story.add(&ev("The navy captured 23 pirates in 2008."));
        let same = adjustment(&ev("23 pirates held"), &story, W, true);
        let other = adjustment(&ev("26 pirates held"), &story, W, true);
        let silent = adjustment(&ev("pirates held"), &story, W, true);
        assert!(same > silent && silent > other);
        assert_eq!(silent, 0.0);
    }

    #[test]
    fn years_count_only_for_undated_reports() {
        let mut story = StoryEvidence::default();
        story.add(&ev("It happened in March 2008."));
        let later = ev("It happened in March 2011.");
        assert!(adjustment(&later, &story, YEARS, true) < 0.0);
        assert_eq!(adjustment(&later, &story, YEARS, false), 0.0);
        let both = ev("Unlike 2008, this time in 2011.");
        assert!(adjustment(&both, &story, YEARS, true) > 0.0);
        assert_eq!(adjustment(&both, &story, YEARS, false), 0.0);
    }

    #[test]
    fn days_of_dates_are_read_in_either_order() {
        let e = ev("It began on November 12, 2011 and ended on the 14th of November; 3 May too.");
        let mut dates = e.dates.clone();
        dates.sort_unstable();
        assert_eq!(dates, vec![5 * 32 + 3, 11 * 32 + 12, 11 * 32 + 14]);
        assert!(ev("May 40 people").dates.is_empty(), "not a day");
        assert!(
            ev("As many as 30 may have died.").dates.is_empty(),
            "a lower-case may is not the month"
        );
    }

    #[test]
    fn a_shared_day_counts_for_and_other_months_against_undated_reports() {
        const DATES: EvidenceWeights = EvidenceWeights {
            figure: 0.0,
            year: 0.0,
            date: 0.1,
        };
        let mut story = StoryEvidence::default();
        story.add(&ev("The ship was seized on December 13."));
        let same_day = ev("Pirates were captured on 13 December.");
        let same_month = ev("They were tried on December 20.");
        let other_month = ev("The ship was seized on November 10.");
        assert!(adjustment(&same_day, &story, DATES, true) > 0.0);
        assert_eq!(adjustment(&same_month, &story, DATES, true), 0.0);
        assert!(adjustment(&other_month, &story, DATES, true) < 0.0);
        assert_eq!(adjustment(&other_month, &story, DATES, false), 0.0);
    }
}
