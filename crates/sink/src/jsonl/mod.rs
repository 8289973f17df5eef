//! The JSONL file sink: records are buffered in memory and written, rotated and fsynced in
//! one blocking task per flush, so the async pipeline never waits on the disk.
//!
//! The file-level rules (positions, truncation, rotation, compression) live in [`files`];
//! this module batches records and moves the work off the runtime.

mod files;
mod pattern;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use newswire_core::config::{Compression, JsonlSinkConfig};
use newswire_core::delivery::SinkPosition;
use tokio::task::JoinHandle;

pub use files::{FileOptions, JsonlFiles, JsonlPosition, compress_closed};
pub use pattern::FilePattern;

use crate::SinkError;

/// Default: fsync after this many records…
pub const DEFAULT_FLUSH_RECORDS: usize = 1000;
/// …or after this long, whichever comes first.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Buffered bytes that force a flush whatever the record count (bounds memory).
pub const MAX_BUFFERED_BYTES: usize = 8 << 20;

/// The contents of one of the sink's files, decompressed when it is a closed `.zst` file
/// (for readers and tests that want every record whatever the file's state).
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    if path.extension().is_some_and(|e| e == "zst") {
        zstd::stream::decode_all(&bytes[..])
    } else {
        Ok(bytes)
    }
}

/// A JSONL sink (see the crate docs for its delivery guarantee).
#[derive(Debug)]
pub struct JsonlSink {
    name: String,
    /// `None` only while a flush runs on the blocking pool, or after that task died.
    files: Option<Box<JsonlFiles>>,
    buffer: Vec<u8>,
    /// End offset in `buffer` of each buffered record.
    ends: Vec<usize>,
    flush_records: usize,
    flush_interval: Duration,
    compressions: Vec<JoinHandle<()>>,
}

