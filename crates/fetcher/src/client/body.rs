//! Reading a body within its bounds (size counted after decompression, the request's
//! deadline) from a response or a local file, and handing feed bodies to the parser off
//! the async runtime, keeping the complete entries of a cut one.

use std::time::Duration;

use tokio::io::AsyncReadExt;

use url::Url;

use super::map_reqwest_error;
use crate::FetchError;
use crate::charset::{self, DocumentKind};

/// The bounds of one body read.
pub(super) struct BodyLimits {
    /// `fetch.max_body_bytes`.
    pub(super) limit: u64,
    /// End of the whole-request timeout.
    pub(super) deadline: tokio::time::Instant,
    /// The timeout itself, for the error message.
    pub(super) timeout: Duration,
}

/// A body read that stopped before the end of the body: why, and the bytes received
/// before (at most the limit).
pub(super) struct CutBody {
    pub(super) cause: FetchError,
    pub(super) received: Vec<u8>,
}

/// Reads a body chunk by chunk (already decompressed by reqwest) and stops as soon as it
/// passes the limit, so that endless bodies and compression bombs never fill memory. A
/// cut (limit, deadline, broken connection) returns its cause with the bytes received
/// before it, never more than the limit.
pub(super) async fn read_capped(
    url: &Url,
    response: &mut reqwest::Response,
    limits: &BodyLimits,
) -> Result<Vec<u8>, CutBody> {
    let limit = limits.limit;
    let too_large = || FetchError::TooLarge {
        url: url.to_string(),
        limit,
    };
    // A declared length is a hint, not a promise: preallocate at most 1 MiB.
    let declared = response
        .content_length()
        .unwrap_or(0)
        .min(limit)
        .min(1 << 20);
    let mut body = Vec::with_capacity(declared as usize);
    loop {
        let chunk = match tokio::time::timeout_at(limits.deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => return Ok(body),
            Ok(Err(e)) => {
                return Err(CutBody {
                    cause: map_reqwest_error(url, &e, limits.timeout),
                    received: body,
                });
            }
            Err(_) => {
                return Err(CutBody {
                    cause: FetchError::Timeout {
                        url: url.to_string(),
                        what: "body",
                        after: limits.timeout,
                    },
                    received: body,
                });
            }
        };
        let room = limit.saturating_sub(body.len() as u64);
        if chunk.len() as u64 > room {
            // `room` < chunk length, which is a usize.
            body.extend_from_slice(&chunk[..room as usize]);
            return Err(CutBody {
                cause: too_large(),
                received: body,
            });
        }
        body.extend_from_slice(&chunk);
    }
}

/// Reads a local file, refusing more than `limit` bytes (also for files that grow or
/// never end, such as devices and pipes).
pub(super) async fn read_file_capped(
    url: &Url,
    path: &std::path::Path,
    limit: u64,
) -> Result<Vec<u8>, FetchError> {
    let file_error = |e: std::io::Error| FetchError::File {
        url: url.to_string(),
        message: format!("cannot read {}: {e}", path.display()),
    };
    let file = tokio::fs::File::open(path).await.map_err(file_error)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(file_error)?;
    if bytes.len() as u64 > limit {
        return Err(FetchError::TooLarge {
            url: url.to_string(),
            limit,
        });
    }
    Ok(bytes)
}

/// Reads a local file the way a download is read: at most `max_body_bytes`, also for
/// files that grow or never end. For the commands that take a file instead of a URL.
pub async fn read_local_file(
    path: &std::path::Path,
    max_body_bytes: u64,
) -> Result<Vec<u8>, FetchError> {
    let url = std::path::absolute(path)
        .ok()
        .and_then(|p| Url::from_file_path(p).ok())
        .ok_or_else(|| FetchError::File {
            url: path.display().to_string(),
            message: "not a usable file path".into(),
        })?;
    read_file_capped(&url, path, max_body_bytes).await
}

/// [`read_local_file`] of an HTML page, decoded with the same charset rules as a
/// downloaded page.
pub async fn read_html_file(
    path: &std::path::Path,
    max_body_bytes: u64,
) -> Result<String, FetchError> {
    let bytes = read_local_file(path, max_body_bytes).await?;
    Ok(charset::decode(&bytes, None, DocumentKind::Html, None).text)
}

/// Parses on the blocking pool: a large feed takes tens of milliseconds of CPU.
///
/// No time limit is needed here because the parse is bounded by the body, which is at most
/// `fetch.max_body_bytes`: [`crate::parse_feed`] is linear in its input (every pass is one
/// scan, and the repairs grow the text by a bounded factor), so its worst case is a few
/// times that of an ordinary feed of the same size. `feed::hostile_tests` holds the shapes
/// that were once quadratic; 1 MB of each parses in under 1.1 s in a debug build.
pub(super) async fn parse_off_runtime(
    bytes: Vec<u8>,
    content_type: Option<String>,
    base: Url,
    requested: &Url,
) -> Result<crate::ParsedFeed, FetchError> {
    tokio::task::spawn_blocking(move || crate::parse_feed(&bytes, content_type.as_deref(), &base))
        .await
        .map_err(|e| FetchError::Other {
            url: requested.to_string(),
            message: format!("feed parser failed: {e}"),
        })?
}

/// A feed whose body was cut: the complete entries received before the cut, with a
/// warning naming the feed and the cause (see [`crate::parse_truncated_feed`]). When the
/// part received holds no complete entry, the cut itself is the error.
pub(super) async fn parse_cut_feed(
    bytes: Vec<u8>,
    content_type: Option<String>,
    base: Url,
    requested: &Url,
    cause: FetchError,
) -> Result<crate::ParsedFeed, FetchError> {
    if bytes.is_empty() {
        return Err(cause);
    }
    // The warning names the feed itself; the cause without its own copy of the URL.
    let text = cause.to_string();
    let why = text
        .strip_prefix(&format!("{}: ", cause.url()))
        .unwrap_or(&text)
        .to_string();
    let parsed = tokio::task::spawn_blocking(move || {
        crate::parse_truncated_feed(&bytes, content_type.as_deref(), &base, &why)
    })
    .await;
    match parsed {
        Ok(Ok(feed)) if !feed.entries.is_empty() => {
            tracing::debug!(url = %requested, kind = cause.kind(), entries = feed.entries.len(), "kept the complete entries of a cut feed");
            Ok(feed)
        }
        _ => Err(cause),
    }
}
