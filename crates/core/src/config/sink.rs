//! `[[sink]]` tables: `type` selects the kind, and each kind takes only its own keys, so a
//! key of another kind (a `path` on a nats sink) is an error naming the key and its line.

use serde::Deserialize;
use toml::Spanned;

use super::HumanDuration;
use super::lenient::{Report, read_value};

/// The kinds of `[[sink]]`, as written in `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    Jsonl,
    Stdout,
    Nats,
}

/// Compression of closed (rotated) JSONL files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Zstd,
}

/// One `[[sink]]` table: its kind (the `type` key) with that kind's options.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SinkConfig {
    Jsonl(JsonlSinkConfig),
    Stdout(StdoutSinkConfig),
    Nats(NatsSinkConfig),
}

/// `type = "jsonl"`: JSONL files, exactly once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlSinkConfig {
    /// Name used for its committed position in the state; defaults to `jsonl:` and path.
    pub name: Option<String>,
    /// The file, or a pattern with `{date}` and `{seq}` when rotating.
    pub path: String,
    /// fsync after this many records…
    pub flush_records: Option<usize>,
    /// …or after this long, whichever comes first.
    pub flush_interval: Option<HumanDuration>,
    /// Rotate when the file would exceed this many bytes.
    pub rotate_bytes: Option<u64>,
    /// Rotate when the file is older than this.
    pub rotate_interval: Option<HumanDuration>,
    /// Compression of rotated files.
    pub compress: Option<Compression>,
    /// Fault injection, never read from the file: the sink behaves as if its disk had
    /// only this many bytes (writes past it fail with ENOSPC), so disk-full handling can
    /// be tested end to end. Set by the binary's hidden `--simulated-disk-capacity`.
    #[serde(skip)]
    pub simulated_disk_capacity: Option<u64>,
}

/// `type = "stdout"`: one record per line on stdout, at least once.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutSinkConfig {
    /// Name used for its committed position in the state; defaults to `stdout`.
    pub name: Option<String>,
}

/// What a full stream does with the next record (`discard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Discard {
    /// Drop the oldest records to make room (JetStream's default).
    Old,
    /// Refuse the new record: the sink fails with an error naming stream and subject.
    New,
}

/// `type = "nats"`: JetStream publishes with the record id as `Nats-Msg-Id`.
///
/// The stream options (`subjects` … `discard`) apply when the sink creates the stream
/// because it is absent; an existing stream keeps its own settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSinkConfig {
    /// Name used for its committed position in the state; defaults to `nats:` and stream.
    pub name: Option<String>,
    /// Server URL, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// JetStream stream name (created when missing).
    pub stream: Option<String>,
    /// Subject records are published on: a template with `{site}`, `{lang}`, `{feed}`.
    pub subject: Option<String>,
    /// Wait for the publish acks after this many records (at most 4,096 in flight)…
    pub flush_records: Option<usize>,
    /// …or after this long, whichever comes first.
    pub flush_interval: Option<HumanDuration>,
    /// Subjects a created stream captures; default: the template with each placeholder
    /// token as `*` (`news.records.{site}` → `news.records.*`).
    #[serde(default)]
    pub subjects: Option<Vec<String>>,
    /// Records older than this are removed from a created stream (default: kept).
    #[serde(default)]
    pub max_age: Option<HumanDuration>,
    /// Size limit of a created stream in bytes (default: unlimited).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Copies of a created stream on a clustered JetStream (default 1; 3 on 3 nodes).
    #[serde(default)]
    pub replicas: Option<usize>,
    /// Re-sends with the same `Nats-Msg-Id` within this window are dropped (default 1h,
    /// at most `max_age`): it must cover a worker's restart or a takeover.
    #[serde(default)]
    pub duplicate_window: Option<HumanDuration>,
    /// At the limits, `old` drops the oldest records (default), `new` refuses new ones.
    #[serde(default)]
    pub discard: Option<Discard>,
}

impl SinkConfig {
    /// A stdout sink, as installed by `--output -`.
    pub fn stdout() -> Self {
        SinkConfig::Stdout(StdoutSinkConfig::default())
    }

    /// The `type` of this sink.
    pub fn kind(&self) -> SinkKind {
        match self {
            SinkConfig::Jsonl(_) => SinkKind::Jsonl,
            SinkConfig::Stdout(_) => SinkKind::Stdout,
            SinkConfig::Nats(_) => SinkKind::Nats,
        }
    }

