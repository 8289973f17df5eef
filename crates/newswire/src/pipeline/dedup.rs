//! The near-duplicate stage: marks syndicated copies of earlier articles.
//!
//! A record whose simhash is within `dedup.max_hamming_distance` bits of an earlier
//! record's gets `duplicate_of` = that record's id. Earlier means already committed (the
//! state's simhash index, which survives restarts) or seen earlier in this run and not yet
//! committed (a short in-memory window). Short texts are never marked: too few shingles to
//! tell a copy from a template.

use std::collections::VecDeque;
use std::sync::Arc;

use newswire_core::fingerprint::{hamming, parse_simhash_hex};
use tokio::sync::mpsc::{Receiver, Sender};

use super::context::{Context, Stats};
use super::work::Delivery;

/// Records of this run remembered for matching before their commit lands in the state.
const RECENT_WINDOW: usize = 4096;

pub async fn run(
    ctx: Arc<Context>,
    mut input: Receiver<Delivery>,
    out: Sender<Delivery>,
) -> anyhow::Result<()> {
    let dedup = ctx.config.dedup.clone();
    let mut recent: VecDeque<(String, u64)> = VecDeque::with_capacity(RECENT_WINDOW);
    while let Some(mut delivery) = input.recv().await {
        let record = &mut delivery.record;
        if record.word_count >= dedup.min_words
            && let Some(simhash) = parse_simhash_hex(&record.simhash)
        {
            let in_run = recent
                .iter()
                .filter(|(id, _)| *id != record.id)
                .find(|(_, other)| hamming(simhash, *other) <= dedup.max_hamming_distance)
                .map(|(id, _)| id.clone());
            let original = match in_run {
                Some(id) => Some(id),
                None => ctx
                    .state
                    .near_duplicate(simhash, dedup.max_hamming_distance)
                    .await?
                    .filter(|id| *id != record.id),
            };
            if let Some(original) = original {
                tracing::info!(id = %record.id, duplicate_of = %original, url = %record.url, "near-duplicate");
                Stats::add(&ctx.stats.duplicates, 1);
                metrics::counter!(crate::metrics::DUPLICATES).increment(1);
                record.duplicate_of = Some(original);
                delivery.suppress = !dedup.emit_duplicates;
            } else {
                if recent.len() == RECENT_WINDOW {
                    recent.pop_front();
                }
                recent.push_back((record.id.clone(), simhash));
            }
        }
        if let Err(returned) = out.send(delivery).await {
            returned.0.ticket.mark_incomplete();
            ctx.release([returned.0.record.id.as_str()]);
        }
    }
    Ok(())
}
