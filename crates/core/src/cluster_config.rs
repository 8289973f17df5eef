//! `[cluster]`: how a newswire worker joins others on one NATS JetStream cluster.
//!
//! Feeds are hashed into `shards` shards; each worker claims shards through KV leases that
//! expire after `lease_ttl` unless renewed (see the `newswire-cluster` crate). The same
//! connection settings ([`NatsConnection`]) also serve the KV state store.
//!
//! ```
//! use newswire_core::cluster_config::ClusterConfig;
//! let config: ClusterConfig = toml::from_str(r#"
//!     nats_url = "nats://nats.newswire.svc:4222"
//!     lease_ttl = "20s"
//! "#).unwrap();
//! assert_eq!(config.shards, 64);
//! assert!(config.problems().is_empty());
//! // Credential and TLS files must exist: a missing one is a problem naming its key.
//! let with_creds: ClusterConfig = toml::from_str(r#"
//!     nats_url = "nats://127.0.0.1:4222"
//!     creds_file = "/nonexistent/nats.creds"
//! "#).unwrap();
//! assert_eq!(with_creds.problems()[0].key, "cluster.creds_file");
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::HumanDuration;

/// Default number of shards feeds are hashed into.
pub const DEFAULT_SHARDS: u32 = 64;
/// Default lease lifetime; leases are renewed at a third of it.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(15);
/// Shards beyond this make the lease bucket and the status table unwieldy for no gain.
pub const MAX_SHARDS: u32 = 4096;
/// JetStream KV on 2.9 keeps `max_age` at a granularity where leases shorter than this
/// would expire between two renewals under ordinary scheduling delays.
pub const MIN_LEASE_TTL: Duration = Duration::from_secs(3);

/// How to reach NATS: URL, credentials and TLS. The fields of `[cluster]` with these names;
/// the KV state store takes the same (with `[state] path` as the URL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsConnection {
    /// `nats://host:port` or `tls://host:port`; several servers separated by commas.
    pub nats_url: String,
    /// A `.creds` file (JWT plus nkey seed), as written by `nsc`.
    pub creds_file: Option<PathBuf>,
    /// A file holding an nkey seed (`SU…`), for nkey authentication without a JWT.
    pub nkey_seed_file: Option<PathBuf>,
    /// PEM file of the CA(s) that signed the servers' certificates.
    pub tls_ca_file: Option<PathBuf>,
    /// PEM client certificate, for servers that verify clients (mutual TLS).
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
}

/// `[cluster]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// `nats://host:port` or `tls://host:port`; several servers separated by commas.
    pub nats_url: String,
    /// A `.creds` file (JWT plus nkey seed), as written by `nsc`.
    #[serde(default)]
    pub creds_file: Option<PathBuf>,
    /// A file holding an nkey seed (`SU…`), for nkey authentication without a JWT.
    #[serde(default)]
    pub nkey_seed_file: Option<PathBuf>,
    /// PEM file of the CA(s) that signed the servers' certificates.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// PEM client certificate, for servers that verify clients (mutual TLS).
    #[serde(default)]
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    #[serde(default)]
    pub tls_key_file: Option<PathBuf>,
    /// Number of shards feeds are hashed into. Every worker of a cluster must use the
    /// same value: changing it moves feeds between shards.
    #[serde(default = "default_shards")]
    pub shards: u32,
    /// How long a lease lives without renewal: a dead worker's shards are taken over
    /// after at most this long (plus one renewal period).
    #[serde(default = "default_lease_ttl")]
    pub lease_ttl: HumanDuration,
    /// This worker's name in leases and `cluster status`; default hostname + pid.
    #[serde(default)]
    pub worker_id: Option<String>,
    /// Copies of the lease and worker buckets on a clustered JetStream (1 on a single
    /// server; 3 on a 3-node cluster, so that one node may die).
    #[serde(default = "default_replicas")]
    pub replicas: usize,
    /// Prefix of the lease and worker buckets (default `newswire`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
}

