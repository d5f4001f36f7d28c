/// Errors of the storage seam.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The sample is older than the newest sample of its series (and outside any out-of-order
    /// window). Only this sample is dropped.
    #[error("out of order sample")]
    OutOfOrderSample,
    /// A sample with the same timestamp and a different value already exists. Only this
    /// sample is dropped.
    #[error("duplicate sample for timestamp")]
    DuplicateSampleForTimestamp,
    /// The sample is outside the appendable time window (e.g. older than the head allows).
    #[error("out of bounds")]
    OutOfBounds,
    /// A native histogram that is not valid (Prometheus' `histogram.Error`: e.g. negative
    /// bucket counts, spans and buckets that disagree, a count below the buckets' total). Only
    /// this sample is dropped; the message is the histogram package's.
    #[error("{0}")]
    InvalidHistogram(String),
    /// A label set that cannot be stored (empty, or with an invalid name).
    #[error("invalid series {0}")]
    InvalidSeries(String),
    /// Storage is not ready (e.g. WAL replay still running).
    #[error("storage not ready")]
    NotReady,
    /// The backend does not store this kind of sample; the batch must be rolled back.
    #[error("storage does not support {0}")]
    Unsupported(&'static str),
    /// The backend failed; the batch must be rolled back.
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// Whether this error only rejects one sample and leaves the batch usable.
    pub fn is_sample_rejection(&self) -> bool {
        matches!(
            self,
            Error::OutOfOrderSample
                | Error::DuplicateSampleForTimestamp
                | Error::OutOfBounds
                | Error::InvalidHistogram(_)
        )
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
