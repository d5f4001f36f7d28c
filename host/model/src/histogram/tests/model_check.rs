//! Differential checks against a naive model: a histogram side as a map from bucket index to
//! count. Random valid layouts (gaps, adjacent spans, empty buckets) exercise the span
//! surgery of add, sub, compact and resolution reduction.

use std::collections::BTreeMap;

use crate::histogram::*;

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
}

/// A valid side: spans with non-negative gaps after the first, small integer counts (so
/// float sums are exact), some of them zero.
fn side(r: &mut Rng) -> (Vec<Span>, Vec<f64>) {
    let mut spans = Vec::new();
    let mut buckets = Vec::new();
    for i in 0..r.below(4) {
        let offset = if i == 0 {
            r.below(9) as i32 - 4
        } else {
            r.below(4) as i32
        };
        let length = r.below(4) as u32;
        spans.push(Span::new(offset, length));
        for _ in 0..length {
            buckets.push(r.below(4) as f64);
        }
    }
    (spans, buckets)
}

fn histogram(r: &mut Rng, schema: i32) -> FloatHistogram {
    let (ps, pb) = side(r);
    let (ns, nb) = side(r);
    let total = pb.iter().chain(&nb).fold(0.0, |a, b| a + b);
    FloatHistogram {
        schema,
        count: total,
        sum: 1.5,
        positive_spans: ps,
        positive_buckets: pb,
        negative_spans: ns,
        negative_buckets: nb,
        ..FloatHistogram::default()
    }
}

/// Index → count of the populated buckets of one side.
fn model(it: impl Iterator<Item = Bucket<f64>>) -> BTreeMap<i32, f64> {
    it.filter(|b| b.count != 0.0)
        .map(|b| (b.index, b.count))
        .collect()
}

fn combine(a: &BTreeMap<i32, f64>, b: &BTreeMap<i32, f64>, sign: f64) -> BTreeMap<i32, f64> {
    let mut out = a.clone();
    for (k, v) in b {
        *out.entry(*k).or_insert(0.0) += sign * v;
    }
    out.retain(|_, v| *v != 0.0);
    out
}

fn reduce(m: &BTreeMap<i32, f64>, from: i32, to: i32) -> BTreeMap<i32, f64> {
    let mut out = BTreeMap::new();
    for (k, v) in m {
        // Go's targetIdx.
        *out.entry(((k - 1) >> (from - to)) + 1).or_insert(0.0) += v;
    }
    out
}

#[test]
fn operations_agree_with_the_naive_model() {
    let mut r = Rng(0x0dd_ba11_cafe_f00d);
    for round in 0..4000 {
        let schema = r.below(4) as i32;
        let a = histogram(&mut r, schema);
        let b_schema = if r.below(3) == 0 { schema + 1 } else { schema };
        let b = histogram(&mut r, b_schema);
        assert_eq!(a.validate(), Ok(()));
        let (ap, an) = (
            model(a.positive_bucket_iterator()),
            model(a.negative_bucket_iterator()),
        );
        let (bp, bn) = (
            reduce(&model(b.positive_bucket_iterator()), b_schema, schema),
            reduce(&model(b.negative_bucket_iterator()), b_schema, schema),
        );

        for sign in [1.0, -1.0] {
            let mut x = a.clone();
            if sign > 0.0 {
                x.add(&b).unwrap();
            } else {
                x.sub(&b).unwrap();
            }
            assert!(x.validate().is_ok() || sign < 0.0, "round {round}");
            assert_eq!(x.schema, schema);
            assert_eq!(
                model(x.positive_bucket_iterator()),
                combine(&ap, &bp, sign),
                "round {round} sign {sign}"
            );
            assert_eq!(
                model(x.negative_bucket_iterator()),
                combine(&an, &bn, sign),
                "round {round} sign {sign}"
            );
            let before = (
                model(x.positive_bucket_iterator()),
                model(x.negative_bucket_iterator()),
            );
            for max_empty in [0, 1, 3] {
                let mut y = x.clone();
                y.compact(max_empty);
                assert_eq!(
                    (
                        model(y.positive_bucket_iterator()),
                        model(y.negative_bucket_iterator())
                    ),
                    before
                );
                if max_empty == 0 {
                    assert!(y
                        .positive_buckets
                        .iter()
                        .chain(&y.negative_buckets)
                        .all(|v| *v != 0.0));
                }
                // Compact output is canonical: no zero-length span, no zero gap after the first.
                for s in [&y.positive_spans, &y.negative_spans] {
                    assert!(s.iter().all(|s| s.length > 0), "round {round}: {s:?}");
                    assert!(
                        s.iter().skip(1).all(|s| s.offset > max_empty as i32),
                        "round {round}: {s:?}"
                    );
                }
            }
        }

        // Kahan addition with small integers is exact: the compensation stays zero.
        let mut k = a.clone();
        let (c, _) = k.kahan_add(&b, None).unwrap();
        assert_eq!(
            model(k.positive_bucket_iterator()),
            combine(&ap, &bp, 1.0),
            "round {round}"
        );
        assert!(c
            .positive_buckets
            .iter()
            .chain(&c.negative_buckets)
            .all(|v| *v == 0.0));

        // Reset detection: a is compared with a + b (never a reset) and a + b with a (a reset
        // exactly when b had a populated bucket or observations).
        let mut sum = a.clone();
        sum.add(&b).unwrap();
        sum.compact(0);
        assert!(!sum.detect_reset(&a), "round {round}");
        let b_populated = b.count > 0.0;
        assert_eq!(a.detect_reset(&sum), b_populated, "round {round}");

        // Resolution reduction merges buckets as targetIdx says.
        if schema > -4 {
            let mut x = a.clone();
            x.reduce_resolution(schema - 1).unwrap();
            assert_eq!(
                model(x.positive_bucket_iterator()),
                reduce(&ap, schema, schema - 1)
            );
            assert_eq!(
                model(x.negative_bucket_iterator()),
                reduce(&an, schema, schema - 1)
            );
            let y = a.copy_to_schema(schema - 1).unwrap();
            assert!(x.equals(&y));
        }
    }
}

