//! Brotli and zstd bombs: bodies a few kilobytes on the wire that inflate to 64 MiB must
//! be stopped at `max_body_bytes`, counted after decompression, with bounded memory.
//!
//! (gzip and deflate bombs are in the workspace's `tests/fetcher_adversarial.rs`; these two
//! live here because their encoders are dev-dependencies of this crate.) A raw server on
//! 127.0.0.1:0 sends the bytes; a counting allocator measures the peak heap growth, and
//! the cases run one at a time so that each peak is its own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use newswire_core::config::{FetchConfig, HumanDuration};
use newswire_fetcher::{Fetcher, PagePolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

struct CountingAllocator;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(pointer, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let error = fetcher.fetch_page(&url, &policy).await.unwrap_err();
    let growth = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
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
