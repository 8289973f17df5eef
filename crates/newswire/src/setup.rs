//! Command implementations behind the CLI: turning flags and config into a running
//! pipeline, and the small one-shot commands (`extract`, `validate`, `state stats`).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use newswire_core::config::{Config, SinkConfig};
use newswire_core::{canonical::canonicalize, ids};
use newswire_extractor::FeedHints;
use newswire_fetcher::{Fetcher, PageOutcome, PagePolicy};
use newswire_state::{SqliteState, StateError, StateStore};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::pipeline::{self, FeedSpec};

/// Why a command failed, which decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad flags, bad config, bad input: exit 1.
    Usage(anyhow::Error),
    /// The state or a sink failed: exit 2.
    Runtime(anyhow::Error),
    /// Another process holds the state: exit 75 (EX_TEMPFAIL; cron may retry later).
    Locked(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 1,
            Failure::Runtime(_) => 2,
            Failure::Locked(_) => 75,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(e) | Failure::Runtime(e) | Failure::Locked(e) => write!(f, "{e:#}"),
        }
    }
}

/// Flags of `newswire run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The config file.
    #[arg(long, env = "NEWSWIRE_CONFIG")]
    pub config: PathBuf,
    /// One pass over all feeds, then exit (for cron).
    #[arg(long)]
    pub once: bool,
    /// `-` replaces the configured sinks with stdout.
    #[arg(long)]
    pub output: Option<String>,
    /// Overrides `[state] path`.
    #[arg(long)]
    pub state: Option<String>,
}

/// Subcommands of `newswire state`.
#[derive(clap::Subcommand, Debug)]
pub enum StateCommand {
    /// Counts and sizes of what the state holds.
    Stats {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The state file (instead of the config's).
        #[arg(long)]
        state: Option<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Loads the config and applies the command-line overrides.
fn load_config(path: &Path, output: Option<&str>, state: Option<&str>) -> Result<Config, Failure> {
    let mut config = Config::load(path).map_err(|e| Failure::Usage(e.into()))?;
    match output {
        None => {}
        Some("-") => config.sinks = vec![SinkConfig::stdout()],
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
    Ok(config)
}

/// The feeds of a config, resolved (OPML outlines included).
pub fn feed_specs(config: &Config) -> Result<Vec<FeedSpec>, Failure> {
    let mut specs = Vec::new();
    for feed in &config.feeds {
        let url = config
            .feed_url(feed.url.get_ref())
            .map_err(|m| Failure::Usage(anyhow::anyhow!("{}: {m}", config.source.display())))?;
        specs.push(FeedSpec {
            url,
            name: feed.name.clone(),
            interval: feed.interval.map(|d| d.0),
            tags: feed.tags.clone(),
            respect_robots_txt: feed
                .respect_robots_txt
                .unwrap_or(config.fetch.respect_robots_txt),
        });
    }
    Ok(specs)
}

fn open_state(location: &str) -> Result<SqliteState, Failure> {
    if location.starts_with("nats://") {
        return Err(Failure::Usage(anyhow::anyhow!(
            "state {location}: the NATS KV state store is not available in this build; use a file path"
        )));
    }
    SqliteState::open(location).map_err(|e| match e {
        StateError::Locked { .. } => Failure::Locked(e.into()),
        other => Failure::Runtime(other.into()),
    })
}

/// `newswire run`.
pub async fn run(args: RunArgs) -> Result<(), Failure> {
    let config = load_config(&args.config, args.output.as_deref(), args.state.as_deref())?;
    let feeds = feed_specs(&config)?;
    let store = open_state(&config.state_location())?;
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone());
    tracing::info!(feeds = feeds.len(), once = args.once, state = %config.state_location(), "starting");
    let stats = pipeline::run(config, feeds, Box::new(store), args.once, shutdown)
        .await
        .map_err(Failure::Runtime)?;
    eprintln!("{}", stats.summary_line());
    Ok(())
}

/// SIGINT/SIGTERM cancel the pipeline (which then drains); a second signal exits at once.
fn spawn_signal_handler(shutdown: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                tracing::error!("cannot install signal handlers");
                return;
            };
            for round in 0..2 {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                }
                if round == 0 {
                    tracing::info!("signal received: draining (send it again to exit at once)");
                    shutdown.cancel();
                } else {
                    tracing::warn!("second signal: exiting without draining");
                    std::process::exit(130);
                }
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_ok() {
                shutdown.cancel();
            }
        }
    });
}

