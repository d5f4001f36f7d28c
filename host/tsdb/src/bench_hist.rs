//! Histogram chunk entry points for the benches and the fuzzer (`bench_support`).

use sightline_model::histogram::{FloatHistogram, Histogram, Span};

use crate::anychunk::{self, AnySample, AnyValue, HistValue};

/// Encodes integer histograms (sorted by time) into chunks as the head would (Prometheus'
/// encoding, a new chunk where the appender asks for one or every 120 samples).
pub fn encode_histograms(samples: &[(i64, Histogram)]) -> Vec<Vec<u8>> {
    let any: Vec<AnySample> = samples
        .iter()
        .map(|(t, h)| AnySample {
            t: *t,
            v: AnyValue::H(HistValue::Int(h.clone())),
        })
        .collect();
    anychunk::encode_any(&any, true)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.2.to_vec())
        .collect()
}

/// Appends integer histograms to chunks as the head's appender does (a new chunk where the
/// appender asks for one); returns the chunks' bytes in total. No copies of the input.
pub fn append_histograms(samples: &[(i64, Histogram)]) -> usize {
    let mut a = crate::histchunk::HistAppender::new();
    let mut done = 0;
    for (t, h) in samples {
        if let Ok(crate::histchunk::Appended::New(n)) = a.append(None, *t, h) {
            done += a.bytes().len();
            a = n;
        }
    }
    done + a.bytes().len()
}

/// Decodes a chunk of any encoding as a reader does; returns the samples read.
pub fn decode_any_chunk(chunk: &[u8]) -> usize {
    anychunk::decode_read(chunk).map_or(0, |v| v.len())
}

/// The non-empty buckets of a float histogram by absolute index: what a histogram means,
/// independent of the layout it is written in (a recoded chunk adds empty buckets).
fn buckets(spans: &[Span], counts: &[f64]) -> Vec<(i64, u64)> {
    let mut out = Vec::new();
    let mut idx = 0i64;
    let mut c = counts.iter();
    // Offsets after the first span count from the previous span's end, which `idx` is.
    for s in spans {
        idx += i64::from(s.offset);
        for _ in 0..s.length {
            if let Some(v) = c.next() {
                if *v != 0.0 {
                    out.push((idx, v.to_bits()));
                }
            }
            idx += 1;
        }
    }
    out
}

/// Schema, zero threshold, zero count, count and sum bits, positive and negative buckets.
type Meaning = (i32, u64, u64, u64, u64, Vec<(i64, u64)>, Vec<(i64, u64)>);

fn meaning(h: &FloatHistogram) -> Meaning {
    (
        h.schema,
        h.zero_threshold.to_bits(),
        h.zero_count.to_bits(),
        h.count.to_bits(),
        h.sum.to_bits(),
        buckets(&h.positive_spans, &h.positive_buckets),
        buckets(&h.negative_spans, &h.negative_buckets),
    )
}

