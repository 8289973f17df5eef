//! The synchronous heart of the JSONL sink: the files on disk, their committed position,
//! rotation, compression, and the reconciliation that makes a crash harmless.
//!
//! The rules that make delivery exactly-once:
//! - The position handed out by [`JsonlFiles::write_batch`] names a file (by name and
//!   sequence number) and a byte offset in it. Everything before it in that file, and every
//!   file with a smaller sequence number, is durable (fsynced) before the position is
//!   returned; the directory is fsynced after a file is created.
//! - At open, the committed position is the truth: its file is truncated back to the
//!   committed offset, and every file of the sink with a larger sequence number is deleted
//!   (it can only hold records written after the last commit, which the pipeline sends
//!   again). A crash between a rotation and its commit therefore loses and doubles nothing.
//! - A closed file is compressed only once a position beyond it has been committed (at the
//!   next flush, or at the next open), so a compressed file never needs truncating. The
//!   compression writes `<name>.zst.tmp`, fsyncs it, renames it to `<name>.zst`, and only
//!   then deletes `<name>`; an interrupted compression is finished or redone at open.
//! - Without a committed position, existing files are never modified: a single file is
//!   appended to, a rotating sink starts after the highest sequence number it finds. That
//!   starting position is written to a hidden marker file next to the files before any
//!   record, and stands in for the committed position until the state has one, so a crash
//!   before the very first commit doubles nothing either. The marker is removed once a
//!   commit is known to exist (second flush, close, or an open with a committed position).

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::pattern::{FileKind, FilePattern, FoundFile};
use crate::SinkError;

/// The JSONL sink's committed position, stored as JSON in the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonlPosition {
    /// File name, relative to the sink's directory.
    pub file: String,
    pub seq: u64,
    /// Bytes of `file` that are durable and committed.
    pub offset: u64,
    /// When `file` was started, for time- and date-based rotation.
    pub opened_at: DateTime<Utc>,
}

/// How the files are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOptions {
    pub rotate_bytes: Option<u64>,
    pub rotate_interval: Option<Duration>,
    pub compress: bool,
    /// Test hook: behave as if the disk had only this many bytes for the sink's files.
    pub capacity: Option<u64>,
}

/// The open files of one JSONL sink.
#[derive(Debug)]
pub struct JsonlFiles {
    sink: String,
    pattern: FilePattern,
    options: FileOptions,
    file: File,
    position: JsonlPosition,
    /// A file was created since the directory was last fsynced.
    dir_dirty: bool,
    /// Files closed by rotation since the last returned position; compressible once the
    /// position after them is committed.
    closed_since_flush: Vec<PathBuf>,
    /// Bytes of the sink's files on disk, for the capacity test hook.
    used_bytes: u64,
    /// The start marker, while no commit is known to exist.
    start_marker: Option<PathBuf>,
    /// Successful flushes so far.
    flushes: u64,
    /// Set by the first failed write: the file's tail is then unknown, so the sink refuses
    /// further work and a restart reconciles from the committed position.
    failed: Option<String>,
}

