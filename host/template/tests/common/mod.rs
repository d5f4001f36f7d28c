//! Shared helpers for the data-driven template tests.
#![allow(dead_code)]

use std::sync::Arc;

use sightline_template::{Env, FuncMap, Template, Value};

/// Parses and executes `text` with Go's builtins on `data`.
pub(crate) fn run(text: &str, data: &Value) -> Result<String, String> {
    run_with(text, data, Arc::new(FuncMap::builtins()))
}

pub(crate) fn run_with(text: &str, data: &Value, funcs: Arc<FuncMap>) -> Result<String, String> {
    let mut t = Template::new("test", funcs);
    t.parse(text).map_err(|e| e.to_string())?;
    t.execute(data, &Env::default()).map_err(|e| e.to_string())
}

/// One case: the template, and the output it must give (`Err(fragment)` for an error whose
/// message contains the fragment).
pub(crate) fn check(text: &str, data: &Value, want: Result<&str, &str>) {
    let got = run(text, data);
    compare(text, got, want);
}

pub(crate) fn compare(text: &str, got: Result<String, String>, want: Result<&str, &str>) {
    match (&got, want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w, "template {text:?}"),
        (Err(g), Err(w)) => assert!(g.contains(w), "template {text:?}: error {g:?} lacks {w:?}"),
        _ => panic!("template {text:?}: got {got:?}, want {want:?}"),
    }
}

pub(crate) fn ints(items: &[i64]) -> Value {
    Value::from(items.iter().map(|&i| Value::Int(i)).collect::<Vec<_>>())
}
