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
    /// The guest tried to grow its memory while all plugin instances together were at the
    /// daemon's ceiling (`--plugins.memory-ceiling`).
    #[error("plugin {name:?} could not grow its memory: plugin instances together are at the daemon's ceiling --plugins.memory-ceiling={ceiling_bytes} bytes")]
    MemoryCeiling {
        /// Plugin name.
        name: String,
        /// The ceiling.
        ceiling_bytes: u64,
    },
    /// The plugin already runs its `limits.concurrency` calls, and this call could not start
    /// within its time limit. The plugin's own error.
    #[error("plugin {name:?} is busy: {concurrency} calls already running and none finished within the time limit of {limit:?}")]
    Busy {
        /// Plugin name.
        name: String,
        /// Its concurrency limit.
        concurrency: u32,
        /// The call's time limit.
        limit: Duration,
    },
    /// Every instance slot of the runtime was taken (by other plugins) for the whole of
    /// this call's time limit. Not the plugin's fault: counted apart from its errors.
    #[error("plugin {name:?} could not start: every plugin instance slot of the daemon is in use")]
    HostBusy {
        /// Plugin name.
        name: String,
    },
    /// Another plugin (or PromQL's built-ins) already holds the query-function name or
    /// dashboard uid this plugin declares; the plugin that arrives second is refused.
    #[error("plugin {name:?} declares {what}, which {holder} already holds; refused")]
    Conflict {
        /// Plugin name.
        name: String,
        /// What it declares, e.g. `query function "rate"`.
        what: String,
        /// Who holds it, e.g. `plugin "a"`.
        holder: String,
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
    /// A contract 0.2 receiver's `retryable` failure: worth another attempt, not before
    /// `retry_after` when it is set.
    #[error("plugin {name:?} failed (retryable): {message}")]
    Retryable {
        /// Plugin name.
        name: String,
        /// The plugin's message (escaped and bounded).
        message: String,
        /// The least wait before the next attempt the plugin asked for.
        retry_after: Option<Duration>,
    },

    /// A contract 0.2 receiver's `permanent` failure: retrying cannot help.
    #[error("plugin {name:?} failed permanently: {message}")]
    Permanent {
        /// Plugin name.
        name: String,
        /// The plugin's message (escaped and bounded).
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
            Error::MemoryLimit { .. } | Error::MemoryCeiling { .. } => "memory_limit",
            Error::Busy { .. } => "busy",
            Error::HostBusy { .. } => "host_busy",
            Error::Conflict { .. } => "conflict",
            Error::Trapped { .. } => "trap",
            Error::OutputTooLarge { .. } => "output_too_large",
            Error::Plugin { .. } | Error::Retryable { .. } | Error::Permanent { .. } => {
                "plugin_error"
            }
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
