//! Reading a date out of one string: the tokenizer, month names in the languages the
//! pipeline meets, day order, clock times with their zones, machine formats and Unix
//! timestamps ([`parse_date_string`]), and full dates in URL paths ([`url_date`]). Where a
//! page gives its dates, and which to trust, is the parent module's job.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

use super::DayOrder;
use crate::meta;

const MONTHS: &[(&str, u32)] = &[
    // English
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    // German
    ("januar", 1),
    ("jänner", 1),
    ("februar", 2),
    ("märz", 3),
    ("maerz", 3),
    ("mai", 5),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("dezember", 12),
    ("mär", 3),
    ("okt", 10),
    ("dez", 12),
    // French
    ("janvier", 1),
    ("février", 2),
    ("fevrier", 2),
    ("mars", 3),
    ("avril", 4),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("aout", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("decembre", 12),
    // French abbreviations ("5 févr. 2021"), Dutch "mrt"
    ("janv", 1),
    ("févr", 2),
    ("fév", 2),
    ("avr", 4),
    ("juil", 7),
    ("déc", 12),
    ("mrt", 3),
    // Turkish
    ("ocak", 1),
    ("şubat", 2),
    ("subat", 2),
    ("mart", 3),
    ("nisan", 4),
    ("mayıs", 5),
    ("mayis", 5),
    ("haziran", 6),
    ("temmuz", 7),
    ("ağustos", 8),
    ("agustos", 8),
    ("eylül", 9),
    ("eylul", 9),
    ("ekim", 10),
    ("kasım", 11),
    ("kasim", 11),
    ("aralık", 12),
    ("aralik", 12),
    // Spanish
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    // Italian
    ("gennaio", 1),
    ("febbraio", 2),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("settembre", 9),
    ("ottobre", 10),
    ("dicembre", 12),
    // Portuguese
    ("janeiro", 1),
    ("fevereiro", 2),
    ("março", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("dezembro", 12),
    // Dutch
    ("januari", 1),
    ("februari", 2),
    ("maart", 3),
    ("mei", 5),
    ("augustus", 8),
    // Polish (nominative and genitive)
    ("styczeń", 1),
    ("stycznia", 1),
    ("luty", 2),
    ("lutego", 2),
    ("marzec", 3),
    ("marca", 3),
    ("kwiecień", 4),
    ("kwietnia", 4),
    ("maj", 5),
    ("maja", 5),
    ("czerwiec", 6),
    ("czerwca", 6),
    ("lipiec", 7),
    ("lipca", 7),
    ("sierpień", 8),
    ("sierpnia", 8),
    ("wrzesień", 9),
    ("września", 9),
    ("październik", 10),
    ("października", 10),
    ("listopad", 11),
    ("listopada", 11),
    ("grudzień", 12),
    ("grudnia", 12),
    // Czech (genitive)
    ("ledna", 1),
    ("února", 2),
    ("března", 3),
    ("dubna", 4),
    ("května", 5),
    ("června", 6),
    ("července", 7),
    ("srpna", 8),
    ("září", 9),
    ("října", 10),
    ("listopadu", 11),
    ("prosince", 12),
    // Russian (genitive)
    ("января", 1),
    ("февраля", 2),
    ("марта", 3),
    ("апреля", 4),
    ("мая", 5),
    ("июня", 6),
    ("июля", 7),
    ("августа", 8),
    ("сентября", 9),
    ("октября", 10),
    ("ноября", 11),
    ("декабря", 12),
];

/// Whether `word` names a month in one of the languages read here (case-insensitive).
pub(crate) fn is_month_word(word: &str) -> bool {
    month_of(&word.to_lowercase()).is_some()
}

fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.');
    MONTHS.iter().find(|(name, _)| *name == w).map(|(_, m)| *m)
}

/// Time-zone abbreviations news pages print after a time.
fn zone_offset(abbr: &str) -> Option<i32> {
    Some(
        match abbr {
            "utc" | "gmt" | "z" => 0,
            "est" => -5,
            "edt" => -4,
            "cst" => -6,
            "cdt" => -5,
            "mst" => -7,
            "mdt" => -6,
            "pst" => -8,
            "pdt" => -7,
            "et" => -5,
            "pt" => -8,
            "bst" => 1,
            "cet" | "mez" => 1,
            "cest" | "mesz" => 2,
            "eet" => 2,
            "eest" => 3,
            "jst" | "kst" => 9,
            "ist" => 5,
            "aest" => 10,
            "aedt" => 11,
            _ => return None,
        } * 3600,
    )
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(u32, usize),
    Word(String),
    Sep(char),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n: u64 = 0;
            let mut len = 0;
            while let Some(&d) = chars.peek() {
                if let Some(v) = d.to_digit(10).filter(|_| d.is_ascii_digit()) {
                    n = n.saturating_mul(10).saturating_add(u64::from(v));
                    len += 1;
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Tok::Num(n.min(u64::from(u32::MAX)) as u32, len));
        } else if c.is_alphabetic() && !is_cjk_date_mark(c) {
            let mut w = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_alphabetic() && !is_cjk_date_mark(d) {
                    w.extend(d.to_lowercase());
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Tok::Word(w));
        } else {
            if !c.is_whitespace() {
                out.push(Tok::Sep(c));
            }
            chars.next();
        }
        if out.len() > 4000 {
            break;
        }
    }
    out
}

