//! Bad or extreme input never panics: every prefix of every suite expression parses or fails
//! cleanly, and extreme timestamps, ranges and nestings evaluate or fail with an error.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sightline_model::Labels;
use sightline_promql::{parse, Engine, EngineOptions};
use sightline_storage_api::{Appendable, MemStorage};

#[test]
fn every_prefix_of_suite_expressions_parses_or_errors() {
    let dir = sightline_tests::vendored("conformance/promql");
    assert!(
        dir.is_dir(),
        "promqltest suite missing at {}",
        dir.display()
    );
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("suite dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "test") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("eval"))
        {
            for (i, _) in line.char_indices() {
                let r = std::panic::catch_unwind(|| parse(&line[i..]).map(|e| e.to_string()));
                assert!(r.is_ok(), "parser panicked on {:?}", &line[i..]);
                n += 1;
            }
        }
    }
    assert!(n > 10_000);
}

#[test]
fn extreme_queries_do_not_panic() {
    let st = MemStorage::new();
    let mut a = st.appender();
    for i in 0..100 {
        a.append(
            None,
            &Labels::from_pairs([("__name__", "m")]),
            i * 15_000,
            i as f64,
        )
        .unwrap();
    }
    a.commit().unwrap();
    let engine = Engine::new(EngineOptions {
        timeout: std::time::Duration::from_millis(300),
        max_samples: 100_000,
        ..Default::default()
    });
    let queries = [
        "m @ 9223372036854775",
        "m @ -9223372036854775",
        "m offset 292y",
        "m offset -292y",
        "rate(m[292y])",
        "max_over_time(m[1y:1ms])",
        "sum_over_time(m[5m:1s] offset -292y)",
        "m[1000000000000000s]",
        "((((((((((m))))))))))[5m:1m][10m:1m][20m:1m]",
        "count_over_time(m[1ms:1ms])",
        "histogram_quantile(NaN, m)",
        "topk(9.3e18, m)",
        "topk(-9.3e18, m)",
        "label_replace(m, \"a\", \"$1$2$99\", \"__name__\", \"(.*)\")",
        "round(m, 0)",
        "m / 0 % 0 ^ -1",
        "quantile(2, m)",
        "limit_ratio(-5, m)",
        "count_values(\"v\", m)",
        "clamp(m, NaN, NaN)",
        "predict_linear(m[5m], 1e308)",
        "double_exponential_smoothing(m[5m], 0.5, 0.5)",
        "absent_over_time(nope[5m])",
        "sort_by_label(m, \"a\", \"b\")",
        "vector(time()) @ start()",
    ];
    for q in queries {
        for t in [0, 1_000_000, i64::MAX / 4, i64::MIN / 4] {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = engine.instant_query(&st, q, t);
                let _ = engine.range_query(&st, q, t, t.saturating_add(600_000), 60_000);
            }));
            assert!(r.is_ok(), "{q} at {t} panicked");
        }
    }
}
