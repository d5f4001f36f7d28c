//! The check behind the plugin manifest fuzz target, shared with the seed replay test
//! (`host/plugin-runtime/tests/fuzz_seeds.rs`, which includes this file), so that
//! `cargo test` runs every committed seed through exactly what the fuzzer runs.

use std::path::Path;

/// Any text as a plugin manifest: capabilities or an error naming the file, never a panic.
/// `$VAR` expansion sees a fixed environment (`HOST` and `PATH` set, nothing else).
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = |name: &str| match name {
        "HOST" => Some("example.invalid".to_string()),
        "PATH" => Some("/x".to_string()),
        _ => None,
    };
    let path = Path::new("fuzz.toml");
    if let Err(e) = sightline_plugin_runtime::manifest::parse(path, text, &env) {
        let msg = e.to_string();
        assert!(
            msg.contains("fuzz.toml"),
            "{text:?}: error without its file: {msg}"
        );
    }
}
