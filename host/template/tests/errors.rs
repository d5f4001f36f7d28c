//! Error messages, worded and positioned as Go's text/template words them. Parse cases are from
//! Go's text/template/parse/parse_test.go (`errorTests`, BSD-licensed, © The Go Authors):
//! the template name, the text and a fragment of the message (the full message where Go's
//! test has it).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use sightline_template::{Env, FuncMap, Template, Value};

fn parse_err(name: &str, text: &str) -> String {
    let mut t = Template::new(name, Arc::new(FuncMap::builtins()));
    match t.parse(text) {
        Ok(()) => panic!("{name}: {text:?} parsed"),
        Err(e) => e.to_string(),
    }
}

const PARSE_ERRORS: &[(&str, &str, &str)] = &[
    (
        "unclosed1",
        "line1\n{{",
        "template: unclosed1:2: unclosed action",
    ),
    (
        "unclosed2",
        "line1\n{{define `x`}}line2\n{{",
        "template: unclosed2:3: unclosed action",
    ),
    (
        "unclosed3",
        "line1\n{{\"x\"\n\"y\"\n",
        "template: unclosed3:4: unclosed action started at unclosed3:2",
    ),
    (
        "unclosed4",
        "{{\n\n\n\n\n",
        "template: unclosed4:6: unclosed action started at unclosed4:1",
    ),
    (
        "var1",
        "line1\n{{\nx\n}}",
        "template: var1:3: function \"x\" not defined",
    ),
    ("function", "{{foo}}", "function \"foo\" not defined"),
    (
        "comment1",
        "{{/*}}",
        "template: comment1:1: unclosed comment",
    ),
    (
        "comment2",
        "{{/*\nhello\n}}",
        "template: comment2:1: unclosed comment",
    ),
    ("lparen", "{{.X (1 2 3}}", "unclosed left paren"),
    ("rparen", "{{.X 1 2 3 ) }}", "unexpected right paren"),
    ("rparen2", "{{(.X 1 2 3", "unclosed action"),
    ("space", "{{`x`3}}", "in operand"),
    ("idchar", "{{a#}}", "'#'"),
    ("charconst", "{{'a}}", "unterminated character constant"),
    ("stringconst", "{{\"a}}", "unterminated quoted string"),
    ("rawstringconst", "{{`a}}", "unterminated raw quoted string"),
    ("number", "{{0xi}}", "number syntax"),
    (
        "multidefine",
        "{{define `a`}}a{{end}}{{define `a`}}b{{end}}",
        "multiple definition of template",
    ),
    ("eof", "{{range .X}}", "unexpected EOF"),
    // Declares $x so it's defined, then checks a field chain is not parsed as a declaration.
    (
        "variable",
        "{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}",
        "unexpected \":=\"",
    ),
    ("multidecl", "{{$a,$b,$c := 23}}", "too many declarations"),
    ("undefvar", "{{$a}}", "undefined variable"),
    ("wrongdot", "{{true.any}}", "unexpected . after term"),
    (
        "wrongpipeline",
        "{{12|false}}",
        "non executable command in pipeline",
    ),
    (
        "emptypipeline",
        "{{ ( ) }}",
        "missing value for parenthesized pipeline",
    ),
    (
        "multilinerawstring",
        "{{ $v := `\n` }} {{",
        "multilinerawstring:2: unclosed action",
    ),
    ("rangeundefvar", "{{range $k}}{{end}}", "undefined variable"),
    (
        "rangeundefvars",
        "{{range $k, $v}}{{end}}",
        "undefined variable",
    ),
    (
        "rangemissingvalue1",
        "{{range $k,}}{{end}}",
        "missing value for range",
    ),
    (
        "rangemissingvalue2",
        "{{range $k, $v := }}{{end}}",
        "missing value for range",
    ),
    (
        "rangenotvariable1",
        "{{range $k, .}}{{end}}",
        "range can only initialize variables",
    ),
    (
        "rangenotvariable2",
        "{{range $k, 123 := .}}{{end}}",
        "range can only initialize variables",
    ),
    (
        "break outside range",
        "{{range .}}{{end}} {{break}}",
        "{{break}} outside {{range}}",
    ),
    (
        "continue outside range",
        "{{range .}}{{end}} {{continue}}",
        "{{continue}} outside {{range}}",
    ),
    (
        "break in range else",
        "{{range .}}{{else}}{{break}}{{end}}",
        "{{break}} outside {{range}}",
    ),
    (
        "continue in range else",
        "{{range .}}{{else}}{{continue}}{{end}}",
        "{{continue}} outside {{range}}",
    ),
    // Ours, in Go's words.
    ("end", "{{end}}", "template: end:1: unexpected {{end}}"),
    ("else", "a{{else}}", "template: else:1: unexpected {{else}}"),
    (
        "if else else",
        "{{if 1}}{{else}}{{else}}{{end}}",
        "expected end; found {{else}}",
    ),
    (
        "bad string escape",
        "{{\"\\q\"}}",
        "template: bad string escape:1: invalid syntax",
    ),
    (
        "template name",
        "{{template .X}}",
        "unexpected \".X\" in template clause",
    ),
    (
        "long token",
        "{{ 1 \"abcdefghijklmno\" := }}",
        "unexpected \":=\" in operand",
    ),
    ("long token quoted", "{{ if }}", "missing value for if"),
    (
        "integer overflow",
        "{{ 99999999999999999999 }}",
        "integer overflow: \"99999999999999999999\"",
    ),
    (
        "keyword token",
        "{{ if 1 }}{{ define \"x\" }}{{ end }}",
        "unexpected <define> in command",
    ),
];