fn default_shards() -> u32 {
    DEFAULT_SHARDS
}
fn default_lease_ttl() -> HumanDuration {
    HumanDuration(DEFAULT_LEASE_TTL)
}
fn default_replicas() -> usize {
    1
}
fn default_namespace() -> String {
    "newswire".into()
}

/// One problem in `[cluster]`, with the key it is about (`cluster.shards`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterProblem {
    pub key: &'static str,
    pub message: String,
}

impl ClusterConfig {
    /// A config for `nats_url` with every other setting at its default.
    pub fn new(nats_url: impl Into<String>) -> ClusterConfig {
        ClusterConfig {
            nats_url: nats_url.into(),
            creds_file: None,
            nkey_seed_file: None,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            shards: DEFAULT_SHARDS,
            lease_ttl: default_lease_ttl(),
            worker_id: None,
            replicas: default_replicas(),
            namespace: default_namespace(),
        }
    }

    /// The connection part (URL, credentials, TLS), as the KV state store takes it.
    pub fn connection(&self) -> NatsConnection {
        NatsConnection {
            nats_url: self.nats_url.clone(),
            creds_file: self.creds_file.clone(),
            nkey_seed_file: self.nkey_seed_file.clone(),
            tls_ca_file: self.tls_ca_file.clone(),
            tls_cert_file: self.tls_cert_file.clone(),
            tls_key_file: self.tls_key_file.clone(),
        }
    }

    /// The configured worker id, else `<hostname>-<pid>` (in Kubernetes the hostname is
    /// the pod name, so ids stay readable in `cluster status`).
    pub fn worker_id(&self) -> String {
        match &self.worker_id {
            Some(id) => id.clone(),
            None => format!("{}-{}", hostname(), std::process::id()),
        }
    }

    /// Leases are renewed this often: a third of `lease_ttl`, so two renewals may fail
    /// before a lease lapses.
    pub fn renew_interval(&self) -> Duration {
        self.lease_ttl.0 / 3
    }

    /// Every problem serde cannot see.
    pub fn problems(&self) -> Vec<ClusterProblem> {
        let mut out = Vec::new();
        let mut at = |key: &'static str, message: String| {
            out.push(ClusterProblem { key, message });
        };
        let url = self.nats_url.trim();
        if url.is_empty() {
            at(
                "cluster.nats_url",
                "cluster.nats_url is required (e.g. \"nats://127.0.0.1:4222\")".into(),
            );
        }
        for server in url.split(',').filter(|s| !s.trim().is_empty()) {
            let server = server.trim();
            let scheme_ok = ["nats://", "tls://", "ws://", "wss://"]
                .iter()
                .any(|scheme| server.starts_with(scheme));
            if !scheme_ok || url::Url::parse(server).is_err() {
                at(
                    "cluster.nats_url",
                    format!(
                        "cluster.nats_url {server:?} is not a NATS URL (nats://HOST:PORT or tls://HOST:PORT)"
                    ),
                );
            }
        }
        if self.shards == 0 || self.shards > MAX_SHARDS {
            at(
                "cluster.shards",
                format!(
                    "cluster.shards = {} must be between 1 and {MAX_SHARDS} (default {DEFAULT_SHARDS})",
                    self.shards
                ),
            );
        }
        if self.lease_ttl.0 < MIN_LEASE_TTL {
            at(
                "cluster.lease_ttl",
                format!(
                    "cluster.lease_ttl = {} is too short: leases would lapse between renewals (use at least {}s; default 15s)",
                    self.lease_ttl,
                    MIN_LEASE_TTL.as_secs()
                ),
            );
        }
        if !(1..=5).contains(&self.replicas) {
            at(
                "cluster.replicas",
                format!(
                    "cluster.replicas = {} must be between 1 and 5 (JetStream's limit; default 1)",
                    self.replicas
                ),
            );
        }
        if let Some(id) = &self.worker_id
            && (id.is_empty() || !id.chars().all(is_worker_id_char))
        {
            at(
                "cluster.worker_id",
                format!(
                    "cluster.worker_id {id:?} may only use letters, digits, '-' and '_' (it becomes a KV key)"
                ),
            );
        }
        if self.namespace.is_empty() || !self.namespace.chars().all(is_worker_id_char) {
            at(
                "cluster.namespace",
                format!(
                    "cluster.namespace {:?} may only use letters, digits, '-' and '_' (it prefixes bucket names)",
                    self.namespace
                ),
            );
        }
        let c = self;
        if c.creds_file.is_some() && c.nkey_seed_file.is_some() {
            at(
                "cluster.creds_file",
                "set cluster.creds_file or cluster.nkey_seed_file, not both".into(),
            );
        }
        if c.tls_cert_file.is_some() != c.tls_key_file.is_some() {
            at(
                "cluster.tls_cert_file",
                "cluster.tls_cert_file and cluster.tls_key_file go together (mutual TLS needs both)"
                    .into(),
            );
        }
        let files = [
            ("cluster.creds_file", &c.creds_file),
            ("cluster.nkey_seed_file", &c.nkey_seed_file),
            ("cluster.tls_ca_file", &c.tls_ca_file),
            ("cluster.tls_cert_file", &c.tls_cert_file),
            ("cluster.tls_key_file", &c.tls_key_file),
        ];
        for (key, file) in files {
            if let Some(file) = file
                && !file.is_file()
            {
                at(key, format!("{key}: cannot read file {}", file.display()));
            }
        }
        out
    }
}

