//! `newswire feeds show|discover`: look at one feed or page without state or sinks.
//!
//! Placeholder until the fetcher work lands; owned by the fetcher work.

/// Subcommands of `newswire feeds`.
#[derive(clap::Subcommand, Debug)]
pub enum FeedsCommand {
    /// Print a feed as JSON lines: the feed itself, then one line per entry.
    Show {
        /// Feed URL or file.
        target: String,
        /// Base URL for relative links when reading a file.
        #[arg(long)]
        url: Option<String>,
    },
    /// Print the feeds a page announces.
    Discover {
        /// Page URL.
        url: String,
    },
}

pub async fn run(command: &FeedsCommand, fetch: &newswire_core::config::FetchConfig) -> anyhow::Result<()> {
    let _ = fetch;
    anyhow::bail!("feeds command not available yet: {command:?}")
}
