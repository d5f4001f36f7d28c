/// Errors of the model crate: invalid matchers and durations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A regex matcher whose pattern does not compile.
    #[error("invalid regular expression {pattern:?}: {message}")]
    InvalidRegex { pattern: String, message: String },
    /// A label name that is not valid.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
