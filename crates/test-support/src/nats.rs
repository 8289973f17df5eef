//! Removing what a test created on the NATS server: streams and KV buckets deleted when
//! the guard drops, also after a failed assertion, so runs leave nothing behind.

use crate::services::NATS_ADDR;

/// Streams and KV buckets on the server at [`NATS_ADDR`], deleted when dropped.
#[derive(Debug, Default)]
pub struct Cleanup {
    streams: Vec<String>,
    buckets: Vec<String>,
}

impl Cleanup {
    /// Deletes `stream` when dropped.
    pub fn stream(stream: impl Into<String>) -> Cleanup {
        Cleanup::default().and_stream(stream)
    }

    /// Deletes each of `buckets` when dropped.
    pub fn buckets(buckets: impl IntoIterator<Item = String>) -> Cleanup {
        Cleanup {
            streams: Vec::new(),
            buckets: buckets.into_iter().collect(),
        }
    }

    /// Deletes `stream` too.
    pub fn and_stream(mut self, stream: impl Into<String>) -> Cleanup {
        self.streams.push(stream.into());
        self
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (streams, buckets) = (
            std::mem::take(&mut self.streams),
            std::mem::take(&mut self.buckets),
        );
        // Its own thread and runtime: a drop cannot await, and may run inside a runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let Ok(client) = async_nats::connect(NATS_ADDR).await else {
                    return;
                };
                let js = async_nats::jetstream::new(client);
                for bucket in &buckets {
                    if let Err(e) = js.delete_key_value(bucket).await {
                        eprintln!("could not delete test bucket {bucket}: {e}");
                    }
                }
                for stream in &streams {
                    if let Err(e) = js.delete_stream(stream).await {
                        eprintln!("could not delete test stream {stream}: {e}");
                    }
                }
            });
        })
        .join();
    }
}
