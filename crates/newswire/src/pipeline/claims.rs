//! In-flight claims: a record id between the gate and its commit.
//!
//! The feed stage claims an id before it sends the entry on; a second sighting of the
//! same id (the article in two feeds, or a feed polled again before the commit) finds
//! the claim and is skipped instead of doubled. The [`Claim`] travels with the job, and
//! dropping it releases the id: whatever way a job ends (committed, skipped, a page that
//! failed, a closed channel, a failed sink, shutdown), the id is free again, and there is
//! no release call to forget.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The ids claimed in this process (bounded by the jobs in flight).
#[derive(Debug, Default)]
pub struct InFlight {
    ids: Mutex<HashSet<String>>,
}

impl InFlight {
    /// Claims `id`; `None` when it is already on its way.
    pub fn claim(self: &Arc<Self>, id: String) -> Option<Claim> {
        let mut ids = self.ids.lock().ok()?;
        if !ids.insert(id.clone()) {
            return None;
        }
        Some(Claim {
            id,
            owner: Arc::clone(self),
        })
    }

    #[cfg(test)]
    fn holds(&self, id: &str) -> bool {
        self.ids.lock().is_ok_and(|ids| ids.contains(id))
    }
}

/// One claimed id; released when dropped.
#[derive(Debug)]
pub struct Claim {
    id: String,
    owner: Arc<InFlight>,
}

impl Claim {
    /// The record id this claim holds.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut ids) = self.owner.ids.lock() {
            ids.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_claimed_once_until_its_claim_is_dropped() {
        let in_flight = Arc::new(InFlight::default());
        let first = in_flight.claim("a".into());
        assert_eq!(first.as_ref().map(Claim::id), Some("a"));
        assert!(in_flight.claim("a".into()).is_none(), "second sighting");
        let other = in_flight.claim("b".into());
        assert!(other.is_some(), "other ids are independent");
        drop(first);
        assert!(!in_flight.holds("a"));
        assert!(in_flight.holds("b"));
        assert!(in_flight.claim("a".into()).is_some(), "free again");
    }

    #[tokio::test]
    async fn a_job_lost_in_a_closed_channel_releases_its_id() {
        let in_flight = Arc::new(InFlight::default());
        let (tx, rx) = tokio::sync::mpsc::channel::<Claim>(1);
        drop(rx);
        let claim = in_flight.claim("a".into());
        if let Some(claim) = claim {
            assert!(tx.send(claim).await.is_err());
        }
        assert!(!in_flight.holds("a"));
    }
}
