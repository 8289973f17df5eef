//! The one normalisation step: a [`Reading`] (what the feed said, element by element)
//! becomes the [`ParsedFeed`]/[`FeedEntry`] that `feeds show` prints and the pipeline
//! consumes. Text becomes plain text (titles, summaries) or HTML (content), dates are
//! parsed by the workspace's one date parser and converted to UTC (an unparseable date
//! is left empty with a warning, never replaced by the fetch time), languages get one
//! spelling, people their display names.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::reader::{Fields, Reading, Text};
use crate::{FeedEntry, ParsedFeed};

/// Builds the feed; `label` names the feed in warnings.
pub(crate) fn normalise(reading: Reading, label: &str) -> ParsedFeed {
    let mut warnings = Vec::new();
    if !reading.complete {
        let why = reading.error.as_deref().map_or_else(
            || "the document ends early".to_string(),
            |e| format!("XML error: {e}"),
        );
        warnings.push(format!(
            "{label}: feed truncated or broken ({why}); kept the {} complete entries before the cut{}",
            reading.entries.len(),
            if reading.dropped_partial_entry {
                ", dropped the unfinished one"
            } else {
                ""
            }
        ));
    }
    if reading.unclosed_entries > 0 {
        warnings.push(format!(
            "{label}: {} entries were not closed; each ends where the next begins",
            reading.unclosed_entries
        ));
    }
    let Reading {
        feed,
        entries,
        atom,
        ..
    } = reading;
    // RFC 4287 section 4.2.1: an Atom entry without an author has the feed's authors.
    let inherited: Vec<String> = if atom {
        dedup(feed.authors.clone())
    } else {
        Vec::new()
    };
    let entries: Vec<FeedEntry> = entries
        .into_iter()
        .enumerate()
        .map(|(index, fields)| entry(fields, &inherited, index, label, &mut warnings))
        .collect();
    let ttl_hint = feed
        .ttl
        .as_deref()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .filter(|minutes| *minutes > 0)
        .map(|minutes| Duration::from_secs(minutes * 60))
        .or_else(|| {
            crate::feed_scan::syndication_hint(
                feed.update_period.as_deref(),
                feed.update_frequency.as_deref(),
            )
        });
    let published = date(
        feed.published.as_deref(),
        "feed published",
        label,
        &mut warnings,
    )
    .or_else(|| {
        date(
            feed.created.as_deref(),
            "feed created",
            label,
            &mut warnings,
        )
    });
    let updated = date(
        feed.updated.as_deref(),
        "feed updated",
        label,
        &mut warnings,
    );
    let mut authors = dedup(feed.authors);
    if authors.is_empty() {
        authors = dedup(feed.contributors);
    }
    if authors.is_empty() {
        authors = dedup(feed.publishers);
    }
    ParsedFeed {
        title: feed.title.or(feed.dc_title).as_ref().and_then(plain),
        link: feed.link.map(|(_, url)| url),
        id: feed.id,
        description: feed
            .summary
            .or(feed.summary_fallback)
            .as_ref()
            .and_then(plain),
        language: feed.language.as_deref().and_then(super::normalise_language),
        published,
        updated,
        authors,
        categories: dedup(feed.categories),
        entries,
        ttl_hint,
        warnings,
    }
}

/// One entry; `inherited`: the authors an entry without any has (the feed's, in Atom).
fn entry(
    fields: Fields,
    inherited: &[String],
    index: usize,
    label: &str,
    warnings: &mut Vec<String>,
) -> FeedEntry {
    let which = |what: &str| format!("entry {} {what}", index + 1);
    let published = date(
        fields.published.as_deref(),
        &which("published"),
        label,
        warnings,
    )
    .or_else(|| {
        date(
            fields.created.as_deref(),
            &which("created"),
            label,
            warnings,
        )
    })
    .or_else(|| {
        date(
            fields.dc_date.as_deref(),
            &which("dc:date"),
            label,
            warnings,
        )
    });
    let updated = date(
        fields.updated.as_deref(),
        &which("updated"),
        label,
        warnings,
    );
    let content = fields.content.as_ref().and_then(html);
    let summary = fields
        .summary
        .or(fields.summary_fallback)
        .as_ref()
        .and_then(plain)
        // feedparser copies an HTML or text content into a missing summary.
        .or_else(|| fields.content.as_ref().and_then(plain));
    let mut authors = dedup(fields.authors);
    if authors.is_empty() {
        authors = inherited.to_vec();
    }
    if authors.is_empty() {
        authors = dedup(fields.contributors);
    }
    FeedEntry {
        id: fields.id,
        link: fields.link.map(|(_, url)| url).or(fields.permalink_guid),
        title: fields.title.or(fields.dc_title).as_ref().and_then(plain),
        published,
        updated,
        authors,
        categories: dedup(fields.categories),
        summary,
        content,
        image: fields.image,
    }
}

/// Drops repeated values, keeping the first of each, in one pass.
fn dedup(mut values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    values.retain(|value| seen.insert(value.clone()));
    values
}

fn date(
    raw: Option<&str>,
    what: &str,
    label: &str,
    warnings: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    let raw = raw?.trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = newswire_core::dates::parse_date(raw);
    if parsed.is_none() {
        let shown: String = raw.chars().take(60).collect();
        warnings.push(format!(
            "{label}: {what} date {shown:?} is not a date; left empty"
        ));
    }
    parsed
}

/// Plain text of a text construct; `None` when empty. Text that holds markup or
/// references anyway (titles escaped twice, tags in RSS titles) is read as HTML, unless
/// the feed declared it plain text (`type="text"`).
fn plain(text: &Text) -> Option<String> {
    let reads_as_html = text.is_html || (!text.declared_plain && text.value.contains(['<', '&']));
    let value = if reads_as_html {
        super::html_to_text(&text.value)
    } else {
        text.value.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    // Control characters (other than line breaks) are never text.
    let value: String = value
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    (!value.is_empty()).then_some(value)
}

/// HTML of a text construct (plain text is escaped); `None` when empty.
fn html(text: &Text) -> Option<String> {
    let value = text.value.trim();
    if value.is_empty() {
        return None;
    }
    Some(if text.is_html {
        value.to_string()
    } else {
        html_escape::encode_text(value).into_owned()
    })
}

impl Reading {
    /// How much this reading found, to choose between two readings of one document.
    pub(crate) fn weight(&self) -> (usize, bool) {
        (self.entries.len(), self.complete)
    }
}
