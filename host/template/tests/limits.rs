//! Templates are user input: hostile ones end in an error, never a panic, a stack overflow or
//! unbounded work.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;

use sightline_template::{alertmanager, prometheus, Env, FuncMap, Options, Template, Value};

fn run(text: &str, options: Options) -> Result<String, String> {
    let mut t = Template::new("t", prometheus::funcs()).with_options(options);
    t.parse(text).map_err(|e| e.to_string())?;
    t.execute(&Value::Int(3), &Env::default())
        .map_err(|e| e.to_string())
}

#[test]
fn deep_nesting_is_a_positioned_error() {
    for open in ["{{if 1}}", "{{range .}}", "{{with 1}}", "{{block \"b\" 1}}"] {
        let text = open.repeat(100_000);
        let err = run(&text, Options::default()).unwrap_err();
        assert!(
            err.contains("max expression depth exceeded"),
            "{open}: {err}"
        );
    }
    let parens = format!("{{{{{}1{}}}}}", "(".repeat(100_000), ")".repeat(100_000));
    let err = run(&parens, Options::default()).unwrap_err();
    assert_eq!(err, "template: t:1: max expression depth exceeded");
    // Just under the limit parses and runs (on the test's own thread stack).
    let ok = format!("{}x{}", "{{if 1}}".repeat(999), "{{end}}".repeat(999));
    assert_eq!(run(&ok, Options::default()).as_deref(), Ok("x"));
}

#[test]
fn recursion_is_bounded() {
    let err = run(
        "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}",
        Options::default(),
    )
    .unwrap_err();
    assert!(
        err.ends_with("exceeded maximum template depth (1000)"),
        "{err}"
    );
    // Each level calls itself twice, 25 levels deep: 2^25 calls unless the step budget stops it.
    let err = run(
        "{{define \"r\"}}{{if lt (len .) 25}}{{template \"r\" (print . \"x\")}}{{template \"r\" (print . \"x\")}}{{end}}{{end}}{{template \"r\" \"\"}}",
        Options {
            max_steps: 100_000,
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(
        err.ends_with("exceeded the limit of 100000 evaluation steps"),
        "{err}"
    );
}

#[test]
fn loops_and_output_are_bounded() {
    let small = Options {
        max_steps: 10_000,
        max_output_bytes: 1_000,
        ..Options::default()
    };
    let err = run("{{range 1000000000}}{{end}}", small.clone()).unwrap_err();
    assert!(err.contains("evaluation steps"), "{err}");
    let err = run("{{range 100}}0123456789ab{{end}}", small.clone()).unwrap_err();
    assert!(
        err.contains("output exceeds the limit of 1000 bytes"),
        "{err}"
    );
    let err = run("{{printf \"%2000d\" 1}}", small.clone()).unwrap_err();
    assert!(
        err.contains("output exceeds the limit of 1000 bytes"),
        "{err}"
    );
    assert_eq!(
        run("{{range 10}}x{{end}}", small).as_deref(),
        Ok("xxxxxxxxxx")
    );
}

/// xorshift64*: a fixed-seed generator so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    "\n",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    ".",
    ".A",
    ".B.C",
    "(",
    ")",
    "\"s\"",
    "`r`",
    "'c'",
    "1",
    "-2",
    "0x1F",
    "1.5e3",
    "true",
    "nil",
    "printf",
    "\"%d %s %v\"",
    "len",
    "index",
    "slice",
    "and",
    "or",
    "not",
    "eq",
    "lt",
    "print",
    "humanize",
    "query",
    "first",
    "reReplaceAll",
    "\"(\"",
    "/*",
    "*/",
    ",",
    "\\",
    "é",
    "\u{0}",
    "\"\\x",
];

#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let limits = Options {
        max_steps: 5_000,
        max_output_bytes: 10_000,
        max_call_depth: 50,
        ..Options::default()
    };
    let data = Value::map([
        ("A", Value::from(vec![Value::Int(1), Value::from("two")])),
        ("B", Value::map([("C", Value::Float(2.5))])),
    ]);
    let am = alertmanager::funcs();
    let builtins = Arc::new(FuncMap::builtins());
    let mut parsed = 0;
    for i in 0..20_000 {
        let mut text = String::new();
        if i % 2 == 0 {
            for _ in 0..rng.below(40) {
                text.push_str(PIECES[rng.below(PIECES.len())]);
            }
        } else {
            const ALPHABET: &[u8] = b"{}()$.|\"'`-/* \nabc019x";
            let bytes: Vec<u8> = (0..rng.below(60))
                .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                .collect();
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        for funcs in [prometheus::funcs(), am.clone(), builtins.clone()] {
            let mut t = Template::new("fuzz", funcs).with_options(limits.clone());
            if t.parse(&text).is_ok() {
                parsed += 1;
                let _ = t.execute(&data, &Env::default());
            }
        }
        let _ = sightline_template::check("fuzz", &text, &FuncMap::builtins());
    }
    // The generator must reach the executor, not only the parser's error paths.
    assert!(parsed > 1_000, "only {parsed} inputs parsed");
}
