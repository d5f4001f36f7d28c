//! Cases ported from Go's text/template/exec_test.go (`execTests`, BSD-licensed, © The Go
//! Authors), as data. Go's `tVal` struct becomes a map with the fields these cases use; cases
//! that need Go-only machinery (methods on T, `call`, complex numbers, channels, typed maps such
//! as `map[string]int` whose missing keys read as 0) are left out.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{check, ints};
use sightline_template::Value;

fn t_val() -> Value {
    Value::map([
        ("True", Value::Bool(true)),
        ("I", Value::Int(17)),
        ("U16", Value::Int(16)),
        ("X", Value::from("x")),
        ("FloatZero", Value::Float(0.0)),
        ("U", Value::map([("V", Value::from("v"))])),
        ("SI", ints(&[3, 4, 5])),
        ("SIEmpty", ints(&[])),
        (
            "SB",
            Value::from(vec![Value::Bool(true), Value::Bool(false)]),
        ),
        (
            "MSI",
            Value::map([
                ("one", Value::Int(1)),
                ("two", Value::Int(2)),
                ("three", Value::Int(3)),
            ]),
        ),
        ("MSIone", Value::map([("one", Value::Int(1))])),
        ("MSIEmpty", Value::map(Vec::<(String, Value)>::new())),
        (
            "SMSI",
            Value::from(vec![
                Value::map([("one", Value::Int(1)), ("two", Value::Int(2))]),
                Value::map([("eleven", Value::Int(11)), ("twelve", Value::Int(12))]),
            ]),
        ),
        ("MXI", Value::map(Vec::<(String, Value)>::new())),
        ("PSI", ints(&[21, 22, 23])),
        ("Empty0", Value::NoValue),
        ("Empty3", ints(&[7, 8])),
        ("Empty4", Value::map([("V", Value::from("UinEmpty"))])),
        ("PS", Value::from("a string")),
    ])
}