    /// Stable name under which this sink's committed position is stored.
    pub fn state_name(&self) -> String {
        match self {
            SinkConfig::Jsonl(c) => c
                .name
                .clone()
                .unwrap_or_else(|| format!("jsonl:{}", c.path)),
            SinkConfig::Stdout(c) => c.name.clone().unwrap_or_else(|| "stdout".into()),
            SinkConfig::Nats(c) => c
                .name
                .clone()
                .unwrap_or_else(|| format!("nats:{}", c.stream.as_deref().unwrap_or(""))),
        }
    }
}

/// Reads one `[[sink]]` element: first `type`, then the rest as that kind's options, so
/// that every problem keeps the line of its key (serde's internally tagged enums buffer
/// the table and lose the places). Problems of the table as a whole (a missing key) are
/// reported on the line of `type`.
pub(crate) fn read_sink(
    mut value: Spanned<toml::de::DeValue<'_>>,
    report: &mut Report<'_>,
) -> Option<SinkConfig> {
    let table_span = value.span();
    let toml::de::DeValue::Table(table) = value.get_mut() else {
        report(Some(table_span), "a [[sink]] must be a table".into());
        return None;
    };
    let (kind, rest): (Vec<_>, Vec<_>) = std::mem::replace(table, toml::map::Map::new())
        .into_iter()
        .partition(|(key, _)| key.get_ref().as_ref() == "type");
    *table = rest.into_iter().collect();
    let Some((_, kind)) = kind.into_iter().next() else {
        report(
            Some(table_span),
            "sink.type is missing (one of \"jsonl\", \"stdout\", \"nats\")".into(),
        );
        return None;
    };
    let kind_span = kind.span();
    let kind: SinkKind = read_value(kind, report)?;
    let mut located = |span: Option<std::ops::Range<usize>>, message: String| match span {
        Some(span) if span != table_span => report(Some(span), message),
        _ => report(
            Some(kind_span.clone()),
            format!("{kind:?} sink: {message}").to_lowercase(),
        ),
    };
    Some(match kind {
        SinkKind::Jsonl => SinkConfig::Jsonl(read_value(value, &mut located)?),
        SinkKind::Stdout => SinkConfig::Stdout(read_value(value, &mut located)?),
        SinkKind::Nats => SinkConfig::Nats(read_value(value, &mut located)?),
    })
}

/// Problems of the sinks that serde cannot see: a sink configured twice, values out of
/// range. `at(index, key, message)` places a message on the key of the `index`th sink.
pub(crate) fn sink_problems(sinks: &[SinkConfig], mut at: impl FnMut(usize, &str, String)) {
    let mut names = std::collections::HashSet::new();
    for (index, sink) in sinks.iter().enumerate() {
        if !names.insert(sink.state_name()) {
            at(
                index,
                "type",
                format!("sink {:?} is configured twice", sink.state_name()),
            );
        }
        let flush_records = match sink {
            SinkConfig::Jsonl(c) => c.flush_records,
            SinkConfig::Nats(c) => c.flush_records,
            SinkConfig::Stdout(_) => None,
        };
        if flush_records == Some(0) {
            at(
                index,
                "flush_records",
                "sink.flush_records must be at least 1".into(),
            );
        }
        if let SinkConfig::Nats(c) = sink {
            nats_problems(c, |key, message| at(index, key, message));
        }
        if let SinkConfig::Jsonl(c) = sink {
            if c.path.trim().is_empty() {
                at(index, "path", "sink.path is empty".into());
            }
            if c.rotate_bytes == Some(0) {
                at(
                    index,
                    "rotate_bytes",
                    "sink.rotate_bytes must be positive".into(),
                );
            }
        }
    }
}

