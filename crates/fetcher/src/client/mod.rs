//! The [`Fetcher`]: one reqwest client plus every rule about how newswire uses it.
//!
//! A request goes through, in order: scheme and IP-literal checks, the per-host slot
//! (concurrency and minimum delay), the global concurrency limit, the request itself
//! under the whole-request timeout (names resolved through the SSRF-guarded resolver,
//! redirects through the checking redirect policy), a check of the address actually
//! connected to, and a body read that stops at `max_body_bytes` counted after
//! decompression. Transient failures (connection errors, timeouts, broken bodies, 5xx,
//! 429) are retried with exponential backoff and jitter, or after `Retry-After` when the
//! server sends one.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use newswire_core::config::FetchConfig;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::Semaphore;
use url::Url;

use crate::charset::{self, DocumentKind};
use crate::guard::{AddressPolicy, BlockedAddress, GuardedResolver};
use crate::politeness::{HostLimits, ROBOTS_MAX_BYTES, RobotsCache, RobotsRules, robots_agent};
use crate::sniff::{self, ContentKind};
use crate::timing_headers::{interval_hint_from_headers, parse_retry_after};
use crate::{FeedOutcome, FeedRequest, FetchError, PageOutcome, PagePolicy, Validators};

mod body;
mod errors;

use body::{BodyLimits, parse_cut_feed, parse_off_runtime, read_capped, read_file_capped};
pub use body::{read_html_file, read_local_file};
use errors::{error_chain, map_reqwest_error, redirect_policy};

const ACCEPT_FEED: &str = "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5";
const ACCEPT_PAGE: &str = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5";
/// How long a robots.txt answered by a 5xx is taken as "disallow everything".
const ROBOTS_ERROR_TTL: Duration = Duration::from_secs(600);
/// How long "allow" is assumed when robots.txt could not be reached at all.
const ROBOTS_UNREACHABLE_TTL: Duration = Duration::from_secs(60);

/// Builds a [`Fetcher`] with the settings that are not in [`FetchConfig`].
pub struct FetcherBuilder {
    config: FetchConfig,
    retry_base_delay: Duration,
    max_retry_wait: Duration,
}

impl FetcherBuilder {
    /// First retry delay; doubles per attempt, with jitter. Default 1 s.
    pub fn retry_base_delay(mut self, delay: Duration) -> FetcherBuilder {
        self.retry_base_delay = delay;
        self
    }

    /// Longest wait between two attempts inside one fetch, `Retry-After` included. A
    /// server asking for a longer pause gets no retry now: the error carries its
    /// `Retry-After` for the scheduler. Default 60 s.
    pub fn max_retry_wait(mut self, wait: Duration) -> FetcherBuilder {
        self.max_retry_wait = wait;
        self
    }

    pub fn build(self) -> Result<Fetcher, FetchError> {
        let config = self.config;
        let addresses = Arc::new(AddressPolicy::new(config.allow_private_networks.clone()));
        let user_agent =
            HeaderValue::from_str(config.user_agent.trim()).map_err(|e| FetchError::Other {
                url: String::new(),
                message: format!(
                    "fetch.user_agent {:?} is not a valid header: {e}",
                    config.user_agent
                ),
            })?;
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(config.connect_timeout.0)
            .timeout(config.timeout.0)
            .redirect(redirect_policy(config.max_redirects, addresses.clone()))
            .dns_resolver(Arc::new(GuardedResolver::new(addresses.clone())))
            // A proxy would resolve names itself, out of the SSRF guard's sight.
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(config.per_host_concurrency.max(1))
            .build()
            .map_err(|e| FetchError::Other {
                url: "[fetch]".into(),
                message: format!("cannot build the HTTP client: {}", error_chain(&e)),
            })?;
        Ok(Fetcher {
            client,
            addresses,
            hosts: HostLimits::new(config.per_host_concurrency, config.per_host_min_delay.0),
            robots: RobotsCache::default(),
            global: Arc::new(Semaphore::new(config.concurrency.max(1))),
            retry_base_delay: self.retry_base_delay,
            max_retry_wait: self.max_retry_wait,
            config,
        })
    }
}

