//! The fetcher against a hostile web: one small named case per way a server can misbehave.
//!
//! Every case runs a raw HTTP server on `127.0.0.1:0` written here on a `TcpListener`, so
//! that the test controls every byte (slow drips, endless bodies, compression bombs,
//! redirect loops, rate limits). Nothing leaves 127.0.0.0/8. Each case ends in a correct
//! result or a clear error naming the URL. A counting global allocator measures the peak
//! heap growth of each case; the cases run one at a time so that the peaks are their own.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use newswire_core::config::{FetchConfig, HumanDuration};
use newswire_fetcher::{
    FeedOutcome, FeedRequest, FetchError, Fetcher, PageOutcome, PagePolicy, Validators,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use support::{CountingAllocator, HeapMeter, SERIAL};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const MIB: usize = 1024 * 1024;

// ---------------------------------------------------------------------------------------
// The adversarial server

#[derive(Debug)]
struct Request {
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Reply {
    /// A complete response with Content-Length.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Headers, then one byte per interval, forever.
    Drip { every: Duration },
    /// A body with no length that never ends.
    Endless { content_type: &'static str },
    /// Raw bytes, not necessarily HTTP.
    Raw(Vec<u8>),
    /// Accepts the request and never answers.
    Silent,
}

fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    Reply::Full {
        status: 200,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.into(),
    }
}

fn status(code: u16, headers: &[(&str, &str)]) -> Reply {
    Reply::Full {
        status: code,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: Vec::new(),
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

struct TestServer {
    address: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl TestServer {
    /// Starts a server; `handler` gets each request and how many times its path was hit
    /// before (0 for the first).
    async fn start(
        handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let handler: Arc<Handler> = Arc::new(handler);
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let (hits_task, seen_task) = (hits.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let hits = hits_task.clone();
                let seen = seen_task.clone();
                tokio::spawn(async move {
                    let _ = serve_connection(stream, handler, hits, seen).await;
                });
            }
        });
        TestServer {
            address,
            hits,
            seen,
        }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.address)).unwrap()
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    seen: Arc<Mutex<Vec<Request>>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let request = Request { path, headers };
    let previous = {
        let mut hits = hits.lock().unwrap();
        let count = hits.entry(request.path.clone()).or_insert(0);
        *count += 1;
        *count - 1
    };
    let reply = handler(&request, previous);
    seen.lock().unwrap().push(request);
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut response = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
            for (name, value) in headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            if status != 304 {
                response.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            response.push_str("\r\n");
            stream.write_all(response.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        Reply::Drip { every } => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>")
                .await?;
            loop {
                tokio::time::sleep(every).await;
                stream.write_all(b"x").await?;
            }
        }
        Reply::Raw(bytes) => stream.write_all(&bytes).await?,
        Reply::Silent => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Reply::Endless { content_type } => {
            stream
                .write_all(
                    format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await?;
            let chunk = vec![b'a'; 64 * 1024];
            loop {
                stream.write_all(&chunk).await?;
            }
        }
    }
    stream.shutdown().await
}

// ---------------------------------------------------------------------------------------
// Helpers

fn test_config() -> FetchConfig {
    FetchConfig {
        allow_private_networks: vec!["127.0.0.1/32".parse().unwrap()],
        per_host_min_delay: HumanDuration(Duration::ZERO),
        timeout: HumanDuration(Duration::from_secs(3)),
        connect_timeout: HumanDuration(Duration::from_secs(1)),
        max_body_bytes: MIB as u64,
        retries: 2,
        respect_robots_txt: false,
        ..FetchConfig::default()
    }
}

fn fetcher(config: &FetchConfig) -> Fetcher {
    Fetcher::builder(config)
        .retry_base_delay(Duration::from_millis(20))
        .max_retry_wait(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn feed_request(url: Url) -> FeedRequest {
    FeedRequest {
        url,
        validators: Validators::default(),
    }
}

fn no_robots() -> PagePolicy {
    PagePolicy {
        respect_robots_txt: false,
        allow_file_under: None,
    }
}

fn rss(items: usize) -> String {
    let mut feed = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Test feed</title><link>https://news.example.org/</link>\n",
    );
    for i in 0..items {
        feed.push_str(&format!(
            "<item><title>Story {i}</title><link>/news/{i}.html</link><guid isPermaLink=\"false\">story-{i}</guid><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate><description>Summary of story {i}</description></item>\n"
        ));
    }
    feed.push_str("</channel></rss>\n");
    feed
}

fn fetched(outcome: FeedOutcome) -> newswire_fetcher::ParsedFeed {
    match outcome {
        FeedOutcome::Fetched { feed, .. } => feed,
        FeedOutcome::NotModified { .. } => panic!("expected a fetched feed, got 304"),
    }
}

/// Polls `url` as a feed, expecting an error of `kind` whose message names the URL.
async fn feed_error(fetcher: &Fetcher, url: &Url, kind: &str) -> FetchError {
    let error = fetcher
        .fetch_feed(&feed_request(url.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), kind, "{error}");
    assert_names_url(&error, url);
    error
}

/// Downloads `url` as a page (robots.txt ignored), expecting an error of `kind` that
/// names the URL.
async fn page_error(fetcher: &Fetcher, url: &Url, kind: &str) -> FetchError {
    let error = fetcher.fetch_page(url, &no_robots()).await.unwrap_err();
    assert_eq!(error.kind(), kind, "{error}");
    assert_names_url(&error, url);
    error
}

fn assert_names_url(error: &FetchError, url: &Url) {
    assert!(
        error.to_string().contains(url.as_str()),
        "error does not name {url}: {error}"
    );
}

const RUSSIAN: &str =
    "Президент России заявил журналистам, что переговоры продолжатся на следующей неделе.";
const FRENCH: &str = "Le café de l'été coûte très cher à Noël, déclare le ministre.";

// ---------------------------------------------------------------------------------------
// Cases

#[tokio::test]
async fn not_modified_on_second_poll() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|request, _| {
        if request.header("If-None-Match") == Some("\"v1\"") {
            return status(304, &[("ETag", "\"v1\"")]);
        }
        Reply::Full {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "application/rss+xml".into()),
                ("ETag".into(), "\"v1\"".into()),
                (
                    "Last-Modified".into(),
                    "Tue, 10 Jun 2003 04:00:00 GMT".into(),
                ),
                ("Cache-Control".into(), "max-age=900".into()),
            ],
            body: rss(2).into_bytes(),
        }
    })
    .await;
    let fetcher = fetcher(&test_config());
    let url = server.url("/feed.xml");
    let first = fetcher
        .fetch_feed(&feed_request(url.clone()))
        .await
        .unwrap();
    let FeedOutcome::Fetched {
        feed,
        validators,
        header_hint,
        ..
    } = first
    else {
        panic!("first poll must fetch");
    };
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        validators.last_modified.as_deref(),
        Some("Tue, 10 Jun 2003 04:00:00 GMT")
    );
    assert_eq!(header_hint, Some(Duration::from_secs(900)));

    let second = fetcher
        .fetch_feed(&FeedRequest {
            url: url.clone(),
            validators: validators.clone(),
        })
        .await
        .unwrap();
    let FeedOutcome::NotModified {
        validators: kept, ..
    } = second
    else {
        panic!("second poll must be 304");
    };
    assert_eq!(kept, validators);
    let seen = server.seen.lock().unwrap();
    assert_eq!(
        seen[1].header("If-Modified-Since"),
        Some("Tue, 10 Jun 2003 04:00:00 GMT")
    );
}

