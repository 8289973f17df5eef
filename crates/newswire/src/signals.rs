//! Signals of a running pipeline: SIGINT/SIGTERM drain and stop it, a second one exits at
//! once, SIGHUP reloads the config (the feed list changes at once).

use std::path::PathBuf;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config_file::{Overrides, load_config};
use crate::feed_list::feed_specs;
use crate::pipeline::FeedSpec;

/// What a SIGHUP needs to reload the config the way it was first loaded.
pub struct Reloader {
    pub config: PathBuf,
    pub overrides: Overrides,
    pub state_location: String,
    pub once: bool,
    pub feeds: watch::Sender<Vec<FeedSpec>>,
}

impl Reloader {
    /// Reads the config again; a valid one replaces the feed list, an invalid one is
    /// rejected with all its problems and the running config stays.
    fn reload(&self) {
        if self.once {
            tracing::info!("SIGHUP ignored: a --once pass does not reload");
            return;
        }
        let file = self.config.display().to_string();
        let loaded = load_config(&self.config, &self.overrides)
            .and_then(|config| feed_specs(&config).map(|feeds| (config, feeds)));
        match loaded {
            Ok((config, feeds)) => {
                if config.state_location() != self.state_location {
                    tracing::warn!(config = %file, "the state path changed: it takes effect at the next restart");
                }
                let count = feeds.len();
                self.feeds.send_replace(feeds);
                crate::telemetry::config_reloaded(true);
                tracing::info!(config = %file, feeds = count, "config reloaded (feed changes apply now; other settings at the next restart)");
                crate::notify::status(&format!("reloaded: {count} feeds"));
            }
            Err(failure) => {
                for line in failure.to_string().lines() {
                    tracing::error!(config = %file, "{line}");
                }
                crate::telemetry::config_reloaded(false);
                tracing::error!(config = %file, "config reload rejected: the previous config keeps running");
            }
        }
    }
}

/// SIGINT/SIGTERM cancel the pipeline (which then drains); a second signal exits at once.
/// SIGHUP reloads the config.
pub fn spawn_signal_handler(shutdown: CancellationToken, reloader: Reloader) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
                signal(SignalKind::hangup()),
            ) else {
                tracing::error!("cannot install signal handlers");
                return;
            };
            let mut draining = false;
            loop {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                    _ = hup.recv() => {
                        reloader.reload();
                        continue;
                    },
                }
                if !draining {
                    draining = true;
                    tracing::info!("signal received: draining (send it again to exit at once)");
                    crate::notify::stopping();
                    shutdown.cancel();
                } else {
                    tracing::warn!("second signal: exiting without draining");
                    std::process::exit(130);
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = reloader;
            if tokio::signal::ctrl_c().await.is_ok() {
                shutdown.cancel();
            }
        }
    });
}
