//! The generator against Sloth's own generated rules for its examples (vendored under
//! examples/slo/sloth/, Apache-2.0): every rule Sloth writes is generated with the same group,
//! name, labels and (after parsing both) the same expression, except the period ratio, which
//! is ours by design.

use std::collections::BTreeMap;

use super::*;
use crate::file::{GroupSpec, RuleKind};

fn no_templates(_: &str, _: &str) -> std::result::Result<(), String> {
    Ok(())
}

fn normalized(expr: &str) -> String {
    sightline_promql::parse(expr)
        .map(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Sloth's rules by (group, name, severity), with the labels its example generator adds
/// (`cmd`) and the ones that name the generator (`sloth_mode`, `sloth_version`) removed.
type Key = (String, String, String);
type Described = (String, BTreeMap<String, String>, BTreeMap<String, String>);

fn sloth_rules(text: &str) -> BTreeMap<Key, Described> {
    // Sloth writes one rule file document per spec of a multi-document input.
    let groups = text.split("\n---\n").flat_map(|doc| {
        crate::file::parse("gen.yml", doc, &no_templates, false)
            .unwrap()
            .groups
    });
    let mut out = BTreeMap::new();
    for g in groups {
        for r in g.rules {
            let mut labels = r.labels.clone();
            for k in ["cmd", "sloth_mode", "sloth_version"] {
                labels.remove(k);
            }
            let sev = labels.get("sloth_severity").cloned().unwrap_or_default();
            out.insert(
                (g.name.clone(), r.name.clone(), sev),
                (normalized(&r.expr), labels, r.annotations.clone()),
            );
        }
    }
    out
}

fn ours(text: &str) -> Vec<GroupSpec> {
    generate_set(&parse("spec.yml", text).unwrap())
}

fn same_as_sloth(spec: &str, gen: &str) {
    let want = sloth_rules(gen);
    let groups = ours(spec);
    let mut got = BTreeMap::new();
    for g in &groups {
        for r in &g.rules {
            let mut labels = r.labels.clone();
            for k in ["sloth_mode", "sloth_version"] {
                labels.remove(k);
            }
            let sev = labels.get("sloth_severity").cloned().unwrap_or_default();
            got.insert(
                (g.name.clone(), r.name.clone(), sev),
                (normalized(&r.expr), labels, r.annotations.clone()),
            );
        }
    }
    for (k, w) in &want {
        let g = got.get(k).unwrap_or_else(|| panic!("missing {k:?}"));
        if k.1 == "slo:sli_error:ratio_rate30d" {
            // Ours is a ratio of sums of recorded event rates (or, for raw SLIs, Sloth's).
            assert_eq!(g.1, w.1, "{k:?}");
            continue;
        }
        assert_eq!(g, w, "{k:?}");
    }
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    for k in &extra {
        assert!(
            k.1 == EVENTS_ERROR_METRIC || k.1 == EVENTS_TOTAL_METRIC,
            "unexpected rule {k:?}"
        );
    }
}

#[test]
fn getting_started_matches_sloth() {
    same_as_sloth(
        include_str!("../../../../examples/slo/sloth/getting-started.yml"),
        include_str!("../../../../examples/slo/sloth/getting-started.sloth-gen.yml"),
    );
}

#[test]
fn multifile_matches_sloth() {
    same_as_sloth(
        include_str!("../../../../examples/slo/sloth/multifile.yml"),
        include_str!("../../../../examples/slo/sloth/multifile.sloth-gen.yml"),
    );
    // A problem in the second document is reported at its line in the file.
    let text = "version: \"prometheus/v1\"\nservice: a\nslos: []\n---\nversion: \"prometheus/v1\"\nservice: b\nslos:\n  - name: x\n    objective: 0\n    sli: {raw: {error_ratio_query: 'x[{{.window}}]'}}\n    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}\n";
    let e = parse("f.yml", text).unwrap_err();
    assert_eq!(
        e[0].message,
        "f.yml: 9:16: slo \"x\": objective must be in (0, 100], got 0"
    );
}

#[test]
fn kubernetes_apiserver_matches_sloth() {
    same_as_sloth(
        include_str!("../../../../examples/slo/sloth/kubernetes-apiserver.yml"),
        include_str!("../../../../examples/slo/sloth/kubernetes-apiserver.sloth-gen.yml"),
    );
}

#[test]
fn raw_sli_matches_sloth_including_its_period_average() {
    let spec = include_str!("../../../../examples/slo/sloth/raw-home-wifi.yml");
    same_as_sloth(
        spec,
        include_str!("../../../../examples/slo/sloth/raw-home-wifi.sloth-gen.yml"),
    );
    let groups = ours(spec);
    let r = groups[0]
        .rules
        .iter()
        .find(|r| r.name == "slo:sli_error:ratio_rate30d")
        .unwrap();
    assert!(r
        .expr
        .contains("count_over_time(slo:sli_error:ratio_rate5m"));
}

#[test]
fn events_period_ratio_is_a_ratio_of_sums() {
    let groups = ours(include_str!(
        "../../../../examples/slo/sloth/getting-started.yml"
    ));
    let sli = &groups[0];
    assert_eq!(
        sli.name,
        "sloth-slo-sli-recordings-myservice-requests-availability"
    );
    let r = sli
        .rules
        .iter()
        .find(|r| r.name == "slo:sli_error:ratio_rate30d")
        .unwrap();
    assert_eq!(
        r.expr,
        "sum_over_time(slo:sli_events_error:rate5m{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"}[30d])\n/ ignoring (sloth_window)\nsum_over_time(slo:sli_events_total:rate5m{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"}[30d])\n"
    );
    assert_eq!(r.labels["sloth_window"], "30d");
}

#[test]
fn burn_rate_factors_scale_with_the_period() {
    let f = |days: u64| -> Vec<f64> {
        alert_windows(std::time::Duration::from_secs(days * 86_400))
            .iter()
            .map(|w| w.factor)
            .collect()
    };
    assert_eq!(f(30), [14.4, 6.0, 3.0, 1.0]);
    // Sloth's google-28d windows.
    let f28 = f(28);
    assert!(
        (f28[0] - 13.44).abs() < 1e-12 && (f28[1] - 5.6).abs() < 1e-12,
        "{f28:?}"
    );
    assert!((f28[3] - 0.9333333333333333).abs() < 1e-12);
    assert!((f(7)[0] - 3.36).abs() < 1e-12);
}

#[test]
fn detection_by_content() {
    assert_eq!(detect("groups: []\n"), None);
    assert_eq!(
        detect("version: \"prometheus/v1\"\nservice: a\nslos: []\n"),
        Some(SpecFormat::Sloth)
    );
    assert_eq!(
        detect("slos:\n  a: {target: 99%, query: 'avg_over_time(up[1d])'}\n"),
        Some(SpecFormat::Seed)
    );
    assert_eq!(detect("# nothing\n"), None);
    assert_eq!(detect("groups:\n- name: slos\n  rules: []\n"), None);
}

#[test]
fn spec_errors_have_positions() {
    let text = "version: \"prometheus/v1\"\nservice: s\nslos:\n  - name: a\n    objective: 99\n    sli:\n      events:\n        error_query: x\n        total_querry: y\n";
    let e = parse("f.yml", text).unwrap_err();
    assert!(
        e[0].message
            .starts_with("f.yml: 9:9: slos[0].sli.events: unknown field `total_querry`"),
        "{e:?}"
    );
    let text = "version: \"prometheus/v1\"\nservice: s\nslos:\n  - name: a\n    objective: 120\n    sli:\n      events:\n        error_query: sum(rate(e[5m]))\n        total_query: sum(rate(t[{{.window}}]))\n    alerting:\n      page_alert: {disable: true}\n      ticket_alert: {disable: true}\n";
    let e: Vec<String> = parse("f.yml", text)
        .unwrap_err()
        .into_iter()
        .map(|p| p.message)
        .collect();
    assert_eq!(
        e,
        [
            "f.yml: 5:16: slo \"a\": objective must be in (0, 100], got 120",
            "f.yml: 8:22: slo \"a\": sli.events.error_query: query must use the {{.window}} placeholder",
        ]
    );
    // A rule file with an SLO spec is checked through the rule-file parser too.
    let e = crate::file::parse("f.yml", text, &no_templates, false).unwrap_err();
    assert_eq!(e.len(), 2);
}

#[test]
fn the_seed_block_loads_as_a_rule_file() {
    let text = include_str!("../../../../examples/slo/seed-slos.yml");
    let f = crate::file::parse("seed-slos.yml", text, &no_templates, false).unwrap();
    let names: Vec<&str> = f.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names.len(), 9, "{names:?}");
    assert!(
        names.contains(&"sloth-slo-alerts-seed-slos-availability"),
        "{names:?}"
    );
    let alerts: usize = f
        .groups
        .iter()
        .flat_map(|g| &g.rules)
        .filter(|r| r.kind == RuleKind::Alerting)
        .count();
    assert_eq!(alerts, 6);
    let rendered = render_rule_file("seed-slos.yml", &f.groups).unwrap();
    let back = crate::file::parse("out.yml", &rendered, &no_templates, false).unwrap();
    assert_eq!(back.groups, f.groups);
}