#[tokio::test]
async fn slow_drip_body_is_cut_off_by_the_request_timeout() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| Reply::Drip {
        every: Duration::from_millis(100),
    })
    .await;
    let config = FetchConfig {
        timeout: HumanDuration(Duration::from_secs(1)),
        retries: 0,
        ..test_config()
    };
    let url = server.url("/slow");
    let started = Instant::now();
    let error = fetcher(&config)
        .fetch_page(&url, &no_robots())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), "timeout", "{error}");
    assert_names_url(&error, &url);
    assert!(
        elapsed < Duration::from_secs(3),
        "cut off after {elapsed:?}"
    );
    println!("slow drip: {error} after {elapsed:?}");
}

#[tokio::test]
async fn endless_body_is_cut_at_max_body_bytes() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| Reply::Endless {
        content_type: "text/html",
    })
    .await;
    let meter = HeapMeter::start();
    let url = server.url("/endless");
    let error = page_error(&fetcher(&test_config()), &url, "too_large").await;
    let growth = meter.peak_growth();
    println!("endless body: {error}; peak heap growth {growth} bytes");
    assert!(growth < 8 * MIB, "peak heap growth {growth} bytes");
}

fn gzip_bomb(decompressed: usize) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; MIB];
    for _ in 0..decompressed / MIB {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

#[tokio::test]
async fn gzip_bomb_is_stopped_early() {
    let _serial = SERIAL.lock().await;
    let bomb = Arc::new(gzip_bomb(64 * MIB));
    let bomb_size = bomb.len();
    let server = TestServer::start(move |_, _| Reply::Full {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/rss+xml".into()),
            ("Content-Encoding".into(), "gzip".into()),
        ],
        body: bomb.to_vec(),
    })
    .await;
    let meter = HeapMeter::start();
    let url = server.url("/bomb.xml");
    let error = feed_error(&fetcher(&test_config()), &url, "too_large").await;
    let growth = meter.peak_growth();
    println!(
        "gzip bomb: {bomb_size} bytes on the wire, 64 MiB inflated: {error}; peak heap growth {growth} bytes"
    );
    // The server task's own copy of the bomb is counted too.
    assert!(
        growth < bomb_size + 8 * MIB,
        "peak heap growth {growth} bytes"
    );
}

