//! A feed whose every link points at the same slow host (each page answered after 2 s)
//! stays bounded end to end: the slow host never gets more than
//! `fetch.per_host_concurrency` requests at once, one poll takes at most
//! `fetch.max_entries_per_poll` of its entries (the rest wait for the next poll instead
//! of queueing page fetches), other feeds' records arrive while the slow pages are still
//! being fetched, the run ends within a time bound and the process's resident memory
//! stays under a bound.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{FixtureServer, Resource, newswire_bin, read_records, story_page, write_config};

/// Entries of the hostile feed, all on the slow host.
const SLOW_ENTRIES: usize = 60;
/// What one poll may take of them.
const PER_POLL: usize = 12;
const PER_HOST: usize = 2;
const SLOW_PAGE: Duration = Duration::from_secs(2);
/// Other feeds, each with a few entries on a responsive host.
const OTHER_FEEDS: usize = 3;
const OTHER_ENTRIES: usize = 4;
/// 12 slow pages, 2 at a time, take 12 s; the rest is a ceiling for a debug build on a
/// loaded machine (a run that fetched all 60 entries would take 60 s at least).
const RUN_BOUND: Duration = Duration::from_secs(50);
/// Resident memory ceiling of the `newswire` process (debug build).
const RSS_BOUND_KIB: u64 = 400 * 1024;

fn item(base: &str, path: &str, n: usize) -> String {
    format!(
        "<item><title>Entry {n}</title><link>{base}{path}</link><guid>{base}{path}</guid></item>"
    )
}

fn rss(title: &str, items: &str) -> String {
    format!("<rss version=\"2.0\"><channel><title>{title}</title>{items}</channel></rss>")
}

/// The largest resident set (`VmHWM`) of a running process, in KiB, if it can be read.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Serves the hostile feed (on the responsive host, like the other feeds) whose links all
/// point at `slow`; returns the feed URLs, hostile first.
fn serve_feeds(feeds: &FixtureServer, slow: &FixtureServer) -> Vec<String> {
    let slow_base = slow.url("");
    let mut items = String::new();
    for n in 0..SLOW_ENTRIES {
        let path = format!("/slow/{n}");
        let page = story_page(&format!(
            "Slow host story {n} about a delayed ferry crossing"
        ));
        slow.put_slow(&path, Resource::ok("text/html", page), SLOW_PAGE);
        items.push_str(&item(&slow_base, &path, n));
    }
    feeds.put(
        "/hostile.xml",
        Resource::ok("application/rss+xml", rss("Hostile", &items)),
    );
    let mut urls = vec![feeds.url("/hostile.xml")];
    let base = feeds.url("");
    for f in 0..OTHER_FEEDS {
        let mut items = String::new();
        for n in 0..OTHER_ENTRIES {
            let path = format!("/other/{f}/{n}");
            let title = format!("Responsive feed {f} reports on the harbour market, part {n}");
            feeds.put(&path, Resource::ok("text/html", story_page(&title)));
            items.push_str(&item(&base, &path, n));
        }
        let feed_path = format!("/other-{f}.xml");
        feeds.put(
            &feed_path,
            Resource::ok("application/rss+xml", rss(&format!("Other {f}"), &items)),
        );
        urls.push(feeds.url(&feed_path));
    }
    urls
}

#[test]
fn a_feed_of_links_to_one_slow_host_stays_bounded_and_does_not_hold_up_other_feeds() {
    let feeds = FixtureServer::start();
    let slow = FixtureServer::start();
    let feed_urls = serve_feeds(&feeds, &slow);
    let dir = tempfile::tempdir().expect("temp dir");
    let feed_tables: String = feed_urls
        .iter()
        .map(|url| format!("[[feed]]\nurl = \"{url}\"\n\n"))
        .collect();
    let config = write_config(
        dir.path(),
        &format!(
            "per_host_concurrency = {PER_HOST}\nmax_entries_per_poll = {PER_POLL}\n\
             timeout = \"10s\"\nrespect_robots_txt = false\n\n\
             [[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 1\n\n\
             {feed_tables}"
        ),
    );
    let out = dir.path().join("out");
    let log_path = dir.path().join("newswire.log");
    let log = std::fs::File::create(&log_path).expect("create log file");

    let started = Instant::now();
    let mut child = Command::new(newswire_bin())
        .args(["run", "--once", "--config"])
        .arg(&config)
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start newswire");
    let mut peak_kib = 0;
    // How many slow-host records had arrived when the last other-feed record arrived.
    let mut slow_records_when_others_done = None;
    let status = loop {
        if let Some(kib) = peak_rss_kib(child.id()) {
            peak_kib = peak_kib.max(kib);
        }
        if slow_records_when_others_done.is_none() {
            let records = read_records(&out);
            let slow_base = slow.url("");
            let (from_slow, from_others): (Vec<_>, Vec<_>) = records
                .iter()
                .filter_map(|r| r["url"].as_str())
                .partition(|url| url.starts_with(&slow_base));
            if from_others.len() == OTHER_FEEDS * OTHER_ENTRIES {
                slow_records_when_others_done = Some(from_slow.len());
            }
        }
        if let Some(status) = child.try_wait().expect("wait for newswire") {
            break status;
        }
        if started.elapsed() > RUN_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not end within {RUN_BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = started.elapsed();
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "{stderr}");
    println!(
        "run took {:.1} s, peak RSS {} MiB, slow in flight at most {}",
        took.as_secs_f64(),
        peak_kib / 1024,
        slow.slow_in_flight_peak()
    );

    let records = read_records(&out);
    let slow_base = slow.url("");
    let from_slow = records
        .iter()
        .filter_map(|r| r["url"].as_str())
        .filter(|url| url.starts_with(&slow_base))
        .count();
    assert_eq!(
        records.len() - from_slow,
        OTHER_FEEDS * OTHER_ENTRIES,
        "every record of the other feeds arrived: {stderr}"
    );
    assert_eq!(
        from_slow, PER_POLL,
        "one poll took {PER_POLL} slow entries: {stderr}"
    );
    let slow_requests = slow
        .requests
        .lock()
        .map(|r| r.len())
        .unwrap_or_else(|e| e.into_inner().len());
    assert_eq!(
        slow_requests, PER_POLL,
        "page fetches from one poll are bounded by max_entries_per_poll"
    );
    assert!(
        slow.slow_in_flight_peak() <= PER_HOST,
        "at most {PER_HOST} requests at once to the slow host, saw {}",
        slow.slow_in_flight_peak()
    );
    assert!(
        stderr.contains("max_entries_per_poll") && stderr.contains(&feed_urls[0]),
        "the entries left for the next poll are reported naming the feed: {stderr}"
    );
    let slow_then = slow_records_when_others_done.expect("the other feeds' records arrived");
    assert!(
        slow_then <= PER_POLL / 2,
        "the other feeds were delivered while the slow host was still being fetched \
         ({slow_then} of {PER_POLL} slow records had arrived before them)"
    );
    assert!(
        peak_kib > 0 && peak_kib < RSS_BOUND_KIB,
        "peak RSS {peak_kib} KiB (0: /proc/<pid>/status unreadable)"
    );
}