/// `newswire extract FILE_OR_URL [--url URL]`.
pub async fn extract(
    target: &str,
    url: Option<&str>,
    config: Option<&Path>,
) -> Result<(), Failure> {
    let fetch = match config {
        Some(path) => {
            Config::load(path)
                .map_err(|e| Failure::Usage(e.into()))?
                .fetch
        }
        None => Default::default(),
    };
    let given_url = url
        .map(|u| Url::parse(u).with_context(|| format!("--url {u:?} is not a valid URL")))
        .transpose()
        .map_err(Failure::Usage)?;
    let (html, page_url) = match Url::parse(target) {
        Ok(remote) if matches!(remote.scheme(), "http" | "https") => {
            let fetcher = Fetcher::new(&fetch).map_err(|e| Failure::Runtime(e.into()))?;
            let policy = PagePolicy {
                respect_robots_txt: fetch.respect_robots_txt,
                allow_file_under: None,
            };
            match fetcher
                .fetch_page(&remote, &policy)
                .await
                .map_err(|e| Failure::Usage(e.into()))?
            {
                PageOutcome::Html { final_url, html } => (html, final_url),
                PageOutcome::NotHtml {
                    final_url,
                    content_type,
                } => {
                    return Err(Failure::Usage(anyhow::anyhow!(
                        "{final_url}: not an HTML page ({content_type})"
                    )));
                }
            }
        }
        _ => {
            let path = PathBuf::from(target);
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read {}", path.display()))
                .map_err(Failure::Usage)?;
            let html = newswire_fetcher::charset::decode(
                &bytes,
                None,
                newswire_fetcher::charset::DocumentKind::Html,
                None,
            )
            .text;
            let file_url = std::path::absolute(&path)
                .ok()
                .and_then(|p| Url::from_file_path(p).ok());
            let page_url = given_url.clone().or(file_url).ok_or_else(|| {
                Failure::Usage(anyhow::anyhow!(
                    "{target}: cannot make a URL of this path; pass --url"
                ))
            })?;
            (html, page_url)
        }
    };
    let page_url = given_url.unwrap_or(page_url);
    let hints = FeedHints::default();
    let article = tokio::task::spawn_blocking({
        let page_url = page_url.clone();
        move || newswire_extractor::extract(&html, Some(&page_url), &hints)
    })
    .await
    .map_err(|e| Failure::Runtime(e.into()))?;
    let id = ids::record_id_for_url(&canonicalize(&page_url));
    let record = pipeline::build_record(
        &id,
        &page_url,
        None,
        None,
        None,
        None,
        Some(&page_url),
        &[],
        &FeedHints::default(),
        article,
    );
    let line = serde_json::to_string(&record).map_err(|e| Failure::Runtime(e.into()))?;
    println!("{line}");
    Ok(())
}

/// `newswire validate --config FILE`.
pub fn validate(path: &Path) -> Result<(), Failure> {
    let config = Config::load(path).map_err(|e| Failure::Usage(e.into()))?;
    let feeds = feed_specs(&config)?;
    let mut problems = Vec::new();
    for feed in &feeds {
        if let Ok(file) = feed.url.to_file_path()
            && !file.exists()
        {
            problems.push(format!(
                "{}: feed file {} does not exist",
                path.display(),
                file.display()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Usage(anyhow::anyhow!(problems.join("\n"))));
    }
    println!(
        "{}: ok ({} feeds, {} sinks)",
        path.display(),
        feeds.len(),
        config.sinks.len().max(1)
    );
    Ok(())
}

/// `newswire state stats`.
pub fn state_command(command: &StateCommand) -> Result<(), Failure> {
    match command {
        StateCommand::Stats {
            config,
            state,
            json,
        } => {
            let location = match (state, config) {
                (Some(state), _) => state.clone(),
                (None, Some(config)) => load_config(config, None, None)?.state_location(),
                (None, None) => {
                    return Err(Failure::Usage(anyhow::anyhow!(
                        "give --config FILE or --state PATH"
                    )));
                }
            };
            let store =
                SqliteState::open_read_only(&location).map_err(|e| Failure::Runtime(e.into()))?;
            let stats = store.stats().map_err(|e| Failure::Runtime(e.into()))?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string(&stats).map_err(|e| Failure::Runtime(e.into()))?
                );
            } else {
                println!("state           {location}");
                println!("feeds           {}", stats.feeds);
                println!("emitted records {}", stats.emitted_records);
                println!("simhashes       {}", stats.simhashes);
                println!("sinks           {}", stats.sinks);
                println!("file bytes      {}", stats.file_bytes);
            }
            Ok(())
        }
    }
}
