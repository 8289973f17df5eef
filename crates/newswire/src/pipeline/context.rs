//! What every stage shares: config, the HTTP client, the state, telemetry, in-flight
//! claims, shutdown.

use std::sync::Arc;

use newswire_core::config::Config;
use newswire_fetcher::Fetcher;
use tokio_util::sync::CancellationToken;

use super::claims::InFlight;
use super::state::StateHandle;
use crate::metrics::Health;
use crate::telemetry::Stats;

/// Shared by all stages (behind an `Arc`).
pub struct Context {
    pub config: Config,
    pub fetcher: Fetcher,
    pub state: StateHandle,
    /// Run statistics and metrics: every event is counted through it.
    pub stats: Arc<Stats>,
    /// What `/readyz` reports.
    pub health: Arc<Health>,
    /// Ids between the gate and their commit: a second sighting is skipped, not doubled.
    pub in_flight: Arc<InFlight>,
    /// Cancelled on SIGTERM/SIGINT: stop polling, let in-flight work drain.
    pub shutdown: CancellationToken,
}
