//! A story's member fingerprints: a few of its reports, each kept as its heaviest terms and the
//! years its text dates things with.
//!
//! A centroid is a mixture: once a report of a second incident of the same kind slips in, the
//! centroid resembles both incidents and draws in the rest of the second one. Comparing a new
//! report with the story's individual reports (the first ones, which define the incident, and the
//! latest ones) and asking that it resemble them *on average* keeps a story to one incident:
//! reports of one incident share names, places, figures and dates pairwise, while reports of two
//! incidents of one kind share them only through the topic's protagonist.

use serde::{Deserialize, Serialize};

use crate::features::{SparseVec, dots, is_specific};
use crate::text::Token;

/// Specific terms (names, places, figures) kept per member, the heaviest.
pub const MEMBER_TERMS: usize = 24;
/// Members kept per story: the first `ANCHORS` and then the most recent ones.
pub const MAX_MEMBERS: usize = 4;
const ANCHORS: usize = 2;

/// One report of a story, as far as the member check needs it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Member {
    /// Heaviest specific terms (names, places, figures), L2-normalised, sorted by term.
    pub terms: SparseVec,
    /// Heaviest ordinary words (what happened), L2-normalised, sorted by term.
    #[serde(default)]
    pub words: SparseVec,
    /// Publication year, or for an undated report the years its text dates things with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<u16>,
}

impl Member {
    pub fn new(vec: &[(u32, f32)], years: &[u16]) -> Self {
        Member {
            terms: heaviest(vec, true),
            words: heaviest(vec, false),
            years: years.to_vec(),
        }
    }

    /// Similarity of a report (its fingerprint) to this member, less `year_penalty` when both
    /// date things and share no year (another incident of the same kind, a year apart).
    pub fn similarity(&self, other: &Member, year_penalty: f32) -> f32 {
        let cos = dots(&self.terms, &other.terms).0 + dots(&self.words, &other.words).0;
        if years_conflict(&self.years, &other.years) {
            cos - year_penalty
        } else {
            cos
        }
    }

    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Member>()
            + (self.terms.capacity() + self.words.capacity()) * 8
            + self.years.capacity() * 2
    }
}

/// The `MEMBER_TERMS` heaviest specific (or ordinary) terms, L2-normalised, sorted by term.
fn heaviest(vec: &[(u32, f32)], specific: bool) -> SparseVec {
    let mut terms: SparseVec = vec
        .iter()
        .copied()
        .filter(|e| is_specific(e.0) == specific)
        .collect();
    if terms.len() > MEMBER_TERMS {
        terms.select_nth_unstable_by(MEMBER_TERMS, |a, b| b.1.total_cmp(&a.1));
        terms.truncate(MEMBER_TERMS);
    }
    crate::features::normalise(&mut terms);
    terms.sort_unstable_by_key(|e| e.0);
    terms
}

fn years_conflict(a: &[u16], b: &[u16]) -> bool {
    !a.is_empty() && !b.is_empty() && !a.iter().any(|y| b.contains(y))
}

/// Mean similarity of a report to a story's members (1.0 when the story keeps none: a state
/// saved before members existed).
pub fn mean_similarity(members: &[Member], report: &Member, year_penalty: f32) -> f32 {
    if members.is_empty() {
        return 1.0;
    }
    members
        .iter()
        .map(|m| m.similarity(report, year_penalty))
        .sum::<f32>()
        / members.len() as f32
}

/// Adds a report to a story's members: the first `ANCHORS` stay, later slots hold the latest.
pub fn push_member(members: &mut Vec<Member>, member: Member) {
    if members.len() < MAX_MEMBERS {
        members.push(member);
    } else {
        members.remove(ANCHORS);
        members.push(member);
    }
}

/// The years an undated text dates something with ("November 12, 2011", "Sat Nov 12 2011",
/// "9 September 2013"). A bare four-digit number is not enough: reports mention past years
/// ("the worst since 1998") and figures.
pub fn text_years(title: &[Token<'_>], body: &[Token<'_>]) -> Vec<u16> {
    let mut years: Vec<u16> = Vec::new();
    for toks in [title, body] {
        for (i, t) in toks.iter().enumerate() {
            if !(t.numeric && t.text.len() == 4) {
                continue;
            }
            let Ok(y) = t.text.parse::<u16>() else {
                continue;
            };
            let near_month = toks[i.saturating_sub(3)..i]
                .iter()
                .chain(toks.iter().skip(i + 1).take(2))
                .any(|w| is_month(w.text));
            if near_month && (1900..=2099).contains(&y) && !years.contains(&y) && years.len() < 16 {
                years.push(y);
            }
        }
    }
    years
}

/// An English month name or its usual abbreviation ("Sep", "Sept").
fn is_month(word: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    w.len() >= 3
        && MONTHS
            .iter()
            .any(|m| *m == w || (m.starts_with(&w) && w.len() <= 4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokens;

    #[test]
    fn dated_years_are_found_but_bare_years_are_not() {
        let body = tokens("The quake struck on November 12, 2011, the worst since 1998.");
        assert_eq!(text_years(&[], &body), vec![2011]);
    }

    #[test]
    fn a_year_conflict_lowers_similarity() {
        let v = vec![(3u32, 0.6f32), (5, 0.8), (6, 1.0)];
        let a = Member::new(&v, &[2011]);
        let same_year = Member::new(&v, &[2011]);
        let other_year = Member::new(&v, &[2008]);
        let undated = Member::new(&v, &[]);
        assert!((a.similarity(&same_year, 0.3) - 2.0).abs() < 1e-5);
        assert!((a.similarity(&other_year, 0.3) - 1.7).abs() < 1e-5);
        assert!((a.similarity(&undated, 0.3) - 2.0).abs() < 1e-5);
    }

    #[test]
    fn anchors_stay_and_later_members_rotate() {
        let mut members = Vec::new();
        for y in 0..6u16 {
            push_member(&mut members, Member::new(&[(3, 1.0)], &[2000 + y]));
        }
        let years: Vec<u16> = members.iter().map(|m| m.years[0]).collect();
        assert_eq!(years, vec![2000, 2001, 2004, 2005]);
    }
}