fn is_cjk_date_mark(c: char) -> bool {
    matches!(c, '年' | '月' | '日' | '년' | '월' | '일')
}

/// A date read from a string: the day, and the instant when a time (and zone) came too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoundDate {
    pub day: NaiveDate,
    pub instant: Option<DateTime<Utc>>,
}

impl FoundDate {
    /// The instant, or the day's midnight in UTC when only the day was read.
    pub(super) fn utc(&self) -> Option<DateTime<Utc>> {
        self.instant
            .or_else(|| self.day.and_hms_opt(0, 0, 0).map(|d| d.and_utc()))
    }
}

fn year_ok(y: u32) -> bool {
    (1990..=2100).contains(&y)
}

fn ymd(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    if !year_ok(y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// Reads an optional time (and zone) after a date in `toks[at..]`.
fn time_after(toks: &[Tok], at: usize, day: NaiveDate) -> Option<DateTime<Utc>> {
    let mut i = at;
    // Skip "at", ",", "-", "um", "à", "a las", "|".
    for _ in 0..3 {
        match toks.get(i) {
            Some(Tok::Sep(',' | '-' | '|' | '·' | '•' | '/')) => i += 1,
            Some(Tok::Word(w))
                if matches!(
                    w.as_str(),
                    "at" | "um" | "à" | "a" | "las" | "o" | "om" | "alle" | "kl"
                ) =>
            {
                i += 1
            }
            _ => break,
        }
    }
    let (Some(Tok::Num(h, hl)), Some(Tok::Sep(':' | 'h' | '.')), Some(Tok::Num(min, 2))) =
        (toks.get(i), toks.get(i + 1), toks.get(i + 2))
    else {
        return None;
    };
    if *hl > 2 {
        return None;
    }
    let (mut hour, minute) = (*h, *min);
    i += 3;
    let mut second = 0;
    if let (Some(Tok::Sep(':')), Some(Tok::Num(s, 2))) = (toks.get(i), toks.get(i + 1)) {
        second = *s;
        i += 2;
    }
    if let Some(Tok::Word(w)) = toks.get(i) {
        let w = w.replace('.', "");
        if w == "pm" || w == "p" {
            if hour < 12 {
                hour += 12;
            }
            i += 1;
        } else if w == "am" || w == "a" {
            if hour == 12 {
                hour = 0;
            }
            i += 1;
        }
    }
    // "p.m." tokenises as p . m .
    if let (Some(Tok::Sep('.')), Some(Tok::Word(m))) = (toks.get(i), toks.get(i + 1))
        && m == "m"
    {
        i += 2;
        if let Some(Tok::Sep('.')) = toks.get(i) {
            i += 1;
        }
    }
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    let offset = match toks.get(i) {
        Some(Tok::Word(z)) => zone_offset(z)?,
        Some(Tok::Sep(sign @ ('+' | '-'))) => {
            match (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3)) {
                (Some(Tok::Num(hh, 2)), Some(Tok::Sep(':')), Some(Tok::Num(mm, 2))) => {
                    let s = if *sign == '-' { -1 } else { 1 };
                    s * (*hh as i32 * 3600 + *mm as i32 * 60)
                }
                (Some(Tok::Num(hhmm, 4)), _, _) => {
                    let s = if *sign == '-' { -1 } else { 1 };
                    s * ((*hhmm / 100) as i32 * 3600 + (*hhmm % 100) as i32 * 60)
                }
                _ => return None,
            }
        }
        // A time without a zone is local to an unknown place: keep the day only.
        _ => return None,
    };
    let zone = FixedOffset::east_opt(offset)?;
    zone.from_local_datetime(&day.and_time(time))
        .single()
        .map(|d| d.with_timezone(&Utc))
}

/// Finds the first date written in `s` (visible text or a loose attribute value).
pub fn find_text_date(s: &str, order: DayOrder) -> Option<FoundDate> {
    let toks = tokenize(s);
    for i in 0..toks.len() {
        if let Some((day, next)) = date_at(&toks, i, order) {
            return Some(FoundDate {
                day,
                instant: time_after(&toks, next, day),
            });
        }
    }
    None
}

/// A date starting at token `i`: the day and the index after it.
fn date_at(toks: &[Tok], i: usize, order: DayOrder) -> Option<(NaiveDate, usize)> {
    let t = |k: usize| toks.get(i + k);
    match t(0)? {
        Tok::Num(y, 4) => {
            // 2019-03-12, 2019/03/12, 2019.03.12
            if let (
                Some(Tok::Sep(s1 @ ('-' | '/' | '.'))),
                Some(Tok::Num(m, 1..=2)),
                Some(Tok::Sep(s2)),
                Some(Tok::Num(d, 1..=2)),
            ) = (t(1), t(2), t(3), t(4))
                && s1 == s2
            {
                return ymd(*y, *m, *d).map(|day| (day, i + 5));
            }
            // 2019年3月12日, 2019년 3월 12일
            if let (
                Some(Tok::Sep('年' | '년')),
                Some(Tok::Num(m, 1..=2)),
                Some(Tok::Sep('月' | '월')),
                Some(Tok::Num(d, 1..=2)),
            ) = (t(1), t(2), t(3), t(4))
            {
                return ymd(*y, *m, *d).map(|day| (day, i + 6));
            }
            // 20190312 is read only from URLs (see url_date): in text it is too often a number.
            None
        }
        Tok::Num(a, 1..=2) => {
            // 12.03.2019, 12/03/2019, 03/12/2019, 12-03-2019
            if let (
                Some(Tok::Sep(s1 @ ('-' | '/' | '.'))),
                Some(Tok::Num(b, 1..=2)),
                Some(Tok::Sep(s2)),
                Some(Tok::Num(y, 4)),
            ) = (t(1), t(2), t(3), t(4))
                && s1 == s2
            {
                let (d, m) = if *a > 12 {
                    (*a, *b)
                } else if *b > 12 {
                    (*b, *a)
                } else if *s1 == '.' || order == DayOrder::DayFirst {
                    (*a, *b)
                } else {
                    (*b, *a)
                };
                return ymd(*y, m, d).map(|day| (day, i + 5));
            }
            // 12 March 2019, 12. März 2019, 12 de marzo de 2019, le 12 mars 2019, 12th March, 2019
            let mut k = 1;
            while matches!(t(k), Some(Tok::Sep('.' | '°')) | Some(Tok::Word(_))) && k < 4 {
                match t(k) {
                    // "1er mars", "1º de marzo", "1ª"
                    Some(Tok::Word(w))
                        if matches!(
                            w.as_str(),
                            "de" | "th" | "st" | "nd" | "rd" | "of" | "er" | "º" | "ª"
                        ) =>
                    {
                        k += 1
                    }
                    Some(Tok::Sep('.' | '°')) => k += 1,
                    _ => break,
                }
            }
            let Some(Tok::Word(month)) = t(k) else {
                return None;
            };
            let m = month_of(month)?;
            k += 1;
            while matches!(t(k), Some(Tok::Sep('.' | ',')))
                || matches!(t(k), Some(Tok::Word(w)) if w == "de" || w == "del")
            {
                k += 1;
            }
            let Some(Tok::Num(y, 4)) = t(k) else {
                return None;
            };
            ymd(*y, m, *a).map(|day| (day, i + k + 1))
        }
        Tok::Word(w) => {
            // March 12, 2019 / Mar. 12 2019 / March 12th, 2019
            let m = month_of(w)?;
            let mut k = 1;
            if matches!(t(k), Some(Tok::Sep('.'))) {
                k += 1;
            }
            let Some(Tok::Num(d, 1..=2)) = t(k) else {
                return None;
            };
            k += 1;
            if matches!(t(k), Some(Tok::Word(s)) if matches!(s.as_str(), "th" | "st" | "nd" | "rd"))
            {
                k += 1;
            }
            if matches!(t(k), Some(Tok::Sep(','))) {
                k += 1;
            }
            let Some(Tok::Num(y, 4)) = t(k) else {
                return None;
            };
            ymd(*y, m, *d).map(|day| (day, i + k + 1))
        }
        _ => None,
    }
}

/// Parses one date value (an attribute or meta content): machine formats first, then the
/// forgiving text reader. The single place where date strings are turned into dates.
pub fn parse_date_string(raw: &str, order: DayOrder) -> Option<DateTime<Utc>> {
    if let Some(d) = meta::parse_date(raw) {
        return Some(d);
    }
    // Unix timestamps in seconds or milliseconds (some CMS write them into meta tags).
    let t = raw.trim();
    if (10..=13).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = t.parse().ok()?;
        let secs = if t.len() == 13 { n / 1000 } else { n };
        return DateTime::from_timestamp(secs, 0);
    }
    find_text_date(raw, order).and_then(|f| f.utc())
}

