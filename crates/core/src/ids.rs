//! Stable record ids: the one rule that says which record an article is.
//!
//! An id is the first 128 bits of a blake3 hash, as 32 hex digits, of (in this order of
//! preference):
//! 1. the article's link, canonicalised ([`crate::canonical::canonicalize`]): the same
//!    article reached through two feeds, or with tracking parameters, gets one id;
//! 2. else the feed URL plus the entry's guid (a guid is only unique within its feed);
//! 3. else the feed URL plus a guid made from the entry's own words (title, publication
//!    date, summary, content), so that an entry with neither link nor guid still makes a
//!    record and the same entry polled again gets the same id.
//!
//! [`record_id`] is the only function that decides; everything else here is its parts.

use chrono::{DateTime, Utc};
use url::Url;

use crate::canonical::canonicalize;

/// Prefix of guids made from an entry's words, so that they are told apart from real
/// guids at a glance.
pub const SYNTHETIC_ID_PREFIX: &str = "urn:newswire:";

/// Everything a record's id may be made from (see the module doc for the order).
#[derive(Debug, Clone, Copy, Default)]
pub struct IdSources<'a> {
    /// The article's link as the feed (or the user) gives it; canonicalised here.
    pub link: Option<&'a Url>,
    /// The feed entry's guid / Atom id; blank counts as none.
    pub guid: Option<&'a str>,
    /// The feed the entry came from (its state key).
    pub feed_url: &'a str,
    /// The entry's own words, for an entry with neither link nor guid.
    pub content: EntryWords<'a>,
}

impl<'a> IdSources<'a> {
    /// A page read on its own (`newswire extract`): its address is all there is.
    pub fn page(url: &'a Url) -> Self {
        IdSources {
            link: Some(url),
            ..IdSources::default()
        }
    }
}

/// What an entry says, for entries that carry neither link nor guid. The update date is
/// left out on purpose: a feed that only bumps it keeps its ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryWords<'a> {
    pub title: Option<&'a str>,
    pub published: Option<DateTime<Utc>>,
    pub summary: Option<&'a str>,
    /// HTML as the feed gives it.
    pub content: Option<&'a str>,
}

/// The record id of an article; `None` only for an entry with no link, no guid and no
/// words at all (there is nothing to make a record from).
pub fn record_id(sources: &IdSources<'_>) -> Option<String> {
    if let Some(link) = sources.link {
        return Some(short_hash(canonicalize(link).as_str().as_bytes()));
    }
    let guid = match sources.guid.filter(|guid| !guid.trim().is_empty()) {
        Some(guid) => guid.to_string(),
        None => synthetic_guid(&sources.content)?,
    };
    let mut key = Vec::with_capacity(sources.feed_url.len() + guid.len() + 6);
    key.extend_from_slice(b"guid:");
    key.extend_from_slice(sources.feed_url.as_bytes());
    key.push(b' ');
    key.extend_from_slice(guid.as_bytes());
    Some(short_hash(&key))
}

