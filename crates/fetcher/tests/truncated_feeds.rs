//! A feed whose download is cut before its end (the `fetch.max_body_bytes` cap, the
//! timeout, a server that closes the connection) still yields the complete entries before
//! the cut, with a warning naming the feed URL and the cause, and without validators so
//! that the next poll downloads it in full. When nothing usable arrived, the cut stays
//! the named error it always was.
//!
//! Each case runs against its own server on 127.0.0.1 that writes raw HTTP, so that the
//! cut happens exactly where the test puts it.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use newswire_core::config::{FetchConfig, HumanDuration};
use newswire_fetcher::{FeedOutcome, FeedRequest, Fetcher, ParsedFeed, Validators};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use support::{CountingAllocator, HeapMeter, SERIAL};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const MIB: usize = 1024 * 1024;

/// How the server sends the body after the response head.
#[derive(Clone, Copy)]
enum Cut {
    /// The whole body with its Content-Length (the client's cap does the cutting).
    None,
    /// `at` bytes, then silence for longer than the client's timeout.
    Stall { at: usize },
    /// `at` bytes of a body declared longer, then the connection is closed.
    Drop { at: usize },
    /// Items without end, no Content-Length.
    Endless,
}

async fn serve(cut: Cut, body: Arc<Vec<u8>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let body = Arc::clone(&body);
            tokio::spawn(async move {
                let _ = answer(stream, cut, &body).await;
            });
        }
    });
    address
}

async fn answer(mut stream: TcpStream, cut: Cut, body: &[u8]) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..n]);
    }
    let length = match cut {
        Cut::Endless => String::new(),
        _ => format!("Content-Length: {}\r\n", body.len()),
    };
    let response_head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: \"v1\"\r\nLast-Modified: Tue, 10 Jun 2003 04:00:00 GMT\r\nConnection: close\r\n{length}\r\n"
    );
    stream.write_all(response_head.as_bytes()).await?;
    match cut {
        Cut::None => stream.write_all(body).await?,
        Cut::Stall { at } => {
            stream.write_all(&body[..at]).await?;
            stream.flush().await?;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Cut::Drop { at } => {
            stream.write_all(&body[..at]).await?;
            stream.flush().await?;
            // Dropping the stream closes the connection before the declared length.
            return Ok(());
        }
        Cut::Endless => {
            stream.write_all(HEAD.as_bytes()).await?;
            for i in 0.. {
                stream.write_all(item(i).as_bytes()).await?;
            }
        }
    }
    stream.shutdown().await
}

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Cut feed</title><link>https://news.example.org/</link>\n";

fn item(i: usize) -> String {
    format!(
        "<item><title>Story {i}</title><link>https://news.example.org/news/{i}.html</link><guid isPermaLink=\"false\">story-{i}</guid><pubDate>Tue, 10 Jun 2003 04:00:00 +0200</pubDate><author>desk@news.example.org (News Desk)</author><category>World</category><description>Summary of story {i}</description></item>\n"
    )
}

fn rss(items: usize) -> String {
    let mut feed = String::from(HEAD);
    for i in 0..items {
        feed.push_str(&item(i));
    }
    feed.push_str("</channel></rss>\n");
    feed
}

/// Where item `index` ends in [`rss`]'s text.
fn end_of_item(index: usize) -> usize {
    HEAD.len() + (0..=index).map(|i| item(i).len()).sum::<usize>()
}

fn config(max_body_bytes: u64, timeout: Duration) -> FetchConfig {
    FetchConfig {
        allow_private_networks: vec!["127.0.0.1/32".parse().unwrap()],
        per_host_min_delay: HumanDuration(Duration::ZERO),
        timeout: HumanDuration(timeout),
        connect_timeout: HumanDuration(Duration::from_secs(1)),
        max_body_bytes,
        retries: 0,
        respect_robots_txt: false,
        ..FetchConfig::default()
    }
}

async fn poll(
    address: SocketAddr,
    config: &FetchConfig,
) -> (Url, Result<FeedOutcome, newswire_fetcher::FetchError>) {
    let url = Url::parse(&format!("http://{address}/feed.xml")).unwrap();
    let fetcher = Fetcher::builder(config)
        .retry_base_delay(Duration::from_millis(20))
        .build()
        .unwrap();
    let request = FeedRequest {
        url: url.clone(),
        validators: Validators::default(),
    };
    let outcome = fetcher.fetch_feed(&request).await;
    (url, outcome)
}

/// The outcome is a truncated poll without validators whose warning names the URL and
/// `cause`; returns its feed.
fn truncated(url: &Url, outcome: FeedOutcome, cause: &str) -> ParsedFeed {
    let FeedOutcome::Fetched {
        feed,
        validators,
        truncated,
        ..
    } = outcome
    else {
        panic!("expected a fetched feed, got 304");
    };
    assert!(truncated, "the poll is not marked truncated");
    assert_eq!(
        validators,
        Validators::default(),
        "validators of a cut body must not be remembered"
    );
    let warning = feed
        .warnings
        .iter()
        .find(|w| w.contains("body cut"))
        .unwrap_or_else(|| panic!("no truncation warning in {:?}", feed.warnings));
    assert!(
        warning.contains(url.as_str()),
        "warning does not name {url}: {warning}"
    );
    assert!(
        warning.contains(cause),
        "warning does not say {cause:?}: {warning}"
    );
    println!("{warning}");
    feed
}

