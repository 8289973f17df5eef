//! Pure timing rules: poll intervals from feed and HTTP hints, failure backoff, jitter,
//! `Retry-After`.
//!
//! The daemon's scheduler (in the binary) owns the clock and the per-feed state; these
//! functions only compute durations so that they can be tested without time passing.

use std::time::{Duration, SystemTime};

use reqwest::header::{CACHE_CONTROL, DATE, EXPIRES, HeaderMap};

/// The interval until the next poll of a feed.
///
/// `configured` (the feed's `interval` in the config) is honoured as given. Otherwise the
/// feed's own `hint` (ttl, `sy:*`, Cache-Control, Expires) is clamped to `[min, max]`;
/// without a hint, `default` (also clamped).
pub fn poll_interval(
    configured: Option<Duration>,
    hint: Option<Duration>,
    min: Duration,
    max: Duration,
    default: Duration,
) -> Duration {
    if let Some(interval) = configured {
        return interval;
    }
    let max = max.max(min);
    hint.unwrap_or(default).clamp(min, max)
}

/// The wait before polling a feed that failed `consecutive_errors` times in a row:
/// `base` doubled per error, capped at `max`. After one success the caller resets the
/// count and the feed returns to [`poll_interval`].
pub fn failure_backoff(consecutive_errors: u32, base: Duration, max: Duration) -> Duration {
    if consecutive_errors == 0 {
        return base.min(max);
    }
    let factor = 2u32.saturating_pow(consecutive_errors.saturating_sub(1).min(31));
    base.saturating_mul(factor).min(max)
}

/// Spreads `interval` by up to ±`fraction` (e.g. 0.1) so that thousands of feeds with the
/// same interval do not all fire at once.
pub fn jittered(interval: Duration, fraction: f64) -> Duration {
    let fraction = fraction.clamp(0.0, 1.0);
    if fraction == 0.0 {
        return interval;
    }
    let spread = rand::random_range(-fraction..=fraction);
    Duration::try_from_secs_f64(interval.as_secs_f64() * (1.0 + spread)).unwrap_or(interval)
}

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

    const MIN: Duration = Duration::from_secs(300);
    const MAX: Duration = Duration::from_secs(6 * 3600);
    const DEFAULT: Duration = Duration::from_secs(1800);

    #[test]
    fn configured_interval_is_honoured_as_given() {
        let one_minute = Duration::from_secs(60);
        assert_eq!(
            poll_interval(Some(one_minute), Some(MAX), MIN, MAX, DEFAULT),
            one_minute
        );
    }

    #[test]
    fn hints_are_clamped_to_bounds() {
        assert_eq!(
            poll_interval(None, Some(Duration::from_secs(10)), MIN, MAX, DEFAULT),
            MIN
        );
        assert_eq!(
            poll_interval(None, Some(Duration::from_secs(86400)), MIN, MAX, DEFAULT),
            MAX
        );
        assert_eq!(
            poll_interval(None, Some(Duration::from_secs(3600)), MIN, MAX, DEFAULT),
            Duration::from_secs(3600)
        );
        assert_eq!(poll_interval(None, None, MIN, MAX, DEFAULT), DEFAULT);
    }

    #[test]
    fn failure_backoff_doubles_and_caps() {
        let base = Duration::from_secs(60);
        assert_eq!(failure_backoff(1, base, MAX), base);
        assert_eq!(failure_backoff(2, base, MAX), base * 2);
        assert_eq!(failure_backoff(4, base, MAX), base * 8);
        assert_eq!(failure_backoff(30, base, MAX), MAX);
        assert_eq!(failure_backoff(u32::MAX, base, MAX), MAX);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        for _ in 0..100 {
            let j = jittered(Duration::from_secs(1000), 0.1);
            assert!(
                j >= Duration::from_secs(900) && j <= Duration::from_secs(1100),
                "{j:?}"
            );
        }
        assert_eq!(
            jittered(Duration::from_secs(5), 0.0),
            Duration::from_secs(5)
        );
    }

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