/// The shared HTTP client. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
    addresses: Arc<AddressPolicy>,
    hosts: HostLimits,
    robots: RobotsCache,
    global: Arc<Semaphore>,
    retry_base_delay: Duration,
    max_retry_wait: Duration,
}

/// A response whose body, when wanted, has been read within the limits.
struct Response {
    status: StatusCode,
    headers: HeaderMap,
    final_url: Url,
    body: Vec<u8>,
    /// Set when the body was cut (size cap, timeout, broken connection) and `body` holds
    /// only what arrived before; only requests made with [`BodyRead::KeepPartial`].
    cut: Option<FetchError>,
}

/// What a body read does when the transfer is cut before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyRead {
    /// The cut is the request's error and the bytes are dropped (pages, robots.txt).
    AllOrError,
    /// The bytes received so far are kept with the cause (feeds: the complete entries
    /// before the cut are still news).
    KeepPartial,
}

/// One request as the retry loop and each attempt see it.
struct RequestSpec<'a> {
    url: &'a Url,
    headers: HeaderMap,
    /// Most bytes of the body read (after decompression).
    body_limit: u64,
    body_read: BodyRead,
    /// Decides from the status and headers whether the body is read at all.
    read_body: &'a (dyn Fn(StatusCode, &HeaderMap) -> bool + Sync),
}

impl Fetcher {
    pub fn new(config: &FetchConfig) -> Result<Fetcher, FetchError> {
        Fetcher::builder(config).build()
    }

    pub fn builder(config: &FetchConfig) -> FetcherBuilder {
        FetcherBuilder {
            config: config.clone(),
            retry_base_delay: Duration::from_secs(1),
            max_retry_wait: Duration::from_secs(60),
        }
    }