#[tokio::test]
async fn deflate_bomb_is_stopped_early() {
    use std::io::Write;
    let _serial = SERIAL.lock().await;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; MIB];
    for _ in 0..32 {
        encoder.write_all(&zeros).unwrap();
    }
    let bomb = Arc::new(encoder.finish().unwrap());
    let server = TestServer::start(move |_, _| Reply::Full {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "text/html".into()),
            ("Content-Encoding".into(), "deflate".into()),
        ],
        body: bomb.to_vec(),
    })
    .await;
    let meter = HeapMeter::start();
    let url = server.url("/bomb.html");
    let error = fetcher(&test_config())
        .fetch_page(&url, &no_robots())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "too_large", "{error}");
    let growth = meter.peak_growth();
    println!("deflate bomb: {error}; peak heap growth {growth} bytes");
    assert!(growth < 8 * MIB, "peak heap growth {growth} bytes");
}

#[tokio::test]
async fn redirect_loop_is_detected() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|request, _| match request.path.as_str() {
        "/a" => status(302, &[("Location", "/b")]),
        "/b" => status(301, &[("Location", "/a#again")]),
        path => {
            // /r/N redirects to /r/N+1 forever, with no loop.
            let n: u32 = path.trim_start_matches("/r/").parse().unwrap_or(0);
            status(302, &[("Location", &format!("/r/{}", n + 1))])
        }
    })
    .await;
    let fetcher = fetcher(&test_config());
    let url = server.url("/a");
    feed_error(&fetcher, &url, "redirect_loop").await;
    assert_eq!(server.hits("/a"), 1);

    let url = server.url("/r/0");
    let error = feed_error(&fetcher, &url, "redirects").await;
    println!("redirects: {error}");
}

