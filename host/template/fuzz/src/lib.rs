//! The check behind the template fuzz target, shared with the seed replay test
//! (`host/template/tests/fuzz_seeds.rs`, which includes this file), so that `cargo test`
//! runs every committed seed through exactly what the fuzzer runs.

use std::sync::{Arc, OnceLock};

use sightline_template::{alertmanager, prometheus, Env, Options, Template, Value};

/// Any text: parsing with each function map gives templates or errors, never a panic, and
/// whatever parses runs to output or an error within small limits.
pub fn parse_execute(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Options {
        max_steps: 20_000,
        max_output_bytes: 64 * 1024,
        max_call_depth: 64,
        ..Options::default()
    };
    let dot = Value::map([
        (
            "A",
            Value::from(vec![Value::Int(1), Value::from("two"), Value::Float(0.5)]),
        ),
        ("B", Value::str_map([("alertname", "X"), ("job", "node")])),
        ("C", Value::Nil),
    ]);
    for funcs in [prometheus::funcs(), alertmanager::funcs()] {
        let mut t = Template::new("fuzz", Arc::clone(&funcs)).with_options(limits.clone());
        if t.parse(text).is_ok() {
            let _ = t.execute(&dot, &Env::default());
        }
    }
    // Alertmanager's default templates, parsed once, with the input run over them.
    static SET: OnceLock<Option<Template>> = OnceLock::new();
    if let Some(set) = SET.get_or_init(|| alertmanager::from_texts(&[], limits).ok()) {
        let _ = alertmanager::execute_text_string(set, text, &dot);
    }
}
