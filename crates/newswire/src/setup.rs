//! Command implementations behind the CLI: turning flags and config into a running
//! pipeline, and the small one-shot commands (`extract`, `validate`, `state stats`).

use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use newswire_core::config::{
    Config, FetchConfig, Problem, SinkConfig, SinkKind, line_of, value_line,
};
use newswire_extractor::FeedHints;
use newswire_fetcher::{Fetcher, PageOutcome, PagePolicy};
use newswire_state::{SqliteState, StateError, StateStore};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::metrics::{self as m, Health};
use crate::pipeline::{self, Controls, FeedSpec, Stats};
use crate::progress::Progress;
use crate::report::{self, Report};

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
    /// No progress display (it only appears with --once on a terminal anyway).
    #[arg(long, short)]
    pub quiet: bool,
    /// Writes a JSON summary of the run (per feed: status, new records, error) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
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
        Some("-") => {
            if config
                .sinks
                .iter()
                .any(|s| *s.kind.get_ref() != SinkKind::Stdout)
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
    Ok(config)
}

/// The feeds of a config, resolved: the `[[feed]]` entries, then the `feeds_opml`
/// outlines that are not already listed (a `[[feed]]` entry wins over an outline).
pub fn feed_specs(config: &Config) -> Result<Vec<FeedSpec>, Failure> {
    let mut specs: Vec<FeedSpec> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for feed in &config.feeds {
        let url = config
            .feed_url(feed.url.get_ref())
            .map_err(|m| Failure::Usage(anyhow::anyhow!("{}: {m}", config.source.display())))?;
        if !seen.insert(url.to_string()) {
            continue;
        }
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
    if config.feeds_opml.is_some() {
        let outlines = opml_feeds(config).map_err(|m| Failure::Usage(anyhow::anyhow!(m)))?;
        for outline in outlines {
            let spec = outline.map_err(|m| Failure::Usage(anyhow::anyhow!(m)))?;
            if seen.insert(spec.url.to_string()) {
                specs.push(spec);
            } else {
                tracing::debug!(feed = %spec.url, "feed listed in the OPML file and the config: once is enough");
            }
        }
    }
    Ok(specs)
}

/// The OPML file of a config, as given and resolved.
fn opml_path(config: &Config) -> Option<PathBuf> {
    config
        .feeds_opml
        .as_ref()
        .map(|p| config.resolve_path(p.get_ref()))
}

/// The feeds of the config's `feeds_opml` file; the outer error is about the file as a
/// whole, the inner ones about single outlines. Relative `xmlUrl`s are paths relative to
/// the OPML file; folder titles become tags.
fn opml_feeds(config: &Config) -> Result<Vec<Result<FeedSpec, String>>, String> {
    let Some(path) = opml_path(config) else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("feeds_opml {}: cannot read: {e}", path.display()))?;
    let outlines = newswire_fetcher::parse_opml(&text, &path.display().to_string())
        .map_err(|e| format!("feeds_opml: {e}"))?;
    let base = std::path::absolute(&path).unwrap_or(path.clone());
    let base_url = Url::from_file_path(&base).ok();
    Ok(outlines
        .into_iter()
        .map(|outline| {
            let raw = outline.url.trim();
            let url = match Url::parse(raw) {
                Ok(url) => Ok(url),
                Err(url::ParseError::RelativeUrlWithoutBase) => base_url
                    .as_ref()
                    .ok_or_else(|| "no base".to_string())
                    .and_then(|b| b.join(raw).map_err(|e| e.to_string())),
                Err(e) => Err(e.to_string()),
            }
            .map_err(|e| format!("{}: outline xmlUrl {raw:?}: {e}", path.display()))?;
            if !matches!(url.scheme(), "http" | "https" | "file") {
                return Err(format!(
                    "{}: outline xmlUrl {raw:?}: scheme {:?} is not supported (use http, https or file)",
                    path.display(),
                    url.scheme()
                ));
            }
            Ok(FeedSpec {
                url,
                name: outline.title,
                interval: None,
                tags: outline.categories,
                respect_robots_txt: config.fetch.respect_robots_txt,
            })
        })
        .collect())
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

/// `newswire run`. Once the config is loaded, every exit writes the `--report` (status
/// `failed` with the reason when the run could not finish).
pub async fn run(args: RunArgs) -> Result<(), Failure> {
    let config = load_config(&args.config, args.output.as_deref(), args.state.as_deref())?;
    // Checked before the pass, so that a finished pass cannot fail on its report.
    if let Some(path) = &args.report {
        Report::check_writable(path).map_err(Failure::Usage)?;
    }
    let started_at = chrono::Utc::now();
    let stats = Arc::new(Stats::default());
    let outcome = run_loaded(&args, config, Arc::clone(&stats)).await;
    if let Some(path) = &args.report {
        let error = outcome.as_ref().err().map(ToString::to_string);
        if let Err(e) = Report::new(&stats, args.once, started_at, error).write(path) {
            // The exit code says how the run went; a lost report is only logged.
            tracing::error!("{e:#}");
        }
    }
    outcome
}

/// `newswire run` with its config loaded: state, metrics, signals, the pipeline.
async fn run_loaded(args: &RunArgs, config: Config, stats: Arc<Stats>) -> Result<(), Failure> {
    let feeds = feed_specs(&config)?;
    let listen = config
        .metrics
        .listen
        .as_deref()
        .map(m::parse_listen)
        .transpose()
        .map_err(Failure::Usage)?;
    // The lock first: a second run must exit 75 at once, before touching anything else.
    let store = open_state(&config.state_location())?;
    let health = Arc::new(Health::new());
    // Ends the helpers that outlive no run: metrics endpoint, watchdog.
    let helpers = CancellationToken::new();
    if let Some(listen) = listen {
        let handle = m::install_recorder().map_err(Failure::Runtime)?;
        // A port that cannot be bound is a config problem (taken, or not ours): exit 1.
        m::serve(listen, handle, Arc::clone(&health), helpers.clone())
            .await
            .map_err(Failure::Usage)?;
    }
    let shutdown = CancellationToken::new();
    let feed_count = feeds.len();
    let (feeds_tx, feeds_rx) = watch::channel(feeds);
    spawn_signal_handler(
        shutdown.clone(),
        Reloader {
            config: args.config.clone(),
            output: args.output.clone(),
            state: args.state.clone(),
            state_location: config.state_location(),
            once: args.once,
            feeds: feeds_tx,
        },
    );
    let progress = Progress::start(
        args.once && !args.quiet && std::io::stderr().is_terminal(),
        feed_count,
        Arc::clone(&stats),
    );
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    crate::notify::spawn(started_rx, helpers.clone());
    tracing::info!(feeds = feed_count, once = args.once, state = %config.state_location(), "starting");
    let outcome = pipeline::run(
        config,
        Box::new(store),
        args.once,
        Controls {
            feeds: feeds_rx,
            shutdown,
            stats: Arc::clone(&stats),
            health,
            started: Some(started_tx),
        },
    )
    .await;
    if let Some(progress) = progress {
        progress.finish();
    }
    helpers.cancel();
    crate::notify::stopping();
    eprintln!("{}", stats.summary_line());
    if let Some(table) = report::failed_feeds_table(&stats.feed_results()) {
        eprint!("{table}");
    }
    outcome.map_err(Failure::Runtime)
}

/// What a SIGHUP needs to reload the config the way it was first loaded.
struct Reloader {
    config: PathBuf,
    output: Option<String>,
    state: Option<String>,
    state_location: String,
    once: bool,
    feeds: watch::Sender<Vec<FeedSpec>>,
}

impl Reloader {
    /// Reads the config again; a valid one replaces the feed list, an invalid one is
    /// rejected with all its problems and the running config stays.
    fn reload(&self) {
        if self.once {
            tracing::info!("SIGHUP ignored: a --once pass does not reload");
            return;
        }
        let file = self.config.display().to_string();
        let loaded = load_config(&self.config, self.output.as_deref(), self.state.as_deref())
            .and_then(|config| feed_specs(&config).map(|feeds| (config, feeds)));
        match loaded {
            Ok((config, feeds)) => {
                if config.state_location() != self.state_location {
                    tracing::warn!(config = %file, "the state path changed: it takes effect at the next restart");
                }
                let count = feeds.len();
                self.feeds.send_replace(feeds);
                crate::telemetry::config_reloaded(true);
                tracing::info!(config = %file, feeds = count, "config reloaded (feed changes apply now; other settings at the next restart)");
                crate::notify::status(&format!("reloaded: {count} feeds"));
            }
            Err(failure) => {
                for line in failure.to_string().lines() {
                    tracing::error!(config = %file, "{line}");
                }
                crate::telemetry::config_reloaded(false);
                tracing::error!(config = %file, "config reload rejected: the previous config keeps running");
            }
        }
    }
}

/// SIGINT/SIGTERM cancel the pipeline (which then drains); a second signal exits at once.
/// SIGHUP reloads the config.
fn spawn_signal_handler(shutdown: CancellationToken, reloader: Reloader) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
                signal(SignalKind::hangup()),
            ) else {
                tracing::error!("cannot install signal handlers");
                return;
            };
            let mut draining = false;
            loop {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                    _ = hup.recv() => {
                        reloader.reload();
                        continue;
                    },
                }
                if !draining {
                    draining = true;
                    tracing::info!("signal received: draining (send it again to exit at once)");
                    crate::notify::stopping();
                    shutdown.cancel();
                } else {
                    tracing::warn!("second signal: exiting without draining");
                    std::process::exit(130);
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = reloader;
            if tokio::signal::ctrl_c().await.is_ok() {
                shutdown.cancel();
            }
        }
    });
}