#[tokio::test]
async fn rate_limited_429_with_retry_after_then_success() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, previous| {
        if previous == 0 {
            status(429, &[("Retry-After", "1")])
        } else {
            ok("application/rss+xml", rss(3))
        }
    })
    .await;
    let started = Instant::now();
    let url = server.url("/feed");
    let feed = fetched(
        fetcher(&test_config())
            .fetch_feed(&feed_request(url))
            .await
            .unwrap(),
    );
    assert_eq!(feed.entries.len(), 3);
    assert_eq!(server.hits("/feed"), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured"
    );
}

#[tokio::test]
async fn retry_after_longer_than_allowed_is_returned_to_the_scheduler() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| status(429, &[("Retry-After", "3600")])).await;
    let url = server.url("/feed");
    let error = fetcher(&test_config())
        .fetch_feed(&feed_request(url.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "rate_limited");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.hits("/feed"), 1);
    assert_names_url(&error, &url);
}

#[tokio::test]
async fn service_unavailable_twice_then_success() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, previous| {
        if previous < 2 {
            status(503, &[])
        } else {
            ok("application/rss+xml", rss(1))
        }
    })
    .await;
    let url = server.url("/feed");
    let feed = fetched(
        fetcher(&test_config())
            .fetch_feed(&feed_request(url))
            .await
            .unwrap(),
    );
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(server.hits("/feed"), 3);
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_the_retries() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| status(500, &[])).await;
    let url = server.url("/feed");
    let error = fetcher(&test_config())
        .fetch_feed(&feed_request(url.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "http_5xx");
    assert_names_url(&error, &url);
    assert_eq!(
        server.hits("/feed"),
        3,
        "first attempt plus fetch.retries = 2"
    );
}

#[tokio::test]
async fn robots_txt_disallow_is_honoured_and_cached() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|request, _| match request.path.as_str() {
        "/robots.txt" => ok(
            "text/plain",
            "User-agent: *\nDisallow: /private/\n\nUser-agent: newswire\nDisallow: /private/\nDisallow: /no-newswire/\n",
        ),
        _ => ok("text/html", "<html><body><p>Public story</p></body></html>"),
    })
    .await;
    let fetcher = fetcher(&test_config());
    let polite = PagePolicy {
        respect_robots_txt: true,
        allow_file_under: None,
    };
    let private = server.url("/private/story.html");
    let error = fetcher.fetch_page(&private, &polite).await.unwrap_err();
    assert_eq!(error.kind(), "robots", "{error}");
    assert_names_url(&error, &private);
    assert_eq!(server.hits("/private/story.html"), 0);

    let ours = server.url("/no-newswire/x");
    assert_eq!(
        fetcher.fetch_page(&ours, &polite).await.unwrap_err().kind(),
        "robots"
    );

    let public = server.url("/public/story.html");
    let page = fetcher.fetch_page(&public, &polite).await.unwrap();
    assert!(matches!(page, PageOutcome::Html { ref html, .. } if html.contains("Public story")));
    assert_eq!(
        server.hits("/robots.txt"),
        1,
        "robots.txt is cached per host"
    );

    // A feed overriding respect_robots_txt = false.
    assert!(fetcher.fetch_page(&private, &no_robots()).await.is_ok());
}

