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
    pub requests: Arc<Mutex<Vec<SeenRequest>>>,
}

impl FixtureServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let server = Self {
            addr,
            resources: Default::default(),
            requests: Default::default(),
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
        let resource = self.resources.lock().unwrap().get(&path).cloned();
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
        self.requests.lock().unwrap().push(SeenRequest {
            path,
            headers,
            status,
        });
        let reason = match status {
            200 => "OK",
            304 => "Not Modified",
            404 => "Not Found",
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
