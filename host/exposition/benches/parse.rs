//! Parser throughput over a realistic generated 10,000-series payload, in both formats.
//!
//! The payload mixes counters with four labels, classic histograms (buckets, `_sum`,
//! `_count`) and gauges, each family with HELP and TYPE lines. Each format is measured twice:
//! once reported as bytes/s and once as samples/s ("elements"). `parse` only walks the
//! entries (what a scrape does on a series-cache hit); `parse+labels` also decodes every
//! label set into a `LabelsBuilder` (the cache-miss path). The same shape of payload in the
//! protobuf exposition (classic histograms, so the same 10,000 samples) is measured the same
//! way.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sightline_exposition::proto::{self, ProtoEntry, ProtoOptions, ProtoValue};
use sightline_exposition::{parse, Encoder, Entry, Format};
use sightline_model::{LabelsBuilder, MetricType};

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const CODES: [&str; 5] = ["200", "201", "404", "500", "503"];
const BOUNDS: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
];

/// Builds the payload; returns the bytes and the number of sample lines.
fn payload(format: Format) -> (Vec<u8>, usize) {
    let mut e = Encoder::new(format);
    let mut n = 0;
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // 40 counter families x 100 series = 4,000.
    for f in 0..40 {
        let name = format!("app_subsystem{f}_requests_total");
        e.family(
            &name,
            MetricType::Counter,
            "Total number of requests handled, by method, code and handler.",
            "",
        );
        for s in 0..100 {
            let handler = format!("/api/v1/endpoint_{}", s / 20);
            let labels = [
                ("method", METHODS[s % 4]),
                ("code", CODES[(s / 4) % 5]),
                ("handler", handler.as_str()),
                ("instance", "node-17.example.internal:9100"),
            ];
            e.sample(&name, &labels, (next() % 10_000_000) as f64, None);
            n += 1;
        }
    }
    // 20 histogram families x 20 label sets x 13 samples = 5,200.
    for f in 0..20 {
        let name = format!("app_subsystem{f}_request_duration_seconds");
        e.family(
            &name,
            MetricType::Histogram,
            "Request latency in seconds.",
            "seconds",
        );
        for s in 0..20 {
            let handler = format!("/api/v1/endpoint_{s}");
            let mut cum = 0u64;
            for le in BOUNDS.iter().chain(std::iter::once(&"+Inf")) {
                cum += next() % 1000;
                let labels = [
                    ("handler", handler.as_str()),
                    ("method", METHODS[s % 4]),
                    ("le", le),
                ];
                e.sample(&format!("{name}_bucket"), &labels, cum as f64, None);
                n += 1;
            }
            let labels = [("handler", handler.as_str()), ("method", METHODS[s % 4])];
            e.sample(&format!("{name}_sum"), &labels, cum as f64 * 0.137_5, None);
            e.sample(&format!("{name}_count"), &labels, cum as f64, None);
            n += 2;
        }
    }
    // 8 gauge families x 100 series = 800.
    for f in 0..8 {
        let name = format!("node_resource{f}_bytes");
        e.family(
            &name,
            MetricType::Gauge,
            "Current resource usage in bytes.",
            "bytes",
        );
        for s in 0..100 {
            let dev = format!("sd{s}");
            e.sample(
                &name,
                &[("device", dev.as_str()), ("mountpoint", "/var/lib/data")],
                (next() % (1 << 40)) as f64 * 1.5,
                None,
            );
            n += 1;
        }
    }
    (e.finish(), n)
}

/// The payload's shape as delimited protobuf; returns the bytes and the number of samples.
fn proto_payload() -> (Vec<u8>, usize) {
    let lp = |n: &str, v: &str| (n.to_string(), v.to_string());
    let mut fams = Vec::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut n = 0;
    for f in 0..40 {
        let metric = (0..100)
            .map(|s| proto::Metric {
                label: vec![
                    lp("method", METHODS[s % 4]),
                    lp("code", CODES[(s / 4) % 5]),
                    lp("handler", &format!("/api/v1/endpoint_{}", s / 20)),
                    lp("instance", "node-17.example.internal:9100"),
                ],
                counter: Some(proto::Counter {
                    value: (next() % 10_000_000) as f64,
                    ..proto::Counter::default()
                }),
                ..proto::Metric::default()
            })
            .collect();
        n += 100;
        fams.push(proto::MetricFamily {
            name: format!("app_subsystem{f}_requests_total"),
            help: "Total number of requests handled, by method, code and handler.".into(),
            metric_type: proto::TYPE_COUNTER,
            metric,
            ..proto::MetricFamily::default()
        });
    }
    for f in 0..20 {
        let metric = (0..20)
            .map(|s| {
                let mut cum = 0u64;
                let bucket: Vec<proto::Bucket> = BOUNDS
                    .iter()
                    .map(|b| b.parse::<f64>().unwrap_or(0.0))
                    .chain(std::iter::once(f64::INFINITY))
                    .map(|ub| {
                        cum += next() % 1000;
                        proto::Bucket {
                            cumulative_count: cum,
                            upper_bound: ub,
                            ..proto::Bucket::default()
                        }
                    })
                    .collect();
                proto::Metric {
                    label: vec![
                        lp("handler", &format!("/api/v1/endpoint_{s}")),
                        lp("method", METHODS[s % 4]),
                    ],
                    histogram: Some(proto::HistogramMsg {
                        sample_count: cum,
                        sample_sum: cum as f64 * 0.137_5,
                        bucket,
                        ..proto::HistogramMsg::default()
                    }),
                    ..proto::Metric::default()
                }
            })
            .collect();
        n += 20 * 13;
        fams.push(proto::MetricFamily {
            name: format!("app_subsystem{f}_request_duration_seconds"),
            help: "Request latency in seconds.".into(),
            metric_type: proto::TYPE_HISTOGRAM,
            unit: "seconds".into(),
            metric,
        });
    }
    for f in 0..8 {
        let metric = (0..100)
            .map(|s| proto::Metric {
                label: vec![
                    lp("device", &format!("sd{s}")),
                    lp("mountpoint", "/var/lib/data"),
                ],
                gauge: Some((next() % (1 << 40)) as f64 * 1.5),
                ..proto::Metric::default()
            })
            .collect();
        n += 100;
        fams.push(proto::MetricFamily {
            name: format!("node_resource{f}_bytes"),
            help: "Current resource usage in bytes.".into(),
            metric_type: proto::TYPE_GAUGE,
            unit: "bytes".into(),
            metric,
        });
    }
    (proto::encode_delimited(&fams), n)
}

