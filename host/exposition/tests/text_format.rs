//! Table-driven tests of the text format 0.0.4 parser (and a few OpenMetrics specifics):
//! each case is an input and the rendering of every entry it yields, one per line.

use sightline_exposition::{parse, Entry, Format};
use sightline_model::{format_go_float, LabelsBuilder};

/// Renders entries as `series <labels> <value> [@ts] [type]`, `type name t`, `help name "text"`,
/// `unit name u`, `comment`, `eof`, or `error L:C: message`.
fn render(input: &str, format: Format) -> String {
    let mut out = Vec::new();
    let mut b = LabelsBuilder::new();
    for e in parse(input.as_bytes(), format) {
        out.push(match e {
            Err(e) => format!("error {e}"),
            Ok(Entry::Series(s)) => {
                b.clear();
                s.labels_into(&mut b);
                let mut line = format!("series {} {}", b.build(), format_go_float(s.value));
                if let Some(t) = s.timestamp_ms {
                    line.push_str(&format!(" @{t}"));
                }
                if let Some(x) = &s.exemplar {
                    let mut eb = LabelsBuilder::new();
                    x.labels_into(&mut eb);
                    line.push_str(&format!(" # {} {}", eb.build(), format_go_float(x.value)));
                    if let Some(t) = x.timestamp_ms {
                        line.push_str(&format!(" @{t}"));
                    }
                }
                line.push_str(&format!(
                    " [{}] raw={:?}",
                    s.metric_type.as_str(),
                    String::from_utf8_lossy(s.raw)
                ));
                line
            }
            Ok(Entry::Type { name, metric_type }) => {
                format!("type {name} {}", metric_type.as_str())
            }
            Ok(Entry::Help { name, help }) => format!("help {name} {help:?}"),
            Ok(Entry::Unit { name, unit }) => format!("unit {name} {unit}"),
            Ok(Entry::Comment) => "comment".to_string(),
            Ok(Entry::Eof) => "eof".to_string(),
        });
    }
    out.join("\n")
}

