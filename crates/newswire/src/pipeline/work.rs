//! The items that travel between pipeline stages.
//!
//! A poll of one feed produces a [`PollTicket`] shared by every article job it spawned.
//! When the last job is done (committed, skipped, or failed), the ticket's `Drop` reports
//! the poll's outcome to the feed-state writer. Validators (ETag, Last-Modified) are only
//! saved when every article of the poll was delivered: saving them earlier would let a
//! crash plus a later `304 Not Modified` lose the undelivered articles for good.
//!
//! The report channel is bounded: every poll reserves its report's slot before it starts
//! ([`ReportSlot`]), and the ticket sends into that slot, so a report never waits and the
//! channel never holds more reports than polls are in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use newswire_core::Record;
use newswire_core::fingerprint::Fingerprint;
use newswire_extractor::FeedHints;
use newswire_fetcher::{FeedEntry, Validators};
use tokio::sync::mpsc::OwnedPermit;
use url::Url;

use super::claims::Claim;

/// A feed as the pipeline runs it: the config entry with its URL resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedSpec {
    pub url: Url,
    pub name: Option<String>,
    pub interval: Option<Duration>,
    pub tags: Vec<String>,
    pub respect_robots_txt: bool,
}

impl FeedSpec {
    /// Key under which the feed's state is stored.
    pub fn key(&self) -> &str {
        self.url.as_str()
    }

    /// Directory below which a `file://` feed's article links may be read.
    pub fn file_dir(&self) -> Option<std::path::PathBuf> {
        if self.url.scheme() != "file" {
            return None;
        }
        self.url
            .to_file_path()
            .ok()
            .and_then(|p| p.parent().map(|d| d.to_path_buf()))
    }
}

/// What a finished poll reports to the feed-state writer (and the schedule).
#[derive(Debug, Clone)]
pub struct PollReport {
    pub feed: Arc<FeedSpec>,
    /// Validators to remember; `None` when some article of the poll must be retried.
    pub validators: Option<Validators>,
    pub outcome: PollOutcome,
}

/// How a poll ended, with the timing facts the fetcher reported (the schedule decides
/// what they mean).
#[derive(Debug, Clone, PartialEq)]
pub enum PollOutcome {
    /// The feed was downloaded and read.
    Fetched {
        /// From `Cache-Control`/`Expires`.
        header_hint: Option<Duration>,
        /// The feed's own `ttl`/`sy:*` hint.
        feed_hint: Option<Duration>,
    },
    /// `304 Not Modified` (or a file feed unchanged on disk).
    NotModified { header_hint: Option<Duration> },
    Failed {
        /// Why, with the feed URL.
        error: String,
        /// The server's `Retry-After`: the next poll waits at least this long.
        retry_after: Option<Duration>,
    },
}

/// Shared by all article jobs of one poll; reports the poll when the last one is dropped.
///
/// Every job the poll sends is counted, and only a commit counts it off: whatever way a
/// job is lost (a transient page failure, a failed sink, a shutdown, a job still queued
/// when a stage stops), the count stays above zero and the validators are not saved.
#[derive(Debug)]
pub struct PollTicket {
    report: Option<PollReport>,
    undelivered: AtomicUsize,
    /// Entries were left for the next poll (`fetch.max_entries_per_poll`).
    truncated: AtomicBool,
    done: Option<ReportSlot>,
}

/// A reserved place in the bounded poll-report channel: taken before a poll starts, so
/// that sending the report (from a `Drop`) never waits.
pub type ReportSlot = OwnedPermit<PollReport>;

impl PollTicket {
    pub fn new(report: PollReport, done: ReportSlot) -> Arc<Self> {
        Arc::new(Self {
            report: Some(report),
            undelivered: AtomicUsize::new(0),
            truncated: AtomicBool::new(false),
            done: Some(done),
        })
    }

    /// Some entries of this poll were left for the next one: its validators must not be
    /// saved, or the next poll would get `304 Not Modified` and never see them.
    pub fn entries_left_over(&self) {
        self.truncated.store(true, Ordering::Release);
    }

    /// A job of this poll is on its way; call before sending it.
    pub fn expect_delivery(&self) {
        self.undelivered.fetch_add(1, Ordering::AcqRel);
    }

