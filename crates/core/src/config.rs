//! The TOML configuration (`[state]`, `[fetch]`, `[[sink]]`, `[[feed]]`, `feeds_opml`, …).
//!
//! The struct definitions are the documentation of every key: names, defaults and units.
//! Loading is strict: an unknown key or a bad value is an error naming the file, line and
//! key; semantic problems (a feed listed twice, a sink without a path) are collected so
//! that one run reports all of them. Relative paths are taken relative to the directory of
//! the config file, so a config works the same from any working directory.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};
use toml::Spanned;
use url::Url;

/// A duration written the human way in the config: `"250ms"`, `"10m"`, `"6h"`, `"90d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid duration {text:?}: {e} (write e.g. \"250ms\", \"10m\", \"6h\")"
                ))
            })
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

fn secs(s: u64) -> HumanDuration {
    HumanDuration(Duration::from_secs(s))
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub state: StateConfig,
    #[serde(default)]
    pub fetch: FetchConfig,
    #[serde(default, rename = "sink")]
    pub sinks: Vec<SinkConfig>,
    #[serde(default, rename = "feed")]
    pub feeds: Vec<FeedConfig>,
    /// An OPML file whose outlines (nested too) are added to the feeds.
    #[serde(default)]
    pub feeds_opml: Option<Spanned<String>>,
    #[serde(default)]
    pub dedup: DedupConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// Directory of the config file; relative paths are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The config file itself, for error messages.
    #[serde(skip)]
    pub source: PathBuf,
}

/// `[state]`: where seen ids, feed validators and sink positions live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// SQLite file path (relative to the config file), or `nats://…` for JetStream KV.
    #[serde(default = "default_state_path")]
    pub path: String,
    /// Seen ids and simhashes older than this are pruned.
    #[serde(default = "default_retention")]
    pub retention: HumanDuration,
}

fn default_state_path() -> String {
    "var/newswire.db".into()
}
fn default_retention() -> HumanDuration {
    secs(90 * 24 * 3600)
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            path: default_state_path(),
            retention: default_retention(),
        }
    }
}

/// `[fetch]`: how politely and how defensively newswire talks to the web.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// Sent with every request; should name the operator.
    pub user_agent: String,
    /// Requests in flight over all hosts.
    pub concurrency: usize,
    /// Requests in flight to one host.
    pub per_host_concurrency: usize,
    /// Minimum gap between two requests to one host.
    pub per_host_min_delay: HumanDuration,
    /// Lower bound for intervals derived from feed hints.
    pub min_interval: HumanDuration,
    /// Upper bound for intervals derived from feed hints, and for failure backoff.
    pub max_interval: HumanDuration,
    /// Interval of a feed that gives no hint and has no `interval`.
    pub default_interval: HumanDuration,
    /// Whole-request timeout (headers and body).
    pub timeout: HumanDuration,
    /// TCP + TLS connect timeout.
    pub connect_timeout: HumanDuration,
    /// Largest body accepted, counted after decompression.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Attempts after the first for transient failures (connect errors, timeouts, 5xx, 429).
    pub retries: u32,
    pub respect_robots_txt: bool,
    /// How long a fetched robots.txt is trusted.
    pub robots_ttl: HumanDuration,
    /// CIDRs that feed and article hosts may resolve to despite being private/loopback.
    pub allow_private_networks: Vec<IpNet>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            user_agent: format!(
                "newswire/{} (+https://example.org/newswire/bot)",
                env!("CARGO_PKG_VERSION")
            ),
            concurrency: 64,
            per_host_concurrency: 2,
            per_host_min_delay: HumanDuration(Duration::from_millis(250)),
            min_interval: secs(5 * 60),
            max_interval: secs(6 * 3600),
            default_interval: secs(30 * 60),
            timeout: secs(20),
            connect_timeout: secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 10,
            retries: 3,
            respect_robots_txt: true,
            robots_ttl: secs(24 * 3600),
            allow_private_networks: Vec::new(),
        }
    }
}

