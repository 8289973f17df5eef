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
//! "Earlier" is decided by publication date where both are known. A copy processed before
//! its earlier-published original cannot be re-marked (it has gone on to the sinks), so
//! that pair stays unmarked; such inversions are logged (`published_before_copy`).

use std::sync::Arc;

use newswire_core::near_dup::{Candidate, Decision, RecentOriginals, Rule};
use tokio::sync::mpsc::{Receiver, Sender};

use super::context::Context;
use super::work::Delivery;

/// Originals of this run remembered for matching before their commit lands in the state.
const RECENT_WINDOW: usize = 4096;

pub async fn run(
    ctx: Arc<Context>,
    mut input: Receiver<Delivery>,
    out: Sender<Delivery>,
) -> anyhow::Result<()> {
    let rule = Rule::from(&ctx.config.dedup);
    let mut recent = RecentOriginals::new(RECENT_WINDOW);
    while let Some(mut delivery) = input.recv().await {
        let record = &mut delivery.record;
        let fingerprint = &delivery.fingerprint;
        let mut candidates: Vec<Candidate> = Vec::new();
        if rule.eligible(record.word_count) {
            candidates.extend(recent.candidates(&rule, fingerprint.simhash).cloned());
            candidates.extend(
                ctx.state
                    .near_duplicates(fingerprint.simhash, rule.max_hamming_distance)
                    .await?,
            );
        }
        let decision = rule.decide(
            &record.id,
            record.word_count,
            fingerprint,
            record.published_at,
            &candidates,
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
                tracing::debug!(id = %record.id, copy = %copy.id, published_before_copy = true, "near-duplicate published before a copy already delivered");
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
        // A closed channel drops the delivery, and its claim with it.
        let _ = out.send(delivery).await;
    }
    Ok(())
}
