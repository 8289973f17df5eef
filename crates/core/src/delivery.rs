//! What flows back from the sinks to the state store when records become durable.
//!
//! The state store keeps each sink's committed position in the same transaction as the
//! ids it covers; the sink alone knows what the position means (a file name and byte
//! offset for JSONL, nothing for stdout), so it is stored as an opaque string.

use serde::{Deserialize, Serialize};

/// A sink's durable position, to be committed atomically with the record ids it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkPosition {
    /// The sink's state name (`SinkConfig::state_name`).
    pub sink: String,
    /// Sink-specific encoding of the position (e.g. JSON `{file, offset}`).
    pub data: String,
}
