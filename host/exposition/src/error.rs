//! The crate's single error type.

use std::fmt;

/// A malformed exposition: where it went wrong and why.
///
/// `line` and `column` are 1-based; `column` counts bytes within the line. `Display` renders
/// `line:column: message`, close to the wording Prometheus uses in a target's `lastError`.
/// A binary format (protobuf) has no lines: `line` is 0 and `column` is the 0-based byte
/// offset, rendered `protobuf: byte N: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based byte column within the line.
    pub column: usize,
    /// What was wrong, in words.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "protobuf: byte {}: {}", self.column, self.message);
        }
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// The crate's result type.
pub type Result<T, E = ParseError> = std::result::Result<T, E>;
