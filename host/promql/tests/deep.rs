//! Deeply nested queries (issue 13): every shape that used to overflow the stack is answered
//! at 1,000 levels, as Prometheus answers it, and rejected with a positioned parse error past
//! `MAX_DEPTH`, on a thread with a 2 MiB stack (tokio's blocking threads), where parsing,
//! type checks, printing, pretty-printing, evaluation and dropping all have to fit.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use sightline_model::Labels;
use sightline_promql::{parse, Engine, EngineOptions, Value, MAX_DEPTH};
use sightline_storage_api::{Appendable, MemStorage};

/// A shape's name and a builder of the query nested `n` levels deep.
type Shape = (&'static str, fn(usize) -> String);

fn shapes() -> Vec<Shape> {
    vec![
        ("parentheses", |n| {
            format!("{}m{}", "(".repeat(n), ")".repeat(n))
        }),
        ("power chain", |n| format!("{}1", "1^".repeat(n))),
        ("negated parentheses", |n| {
            format!("{}m{}", "-(".repeat(n), ")".repeat(n))
        }),
        ("unary minus", |n| format!("{}m", "-".repeat(n))),
        ("abs", |n| format!("{}m{}", "abs(".repeat(n), ")".repeat(n))),
        ("sum", |n| format!("{}m{}", "sum(".repeat(n), ")".repeat(n))),
        ("or chain", |n| format!("{}m", "m or ".repeat(n))),
        ("plus chain", |n| format!("{}m", "m + ".repeat(n))),
        ("and chain in parentheses", |n| {
            format!("{}m{}", "(m and ".repeat(n), ")".repeat(n))
        }),
        ("subquery nesting", |n| {
            format!("{}m{}", "max_over_time(".repeat(n), "[1m:])".repeat(n))
        }),
        ("duration chain", |n| {
            format!("m offset ({}0s)", "0s + ".repeat(n))
        }),
        ("duration parentheses", |n| {
            format!("max_over_time(m[{}1m{}])", "(".repeat(n), ")".repeat(n))
        }),
    ]
}

fn storage() -> MemStorage {
    let st = MemStorage::new();
    let mut a = st.appender();
    for i in 0..20 {
        a.append(
            None,
            &Labels::from_pairs([("__name__", "m")]),
            i * 15_000,
            1.0,
        )
        .unwrap();
    }
    a.commit().unwrap();
    st
}

/// Runs `f` on a thread with a 2 MiB stack, like a tokio blocking thread.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .expect("the query thread died")
}

fn engine() -> Engine {
    Engine::new(EngineOptions {
        timeout: Duration::from_secs(30),
        ..Default::default()
    })
}

#[test]
fn a_thousand_levels_of_every_shape_are_answered() {
    on_small_stack(|| {
        let st = storage();
        let engine = engine();
        for (name, build) in shapes() {
            let q = build(1000);
            let e = parse(&q).unwrap_or_else(|err| panic!("{name}: {err}"));
            // The printed and pretty forms parse back to the same expression.
            let printed = e.to_string();
            assert_eq!(parse(&printed).unwrap().to_string(), printed, "{name}");
            assert_eq!(parse(&e.pretty()).unwrap().to_string(), printed, "{name}");
            let v = engine
                .instant_query(&st, &q, 200_000)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            let got = match v.value {
                Value::Scalar { v, .. } => v,
                Value::Vector(s) => {
                    assert_eq!(s.len(), 1, "{name}");
                    s[0].v
                }
                other => panic!("{name}: {other:?}"),
            };
            let want = if name == "plus chain" { 1001.0 } else { 1.0 };
            assert_eq!(got, want, "{name}");
        }
    });
}

#[test]
fn a_thousand_levels_evaluate_over_a_range() {
    on_small_stack(|| {
        let st = storage();
        let engine = engine();
        for (name, build) in shapes() {
            let q = build(1000);
            let r = engine
                .range_query(&st, &q, 100_000, 250_000, 15_000)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            let Value::Matrix(m) = r.value else {
                panic!("{name}: not a matrix")
            };
            assert_eq!(m.len(), 1, "{name}");
        }
    });
}

#[test]
fn past_the_limit_every_shape_is_a_positioned_parse_error() {
    on_small_stack(|| {
        for (name, build) in shapes() {
            for n in [MAX_DEPTH + 1, 100_000] {
                let q = build(n);
                let t = Instant::now();
                let err = parse(&q).expect_err(name);
                assert!(
                    err.msg.contains("nested too deeply"),
                    "{name} at {n}: {err}"
                );
                assert!(err.start > 0 && err.start < q.len(), "{name}: {err:?}");
                assert!(
                    t.elapsed() < Duration::from_secs(2),
                    "{name} at {n}: {:?}",
                    t.elapsed()
                );
            }
        }
    });
}

#[test]
fn the_deepest_accepted_trees_fit_a_small_stack() {
    // Deepest accepted form of each shape: parse, print, pretty-print, evaluate and drop on
    // a 2 MiB stack.
    on_small_stack(|| {
        let st = storage();
        let engine = engine();
        for (name, build) in shapes() {
            // The most levels of this shape that parse (binary search: the parser
            // accepts every depth up to its limit).
            let (mut ok, mut bad) = (MAX_DEPTH / 4, MAX_DEPTH + 1);
            assert!(parse(&build(ok)).is_ok(), "{name}: {} levels", ok);
            while bad - ok > 1 {
                let mid = (ok + bad) / 2;
                if parse(&build(mid)).is_ok() {
                    ok = mid;
                } else {
                    bad = mid;
                }
            }
            let n = ok;
            let e = parse(&build(n)).unwrap();
            let _ = e.pretty();
            drop(e.clone());
            let _ = engine.instant_query(&st, &build(n), 200_000);
        }
    });
}

#[test]
fn a_postfix_subquery_chain_is_an_error() {
    let q = format!("m{}", "[1m:]".repeat(100_000));
    assert!(on_small_stack(move || parse(&q).is_err()));
}

#[test]
fn a_chain_of_fifty_thousand_terms_is_rejected_quickly() {
    for op in ["or", "and", "+"] {
        let q = format!("{}m", format!("m {op} ").repeat(50_000));
        let t = Instant::now();
        let err = on_small_stack(move || parse(&q).unwrap_err());
        assert!(err.msg.contains("nested too deeply"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }
}
