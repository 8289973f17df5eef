//! What HTTP response headers say about timing: how long a feed stays fresh
//! (`Cache-Control`, `Expires`) and how long a server asks to be left alone
//! (`Retry-After`).
//!
//! These are facts the fetcher reports; what they mean for a feed's next poll (clamping,
//! backoff, jitter) is decided by the binary's schedule, not here.

use std::time::{Duration, SystemTime};

use reqwest::header::{CACHE_CONTROL, DATE, EXPIRES, HeaderMap};

/// Parses a `Retry-After` value, in seconds or as an HTTP date (relative to `now`).
/// A date in the past means "now" (zero).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The poll hint in HTTP response headers: `Cache-Control: max-age` (or `s-maxage`), else
/// `Expires` minus `Date` (or `now`). `no-cache`/`no-store` give no hint.
pub fn interval_hint_from_headers(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(cache_control) = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()) {
        let mut max_age = None;
        for directive in cache_control.split(',') {
            let directive = directive.trim();
            let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
            let name = name.trim().to_ascii_lowercase();
            match name.as_str() {
                "no-cache" | "no-store" => return None,
                "max-age" | "s-maxage" => {
                    if let Ok(seconds) = value.trim().trim_matches('"').parse::<u64>() {
                        max_age = Some(max_age.map_or(seconds, |m: u64| m.max(seconds)));
                    }
                }
                _ => {}
            }
        }
        if let Some(seconds) = max_age {
            return (seconds > 0).then(|| Duration::from_secs(seconds));
        }
    }
    let expires = headers.get(EXPIRES)?.to_str().ok()?;
    let expires = httpdate::parse_http_date(expires).ok()?;
    let date = headers
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .unwrap_or(now);
    expires.duration_since(date).ok().filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_both_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn header_hints() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=900"),
        );
        assert_eq!(
            interval_hint_from_headers(&headers, now),
            Some(Duration::from_secs(900))
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        assert_eq!(interval_hint_from_headers(&headers, now), None);
        let mut headers = HeaderMap::new();
        headers.insert(
            DATE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        headers.insert(
            EXPIRES,
            HeaderValue::from_static("Sun, 06 Nov 1994 09:49:37 GMT"),
        );
        assert_eq!(
            interval_hint_from_headers(&headers, now),
            Some(Duration::from_secs(3600))
        );
        headers.insert(EXPIRES, HeaderValue::from_static("0"));
        assert_eq!(interval_hint_from_headers(&headers, now), None);
    }
}
