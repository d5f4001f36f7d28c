//! Query limits: max samples, timeout, cancellation and bad range parameters fail with
//! Prometheus' error types instead of taking the process down.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use sightline_model::Labels;
use sightline_promql::{Engine, EngineOptions, Error, Value};
use sightline_storage_api::{Appendable, MemStorage};

fn store(series: usize, points: i64) -> MemStorage {
    let st = MemStorage::new();
    let mut a = st.appender();
    for s in 0..series {
        let l = Labels::from_pairs([("__name__", "m".to_string()), ("i", s.to_string())]);
        for p in 0..points {
            a.append(None, &l, p * 15_000, p as f64).unwrap();
        }
    }
    a.commit().unwrap();
    st
}

#[test]
fn max_samples_is_an_execution_error() {
    let st = store(20, 100);
    let engine = Engine::new(EngineOptions {
        max_samples: 100,
        ..Default::default()
    });
    let err = engine
        .instant_query(&st, "sum_over_time(m[10m])", 1_500_000)
        .expect_err("too many samples");
    assert!(matches!(err, Error::TooManySamples(_)), "{err:?}");
    assert_eq!(err.error_type(), "execution");
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    // A small query under the limit still works.
    let ok = engine
        .instant_query(&st, "m{i=\"1\"}", 1_500_000)
        .expect("small query");
    assert!(matches!(ok.value, Value::Vector(v) if v.len() == 1));
}

#[test]
fn timeout_and_cancellation() {
    let st = store(5, 100);
    let engine = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..Default::default()
    });
    let err = engine
        .range_query(&st, "rate(m[1m])", 0, 1_500_000, 15_000)
        .expect_err("timed out");
    assert_eq!(err.error_type(), "timeout");

    let engine = Engine::new(EngineOptions::default());
    let cancel = AtomicBool::new(true);
    let e = engine.parse("rate(m[1m])").unwrap();
    let err = engine
        .exec(&st, &e, "rate(m[1m])", 0, 1_500_000, 15_000, Some(&cancel))
        .expect_err("canceled");
    assert_eq!(err.error_type(), "canceled");
}

#[test]
fn bad_range_parameters() {
    let st = store(1, 10);
    let engine = Engine::new(EngineOptions::default());
    for (s, e, step) in [(0, 1000, 0), (1000, 0, 10), (0, 1_000_000_000, 1)] {
        let err = engine
            .range_query(&st, "m", s, e, step)
            .expect_err("bad range");
        assert_eq!(err.error_type(), "bad_data", "{err}");
    }
    let err = engine
        .range_query(&st, "m[5m]", 0, 1000, 10)
        .expect_err("matrix in range query");
    assert_eq!(err.error_type(), "bad_data");
}

#[test]
fn range_query_selects_once_and_matches_instant_queries() {
    let st = store(3, 200);
    let engine = Engine::new(EngineOptions::default());
    let q = "sum by (i) (rate(m[2m])) * 2";
    let r = engine
        .range_query(&st, q, 600_000, 1_200_000, 60_000)
        .unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("matrix expected")
    };
    assert_eq!(m.len(), 3);
    for s in &m {
        assert_eq!(s.samples.len(), 11);
        for p in &s.samples {
            let inst = engine.instant_query(&st, q, p.t).unwrap();
            let Value::Vector(v) = inst.value else {
                panic!("vector expected")
            };
            let got = v
                .iter()
                .find(|x| x.labels == s.labels)
                .expect("same series");
            assert!((got.v - p.v).abs() < 1e-9);
        }
    }
}

