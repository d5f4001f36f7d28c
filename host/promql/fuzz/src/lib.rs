//! The checks behind the PromQL fuzz targets, shared with the seed replay test
//! (`host/promql/tests/fuzz_seeds.rs`, which includes this file), so that `cargo test`
//! runs every committed seed through exactly what the fuzzer runs.

use sightline_promql::parse as parse_expr;

/// Printed nesting (brackets of any kind) beyond which the round trip is not required: the
/// printer may add parentheses, and the parser is allowed to reject deep input.
const ROUND_TRIP_MAX_DEPTH: usize = 64;

/// Any text: parsing gives a tree or an error, never a panic; a tree prints both ways.
pub fn parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = parse_expr(text) {
        let _ = expr.to_string();
        let _ = expr.pretty();
    }
}

/// Whatever parses prints (plainly and prettily) to text that parses back to the same tree:
/// parse(print(parse(x))) == parse(x), compared through the printed form because trees
/// carry byte positions.
pub fn roundtrip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(first) = parse_expr(text) else {
        return;
    };
    let printed = first.to_string();
    if depth(&printed) > ROUND_TRIP_MAX_DEPTH {
        return;
    }
    let second = match parse_expr(&printed) {
        Ok(e) => e,
        Err(e) => panic!("{text:?} printed as {printed:?}, which does not parse: {e}"),
    };
    assert_eq!(
        second.to_string(),
        printed,
        "printing {text:?} is not stable"
    );
    let pretty = first.pretty();
    let third = match parse_expr(&pretty) {
        Ok(e) => e,
        Err(e) => panic!("{text:?} pretty-printed as {pretty:?}, which does not parse: {e}"),
    };
    assert_eq!(
        third.to_string(),
        printed,
        "{text:?} pretty-printed as {pretty:?} parses to a different tree"
    );
}

fn depth(s: &str) -> usize {
    let (mut d, mut max) = (0usize, 0usize);
    for b in s.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                d += 1;
                max = max.max(d);
            }
            b')' | b']' | b'}' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}
