//! `newswire run`: the config and flags turned into a running pipeline (daemon, or one
//! pass with `--once`), with its state lock, metrics endpoint, signals and run report.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use newswire_core::config::Config;
use newswire_state::{NatsKvOptions, NatsKvState, SqliteState, StateError, StateStore};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config_file::{Overrides, load_config};
use crate::exit::Failure;
use crate::feed_list::feed_specs;
use crate::metrics::{self as m, Health};
use crate::pipeline::{self, Controls, Stats};
use crate::progress::Progress;
use crate::report::{self, Report};
use crate::signals::{Reloader, spawn_signal_handler};

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
    /// Fault injection for tests: JSONL sinks act as if their disk held only this many
    /// bytes (writes past it fail with ENOSPC).
    #[arg(long, hide = true, env = "NEWSWIRE_TEST_JSONL_CAPACITY")]
    pub simulated_disk_capacity: Option<u64>,
}

impl RunArgs {
    /// What these flags change in the config.
    fn overrides(&self) -> Overrides {
        Overrides {
            output: self.output.clone(),
            state: self.state.clone(),
            simulated_disk_capacity: self.simulated_disk_capacity,
        }
    }
}

/// Opens the state `config` names: a SQLite file (locked), or JetStream KV for
/// `nats://` locations (shared by the workers of a cluster, so not locked).
pub(crate) async fn open_state(
    config: &Config,
    location: &str,
) -> Result<Box<dyn StateStore>, Failure> {
    if location.starts_with("nats://") {
        let options = kv_options(config, location);
        // Opening blocks on the KV client's own runtime (connect, load the simhash
        // replica): keep it off the async workers.
        let store = tokio::task::spawn_blocking(move || NatsKvState::open(options))
            .await
            .map_err(|e| Failure::Runtime(e.into()))?
            .map_err(|e| Failure::Runtime(e.into()))?;
        return Ok(Box::new(store));
    }
    let store = SqliteState::open(location).map_err(|e| match e {
        StateError::Locked { .. } => Failure::Locked(e.into()),
        other => Failure::Runtime(other.into()),
    })?;
    Ok(Box::new(store))
}

/// KV state options: URL from `[state] path`, credentials and TLS from `[cluster]`
/// when it is set, bucket prefix `state.namespace`, seen-id lifetime `state.retention`.
pub(crate) fn kv_options(config: &Config, location: &str) -> NatsKvOptions {
    let mut options = NatsKvOptions::new(location, config.state.retention.0);
    if let Some(cluster) = &config.cluster {
        options.connection = cluster.connection();
        options.connection.nats_url = location.to_string();
        options.replicas = cluster.replicas;
    }
    options.namespace = config.state.namespace.clone();
    options
}

/// `newswire run`. Once the config is loaded, every exit writes the `--report` (status
/// `failed` with the reason when the run could not finish).
pub async fn run(args: RunArgs) -> Result<(), Failure> {
    let config = load_config(&args.config, &args.overrides())?;
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
    let store = open_state(&config, &config.state_location()).await?;
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
    // Cluster mode: the scheduler sees only the feeds of the shards this worker holds.
    // The leases outlive the pipeline's drain, so no other worker polls a feed while a
    // poll of ours is still in flight; they are released once it has finished.
    let lease_stop = CancellationToken::new();
    let (feeds_rx, gate, leases) = match &config.cluster {
        Some(cluster) => {
            let sharded = super::cluster::shard_feeds(
                cluster,
                feeds_rx,
                shutdown.clone(),
                lease_stop.clone(),
            )
            .await?;
            (sharded.feeds, Some(sharded.gate), Some(sharded.leases))
        }
        None => (feeds_rx, None, None),
    };
    spawn_signal_handler(
        shutdown.clone(),
        Reloader {
            config: args.config.clone(),
            overrides: args.overrides(),
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
        store,
        args.once,
        Controls {
            feeds: feeds_rx,
            shutdown,
            stats: Arc::clone(&stats),
            health,
            started: Some(started_tx),
            gate,
        },
    )
    .await;
    if let Some(leases) = leases {
        lease_stop.cancel();
        leases.stopped().await;
        tracing::info!("cluster: leases released");
    }
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
