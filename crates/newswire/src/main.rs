//! The `newswire` command line: run the pipeline, extract one page, validate a config,
//! inspect feeds and state, evaluate the extractor.

mod eval;
mod feeds_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "newswire", version, about = "Feeds in, clean normalised article records out")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Score the extractor against a corpus with ground truth.
    Eval(eval::EvalArgs),
    /// Inspect one feed, or discover the feeds a page announces.
    #[command(subcommand)]
    Feeds(feeds_cmd::FeedsCommand),
    /// Check a config file (placeholder).
    Validate {
        #[arg(long)]
        config: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Eval(args) => eval::run(args),
        Command::Feeds(command) => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(feeds_cmd::run(command, &Default::default()))),
        Command::Validate { config } => newswire_core::config::Config::load(config).map(|_| ()).map_err(anyhow::Error::from),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
