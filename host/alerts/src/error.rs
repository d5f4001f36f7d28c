//! The one error type of the alerts crate.

use std::path::PathBuf;

/// Why an alertmanager.yml (or a matcher, or a template it names) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem located in the YAML source: `file:line:col: message`.
    #[error("{source_name}:{line}:{column}: {message}")]
    At {
        /// The file name.
        source_name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, in Alertmanager's words where it has some.
        message: String,
    },
    /// A problem that could not be pinned to a position.
    #[error("{source_name}: {message}")]
    Invalid {
        /// The file name.
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
    /// A matcher (in a route, an inhibition rule, a silence or on the command line) that does
    /// not parse.
    #[error("{0}")]
    Matcher(String),
    /// A silence id that is not in the store (Alertmanager's `silence.ErrNotFound`; API v2
    /// answers 404 to a POST and 500 to a DELETE with it).
    #[error("silence not found")]
    SilenceNotFound,
    /// A silence Alertmanager refuses, in its words (`silence invalid: ...`, `Failed to
    /// create silence: ...`); API v2 answers 400 with it.
    #[error("{0}")]
    SilenceInvalid(String),
}

impl Error {
    /// The message without the location prefix, as Alertmanager would print it.
    pub fn message(&self) -> String {
        match self {
            Error::At { message, .. } | Error::Invalid { message, .. } => message.clone(),
            Error::Io { source, .. } => source.to_string(),
            Error::Matcher(m) | Error::SilenceInvalid(m) => m.clone(),
            Error::SilenceNotFound => "silence not found".to_string(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
