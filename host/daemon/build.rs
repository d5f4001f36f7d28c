//! Reads the number of each mimalloc option the daemon sets from the header of the mimalloc
//! that `libmimalloc-sys` compiles (exported to us as `DEP_MIMALLOC_INCLUDE_DIR`). The
//! crate's Rust constants do not name them, and the enum's numbering changes between
//! mimalloc's major versions: taking it from the compiled header keeps the two in step.

use std::path::PathBuf;

/// The options `src/allocator.rs` sets, by their names in `mi_option_t`.
const OPTIONS: &[&str] = &["arena_eager_commit"];

fn main() {
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