/// Stream options that the server would refuse, or that would break exactly-once.
fn nats_problems(c: &NatsSinkConfig, mut at: impl FnMut(&str, String)) {
    if c.replicas.is_some_and(|r| !(1..=5).contains(&r)) {
        at(
            "replicas",
            "sink.replicas must be between 1 and 5 (JetStream's limit)".into(),
        );
    }
    if c.max_bytes == Some(0) {
        at("max_bytes", "sink.max_bytes must be positive".into());
    }
    if c.max_bytes.is_some_and(|b| i64::try_from(b).is_err()) {
        at("max_bytes", "sink.max_bytes is too large".into());
    }
    if c.max_age.is_some_and(|a| a.0.is_zero()) {
        at(
            "max_age",
            "sink.max_age must be positive (leave it out to keep records)".into(),
        );
    }
    if let Some(window) = c.duplicate_window {
        if window.0.is_zero() {
            at(
                "duplicate_window",
                "sink.duplicate_window must be positive: without it a record re-sent after a crash or a takeover is stored twice".into(),
            );
        }
        if let Some(age) = c.max_age
            && window.0 > age.0
        {
            at(
                "duplicate_window",
                format!(
                    "sink.duplicate_window ({window}) is longer than sink.max_age ({age}): the server refuses such a stream"
                ),
            );
        }
    }
    let subject = c.subject.as_deref().unwrap_or(DEFAULT_NATS_SUBJECT);
    if let Some(subjects) = &c.subjects {
        if subjects.iter().any(|s| !is_subject_filter(s)) || subjects.is_empty() {
            at(
                "subjects",
                format!(
                    "sink.subjects {subjects:?}: each must be a subject or wildcard filter (tokens separated by dots, `*` for one token, `>` last)"
                ),
            );
        } else if !subjects
            .iter()
            .any(|f| filter_covers(f, &template_filter(subject)))
        {
            at(
                "subjects",
                format!(
                    "sink.subjects {subjects:?} do not capture sink.subject {subject:?}: records would be refused (subject not bound to the stream)"
                ),
            );
        }
    }
}

/// The subject used when a nats sink names none (`newswire_sink::nats::DEFAULT_SUBJECT`).
pub const DEFAULT_NATS_SUBJECT: &str = "newswire.records";

/// `template` with every token holding a placeholder as `*`.
fn template_filter(template: &str) -> String {
    template
        .split('.')
        .map(|t| if t.contains('{') { "*" } else { t })
        .collect::<Vec<_>>()
        .join(".")
}

fn is_subject_filter(filter: &str) -> bool {
    let tokens: Vec<&str> = filter.split('.').collect();
    tokens.iter().enumerate().all(|(i, t)| {
        !t.is_empty()
            && !t.contains(char::is_whitespace)
            && (*t == "*" || (*t == ">" && i == tokens.len() - 1) || !t.contains(['*', '>']))
    })
}

/// Whether every subject matching `pattern` (tokens or `*`) also matches `filter`.
fn filter_covers(filter: &str, pattern: &str) -> bool {
    let filter: Vec<&str> = filter.split('.').collect();
    let pattern: Vec<&str> = pattern.split('.').collect();
    for (i, f) in filter.iter().enumerate() {
        match (*f, pattern.get(i)) {
            (">", Some(_)) => return true,
            (_, None) => return false,
            ("*", Some(_)) => {}
            (f, Some(p)) if f == *p && *p != "*" => {}
            _ => return false,
        }
    }
    filter.len() == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nats(extra: &str) -> Vec<String> {
        let config: NatsSinkConfig =
            toml::from_str(&format!("url = \"nats://h:4222\"\n{extra}")).unwrap();
        let mut keys = Vec::new();
        nats_problems(&config, |key, message| {
            keys.push(format!("{key}: {message}"))
        });
        keys
    }

    #[test]
    fn stream_options_are_read_and_checked() {
        assert!(nats("subject = \"news.records.{site}\"\nsubjects = [\"news.>\"]\nmax_age = \"7d\"\nmax_bytes = 1000000\nreplicas = 3\nduplicate_window = \"2h\"\ndiscard = \"new\"\n").is_empty());
        assert!(
            nats("subject = \"news.records.{site}\"\nsubjects = [\"news.records.*\"]\n").is_empty()
        );
        let unbound = nats("subject = \"news.records.{site}\"\nsubjects = [\"news.records\"]\n");
        assert!(
            unbound
                .iter()
                .any(|p| p.starts_with("subjects:") && p.contains("news.records.{site}")),
            "{unbound:?}"
        );
        assert!(nats("subjects = [\"a.>.b\"]\n")[0].starts_with("subjects:"));
        assert!(nats("replicas = 7\n")[0].starts_with("replicas:"));
        assert!(nats("duplicate_window = \"0s\"\n")[0].starts_with("duplicate_window:"));
        let longer = nats("max_age = \"1m\"\nduplicate_window = \"2m\"\n");
        assert!(longer[0].contains("longer than sink.max_age"), "{longer:?}");
        assert!(nats("max_bytes = 0\n")[0].starts_with("max_bytes:"));
    }

    #[test]
    fn filters_cover_patterns_token_by_token() {
        assert!(filter_covers("a.>", "a.b.*"));
        assert!(filter_covers("a.*.c", "a.*.c"));
        assert!(filter_covers("a.b", "a.b"));
        assert!(!filter_covers("a.b", "a.*"));
        assert!(!filter_covers("a.*", "a.b.c"));
        assert!(!filter_covers("a.b.c", "a.b"));
    }
}