#[test]
fn parse_errors() {
    for (name, text, want) in PARSE_ERRORS {
        let got = parse_err(name, text);
        assert!(got.contains(want), "{name}: {got:?} lacks {want:?}");
    }
}

fn exec_err(text: &str, data: &Value) -> String {
    let mut t = Template::new("x", Arc::new(FuncMap::builtins()));
    t.parse(text).unwrap();
    t.execute(data, &Env::default()).unwrap_err().to_string()
}

#[test]
fn execution_errors_have_line_column_and_node() {
    let d = Value::map([("A", Value::map([("B", Value::Int(1))]))]);
    // As Go, a field chain is positioned at its second field (parse.go's operand()).
    assert_eq!(
        exec_err("line1\n  {{ .A.B.C }}", &d),
        "template: x:2:7: executing \"x\" at <.A.B.C>: can't evaluate field C in type int"
    );
    assert_eq!(
        exec_err("{{ index .A 3 }}", &d),
        "template: x:1:3: executing \"x\" at <index .A 3>: error calling index: value has type int; should be string"
    );
    assert_eq!(
        exec_err("{{ template \"nope\" }}", &d),
        "template: x:1:12: executing \"x\" at <{{template \"nope\"}}>: template \"nope\" not defined"
    );
    assert_eq!(
        exec_err(
            "{{ $x := 1 }}{{ $x = 2 }}{{ range $i := .A }}{{ end }}{{ len 5 }}",
            &d
        ),
        "template: x:1:57: executing \"x\" at <len 5>: error calling len: len of type int"
    );
    // Errors inside a defined template name it and point into the text it came from.
    assert_eq!(
        exec_err(
            "{{define \"t\"}}\n{{ .Q 1 }}{{end}}{{template \"t\" .A}}",
            &d
        ),
        "template: x:2:3: executing \"t\" at <.Q>: Q is not a method but has arguments"
    );
    assert_eq!(
        exec_err("{{ 18446744073709551615 }}", &d),
        "template: x:1:3: executing \"x\" at <18446744073709551615>: 18446744073709551615 overflows int"
    );
    // A literal meets a typed parameter (Go's evalArg), a computed value does (validateType).
    assert_eq!(
        exec_err("{{ printf 3 }}", &d),
        "template: x:1:10: executing \"x\" at <3>: expected string; found 3"
    );
    assert_eq!(
        exec_err("{{ printf nil }}", &d),
        "template: x:1:10: executing \"x\" at <nil>: cannot assign nil to string"
    );
    assert_eq!(
        exec_err("{{ printf .A.B }}", &d),
        "template: x:1:12: executing \"x\" at <.A.B>: wrong type for value; expected string; got int"
    );
    let mut t = Template::new("x", Arc::new(FuncMap::builtins()));
    t.parse("{{define \"a\"}}{{end}}").unwrap();
    assert_eq!(
        t.execute_template("b", &d, &Env::default())
            .unwrap_err()
            .to_string(),
        "template: no template \"b\" associated with template \"x\""
    );
}

