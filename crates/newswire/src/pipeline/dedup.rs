//! The near-duplicate stage: applies `newswire_core::near_dup::Rule` to each record.
//!
//! The rule (eligibility, candidates, confirmation on the texts, which copy points at
//! which) lives in `newswire_core::near_dup`; this stage only gathers the candidates from
//! the two places originals are kept and acts on the decision:
//! - candidates: originals of this run not yet committed (a bounded in-memory window) and
//!   originals committed to the state (which survive restarts);
//! - a copy gets `duplicate_of` and is suppressed unless `dedup.emit_duplicates`;
//! - an original is remembered in the window and flagged so that the commit indexes it.
//!
//! **Publication order within a burst.** "Earlier" is decided by publication date where
//! both are known, but records reach this stage in the order their pages happened to be
//! fetched and extracted: a syndicated copy from a fast site often arrives before its
//! wire original from a slower one polled in the same round. Deciding in arrival order
//! would find the copy first, deliver it unmarked, and then have to leave the pair
//! unmarked (a delivered record cannot be taken back). So the stage holds records
//! briefly ([`Batch`]): it gathers them until its input has been quiet for [`QUIET`], the
//! oldest has waited [`MAX_HOLD`], or [`MAX_BATCH`] are held, and then decides them in
//! publication order (undated last, ties by id, so a run is deterministic). Copies
//! arriving within one burst therefore always point at the earlier-published article.
//! Only a copy delivered in an earlier burst (its original fetched seconds or runs later)
//! can still precede its original; that pair stays unmarked rather than pointing the
//! wrong way, and the inversion is logged (`published_before_copy`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use newswire_core::near_dup::{Candidate, Decision, RecentOriginals, Rule};
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::time::Instant;

use super::context::Context;
use super::work::Delivery;
use crate::telemetry::{self, Stage};

/// Originals of this run remembered for matching before their commit lands in the state.
const RECENT_WINDOW: usize = 4096;

/// A burst ends when no record has arrived for this long.
pub const QUIET: Duration = Duration::from_millis(500);

/// No record waits longer than this for its burst to end (bounds the added latency).
pub const MAX_HOLD: Duration = Duration::from_secs(3);

/// Records held at most at once (bounds memory; a full batch is decided at once).
pub const MAX_BATCH: usize = 256;

pub async fn run(
    ctx: Arc<Context>,
    mut input: Receiver<Delivery>,
    out: Sender<Delivery>,
) -> anyhow::Result<()> {
    let rule = Rule::from(&ctx.config.dedup);
    let mut recent = RecentOriginals::new(RECENT_WINDOW);
    let mut batch = Batch::default();
    loop {
        let next = match batch.deadline() {
            None => input.recv().await,
            Some(deadline) => match tokio::time::timeout_at(deadline, input.recv()).await {
                Ok(next) => next,
                Err(_quiet) => {
                    decide_all(&ctx, &rule, &mut recent, batch.take(), &out).await?;
                    continue;
                }
            },
        };
        let Some(delivery) = next else {
            decide_all(&ctx, &rule, &mut recent, batch.take(), &out).await?;
            return Ok(());
        };
        batch.push(delivery, Instant::now());
        if batch.is_full() {
            decide_all(&ctx, &rule, &mut recent, batch.take(), &out).await?;
        }
    }
}

/// Records held until their burst ends (see the module doc).
#[derive(Default)]
struct Batch {
    held: Vec<Delivery>,
    burst: Burst,
}

impl Batch {
    fn push(&mut self, delivery: Delivery, now: Instant) {
        self.burst.arrived(now);
        self.held.push(delivery);
    }

    fn is_full(&self) -> bool {
        self.held.len() >= MAX_BATCH
    }

    fn deadline(&self) -> Option<Instant> {
        self.burst.deadline()
    }

    /// The held records in publication order, emptying the batch.
    fn take(&mut self) -> Vec<Delivery> {
        self.burst = Burst::default();
        let mut held = std::mem::take(&mut self.held);
        held.sort_by(|a, b| {
            publication_key(a.record.published_at, &a.record.id)
                .cmp(&publication_key(b.record.published_at, &b.record.id))
        });
        held
    }
}

