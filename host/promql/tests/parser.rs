//! Parser and pretty-printer tests: error messages with positions, precedence, and printing
//! every expression of the promqltest suite back to text that parses to the same tree.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sightline_promql::{parse, parse_selector, Engine, EngineOptions, Error};

#[test]
fn prints_like_prometheus() {
    let cases: &[(&str, &str)] = &[
        ("1 + 2 * 3", "1 + 2 * 3"),
        ("(1 + 2) * 3", "(1 + 2) * 3"),
        ("2 ^ 3 ^ 2", "2 ^ 3 ^ 2"),
        ("-2 ^ 2", "-2 ^ 2"),
        ("0x1F", "31"),
        ("foo{a=\"b\",c!~'d'}", "foo{a=\"b\", c!~\"d\"}"),
        ("{__name__=~\"foo.*\"}", "{__name__=~\"foo.*\"}"),
        (
            "sum(rate(foo[5m])) by (job)",
            "sum by (job) (rate(foo[5m]))",
        ),
        ("sum without (a, b) (foo)", "sum without (a, b) (foo)"),
        ("topk(5, foo)", "topk(5, foo)"),
        ("count_values(\"v\", foo)", "count_values(\"v\", foo)"),
        ("foo offset 1h30m", "foo offset 1h30m"),
        ("foo offset -5m", "foo offset -5m"),
        ("foo @ 1609746000", "foo @ 1609746000.000"),
        ("foo[5m] @ start()", "foo[5m] @ start()"),
        ("rate(foo[5m])[30m:1m]", "rate(foo[5m])[30m:1m]"),
        ("foo[5m:]", "foo[5m:]"),
        ("a / on(x) group_left(y) b", "a / on (x) group_left (y) b"),
        ("a > bool ignoring(x) b", "a > bool ignoring (x) b"),
        ("a and on() b", "a and on () b"),
        ("# comment\nfoo", "foo"),
        ("\"a\\nb\"", "\"a\\nb\""),
        ("Inf", "+Inf"),
        ("-inf", "-Inf"),
        ("NaN", "NaN"),
    ];
    for (input, want) in cases {
        let e = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(e.to_string(), *want, "printing {input:?}");
    }
}

#[test]
fn parse_errors_carry_positions() {
    let cases: &[(&str, &str)] = &[
        ("", "1:1: parse error: no expression found in input"),
        ("1 +", "1:4: parse error: unexpected end of input"),
        ("foo{", "1:5: parse error: unexpected end of input inside braces"),
        ("rate(foo)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"),
        ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
        ("1 == 1", "1:1: parse error: comparisons between scalars must use BOOL modifier"),
        ("foo and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"),
        ("nope(foo)", "1:1: parse error: unknown function with name \"nope\""),
        ("sum(foo", "1:8: parse error: unclosed left parenthesis"),
        ("foo)", "1:4: parse error: unexpected right parenthesis ')'"),
        ("foo offset 5m offset 1m", "1:15: parse error: offset may not be set multiple times"),
        ("(foo) offset 5m", "1:7: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
        ("foo{a=\"b\"}\n  +", "2:4: parse error: unexpected end of input"),
    ];
    for (input, want) in cases {
        let e = parse(input).expect_err(input);
        assert_eq!(e.to_string(), *want, "error for {input:?}");
    }
}

#[test]
fn errors_map_to_prometheus_error_types() {
    let engine = Engine::new(EngineOptions::default());
    let st = sightline_storage_api::MemStorage::new();
    let e = engine.instant_query(&st, "sum(", 0).expect_err("bad query");
    assert_eq!(e.error_type(), "bad_data");
    assert!(matches!(e, Error::Parse(_)));
    assert_eq!(
        Error::TooManySamples("query execution").error_type(),
        "execution"
    );
    assert_eq!(
        Error::TooManySamples("query execution").to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    assert_eq!(Error::Timeout("query execution").error_type(), "timeout");
    assert_eq!(Error::Canceled("query execution").error_type(), "canceled");
}

#[test]
fn selectors_for_match_params() {
    let ms = parse_selector("up{job=\"a\", instance=~\"b.*\"}").unwrap();
    assert_eq!(ms.len(), 3);
    assert!(parse_selector("rate(up[5m])").is_err());
    assert!(parse_selector("{job=~\".*\"}").is_err());
}

/// Every expression of the suite prints to text that parses back to the same tree.
#[test]
fn suite_expressions_round_trip() {
    let dir = sightline_tests::vendored("conformance/promql");
    assert!(
        dir.is_dir(),
        "promqltest suite missing at {}",
        dir.display()
    );
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("suite dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "test") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for line in text.lines().map(str::trim) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let skip = match words.first() {
                Some(w) if w.starts_with("eval") && words.get(1) == Some(&"instant") => 4,
                Some(w) if w.starts_with("eval") && words.get(1) == Some(&"range") => 8,
                _ => continue,
            };
            // Skip the header words and keep the rest of the line verbatim.
            let mut rest = line;
            for _ in 0..skip {
                rest = rest.trim_start();
                rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
            }
            let expr = rest.trim();
            let Ok(first) = parse(expr) else { continue };
            let printed = first.to_string();
            let second =
                parse(&printed).unwrap_or_else(|e| panic!("{expr:?} printed as {printed:?}: {e}"));
            assert_eq!(
                second.to_string(),
                printed,
                "printing is not stable for {expr:?}"
            );
            n += 1;
        }
    }
    assert!(n > 1500, "only {n} expressions checked");
}

#[test]
fn prettifies_long_expressions_like_format_query() {
    let short = parse("sum by (job) (rate(http_requests_total[5m]))").unwrap();
    assert_eq!(
        short.pretty(),
        "sum by (job) (rate(http_requests_total[5m]))"
    );
    let long = parse(
        "sum by (job, instance) (rate(http_requests_total{status=~\"5..\", method=\"GET\"}[5m])) / sum by (job, instance) (rate(http_requests_total[5m]))",
    )
    .unwrap();
    let want = "  sum by (job, instance) (rate(http_requests_total{status=~\"5..\", method=\"GET\"}[5m]))\n/\n  sum by (job, instance) (rate(http_requests_total[5m]))";
    assert_eq!(long.pretty(), want);
}

#[test]
fn utf8_names_print_quoted() {
    for (input, want) in [
        (r#"{"my.metric", "a.b"="c"}"#, r#"{"my.metric", "a.b"="c"}"#),
        (
            r#"sum by ("a.b") ({"my.metric"})"#,
            r#"sum by ("a.b") ({"my.metric"})"#,
        ),
        (r#"{"ok_name"}"#, "ok_name"),
    ] {
        let e = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(e.to_string(), want);
        assert_eq!(parse(&e.to_string()).unwrap().to_string(), want);
    }
}
