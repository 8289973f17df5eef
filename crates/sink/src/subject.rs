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
//! Values come from a [`Route`] the caller hands over with each record (the fields it
//! already has), so the sink never parses a serialised record back: that parse cost a
//! third of the publish throughput (`benches/publish_ratio.rs`).

use std::time::Duration;

use async_nats::jetstream::{self, context::PublishError, context::PublishErrorKind};

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

/// What a template may use of a record, given by the stage that built it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Route<'a> {
    /// The site's URL, else the record's own (`{site}` is its host).
    pub site_url: Option<&'a str>,
    /// The record's language (`{lang}`).
    pub language: Option<&'a str>,
    /// The feed's URL (`{feed}`).
    pub feed_url: Option<&'a str>,
}

impl<'a> Route<'a> {
    /// The route of a news record.
    pub fn of(record: &'a newswire_core::record::Record) -> Route<'a> {
        Route {
            site_url: Some(record.site.url.as_deref().unwrap_or(&record.url)),
            language: record.language.as_deref(),
            feed_url: Some(&record.feed.url),
        }
    }
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

    /// The subject for a record with `route` (placeholders it cannot fill get the
    /// defaults).
    pub fn render(&self, route: &Route<'_>) -> String {
        if !self.has_placeholders() {
            return self.text.clone();
        }
        let mut out = String::with_capacity(self.text.len() + 32);
        for (i, parts) in self.tokens.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            for part in parts {
                match part {
                    Part::Literal(text) => out.push_str(text),
                    Part::Site => out.push_str(
                        &route
                            .site_url
                            .and_then(host_of)
                            .map_or_else(|| UNKNOWN_HOST.into(), |h| token(&h)),
                    ),
                    Part::Lang => out.push_str(
                        &route
                            .language
                            .map(token)
                            .filter(|l| !l.is_empty())
                            .unwrap_or_else(|| UNKNOWN_LANGUAGE.into()),
                    ),
                    Part::Feed => out.push_str(
                        &route
                            .feed_url
                            .map_or_else(|| UNKNOWN_HOST.into(), feed_token),
                    ),
                }
            }
        }
        out
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
        let route = Route {
            site_url: Some("https://www.News.Example.co.uk/a?b=1"),
            language: Some("pt-BR"),
            feed_url: Some("https://news.example.co.uk/rss"),
        };
        assert_eq!(
            template.render(&route),
            "news.records.news_example_co_uk.pt-br"
        );
        let feed = SubjectTemplate::parse("{feed}").unwrap().render(&route);
        assert!(feed.starts_with("news_example_co_uk-"), "{feed}");
        assert_eq!(feed.len(), "news_example_co_uk-".len() + 8);
    }

    #[test]
    fn missing_fields_get_defaults_and_long_hosts_are_capped() {
        let template = SubjectTemplate::parse("r.{site}.{lang}.{feed}").unwrap();
        assert_eq!(template.render(&Route::default()), "r.unknown.und.unknown");
        let host = format!("https://{}.example/a", "x".repeat(200));
        let route = Route {
            site_url: Some(&host),
            feed_url: Some(&host),
            ..Route::default()
        };
        let subject = template.render(&route);
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
        assert_eq!(template.render(&Route::default()), "newswire.records");
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
        use crate::nats::test_support::{Cleanup, SERVER, server_is_up, unique};
        use bytes::Bytes;
        use newswire_core::config::NatsSinkConfig;

        fn config(stream: &str, subject: &str) -> NatsSinkConfig {
            crate::nats::test_support::config(stream, subject, 16)
        }

        /// Record `i`, of site a.example when `i` is even, b.example when odd.
        fn record(i: usize) -> (String, Bytes, Route<'static>) {
            let site = if i.is_multiple_of(2) {
                "https://a.example/"
            } else {
                "https://b.example/"
            };
            let id = format!("rec-{i}");
            let line = Bytes::from(format!(
                r#"{{"id":"{id}","url":"{site}{i}","language":"en","site":{{"url":"{site}"}},"feed":{{"url":"{site}rss"}}}}"#
            ));
            let route = Route {
                site_url: Some(site),
                language: Some("en"),
                feed_url: None,
            };
            (id, line, route)
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
            let _guard = Cleanup::stream(&stream);
            let prefix = format!("nwtest.{}", stream.to_lowercase());
            let config = config(&stream, &format!("{prefix}.{{site}}"));
            let mut sink = NatsSink::open(format!("nats:{stream}"), &config)
                .await
                .unwrap();
            for i in 0..10 {
                let (id, line, route) = record(i);
                sink.write(&id, line, &route).await.unwrap();
            }
            sink.flush().await.unwrap();
            // Crash between publish and commit: the worker that takes over publishes the
            // same records again, plus new ones.
            drop(sink);
            let mut sink = NatsSink::open(format!("nats:{stream}"), &config)
                .await
                .unwrap();
            for i in 0..15 {
                let (id, line, route) = record(i);
                sink.write(&id, line, &route).await.unwrap();
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
            let _guard = Cleanup::stream(&stream);
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
            let (id, line, route) = record(0);
            sink.write(&id, line, &route).await.unwrap();
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
            let _guard = Cleanup::stream(&stream);
            let prefix = format!("nwtest.{}", stream.to_lowercase());
            // The stream exists and captures only `<prefix>.a_example`.
            let js = jetstream::new(async_nats::connect(SERVER).await.unwrap());
            let captures_a_only = jetstream::stream::Config {
                name: stream.clone(),
                subjects: vec![format!("{prefix}.a_example")],
                ..Default::default()
            };
            newswire_core::nats::get_or_create_stream(&js, captures_a_only)
                .await
                .unwrap();
            let mut sink = NatsSink::open(
                format!("nats:{stream}"),
                &config(&stream, &format!("{prefix}.{{site}}")),
            )
            .await
            .unwrap();
            let (id, line, route) = record(1); // b.example: not captured
            let outcome = async {
                sink.write(&id, line, &route).await?;
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
            let _guard = Cleanup::stream(&stream);
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
                    let (id, line, route) = record(i);
                    sink.write(&id, line, &route).await?;
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