impl JsonlFiles {
    /// Opens the sink's files at `path`, reconciling them with `committed` (the JSON of a
    /// [`JsonlPosition`]). Returns the files and closed files still to be compressed.
    pub fn open(
        sink: &str,
        path: &Path,
        options: FileOptions,
        committed: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(JsonlFiles, Vec<PathBuf>), SinkError> {
        let rotating = options.rotate_bytes.is_some() || options.rotate_interval.is_some();
        let pattern = FilePattern::new(path, rotating).map_err(|message| SinkError::Config {
            sink: sink.to_string(),
            message,
        })?;
        let dir = pattern.dir_or_dot().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| io_error(sink, "create directory", &dir, e))?;
        let found = pattern
            .scan()
            .map_err(|e| io_error(sink, "list directory", &dir, e))?;
        let committed = committed
            .map(|data| {
                serde_json::from_str::<JsonlPosition>(data).map_err(|e| SinkError::Config {
                    sink: sink.to_string(),
                    message: format!("committed position {data:?} is unreadable: {e}"),
                })
            })
            .transpose()?;
        let marker = pattern.start_marker();
        let from_state = committed.is_some();
        let committed = match committed {
            Some(committed) => {
                if let Err(e) = remove(sink, &marker) {
                    // Harmless: with a committed position the marker is never read.
                    tracing::warn!(sink, error = %e, "cannot remove obsolete start marker");
                }
                Some(committed)
            }
            None => read_marker(sink, &marker)?,
        };
        let from_marker = !from_state && committed.is_some();

        let mut to_compress = Vec::new();
        let (file, position, dir_dirty) = match committed {
            Some(committed) => {
                to_compress = clean_up_after_commit(
                    sink,
                    &found,
                    &committed,
                    from_state && options.compress,
                )?;
                let (file, position) = reopen_committed(sink, &dir, committed)?;
                (file, position, false)
            }
            None => {
                let (file, position) = start_new_file(sink, &pattern, &dir, &found, now)?;
                write_marker(sink, &marker, &position)?;
                (file, position, true)
            }
        };

        let used_bytes = match options.capacity {
            Some(_) => pattern
                .scan()
                .map_err(|e| io_error(sink, "list directory", &dir, e))?
                .iter()
                .filter_map(|f| std::fs::metadata(&f.path).ok())
                .map(|m| m.len())
                .sum(),
            None => 0,
        };
        let mut files = JsonlFiles {
            sink: sink.to_string(),
            pattern,
            options,
            file,
            position,
            dir_dirty,
            closed_since_flush: Vec::new(),
            used_bytes,
            start_marker: (!from_state).then_some(marker),
            flushes: 0,
            failed: None,
        };
        if from_marker {
            tracing::info!(
                sink,
                "no committed position yet: resumed from the start marker"
            );
        }
        files.sync_dir_if_dirty()?;
        Ok((files, to_compress))
    }

    /// The position as of the last write (durable only after `write_batch` returned).
    pub fn position(&self) -> &JsonlPosition {
        &self.position
    }

    /// Appends the records in `data` (each ending at one of `ends`, newline included),
    /// rotating where needed, and makes them durable. Returns the position to commit and
    /// the closed files that may now be compressed (closed before the previous position,
    /// which the caller has committed by the time it writes again).
    pub fn write_batch(
        &mut self,
        data: &[u8],
        ends: &[usize],
        now: DateTime<Utc>,
    ) -> Result<(JsonlPosition, Vec<PathBuf>), SinkError> {
        if let Some(message) = &self.failed {
            return Err(SinkError::Io {
                sink: self.sink.clone(),
                message: format!("stopped after an earlier failure: {message}"),
            });
        }
        let compressible = std::mem::take(&mut self.closed_since_flush);
        match self.write_and_sync(data, ends, now) {
            Ok(()) => {
                self.flushes += 1;
                if self.flushes >= 2 {
                    // The first flush's position has been committed by now.
                    self.forget_start_marker();
                }
                Ok((self.position.clone(), compressible))
            }
            Err(e) => {
                self.failed = Some(e.to_string());
                // Not compressed now; the next open compresses them.
                Err(e)
            }
        }
    }

    /// To be called once a position returned by this sink has been committed (the sink
    /// notices on its own at the second flush): the start marker is no longer needed.
    /// Returns the files closed in the last batch, which that commit made compressible.
    pub fn committed(&mut self) -> Vec<PathBuf> {
        if self.flushes >= 1 {
            self.forget_start_marker();
        }
        std::mem::take(&mut self.closed_since_flush)
    }

    fn forget_start_marker(&mut self) {
        if let Some(marker) = self.start_marker.take()
            && let Err(e) = remove(&self.sink, &marker)
        {
            // Harmless: the marker is ignored once the state has a position.
            tracing::warn!(sink = self.sink, error = %e, "cannot remove start marker");
        }
    }

