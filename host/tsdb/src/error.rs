//! The crate's one error type.

/// Errors of the TSDB.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An IO operation on a file under the data directory failed.
    #[error("io error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The embedded key-value store failed.
    #[error("sled: {0}")]
    Sled(String),
    /// Stored data failed to decode.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A WAL segment is corrupt at a byte offset (reported during replay, then repaired).
    #[error("WAL segment {segment} is corrupt at byte {offset}: {reason}")]
    CorruptWal {
        /// Segment number.
        segment: u64,
        /// Byte offset of the first bad record.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// A caller-supplied argument is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Import input could not be parsed.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: u64,
        /// What was wrong.
        message: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::Sled(e.to_string())
    }
}

impl From<Error> for sightline_storage_api::Error {
    fn from(e: Error) -> Self {
        sightline_storage_api::Error::Backend(Box::new(e))
    }
}