impl JsonlSink {
    /// Opens the sink described by `config`, reconciling its files with `committed`.
    /// `name` is the sink's state name (`SinkConfig::state_name`).
    pub async fn open(
        name: String,
        config: &JsonlSinkConfig,
        base_dir: &Path,
        committed: Option<SinkPosition>,
    ) -> Result<JsonlSink, SinkError> {
        let path = if Path::new(&config.path).is_absolute() {
            PathBuf::from(&config.path)
        } else {
            base_dir.join(&config.path)
        };
        let options = FileOptions {
            rotate_bytes: config.rotate_bytes,
            rotate_interval: config.rotate_interval.map(|d| d.0),
            compress: config.compress == Some(Compression::Zstd),
            capacity: config.simulated_disk_capacity,
        };
        let committed = committed.map(|p| p.data);
        let sink_name = name.clone();
        let (files, to_compress) = tokio::task::spawn_blocking(move || {
            JsonlFiles::open(&sink_name, &path, options, committed.as_deref(), Utc::now())
        })
        .await
        .map_err(|e| SinkError::Io {
            sink: name.clone(),
            message: format!("opening the files failed: {e}"),
        })??;
        let mut sink = JsonlSink {
            name,
            files: Some(Box::new(files)),
            buffer: Vec::new(),
            ends: Vec::new(),
            flush_records: config.flush_records.unwrap_or(DEFAULT_FLUSH_RECORDS).max(1),
            flush_interval: config
                .flush_interval
                .map(|d| d.0)
                .unwrap_or(DEFAULT_FLUSH_INTERVAL),
            compressions: Vec::new(),
        };
        sink.compress_in_background(to_compress);
        Ok(sink)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Buffers one record; nothing touches the disk before [`JsonlSink::flush`].
    pub fn write(&mut self, line: &[u8]) -> Result<(), SinkError> {
        if line.contains(&b'\n') {
            return Err(SinkError::Io {
                sink: self.name.clone(),
                message: "a record contains a raw newline and would break the JSONL file".into(),
            });
        }
        self.buffer.extend_from_slice(line);
        self.buffer.push(b'\n');
        self.ends.push(self.buffer.len());
        Ok(())
    }

    pub fn wants_flush(&self) -> bool {
        self.ends.len() >= self.flush_records || self.buffer.len() >= MAX_BUFFERED_BYTES
    }

    pub fn flush_interval(&self) -> Duration {
        self.flush_interval
    }

    /// Writes and fsyncs the buffered records; returns the position covering them.
    ///
    /// Must be called again only after the previous position was committed (or never, if
    /// the commit failed): files closed before that position are compressed then.
    pub async fn flush(&mut self) -> Result<SinkPosition, SinkError> {
        let mut files = self.files.take().ok_or_else(|| SinkError::Io {
            sink: self.name.clone(),
            message: "stopped after an earlier failure".into(),
        })?;
        let buffer = std::mem::take(&mut self.buffer);
        let ends = std::mem::take(&mut self.ends);
        let now = Utc::now();
        let (files_back, mut buffer, mut ends, result) = tokio::task::spawn_blocking(move || {
            let result = files.write_batch(&buffer, &ends, now);
            (files, buffer, ends, result)
        })
        .await
        .map_err(|e| SinkError::Io {
            sink: self.name.clone(),
            message: format!("the writer task failed: {e}"),
        })?;
        self.files = Some(files_back);
        // Reuse the allocations, but do not keep a burst's worth of memory forever.
        buffer.clear();
        ends.clear();
        if buffer.capacity() <= MAX_BUFFERED_BYTES {
            self.buffer = buffer;
            self.ends = ends;
        }
        let (position, compressible) = result?;
        self.compress_in_background(compressible);
        let data = serde_json::to_string(&position).map_err(|e| SinkError::Io {
            sink: self.name.clone(),
            message: format!("cannot encode position: {e}"),
        })?;
        Ok(SinkPosition {
            sink: self.name.clone(),
            data,
        })
    }

    /// Waits for background compressions. Call after the final flush and commit.
    pub async fn close(mut self) -> Result<(), SinkError> {
        let closed = self
            .files
            .as_mut()
            .map(|files| files.committed())
            .unwrap_or_default();
        self.compress_in_background(closed);
        for task in self.compressions.drain(..) {
            task.await.map_err(|e| SinkError::Io {
                sink: self.name.clone(),
                message: format!("a compression task failed: {e}"),
            })?;
        }
        Ok(())
    }

    fn compress_in_background(&mut self, paths: Vec<PathBuf>) {
        self.compressions.retain(|task| !task.is_finished());
        if paths.is_empty() {
            return;
        }
        let sink = self.name.clone();
        self.compressions.push(tokio::task::spawn_blocking(move || {
            for path in paths {
                // A failed compression loses nothing: the plain file stays and the
                // next open tries again.
                match compress_closed(&path) {
                    Ok(zst) => tracing::debug!(sink, file = %zst.display(), "compressed"),
                    Err(e) => tracing::warn!(
                        sink,
                        file = %path.display(),
                        error = %e,
                        "cannot compress closed file; will retry at next start"
                    ),
                }
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use newswire_core::config::HumanDuration;

    fn config(path: &str) -> JsonlSinkConfig {
        JsonlSinkConfig {
            name: None,
            path: path.to_string(),
            flush_records: Some(4),
            flush_interval: Some(HumanDuration(Duration::from_millis(200))),
            rotate_bytes: Some(100),
            rotate_interval: None,
            compress: Some(Compression::Zstd),
            simulated_disk_capacity: None,
        }
    }

    async fn open(config: &JsonlSinkConfig, dir: &Path) -> JsonlSink {
        let name = format!("jsonl:{}", config.path);
        JsonlSink::open(name, config, dir, None).await.unwrap()
    }

    #[tokio::test]
    async fn batches_rotates_and_compresses_closed_files_after_commit() {
        let dir = tempfile::tempdir().unwrap();
        let config = config("out/records-{seq}.jsonl");
        let mut sink = open(&config, dir.path()).await;
        assert_eq!(sink.name(), "jsonl:out/records-{seq}.jsonl");
        assert_eq!(sink.flush_interval(), Duration::from_millis(200));
        let mut last = None;
        for i in 0..20 {
            sink.write(format!("{{\"id\":\"r{i:02}\",\"pad\":\"xxxxxxxx\"}}").as_bytes())
                .unwrap();
            if sink.wants_flush() {
                last = Some(sink.flush().await.unwrap());
            }
        }
        let last = last.unwrap();
        let position: JsonlPosition = serde_json::from_str(&last.data).unwrap();
        sink.close().await.unwrap();

        let out = dir.path().join("out");
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        // 32-byte records, 100-byte files: three per file, seven files; after the final
        // commit and close, every closed file is compressed and only the active one is plain.
        assert_eq!(position.seq, 7);
        let mut lines = Vec::new();
        for name in &names {
            let text = read_file(&out.join(name)).unwrap();
            lines.extend(String::from_utf8(text).unwrap().lines().map(String::from));
        }
        assert_eq!(
            names.iter().filter(|n| n.ends_with(".zst")).count(),
            6,
            "{names:?}"
        );
        assert!(
            !names.iter().any(|n| n.starts_with('.')),
            "marker gone: {names:?}"
        );
        assert_eq!(lines.len(), 20);
        for (i, line) in lines.iter().enumerate() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["id"], format!("r{i:02}"));
        }
    }

    #[tokio::test]
    async fn without_compress_rotated_files_stay_plain() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config("out/r-{seq}.jsonl");
        config.compress = None;
        let mut sink = open(&config, dir.path()).await;
        for i in 0..20 {
            sink.write(format!("{{\"id\":\"r{i:02}\",\"pad\":\"xxxxxxxx\"}}").as_bytes())
                .unwrap();
            if sink.wants_flush() {
                sink.flush().await.unwrap();
            }
        }
        sink.close().await.unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 7, "{names:?}");
        assert!(names.iter().all(|n| n.ends_with(".jsonl")), "{names:?}");
    }

    #[tokio::test]
    async fn a_raw_newline_in_a_record_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = JsonlSink::open("r".into(), &config("r.jsonl"), dir.path(), None)
            .await
            .unwrap();
        let err = sink.write(b"{\"a\":\n1}").unwrap_err();
        assert!(err.to_string().contains("newline"), "{err}");
    }
}