    fn write_and_sync(
        &mut self,
        data: &[u8],
        ends: &[usize],
        now: DateTime<Utc>,
    ) -> Result<(), SinkError> {
        // Consecutive records going to the same file are written with one call.
        let mut run_start = 0;
        let mut record_start = 0;
        for &end in ends {
            let len = (end - record_start) as u64;
            let size_so_far = self.position.offset + (record_start - run_start) as u64;
            if self.needs_rotation(size_so_far, len, now) {
                self.append(&data[run_start..record_start])?;
                run_start = record_start;
                self.rotate(now)?;
            }
            record_start = end;
        }
        self.append(&data[run_start..record_start])?;
        let path = self.current_path();
        self.file
            .sync_data()
            .map_err(|e| io_error(&self.sink, "fsync", &path, e))?;
        self.sync_dir_if_dirty()
    }

    fn needs_rotation(&self, size: u64, next_record: u64, now: DateTime<Utc>) -> bool {
        if size == 0 {
            // Never leave an empty file behind, and never split a record.
            return false;
        }
        let too_big = self
            .options
            .rotate_bytes
            .is_some_and(|max| size + next_record > max);
        let age = now
            .signed_duration_since(self.position.opened_at)
            .to_std()
            .unwrap_or_default();
        let too_old = self.options.rotate_interval.is_some_and(|max| age >= max);
        let new_day =
            self.pattern.has_date() && now.date_naive() != self.position.opened_at.date_naive();
        too_big || too_old || new_day
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let path = self.current_path();
        let fits = match self.options.capacity {
            Some(capacity) => capacity
                .saturating_sub(self.used_bytes)
                .min(bytes.len() as u64),
            None => bytes.len() as u64,
        } as usize;
        let written = self.file.write_all(&bytes[..fits]);
        self.position.offset += fits as u64;
        self.used_bytes += fits as u64;
        written.map_err(|e| io_error(&self.sink, "write", &path, e))?;
        if fits < bytes.len() {
            // What a full disk does: part of the data lands, then ENOSPC.
            return Err(io_error(
                &self.sink,
                "write",
                &path,
                io::Error::from_raw_os_error(28),
            ));
        }
        Ok(())
    }

    fn rotate(&mut self, now: DateTime<Utc>) -> Result<(), SinkError> {
        let old = self.current_path();
        self.file
            .sync_all()
            .map_err(|e| io_error(&self.sink, "fsync", &old, e))?;
        let seq = self.position.seq + 1;
        let name = self.pattern.render(now.date_naive(), seq);
        let path = self.pattern.dir_or_dot().join(&name);
        // Truncate: a leftover with this name can only hold uncommitted records.
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| io_error(&self.sink, "create", &path, e))?;
        tracing::debug!(sink = self.sink, from = %old.display(), to = %path.display(), "rotated");
        self.file = file;
        // Without compression there is nothing to do with a closed file.
        if self.options.compress {
            self.closed_since_flush.push(old);
        }
        self.position = JsonlPosition {
            file: name,
            seq,
            offset: 0,
            opened_at: now,
        };
        self.dir_dirty = true;
        Ok(())
    }

    fn current_path(&self) -> PathBuf {
        self.pattern.dir_or_dot().join(&self.position.file)
    }

    fn sync_dir_if_dirty(&mut self) -> Result<(), SinkError> {
        if self.dir_dirty {
            let dir = self.pattern.dir_or_dot();
            sync_dir(dir).map_err(|e| io_error(&self.sink, "fsync directory", dir, e))?;
            self.dir_dirty = false;
        }
        Ok(())
    }
}

/// Opens the committed file and cuts it back to the committed offset.
fn reopen_committed(
    sink: &str,
    dir: &Path,
    committed: JsonlPosition,
) -> Result<(File, JsonlPosition), SinkError> {
    let path = dir.join(&committed.file);
    let existed = path.exists();
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error(sink, "open", &path, e))?;
    let len = file
        .metadata()
        .map_err(|e| io_error(sink, "read metadata of", &path, e))?
        .len();
    let mut position = committed;
    if len > position.offset {
        tracing::warn!(
            sink,
            file = %path.display(),
            bytes = len - position.offset,
            "truncating records written after the last commit; they will be sent again"
        );
        file.set_len(position.offset)
            .map_err(|e| io_error(sink, "truncate", &path, e))?;
        file.sync_all()
            .map_err(|e| io_error(sink, "fsync", &path, e))?;
    } else if len < position.offset {
        // Someone else shortened or replaced the file (log rotation by copy-truncate, a
        // manual move). What was committed was delivered; carry on at its end.
        tracing::warn!(
            sink,
            file = %path.display(),
            committed = position.offset,
            found = len,
            existed,
            "file is shorter than its committed offset; appending at its end"
        );
        position.offset = len;
    }
    file.seek(SeekFrom::Start(position.offset))
        .map_err(|e| io_error(sink, "seek in", &path, e))?;
    Ok((file, position))
}

