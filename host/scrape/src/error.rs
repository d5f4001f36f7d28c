/// Errors of a scrape. Every one of them ends one scrape (`up == 0`, `lastError` set) and
/// never the loop: malformed input is data, not a failure of the daemon.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP request failed (connect, TLS, timeout, ...).
    #[error("{0}")]
    Http(String),
    /// The target answered with a non-2xx status.
    #[error("server returned HTTP status {0}")]
    Status(String),
    /// The body exceeded `body_size_limit`.
    #[error("body size limit exceeded ({limit} bytes)")]
    BodySizeLimit { limit: u64 },
    /// The scrape timed out.
    #[error("context deadline exceeded")]
    Timeout,
    /// The exposition could not be parsed.
    #[error("{0}")]
    Parse(String),
    /// More samples than `sample_limit` after metric relabelling.
    #[error("sample limit exceeded")]
    SampleLimit,
    /// A native histogram had more buckets than `native_histogram_bucket_limit` and could not
    /// be reduced to fit.
    #[error("histogram bucket limit exceeded")]
    BucketLimit,
    /// A series had more labels than `label_limit`, or a name/value over its length limit.
    #[error("{0}")]
    LabelLimit(String),
    /// An exporter plugin failed.
    #[error("plugin: {0}")]
    Plugin(String),
    /// Storage refused the batch.
    #[error("storage: {0}")]
    Storage(#[from] sightline_storage_api::Error),
    /// A scrape config could not be turned into an HTTP client.
    #[error("invalid HTTP client settings for job {job:?}: {message}")]
    Client { job: String, message: String },
    /// A file_sd file could not be read or parsed.
    #[error("{0}")]
    Discovery(String),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
