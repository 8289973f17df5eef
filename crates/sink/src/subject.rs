//! Where a NATS sink publishes: subject templates, the stream's settings, and errors that
//! say which stream refused which subject.
//!
//! A template is a subject whose tokens may be placeholders: `{site}` (the record's site
//! host, else its URL's host), `{lang}` (its language, else `und`) and `{feed}` (the feed
//! host plus 8 hex digits of a BLAKE3 hash of the feed URL, so two feeds of one host stay
//! apart). Values are made valid subject tokens: every character outside
//! `[A-Za-z0-9_-]` becomes `_` (`news.example.com` → `news_example_com`), lowercased,
//! at most [`MAX_TOKEN`] bytes. `news.records.{site}` publishes to
//! `news.records.news_example_com`, and the stream created for it captures
//! `news.records.*` (each placeholder token becomes `*`).
//!
//! Values are read from the serialised record itself (a small partial parse, a few
//! microseconds), so the sink's `write(id, line)` signature stays as it is.

use std::time::Duration;

use async_nats::jetstream::{self, context::PublishError, context::PublishErrorKind};
use serde::Deserialize;

/// Longest token a placeholder expands to.
pub const MAX_TOKEN: usize = 64;
/// Value of `{lang}` when the record has no language.
pub const UNKNOWN_LANGUAGE: &str = "und";
/// Value of `{site}`/`{feed}` when the record names no usable host.
pub const UNKNOWN_HOST: &str = "unknown";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Site,
    Lang,
    Feed,
}

/// A parsed subject template; see the module doc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectTemplate {
    text: String,
    /// One entry per token; a token is either literal or made of parts.
    tokens: Vec<Vec<Part>>,
}

/// What a template needs from a record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectFields {
    pub site: String,
    pub lang: String,
    pub feed: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("subject template {template:?}: {message}")]
pub struct TemplateError {
    pub template: String,
    pub message: String,
}

