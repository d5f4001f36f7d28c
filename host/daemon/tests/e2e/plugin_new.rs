//! `sightline plugin new KIND NAME` writes a plugin crate for each kind that builds for
//! `wasm32-wasip2` offline as written and loads and runs in `sightline plugin test`.

use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sightline");

/// Runs `cmd` to completion within `secs`, returning (success, stdout, stderr).
fn run(cmd: &mut Command, secs: u64) -> (bool, String, String) {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish in {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn plugin_new_scaffolds_a_buildable_plugin_of_each_kind() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    // The first-party plugins' target directory (./dev test builds them first): the
    // scaffolds' dependencies are the same crates at the same versions (the lock file below),
    // so cargo reuses them instead of building wit-bindgen and the SDK again for each run.
    let target =
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/target"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let kinds = [
        ("exporter", "my-exporter"),
        ("receiver", "my-receiver"),
        ("query-function", "my-query-function"),
        ("dashboard", "my-dashboard"),
    ];
    for (kind, name) in kinds {
        let dir = tmp.path().join(name);
        let (ok, out, err) = run(
            Command::new(BIN)
                .args(["plugin", "new", kind, name, "--dir"])
                .arg(&dir),
            30,
        );
        assert!(ok, "plugin new {kind}: {out}{err}");
        for f in ["Cargo.toml", "src/lib.rs", "README.md"] {
            assert!(dir.join(f).is_file(), "{kind}: {f}");
        }
        assert!(dir.join(format!("{name}.toml")).is_file());
        // The first-party plugins' lock file pins versions the registry cache holds, so the
        // offline build resolves without surprises (cargo drops what the crate does not use).
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/Cargo.lock"),
            dir.join("Cargo.lock"),
        )
        .unwrap();
        let (ok, _, err) = run(
            Command::new(&cargo)
                .args([
                    "build",
                    "--release",
                    "--target",
                    "wasm32-wasip2",
                    "--offline",
                ])
                .env("CARGO_TARGET_DIR", &target)
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .env_remove("CARGO_BUILD_TARGET")
                .current_dir(&dir),
            240,
        );
        assert!(ok, "building the {kind} scaffold failed:\n{err}");
    }
    // A name that is not a crate name, and an existing non-empty directory, are refused.
    let (ok, _, err) = run(
        Command::new(BIN).args(["plugin", "new", "exporter", "Bad_Name"]),
        30,
    );
    assert!(!ok && err.contains("invalid name"), "{err}");
    let (ok, _, err) = run(
        Command::new(BIN)
            .args(["plugin", "new", "exporter", "again", "--dir"])
            .arg(tmp.path().join("my-exporter")),
        30,
    );
    assert!(!ok && err.contains("not empty"), "{err}");

    let release = target.join("wasm32-wasip2/release");
    let xdg = tmp.path().join("xdg");
    let plugin_test = |name: &str, extra: &[&str]| {
        let dir = tmp.path().join(name);
        // The manifest beside the component grants its capabilities.
        let wasm = dir.join(format!("{name}.wasm"));
        std::fs::copy(
            release.join(format!("{}.wasm", name.replace('-', "_"))),
            &wasm,
        )
        .unwrap();
        run(
            Command::new(BIN)
                .args(["plugin", "test"])
                .arg(&wasm)
                .args(extra)
                .env("XDG_CACHE_HOME", &xdg)
                .current_dir(&dir),
            60,
        )
    };
    let (ok, out, err) = plugin_test("my-exporter", &[]);
    assert!(ok && out.contains("my_exporter_up"), "exporter: {out}{err}");
    let (ok, out, err) = plugin_test("my-dashboard", &[]);
    assert!(ok && out.contains("my-dashboard"), "dashboard: {out}{err}");
    let (ok, out, err) = plugin_test("my-query-function", &["--input", "args.json"]);
    assert!(ok && out.contains("42"), "query function: {out}{err}");
    let (ok, out, err) = plugin_test(
        "my-receiver",
        &[
            "--input",
            "group.json",
            "--config",
            "url=http://127.0.0.1:9/hook",
        ],
    );
    // The receiver ran: either its request was recorded, or (when `plugin test` hands a
    // 0.2 receiver no settings) it failed with its own message about the missing `url`.
    assert!(
        (ok && out.contains("127.0.0.1:9/hook")) || err.contains("setting `url`: is required"),
        "receiver: {out}{err}"
    );
    println!(
        "plugin new: 4 kinds scaffolded, built offline and run in plugin test in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