/// The `[fetch]` settings of `config`, or the defaults without one.
pub fn fetch_config(config: Option<&Path>) -> Result<FetchConfig, Failure> {
    match config {
        Some(path) => Ok(Config::load(path)
            .map_err(|e| Failure::Usage(e.into()))?
            .fetch),
        None => Ok(FetchConfig::default()),
    }
}

/// `newswire extract FILE_OR_URL [--url URL]`.
pub async fn extract(
    target: &str,
    url: Option<&str>,
    config: Option<&Path>,
) -> Result<(), Failure> {
    let fetch = fetch_config(config)?;
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
            let html = crate::feeds_cmd::read_html_file(&path, fetch.max_body_bytes)
                .map_err(Failure::Usage)?;
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
    let record = pipeline::page_record(&page_url, article);
    let line = serde_json::to_string(&record).map_err(|e| Failure::Runtime(e.into()))?;
    println!("{line}");
    Ok(())
}

/// `newswire validate --config FILE`: every problem at once, each with file and line
/// where it has one: syntax, types, unknown keys, semantic checks, feed files and the OPML
/// file that do not exist, directories that cannot be created, duplicate feeds.
pub fn validate(path: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read config", path.display()))
        .map_err(Failure::Usage)?;
    let (config, mut problems) = Config::parse_lenient(&text, path);
    problems.extend(config.problems(&text));
    problems.extend(path_problems(&config, &text));
    problems.sort_by_key(|p| p.line.unwrap_or(0));
    problems.dedup();
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return Err(Failure::Usage(anyhow::anyhow!(
            "{}: {} problem{} found",
            path.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        )));
    }
    let feeds = feed_specs(&config)?;
    println!(
        "{}: ok ({} feeds, {} sinks)",
        path.display(),
        feeds.len(),
        config.sinks.len().max(1)
    );
    Ok(())
}

