//! Hostile input: random, often invalid histograms through every operation. Nothing may
//! panic or hang (Go would panic on some of these; we must not).

use crate::histogram::*;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn spans(r: &mut Rng) -> Vec<Span> {
    let n = r.below(4);
    (0..n)
        .map(|_| {
            let offset = r.pick(&[0, 1, 2, 3, -1, -3, 5, i32::MAX, i32::MIN, 1000]);
            let length = r.pick(&[0, 1, 2, 3, 4, u32::MAX]);
            Span::new(offset, length)
        })
        .collect()
}

fn float_histogram(r: &mut Rng) -> FloatHistogram {
    let ps = spans(r);
    let ns = spans(r);
    let len = |s: &[Span], r: &mut Rng| {
        let n = s
            .iter()
            .map(|x| x.length)
            .fold(0u32, u32::saturating_add)
            .min(20);
        // Mostly consistent with the spans, sometimes not.
        match r.below(5) {
            0 => n as usize + 1,
            1 => (n as usize).saturating_sub(1),
            _ => n as usize,
        }
    };
    let values = [0.0, 1.0, 2.5, 7.0, -1.0, f64::NAN, f64::INFINITY, 1e300];
    let pn = len(&ps, r);
    let nn = len(&ns, r);
    FloatHistogram {
        counter_reset_hint: CounterResetHint::from_code(r.below(4) as u8),
        schema: r.pick(&[
            CUSTOM_BUCKETS_SCHEMA,
            CUSTOM_BUCKETS_SCHEMA,
            -5,
            -4,
            -1,
            0,
            1,
            3,
            8,
            9,
            52,
        ]),
        zero_threshold: r.pick(&[0.0, 0.0, 0.001, 0.5, 1.0, 3.0, f64::NAN, f64::INFINITY]),
        zero_count: r.pick(&values),
        count: r.pick(&values),
        sum: r.pick(&values),
        positive_buckets: (0..pn).map(|_| r.pick(&values)).collect(),
        negative_buckets: (0..nn).map(|_| r.pick(&values)).collect(),
        positive_spans: ps,
        negative_spans: ns,
        custom_values: match r.below(4) {
            0 => Vec::new().into(),
            1 => vec![1.0, 2.0, 5.0].into(),
            2 => vec![2.0, 5.0, 10.0, 20.0].into(),
            _ => vec![3.0, f64::NAN, 1.0].into(),
        },
    }
}

fn int_histogram(r: &mut Rng) -> Histogram {
    let f = float_histogram(r);
    Histogram {
        counter_reset_hint: f.counter_reset_hint,
        schema: f.schema,
        zero_threshold: f.zero_threshold,
        zero_count: r.pick(&[0, 1, u64::MAX]),
        count: r.pick(&[0, 3, u64::MAX]),
        sum: f.sum,
        positive_buckets: f
            .positive_buckets
            .iter()
            .map(|_| r.pick(&[0, 1, -1, i64::MAX, i64::MIN]))
            .collect(),
        negative_buckets: f
            .negative_buckets
            .iter()
            .map(|_| r.pick(&[0, 2, -2, i64::MAX]))
            .collect(),
        positive_spans: f.positive_spans,
        negative_spans: f.negative_spans,
        custom_values: f.custom_values,
    }
}

#[test]
fn random_histograms_never_panic() {
    for seed in 1..=4u64 {
        random_round(seed);
    }
}

fn random_round(seed: u64) {
    let mut r = Rng(0x5eed_1234_abcd_0001 ^ (seed << 32));
    for _ in 0..3000 {
        let a = float_histogram(&mut r);
        let b = float_histogram(&mut r);
        let _ = a.to_string();
        let _ = a.validate();
        let _ = a.test_expression();
        let _ = a.all_bucket_iterator().take(10_000).count();
        let _ = a.all_reverse_bucket_iterator().take(10_000).count();
        let _ = a
            .float_bucket_iterator(true, 0.5, a.schema.saturating_sub(1))
            .take(10_000)
            .count();
        let _ = a.detect_reset(&b);
        let _ = a.copy_to_schema(a.schema.saturating_sub(2));
        let mut x = a.clone();
        let _ = x.add(&b);
        let mut x = a.clone();
        let _ = x.sub(&b);
        let mut x = a.clone();
        let c = if r.below(2) == 0 {
            None
        } else {
            Some(float_histogram(&mut r))
        };
        if let Ok((c, _)) = x.kahan_add(&b, c) {
            let _ = x.kahan_add(&a, Some(c));
        }
        let mut x = a.clone();
        x.compact(r.below(3) as usize);
        let mut x = a.clone();
        let _ = x.reduce_resolution(a.schema.saturating_sub(1));
        let mut x = a.clone();
        x.trim_buckets(r.pick(&[0.0, 1.5, -2.0, f64::INFINITY]), r.below(2) == 0);
        let mut x = a.clone();
        x.mul(-2.0).div(0.0);

        let h = int_histogram(&mut r);
        let _ = h.to_string();
        let _ = h.validate();
        let _ = h.to_float();
        let _ = h
            .cumulative_bucket_iterator()
            .map(|i| i.take(10_000).count());
        let mut y = h.clone();
        y.compact(r.below(3) as usize);
        let mut y = h.clone();
        let _ = y.reduce_resolution(h.schema.saturating_sub(3));
        let _ = h.equals(&y);
    }
}