/// Kinds of `[[sink]]`.
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

/// One `[[sink]]` table. Which keys apply depends on `type`; misplaced keys are reported by
/// [`Config::problems`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    #[serde(rename = "type")]
    pub kind: Spanned<SinkKind>,
    /// Name used for its committed position in the state; defaults to type and path.
    pub name: Option<String>,
    /// jsonl: the file, or a pattern with `{date}` and `{seq}` when rotating.
    pub path: Option<Spanned<String>>,
    /// jsonl: fsync after this many records…
    pub flush_records: Option<usize>,
    /// …or after this long, whichever comes first.
    pub flush_interval: Option<HumanDuration>,
    /// jsonl: rotate when the file would exceed this many bytes.
    pub rotate_bytes: Option<u64>,
    /// jsonl: rotate when the file is older than this.
    pub rotate_interval: Option<HumanDuration>,
    /// jsonl: compression of rotated files.
    pub compress: Option<Compression>,
    /// nats: server URL, e.g. `nats://127.0.0.1:4222`.
    pub url: Option<String>,
    /// nats: JetStream stream name (created when missing).
    pub stream: Option<String>,
    /// nats: subject records are published on.
    pub subject: Option<String>,
}

impl SinkConfig {
    /// A stdout sink, as installed by `--output -`.
    pub fn stdout() -> Self {
        Self {
            kind: Spanned::new(0..0, SinkKind::Stdout),
            name: None,
            path: None,
            flush_records: None,
            flush_interval: None,
            rotate_bytes: None,
            rotate_interval: None,
            compress: None,
            url: None,
            stream: None,
            subject: None,
        }
    }

    /// Stable name under which this sink's committed position is stored.
    pub fn state_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match self.kind.get_ref() {
            SinkKind::Stdout => "stdout".into(),
            SinkKind::Jsonl => format!(
                "jsonl:{}",
                self.path
                    .as_ref()
                    .map(|p| p.get_ref().as_str())
                    .unwrap_or("")
            ),
            SinkKind::Nats => format!("nats:{}", self.stream.as_deref().unwrap_or("")),
        }
    }
}

/// One `[[feed]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// `http(s)://` or `file://` URL, or a path relative to the config file.
    pub url: Spanned<String>,
    pub name: Option<String>,
    /// Poll interval, honoured as given (no clamping).
    pub interval: Option<HumanDuration>,
    /// Copied to every record of this feed.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Overrides `[fetch] respect_robots_txt` for this feed's articles.
    pub respect_robots_txt: Option<bool>,
}

/// `[dedup]`: near-duplicate detection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Simhash distance within which an indexed article is a near-duplicate candidate
    /// (confirmed on the texts by `near_dup::Rule::confirms`).
    pub max_hamming_distance: u32,
    /// Emit near-duplicates (marked with `duplicate_of`) or drop them.
    pub emit_duplicates: bool,
    /// Texts shorter than this many words are never marked (too little signal).
    pub min_words: u64,
    /// Most simhashes kept in the index.
    pub max_entries: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            max_hamming_distance: 20,
            emit_duplicates: true,
            min_words: 40,
            max_entries: 200_000,
        }
    }
}

/// `[metrics]`: Prometheus endpoint, off unless `listen` is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub listen: Option<String>,
}

/// `[pipeline]`: internal sizing; the defaults suit most installations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Capacity of every channel between stages.
    pub channel_capacity: usize,
    /// Extraction threads; 0 means one per core.
    pub extract_workers: usize,
    /// Wall-clock budget for extracting one page.
    pub extract_timeout: HumanDuration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            channel_capacity: 64,
            extract_workers: 0,
            extract_timeout: secs(10),
        }
    }
}

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Everything wrong with a config file (never empty).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

