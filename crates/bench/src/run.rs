//! Runs the real `newswire` binary against the local server and measures it from outside:
//! records counted on its stdout, CPU and peak RSS from `wait4`, memory and metrics
//! sampled while it runs.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use crate::probe;

/// How the pipeline is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `run --once`: one pass, exits by itself.
    Once,
    /// `run` as a daemon, stopped with SIGTERM once `expected` records arrived.
    Daemon,
    /// `run` as a daemon for a fixed time (soak).
    Soak,
}

/// A sink the run writes to besides stdout (where records are counted), to compare what
/// delivery costs the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtraSink {
    /// A JSONL file in the run's temporary directory (fsync per batch).
    Jsonl,
    /// A JetStream stream (publish acks awaited per batch) on the local NATS server.
    Nats { url: String, stream: String },
}

impl ExtraSink {
    pub fn label(&self) -> &'static str {
        match self {
            ExtraSink::Jsonl => "jsonl",
            ExtraSink::Nats { .. } => "nats",
        }
    }

    fn config(&self) -> String {
        match self {
            ExtraSink::Jsonl => "[[sink]]\ntype = \"jsonl\"\npath = \"records.jsonl\"\n\n".into(),
            ExtraSink::Nats { url, stream } => format!(
                "[[sink]]\ntype = \"nats\"\nurl = \"{url}\"\nstream = \"{stream}\"\nsubject = \"{}.{{site}}\"\n\n",
                stream.to_lowercase()
            ),
        }
    }
}

/// Key in [`RunResult::stages`]: the pipeline's own extraction CPU per page (thread clocks
/// of its extraction workers, `newswire_extraction_cpu_seconds`).
pub const EXTRACTION_CPU_MS: &str = "extraction_cpu_ms_per_page";

pub struct RunSpec<'a> {
    pub binary: &'a Path,
    pub mode: Mode,
    pub extra_sink: Option<ExtraSink>,
    pub origin: &'a str,
    pub feeds: u32,
    /// Records after which a daemon run is stopped.
    pub expected: u64,
    /// Soak: how long to run; daemon: longest wait without a new record.
    pub duration: Duration,
    pub feed_interval: &'a str,
    pub retention: &'a str,
    /// Soak sampling period.
    pub sample_every: Duration,
    /// `pipeline.extract_workers` (0: newswire's default).
    pub extract_workers: usize,
    /// `pipeline.channel_capacity` (0: newswire's default).
    pub channel_capacity: usize,
}

/// The yardstick taken *during* a `once` run: every `every`, the pipeline is stopped
/// (SIGSTOP), `round` runs the extractor alone on this machine's otherwise idle cores, and
/// the pipeline goes on (SIGCONT). The pauses are taken out of the run's wall time, and the
/// bench's own CPU during them out of the server's.
pub struct Pauses<'a> {
    pub every: Duration,
    pub round: &'a mut dyn FnMut(),
}

/// Queue depth statistics of one queue over the samples.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Depth {
    pub max: f64,
    pub mean: f64,
    pub samples: u64,
}

