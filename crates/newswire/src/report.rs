//! What a run tells its operator when it ends: the failed-feed table on stderr and the
//! `--report FILE` JSON summary for monitoring.
//!
//! The report (schema `newswire.report/1`) is written to a temporary file beside the
//! target and renamed into place, so a monitor never reads half a report.

use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::telemetry::{Counts, FeedResult, FeedStatus, Stats};

/// Totals of a run.
#[derive(Debug, Serialize)]
pub struct Totals {
    pub feeds: usize,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The `--report` document.
#[derive(Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// `finished` (exit 0) or `failed` (any other exit once the config was loaded: bad
    /// feed list or metrics address 1, state or sink failure 2, state locked 75).
    pub status: &'static str,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    pub once: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_seconds: f64,
    pub totals: Totals,
    pub feeds: Vec<FeedResult>,
}

impl Report {
    pub fn new(
        stats: &Stats,
        once: bool,
        started_at: DateTime<Utc>,
        error: Option<String>,
    ) -> Report {
        let finished_at = Utc::now();
        let feeds = stats.feed_results();
        Report {
            schema: "newswire.report/1",
            status: if error.is_some() {
                "failed"
            } else {
                "finished"
            },
            error,
            once,
            started_at,
            finished_at,
            duration_seconds: (finished_at - started_at).num_milliseconds().max(0) as f64 / 1000.0,
            totals: Totals {
                feeds: feeds.len(),
                counts: stats.counts(),
            },
            feeds,
        }
    }

    /// Whether a report can be written to `path`: creates and removes the temporary file
    /// [`Report::write`] uses, so a run learns of a bad `--report` before its pass.
    pub fn check_writable(path: &Path) -> anyhow::Result<()> {
        let temporary = temporary_path(path);
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)
            .with_context(|| format!("--report {}: cannot write here", path.display()))?;
        let _ = std::fs::remove_file(&temporary);
        if path.is_dir() {
            anyhow::bail!("--report {}: is a directory", path.display());
        }
        Ok(())
    }

    /// Writes the report as pretty JSON to `path`, atomically.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(self).context("serialising the report")?;
        let temporary = temporary_path(path);
        std::fs::write(&temporary, &json)
            .with_context(|| format!("--report: cannot write {}", temporary.display()))?;
        std::fs::rename(&temporary, path)
            .with_context(|| format!("--report: cannot write {}", path.display()))
    }
}

/// The temporary file beside `path` that is renamed onto it.
fn temporary_path(path: &Path) -> std::path::PathBuf {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    path.with_file_name(format!(".{file_name}.tmp"))
}

/// Widest URL column before the table stops aligning (long URLs just push the reason).
const URL_COLUMN_MAX: usize = 60;

/// The table of failed feeds (URL and reason), or `None` when none failed.
pub fn failed_feeds_table(feeds: &[FeedResult]) -> Option<String> {
    let failed: Vec<&FeedResult> = feeds
        .iter()
        .filter(|f| f.status == FeedStatus::Failed)
        .collect();
    if failed.is_empty() {
        return None;
    }
    let width = failed
        .iter()
        .map(|f| f.url.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(3, URL_COLUMN_MAX);
    let mut table = format!(
        "failed feeds ({}):\n  {:<width$}  REASON\n",
        failed.len(),
        "URL"
    );
    for feed in failed {
        let reason = match (&feed.reason, &feed.error) {
            (Some(kind), Some(error)) => format!("{kind}: {error}"),
            (None, Some(error)) => error.clone(),
            (Some(kind), None) => kind.clone(),
            (None, None) => "unknown".into(),
        };
        table.push_str(&format!("  {:<width$}  {reason}\n", feed.url));
    }
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(url: &str, status: FeedStatus, error: Option<&str>) -> FeedResult {
        FeedResult {
            url: url.into(),
            status,
            new_records: 0,
            error: error.map(str::to_string),
            reason: error.map(|_| "http_4xx".to_string()),
        }
    }

    #[test]
    fn table_lists_only_failed_feeds_with_reasons() {
        let feeds = vec![
            result("https://a.example/rss", FeedStatus::Ok, None),
            result(
                "https://b.example/feed.xml",
                FeedStatus::Failed,
                Some("HTTP 404"),
            ),
        ];
        let table = failed_feeds_table(&feeds).unwrap();
        assert!(table.starts_with("failed feeds (1):"), "{table}");
        assert!(
            table.contains("https://b.example/feed.xml  http_4xx: HTTP 404"),
            "{table}"
        );
        assert!(!table.contains("a.example"), "{table}");
        assert!(failed_feeds_table(&feeds[..1]).is_none());
    }

    #[test]
    fn report_counts_and_writes_atomically() {
        let stats = Stats::default();
        stats.feeds_configured(["https://a.example/rss"]);
        stats.feed_ok("https://a.example/rss");
        stats.committed(
            ["stdout".to_string()],
            std::collections::HashMap::from([("https://a.example/rss".to_string(), 3)]),
            &[],
        );
        let report = Report::new(&stats, true, Utc::now(), None);
        assert_eq!(report.status, "finished");
        assert_eq!(report.feeds[0].new_records, 3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        report.write(&path).unwrap();
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(value["feeds"][0]["status"], "ok");
        assert_eq!(value["totals"]["records_emitted"], 3);
        assert_eq!(value["totals"]["feeds"], 1);
        assert_eq!(value["totals"]["feeds_ok"], 1);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