const CASES: &[(&str, &str, Result<&str, &str>)] = &[
    // Trivial cases.
    ("empty", "", Ok("")),
    ("text", "some text", Ok("some text")),
    ("nil action", "{{nil}}", Err("nil is not a command")),
    // Ideal constants.
    (
        "ideal int",
        "{{typeOf 3}}",
        Err("function \"typeOf\" not defined"),
    ),
    ("ideal float", "{{printf `%T` 1.0}}", Ok("float64")),
    ("ideal exp float", "{{printf `%T` 1e1}}", Ok("float64")),
    ("ideal int T", "{{printf `%T` 3}}", Ok("int")),
    ("ideal hex", "{{printf `%T` 0x3}}", Ok("int")),
    ("ideal char", "{{printf `%T` 'x'}}", Ok("int")),
    ("ideal char value", "{{'a'}}", Ok("97")),
    ("ideal octal 0o", "{{0o17}}", Ok("15")),
    ("ideal binary", "{{0b101}}", Ok("5")),
    ("ideal underscore", "{{1_000}}", Ok("1000")),
    ("bug12xe", "{{printf `%T` 0xef}}", Ok("int")),
    ("bug12XE", "{{printf `%T` 0XEE}}", Ok("int")),
    // Fields of structs.
    (".X", "-{{.X}}-", Ok("-x-")),
    (".U.V", "-{{.U.V}}-", Ok("-v-")),
    // Fields on maps.
    ("map .one", "{{.MSI.one}}", Ok("1")),
    ("map .two", "{{.MSI.two}}", Ok("2")),
    ("map .NO", "{{.MSI.NO}}", Ok("<no value>")),
    ("map .one interface", "{{.MXI.one}}", Ok("<no value>")),
    (
        "map .WRONG args",
        "{{.MSI.one 1}}",
        Err("one is not a method but has arguments"),
    ),
    // Dots of all kinds to test basic evaluation.
    ("dot int", "<{{.}}>", Ok("<17>")),
    ("$", "{{$}}", Ok("17")),
    ("$ int", "{{$.I}}", Ok("17")),
    ("$ map", "{{$.MSI.one}}", Ok("1")),
    // Variables.
    ("$x int", "{{$x := .I}}{{$x}}", Ok("17")),
    ("$x.U.V", "{{$x := .U}}{{$x.V}}", Ok("v")),
    ("declare in action", "{{$x := $.U.V}}{{$x}}", Ok("v")),
    ("simple assignment", "{{$x := 2}}{{$x = 3}}{{$x}}", Ok("3")),
    (
        "nested assignment",
        "{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{$x}}",
        Ok("3"),
    ),
    (
        "nested assignment changes the last declaration",
        "{{$x := 1}}{{if true}}{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{end}}{{$x}}",
        Ok("1"),
    ),
    // Type with String method / literal values.
    ("V{6666}.String()", "-{{printf `%v` 6666}}-", Ok("-6666-")),
    // Parenthesized expressions.
    (
        "parens in pipeline",
        "{{printf `%d %d %d` (1) (2) (3)}}",
        Ok("1 2 3"),
    ),
    ("parens: $ in paren", "{{($).X}}", Ok("x")),
    ("parens: $.U in paren", "{{($.U).V}}", Ok("v")),
    // If.
    ("if true", "{{if true}}TRUE{{end}}", Ok("TRUE")),
    (
        "if false",
        "{{if false}}TRUE{{else}}FALSE{{end}}",
        Ok("FALSE"),
    ),
    (
        "if nil",
        "{{if nil}}TRUE{{end}}",
        Err("nil is not a command"),
    ),
    (
        "if 1",
        "{{if 1}}NON-ZERO{{else}}ZERO{{end}}",
        Ok("NON-ZERO"),
    ),
    ("if 0", "{{if 0}}NON-ZERO{{else}}ZERO{{end}}", Ok("ZERO")),
    (
        "if 1.5",
        "{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}",
        Ok("NON-ZERO"),
    ),
    (
        "if 0.0",
        "{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}",
        Ok("ZERO"),
    ),
    (
        "if emptystring",
        "{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}",
        Ok("EMPTY"),
    ),
    (
        "if string",
        "{{if `notempty`}}NON-EMPTY{{else}}EMPTY{{end}}",
        Ok("NON-EMPTY"),
    ),
    (
        "if emptyslice",
        "{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}",
        Ok("EMPTY"),
    ),
    (
        "if slice",
        "{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}",
        Ok("NON-EMPTY"),
    ),
    (
        "if emptymap",
        "{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}",
        Ok("EMPTY"),
    ),
    (
        "if map",
        "{{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}}",
        Ok("NON-EMPTY"),
    ),
    (
        "if map unset",
        "{{if .MXI.none}}NON-ZERO{{else}}ZERO{{end}}",
        Ok("ZERO"),
    ),
    (
        "if map not unset",
        "{{if not .MXI.none}}ZERO{{else}}NON-ZERO{{end}}",
        Ok("ZERO"),
    ),
    (
        "if $x with $y int",
        "{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}",
        Ok("true,17"),
    ),
    (
        "if $x with $x int",
        "{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}",
        Ok("17,true"),
    ),
    (
        "if else if",
        "{{if false}}FALSE{{else if true}}TRUE{{end}}",
        Ok("TRUE"),
    ),
    (
        "if else chain",
        "{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}",
        Ok("3"),
    ),
    // Print etc.
    ("print", "{{print \"hello, print\"}}", Ok("hello, print")),
    ("print 123", "{{print 1 2 3}}", Ok("1 2 3")),
    ("print nil", "{{print nil}}", Ok("<nil>")),
    ("println", "{{println 1 2 3}}", Ok("1 2 3\n")),
    ("printf int", "{{printf \"%04x\" 127}}", Ok("007f")),
    ("printf float", "{{printf \"%g\" 3.5}}", Ok("3.5")),
    ("printf string", "{{printf \"%s\" \"hello\"}}", Ok("hello")),
    ("printf field", "{{printf \"%s\" .U.V}}", Ok("v")),
    (
        "printf dot",
        "{{with .I}}{{printf \"%d\" .}}{{end}}",
        Ok("17"),
    ),
    (
        "printf var",
        "{{with $x := .I}}{{printf \"%d\" $x}}{{end}}",
        Ok("17"),
    ),
    // HTML.
    (
        "html",
        "{{html \"<script>alert(\\\"XSS\\\");</script>\"}}",
        Ok("&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;"),
    ),
    (
        "html pipeline",
        "{{printf \"<script>alert(\\\"XSS\\\");</script>\" | html}}",
        Ok("&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;"),
    ),
    ("html PS", "{{html .PS}}", Ok("a string")),
    // JavaScript.
    ("js", "{{js `It'd be nice.`}}", Ok("It\\'d be nice.")),
    // URL query.
    (
        "urlquery",
        "{{\"http://www.example.org/\"|urlquery}}",
        Ok("http%3A%2F%2Fwww.example.org%2F"),
    ),
    // Booleans.
    ("not", "{{not true}} {{not false}}", Ok("false true")),
    (
        "and",
        "{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}",
        Ok("false 0 0 1"),
    ),
    (
        "or",
        "{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}",
        Ok("0 1 true 1"),
    ),
    (
        "boolean if",
        "{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}",
        Ok("TRUE"),
    ),
    (
        "boolean if not",
        "{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}",
        Ok("FALSE"),
    ),
    // Short-circuit (exec_test's "and short-circuit" family, Go 1.18).
    ("and short", "{{and 0 (index nil 1)}}", Ok("0")),
    ("or short", "{{or 1 (index nil 1)}}", Ok("1")),
    (
        "and undefined",
        "{{and 1 (index nil 1)}}",
        Err("index of untyped nil"),
    ),
    // Indexing.
    ("slice[0]", "{{index .SI 0}}", Ok("3")),
    ("slice[1]", "{{index .SI 1}}", Ok("4")),
    (
        "slice[HUGE]",
        "{{index .SI 10}}",
        Err("index out of range: 10"),
    ),
    (
        "slice[WRONG]",
        "{{index .SI `hello`}}",
        Err("cannot index slice/array with type string"),
    ),
    (
        "slice[nil]",
        "{{index .SI nil}}",
        Err("cannot index slice/array with nil"),
    ),
    ("map[one]", "{{index .MSI `one`}}", Ok("1")),
    ("map[two]", "{{index .MSI `two`}}", Ok("2")),
    (
        "map[nil]",
        "{{index .MSI nil}}",
        Err("value is nil; should be of type string"),
    ),
    (
        "map[WRONG]",
        "{{index .MSI 10}}",
        Err("value has type int; should be string"),
    ),
    ("double index", "{{index .SMSI 1 `eleven`}}", Ok("11")),
    ("nil[1]", "{{index nil 1}}", Err("index of untyped nil")),
    // Slicing (exec_test's sliceTests).
    ("slice[:]", "{{slice .SI}}", Ok("[3 4 5]")),
    ("slice[1:]", "{{slice .SI 1}}", Ok("[4 5]")),
    ("slice[1:2]", "{{slice .SI 1 2}}", Ok("[4]")),
    (
        "slice[-1:]",
        "{{slice .SI -1}}",
        Err("index out of range: -1"),
    ),
    (
        "slice[2:1]",
        "{{slice .SI 2 1}}",
        Err("invalid slice index: 2 > 1"),
    ),
    ("string[:]", "{{slice .X}}", Ok("x")),
    ("string[0:1]", "{{slice `hello` 0 1}}", Ok("h")),
    (
        "string[1:2:3]",
        "{{slice `hello` 1 2 3}}",
        Err("cannot 3-index slice a string"),
    ),
    // Len.
    ("len slice", "{{len .SI}}", Ok("3")),
    ("len map", "{{len .MSI }}", Ok("3")),
    ("len of int", "{{len 3}}", Err("len of type int")),
    (
        "len of nothing",
        "{{len .Empty0}}",
        Err("len of nil pointer"),
    ),
    // With.
    ("with true", "{{with true}}{{.}}{{end}}", Ok("true")),
    (
        "with false",
        "{{with false}}{{.}}{{else}}FALSE{{end}}",
        Ok("FALSE"),
    ),
    ("with 1", "{{with 1}}{{.}}{{else}}ZERO{{end}}", Ok("1")),
    ("with 0", "{{with 0}}{{.}}{{else}}ZERO{{end}}", Ok("ZERO")),
    (
        "with 1.5",
        "{{with 1.5}}{{.}}{{else}}ZERO{{end}}",
        Ok("1.5"),
    ),
    (
        "with 0.0",
        "{{with .FloatZero}}{{.}}{{else}}ZERO{{end}}",
        Ok("ZERO"),
    ),
    (
        "with emptystring",
        "{{with ``}}{{.}}{{else}}EMPTY{{end}}",
        Ok("EMPTY"),
    ),
    (
        "with string",
        "{{with `notempty`}}{{.}}{{else}}EMPTY{{end}}",
        Ok("notempty"),
    ),
    (
        "with emptyslice",
        "{{with .SIEmpty}}{{.}}{{else}}EMPTY{{end}}",
        Ok("EMPTY"),
    ),
    (
        "with slice",
        "{{with .SI}}{{.}}{{else}}EMPTY{{end}}",
        Ok("[3 4 5]"),
    ),
    (
        "with emptymap",
        "{{with .MSIEmpty}}{{.}}{{else}}EMPTY{{end}}",
        Ok("EMPTY"),
    ),
    (
        "with map",
        "{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}",
        Ok("map[one:1]"),
    ),
    (
        "with empty interface, struct field",
        "{{with .Empty4}}{{.V}}{{end}}",
        Ok("UinEmpty"),
    ),
    ("with $x int", "{{with $x := .I}}{{$x}}{{end}}", Ok("17")),
    (
        "with $x struct.U.V",
        "{{with $x := $}}{{$x.U.V}}{{end}}",
        Ok("v"),
    ),
    (
        "with variable and action",
        "{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}",
        Ok("v"),
    ),
    (
        "with else with",
        "{{with 0}}{{.}}{{else with true}}{{.}}{{end}}",
        Ok("true"),
    ),
    (
        "with else with chain",
        "{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}",
        Ok("notempty"),
    ),
    // Range.
    (
        "range []int",
        "{{range .SI}}-{{.}}-{{end}}",
        Ok("-3--4--5-"),
    ),
    (
        "range empty no else",
        "{{range .SIEmpty}}-{{.}}-{{end}}",
        Ok(""),
    ),
    (
        "range []int else",
        "{{range .SI}}-{{.}}-{{else}}EMPTY{{end}}",
        Ok("-3--4--5-"),
    ),
    (
        "range empty else",
        "{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}",
        Ok("EMPTY"),
    ),
    (
        "range []bool",
        "{{range .SB}}-{{.}}-{{end}}",
        Ok("-true--false-"),
    ),
    ("range map", "{{range .MSI}}-{{.}}-{{end}}", Ok("-1--3--2-")),
    (
        "range empty map no else",
        "{{range .MSIEmpty}}-{{.}}-{{end}}",
        Ok(""),
    ),
    (
        "range map else",
        "{{range .MSI}}-{{.}}-{{else}}EMPTY{{end}}",
        Ok("-1--3--2-"),
    ),
    (
        "range empty map else",
        "{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}",
        Ok("EMPTY"),
    ),
    (
        "range empty interface",
        "{{range .Empty3}}-{{.}}-{{else}}EMPTY{{end}}",
        Ok("-7--8-"),
    ),
    ("range empty nil", "{{range .Empty0}}-{{.}}-{{end}}", Ok("")),
    (
        "range $x SI",
        "{{range $x := .SI}}<{{$x}}>{{end}}",
        Ok("<3><4><5>"),
    ),
    (
        "range $x $y SI",
        "{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}",
        Ok("<0=3><1=4><2=5>"),
    ),
    (
        "range $x MSIone",
        "{{range $x := .MSIone}}<{{$x}}>{{end}}",
        Ok("<1>"),
    ),
    (
        "range $x $y MSIone",
        "{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}",
        Ok("<one=1>"),
    ),
    (
        "range $x PSI",
        "{{range $x := .PSI}}<{{$x}}>{{end}}",
        Ok("<21><22><23>"),
    ),
    (
        "declare in range",
        "{{range $x := .PSI}}<{{$foo:=$x}}{{$x}}>{{end}}",
        Ok("<21><22><23>"),
    ),
    ("range int", "{{range 3}}<{{.}}>{{end}}", Ok("<0><1><2>")),
    (
        "range $i int",
        "{{range $i := 3}}<{{$i}}>{{end}}",
        Ok("<0><1><2>"),
    ),
    (
        "range break",
        "{{range .SI}}{{if eq . 4}}{{break}}{{end}}<{{.}}>{{end}}",
        Ok("<3>"),
    ),
    (
        "range continue",
        "{{range .SI}}{{if eq . 4}}{{continue}}{{end}}<{{.}}>{{end}}",
        Ok("<3><5>"),
    ),
    (
        "range string",
        "{{range .X}}{{end}}",
        Err("range can't iterate over x"),
    ),
    // Cute examples.
    (
        "or as if true",
        "{{or .SI \"slice is empty\"}}",
        Ok("[3 4 5]"),
    ),
    (
        "or as if false",
        "{{or .SIEmpty \"slice is empty\"}}",
        Ok("slice is empty"),
    ),
    // Fixed bugs.
    (
        "bug7a",
        "{{3 2}}",
        Err("can't give argument to non-function 3"),
    ),
    (
        "bug7b",
        "{{$x := 1}}{{$x 2}}",
        Err("can't give argument to non-function $x"),
    ),
    (
        "bug7c",
        "{{$x := 1}}{{3 | $x}}",
        Err("can't give argument to non-function $x"),
    ),
    ("bug9", "{{.cause}}", Ok("<no value>")),
    ("bug13", "{{print (.U).V}}", Ok("v")),
    ("bug14a", "{{(nil).True}}", Err("nil is not a command")),
    (
        "bug14b",
        "{{$x := nil}}{{$x.anything}}",
        Err("nil is not a command"),
    ),
    (
        "bug14c",
        "{{$x := (1.0)}}{{$y := (\"hello\")}}{{$x.anything}}{{$y.true}}",
        Err("can't evaluate field anything in type float64"),
    ),
    (
        "bug16a",
        "{{true|printf}}",
        Err("wrong type for value; expected string; got bool"),
    ),
    (
        "bug16b",
        "{{1|printf}}",
        Err("wrong type for value; expected string; got int"),
    ),
    ("bug16k", "{{\"aaa\"|printf }}", Ok("aaa")),
    // Comparisons (exec_test's cmpTests).
    ("eq true true", "{{eq true true}}", Ok("true")),
    ("eq 1 1", "{{eq 1 1}}", Ok("true")),
    ("eq 1 2", "{{eq 1 2}}", Ok("false")),
    ("eq multi", "{{eq 3 4 5 6 3}}", Ok("true")),
    ("eq multi none", "{{eq 3 4 5 6 7}}", Ok("false")),
    ("eq strings", "{{eq `xy` `xy`}}", Ok("true")),
    ("eq float", "{{eq 1.5 1.5}}", Ok("true")),
    (
        "eq int float",
        "{{eq 1 1.5}}",
        Err("incompatible types for comparison"),
    ),
    (
        "eq string int",
        "{{eq `xy` 1}}",
        Err("incompatible types for comparison"),
    ),
    ("eq missing", "{{eq .MXI.none `x`}}", Ok("false")),
    ("eq two nils", "{{eq .MXI.none .MXI.other}}", Ok("true")),
    ("ne 1 2", "{{ne 1 2}}", Ok("true")),
    ("lt 1 2", "{{lt 1 2}}", Ok("true")),
    ("lt 2 1", "{{lt 2 1}}", Ok("false")),
    ("le 1 1", "{{le 1 1}}", Ok("true")),
    ("gt 2 1", "{{gt 2 1}}", Ok("true")),
    ("ge 1 2", "{{ge 1 2}}", Ok("false")),
    ("lt strings", "{{lt `a` `b`}}", Ok("true")),
    ("lt floats", "{{lt 1.5 2.5}}", Ok("true")),
    (
        "lt bools",
        "{{lt true false}}",
        Err("invalid type for comparison"),
    ),
    (
        "lt int string",
        "{{lt 1 `a`}}",
        Err("incompatible types for comparison"),
    ),
    (
        "eq missing arg",
        "{{eq 1}}",
        Err("missing argument for comparison"),
    ),
    (
        "ne arity",
        "{{ne 1}}",
        Err("wrong number of args for ne: want 2 got 1"),
    ),
    // Trim markers (exec_test's trim cases).
    ("trim left", "a {{- 1}} b", Ok("a1 b")),
    ("trim right", "a {{1 -}} b", Ok("a 1b")),
    ("trim both", "a \n\t{{- 1 -}}\n\t b", Ok("a1b")),
    ("trim comment", "a {{- /* c */ -}} b", Ok("ab")),
    ("negative number not trim", "{{-3}}", Ok("-3")),
    ("comment", "a{{/* hello */}}b", Ok("ab")),
    // Templates and blocks.
    (
        "define and call",
        "{{define \"x\"}}<{{.}}>{{end}}{{template \"x\" .I}}",
        Ok("<17>"),
    ),
    (
        "template no pipeline",
        "{{define \"x\"}}<{{.}}>{{end}}{{template \"x\"}}",
        Ok("<<no value>>"),
    ),
    ("block", "{{block \"b\" .X}}[{{.}}]{{end}}", Ok("[x]")),
    (
        "template undefined",
        "{{template \"nope\"}}",
        Err("template \"nope\" not defined"),
    ),
    (
        "template no variables",
        "{{$x := 1}}{{define \"y\"}}{{$}}{{end}}{{template \"y\" 2}}",
        Ok("2"),
    ),
];

#[test]
fn go_exec_cases() {
    let data = t_val();
    for (name, text, want) in CASES {
        let dot = if name.starts_with("dot int")
            || name.starts_with("$") && !text.contains("$.") && !text.contains(":=")
        {
            Value::Int(17)
        } else {
            data.clone()
        };
        eprintln!("case {name}");
        check(text, &dot, *want);
    }
}
