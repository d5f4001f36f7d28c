//! Native histograms through the engine: values, result shapes, sample accounting and the
//! annotations of operators that cannot take them (the promqltest suite covers the rest).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sightline_model::{CounterResetHint, FloatHistogram, Labels, Span};
use sightline_promql::{Engine, EngineOptions, Value};
use sightline_storage_api::{Appendable, MemStorage};

fn hist(count: f64) -> FloatHistogram {
    FloatHistogram {
        schema: 0,
        count,
        sum: count * 2.0,
        positive_spans: vec![Span::new(0, 4)],
        positive_buckets: vec![count / 4.0; 4],
        ..FloatHistogram::default()
    }
}

/// `m` holds floats at 0s and 15s, then histograms at 30s and 45s; `f` floats only.
fn store() -> MemStorage {
    let st = MemStorage::new();
    let mut a = st.appender();
    let m = Labels::from_pairs([("__name__", "m")]);
    a.append(None, &m, 0, 1.0).unwrap();
    a.append(None, &m, 15_000, 2.0).unwrap();
    a.append_float_histogram(None, &m, 30_000, &hist(4.0))
        .unwrap();
    a.append_float_histogram(None, &m, 45_000, &hist(8.0))
        .unwrap();
    let f = Labels::from_pairs([("__name__", "f")]);
    a.append(None, &f, 45_000, 3.0).unwrap();
    a.commit().unwrap();
    st
}

#[test]
fn selectors_return_the_newest_sample_of_either_kind() {
    let st = store();
    let e = Engine::new(EngineOptions::default());
    let r = e.instant_query(&st, "m", 20_000).unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert!(v[0].h.is_none() && v[0].v == 2.0);
    let r = e.instant_query(&st, "m", 50_000).unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert_eq!(v[0].h.as_ref().map(|h| h.count), Some(8.0));
}

#[test]
fn matrices_keep_floats_and_histograms_apart() {
    let st = store();
    let e = Engine::new(EngineOptions::default());
    let r = e.instant_query(&st, "m[1m]", 50_000).unwrap();
    let Value::Matrix(m) = r.value else { panic!() };
    assert_eq!(m[0].samples.len(), 2);
    assert_eq!(
        m[0].histograms.iter().map(|p| p.t).collect::<Vec<_>>(),
        [30_000, 45_000]
    );
    let r = e.range_query(&st, "m", 0, 45_000, 15_000).unwrap();
    let Value::Matrix(m) = r.value else { panic!() };
    assert_eq!(
        m[0].samples.iter().map(|p| p.t).collect::<Vec<_>>(),
        [0, 15_000]
    );
    assert_eq!(
        m[0].histograms.iter().map(|p| p.t).collect::<Vec<_>>(),
        [30_000, 45_000]
    );
}

#[test]
fn histogram_samples_count_by_their_size() {
    let st = store();
    let e = Engine::new(EngineOptions::default());
    // Prometheus' HPoint.size: (168 bytes + 8 per span and bucket + 8) / 16.
    let r = e.instant_query(&st, "m", 50_000).unwrap();
    assert_eq!(r.stats.total_queryable_samples, (168 + 8 * 5 + 8) / 16);
    let r = e.instant_query(&st, "f", 50_000).unwrap();
    assert_eq!(r.stats.total_queryable_samples, 1);
}

#[test]
fn operators_on_histograms() {
    let st = store();
    let e = Engine::new(EngineOptions::default());
    let r = e.instant_query(&st, "m * 2 - m", 50_000).unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    let h = v[0].h.as_ref().unwrap();
    assert_eq!((h.count, h.sum), (8.0, 16.0));
    // A difference is a gauge.
    assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
    let r = e.instant_query(&st, "m + 1", 50_000).unwrap();
    assert!(matches!(&r.value, Value::Vector(v) if v.is_empty()));
    assert_eq!(
        r.infos,
        [
            r#"PromQL info: incompatible sample types encountered for binary operator "+": histogram + float (1:1)"#
        ]
    );
    let r = e.instant_query(&st, "sum(m) / 4", 50_000).unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert_eq!(v[0].h.as_ref().map(|h| h.count), Some(2.0));
    let r = e
        .instant_query(&st, "max({__name__=~\"m|f\"})", 50_000)
        .unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert_eq!(v[0].v, 3.0);
    assert_eq!(
        r.infos,
        ["PromQL info: ignored histogram in max aggregation (1:5)"]
    );
    let r = e
        .instant_query(&st, "sum({__name__=~\"m|f\"})", 50_000)
        .unwrap();
    assert!(matches!(&r.value, Value::Vector(v) if v.is_empty()));
    assert_eq!(
        r.warnings,
        ["PromQL warning: encountered a mix of histograms and floats for aggregation (1:5)"]
    );
}
