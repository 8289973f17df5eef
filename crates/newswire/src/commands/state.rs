//! `newswire state stats`: counts and sizes of what the state holds.

use std::path::PathBuf;

use newswire_state::{SqliteState, StateStore};

use crate::config_file::{Overrides, load_config};
use crate::exit::Failure;

/// Subcommands of `newswire state`.
#[derive(clap::Subcommand, Debug)]
pub enum StateCommand {
    /// Counts and sizes of what the state holds.
    Stats {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The state file (instead of the config's).
        #[arg(long)]
        state: Option<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `newswire state stats`.
pub fn state_command(command: &StateCommand) -> Result<(), Failure> {
    match command {
        StateCommand::Stats {
            config,
            state,
            json,
        } => {
            let location = match (state, config) {
                (Some(state), _) => state.clone(),
                (None, Some(config)) => {
                    load_config(config, &Overrides::default())?.state_location()
                }
                (None, None) => {
                    return Err(Failure::Usage(anyhow::anyhow!(
                        "give --config FILE or --state PATH"
                    )));
                }
            };
            let store =
                SqliteState::open_read_only(&location).map_err(|e| Failure::Runtime(e.into()))?;
            let stats = store.stats().map_err(|e| Failure::Runtime(e.into()))?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string(&stats).map_err(|e| Failure::Runtime(e.into()))?
                );
            } else {
                println!("state           {location}");
                println!("feeds           {}", stats.feeds);
                println!("emitted records {}", stats.emitted_records);
                println!("simhashes       {}", stats.simhashes);
                println!("sinks           {}", stats.sinks);
                println!("file bytes      {}", stats.file_bytes);
            }
            Ok(())
        }
    }
}
