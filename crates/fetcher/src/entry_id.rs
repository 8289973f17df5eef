//! How a feed entry names itself for the record id.
//!
//! The id rule lives in `newswire_core::ids` (link, else guid, else the entry's words);
//! this only hands it the entry's fields.

use newswire_core::ids::{self, EntryWords, IdSources};

use crate::FeedEntry;

pub use newswire_core::ids::SYNTHETIC_ID_PREFIX;

impl FeedEntry {
    /// What [`newswire_core::ids::record_id`] needs of this entry of the feed `feed_url`.
    pub fn id_sources<'a>(&'a self, feed_url: &'a str) -> IdSources<'a> {
        IdSources {
            link: self.link.as_ref(),
            guid: self.id.as_deref(),
            feed_url,
            content: EntryWords {
                title: self.title.as_deref(),
                published: self.published,
                summary: self.summary.as_deref(),
                content: self.content.as_deref(),
            },
        }
    }
}

/// The guid the id rule makes for `entry` when it has none: `"urn:newswire:"` and 32 hex
/// digits of its words (see [`newswire_core::ids::synthetic_guid`]); `None` when the entry
/// has no title, summary or content.
pub fn synthetic_entry_id(entry: &FeedEntry) -> Option<String> {
    ids::synthetic_guid(&entry.id_sources("").content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_hands_every_id_source_over() {
        let entry = FeedEntry {
            id: Some("urn:x:1".into()),
            link: url::Url::parse("https://news.example/a").ok(),
            title: Some("Storm".into()),
            summary: Some("Roofs lost.".into()),
            content: Some("<p>Roofs lost.</p>".into()),
            ..FeedEntry::default()
        };
        let sources = entry.id_sources("https://news.example/rss");
        assert_eq!(sources.link, entry.link.as_ref());
        assert_eq!(sources.guid, Some("urn:x:1"));
        assert_eq!(sources.feed_url, "https://news.example/rss");
        assert_eq!(sources.content.title, Some("Storm"));
        assert_eq!(sources.content.summary, Some("Roofs lost."));
        assert_eq!(sources.content.content, Some("<p>Roofs lost.</p>"));
    }

    #[test]
    fn the_synthetic_id_is_the_one_the_id_rule_uses() {
        let entry = FeedEntry {
            title: Some("Storm".into()),
            ..FeedEntry::default()
        };
        let guid = synthetic_entry_id(&entry);
        assert!(
            guid.as_deref()
                .is_some_and(|g| g.starts_with(SYNTHETIC_ID_PREFIX))
        );
        let feed = "https://news.example/rss";
        let with_that_guid = FeedEntry {
            id: guid,
            ..FeedEntry::default()
        };
        assert_eq!(
            ids::record_id(&entry.id_sources(feed)),
            ids::record_id(&with_that_guid.id_sources(feed))
        );
        assert_eq!(synthetic_entry_id(&FeedEntry::default()), None);
    }
}
