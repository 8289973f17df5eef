//! The local HTTP server of the benchmark: `/feed/{n}.xml` and the article pages those feeds
//! link to, generated on request (see [`crate::generate`]), on 127.0.0.1 only.
//!
//! In soak mode the feeds keep publishing: feed `n` gains one article every
//! `publish_every` (each feed at its own phase) and lists only its newest `window` articles,
//! like a real feed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::generate;

/// What the server publishes.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub feeds: u32,
    /// Articles listed by each feed.
    pub window: u64,
    /// Soak mode: one new article per feed this often.
    pub publish_every: Option<Duration>,
}

/// Requests served, for the report.
#[derive(Debug, Default)]
pub struct Served {
    pub feeds: AtomicU64,
    pub pages: AtomicU64,
    pub bytes: AtomicU64,
    pub not_found: AtomicU64,
}

struct Shared {
    catalogue: Catalogue,
    origin: String,
    started: Instant,
    served: Arc<Served>,
}

impl Shared {
    /// Articles feed `feed` has published so far.
    fn published(&self, feed: u32) -> u64 {
        let window = self.catalogue.window;
        match self.catalogue.publish_every {
            None => window,
            Some(every) => {
                let every = every.as_millis().max(1) as u64;
                // Each feed publishes at its own phase so the load is spread out.
                let phase = (u64::from(feed) * 7_919) % every;
                let elapsed = self.started.elapsed().as_millis() as u64 + phase;
                window + elapsed / every
            }
        }
    }
}

/// A running server; it stops when the runtime it was started on is dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub served: Arc<Served>,
}

impl Server {
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

pub async fn start(catalogue: Catalogue) -> anyhow::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let served = Arc::new(Served::default());
    let shared = Arc::new(Shared {
        catalogue,
        origin: format!("http://{addr}"),
        started: Instant::now(),
        served: Arc::clone(&served),
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let shared = Arc::clone(&shared);
                    async move { Ok::<_, std::convert::Infallible>(respond(&shared, &request)) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Server { addr, served })
}

fn respond(shared: &Shared, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let served = &shared.served;
    if let Some(feed) = path
        .strip_prefix("/feed/")
        .and_then(|rest| rest.strip_suffix(".xml"))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n < shared.catalogue.feeds)
    {
        let published = shared.published(feed);
        let window = shared.catalogue.window;
        let body = generate::feed(feed, published - window, window, &shared.origin);
        served.feeds.fetch_add(1, Ordering::Relaxed);
        served.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        return reply(StatusCode::OK, "application/rss+xml; charset=utf-8", body);
    }
    // /a/{feed}/{seq}/yyyy/mm/dd/slug.html
    let mut parts = path.strip_prefix("/a/").unwrap_or("").split('/');
    let feed = parts.next().and_then(|n| n.parse::<u32>().ok());
    let seq = parts.next().and_then(|n| n.parse::<u64>().ok());
    if let (Some(feed), Some(seq)) = (feed, seq)
        && feed < shared.catalogue.feeds
        && seq < shared.published(feed)
    {
        let body = generate::page(feed, seq, &shared.origin);
        served.pages.fetch_add(1, Ordering::Relaxed);
        served.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        return reply(StatusCode::OK, "text/html; charset=utf-8", body);
    }
    served.not_found.fetch_add(1, Ordering::Relaxed);
    reply(StatusCode::NOT_FOUND, "text/plain", "not found".to_owned())
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}
