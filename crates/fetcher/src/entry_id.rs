//! A stable id for feed entries that carry neither a link nor a guid.
//!
//! Such entries still hold an article (their title and content are the record), but the
//! pipeline keys records on the link or the guid. The id made here is derived from what
//! the entry says, so the same entry polled again gets the same id and is not emitted
//! twice, while a different entry in the same feed gets another one.

use crate::FeedEntry;

/// Prefix of synthetic ids, so that they are told apart from real guids at a glance.
pub const SYNTHETIC_ID_PREFIX: &str = "urn:newswire:";

/// A stable id for `entry` from its title, publication date, summary and content:
/// `"urn:newswire:"` followed by 32 hex digits (128 bits of blake3).
///
/// `None` only when the entry has no title, no summary and no content: there is nothing
/// to make a record from. Whitespace is normalised first, so a feed that re-flows its
/// markup keeps its ids; the update date is left out, so does one that only bumps it. An
/// entry whose text is edited gets a new id, which is right for an entry that gives no
/// other way to tell it is the same. The id is unique within a feed, like a guid: pass it
/// where a guid would go (`newswire_core::ids::record_id_for_guid(feed_url, &id)`).
pub fn synthetic_entry_id(entry: &FeedEntry) -> Option<String> {
    let fields = [
        entry.title.as_deref(),
        entry.summary.as_deref(),
        entry.content.as_deref(),
    ];
    if fields.iter().all(|field| field.is_none_or(is_blank)) {
        return None;
    }
    let published = entry.published.map(|date| date.timestamp().to_string());
    let mut hasher = blake3::Hasher::new();
    for (name, value) in [
        ("title", entry.title.as_deref()),
        ("published", published.as_deref()),
        ("summary", entry.summary.as_deref()),
        ("content", entry.content.as_deref()),
    ] {
        // Named, and ended by a byte text never holds, so that no two different entries
        // feed the hasher the same bytes.
        hasher.update(name.as_bytes());
        hasher.update(b"=");
        for (index, word) in value.unwrap_or("").split_whitespace().enumerate() {
            if index > 0 {
                hasher.update(b" ");
            }
            hasher.update(word.as_bytes());
        }
        hasher.update(b"\0");
    }
    let hex = hasher.finalize().to_hex();
    Some(format!("{SYNTHETIC_ID_PREFIX}{}", &hex[..32]))
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn entry(title: Option<&str>, summary: Option<&str>, content: Option<&str>) -> FeedEntry {
        FeedEntry {
            title: title.map(String::from),
            summary: summary.map(String::from),
            content: content.map(String::from),
            published: chrono::Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).single(),
            ..FeedEntry::default()
        }
    }

    #[test]
    fn same_entry_same_id_and_the_id_has_its_documented_form() {
        let first = synthetic_entry_id(&entry(Some("Storm"), Some("Roofs lost."), None));
        let again = synthetic_entry_id(&entry(Some("Storm"), Some("Roofs lost."), None));
        let id = first.as_deref().unwrap_or_default();
        assert_eq!(first, again);
        let hex = id.strip_prefix(SYNTHETIC_ID_PREFIX).unwrap_or_default();
        assert_eq!(hex.len(), 32, "{id}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }

    #[test]
    fn whitespace_and_update_date_do_not_change_the_id() {
        let plain = entry(Some("Storm"), None, Some("<p>Roofs lost.</p>"));
        let mut reflowed = entry(Some("  Storm\n"), None, Some("<p>Roofs\n   lost.</p>"));
        reflowed.updated = chrono::Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).single();
        assert_eq!(synthetic_entry_id(&plain), synthetic_entry_id(&reflowed));
    }

    #[test]
    fn different_entries_get_different_ids() {
        let base = entry(Some("Storm"), Some("Roofs lost."), None);
        let mut later = base.clone();
        later.published = chrono::Utc.with_ymd_and_hms(2024, 5, 8, 10, 0, 0).single();
        let variants = [
            base.clone(),
            later,
            entry(Some("Storm"), Some("Trees down."), None),
            entry(Some("Flood"), Some("Roofs lost."), None),
            // The same text as summary or as content is not the same entry.
            entry(Some("Storm"), None, Some("Roofs lost.")),
            // Field boundaries count: "a b" + "c" is not "a" + "b c".
            entry(Some("Storm Roofs"), Some("lost."), None),
        ];
        let ids: std::collections::HashSet<Option<String>> =
            variants.iter().map(synthetic_entry_id).collect();
        assert_eq!(ids.len(), variants.len(), "{ids:?}");
        assert!(!ids.contains(&None));
    }

    #[test]
    fn an_entry_with_nothing_to_show_has_no_id() {
        assert_eq!(synthetic_entry_id(&FeedEntry::default()), None);
        assert_eq!(
            synthetic_entry_id(&entry(Some("  "), Some(""), Some("\n"))),
            None
        );
        // A title alone, or content alone, is enough for a record.
        assert!(synthetic_entry_id(&entry(Some("Storm"), None, None)).is_some());
        assert!(synthetic_entry_id(&entry(None, None, Some("<p>Body</p>"))).is_some());
    }
}
