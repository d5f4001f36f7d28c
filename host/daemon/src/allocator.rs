//! The process' allocator: mimalloc, and the one default of it the daemon changes.
//!
//! mimalloc instead of glibc's malloc (issue 21). With glibc, a heavy query spent ≈ 30 % of
//! its CPU in `_int_malloc`, `_int_free`, `unlink_chunk` and `malloc_consolidate`, and the
//! first query after one paid for consolidating the freed chunks (27-67 ms for `up == 0` at
//! one million series). Measured against glibc on the same targets at once: heavy queries
//! 0.35-0.73x the time, ingest CPU 0.95x, RSS a series 1.05x (BENCHMARKS.md, session 16).
//!
//! One of mimalloc's defaults costs a small daemon resident memory it does not use
//! (BENCHMARKS.md, session 17): eager commit of its arenas (5-7 MiB of a 10 k-series
//! daemon's ≈ 50). mimalloc reserves its first arena at the process' first allocation,
//! before `main`, so the option is set from a constructor in `.init_array`, which the loader
//! runs before Rust's runtime allocates anything. The option set in the environment
//! (`MIMALLOC_ARENA_EAGER_COMMIT`) still wins, as mimalloc documents. The purge delay (how
//! long freed pages stay before going back to the system) keeps its default of 1 s: at
//! 100 ms the 10 k-series daemon ended ingest at the same RSS and answered queries ≈ 1.4x
//! slower (geometric mean; pages returned between queries were faulted in again).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(target_os = "linux")]
mod options {
    include!(concat!(env!("OUT_DIR"), "/mimalloc_options.rs"));
}

/// Arenas are committed as they are used, not when reserved.
#[cfg(target_os = "linux")]
const ARENA_EAGER_COMMIT: std::os::raw::c_long = 0;

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
#[used]
#[link_section = ".init_array"]
static CONFIGURE: extern "C" fn() = configure;

/// Sets the daemon's default unless the environment names the option. Runs before `main`
/// and must not allocate: `getenv` with a static name, `mi_option_set` writes a table entry.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
extern "C" fn configure() {
    // SAFETY: `getenv` reads the environment with a NUL-terminated static name; no other
    // thread exists yet, so nothing can modify the environment meanwhile.
    if unsafe { libc::getenv(c"MIMALLOC_ARENA_EAGER_COMMIT".as_ptr()) }.is_null() {
        // SAFETY: the option is a valid `mi_option_t` (build.rs reads its number from the
        // header of the mimalloc this binary links); `mi_option_set` only stores the value.
        unsafe {
            libmimalloc_sys::mi_option_set(options::ARENA_EAGER_COMMIT as _, ARENA_EAGER_COMMIT)
        };
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The constructor ran before the test harness' first allocation and set the option
    /// (unless the test environment names it).
    #[test]
    #[allow(unsafe_code)]
    fn the_constructor_set_the_option() {
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_some() {
            return;
        }
        // SAFETY: reading an option has no preconditions.
        let eager =
            unsafe { libmimalloc_sys::mi_option_get(super::options::ARENA_EAGER_COMMIT as _) };
        assert_eq!(eager, super::ARENA_EAGER_COMMIT);
    }
}
