//! The crate's one error type.

use std::fmt;

/// Why a remote-write body could not be decoded, or a request not be served.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not a valid snappy block.
    #[error("snappy: {0}")]
    Snappy(String),
    /// The decompressed body would be larger than the receiver accepts.
    #[error("snappy: decompressed length {len} is over the limit of {limit} bytes")]
    TooLarge {
        /// The length the snappy header announces.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The protobuf message is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// `Content-Type` names no protobuf message this server accepts (HTTP 415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The storage refused the request.
    #[cfg(feature = "receiver")]
    #[error(transparent)]
    Storage(#[from] sightline_storage_api::Error),
    /// A `remote_write` entry cannot be used (bad header, TLS file, ...).
    #[cfg(feature = "client")]
    #[error("{0}")]
    Config(String),
    /// A file of the client's state could not be read or written.
    #[cfg(feature = "client")]
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A malformed protobuf message: what was wrong, at which byte of the decompressed message,
/// inside which field (`timeseries[3].labels[0].name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The message type being decoded (`prometheus.WriteRequest`).
    pub message_type: &'static str,
    /// Byte offset in the decompressed message.
    pub offset: usize,
    /// The field path, outermost first.
    pub path: String,
    /// What was wrong.
    pub reason: String,
    /// Path segments collected innermost first while the error travels up.
    segments: Vec<String>,
}

impl DecodeError {
    pub(crate) fn new(offset: usize, reason: impl Into<String>) -> Self {
        DecodeError {
            message_type: "",
            offset,
            path: String::new(),
            reason: reason.into(),
            segments: Vec::new(),
        }
    }

    /// Adds the field the error happened in (`index` for repeated fields).
    pub(crate) fn at(mut self, field: &str, index: Option<usize>) -> Self {
        self.segments.push(match index {
            Some(i) => format!("{field}[{i}]"),
            None => field.to_string(),
        });
        self
    }

    /// Whether a field has been named already.
    pub(crate) fn has_path(&self) -> bool {
        !self.segments.is_empty()
    }

    /// Finishes the error at the top-level message.
    pub(crate) fn finish(mut self, message_type: &'static str) -> Self {
        self.message_type = message_type;
        let mut segs = std::mem::take(&mut self.segments);
        segs.reverse();
        self.path = segs.join(".");
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proto: {}", self.message_type)?;
        if !self.path.is_empty() {
            write!(f, ".{}", self.path)?;
        }
        write!(f, ": {} at byte {}", self.reason, self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
