//! Inputs the fuzzer found, replayed as ordinary tests.

use sightline_template::prometheus::{expand, expand_options};
use sightline_template::{Env, Value};

fn run(text: &str) -> Result<String, String> {
    let env = Env::default();
    expand("t", text, &Value::Nil, &env, expand_options()).map_err(|e| e.to_string())
}

/// The `.ci/fuzz` run of 2026-12-05 (`crash-389bf5bc…`): a width and a precision of
/// thousands of digits in printf verbs.
#[test]
fn huge_printf_width_and_precision() {
    let text = "{{printf \"%7777.5677777777777777777777776777777777777777777'77777777777377777777e|!E|%.|2e%g|%G\" 123456.789 0x000123 1e10 1e21 1e-7}}";
    let _ = run(text);
    // Precisions past what Rust's formatter takes: digits beyond an f64's exact expansion
    // are zeros, as Go prints them.
    let f = run("{{printf \"%.70000f\" 0.5}}").unwrap();
    assert_eq!(f.len(), 70_002);
    assert!(f.starts_with("0.5000") && f.ends_with('0'));
    let e = run("{{printf \"%.70000e\" 0.1}}").unwrap();
    assert!(
        e.starts_with("1.000000000000000055511151231257827"),
        "{}",
        &e[..40]
    );
    assert!(e.ends_with("0e-01"));
}
