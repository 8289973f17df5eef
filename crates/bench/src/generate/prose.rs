//! The prose grammar: coined names, people, sentences and paragraphs of one topic, and
//! teaser headlines of other (fictional) articles.

use std::fmt::Write as _;

use super::Rng;
use super::vocab::*;

/// A made-up proper name (street, village, company), so that articles of one topic do not
/// share most of their word shingles.
pub(super) fn coined(rng: &mut Rng) -> String {
    let mut word = String::new();
    for _ in 0..rng.range(2, 3) {
        word.push_str(rng.pick(SYLLABLES));
    }
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => word,
    }
}

pub(super) fn person(rng: &mut Rng) -> String {
    if rng.chance(50) {
        format!("{} {}", rng.pick(FIRST_NAMES), coined(rng))
    } else {
        format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
    }
}

pub(super) fn sentence(rng: &mut Rng, t: &Topic) -> String {
    let mut s = String::with_capacity(160);
    if rng.chance(25) {
        s.push_str(rng.pick(CONNECTORS));
        s.push(' ');
    }
    let actor = rng.pick(t.actors);
    if s.is_empty() {
        s.push_str(&actor[..1].to_uppercase());
        s.push_str(&actor[1..]);
    } else {
        s.push_str(actor);
    }
    if rng.chance(30) {
        let _ = write!(s, " of {}", coined(rng));
    }
    if rng.chance(35) {
        let _ = write!(s, " {}", rng.pick(ADVERBS));
    }
    let _ = write!(s, " {}", rng.pick(t.verbs));
    let object = rng.pick(t.objects);
    match (
        rng.chance(50),
        object
            .strip_prefix("the ")
            .or_else(|| object.strip_prefix("a ")),
    ) {
        (true, Some(rest)) => {
            let _ = write!(s, " the {} {rest}", rng.pick(ADJECTIVES));
        }
        _ => {
            let _ = write!(s, " {object}");
        }
    }
    if rng.chance(40) {
        let _ = write!(
            s,
            " near {} {}",
            coined(rng),
            rng.pick(&["Street", "Road", "Square", "Bridge", "Lane", "Park"])
        );
    }
    match rng.below(6) {
        0 => {
            let _ = write!(s, " in {}", rng.pick(PLACES));
        }
        1 => {
            let _ = write!(s, " {}", when(rng));
        }
        2 => {
            let _ = write!(s, ", {}", rng.pick(t.details));
        }
        3 => {
            let _ = write!(
                s,
                ", said {}, {} at the {} {}",
                person(rng),
                rng.pick(ROLES),
                coined(rng),
                rng.pick(ORGANISATION_KINDS)
            );
        }
        4 => {
            let _ = write!(s, " {} in {}", when(rng), rng.pick(PLACES));
        }
        _ => {
            // Figures with a decimal, in varied wording: reports rarely repeat one.
            let _ = write!(
                s,
                ", {} {}.{} per cent, {} {}.{} {}",
                rng.pick(&[
                    "a figure of",
                    "a share of",
                    "a rate of",
                    "a rise of",
                    "a fall of"
                ]),
                rng.range(1, 97),
                rng.below(10),
                rng.pick(&["compared with", "against", "up from", "down from", "after"]),
                rng.range(1, 97),
                rng.below(10),
                rng.pick(&[
                    "a year earlier",
                    "last year",
                    "in the previous survey",
                    "before"
                ])
            );
        }
    }
    s.push('.');
    s
}

/// A time phrase: mostly a date, so that it varies the way the dates of real reports do;
/// a fixed idiom only now and then. A handful of fixed phrases in every article gave
/// unrelated articles shared 6-word shingles, and so near-duplicate candidates, several
/// times as often as real articles have them (see
/// `generated_articles_are_as_unlike_each_other_as_real_ones`).
fn when(rng: &mut Rng) -> String {
    if rng.chance(10) {
        return rng.pick(WHEN).to_string();
    }
    format!(
        "{} {} {}",
        rng.pick(WHEN_PREFIXES),
        rng.range(1, 28),
        month_name(rng)
    )
}

fn month_name(rng: &mut Rng) -> &'static str {
    u8::try_from(rng.range(1, 12))
        .ok()
        .and_then(|n| chrono::Month::try_from(n).ok())
        .map_or("May", |m| m.name())
}

pub(super) fn paragraph(rng: &mut Rng, t: &Topic) -> String {
    let n = rng.range(2, 6);
    let mut p = String::with_capacity(n * 160);
    for i in 0..n {
        if i > 0 {
            p.push(' ');
        }
        if rng.chance(12) {
            let _ = write!(
                p,
                "\u{201C}{}\u{201D} {} told reporters.",
                sentence(rng, t).trim_end_matches('.'),
                person(rng)
            );
        } else {
            p.push_str(&sentence(rng, t));
        }
    }
    p
}

/// Headlines of other (fictional) articles, for "most read", related and teaser boxes.
pub(super) fn teaser_headline(rng: &mut Rng) -> String {
    let t = &TOPICS[rng.below(TOPICS.len())];
    let actor = rng.pick(t.actors);
    format!(
        "{}{} {} {}",
        actor[..1].to_uppercase(),
        &actor[1..],
        rng.pick(t.verbs),
        rng.pick(t.objects)
    )
}
