//! The NATS JetStream sink: each record is published with its id as `Nats-Msg-Id`, and a
//! flush waits for every publish acknowledgement; a record counts as delivered (and its
//! id is committed) only after its ack. At most `flush_records` (≤ 4,096) publishes wait
//! for their acks at a time.
//!
//! Outages: the client reconnects on its own. A publish that was not acknowledged because
//! the server was away (no ack in time, broken connection, no JetStream answering yet) is
//! kept and published again, same message id, with back-off, for up to
//! [`PUBLISH_RETRY_FOR`]; only then does the flush fail (and the pipeline stop, to be
//! restarted from its committed state). A refusal that waiting cannot fix (stream full, a
//! subject no stream captures, a record over the server's size limit) fails at once.
//!
//! Exactly-once comes from JetStream, not from us: a record sent again after a crash, or
//! by the worker that took a dead one's shards over, carries the same message id (the
//! record id, a hash of the canonical URL, the same on every worker), and the stream drops
//! it if it arrives within the stream's duplicate window. Streams this sink creates take
//! the table's stream options (`subjects`, `max_age`, `max_bytes`, `replicas`,
//! `duplicate_window`, `discard`; window [`DUPLICATE_WINDOW`] by default, long enough to
//! cover a restart after an operator fixes a failure); an existing stream keeps its own
//! settings.

use std::time::Duration;

use async_nats::jetstream::context::{PublishAckFuture, PublishError, PublishErrorKind};
use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use newswire_core::cluster_config::NatsConnection;
use newswire_core::config::NatsSinkConfig;

use crate::SinkError;
use crate::subject::{Route, StreamOptions, SubjectTemplate, describe_publish_error};

/// Stream used when the config names none.
pub const DEFAULT_STREAM: &str = "NEWSWIRE";
/// Subject used when the config names none.
pub const DEFAULT_SUBJECT: &str = newswire_core::config::DEFAULT_NATS_SUBJECT;
/// Duplicate window of streams created by the sink.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);
/// Default: wait for acknowledgements after this many records…
pub const DEFAULT_FLUSH_RECORDS: usize = 256;
/// …or after this long, whichever comes first.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Most publishes awaiting an ack between two flushes. async-nats holds a permit per
/// unacknowledged publish (5,000 by default) and makes the next publish wait for one, so
/// a batch larger than that would wait forever for its own flush.
const MAX_IN_FLIGHT: usize = 4096;
/// How long a flush keeps publishing unacknowledged records again during an outage.
pub const PUBLISH_RETRY_FOR: Duration = Duration::from_secs(120);
/// Wait before the first re-publish; doubled each round up to [`RETRY_DELAY_MAX`].
const RETRY_DELAY_FIRST: Duration = Duration::from_millis(250);
const RETRY_DELAY_MAX: Duration = Duration::from_secs(5);

/// A record published (or waiting to be published again) and not yet acknowledged.
struct Unacked {
    id: String,
    subject: String,
    /// Shared with the caller's line: a re-publish copies nothing.
    payload: Bytes,
    /// `None` when the last send or ack failed in a way worth retrying.
    ack: Option<PublishAckFuture>,
}

/// Why a publish failed, as far as retrying goes.
enum Failure {
    /// The server was away or slow: publish again.
    Transient(String),
    /// The server refused the record for a reason waiting will not change.
    Permanent(String),
}

/// A JetStream stream as a sink.
pub struct NatsSink {
    name: String,
    url: String,
    stream: String,
    /// Subject template (`subject.rs`); a plain subject is a template without placeholders.
    subject: SubjectTemplate,
    client: async_nats::Client,
    jetstream: jetstream::Context,
    /// Records sent and not yet acknowledged (bounded by `flush_records`).
    in_flight: Vec<Unacked>,
    flush_records: usize,
    flush_interval: Duration,
}

impl std::fmt::Debug for NatsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSink")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("subject", &self.subject.as_str())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

impl NatsSink {
    /// Connects to `config.url` and makes sure the stream exists (creating it with the
    /// config's stream options, capturing `config.subject`, when missing).
    /// `name` is the sink's state name (`SinkConfig::state_name`).
    pub async fn open(name: String, config: &NatsSinkConfig) -> Result<NatsSink, SinkError> {
        NatsSink::open_with_stream(name, config, &StreamOptions::from_config(config)).await
    }

