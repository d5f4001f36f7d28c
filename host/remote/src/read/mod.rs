//! Prometheus remote read: the messages (`messages.rs`), Prometheus' XOR chunk encoding
//! (`xor.rs`), the framing of streamed responses (`frame.rs`) and the `POST /api/v1/read`
//! handler (`handler.rs`, with the `receiver` feature).

pub mod frame;
#[cfg(feature = "receiver")]
pub mod handler;
mod messages;
#[cfg(feature = "receiver")]
pub mod metrics;
pub mod xor;

pub use messages::{
    chunk_size, label_size, matcher_type, Chunk, ChunkedReadResponse, ChunkedSeries, LabelMatcher,
    Query, QueryResult, QueryResultWriter, ReadHints, ReadRequest, ReadResponse,
    CHUNKED_READ_RESPONSE, READ_REQUEST, READ_RESPONSE, SAMPLES, STREAMED_XOR_CHUNKS,
};

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "receiver"))]
mod handler_tests;
