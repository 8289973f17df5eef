//! `newswire-bench`: load and soak benchmark of the real `newswire` binary.
//!
//! Starts a local server of generated news sites (N feeds × M articles), runs
//! `newswire run --once` and `newswire run` (daemon, stopped with SIGTERM when every article
//! arrived) against it, runs the same pages through `newswire_extractor::extract` in-process
//! on 1 and 2 threads, and reports throughput, CPU per article, peak RSS, queue depths,
//! per-stage figures and the pipeline/extractor ratios. `--soak 30m` instead runs the daemon
//! against feeds that keep publishing and reports memory and state growth.
//! See crates/bench/README.md.

mod extract_only;
mod generate;
mod probe;
mod run;
mod server;

/// The binary's allocator, so that `extractor alone` is measured as the pipeline runs it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use serde::Serialize;

use crate::extract_only::ExtractResult;
use crate::run::{ExtraSink, Mode, RunResult, RunSpec};

#[derive(Parser, Debug)]
#[command(
    name = "newswire-bench",
    about = "Load and soak benchmark of the newswire pipeline"
)]
struct Args {
    /// Feeds served (one RSS feed each).
    #[arg(long, default_value_t = 2000)]
    feeds: u32,
    /// Articles listed by each feed.
    #[arg(long, default_value_t = 20)]
    articles: u64,
    /// Pipeline modes to run, comma-separated; `--modes ''` runs the extractor alone.
    #[arg(long, value_delimiter = ',', default_value = "once,daemon")]
    modes: Vec<String>,
    /// Pages run through the extractor in-process (spread evenly over all feeds).
    #[arg(long, default_value_t = 2000)]
    extract_sample: usize,
    /// Rounds of the extractor-alone measurement (1 and 2 threads, interleaved); the
    /// median round is reported. One round of 2,000 pages lasts a few seconds, and single
    /// rounds were seen up to 30 % apart within a minute on this kind of shared machine.
    #[arg(long, default_value_t = 5)]
    extract_rounds: usize,
    /// `pipeline.extract_workers` of the runs (0: newswire's default, one per core plus one).
    #[arg(long, default_value_t = 0)]
    extract_workers: usize,
    /// `pipeline.channel_capacity` of the runs (0: newswire's default, 64).
    #[arg(long, default_value_t = 0)]
    channel_capacity: usize,
    /// The newswire binary; default: target/release/newswire, built (or refreshed) first.
    #[arg(long)]
    newswire: Option<PathBuf>,
    /// Print the results as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Soak mode: run the daemon this long (e.g. "30m") against feeds that keep publishing.
    #[arg(long, value_parser = humantime::parse_duration)]
    soak: Option<Duration>,
    /// Soak: each feed publishes one new article this often.
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    publish_every: Duration,
    /// Soak: poll interval of every feed.
    #[arg(long, default_value = "1m")]
    feed_interval: String,
    /// `[state] retention` of the pipeline's config.
    #[arg(long, default_value = "90d")]
    retention: String,
    /// Soak: memory and state size sampled this often.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    sample_every: Duration,
    /// Daemon: poll interval of every feed. The daemon spreads the first polls of due feeds
    /// over at most this long (and at most 5 min), so it bounds the time to deliver.
    #[arg(long, default_value = "60s")]
    daemon_interval: String,
    /// Sinks to compare, comma-separated (`jsonl`, `nats`): each mode is run once per sink,
    /// that sink written beside stdout (records are counted on stdout). `nats` publishes to
    /// a stream of its own on `--nats-url`, deleted afterwards. Empty: stdout only.
    #[arg(long, value_delimiter = ',')]
    sinks: Vec<String>,
    /// The NATS server for `--sinks nats`.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// `once` runs: every this long, stop the pipeline (SIGSTOP), run `--pause-pages` of
    /// the sample through the extractor alone on 1 and then 2 threads, and let it go on:
    /// a yardstick taken in the same minutes as the run, not after it. The pauses are left
    /// out of the run's articles/s and cores used, and out of the server's CPU. Off when
    /// not given.
    #[arg(long, value_parser = humantime::parse_duration)]
    pause_every: Option<Duration>,
    /// Pages of the sample extracted per thread count in each pause.
    #[arg(long, default_value_t = 400)]
    pause_pages: usize,
    /// Daemon: give up when no record arrived for this long.
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
    stall_timeout: Duration,
}

