//! `Parser::next_expecting` (a scraper passing the previous body's series) must give exactly
//! what plain parsing gives, for any new body: deterministic pseudo-random bodies, then
//! mutated versions of them (values, label values, whitespace, garbage after the block,
//! truncation, reordering, random bytes).

use sightline_exposition::{parse, Entry, Format};

fn label_value(rng: &mut fastrand::Rng) -> String {
    const PARTS: &[&str] = &[
        "a", "b", "GET", "/api/x", "\\\"", "\\\\", "\\n", "é", " ", "}", ",",
    ];
    (0..rng.usize(0..4))
        .map(|_| PARTS[rng.usize(..PARTS.len())])
        .collect()
}

fn body(rng: &mut fastrand::Rng) -> Vec<String> {
    let mut lines = vec!["# TYPE m counter".to_string()];
    for i in 0..rng.usize(1..40) {
        let name = ["m", "m_total", "x:y", "h_bucket"][rng.usize(..4)];
        let ws = if rng.u8(..4) == 0 { " " } else { "" };
        let line = match rng.u8(..5) {
            0 => format!("{name}{ws} {i}"),
            1 => format!("{name}{ws}{{}} {i}"),
            _ => {
                let n = rng.usize(1..4);
                let mut l = String::new();
                for j in 0..n {
                    l.push_str(&format!("l{j}{ws}={ws}\"{}\"", label_value(rng)));
                    if j + 1 < n || rng.u8(..4) == 0 {
                        l.push(',');
                    }
                }
                format!("{name}{ws}{{{l}}} {i}.5")
            }
        };
        lines.push(line);
    }
    lines
}

fn mutate(rng: &mut fastrand::Rng, lines: &[String]) -> Vec<u8> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for l in lines {
        let mut b = l.as_bytes().to_vec();
        match rng.u8(..12) {
            0 => continue,
            1 => out.push(b"m{z=\"new\"} 1".to_vec()),
            2 => {
                if let Some(p) = b.iter().rposition(|&c| c == b' ') {
                    b.truncate(p);
                    b.extend_from_slice(format!(" {} 17", rng.f64()).as_bytes());
                }
            }
            3 => {
                if let Some(p) = b.iter().position(|&c| c == b'}') {
                    b.insert(p + 1, [b'x', b'}', b',', b'\t', b'{'][rng.usize(..5)]);
                }
            }
            4 => b.truncate(rng.usize(..=b.len())),
            5 if !b.is_empty() => {
                let i = rng.usize(..b.len());
                const BYTES: &[u8] = b"\"{}=,\\ \t\xffa1";
                b[i] = BYTES[rng.usize(..BYTES.len())];
            }
            6 => {
                if let Some(p) = b.iter().position(|&c| c == b'"') {
                    b.insert(p + 1, b'q');
                }
            }
            _ => {}
        }
        out.push(b);
    }
    if rng.bool() && out.len() > 2 {
        let (i, j) = (rng.usize(..out.len()), rng.usize(..out.len()));
        out.swap(i, j);
    }
    let mut body = out.join(&b'\n');
    if rng.bool() {
        body.push(b'\n');
    }
    body
}

fn entries_plain(b: &[u8]) -> String {
    format!("{:?}", parse(b, Format::PromText).collect::<Vec<_>>())
}

fn entries_expecting(b: &[u8], known: &[&[u8]]) -> String {
    let mut p = parse(b, Format::PromText);
    let (mut out, mut pos) = (Vec::new(), 0);
    while let Some(e) = p.next_expecting(known.get(pos).copied()) {
        pos += usize::from(matches!(e, Ok(Entry::Series(_))));
        out.push(e);
    }
    format!("{out:?}")
}

#[test]
fn expecting_the_previous_series_changes_nothing() {
    let mut rng = fastrand::Rng::with_seed(0x11fe);
    let mut hinted_lines = 0;
    for _ in 0..3000 {
        let first = body(&mut rng).join("\n");
        let known: Vec<&[u8]> = parse(first.as_bytes(), Format::PromText)
            .map(|e| e.expect("generated bodies are valid"))
            .filter_map(|e| match e {
                Entry::Series(s) => Some(s.raw),
                _ => None,
            })
            .collect();
        let lines: Vec<String> = first.lines().map(str::to_string).collect();
        for _ in 0..3 {
            let next = mutate(&mut rng, &lines);
            assert_eq!(
                entries_plain(&next),
                entries_expecting(&next, &known),
                "body {:?} expecting {known:?}",
                String::from_utf8_lossy(&next)
            );
            hinted_lines += next
                .split(|&c| c == b'\n')
                .filter(|l| known.iter().any(|k| l.starts_with(k)))
                .count();
        }
        // Unchanged bodies parse the same too, and OpenMetrics ignores the hint.
        assert_eq!(
            entries_plain(first.as_bytes()),
            entries_expecting(first.as_bytes(), &known)
        );
    }
    // The fast path was exercised, not just the fallback.
    assert!(hinted_lines > 10_000, "{hinted_lines}");
}

#[test]
fn openmetrics_ignores_the_hint() {
    // Hints accepted by the text parser, against OpenMetrics bodies that reject or accept
    // the same bytes: the outcome is always plain parsing's.
    let known: &[&[u8]] = &[
        b"a_total{x=\"1\",}",
        b"a_total{x=\"1\"}",
        b"a_total {x=\"1\"}",
    ];
    for body in [
        &b"# TYPE a counter\na_total{x=\"1\",} 1\n# EOF\n"[..],
        b"# TYPE a counter\na_total{x=\"1\"} 1\na_total{x=\"1\"} 2\n# EOF\n",
        b"a_total {x=\"1\"} 1\n# EOF\n",
        b"a_total{x=\"1\"} 1\n",
    ] {
        let plain = format!("{:?}", parse(body, Format::OpenMetrics).collect::<Vec<_>>());
        let mut p = parse(body, Format::OpenMetrics);
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some(e) = p.next_expecting(known.get(pos).copied()) {
            pos += usize::from(matches!(e, Ok(Entry::Series(_))));
            out.push(e);
        }
        assert_eq!(plain, format!("{out:?}"));
    }
}