/// One sample of a soak run.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub at_s: f64,
    pub rss_mib: f64,
    pub state_bytes: u64,
    pub records: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub mode: Mode,
    pub extra_sink: Option<ExtraSink>,
    pub records: u64,
    pub expected: u64,
    pub wall_s: f64,
    /// Daemon: from start until the last expected record; once: until exit, less the
    /// pauses.
    pub delivered_s: f64,
    /// Time the pipeline was stopped for the yardstick's rounds ([`Pauses`]).
    pub paused_s: f64,
    /// Daemon: from SIGTERM to exit.
    pub shutdown_s: Option<f64>,
    pub exit_code: i32,
    pub articles_per_s: f64,
    pub cpu_user_s: f64,
    pub cpu_system_s: f64,
    pub cpu_ms_per_article: f64,
    pub cores_used: f64,
    pub peak_rss_mib: f64,
    pub server_cpu_s: f64,
    pub queue_depth: BTreeMap<String, Depth>,
    /// Per-stage figures read from the last metrics scrape.
    pub stages: BTreeMap<String, f64>,
    pub state_bytes: u64,
    pub samples: Vec<Sample>,
    pub logs: PathBuf,
    /// The extractor alone in this run's pauses (`--pause-every`), pooled per thread count.
    pub yardstick_during: Vec<crate::extract_only::ExtractResult>,
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn write_config(dir: &Path, spec: &RunSpec, metrics: SocketAddr) -> anyhow::Result<PathBuf> {
    use std::fmt::Write as _;
    let mut text = format!(
        "# Written by newswire-bench.\n[state]\npath = \"state.db\"\nretention = \"{retention}\"\n\n\
         [fetch]\nconcurrency = 64\nper_host_concurrency = 64\nper_host_min_delay = \"0s\"\n\
         min_interval = \"10s\"\ntimeout = \"30s\"\nrespect_robots_txt = true\n\
         allow_private_networks = [\"127.0.0.1/32\"]\n\n[metrics]\nlisten = \"{metrics}\"\n\n\
         [[sink]]\ntype = \"stdout\"\n\n{extra}",
        retention = spec.retention,
        extra = spec
            .extra_sink
            .as_ref()
            .map(ExtraSink::config)
            .unwrap_or_default(),
    );
    let pipeline: String = [
        ("extract_workers", spec.extract_workers),
        ("channel_capacity", spec.channel_capacity),
    ]
    .iter()
    .filter(|&&(_, value)| value > 0)
    .map(|(key, value)| format!("{key} = {value}\n"))
    .collect();
    if !pipeline.is_empty() {
        let _ = writeln!(text, "[pipeline]\n{pipeline}");
    }
    for feed in 0..spec.feeds {
        let _ = writeln!(
            text,
            "[[feed]]\nurl = \"{}/feed/{feed}.xml\"\ninterval = \"{}\"\n",
            spec.origin, spec.feed_interval
        );
    }
    let path = dir.join("newswire.toml");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn state_bytes(dir: &Path) -> u64 {
    [
        "state.db",
        "state.db-wal",
        "state.db-shm",
        "state.db-journal",
    ]
    .iter()
    .filter_map(|name| std::fs::metadata(dir.join(name)).ok())
    .map(|m| m.len())
    .sum()
}

pub fn run(
    spec: &RunSpec,
    server_cpu: &dyn Fn() -> f64,
    mut pauses: Option<Pauses>,
) -> anyhow::Result<RunResult> {
    let dir = tempfile::Builder::new()
        .prefix("newswire-bench-")
        .tempdir()?;
    let metrics_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let config = write_config(dir.path(), spec, metrics_addr)?;
    let logs =
        std::env::temp_dir().join(format!("newswire-bench-{:?}.log", spec.mode).to_lowercase());
    let log_file = std::fs::File::create(&logs)?;

    let mut command = Command::new(spec.binary);
    command
        .args(["--log-level", "warn", "run", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file);
    if spec.mode == Mode::Once {
        command.arg("--once");
    }
    let server_cpu_start = server_cpu();
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", spec.binary.display()))?;
    let pid = child.id();

    // Count records (lines) on stdout in a thread of their own.
    let records = Arc::new(AtomicU64::new(0));
    let last_record_at = Arc::new(AtomicU64::new(0));
    let mut stdout = child.stdout.take().context("child stdout")?;
    let counter = {
        let records = Arc::clone(&records);
        let last = Arc::clone(&last_record_at);
        std::thread::spawn(move || {
            let mut buffer = vec![0u8; 1 << 20];
            while let Ok(n) = stdout.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let lines = buffer[..n].iter().filter(|b| **b == b'\n').count() as u64;
                if lines > 0 {
                    records.fetch_add(lines, Ordering::Relaxed);
                    last.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                }
            }
        })
    };

    // Sample memory, metrics and state size until the child exits.
    let exited = Arc::new(AtomicBool::new(false));
    let sampler = {
        let exited = Arc::clone(&exited);
        let records = Arc::clone(&records);
        let dir = dir.path().to_owned();
        let soak_every = spec.sample_every;
        std::thread::spawn(move || {
            let mut depths: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            let mut last_scrape = None;
            let mut samples = Vec::new();
            let mut next_sample = Instant::now();
            while !exited.load(Ordering::Relaxed) {
                if let Some(scrape) = probe::scrape(metrics_addr) {
                    for (queue, depth) in probe::by_label(&scrape, "newswire_queue_depth", "queue")
                    {
                        depths.entry(queue).or_default().push(depth);
                    }
                    last_scrape = Some(scrape);
                }
                if Instant::now() >= next_sample {
                    next_sample += soak_every;
                    if let Some((rss, _)) = probe::rss_kib(pid) {
                        samples.push(Sample {
                            at_s: started.elapsed().as_secs_f64(),
                            rss_mib: rss as f64 / 1024.0,
                            state_bytes: state_bytes(&dir),
                            records: records.load(Ordering::Relaxed),
                        });
                    }
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            (depths, last_scrape, samples)
        })
    };

    // Daemon and soak runs are ended by us.
    let mut signalled_at = None;
    if spec.mode != Mode::Once {
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let done = match spec.mode {
                Mode::Soak => started.elapsed() >= spec.duration,
                _ => {
                    let quiet_ms = started.elapsed().as_millis() as u64
                        - last_record_at.load(Ordering::Relaxed);
                    records.load(Ordering::Relaxed) >= spec.expected
                        || quiet_ms > spec.duration.as_millis() as u64
                }
            };
            if done || child.try_wait().ok().flatten().is_some() {
                break;
            }
        }
        signalled_at = Some(Instant::now());
        probe::terminate(pid);
    }
    let (mut paused_s, mut paused_cpu_s) = (0.0, 0.0);
    if let Some(pauses) = pauses.as_mut().filter(|_| spec.mode == Mode::Once) {
        let mut next = Instant::now() + pauses.every;
        while !probe::has_exited(pid) {
            std::thread::sleep(Duration::from_millis(50));
            if Instant::now() < next || !probe::stop(pid) {
                continue;
            }
            let (paused_at, cpu_at) = (Instant::now(), server_cpu());
            (pauses.round)();
            paused_s += paused_at.elapsed().as_secs_f64();
            paused_cpu_s += server_cpu() - cpu_at;
            probe::resume(pid);
            next = Instant::now() + pauses.every;
        }
    }
    let usage = probe::wait_child(pid)?;
    let ended = Instant::now();
    let wall_s = (ended - started).as_secs_f64();
    let server_cpu_s = server_cpu() - server_cpu_start - paused_cpu_s;
    exited.store(true, Ordering::Relaxed);
    let _ = counter.join();
    let (depths, last_scrape, samples) = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("sampler thread panicked"))?;

    let records = records.load(Ordering::Relaxed);
    let delivered_s = match spec.mode {
        Mode::Once => wall_s - paused_s,
        _ => last_record_at.load(Ordering::Relaxed) as f64 / 1000.0,
    };
    let cpu = usage.user_s + usage.system_s;
    let queue_depth = depths
        .into_iter()
        .map(|(queue, values)| {
            let max = values.iter().copied().fold(0.0, f64::max);
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            let samples = values.len() as u64;
            (queue, Depth { max, mean, samples })
        })
        .collect();
    let mut stages = BTreeMap::new();
    if let Some(scrape) = &last_scrape {
        let count = probe::sum(scrape, "newswire_extraction_seconds_count");
        let total = probe::sum(scrape, "newswire_extraction_seconds_sum");
        if count > 0.0 {
            stages.insert("extraction_ms_mean_wall".into(), total / count * 1000.0);
            stages.insert("extraction_s_total_wall".into(), total);
        }
        let cpu_count = probe::sum(scrape, "newswire_extraction_cpu_seconds_count");
        if cpu_count > 0.0 {
            let cpu_total = probe::sum(scrape, "newswire_extraction_cpu_seconds_sum");
            stages.insert(EXTRACTION_CPU_MS.into(), cpu_total / cpu_count * 1000.0);
        }
        // Per-stage time (the pipeline's `newswire_stage_seconds{stage}`): the mean per unit
        // of work and the total, wall-clock, as the stage saw it (waits included).
        let counts = probe::by_label(scrape, "newswire_stage_seconds_count", "stage");
        let totals = probe::by_label(scrape, "newswire_stage_seconds_sum", "stage");
        for (stage, total) in totals {
            let count = counts.get(&stage).copied().unwrap_or(0.0);
            if count > 0.0 {
                stages.insert(format!("{stage}_ms_mean"), total / count * 1000.0);
                stages.insert(format!("{stage}_s_total"), total);
            }
        }
        for (key, name) in [
            ("feed_polls", "newswire_feed_polls_total"),
            ("feed_failures", "newswire_feed_failures_total"),
            ("pages_fetched", "newswire_pages_fetched_total"),
            ("page_failures", "newswire_page_failures_total"),
            ("page_mib", "newswire_page_bytes_total"),
            ("duplicates", "newswire_duplicates_total"),
            ("state_commits", "newswire_state_commits_total"),
        ] {
            let mut value = probe::sum(scrape, name);
            if key == "page_mib" {
                value /= 1024.0 * 1024.0;
            }
            stages.insert(key.into(), value);
        }
    }
    Ok(RunResult {
        mode: spec.mode,
        extra_sink: spec.extra_sink.clone(),
        records,
        expected: spec.expected,
        wall_s,
        delivered_s,
        paused_s,
        shutdown_s: signalled_at.map(|at| (ended - at).as_secs_f64()),
        exit_code: usage.exit_code,
        articles_per_s: records as f64 / delivered_s.max(1e-9),
        cpu_user_s: usage.user_s,
        cpu_system_s: usage.system_s,
        cpu_ms_per_article: cpu * 1000.0 / records.max(1) as f64,
        cores_used: cpu / (wall_s - paused_s).max(1e-9),
        peak_rss_mib: usage.max_rss_kib as f64 / 1024.0,
        server_cpu_s,
        queue_depth,
        stages,
        state_bytes: state_bytes(dir.path()),
        samples,
        logs,
        yardstick_during: Vec::new(),
    })
}