#[derive(Debug, Serialize)]
struct Report {
    feeds: u32,
    articles_per_feed: u64,
    pages_served: u64,
    feeds_served: u64,
    mean_page_kib: f64,
    runs: Vec<RunResult>,
    extractor: Vec<ExtractResult>,
    ratios: Ratios,
    #[serde(skip_serializing_if = "Option::is_none")]
    soak: Option<SoakSummary>,
}

#[derive(Debug, Default, Serialize)]
struct Ratios {
    /// Pipeline CPU per article / extractor CPU per page (1 thread), per run.
    cpu_per_article: Vec<(String, f64)>,
    /// Pipeline articles/s / extractor pages/s on 2 threads, per run.
    throughput: Vec<(String, f64)>,
    /// Pipeline CPU per article / the same run's extraction CPU per page: what the
    /// pipeline adds around the extractor, free of the machine's drift between the
    /// pipeline run and the extractor-alone rounds.
    cpu_per_own_extraction: Vec<(String, f64)>,
    /// The first two ratios against the extractor alone in the run's own pauses
    /// (`--pause-every`): CPU per article over 1-thread CPU per page, articles/s over
    /// 2-thread pages/s.
    cpu_per_article_during: Vec<(String, f64)>,
    throughput_during: Vec<(String, f64)>,
    /// Pipeline articles/s with the NATS sink / with the JSONL sink, per mode
    /// (`--sinks jsonl,nats`).
    nats_over_jsonl: Vec<(Mode, f64)>,
}

#[derive(Debug, Serialize)]
struct SoakSummary {
    duration_s: f64,
    records: u64,
    rss_first_quarter_max_mib: f64,
    rss_last_quarter_max_mib: f64,
    rss_growth_mib_per_hour: f64,
    state_bytes_start: u64,
    state_bytes_end: u64,
    state_growth_mib_per_hour: f64,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The release binary, built first so that it is never stale (a no-op when fresh).
fn newswire_binary(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(path) = &args.newswire {
        return Ok(path.clone());
    }
    let root = workspace_root();
    eprintln!("building the release newswire binary (cargo build --release -p newswire)…");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-p", "newswire"])
        .current_dir(&root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p newswire failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release").join("newswire"))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.feeds == 0 || args.articles == 0 {
        bail!("--feeds and --articles must be positive");
    }
    let binary = newswire_binary(&args)?;

    // The server gets a runtime of its own; its CPU is this process's CPU while the
    // pipeline runs (the main thread only sleeps and samples).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let catalogue = server::Catalogue {
        feeds: args.feeds,
        window: args.articles,
        publish_every: args.soak.map(|_| args.publish_every),
    };
    let server = runtime.block_on(server::start(catalogue))?;
    let origin = server.origin();
    eprintln!(
        "serving {} feeds × {} articles on {origin}",
        args.feeds, args.articles
    );

    // With pauses, the sample is generated before the runs (and used again after them);
    // without, only after them, so that the bench holds no sample during the run.
    let mut pages = if args.soak.is_none() && args.pause_every.is_some() {
        extract_only::sample(
            args.feeds,
            args.articles,
            args.extract_sample.max(args.pause_pages),
            &origin,
        )
    } else {
        Vec::new()
    };
    // The pauses' rounds of the current run (a `RefCell`: the pause closure fills it while
    // the run holds the closure).
    let during = std::cell::RefCell::new(Vec::new());
    let mut next_page = 0;
    let mut pause_round = || {
        let count = args.pause_pages.clamp(1, pages.len().max(1));
        if next_page + count > pages.len() {
            next_page = 0;
        }
        let Some(slice) = pages.get(next_page..next_page + count) else {
            return;
        };
        next_page += count;
        for threads in [1, 2] {
            during
                .borrow_mut()
                .push(extract_only::measure(slice, threads));
        }
    };

