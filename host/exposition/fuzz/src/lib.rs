//! The checks of the `proto` fuzz target, shared with `tests/proto_fuzz_seeds.rs`: any bytes
//! parse as a protobuf exposition under every combination of histogram options without
//! panicking; every entry can be consumed (labels built, exemplars read); every native
//! histogram handed out has spans that describe exactly its buckets; and after an error the
//! parser yields nothing more.

use sightline_exposition::proto::{parse_proto, ProtoEntry, ProtoOptions, ProtoValue};
use sightline_model::{LabelsBuilder, Span};

fn spans_cover(spans: &[Span], n: usize) -> bool {
    spans.iter().map(|s| u64::from(s.length)).sum::<u64>() == n as u64
}

/// Runs every check on `data`.
pub fn proto(data: &[u8]) {
    let mut b = LabelsBuilder::new();
    for bits in 0u8..8 {
        let opts = ProtoOptions {
            ignore_native_histograms: bits & 1 != 0,
            keep_classic_histograms: bits & 2 != 0,
            convert_classic_histograms_to_nhcb: bits & 4 != 0,
        };
        let mut p = parse_proto(data, opts);
        let mut failed = false;
        while let Some(e) = p.next_entry() {
            let Ok(e) = e else {
                failed = true;
                continue;
            };
            assert!(!failed, "an entry after an error");
            if let ProtoEntry::Sample(s) = e {
                b.clear();
                s.labels_into(&mut b);
                let _ = b.build();
                for x in s.exemplars {
                    let _ = (x.labels.len(), x.value, x.timestamp_ms);
                }
                match s.value {
                    ProtoValue::Histogram(h) => {
                        assert!(spans_cover(&h.positive_spans, h.positive_buckets.len()));
                        assert!(spans_cover(&h.negative_spans, h.negative_buckets.len()));
                    }
                    ProtoValue::FloatHistogram(h) => {
                        assert!(spans_cover(&h.positive_spans, h.positive_buckets.len()));
                        assert!(spans_cover(&h.negative_spans, h.negative_buckets.len()));
                    }
                    ProtoValue::Float(_) => {}
                }
            }
        }
        assert!(p.next_entry().is_none());
    }
}
