//! A range query whose expression is a bare precomputed call (`rate(x[2m])`) has its matrix
//! built straight from the precomputed rows (`engine/assemble.rs`): the same series, samples
//! and order as the step loop, which still handles what it merges or rejects (series whose
//! label sets coincide once the name is dropped).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sightline_model::Labels;
use sightline_promql::{Engine, EngineOptions, Error, Value};
use sightline_storage_api::{Appendable, MemStorage};

mod common;
use common::{assert_steps_match, random_counter};

fn random_store(seed: u64) -> MemStorage {
    let mut rng = fastrand::Rng::with_seed(seed);
    let st = MemStorage::new();
    let mut a = st.appender();
    for inst in 0..20 {
        for status in ["200", "500", "503"] {
            let l = Labels::from_pairs([
                ("__name__", "http_requests_total".to_string()),
                ("instance", format!("i{inst}")),
                ("status", status.to_string()),
            ]);
            for (t, v) in random_counter(&mut rng) {
                a.append(None, &l, t, v).unwrap();
            }
        }
    }
    a.commit().unwrap();
    st
}

/// Every step of the range result is the instant query at that step (which never takes the
/// precomputed path), bit for bit, and the series come sorted by label set.
#[test]
fn bare_precomputed_calls_match_instant_queries_at_every_step() {
    let st = random_store(7);
    let engine = Engine::new(EngineOptions::default());
    for q in [
        "rate(http_requests_total[2m])",
        "(increase(http_requests_total[1m]))",
        "max_over_time(http_requests_total[90s])",
        "last_over_time(http_requests_total[1m])",
        "changes(http_requests_total[5m])",
    ] {
        let m = assert_steps_match(&engine, &st, q);
        assert!(!m.is_empty(), "{q}");
        assert!(m.windows(2).all(|w| w[0].labels < w[1].labels), "{q}");
    }
}

fn two_names(overlap: bool) -> MemStorage {
    let st = MemStorage::new();
    let mut a = st.appender();
    let la = Labels::from_pairs([("__name__", "a_total"), ("job", "j")]);
    let lb = Labels::from_pairs([("__name__", "b_total"), ("job", "j")]);
    let lc = Labels::from_pairs([("__name__", "a_total"), ("job", "k")]);
    for i in 0..40i64 {
        let t = i * 15_000;
        if i < 20 || overlap {
            a.append(None, &la, t, i as f64).unwrap();
        }
        if i >= 24 || overlap {
            a.append(None, &lb, t, 2.0 * i as f64).unwrap();
        }
        a.append(None, &lc, t, 3.0 * i as f64).unwrap();
    }
    a.commit().unwrap();
    st
}

/// Two series whose label sets coincide once the name is dropped: merged into one series when
/// they never meet at a step, rejected when they do, as Prometheus does.
#[test]
fn coinciding_label_sets_merge_or_fail_as_in_the_step_loop() {
    let engine = Engine::new(EngineOptions::default());
    let q = r#"rate({__name__=~"a_total|b_total"}[1m])"#;
    let res = engine
        .range_query(&two_names(false), q, 60_000, 585_000, 15_000)
        .unwrap();
    let Value::Matrix(m) = res.value else {
        panic!("not a matrix");
    };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].labels, Labels::from_pairs([("job", "j")]));
    assert_eq!(m[1].labels, Labels::from_pairs([("job", "k")]));
    // a_total's rate (1/s) up to its last sample, then b_total's (2/s) once it has two.
    let ts: Vec<i64> = m[0].samples.iter().map(|p| p.t).collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
    let near = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-12);
    assert!(near(m[0].samples.first().map(|p| p.v), 1.0 / 15.0));
    assert!(near(m[0].samples.last().map(|p| p.v), 2.0 / 15.0));
    assert_eq!(m[1].samples.len(), 36);
    let err = engine
        .range_query(&two_names(true), q, 60_000, 585_000, 15_000)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Execution(m) if m.contains("same labelset")),
        "{err:?}"
    );
}
