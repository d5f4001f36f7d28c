//! Data-driven relabeling tests: cases from Prometheus' relabel_test.go in testdata.

use std::collections::BTreeMap;

use serde::Deserialize;
use sightline_config::{relabel, RelabelConfig};
use sightline_model::Labels;

#[derive(Deserialize)]
struct Case {
    name: String,
    input: BTreeMap<String, String>,
    relabel: Vec<RelabelConfig>,
    #[serde(default)]
    output: Option<BTreeMap<String, String>>,
    #[serde(default)]
    drop: bool,
}

fn labels(m: &BTreeMap<String, String>) -> Labels {
    Labels::from_pairs(m.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[test]
fn prometheus_relabel_cases() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/relabel-cases.yml");
    let src = std::fs::read_to_string(path).expect("relabel cases present");
    let cases: Vec<Case> = serde_yaml::from_str(&src).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failed = Vec::new();
    for c in &cases {
        let got = relabel(&labels(&c.input), &c.relabel);
        let want = if c.drop {
            None
        } else {
            Some(labels(c.output.as_ref().expect("output or drop")))
        };
        if got != want {
            failed.push(format!("{}: got {got:?}, want {want:?}", c.name));
        }
    }
    println!(
        "relabel cases: {} passed, {} failed",
        cases.len() - failed.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
}

/// Prometheus' TestRelabelValidate plus the other rules of `relabel.Config.Validate`.
#[test]
fn relabel_validation() {
    let cases: &[(&str, Option<&str>)] = &[
        ("action: replace", Some("relabel configuration for replace action requires 'target_label' value")),
        ("action: lowercase", Some("requires 'target_label' value")),
        ("{action: lowercase, target_label: '${3}'}", None),
        ("{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '${3}'}", None),
        ("{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '0${3}'}", None /* valid under UTF-8 names, Prometheus 3's default */),
        ("{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '-${3}'}", None),
        ("{action: hashmod, target_label: x}", Some("relabel configuration for hashmod requires non-zero modulus")),
        ("{action: hashmod, target_label: '', modulus: 2}", Some("relabel configuration for hashmod action requires 'target_label' value")),
        ("{action: labeldrop, regex: a, source_labels: [b]}", Some("labeldrop action requires only 'regex', and no other fields")),
        ("{action: labelkeep, regex: a, replacement: x}", Some("labelkeep action requires only 'regex', and no other fields")),
        ("{action: keepequal, source_labels: [a], target_label: b, regex: x}", Some("keepequal action requires only 'source_labels' and `target_label`, and no other fields")),
        ("{action: dropequal, source_labels: [a], target_label: b, replacement: x}", Some("'replacement' can not be set for dropequal action")),
        ("{action: uppercase, source_labels: [a], target_label: b, replacement: x}", Some("'replacement' can not be set for uppercase action")),
        ("{action: labelmap, regex: a, replacement: ''}", Some(r#""" is invalid 'replacement' for labelmap action"#)),
        ("{action: bogus}", Some(r#"unknown relabel action "bogus""#)),
        ("{regex: '(', target_label: a}", Some("error parsing regexp")),
        ("{source_labels: [''], target_label: a}", Some(r#""" is not a valid label name"#)),
        ("{source_labels: ['a-b'], target_label: 'c.d'}", None),
        ("{target_label: a, unknown: 1}", Some("unknown field `unknown`")),
        ("{action: labelmap, regex: 'a(.*)', replacement: 'b_$1'}", None),
        ("{action: keepequal, source_labels: [a], target_label: b}", None),
    ];
    for (yaml, want) in cases {
        let got = serde_yaml::from_str::<RelabelConfig>(yaml);
        match (got, want) {
            (Ok(_), None) => {}
            (Err(e), Some(w)) => {
                assert!(e.to_string().contains(w), "{yaml}: error {e} lacks {w:?}")
            }
            (Ok(c), Some(w)) => panic!("{yaml}: accepted as {c:?}, want error {w:?}"),
            (Err(e), None) => panic!("{yaml}: rejected: {e}"),
        }
    }
}

#[test]
fn relabel_defaults() {
    let c: RelabelConfig = serde_yaml::from_str("target_label: x").unwrap();
    assert_eq!(
        c,
        RelabelConfig {
            target_label: "x".into(),
            ..RelabelConfig::default()
        }
    );
    assert_eq!(c.separator, ";");
    assert_eq!(c.regex.as_str(), "(.*)");
    assert_eq!(c.replacement, "$1");
    assert_eq!(c.action, sightline_config::Action::Replace);
    assert!(c.source_labels.is_empty());
    assert_eq!(c.modulus, 0);
}

/// Under `metric_name_validation_scheme: legacy` the legacy label name rules apply, located at
/// the offending rule (TestRelabelValidate's legacy cases).
#[test]
fn legacy_name_validation() {
    let cases: &[(&str, &str)] = &[
        (
            "target_label: '0${3}'\n        regex: 'some-([^-]+)-([^,]+)'",
            r#""0${3}" is invalid 'target_label' for replace action"#,
        ),
        (
            "target_label: '-${3}'",
            r#""-${3}" is invalid 'target_label' for replace action"#,
        ),
        (
            "target_label: 'a-b'",
            r#""a-b" is invalid 'target_label' for replace action"#,
        ),
        (
            "{action: hashmod, target_label: '${1}', modulus: 2}",
            r#""${1}" is invalid 'target_label' for hashmod action"#,
        ),
        (
            "{action: labelmap, regex: a, replacement: '-x'}",
            r#""-x" is invalid 'replacement' for labelmap action"#,
        ),
        (
            "{action: lowercase, target_label: '${3}'}",
            r#""${3}" is invalid 'target_label' for lowercase action"#,
        ),
    ];
    for (rule, want) in cases {
        let src = format!(
            "global:\n  metric_name_validation_scheme: legacy\nscrape_configs:\n  - job_name: j\n    relabel_configs:\n      - {rule}\n"
        );
        let e = sightline_config::load_str(&src, "l.yml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("l.yml:6:9: ") && e.contains(want),
            "{rule}: {e}"
        );
        // The same rule is valid with UTF-8 names.
        let utf8 = src.replace(
            "metric_name_validation_scheme: legacy",
            "metric_name_validation_scheme: utf8",
        );
        sightline_config::load_str(&utf8, "u.yml").unwrap_or_else(|e| panic!("{rule}: {e}"));
    }
}

/// The engine writes UTF-8 target labels under UTF-8 names and skips them under legacy names.
#[test]
fn engine_target_validity_follows_the_scheme() {
    let mut cfg: RelabelConfig = serde_yaml::from_str(
        "{source_labels: [a], regex: '(.*)', target_label: 'x-$1', replacement: v}",
    )
    .unwrap();
    let input = labels(&BTreeMap::from([("a".to_string(), "y".to_string())]));
    let out = relabel(&input, std::slice::from_ref(&cfg)).unwrap();
    assert_eq!(out.get("x-y"), Some("v"));
    cfg.name_validation = sightline_config::NameValidation::Legacy;
    assert_eq!(relabel(&input, &[cfg]).unwrap(), input);
}
