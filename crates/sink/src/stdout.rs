//! The stdout sink: records as JSON lines on standard output, at least once.
//!
//! Output cannot be taken back, so a crash between a flush and its commit repeats those
//! records on the next run; that is the documented guarantee (use a JSONL file for
//! exactly-once). Records are buffered and written in one go per flush, so a reader such
//! as `jq` always sees whole lines.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::SinkError;

/// Default: write out after this many records…
pub const DEFAULT_FLUSH_RECORDS: usize = 100;
/// …or after this long, whichever comes first (short: someone may be watching).
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(500);
/// Buffered bytes that force a flush whatever the record count (bounds memory).
const MAX_BUFFERED_BYTES: usize = 4 << 20;

/// Standard output as a sink.
#[derive(Debug)]
pub struct StdoutSink {
    name: String,
    buffer: Vec<u8>,
    records: usize,
}

impl StdoutSink {
    pub fn new(name: String) -> StdoutSink {
        StdoutSink {
            name,
            buffer: Vec::new(),
            records: 0,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn write(&mut self, line: &[u8]) {
        self.buffer.extend_from_slice(line);
        self.buffer.push(b'\n');
        self.records += 1;
    }

    pub fn wants_flush(&self) -> bool {
        self.records >= DEFAULT_FLUSH_RECORDS || self.buffer.len() >= MAX_BUFFERED_BYTES
    }

    pub fn flush_interval(&self) -> Duration {
        DEFAULT_FLUSH_INTERVAL
    }

    /// Writes the buffered records and flushes stdout. A closed pipe is an error: the
    /// records were not delivered and must not be committed.
    pub async fn flush(&mut self) -> Result<(), SinkError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut stdout = tokio::io::stdout();
        let written = async {
            stdout.write_all(&self.buffer).await?;
            stdout.flush().await
        }
        .await;
        self.buffer.clear();
        self.records = 0;
        written.map_err(|e| SinkError::Io {
            sink: self.name.clone(),
            message: format!("cannot write to standard output: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_a_flush_after_a_batch_of_records() {
        let mut sink = StdoutSink::new("stdout".into());
        for _ in 0..DEFAULT_FLUSH_RECORDS - 1 {
            sink.write(b"{}");
        }
        assert!(!sink.wants_flush());
        sink.write(b"{}");
        assert!(sink.wants_flush());
        assert_eq!(
            sink.buffer.len(),
            3 * DEFAULT_FLUSH_RECORDS,
            "one line per record"
        );
    }

    #[tokio::test]
    async fn flushing_nothing_writes_nothing() {
        let mut sink = StdoutSink::new("stdout".into());
        sink.flush().await.unwrap();
        assert!(!sink.wants_flush());
    }
}
