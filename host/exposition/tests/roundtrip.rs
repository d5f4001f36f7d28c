//! Encode → parse round trips in both formats.

use sightline_exposition::{parse, Encoder, Entry, Format};
use sightline_model::{Labels, LabelsBuilder, MetricType};

/// (sample name, labels, value, timestamp).
type Sample = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    f64,
    Option<i64>,
);

struct Fam {
    name: &'static str,
    typ: MetricType,
    help: &'static str,
    unit: &'static str,
    samples: Vec<Sample>,
}

fn families() -> Vec<Fam> {
    vec![
        Fam {
            name: "http_requests_total",
            typ: MetricType::Counter,
            help: "Requests \"served\", with a \\ and a\nnewline.",
            unit: "",
            samples: vec![
                (
                    "http_requests_total",
                    vec![("code", "200"), ("path", "/a\"b\\c\nd")],
                    1027.0,
                    None,
                ),
                (
                    "http_requests_total",
                    vec![("code", "500"), ("path", "/")],
                    3.0,
                    None,
                ),
            ],
        },
        Fam {
            name: "temperature_celsius",
            typ: MetricType::Gauge,
            help: "",
            unit: "celsius",
            samples: vec![
                (
                    "temperature_celsius",
                    vec![("room", "kitchen")],
                    -3.25,
                    Some(1_700_000_000_123),
                ),
                (
                    "temperature_celsius",
                    vec![("room", "attic")],
                    f64::NAN,
                    Some(1_700_000_000_000),
                ),
                (
                    "temperature_celsius",
                    vec![("room", "oven")],
                    f64::INFINITY,
                    Some(-1500),
                ),
                ("temperature_celsius", vec![("room", "freezer")], 1e-7, None),
            ],
        },
        Fam {
            name: "latency_seconds",
            typ: MetricType::Histogram,
            help: "Latency.",
            unit: "seconds",
            samples: vec![
                ("latency_seconds_bucket", vec![("le", "0.005")], 1.0, None),
                ("latency_seconds_bucket", vec![("le", "0.1")], 4.0, None),
                ("latency_seconds_bucket", vec![("le", "+Inf")], 7.0, None),
                ("latency_seconds_count", vec![], 7.0, None),
                ("latency_seconds_sum", vec![], 0.123456789012, None),
            ],
        },
        Fam {
            name: "rpc_duration_seconds",
            typ: MetricType::Summary,
            help: "RPC latency.",
            unit: "",
            samples: vec![
                (
                    "rpc_duration_seconds",
                    vec![("quantile", "0.5")],
                    0.25,
                    None,
                ),
                (
                    "rpc_duration_seconds",
                    vec![("quantile", "0.99")],
                    1.5e21,
                    None,
                ),
                ("rpc_duration_seconds_sum", vec![], 100.0, None),
                ("rpc_duration_seconds_count", vec![], 10.0, None),
            ],
        },
        Fam {
            name: "mystery",
            typ: MetricType::Unknown,
            help: "Untyped thing.",
            unit: "",
            samples: vec![(
                "mystery",
                vec![("empty", ""), ("utf8", "héllo ☃")],
                42.0,
                None,
            )],
        },
    ]
}

/// (name, labels, value bits with NaN normalised, timestamp).
type Flat = (Labels, u64, Option<i64>);