    /// The configuration this fetcher runs with.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Polls one feed (conditional GET, retries, parse). `file://` feeds are read from
    /// disk; their modification time serves as `Last-Modified`.
    pub async fn fetch_feed(&self, request: &FeedRequest) -> Result<FeedOutcome, FetchError> {
        let url = &request.url;
        match url.scheme() {
            "http" | "https" => {}
            "file" => return self.fetch_feed_file(request).await,
            other => {
                return Err(FetchError::UnsupportedScheme {
                    url: url.to_string(),
                    scheme: other.to_string(),
                    allowed: "feeds: http, https, file",
                });
            }
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT_FEED));
        let validators = [
            (header::IF_NONE_MATCH, &request.validators.etag),
            (header::IF_MODIFIED_SINCE, &request.validators.last_modified),
        ];
        for (name, value) in validators {
            if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(name, value);
            }
        }
        let response = self
            .fetch_with_retries(&RequestSpec {
                url,
                headers,
                body_limit: self.config.max_body_bytes,
                body_read: BodyRead::KeepPartial,
                read_body: &|status, _| status.is_success(),
            })
            .await?;
        let header_hint = interval_hint_from_headers(&response.headers, SystemTime::now());
        let header_text = |name: header::HeaderName| {
            response
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let validators = Validators {
            etag: header_text(header::ETAG).or_else(|| {
                (response.status == StatusCode::NOT_MODIFIED)
                    .then(|| request.validators.etag.clone())
                    .flatten()
            }),
            last_modified: header_text(header::LAST_MODIFIED).or_else(|| {
                (response.status == StatusCode::NOT_MODIFIED)
                    .then(|| request.validators.last_modified.clone())
                    .flatten()
            }),
        };
        if response.status == StatusCode::NOT_MODIFIED {
            return Ok(FeedOutcome::NotModified {
                validators,
                header_hint,
            });
        }
        if !response.status.is_success() {
            return Err(status_error(url, &response));
        }
        let content_type = header_text(header::CONTENT_TYPE);
        let final_url = response.final_url.clone();
        if let Some(cause) = response.cut {
            return parse_cut_feed(response.body, content_type, final_url, url, cause)
                .await
                .map(|feed| FeedOutcome::Fetched {
                    feed,
                    final_url: response.final_url,
                    // Never remembered for a cut body: the next poll must download it
                    // in full instead of getting a 304 for what it never saw.
                    validators: Validators::default(),
                    header_hint,
                    truncated: true,
                });
        }
        let feed = parse_off_runtime(response.body, content_type, final_url.clone(), url).await?;
        Ok(FeedOutcome::Fetched {
            feed,
            final_url,
            validators,
            header_hint,
            truncated: false,
        })
    }

    async fn fetch_feed_file(&self, request: &FeedRequest) -> Result<FeedOutcome, FetchError> {
        let url = &request.url;
        let path = url.to_file_path().map_err(|()| FetchError::InvalidUrl {
            url: url.to_string(),
            reason: "not a local file path".into(),
        })?;
        let modified = tokio::fs::metadata(&path)
            .await
            .and_then(|m| m.modified())
            .ok()
            .map(httpdate::fmt_http_date);
        if modified.is_some() && modified == request.validators.last_modified {
            return Ok(FeedOutcome::NotModified {
                validators: request.validators.clone(),
                header_hint: None,
            });
        }
        let bytes = read_file_capped(url, &path, self.config.max_body_bytes).await?;
        let feed = parse_off_runtime(bytes, None, url.clone(), url).await?;
        Ok(FeedOutcome::Fetched {
            header_hint: None,
            feed,
            final_url: url.clone(),
            validators: Validators {
                etag: None,
                last_modified: modified,
            },
            truncated: false,
        })
    }

    /// Downloads one article page. Links to PDFs, images, audio and video (by extension,
    /// Content-Type or magic bytes) give [`PageOutcome::NotHtml`] without reading the body.
    pub async fn fetch_page(
        &self,
        url: &Url,
        policy: &PagePolicy,
    ) -> Result<PageOutcome, FetchError> {
        match url.scheme() {
            "http" | "https" => {}
            "file" => return self.fetch_page_file(url, policy).await,
            other => {
                return Err(FetchError::UnsupportedScheme {
                    url: url.to_string(),
                    scheme: other.to_string(),
                    allowed: "article links: http, https",
                });
            }
        }
        if let Some(content_type) = sniff::non_html_by_extension(url) {
            return Ok(PageOutcome::NotHtml {
                final_url: url.clone(),
                content_type: content_type.to_string(),
            });
        }
        self.addresses
            .check_url_host(url)
            .map_err(|b| blocked(url, &b))?;
        if policy.respect_robots_txt {
            self.check_robots(url).await?;
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT_PAGE));
        let response = self
            .fetch_with_retries(&RequestSpec {
                url,
                headers,
                body_limit: self.config.max_body_bytes,
                body_read: BodyRead::AllOrError,
                read_body: &|status, headers| {
                    status.is_success()
                        && sniff::classify_content_type(content_type_of(headers))
                            != ContentKind::NotHtml
                },
            })
            .await?;
        if !response.status.is_success() {
            return Err(status_error(url, &response));
        }
        let content_type = content_type_of(&response.headers).map(str::to_string);
        if sniff::classify_content_type(content_type.as_deref()) == ContentKind::NotHtml {
            return Ok(PageOutcome::NotHtml {
                final_url: response.final_url,
                content_type: content_type
                    .as_deref()
                    .map(sniff::essence)
                    .unwrap_or_default(),
            });
        }
        if let Some(sniffed) = sniff::sniff_binary(&response.body) {
            return Ok(PageOutcome::NotHtml {
                final_url: response.final_url,
                content_type: sniffed.to_string(),
            });
        }
        let decoded = charset::decode_owned(
            response.body,
            content_type.as_deref(),
            DocumentKind::Html,
            charset::tld_of(&response.final_url),
        );
        Ok(PageOutcome::Html {
            final_url: response.final_url,
            html: decoded.text,
        })
    }

    async fn fetch_page_file(
        &self,
        url: &Url,
        policy: &PagePolicy,
    ) -> Result<PageOutcome, FetchError> {
        let not_allowed = || FetchError::FileNotAllowed {
            url: url.to_string(),
        };
        let Some(root) = policy.allow_file_under.as_deref() else {
            return Err(not_allowed());
        };
        let path = url.to_file_path().map_err(|()| not_allowed())?;
        let file_error = |e: std::io::Error| FetchError::File {
            url: url.to_string(),
            message: format!("cannot read {}: {e}", path.display()),
        };
        // Canonical paths, so that `..` and symlinks cannot leave the directory.
        let real_path = tokio::fs::canonicalize(&path).await.map_err(file_error)?;
        let real_root = tokio::fs::canonicalize(root)
            .await
            .map_err(|e| FetchError::File {
                url: url.to_string(),
                message: format!("cannot read directory {}: {e}", root.display()),
            })?;
        if !real_path.starts_with(&real_root) {
            return Err(not_allowed());
        }
        if let Some(content_type) = sniff::non_html_by_extension(url) {
            return Ok(PageOutcome::NotHtml {
                final_url: url.clone(),
                content_type: content_type.to_string(),
            });
        }
        let bytes = read_file_capped(url, &real_path, self.config.max_body_bytes).await?;
        if let Some(sniffed) = sniff::sniff_binary(&bytes) {
            return Ok(PageOutcome::NotHtml {
                final_url: url.clone(),
                content_type: sniffed.to_string(),
            });
        }
        let decoded = charset::decode_owned(bytes, None, DocumentKind::Html, None);
        Ok(PageOutcome::Html {
            final_url: url.clone(),
            html: decoded.text,
        })
    }

    /// Refuses `url` when its origin's robots.txt disallows it for our User-Agent.
    async fn check_robots(&self, url: &Url) -> Result<(), FetchError> {
        let origin = url.origin().ascii_serialization();
        let rules = self
            .robots
            .rules(&origin, || self.fetch_robots(&origin))
            .await;
        if let Some(delay) = rules.crawl_delay() {
            self.hosts.set_crawl_delay(&host_key(url), delay);
        }
        if rules.allows(url.as_str()) {
            Ok(())
        } else {
            Err(FetchError::RobotsDisallowed {
                url: url.to_string(),
            })
        }
    }

    async fn fetch_robots(&self, origin: &str) -> (RobotsRules, Duration) {
        let ttl = self.config.robots_ttl.0;
        let Ok(robots_url) = Url::parse(&format!("{origin}/robots.txt")) else {
            return (RobotsRules::AllowAll, ttl);
        };
        let limit = ROBOTS_MAX_BYTES.min(self.config.max_body_bytes);
        let result = self
            .fetch_once(&RequestSpec {
                url: &robots_url,
                headers: HeaderMap::new(),
                body_limit: limit,
                body_read: BodyRead::AllOrError,
                read_body: &|status, _| status.is_success(),
            })
            .await;
        match result {
            Ok(response) if response.status.is_success() => {
                let agent = robots_agent(&self.config.user_agent);
                (RobotsRules::from_body(agent, &response.body), ttl)
            }
            Ok(response)
                if response.status.is_server_error()
                    || response.status == StatusCode::TOO_MANY_REQUESTS =>
            {
                (RobotsRules::DisallowAll, ROBOTS_ERROR_TTL.min(ttl))
            }
            Ok(_) => (RobotsRules::AllowAll, ttl),
            // Too large: the site has a robots.txt we cannot read in full; its start is
            // not trustworthy either, so fall back to the conservative reading.
            Err(FetchError::TooLarge { .. }) => {
                (RobotsRules::DisallowAll, ROBOTS_ERROR_TTL.min(ttl))
            }
            // Unreachable: the page request will fail on its own with the real cause.
            Err(_) => (RobotsRules::AllowAll, ROBOTS_UNREACHABLE_TTL.min(ttl)),
        }
    }

    /// One request with retries for transient failures.
    async fn fetch_with_retries(&self, request: &RequestSpec<'_>) -> Result<Response, FetchError> {
        let url = request.url;
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.retry_base_delay)
            .with_max_delay(self.max_retry_wait)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.config.retries as usize)
            .build();
        loop {
            let error = match self.fetch_once(request).await {
                Ok(response)
                    if response.status.is_server_error()
                        || response.status == StatusCode::TOO_MANY_REQUESTS =>
                {
                    status_error(url, &response)
                }
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            if !error.is_transient() {
                return Err(error);
            }
            let Some(backoff) = delays.next() else {
                return Err(error);
            };
            let wait = match error.retry_after() {
                Some(asked) if asked > self.max_retry_wait => return Err(error),
                Some(asked) => asked,
                None => backoff,
            };
            tracing::debug!(%url, kind = error.kind(), wait_ms = wait.as_millis() as u64, "retrying: {error}");
            tokio::time::sleep(wait).await;
        }
    }

    /// One request, under the politeness limits and the whole-request timeout.
    async fn fetch_once(&self, request: &RequestSpec<'_>) -> Result<Response, FetchError> {
        let RequestSpec {
            url,
            body_limit,
            body_read,
            read_body,
            ..
        } = *request;
        self.addresses
            .check_url_host(url)
            .map_err(|b| blocked(url, &b))?;
        let _host_permit = self.hosts.acquire(&host_key(url)).await;
        let _global_permit = self.global.acquire().await.map_err(|_| FetchError::Other {
            url: url.to_string(),
            message: "the fetcher is shutting down".into(),
        })?;
        let timeout = self.config.timeout.0;
        // One deadline for the whole request, body included; the body read checks it
        // itself so that a feed cut by it keeps what arrived.
        let deadline = tokio::time::Instant::now() + timeout;
        let timed_out = || FetchError::Timeout {
            url: url.to_string(),
            what: "request",
            after: timeout,
        };
        let head = async {
            let response = self
                .client
                .get(url.clone())
                .headers(request.headers.clone())
                .send()
                .await
                .map_err(|e| map_reqwest_error(url, &e, timeout))?;
            // The resolver only hands out allowed addresses; this also covers connections
            // reused from the pool and any path around the resolver.
            if let Some(remote) = response.remote_addr() {
                self.addresses
                    .check(remote.ip())
                    .map_err(|b| blocked(url, &b))?;
            }
            Ok(response)
        };
        let mut response = match tokio::time::timeout_at(deadline, head).await {
            Ok(result) => result?,
            Err(_) => return Err(timed_out()),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let final_url = response.url().clone();
        let (body, cut) = if read_body(status, &headers) {
            // A declared length over the cap: nothing to keep unless partial bodies are
            // wanted, so do not even start reading.
            if body_read == BodyRead::AllOrError
                && response
                    .content_length()
                    .is_some_and(|length| length > body_limit)
            {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit: body_limit,
                });
            }
            let read = BodyLimits {
                limit: body_limit,
                deadline,
                timeout,
            };
            match (read_capped(url, &mut response, &read).await, body_read) {
                (Ok(body), _) => (body, None),
                (Err(cut), BodyRead::KeepPartial) => (cut.received, Some(cut.cause)),
                (Err(cut), BodyRead::AllOrError) => return Err(cut.cause),
            }
        } else {
            (Vec::new(), None)
        };
        Ok(Response {
            status,
            headers,
            final_url,
            body,
            cut,
        })
    }
}

fn content_type_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// Key of the per-host limits: host and port.
fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn blocked(url: &Url, blocked: &BlockedAddress) -> FetchError {
    FetchError::Blocked {
        url: url.to_string(),
        reason: blocked.to_string(),
    }
}

fn status_error(url: &Url, response: &Response) -> FetchError {
    let retry_after = response
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    FetchError::Status {
        url: url.to_string(),
        status: response.status.as_u16(),
        retry_after,
    }
}