/// The starting position noted by a run that never committed, if any.
fn read_marker(sink: &str, marker: &Path) -> Result<Option<JsonlPosition>, SinkError> {
    match std::fs::read(marker) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SinkError::Config {
                sink: sink.to_string(),
                message: format!(
                    "start marker {} is unreadable ({e}); remove it if no run is in progress",
                    marker.display()
                ),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(sink, "read", marker, e)),
    }
}

/// Notes `position` as the sink's start, atomically (temp file, fsync, rename, fsync dir).
fn write_marker(sink: &str, marker: &Path, position: &JsonlPosition) -> Result<(), SinkError> {
    let tmp = with_suffix(marker, ".tmp");
    let json = serde_json::to_vec(position).map_err(|e| SinkError::Io {
        sink: sink.to_string(),
        message: format!("cannot encode start marker: {e}"),
    })?;
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, marker)?;
        sync_dir(parent_or_dot(marker))
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(sink, "write", marker, e)
    })
}

/// Compresses a closed file to `<path>.zst`, crash-safely, then deletes `path`.
pub fn compress_closed(path: &Path) -> io::Result<PathBuf> {
    let zst = with_suffix(path, ".zst");
    let tmp = with_suffix(path, ".zst.tmp");
    let result = (|| {
        let input = File::open(path)?;
        let mut output = File::create(&tmp)?;
        zstd::stream::copy_encode(input, &mut output, 3)?;
        output.sync_all()?;
        std::fs::rename(&tmp, &zst)?;
        let dir = parent_or_dot(path);
        sync_dir(dir)?;
        std::fs::remove_file(path)?;
        sync_dir(dir)
    })();
    match result {
        Ok(()) => Ok(zst),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn parent_or_dot(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn remove(sink: &str, path: &Path) -> Result<(), SinkError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(sink, "remove", path, e)),
    }
}

fn io_error(sink: &str, action: &str, path: &Path, e: io::Error) -> SinkError {
    SinkError::Io {
        sink: sink.to_string(),
        message: format!("cannot {action} {}: {e}", path.display()),
    }
}

/// Removes the files written after the `committed` position (their records will be sent
/// again) and half-finished compressions; returns the closed plain files before it that
/// still wait for compression (`compress_closed`: only when compressing and the position
/// came from the state).
fn clean_up_after_commit(
    sink: &str,
    found: &[FoundFile],
    committed: &JsonlPosition,
    compress_closed: bool,
) -> Result<Vec<PathBuf>, SinkError> {
    let mut to_compress = Vec::new();
    for found in found {
        let garbage = found.seq > committed.seq || found.kind == FileKind::CompressingTemp;
        if garbage {
            tracing::warn!(
                sink,
                file = %found.path.display(),
                "removing file written after the last commit; its records will be sent again"
            );
            remove(sink, &found.path)?;
        } else if found.seq < committed.seq && compress_closed && found.kind == FileKind::Plain {
            let zst = with_suffix(&found.path, ".zst");
            if zst.exists() {
                // Compressed and renamed, but the crash came before the delete.
                remove(sink, &found.path)?;
            } else {
                to_compress.push(found.path.clone());
            }
        }
    }
    Ok(to_compress)
}

