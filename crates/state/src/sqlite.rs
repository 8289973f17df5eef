//! The embedded state store: one SQLite file in WAL mode, guarded by an advisory lock.
//!
//! Layout (schema version 3):
//! - `feeds`: per feed URL, HTTP validators, schedule and error counters;
//! - `emitted`: per record id, when it was committed (pruned by age);
//! - `simhashes`: the near-duplicate index, one row per indexed original with its simhash,
//!   its MinHash signature (`minhash`, [`MinHash::to_bytes`]; NULL = not confirmable) and
//!   publication date, bounded by age and count (`state.retention`, `dedup.max_entries`).
//!   The index is mirrored in memory and the distance filter is a scan of its simhashes,
//!   kept apart in one compact array: copies made by another outlet's template sit up to
//!   ~20 bits apart, where band indexes would have to enumerate thousands of keys per
//!   band, while scanning 200,000 words is a fraction of a millisecond. At 20 bits about
//!   0.2 % of unrelated texts fall within the distance, so a full index answers the
//!   maximum of candidates for every article; their ids, signatures and dates are
//!   mirrored too (about 360 bytes per entry, ~70 MB at the default 200,000 entries),
//!   because reading them from the file took one SQLite lookup per candidate and made
//!   the state thread the pipeline's bottleneck in the load benchmark. Its rows are
//!   appended in commit order and the table has no index on `id`: a row is written only in
//!   the transaction that adds the record's `emitted` row, so an id is indexed at most
//!   once without a second B-tree keyed by random ids (each commit rewrote a page of it per
//!   record; dropping it halved the time of a 100-record commit, 8.8 → 4.4 ms at 200,000
//!   entries, criterion `state_ops`);
//! - `sinks`: each sink's committed position.
//!
//! Migration from schema 1: the old `simhashes` table (with band columns) is dropped and
//! recreated empty. Their simhashes were of fingerprint format 1 (blake3
//! shingles, see `newswire_core::fingerprint`), incomparable with today's, and they had no
//! signature to confirm a match with: articles emitted before the upgrade are simply not
//! found as originals.
//!
//! Migration from schema 2: the index table is copied, rows in order, into one without
//! `UNIQUE (id)` (`MIGRATE_2_TO_3`); nothing is lost.
//!
//! Times are stored as Unix milliseconds. `synchronous = FULL` makes a returned
//! [`StateStore::commit`] durable even across power loss, so an id committed once is never
//! delivered again by a sink that cannot take records back (stdout).
//!
//! A second process on the same file is refused at open with [`StateError::Locked`]: the
//! lock is an exclusive `flock` on `<path>.lock`, released by the kernel when the holder
//! dies, so a `kill -9` never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use newswire_core::delivery::SinkPosition;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use newswire_core::fingerprint::{MinHash, Simhash};
use newswire_core::near_dup::Candidate;

use crate::{
    EmittedRecord, FeedState, MAX_CANDIDATES, PruneStats, StateError, StateStats, StateStore,
};

/// The path that selects an in-memory database (no file, no lock; gone at exit).
pub const IN_MEMORY: &str = ":memory:";

