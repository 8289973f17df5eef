//! The record newswire emits, one JSON object per line (schema `newswire.record/1`).
//!
//! Field names are a public contract: additions are fine, renames need a new schema
//! version. Every field is always present; unknown values are `null` (never omitted,
//! never invented). The JSON Schema lives next to this file (`record.schema.json`) and is
//! exported as [`RECORD_JSON_SCHEMA`] so tests and users validate against the same text.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

/// The value of every record's `schema` field.
pub const SCHEMA_ID: &str = "newswire.record/1";

/// JSON Schema (draft 2020-12) describing [`Record`].
pub const RECORD_JSON_SCHEMA: &str = include_str!("record.schema.json");

/// One article, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub schema: String,
    /// Stable id: hash of the canonical URL (of the feed entry id when there is no link).
    pub id: String,
    /// The article URL after redirects.
    pub url: String,
    /// From `rel=canonical`/`og:url` (or the fetched URL), tracking parameters removed.
    pub canonical_url: Option<String>,
    pub feed: FeedRef,
    pub site: SiteRef,
    /// The feed entry's own id (`guid`, Atom `id`, JSON Feed `id`).
    pub guid: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub summary: Option<String>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339")]
    pub fetched_at: DateTime<Utc>,
    /// ISO 639-1 code.
    pub language: Option<String>,
    /// The article body: paragraphs separated by a blank line.
    pub text: String,
    pub word_count: u64,
    pub tags: Vec<String>,
    pub image: Option<String>,
    /// Hex blake3 of the normalised text.
    pub content_hash: String,
    /// 64-bit simhash of the normalised text, as 16 hex digits (JSON numbers lose bits past 2^53).
    pub simhash: String,
    /// Id of an earlier record whose text is near-identical, else `null`.
    pub duplicate_of: Option<String>,
    pub extraction: Extraction,
    /// The incident this article reports (`newswire.story/1` lines describe it); `null` when
    /// story clustering is off. Additive in `newswire.record/1`, like the three below.
    #[serde(default)]
    pub story: Option<StoryRef>,
    /// Places the article names, spelling variants folded into `aliases`.
    #[serde(default)]
    pub places: Vec<Place>,
    /// ISO 3166-1 alpha-2 codes of the countries named or containing the places.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Countries and organisations acting in the article ("Azeri troops" → Azerbaijan).
    #[serde(default)]
    pub actors: Vec<String>,
}

/// A record's `story`: which story it joined, and how similar it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryRef {
    /// `st-` and 20 hex digits; never rewritten once emitted.
    pub id: String,
    /// Similarity that placed the article: 1.0 for a syndicated copy, 0.0 for a story it opened.
    pub score: f32,
}

/// One place named by an article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub name: String,
    /// Other spellings seen for it (in this article or its story).
    pub aliases: Vec<String>,
    pub geonames_id: Option<u32>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// GeoNames first-level region code.
    pub region: Option<String>,
    /// `geonames-name`, `geonames-alias` or `context` (not in the gazetteer, named after a
    /// place word such as "the village of").
    pub resolved_by: String,
}

/// The feed a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FeedRef {
    pub url: String,
    pub title: Option<String>,
}

/// The publication a record belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SiteRef {
    pub name: Option<String>,
    pub url: Option<String>,
}

/// How the text was obtained and how far to trust it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Extraction {
    /// Which strategy produced the text, e.g. `"dom"`, `"json-ld"`, `"feed"`.
    pub method: String,
    /// Confidence in `0.0..=1.0`.
    pub quality: f32,
    /// What went wrong or looked suspicious, as short stable phrases.
    pub warnings: Vec<String>,
    /// Where `published_at` came from: `"json-ld"`, `"meta"`, `"microdata"`, `"time"`,
    /// `"url"`, `"text"`, `"copyright"`, `"feed"`; `None` when there is no date. An additive
    /// field of `newswire.record/1`: readers of older records see it missing.
    #[serde(default)]
    pub date_source: Option<String>,
}

fn rfc3339<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn rfc3339_opt<S: Serializer>(
    value: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => rfc3339(v, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn sample() -> Record {
        Record {
            schema: SCHEMA_ID.into(),
            id: "0123456789abcdef0123456789abcdef".into(),
            url: "https://news.example/a".into(),
            canonical_url: Some("https://news.example/a".into()),
            feed: FeedRef {
                url: "https://news.example/rss".into(),
                title: Some("News".into()),
            },
            site: SiteRef {
                name: Some("News".into()),
                url: Some("https://news.example/".into()),
            },
            guid: None,
            title: Some("A title".into()),
            authors: vec!["Jane Doe".into()],
            summary: None,
            published_at: Some(Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap()),
            updated_at: None,
            fetched_at: Utc.with_ymd_and_hms(2024, 3, 1, 13, 0, 0).unwrap(),
            language: Some("en".into()),
            text: "One paragraph.\n\nAnother one.".into(),
            word_count: 4,
            tags: vec![],
            image: None,
            content_hash: "ab".repeat(32),
            simhash: "00ff00ff00ff00ff".into(),
            duplicate_of: None,
            extraction: Extraction {
                method: "dom".into(),
                quality: 0.9,
                warnings: vec![],
                date_source: Some("meta".into()),
            },
            story: None,
            places: vec![],
            countries: vec![],
            actors: vec![],
        }
    }

    fn sample_with_story() -> Record {
        Record {
            story: Some(StoryRef {
                id: "st-0123456789abcdef0123".into(),
                score: 0.42,
            }),
            places: vec![Place {
                name: "Farukh".into(),
                aliases: vec!["Parukh".into(), "Farrukh".into()],
                geonames_id: None,
                country: None,
                region: None,
                resolved_by: "context".into(),
            }],
            countries: vec!["AM".into(), "AZ".into()],
            actors: vec!["Azerbaijan".into()],
            ..sample()
        }
    }

    #[test]
    fn every_field_is_present_and_null_when_unknown() {
        let value = serde_json::to_value(sample()).unwrap();
        let object = value.as_object().unwrap();
        for key in [
            "guid",
            "summary",
            "updated_at",
            "image",
            "duplicate_of",
            "story",
        ] {
            assert!(object.get(key).unwrap().is_null(), "{key} should be null");
        }
        assert_eq!(object["published_at"], "2024-03-01T12:00:00Z");
        assert_eq!(object.len(), 26);
    }

    #[test]
    fn sample_validates_against_the_schema() {
        let schema: serde_json::Value = serde_json::from_str(RECORD_JSON_SCHEMA).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        for record in [sample(), sample_with_story()] {
            let value = serde_json::to_value(record).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{errors:?}");
        }
    }

    #[test]
    fn schema_rejects_a_place_without_its_resolution() {
        let schema: serde_json::Value = serde_json::from_str(RECORD_JSON_SCHEMA).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut value = serde_json::to_value(sample_with_story()).unwrap();
        value["places"][0]
            .as_object_mut()
            .unwrap()
            .remove("resolved_by");
        assert!(!validator.is_valid(&value));
    }

    #[test]
    fn schema_rejects_a_missing_field() {
        let schema: serde_json::Value = serde_json::from_str(RECORD_JSON_SCHEMA).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut value = serde_json::to_value(sample()).unwrap();
        value.as_object_mut().unwrap().remove("language");
        assert!(!validator.is_valid(&value));
    }
}
