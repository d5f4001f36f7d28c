//! Shared helpers of Sightline's integration tests: building the wasm guests
//! (`tests/guests`), first-party plugins (`plugins/`) and examples (`examples/`) once per
//! test binary, each workspace with its own target directory, and installing a component
//! into a plugins directory the way users should (copy, then rename); and [`chromium`], the
//! headless Chromium driver of the web UI tests.

// Test support panics on purpose: a failed setup step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod chromium;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file or folder of the test material vendored under `tests/` (conformance suites in
/// `tests/conformance`, the seed in `tests/seed`, peer tools in `tests/tools`; see
/// `tests/conformance/README.md`), e.g. `vendored("conformance/promql")`. Tests read only
/// these copies, so a clone of the repository alone runs every suite.
pub fn vendored(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    assert!(
        p.exists(),
        "vendored test material missing at {} (it is committed under tests/)",
        p.display()
    );
    p
}

fn ensure_target() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output();
        let has = installed
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.trim() == "wasm32-wasip2")
            })
            .unwrap_or(true);
        if !has {
            let st = Command::new("rustup")
                .args(["target", "add", "wasm32-wasip2"])
                .status()
                .expect("running rustup");
            assert!(st.success(), "rustup target add wasm32-wasip2 failed");
        }
    });
}

fn cargo_build(workspace: &Path) -> PathBuf {
    ensure_target();
    let target_dir = workspace.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("running cargo to build wasm guests");
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        workspace.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join("wasm32-wasip2/release")
}

/// Path of a built test guest (`tests/guests/<name>`).
pub fn guest(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| cargo_build(&repo_root().join("tests/guests")));
    let p = dir.join(format!("{}.wasm", name.replace('-', "_")));
    assert!(p.exists(), "guest {name} was not built at {}", p.display());
    p
}

/// Path of a built first-party plugin (`plugins/<name>`).
pub fn first_party(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| cargo_build(&repo_root().join("plugins")));
    let p = dir.join(format!("{}.wasm", name.replace('-', "_")));
    assert!(p.exists(), "plugin {name} was not built at {}", p.display());
    p
}

/// Path of a built example (`examples/<name>`).
pub fn example(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| cargo_build(&repo_root().join("examples")));
    let p = dir.join(format!("{}.wasm", name.replace('-', "_")));
    assert!(
        p.exists(),
        "example {name} was not built at {}",
        p.display()
    );
    p
}

/// Installs `wasm` as `<dir>/<name>.wasm` atomically (copy + rename), with
/// an optional manifest written first.
pub fn install(dir: &Path, name: &str, wasm: &Path, toml: Option<&str>) {
    if let Some(t) = toml {
        std::fs::write(dir.join(format!("{name}.toml")), t).unwrap();
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(wasm, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join(format!("{name}.wasm"))).unwrap();
}

/// Runs `check` on every file of `seeds` (a fuzz target's committed seeds) and returns how
/// many there were; fails naming every seed on which `check` panicked. The library tests
/// `tests/fuzz_seeds.rs` replay the fuzz targets' inputs through the targets' own checks.
pub fn replay_seeds(seeds: &Path, check: fn(&[u8])) -> usize {
    let mut failed = Vec::new();
    let mut n = 0;
    for entry in std::fs::read_dir(seeds).unwrap_or_else(|e| panic!("{}: {e}", seeds.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        n += 1;
        let run = std::panic::AssertUnwindSafe(|| check(&data));
        if std::panic::catch_unwind(run).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "seeds that panic: {failed:#?}");
    n
}

/// One HTTP/1.1 exchange over loopback without keep-alive: status, response head (status
/// line and headers) and body (de-chunked). `timeout` bounds each read and write.
pub fn http_exchange(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: std::time::Duration,
) -> std::io::Result<(u16, String, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let code = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((code, head.to_string(), body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
