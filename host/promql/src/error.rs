//! The crate's one error type.

/// A parse error with its position (byte offsets into the query) and Prometheus' message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{line}:{col}: parse error: {msg}")]
pub struct ParseError {
    /// 1-based line of the error.
    pub line: usize,
    /// 1-based column (in bytes) of the error.
    pub col: usize,
    /// Byte offset where the offending part starts.
    pub start: usize,
    /// Byte offset where the offending part ends.
    pub end: usize,
    /// The message without the position prefix.
    pub msg: String,
}

/// Everything that can go wrong parsing or evaluating a query.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The query does not parse (Prometheus `bad_data`).
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The query parameters are invalid (Prometheus `bad_data`).
    #[error("{0}")]
    BadData(String),
    /// The query failed while running (Prometheus `execution`).
    #[error("{0}")]
    Execution(String),
    /// The query ran past its timeout.
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The query was canceled.
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    /// The query would load more samples than allowed.
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// Storage failed.
    #[error("{0}")]
    Storage(String),
}

impl Error {
    /// The Prometheus HTTP API `errorType` for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::Parse(_) | Error::BadData(_) => "bad_data",
            Error::Execution(_) | Error::TooManySamples(_) => "execution",
            Error::Timeout(_) => "timeout",
            Error::Canceled(_) => "canceled",
            Error::Storage(_) => "internal",
        }
    }
}

impl From<sightline_storage_api::Error> for Error {
    fn from(e: sightline_storage_api::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
