//! The near-duplicate stage: marks syndicated copies of earlier articles.
//!
//! A record whose simhash is within `dedup.max_hamming_distance` bits of an earlier
//! record's gets `duplicate_of` = that record's id. Earlier means already committed (the
//! state's simhash index, which survives restarts) or seen earlier in this run and not yet
//! committed (a short in-memory window). Short texts are never marked: too few shingles to
//! tell a copy from a template.
//!
//! Known limit: "earlier" means processed earlier, not published earlier. When two copies
//! arrive in one run and the second one processed was published first, the second is
//! still the one marked: the first has already gone on to the sinks (it may be written
//! and even committed by now), and a record cannot be taken back to be re-marked. Holding
//! records back until every copy could have arrived would delay every record for a rare
//! case. Such inversions are logged (`published_before_original`) so they can be counted.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use newswire_core::fingerprint::{hamming, parse_simhash_hex};
use tokio::sync::mpsc::{Receiver, Sender};

use super::context::Context;
use super::work::Delivery;

/// Records of this run remembered for matching before their commit lands in the state.
const RECENT_WINDOW: usize = 4096;

pub async fn run(
    ctx: Arc<Context>,
    mut input: Receiver<Delivery>,
    out: Sender<Delivery>,
) -> anyhow::Result<()> {
    let dedup = ctx.config.dedup.clone();
    // Id, simhash and publication date of the records of this run that are originals.
    let mut recent: VecDeque<(String, u64, Option<DateTime<Utc>>)> =
        VecDeque::with_capacity(RECENT_WINDOW);
    while let Some(mut delivery) = input.recv().await {
        let record = &mut delivery.record;
        if record.word_count >= dedup.min_words
            && let Some(simhash) = parse_simhash_hex(&record.simhash)
        {
            let in_run = recent
                .iter()
                .filter(|(id, _, _)| *id != record.id)
                .find(|(_, other, _)| hamming(simhash, *other) <= dedup.max_hamming_distance)
                .map(|(id, _, published)| {
                    if let (Some(copy), Some(original)) = (record.published_at, published)
                        && copy < *original
                    {
                        // See the module doc: the original has already left this stage.
                        tracing::debug!(id = %record.id, original = %id, published_before_original = true, "near-duplicate published before the record it copies");
                    }
                    id.clone()
                });
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
                ctx.stats.duplicate();
                record.duplicate_of = Some(original);
                delivery.suppress = !dedup.emit_duplicates;
            } else {
                if recent.len() == RECENT_WINDOW {
                    recent.pop_front();
                }
                recent.push_back((record.id.clone(), simhash, record.published_at));
            }
        }
        // A closed channel drops the delivery, and its claim with it.
        let _ = out.send(delivery).await;
    }
    Ok(())
}
