//! Connecting to NATS with the `[cluster]` credentials and TLS settings, and opening the
//! cluster's KV buckets.
//!
//! The same few lines exist in `newswire-state` (`nats_kv::connect`): this crate depends
//! on `newswire-core` only, so it cannot share them.

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use newswire_core::cluster_config::NatsConnection;

use crate::ClusterError;

/// Connects with the configured credentials and TLS; several comma-separated URLs are
/// tried in turn and kept for reconnects.
pub async fn connect(connection: &NatsConnection) -> Result<async_nats::Client, ClusterError> {
    let url = connection.nats_url.clone();
    let fail = |message: String| ClusterError::Connect {
        url: url.clone(),
        message,
    };
    let mut options = match (&connection.creds_file, &connection.nkey_seed_file) {
        (Some(creds), _) => async_nats::ConnectOptions::with_credentials_file(creds)
            .await
            .map_err(|e| fail(format!("cannot read creds file {}: {e}", creds.display())))?,
        (None, Some(seed_file)) => {
            let seed = std::fs::read_to_string(seed_file).map_err(|e| {
                fail(format!(
                    "cannot read nkey seed file {}: {e}",
                    seed_file.display()
                ))
            })?;
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
    let servers: Vec<async_nats::ServerAddr> = connection
        .nats_url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|e| fail(format!("bad URL {s:?}: {e}"))))
        .collect::<Result<_, _>>()?;
    options
        .connection_timeout(Duration::from_secs(5))
        .connect(servers)
        .await
        .map_err(|e| fail(e.to_string()))
}

/// Opens bucket `name`, creating it with `max_age` when absent. An existing bucket keeps
/// its settings; a different `max_age` is logged, since leases then live longer or
/// shorter than configured (delete the bucket while no worker runs to change it).
///
/// Created as a stream directly instead of `create_key_value`, which first asks for the
/// account info, whose 2.9 answer async-nats 0.51 fails to parse.
pub(crate) async fn open_bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    replicas: usize,
) -> Result<kv::Store, ClusterError> {
    let fail = |message: String| ClusterError::Bucket {
        bucket: name.to_string(),
        message,
    };
    let info = js
        .get_or_create_stream(jetstream::stream::Config {
            name: format!("KV_{name}"),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: 1,
            max_age,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            num_replicas: replicas.max(1),
            discard: jetstream::stream::DiscardPolicy::New,
            ..Default::default()
        })
        .await
        .map_err(|e| fail(format!("cannot create: {e}")))?
        .get_info()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if info.config.max_age != max_age {
        tracing::warn!(
            bucket = name,
            configured = ?max_age,
            actual = ?info.config.max_age,
            "bucket exists with another max_age; its entries live as long as it says"
        );
    }
    js.get_key_value(name)
        .await
        .map_err(|e| fail(e.to_string()))
}

/// Opens bucket `name` if it exists.
pub(crate) async fn existing_bucket(
    js: &jetstream::Context,
    name: &str,
) -> Result<Option<kv::Store>, ClusterError> {
    match js.get_key_value(name).await {
        Ok(store) => Ok(Some(store)),
        Err(e) if e.kind() == jetstream::context::KeyValueErrorKind::GetBucket => Ok(None),
        Err(e) => Err(ClusterError::Bucket {
            bucket: name.to_string(),
            message: e.to_string(),
        }),
    }
}