#[tokio::test]
async fn loopback_127_0_0_2_is_refused() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|request, _| match request.path.as_str() {
        "/to-127-0-0-2" => status(302, &[("Location", "http://127.0.0.2:9/feed")]),
        _ => ok("application/rss+xml", rss(1)),
    })
    .await;
    let fetcher = fetcher(&test_config());
    // Same port, other loopback address: outside the allowed 127.0.0.1/32.
    let url = Url::parse(&format!("http://127.0.0.2:{}/feed", server.address.port())).unwrap();
    let error = feed_error(&fetcher, &url, "blocked").await;
    assert!(error.to_string().contains("loopback"), "{error}");

    let page = Url::parse(&format!("http://127.0.0.2:{}/story", server.address.port())).unwrap();
    assert_eq!(
        fetcher
            .fetch_page(&page, &no_robots())
            .await
            .unwrap_err()
            .kind(),
        "blocked"
    );

    // A redirect from an allowed host to a refused one.
    let url = server.url("/to-127-0-0-2");
    let error = fetcher.fetch_feed(&feed_request(url)).await.unwrap_err();
    assert_eq!(error.kind(), "blocked", "{error}");

    // IPv4-mapped IPv6 spelling of a refused address.
    let url = Url::parse("http://[::ffff:127.0.0.2]:9/feed").unwrap();
    assert_eq!(
        fetcher
            .fetch_feed(&feed_request(url))
            .await
            .unwrap_err()
            .kind(),
        "blocked"
    );

    // The allowed address itself works.
    assert!(
        fetcher
            .fetch_feed(&feed_request(server.url("/feed")))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn names_are_checked_on_the_resolved_address() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| ok("application/rss+xml", rss(1))).await;
    // "localhost" resolves to loopback: refused without an allowance, even though the
    // name itself looks harmless.
    let strict = fetcher(&FetchConfig {
        allow_private_networks: Vec::new(),
        ..test_config()
    });
    let url = Url::parse(&format!("http://localhost:{}/feed", server.address.port())).unwrap();
    feed_error(&strict, &url, "blocked").await;
    assert_eq!(server.hits("/feed"), 0);
    // With 127.0.0.1/32 allowed, the name connects to the allowed address only.
    let feed = fetched(
        fetcher(&test_config())
            .fetch_feed(&feed_request(url))
            .await
            .unwrap(),
    );
    assert_eq!(feed.entries.len(), 1);
}

#[tokio::test]
async fn windows_1251_page_declared_only_by_a_late_meta_tag() {
    let _serial = SERIAL.lock().await;
    let mut html = String::from("<!doctype html><html><head><script>");
    html.push_str(&"var analytics = 1;\n".repeat(100));
    html.push_str("</script><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"></head><body><p>");
    html.push_str(RUSSIAN);
    html.push_str("</p></body></html>");
    let bytes = encoding_rs::WINDOWS_1251.encode(&html).0.into_owned();
    assert!(html.find("<meta").unwrap() > 1024);
    let server = TestServer::start(move |_, _| ok("text/html", bytes.clone())).await;
    let page = fetcher(&test_config())
        .fetch_page(&server.url("/ru"), &no_robots())
        .await
        .unwrap();
    let PageOutcome::Html { html, .. } = page else {
        panic!("expected HTML");
    };
    assert!(html.contains(RUSSIAN), "{html}");
}

#[tokio::test]
async fn koi8_r_page_declared_by_header() {
    let _serial = SERIAL.lock().await;
    let html = format!("<html><body><p>{RUSSIAN}</p></body></html>");
    let bytes = encoding_rs::KOI8_R.encode(&html).0.into_owned();
    let server =
        TestServer::start(move |_, _| ok("text/html; charset=KOI8-R", bytes.clone())).await;
    let page = fetcher(&test_config())
        .fetch_page(&server.url("/koi8"), &no_robots())
        .await
        .unwrap();
    let PageOutcome::Html { html, .. } = page else {
        panic!("expected HTML");
    };
    assert!(html.contains(RUSSIAN), "{html}");
}

#[tokio::test]
async fn feed_with_wrong_xml_prolog() {
    let _serial = SERIAL.lock().await;
    let feed = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{FRENCH}</title><item><title>{FRENCH}</title><link>https://news.example.org/fr/1</link></item></channel></rss>"
    );
    let bytes = encoding_rs::WINDOWS_1252.encode(&feed).0.into_owned();
    let header_says = bytes.clone();
    let server = TestServer::start(move |request, _| match request.path.as_str() {
        "/declared" => ok(
            "application/rss+xml; charset=windows-1252",
            header_says.clone(),
        ),
        _ => ok("application/rss+xml", bytes.clone()),
    })
    .await;
    let fetcher = fetcher(&test_config());
    for path in ["/declared", "/undeclared"] {
        let feed = fetched(
            fetcher
                .fetch_feed(&feed_request(server.url(path)))
                .await
                .unwrap(),
        );
        assert_eq!(feed.title.as_deref(), Some(FRENCH), "{path}");
        assert_eq!(feed.entries[0].title.as_deref(), Some(FRENCH), "{path}");
    }
}

