//! A large evaluation's leftovers go to the caller's `defer_frees` scope (to be freed on the
//! caller's thread after the answer is handed over), a small one's are freed at once, and a
//! nested scope does not leak its leftovers to the enclosing one (issue 21: the small query
//! after a heavy one).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sightline_model::Labels;
use sightline_promql::{defer_frees, Engine, EngineOptions, Value};
use sightline_storage_api::{Appendable, MemStorage};

/// `m` with `n` series, one sample each at 0 s and 60 s.
fn store(n: usize) -> MemStorage {
    let st = MemStorage::new();
    let mut a = st.appender();
    for i in 0..n {
        let l = Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]);
        a.append(None, &l, 0, i as f64).unwrap();
        a.append(None, &l, 60_000, i as f64 + 1.0).unwrap();
    }
    a.commit().unwrap();
    st
}

#[test]
fn a_large_evaluation_hands_its_leftovers_to_the_scope() {
    let st = store(20_000);
    let engine = Engine::new(EngineOptions::default());
    let join = "rate(m[2m]) / ignoring(i) group_left sum(rate(m[2m]))";
    let (res, deferred) = defer_frees(|| engine.instant_query(&st, join, 60_000));
    let Value::Vector(v) = res.unwrap().value else {
        panic!("not a vector")
    };
    assert_eq!(v.len(), 20_000);
    assert!(
        deferred.is_large(),
        "20,000 series read: the leftovers are the scope's"
    );
    drop(deferred);

    // A small one frees its own: nothing reaches the scope.
    let small = store(10);
    let (_, deferred) = defer_frees(|| engine.instant_query(&small, "sum(rate(m[2m]))", 60_000));
    assert!(!deferred.is_large());
}

#[test]
fn nested_scopes_keep_their_own_leftovers() {
    let st = store(20_000);
    let engine = Engine::new(EngineOptions::default());
    let (inner, outer) = defer_frees(|| {
        let (_, inner) = defer_frees(|| engine.instant_query(&st, "count(m)", 60_000));
        inner.is_large()
    });
    assert!(inner, "the inner scope took the evaluation's leftovers");
    assert!(!outer.is_large(), "the outer scope got none of them");

    // Outside any scope the evaluation frees on a thread of its own and still answers.
    let res = engine.instant_query(&st, "count(m)", 60_000).unwrap();
    let Value::Vector(v) = res.value else {
        panic!("not a vector")
    };
    assert_eq!(v[0].v, 20_000.0);
}
