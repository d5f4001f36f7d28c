//! Alertmanager's templates on a sample notification.
//!
//! The expected texts are derived by hand from the vendored `default.tmpl` and Alertmanager's
//! template/template.go (v0.25.0): `Data` builds the common labels as the intersection of the
//! alerts' label sets, `KV.SortedPairs` puts `alertname` first and sorts the rest, `Remove`
//! drops the named keys, `Alerts.Firing`/`Resolved` filter by status, the receiver goes through
//! `regexp.QuoteMeta`, and templates run with `missingkey=zero`. Trim markers in default.tmpl
//! (`-}}`, `{{-`) are applied as text/template applies them.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use sightline_template::alertmanager::{self, Alert, Data};
use sightline_template::{Options, Time};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn alert(instance: &str, status: &str, severity: &str) -> Alert {
    Alert {
        status: status.to_string(),
        labels: labels(&[
            ("alertname", "ServiceDown"),
            ("instance", instance),
            ("job", "node"),
            ("severity", severity),
        ]),
        annotations: labels(&[("summary", &format!("{instance} down"))]),
        // 2024-01-02 03:04:05 UTC.
        starts_at: Time::from_unix_millis(1_704_164_645_000),
        ends_at: Time::zero(),
        generator_url: format!("http://prom:9090/graph?{instance}"),
        fingerprint: "0123456789abcdef".to_string(),
    }
}

fn sample() -> Data {
    Data::new(
        "team-X",
        labels(&[("alertname", "ServiceDown")]),
        vec![
            alert("web-1", "firing", "page"),
            alert("web-2", "firing", "page"),
            alert("web-3", "resolved", "page"),
        ],
        "http://am.example:9093",
    )
}

fn render(name: &str, data: &Data) -> String {
    let set = alertmanager::from_texts(&[], Options::default()).unwrap();
    alertmanager::execute_text_string(
        &set,
        &format!("{{{{ template \"{name}\" . }}}}"),
        &data.to_value(),
    )
    .unwrap()
}

fn list(instance: &str) -> String {
    format!(
        "Labels:\n - alertname = ServiceDown\n - instance = {instance}\n - job = node\n - severity = page\nAnnotations:\n - summary = {instance} down\nSource: http://prom:9090/graph?{instance}\n"
    )
}

#[test]
fn data_is_built_as_alertmanager_builds_it() {
    let d = sample();
    assert_eq!(d.status, "firing");
    assert_eq!(
        d.common_labels,
        labels(&[
            ("alertname", "ServiceDown"),
            ("job", "node"),
            ("severity", "page")
        ])
    );
    assert!(d.common_annotations.is_empty());
    assert_eq!(
        Data::new("a.b(c)", BTreeMap::new(), vec![], "").receiver,
        "a\\.b\\(c\\)"
    );
}

#[test]
fn slack_defaults() {
    let d = sample();
    assert_eq!(
        render("slack.default.title", &d),
        "[FIRING:2] ServiceDown (node page)"
    );
    assert_eq!(render("slack.default.username", &d), "Alertmanager");
    assert_eq!(
        render("slack.default.titlelink", &d),
        "http://am.example:9093/#/alerts?receiver=team-X"
    );
    assert_eq!(
        render("slack.default.fallback", &d),
        "[FIRING:2] ServiceDown (node page) | http://am.example:9093/#/alerts?receiver=team-X"
    );
    assert_eq!(render("slack.default.color", &d), "danger");
    assert_eq!(render("slack.default.text", &d), "");
}

#[test]
fn subject_when_resolved_and_without_extra_common_labels() {
    let d = Data::new(
        "r",
        labels(&[
            ("alertname", "ServiceDown"),
            ("instance", "web-1"),
            ("job", "node"),
            ("severity", "page"),
        ]),
        vec![alert("web-1", "resolved", "page")],
        "http://am",
    );
    assert_eq!(
        render("slack.default.title", &d),
        "[RESOLVED] ServiceDown web-1 node page "
    );
    assert_eq!(render("slack.default.color", &d), "good");
}

#[test]
fn opsgenie_description_applies_trim_markers() {
    let want = format!(
        "\nAlerts Firing:\n{}{}\nAlerts Resolved:\n{}",
        list("web-1"),
        list("web-2"),
        list("web-3")
    );
    assert_eq!(render("opsgenie.default.description", &sample()), want);
}

