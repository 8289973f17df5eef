//! The `--once` progress display on a terminal: feeds done of total, records, errors.
//!
//! Shown only when stderr is a terminal and `--quiet` is not given, so cron mail and log
//! files never see control characters. Log lines go through [`LogWriter`], which hides
//! the bar while a line is printed, so the two never garble each other.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::telemetry::Stats;

/// The bar currently on screen, if any (for [`LogWriter`]).
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A running progress display; [`Progress::finish`] clears it.
pub struct Progress {
    bar: ProgressBar,
    ticker: tokio::task::JoinHandle<()>,
}

impl Progress {
    /// Starts the display for a pass over `total` feeds when `show` is true (the caller
    /// decides: `--once`, a terminal, no `--quiet`).
    pub fn start(show: bool, total: usize, stats: Arc<Stats>) -> Option<Progress> {
        if !show {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} feeds {pos}/{len} [{bar:30}] {msg} ({elapsed})",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut active) = ACTIVE.lock() {
            *active = Some(bar.clone());
        }
        let ticker = tokio::spawn({
            let bar = bar.clone();
            async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    bar.set_position(stats.feeds_done());
                    bar.set_message(status_message(&stats));
                }
            }
        });
        Some(Progress { bar, ticker })
    }

    /// Removes the bar from the screen.
    pub fn finish(self) {
        self.ticker.abort();
        if let Ok(mut active) = ACTIVE.lock() {
            *active = None;
        }
        self.bar.finish_and_clear();
    }
}

fn status_message(stats: &Stats) -> String {
    let counts = stats.counts();
    let errors = counts.feeds_failed + counts.pages_failed;
    format!("{} records, {errors} errors", counts.records_emitted)
}

/// stderr for the log subscriber, suspending the progress bar around each line.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = ACTIVE.lock().ok().and_then(|active| active.clone());
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