impl SubjectTemplate {
    /// Parses `text`; placeholders other than `{site}`, `{lang}`, `{feed}`, empty tokens
    /// and the wildcards `*`/`>` are refused.
    pub fn parse(text: &str) -> Result<SubjectTemplate, TemplateError> {
        let fail = |message: String| TemplateError {
            template: text.to_string(),
            message,
        };
        if text.is_empty() {
            return Err(fail("is empty".into()));
        }
        let mut tokens = Vec::new();
        for token in text.split('.') {
            if token.is_empty() {
                return Err(fail(
                    "has an empty token (two dots, or a dot at an end)".into(),
                ));
            }
            let mut parts = Vec::new();
            let mut rest = token;
            while !rest.is_empty() {
                if let Some(after) = rest.strip_prefix('{') {
                    let end = after
                        .find('}')
                        .ok_or_else(|| fail(format!("unclosed '{{' in token {token:?}")))?;
                    parts.push(match &after[..end] {
                        "site" => Part::Site,
                        "lang" => Part::Lang,
                        "feed" => Part::Feed,
                        other => {
                            return Err(fail(format!(
                                "unknown placeholder {{{other}}} (use {{site}}, {{lang}} or {{feed}})"
                            )));
                        }
                    });
                    rest = &after[end + 1..];
                } else {
                    let end = rest.find('{').unwrap_or(rest.len());
                    let literal = &rest[..end];
                    if literal
                        .chars()
                        .any(|c| c.is_whitespace() || c == '*' || c == '>' || c == '}')
                    {
                        return Err(fail(format!(
                            "token {token:?} has a wildcard, a stray '}}' or whitespace"
                        )));
                    }
                    parts.push(Part::Literal(literal.to_string()));
                    rest = &rest[end..];
                }
            }
            tokens.push(parts);
        }
        Ok(SubjectTemplate {
            text: text.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether any token depends on the record.
    pub fn has_placeholders(&self) -> bool {
        self.tokens
            .iter()
            .flatten()
            .any(|p| !matches!(p, Part::Literal(_)))
    }

    /// The subject filter a stream needs to capture every subject of this template.
    pub fn stream_subject(&self) -> String {
        let tokens: Vec<String> = self
            .tokens
            .iter()
            .map(|parts| match parts.as_slice() {
                [Part::Literal(text)] => text.clone(),
                _ => "*".into(),
            })
            .collect();
        tokens.join(".")
    }

    /// The subject for a record with `fields`.
    pub fn render(&self, fields: &SubjectFields) -> String {
        let mut out = String::with_capacity(self.text.len() + 32);
        for (i, parts) in self.tokens.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            for part in parts {
                match part {
                    Part::Literal(text) => out.push_str(text),
                    Part::Site => out.push_str(&fields.site),
                    Part::Lang => out.push_str(&fields.lang),
                    Part::Feed => out.push_str(&fields.feed),
                }
            }
        }
        out
    }

    /// The subject for the serialised record `line` (fields it lacks get the defaults).
    pub fn render_line(&self, line: &[u8]) -> String {
        if !self.has_placeholders() {
            return self.text.clone();
        }
        self.render(&SubjectFields::from_line(line))
    }
}

/// The few record fields a subject can use, read without parsing the whole record.
#[derive(Deserialize, Default)]
struct RecordView {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    site: Option<UrlView>,
    #[serde(default)]
    feed: Option<UrlView>,
}

#[derive(Deserialize, Default)]
struct UrlView {
    #[serde(default)]
    url: Option<String>,
}

impl SubjectFields {
    /// Fields of a serialised record (`newswire.record/1` JSON).
    pub fn from_line(line: &[u8]) -> SubjectFields {
        let view: RecordView = serde_json::from_slice(line).unwrap_or_default();
        let site_url = view.site.and_then(|s| s.url).or(view.url);
        let site = site_url
            .as_deref()
            .and_then(host_of)
            .map(|h| token(&h))
            .unwrap_or_else(|| UNKNOWN_HOST.into());
        let lang = view
            .language
            .map(|l| token(&l))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| UNKNOWN_LANGUAGE.into());
        let feed = view
            .feed
            .and_then(|f| f.url)
            .map(|url| feed_token(&url))
            .unwrap_or_else(|| UNKNOWN_HOST.into());
        SubjectFields { site, lang, feed }
    }
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .filter(|h| !h.is_empty())
}

/// `value` as one valid subject token (see the module doc).
pub fn token(value: &str) -> String {
    let mut out: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.len() > MAX_TOKEN {
        out.truncate(MAX_TOKEN);
    }
    out
}

fn feed_token(url: &str) -> String {
    let host = host_of(url).unwrap_or_else(|| UNKNOWN_HOST.into());
    let hash = blake3::hash(url.as_bytes()).to_hex();
    let mut host = token(&host);
    host.truncate(MAX_TOKEN - 9);
    format!("{host}-{}", &hash[..8])
}

/// Settings of a stream the sink creates when it is absent (an existing stream keeps its
/// own).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamOptions {
    /// Subjects the stream captures; empty = the template's [`SubjectTemplate::stream_subject`].
    pub subjects: Vec<String>,
    /// Records older than this are dropped (`None`: kept until the limits below).
    pub max_age: Option<Duration>,
    /// Size limit in bytes (`None`: unlimited).
    pub max_bytes: Option<i64>,
    /// Copies on a clustered JetStream (1 on a single server, 3 in a 3-node cluster).
    pub replicas: usize,
    /// Resends with the same `Nats-Msg-Id` within this window are dropped by the server.
    pub duplicate_window: Duration,
    /// At the limits, refuse new records (an error naming the stream) instead of dropping
    /// the oldest.
    pub discard_new: bool,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            subjects: Vec::new(),
            max_age: None,
            max_bytes: None,
            replicas: 1,
            duplicate_window: crate::nats::DUPLICATE_WINDOW,
            discard_new: false,
        }
    }
}

impl StreamOptions {
    /// The options a `[[sink]] type = "nats"` table sets (defaults for the rest).
    pub fn from_config(config: &newswire_core::config::NatsSinkConfig) -> StreamOptions {
        let defaults = StreamOptions::default();
        StreamOptions {
            subjects: config.subjects.clone().unwrap_or_default(),
            max_age: config.max_age.map(|d| d.0),
            max_bytes: config.max_bytes.and_then(|b| i64::try_from(b).ok()),
            replicas: config.replicas.unwrap_or(defaults.replicas),
            duplicate_window: config
                .duplicate_window
                .map_or(defaults.duplicate_window, |d| d.0),
            discard_new: config.discard == Some(newswire_core::config::Discard::New),
        }
    }

