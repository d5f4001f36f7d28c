//! Tests of the histogram chunk port.

use std::sync::Arc;

use sightline_model::histogram::{FloatHistogram, Histogram, Span, CUSTOM_BUCKETS_SCHEMA};

use super::*;

fn h(k: i64, spans: Vec<Span>, buckets: Vec<i64>) -> Histogram {
    let total: i64 = {
        let mut c = 0;
        buckets
            .iter()
            .map(|d| {
                c += d;
                c
            })
            .sum()
    };
    Histogram {
        schema: 1,
        count: (total + k) as u64,
        zero_count: k as u64,
        sum: k as f64 * 0.5,
        zero_threshold: 0.001,
        positive_spans: spans,
        positive_buckets: buckets,
        ..Histogram::default()
    }
}

fn decode_int(b: &[u8]) -> Vec<(i64, Histogram)> {
    let mut it = HistIter::new(b).unwrap();
    let mut v = Vec::new();
    while it.next(b) {
        let mut x = it.at_histogram();
        x.counter_reset_hint = Default::default();
        v.push((it.t, x));
    }
    assert!(it.err.is_none());
    v
}

#[test]
fn varbit_round_trips_at_every_bucket_edge() {
    let vals = [
        0i64,
        1,
        -3,
        4,
        5,
        -31,
        32,
        33,
        -255,
        256,
        2048,
        -131071,
        131072,
        16777216,
        1 << 40,
        i64::MIN,
        i64::MAX,
    ];
    let mut b = BStream::new(new_chunk(ENCODING_HISTOGRAM));
    for v in vals {
        put_varbit_int(&mut b, v);
        put_varbit_uint(&mut b, v as u64);
    }
    let mut r = BReader::new(b.buf.len());
    for v in vals {
        assert_eq!(read_varbit_int(&mut r, &b.buf), Some(v));
        assert_eq!(read_varbit_uint(&mut r, &b.buf), Some(v as u64));
    }
    // Prometheus' putVarbitInt(1): `10` then `001`.
    let mut b = BStream::new(Vec::new());
    put_varbit_int(&mut b, 1);
    assert_eq!(b.buf, vec![0b1000_1000]);
}

#[test]
fn int_chunk_round_trips_and_recodes_when_buckets_appear() {
    let mut a = HistAppender::new();
    let mut want = Vec::new();
    for k in 0..30 {
        let x = h(k, vec![Span::new(0, 2)], vec![k, 1]);
        assert!(matches!(
            a.append(None, k * 1000, &x).unwrap(),
            Appended::Same
        ));
        want.push((k * 1000, x));
    }
    // A new bucket: the chunk is recoded in place, earlier samples get an empty bucket.
    let x = h(30, vec![Span::new(0, 3)], vec![30, 1, 5]);
    assert!(matches!(
        a.append(None, 30_000, &x).unwrap(),
        Appended::Same
    ));
    let got = decode_int(a.bytes());
    assert_eq!(got.len(), 31);
    assert_eq!(got[30], (30_000, x));
    assert_eq!(got[3].1.positive_spans, vec![Span::new(0, 3)]);
    assert_eq!(got[3].1.to_float().positive_buckets, vec![3.0, 4.0, 0.0]);
    // Resuming from the bytes continues identically.
    let mut b = HistAppender::resume(a.bytes().to_vec()).unwrap();
    let y = h(31, vec![Span::new(0, 3)], vec![31, 1, 5]);
    a.append(None, 31_000, &y).unwrap();
    b.append(None, 31_000, &y).unwrap();
    assert_eq!(a.bytes(), b.bytes());
    // A counter reset cuts a new chunk with the reset header.
    let z = h(0, vec![Span::new(0, 3)], vec![0, 0, 0]);
    match a.append(None, 32_000, &z).unwrap() {
        Appended::New(n) => {
            assert_eq!(n.header(), COUNTER_RESET);
            assert_eq!(decode_int(n.bytes()), vec![(32_000, z)]);
        }
        Appended::Same => panic!("a counter reset must cut a chunk"),
    }
}