fn walk_proto(buf: &[u8], labels: Option<&mut LabelsBuilder>) -> f64 {
    let mut acc = 0.0;
    let mut p = proto::parse_proto(buf, ProtoOptions::default());
    let mut lb = labels;
    while let Some(e) = p.next_entry() {
        match e {
            Ok(ProtoEntry::Sample(s)) => {
                if let ProtoValue::Float(v) = s.value {
                    acc += v;
                }
                acc += s.key.len() as f64;
                if let Some(b) = lb.as_deref_mut() {
                    b.clear();
                    s.labels_into(b);
                    acc += b.iter().count() as f64;
                }
            }
            Ok(_) => {}
            Err(e) => panic!("benchmark payload must parse: {e}"),
        }
    }
    acc
}

fn walk(buf: &[u8], format: Format) -> f64 {
    let mut acc = 0.0;
    for e in parse(buf, format) {
        match e {
            Ok(Entry::Series(s)) => acc += s.value + s.raw.len() as f64,
            Ok(_) => {}
            Err(e) => panic!("benchmark payload must parse: {e}"),
        }
    }
    acc
}

fn walk_labels(buf: &[u8], format: Format, b: &mut LabelsBuilder) -> usize {
    let mut n = 0;
    for e in parse(buf, format) {
        if let Ok(Entry::Series(s)) = e {
            b.clear();
            s.labels_into(b);
            n += b.iter().count();
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    for format in [Format::PromText, Format::OpenMetrics] {
        let (buf, samples) = payload(format);
        assert_eq!(samples, 10_000);
        let tag = match format {
            Format::PromText => "text-0.0.4",
            Format::OpenMetrics => "openmetrics-1.0",
        };
        eprintln!("{tag}: payload {} bytes, {samples} samples", buf.len());
        for (unit, tp) in [
            ("bytes", Throughput::Bytes(buf.len() as u64)),
            ("samples", Throughput::Elements(samples as u64)),
        ] {
            let mut g = c.benchmark_group(format!("{tag}/{unit}"));
            g.throughput(tp);
            g.bench_function("parse", |bch| bch.iter(|| walk(black_box(&buf), format)));
            let mut lb = LabelsBuilder::with_capacity(8);
            g.bench_function("parse+labels", |bch| {
                bch.iter(|| walk_labels(black_box(&buf), format, &mut lb))
            });
            g.finish();
        }
    }
}

fn bench_proto(c: &mut Criterion) {
    let (buf, samples) = proto_payload();
    let mut n = 0;
    let mut p = proto::parse_proto(&buf, ProtoOptions::default());
    while let Some(e) = p.next_entry() {
        if let Ok(ProtoEntry::Sample(_)) = e {
            n += 1;
        }
    }
    assert_eq!((n, samples), (10_000, 10_000));
    eprintln!("protobuf: payload {} bytes, {samples} samples", buf.len());
    for (unit, tp) in [
        ("bytes", Throughput::Bytes(buf.len() as u64)),
        ("samples", Throughput::Elements(samples as u64)),
    ] {
        let mut g = c.benchmark_group(format!("protobuf/{unit}"));
        g.throughput(tp);
        g.bench_function("parse", |bch| {
            bch.iter(|| walk_proto(black_box(&buf), None))
        });
        let mut lb = LabelsBuilder::with_capacity(8);
        g.bench_function("parse+labels", |bch| {
            bch.iter(|| walk_proto(black_box(&buf), Some(&mut lb)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench, bench_proto);
criterion_main!(benches);
