//! Brotli and zstd bombs: bodies a few kilobytes on the wire that inflate to 64 MiB must
//! be stopped at `max_body_bytes`, counted after decompression, with bounded memory.
//!
//! (gzip and deflate bombs are in `adversarial.rs` beside this file.) A raw server on
//! 127.0.0.1:0 sends the bytes; a counting allocator measures the peak heap growth, and
//! the cases run one at a time so that each peak is its own.

mod support;

use std::io::Write;
use std::time::Duration;

use newswire_core::config::{FetchConfig, HumanDuration};
use newswire_fetcher::{Fetcher, PagePolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use support::{CountingAllocator, HeapMeter, SERIAL};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const MIB: usize = 1024 * 1024;
const INFLATED: usize = 64 * MIB;

/// Serves `body` with `Content-Encoding: encoding` to every connection; returns the URL.
async fn serve_encoded(encoding: &'static str, body: Vec<u8>) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: {encoding}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(header.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    Url::parse(&format!("http://{address}/bomb.html")).unwrap()
}

fn config() -> FetchConfig {
    FetchConfig {
        allow_private_networks: vec!["127.0.0.1/32".parse().unwrap()],
        per_host_min_delay: HumanDuration(Duration::ZERO),
        max_body_bytes: MIB as u64,
        retries: 0,
        respect_robots_txt: false,
        ..FetchConfig::default()
    }
}

async fn assert_bomb_is_stopped(name: &str, url: Url, wire_bytes: usize) {
    let fetcher = Fetcher::new(&config()).unwrap();
    let policy = PagePolicy {
        respect_robots_txt: false,
        allow_file_under: None,
    };
    let meter = HeapMeter::start();
    let error = fetcher.fetch_page(&url, &policy).await.unwrap_err();
    let growth = meter.peak_growth();
    println!(
        "{name} bomb: {wire_bytes} bytes on the wire, 64 MiB inflated: {error}; peak heap growth {growth} bytes"
    );
    assert_eq!(error.kind(), "too_large", "{error}");
    assert!(error.to_string().contains(url.as_str()), "{error}");
    assert!(growth < 8 * MIB, "peak heap growth {growth} bytes");
}

#[tokio::test]
async fn brotli_bomb_is_stopped_early() {
    let _serial = SERIAL.lock().await;
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 64 * 1024, 5, 22);
        let zeros = vec![0u8; MIB];
        for _ in 0..INFLATED / MIB {
            writer.write_all(&zeros).unwrap();
        }
    }
    let size = compressed.len();
    let url = serve_encoded("br", compressed).await;
    assert_bomb_is_stopped("brotli", url, size).await;
}

#[tokio::test]
async fn zstd_bomb_is_stopped_early() {
    let _serial = SERIAL.lock().await;
    let mut encoder = zstd::Encoder::new(Vec::new(), 3).unwrap();
    let zeros = vec![0u8; MIB];
    for _ in 0..INFLATED / MIB {
        encoder.write_all(&zeros).unwrap();
    }
    let compressed = encoder.finish().unwrap();
    let size = compressed.len();
    let url = serve_encoded("zstd", compressed).await;
    assert_bomb_is_stopped("zstd", url, size).await;
}
