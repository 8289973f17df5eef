//! Crash safety, end to end: the daemon is killed with SIGKILL again and again while it
//! delivers 320 articles from 10 feeds to a rotating, compressing JSONL sink, and restarted
//! each time. At the end every article is in the output exactly once, every line is whole
//! JSON, and the state has committed everything the files hold (no uncommitted tail).
//!
//! Kills are aimed, not only random: some land at a random moment, some the instant a
//! file grows (between a flush and its state commit), some the instant a new file appears
//! (between a rotation and its commit). The restarted daemon's log says what it repaired,
//! which the test counts and prints. The randomness is seeded; the seed is printed and
//! `NEWSWIRE_CRASH_SEED=<seed>` replays a run.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{FixtureServer, Resource, newswire_bin, run_newswire};
use newswire_sink::JsonlPosition;
use newswire_state::{SqliteState, StateStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FEEDS: usize = 10;
const ARTICLES_PER_FEED: usize = 32;
/// Each feed also links this many articles of the next feed, with tracking parameters:
/// the same article reached twice, which must still give one record.
const CROSS_LINKS: usize = 3;
const KILLS: usize = 18;
const SINK_NAME: &str = "jsonl:out/records-{seq}.jsonl";

/// Pseudo-words from syllables: every article gets its own text, so no two are near
/// duplicates and each one's record is recognisable.
fn sentence(rng: &mut StdRng, words: usize) -> String {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ren", "ta", "vos", "dun", "pe", "sa", "gor", "li", "ma", "te", "bar",
        "no", "fi", "zu", "hal", "co", "ner", "wi", "ost", "ra", "quen",
    ];
    let mut out = Vec::with_capacity(words);
    for _ in 0..words {
        let n = rng.random_range(2..4);
        let word: String = (0..n)
            .map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())])
            .collect();
        out.push(word);
    }
    let mut text = out.join(" ");
    text.push('.');
    text
}

fn article_page(rng: &mut StdRng, feed: usize, n: usize) -> String {
    let paragraphs: String = (0..3)
        .map(|_| format!("<p>{} {}</p>", sentence(rng, 25), sentence(rng, 20)))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Story {feed}-{n}</title></head>\
         <body><nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav><main><article>\
         <h1>Story {feed}-{n}</h1>{paragraphs}</article></main><footer>Footer</footer></body></html>"
    )
}

fn article_path(feed: usize, n: usize) -> String {
    format!("/f{feed}/story-{n}")
}

fn serve(server: &FixtureServer, rng: &mut StdRng) {
    let base = server.url("");
    for feed in 0..FEEDS {
        for n in 0..ARTICLES_PER_FEED {
            let page = article_page(rng, feed, n);
            server.put(
                &article_path(feed, n),
                Resource::ok("text/html", page.clone()),
            );
            if n < CROSS_LINKS {
                // The cross-linked copy, as requested by the other feed's link.
                let tracked = format!(
                    "{}?utm_source=feed{}&utm_medium=rss&fbclid=xyz",
                    article_path(feed, n),
                    (feed + FEEDS - 1) % FEEDS
                );
                server.put(&tracked, Resource::ok("text/html", page));
            }
        }
    }
    for feed in 0..FEEDS {
        let mut items = String::new();
        for n in 0..ARTICLES_PER_FEED {
            items.push_str(&format!(
                "<item><title>Story {feed}-{n}</title><link>{base}{}</link><guid>f{feed}-{n}</guid></item>",
                article_path(feed, n)
            ));
        }
        let next = (feed + 1) % FEEDS;
        for n in 0..CROSS_LINKS {
            items.push_str(&format!(
                "<item><title>Story {next}-{n}</title><link>{base}{}?utm_source=feed{feed}&amp;utm_medium=rss&amp;fbclid=xyz</link><guid>x{feed}-{next}-{n}</guid></item>",
                article_path(next, n)
            ));
        }
        server.put(
            &format!("/feed{feed}.xml"),
            Resource::ok(
                "application/rss+xml",
                format!(
                    "<rss version=\"2.0\"><channel><title>Feed {feed}</title><link>{base}/</link>{items}</channel></rss>"
                ),
            ),
        );
    }
}