/// Builds integer or float histogram samples from fuzz bytes, encodes them as the head and
/// partitions do and checks that every sample decodes to the same histogram (same counts,
/// sum bits, zero bucket and non-empty buckets). Panics on a mismatch.
pub fn histogram_round_trip(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let float = head & 1 == 1;
    let schema = i32::from(head >> 1 & 7) - 4;
    let mut abs: Vec<i64> = Vec::new();
    let mut offset = 0i32;
    let mut t = 0i64;
    let mut samples = Vec::new();
    for c in rest.chunks_exact(6).take(300) {
        t += i64::from(c[0]) * 7 + 1;
        match c[1] % 8 {
            // A new bucket at either end (a layout change the chunk recodes for).
            0 => abs.push(0),
            1 => {
                abs.insert(0, 0);
                offset -= 1;
            }
            _ => {}
        }
        if abs.len() > 40 {
            abs.truncate(40);
        }
        let step = i64::from(u16::from_le_bytes([c[2], c[3]]));
        for (i, b) in abs.iter_mut().enumerate() {
            // Mostly growing, sometimes falling (a counter reset).
            let d = (step >> (i % 8)) & 7;
            *b = if c[1] == 0xff { d } else { *b + d };
        }
        let count: i64 = abs.iter().sum::<i64>() + i64::from(c[4]);
        let sum = if c[5] == 0xff {
            sightline_model::stale_nan()
        } else {
            f64::from(c[5]) * 0.375 + t as f64
        };
        let spans = if abs.is_empty() {
            vec![]
        } else {
            vec![Span::new(offset, abs.len() as u32)]
        };
        let mut prev = 0;
        let deltas: Vec<i64> = abs
            .iter()
            .map(|x| {
                let d = x - prev;
                prev = *x;
                d
            })
            .collect();
        let h = Histogram {
            schema,
            zero_threshold: if c[4] & 1 == 1 { 1e-128 } else { 0.001 },
            zero_count: u64::from(c[4]),
            count: count as u64,
            sum,
            positive_spans: spans,
            positive_buckets: deltas,
            ..Histogram::default()
        };
        let v = if float {
            HistValue::Float(h.to_float())
        } else {
            HistValue::Int(h)
        };
        samples.push(AnySample {
            t,
            v: AnyValue::H(v),
        });
    }
    // A failure is the finding: this is the fuzzer's oracle.
    let chunks = match anychunk::encode_any(&samples, true) {
        Ok(c) => c,
        Err(e) => panic!("own histograms do not encode: {e}"),
    };
    let mut back = Vec::new();
    for (min_t, max_t, c) in &chunks {
        let got = match anychunk::decode_any(c) {
            Ok(g) => g,
            Err(e) => panic!("own encoding does not decode: {e}"),
        };
        assert_eq!(
            (got.first().map(|s| s.t), got.last().map(|s| s.t)),
            (Some(*min_t), Some(*max_t))
        );
        back.extend(got);
    }
    assert_eq!(back.len(), samples.len());
    for (a, b) in back.iter().zip(&samples) {
        assert_eq!(a.t, b.t);
        let (AnyValue::H(x), AnyValue::H(y)) = (&a.v, &b.v) else {
            panic!("histograms decode as histograms");
        };
        if y.is_stale() {
            assert!(x.is_stale());
            continue;
        }
        assert_eq!(
            meaning(&x.to_float()),
            meaning(&y.to_float()),
            "sample at {}",
            a.t
        );
    }
}

/// `n` samples of a latency histogram scraped every 15 s (with ±20 ms jitter): schema 3,
/// 32 populated buckets around the median, each bucket growing by a random 0..=w
/// observations a scrape (w from 1 at the tails to 16 at the median), the sum growing by
/// those observations' bucket midpoints. Deterministic for a seed.
pub fn latency_histograms(n: usize, seed: u64) -> Vec<(i64, Histogram)> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut abs = vec![0i64; 32];
    let (mut count, mut sum) = (0u64, 0.0f64);
    (0..n as i64)
        .map(|k| {
            for (i, b) in abs.iter_mut().enumerate() {
                let weight = 16 - (i as i64 - 16).abs();
                let d = rng.i64(0..=weight.max(1));
                *b += d;
                count += d as u64;
                sum += d as f64 * 2f64.powf((i as f64 - 40.0) / 8.0);
            }
            let mut prev = 0;
            let deltas = abs
                .iter()
                .map(|x| {
                    let d = x - prev;
                    prev = *x;
                    d
                })
                .collect();
            let h = Histogram {
                schema: 3,
                zero_threshold: 2f64.powi(-128),
                count,
                sum,
                positive_spans: vec![Span::new(-40, 32)],
                positive_buckets: deltas,
                ..Histogram::default()
            };
            (1_700_000_000_000 + k * 15_000 + rng.i64(-20..=20), h)
        })
        .collect()
}
