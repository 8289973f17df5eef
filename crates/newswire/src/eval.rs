//! `newswire eval`: scores the extractor against a corpus with ground truth.
//!
//! Placeholder until the extractor work lands; owned by the extractor work.

use std::path::PathBuf;

/// Arguments of `newswire eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Corpus directory: `html/*.html.gz` and `ground-truth.json`.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("eval of {} is not available yet", args.corpus.display())
}