/// 1-based line of byte offset `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// 1-based line of a key's value in config text: `section.key`, or `section[index].key`
/// for arrays of tables (`sink`, `feed`). For messages about values that carry no span.
pub fn value_line(text: &str, section: &str, index: Option<usize>, key: &str) -> Option<usize> {
    let (root, _) = toml::de::DeTable::parse_recoverable(text);
    let root = root.into_inner();
    let table = root.get(section)?;
    let table = match (table.get_ref(), index) {
        (toml::de::DeValue::Table(_), None) => table,
        (toml::de::DeValue::Array(array), Some(i)) => array.get(i)?,
        _ => return None,
    };
    let toml::de::DeValue::Table(table) = table.get_ref() else {
        return None;
    };
    table
        .get(key)
        .map(|value| line_of(text, value.span().start))
}

/// Byte offset where 1-based `line` starts in `text` (the end of the text past the last).
fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map_or(text.len(), |(at, _)| at + 1)
}

/// Most keys set aside in one table before giving up on it (bounds the retries).
const MAX_PROBLEMS_PER_TABLE: usize = 32;

/// Deserializes one value of the document; on a failure located on one key of a table,
/// reports it, drops that key and tries again, so every bad key of the table is reported.
/// Returns `None` when the value cannot be read at all (the problems are reported).
fn read_value<T: serde::de::DeserializeOwned>(
    mut value: Spanned<toml::de::DeValue<'_>>,
    report: &mut impl FnMut(Option<std::ops::Range<usize>>, String),
) -> Option<T> {
    let mut set_aside = 0;
    while set_aside < MAX_PROBLEMS_PER_TABLE {
        let error = match T::deserialize(toml::de::ValueDeserializer::from(value.clone())) {
            Ok(parsed) => return Some(parsed),
            Err(error) => error,
        };
        let at = error.span().map(|s| s.start);
        let on_a_key = |table: &toml::de::DeTable<'_>| {
            at.is_some_and(|at| {
                table
                    .iter()
                    .any(|(k, v)| k.span().contains(&at) || v.span().contains(&at))
            })
        };
        match (value.get_mut(), at) {
            (toml::de::DeValue::Table(table), Some(at)) if on_a_key(table) => {
                report(error.span(), error.message().trim().to_string());
                let entries = std::mem::replace(table, toml::map::Map::new());
                *table = entries
                    .into_iter()
                    .filter(|(k, v)| !(k.span().contains(&at) || v.span().contains(&at)))
                    .collect();
                set_aside += 1;
            }
            _ => {
                // A problem of the table as a whole (e.g. a missing key). After keys were
                // set aside it is most likely their consequence: already reported.
                if set_aside == 0 {
                    report(error.span(), error.message().trim().to_string());
                }
                return None;
            }
        }
    }
    None
}

/// Reads a section into `target`, leaving the default in place when it cannot be read.
fn read_section<T: serde::de::DeserializeOwned>(
    value: Spanned<toml::de::DeValue<'_>>,
    report: &mut impl FnMut(Option<std::ops::Range<usize>>, String),
    target: &mut T,
) {
    if let Some(parsed) = read_value(value, report) {
        *target = parsed;
    }
}

/// Reads an array of tables (`[[sink]]`, `[[feed]]`) element by element, keeping the
/// elements that can be read.
fn read_array<T: serde::de::DeserializeOwned>(
    value: Spanned<toml::de::DeValue<'_>>,
    report: &mut impl FnMut(Option<std::ops::Range<usize>>, String),
    name: &str,
) -> Vec<T> {
    let span = value.span();
    match value.into_inner() {
        toml::de::DeValue::Array(elements) => elements
            .into_iter()
            .filter_map(|element| read_value(element, report))
            .collect(),
        other => {
            report(
                Some(span),
                format!(
                    "`{name}` must be an array of tables ([[{name}]]), found {}",
                    other.type_str()
                ),
            );
            Vec::new()
        }
    }
}

