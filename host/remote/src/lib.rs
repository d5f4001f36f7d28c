//! Prometheus remote write: the protobuf codecs of protocol 1.0 (`prometheus.WriteRequest`,
//! [`v1`]) and 2.0 (`io.prometheus.write.v2.Request`, [`v2`]), the snappy block framing both
//! use ([`compress`], [`decompress`]), and the receiver, `POST /api/v1/write`
//! ([`receiver::router`]), which appends through [`sightline_storage_api::Appendable`] and
//! answers only once the batch is committed.
//!
//! The codecs are hand-written over the wire format (`proto.rs`): no protoc, no build script.
//! They encode as well as decode, for the remote-write client to come. Decoding never panics
//! on hostile input; every error names the field and the byte (`fuzz/` has a target).

#[cfg(feature = "client")]
pub mod client;
mod error;
#[cfg(feature = "receiver")]
pub mod histconv;
#[cfg(feature = "receiver")]
pub mod metrics;
pub mod otlp;
mod proto;
pub mod read;
#[cfg(feature = "receiver")]
pub mod receiver;
pub mod v1;
pub mod v2;

pub use error::{DecodeError, Error, Result};
#[cfg(feature = "receiver")]
pub use metrics::RemoteMetrics;

/// The largest decompressed message the receiver accepts: far above what any sender batches
/// (Prometheus sends at most a few thousand samples a request), and a bound on the memory a
/// small hostile body can make us allocate.
pub const MAX_DECOMPRESSED: usize = 64 << 20;

/// Snappy block-format compression, as remote write frames its messages.
pub fn compress(raw: &[u8]) -> Vec<u8> {
    // The encoder fails only for inputs over snappy's 4 GiB limit; an empty result then makes
    // the receiver answer 400 rather than the sender panic.
    snap::raw::Encoder::new()
        .compress_vec(raw)
        .unwrap_or_default()
}

/// Decompresses a snappy block, refusing one that would exceed `limit` bytes.
pub fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>> {
    let len = snap::raw::decompress_len(body).map_err(|e| Error::Snappy(e.to_string()))?;
    if len > limit {
        return Err(Error::TooLarge { len, limit });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| Error::Snappy(e.to_string()))
}
