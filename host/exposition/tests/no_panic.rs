//! Property-style robustness test: thousands of deterministic pseudo-random and mutated
//! inputs through both parsers, consumed fully. Nothing may panic, every error must carry a
//! position, and the iterator must stop after an error.

use sightline_exposition::{parse, Entry, Format};
use sightline_model::LabelsBuilder;

const SEEDS: &[&str] = &[
    "# HELP a help\n# TYPE a counter\na_total{x=\"1\",y=\"b\\\"c\"} 1 123 # {t=\"x\"} 0.5 1.5\na_created 12\n# EOF\n",
    "# TYPE h histogram\n# UNIT h_seconds seconds\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 3\n# EOF\n",
    "# TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n# TYPE i info\ni_info{v=\"1\"} 1\n# EOF",
    "# TYPE q summary\nq{quantile=\"0.5\"} NaN 1\nq_sum -Inf\nq_count 1e3\n# EOF\n",
    "m { a = \"1\" , b=\"\\n\", } +Inf -12\n# comment\n\n# TYPE m untyped\nm 1\r\n",
];

const ALPHABET: &[u8] = b"#{}=\",\\ \t\n\r_:aZ019.eE+-InfNa\xff\xc3\xa9";

fn check(input: &[u8]) {
    for format in [Format::PromText, Format::OpenMetrics] {
        let mut p = parse(input, format);
        let mut b = LabelsBuilder::new();
        let mut errored = false;
        for e in p.by_ref() {
            assert!(!errored, "entry after an error");
            match e {
                Ok(Entry::Series(s)) => {
                    b.clear();
                    s.labels_into(&mut b);
                    let _ = b.build();
                    if let Some(x) = &s.exemplar {
                        x.labels_into(&mut b);
                    }
                    assert!(input.windows(s.raw.len()).any(|w| w == s.raw));
                }
                Ok(_) => {}
                Err(e) => {
                    assert!(e.line >= 1 && e.column >= 1, "bad position in {e}");
                    errored = true;
                }
            }
        }
        assert!(p.next().is_none());
    }
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let mut rng = fastrand::Rng::with_seed(0x5167_4711);
    let mut cases = 0;
    for _ in 0..1500 {
        let len = rng.usize(0..120);
        let input: Vec<u8> = (0..len)
            .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
            .collect();
        check(&input);
        cases += 1;
    }
    for _ in 0..4000 {
        let mut input = SEEDS[rng.usize(..SEEDS.len())].as_bytes().to_vec();
        for _ in 0..rng.usize(1..6) {
            if input.is_empty() {
                break;
            }
            let at = rng.usize(..input.len());
            match rng.u8(0..5) {
                0 => input[at] = ALPHABET[rng.usize(..ALPHABET.len())],
                1 => input.insert(at, ALPHABET[rng.usize(..ALPHABET.len())]),
                2 => {
                    input.remove(at);
                }
                3 => input.truncate(at),
                _ => input[at] = rng.u8(..),
            }
        }
        check(&input);
        cases += 1;
    }
    for seed in SEEDS {
        let b = seed.as_bytes();
        for cut in 0..=b.len() {
            check(&b[..cut]);
            cases += 1;
        }
    }
    assert!(cases > 5000);
}