#[test]
fn float_and_custom_bucket_chunks_round_trip() {
    let mut a = FloatHistAppender::new();
    let mut want = Vec::new();
    for k in 0..50 {
        let x = FloatHistogram {
            schema: 0,
            count: 10.0 + k as f64 * 1.25,
            sum: k as f64 / 3.0,
            positive_spans: vec![Span::new(-2, 3)],
            positive_buckets: vec![1.0, 2.5 + k as f64, 3.0],
            negative_spans: vec![Span::new(1, 1)],
            negative_buckets: vec![0.5],
            ..FloatHistogram::default()
        };
        assert!(matches!(
            a.append(None, k * 15_000, &x).unwrap(),
            Appended::Same
        ));
        want.push((k * 15_000, x));
    }
    let mut it = FloatHistIter::new(a.bytes()).unwrap();
    let b = a.bytes();
    for (t, w) in &want {
        assert!(it.next(b));
        let mut g = it.at_float_histogram();
        g.counter_reset_hint = Default::default();
        assert_eq!((it.t, g), (*t, w.clone()));
    }
    assert!(!it.next(b));
    let mut c = HistAppender::new();
    let cv: Arc<[f64]> = Arc::from(vec![0.005, 0.1, 1.0, 1e9 + 0.5]);
    for k in 0..10 {
        let x = Histogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 2 * k as u64,
            sum: 1.0,
            positive_spans: vec![Span::new(0, 2)],
            positive_buckets: vec![k, 0],
            custom_values: cv.clone(),
            ..Histogram::default()
        };
        c.append(None, k, &x).unwrap();
    }
    let got = decode_int(c.bytes());
    assert_eq!(got.len(), 10);
    assert_eq!(&*got[9].1.custom_values, &*cv);
}

/// The size figure in BENCHMARKS.md: 120 samples of `latency_histograms` in one chunk.
#[test]
fn bytes_per_sample_of_a_realistic_latency_histogram() {
    let samples = crate::bench_support::latency_histograms(120, 42);
    let mut a = HistAppender::new();
    for (t, h) in &samples {
        assert!(matches!(a.append(None, *t, h).unwrap(), Appended::Same));
    }
    let per = (a.bytes().len() - 1) as f64 / 120.0;
    println!(
        "int histogram chunk: {} bytes for 120 samples, {per:.1} bytes/sample",
        a.bytes().len() - 1
    );
    // The same data as a classic histogram: 32 cumulative `_bucket` series plus `+Inf`,
    // `_count` and `_sum`, each in its persisted float chunk (the smaller of XOR and decimal).
    let mut series: Vec<Vec<sightline_model::Sample>> = vec![Vec::new(); 35];
    for (t, h) in &samples {
        let f = h.to_float();
        let mut cum = 0.0;
        for (i, b) in f.positive_buckets.iter().enumerate() {
            cum += b;
            series[i].push(sightline_model::Sample { t: *t, v: cum });
        }
        series[32].push(sightline_model::Sample { t: *t, v: f.count });
        series[33].push(sightline_model::Sample { t: *t, v: f.count });
        series[34].push(sightline_model::Sample { t: *t, v: f.sum });
    }
    let classic: usize = series
        .iter()
        .map(|s| crate::chunk::encode_best(s).len())
        .sum();
    println!(
        "classic histogram, 35 float series: {classic} bytes, {:.1} bytes per histogram sample",
        classic as f64 / 120.0
    );
    assert!(per < 40.0, "{per} bytes a sample");
}

/// Step `k` of `testdata/golden.py`'s workload.
fn golden_workload(k: i64) -> (i64, Histogram) {
    let t = 1_700_000_000_000 + k * 15_000 + (k * 7 % 11) - 5;
    let nb = if k >= 50 { 25 } else { 24 };
    let pos: Vec<i64> = (0..nb)
        .map(|i| k * (i % 5 + 3) + ((k * k + i) % 3))
        .collect();
    let neg = [k, 2 * k];
    let zc = k / 2;
    let count = pos.iter().sum::<i64>() + neg.iter().sum::<i64>() + zc;
    let deltas = |a: &[i64]| {
        let mut prev = 0;
        a.iter()
            .map(|x| {
                let d = x - prev;
                prev = *x;
                d
            })
            .collect::<Vec<_>>()
    };
    let h = Histogram {
        schema: 3,
        zero_threshold: 2f64.powi(-128),
        zero_count: zc as u64,
        count: count as u64,
        sum: k as f64 * 1.5 + ((k * k) % 97) as f64 * 0.125,
        positive_spans: vec![Span::new(-5, 10), Span::new(2, (nb - 10) as u32)],
        negative_spans: vec![Span::new(0, 2)],
        positive_buckets: deltas(&pos),
        negative_buckets: deltas(&neg),
        ..Histogram::default()
    };
    (t, h)
}

