//! The years an undated text dates things with.

use crate::places::MONTHS;
use crate::text::Token;

/// The years an undated text dates something with ("November 12, 2011", "Sat Nov 12 2011",
/// "9 September 2013"): a report and its story must share one, or it is another incident of the
/// same kind (last year's final, the previous earthquake). A bare four-digit number is not
/// enough: reports mention past years ("the worst since 1998") and figures.
pub(super) fn text_years(title: &[Token<'_>], body: &[Token<'_>]) -> Vec<u16> {
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
pub(super) fn is_month(word: &str) -> bool {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    w.len() >= 3
        && MONTHS
            .iter()
            .any(|m| *m == w || (m.starts_with(&w) && w.len() <= 4))
}