/// Delta-encodes absolute counts.
fn deltas(v: &[f64]) -> Vec<i64> {
    let mut prev = 0i64;
    v.iter()
        .map(|x| {
            let d = *x as i64 - prev;
            prev = *x as i64;
            d
        })
        .collect()
}

#[test]
fn integer_compaction_and_reduction_agree_with_the_naive_model() {
    let mut r = Rng(0x1234_5678_9abc_def1);
    for round in 0..4000 {
        let schema = r.below(4) as i32;
        let f = histogram(&mut r, schema);
        let h = Histogram {
            schema,
            count: f.count as u64,
            sum: f.sum,
            positive_spans: f.positive_spans.clone(),
            positive_buckets: deltas(&f.positive_buckets),
            negative_spans: f.negative_spans.clone(),
            negative_buckets: deltas(&f.negative_buckets),
            ..Histogram::default()
        };
        assert_eq!(h.validate(), Ok(()), "round {round}");
        let m = |h: &Histogram| -> (BTreeMap<i32, u64>, BTreeMap<i32, u64>) {
            let side = |it: RegularBucketIterator<'_>| {
                it.filter(|b| b.count != 0)
                    .map(|b| (b.index, b.count))
                    .collect()
            };
            (
                side(h.positive_bucket_iterator()),
                side(h.negative_bucket_iterator()),
            )
        };
        let before = m(&h);
        for max_empty in [0, 1, 3] {
            let mut y = h.clone();
            y.compact(max_empty);
            assert_eq!(m(&y), before, "round {round} max_empty {max_empty}");
            assert_eq!(y.validate(), Ok(()), "round {round}");
            let mut x = f.clone();
            x.compact(max_empty);
            assert!(
                y.to_float().equals(&x),
                "round {round} max_empty {max_empty}: integer and float compaction agree\nf={f:?}\nh={h:?}\ny={y:?}\nx={x:?}"
            );
        }
        if schema > -4 {
            let mut y = h.clone();
            y.reduce_resolution(schema - 1).unwrap();
            let mut x = f.clone();
            x.reduce_resolution(schema - 1).unwrap();
            assert!(y.to_float().equals(&x), "round {round}");
        }
    }
}

#[test]
fn zero_bucket_reconciliation_keeps_every_observation() {
    let mut r = Rng(0xfeed_beef_0000_0042);
    let thresholds = [0.0, 0.001, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0];
    let mut checked = 0;
    for round in 0..8000 {
        let schema = r.below(3) as i32 - 1;
        let mut a = histogram(&mut r, schema);
        let mut b = histogram(&mut r, schema);
        a.zero_threshold = thresholds[r.below(thresholds.len() as u64) as usize];
        b.zero_threshold = thresholds[r.below(thresholds.len() as u64) as usize];
        a.zero_count = r.below(3) as f64;
        b.zero_count = r.below(3) as f64;
        // Inputs with populated buckets inside their own zero bucket stay as they are (in
        // Go too); only clean inputs can be checked for a clean result.
        let clean = |h: &FloatHistogram| {
            h.positive_bucket_iterator()
                .all(|b| b.count == 0.0 || b.lower >= h.zero_threshold)
                && h.negative_bucket_iterator()
                    .all(|b| b.count == 0.0 || b.upper <= -h.zero_threshold)
        };
        if !clean(&a) || !clean(&b) {
            continue;
        }
        checked += 1;
        let total = |h: &FloatHistogram| {
            h.zero_count
                + h.positive_buckets
                    .iter()
                    .chain(&h.negative_buckets)
                    .fold(0.0, |x, y| x + y)
        };
        let want = total(&a) + total(&b);
        let mut x = a.clone();
        x.add(&b).unwrap();
        assert_eq!(total(&x), want, "round {round}");
        assert!(
            x.zero_threshold >= a.zero_threshold.max(b.zero_threshold),
            "round {round}"
        );
        // No populated bucket is left inside the zero bucket.
        for bucket in x.positive_bucket_iterator().filter(|b| b.count != 0.0) {
            assert!(
                bucket.lower >= x.zero_threshold,
                "round {round}: {bucket} in {x}"
            );
        }
        for bucket in x.negative_bucket_iterator().filter(|b| b.count != 0.0) {
            assert!(
                bucket.upper <= -x.zero_threshold,
                "round {round}: {bucket} in {x}"
            );
        }
        // Kahan addition reconciles the same way.
        let mut k = a.clone();
        let (c, _) = k.kahan_add(&b, None).unwrap();
        k.add(&c).unwrap();
        k.compact(0);
        x.compact(0);
        assert!(k.equals(&x), "round {round}: {k} vs {x}");
    }
    assert!(checked > 1000, "{checked}");
}
