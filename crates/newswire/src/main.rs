//! The `newswire` command line: run the pipeline (daemon or `--once`), extract one page,
//! validate a config, inspect feeds and state, evaluate the extractor.
//!
//! stdout carries only records (or a command's own output); logs go to stderr.
//! Exit codes: 0 done, 1 usage or config error, 2 state or sink failure, 75 another
//! process holds the state lock.

mod commands;
mod config_file;
mod exit;
mod feed_list;
mod metrics;
mod notify;
mod pipeline;
mod progress;
mod report;
mod signals;
mod telemetry;

/// jemalloc rather than the system allocator: see `tikv-jemallocator` in the workspace's
/// Cargo.toml for the measurement.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use commands::{cluster, eval, eval_stories, extract, feeds, run, state, validate};
use tracing::level_filters::LevelFilter;

#[derive(Parser, Debug)]
#[command(
    name = "newswire",
    version,
    about = "Feeds in, clean normalised article records out",
    after_help = "Exit codes: 0 done (a pass with failed feeds included), 1 usage or config error, \
                  2 state or sink failure, 75 another process holds the state lock."
)]
struct Cli {
    /// Log format on stderr (human by default).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human, env = "NEWSWIRE_LOG_FORMAT")]
    log_format: LogFormat,
    /// Log level (off, error, warn, info, debug, trace); RUST_LOG overrides it with filters.
    #[arg(
        long,
        global = true,
        default_value = "info",
        env = "NEWSWIRE_LOG_LEVEL",
        value_parser = parse_log_level
    )]
    log_level: LevelFilter,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the pipeline: a daemon polling every feed on its schedule, or one pass (--once).
    Run(run::RunArgs),
    /// Extract one page (file or URL) to one JSON record on stdout.
    Extract {
        /// An HTML file, or an http(s) URL to download.
        target: String,
        /// The page's address, when reading a file.
        #[arg(long)]
        url: Option<String>,
        /// Config whose [fetch] settings apply when downloading.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check a config file and its feed list; report every problem with its line.
    Validate {
        #[arg(long)]
        config: PathBuf,
    },
    /// Inspect one feed, or discover the feeds a page announces.
    Feeds {
        /// Config whose [fetch] settings apply (user agent, limits, allowed networks).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: feeds::FeedsCommand,
    },
    /// Inspect the state store.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Inspect a cluster of workers sharing one NATS ([cluster] in the config).
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Score the extractor against a corpus with ground truth.
    Eval(eval::EvalArgs),
    /// Score the story clusterer on an incident-labelled corpus (BCubed, pairwise, articles/s).
    EvalStories(eval_stories::EvalStoriesArgs),
}

/// `--log-level`: one level name, nothing else (filters go in RUST_LOG), so a typo is an
/// error instead of silently logging nothing.
fn parse_log_level(value: &str) -> Result<LevelFilter, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "off" => Ok(LevelFilter::OFF),
        "error" => Ok(LevelFilter::ERROR),
        "warn" | "warning" => Ok(LevelFilter::WARN),
        "info" => Ok(LevelFilter::INFO),
        "debug" => Ok(LevelFilter::DEBUG),
        "trace" => Ok(LevelFilter::TRACE),
        _ => Err(format!(
            "{value:?} is not a log level (off, error, warn, info, debug, trace)"
        )),
    }
}

/// The HTML parser warns about the markup of pages ("foster parenting not implemented"),
/// which says nothing actionable to an operator: errors only, unless RUST_LOG asks.
const HTML_PARSER: [&str; 3] = ["html5ever", "selectors", "markup5ever"];

/// Dependencies that log a lot at debug/trace: they stay at warn unless RUST_LOG asks.
const NOISY_DEPENDENCIES: [&str; 4] = ["hyper_util", "reqwest", "rustls", "async_nats"];

/// The filter for `--log-level`: that level for newswire, at most warn for noisy crates.
fn default_filter(level: LevelFilter) -> String {
    let quiet = level.min(LevelFilter::WARN);
    let mut filter = level.to_string().to_ascii_lowercase();
    for target in NOISY_DEPENDENCIES {
        filter.push_str(&format!(
            ",{target}={}",
            quiet.to_string().to_ascii_lowercase()
        ));
    }
    for target in HTML_PARSER {
        filter.push_str(&format!(",{target}=error"));
    }
    filter
}

/// Async worker threads: half the cores, at least one (`TOKIO_WORKER_THREADS` overrides).
/// The async side only waits on sockets and hands work on; the CPU-bound work has threads
/// of its own (`pipeline.extract_workers`, the state thread). Tokio's default of one per
/// core put two async workers beside three extraction workers and the state thread on two
/// cores; with one, the pipeline's CPU over its own extraction CPU fell from 1.54 / 1.55 to
/// 1.51 / 1.50 (load benchmark, 10,000 × 20: see crates/bench/README.md).
fn async_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2))
}

fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(cli.log_level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| progress::LogWriter);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn main() -> ExitCode {
    // clap exits 2 on bad flags; 2 means a state or sink failure here, so usage errors
    // exit 1 like every other usage error.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging(&cli);
    // One TLS crypto provider for the whole process (reqwest and async-nats must agree).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        builder.worker_threads(async_workers());
    }
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => runtime.block_on(run::run(args)),
        Command::Extract {
            target,
            url,
            config,
        } => runtime.block_on(extract::extract(&target, url.as_deref(), config.as_deref())),
        Command::Validate { config } => validate::validate(&config),
        Command::Feeds { config, command } => config_file::fetch_config(config.as_deref())
            .and_then(|fetch| {
                runtime
                    .block_on(feeds::run(&command, &fetch))
                    .map_err(exit::Failure::Usage)
            }),
        Command::State(command) => state::state_command(&command),
        Command::Cluster(command) => runtime.block_on(cluster::cluster_command(&command)),
        Command::Eval(args) => eval::run(&args).map_err(exit::Failure::Usage),
        Command::EvalStories(args) => eval_stories::run(&args).map_err(exit::Failure::Usage),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            tracing::error!("{failure}");
            if !tracing::enabled!(tracing::Level::ERROR) {
                eprintln!("error: {failure}");
            }
            ExitCode::from(failure.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_are_parsed_strictly() {
        assert_eq!(parse_log_level("warn"), Ok(LevelFilter::WARN));
        assert_eq!(parse_log_level("DEBUG"), Ok(LevelFilter::DEBUG));
        let error = parse_log_level("verbose").unwrap_err();
        assert!(error.contains("verbose"), "{error}");
        assert!(parse_log_level("info,html5ever=trace").is_err());
    }

    #[test]
    fn default_filter_keeps_dependencies_quiet() {
        let debug = default_filter(LevelFilter::DEBUG);
        assert!(debug.starts_with("debug,"), "{debug}");
        assert!(debug.contains("reqwest=warn"), "{debug}");
        assert!(debug.contains("html5ever=error"), "{debug}");
        let error = default_filter(LevelFilter::ERROR);
        assert!(error.contains("html5ever=error"), "{error}");
        assert!(tracing_subscriber::EnvFilter::try_new(&debug).is_ok());
    }
}