/// Without a committed position: the file to append to (the next `{seq}` when the
/// pattern has one), positioned at its end.
fn start_new_file(
    sink: &str,
    pattern: &FilePattern,
    dir: &Path,
    found: &[FoundFile],
    now: DateTime<Utc>,
) -> Result<(File, JsonlPosition), SinkError> {
    let seq = if pattern.has_seq() {
        found.iter().map(|f| f.seq).max().map_or(1, |max| max + 1)
    } else {
        0
    };
    let name = pattern.render(now.date_naive(), seq);
    let path = dir.join(&name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error(sink, "open", &path, e))?;
    let offset = file
        .seek(SeekFrom::End(0))
        .map_err(|e| io_error(sink, "seek in", &path, e))?;
    if offset > 0 {
        tracing::info!(
            sink,
            file = %path.display(),
            bytes = offset,
            "no committed position: appending after the existing content"
        );
    }
    let position = JsonlPosition {
        file: name,
        seq,
        offset,
        opened_at: now,
    };
    Ok((file, position))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        // 2026-11-21T00:00:00Z plus `secs`.
        Utc.timestamp_opt(1_795_219_200 + secs, 0)
            .single()
            .unwrap_or_default()
    }

    fn plain() -> FileOptions {
        FileOptions {
            rotate_bytes: None,
            rotate_interval: None,
            compress: false,
            capacity: None,
        }
    }

    /// Records `r<from>`..`r<to>` as one batch.
    fn batch(from: usize, to: usize) -> (Vec<u8>, Vec<usize>) {
        let mut data = Vec::new();
        let mut ends = Vec::new();
        for i in from..to {
            data.extend_from_slice(format!("{{\"id\":\"r{i:04}\"}}\n").as_bytes());
            ends.push(data.len());
        }
        (data, ends)
    }

    fn write(files: &mut JsonlFiles, from: usize, to: usize, now: DateTime<Utc>) -> String {
        let (data, ends) = batch(from, to);
        let (position, _) = files.write_batch(&data, &ends, now).unwrap();
        serde_json::to_string(&position).unwrap()
    }

    /// Every record id in the sink's directory, compressed files included, in file order.
    fn ids_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        names.sort();
        let mut ids = Vec::new();
        for path in names {
            let bytes = std::fs::read(&path).unwrap();
            let text = if path.extension().is_some_and(|e| e == "zst") {
                zstd::stream::decode_all(&bytes[..]).unwrap()
            } else if path.extension().is_some_and(|e| e == "tmp") {
                continue;
            } else {
                bytes
            };
            for line in String::from_utf8(text).unwrap().lines() {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                ids.push(value["id"].as_str().unwrap().to_string());
            }
        }
        ids
    }

    fn expected(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r{i:04}")).collect()
    }

    #[test]
    fn uncommitted_tail_is_truncated_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/records.jsonl");
        let (mut files, _) = JsonlFiles::open("s", &path, plain(), None, t(0)).unwrap();
        let committed = write(&mut files, 0, 10, t(1));
        write(&mut files, 10, 15, t(2)); // never committed
        drop(files);
        let (mut files, _) = JsonlFiles::open("s", &path, plain(), Some(&committed), t(3)).unwrap();
        assert_eq!(ids_in(&dir.path().join("out")), expected(10));
        write(&mut files, 10, 20, t(4));
        assert_eq!(ids_in(&dir.path().join("out")), expected(20));
    }

    #[test]
    fn without_a_committed_position_existing_content_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        std::fs::write(&path, b"{\"id\":\"r0000\"}\n").unwrap();
        let (mut files, _) = JsonlFiles::open("s", &path, plain(), None, t(0)).unwrap();
        assert_eq!(files.position().offset, 15);
        write(&mut files, 1, 3, t(1));
        assert_eq!(ids_in(dir.path()), expected(3));
    }

    #[test]
    fn crash_before_the_first_commit_doubles_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let options = FileOptions {
            rotate_bytes: Some(50),
            ..plain()
        };
        // Something from an earlier life of the directory, kept as it is.
        std::fs::write(
            dir.path().join("records-000001.jsonl"),
            "{\"id\":\"old\"}\n",
        )
        .unwrap();
        let (mut files, _) = JsonlFiles::open("s", &path, options.clone(), None, t(0)).unwrap();
        assert_eq!(files.position().seq, 2);
        write(&mut files, 0, 5, t(1)); // rotates once; never committed
        drop(files);
        let (mut files, _) = JsonlFiles::open("s", &path, options.clone(), None, t(2)).unwrap();
        assert_eq!(files.position().seq, 2, "resumed from the marker");
        assert!(!dir.path().join("records-000003.jsonl").exists());
        let first = write(&mut files, 0, 5, t(3));
        write(&mut files, 5, 6, t(4)); // second flush: the first was committed
        let marker = dir.path().join(".records-{seq}.jsonl.newswire-start");
        assert!(!marker.exists(), "marker removed once a commit exists");
        drop(files);
        let mut ids = expected(6);
        ids.insert(0, "old".into());
        assert_eq!(ids_in(dir.path()), ids);
        // With a committed position, the marker plays no part.
        let (_files, _) = JsonlFiles::open("s", &path, options, Some(&first), t(5)).unwrap();
        ids.pop();
        assert_eq!(ids_in(dir.path()), ids);
    }

    #[test]
    fn rotation_by_size_splits_at_record_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let options = FileOptions {
            rotate_bytes: Some(50),
            ..plain()
        };
        let (mut files, _) = JsonlFiles::open("s", &path, options, None, t(0)).unwrap();
        let position = write(&mut files, 0, 10, t(1)); // 15 bytes each: 3 per file
        let position: JsonlPosition = serde_json::from_str(&position).unwrap();
        assert_eq!(position.seq, 4);
        assert_eq!(position.file, "r-000004.jsonl");
        assert_eq!(position.offset, 15);
        for seq in 1..=3 {
            let len = std::fs::metadata(dir.path().join(format!("r-{seq:06}.jsonl")))
                .unwrap()
                .len();
            assert_eq!(len, 45);
        }
        assert_eq!(ids_in(dir.path()), expected(10));
    }

    #[test]
    fn a_record_larger_than_rotate_bytes_gets_a_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let options = FileOptions {
            rotate_bytes: Some(5),
            ..plain()
        };
        let (mut files, _) =
            JsonlFiles::open("s", &dir.path().join("r.jsonl"), options, None, t(0)).unwrap();
        write(&mut files, 0, 3, t(1));
        assert_eq!(files.position().seq, 3);
        assert_eq!(ids_in(dir.path()), expected(3));
    }

    #[test]
    fn rotation_by_time_and_by_date() {
        let dir = tempfile::tempdir().unwrap();
        let options = FileOptions {
            rotate_interval: Some(Duration::from_secs(3600)),
            ..plain()
        };
        let path = dir.path().join("news-{date}.jsonl");
        let (mut files, _) = JsonlFiles::open("s", &path, options, None, t(0)).unwrap();
        write(&mut files, 0, 2, t(10));
        write(&mut files, 2, 4, t(3599));
        assert_eq!(files.position().seq, 1, "not an hour old yet");
        write(&mut files, 4, 6, t(3600));
        assert_eq!(files.position().seq, 2);
        assert_eq!(files.position().file, "news-2026-11-21-000002.jsonl");
        // Just after midnight the date changes: new file although younger than an hour.
        write(&mut files, 6, 8, t(86_400 - 60));
        write(&mut files, 8, 10, t(86_400 + 60));
        assert_eq!(files.position().file, "news-2026-11-22-000004.jsonl");
        assert_eq!(ids_in(dir.path()), expected(10));
    }

    #[test]
    fn crash_between_rotation_and_commit_loses_and_doubles_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let options = FileOptions {
            rotate_bytes: Some(50),
            compress: true,
            ..plain()
        };
        let (mut files, _) = JsonlFiles::open("s", &path, options.clone(), None, t(0)).unwrap();
        let committed = write(&mut files, 0, 4, t(1)); // r-1 full, r-2 has one record
        // Uncommitted: fills r-2 and rotates twice more.
        let (_, compressible) = {
            let (data, ends) = batch(4, 12);
            files.write_batch(&data, &ends, t(2)).unwrap()
        };
        // r-1 was closed before the committed position: compressible now.
        assert_eq!(compressible.len(), 1);
        for path in compressible {
            compress_closed(&path).unwrap();
        }
        drop(files); // crash: the second batch was never committed
        let (mut files, to_compress) =
            JsonlFiles::open("s", &path, options, Some(&committed), t(3)).unwrap();
        assert!(to_compress.is_empty());
        assert_eq!(ids_in(dir.path()), expected(4));
        assert!(!dir.path().join("r-000003.jsonl").exists());
        write(&mut files, 4, 12, t(4));
        assert_eq!(ids_in(dir.path()), expected(12));
    }

    #[test]
    fn interrupted_compressions_are_finished_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let options = FileOptions {
            rotate_bytes: Some(50),
            compress: true,
            ..plain()
        };
        let (mut files, _) = JsonlFiles::open("s", &path, options.clone(), None, t(0)).unwrap();
        let committed = write(&mut files, 0, 10, t(1)); // files 1..=3 closed, 4 active
        drop(files);
        let closed = |seq: u64| dir.path().join(format!("r-{seq:06}.jsonl"));
        // File 1: compressed and renamed, delete lost. File 2: crash mid-compression.
        // File 3: never started.
        let first = std::fs::read(closed(1)).unwrap();
        compress_closed(&closed(1)).unwrap();
        std::fs::write(closed(1), first).unwrap();
        let original = std::fs::read(closed(2)).unwrap();
        std::fs::write(
            with_suffix(&closed(2), ".zst.tmp"),
            &original[..original.len() / 2],
        )
        .unwrap();
        let (_files, to_compress) =
            JsonlFiles::open("s", &path, options, Some(&committed), t(2)).unwrap();
        assert!(
            !closed(1).exists(),
            "the leftover original of a finished compression goes"
        );
        assert!(!with_suffix(&closed(2), ".zst.tmp").exists());
        assert_eq!(to_compress, vec![closed(2), closed(3)]);
        for path in to_compress {
            compress_closed(&path).unwrap();
        }
        assert_eq!(ids_in(dir.path()), expected(10));
    }

    #[test]
    fn disk_full_writes_a_partial_record_then_fails_and_a_reopen_repairs_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let small_disk = FileOptions {
            capacity: Some(40),
            ..plain()
        };
        let (mut files, _) = JsonlFiles::open("s", &path, small_disk.clone(), None, t(0)).unwrap();
        let committed = write(&mut files, 0, 2, t(1)); // 30 bytes
        let (data, ends) = batch(2, 4);
        let err = files.write_batch(&data, &ends, t(2)).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("records.jsonl"), "{message}");
        assert!(message.contains("No space left on device"), "{message}");
        // The sink refuses to go on with an unknown tail.
        let err = files.write_batch(&data, &ends, t(2)).unwrap_err();
        assert!(err.to_string().contains("earlier failure"), "{err}");
        drop(files);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 40);
        // After the fix: the partial record is cut off, the rest is written once.
        let (mut files, _) = JsonlFiles::open("s", &path, plain(), Some(&committed), t(3)).unwrap();
        write(&mut files, 2, 4, t(4));
        assert_eq!(ids_in(dir.path()), expected(4));
    }

    #[test]
    fn unwritable_directory_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, b"").unwrap();
        let err = JsonlFiles::open("s", &blocker.join("r.jsonl"), plain(), None, t(0)).unwrap_err();
        assert!(err.to_string().contains("not-a-dir"), "{err}");
    }

    #[test]
    fn unreadable_committed_position_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = JsonlFiles::open(
            "s",
            &dir.path().join("r.jsonl"),
            plain(),
            Some("nope"),
            t(0),
        )
        .unwrap_err();
        assert!(matches!(err, SinkError::Config { .. }), "{err}");
    }

    #[test]
    fn committed_file_missing_starts_it_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let (mut files, _) = JsonlFiles::open("s", &path, plain(), None, t(0)).unwrap();
        let committed = write(&mut files, 0, 2, t(1));
        drop(files);
        std::fs::rename(&path, dir.path().join("archived.jsonl.old")).unwrap();
        let (mut files, _) = JsonlFiles::open("s", &path, plain(), Some(&committed), t(2)).unwrap();
        assert_eq!(files.position().offset, 0);
        write(&mut files, 2, 3, t(3));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"id\":\"r0002\"}\n"
        );
    }
}
