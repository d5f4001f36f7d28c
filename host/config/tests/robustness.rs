//! Bad input is an error, never a panic: mutated configurations and file SD content.

use std::path::Path;

const CORPUS: &[&str] = &[
    include_str!("../testdata/seed-prometheus.yml"),
    "global:\n  scrape_interval: 15s\n  external_labels: {a: b}\nscrape_configs:\n  - job_name: j\n    relabel_configs:\n      - {source_labels: [a, b], regex: '(.+);(.*)', target_label: '${1}_x', replacement: '$2'}\n      - {action: hashmod, source_labels: [a], modulus: 8, target_label: h}\n    basic_auth: {username: u, password_file: p}\n    tls_config: {ca_file: ca, min_version: TLS12}\n    file_sd_configs: [{files: ['x/*.json'], refresh_interval: 1m}]\nremote_write:\n  - url: http://h/w\n    queue_config: {capacity: 5}\n",
];

/// A tiny deterministic mutator: replace, insert or delete bytes, keeping UTF-8.
fn mutate(rng: &mut fastrand::Rng, s: &str) -> String {
    const ALPHABET: &[u8] = b" \n\t:-[]{}'\"#&*!|>%@`$\\,.0123456789abcxyz_~";
    let mut b: Vec<u8> = s.as_bytes().to_vec();
    for _ in 0..rng.usize(1..6) {
        if b.is_empty() {
            break;
        }
        let i = rng.usize(..b.len());
        match rng.u8(..3) {
            0 => b[i] = ALPHABET[rng.usize(..ALPHABET.len())],
            1 => b.insert(i, ALPHABET[rng.usize(..ALPHABET.len())]),
            _ => {
                b.remove(i);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_configs_never_panic() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let (mut ok, mut err) = (0, 0);
    for i in 0..4000 {
        let src = mutate(&mut rng, CORPUS[i % CORPUS.len()]);
        match std::panic::catch_unwind(|| sightline_config::load_str(&src, "m.yml")) {
            Ok(Ok(cfg)) => {
                ok += 1;
                // Whatever loads must print and re-load.
                let out = cfg.redacted_yaml();
                assert!(!out.starts_with("<error"), "{out}");
            }
            Ok(Err(e)) => {
                err += 1;
                assert!(e.to_string().starts_with("m.yml"), "{e}");
            }
            Err(_) => panic!("panic on input:\n{src}"),
        }
    }
    println!("mutated configs: {ok} loaded, {err} rejected, 0 panics");
    assert!(err > 0 && ok > 0);
}

#[test]
fn mutated_file_sd_never_panics() {
    let mut rng = fastrand::Rng::with_seed(7);
    let yaml = "- targets: ['a:1', 'b:2']\n  labels: {env: prod, team: x}\n";
    let json = r#"[{"targets": ["a:1"], "labels": {"env": "prod"}}]"#;
    for i in 0..3000 {
        let (src, name) = if i % 2 == 0 {
            (mutate(&mut rng, yaml), "f.yml")
        } else {
            (mutate(&mut rng, json), "f.json")
        };
        let r = std::panic::catch_unwind(|| sightline_config::parse_file_sd(&src, Path::new(name)));
        assert!(r.is_ok(), "panic on {name}:\n{src}");
    }
}
