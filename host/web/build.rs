//! Embeds every file under `ui/`: generates `$OUT_DIR/assets.rs`, a table of
//! `(path relative to ui/, include_bytes!(absolute path))`. Adding a file needs no code
//! change, and nothing is fetched: the files are read from the source tree.

// The crate's clippy.toml forbids blocking filesystem calls because its code runs on async
// workers; a build script runs in cargo, where blocking is the only way.
#![allow(clippy::disallowed_methods)]

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("ui");
    // Cargo scans a directory given here for changes to any file in it, so new and removed
    // files rebuild too; each file is also listed for clarity.
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if root.is_dir() {
        walk(&root, &root, &mut files)?;
    }
    files.sort();
    let mut out = String::from(
        "/// Every file under `ui/` (hidden files excepted), by path relative to it.\n\
         pub(crate) static EMBEDDED: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        println!("cargo:rerun-if-changed={}", abs.display());
        writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )?;
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR")?).join("assets.rs");
    std::fs::write(dest, out)?;
    Ok(())
}

/// Collects regular files, skipping hidden entries and editor leftovers.
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), Box<dyn Error>> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            println!("cargo:warning=skipping a non-UTF-8 file name under ui/");
            continue;
        };
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}