#[test]
fn pushover_message_keeps_blank_lines() {
    // pushover.default.message has no trim markers.
    let want = format!(
        "\n\nAlerts Firing:\n{}{}\n\n\nAlerts Resolved:\n{}\n\n",
        list("web-1"),
        list("web-2"),
        list("web-3")
    );
    assert_eq!(render("pushover.default.message", &sample()), want);
}

#[test]
fn jira_priority_walks_severities() {
    let d = Data::new(
        "r",
        BTreeMap::new(),
        vec![
            alert("a", "firing", "info"),
            alert("b", "firing", "warning"),
        ],
        "",
    );
    assert_eq!(render("jira.default.priority", &d), "Medium");
    let d = Data::new(
        "r",
        BTreeMap::new(),
        vec![alert("a", "resolved", "critical")],
        "",
    );
    assert_eq!(render("jira.default.priority", &d), "High");
    assert_eq!(render("jira.default.priority", &sample()), "");
}

#[test]
fn methods_fields_and_functions() {
    let set = alertmanager::from_texts(
        &[(
            "custom.tmpl",
            "{{ define \"slack.default.title\" }}custom {{ .Status }}{{ end }}",
        )],
        Options::default(),
    )
    .unwrap();
    let v = sample().to_value();
    let run = |t: &str| alertmanager::execute_text_string(&set, t, &v).unwrap();
    // A later templates file replaces a default definition, as `templates:` globs do.
    assert_eq!(
        run("{{ template \"slack.default.title\" . }}"),
        "custom firing"
    );
    assert_eq!(
        run("{{ .CommonLabels }}"),
        "map[alertname:ServiceDown job:node severity:page]"
    );
    assert_eq!(run("{{ .CommonLabels.Names }}"), "[alertname job severity]");
    assert_eq!(
        run("{{ .CommonLabels.SortedPairs }}"),
        "[{alertname ServiceDown} {job node} {severity page}]"
    );
    assert_eq!(
        run("{{ (.CommonLabels.Remove (stringSlice \"job\")).Values | join \",\" }}"),
        "ServiceDown,page"
    );
    assert_eq!(
        run("{{ len .Alerts }} {{ len .Alerts.Firing }} {{ len .Alerts.Resolved }}"),
        "3 2 1"
    );
    assert_eq!(
        run("{{ range .Alerts.Resolved }}{{ .Labels.instance }}{{ end }}"),
        "web-3"
    );
    assert_eq!(
        run("{{ (index .Alerts 0).StartsAt }}"),
        "2024-01-02 03:04:05 +0000 UTC"
    );
    assert_eq!(
        run("{{ (index .Alerts 0).StartsAt.Format \"2006-01-02T15:04:05Z07:00\" }}"),
        "2024-01-02T03:04:05Z"
    );
    assert_eq!(
        run("{{ date \"Jan 2, 15:04 MST\" (index .Alerts 0).StartsAt }}"),
        "Jan 2, 03:04 UTC"
    );
    assert_eq!(run("{{ (index .Alerts 0).EndsAt.IsZero }}"), "true");
    // missingkey=zero: a missing label is empty.
    assert_eq!(run("[{{ .CommonLabels.nope }}]"), "[]");
    assert_eq!(
        run("{{ \"hello wORLD\" | title }} {{ toUpper \"x\" }} {{ trimSpace \"  y \" }}"),
        "Hello World X y"
    );
    assert_eq!(
        run("{{ reReplaceAll \"web-(.*)\" \"host $1\" \"web-7\" }}"),
        "host 7"
    );
    assert_eq!(run("{{ match \"^web\" \"web-1\" }}"), "true");
    assert_eq!(run("{{ humanizeDuration 90 }}"), "1m 30s");
    assert_eq!(
        run("{{ toJson .CommonLabels }}"),
        "{\"alertname\":\"ServiceDown\",\"job\":\"node\",\"severity\":\"page\"}"
    );
    assert_eq!(
        run("{{ $d := dict \"a\" 1 \"b\" \"x\" }}{{ $d.b }}{{ index $d \"a\" }}"),
        "x1"
    );
    assert_eq!(run("{{ urlUnescape \"a%20b+c\" }}"), "a b c");
    assert_eq!(run("{{ base64encode \"a?b>c\" }}"), "YT9iPmM=");
    assert_eq!(
        run("{{ base64encode \"ab\" }}|{{ base64encode \"\" }}"),
        "YWI=|"
    );
    assert_eq!(run("{{ \"YT9iPmM=\" | base64decode }}"), "a?b>c");
    assert_eq!(run(""), "");
    // Definitions in the text shadow the set's for that execution only.
    assert_eq!(
        run(
            "{{ define \"__alertmanager\" }}AM{{ end }}{{ template \"slack.default.username\" . }}"
        ),
        "AM"
    );
    assert_eq!(
        run("{{ template \"slack.default.username\" . }}"),
        "Alertmanager"
    );
    // Errors read as Go's: the unnamed template is "".
    let err = alertmanager::execute_text_string(&set, "{{ .Nope }}", &v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: :1:3: executing \"\" at <.Nope>: can't evaluate field Nope in type *template.Data"
    );
    let err =
        alertmanager::execute_text_string(&set, "{{ join \",\" .Receiver }}", &v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: :1:12: executing \"\" at <.Receiver>: wrong type for value; expected []string; got string"
    );
}

