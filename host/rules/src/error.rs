//! The one error type of the rules crate.

use std::path::PathBuf;

/// Why rules could not be loaded, evaluated or tested.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule file is invalid. The message is Prometheus' (`file: L:C: group "g", rule 1,
    /// "name": ...`), one problem per line.
    #[error("{0}")]
    RuleFile(String),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A rule's evaluation failed (query error, duplicate labelsets, limit).
    #[error("{0}")]
    Eval(String),
    /// A unit-test file is invalid.
    #[error("{0}")]
    TestFile(String),
    /// Storage refused an append or commit.
    #[error("storage: {0}")]
    Storage(#[from] sightline_storage_api::Error),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
