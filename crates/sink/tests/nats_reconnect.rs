//! The NATS sink rides out a server restart: records written while the server is down,
//! and records whose acks the restart swallowed, are published again with the same
//! message ids once it is back, and the flush succeeds with every record stored once.
//!
//! Runs a private nats-server (JetStream, its own port and store directory) so that it
//! can be killed without touching the shared one. The server binary is `$NATS_SERVER`
//! or `/usr/sbin/nats-server`; without it the test is skipped with a line on stdout, and
//! fails under `NEWSWIRE_REQUIRE_SERVICES=1`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use newswire_core::config::NatsSinkConfig;
use newswire_sink::{NatsSink, Route};

fn server_binary() -> Option<PathBuf> {
    let path = std::env::var_os("NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"));
    newswire_test_support::services::require(
        "a_server_restart_loses_and_doubles_nothing",
        &format!("nats-server not found at {}", path.display()),
        path.is_file(),
    )
    .then_some(path)
}

/// A private server, killed when dropped.
struct Server(Child);

impl Server {
    fn start(binary: &Path, port: u16, store: &Path) -> Server {
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nats-server");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "nats-server did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server(child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn record(i: usize) -> (String, Bytes) {
    let id = format!("rec-{i}");
    let line = Bytes::from(format!(r#"{{"id":"{id}","n":{i}}}"#));
    (id, line)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_loses_and_doubles_nothing() {
    let Some(binary) = server_binary() else {
        return;
    };
    let store = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(&binary, port, store.path());
    let config = NatsSinkConfig {
        url: format!("nats://127.0.0.1:{port}"),
        stream: Some("RECONNECT".into()),
        subject: Some("reconnect.records".into()),
        flush_records: Some(100),
        ..NatsSinkConfig::default()
    };
    let mut sink = NatsSink::open("nats:RECONNECT".into(), &config)
        .await
        .unwrap();
    for i in 0..20 {
        let (id, line) = record(i);
        sink.write(&id, line, &Route::default()).await.unwrap();
    }
    sink.flush().await.unwrap();

    // The server dies; records keep coming, and one of them is a resend of a record
    // already stored (as after a crash between publish and commit).
    drop(server);
    for i in 19..40 {
        let (id, line) = record(i);
        sink.write(&id, line, &Route::default()).await.unwrap();
    }
    // It comes back two seconds later, on the same port and store, while the flush waits.
    let restart = {
        let (binary, store) = (binary.clone(), store.path().to_owned());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            Server::start(&binary, port, &store)
        })
    };
    let flushed = sink.flush().await;
    let _server = restart.join().unwrap();
    flushed.unwrap();

    let client = async_nats::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let mut stream = async_nats::jetstream::new(client)
        .get_stream("RECONNECT")
        .await
        .unwrap();
    let stored = stream.info().await.unwrap().state.messages;
    assert_eq!(stored, 40, "every record stored exactly once");
}
