//! `newswire state stats`: counts and sizes of what the state holds.

use std::path::PathBuf;

use newswire_state::{NatsKvOptions, NatsKvState, SqliteState, StateStore};

use crate::config_file::{Overrides, load_config};
use crate::exit::Failure;

/// Seen-id lifetime assumed for a `--state nats://…` given without a config: only used
/// when the buckets do not exist yet (an existing bucket keeps its own).
const DEFAULT_RETENTION: std::time::Duration = std::time::Duration::from_secs(90 * 24 * 3600);

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
            let loaded = match config {
                Some(config) => Some(load_config(config, &Overrides::default())?),
                None => None,
            };
            let location = match (state, &loaded) {
                (Some(state), _) => state.clone(),
                (None, Some(config)) => config.state_location(),
                (None, None) => {
                    return Err(Failure::Usage(anyhow::anyhow!(
                        "give --config FILE or --state PATH"
                    )));
                }
            };
            let store: Box<dyn StateStore> = if location.starts_with("nats://") {
                let options = match &loaded {
                    Some(config) => super::run::kv_options(config, &location),
                    None => NatsKvOptions::new(&location, DEFAULT_RETENTION),
                };
                Box::new(NatsKvState::open(options).map_err(|e| Failure::Runtime(e.into()))?)
            } else {
                Box::new(
                    SqliteState::open_read_only(&location)
                        .map_err(|e| Failure::Runtime(e.into()))?,
                )
            };
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
