//! A rough timing of the hot operations (`cargo test --release -p sightline-model
//! histogram_timing -- --ignored --nocapture`); ignored by default, asserts nothing.

use crate::histogram::*;
use std::time::Instant;

fn histogram(schema: i32, shift: i32, n: u32) -> FloatHistogram {
    FloatHistogram {
        schema,
        zero_threshold: 1e-9,
        zero_count: 3.0,
        count: 1000.0,
        sum: 123.0,
        positive_spans: vec![Span::new(shift, n / 2), Span::new(3, n / 2)],
        positive_buckets: (0..n).map(|i| f64::from(i % 7 + 1)).collect(),
        negative_spans: vec![Span::new(shift + 1, n / 4)],
        negative_buckets: (0..n / 4).map(|i| f64::from(i % 5 + 1)).collect(),
        ..FloatHistogram::default()
    }
}

#[test]
#[ignore = "timing only"]
fn histogram_timing() {
    let a = histogram(3, 0, 160);
    let b = histogram(3, 5, 160);
    let c = histogram(2, 2, 80);
    let n = 20_000u32;
    let time = |name: &str, f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        println!("{name}: {:?} per op", t.elapsed() / n);
    };
    time("add same schema, 160 buckets", &mut || {
        let mut x = a.clone();
        let _ = x.add(&b);
    });
    time("add schema 3 + 2", &mut || {
        let mut x = a.clone();
        let _ = x.add(&c);
    });
    time("kahan_add same schema", &mut || {
        let mut x = a.clone();
        let _ = x.kahan_add(&b, None);
    });
    time("detect_reset same layout", &mut || {
        let _ = a.detect_reset(&a);
    });
    time("compact(0) after add", &mut || {
        let mut x = a.clone();
        let _ = x.add(&b);
        x.compact(0);
    });
    time("to_string", &mut || {
        let _ = a.to_string();
    });
}