impl Config {
    /// Reads and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            problems: vec![Problem {
                file: path.to_path_buf(),
                line: None,
                message: format!("cannot read config: {e}"),
            }],
        })?;
        // Every problem at once: the semantic checks also run on what could be read, so
        // a fix-and-retry loop does not reveal them one stage at a time.
        let (config, mut problems) = Self::parse_lenient(&text, path);
        problems.extend(config.problems(&text));
        problems.sort_by_key(|p| p.line.unwrap_or(0));
        problems.dedup();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Parses config text; `path` is only used for messages and relative paths. Fails
    /// with every syntax and type problem found (see [`Config::parse_lenient`]).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let (config, problems) = Self::parse_lenient(text, path);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Parses as much of the config text as can be read, and lists every syntax and type
    /// problem with its line instead of stopping at the first. Sections or array elements
    /// that cannot be read fall back to their defaults (or are left out), so the caller
    /// can still check the rest (`newswire validate`).
    ///
    /// Each top-level section and each `[[sink]]`/`[[feed]]` element is deserialized on
    /// its own from the spanned document; when one fails on a key, that key is set aside
    /// and the element is read again, so several bad keys in one table are all reported.
    pub fn parse_lenient(text: &str, path: &Path) -> (Config, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut report = |span: Option<std::ops::Range<usize>>, message: String| {
            problems.push(Problem {
                file: path.to_path_buf(),
                line: span.map(|s| line_of(text, s.start)),
                message,
            });
        };
        let (root, syntax_errors) = toml::de::DeTable::parse_recoverable(text);
        for error in syntax_errors {
            report(error.span(), error.message().trim().to_string());
        }
        let mut config = Config {
            state: StateConfig::default(),
            fetch: FetchConfig::default(),
            sinks: Vec::new(),
            feeds: Vec::new(),
            feeds_opml: None,
            dedup: DedupConfig::default(),
            metrics: MetricsConfig::default(),
            pipeline: PipelineConfig::default(),
            base_dir: PathBuf::new(),
            source: path.to_path_buf(),
        };
        for (key, value) in root.into_inner() {
            let name = key.get_ref().as_ref();
            match name {
                "state" => read_section(value, &mut report, &mut config.state),
                "fetch" => read_section(value, &mut report, &mut config.fetch),
                "dedup" => read_section(value, &mut report, &mut config.dedup),
                "metrics" => read_section(value, &mut report, &mut config.metrics),
                "pipeline" => read_section(value, &mut report, &mut config.pipeline),
                "feeds_opml" => {
                    let mut opml: Option<Spanned<String>> = None;
                    read_section(value, &mut report, &mut opml);
                    config.feeds_opml = opml;
                }
                "sink" => config.sinks = read_array(value, &mut report, "sink"),
                "feed" => config.feeds = read_array(value, &mut report, "feed"),
                other => report(
                    Some(key.span()),
                    format!(
                        "unknown key `{other}`, expected one of `state`, `fetch`, `sink`, `feed`, `feeds_opml`, `dedup`, `metrics`, `pipeline`"
                    ),
                ),
            }
        }
        problems.sort_by_key(|p| p.line.unwrap_or(0));
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if config.base_dir.as_os_str().is_empty() {
            config.base_dir = PathBuf::from(".");
        }
        (config, problems)
    }

    /// Semantic problems that serde cannot see, all of them. `text` is the file's text,
    /// used to turn spans into lines.
    pub fn problems(&self, text: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut at = |span: Option<std::ops::Range<usize>>, message: String| {
            problems.push(Problem {
                file: self.source.clone(),
                line: span.map(|s| line_of(text, s.start)),
                message,
            });
        };
        // Values read through serde carry no span: find the key's line in the text, and
        // express it as a span so that `at` takes both kinds.
        let key = |section: &str, key: &str| {
            value_line(text, section, None, key).map(|line| {
                let start = line_start(text, line);
                start..start
            })
        };
        let fetch = &self.fetch;
        if fetch.concurrency == 0 {
            at(
                key("fetch", "concurrency"),
                "fetch.concurrency must be at least 1".into(),
            );
        }
        if fetch.per_host_concurrency == 0 {
            at(
                key("fetch", "per_host_concurrency"),
                "fetch.per_host_concurrency must be at least 1".into(),
            );
        }
        if fetch.min_interval > fetch.max_interval {
            at(
                key("fetch", "min_interval").or_else(|| key("fetch", "max_interval")),
                format!(
                    "fetch.min_interval ({}) is longer than fetch.max_interval ({})",
                    fetch.min_interval, fetch.max_interval
                ),
            );
        }
        if fetch.max_body_bytes == 0 {
            at(
                key("fetch", "max_body_bytes"),
                "fetch.max_body_bytes must be positive".into(),
            );
        }
        if let Some(listen) = &self.metrics.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            at(
                key("metrics", "listen"),
                format!(
                    "metrics.listen {listen:?} is not an address:port (e.g. \"127.0.0.1:9464\")"
                ),
            );
        }
        if self.pipeline.channel_capacity == 0 {
            at(
                key("pipeline", "channel_capacity"),
                "pipeline.channel_capacity must be at least 1".into(),
            );
        }
        if self.dedup.max_hamming_distance > 32 {
            // Unrelated texts are about 32 bits apart: beyond that everything matches.
            at(
                key("dedup", "max_hamming_distance"),
                format!(
                    "dedup.max_hamming_distance = {} would mark unrelated articles as duplicates (use 0..=32; default 20)",
                    self.dedup.max_hamming_distance
                ),
            );
        }
        if self.state.retention.0.is_zero() {
            at(
                key("state", "retention"),
                "state.retention must be positive: with 0 every article would be emitted again on every poll".into(),
            );
        }

        let mut sink_names = std::collections::HashSet::new();
        for sink in &self.sinks {
            let span = Some(sink.kind.span());
            if !sink_names.insert(sink.state_name()) {
                at(
                    span.clone(),
                    format!("sink {:?} is configured twice", sink.state_name()),
                );
            }
            let file_keys = sink.path.is_some()
                || sink.flush_records.is_some()
                || sink.flush_interval.is_some()
                || sink.rotate_bytes.is_some()
                || sink.rotate_interval.is_some()
                || sink.compress.is_some();
            let nats_keys = sink.url.is_some() || sink.stream.is_some() || sink.subject.is_some();
            match sink.kind.get_ref() {
                SinkKind::Jsonl => {
                    match &sink.path {
                        None => at(
                            span.clone(),
                            "sink.path is required for a jsonl sink".into(),
                        ),
                        Some(p) if p.get_ref().trim().is_empty() => {
                            at(Some(p.span()), "sink.path is empty".into())
                        }
                        Some(_) => {}
                    }
                    if nats_keys {
                        at(
                            span.clone(),
                            "sink.url/stream/subject only apply to a nats sink".into(),
                        );
                    }
                    if sink.flush_records == Some(0) {
                        at(span.clone(), "sink.flush_records must be at least 1".into());
                    }
                    if sink.rotate_bytes == Some(0) {
                        at(span, "sink.rotate_bytes must be positive".into());
                    }
                }
                SinkKind::Stdout => {
                    if file_keys || nats_keys {
                        at(
                            span,
                            "a stdout sink takes no path, rotation or nats keys".into(),
                        );
                    }
                }
                SinkKind::Nats => {
                    if sink.url.is_none() {
                        at(
                            span.clone(),
                            "sink.url is required for a nats sink (e.g. \"nats://127.0.0.1:4222\")"
                                .into(),
                        );
                    }
                    if file_keys {
                        at(
                            span,
                            "sink.path/flush/rotate/compress only apply to a jsonl sink".into(),
                        );
                    }
                }
            }
        }

        let mut seen = std::collections::HashMap::new();
        for feed in &self.feeds {
            match self.feed_url(feed.url.get_ref()) {
                Ok(url) => {
                    if let Some(first_line) =
                        seen.insert(url.to_string(), line_of(text, feed.url.span().start))
                    {
                        at(
                            Some(feed.url.span()),
                            format!("feed {url} is listed twice (first on line {first_line})"),
                        );
                    }
                }
                Err(message) => at(Some(feed.url.span()), message),
            }
        }
        problems
    }

    /// Resolves a feed `url` value: an absolute http(s)/file URL, or a path relative to
    /// the config file.
    pub fn feed_url(&self, raw: &str) -> Result<Url, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("feed.url is empty".into());
        }
        match Url::parse(raw) {
            Ok(url) => match url.scheme() {
                "http" | "https" | "file" => Ok(url),
                other => Err(format!(
                    "feed.url {raw:?}: scheme {other:?} is not supported (use http, https or file)"
                )),
            },
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let path = self.resolve_path(raw);
                let absolute = std::path::absolute(&path).unwrap_or(path);
                Url::from_file_path(&absolute)
                    .map_err(|()| format!("feed.url {raw:?}: not a usable file path"))
            }
            Err(e) => Err(format!("feed.url {raw:?}: {e}")),
        }
    }

    /// `path` resolved against the config file's directory (absolute paths unchanged).
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The state location: a resolved file path, or `:memory:` / the `nats://` URL unchanged.
    pub fn state_location(&self) -> String {
        if self.state.path.starts_with("nats://") || self.state.path == ":memory:" {
            self.state.path.clone()
        } else {
            self.resolve_path(&self.state.path)
                .to_string_lossy()
                .into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let c = Config::parse(text, Path::new("/etc/newswire/test.toml"))?;
        let problems = c.problems(text);
        if problems.is_empty() {
            Ok(c)
        } else {
            Err(ConfigError { problems })
        }
    }

    #[test]
    fn defaults_match_the_design() {
        let c = parse("").unwrap();
        assert_eq!(c.fetch.concurrency, 64);
        assert_eq!(c.fetch.per_host_concurrency, 2);
        assert_eq!(c.fetch.per_host_min_delay.0, Duration::from_millis(250));
        assert_eq!(c.fetch.max_redirects, 10);
        assert!(c.fetch.respect_robots_txt);
        assert!(c.fetch.user_agent.starts_with("newswire/"));
        assert_eq!(c.state.retention.0, Duration::from_secs(90 * 86400));
        assert_eq!(c.state_location(), "/etc/newswire/var/newswire.db");
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            r#"
[state]
path = "/var/lib/newswire/state.db"
[fetch]
per_host_min_delay = "1s"
allow_private_networks = ["127.0.0.1/32", "::1/128"]
[[sink]]
type = "jsonl"
path = "out/records-{date}-{seq}.jsonl"
rotate_bytes = 1000000
compress = "zstd"
[[sink]]
type = "stdout"
[[feed]]
url = "https://www.dw.com/rss/rss-en-all"
name = "DW"
interval = "10m"
tags = ["europe"]
[[feed]]
url = "feeds/local.xml"
"#,
        )
        .unwrap();
        assert_eq!(c.sinks.len(), 2);
        assert_eq!(*c.sinks[0].kind.get_ref(), SinkKind::Jsonl);
        assert_eq!(
            c.feeds[0].interval,
            Some(HumanDuration(Duration::from_secs(600)))
        );
        assert_eq!(
            c.feed_url(c.feeds[1].url.get_ref()).unwrap().as_str(),
            "file:///etc/newswire/feeds/local.xml"
        );
        assert_eq!(c.fetch.allow_private_networks.len(), 2);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("[fetch]\nconcurrency = 3\ncuncurrency = 4\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("test.toml:3"), "{text}");
        assert!(text.contains("cuncurrency"), "{text}");
    }

    #[test]
    fn bad_duration_names_value_and_line() {
        let err = parse("[fetch]\n\ntimeout = \"soon\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("test.toml:3"), "{text}");
        assert!(text.contains("soon"), "{text}");
    }

    #[test]
    fn dedup_threshold_and_retention_are_checked() {
        let err =
            parse("[state]\nretention = \"0s\"\n[dedup]\nmax_hamming_distance = 80\n").unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("test.toml:4") && text.contains("max_hamming_distance"),
            "{text}"
        );
        assert!(
            text.contains("test.toml:2") && text.contains("retention"),
            "{text}"
        );
    }

    #[test]
    fn semantic_problems_are_all_reported() {
        let err = parse(
            "[[sink]]\ntype = \"jsonl\"\n\n[[feed]]\nurl = \"https://a.example/rss\"\n[[feed]]\nurl = \"https://a.example/rss\"\n[[feed]]\nurl = \"gopher://x\"\n",
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert_eq!(err.problems[0].line, Some(2));
        assert_eq!(err.problems[1].line, Some(7));
        assert_eq!(err.problems[2].line, Some(9));
    }

    #[test]
    fn semantic_problems_of_plain_values_have_lines() {
        let err = parse(
            "[fetch]\nconcurrency = 0\nmin_interval = \"2h\"\nmax_interval = \"1h\"\nmax_body_bytes = 0\n\n[metrics]\nlisten = \"localhost\"\n\n[pipeline]\nchannel_capacity = 0\n",
        )
        .unwrap_err();
        let lines: Vec<Option<usize>> = err.problems.iter().map(|p| p.line).collect();
        assert_eq!(
            lines,
            [Some(2), Some(3), Some(5), Some(8), Some(11)],
            "{err}"
        );
    }

    #[test]
    fn load_reports_type_and_semantic_problems_together() {
        // No tempfile dependency in this crate: a name unique to this process will do.
        let path =
            std::env::temp_dir().join(format!("newswire-config-load-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "[fetch]\nconcurrency = 0\ntimeout = \"soon\"\n\n[[feed]]\nurl = \"gopher://x\"\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err();
        let _ = std::fs::remove_file(&path);
        let lines: Vec<Option<usize>> = err.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(2), Some(3), Some(6)], "{err}");
    }

    #[test]
    fn line_starts_are_found() {
        let text = "a\nbb\nccc";
        assert_eq!(line_start(text, 1), 0);
        assert_eq!(line_start(text, 2), 2);
        assert_eq!(line_start(text, 3), 5);
        assert_eq!(line_start(text, 9), text.len());
    }

    #[test]
    fn every_type_problem_is_reported_with_its_line() {
        let err = parse(
            "[fetch]\ncuncurrency = 4\ntimeout = \"soon\"\n\n[[feed]]\nurl = \"https://a.example/rss\"\ninterval = \"often\"\n\n[[feed]]\nurl = \"https://b.example/rss\"\n\n[bogus]\nx = 1\n",
        )
        .unwrap_err();
        let lines: Vec<Option<usize>> = err.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(2), Some(3), Some(7), Some(12)], "{err}");
        let text = err.to_string();
        assert!(
            text.contains("cuncurrency")
                && text.contains("soon")
                && text.contains("often")
                && text.contains("bogus"),
            "{text}"
        );
    }

    #[test]
    fn readable_parts_survive_a_bad_element() {
        let (config, problems) = Config::parse_lenient(
            "[[feed]]\nurl = \"https://a.example/rss\"\n[[feed]]\nurl = 5\n[[feed]]\nurl = \"https://c.example/rss\"\n",
            Path::new("/etc/newswire/test.toml"),
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, Some(4));
        assert_eq!(config.feeds.len(), 2);
    }

    #[test]
    fn value_lines_are_found() {
        let text = "[state]\n\npath = \"x.db\"\n[[sink]]\ntype = \"stdout\"\n[[sink]]\ntype = \"jsonl\"\npath = \"a\"\n";
        assert_eq!(value_line(text, "state", None, "path"), Some(3));
        assert_eq!(value_line(text, "sink", Some(1), "path"), Some(8));
        assert_eq!(value_line(text, "sink", Some(0), "path"), None);
    }

    #[test]
    fn syntax_errors_have_lines() {
        let err = parse("[fetch]\nconcurrency = \n").unwrap_err();
        assert_eq!(err.problems[0].line, Some(2), "{err}");
    }

    #[test]
    fn bad_sink_type_is_an_error() {
        let err = parse("[[sink]]\ntype = \"kafka\"\n").unwrap_err();
        assert!(err.to_string().contains(":2"), "{err}");
    }
}