    /// As [`NatsSink::open`], creating an absent stream with `options`.
    pub async fn open_with_stream(
        name: String,
        config: &NatsSinkConfig,
        options: &StreamOptions,
    ) -> Result<NatsSink, SinkError> {
        let url = config.url.clone();
        let stream = config
            .stream
            .clone()
            .unwrap_or_else(|| DEFAULT_STREAM.to_string());
        let subject = config
            .subject
            .clone()
            .unwrap_or_else(|| DEFAULT_SUBJECT.to_string());
        let subject = SubjectTemplate::parse(&subject).map_err(|e| SinkError::Config {
            sink: name.clone(),
            message: e.to_string(),
        })?;
        let nats_error = |message: String| SinkError::Nats {
            sink: name.clone(),
            message,
        };
        let connection = NatsConnection {
            nats_url: url.clone(),
            ..NatsConnection::default()
        };
        let client = newswire_core::nats::connect(&connection)
            .await
            .map_err(nats_error)?;
        let jetstream = jetstream::new(client.clone());
        newswire_core::nats::get_or_create_stream(
            &jetstream,
            options.stream_config(&stream, &subject),
        )
        .await
        .map_err(|e| nats_error(format!("stream {stream} on {url}: {e}")))?;
        Ok(NatsSink {
            name,
            url,
            stream,
            subject,
            client,
            jetstream,
            in_flight: Vec::new(),
            flush_records: config
                .flush_records
                .unwrap_or(DEFAULT_FLUSH_RECORDS)
                .clamp(1, MAX_IN_FLIGHT),
            flush_interval: config
                .flush_interval
                .map(|d| d.0)
                .unwrap_or(DEFAULT_FLUSH_INTERVAL),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Publishes one record with `id` as its message id on the subject `route` gives
    /// (the ack is awaited by `flush`). While the server is away the record is kept and
    /// sent by `flush`.
    pub async fn write(
        &mut self,
        id: &str,
        line: Bytes,
        route: &Route<'_>,
    ) -> Result<(), SinkError> {
        let mut record = Unacked {
            id: id.to_string(),
            subject: self.subject.render(route),
            payload: line,
            ack: None,
        };
        match self.send(&record, &mut None).await {
            Ok(ack) => record.ack = Some(ack),
            Err(Failure::Transient(_)) => {}
            Err(Failure::Permanent(message)) => {
                return Err(self.error(format!("cannot publish record {id}: {message}")));
            }
        }
        self.in_flight.push(record);
        Ok(())
    }

    async fn send(
        &self,
        record: &Unacked,
        stream_answers: &mut Option<bool>,
    ) -> Result<PublishAckFuture, Failure> {
        let message = PublishMessage::build()
            .payload(record.payload.clone())
            .message_id(&record.id);
        match self
            .jetstream
            .send_publish(record.subject.clone(), message)
            .await
        {
            Ok(ack) => Ok(ack),
            Err(e) => Err(self.classify(&record.subject, &e, stream_answers).await),
        }
    }

    /// Sorts a publish error into worth-retrying or not. "No stream for the subject" is
    /// also what a restarting server answers before JetStream is back, so it is final only
    /// when the stream answers (asked once per round: `stream_answers` keeps the answer).
    async fn classify(
        &self,
        subject: &str,
        error: &PublishError,
        stream_answers: &mut Option<bool>,
    ) -> Failure {
        let message = describe_publish_error(&self.stream, subject, error);
        match error.kind() {
            PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::MaxAckPending => Failure::Transient(message),
            PublishErrorKind::StreamNotFound => {
                let answers = match *stream_answers {
                    Some(answers) => answers,
                    None => {
                        let answers = self.jetstream.get_stream(&self.stream).await.is_ok();
                        *stream_answers = Some(answers);
                        answers
                    }
                };
                if answers {
                    Failure::Permanent(message)
                } else {
                    Failure::Transient(message)
                }
            }
            _ => Failure::Permanent(message),
        }
    }

    fn error(&self, message: String) -> SinkError {
        SinkError::Nats {
            sink: self.name.clone(),
            message: format!("{message} (server {})", self.url),
        }
    }

    pub fn wants_flush(&self) -> bool {
        self.in_flight.len() >= self.flush_records
    }

    pub fn flush_interval(&self) -> Duration {
        self.flush_interval
    }

    /// Waits until JetStream has acknowledged (stored) every published record, publishing
    /// again what an outage left unacknowledged (see the module doc).
    pub async fn flush(&mut self) -> Result<(), SinkError> {
        let total = self.in_flight.len();
        let started = tokio::time::Instant::now();
        let mut delay = RETRY_DELAY_FIRST;
        let mut pending = std::mem::take(&mut self.in_flight);
        loop {
            let mut last_transient = None;
            let mut permanent = None;
            let mut stream_answers = None;
            // Await every ack even after a refusal, so none is left dangling.
            for record in &mut pending {
                if record.ack.is_none() {
                    match self.send(record, &mut stream_answers).await {
                        Ok(ack) => record.ack = Some(ack),
                        Err(Failure::Transient(m)) => last_transient = Some(m),
                        Err(Failure::Permanent(m)) => permanent = permanent.or(Some(m)),
                    }
                }
            }
            // Awaited together: an ack's timeout starts when it is awaited, so awaiting
            // them one after another would make an outage cost a timeout per record.
            let acks = pending
                .iter_mut()
                .map(|record| record.ack.take())
                .map(|ack| async move {
                    match ack {
                        Some(ack) => Some(ack.await),
                        None => None,
                    }
                });
            let outcomes = futures_util::future::join_all(acks).await;
            let mut unacknowledged = Vec::new();
            for (record, outcome) in pending.into_iter().zip(outcomes) {
                match outcome {
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => match self
                        .classify(&record.subject, &e, &mut stream_answers)
                        .await
                    {
                        Failure::Transient(m) => last_transient = Some(m),
                        Failure::Permanent(m) => permanent = permanent.or(Some(m)),
                    },
                    None => {}
                }
                unacknowledged.push(record);
            }
            pending = unacknowledged;
            if let Some(message) = permanent {
                return Err(self.error(format!(
                    "JetStream did not acknowledge all {total} records: {message}"
                )));
            }
            let Some(message) = last_transient else {
                return Ok(());
            };
            if started.elapsed() >= PUBLISH_RETRY_FOR {
                return Err(self.error(format!(
                    "JetStream did not acknowledge {} of {total} records within {}s: {message}",
                    pending.len(),
                    PUBLISH_RETRY_FOR.as_secs()
                )));
            }
            tracing::warn!(
                sink = %self.name,
                unacknowledged = pending.len(),
                retry_in_ms = delay.as_millis() as u64,
                "NATS did not acknowledge some records ({message}); publishing them again with the same message ids"
            );
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RETRY_DELAY_MAX);
        }
    }

    /// Flushes the connection's outgoing buffer. Call after the final flush and commit.
    pub async fn close(self) -> Result<(), SinkError> {
        self.client.flush().await.map_err(|e| SinkError::Nats {
            sink: self.name.clone(),
            message: format!("cannot flush connection to {}: {e}", self.url),
        })
    }
}

/// Test helpers shared by the sink's tests against a real server.
#[cfg(test)]
pub(crate) mod test_support {
    use newswire_core::config::NatsSinkConfig;

    pub(crate) use newswire_test_support::services::NATS_ADDR as SERVER;

    /// Whether NATS answers (see `newswire_test_support::services::require`).
    pub(crate) fn server_is_up(test: &str) -> bool {
        newswire_test_support::services::nats_is_up(test)
    }

    /// A stream name no other run uses.
    pub(crate) fn unique(prefix: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("{prefix}_{}_{nanos}", std::process::id())
    }

    /// A sink on the test server publishing to `stream` through `subject`.
    pub(crate) fn config(stream: &str, subject: &str, flush_records: usize) -> NatsSinkConfig {
        NatsSinkConfig {
            name: None,
            url: format!("nats://{SERVER}"),
            stream: Some(stream.to_string()),
            subject: Some(subject.to_string()),
            flush_records: Some(flush_records),
            ..NatsSinkConfig::default()
        }
    }

    pub(crate) use newswire_test_support::nats::Cleanup;
}

#[cfg(test)]
mod tests {
    //! These talk to a real server on 127.0.0.1:4222 and skip (with a message) without one.

    use super::test_support::{Cleanup, SERVER, config, server_is_up, unique};
    use super::*;
    use futures_util::StreamExt;

    fn payload(i: usize) -> Bytes {
        Bytes::from(format!("{{\"n\":{i}}}"))
    }

    #[tokio::test]
    async fn publishes_with_message_ids_and_drops_resends() {
        if !server_is_up("publishes_with_message_ids_and_drops_resends") {
            return;
        }
        let stream = unique("NEWSWIRE_TEST");
        let _guard = Cleanup::stream(&stream);
        let subject = format!("test.{}", stream.to_lowercase());
        let config = config(&stream, &subject, 3);
        let name = newswire_core::config::SinkConfig::Nats(config.clone()).state_name();
        assert_eq!(name, format!("nats:{stream}"));
        let mut sink = NatsSink::open(name.clone(), &config).await.unwrap();
        assert_eq!(sink.name(), name);
        for i in 0..3 {
            sink.write(&format!("id-{i}"), payload(i), &Route::default())
                .await
                .unwrap();
        }
        assert!(sink.wants_flush());
        sink.flush().await.unwrap();
        // A restart re-sends records 1 and 2 (never committed) and adds 3.
        drop(sink);
        let mut sink = NatsSink::open("nats:test".into(), &config).await.unwrap();
        for i in 1..4 {
            sink.write(&format!("id-{i}"), payload(i), &Route::default())
                .await
                .unwrap();
        }
        sink.flush().await.unwrap();
        sink.close().await.unwrap();

        let client = async_nats::connect(SERVER).await.unwrap();
        let js = jetstream::new(client);
        let mut info = js.get_stream(&stream).await.unwrap();
        let stored = info.info().await.unwrap().state.messages;
        let consumer = info
            .create_consumer(jetstream::consumer::pull::Config::default())
            .await
            .unwrap();
        let mut messages = consumer.fetch().max_messages(10).messages().await.unwrap();
        let mut ids = Vec::new();
        while let Some(Ok(message)) = messages.next().await {
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.to_string());
            ids.push(id.unwrap_or_default());
        }
        assert_eq!(stored, 4);
        assert_eq!(ids, ["id-0", "id-1", "id-2", "id-3"]);
    }

    #[tokio::test]
    async fn unreachable_server_names_the_url() {
        let mut config = config("NEWSWIRE_UNUSED", "unused", 3);
        // Port 1 on loopback: nothing listens there.
        config.url = "nats://127.0.0.1:1".into();
        let err = NatsSink::open("nats:test".into(), &config)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    }
}
