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

/// `type = "nats"`: JetStream publishes with the record id as `Nats-Msg-Id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSinkConfig {
    /// Name used for its committed position in the state; defaults to `nats:` and stream.
    pub name: Option<String>,
    /// Server URL, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// JetStream stream name (created when missing).
    pub stream: Option<String>,
    /// Subject records are published on.
    pub subject: Option<String>,
    /// Wait for the publish acks after this many records…
    pub flush_records: Option<usize>,
    /// …or after this long, whichever comes first.
    pub flush_interval: Option<HumanDuration>,
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
