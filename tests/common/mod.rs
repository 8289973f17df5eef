//! Helpers shared by the end-to-end tests: a tiny fixture HTTP server on 127.0.0.1 and
//! ways to run the `newswire` binary against a config written to a temporary directory.
//!
//! The server speaks just enough HTTP/1.1 for the fetcher: `GET`, `ETag`/`If-None-Match`
//! and `Last-Modified`/`If-Modified-Since` (answering 304), `Connection: close`. It
//! records every request so tests can assert what the client sent.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// One response the fixture server can give.
#[derive(Clone)]
pub struct Resource {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Resource {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            content_type: content_type.into(),
            body: body.into(),
        }
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub status: u16,
}

/// A fixture server; its thread serves until the process ends.
#[derive(Clone)]
pub struct FixtureServer {
    pub addr: SocketAddr,
    resources: Arc<Mutex<HashMap<String, Resource>>>,
    /// Paths answered only after a pause (a slow feed).
    delays: Arc<Mutex<HashMap<String, std::time::Duration>>>,
    /// Extra response header lines per path (e.g. `Retry-After: 3600`).
    headers: Arc<Mutex<HashMap<String, String>>>,
    pub requests: Arc<Mutex<Vec<SeenRequest>>>,
    /// Slow (`put_slow`) requests being answered now, and the most at once.
    slow_in_flight: Arc<AtomicUsize>,
    slow_in_flight_peak: Arc<AtomicUsize>,
}

impl FixtureServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let server = Self {
            addr,
            resources: Default::default(),
            delays: Default::default(),
            headers: Default::default(),
            requests: Default::default(),
            slow_in_flight: Default::default(),
            slow_in_flight_peak: Default::default(),
        };
        let shared = server.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                thread::spawn(move || shared.serve(stream));
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn put(&self, path: &str, resource: Resource) {
        self.resources
            .lock()
            .unwrap()
            .insert(path.to_string(), resource);
    }

    /// Serves `resource` at `path` after waiting `delay` (the request is recorded at once).
    pub fn put_slow(&self, path: &str, resource: Resource, delay: std::time::Duration) {
        self.delays.lock().unwrap().insert(path.to_string(), delay);
        self.put(path, resource);
    }

    /// Serves `resource` at `path` with extra header lines (`"Name: value"`, one per
    /// line), e.g. a 429 with `Retry-After`.
    pub fn put_with_headers(&self, path: &str, resource: Resource, headers: &str) {
        let lines: String = headers
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("{}\r\n", l.trim()))
            .collect();
        self.headers.lock().unwrap().insert(path.to_string(), lines);
        self.put(path, resource);
    }

    /// Stops serving `path` (404 from now on).
    pub fn remove(&self, path: &str) {
        self.resources.lock().unwrap().remove(path);
    }

    /// The most `put_slow` requests this server was answering at the same time.
    pub fn slow_in_flight_peak(&self) -> usize {
        self.slow_in_flight_peak.load(Ordering::SeqCst)
    }

    pub fn requests_for(&self, path: &str) -> Vec<SeenRequest> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        if let Some(len) = headers
            .get("content-length")
            .and_then(|l| l.parse::<usize>().ok())
        {
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
        }
        // Like a real server, the query string does not pick the resource.
        let route = path.split('?').next().unwrap_or(&path).to_string();
        let resource = self.resources.lock().unwrap().get(&route).cloned();
        let mut stream = stream;
        let (status, head_extra, body) = match resource {
            None => (404, String::new(), b"not found".to_vec()),
            Some(resource) => {
                let etag = format!("\"{}\"", blake3_hex(&resource.body));
                let last_modified = "Mon, 04 Mar 2024 10:00:00 GMT";
                let fresh = headers.get("if-none-match").is_some_and(|v| v == &etag)
                    || (!headers.contains_key("if-none-match")
                        && headers
                            .get("if-modified-since")
                            .is_some_and(|v| v == last_modified));
                if resource.status == 200 && fresh {
                    (
                        304,
                        format!("ETag: {etag}\r\nLast-Modified: {last_modified}\r\n"),
                        Vec::new(),
                    )
                } else {
                    (
                        resource.status,
                        format!(
                            "Content-Type: {}\r\nETag: {etag}\r\nLast-Modified: {last_modified}\r\n",
                            resource.content_type
                        ),
                        resource.body,
                    )
                }
            }
        };
        let extra = self
            .headers
            .lock()
            .unwrap()
            .get(&route)
            .cloned()
            .unwrap_or_default();
        let head_extra = format!("{head_extra}{extra}");
        let delay = self.delays.lock().unwrap().get(&path).copied();
        self.requests.lock().unwrap().push(SeenRequest {
            path,
            headers,
            status,
        });
        if let Some(delay) = delay {
            let now = self.slow_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.slow_in_flight_peak.fetch_max(now, Ordering::SeqCst);
            thread::sleep(delay);
            self.slow_in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        let reason = match status {
            200 => "OK",
            304 => "Not Modified",
            404 => "Not Found",
            429 => "Too Many Requests",
            _ => "Status",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n{head_extra}\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
        let _ = stream.flush();
    }
}

