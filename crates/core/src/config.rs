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

use crate::cluster_config::ClusterConfig;

mod lenient;
mod sink;

pub use lenient::{line_of, value_line};
use lenient::{line_start, read_array, read_section, read_value};
pub use sink::{
    Compression, DEFAULT_NATS_SUBJECT, Discard, JsonlSinkConfig, NatsSinkConfig, SinkConfig,
    SinkKind, StdoutSinkConfig,
};

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
    /// `[cluster]`: absent for a single worker; set, the feeds are sharded over the
    /// workers that share its NATS (see [`crate::cluster_config`]).
    #[serde(default)]
    pub cluster: Option<ClusterConfig>,
    #[serde(default)]
    pub stories: StoriesConfig,
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
    /// With `nats://` state: prefix of the KV bucket names, so that several newswire
    /// installations can share one NATS (letters, digits, `-`, `_`).
    #[serde(default = "default_state_namespace")]
    pub namespace: String,
}

fn default_state_namespace() -> String {
    "newswire".into()
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
            namespace: default_state_namespace(),
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
    /// Most new entries taken from one poll of a feed; the rest wait for the next poll
    /// (so one hostile feed cannot queue 100,000 page fetches).
    pub max_entries_per_poll: usize,
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
            max_entries_per_poll: 500,
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

/// Each extraction worker is an OS thread with its own stack and its own page and DOM in
/// memory: a typo (`extract_workers = 20000`) must not start thousands of them.
pub const MAX_EXTRACT_WORKERS: usize = 256;

/// `[pipeline]`: internal sizing; the defaults suit most installations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Capacity of every channel between stages.
    pub channel_capacity: usize,
    /// Pages extracted at once; 0 means one per core plus one; at most
    /// [`MAX_EXTRACT_WORKERS`].
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

/// `[stories]`: story clustering, places and actors (the `story`, `places`, `countries`,
/// `actors` record fields and the `newswire.story/1` lines). Off by default: story lines
/// are a second kind of line in the sinks, which readers of records must tell apart by
/// `schema`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoriesConfig {
    pub enabled: bool,
    /// A story's line is written at most once per this interval (when it changed).
    pub story_line_interval: HumanDuration,
    /// A story takes no report published more than this long after its first one.
    pub window: HumanDuration,
    /// The clusterer's state is saved to the state store at most this often (and at exit).
    pub checkpoint_interval: HumanDuration,
}

impl Default for StoriesConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            story_line_interval: secs(300),
            window: secs(7 * 86_400),
            checkpoint_interval: secs(60),
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

