//! Reading the config file from disk and applying the command-line overrides
//! (`--output -`, `--state PATH`). The config's types, parsing and checks live in
//! `newswire_core::config`; this is the only place that touches the file.

use std::path::Path;

use anyhow::Context as _;
use newswire_core::config::{Config, ConfigError, FetchConfig, Problem, SinkConfig, SinkKind};

use crate::exit::Failure;

/// Reads and checks the config file at `path`: every syntax, type and semantic problem
/// at once, each with the file and line.
pub fn read(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        problems: vec![Problem {
            file: path.to_path_buf(),
            line: None,
            message: format!("cannot read config: {e}"),
        }],
    })?;
    Config::from_text(&text, path)
}

/// The text of the config file at `path`, for commands that check it themselves.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read config", path.display()))
        .map_err(Failure::Usage)
}

/// What the command line changes in a config (`newswire run` flags).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--output`: `-` replaces the configured sinks with stdout.
    pub output: Option<String>,
    /// `--state`: replaces `[state] path` (relative to the working directory).
    pub state: Option<String>,
    /// Fault injection for tests: every JSONL sink behaves as if its disk had this many
    /// bytes (see `JsonlSinkConfig::simulated_disk_capacity`).
    pub simulated_disk_capacity: Option<u64>,
}

/// Loads the config and applies the command-line overrides.
pub fn load_config(path: &Path, overrides: &Overrides) -> Result<Config, Failure> {
    let mut config = read(path).map_err(|e| Failure::Usage(e.into()))?;
    let state = overrides.state.as_deref();
    match overrides.output.as_deref() {
        None => {}
        Some("-") => {
            if config.sinks.iter().any(|s| s.kind() != SinkKind::Stdout)
                && config.state_location() != ":memory:"
                && state.is_none()
            {
                tracing::warn!(
                    state = %config.state_location(),
                    "--output - replaces the configured sinks: records printed now are marked emitted in this state and will not reach those sinks later (add --state for a separate state)"
                );
            }
            config.sinks = vec![SinkConfig::stdout()];
        }
        Some(other) => {
            return Err(Failure::Usage(anyhow::anyhow!(
                "--output {other:?}: only \"-\" (stdout) is supported"
            )));
        }
    }
    if let Some(state) = state {
        config.state.path = state.to_string();
        // A command-line path is relative to the working directory, not the config.
        if !state.starts_with("nats://") && state != ":memory:" {
            config.state.path = std::path::absolute(state)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| state.to_string());
        }
    }
    if config.sinks.is_empty() {
        config.sinks = vec![SinkConfig::stdout()];
    }
    with_worker_paths(&mut config)?;
    if let Some(capacity) = overrides.simulated_disk_capacity {
        for sink in &mut config.sinks {
            if let SinkConfig::Jsonl(jsonl) = sink {
                jsonl.simulated_disk_capacity = Some(capacity);
            }
        }
    }
    Ok(config)
}

/// JSONL paths with `{worker}`: one file set per cluster worker, named after
/// `cluster.worker_id` (give workers stable ids so a restarted worker finds its own files
/// and committed positions again). Outside cluster mode `{worker}` is an error.
fn with_worker_paths(config: &mut Config) -> Result<(), Failure> {
    let worker = config.cluster.as_ref().map(|cluster| {
        // A file-name-safe form of the id (host names and pids are, custom ids may not be).
        cluster
            .worker_id()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    });
    for sink in &mut config.sinks {
        if let SinkConfig::Jsonl(jsonl) = sink
            && jsonl.path.contains("{worker}")
        {
            let Some(worker) = &worker else {
                return Err(Failure::Usage(anyhow::anyhow!(
                    "sink path {:?}: {{worker}} needs a [cluster] section (it names the cluster worker)",
                    jsonl.path
                )));
            };
            jsonl.path = jsonl.path.replace("{worker}", worker);
        }
    }
    Ok(())
}

/// The `[fetch]` settings of `config`, or the defaults without one.
pub fn fetch_config(config: Option<&Path>) -> Result<FetchConfig, Failure> {
    match config {
        Some(path) => Ok(read(path).map_err(|e| Failure::Usage(e.into()))?.fetch),
        None => Ok(FetchConfig::default()),
    }
}
