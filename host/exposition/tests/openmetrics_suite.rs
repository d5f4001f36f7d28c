//! Runs the OpenMetrics peer suite (`tests/conformance/openmetrics/testdata/parsers`): every
//! case's file must parse completely when `shouldParse` is true and must yield an error
//! otherwise.

use std::path::PathBuf;

use sightline_exposition::{parse, Format};

fn suite_dir() -> PathBuf {
    sightline_tests::vendored("conformance/openmetrics/testdata/parsers")
}

/// Parses `buf` fully; the first error, if any.
fn outcome(buf: &[u8]) -> Result<usize, String> {
    let mut n = 0;
    for e in parse(buf, Format::OpenMetrics) {
        e.map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n)
}

#[test]
fn conformance_openmetrics_suite() {
    let dir = suite_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "OpenMetrics conformance suite missing at {}: {e}",
            dir.display()
        );
    });
    let mut cases: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());

    let mut passed = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let spec = std::fs::read_to_string(case.join("test.json")).expect("test.json readable");
        let spec: serde_json::Value = serde_json::from_str(&spec).expect("test.json is JSON");
        assert_eq!(spec["type"], "text", "{name}: only text cases are expected");
        let file = spec["file"].as_str().expect("file field");
        let should_parse = spec["shouldParse"].as_bool().expect("shouldParse field");
        let input = std::fs::read(case.join(file)).expect("case input readable");
        let got = outcome(&input);
        match (should_parse, &got) {
            (true, Ok(_)) => passed += 1,
            (false, Err(e)) => {
                if std::env::var_os("OM_SUITE_VERBOSE").is_some() {
                    println!("ok {name}: {e}");
                }
                passed += 1;
            }
            (true, Err(e)) => failures.push(format!("{name}: should parse, got error {e}")),
            (false, Ok(n)) => failures.push(format!("{name}: should fail, parsed {n} entries")),
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    println!("openmetrics-suite: {passed}/{} passed", cases.len());
    assert_eq!(cases.len(), 211, "the suite is expected to hold 211 cases");
    assert_eq!(
        passed,
        cases.len(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}