fn write_config(dir: &Path, server: &FixtureServer) -> PathBuf {
    let mut text = String::from(
        "[state]\npath = \"state/newswire.db\"\n\n\
         [fetch]\nallow_private_networks = [\"127.0.0.1/32\"]\n\
         per_host_min_delay = \"10ms\"\nper_host_concurrency = 2\nconcurrency = 4\nretries = 0\n\n\
         [[sink]]\ntype = \"jsonl\"\npath = \"out/records-{seq}.jsonl\"\n\
         flush_records = 4\nflush_interval = \"30ms\"\nrotate_bytes = 12000\ncompress = \"zstd\"\n\n",
    );
    for feed in 0..FEEDS {
        text.push_str(&format!(
            "[[feed]]\nurl = \"{}\"\ninterval = \"2s\"\n\n",
            server.url(&format!("/feed{feed}.xml"))
        ));
    }
    let path = dir.join("newswire.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// Every file of the sink with its length (0 for a file that vanished meanwhile).
fn snapshot(out: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(out)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                    name.starts_with("records-").then_some((name, len))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How the next kill is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Aim {
    /// After a random delay.
    Random,
    /// The moment a file grows: the flush is done, its commit may not be.
    OnWrite,
    /// The moment a new file appears: a rotation, whose commit may not be done.
    OnRotation,
}

fn start_daemon(config: &Path, dir: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("create log");
    Command::new(newswire_bin())
        .args(["run", "--config", config.to_str().expect("utf-8 path")])
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start daemon")
}

/// Waits as `aim` says (at most `limit`); returns whether the awaited event was seen.
fn wait_for(aim: Aim, out: &Path, rng: &mut StdRng, limit: Duration) -> bool {
    let start = Instant::now();
    match aim {
        Aim::Random => {
            std::thread::sleep(Duration::from_millis(rng.random_range(50..700)));
            true
        }
        Aim::OnWrite | Aim::OnRotation => {
            let before = snapshot(out);
            // Let a random amount of work pass first, so kills do not all hit the start.
            std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
            let before_names: HashSet<&String> = before.keys().collect();
            while start.elapsed() < limit {
                let now = snapshot(out);
                let seen = match aim {
                    Aim::OnRotation => now.keys().any(|name| {
                        !before_names.contains(name)
                            && name.ends_with(".jsonl")
                            && !before.contains_key(name)
                    }),
                    _ => now.iter().any(|(name, len)| {
                        name.ends_with(".jsonl") && before.get(name) != Some(len)
                    }),
                };
                if seen {
                    return true;
                }
                std::thread::yield_now();
            }
            false
        }
    }
}

/// Every line of every output file (compressed ones too), parsed; panics on a broken line.
fn read_all_records(out: &Path) -> Vec<serde_json::Value> {
    let mut names: Vec<String> = snapshot(out).into_keys().collect();
    names.sort();
    let mut records = Vec::new();
    for name in names {
        assert!(
            name.ends_with(".jsonl") || name.ends_with(".jsonl.zst"),
            "unexpected leftover file {name}"
        );
        let bytes = newswire_sink::jsonl::read_file(&out.join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{name}: not UTF-8: {e}"));
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{name} ends in the middle of a line"
        );
        for (n, line) in text.lines().enumerate() {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}:{}: incomplete JSON ({e}): {line:.80}", n + 1));
            records.push(value);
        }
    }
    records
}

#[test]
fn sigkill_at_any_moment_loses_and_doubles_nothing() {
    let seed: u64 = std::env::var("NEWSWIRE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(42)
        });
    eprintln!("crash test seed: {seed} (replay with NEWSWIRE_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let test_start = Instant::now();

    let server = FixtureServer::start();
    serve(&server, &mut rng);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &server);
    let out = dir.path().join("out");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");

    let mut kills_by_aim: BTreeMap<Aim, usize> = BTreeMap::new();
    let mut missed_aims = 0;
    let mut run = 0;
    for _ in 0..KILLS {
        let aim = match rng.random_range(0..3) {
            0 => Aim::Random,
            1 => Aim::OnWrite,
            _ => Aim::OnRotation,
        };
        let mut child = start_daemon(&config, dir.path(), &logs.join(format!("run-{run:02}.log")));
        run += 1;
        if !wait_for(aim, &out, &mut rng, Duration::from_secs(3)) {
            missed_aims += 1;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(logs.join(format!("run-{:02}.log", run - 1)))
                .unwrap_or_default();
            panic!("daemon exited by itself ({status}) before the kill:\n{log}");
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        *kills_by_aim.entry(aim).or_default() += 1;
    }

    // After the last kill, a clean pass delivers whatever is left.
    let final_pass = run_newswire(
        &[
            "run",
            "--once",
            "--config",
            config.to_str().expect("utf-8 path"),
        ],
        dir.path(),
    );
    let final_log = String::from_utf8_lossy(&final_pass.stderr).into_owned();
    std::fs::write(logs.join(format!("run-{run:02}.log")), &final_log).expect("write log");
    assert!(
        final_pass.status.success(),
        "final pass failed:\n{final_log}"
    );

    // What the restarts had to repair, from their logs.
    let mut truncated_tails = 0;
    let mut removed_files = 0;
    for entry in std::fs::read_dir(&logs).expect("logs").flatten() {
        let log = std::fs::read_to_string(entry.path()).unwrap_or_default();
        truncated_tails += log
            .matches("truncating records written after the last commit")
            .count();
        removed_files += log
            .matches("removing file written after the last commit")
            .count();
    }

    let records = read_all_records(&out);
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for record in &records {
        let id = record["id"].as_str().expect("record id").to_string();
        *by_id.entry(id).or_default() += 1;
    }
    let doubled: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    let expected_urls: HashSet<String> = (0..FEEDS)
        .flat_map(|f| (0..ARTICLES_PER_FEED).map(move |n| (f, n)))
        .map(|(f, n)| server.url(&article_path(f, n)))
        .collect();
    let delivered_urls: HashSet<String> = records
        .iter()
        .filter_map(|r| r["canonical_url"].as_str().or(r["url"].as_str()))
        .map(|u| u.to_string())
        .collect();
    let missing: Vec<_> = expected_urls.difference(&delivered_urls).collect();

    let compressed = snapshot(&out)
        .keys()
        .filter(|name| name.ends_with(".zst"))
        .count();
    let kills: usize = kills_by_aim.values().sum();
    eprintln!(
        "crash test: seed {seed}, {kills} SIGKILLs {kills_by_aim:?} ({missed_aims} aimed kills fell back to the time limit), \
         {} records checked, {} unique, {} cross-linked duplicates collapsed; restarts truncated {truncated_tails} \
         uncommitted tails and removed {removed_files} files from uncommitted rotations; \
         {compressed} closed files compressed; {:.1}s",
        records.len(),
        by_id.len(),
        FEEDS * CROSS_LINKS,
        test_start.elapsed().as_secs_f64()
    );
    assert!(
        truncated_tails + removed_files >= 1,
        "no kill landed between a flush and its commit; the test proved less than it claims"
    );
    assert!(compressed >= 1, "rotated files are compressed");
    assert!(doubled.is_empty(), "records delivered twice: {doubled:?}");
    assert!(missing.is_empty(), "articles never delivered: {missing:?}");
    assert_eq!(records.len(), FEEDS * ARTICLES_PER_FEED);

    // Nothing uncommitted is left: the committed position is the end of the output, and
    // the state knows every delivered id.
    let state = SqliteState::open_read_only(dir.path().join("state/newswire.db")).expect("state");
    let position = state
        .sink_position(SINK_NAME)
        .expect("read position")
        .expect("a committed position");
    let position: JsonlPosition = serde_json::from_str(&position.data).expect("position JSON");
    let files = snapshot(&out);
    assert_eq!(
        files.get(&position.file).copied(),
        Some(position.offset),
        "the active file ends at the committed offset ({files:?})"
    );
    let beyond: Vec<_> = files
        .keys()
        .filter(|name| name.as_str() > position.file.as_str() && !name.starts_with(&position.file))
        .collect();
    assert!(
        beyond.is_empty(),
        "files beyond the committed one: {beyond:?}"
    );
    for id in by_id.keys() {
        assert!(
            state.is_emitted(id).expect("is_emitted"),
            "{id} delivered but not committed"
        );
    }
    assert_eq!(
        state.stats().expect("stats").emitted_records,
        by_id.len() as u64
    );
    assert!(
        test_start.elapsed() < Duration::from_secs(120),
        "the crash test must stay under 2 minutes"
    );
}