/// The entries are exactly stories 0..`count`, each with every field of a complete entry.
fn assert_complete_entries(feed: &ParsedFeed, count: usize) {
    assert_eq!(feed.title.as_deref(), Some("Cut feed"));
    let titles: Vec<&str> = feed
        .entries
        .iter()
        .map(|e| e.title.as_deref().unwrap_or(""))
        .collect();
    let expected: Vec<String> = (0..count).map(|i| format!("Story {i}")).collect();
    assert_eq!(titles, expected);
    for (i, entry) in feed.entries.iter().enumerate() {
        assert_eq!(entry.id.as_deref(), Some(format!("story-{i}").as_str()));
        assert_eq!(
            entry.link.as_ref().map(Url::as_str),
            Some(format!("https://news.example.org/news/{i}.html").as_str())
        );
        assert_eq!(
            entry.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2003-06-10T02:00:00+00:00")
        );
        assert_eq!(entry.categories, vec!["World".to_string()]);
        assert_eq!(
            entry.summary.as_deref(),
            Some(format!("Summary of story {i}").as_str())
        );
    }
}

#[tokio::test]
async fn feed_over_the_size_cap_keeps_the_entries_before_the_cap() {
    let _serial = SERIAL.lock().await;
    let body = rss(50);
    // The cap falls in the middle of item 10: items 0..=9 are complete.
    let cap = end_of_item(9) + item(10).len() / 2;
    let address = serve(Cut::None, Arc::new(body.into_bytes())).await;
    let (url, outcome) = poll(address, &config(cap as u64, Duration::from_secs(5))).await;
    let feed = truncated(&url, outcome.unwrap(), "max_body_bytes");
    assert_complete_entries(&feed, 10);
}

#[tokio::test]
async fn feed_stalling_mid_body_past_the_timeout_keeps_the_entries_before_the_stall() {
    let _serial = SERIAL.lock().await;
    let body = rss(50);
    let at = end_of_item(6) + 40;
    let address = serve(Cut::Stall { at }, Arc::new(body.into_bytes())).await;
    let started = Instant::now();
    let (url, outcome) = poll(address, &config(MIB as u64, Duration::from_millis(800))).await;
    let elapsed = started.elapsed();
    let feed = truncated(&url, outcome.unwrap(), "timed out");
    assert_complete_entries(&feed, 7);
    assert!(elapsed < Duration::from_secs(3), "cut after {elapsed:?}");
}

#[tokio::test]
async fn feed_whose_server_drops_the_connection_keeps_the_entries_before_the_drop() {
    let _serial = SERIAL.lock().await;
    let body = rss(50);
    let at = end_of_item(3) + 15;
    let address = serve(Cut::Drop { at }, Arc::new(body.into_bytes())).await;
    let (url, outcome) = poll(address, &config(MIB as u64, Duration::from_secs(5))).await;
    let feed = truncated(&url, outcome.unwrap(), "reading the body failed");
    assert_complete_entries(&feed, 4);
}

#[tokio::test]
async fn endless_feed_stops_at_the_cap_with_bounded_memory() {
    let _serial = SERIAL.lock().await;
    let address = serve(Cut::Endless, Arc::new(Vec::new())).await;
    let cap = 256 * 1024;
    let meter = HeapMeter::start();
    let (url, outcome) = poll(address, &config(cap as u64, Duration::from_secs(10))).await;
    let feed = truncated(&url, outcome.unwrap(), "max_body_bytes");
    let growth = meter.peak_growth();
    let complete = (0..).take_while(|&i| end_of_item(i) <= cap).count();
    assert_complete_entries(&feed, complete);
    println!("endless feed: {complete} entries; peak heap growth {growth} bytes");
    assert!(growth < 16 * MIB, "peak heap growth {growth} bytes");
}

#[tokio::test]
async fn a_cut_before_the_first_complete_entry_stays_the_named_error() {
    let _serial = SERIAL.lock().await;
    let body = rss(50);
    let cases = [
        (Cut::None, HEAD.len() + 30, "too_large"),
        (
            Cut::Drop {
                at: HEAD.len() + 30,
            },
            MIB,
            "body",
        ),
        (Cut::Drop { at: 0 }, MIB, "body"),
        (Cut::Stall { at: 20 }, MIB, "timeout"),
    ];
    for (cut, cap, kind) in cases {
        let address = serve(cut, Arc::new(body.clone().into_bytes())).await;
        let (url, outcome) = poll(address, &config(cap as u64, Duration::from_millis(800))).await;
        let error = outcome.expect_err("nothing usable arrived");
        assert_eq!(error.kind(), kind, "{error}");
        assert!(error.to_string().contains(url.as_str()), "{error}");
    }
}