#[test]
fn custom_functions_can_be_registered() {
    use sightline_promql::{FnOut, FunctionDef, FunctionRegistry, ValueType};
    let mut reg = FunctionRegistry::with_builtins();
    reg.register(FunctionDef {
        name: "double".into(),
        arg_types: vec![ValueType::Vector],
        optional: 0,
        variadic: false,
        return_type: ValueType::Vector,
        imp: std::sync::Arc::new(|_ctx, mut args| {
            let v = match args.pop() {
                Some(sightline_promql::Arg::Vector(v)) => v,
                _ => vec![],
            };
            Ok(FnOut::Vector(
                v.into_iter()
                    .map(|mut e| {
                        e.v *= 2.0;
                        e.drop_name = true;
                        e
                    })
                    .collect(),
            ))
        }),
    });
    let engine = Engine::with_registry(EngineOptions::default(), reg);
    let st = store(1, 10);
    let r = engine.instant_query(&st, "double(m)", 60_000).unwrap();
    let Value::Vector(v) = r.value else {
        panic!("vector expected")
    };
    assert_eq!(v[0].v, 8.0);
    assert_eq!(v[0].labels, Labels::from_pairs([("i", "0")]));
    assert!(
        sightline_promql::parse("double(m)").is_err(),
        "the default registry does not know it"
    );
}

#[test]
fn range_queries_stream_instead_of_loading_the_whole_range() {
    // 20 series x 2000 samples = 40,000 samples in storage, far above the limit of 15,000.
    let st = store(20, 2000);
    let engine = Engine::new(EngineOptions {
        max_samples: 15_000,
        ..Default::default()
    });
    let end = 1999 * 15_000;
    // A range query reads each series through a sliding window; only its outputs (20 series x
    // 500 steps of `rate`, as Prometheus counts them) count, so it runs under the limit.
    let r = engine
        .range_query(&st, "sum(rate(m[1m]))", 0, end, 60_000)
        .expect("streamed range query");
    let Value::Matrix(m) = r.value else {
        panic!("matrix expected")
    };
    assert_eq!(m.len(), 1);
    assert!(m[0].samples.len() > 400);
    // Reading every sample at once is refused with Prometheus' error.
    let err = engine
        .instant_query(&st, "count_over_time(m[10h])", end)
        .expect_err("too many samples");
    assert!(matches!(err, Error::TooManySamples(_)), "{err:?}");
}

#[test]
fn per_query_lookback_and_timeout() {
    let st = store(1, 2); // Samples at 0s and 15s.
    let engine = Engine::new(EngineOptions::default());
    let e = engine.parse("m").unwrap();
    // At 100s the 15s sample is inside the default 5m lookback but outside a 1m one.
    let r = engine
        .exec(&st, &e, "m", 100_000, 100_000, 0, None)
        .unwrap();
    assert!(matches!(r.value, Value::Vector(v) if v.len() == 1));
    let opts = sightline_promql::QueryOptions {
        lookback_delta: Some(Duration::from_secs(60)),
        ..Default::default()
    };
    let r = engine
        .exec_with(&st, &e, "m", 100_000, 100_000, 0, &opts)
        .unwrap();
    assert!(matches!(r.value, Value::Vector(v) if v.is_empty()));
    let opts = sightline_promql::QueryOptions {
        timeout: Some(Duration::ZERO),
        ..Default::default()
    };
    let err = engine
        .exec_with(&st, &e, "m", 0, 600_000, 15_000, &opts)
        .expect_err("timed out");
    assert_eq!(err.error_type(), "timeout");
}

/// The `stats` figures: samples read from storage, and the most held at once, which is what
/// `max_samples` bounds (a query needing more than the reported peak under a limit equal to it
/// fails, one at the peak passes).
#[test]
fn query_stats_count_what_was_read_and_held() {
    let st = store(20, 100);
    let engine = Engine::new(EngineOptions::default());
    // 10 minutes of 15 s samples before t = 1500 s: samples 61..=99 of each series (39).
    let res = engine
        .instant_query(&st, "sum_over_time(m[10m])", 1_500_000)
        .expect("query");
    assert_eq!(res.stats.total_queryable_samples, 20 * 39);
    assert!(res.stats.peak_samples >= 20 * 39, "{:?}", res.stats);
    // A range query streams its selector; every stored sample in range is read once.
    let res = engine
        .range_query(&st, "m", 0, 1_485_000, 15_000)
        .expect("range");
    assert_eq!(res.stats.total_queryable_samples, 20 * 100);
    assert!(res.stats.peak_samples >= 20 * 100, "{:?}", res.stats);
    let limited = Engine::new(EngineOptions {
        max_samples: res.stats.peak_samples as usize - 1,
        ..Default::default()
    });
    assert!(limited.range_query(&st, "m", 0, 1_485_000, 15_000).is_err());
}
