//! Two jobs:
//! - Reads the number of each mimalloc option the daemon sets from the header of the mimalloc
//!   that `libmimalloc-sys` compiles (exported to us as `DEP_MIMALLOC_INCLUDE_DIR`). The
//!   crate's Rust constants do not name them, and the enum's numbering changes between
//!   mimalloc's major versions: taking it from the compiled header keeps the two in step.
//! - Hands the linker `link/symbol-order.txt`, the functions a running daemon executes, so
//!   they are laid out next to each other, and a linker script that finds those whose names
//!   hash the checkout's path wherever it is built (see [`link_order`]).

use std::path::PathBuf;

/// The options `src/allocator.rs` sets, by their names in `mi_option_t`.
const OPTIONS: &[&str] = &["arena_eager_commit"];

fn main() {
    link_order();
    if let Err(e) = run() {
        eprintln!("sightline-daemon build script: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    println!("cargo:rerun-if-env-changed=DEP_MIMALLOC_INCLUDE_DIR");
    let dir = std::env::var("DEP_MIMALLOC_INCLUDE_DIR").map_err(|_| {
        "DEP_MIMALLOC_INCLUDE_DIR is not set (libmimalloc-sys exports it: links = \"mimalloc\")"
            .to_string()
    })?;
    let header = PathBuf::from(dir).join("mimalloc.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let text = std::fs::read_to_string(&header)
        .map_err(|e| format!("reading {}: {e}", header.display()))?;
    let numbers = option_numbers(&text)?;
    let mut out = String::new();
    for name in OPTIONS {
        let n = numbers
            .iter()
            .position(|o| o == &format!("mi_option_{name}"))
            .ok_or_else(|| format!("{} has no option `{name}`", header.display()))?;
        out.push_str(&format!(
            "/// `mi_option_{name}` in the compiled mimalloc.\npub(crate) const {}: i32 = {n};\n",
            name.to_uppercase()
        ));
    }
    let out_dir = std::env::var("OUT_DIR").map_err(|_| "OUT_DIR is not set".to_string())?;
    let dest = PathBuf::from(out_dir).join("mimalloc_options.rs");
    std::fs::write(&dest, out).map_err(|e| format!("writing {}: {e}", dest.display()))
}

/// Passes `link/symbol-order.txt` to the linker for the release `sightline` binary.
///
/// The kernel maps a binary's code into a process a page at a time, and around each page a
/// fault touches it maps up to 64 KiB more that are already in the page cache; all of it
/// counts in RSS. Without an order the ≈ 4 MiB of functions a daemon runs are spread over
/// the 30 MiB of text (wasmtime, cranelift, every command and format), and a 10 k-series
/// daemon had 17 MiB of it resident. The file lists the functions executed in a profiled
/// run (`tests/bench/link-order.py` regenerates it), hottest first; LLD places them first in
/// `.text`. Names that no longer exist are skipped, so a stale file costs only the saving.
///
/// One kind of name cannot be matched exactly: a local function that ThinLTO promotes (to
/// call it from another codegen unit) is renamed `<name>.llvm.<hash>`, a hash of the compiled
/// module, and those hashes differ from build to build: a clone built in another directory
/// missed 544 of the 5,359 names and kept half the saving (the module holds the checkout's
/// and `CARGO_HOME`'s paths, the likely cause; an edit to the module changes it too). So those names also go
/// to a linker script, [`HOT_SCRIPT`], as section patterns with the hash replaced by `*`
/// (each function has its own `.text.<name>` section): they gather in an output section
/// `.text.hot` placed just before `.text`, where the order file still sorts the exact names
/// it finds. The script's patterns cost about 1.5 s of link time (LLD scans every input
/// section for each), which is why the other names stay in the order file (as script
/// patterns, the 5,359 took 24 s).
///
/// Only for the target whose default linker is LLD (`x86_64-unknown-linux-gnu` since Rust
/// 1.90), when no other linker is configured; `SIGHTLINE_LINK_ORDER=0` turns it off.
fn link_order() {
    let file = "link/symbol-order.txt";
    println!("cargo:rerun-if-changed={file}");
    println!("cargo:rerun-if-env-changed=SIGHTLINE_LINK_ORDER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let lld_by_default = var("TARGET") == "x86_64-unknown-linux-gnu"
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !var("CARGO_ENCODED_RUSTFLAGS").contains("link");
    if var("PROFILE") != "release" || !lld_by_default || var("SIGHTLINE_LINK_ORDER") == "0" {
        return;
    }
    let path = PathBuf::from(var("CARGO_MANIFEST_DIR")).join(file);
    let Ok(names) = std::fs::read_to_string(&path) else {
        return;
    };
    // The linker's `-Wl,` splits its argument at commas.
    let usable = |p: &std::path::Path| !p.to_string_lossy().contains(',');
    // The linker reads a copy in `OUT_DIR`, not the checkout's file: cargo reuses this
    // script's output while `symbol-order.txt` is unchanged, and a checkout that shares the
    // target directory (a worktree built for an A/B) would otherwise leave its own absolute
    // path here, which fails the link once that checkout is gone.
    let out_dir = PathBuf::from(var("OUT_DIR"));
    let order = out_dir.join(ORDER_FILE);
    if !usable(&order) || std::fs::write(&order, &names).is_err() {
        return;
    }
    println!(
        "cargo:rustc-link-arg-bin=sightline=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    println!("cargo:rustc-link-arg-bin=sightline=-Wl,--no-warn-symbol-ordering");
    let script = out_dir.join(HOT_SCRIPT);
    if let Some(text) = hot_script(&names) {
        if usable(&script) && std::fs::write(&script, text).is_ok() {
            println!(
                "cargo:rustc-link-arg-bin=sightline=-Wl,-T,{}",
                script.display()
            );
        }
    }
}

/// Whether a mangled name (`[A-Za-z0-9_$.]`) can be a linker-script pattern as it is:
/// anything else would need quoting, and a quoted pattern is not a glob.
fn plain_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
}

/// The copy of `link/symbol-order.txt` [`link_order`] writes to `OUT_DIR` for the linker.
const ORDER_FILE: &str = "symbol-order.txt";

/// The linker script [`link_order`] writes to `OUT_DIR`.
const HOT_SCRIPT: &str = "hot-text.ld";

/// A linker script that gathers the sections of the listed functions whose names carry a
/// `.llvm.<hash>` suffix, whatever the hash, in `.text.hot` before `.text`; `None` when the
/// list has none.
fn hot_script(names: &str) -> Option<String> {
    let mut patterns = Vec::new();
    for name in names.lines().map(str::trim) {
        let Some((base, hash)) = name.rsplit_once(".llvm.") else {
            continue;
        };
        if plain_symbol(base) && hash.bytes().all(|b| b.is_ascii_digit()) {
            patterns.push(format!(
                "      .text.{base}.llvm.* .text.unlikely.{base}.llvm.*\n"
            ));
        }
    }
    if patterns.is_empty() {
        return None;
    }
    Some(format!(
        "/* Written by host/daemon/build.rs from link/symbol-order.txt. */\n\
         SECTIONS {{\n  .text.hot : {{\n    *(\n{}    )\n  }}\n}}\nINSERT BEFORE .text;\n",
        patterns.concat()
    ))
}

/// The enumerators of `mi_option_t` in order, up to `_mi_option_last` (the aliases after
/// it carry explicit values and are not options of their own).
fn option_numbers(header: &str) -> Result<Vec<String>, String> {
    let missing = || "mimalloc.h has no `typedef enum mi_option_e { ... }`".to_string();
    let start = header
        .find("typedef enum mi_option_e")
        .ok_or_else(missing)?;
    let body = &header[start..];
    let open = body.find('{').ok_or_else(missing)?;
    let close = body.find('}').ok_or_else(missing)?;
    let body = &body[open + 1..close];
    let mut names = Vec::new();
    for line in body.lines() {
        let code = line.split("//").next().unwrap_or("");
        for item in code.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if item == "_mi_option_last" {
                return Ok(names);
            }
            // Only plain enumerators are counted; one with `=` would reset the numbering.
            if item.contains('=') {
                return Err(format!("an explicit value before _mi_option_last: {item}"));
            }
            names.push(item.to_string());
        }
    }
    Err("mimalloc.h's mi_option_t has no _mi_option_last".to_string())
}

#[cfg(test)]
mod tests {
    use super::hot_script;

    #[test]
    fn the_hot_script_globs_the_hash_of_promoted_names_only() {
        let list = "_ZN3foo3bar17h0123456789abcdefE\n\
                    _ZN3foo3baz17hfedcba9876543210E.llvm.123456\n\
                    (below main)\n\
                    _ZN1a6$LT$b$GT$1c17h00E.llvm.42\n\
                    bad name.llvm.1\n\
                    _ZN1x17h11E.llvm.12ab\n";
        let s = hot_script(list).expect("two names carry a hash");
        assert!(s.contains(
            "      .text._ZN3foo3baz17hfedcba9876543210E.llvm.* \
             .text.unlikely._ZN3foo3baz17hfedcba9876543210E.llvm.*\n"
        ));
        assert!(s.contains(".text._ZN1a6$LT$b$GT$1c17h00E.llvm.* "));
        assert_eq!(s.matches(".llvm.*").count(), 4, "{s}");
        assert!(
            !s.contains("_ZN3foo3bar"),
            "an exact name stays in the order file"
        );
        assert!(s.contains("SECTIONS {\n  .text.hot : {\n    *(\n"));
        assert!(s.ends_with("    )\n  }\n}\nINSERT BEFORE .text;\n"));
        assert_eq!(hot_script("_ZN3foo3bar17h0123456789abcdefE\n"), None);
    }
}
