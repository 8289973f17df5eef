//! The redirect policy, and reqwest's errors turned into [`FetchError`]s: the policy's
//! refusals and the guarded resolver's blocks travel inside reqwest's error and are found
//! again in its source chain, so each is reported as what it is.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::blocked;
use crate::FetchError;
use crate::guard::{AddressPolicy, BlockedAddress, BlockedName};

/// Why the redirect policy stopped a chain; found again in the error's source chain.
#[derive(Debug, thiserror::Error)]
enum RedirectRefusal {
    #[error("redirect loop: {to} was already visited")]
    Loop { to: String },
    #[error("more than {max} redirects")]
    TooMany { max: usize },
    #[error("redirect to {to}: scheme {scheme:?} is not allowed")]
    Scheme { to: String, scheme: String },
    #[error("redirect to {to}: {reason}")]
    Blocked { to: String, reason: BlockedAddress },
}

pub(super) fn redirect_policy(
    max_redirects: usize,
    addresses: Arc<AddressPolicy>,
) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let next = attempt.url().clone();
        if attempt.previous().len() > max_redirects {
            return attempt.error(RedirectRefusal::TooMany { max: max_redirects });
        }
        if !matches!(next.scheme(), "http" | "https") {
            let scheme = next.scheme().to_string();
            return attempt.error(RedirectRefusal::Scheme {
                to: next.to_string(),
                scheme,
            });
        }
        if let Err(reason) = addresses.check_url_host(&next) {
            return attempt.error(RedirectRefusal::Blocked {
                to: next.to_string(),
                reason,
            });
        }
        let without_fragment = |u: &Url| {
            let mut u = u.clone();
            u.set_fragment(None);
            u
        };
        let next_plain = without_fragment(&next);
        if attempt
            .previous()
            .iter()
            .any(|seen| without_fragment(seen) == next_plain)
        {
            return attempt.error(RedirectRefusal::Loop {
                to: next.to_string(),
            });
        }
        attempt.follow()
    })
}

/// Turns a reqwest error into a [`FetchError`], recognising our own guard and redirect
/// errors in its source chain.
pub(super) fn map_reqwest_error(
    url: &Url,
    error: &reqwest::Error,
    timeout: Duration,
) -> FetchError {
    let url_text = url.to_string();
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(name) = current.downcast_ref::<BlockedName>() {
            return FetchError::Blocked {
                url: url_text,
                reason: name.to_string(),
            };
        }
        if let Some(address) = current.downcast_ref::<BlockedAddress>() {
            return blocked(url, address);
        }
        if let Some(refusal) = current.downcast_ref::<RedirectRefusal>() {
            return match refusal {
                RedirectRefusal::Loop { to } => FetchError::RedirectLoop {
                    url: url_text,
                    to: to.clone(),
                },
                RedirectRefusal::TooMany { max } => FetchError::TooManyRedirects {
                    url: url_text,
                    max: *max,
                },
                RedirectRefusal::Scheme { scheme, .. } => FetchError::UnsupportedScheme {
                    url: url_text,
                    scheme: scheme.clone(),
                    allowed: "redirects: http, https",
                },
                RedirectRefusal::Blocked { to, reason } => FetchError::Blocked {
                    url: url_text,
                    reason: format!("redirect to {to}: {reason}"),
                },
            };
        }
        source = current.source();
    }
    if error.is_timeout() {
        return FetchError::Timeout {
            url: url_text,
            what: if error.is_body() { "body" } else { "request" },
            after: timeout,
        };
    }
    if error.is_connect() {
        return FetchError::Connect {
            url: url_text,
            message: error_chain(error),
        };
    }
    if error.is_body() || error.is_decode() {
        return FetchError::Body {
            url: url_text,
            message: error_chain(error),
        };
    }
    if error.is_redirect() {
        return FetchError::Other {
            url: url_text,
            message: format!("redirect failed: {}", error_chain(error)),
        };
    }
    if error.is_request() {
        // Resets, malformed or oversized response heads: usually passing, worth a retry.
        return FetchError::Protocol {
            url: url_text,
            message: error_chain(error),
        };
    }
    FetchError::Other {
        url: url_text,
        message: error_chain(error),
    }
}

/// The causes of an error, without reqwest's own "error sending request for url (…)"
/// wrapper (the URL is already in our message).
pub(super) fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = error.source();
    while let Some(current) = source {
        let text = current.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = current.source();
    }
    if parts.is_empty() {
        parts.push(error.to_string());
    }
    parts.join(": ")
}
