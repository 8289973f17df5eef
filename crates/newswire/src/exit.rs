//! Why a command failed, and the exit code that says so (documented in `newswire --help`).

use std::fmt;

/// Why a command failed, which decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad flags, bad config, bad input: exit 1.
    Usage(anyhow::Error),
    /// The state or a sink failed: exit 2.
    Runtime(anyhow::Error),
    /// Another process holds the state: exit 75 (EX_TEMPFAIL; cron may retry later).
    Locked(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 1,
            Failure::Runtime(_) => 2,
            Failure::Locked(_) => 75,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(e) | Failure::Runtime(e) | Failure::Locked(e) => write!(f, "{e:#}"),
        }
    }
}
