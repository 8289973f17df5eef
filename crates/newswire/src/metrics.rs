//! The HTTP endpoint that serves the metrics (`[metrics] listen`) together with
//! `/healthz` and `/readyz`. The metrics themselves are named, described and recorded in
//! [`crate::telemetry`].
//!
//! Why a small responder of our own instead of the exporter's `http-listener`: that
//! listener answers every path with the metrics text and has no health endpoints, while
//! Kubernetes probes and systemd-style checks want `/healthz` and `/readyz` on the same
//! port. Three fixed `GET` routes over HTTP/1.1 with `Connection: close` do not justify
//! pulling hyper into the binary's direct dependencies; the exporter still renders the
//! text format.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
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

/// Binds `listen` and serves `/metrics`, `/healthz` and `/readyz` until `stop` is
/// cancelled. Binding happens before this returns, so a taken port is reported at start.
pub async fn serve(
    listen: SocketAddr,
    handle: PrometheusHandle,
    health: std::sync::Arc<Health>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("metrics.listen {listen}: cannot listen"))?;
    tracing::info!(%listen, "metrics endpoint: /metrics, /healthz, /readyz");
    tokio::spawn(async move {
        // Histograms keep raw samples until upkeep folds them into buckets: bound memory.
        let mut upkeep = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = upkeep.tick() => handle.run_upkeep(),
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let handle = handle.clone();
                        let health = std::sync::Arc::clone(&health);
                        tokio::spawn(async move {
                            if let Err(e) = respond(stream, &handle, &health).await {
                                tracing::debug!("metrics endpoint: {e}");
                            }
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
    Ok(())
}

/// Longest request head read; probes and scrapers send a few hundred bytes.
const MAX_REQUEST_HEAD: usize = 8 * 1024;

async fn respond(
    mut stream: TcpStream,
    handle: &PrometheusHandle,
    health: &Health,
) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_HEAD {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    // A client that opens a connection and sends nothing must not hold a task forever.
    if tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .is_err()
    {
        return Ok(());
    }
    // Only a readiness request pays for the state probe.
    let readiness = if request_line(&head).1 == "/readyz" {
        health.check().await
    } else {
        health.readiness()
    };
    let (status, content_type, body) = route(&head, handle, readiness);
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// Method and path (without query) of a request head.
fn request_line(head: &[u8]) -> (String, String) {
    let first = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let mut parts = first.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    (method.to_string(), path.to_string())
}

/// Status line, content type and body for a request head; `readiness` is what `/readyz`
/// reports.
fn route(
    head: &[u8],
    handle: &PrometheusHandle,
    readiness: Result<(), String>,
) -> (&'static str, &'static str, String) {
    let (method, path) = request_line(head);
    if method != "GET" {
        return ("405 Method Not Allowed", "text/plain", "GET only\n".into());
    }
    match path.as_str() {
        "/metrics" => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            handle.render(),
        ),
        "/healthz" => ("200 OK", "text/plain", "ok\n".into()),
        "/readyz" => match readiness {
            Ok(()) => ("200 OK", "text/plain", "ready\n".into()),
            Err(why) => (
                "503 Service Unavailable",
                "text/plain",
                format!("not ready: {why}\n"),
            ),
        },
        _ => (
            "404 Not Found",
            "text/plain",
            "not found (try /metrics, /healthz, /readyz)\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let ready = || Ok(());
        assert_eq!(
            route(b"GET /healthz HTTP/1.1\r\n\r\n", &handle, ready()).0,
            "200 OK"
        );
        assert_eq!(
            route(b"GET /readyz HTTP/1.1\r\n\r\n", &handle, ready()).0,
            "200 OK"
        );
        assert_eq!(
            route(b"GET /metrics?x=1 HTTP/1.1\r\n\r\n", &handle, ready()).0,
            "200 OK"
        );
        assert_eq!(
            route(b"GET /nope HTTP/1.1\r\n\r\n", &handle, ready()).0,
            "404 Not Found"
        );
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n", &handle, ready()).0,
            "405 Method Not Allowed"
        );
        assert_eq!(
            route(
                b"GET /readyz HTTP/1.1\r\n\r\n",
                &handle,
                Err("pipeline not running".into())
            )
            .0,
            "503 Service Unavailable"
        );
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
