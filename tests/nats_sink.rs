//! The NATS JetStream sink, end to end, fanned out beside a JSONL sink: the daemon is
//! SIGKILLed a few times and restarted; records re-sent after a kill carry the same
//! `Nats-Msg-Id`, so the stream still holds every article exactly once, as does the file.
//!
//! Needs a NATS server with JetStream on 127.0.0.1:4222; without one it is skipped with a
//! `SKIPPED:` line, or fails under `NEWSWIRE_REQUIRE_SERVICES=1` (see `common::require`). Each run uses its own stream and subject and deletes the stream at the end.
//!
//! The checks speak the NATS text protocol directly (a few lines over a TCP socket): the
//! test package has no NATS client, and a stream's message count is one request away.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{FixtureServer, Resource, newswire_bin, read_records, run_newswire};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use newswire_test_support::services::NATS_ADDR as SERVER;
const FEEDS: usize = 3;
const ARTICLES_PER_FEED: usize = 20;
const KILLS: usize = 5;

/// A minimal NATS connection for JetStream API requests.
struct NatsProbe {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    next_sid: u32,
}

impl NatsProbe {
    fn connect() -> Option<NatsProbe> {
        let addr: SocketAddr = SERVER.parse().ok()?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        let mut info = String::new();
        reader.read_line(&mut info).ok()?;
        if !info.starts_with("INFO") {
            return None;
        }
        let mut probe = NatsProbe {
            writer: stream,
            reader,
            next_sid: 1,
        };
        probe
            .writer
            .write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
            .ok()?;
        Some(probe)
    }

    /// Sends `payload` to `subject` and returns the reply's payload.
    fn request(&mut self, subject: &str, payload: &str) -> String {
        let sid = self.next_sid;
        self.next_sid += 1;
        let inbox = format!("_INBOX.newswire_test.{}.{sid}", std::process::id());
        let command = format!(
            "SUB {inbox} {sid}\r\nPUB {subject} {inbox} {}\r\n{payload}\r\n",
            payload.len()
        );
        self.writer
            .write_all(command.as_bytes())
            .expect("send request");
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("read from NATS");
            let line = line.trim_end();
            if line == "PING" {
                self.writer.write_all(b"PONG\r\n").expect("pong");
            } else if let Some(rest) = line.strip_prefix("MSG ") {
                let len: usize = rest
                    .split_whitespace()
                    .last()
                    .and_then(|n| n.parse().ok())
                    .expect("MSG length");
                let mut body = vec![0; len + 2];
                self.reader.read_exact(&mut body).expect("MSG body");
                body.truncate(len);
                let _ = self.writer.write_all(format!("UNSUB {sid}\r\n").as_bytes());
                return String::from_utf8_lossy(&body).into_owned();
            } else if line.starts_with("-ERR") {
                panic!("NATS error: {line}");
            }
        }
    }

    fn stream_messages(&mut self, stream: &str) -> u64 {
        let reply = self.request(&format!("$JS.API.STREAM.INFO.{stream}"), "");
        let info: serde_json::Value = serde_json::from_str(&reply).expect("stream info JSON");
        info["state"]["messages"]
            .as_u64()
            .unwrap_or_else(|| panic!("no message count in {reply}"))
    }
}

/// Deletes the test's stream however the test ends.
struct StreamCleanup(String);

impl Drop for StreamCleanup {
    fn drop(&mut self) {
        if let Some(mut probe) = NatsProbe::connect() {
            let reply = probe.request(&format!("$JS.API.STREAM.DELETE.{}", self.0), "");
            if !reply.contains("\"success\":true") {
                eprintln!("could not delete stream {}: {reply}", self.0);
            }
        }
    }
}

fn page(feed: usize, n: usize) -> String {
    format!(
        "<html lang=\"en\"><head><title>Bulletin {feed}-{n}</title></head><body><article>\
         <h1>Bulletin {feed}-{n}</h1>\
         <p>Bulletin {feed}-{n} reports that the regional rail operator will add carriages to the \
         morning services on line {n}, after passengers on feed {feed} complained about crowding.</p>\
         <p>The operator said the change follows a count of passengers in the spring and will be \
         reviewed in {n} months, together with the timetable of the evening trains.</p>\
         </article></body></html>"
    )
}

fn serve(server: &FixtureServer) {
    let base = server.url("");
    for feed in 0..FEEDS {
        let mut items = String::new();
        for n in 0..ARTICLES_PER_FEED {
            let path = format!("/b{feed}/{n}");
            server.put(&path, Resource::ok("text/html", page(feed, n)));
            items.push_str(&format!(
                "<item><title>Bulletin {feed}-{n}</title><link>{base}{path}</link><guid>b{feed}-{n}</guid></item>"
            ));
        }
        server.put(
            &format!("/bulletins{feed}.xml"),
            Resource::ok(
                "application/rss+xml",
                format!("<rss version=\"2.0\"><channel><title>Bulletins {feed}</title>{items}</channel></rss>"),
            ),
        );
    }
}

fn write_config(dir: &Path, server: &FixtureServer, stream: &str, subject: &str) -> PathBuf {
    let mut text = format!(
        "[state]\npath = \"state/newswire.db\"\n\n[fetch]\nallow_private_networks = [\"127.0.0.1/32\"]\n\
         per_host_min_delay = \"10ms\"\nper_host_concurrency = 2\nretries = 0\n\n\
         [[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 3\n\n\
         [[sink]]\ntype = \"nats\"\nurl = \"nats://{SERVER}\"\nstream = \"{stream}\"\nsubject = \"{subject}\"\n\n"
    );
    for feed in 0..FEEDS {
        text.push_str(&format!(
            "[[feed]]\nurl = \"{}\"\ninterval = \"2s\"\n\n",
            server.url(&format!("/bulletins{feed}.xml"))
        ));
    }
    let path = dir.join("newswire.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

#[test]
fn records_reach_jetstream_exactly_once_across_kills() {
    let probe = NatsProbe::connect();
    if !common::require(
        "records_reach_jetstream_exactly_once_across_kills",
        &format!("NATS not reachable at {SERVER}"),
        probe.is_some(),
    ) {
        return;
    }
    let Some(mut probe) = probe else { return };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let stream = format!("NEWSWIRE_E2E_{}_{nanos}", std::process::id());
    let subject = format!("newswire.e2e.{}.{nanos}", std::process::id());
    let _cleanup = StreamCleanup(stream.clone());
    let seed = nanos as u64;
    eprintln!("nats test seed: {seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    let server = FixtureServer::start();
    serve(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &server, &stream, &subject);

    for _ in 0..KILLS {
        let mut child = Command::new(newswire_bin())
            .args(["run", "--config", config.to_str().expect("utf-8 path")])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start daemon");
        std::thread::sleep(Duration::from_millis(rng.random_range(150..700)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }
    let last = run_newswire(
        &[
            "run",
            "--once",
            "--config",
            config.to_str().expect("utf-8 path"),
        ],
        dir.path(),
    );
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );

    let records = read_records(&dir.path().join("out"));
    let mut ids: Vec<&str> = records
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let expected = FEEDS * ARTICLES_PER_FEED;
    assert_eq!(ids.len(), records.len(), "JSONL: no record twice");
    assert_eq!(records.len(), expected, "JSONL: every article");
    let stored = probe.stream_messages(&stream);
    eprintln!("nats test: {KILLS} kills, {expected} articles, {stored} messages in {stream}");
    assert_eq!(
        stored, expected as u64,
        "JetStream holds every article exactly once (re-sends dropped by Nats-Msg-Id)"
    );
}