#[tokio::test]
async fn mis_nested_xml_is_read_leniently() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| {
        ok(
            "application/rss+xml",
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</channel></title></rss>",
        )
    })
    .await;
    let url = server.url("/broken.xml");
    let feed = fetched(
        fetcher(&test_config())
            .fetch_feed(&feed_request(url.clone()))
            .await
            .unwrap(),
    );
    println!("malformed: {:?} {:?}", feed.title, feed.warnings);
    // Read leniently, as the Universal Feed Parser reads it: a channel with no entries
    // is still a feed, and its title is kept.
    assert_eq!(feed.title.as_deref(), Some("T"));
    assert!(feed.entries.is_empty());
}

#[tokio::test]
async fn truncated_xml_keeps_the_complete_entries_with_a_warning() {
    let _serial = SERIAL.lock().await;
    let full = rss(5);
    let truncated = full[..full.len() / 2].to_string();
    let complete = truncated.matches("</item>").count();
    let server = TestServer::start(move |_, _| ok("application/rss+xml", truncated.clone())).await;
    let url = server.url("/truncated.xml");
    let feed = fetched(
        fetcher(&test_config())
            .fetch_feed(&feed_request(url.clone()))
            .await
            .unwrap(),
    );
    println!("truncated: {:?}", feed.warnings);
    let titles: Vec<String> = feed
        .entries
        .iter()
        .filter_map(|e| e.title.clone())
        .collect();
    let expected: Vec<String> = (0..complete).map(|i| format!("Story {i}")).collect();
    assert_eq!(titles, expected);
    assert!(
        feed.warnings
            .iter()
            .any(|w| w.contains(url.as_str()) && w.contains("truncated")),
        "no truncation warning names {url}: {:?}",
        feed.warnings
    );
}

#[tokio::test]
async fn empty_feed() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|request, _| match request.path.as_str() {
        "/empty-body" => ok("application/rss+xml", ""),
        _ => ok("application/rss+xml", rss(0)),
    })
    .await;
    let fetcher = fetcher(&test_config());
    let url = server.url("/empty-body");
    feed_error(&fetcher, &url, "empty").await;

    let feed = fetched(
        fetcher
            .fetch_feed(&feed_request(server.url("/no-items")))
            .await
            .unwrap(),
    );
    assert_eq!(feed.title.as_deref(), Some("Test feed"));
    assert!(feed.entries.is_empty());
}

#[tokio::test]
async fn twenty_thousand_entry_feed() {
    let _serial = SERIAL.lock().await;
    let body = Arc::new(rss(20_000));
    let body_size = body.len();
    let server = TestServer::start(move |_, _| ok("application/rss+xml", body.as_bytes())).await;
    let config = FetchConfig {
        max_body_bytes: 16 * MIB as u64,
        ..test_config()
    };
    let meter = HeapMeter::start();
    let started = Instant::now();
    let feed = fetched(
        fetcher(&config)
            .fetch_feed(&feed_request(server.url("/big.xml")))
            .await
            .unwrap(),
    );
    let elapsed = started.elapsed();
    assert_eq!(feed.entries.len(), 20_000);
    assert_eq!(
        feed.entries[19_999].link.as_ref().map(Url::as_str),
        Some(format!("http://{}/news/19999.html", server.address).as_str())
    );
    let growth = meter.peak_growth();
    println!(
        "20,000 entries: {body_size} bytes parsed in {elapsed:?}; peak heap growth {growth} bytes"
    );
    assert!(growth < 40 * body_size, "peak heap growth {growth} bytes");
}

