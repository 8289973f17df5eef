//! Sinks: where records go, and when they count as delivered.
//!
//! A sink takes serialised records ([`Sink::write`]), and on [`Sink::flush`] makes them
//! durable (fsync for files, publish acks for NATS) and returns the position to commit to
//! the state store together with the ids it covers. On open, a JSONL sink truncates its
//! file back to the last committed position, so records written but never committed are
//! re-emitted by the pipeline instead of duplicated.
//!
//! How the pipeline drives a sink:
//!
//! ```no_run
//! # async fn demo(config: &newswire_core::config::SinkConfig) -> Result<(), newswire_sink::SinkError> {
//! use newswire_sink::Sink;
//! // `committed` comes from `state.sink_position(&config.state_name())`.
//! let mut sink = Sink::open(config, std::path::Path::new("."), None).await?;
//! // Optional: commit the starting position before the first write
//! // (`state.commit(&[], &[start])`). A JSONL sink also notes it in a hidden marker file
//! // until its first commit, so a crash before that commit doubles nothing either way.
//! let _start = sink.flush().await?;
//! let line = bytes::Bytes::from_static(br#"{"id":"record-id"}"#);
//! // The route: what a NATS subject template may use (`Route::of(&record)` for a record).
//! sink.write("record-id", &line, &newswire_sink::Route::default()).await?;
//! if sink.wants_flush() {
//!     // `state.commit(&records, &positions)` before anything else happens.
//!     let _position = sink.flush().await?;
//! }
//! sink.close().await?; // after the last flush and commit
//! # Ok(()) }
//! ```
//!
//! Guarantees: JSONL exactly once, NATS exactly once within the stream's duplicate window,
//! stdout at least once.

pub mod jsonl;
pub mod nats;
pub mod stdout;
pub mod subject;

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use newswire_core::config::SinkConfig;
use newswire_core::delivery::SinkPosition;

pub use jsonl::{JsonlPosition, JsonlSink};
pub use nats::NatsSink;
pub use stdout::StdoutSink;
pub use subject::Route;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing failed (disk full, read-only directory, permission denied, closed pipe…);
    /// the message names the file.
    #[error("sink {sink}: {message}")]
    Io { sink: String, message: String },
    /// The sink's configuration or committed position cannot be used.
    #[error("sink {sink}: {message}")]
    Config { sink: String, message: String },
    /// The NATS server refused, timed out or could not be reached; the message names it.
    #[error("sink {sink}: {message}")]
    Nats { sink: String, message: String },
}

/// A configured sink (enum dispatch: async methods, no boxing).
#[derive(Debug)]
pub enum Sink {
    Stdout(StdoutSink),
    Jsonl(JsonlSink),
    /// Boxed: a NATS client is much larger than the other sinks.
    Nats(Box<NatsSink>),
}

impl Sink {
    /// Opens the sink described by `config` (relative paths against `base_dir`), rolling a
    /// JSONL file back to `committed`.
    pub async fn open(
        config: &SinkConfig,
        base_dir: &Path,
        committed: Option<SinkPosition>,
    ) -> Result<Sink, SinkError> {
        let name = config.state_name();
        Ok(match config {
            SinkConfig::Stdout(_) => Sink::Stdout(StdoutSink::new(name)),
            SinkConfig::Jsonl(jsonl) => {
                Sink::Jsonl(JsonlSink::open(name, jsonl, base_dir, committed).await?)
            }
            SinkConfig::Nats(nats) => Sink::Nats(Box::new(NatsSink::open(name, nats).await?)),
        })
    }

    /// The name its position is committed under.
    pub fn name(&self) -> String {
        match self {
            Sink::Stdout(s) => s.name().to_string(),
            Sink::Jsonl(s) => s.name().to_string(),
            Sink::Nats(s) => s.name().to_string(),
        }
    }

    /// Appends one record (`line` is the JSON object, without the newline; shared, not
    /// copied, by a NATS sink); `route` gives what a subject template may use.
    pub async fn write(
        &mut self,
        id: &str,
        line: &Bytes,
        route: &Route<'_>,
    ) -> Result<(), SinkError> {
        match self {
            Sink::Stdout(s) => {
                s.write(line);
                Ok(())
            }
            Sink::Jsonl(s) => s.write(line),
            Sink::Nats(s) => s.write(id, line.clone(), route).await,
        }
    }

    /// True when enough records are buffered that the caller should flush now.
    pub fn wants_flush(&self) -> bool {
        match self {
            Sink::Stdout(s) => s.wants_flush(),
            Sink::Jsonl(s) => s.wants_flush(),
            Sink::Nats(s) => s.wants_flush(),
        }
    }

    /// Longest time records may wait before a flush.
    pub fn flush_interval(&self) -> Duration {
        match self {
            Sink::Stdout(s) => s.flush_interval(),
            Sink::Jsonl(s) => s.flush_interval(),
            Sink::Nats(s) => s.flush_interval(),
        }
    }

    /// Makes everything written so far durable; returns the position to commit (`None` for
    /// sinks without one: stdout, NATS).
    ///
    /// Call it again only after the previous position was committed: a JSONL sink then
    /// compresses the files it closed before that position.
    pub async fn flush(&mut self) -> Result<Option<SinkPosition>, SinkError> {
        match self {
            Sink::Stdout(s) => s.flush().await.map(|()| None),
            Sink::Jsonl(s) => s.flush().await.map(Some),
            Sink::Nats(s) => s.flush().await.map(|()| None),
        }
    }

    /// Finishes background work (compression of closed files, the NATS connection's
    /// buffer). Call after the final flush and commit; it writes no records.
    pub async fn close(self) -> Result<(), SinkError> {
        match self {
            Sink::Stdout(_) => Ok(()),
            Sink::Jsonl(s) => s.close().await,
            Sink::Nats(s) => (*s).close().await,
        }
    }
}
