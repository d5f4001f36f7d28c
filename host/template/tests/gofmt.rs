//! Go's fmt and strconv float formatting through `print` and `printf`: each expected text is
//! what Go's `fmt.Sprint`/`fmt.Sprintf` give for the same operands. `%v` of a float64 is
//! `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits that round-trip, in exponent
//! form when the exponent is below -4 or at least 6 (so `fmt.Println(1000000.0)` is `1e+06`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use sightline_template::Value;

const CASES: &[(&str, &str)] = &[
    // %v / print of float64: strconv.FormatFloat(f, 'g', -1, 64).
    ("{{print 1.0}}", "1"),
    ("{{print -1.5}}", "-1.5"),
    ("{{print 0.3}}", "0.3"),
    ("{{print 0.30000000000000004}}", "0.30000000000000004"),
    ("{{print 100000.0}}", "100000"),
    ("{{print 123456.0}}", "123456"),
    ("{{print 1000000.0}}", "1e+06"),
    ("{{print 123456789.0}}", "1.23456789e+08"),
    ("{{print 1e20}}", "1e+20"),
    ("{{print 1e21}}", "1e+21"),
    ("{{print 0.0001}}", "0.0001"),
    ("{{print 0.00001}}", "1e-05"),
    ("{{print 2.5e-05}}", "2.5e-05"),
    ("{{print 5e-324}}", "5e-324"),
    (
        "{{print 1.7976931348623157e308}}",
        "1.7976931348623157e+308",
    ),
    ("{{print 1e100}}", "1e+100"),
    ("{{print 0.0}}", "0"),
    // %.Ng rounds to N significant digits and drops trailing zeros.
    ("{{printf \"%.4g\" 1234567.0}}", "1.235e+06"),
    ("{{printf \"%.4g\" 100.0}}", "100"),
    ("{{printf \"%.4g\" 1000.0}}", "1000"),
    ("{{printf \"%.4g\" 10000.0}}", "1e+04"),
    ("{{printf \"%.4g\" 999999.0}}", "1e+06"),
    ("{{printf \"%.4g\" 99999.0}}", "1e+05"),
    ("{{printf \"%.4g\" 0.00012346}}", "0.0001235"),
    ("{{printf \"%.4g\" 0.000012346}}", "1.235e-05"),
    ("{{printf \"%.4g\" 12.5}}", "12.5"),
    ("{{printf \"%.4g\" 0.0}}", "0"),
    ("{{printf \"%.0g\" 123.0}}", "1e+02"),
    // %e, %f.
    ("{{printf \"%e\" 0.0}}", "0.000000e+00"),
    ("{{printf \"%e\" 1234.5678}}", "1.234568e+03"),
    ("{{printf \"%.2f\" -0.001}}", "-0.00"),
    ("{{printf \"%f\" 1e6}}", "1000000.000000"),
    (
        "{{printf \"%6.2f|%-8.3f|\" 3.14159 2.0}}",
        "  3.14|2.000   |",
    ),
    ("{{printf \"%08.3f\" -3.14159}}", "-003.142"),
    ("{{printf \"%5.1f%%\" 99.44}}", " 99.4%"),
    ("{{printf \"%f|%v|%e\" .Inf .NInf .NaN}}", "+Inf|-Inf|NaN"),
    ("{{printf \"%6.2f|\" .Inf}}", "  +Inf|"),
    // Integers.
    (
        "{{printf \"%x|%X|%#x|%o|%b\" -255 255 255 8 5}}",
        "-ff|FF|0xff|10|101",
    ),
    (
        "{{printf \"%5d|%-5d|%05d|%+d\" 42 42 42 42}}",
        "   42|42   |00042|+42",
    ),
    ("{{printf \"%c%c\" 72 105}}", "Hi"),
    // Strings.
    (
        "{{printf \"%-10s|%10s|\" \"left\" \"right\"}}",
        "left      |     right|",
    ),
    ("{{printf \"%q\" \"tab\\there\"}}", "\"tab\\there\""),
    ("{{printf \"%q\" \"é\\u0001\"}}", "\"é\\x01\""),
    ("{{printf \"%x\" \"hi\"}}", "6869"),
    // Values of other types.
    (
        "{{printf \"%v|%s\" .L .L}}",
        "[1 a 2.5]|[%!s(int=1) a %!s(float64=2.5)]",
    ),
    ("{{printf \"%v\" .M}}", "map[a:1 b:x]"),
    (
        "{{printf \"%d\" .M}}",
        "map[%!d(string=a):1 %!d(string=b):%!d(string=x)]",
    ),
    (
        "{{printf \"%3d\" .L}}",
        "[  1 %!d(string=  a) %!d(float64=2.5)]",
    ),
    ("{{printf \"%v %v\" nil .Missing}}", "<nil> <nil>"),
    ("{{.Missing}}", "<no value>"),
];

#[test]
fn fmt_matches_go() {
    let data = Value::map([
        ("Inf", Value::Float(f64::INFINITY)),
        ("NInf", Value::Float(f64::NEG_INFINITY)),
        ("NaN", Value::Float(f64::NAN)),
        (
            "L",
            Value::from(vec![Value::Int(1), Value::from("a"), Value::Float(2.5)]),
        ),
        (
            "M",
            Value::map([("a", Value::Int(1)), ("b", Value::from("x"))]),
        ),
    ]);
    for (text, want) in CASES {
        common::check(text, &data, Ok(want));
    }
}
