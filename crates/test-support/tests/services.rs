//! The skip-or-fail rule's checks. Kept out of the library's own test binary: that one
//! installs the counting allocator, whose heap test must not share the process with
//! other tests' allocations.

use newswire_test_support::services::{reachable, require};

#[test]
fn an_available_service_needs_no_check() {
    assert!(require("t", "nothing missing", true));
}

#[test]
fn nothing_listens_on_a_closed_port() {
    // Bind then drop: the port is free and, for the instant of the check, closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1);
    assert!(!reachable(&format!("127.0.0.1:{port}")));
    assert!(!reachable("not an address"));
}