impl Config {
    /// Parses and checks config text: every syntax, type and semantic problem at once,
    /// each with its line. `path` names the file in messages and is the base of relative
    /// paths; reading the file is the caller's business.
    pub fn from_text(text: &str, path: &Path) -> Result<Config, ConfigError> {
        // The semantic checks also run on what could be read, so a fix-and-retry loop
        // does not reveal the problems one stage at a time.
        let (config, mut problems) = Self::parse_lenient(text, path);
        problems.extend(config.problems(text));
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
            cluster: None,
            stories: StoriesConfig::default(),
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
                "cluster" => read_section(value, &mut report, &mut config.cluster),
                "stories" => read_section(value, &mut report, &mut config.stories),
                "feeds_opml" => {
                    let mut opml: Option<Spanned<String>> = None;
                    read_section(value, &mut report, &mut opml);
                    config.feeds_opml = opml;
                }
                "sink" => config.sinks = read_array(value, &mut report, "sink", sink::read_sink),
                "feed" => config.feeds = read_array(value, &mut report, "feed", read_value),
                other => report(
                    Some(key.span()),
                    format!(
                        "unknown key `{other}`, expected one of `state`, `fetch`, `sink`, `feed`, `feeds_opml`, `dedup`, `metrics`, `pipeline`, `stories`, `cluster`"
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
        // Plain range checks: (wrong, section, key, message).
        let fetch = &self.fetch;
        let range_checks = [
            (fetch.concurrency == 0, "fetch", "concurrency", "fetch.concurrency must be at least 1".to_string()),
            (fetch.per_host_concurrency == 0, "fetch", "per_host_concurrency", "fetch.per_host_concurrency must be at least 1".into()),
            (fetch.max_entries_per_poll == 0, "fetch", "max_entries_per_poll", "fetch.max_entries_per_poll must be at least 1".into()),
            (fetch.max_body_bytes == 0, "fetch", "max_body_bytes", "fetch.max_body_bytes must be positive".into()),
            (self.pipeline.channel_capacity == 0, "pipeline", "channel_capacity", "pipeline.channel_capacity must be at least 1".into()),
            (
                self.pipeline.extract_workers > MAX_EXTRACT_WORKERS,
                "pipeline",
                "extract_workers",
                format!("pipeline.extract_workers = {} is more than {MAX_EXTRACT_WORKERS} (0 = one per core, plus one)", self.pipeline.extract_workers),
            ),
            (
                // Unrelated texts are about 32 bits apart: beyond that everything matches.
                self.dedup.max_hamming_distance > 32,
                "dedup",
                "max_hamming_distance",
                format!("dedup.max_hamming_distance = {} would mark unrelated articles as duplicates (use 0..=32; default 20)", self.dedup.max_hamming_distance),
            ),
            (
                self.state.retention.0.is_zero(),
                "state",
                "retention",
                "state.retention must be positive: with 0 every article would be emitted again on every poll".into(),
            ),
        ];
        for (wrong, section, name, message) in range_checks {
            if wrong {
                at(key(section, name), message);
            }
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
        let namespace = &self.state.namespace;
        if namespace.is_empty()
            || !namespace
                .chars()
                .all(crate::cluster_config::is_worker_id_char)
        {
            at(
                key("state", "namespace"),
                format!("state.namespace {namespace:?} may only use letters, digits, '-' and '_'"),
            );
        }
        if let Some(cluster) = &self.cluster {
            // Problems of keys left at their default point at the section header.
            let cluster_header = || {
                text.lines()
                    .position(|l| l.trim() == "[cluster]")
                    .map(|i| line_start(text, i + 1))
                    .map(|start| start..start)
            };
            for problem in cluster.problems() {
                let name = problem.key.trim_start_matches("cluster.");
                at(
                    key("cluster", name).or_else(cluster_header),
                    problem.message,
                );
            }
            if !self.state.path.starts_with("nats://") {
                // Workers on separate SQLite files would each re-emit what the others did.
                at(
                    key("state", "path").or_else(cluster_header),
                    format!(
                        "[cluster] needs shared state: set [state] path = \"nats://…\" (now {:?})",
                        self.state.path
                    ),
                );
            }
        }

        sink::sink_problems(&self.sinks, |index, name, message| {
            let place = value_line(text, "sink", Some(index), name)
                .or_else(|| value_line(text, "sink", Some(index), "type"))
                .map(|line| {
                    let start = line_start(text, line);
                    start..start
                });
            at(place, message);
        });

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
        Config::from_text(text, Path::new("/etc/newswire/test.toml"))
    }

    #[test]
    fn cluster_section_is_optional_and_checked_with_lines() {
        let single = parse("").unwrap();
        assert!(single.cluster.is_none());
        assert_eq!(single.state.namespace, "newswire");
        let c = parse(
            "[state]\npath = \"nats://127.0.0.1:4222\"\nnamespace = \"nw_a\"\n\n[cluster]\nnats_url = \"nats://127.0.0.1:4222\"\nshards = 16\nlease_ttl = \"3s\"\n",
        )
        .unwrap();
        let cluster = c.cluster.as_ref().map(|c| (c.shards, c.lease_ttl.0));
        assert_eq!(cluster, Some((16, Duration::from_secs(3))));
        assert_eq!(c.state.namespace, "nw_a");
        let err = parse(
            "[state]\npath = \"nats://h:4222\"\nnamespace = \"a b\"\n[cluster]\nnats_url = \"nats://h:4222\"\nshards = 0\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("test.toml:3: state.namespace"), "{err}");
        assert!(err.contains("test.toml:6: cluster.shards"), "{err}");
        // Workers on their own SQLite files would each emit everything again.
        let err = parse("[cluster]\nnats_url = \"nats://h:4222\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test.toml:1: [cluster] needs shared state"),
            "{err}"
        );
        let err = parse("[cluster]\nnats_url = \"nats://h:4222\"\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test.toml:3:") && err.contains("bogus"),
            "{err}"
        );
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
        assert_eq!(c.sinks[0].kind(), SinkKind::Jsonl);
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
    fn from_text_reports_type_and_semantic_problems_together() {
        let err = Config::from_text(
            "[fetch]\nconcurrency = 0\ntimeout = \"soon\"\n\n[[feed]]\nurl = \"gopher://x\"\n",
            Path::new("/etc/newswire/test.toml"),
        )
        .unwrap_err();
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

    #[test]
    fn a_key_of_another_sink_kind_is_an_error_on_its_line() {
        let err = parse(
            "[[sink]]\ntype = \"nats\"\nurl = \"nats://127.0.0.1:4222\"\npath = \"out.jsonl\"\n",
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("test.toml:4") && text.contains("path"),
            "{text}"
        );
        let err = parse("[[sink]]\ntype = \"stdout\"\n\nrotate_bytes = 5\n").unwrap_err();
        assert!(err.to_string().contains("test.toml:4"), "{err}");
    }

    #[test]
    fn a_missing_sink_key_is_reported_on_the_type_line() {
        let err = parse("[[sink]]\nname = \"x\"\ntype = \"jsonl\"\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("test.toml:3") && text.contains("`path`"),
            "{text}"
        );
        let err =
            parse("[[sink]]\ntype = \"jsonl\"\npath = \"a\"\nflush_records = 0\n").unwrap_err();
        assert!(err.to_string().contains("test.toml:4"), "{err}");
    }

    #[test]
    fn sinks_are_an_internally_tagged_enum_for_serde_too() {
        let sink: SinkConfig =
            toml::from_str("type = \"nats\"\nurl = \"nats://h:4222\"\nstream = \"S\"\n").unwrap();
        assert_eq!(sink.kind(), SinkKind::Nats);
        assert_eq!(sink.state_name(), "nats:S");
        assert!(toml::from_str::<SinkConfig>("type = \"stdout\"\npath = \"x\"\n").is_err());
    }
}
