//! Lenient parsing of the dates found in feeds and pages: the one date parser of the
//! workspace (the fetcher uses it for feed dates; the extractor should use it for page
//! metadata dates).
//!
//! Accepted: RFC 822/2822 as feeds really write them (day names in any language or none,
//! full month names, two-digit years, single-digit hours, no seconds), RFC 3339, and
//! ISO 8601/W3CDTF with or without offset, seconds or time (`2003-06-10T04:00`,
//! `2003-06-10`, `2003-06`, `2003`, `20030610T040000Z`). Every date is converted to UTC.
//!
//! Time-zone names: the names RFC 822 defines (UT, GMT, Z, EST/EDT, CST/CDT, MST/MDT,
//! PST/PDT) mean what RFC 822 says, which is what the Universal Feed Parser
//! documents (single military letters are read as UTC, as RFC 2822 advises); a few names with a single meaning in practice (CET,
//! CEST, EET, EEST, WET, WEST, MSK, JST, KST, AEST) are read too. Any other name is
//! ambiguous (IST is India, Ireland or Israel) or unknown, so the offset is unknown and
//! the time is read as UTC (RFC 5322 section 4.3, "-0000"). A date with no zone at all is
//! read as UTC. Text that is not a date gives `None`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parses a date as feeds and pages write it, converted to UTC; `None` when the text is
/// not a recognisable date (never a made-up time).
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let text = raw.trim();
    if text.is_empty() || text.len() > 100 {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(text) {
        return Some(dt.with_timezone(&Utc));
    }
    parse_iso_lenient(text).or_else(|| parse_rfc2822_lenient(text))
}

/// ISO 8601 forms RFC 3339 rejects: a space for `T`, no seconds, `+0100` offsets, no offset.
fn parse_iso_lenient(text: &str) -> Option<DateTime<Utc>> {
    let normalised = text.replacen(' ', "T", 1);
    const WITH_OFFSET: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ];
    for format in WITH_OFFSET {
        if let Ok(dt) = DateTime::parse_from_str(&normalised, format) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    let without_zone = normalised
        .strip_suffix('Z')
        .or_else(|| normalised.strip_suffix("UTC").map(str::trim_end))
        .or_else(|| normalised.strip_suffix("GMT").map(str::trim_end))
        .unwrap_or(&normalised);
    const NAIVE: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"];
    for format in NAIVE {
        if let Ok(naive) = NaiveDateTime::parse_from_str(without_zone, format) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(without_zone, format) {
            return date.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n));
        }
    }
    // ISO 8601 basic format ("20030610T040000Z") and reduced precision ("2003-06", "2003").
    if let Ok(naive) = NaiveDateTime::parse_from_str(without_zone, "%Y%m%dT%H%M%S") {
        return Some(Utc.from_utc_datetime(&naive));
    }
    let digits_and_dashes = without_zone.chars().all(|c| c.is_ascii_digit() || c == '-');
    if digits_and_dashes {
        let mut parts = without_zone.split('-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u32 = match parts.next() {
            Some(m) => m.parse().ok()?,
            None => 1,
        };
        if parts.next().is_none() && (1000..=9999).contains(&year) {
            return NaiveDate::from_ymd_opt(year, month, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| Utc.from_utc_datetime(&n));
        }
    }
    None
}

/// RFC 822 dates as feeds really write them: day names in any language or missing, full
/// month names, single-digit hours, no seconds, named zones chrono does not know.
fn parse_rfc2822_lenient(text: &str) -> Option<DateTime<Utc>> {
    // Drop a leading day name ("Tue," / "Tuesday,").
    let rest = match text.split_once(',') {
        Some((head, tail)) if head.chars().all(char::is_alphabetic) => tail.trim(),
        _ => text,
    };
    let mut parts: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
    if parts.len() < 4 {
        return None;
    }
    // "10 June 2003" -> "10 Jun 2003".
    if parts[1].len() > 3 {
        parts[1] = parts[1].chars().take(3).collect();
    }
    // "4:00:00" -> "04:00:00", "04:00" -> "04:00:00".
    let mut time: Vec<String> = parts[3].split(':').map(str::to_string).collect();
    if let Some(hour) = time.first_mut()
        && hour.len() == 1
    {
        hour.insert(0, '0');
    }
    if time.len() == 2 {
        time.push("00".into());
    }
    parts[3] = time.join(":");
    let zone = parts.get(4).map(String::as_str).unwrap_or("GMT");
    let offset = zone_offset(zone)?;
    let stamp = format!("{} {} {} {}", parts[0], parts[1], parts[2], parts[3]);
    let naive = NaiveDateTime::parse_from_str(&stamp, "%d %b %Y %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(&stamp, "%d %b %y %H:%M:%S"))
        .ok()?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|dt| dt.with_timezone(&Utc))
}