const TEXT_CASES: &[(&str, &str, &str)] = &[
    ("empty", "", ""),
    ("blank lines only", "\n\n  \n\t\n", ""),
    (
        "simple counter with type and help",
        "# HELP http_requests_total The total.\n# TYPE http_requests_total counter\nhttp_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n",
        "help http_requests_total \"The total.\"\n\
         type http_requests_total counter\n\
         series {__name__=\"http_requests_total\", code=\"200\", method=\"post\"} 1027 @1395066363000 [counter] raw=\"http_requests_total{method=\\\"post\\\",code=\\\"200\\\"}\"",
    ),
    (
        "missing type, no labels, no trailing newline",
        "metric_without_timestamp_and_labels 12.47",
        "series {__name__=\"metric_without_timestamp_and_labels\"} 12.47 [unknown] raw=\"metric_without_timestamp_and_labels\"",
    ),
    (
        "special values",
        "a NaN\nb +Inf\nc -Inf\nd 1e+21\ne -0.5e-3\n",
        "series {__name__=\"a\"} NaN [unknown] raw=\"a\"\n\
         series {__name__=\"b\"} +Inf [unknown] raw=\"b\"\n\
         series {__name__=\"c\"} -Inf [unknown] raw=\"c\"\n\
         series {__name__=\"d\"} 1e+21 [unknown] raw=\"d\"\n\
         series {__name__=\"e\"} -0.0005 [unknown] raw=\"e\"",
    ),
    (
        "escapes in label values and help",
        "# HELP m a \\\\ b \\n c \\\" d\nm{a=\"x\\\"y\\\\z\\nw\",b=\"\\q\"} 1\n",
        "help m \"a \\\\ b \\n c \\\\\\\" d\"\n\
         series {__name__=\"m\", a=\"x\\\"y\\\\z\\nw\", b=\"\\\\q\"} 1 [unknown] raw=\"m{a=\\\"x\\\\\\\"y\\\\\\\\z\\\\nw\\\",b=\\\"\\\\q\\\"}\"",
    ),
    (
        "trailing comma, whitespace everywhere, tabs, CRLF",
        "  m  { a = \"1\" ,\tb=\"2\", }\t3\t 42 \r\n",
        "series {__name__=\"m\", a=\"1\", b=\"2\"} 3 @42 [unknown] raw=\"m  { a = \\\"1\\\" ,\\tb=\\\"2\\\", }\"",
    ),
    (
        "empty braces and value glued to the brace",
        "m{} 1\nn{a=\"\"}2\n",
        "series {__name__=\"m\"} 1 [unknown] raw=\"m{}\"\nseries {__name__=\"n\"} 2 [unknown] raw=\"n{a=\\\"\\\"}\"",
    ),
    (
        "comments of every kind, HELP anywhere, untyped",
        "# just a comment\n#HELP not meta\n# HELP\n# EOF\nm 1\n# HELP m late help\n# TYPE other untyped\n",
        "comment\ncomment\ncomment\ncomment\nseries {__name__=\"m\"} 1 [unknown] raw=\"m\"\nhelp m \"late help\"\ntype other unknown",
    ),
    (
        "histogram family types its suffixed samples",
        "# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.7\nh_count 2\nother 1\n",
        "type h histogram\n\
         series {__name__=\"h_bucket\", le=\"0.5\"} 1 [histogram] raw=\"h_bucket{le=\\\"0.5\\\"}\"\n\
         series {__name__=\"h_bucket\", le=\"+Inf\"} 2 [histogram] raw=\"h_bucket{le=\\\"+Inf\\\"}\"\n\
         series {__name__=\"h_sum\"} 0.7 [histogram] raw=\"h_sum\"\n\
         series {__name__=\"h_count\"} 2 [histogram] raw=\"h_count\"\n\
         series {__name__=\"other\"} 1 [unknown] raw=\"other\"",
    ),
    (
        "summary and negative timestamp",
        "# TYPE s summary\ns{quantile=\"0.9\"} 3 -5\ns_count 1\n",
        "type s summary\nseries {__name__=\"s\", quantile=\"0.9\"} 3 @-5 [summary] raw=\"s{quantile=\\\"0.9\\\"}\"\nseries {__name__=\"s_count\"} 1 [summary] raw=\"s_count\"",
    ),
    ("type with trailing space is accepted", "# TYPE g gauge  \ng 1\n", "type g gauge\nseries {__name__=\"g\"} 1 [gauge] raw=\"g\""),
    ("missing help text is empty help", "# HELP g\n", "help g \"\""),
    ("error: invalid type", "# TYPE g meh\n", "error 1:10: invalid metric type \"meh\""),
    ("error: missing value", "m\n", "error 1:2: expected value after metric"),
    ("error: missing value after labels", "m{a=\"1\"}\n", "error 1:9: expected value after metric"),
    ("error: bad value", "a 1\nm 1x\n", "series {__name__=\"a\"} 1 [unknown] raw=\"a\"\nerror 2:3: invalid value \"1x\""),
    ("error: hex value", "m 0x1p3\n", "error 1:3: invalid value \"0x1p3\""),
    ("error: float timestamp", "m 1 1.5\n", "error 1:5: invalid timestamp \"1.5\""),
    ("error: timestamp overflow", "m 1 9223372036854775808\n", "error 1:5: invalid timestamp \"9223372036854775808\""),
    ("error: extra token", "m 1 2 3\n", "error 1:7: expected timestamp or new record, got \"3\""),
    ("error: invalid metric name", "0m 1\n", "error 1:1: invalid metric name, got \"0m 1\""),
    ("error: dash in name", "a-b 1\n", "error 1:2: invalid metric name, got \"a-b 1\""),
    ("error: duplicate label", "m{a=\"1\",a=\"2\"} 1\n", "error 1:9: duplicate label name \"a\""),
    ("error: __name__ label", "m{__name__=\"x\"} 1\n", "error 1:3: duplicate label name \"__name__\""),
    ("error: double comma", "m{a=\"1\",,b=\"2\"} 1\n", "error 1:9: expected label name, got \",b=\\\"2\\\"} 1\""),
    ("error: leading comma", "m{,a=\"1\"} 1\n", "error 1:3: expected label name, got \",a=\\\"1\\\"} 1\""),
    ("error: unquoted value", "m{a=1} 1\n", "error 1:5: expected quoted label value, got \"1} 1\""),
    ("error: unterminated value", "m{a=\"1} 1\n", "error 1:5: unterminated label value"),
    ("error: missing equals", "m{a \"1\"} 1\n", "error 1:5: expected '=' after label name, got \"\\\"1\\\"} 1\""),
    ("error: exemplars are not text format", "m 1 # {a=\"b\"} 1\n", "error 1:5: invalid timestamp \"#\""),
    ("error: invalid UTF-8 in a label value", "m{a=\"\u{fffd}\"} 1\n", "series {__name__=\"m\", a=\"\u{fffd}\"} 1 [unknown] raw=\"m{a=\\\"\u{fffd}\\\"}\""),
];