/// Characters allowed in worker ids and namespaces: those valid in KV keys, bucket names
/// and subject tokens alike.
pub fn is_worker_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The host name from `$HOSTNAME` (set in containers) or the kernel, reduced to
/// worker-id characters.
fn hostname() -> String {
    let raw = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .unwrap_or_default();
    let cleaned: String = raw
        .trim()
        .chars()
        .map(|c| if is_worker_id_char(c) { c } else { '_' })
        .collect();
    if cleaned.is_empty() {
        "newswire".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_validate() {
        let config: ClusterConfig = toml::from_str("nats_url = \"nats://127.0.0.1:4222\"").unwrap();
        assert_eq!(config, ClusterConfig::new("nats://127.0.0.1:4222"));
        assert_eq!(config.lease_ttl.0, Duration::from_secs(15));
        assert_eq!(config.renew_interval(), Duration::from_secs(5));
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        let id = config.worker_id();
        assert!(id.ends_with(&format!("-{}", std::process::id())), "{id}");
        assert!(id.chars().all(is_worker_id_char), "{id}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err =
            toml::from_str::<ClusterConfig>("nats_url = \"nats://x:1\"\nshard = 3\n").unwrap_err();
        assert!(err.to_string().contains("shard"), "{err}");
    }

    #[test]
    fn every_problem_names_its_key() {
        let config: ClusterConfig = toml::from_str(
            r#"
            nats_url = "http://example.org"
            shards = 0
            lease_ttl = "1s"
            worker_id = "a.b"
            creds_file = "/nonexistent/nats.creds"
            nkey_seed_file = "/nonexistent/seed"
            tls_cert_file = "/nonexistent/cert.pem"
            "#,
        )
        .unwrap();
        let keys: Vec<&str> = config.problems().iter().map(|p| p.key).collect();
        for key in [
            "cluster.nats_url",
            "cluster.shards",
            "cluster.lease_ttl",
            "cluster.worker_id",
            "cluster.creds_file",
            "cluster.nkey_seed_file",
            "cluster.tls_cert_file",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        let messages: Vec<String> = config.problems().into_iter().map(|p| p.message).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("/nonexistent/nats.creds")),
            "{messages:?}"
        );
    }

    #[test]
    fn several_servers_are_accepted() {
        let config = ClusterConfig::new("nats://a:4222, nats://b:4222,tls://c:4222");
        assert!(config.problems().is_empty(), "{:?}", config.problems());
    }
}
