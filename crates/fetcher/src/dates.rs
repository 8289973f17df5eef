//! Lenient parsing of the dates found in feeds.
//!
//! Feeds write RFC 822/2822 dates (RSS), RFC 3339 (Atom, JSON Feed) and every variation of
//! both: missing seconds, single-digit hours, named time zones, ISO dates without an
//! offset, bare dates. feed-rs's own lenient parser is private and drops dates without an
//! offset, so this one is handed to feed-rs instead. A date with no offset is read as UTC
//! (what Miniflux and most readers do); a string that is not a date gives `None`, never an
//! invented time.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parses a feed date; `None` when the text is not a recognisable date.
pub fn parse_feed_date(raw: &str) -> Option<DateTime<Utc>> {
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
    match zone.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" | "WET" => hours(0),
        "BST" | "CET" | "WEST" => hours(1),
        "CEST" | "EET" => hours(2),
        "EEST" | "MSK" => hours(3),
        "IST" => FixedOffset::east_opt(5 * 3600 + 1800),
        "JST" | "KST" => hours(9),
        "AEST" => hours(10),
        "EST" | "CDT" => hours(-5),
        "EDT" => hours(-4),
        "CST" | "MDT" => hours(-6),
        "MST" | "PDT" => hours(-7),
        "PST" => hours(-8),
        other => {
            let (sign, digits) = match other.as_bytes().first()? {
                b'+' => (1, &other[1..]),
                b'-' => (-1, &other[1..]),
                _ => return None,
            };
            let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 {
                return None;
            }
            let h: i32 = digits[..2].parse().ok()?;
            let m: i32 = digits[2..].parse().ok()?;
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
            let parsed = parse_feed_date(raw).map(|d| d.to_rfc3339());
            assert_eq!(parsed.as_deref(), *expected, "{raw}");
        }
    }
}