/// Byte-exactness: the chunks Prometheus 2.42 itself wrote (remote write into its head,
/// read back from its `chunks_head` file by `testdata/golden.py`) are what our appender
/// writes for the same samples, including the in-place recode when a bucket appears
/// (sample 50) and the second chunk's counter-reset header. (2.42's integer histogram
/// encoding for exponential schemas is the one the port follows at HEAD.)
#[test]
fn golden_chunks_match_prometheus_byte_for_byte() {
    let golden = include_str!("testdata/prometheus-chunks.txt");
    let mut k = 0i64;
    let mut prev: Option<HistAppender> = None;
    let mut n_chunks = 0;
    for line in golden.lines().filter(|l| !l.is_empty()) {
        let (n, hex) = line.split_once(' ').unwrap();
        let n: i64 = n.parse().unwrap();
        let want: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let mut a = HistAppender::new();
        for _ in 0..n {
            let (t, h) = golden_workload(k);
            let p = if a.is_empty() { prev.as_ref() } else { None };
            assert!(
                matches!(a.append(p, t, &h).unwrap(), Appended::Same),
                "sample {k}"
            );
            k += 1;
        }
        assert_eq!(&a.bytes()[1..], &want[..], "chunk {n_chunks}");
        prev = Some(a);
        n_chunks += 1;
    }
    assert_eq!(n_chunks, 2);
}

/// The fuzzer's round trip on a few fixed and pseudo-random inputs (so `cargo test` runs
/// the oracle too).
#[test]
fn fuzz_round_trip_oracle_holds_on_sample_inputs() {
    let mut rng = fastrand::Rng::with_seed(7);
    for n in 0..200 {
        let data: Vec<u8> = (0..(n * 13 % 1500)).map(|_| rng.u8(..)).collect();
        crate::bench_support::histogram_round_trip(&data);
    }
}

/// Gauge histograms: buckets may come and go both ways without a new chunk (the layout
/// widens to the union), and every sample reads back with the same non-empty buckets.
#[test]
fn gauge_histograms_take_layout_changes_both_ways() {
    use sightline_model::histogram::CounterResetHint;
    let mk = |k: i64, spans: Vec<Span>, abs: Vec<i64>| {
        let mut prev = 0;
        let deltas = abs
            .iter()
            .map(|x| {
                let d = x - prev;
                prev = *x;
                d
            })
            .collect();
        Histogram {
            counter_reset_hint: CounterResetHint::Gauge,
            schema: 0,
            count: abs.iter().sum::<i64>() as u64,
            sum: k as f64,
            positive_spans: spans,
            positive_buckets: deltas,
            ..Histogram::default()
        }
    };
    let samples = [
        mk(0, vec![Span::new(0, 2)], vec![5, 3]),
        // Fewer observations and a bucket gone: fine for a gauge.
        mk(1, vec![Span::new(1, 1)], vec![1]),
        // A new bucket before the others.
        mk(2, vec![Span::new(-2, 1), Span::new(1, 2)], vec![4, 2, 2]),
    ];
    let mut a = HistAppender::new();
    for (k, h) in samples.iter().enumerate() {
        assert!(
            matches!(a.append(None, k as i64, h).unwrap(), Appended::Same),
            "sample {k}"
        );
    }
    assert_eq!(a.header(), GAUGE_TYPE);
    let got = decode_int(a.bytes());
    let nonempty = |h: &Histogram| {
        let f = h.to_float();
        let mut idx = 0i64;
        let mut c = f.positive_buckets.iter();
        let mut out = Vec::new();
        for s in &f.positive_spans {
            idx += i64::from(s.offset);
            for _ in 0..s.length {
                if let Some(v) = c.next().filter(|v| **v != 0.0) {
                    out.push((idx, *v));
                }
                idx += 1;
            }
        }
        (f.count, f.sum, out)
    };
    for ((_, g), w) in got.iter().zip(&samples) {
        assert_eq!(nonempty(g), nonempty(w));
    }
}