/// Problems of the files and directories a config names.
fn path_problems(config: &Config, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut at = |line: Option<usize>, message: String| {
        problems.push(Problem {
            file: config.source.clone(),
            line,
            message,
        });
    };
    let mut listed = std::collections::HashMap::new();
    for feed in &config.feeds {
        let line = line_of(text, feed.url.span().start);
        let Ok(url) = config.feed_url(feed.url.get_ref()) else {
            continue; // reported by Config::problems
        };
        listed.entry(url.to_string()).or_insert(line);
        if let Ok(file) = url.to_file_path()
            && !file.is_file()
        {
            at(
                Some(line),
                format!("feed file {} does not exist", file.display()),
            );
        }
    }
    if let Some(opml) = &config.feeds_opml {
        let line = Some(line_of(text, opml.span().start));
        match opml_feeds(config) {
            Err(message) => at(line, message),
            Ok(outlines) => {
                for outline in outlines {
                    match outline {
                        Err(message) => at(line, message),
                        Ok(spec) => {
                            if let Some(first) = listed.get(spec.url.as_str()) {
                                at(
                                    line,
                                    format!(
                                        "feed {} is listed in feeds_opml and on line {first}",
                                        spec.url
                                    ),
                                );
                            } else if let Ok(file) = spec.url.to_file_path()
                                && !file.is_file()
                            {
                                at(
                                    line,
                                    format!(
                                        "feed file {} (from feeds_opml) does not exist",
                                        file.display()
                                    ),
                                );
                            }
                            listed.entry(spec.url.to_string()).or_insert(0);
                        }
                    }
                }
            }
        }
    }
    let state = config.state_location();
    if !state.starts_with("nats://") && state != ":memory:" {
        let dir = Path::new(&state).parent().unwrap_or(Path::new("."));
        if let Err(message) = creatable_dir(dir) {
            at(
                value_line(text, "state", None, "path"),
                format!("state.path {state}: {message}"),
            );
        }
    }
    for (index, sink) in config.sinks.iter().enumerate() {
        if *sink.kind.get_ref() != SinkKind::Jsonl {
            continue;
        }
        let Some(path) = &sink.path else { continue };
        let file = config.resolve_path(path.get_ref());
        let Some(dir) = file.parent() else { continue };
        // A rotation pattern may put `{date}` in the directory: check what is fixed.
        if dir.to_string_lossy().contains('{') {
            continue;
        }
        if let Err(message) = creatable_dir(dir) {
            at(
                value_line(text, "sink", Some(index), "path"),
                format!("sink.path {}: {message}", file.display()),
            );
        }
    }
    problems
}

