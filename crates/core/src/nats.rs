//! The one place that connects to NATS, creates streams and opens JetStream KV buckets,
//! shared by the KV state store (`newswire-state`), the leases (`newswire-cluster`) and the
//! NATS sink (`newswire-sink`). Behind the `nats` feature, so the crates that never talk to NATS
//! (extractor, fetcher) do not build a NATS client.
//!
//! The client reconnects on its own (async-nats retries forever with back-off and keeps
//! the list of servers given here); JetStream calls made while it is away fail with a
//! timeout, which callers report with the bucket or stream they were about.

use std::time::Duration;

use async_nats::jetstream::{self, kv};

use crate::cluster_config::NatsConnection;

/// Bound on the first connection (later reconnects are the client's own business).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects with the configured credentials and TLS. Several comma-separated URLs are
/// tried in turn and kept for reconnects. Errors name the URL, and the file when a
/// credentials file cannot be read.
pub async fn connect(connection: &NatsConnection) -> Result<async_nats::Client, String> {
    let url = &connection.nats_url;
    let mut options = match (&connection.creds_file, &connection.nkey_seed_file) {
        (Some(creds), _) => async_nats::ConnectOptions::with_credentials_file(creds)
            .await
            .map_err(|e| format!("cannot read creds file {}: {e}", creds.display()))?,
        (None, Some(seed_file)) => {
            let seed = std::fs::read_to_string(seed_file)
                .map_err(|e| format!("cannot read nkey seed file {}: {e}", seed_file.display()))?;
            async_nats::ConnectOptions::with_nkey(seed.trim().to_string())
        }
        (None, None) => async_nats::ConnectOptions::new(),
    };
    if let Some(ca) = &connection.tls_ca_file {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let (Some(cert), Some(key)) = (&connection.tls_cert_file, &connection.tls_key_file) {
        options = options
            .add_client_certificate(cert.clone(), key.clone())
            .require_tls(true);
    }
    let servers: Vec<async_nats::ServerAddr> = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|e| format!("bad NATS URL {s:?}: {e}")))
        .collect::<Result<_, _>>()?;
    options
        .connection_timeout(CONNECT_TIMEOUT)
        .connect(servers)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))
}

/// Opens bucket `name`, creating it when absent as JetStream KV lays it out (stream
/// `KV_<name>` on subjects `$KV.<name>.>`, one value per key, rollups and direct gets
/// allowed) with `max_age` as the lifetime of every key (`Duration::ZERO`: forever).
/// An existing bucket keeps its settings; a different `max_age` is logged.
///
/// Written out instead of `create_key_value` because that first queries the account
/// info, whose 2.9 answer async-nats 0.51 fails to parse.
pub async fn open_bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    replicas: usize,
) -> Result<kv::Store, String> {
    if let Ok(store) = js.get_key_value(name).await {
        if let Ok(info) = store.stream.clone().info().await
            && info.config.max_age != max_age
        {
            tracing::warn!(
                bucket = name,
                configured = ?max_age,
                actual = ?info.config.max_age,
                "bucket exists with another max_age; its entries live as long as it says (delete it while no worker runs to change it)"
            );
        }
        return Ok(store);
    }
    get_or_create_stream(
        js,
        jetstream::stream::Config {
            name: format!("KV_{name}"),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: 1,
            max_age,
            allow_rollup: true,
            deny_delete: true,
            deny_purge: false,
            allow_direct: true,
            num_replicas: replicas.max(1),
            discard: jetstream::stream::DiscardPolicy::New,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| format!("cannot create bucket {name}: {e}"))?;
    js.get_key_value(name)
        .await
        .map_err(|e| format!("cannot open bucket {name}: {e}"))
}

/// How many times a stream creation is tried when the server answers with its generic
/// store failure, and the wait before the first retry (doubled each time: 1.55 s in all).
const STORE_FAILURE_TRIES: u32 = 5;
const STORE_FAILURE_FIRST_WAIT: Duration = Duration::from_millis(100);

/// Gets stream `config.name`, creating it with `config` when it is absent.
///
/// nats-server answers some failures to set up a new stream's files with one fixed
/// sentence, "error creating store for stream" (error code 10049), and writes the cause
/// only to its own log. Under load these pass: CI saw one on a 2-core machine while other
/// tests created and deleted streams, and other NATS users retry it the same way. So that
/// answer is tried again with back-off before it is reported; any other error is
/// reported at once.
pub async fn get_or_create_stream(
    js: &jetstream::Context,
    config: jetstream::stream::Config,
) -> Result<jetstream::stream::Stream, jetstream::context::CreateStreamError> {
    let mut wait = STORE_FAILURE_FIRST_WAIT;
    let mut tries = 1;
    loop {
        match js.get_or_create_stream(config.clone()).await {
            Err(e) if tries < STORE_FAILURE_TRIES && is_store_failure(&e) => {
                tracing::warn!(stream = %config.name, error = %e, "the NATS server could not create the stream's store; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
                tries += 1;
            }
            outcome => return outcome,
        }
    }
}

/// True for the server's generic answer to a stream whose files it could not set up.
fn is_store_failure(error: &jetstream::context::CreateStreamError) -> bool {
    match error.kind() {
        jetstream::context::CreateStreamErrorKind::JetStream(e) => {
            e.error_code() == jetstream::ErrorCode::STREAM_CREATE
                && e.to_string().contains("error creating store")
        }
        _ => false,
    }
}

/// Opens bucket `name` if it exists (`Ok(None)` when it does not).
pub async fn existing_bucket(
    js: &jetstream::Context,
    name: &str,
) -> Result<Option<kv::Store>, String> {
    match js.get_key_value(name).await {
        Ok(store) => Ok(Some(store)),
        Err(e) if e.kind() == jetstream::context::KeyValueErrorKind::GetBucket => Ok(None),
        Err(e) => Err(format!("bucket {name}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_answer(json: &str) -> jetstream::context::CreateStreamError {
        let answer: jetstream::Error = serde_json::from_str(json).unwrap();
        answer.into()
    }

    #[test]
    fn only_the_servers_generic_store_failure_is_tried_again() {
        let store_failure = server_answer(
            r#"{"code":500,"err_code":10049,"description":"error creating store for stream"}"#,
        );
        assert!(is_store_failure(&store_failure));
        let overlap = server_answer(
            r#"{"code":400,"err_code":10049,"description":"subjects overlap with an existing stream"}"#,
        );
        assert!(!is_store_failure(&overlap));
        let other_store_error = server_answer(
            r#"{"code":500,"err_code":10077,"description":"error creating store for stream"}"#,
        );
        assert!(!is_store_failure(&other_store_error));
        let timeout = jetstream::context::CreateStreamError::new(
            jetstream::context::CreateStreamErrorKind::TimedOut,
        );
        assert!(!is_store_failure(&timeout));
    }
}