/// A full date in the URL path: `/2019/03/12/`, `/2019-03-12/`, `-20190312-`, `_2019_03_12`.
pub fn url_date(url: &str) -> Option<NaiveDate> {
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    let path = path.split(['?', '#']).next().unwrap_or("");
    let b = path.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let s = path.get(from..from + n)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let boundary = |i: usize| i == 0 || !b[i - 1].is_ascii_alphanumeric();
    let end_boundary = |i: usize| i >= b.len() || !b[i].is_ascii_digit();
    for i in 0..b.len() {
        if !boundary(i) {
            continue;
        }
        let Some(y) = digits(i, 4) else { continue };
        if !year_ok(y) {
            continue;
        }
        // Separated: 2019/03/12, 2019-03-12, 2019_03_12, 2019/3/12
        if let Some(&sep) = b.get(i + 4)
            && matches!(sep, b'/' | b'-' | b'_')
        {
            let mut j = i + 5;
            let m_len = if digits(j, 2).is_some() { 2 } else { 1 };
            if let Some(m) = digits(j, m_len) {
                j += m_len;
                if b.get(j) == Some(&sep) {
                    j += 1;
                    let d_len = if digits(j, 2).is_some() { 2 } else { 1 };
                    if let Some(d) = digits(j, d_len)
                        && end_boundary(j + d_len)
                        && let Some(day) = ymd(y, m, d)
                    {
                        return Some(day);
                    }
                }
            }
        }
        // Compact: 20190312 followed by a non-digit.
        if let (Some(m), Some(d)) = (digits(i + 4, 2), digits(i + 6, 2))
            && end_boundary(i + 8)
            && let Some(day) = ymd(y, m, d)
        {
            return Some(day);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str, order: DayOrder) -> Option<String> {
        find_text_date(s, order).map(|f| f.day.to_string())
    }

    #[test]
    fn dates_are_read_in_many_languages() {
        let d = DayOrder::DayFirst;
        assert_eq!(
            day("Published 12 March 2019", d).as_deref(),
            Some("2019-03-12")
        );
        assert_eq!(
            day("Veröffentlicht am 12.03.2019", d).as_deref(),
            Some("2019-03-12")
        );
        assert_eq!(
            day("12. März 2019, 14:00 Uhr", d).as_deref(),
            Some("2019-03-12")
        );
        assert_eq!(
            day("le 12 mars 2019 à 10h30", d).as_deref(),
            Some("2019-03-12")
        );
        assert_eq!(day("12 de marzo de 2019", d).as_deref(), Some("2019-03-12"));
        assert_eq!(day("12 marca 2019", d).as_deref(), Some("2019-03-12"));
        assert_eq!(day("2019年3月12日 10時", d).as_deref(), Some("2019-03-12"));
        assert_eq!(day("12 марта 2019 г.", d).as_deref(), Some("2019-03-12"));
        assert_eq!(day("March 12th, 2019", d).as_deref(), Some("2019-03-12"));
        assert_eq!(day("Mar. 12, 2019", d).as_deref(), Some("2019-03-12"));
        // Ordinal marks and abbreviations: French, Spanish, Italian, Dutch, Turkish.
        assert_eq!(day("le 1er mars 2021", d).as_deref(), Some("2021-03-01"));
        assert_eq!(day("1º de marzo de 2021", d).as_deref(), Some("2021-03-01"));
        assert_eq!(day("1° marzo 2021", d).as_deref(), Some("2021-03-01"));
        assert_eq!(
            day("Publié le 5 févr. 2021", d).as_deref(),
            Some("2021-02-05")
        );
        assert_eq!(day("5 mrt 2021", d).as_deref(), Some("2021-03-05"));
        assert_eq!(day("5 Mart 2021", d).as_deref(), Some("2021-03-05"));
        assert_eq!(day("12 Ağustos 2020", d).as_deref(), Some("2020-08-12"));
    }

    #[test]
    fn numeric_day_order_follows_the_language_unless_a_number_decides() {
        assert_eq!(
            day("03/04/2019", DayOrder::MonthFirst).as_deref(),
            Some("2019-03-04")
        );
        assert_eq!(
            day("03/04/2019", DayOrder::DayFirst).as_deref(),
            Some("2019-04-03")
        );
        assert_eq!(
            day("03/24/2019", DayOrder::DayFirst).as_deref(),
            Some("2019-03-24")
        );
        assert_eq!(DayOrder::for_language(Some("en-GB")), DayOrder::DayFirst);
        assert_eq!(DayOrder::for_language(Some("en-US")), DayOrder::MonthFirst);
    }

    #[test]
    fn times_with_a_zone_are_converted_and_without_one_dropped() {
        let f = find_text_date("March 12, 2019 at 11:30 p.m. EDT", DayOrder::MonthFirst)
            .and_then(|f| f.instant);
        assert_eq!(
            f.map(|d| d.to_rfc3339()).as_deref(),
            Some("2019-03-13T03:30:00+00:00")
        );
        let f = find_text_date("March 12, 2019 11:30", DayOrder::MonthFirst);
        assert_eq!(f.and_then(|f| f.instant), None);
    }

    #[test]
    fn url_dates_need_a_full_day() {
        let d = |u: &str| url_date(u).map(|d| d.to_string());
        assert_eq!(
            d("https://x.org/2019/03/12/story").as_deref(),
            Some("2019-03-12")
        );
        assert_eq!(
            d("https://x.org/news/20190312/story").as_deref(),
            Some("2019-03-12")
        );
        assert_eq!(
            d("https://x.org/news/story-2019-03-12.html").as_deref(),
            Some("2019-03-12")
        );
        assert_eq!(d("https://x.org/2019/03/story"), None);
        assert_eq!(d("https://x.org/id/201903121234"), None);
        assert_eq!(d("https://2019-03-12.x.org/story"), None);
    }

    #[test]
    fn no_date_is_invented_from_numbers_or_years() {
        assert_eq!(day("Copyright 2019", DayOrder::DayFirst), None);
        assert_eq!(day("about 12 of 2019 items", DayOrder::DayFirst), None);
        assert_eq!(day("1985-03-12", DayOrder::DayFirst), None);
    }
}