#[test]
fn every_default_definition_parses_and_renders() {
    let set = alertmanager::from_texts(&[], Options::default()).unwrap();
    let v = sample().to_value();
    let names: Vec<&str> = alertmanager::DEFAULT_TMPL
        .split("define \"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    assert!(names.len() > 60, "{}", names.len());
    for name in names {
        let out = alertmanager::execute_text_string(
            &set,
            &format!("{{{{ template \"{name}\" . }}}}"),
            &v,
        );
        // __text_alert_list ranges over its dot; given the whole Data (as pagerduty's
        // `instances` does) it fails in Alertmanager too.
        if name.contains("alert_list") || name == "pagerduty.default.instances" {
            assert!(out.is_err(), "{name}");
        } else {
            assert!(out.is_ok(), "{name}: {out:?}");
        }
    }
}

/// The seed scenario: `ServiceDown` (summary rendered by the Prometheus side from the seed's
/// `{{ $labels.job }} down`) routed to the seed's `pagerduty` receiver, grouped by
/// `['alertname', 'severity']`, rendered with Alertmanager 0.25's default PagerDuty fields
/// (config/notifiers.go: `DefaultPagerdutyConfig` and `DefaultPagerdutyDetails`).
#[test]
fn seed_pagerduty_notification() {
    use sightline_template::prometheus::{self, AlertContext};

    let alert_labels = labels(&[
        ("alertname", "ServiceDown"),
        ("instance", "localhost:9100"),
        ("job", "node"),
        ("severity", "page"),
    ]);
    let none = BTreeMap::new();
    let ctx = AlertContext {
        labels: &alert_labels,
        external_labels: &none,
        external_url: "http://localhost:9090",
        value: 0.0,
        now: 0.0,
        query: None,
    };
    let summary =
        prometheus::expand_alert_template("ServiceDown", "{{ $labels.job }} down", &ctx).unwrap();
    assert_eq!(summary, "node down");
    let a = Alert {
        status: "firing".to_string(),
        labels: alert_labels.clone(),
        annotations: labels(&[("summary", &summary)]),
        starts_at: Time::from_unix_millis(1_704_164_645_000),
        ends_at: Time::zero(),
        generator_url: "http://localhost:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1".to_string(),
        fingerprint: "0123456789abcdef".to_string(),
    };
    let d = Data::new(
        "pagerduty",
        labels(&[("alertname", "ServiceDown"), ("severity", "page")]),
        vec![a],
        "http://localhost:9093",
    )
    .to_value();
    let set = alertmanager::from_texts(&[], Options::default()).unwrap();
    let run = |t: &str| alertmanager::execute_text_string(&set, t, &d).unwrap();
    assert_eq!(
        run("{{ template \"pagerduty.default.description\" .}}"),
        "[FIRING:1] ServiceDown page (localhost:9100 node)"
    );
    assert_eq!(
        run("{{ template \"pagerduty.default.client\" . }}"),
        "Alertmanager"
    );
    assert_eq!(
        run("{{ template \"pagerduty.default.clientURL\" . }}"),
        "http://localhost:9093/#/alerts?receiver=pagerduty"
    );
    assert_eq!(
        run("{{ template \"pagerduty.default.instances\" .Alerts.Firing }}"),
        "Labels:\n - alertname = ServiceDown\n - instance = localhost:9100\n - job = node\n - severity = page\nAnnotations:\n - summary = node down\nSource: http://localhost:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1\n"
    );
    assert_eq!(
        run("{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}"),
        ""
    );
    assert_eq!(
        run("{{ .Alerts.Firing | len }}|{{ .Alerts.Resolved | len }}"),
        "1|0"
    );
}