#[tokio::test]
async fn html_page_instead_of_a_feed() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| {
        ok(
            "text/html; charset=utf-8",
            "<!doctype html><html><head><title>News</title><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/rss.xml\"></head><body>Hi</body></html>",
        )
    })
    .await;
    let url = server.url("/news/");
    let error = feed_error(&fetcher(&test_config()), &url, "not_a_feed").await;
    let announced = server.url("/rss.xml");
    assert!(error.to_string().contains(announced.as_str()), "{error}");
    println!("html instead of feed: {error}");
}

#[tokio::test]
async fn binary_file_instead_of_a_page() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|request, _| match request.path.as_str() {
        "/download" => ok(
            "application/octet-stream",
            &b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj"[..],
        ),
        "/photo" => ok("image/jpeg", vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
        _ => ok("application/pdf", "%PDF-1.4"),
    })
    .await;
    let fetcher = fetcher(&test_config());
    let cases = [
        ("/download", "application/pdf"),
        ("/photo", "image/jpeg"),
        ("/report.pdf", "application/pdf"),
    ];
    for (path, expected) in cases {
        let outcome = fetcher
            .fetch_page(&server.url(path), &no_robots())
            .await
            .unwrap();
        let PageOutcome::NotHtml { content_type, .. } = outcome else {
            panic!("{path}: expected NotHtml");
        };
        assert_eq!(content_type, expected, "{path}");
    }
    assert_eq!(
        server.hits("/report.pdf"),
        0,
        "known extensions are not downloaded"
    );
}

#[tokio::test]
async fn file_feeds_and_file_links() {
    let _serial = SERIAL.lock().await;
    let directory = tempfile::tempdir().unwrap();
    let feed_path = directory.path().join("feed.xml");
    std::fs::write(
        &feed_path,
        "<rss version=\"2.0\"><channel><title>Local</title><item><title>A</title><link>pages/a.html</link></item></channel></rss>",
    )
    .unwrap();
    std::fs::create_dir(directory.path().join("pages")).unwrap();
    std::fs::write(
        directory.path().join("pages/a.html"),
        "<html><body><p>Local page</p></body></html>",
    )
    .unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();

    let fetcher = fetcher(&test_config());
    let feed_url = Url::from_file_path(&feed_path).unwrap();
    let outcome = fetcher
        .fetch_feed(&feed_request(feed_url.clone()))
        .await
        .unwrap();
    let FeedOutcome::Fetched {
        feed, validators, ..
    } = outcome
    else {
        panic!("expected a fetched feed");
    };
    let link = feed.entries[0].link.clone().unwrap();
    assert_eq!(
        link,
        Url::from_file_path(directory.path().join("pages/a.html")).unwrap()
    );
    // The file's modification time works as Last-Modified.
    let again = fetcher
        .fetch_feed(&FeedRequest {
            url: feed_url,
            validators,
        })
        .await
        .unwrap();
    assert!(matches!(again, FeedOutcome::NotModified { .. }));

    let allowed = PagePolicy {
        respect_robots_txt: true,
        allow_file_under: Some(directory.path().to_path_buf()),
    };
    let page = fetcher.fetch_page(&link, &allowed).await.unwrap();
    assert!(matches!(page, PageOutcome::Html { ref html, .. } if html.contains("Local page")));
    // Outside the directory, or with no file allowance: refused.
    let outside_url = Url::from_file_path(outside.path()).unwrap();
    let error = fetcher
        .fetch_page(&outside_url, &allowed)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "file_not_allowed", "{error}");
    assert_eq!(
        fetcher
            .fetch_page(&link, &no_robots())
            .await
            .unwrap_err()
            .kind(),
        "file_not_allowed"
    );
}

