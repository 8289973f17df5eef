//! The one rule for tests that need something the machine may lack (a NATS server, the
//! `../shared` corpora, `systemd-analyze`): skipped visibly on a developer's machine, a
//! failure under `NEWSWIRE_REQUIRE_SERVICES=1` (set by `.ci/run`).

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

/// Set to `1` (as `.ci/run` does) to make a missing service or data set a test failure.
pub const REQUIRE_SERVICES_ENV: &str = "NEWSWIRE_REQUIRE_SERVICES";

/// Where the tests expect NATS with JetStream.
pub const NATS_ADDR: &str = "127.0.0.1:4222";

/// Whether a test can use something the machine may lack. When `available` is false: with
/// `NEWSWIRE_REQUIRE_SERVICES=1` the test fails naming `missing`; without it the test is
/// skipped, and says so with a `SKIPPED: <test>: <missing>` line written straight to
/// stderr (libtest captures the print macros, not the stream itself), so the skip shows
/// in `cargo test` output instead of passing silently. Callers return when it is false.
#[track_caller]
pub fn require(test: &str, missing: &str, available: bool) -> bool {
    if available {
        return true;
    }
    if std::env::var(REQUIRE_SERVICES_ENV).is_ok_and(|v| v.trim() == "1") {
        panic!("{test}: {missing} ({REQUIRE_SERVICES_ENV}=1 makes this a failure)");
    }
    let line =
        format!("SKIPPED: {test}: {missing} (set {REQUIRE_SERVICES_ENV}=1 to fail instead)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    false
}

/// Whether something accepts TCP connections at `addr` (e.g. "127.0.0.1:4222").
pub fn reachable(addr: &str) -> bool {
    addr.parse::<std::net::SocketAddr>()
        .ok()
        .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).ok())
        .is_some()
}

/// [`require`] for the NATS server at [`NATS_ADDR`].
#[track_caller]
pub fn nats_is_up(test: &str) -> bool {
    require(
        test,
        &format!("NATS JetStream not reachable at {NATS_ADDR}"),
        reachable(NATS_ADDR),
    )
}