const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS feeds (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    next_due      INTEGER,
    error_count   INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    last_success  INTEGER
);
CREATE TABLE IF NOT EXISTS emitted (
    id         TEXT PRIMARY KEY,
    emitted_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS emitted_by_age ON emitted (emitted_at);
CREATE TABLE IF NOT EXISTS simhashes (
    id           TEXT NOT NULL,
    simhash      INTEGER NOT NULL,
    minhash      BLOB,
    published_at INTEGER,
    emitted_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS simhashes_by_age ON simhashes (emitted_at);
CREATE TABLE IF NOT EXISTS sinks (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
-- Added within schema 2: an additional table that older binaries simply ignore, so the
-- version stays (CREATE IF NOT EXISTS is the migration).
CREATE TABLE IF NOT EXISTS blobs (
    key        TEXT PRIMARY KEY,
    data       BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);
";

/// Schema 2 → 3: the index table loses its `UNIQUE (id)` (see the module doc). SQLite
/// cannot drop a constraint, so the rows are copied, in their order, into a new table.
const MIGRATE_2_TO_3: &str = "
CREATE TABLE simhashes_3 (
    id           TEXT NOT NULL,
    simhash      INTEGER NOT NULL,
    minhash      BLOB,
    published_at INTEGER,
    emitted_at   INTEGER NOT NULL
);
INSERT INTO simhashes_3 (id, simhash, minhash, published_at, emitted_at)
    SELECT id, simhash, minhash, published_at, emitted_at FROM simhashes ORDER BY rowid;
DROP TABLE simhashes;
ALTER TABLE simhashes_3 RENAME TO simhashes;
";

/// [`StateStore`] on one SQLite file.
pub struct SqliteState {
    conn: Connection,
    /// As given to `open`, for error messages.
    display: String,
    /// The database file, `None` in memory.
    file: Option<PathBuf>,
    /// Held for the life of the store; dropping it releases the lock.
    _lock: Option<File>,
    /// Every index row, in insertion order (see the module doc).
    mirror: Mirror,
}

/// The near-duplicate index in memory: the simhashes in a compact array for the distance
/// scan, and beside them (same positions) what a lookup returns.
#[derive(Default)]
struct Mirror {
    simhashes: Vec<u64>,
    candidates: Vec<Candidate>,
}

impl Mirror {
    fn push(&mut self, candidate: Candidate) {
        self.simhashes.push(candidate.simhash.0);
        self.candidates.push(candidate);
    }
}

impl std::fmt::Debug for SqliteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteState")
            .field("path", &self.display)
            .finish_non_exhaustive()
    }
}

/// The lock file guarding `db`: `<db>.lock`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl SqliteState {
    /// Opens (creating if needed, parent directories included) the state at `path` for
    /// reading and writing, taking its lock. `":memory:"` gives a private in-memory store.
    ///
    /// Fails at once with [`StateError::Locked`] when another process holds the state.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteState, StateError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        if path == Path::new(IN_MEMORY) {
            let conn = Connection::open_in_memory().map_err(|e| storage(&display, e))?;
            let mut state = SqliteState {
                conn,
                display,
                file: None,
                _lock: None,
                mirror: Mirror::default(),
            };
            state.prepare_schema()?;
            state.load_mirror()?;
            return Ok(state);
        }

        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StateError::Storage {
                path: display.clone(),
                message: format!("cannot create directory {}: {e}", parent.display()),
            })?;
        }
        let lock = take_lock(path)?;
        let conn = Connection::open(path).map_err(|e| storage(&display, e))?;
        let mut state = SqliteState {
            conn,
            display,
            file: Some(path.to_path_buf()),
            _lock: Some(lock),
            mirror: Mirror::default(),
        };
        state.prepare_schema()?;
        state.load_mirror()?;
        Ok(state)
    }

    /// Opens an existing state read-only and without taking the lock, so that
    /// `newswire state stats` works while a daemon runs. Writes through it fail.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<SqliteState, StateError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        if !path.exists() {
            return Err(StateError::Storage {
                path: display,
                message: "no state file here (has newswire run with this state yet?)".into(),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| storage(&display, e))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| storage(&display, e))?;
        // The mirror stays empty: a read-only store answers stats, not lookups.
        Ok(SqliteState {
            conn,
            display,
            file: Some(path.to_path_buf()),
            _lock: None,
            mirror: Mirror::default(),
        })
    }

    /// The path the store was opened with.
    pub fn path(&self) -> &str {
        &self.display
    }

    fn prepare_schema(&mut self) -> Result<(), StateError> {
        let display = self.display.clone();
        let err = |e| storage(&display, e);
        // auto_vacuum only takes effect before the first table exists; on an existing
        // file it is a no-op, which is what we want.
        self.conn
            .pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(err)?;
        if self.file.is_some() {
            let mode: String = self
                .conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .map_err(err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StateError::Storage {
                    path: display.clone(),
                    message: format!("cannot switch to WAL journal mode (got {mode})"),
                });
            }
        }
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        self.conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(err)?;
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(StateError::Storage {
                path: display.clone(),
                message: format!(
                    "written by a newer newswire (schema {version}, this one knows {SCHEMA_VERSION})"
                ),
            });
        }
        let tx = self.conn.transaction().map_err(err)?;
        match version {
            // See the module doc: schema 1's index rows cannot be compared any more.
            1 => tx.execute_batch("DROP TABLE IF EXISTS simhashes;"),
            2 => tx.execute_batch(MIGRATE_2_TO_3),
            _ => Ok(()),
        }
        .map_err(err)?;
        tx.execute_batch(SCHEMA).map_err(err)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StateError + '_ {
        |e| storage(&self.display, e)
    }

    fn load_mirror(&mut self) -> Result<(), StateError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, simhash, minhash, published_at FROM simhashes ORDER BY rowid",
            )
            .map_err(|e| storage(&self.display, e))?;
        let rows = stmt
            .query_map([], |row| {
                let minhash: Option<Vec<u8>> = row.get(2)?;
                Ok(Candidate {
                    id: row.get(0)?,
                    simhash: Simhash(row.get::<_, i64>(1)? as u64),
                    // A blob of another length is a signature of another format:
                    // unconfirmable.
                    minhash: minhash.as_deref().and_then(MinHash::from_bytes),
                    published_at: from_millis(row.get(3)?),
                })
            })
            .map_err(|e| storage(&self.display, e))?;
        let mut mirror = Mirror::default();
        for candidate in rows {
            mirror.push(candidate.map_err(|e| storage(&self.display, e))?);
        }
        drop(stmt);
        self.mirror = mirror;
        Ok(())
    }

    fn count(&self, table: &str) -> Result<u64, StateError> {
        let n: i64 = self
            .conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .map_err(self.err())?;
        Ok(n.max(0) as u64)
    }

    fn file_bytes(&self) -> Result<u64, StateError> {
        match &self.file {
            Some(file) => {
                let mut total = 0;
                for suffix in ["", "-wal"] {
                    let mut name = file.as_os_str().to_owned();
                    name.push(suffix);
                    if let Ok(meta) = std::fs::metadata(PathBuf::from(name)) {
                        total += meta.len();
                    }
                }
                Ok(total)
            }
            None => {
                let pages: i64 = self
                    .conn
                    .pragma_query_value(None, "page_count", |row| row.get(0))
                    .map_err(self.err())?;
                let size: i64 = self
                    .conn
                    .pragma_query_value(None, "page_size", |row| row.get(0))
                    .map_err(self.err())?;
                Ok((pages * size).max(0) as u64)
            }
        }
    }
}