/// The guid [`record_id`] uses for an entry without one: `"urn:newswire:"` followed by 32
/// hex digits of the entry's words; `None` when it has no title, summary or content.
///
/// Whitespace is normalised first, so a feed that re-flows its markup keeps its ids; an
/// entry whose text is edited gets a new id, which is right for an entry that gives no
/// other way to tell it is the same.
pub fn synthetic_guid(words: &EntryWords<'_>) -> Option<String> {
    let fields = [words.title, words.summary, words.content];
    if fields
        .iter()
        .all(|field| field.is_none_or(|text| text.trim().is_empty()))
    {
        return None;
    }
    let published = words.published.map(|date| date.timestamp().to_string());
    let mut hasher = blake3::Hasher::new();
    for (name, value) in [
        ("title", words.title),
        ("published", published.as_deref()),
        ("summary", words.summary),
        ("content", words.content),
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

fn short_hash(bytes: &[u8]) -> String {
    let hash = blake3::hash(bytes);
    hash.to_hex()[..32].to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const FEED: &str = "https://a.example/rss";

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn words<'a>(
        title: Option<&'a str>,
        summary: Option<&'a str>,
        content: Option<&'a str>,
    ) -> EntryWords<'a> {
        EntryWords {
            title,
            summary,
            content,
            published: Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).single(),
        }
    }

    fn id_of_words(words: EntryWords<'_>) -> Option<String> {
        record_id(&IdSources {
            feed_url: FEED,
            content: words,
            ..IdSources::default()
        })
    }

    #[test]
    fn ids_are_32_hex_digits_and_stable() {
        let page = url("https://news.example/a");
        let id = record_id(&IdSources::page(&page)).unwrap_or_default();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(Some(id), record_id(&IdSources::page(&page)));
    }

    #[test]
    fn the_link_wins_and_is_canonicalised() {
        let tracked = url("https://news.example/a/?utm_source=x#top");
        let plain = url("https://news.example/a");
        let from_feed = record_id(&IdSources {
            link: Some(&tracked),
            guid: Some("urn:x:1"),
            feed_url: FEED,
            content: words(Some("T"), None, None),
        });
        assert_eq!(from_feed, record_id(&IdSources::page(&plain)));
        let other_feed = record_id(&IdSources {
            link: Some(&plain),
            feed_url: "https://b.example/rss",
            ..IdSources::default()
        });
        assert_eq!(
            from_feed, other_feed,
            "one article, one id, whatever the feed"
        );
    }

    #[test]
    fn guid_ids_depend_on_the_feed_and_win_over_the_words() {
        let in_feed = |feed_url| {
            record_id(&IdSources {
                guid: Some("1"),
                feed_url,
                content: words(Some("T"), None, None),
                ..IdSources::default()
            })
        };
        assert_ne!(
            in_feed("https://a.example/rss"),
            in_feed("https://b.example/rss")
        );
        assert_ne!(
            in_feed(FEED),
            id_of_words(words(Some("T"), None, None)),
            "a guid is used before the words"
        );
        let blank_guid = record_id(&IdSources {
            guid: Some("  "),
            feed_url: FEED,
            content: words(Some("T"), None, None),
            ..IdSources::default()
        });
        assert_eq!(blank_guid, id_of_words(words(Some("T"), None, None)));
    }

    #[test]
    fn synthetic_guids_have_their_documented_form() {
        let guid = synthetic_guid(&words(Some("Storm"), Some("Roofs lost."), None));
        let guid = guid.as_deref().unwrap_or_default();
        let hex = guid.strip_prefix(SYNTHETIC_ID_PREFIX).unwrap_or_default();
        assert_eq!(hex.len(), 32, "{guid}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{guid}");
    }

    #[test]
    fn whitespace_and_update_date_do_not_change_the_words_id() {
        let plain = words(Some("Storm"), None, Some("<p>Roofs lost.</p>"));
        let reflowed = words(Some("  Storm\n"), None, Some("<p>Roofs\n   lost.</p>"));
        assert_eq!(id_of_words(plain), id_of_words(reflowed));
        assert!(id_of_words(plain).is_some());
    }

    #[test]
    fn different_entries_get_different_ids() {
        let base = words(Some("Storm"), Some("Roofs lost."), None);
        let mut later = base;
        later.published = Utc.with_ymd_and_hms(2024, 5, 8, 10, 0, 0).single();
        let variants = [
            base,
            later,
            words(Some("Storm"), Some("Trees down."), None),
            words(Some("Flood"), Some("Roofs lost."), None),
            // The same text as summary or as content is not the same entry.
            words(Some("Storm"), None, Some("Roofs lost.")),
            // Field boundaries count: "a b" + "c" is not "a" + "b c".
            words(Some("Storm Roofs"), Some("lost."), None),
        ];
        let ids: std::collections::HashSet<Option<String>> =
            variants.into_iter().map(id_of_words).collect();
        assert_eq!(ids.len(), variants.len(), "{ids:?}");
        assert!(!ids.contains(&None));
    }

    #[test]
    fn an_entry_with_nothing_to_show_has_no_id() {
        assert_eq!(id_of_words(EntryWords::default()), None);
        assert_eq!(id_of_words(words(Some("  "), Some(""), Some("\n"))), None);
        // A title alone, or content alone, is enough for a record.
        assert!(id_of_words(words(Some("Storm"), None, None)).is_some());
        assert!(id_of_words(words(None, None, Some("<p>Body</p>"))).is_some());
    }
}
