//! Where the engine reads "now" from: a trait so tests (and replays) can drive time.

/// A source of the current time in Unix milliseconds.
pub trait Clock: Send + Sync {
    /// The current time (Unix ms).
    fn now_ms(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}