#[test]
fn printf_verbs() {
    let cases: &[(&str, &str)] = &[
        (
            "{{printf \"%s|%v|%d|%q\" \"a\" 1.5 42 \"q\\n\"}}",
            "a|1.5|42|\"q\\n\"",
        ),
        (
            "{{printf \"%5.1f|%-6s|%06d|%x|%X|%o|%b\" 3.14159 \"ab\" -42 255 255 8 5}}",
            "  3.1|ab    |-00042|ff|FF|10|101",
        ),
        (
            "{{printf \"%e|%E|%.2e|%g|%G\" 123456.789 0.000123 1e10 1e21 1e-7}}",
            "1.234568e+05|1.230000E-04|1.00e+10|1e+21|1E-07",
        ),
        (
            "{{printf \"%t|%v|%5t\" true false true}}",
            "true|false| true",
        ),
        ("{{printf \"%%|%c|%q\" 65 66}}", "%|A|'B'"),
        ("{{printf \"%d\" 1.5}}", "%!d(float64=1.5)"),
        ("{{printf \"%s\" 3}}", "%!s(int=3)"),
        ("{{printf \"%d %d\" 1}}", "1 %!d(MISSING)"),
        ("{{printf \"%d\" 1 2}}", "1%!(EXTRA int=2)"),
        ("{{printf \"%z\" 1}}", "%!z(int=1)"),
        ("{{printf \"%.3s|%x\" \"abcdef\" \"hi\"}}", "abc|6869"),
        ("{{printf \"%v %v\" .L .M}}", "[1 a] map[k:v]"),
        ("{{printf \"%+d|% d|%+.1f\" 5 5 2.25}}", "+5| 5|+2.2"),
        ("{{printf \"%.0f|%.1f|%.2f\" 0.5 0.25 1.005}}", "0|0.2|1.00"),
        (
            "{{printf \"%v|%v|%v|%v\" 100000.0 1000000.0 0.0001 0.00001}}",
            "100000|1e+06|0.0001|1e-05",
        ),
        (
            "{{printf \"%g|%.3g|%.10g\" 0.000012345 1234.5678 1.0}}",
            "1.2345e-05|1.23e+03|1",
        ),
        (
            "{{printf \"%T|%T|%T|%T|%T\" 1 1.0 \"s\" true .L}}",
            "int|float64|string|bool|[]interface {}",
        ),
        (
            "{{print 1 2 \"a\" 3 \"b\" \"c\" 4.5 true}}",
            "1 2a3bc4.5 true",
        ),
        ("{{println \"a\" 1}}", "a 1\n"),
        (
            "{{js \"<a href='x'>&=\\u2028\"}}",
            "\\u003Ca href\\u003D\\'x\\'\\u003E\\u0026\\u003D\u{2028}",
        ),
        ("{{urlquery \"a b/c?d=é\"}}", "a+b%2Fc%3Fd%3D%C3%A9"),
        ("{{html \"<a>&'\\\"\"}}", "&lt;a&gt;&amp;&#39;&#34;"),
    ];
    let data = Value::map([
        ("L", Value::from(vec![Value::Int(1), Value::from("a")])),
        ("M", Value::str_map([("k", "v")])),
    ]);
    for (text, want) in cases {
        common::check(text, &data, Ok(want));
    }
}