fn bits(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

/// Expected samples, TYPE lines and HELP lines.
type Expected = (Vec<Flat>, Vec<(String, MetricType)>, Vec<(String, String)>);

fn expected(format: Format) -> Expected {
    let mut samples = Vec::new();
    let mut types = Vec::new();
    let mut helps = Vec::new();
    for f in families() {
        let meta = if format == Format::OpenMetrics && f.typ == MetricType::Counter {
            f.name.trim_end_matches("_total")
        } else {
            f.name
        };
        types.push((meta.to_string(), f.typ));
        if !f.help.is_empty() {
            helps.push((meta.to_string(), f.help.to_string()));
        }
        for (n, ls, v, t) in f.samples {
            let mut b = LabelsBuilder::new();
            b.set("__name__", n);
            for (k, x) in ls {
                b.set(k, x);
            }
            samples.push((b.build(), bits(v), t));
        }
    }
    (samples, types, helps)
}

fn encode(format: Format) -> Vec<u8> {
    let mut e = Encoder::new(format);
    for f in families() {
        e.family(f.name, f.typ, f.help, f.unit);
        for (n, ls, v, t) in &f.samples {
            e.sample(n, ls, *v, *t);
        }
    }
    e.finish()
}

#[test]
fn round_trip_both_formats() {
    for format in [Format::PromText, Format::OpenMetrics] {
        let bytes = encode(format);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut samples = Vec::new();
        let mut types = Vec::new();
        let mut helps = Vec::new();
        let mut units = Vec::new();
        let mut eof = false;
        for e in parse(&bytes, format) {
            match e.unwrap_or_else(|e| panic!("{format:?} output does not parse: {e}\n{text}")) {
                Entry::Series(s) => {
                    let mut b = LabelsBuilder::new();
                    s.labels_into(&mut b);
                    samples.push((b.build(), bits(s.value), s.timestamp_ms));
                }
                Entry::Type { name, metric_type } => types.push((name.to_string(), metric_type)),
                Entry::Help { name, help } => helps.push((name.to_string(), help.into_owned())),
                Entry::Unit { name, unit } => units.push((name.to_string(), unit.to_string())),
                Entry::Comment => {}
                Entry::Eof => eof = true,
            }
        }
        let (want_samples, want_types, want_helps) = expected(format);
        assert_eq!(samples, want_samples, "{format:?}:\n{text}");
        assert_eq!(types, want_types, "{format:?}:\n{text}");
        assert_eq!(helps, want_helps, "{format:?}:\n{text}");
        assert_eq!(eof, format == Format::OpenMetrics, "{format:?}");
        let want_units: Vec<(String, String)> = if format == Format::OpenMetrics {
            vec![
                ("temperature_celsius".into(), "celsius".into()),
                ("latency_seconds".into(), "seconds".into()),
            ]
        } else {
            vec![]
        };
        assert_eq!(units, want_units, "{format:?}");
    }
}

#[test]
fn encoder_output_is_exact() {
    let mut e = Encoder::new(Format::OpenMetrics);
    e.family("jobs_total", MetricType::Counter, "Jobs \"done\".", "");
    e.sample("jobs", &[("q", "a\"b")], 2.0, Some(1500));
    e.family("up", MetricType::Gauge, "", "");
    e.sample("up", &[], 1.0, None);
    assert_eq!(
        String::from_utf8(e.finish()).expect("utf8"),
        "# HELP jobs Jobs \\\"done\\\".\n# TYPE jobs counter\njobs_total{q=\"a\\\"b\"} 2 1.500\n# TYPE up gauge\nup 1\n# EOF\n"
    );
    let mut e = Encoder::new(Format::PromText);
    e.family(
        "jobs_total",
        MetricType::Counter,
        "Jobs \"done\".",
        "unit-ignored",
    );
    e.sample("jobs_total", &[("q", "a\"b")], 2.0, Some(1500));
    e.family("gh", MetricType::GaugeHistogram, "", "");
    assert_eq!(
        String::from_utf8(e.finish()).expect("utf8"),
        "# HELP jobs_total Jobs \"done\".\n# TYPE jobs_total counter\njobs_total{q=\"a\\\"b\"} 2 1500\n# TYPE gh untyped\n"
    );
}

#[test]
fn sample_labels_skips_metric_name() {
    let mut e = Encoder::new(Format::PromText);
    let l = Labels::from_pairs([("__name__", "x"), ("b", "2"), ("a", "1")]);
    e.sample_labels("x", &l, 0.5, None);
    assert_eq!(
        String::from_utf8(e.finish()).expect("utf8"),
        "x{a=\"1\",b=\"2\"} 0.5\n"
    );
}
