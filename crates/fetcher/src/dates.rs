//! Feed dates: a thin name over the workspace's one lenient date parser,
//! [`newswire_core::dates::parse_date`] (formats and the time-zone-name rule are documented
//! there).

use chrono::{DateTime, Utc};

/// Parses a feed date, converted to UTC; `None` when the text is not a recognisable date.
pub fn parse_feed_date(raw: &str) -> Option<DateTime<Utc>> {
    newswire_core::dates::parse_date(raw)
}
