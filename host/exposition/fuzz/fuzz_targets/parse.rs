//! Feeds arbitrary bytes to both parsers and consumes every entry, decoding labels and
//! exemplars, so any panic, overflow or out-of-bounds access is found.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_exposition::{parse, Entry, Format};
use sightline_model::LabelsBuilder;

fuzz_target!(|data: &[u8]| {
    let mut b = LabelsBuilder::new();
    for format in [Format::PromText, Format::OpenMetrics] {
        let mut p = parse(data, format);
        for e in p.by_ref() {
            if let Ok(Entry::Series(s)) = e {
                b.clear();
                s.labels_into(&mut b);
                let _ = b.build();
                if let Some(x) = &s.exemplar {
                    x.labels_into(&mut b);
                }
            }
        }
        assert!(p.next().is_none());
    }
});
