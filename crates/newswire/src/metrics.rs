//! The HTTP endpoint that serves the metrics (`[metrics] listen`) together with
//! `/healthz` and `/readyz`. The metrics themselves are named, described and recorded in
//! [`crate::telemetry`].
//!
//! The endpoint is hyper's HTTP/1.1 server (hyper is compiled in through reqwest anyway)
//! with three fixed `GET` routes, not the exporter's `http-listener`: that listener
//! answers every path with the metrics text and has no health endpoints, while Kubernetes
//! probes and systemd-style checks want `/healthz` and `/readyz` on the same port. A
//! connection limit and header-read and request timeouts ([`ServeLimits`]) keep idle or
//! slow clients from piling up; the exporter still renders the text format.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// A cheap check that the state answers, run on each `/readyz` request.
pub type StateProbe =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// Longest a `/readyz` waits for the state probe: a state that does not answer in that
/// time (a commit holding it for long, a hung disk) is not ready.
const STATE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/readyz` answers: ready once the pipeline runs, and only while the state answers
/// a query and no sink write, flush or commit has failed since the last good commit; not
/// ready while starting or draining.
#[derive(Default)]
pub struct Health {
    running: AtomicBool,
    /// Why it is not ready, when it is not and there is a reason beyond "starting".
    problem: Mutex<Option<String>>,
    /// A sink write or flush failed; cleared by the next good commit.
    sink_problem: Mutex<Option<String>>,
    /// Set once the state is open (see [`Health::set_state_probe`]).
    state_probe: OnceLock<StateProbe>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("running", &self.running)
            .field("problem", &self.problem)
            .field("sink_problem", &self.sink_problem)
            .field("state_probe", &self.state_probe.get().is_some())
            .finish()
    }
}

impl Health {
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs the state check `/readyz` runs (once; later calls are ignored).
    pub fn set_state_probe(&self, probe: StateProbe) {
        let _ = self.state_probe.set(probe);
    }

    /// A sink write or flush failed: not ready until a commit succeeds again.
    pub fn sink_failed(&self, why: &str) {
        if let Ok(mut problem) = self.sink_problem.lock() {
            *problem = Some(format!("sink failed: {why}"));
        }
    }

    /// [`Health::readiness`], then the state probe: `Ok` when ready, else why not.
    pub async fn check(&self) -> Result<(), String> {
        self.readiness()?;
        if let Some(probe) = self.state_probe.get() {
            match tokio::time::timeout(STATE_PROBE_TIMEOUT, probe()).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => return Err(format!("state does not answer: {why}")),
                Err(_) => {
                    return Err(format!(
                        "state did not answer within {}s",
                        STATE_PROBE_TIMEOUT.as_secs()
                    ));
                }
            }
        }
        Ok(())
    }

    /// The state is open, the sinks are open, the stages are running.
    pub fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::Relaxed);
    }

    /// A commit went through: the state and the sinks are usable.
    pub fn commit_succeeded(&self) {
        if let Ok(mut problem) = self.problem.lock() {
            *problem = None;
        }
        if let Ok(mut problem) = self.sink_problem.lock() {
            *problem = None;
        }
    }

    /// A commit failed: not ready until one succeeds again.
    pub fn commit_failed(&self, why: &str) {
        if let Ok(mut problem) = self.problem.lock() {
            *problem = Some(format!("last commit failed: {why}"));
        }
    }

    /// `Ok` when ready, else why not.
    pub fn readiness(&self) -> Result<(), String> {
        if let Some(problem) = self.problem.lock().ok().and_then(|p| p.clone()) {
            return Err(problem);
        }
        if let Some(problem) = self.sink_problem.lock().ok().and_then(|p| p.clone()) {
            return Err(problem);
        }
        if !self.running.load(Ordering::Relaxed) {
            return Err("pipeline not running".into());
        }
        Ok(())
    }
}

/// Parses `[metrics] listen`.
pub fn parse_listen(listen: &str) -> anyhow::Result<SocketAddr> {
    listen.parse().with_context(|| {
        format!("metrics.listen {listen:?} is not an address:port (e.g. \"127.0.0.1:9464\")")
    })
}

/// Installs the Prometheus recorder. Call once per process, before any metric is
/// recorded (a reload does not move the endpoint).
pub fn install_recorder() -> anyhow::Result<PrometheusHandle> {
    let builder = crate::telemetry::with_buckets(PrometheusBuilder::new())?;
    let handle = builder
        .install_recorder()
        .context("installing the metrics recorder")?;
    crate::telemetry::describe();
    Ok(handle)
}

/// Limits of the endpoint: a scraper or probe sends one small request, so anything that
/// holds connections open is cut off instead of piling up tasks.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Connections served at once; further ones are closed at once until one ends.
    pub max_connections: usize,
    /// Longest time a client may take to send its request head.
    pub header_read_timeout: Duration,
    /// Longest time one connection may take from accept to the end of the response.
    pub request_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: 32,
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Binds `listen` and serves `/metrics`, `/healthz` and `/readyz` until `stop` is
/// cancelled. Binding happens before this returns, so a taken port is reported at start.
pub async fn serve(
    listen: SocketAddr,
    handle: PrometheusHandle,
    health: Arc<Health>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    serve_with(listen, handle, health, stop, ServeLimits::default())
        .await
        .map(|_| ())
}

/// [`serve`] with explicit limits; returns the bound address (for `:0` in tests).
async fn serve_with(
    listen: SocketAddr,
    handle: PrometheusHandle,
    health: Arc<Health>,
    stop: CancellationToken,
    limits: ServeLimits,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("metrics.listen {listen}: cannot listen"))?;
    let bound = listener.local_addr().unwrap_or(listen);
    tracing::info!(listen = %bound, "metrics endpoint: /metrics, /healthz, /readyz");
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::spawn(async move {
        // Histograms keep raw samples until upkeep folds them into buckets: bound memory.
        let mut upkeep = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = upkeep.tick() => handle.run_upkeep(),
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
                            tracing::debug!(%peer, "metrics endpoint: connection limit reached, closing");
                            continue;
                        };
                        let (handle, health) = (handle.clone(), Arc::clone(&health));
                        tokio::spawn(async move {
                            let _permit = permit;
                            serve_connection(stream, handle, health, limits).await;
                        });
                    }
                    Err(e) => {
                        tracing::warn!("metrics endpoint: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
    });
    Ok(bound)
}

/// One HTTP/1.1 connection, served by hyper, one request, within the limits.
async fn serve_connection(
    stream: TcpStream,
    handle: PrometheusHandle,
    health: Arc<Health>,
    limits: ServeLimits,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        let (handle, health) = (handle.clone(), Arc::clone(&health));
        async move { Ok::<_, Infallible>(answer(&request, &handle, &health).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    match tokio::time::timeout(limits.request_timeout, connection).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!("metrics endpoint: {e}"),
        Err(_) => tracing::debug!("metrics endpoint: request timed out"),
    }
}

/// The response to one request.
async fn answer(
    request: &Request<Incoming>,
    handle: &PrometheusHandle,
    health: &Health,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    // Only a readiness request pays for the state probe.
    let readiness = if path == "/readyz" {
        health.check().await
    } else {
        health.readiness()
    };
    let (status, content_type, body) = route(request.method(), path, handle, readiness);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Status, content type and body for a method and path; `readiness` is what `/readyz`
/// reports.
fn route(
    method: &Method,
    path: &str,
    handle: &PrometheusHandle,
    readiness: Result<(), String>,
) -> (StatusCode, &'static str, String) {
    if method != Method::GET {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
    }
    match path {
        "/metrics" => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            handle.render(),
        ),
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" => match readiness {
            Ok(()) => (StatusCode::OK, "text/plain", "ready\n".into()),
            Err(why) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                format!("not ready: {why}\n"),
            ),
        },
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found (try /metrics, /healthz, /readyz)\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn readiness_follows_running_and_commits() {
        let health = Health::new();
        assert!(
            health.readiness().is_err(),
            "not ready before the pipeline runs"
        );
        health.set_running(true);
        assert_eq!(health.readiness(), Ok(()));
        health.commit_failed("disk full");
        let why = health.readiness().unwrap_err();
        assert!(why.contains("disk full"), "{why}");
        health.commit_succeeded();
        assert_eq!(health.readiness(), Ok(()));
    }

    #[test]
    fn routes_answer_by_path() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let status = |method: Method, path: &str, ready: Result<(), String>| {
            route(&method, path, &handle, ready).0
        };
        assert_eq!(status(Method::GET, "/healthz", Ok(())), StatusCode::OK);
        assert_eq!(status(Method::GET, "/readyz", Ok(())), StatusCode::OK);
        assert_eq!(status(Method::GET, "/metrics", Ok(())), StatusCode::OK);
        assert_eq!(status(Method::GET, "/nope", Ok(())), StatusCode::NOT_FOUND);
        assert_eq!(
            status(Method::POST, "/metrics", Ok(())),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            status(Method::GET, "/readyz", Err("pipeline not running".into())),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    /// Starts the endpoint on 127.0.0.1:0 with `limits`; returns its address.
    async fn start(limits: ServeLimits) -> (SocketAddr, CancellationToken) {
        let handle = PrometheusBuilder::new().build_recorder().handle();
        let stop = CancellationToken::new();
        let listen = "127.0.0.1:0".parse().unwrap();
        let health = Arc::new(Health::new());
        let bound = serve_with(listen, handle, health, stop.clone(), limits)
            .await
            .unwrap();
        (bound, stop)
    }

    /// Sends `request` and reads until the server closes; the bytes it answered.
    async fn exchange(address: SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn serves_a_request_over_http() {
        let (address, stop) = start(ServeLimits::default()).await;
        let answer = exchange(address, b"GET /healthz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("ok\n"), "{answer}");
        stop.cancel();
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_request_is_cut_off() {
        let limits = ServeLimits {
            header_read_timeout: Duration::from_millis(200),
            ..ServeLimits::default()
        };
        let (address, stop) = start(limits).await;
        let started = std::time::Instant::now();
        let answer = exchange(address, b"GET /metrics HTTP/1.1\r\nHost: a\r\n").await;
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "closed after {:?}",
            started.elapsed()
        );
        assert!(!answer.contains("200 OK"), "{answer}");
        stop.cancel();
    }

    #[tokio::test]
    async fn connections_past_the_limit_are_closed_until_one_ends() {
        let limits = ServeLimits {
            max_connections: 1,
            header_read_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(3),
        };
        let (address, stop) = start(limits).await;
        // An idle client holds the only slot.
        let idle = TcpStream::connect(address).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let refused = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert_eq!(refused, "", "a connection past the limit gets no answer");
        drop(idle);
        // The slot is free again once the idle connection is gone.
        let mut answer = String::new();
        for _ in 0..50 {
            answer = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").await;
            if !answer.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
        stop.cancel();
    }

    #[tokio::test]
    async fn a_failing_state_probe_or_sink_makes_it_not_ready() {
        let health = Health::new();
        health.set_running(true);
        let state_ok = std::sync::Arc::new(AtomicBool::new(true));
        let flag = std::sync::Arc::clone(&state_ok);
        health.set_state_probe(Box::new(move || {
            let ok = flag.load(Ordering::Relaxed);
            Box::pin(async move {
                if ok {
                    Ok(())
                } else {
                    Err("disk I/O error".to_string())
                }
            })
        }));
        assert_eq!(health.check().await, Ok(()));
        state_ok.store(false, Ordering::Relaxed);
        let why = health.check().await.unwrap_err();
        assert!(why.contains("disk I/O error"), "{why}");
        state_ok.store(true, Ordering::Relaxed);
        health.sink_failed("out/records.jsonl: No space left on device");
        let why = health.check().await.unwrap_err();
        assert!(why.contains("No space left"), "{why}");
        health.commit_succeeded();
        assert_eq!(health.check().await, Ok(()));
    }

    #[test]
    fn listen_address_is_checked() {
        assert!(parse_listen("127.0.0.1:9464").is_ok());
        let err = parse_listen("localhost").unwrap_err().to_string();
        assert!(err.contains("metrics.listen"), "{err}");
    }
}