    /// The JetStream config for stream `name` publishing through `template`.
    pub fn stream_config(
        &self,
        name: &str,
        template: &SubjectTemplate,
    ) -> jetstream::stream::Config {
        let subjects = if self.subjects.is_empty() {
            vec![template.stream_subject()]
        } else {
            self.subjects.clone()
        };
        // The server refuses a duplicate window longer than max_age.
        let duplicate_window = match self.max_age {
            Some(age) if !age.is_zero() => self.duplicate_window.min(age),
            _ => self.duplicate_window,
        };
        jetstream::stream::Config {
            name: name.to_string(),
            subjects,
            max_age: self.max_age.unwrap_or_default(),
            max_bytes: self.max_bytes.unwrap_or(-1),
            num_replicas: self.replicas.max(1),
            duplicate_window,
            discard: if self.discard_new {
                jetstream::stream::DiscardPolicy::New
            } else {
                jetstream::stream::DiscardPolicy::Old
            },
            ..Default::default()
        }
    }
}

/// A publish failure as the operator needs it: which stream, which subject, what to check.
pub fn describe_publish_error(stream: &str, subject: &str, error: &PublishError) -> String {
    let text = error.to_string();
    match error.kind() {
        PublishErrorKind::StreamNotFound => format!(
            "no stream captures subject {subject} (expected stream {stream}; add the subject to its `subjects` or fix the template)"
        ),
        _ if text.contains("maximum") || text.contains("resource limits") => format!(
            "stream {stream} is full and refused the record on {subject}: {text} (raise max_bytes/max_age or use discard old)"
        ),
        PublishErrorKind::TimedOut => {
            format!("stream {stream} did not acknowledge the record on {subject} in time: {text}")
        }
        _ => format!("stream {stream} refused the record on {subject}: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_valid_tokens() {
        let template = SubjectTemplate::parse("news.records.{site}.{lang}").unwrap();
        assert!(template.has_placeholders());
        assert_eq!(template.stream_subject(), "news.records.*.*");
        let line = br#"{"id":"x","url":"https://www.News.Example.co.uk/a?b=1","language":"pt-BR","site":{"name":"N","url":null},"feed":{"url":"https://news.example.co.uk/rss"}}"#;
        assert_eq!(
            template.render_line(line),
            "news.records.news_example_co_uk.pt-br"
        );
        let fields = SubjectFields::from_line(line);
        assert!(
            fields.feed.starts_with("news_example_co_uk-"),
            "{}",
            fields.feed
        );
        assert_eq!(fields.feed.len(), "news_example_co_uk-".len() + 8);
    }

    #[test]
    fn missing_fields_get_defaults_and_long_hosts_are_capped() {
        let template = SubjectTemplate::parse("r.{site}.{lang}.{feed}").unwrap();
        assert_eq!(template.render_line(b"not json"), "r.unknown.und.unknown");
        let host = format!("https://{}.example/a", "x".repeat(200));
        let line = format!(r#"{{"url":"{host}"}}"#);
        let subject = template.render_line(line.as_bytes());
        assert!(
            subject
                .split('.')
                .all(|t| t.len() <= MAX_TOKEN && !t.is_empty()),
            "{subject}"
        );
    }

    #[test]
    fn literal_templates_are_kept_as_they_are() {
        let template = SubjectTemplate::parse("newswire.records").unwrap();
        assert!(!template.has_placeholders());
        assert_eq!(template.stream_subject(), "newswire.records");
        assert_eq!(template.render_line(b"{}"), "newswire.records");
    }

    #[test]
    fn bad_templates_say_why() {
        for (text, needle) in [
            ("news..x", "empty token"),
            ("news.{site", "unclosed"),
            ("news.{host}", "unknown placeholder {host}"),
            ("news.*", "wildcard"),
            ("", "empty"),
        ] {
            let err = SubjectTemplate::parse(text).unwrap_err();
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn stream_config_follows_the_options() {
        let template = SubjectTemplate::parse("news.records.{site}").unwrap();
        let options = StreamOptions {
            max_age: Some(Duration::from_secs(60)),
            max_bytes: Some(1 << 20),
            replicas: 3,
            discard_new: true,
            ..StreamOptions::default()
        };
        let config = options.stream_config("NEWS", &template);
        assert_eq!(config.subjects, vec!["news.records.*".to_string()]);
        assert_eq!(config.duplicate_window, Duration::from_secs(60));
        assert_eq!(config.num_replicas, 3);
        assert_eq!(config.max_bytes, 1 << 20);
        assert_eq!(config.discard, jetstream::stream::DiscardPolicy::New);
    }

    mod against_nats {
        //! Against the real server at 127.0.0.1:4222; `SKIPPED` without one unless
        //! `NEWSWIRE_REQUIRE_SERVICES=1`.

        use super::*;
        use crate::nats::NatsSink;
        use crate::nats::test_support::StreamGuard;
        use newswire_core::config::NatsSinkConfig;

        const SERVER: &str = "127.0.0.1:4222";

        fn server_is_up(test: &str) -> bool {
            let up = SERVER
                .parse()
                .ok()
                .and_then(|addr| {
                    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()
                })
                .is_some();
            if !up {
                if std::env::var("NEWSWIRE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                    panic!(
                        "{test}: NATS JetStream is required (NEWSWIRE_REQUIRE_SERVICES=1) but nothing answers at {SERVER}"
                    );
                }
                println!("SKIPPED: {test}: NATS not reachable at {SERVER}");
            }
            up
        }

        fn unique(prefix: &str) -> String {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default();
            format!("{prefix}_{}_{nanos}", std::process::id())
        }

        fn config(stream: &str, subject: &str) -> NatsSinkConfig {
            NatsSinkConfig {
                name: None,
                url: format!("nats://{SERVER}"),
                stream: Some(stream.to_string()),
                subject: Some(subject.to_string()),
                flush_records: Some(16),
                ..NatsSinkConfig::default()
            }
        }

        fn record(i: usize) -> (String, Vec<u8>) {
            let site = if i.is_multiple_of(2) {
                "a.example"
            } else {
                "b.example"
            };
            let id = format!("rec-{i}");
            let line = format!(
                r#"{{"id":"{id}","url":"https://{site}/{i}","language":"en","site":{{"url":"https://{site}/"}},"feed":{{"url":"https://{site}/rss"}}}}"#
            );
            (id, line.into_bytes())
        }

        async fn stored_per_subject(stream: &str, subject: &str) -> u64 {
            let js = jetstream::new(async_nats::connect(SERVER).await.unwrap());
            let s = js.get_stream(stream).await.unwrap();
            let info = s.info_with_subjects(subject).await.unwrap().next().await;
            info.map(|r| r.map(|(_, n)| n as u64).unwrap_or(0))
                .unwrap_or(0)
        }

        use futures_util::StreamExt;

        #[tokio::test]
        async fn republishing_after_a_crash_leaves_each_record_once() {
            if !server_is_up("republishing_after_a_crash_leaves_each_record_once") {
                return;
            }
            let stream = unique("NWTEST_SUBJECT");
            let _guard = StreamGuard(stream.clone());
            let prefix = format!("nwtest.{}", stream.to_lowercase());
            let config = config(&stream, &format!("{prefix}.{{site}}"));
            let mut sink = NatsSink::open(format!("nats:{stream}"), &config)
                .await
                .unwrap();
            for i in 0..10 {
                let (id, line) = record(i);
                sink.write(&id, &line).await.unwrap();
            }
            sink.flush().await.unwrap();
            // Crash between publish and commit: the worker that takes over publishes the
            // same records again, plus new ones.
            drop(sink);
            let mut sink = NatsSink::open(format!("nats:{stream}"), &config)
                .await
                .unwrap();
            for i in 0..15 {
                let (id, line) = record(i);
                sink.write(&id, &line).await.unwrap();
            }
            sink.flush().await.unwrap();
            sink.close().await.unwrap();

            let js = jetstream::new(async_nats::connect(SERVER).await.unwrap());
            let mut handle = js.get_stream(&stream).await.unwrap();
            let info = handle.info().await.unwrap().clone();
            let a = stored_per_subject(&stream, &format!("{prefix}.a_example")).await;
            let b = stored_per_subject(&stream, &format!("{prefix}.b_example")).await;
            assert_eq!(info.state.messages, 15, "each record once");
            assert_eq!(info.config.subjects, vec![format!("{prefix}.*")]);
            assert_eq!((a, b), (8, 7));
        }

        #[tokio::test]
        async fn a_created_stream_takes_the_configured_options() {
            if !server_is_up("a_created_stream_takes_the_configured_options") {
                return;
            }
            let stream = unique("NWTEST_OPTIONS");
            let _guard = StreamGuard(stream.clone());
            let prefix = format!("nwtest.{}", stream.to_lowercase());
            let mut config = config(&stream, &format!("{prefix}.{{site}}.{{lang}}"));
            use newswire_core::config::{Discard, HumanDuration};
            config.subjects = Some(vec![format!("{prefix}.>")]);
            config.max_age = Some(HumanDuration(Duration::from_secs(3600)));
            config.max_bytes = Some(1_048_576);
            config.duplicate_window = Some(HumanDuration(Duration::from_secs(120)));
            config.discard = Some(Discard::New);
            let mut sink = NatsSink::open(format!("nats:{stream}"), &config)
                .await
                .unwrap();
            let (id, line) = record(0);
            sink.write(&id, &line).await.unwrap();
            sink.flush().await.unwrap();
            let js = jetstream::new(async_nats::connect(SERVER).await.unwrap());
            let info = js
                .get_stream(&stream)
                .await
                .unwrap()
                .info()
                .await
                .unwrap()
                .clone();
            assert_eq!(info.config.subjects, vec![format!("{prefix}.>")]);
            assert_eq!(info.config.max_age, Duration::from_secs(3600));
            assert_eq!(info.config.max_bytes, 1_048_576);
            assert_eq!(info.config.duplicate_window, Duration::from_secs(120));
            assert_eq!(info.config.discard, jetstream::stream::DiscardPolicy::New);
            assert_eq!(info.state.messages, 1);
        }

        #[tokio::test]
        async fn a_subject_no_stream_captures_is_an_error_naming_both() {
            if !server_is_up("a_subject_no_stream_captures_is_an_error_naming_both") {
                return;
            }
            let stream = unique("NWTEST_UNBOUND");
            let _guard = StreamGuard(stream.clone());
            let prefix = format!("nwtest.{}", stream.to_lowercase());
            // The stream exists and captures only `<prefix>.a_example`.
            let js = jetstream::new(async_nats::connect(SERVER).await.unwrap());
            js.create_stream(jetstream::stream::Config {
                name: stream.clone(),
                subjects: vec![format!("{prefix}.a_example")],
                ..Default::default()
            })
            .await
            .unwrap();
            let mut sink = NatsSink::open(
                format!("nats:{stream}"),
                &config(&stream, &format!("{prefix}.{{site}}")),
            )
            .await
            .unwrap();
            let (id, line) = record(1); // b.example: not captured
            let outcome = async {
                sink.write(&id, &line).await?;
                sink.flush().await
            }
            .await;
            let err = outcome.unwrap_err().to_string();
            assert!(err.contains(&stream), "{err}");
            assert!(err.contains(&format!("{prefix}.b_example")), "{err}");
        }

        #[tokio::test]
        async fn a_full_stream_is_an_error_naming_stream_and_subject() {
            if !server_is_up("a_full_stream_is_an_error_naming_stream_and_subject") {
                return;
            }
            let stream = unique("NWTEST_FULL");
            let _guard = StreamGuard(stream.clone());
            let prefix = format!("nwtest.{}", stream.to_lowercase());
            let template = SubjectTemplate::parse(&format!("{prefix}.{{site}}")).unwrap();
            let options = StreamOptions {
                max_bytes: Some(2048),
                discard_new: true,
                ..StreamOptions::default()
            };
            let mut sink = NatsSink::open_with_stream(
                format!("nats:{stream}"),
                &config(&stream, template.as_str()),
                &options,
            )
            .await
            .unwrap();
            let outcome = async {
                for i in 0..40 {
                    let (id, line) = record(i);
                    sink.write(&id, &line).await?;
                }
                sink.flush().await
            }
            .await;
            let err = outcome.unwrap_err().to_string();
            assert!(err.contains(&stream) && err.contains("full"), "{err}");
            assert!(err.contains(&prefix), "{err}");
        }
    }
}