    let mut runs = Vec::new();
    let mut soak = None;
    if let Some(duration) = args.soak {
        let spec = RunSpec {
            binary: &binary,
            mode: Mode::Soak,
            extra_sink: None,
            origin: &origin,
            feeds: args.feeds,
            expected: u64::MAX,
            duration,
            feed_interval: &args.feed_interval,
            retention: &args.retention,
            sample_every: args.sample_every,
            extract_workers: args.extract_workers,
            channel_capacity: args.channel_capacity,
        };
        eprintln!("soak: daemon for {}…", humantime::format_duration(duration));
        let result = run::run(&spec, &probe::own_cpu_s, None)?;
        soak = Some(soak_summary(&result));
        runs.push(result);
    } else {
        let mut sinks = vec![None];
        if !args.sinks.is_empty() {
            sinks = args
                .sinks
                .iter()
                .map(|name| match name.as_str() {
                    "jsonl" => Ok(Some(ExtraSink::Jsonl)),
                    "nats" => Ok(Some(ExtraSink::Nats {
                        url: args.nats_url.clone(),
                        stream: format!("NWBENCH_{}", std::process::id()),
                    })),
                    other => bail!("unknown sink {other:?} in --sinks (jsonl, nats)"),
                })
                .collect::<anyhow::Result<_>>()?;
        }
        for (mode, extra_sink) in args
            .modes
            .iter()
            .filter(|mode| !mode.is_empty())
            .flat_map(|mode| sinks.iter().map(move |sink| (mode, sink)))
        {
            let mode = match mode.as_str() {
                "once" => Mode::Once,
                "daemon" => Mode::Daemon,
                other => bail!("unknown mode {other:?} in --modes (once, daemon)"),
            };
            let spec = RunSpec {
                binary: &binary,
                mode,
                extra_sink: extra_sink.clone(),
                origin: &origin,
                feeds: args.feeds,
                expected: u64::from(args.feeds) * args.articles,
                duration: args.stall_timeout,
                feed_interval: if mode == Mode::Daemon {
                    &args.daemon_interval
                } else {
                    "6h"
                },
                retention: &args.retention,
                sample_every: Duration::from_secs(1),
                extract_workers: args.extract_workers,
                channel_capacity: args.channel_capacity,
            };
            eprintln!("pipeline: {}…", label(mode, extra_sink.as_ref()));
            let pauses = args.pause_every.map(|every| run::Pauses {
                every,
                round: &mut pause_round,
            });
            let result = run::run(&spec, &probe::own_cpu_s, pauses);
            if let Some(ExtraSink::Nats { url, stream }) = extra_sink {
                runtime.block_on(delete_stream(url, stream));
            }
            let mut result = result?;
            let taken = during.take();
            result.yardstick_during = [1, 2]
                .iter()
                .filter_map(|&threads| extract_only::pooled(&taken, threads))
                .collect();
            if result.records < result.expected {
                eprintln!(
                    "warning: {} run delivered {} of {} records (logs: {})",
                    label(mode, extra_sink.as_ref()),
                    result.records,
                    result.expected,
                    result.logs.display()
                );
            }
            runs.push(result);
        }
    }

    use std::sync::atomic::Ordering::Relaxed;
    let pages_served = server.served.pages.load(Relaxed);
    let feeds_served = server.served.feeds.load(Relaxed);
    let bytes = server.served.bytes.load(Relaxed);
    drop(runtime);

