//! The one error type of the config crate.

use std::path::PathBuf;

/// Why a configuration (or a file it references) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem located in a YAML/JSON source: `file:line:col: message`.
    #[error("{source_name}:{line}:{column}: {message}")]
    At {
        /// The file name (or the name given to [`crate::load_str`]).
        source_name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A problem in a source that could not be pinned to a position.
    #[error("{source_name}: {message}")]
    Invalid {
        /// The file name (or the name given to [`crate::load_str`]).
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A target that cannot be scraped after relabeling (see [`crate::populate_labels`]).
    #[error("{0}")]
    InvalidTarget(String),
}

impl Error {
    /// The message without the location prefix.
    pub fn message(&self) -> String {
        match self {
            Error::At { message, .. } | Error::Invalid { message, .. } => message.clone(),
            Error::Io { source, .. } => source.to_string(),
            Error::InvalidTarget(m) => m.clone(),
        }
    }

    /// The 1-based `(line, column)` of the problem, when known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        match self {
            Error::At { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