    /// A job of this poll is committed to the state.
    pub fn delivered(&self) {
        let _ = self
            .undelivered
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

impl Drop for PollTicket {
    fn drop(&mut self) {
        if let Some(mut report) = self.report.take() {
            if self.undelivered.load(Ordering::Acquire) > 0
                || self.truncated.load(Ordering::Acquire)
            {
                // Some article must be retried (or was not taken yet): without validators
                // the next poll downloads the feed again instead of getting a 304.
                report.validators = None;
            }
            if let Some(slot) = self.done.take() {
                slot.send(report);
            }
        }
    }
}

/// One new feed entry on its way to becoming a record.
#[derive(Debug)]
pub struct ArticleJob {
    /// The record id, claimed until this job (or what it becomes) is dropped.
    pub claim: Claim,
    pub feed: Arc<FeedSpec>,
    pub feed_title: Option<String>,
    pub feed_link: Option<Url>,
    /// The feed's declared language: the extractor's last resort when neither the page
    /// declares one nor its text is long enough to tell.
    pub feed_language: Option<String>,
    pub entry: FeedEntry,
    pub ticket: Arc<PollTicket>,
}

impl ArticleJob {
    /// The record id.
    pub fn id(&self) -> &str {
        self.claim.id()
    }

    pub fn hints(&self) -> FeedHints {
        let e = &self.entry;
        FeedHints {
            title: e.title.clone(),
            authors: e.authors.clone(),
            published_at: e.published,
            updated_at: e.updated,
            summary: e.summary.clone(),
            content_html: e.content.clone(),
            language: self.feed_language.clone(),
            tags: e.categories.clone(),
            image: e.image.as_ref().map(Url::to_string),
        }
    }
}

/// An article's page, downloaded (or not) and ready for extraction.
#[derive(Debug)]
pub struct PageJob {
    pub job: ArticleJob,
    pub final_url: Option<Url>,
    /// Decoded HTML; `None` when the record must be built from the feed entry.
    pub html: Option<String>,
    /// Why there is no HTML, when there is none.
    pub warning: Option<String>,
}

/// A finished record plus what the commit stage needs to finish the job.
#[derive(Debug)]
pub struct Delivery {
    pub record: Record,
    /// The text's near-duplicate sketches, typed (the record carries the simhash as hex).
    pub fingerprint: Fingerprint,
    /// Set by the dedup stage: commit the record to the near-duplicate index as an
    /// original (see `newswire_core::near_dup`).
    pub index_as_original: bool,
    /// Drop it without writing (a near-duplicate when duplicates are not emitted).
    pub suppress: bool,
    pub ticket: Arc<PollTicket>,
    /// The record id's claim, released once the record is committed (or lost).
    pub claim: Claim,
}

impl Delivery {
    pub fn new(
        record: Record,
        fingerprint: Fingerprint,
        ticket: Arc<PollTicket>,
        claim: Claim,
    ) -> Self {
        Delivery {
            fingerprint,
            record,
            index_as_original: false,
            suppress: false,
            ticket,
            claim,
        }
    }
}

/// What the delivery stage receives, in order: records, and from the stories stage the
/// story lines and the clusterer's checkpoints (see `stories.rs`).
#[derive(Debug)]
pub enum Outbound {
    Record(Box<Delivery>),
    /// A `newswire.story/1` line, delivered and committed like a record under `id`
    /// (`story:<story id>:<article count>`, unique per line and the same when re-sent).
    StoryLine {
        id: String,
        line: Vec<u8>,
    },
    /// The clusterer's saved state, covering every item sent before it: stored once
    /// those are committed, so a restart resumes from delivered work only.
    StoryCheckpoint(Vec<u8>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> (Arc<PollTicket>, tokio::sync::mpsc::Receiver<PollReport>) {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let slot = tx.try_reserve_owned().unwrap();
        let feed = Arc::new(FeedSpec {
            url: Url::parse("https://news.example/rss").unwrap(),
            name: None,
            interval: None,
            tags: vec![],
            respect_robots_txt: true,
        });
        let report = PollReport {
            feed,
            validators: Some(Validators {
                etag: Some("\"v1\"".into()),
                last_modified: None,
            }),
            outcome: PollOutcome::Fetched {
                header_hint: None,
                feed_hint: None,
            },
        };
        (PollTicket::new(report, slot), rx)
    }

    #[test]
    fn validators_are_kept_only_when_every_job_was_committed() {
        let (all_committed, mut rx) = ticket();
        all_committed.expect_delivery();
        all_committed.expect_delivery();
        all_committed.delivered();
        all_committed.delivered();
        drop(all_committed);
        assert!(rx.try_recv().unwrap().validators.is_some());

        // A job lost anywhere (failed page, failed sink, still queued at shutdown) is
        // simply never counted off.
        let (one_lost, mut rx) = ticket();
        one_lost.expect_delivery();
        one_lost.expect_delivery();
        one_lost.delivered();
        drop(one_lost);
        assert!(rx.try_recv().unwrap().validators.is_none());

        let (nothing_new, mut rx) = ticket();
        drop(nothing_new);
        assert!(rx.try_recv().unwrap().validators.is_some());

        // Entries left for the next poll: delivered or not, the feed must be downloaded
        // again next time.
        let (truncated, mut rx) = ticket();
        truncated.expect_delivery();
        truncated.delivered();
        truncated.entries_left_over();
        drop(truncated);
        assert!(rx.try_recv().unwrap().validators.is_none());
    }

    #[test]
    fn a_report_never_waits_because_its_slot_was_reserved_before_the_poll() {
        // A channel of one slot, taken by the ticket: the report goes in from `Drop`
        // without awaiting, and nothing else can be queued meanwhile.
        let (ticket, mut rx) = ticket();
        drop(ticket);
        assert!(rx.try_recv().is_ok());
        assert!(rx.try_recv().is_err());
    }
}
