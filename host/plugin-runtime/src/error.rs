//! The runtime's error type.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong loading or calling a plugin.
///
/// Every trap, timeout and limit hit of a guest ends up here; none of them
/// panics the host.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No plugin of that name is loaded.
    #[error("plugin {0:?} is not loaded")]
    NotFound(String),
    /// The plugin exists but implements another world.
    #[error("plugin {name:?} is a {actual} plugin, not a {expected} plugin")]
    WrongKind {
        /// Plugin name.
        name: String,
        /// The kind the caller needed.
        expected: &'static str,
        /// The kind the plugin implements.
        actual: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The capabilities file is malformed.
    #[error("{}: {message}", path.display())]
    Manifest {
        /// The `.toml` file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A `$VAR` in the capabilities file names an unset environment variable.
    #[error("{}: config key {key:?} uses environment variable ${var}, which is not set", path.display())]
    UnsetVariable {
        /// The `.toml` file.
        path: PathBuf,
        /// The config key.
        key: String,
        /// The variable.
        var: String,
    },
    /// The file is not a valid component or failed to compile.
    #[error("compiling {name:?}: {message}")]
    Compile {
        /// Plugin name.
        name: String,
        /// The compiler's message.
        message: String,
    },
    /// The component does not implement any Sightline world, or imports
    /// something the host does not provide.
    #[error("linking {name:?}: {message}")]
    Link {
        /// Plugin name.
        name: String,
        /// The linker's message.
        message: String,
    },
    /// The plugin file could not be loaded (see `message`).
    #[error("loading plugin {name:?}: {message}")]
    LoadFailed {
        /// Plugin name.
        name: String,
        /// Why.
        message: String,
    },
    /// The guest ran past its time limit.
    #[error("plugin {name:?} exceeded its time limit of {limit:?}")]
    Timeout {
        /// Plugin name.
        name: String,
        /// The limit.
        limit: Duration,
    },
    /// The guest tried to grow its memory past its limit.
    #[error("plugin {name:?} exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// Plugin name.
        name: String,
        /// The limit.
        limit_bytes: u64,
    },
    /// The guest trapped (panic, `unreachable`, out-of-bounds access, ...).
    #[error("plugin {name:?} trapped: {message}")]
    Trapped {
        /// Plugin name.
        name: String,
        /// The trap and its backtrace.
        message: String,
    },
    /// The guest returned more data than allowed.
    #[error("plugin {name:?} returned {size} bytes, more than the limit of {limit}")]
    OutputTooLarge {
        /// Plugin name.
        name: String,
        /// Approximate size of the output.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The guest ran to completion and reported an error.
    #[error("plugin {name:?} failed: {message}")]
    Plugin {
        /// Plugin name.
        name: String,
        /// The guest's message.
        message: String,
    },
    /// The guest's output is not valid (bad metric name, bad JSON, ...).
    #[error("plugin {name:?} returned invalid output: {message}")]
    InvalidOutput {
        /// Plugin name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// Input given to `plugin test` or the API is malformed.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Watching the plugins directory failed.
    #[error("watching {}: {message}", path.display())]
    Watch {
        /// The directory.
        path: PathBuf,
        /// The watcher's message.
        message: String,
    },
    /// The runtime itself failed (engine creation, a blocking task panicked).
    #[error("plugin runtime: {0}")]
    Runtime(String),
}

impl Error {
    /// A short machine-readable reason, used as the `reason` label of the
    /// error counter.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::WrongKind { .. } => "wrong_kind",
            Error::Io { .. } => "io",
            Error::Manifest { .. } | Error::UnsetVariable { .. } => "manifest",
            Error::Compile { .. } => "compile",
            Error::Link { .. } => "link",
            Error::LoadFailed { .. } => "load",
            Error::Timeout { .. } => "timeout",
            Error::MemoryLimit { .. } => "memory_limit",
            Error::Trapped { .. } => "trap",
            Error::OutputTooLarge { .. } => "output_too_large",
            Error::Plugin { .. } => "plugin_error",
            Error::InvalidOutput { .. } => "invalid_output",
            Error::InvalidInput(_) => "invalid_input",
            Error::Watch { .. } => "watch",
            Error::Runtime(_) => "runtime",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