#[tokio::test]
async fn silent_server_times_out() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| Reply::Silent).await;
    let config = FetchConfig {
        timeout: HumanDuration(Duration::from_millis(500)),
        retries: 1,
        ..test_config()
    };
    let url = server.url("/tarpit");
    let error = fetcher(&config)
        .fetch_feed(&feed_request(url.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "timeout", "{error}");
    assert_names_url(&error, &url);
    assert_eq!(server.hits("/tarpit"), 2, "timeouts are retried");
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let _serial = SERIAL.lock().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = Url::parse(&format!("http://127.0.0.1:{port}/feed")).unwrap();
    let error = fetcher(&test_config())
        .fetch_feed(&feed_request(url.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "connect", "{error}");
    assert!(error.is_transient());
    assert_names_url(&error, &url);
    println!("refused: {error}");
}

#[tokio::test]
async fn garbage_instead_of_http_is_an_error() {
    let _serial = SERIAL.lock().await;
    let server =
        TestServer::start(|_, _| Reply::Raw(b"SSH-2.0-OpenSSH_9.2\r\n\r\n\x00\x01\x02".to_vec()))
            .await;
    let url = server.url("/feed");
    let error = feed_error(&fetcher(&test_config()), &url, "protocol").await;
    println!("garbage: {error}");
}

#[tokio::test]
async fn endless_headers_are_refused() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| {
        let mut raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n".to_vec();
        for i in 0..20_000 {
            raw.extend_from_slice(format!("X-Padding-{i}: {}\r\n", "y".repeat(100)).as_bytes());
        }
        raw.extend_from_slice(b"\r\nbody");
        Reply::Raw(raw)
    })
    .await;
    let meter = HeapMeter::start();
    let url = server.url("/headers");
    let error = fetcher(&test_config())
        .fetch_page(&url, &no_robots())
        .await
        .unwrap_err();
    assert_names_url(&error, &url);
    let growth = meter.peak_growth();
    println!(
        "endless headers: {} ({}); peak heap growth {growth} bytes",
        error,
        error.kind()
    );
    assert!(growth < 16 * MIB, "peak heap growth {growth} bytes");
}

#[tokio::test]
async fn feed_served_with_the_wrong_content_type() {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start(|_, _| ok("text/html; charset=iso-8859-1", rss(2))).await;
    let feed = fetched(
        fetcher(&test_config())
            .fetch_feed(&feed_request(server.url("/feed.php")))
            .await
            .unwrap(),
    );
    assert_eq!(feed.entries.len(), 2);
}

#[tokio::test]
async fn one_host_gets_one_request_at_a_time_with_a_minimum_gap() {
    let _serial = SERIAL.lock().await;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most_in_flight = Arc::new(AtomicUsize::new(0));
    let starts: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let (counter, most, log) = (in_flight.clone(), most_in_flight.clone(), starts.clone());
    let server = TestServer::start(move |_, _| {
        log.lock().unwrap().push(Instant::now());
        let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        // Hold the request a moment so that overlapping requests would be seen.
        std::thread::sleep(Duration::from_millis(50));
        counter.fetch_sub(1, Ordering::SeqCst);
        ok("text/html", "<html><body>x</body></html>")
    })
    .await;
    let config = FetchConfig {
        per_host_concurrency: 1,
        per_host_min_delay: HumanDuration(Duration::from_millis(200)),
        ..test_config()
    };
    let fetcher = Arc::new(fetcher(&config));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let fetcher = fetcher.clone();
        let url = server.url(&format!("/p/{i}"));
        tasks.push(tokio::spawn(async move {
            fetcher.fetch_page(&url, &no_robots()).await
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(most_in_flight.load(Ordering::SeqCst), 1);
    let starts = starts.lock().unwrap();
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(190), "gap {gap:?}");
    }
}
