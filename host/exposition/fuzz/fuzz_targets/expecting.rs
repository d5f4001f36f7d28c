//! Differential: parsing a body while expecting the series of an earlier accepted body
//! (`Parser::next_expecting`, what the scraper does) gives exactly what plain parsing gives.
//! The input is split at its first NUL: the earlier body, then the new one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_exposition::{parse, Entry, Format};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (before, after) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let mut known: Vec<&[u8]> = Vec::new();
    for e in parse(before, Format::PromText) {
        match e {
            Ok(Entry::Series(s)) => known.push(s.raw),
            Ok(_) => {}
            Err(_) => return,
        }
    }
    let plain: Vec<_> = parse(after, Format::PromText).collect();
    let mut p = parse(after, Format::PromText);
    let mut hinted = Vec::new();
    let mut pos = 0;
    while let Some(e) = p.next_expecting(known.get(pos).copied()) {
        if matches!(e, Ok(Entry::Series(_))) {
            pos += 1;
        }
        hinted.push(e);
    }
    // Debug, not ==: NaN values are equal there.
    assert_eq!(format!("{plain:?}"), format!("{hinted:?}"));
});