/// Arrival times of the records held.
#[derive(Debug, Default, Clone, Copy)]
struct Burst {
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Burst {
    fn arrived(&mut self, now: Instant) {
        self.first.get_or_insert(now);
        self.last = Some(now);
    }

    /// When the held records must be decided: after [`QUIET`] without a new record, and
    /// at the latest [`MAX_HOLD`] after the first; `None` when nothing is held.
    fn deadline(&self) -> Option<Instant> {
        let (first, last) = (self.first?, self.last?);
        Some((last + QUIET).min(first + MAX_HOLD))
    }
}

/// The order in which a burst is decided: earlier-published first, undated last, then
/// by id; so a copy is decided after (and points at) its earlier-published original.
fn publication_key(
    published_at: Option<DateTime<Utc>>,
    id: &str,
) -> (bool, Option<DateTime<Utc>>, &str) {
    (published_at.is_none(), published_at, id)
}

async fn decide_all(
    ctx: &Context,
    rule: &Rule,
    recent: &mut RecentOriginals,
    mut batch: Vec<Delivery>,
    out: &Sender<Delivery>,
) -> anyhow::Result<()> {
    // The stored originals of the whole batch in one state call: the records of a batch
    // are not committed yet, so none can be among another's stored candidates (they meet
    // through `recent`), and a call per record kept this stage waiting on the state
    // thread's wake-ups.
    let started = std::time::Instant::now();
    let lookups = batch
        .iter()
        .map(|d| {
            rule.eligible(d.record.word_count)
                .then(|| (d.record.id.clone(), d.fingerprint.clone()))
        })
        .collect();
    let stored = ctx.state.confirmed_near_duplicates(*rule, lookups).await?;
    for (delivery, stored) in batch.iter_mut().zip(stored) {
        decide(ctx, rule, recent, delivery, stored);
    }
    telemetry::stage_time(Stage::NearDuplicates, started);
    for delivery in batch {
        // A closed channel drops the delivery, and its claim with it.
        let _ = out.send(delivery).await;
    }
    Ok(())
}

/// Applies the rule to one record, given the stored originals that confirm it: marks a
/// copy, or remembers an original.
fn decide(
    ctx: &Context,
    rule: &Rule,
    recent: &mut RecentOriginals,
    delivery: &mut Delivery,
    stored: Vec<Candidate>,
) {
    let record = &mut delivery.record;
    let fingerprint = &delivery.fingerprint;
    let candidates: Vec<&Candidate> = if rule.eligible(record.word_count) {
        recent
            .candidates(rule, fingerprint.simhash)
            .chain(&stored)
            .collect()
    } else {
        Vec::new()
    };
    let decision = rule.decide(
        &record.id,
        record.word_count,
        fingerprint,
        record.published_at,
        candidates,
    );
    match &decision {
        Decision::CopyOf(original) => {
            tracing::info!(
                id = %record.id,
                duplicate_of = %original.id,
                url = %record.url,
                distance = original.distance,
                containment = original.similarity.containment,
                jaccard = original.similarity.jaccard,
                "near-duplicate"
            );
            ctx.stats.duplicate();
            record.duplicate_of = Some(original.id.clone());
            delivery.suppress = !ctx.config.dedup.emit_duplicates;
        }
        Decision::PublishedFirst(copy) => {
            tracing::info!(
                id = %record.id,
                copy = %copy.id,
                published_before_copy = true,
                "near-duplicate published before a copy delivered in an earlier burst; pair left unmarked"
            );
        }
        Decision::Original | Decision::Ineligible => {}
    }
    if decision.indexes() {
        recent.push(Candidate {
            id: record.id.clone(),
            simhash: fingerprint.simhash,
            minhash: Some(fingerprint.minhash.clone()),
            published_at: record.published_at,
        });
        delivery.index_as_original = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_burst_is_decided_in_publication_order_undated_last() {
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 17, h, 0, 0).single();
        let mut arrived = [
            (at(11), "herald-copy"),
            (None, "undated"),
            (at(9), "wire-original"),
            (at(11), "another-copy"),
        ];
        arrived.sort_by(|a, b| publication_key(a.0, a.1).cmp(&publication_key(b.0, b.1)));
        let order: Vec<_> = arrived.iter().map(|(_, id)| *id).collect();
        assert_eq!(
            order,
            ["wire-original", "another-copy", "herald-copy", "undated"]
        );
    }

    #[test]
    fn a_burst_ends_when_quiet_or_at_the_longest_hold() {
        let start = Instant::now();
        let mut burst = Burst::default();
        assert_eq!(burst.deadline(), None);
        burst.arrived(start);
        assert_eq!(burst.deadline(), Some(start + QUIET));
        // A steady trickle keeps the burst open, but never past the longest hold.
        let mut now = start;
        while now < start + MAX_HOLD {
            now += QUIET / 2;
            burst.arrived(now);
        }
        assert_eq!(burst.deadline(), Some(start + MAX_HOLD));
    }
}
