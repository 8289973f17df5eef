//! systemd service notifications (`Type=notify`): READY=1 once the pipeline runs,
//! WATCHDOG=1 at half the `WatchdogSec=` period, STOPPING=1 when draining starts.
//!
//! Without `NOTIFY_SOCKET` (not under systemd) every call does nothing. Notification
//! failures are logged, never fatal: the service manager is an observer.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

fn send(state: NotifyState<'_>) {
    if let Err(e) = sd_notify::notify(&[state]) {
        tracing::warn!("systemd notification failed: {e}");
    }
}

/// Sends READY=1 when `started` fires, then keeps the watchdog fed until `stop`.
pub fn spawn(started: tokio::sync::oneshot::Receiver<()>, stop: CancellationToken) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    tokio::spawn(async move {
        if started.await.is_err() {
            return;
        }
        send(NotifyState::Ready);
        tracing::debug!("systemd: READY=1");
        // The watchdog lives on the async runtime on purpose: if the runtime stalls,
        // the pings stop and systemd restarts the service.
        let Some(period) = sd_notify::watchdog_enabled() else {
            return;
        };
        let every = (period / 2).max(Duration::from_millis(100));
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => send(NotifyState::Watchdog),
            }
        }
    });
}

/// STOPPING=1: the service is draining (sent once, whoever notices first).
pub fn stopping() {
    static SENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SENT.swap(true, std::sync::atomic::Ordering::Relaxed) {
        send(NotifyState::Stopping);
    }
}

/// A short human-readable status line for `systemctl status`.
pub fn status(text: &str) {
    send(NotifyState::Status(text));
}
