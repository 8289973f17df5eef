//! Which shards this worker may poll at this moment, and how many polls of each are in
//! flight: the hand-shake that keeps a feed from being polled by two workers at once.
//!
//! The scheduler asks [`ShardGate::begin`] the instant a feed falls due and calls
//! [`ShardGate::end`] once the poll's report is recorded (its articles delivered and
//! committed, its feed state saved). The lease task opens a shard once its claim
//! succeeded and closes it before giving the lease up; on a voluntary release
//! (rebalancing) it then waits until [`ShardGate::busy`] is false, renewing the lease
//! meanwhile, and only then deletes it. Both sides take one lock, so a poll either began
//! before the close (and is waited for) or is refused.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use tokio::sync::watch;

/// See the module doc.
#[derive(Debug)]
pub struct ShardGate {
    state: Mutex<GateState>,
    /// Bumped whenever a poll ends, so the lease task can wait for a drain.
    ended: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct GateState {
    open: BTreeSet<u32>,
    in_flight: HashMap<u32, usize>,
}

impl Default for ShardGate {
    fn default() -> Self {
        ShardGate {
            state: Mutex::new(GateState::default()),
            ended: watch::Sender::new(0),
        }
    }
}

impl ShardGate {
    /// A poll of a feed in `shard` wants to start: true, and counted as in flight, when
    /// this worker holds the shard; false otherwise.
    pub fn begin(&self, shard: u32) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        if !state.open.contains(&shard) {
            return false;
        }
        *state.in_flight.entry(shard).or_default() += 1;
        true
    }

    /// A poll that [`ShardGate::begin`] allowed is over (report recorded).
    pub fn end(&self, shard: u32) {
        if let Ok(mut state) = self.state.lock()
            && let Some(count) = state.in_flight.get_mut(&shard)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                state.in_flight.remove(&shard);
            }
        }
        self.ended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Polls of `shard` that began and have not ended.
    pub fn in_flight(&self, shard: u32) -> usize {
        self.state
            .lock()
            .map(|s| s.in_flight.get(&shard).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Whether a poll of `shard` is in flight.
    pub fn busy(&self, shard: u32) -> bool {
        self.in_flight(shard) > 0
    }

    pub(crate) fn open(&self, shard: u32) {
        if let Ok(mut state) = self.state.lock() {
            state.open.insert(shard);
        }
    }

    /// No new poll of `shard` may begin (those in flight go on).
    pub(crate) fn close(&self, shard: u32) {
        if let Ok(mut state) = self.state.lock() {
            state.open.remove(&shard);
        }
    }

    /// Changes whenever a poll ends.
    pub(crate) fn ended(&self) -> watch::Receiver<u64> {
        self.ended.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_shard_refuses_polls_and_counts_the_running_ones() {
        let gate = ShardGate::default();
        assert!(!gate.begin(3), "never opened");
        gate.open(3);
        assert!(gate.begin(3));
        assert!(gate.begin(3));
        gate.close(3);
        assert!(!gate.begin(3), "closed: no new poll");
        assert_eq!(gate.in_flight(3), 2, "the running polls go on");
        let ended = gate.ended();
        gate.end(3);
        assert!(ended.has_changed().unwrap_or(false));
        assert!(gate.busy(3));
        gate.end(3);
        assert!(!gate.busy(3));
        gate.end(3); // an unmatched end changes nothing
        assert_eq!(gate.in_flight(3), 0);
    }
}