fn take_lock(db: &Path) -> Result<File, StateError> {
    let lock = lock_path(db);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(|e| StateError::Storage {
            path: db.display().to_string(),
            message: format!("cannot open lock file {}: {e}", lock.display()),
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StateError::Locked {
            path: db.display().to_string(),
            lock: lock.display().to_string(),
        }),
        Err(TryLockError::Error(e)) => Err(StateError::Storage {
            path: db.display().to_string(),
            message: format!("cannot lock {}: {e}", lock.display()),
        }),
    }
}

fn storage(path: &str, e: rusqlite::Error) -> StateError {
    StateError::Storage {
        path: path.to_string(),
        message: e.to_string(),
    }
}

fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(DateTime::from_timestamp_millis)
}

impl StateStore for SqliteState {
    fn feed_state(&self, feed_url: &str) -> Result<Option<FeedState>, StateError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT etag, last_modified, next_due, error_count, last_error, last_success
                 FROM feeds WHERE url = ?1",
            )
            .map_err(self.err())?;
        stmt.query_row([feed_url], |row| {
            Ok(FeedState {
                etag: row.get(0)?,
                last_modified: row.get(1)?,
                next_due: from_millis(row.get(2)?),
                error_count: row.get::<_, i64>(3)?.clamp(0, i64::from(u32::MAX)) as u32,
                last_error: row.get(4)?,
                last_success: from_millis(row.get(5)?),
            })
        })
        .optional()
        .map_err(self.err())
    }

    fn save_feed_state(&mut self, feed_url: &str, state: &FeedState) -> Result<(), StateError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO feeds (url, etag, last_modified, next_due, error_count, last_error, last_success)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (url) DO UPDATE SET
                   etag = excluded.etag, last_modified = excluded.last_modified,
                   next_due = excluded.next_due, error_count = excluded.error_count,
                   last_error = excluded.last_error, last_success = excluded.last_success",
            )
            .map_err(self.err())?;
        stmt.execute(params![
            feed_url,
            state.etag,
            state.last_modified,
            state.next_due.map(to_millis),
            i64::from(state.error_count),
            state.last_error,
            state.last_success.map(to_millis),
        ])
        .map_err(self.err())?;
        Ok(())
    }

    fn is_emitted(&self, id: &str) -> Result<bool, StateError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM emitted WHERE id = ?1")
            .map_err(self.err())?;
        stmt.exists([id]).map_err(self.err())
    }

    fn kept_near_duplicates(
        &self,
        simhash: Simhash,
        max_distance: u32,
        keep: &dyn Fn(&Candidate) -> bool,
    ) -> Result<Vec<Candidate>, StateError> {
        let mut within = Vec::new();
        simhash.scan_within(&self.mirror.simhashes, max_distance, &mut within);
        // Kept first, then sorted: texts of one kind can put thousands of entries within
        // the distance, of which few are kept, and sorting them all showed in the profile.
        within.retain(|&(_, position)| self.mirror.candidates.get(position).is_some_and(keep));
        // Closest first, then oldest entry first.
        within.sort_unstable();
        Ok(within
            .into_iter()
            .filter_map(|(_, position)| self.mirror.candidates.get(position))
            .take(MAX_CANDIDATES)
            .cloned()
            .collect())
    }

    fn sink_position(&self, sink: &str) -> Result<Option<SinkPosition>, StateError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM sinks WHERE name = ?1")
            .map_err(self.err())?;
        let data: Option<String> = stmt
            .query_row([sink], |row| row.get(0))
            .optional()
            .map_err(self.err())?;
        Ok(data.map(|data| SinkPosition {
            sink: sink.to_string(),
            data,
        }))
    }

    fn commit(
        &mut self,
        records: &[EmittedRecord],
        positions: &[SinkPosition],
    ) -> Result<(), StateError> {
        let display = self.display.clone();
        let err = |e| storage(&display, e);
        let tx = self.conn.transaction().map_err(err)?;
        let mut added = Vec::new();
        {
            let mut emitted = tx
                .prepare_cached(
                    "INSERT INTO emitted (id, emitted_at) VALUES (?1, ?2)
                     ON CONFLICT (id) DO NOTHING",
                )
                .map_err(err)?;
            let mut indexed = tx
                .prepare_cached(
                    "INSERT INTO simhashes (id, simhash, minhash, published_at, emitted_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for record in records {
                let at = to_millis(record.emitted_at);
                // An id committed again (after a crash) is already indexed.
                let first_time = emitted.execute(params![record.id, at]).map_err(err)? == 1;
                if let Some(entry) = record.near_dup.as_ref().filter(|_| first_time) {
                    let simhash = entry.fingerprint.simhash.0;
                    indexed
                        .execute(params![
                            record.id,
                            simhash as i64,
                            entry.fingerprint.minhash.to_bytes(),
                            entry.published_at.map(to_millis),
                            at,
                        ])
                        .map_err(err)?;
                    added.push(Candidate {
                        id: record.id.clone(),
                        simhash: entry.fingerprint.simhash,
                        minhash: Some(entry.fingerprint.minhash.clone()),
                        published_at: entry.published_at,
                    });
                }
            }
            let mut sinks = tx
                .prepare_cached(
                    "INSERT INTO sinks (name, data) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET data = excluded.data",
                )
                .map_err(err)?;
            for position in positions {
                sinks
                    .execute(params![position.sink, position.data])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        // Only a committed index row may be found.
        for candidate in added {
            self.mirror.push(candidate);
        }
        Ok(())
    }

    fn prune(
        &mut self,
        older_than: DateTime<Utc>,
        max_simhashes: usize,
    ) -> Result<PruneStats, StateError> {
        let display = self.display.clone();
        let err = |e| storage(&display, e);
        let cutoff = to_millis(older_than);
        let keep = i64::try_from(max_simhashes).unwrap_or(i64::MAX);
        let tx = self.conn.transaction().map_err(err)?;
        let records = tx
            .execute("DELETE FROM emitted WHERE emitted_at < ?1", [cutoff])
            .map_err(err)?;
        let old_hashes = tx
            .execute("DELETE FROM simhashes WHERE emitted_at < ?1", [cutoff])
            .map_err(err)?;
        let excess_hashes = tx
            .execute(
                "DELETE FROM simhashes WHERE rowid IN (
                   SELECT rowid FROM simhashes ORDER BY emitted_at DESC, rowid DESC
                   LIMIT -1 OFFSET ?1)",
                [keep],
            )
            .map_err(err)?;
        tx.commit().map_err(err)?;
        // Hand freed pages back to the file system so the file stops growing once the
        // retention window is full.
        self.conn
            .execute_batch("PRAGMA incremental_vacuum")
            .map_err(self.err())?;
        if old_hashes + excess_hashes > 0 {
            self.load_mirror()?;
        }
        Ok(PruneStats {
            records: records as u64,
            simhashes: (old_hashes + excess_hashes) as u64,
        })
    }

    fn stats(&self) -> Result<StateStats, StateError> {
        Ok(StateStats {
            feeds: self.count("feeds")?,
            emitted_records: self.count("emitted")?,
            simhashes: self.count("simhashes")?,
            sinks: self.count("sinks")?,
            file_bytes: self.file_bytes()?,
        })
    }

    fn delete_sink_position(&mut self, sink: &str) -> Result<bool, StateError> {
        let n = self
            .conn
            .execute("DELETE FROM sinks WHERE name = ?1", [sink])
            .map_err(self.err())?;
        Ok(n > 0)
    }

    fn load_blob(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.conn
            .query_row("SELECT data FROM blobs WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(self.err())
    }

    fn save_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), StateError> {
        self.conn
            .execute(
                "INSERT INTO blobs (key, data, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                params![key, bytes, Utc::now().timestamp()],
            )
            .map_err(self.err())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_blob_is_replaced_whole_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let mut state = SqliteState::open(path.to_str().unwrap()).unwrap();
            assert_eq!(state.load_blob("stories").unwrap(), None);
            state.save_blob("stories", b"first").unwrap();
            state.save_blob("stories", b"second").unwrap();
        }
        let state = SqliteState::open(path.to_str().unwrap()).unwrap();
        assert_eq!(
            state.load_blob("stories").unwrap().as_deref(),
            Some(&b"second"[..])
        );
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
    }

    fn record(id: &str, simhash: u64, secs: i64) -> EmittedRecord {
        EmittedRecord {
            id: id.into(),
            emitted_at: at(secs),
            near_dup: Some(crate::IndexEntry {
                fingerprint: newswire_core::fingerprint::Fingerprint {
                    simhash: Simhash(simhash),
                    minhash: MinHash::of(id),
                },
                published_at: Some(at(secs - 50)),
            }),
        }
    }

    fn ids(candidates: Vec<Candidate>) -> Vec<String> {
        candidates.into_iter().map(|c| c.id).collect()
    }

    fn position(sink: &str, data: &str) -> SinkPosition {
        SinkPosition {
            sink: sink.into(),
            data: data.into(),
        }
    }

    #[test]
    fn feed_state_round_trips_and_updates() {
        let mut state = SqliteState::open(IN_MEMORY).unwrap();
        assert_eq!(state.feed_state("https://a.example/feed").unwrap(), None);
        let mut fs = FeedState {
            etag: Some("\"abc\"".into()),
            last_modified: Some("Sat, 21 Nov 2026 10:00:00 GMT".into()),
            next_due: Some(at(1_800_000_000)),
            error_count: 3,
            last_error: Some("HTTP 503".into()),
            last_success: Some(at(1_799_999_000)),
        };
        state
            .save_feed_state("https://a.example/feed", &fs)
            .unwrap();
        assert_eq!(
            state.feed_state("https://a.example/feed").unwrap(),
            Some(fs.clone())
        );
        fs.error_count = 0;
        fs.last_error = None;
        state
            .save_feed_state("https://a.example/feed", &fs)
            .unwrap();
        assert_eq!(
            state.feed_state("https://a.example/feed").unwrap(),
            Some(fs)
        );
        assert_eq!(state.stats().unwrap().feeds, 1);
    }

    #[test]
    fn commit_marks_ids_and_positions_together() {
        let mut state = SqliteState::open(IN_MEMORY).unwrap();
        assert!(!state.is_emitted("r1").unwrap());
        assert_eq!(state.sink_position("jsonl:out").unwrap(), None);
        state
            .commit(
                &[record("r1", 1, 100), record("r2", 2, 100)],
                &[position("jsonl:out", "{\"offset\":10}")],
            )
            .unwrap();
        assert!(state.is_emitted("r1").unwrap());
        assert!(state.is_emitted("r2").unwrap());
        assert!(!state.is_emitted("r3").unwrap());
        assert_eq!(
            state.sink_position("jsonl:out").unwrap(),
            Some(position("jsonl:out", "{\"offset\":10}"))
        );
        // A later commit moves the position; re-committing an id is harmless.
        state
            .commit(
                &[record("r2", 2, 200)],
                &[position("jsonl:out", "{\"offset\":20}")],
            )
            .unwrap();
        assert_eq!(
            state.sink_position("jsonl:out").unwrap().map(|p| p.data),
            Some("{\"offset\":20}".into())
        );
        let stats = state.stats().unwrap();
        assert_eq!(stats.emitted_records, 2);
        assert_eq!(stats.simhashes, 2);
        assert_eq!(stats.sinks, 1);
        assert!(stats.file_bytes > 0);
        assert!(state.delete_sink_position("jsonl:out").unwrap());
        assert_eq!(state.sink_position("jsonl:out").unwrap(), None);
    }

    #[test]
    fn near_duplicate_finds_every_hash_within_the_distance() {
        let mut state = SqliteState::open(IN_MEMORY).unwrap();
        let base = 0x0f0f_1234_abcd_9876_u64;
        // Spread the flipped bits over all four bands, the hardest case for banding.
        let spread =
            |d: u32| (0..d).fold(base, |h, k| h ^ (1u64 << (16 * (k % 4) + (k / 4) * 3 + 1)));
        state.commit(&[record("orig", base, 100)], &[]).unwrap();
        for d in 0..=12 {
            let query = spread(d);
            assert_eq!((query ^ base).count_ones(), d);
            let found = state.near_duplicates(Simhash(query), d).unwrap();
            assert_eq!(ids(found), ["orig"], "distance {d}");
            if d > 0 {
                let found = state.near_duplicates(Simhash(query), d - 1).unwrap();
                assert!(found.is_empty(), "{d}");
            }
        }
        assert!(state.near_duplicates(Simhash(!base), 6).unwrap().is_empty());
    }

    #[test]
    fn candidates_come_closest_first_with_their_signatures_and_dates() {
        let mut state = SqliteState::open(IN_MEMORY).unwrap();
        let base = 0xffff_0000_ffff_0000_u64;
        state
            .commit(
                &[
                    record("later-exact", base, 300),
                    record("earlier-exact", base, 200),
                    record("close", base ^ 0b11, 100),
                ],
                &[],
            )
            .unwrap();
        let found = state.near_duplicates(Simhash(base), 6).unwrap();
        assert_eq!(
            ids(found.clone()),
            ["later-exact", "earlier-exact", "close"]
        );
        assert_eq!(found[1].minhash, Some(MinHash::of("earlier-exact")));
        assert_eq!(found[1].published_at, Some(at(150)));
        assert_eq!(found[2].simhash, Simhash(base ^ 0b11));
        let found = state.near_duplicates(Simhash(base ^ 0b11), 1).unwrap();
        assert_eq!(ids(found), ["close"]);
    }

    #[test]
    fn candidates_are_capped_closest_first() {
        let mut state = SqliteState::open(IN_MEMORY).unwrap();
        let records: Vec<_> = (0..MAX_CANDIDATES as u64 + 10)
            .map(|i| record(&format!("r{i}"), ((i % 2) << 40) | ((i << 1) & 0b110), 100))
            .collect();
        state.commit(&records, &[]).unwrap();
        let found = state.near_duplicates(Simhash(0), 6).unwrap();
        assert_eq!(found.len(), MAX_CANDIDATES);
        let distances: Vec<u32> = found
            .iter()
            .map(|c| c.simhash.distance(Simhash(0)))
            .collect();
        assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    }

    #[test]
    fn schema_1_is_migrated_and_its_index_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE emitted (id TEXT PRIMARY KEY, emitted_at INTEGER NOT NULL) WITHOUT ROWID;
                 CREATE TABLE simhashes (id TEXT NOT NULL UNIQUE, simhash INTEGER NOT NULL,
                   band0 INTEGER NOT NULL, band1 INTEGER NOT NULL, band2 INTEGER NOT NULL,
                   band3 INTEGER NOT NULL, emitted_at INTEGER NOT NULL);
                 INSERT INTO emitted VALUES ('old', 1);
                 INSERT INTO simhashes VALUES ('old', 7, 7, 0, 0, 0, 1);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let mut state = SqliteState::open(&path).unwrap();
        assert!(
            state.is_emitted("old").unwrap(),
            "ids survive the migration"
        );
        assert!(state.near_duplicates(Simhash(7), 0).unwrap().is_empty());
        state.commit(&[record("new", 7, 100)], &[]).unwrap();
        assert_eq!(ids(state.near_duplicates(Simhash(7), 0).unwrap()), ["new"]);
        drop(state);
        // Opening again does not migrate again.
        let state = SqliteState::open(&path).unwrap();
        assert_eq!(ids(state.near_duplicates(Simhash(7), 0).unwrap()), ["new"]);
    }

    #[test]
    fn schema_2_is_migrated_with_its_index_rows_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        {
            let mut state = SqliteState::open(&path).unwrap();
            state
                .commit(&[record("a", 7, 100), record("b", 6, 200)], &[])
                .unwrap();
            drop(state);
            // What schema 2 wrote: the same rows under a unique index on `id`.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE old (id TEXT NOT NULL UNIQUE, simhash INTEGER NOT NULL,
                   minhash BLOB, published_at INTEGER, emitted_at INTEGER NOT NULL);
                 INSERT INTO old SELECT id, simhash, minhash, published_at, emitted_at
                   FROM simhashes ORDER BY rowid;
                 DROP TABLE simhashes;
                 ALTER TABLE old RENAME TO simhashes;
                 PRAGMA user_version = 2;",
            )
            .unwrap();
        }
        let mut state = SqliteState::open(&path).unwrap();
        let version: i64 = state
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let unique_indexes: i64 = state
            .conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_index_list('simhashes') WHERE \"unique\"",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(unique_indexes, 0, "the index table lost its unique index");
        let found = state.near_duplicates(Simhash(7), 1).unwrap();
        assert_eq!(ids(found.clone()), ["a", "b"]);
        assert!(found.iter().all(|c| c.minhash.is_some()), "signatures kept");
        // An id committed again is not indexed twice.
        state.commit(&[record("a", 7, 300)], &[]).unwrap();
        assert_eq!(state.stats().unwrap().simhashes, 2);
        drop(state);
        let state = SqliteState::open(&path).unwrap();
        assert_eq!(
            ids(state.near_duplicates(Simhash(7), 1).unwrap()),
            ["a", "b"]
        );
    }

    #[test]
    fn entries_without_a_signature_come_back_unconfirmable() {
        let mut state = SqliteState::open(IN_MEMORY).unwrap();
        state.commit(&[record("a", 9, 100)], &[]).unwrap();
        state
            .conn
            .execute_batch("UPDATE simhashes SET minhash = NULL, published_at = NULL")
            .unwrap();
        // Read back as a store opened on such a file reads it.
        state.load_mirror().unwrap();
        let found = state.near_duplicates(Simhash(9), 0).unwrap();
        assert_eq!(found[0].minhash, None);
        assert_eq!(found[0].published_at, None);
    }

    #[test]
    fn records_not_indexed_are_not_near_duplicates() {
        let mut state = SqliteState::open(IN_MEMORY).unwrap();
        let mut short = record("short", 42, 100);
        short.near_dup = None;
        state.commit(&[short], &[]).unwrap();
        assert!(state.is_emitted("short").unwrap());
        assert!(state.near_duplicates(Simhash(42), 6).unwrap().is_empty());
    }

    #[test]
    fn prune_drops_old_ids_and_excess_simhashes() {
        let mut state = SqliteState::open(IN_MEMORY).unwrap();
        let records: Vec<_> = (0..10)
            .map(|i| record(&format!("r{i}"), 1000 + i as u64 * 0x1_0001_0001, i * 100))
            .collect();
        state.commit(&records, &[]).unwrap();
        let pruned = state.prune(at(300), 5).unwrap();
        // r0..r2 are older than 300 s; of the remaining seven hashes the two oldest go.
        assert_eq!(pruned.records, 3);
        assert_eq!(pruned.simhashes, 5);
        assert!(!state.is_emitted("r2").unwrap());
        assert!(state.is_emitted("r3").unwrap());
        let simhash = |i: usize| records[i].near_dup.as_ref().unwrap().fingerprint.simhash;
        assert!(state.near_duplicates(simhash(4), 0).unwrap().is_empty());
        assert_eq!(ids(state.near_duplicates(simhash(5), 0).unwrap()), ["r5"]);
        let stats = state.stats().unwrap();
        assert_eq!(stats.emitted_records, 7);
        assert_eq!(stats.simhashes, 5);
    }

    #[test]
    fn file_state_survives_reopen_and_refuses_a_second_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var/state.db");
        {
            let mut state = SqliteState::open(&path).unwrap();
            state
                .commit(&[record("kept", 7, 1_000)], &[position("stdout", "{}")])
                .unwrap();
            match SqliteState::open(&path) {
                Err(StateError::Locked { path: p, lock }) => {
                    assert!(p.ends_with("state.db"));
                    assert!(lock.ends_with("state.db.lock"));
                }
                other => panic!("expected Locked, got {other:?}"),
            }
            // A reader does not need the lock.
            let reader = SqliteState::open_read_only(&path).unwrap();
            assert_eq!(reader.stats().unwrap().emitted_records, 1);
        }
        let state = SqliteState::open(&path).unwrap();
        assert!(state.is_emitted("kept").unwrap());
        assert_eq!(ids(state.near_duplicates(Simhash(7), 0).unwrap()), ["kept"]);
        assert!(state.stats().unwrap().file_bytes > 0);
    }

    #[test]
    fn a_failed_commit_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let mut state = SqliteState::open(&path).unwrap();
            state
                .commit(&[record("a", 1, 100)], &[position("s", "1")])
                .unwrap();
        }
        // A store that cannot write: the commit fails as a whole, naming the file.
        let mut reader = SqliteState::open_read_only(&path).unwrap();
        let err = reader
            .commit(&[record("b", 2, 200)], &[position("s", "2")])
            .unwrap_err();
        assert!(err.to_string().contains("state.db"), "{err}");
        assert!(!reader.is_emitted("b").unwrap());
        assert_eq!(
            reader.sink_position("s").unwrap().map(|p| p.data),
            Some("1".into())
        );
    }

    #[test]
    fn read_only_open_of_a_missing_file_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nothing.db");
        let err = SqliteState::open_read_only(&path).unwrap_err();
        assert!(err.to_string().contains("nothing.db"), "{err}");
    }

    #[test]
    fn unwritable_location_is_a_storage_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"not a directory").unwrap();
        let err = SqliteState::open(blocker.join("state.db")).unwrap_err();
        assert!(matches!(err, StateError::Storage { .. }));
        assert!(err.to_string().contains("state.db"), "{err}");
    }

    #[test]
    fn steady_state_does_not_grow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut state = SqliteState::open(&path).unwrap();
        let mut sizes = Vec::new();
        for round in 0..6i64 {
            let records: Vec<_> = (0..500)
                .map(|i| {
                    record(
                        &format!("round{round}-record{i:04}-with-a-realistic-id-length"),
                        (round as u64) << 32 | i as u64,
                        round * 1_000 + i,
                    )
                })
                .collect();
            state.commit(&records, &[]).unwrap();
            // Keep one round's worth of history, as a retention window would.
            state.prune(at(round * 1_000), 500).unwrap();
            state
                .conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .unwrap();
            sizes.push(state.stats().unwrap().file_bytes);
        }
        let settled = sizes[2];
        assert!(
            sizes[3..].iter().all(|s| *s <= settled * 11 / 10),
            "file keeps growing: {sizes:?}"
        );
    }
}
