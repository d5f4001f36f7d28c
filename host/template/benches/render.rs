//! Criterion benches: a typical alert annotation (parse and execute, as Prometheus does for
//! every alert at every evaluation), the same template pre-parsed, and Alertmanager's default
//! Slack title and Opsgenie description on a three-alert group.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use sightline_template::alertmanager::{self, Alert, Data};
use sightline_template::prometheus::{self, AlertContext};
use sightline_template::{Options, Time};

const ANNOTATION: &str = "{{ $labels.instance }} of job {{ $labels.job }} has been down for more than 1 minute (value {{ $value | humanize }}, {{ printf \"%.2f\" $value }}).";

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn bench(c: &mut Criterion) {
    let l = labels(&[
        ("__name__", "up"),
        ("instance", "web-1:9100"),
        ("job", "node"),
        ("severity", "page"),
    ]);
    let ext = labels(&[("cluster", "eu-1")]);
    let ctx = AlertContext {
        labels: &l,
        external_labels: &ext,
        external_url: "http://prometheus:9090",
        value: 0.0,
        now: 1.7e9,
        query: None,
    };
    let mut g = c.benchmark_group("template");
    g.bench_function("alert_annotation/parse+execute", |b| {
        b.iter(|| {
            prometheus::expand_alert_template("ServiceDown", ANNOTATION, &ctx).expect("expands")
        });
    });
    let parsed = prometheus::AlertTemplate::new("ServiceDown", ANNOTATION);
    g.bench_function("alert_annotation/execute", |b| {
        b.iter(|| parsed.expand(&ctx).expect("expands"));
    });
    let set = alertmanager::from_texts(&[], Options::default()).unwrap();
    let alerts = (1..=3)
        .map(|i| Alert {
            status: if i < 3 { "firing" } else { "resolved" }.to_string(),
            labels: labels(&[
                ("alertname", "ServiceDown"),
                ("instance", &format!("web-{i}")),
                ("job", "node"),
            ]),
            annotations: labels(&[("summary", &format!("web-{i} down"))]),
            starts_at: Time::from_unix_millis(1_704_164_645_000),
            ends_at: Time::zero(),
            generator_url: "http://prom:9090/graph".to_string(),
            fingerprint: "0123456789abcdef".to_string(),
        })
        .collect();
    let d = Data::new(
        "pagerduty",
        labels(&[("alertname", "ServiceDown")]),
        alerts,
        "http://am:9093",
    )
    .to_value();
    g.bench_function("alertmanager/slack_title", |b| {
        b.iter(|| {
            alertmanager::execute_text_string(&set, "{{ template \"slack.default.title\" . }}", &d)
                .expect("renders")
        });
    });
    g.bench_function("alertmanager/opsgenie_description", |b| {
        b.iter(|| {
            alertmanager::execute_text_string(
                &set,
                "{{ template \"opsgenie.default.description\" . }}",
                &d,
            )
            .expect("renders")
        });
    });
    g.bench_function("alertmanager/parse_default_tmpl", |b| {
        b.iter(|| alertmanager::from_texts(&[], Options::default()).expect("parses"));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