fn zone_offset(zone: &str) -> Option<FixedOffset> {
    let hours = |h: i32| FixedOffset::east_opt(h * 3600);
    let upper = zone.to_ascii_uppercase();
    match upper.as_str() {
        // RFC 822 section 5 (and RFC 5322 4.3): the only names a feed date may use.
        "GMT" | "UT" | "UTC" | "Z" => hours(0),
        "EST" => hours(-5),
        "EDT" => hours(-4),
        "CST" => hours(-6),
        "CDT" => hours(-5),
        "MST" => hours(-7),
        "MDT" => hours(-6),
        "PST" => hours(-8),
        "PDT" => hours(-7),
        // Names outside RFC 822 with one meaning in practice.
        "WET" => hours(0),
        "CET" | "WEST" => hours(1),
        "CEST" | "EET" => hours(2),
        "EEST" | "MSK" => hours(3),
        "JST" | "KST" => hours(9),
        "AEST" => hours(10),
        other => {
            let (sign, digits) = match other.as_bytes().first()? {
                b'+' => (1, &other[1..]),
                b'-' => (-1, &other[1..]),
                // Any other name (IST: India, Ireland or Israel; BST; AST…) is ambiguous
                // or unknown: RFC 5322 reads an unknown zone as "-0000", the time in UTC
                // with the offset unknown, which is also what feedparser does.
                c if c.is_ascii_alphabetic() && other.chars().all(|c| c.is_ascii_alphabetic()) => {
                    return hours(0);
                }
                _ => return None,
            };
            let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
            let (h, m): (i32, i32) = match digits.len() {
                4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
                1 | 2 => (digits.parse().ok()?, 0),
                _ => return None,
            };
            FixedOffset::east_opt(sign * (h * 3600 + m * 60))
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_date_table() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Tue, 10 Jun 2003 04:00:00 GMT",
                Some("2003-06-10T04:00:00+00:00"),
            ),
            (
                "Tue, 10 Jun 2003 04:00:00 +0200",
                Some("2003-06-10T02:00:00+00:00"),
            ),
            (
                "10 Jun 2003 04:00:00 EST",
                Some("2003-06-10T09:00:00+00:00"),
            ),
            (
                "Tuesday, 10 June 2003 4:00 PDT",
                Some("2003-06-10T11:00:00+00:00"),
            ),
            (
                "Di, 10 Jun 2003 04:00:00 CEST",
                Some("2003-06-10T02:00:00+00:00"),
            ),
            // Ambiguous names: CST is RFC 822's US Central time, IST is not an RFC 822
            // name and has three meanings, so its offset is unknown and read as UTC.
            (
                "Tue, 10 Jun 2003 04:00:00 CST",
                Some("2003-06-10T10:00:00+00:00"),
            ),
            (
                "Tue, 10 Jun 2003 04:00:00 IST",
                Some("2003-06-10T04:00:00+00:00"),
            ),
            (
                "Tue, 10 Jun 03 04:00 GMT",
                Some("2003-06-10T04:00:00+00:00"),
            ),
            (
                "2003-06-10T04:00:00-05:00",
                Some("2003-06-10T09:00:00+00:00"),
            ),
            ("2003-06-10T04:00+01:00", Some("2003-06-10T03:00:00+00:00")),
            ("20030610T040000Z", Some("2003-06-10T04:00:00+00:00")),
            ("2003-06", Some("2003-06-01T00:00:00+00:00")),
            ("2003", Some("2003-01-01T00:00:00+00:00")),
            ("2003-06-10T04:00:00Z", Some("2003-06-10T04:00:00+00:00")),
            (
                "2003-06-10T04:00:00.123+02:00",
                Some("2003-06-10T02:00:00.123+00:00"),
            ),
            (
                "2003-06-10T04:00:00+0200",
                Some("2003-06-10T02:00:00+00:00"),
            ),
            ("2003-06-10 04:00:00", Some("2003-06-10T04:00:00+00:00")),
            ("2003-06-10T04:00", Some("2003-06-10T04:00:00+00:00")),
            ("2003-06-10", Some("2003-06-10T00:00:00+00:00")),
            ("yesterday", None),
            ("", None),
            ("32 Jun 2003 04:00:00 GMT", None),
        ];
        for (raw, expected) in cases {
            let parsed = parse_date(raw).map(|d| d.to_rfc3339());
            assert_eq!(parsed.as_deref(), *expected, "{raw}");
        }
    }
}
