//! The checks behind the config fuzz targets, shared with the seed replay test
//! (`host/config/tests/fuzz_seeds.rs`, which includes this file), so that `cargo test`
//! runs every committed seed through exactly what the fuzzer runs.

/// Any text as prometheus.yml: a config or an error located in the file, never a panic;
/// whatever loads prints its redacted YAML.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match sightline_config::load_str(text, "fuzz.yml") {
        Ok(cfg) => {
            let out = cfg.redacted_yaml();
            assert!(
                !out.starts_with("<error"),
                "{text:?} loads but prints {out}"
            );
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("fuzz.yml"),
                "{text:?}: error without its file: {msg}"
            );
        }
    }
}

/// Any text as a web configuration (`--web.config.file`): a config or an error, never a
/// panic.
pub fn web_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sightline_config::web::parse_web_config(text, "web.yml");
}