/// A cheap stable content hash for ETags (FNV-1a; tests only).
fn blake3_hex(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// Path of the built binary.
pub fn newswire_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_newswire"))
}

/// Runs the binary with `args`, returning its output.
pub fn run_newswire(args: &[&str], cwd: &Path) -> Output {
    Command::new(newswire_bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .expect("run newswire")
}

/// A config for the fixture server: state and JSONL output under `dir`.
pub fn write_config(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("newswire.toml");
    let text = format!(
        "[state]\npath = \"state/newswire.db\"\n\n[fetch]\nallow_private_networks = [\"127.0.0.1/32\"]\nper_host_min_delay = \"0ms\"\nretries = 0\n\n{body}"
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// One `newswire run --once` over a config of `body` (after [`write_config`]'s state and
/// fetch settings) with its JSONL sink in `dir/out` and `feed_url` as its only feed; the
/// run must succeed. Returns the lines written and the run's stderr.
pub fn run_once_to_jsonl(
    dir: &Path,
    body: &str,
    feed_url: &str,
) -> (Vec<serde_json::Value>, String) {
    let config = write_config(
        dir,
        &format!(
            "{body}\n[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\n\n[[feed]]\nurl = \"{feed_url}\"\n"
        ),
    );
    let output = run_newswire(
        &["run", "--once", "--config", config.to_str().unwrap()],
        dir,
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    (read_records(&dir.join("out")), stderr)
}

/// Every line of every JSONL file under `dir`, parsed.
pub fn read_records(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut records = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read jsonl");
        for (n, line) in text.lines().enumerate() {
            let value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: not JSON: {e}", file.display(), n + 1));
            records.push(value);
        }
    }
    records
}

/// The record JSON Schema validator.
pub fn schema_validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(newswire_core::record::RECORD_JSON_SCHEMA).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// A port on 127.0.0.1 that was free a moment ago (bind :0, read it, release it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local addr")
        .port()
}

/// A plain HTTP/1.1 GET to 127.0.0.1:`port`; `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// The value of one sample line of a Prometheus text exposition, e.g.
/// `metric_value(text, "newswire_feed_polls_total{status=\"ok\"}")`.
pub fn metric_value(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// Waits until `done` holds, checking every 20 ms; panics with `what` after `limit`.
pub fn wait_for(limit: std::time::Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A daemon (`newswire run --config …`) started in a directory, its stderr in
/// `daemon.log` there.
pub struct Daemon {
    child: std::process::Child,
    log: PathBuf,
}

impl Daemon {
    pub fn start(config: &Path, dir: &Path) -> Daemon {
        let log = dir.join("daemon.log");
        let child = Command::new(newswire_bin())
            .args([
                "run",
                "--config",
                config.to_str().expect("UTF-8 config path"),
            ])
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create daemon.log"))
            .spawn()
            .expect("start daemon");
        Daemon { child, log }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, signal: &str) {
        send_signal(self.child.id(), signal);
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// SIGTERM, then a clean exit (code 0) within 30 s.
    pub fn stop(mut self) {
        self.signal("TERM");
        let mut exit = None;
        wait_for(
            std::time::Duration::from_secs(30),
            "exit after SIGTERM",
            || {
                exit = self.child.try_wait().expect("wait");
                exit.is_some()
            },
        );
        assert_eq!(exit.and_then(|e| e.code()), Some(0), "{}", self.log());
    }
}

/// Sends `signal` (e.g. "TERM", "HUP") to process `pid`.
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// An RSS 2.0 feed whose items link `base` + each path.
pub fn rss_feed(title: &str, base: &str, paths: &[&str]) -> String {
    let items: String = paths
        .iter()
        .map(|p| format!("<item><title>{p}</title><link>{base}{p}</link><guid>{p}</guid><pubDate>Mon, 04 Mar 2024 09:00:00 GMT</pubDate></item>"))
        .collect();
    format!("<rss version=\"2.0\"><channel><title>{title}</title>{items}</channel></rss>")
}

/// A news-like article page with enough text to extract.
pub fn story_page(title: &str) -> String {
    format!(
        "<html lang=\"en\"><head><title>{title}</title></head><body><nav><a href=\"/\">Home</a></nav><article><h1>{title}</h1>\
         <p>This is the opening paragraph of the story called {title}, which describes in some detail what happened in the harbour district on the day in question.</p>\
         <p>The second paragraph of {title} adds reactions from residents, officials and shop owners, and explains what is expected to happen next week in the district.</p>\
         </article><footer>Footer text</footer></body></html>"
    )
}

// Re-exported for the test files; each binary includes this module and uses a part of it.
#[allow(unused_imports)]
pub use newswire_test_support::services::{REQUIRE_SERVICES_ENV, reachable, require};

/// The environment variable behind `newswire run`'s hidden `--simulated-disk-capacity`:
/// JSONL sinks act as if their disk held only that many bytes (ENOSPC past it).
pub const JSONL_CAPACITY_ENV: &str = "NEWSWIRE_TEST_JSONL_CAPACITY";