    let mut extractor = Vec::new();
    if soak.is_none() && args.extract_sample > 0 {
        eprintln!(
            "extractor alone: {} pages on 1 and 2 threads, {} rounds…",
            args.extract_sample, args.extract_rounds
        );
        if pages.len() < args.extract_sample {
            pages = extract_only::sample(args.feeds, args.articles, args.extract_sample, &origin);
        }
        let sample = &pages[..args.extract_sample];
        extractor = extract_only::measure_rounds(sample, &[1, 2], args.extract_rounds);
    }
    let ratios = ratios(&runs, &extractor);
    let report = Report {
        feeds: args.feeds,
        articles_per_feed: args.articles,
        pages_served,
        feeds_served,
        mean_page_kib: bytes as f64 / 1024.0 / (pages_served + feeds_served).max(1) as f64,
        runs,
        extractor,
        ratios,
        soak,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// A run's name in the report: its mode, and the sink beside stdout.
fn label(mode: Mode, extra_sink: Option<&ExtraSink>) -> String {
    let mode = format!("{mode:?}").to_lowercase();
    match extra_sink {
        Some(sink) => format!("{mode}+{}", sink.label()),
        None => mode,
    }
}

/// Deletes the stream a `--sinks nats` run published to (a warning when it cannot).
async fn delete_stream(url: &str, stream: &str) {
    let deleted = match async_nats::connect(url).await {
        Ok(client) => async_nats::jetstream::new(client)
            .delete_stream(stream)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = deleted {
        eprintln!("warning: could not delete stream {stream} on {url}: {e}");
    }
}

fn ratios(runs: &[RunResult], extractor: &[ExtractResult]) -> Ratios {
    let one = extractor.iter().find(|e| e.threads == 1);
    let two = extractor.iter().find(|e| e.threads == 2);
    let mut ratios = Ratios::default();
    for run in runs.iter().filter(|r| r.mode != Mode::Soak) {
        let name = label(run.mode, run.extra_sink.as_ref());
        if let Some(one) = one {
            ratios
                .cpu_per_article
                .push((name.clone(), run.cpu_ms_per_article / one.cpu_ms_per_page));
        }
        if let Some(own) = run
            .stages
            .get(run::EXTRACTION_CPU_MS)
            .filter(|ms| **ms > 0.0)
        {
            ratios
                .cpu_per_own_extraction
                .push((name.clone(), run.cpu_ms_per_article / own));
        }
        if let Some(two) = two {
            ratios
                .throughput
                .push((name.clone(), run.articles_per_s / two.pages_per_s));
        }
        let during = |threads| run.yardstick_during.iter().find(|e| e.threads == threads);
        if let Some(one) = during(1) {
            ratios
                .cpu_per_article_during
                .push((name.clone(), run.cpu_ms_per_article / one.cpu_ms_per_page));
        }
        if let Some(two) = during(2) {
            ratios
                .throughput_during
                .push((name.clone(), run.articles_per_s / two.pages_per_s));
        }
        let with = |label: &str| {
            runs.iter().find(|r| {
                r.mode == run.mode && r.extra_sink.as_ref().map(ExtraSink::label) == Some(label)
            })
        };
        if run.extra_sink == Some(ExtraSink::Jsonl)
            && let Some(nats) = with("nats")
        {
            ratios
                .nats_over_jsonl
                .push((run.mode, nats.articles_per_s / run.articles_per_s));
        }
    }
    ratios
}

fn soak_summary(run: &RunResult) -> SoakSummary {
    let samples = &run.samples;
    let quarter = (samples.len() / 4).max(1);
    let max_rss = |part: &[run::Sample]| part.iter().map(|s| s.rss_mib).fold(0.0, f64::max);
    let first = samples.first();
    let last = samples.last();
    let hours = match (first, last) {
        (Some(a), Some(b)) if b.at_s > a.at_s => (b.at_s - a.at_s) / 3600.0,
        _ => f64::NAN,
    };
    // Growth measured after the first quarter, once the initial backlog is in.
    let settled = samples.get(quarter.min(samples.len().saturating_sub(1)));
    let settled_hours = match (settled, last) {
        (Some(a), Some(b)) if b.at_s > a.at_s => (b.at_s - a.at_s) / 3600.0,
        _ => hours,
    };
    let rss_growth = match (settled, last) {
        (Some(a), Some(b)) => (b.rss_mib - a.rss_mib) / settled_hours,
        _ => f64::NAN,
    };
    let state_growth = match (settled, last) {
        (Some(a), Some(b)) => {
            (b.state_bytes as f64 - a.state_bytes as f64) / 1024.0 / 1024.0 / settled_hours
        }
        _ => f64::NAN,
    };
    SoakSummary {
        duration_s: run.wall_s,
        records: run.records,
        rss_first_quarter_max_mib: max_rss(&samples[..quarter.min(samples.len())]),
        rss_last_quarter_max_mib: max_rss(&samples[samples.len().saturating_sub(quarter)..]),
        rss_growth_mib_per_hour: rss_growth,
        state_bytes_start: settled.map_or(0, |s| s.state_bytes),
        state_bytes_end: last.map_or(0, |s| s.state_bytes),
        state_growth_mib_per_hour: state_growth,
    }
}

/// One line of an extractor-alone table.
fn extractor_row(e: &ExtractResult) -> String {
    format!(
        "{:<22} {:>7} {:>9.2} {:>10.0} {:>11.3}",
        format!("{} thread(s)", e.threads),
        e.pages,
        e.wall_s,
        e.pages_per_s,
        e.cpu_ms_per_page
    )
}

/// Rounds' CPU ms/page, space-separated.
fn ms_list(rounds: &[f64]) -> String {
    rounds
        .iter()
        .map(|r| format!("{r:.3}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_table(report: &Report) {
    println!(
        "newswire-bench: {} feeds × {} articles; served {} feeds, {} pages, {:.1} KiB mean body",
        report.feeds,
        report.articles_per_feed,
        report.feeds_served,
        report.pages_served,
        report.mean_page_kib
    );
    println!();
    println!(
        "{:<14} {:>9} {:>9} {:>10} {:>9} {:>7} {:>9} {:>11} {:>7}",
        "run",
        "records",
        "wall s",
        "articles/s",
        "CPU ms/a",
        "cores",
        "peak MiB",
        "server CPU s",
        "exit"
    );
    for run in &report.runs {
        println!(
            "{:<14} {:>9} {:>9.1} {:>10.0} {:>9.3} {:>7.2} {:>9.1} {:>11.1} {:>7}",
            label(run.mode, run.extra_sink.as_ref()),
            run.records,
            run.delivered_s,
            run.articles_per_s,
            run.cpu_ms_per_article,
            run.cores_used,
            run.peak_rss_mib,
            run.server_cpu_s,
            run.exit_code
        );
    }
    for run in &report.runs {
        let mode = label(run.mode, run.extra_sink.as_ref());
        println!();
        println!(
            "{mode}: user {:.1} s, system {:.1} s, state {:.1} MiB{}",
            run.cpu_user_s,
            run.cpu_system_s,
            run.state_bytes as f64 / 1024.0 / 1024.0,
            run.shutdown_s
                .map(|s| format!(", shutdown after SIGTERM {s:.2} s"))
                .unwrap_or_default()
        );
        let depths: Vec<String> = run
            .queue_depth
            .iter()
            .map(|(q, d)| format!("{q} max {:.0} mean {:.1}", d.max, d.mean))
            .collect();
        println!(
            "  queue depth ({} samples): {}",
            run.queue_depth
                .values()
                .map(|d| d.samples)
                .max()
                .unwrap_or(0),
            depths.join("; ")
        );
        let stages: Vec<String> = run
            .stages
            .iter()
            .map(|(k, v)| format!("{k} {v:.2}"))
            .collect();
        println!("  metrics: {}", stages.join(", "));
    }
    if !report.extractor.is_empty() {
        println!();
        println!(
            "{:<22} {:>7} {:>9} {:>10} {:>11}",
            "extractor alone", "pages", "wall s", "pages/s", "CPU ms/page"
        );
        if let Some(first) = report.extractor.first() {
            println!(
                "  (median of {} rounds; rounds' CPU ms/page: {})",
                first.rounds.len(),
                report
                    .extractor
                    .iter()
                    .map(|e| format!("{} thread(s) {}", e.threads, ms_list(&e.rounds)))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        for e in &report.extractor {
            println!("{}", extractor_row(e));
        }
        println!();
        for (run, ratio) in &report.ratios.cpu_per_article {
            println!("CPU per article, pipeline ({run}) / extractor: {ratio:.2}×");
        }
        for (run, ratio) in &report.ratios.cpu_per_own_extraction {
            println!(
                "CPU per article, pipeline ({run}) / its own extraction CPU per page: {ratio:.2}×"
            );
        }
        for (run, ratio) in &report.ratios.throughput {
            println!("throughput, pipeline ({run}) / extractor on 2 threads: {ratio:.2}");
        }
    }
    for run in report
        .runs
        .iter()
        .filter(|r| !r.yardstick_during.is_empty())
    {
        let name = label(run.mode, run.extra_sink.as_ref());
        println!();
        println!(
            "extractor alone in the {name} run's pauses ({:.1} s paused):",
            run.paused_s
        );
        for e in &run.yardstick_during {
            println!(
                "{}   pauses' CPU ms/page: {}",
                extractor_row(e),
                ms_list(&e.rounds)
            );
        }
    }
    if !report.ratios.cpu_per_article_during.is_empty() {
        println!();
        for (run, ratio) in &report.ratios.cpu_per_article_during {
            println!("CPU per article, pipeline ({run}) / extractor in its pauses: {ratio:.2}×");
        }
        for (run, ratio) in &report.ratios.throughput_during {
            println!(
                "throughput, pipeline ({run}) / extractor on 2 threads in its pauses: {ratio:.2}"
            );
        }
    }
    if !report.extractor.is_empty() {
        for (mode, ratio) in &report.ratios.nats_over_jsonl {
            println!(
                "throughput, pipeline ({mode:?}) with NATS sink / with JSONL sink: {ratio:.2}"
            );
        }
    }
    if let Some(soak) = &report.soak {
        println!();
        println!(
            "soak {:.0} s: {} records; RSS max first quarter {:.1} MiB, last quarter {:.1} MiB, growth {:.1} MiB/h after the first quarter; state {:.1} → {:.1} MiB ({:.1} MiB/h)",
            soak.duration_s,
            soak.records,
            soak.rss_first_quarter_max_mib,
            soak.rss_last_quarter_max_mib,
            soak.rss_growth_mib_per_hour,
            soak.state_bytes_start as f64 / 1048576.0,
            soak.state_bytes_end as f64 / 1048576.0,
            soak.state_growth_mib_per_hour
        );
        for run in &report.runs {
            for s in &run.samples {
                println!(
                    "  t={:>6.0}s rss {:>7.1} MiB state {:>8.1} MiB records {}",
                    s.at_s,
                    s.rss_mib,
                    s.state_bytes as f64 / 1048576.0,
                    s.records
                );
            }
        }
    }
}
