//! Deeply nested expressions. A query is untrusted input whose syntax tree is as deep as its
//! author likes, and every pass over the tree (parsing, type checks, printing, evaluation) is
//! recursive. Two rules keep any input from overflowing a thread's stack:
//!
//! - the parser rejects an expression nested deeper than [`MAX_DEPTH`] with a `bad_data`
//!   parse error at the token where the limit was crossed (every recursive descent and every
//!   operator of a chain counts one level, so the tree is at most twice that deep);
//! - every recursive walk enters through [`guard`], which continues on a fresh stack segment
//!   on the heap when less than [`RED_ZONE`] bytes are left, so the limit holds on any thread
//!   (a 2 MiB tokio blocking thread as well as the 8 MiB main thread), in debug builds too.
//!
//! Prometheus has no limit (Go's stacks grow to 1 GB); a query nested 1,000 levels deep in
//! any of its shapes is answered as Prometheus answers it.

/// The deepest nesting the parser accepts.
pub const MAX_DEPTH: usize = 4096;

/// Stack that must be left before a recursive step runs on the current segment.
pub(crate) const RED_ZONE: usize = 128 * 1024;

/// Size of each stack segment allocated when the current one runs low.
const SEGMENT: usize = 4 * 1024 * 1024;

/// Runs `f`, first moving to a new stack segment if the current one is nearly used up.
#[inline]
pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