/// Whether `dir` exists as a writable directory or could be created: the nearest
/// existing ancestor must be a directory we can write to (probed by creating and
/// removing a file, since permission bits do not tell about ACLs or read-only mounts).
fn creatable_dir(dir: &Path) -> Result<(), String> {
    let absolute = std::path::absolute(dir).unwrap_or(dir.to_path_buf());
    let mut probe: &Path = &absolute;
    loop {
        match std::fs::metadata(probe) {
            Ok(meta) if meta.is_dir() => {
                let marker = probe.join(format!(".newswire-validate-{}", std::process::id()));
                return match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&marker)
                {
                    Ok(_) => {
                        let _ = std::fs::remove_file(&marker);
                        Ok(())
                    }
                    Err(e) => Err(format!(
                        "directory {} cannot be created: cannot write in {}: {e}",
                        absolute.display(),
                        probe.display()
                    )),
                };
            }
            Ok(_) => {
                return Err(format!(
                    "directory {} cannot be created: {} is not a directory",
                    absolute.display(),
                    probe.display()
                ));
            }
            Err(_) => match probe.parent() {
                Some(parent) => probe = parent,
                None => {
                    return Err(format!(
                        "directory {} cannot be created",
                        absolute.display()
                    ));
                }
            },
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config_in(dir: &Path, text: &str) -> Config {
        let path = dir.join("newswire.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(&path).unwrap()
    }

    #[test]
    fn opml_outlines_resolve_against_the_opml_file_and_dedupe() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lists")).unwrap();
        std::fs::write(
            dir.path().join("lists/feeds.opml"),
            "<opml version=\"2.0\"><body><outline text=\"Local\" title=\"Local\">\
             <outline type=\"rss\" text=\"Near\" xmlUrl=\"near.xml\"/>\
             <outline type=\"rss\" text=\"Web\" xmlUrl=\"https://a.example/rss\"/>\
             </outline></body></opml>",
        )
        .unwrap();
        let config = config_in(
            dir.path(),
            "feeds_opml = \"lists/feeds.opml\"\n[[feed]]\nurl = \"https://a.example/rss\"\nname = \"A\"\n",
        );
        let specs = feed_specs(&config).unwrap();
        assert_eq!(specs.len(), 2, "{specs:?}");
        assert_eq!(specs[0].name.as_deref(), Some("A"), "[[feed]] wins");
        assert!(
            specs[1].url.path().ends_with("/lists/near.xml"),
            "{}",
            specs[1].url
        );
        assert_eq!(specs[1].tags, vec!["Local".to_string()]);
    }

    #[test]
    fn opml_with_a_bad_scheme_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("feeds.opml"),
            "<opml version=\"2.0\"><body><outline type=\"rss\" text=\"X\" xmlUrl=\"gopher://x.example/\"/></body></opml>",
        )
        .unwrap();
        let config = config_in(dir.path(), "feeds_opml = \"feeds.opml\"\n");
        let error = feed_specs(&config).unwrap_err().to_string();
        assert!(
            error.contains("feeds.opml") && error.contains("gopher"),
            "{error}"
        );
    }

    #[test]
    fn creatable_dir_walks_up_to_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(creatable_dir(&dir.path().join("a/b/c")), Ok(()));
        assert!(!dir.path().join("a").exists(), "nothing created");
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let error = creatable_dir(&dir.path().join("file/sub")).unwrap_err();
        assert!(error.contains("is not a directory"), "{error}");
    }
}