#[test]
fn text_format_table() {
    let mut failures = Vec::new();
    for (name, input, want) in TEXT_CASES {
        let got = render(input, Format::PromText);
        if got != *want {
            failures.push(format!(
                "case {name:?}\n--- input\n{input}\n--- want\n{want}\n--- got\n{got}\n"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        TEXT_CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    let input = b"ok 1\nm{a=\"\xff\xfe\"} 1\n";
    let got: Vec<String> = parse(input, Format::PromText)
        .map(|e| match e {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(got, ["ok", "2:6: invalid UTF-8 in label value"]);
    let om: Vec<bool> = parse(b"# HELP m \xff\n# EOF\n", Format::OpenMetrics)
        .map(|e| e.is_ok())
        .collect();
    assert_eq!(om, [false]);
}

const OM_CASES: &[(&str, &str, &str)] = &[
    (
        "a sample outside the declared family starts an untyped one",
        "# TYPE a counter\n# UNIT a_seconds seconds\na_total{x=\"1\"} 3 1520879607.789 # {trace_id=\"abc\"} 0.5 1520879607.1\n# EOF\n",
        "type a counter\n\
         unit a_seconds seconds\n\
         error 3:1: exemplars are only allowed on counters' _total and histogram buckets, not on a_total",
    ),
    (
        "counter with exemplar",
        "# TYPE a counter\n# HELP a h\\\"i\na_total{x=\"1\"} 3 1520879607.789 # {trace_id=\"abc\"} 0.5 1520879607.1\na_created{x=\"1\"} 1520879600 1520879607.789\n# EOF\n",
        "type a counter\n\
         help a \"h\\\"i\"\n\
         series {__name__=\"a_total\", x=\"1\"} 3 @1520879607789 # {trace_id=\"abc\"} 0.5 @1520879607100 [counter] raw=\"a_total{x=\\\"1\\\"}\"\n\
         series {__name__=\"a_created\", x=\"1\"} 1520879600 @1520879607789 [counter] raw=\"a_created{x=\\\"1\\\"}\"\n\
         eof",
    ),
    ("no samples", "# EOF", "eof"),
    ("nothing at all", "", "error 1:1: unexpected end of input: missing # EOF"),
    ("text after EOF", "# EOF\n\n", "eof\nerror 2:1: unexpected data after # EOF"),
    ("comment not allowed", "# hello\n# EOF\n", "error 1:1: invalid line: expected sample, # HELP, # TYPE, # UNIT or # EOF"),
    ("trailing comma not allowed", "a{b=\"1\",} 1\n# EOF\n", "error 1:9: expected label name, got \"} 1\""),
    ("CR not allowed", "a 1\r\n# EOF\n", "error 1:3: invalid value \"1\\r\""),
];

#[test]
fn openmetrics_table() {
    let mut failures = Vec::new();
    for (name, input, want) in OM_CASES {
        let got = render(input, Format::OpenMetrics);
        if got != *want {
            failures.push(format!(
                "case {name:?}\n--- input\n{input}\n--- want\n{want}\n--- got\n{got}\n"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        OM_CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn content_type_selects_format() {
    let cases = [
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::OpenMetrics,
        ),
        ("Application/OpenMetrics-Text", Format::OpenMetrics),
        ("text/plain; version=0.0.4", Format::PromText),
        ("", Format::PromText),
        ("application/json", Format::PromText),
    ];
    for (ct, want) in cases {
        assert_eq!(Format::from_content_type(ct), want, "{ct:?}");
    }
}

#[test]
fn parser_is_fused_after_error() {
    let mut p = parse(b"a 1\nb x\nc 1\n", Format::PromText);
    assert!(matches!(p.next(), Some(Ok(_))));
    assert!(matches!(p.next(), Some(Err(_))));
    assert!(p.next().is_none());
    assert!(p.next().is_none());
}

#[test]
fn large_label_sets_detect_duplicates() {
    let mut line = String::from("m{");
    for i in 0..200 {
        line.push_str(&format!("l{i}=\"v\","));
    }
    let ok = format!("{line}}} 1\n");
    let mut p = parse(ok.as_bytes(), Format::PromText);
    match p.next() {
        Some(Ok(Entry::Series(s))) => assert_eq!(s.labels().count(), 200),
        other => panic!("unexpected {other:?}"),
    }
    let dup = format!("{line}l150=\"x\"}} 1\n");
    let got = parse(dup.as_bytes(), Format::PromText).next();
    assert!(
        matches!(&got, Some(Err(e)) if e.message == "duplicate label name \"l150\""),
        "{got:?}"
    );
}
