//! Cases from Prometheus' template/template_test.go (v2.42.0, Apache-2.0, © The Prometheus
//! Authors), as data: the template, its input, the query result the fake query function
//! returns, and the exact output or error text. External URL `http://testhost:9090/path/prefix`
//! as in the Go test. Cases for ExpandHTML (html/template escaping) are left out: alert
//! templates are text templates.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use sightline_template::prometheus::{self, AlertContext};
use sightline_template::{Env, MissingKey, Options, QueryFn, Sample, Value};

struct Fixed(Vec<Sample>);

impl QueryFn for Fixed {
    fn query(&self, _q: &str) -> Result<Vec<Sample>, String> {
        Ok(self.0.clone())
    }
}

fn sample(labels: &[(&str, &str)], value: f64) -> Sample {
    Sample {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        value,
    }
}

const EXT: &str = "http://testhost:9090/path/prefix";

fn expand(
    text: &str,
    input: &Value,
    result: Vec<Sample>,
    options: Options,
) -> Result<String, String> {
    let q = Fixed(result);
    let env = Env {
        query: Some(&q),
        now: Some(0.0),
        external_url: Some(EXT),
    };
    prometheus::expand("test", text, input, &env, options).map_err(|e| e.to_string())
}

fn check(text: &str, input: Value, result: Vec<Sample>, want: Result<&str, &str>) {
    let got = expand(text, &input, result, prometheus::expand_options());
    match (&got, want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w, "template {text:?}"),
        (Err(g), Err(w)) => assert_eq!(g, w, "template {text:?}"),
        _ => panic!("template {text:?}: got {got:?}, want {want:?}"),
    }
}

fn floats(v: &[f64]) -> Value {
    Value::from(v.iter().map(|&f| Value::Float(f)).collect::<Vec<_>>())
}
fn strs(v: &[&str]) -> Value {
    Value::from(v.iter().map(|&s| Value::from(s)).collect::<Vec<_>>())
}
fn ints(v: &[i64]) -> Value {
    Value::from(v.iter().map(|&i| Value::Int(i)).collect::<Vec<_>>())
}

#[test]
fn plain_and_literals() {
    check("plain text", Value::NoValue, vec![], Ok("plain text"));
    check("{{ 1 }}", Value::NoValue, vec![], Ok("1"));
    check(
        "{{ \u{a0}}}",
        Value::NoValue,
        vec![],
        Err("error parsing template test: template: test:1: unrecognized character in action: U+00A0"),
    );
    check("{{ \"<b>\" }}", Value::NoValue, vec![], Ok("<b>"));
    check(
        "{{define \"x\"}}{{.arg0}} {{.arg1}}{{end}}{{template \"x\" (args 1 \"2\")}}",
        Value::NoValue,
        vec![],
        Ok("1 2"),
    );
}

#[test]
fn queries() {
    let m = |v| vec![sample(&[("__name__", "metric"), ("instance", "a")], v)];
    check(
        "{{ query \"1.5\" | first | value }}",
        Value::NoValue,
        vec![sample(&[], 1.5)],
        Ok("1.5"),
    );
    check(
        "{{ query \"metric{instance='a'}\" | first | value }}",
        Value::NoValue,
        m(11.0),
        Ok("11"),
    );
    check(
        "{{ query \"metric{instance='a'}\" | first | label \"instance\" }}",
        Value::NoValue,
        m(11.0),
        Ok("a"),
    );
    check(
        "{{ query \"metric{__value__='a'}\" | first | strvalue }}",
        Value::NoValue,
        vec![sample(&[("__name__", "metric"), ("__value__", "a")], 11.0)],
        Ok("a"),
    );
    check(
        "{{ query \"metric{instance='a'}\" | first | label \"foo\" }}",
        Value::NoValue,
        m(11.0),
        Ok(""),
    );
    check(
        "{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}",
        Value::NoValue,
        m(11.0),
        Ok(""),
    );
    check(
        "{{ range query \"metric\" | sortByLabel \"instance\" }}{{.Labels.instance}}:{{.Value}}: {{end}}",
        Value::NoValue,
        vec![
            sample(&[("__name__", "metric"), ("instance", "b")], 21.0),
            sample(&[("__name__", "metric"), ("instance", "a")], 11.0),
        ],
        Ok("a:11: b:21: "),
    );
    check(
        "{{ query \"missing\" | first }}",
        Value::NoValue,
        vec![],
        Err("error executing template test: template: test:1:21: executing \"test\" at <first>: error calling first: first() called on vector with no elements"),
    );
}

#[test]
fn strip_port_and_domain() {
    for (input, port, domain) in [
        ("foo.example.com", "foo.example.com", "foo"),
        ("foo.example.com:12345", "foo.example.com", "foo:12345"),
        ("192.0.2.1", "192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:12345", "192.0.2.1", "192.0.2.1:12345"),
        ("2001:0DB8::1", "2001:0DB8::1", "2001:0DB8::1"),
        (
            "[2001:0DB8::1]:12345",
            "2001:0DB8::1",
            "[2001:0DB8::1]:12345",
        ),
        (
            "[2001:0DB8::1]::12345",
            "[2001:0DB8::1]::12345",
            "[2001:0DB8::1]::12345",
        ),
    ] {
        check(
            &format!("{{{{ {input:?} | stripPort }}}}"),
            Value::NoValue,
            vec![],
            Ok(port),
        );
        check(
            &format!("{{{{ {input:?} | stripDomain }}}}"),
            Value::NoValue,
            vec![],
            Ok(domain),
        );
    }
}

#[test]
fn missing_keys_by_option() {
    let opts = |mk| Options {
        missing_key: mk,
        ..Options::default()
    };
    let run = |mk| expand("{{ .Foo }}", &Value::NoValue, vec![], opts(mk));
    assert_eq!(run(MissingKey::Zero).as_deref(), Ok("<no value>"));
    assert_eq!(run(MissingKey::Default).as_deref(), Ok("<no value>"));
    assert_eq!(
        run(MissingKey::Error),
        Err("error executing template test: template: test:1:3: executing \"test\" at <.Foo>: nil data; no entry for key \"Foo\"".to_string())
    );
    check(
        "{{",
        Value::NoValue,
        vec![],
        Err("error parsing template test: template: test:1: unclosed action"),
    );
}

#[test]
fn rereplace_and_humanize() {
    check(
        "{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}",
        Value::NoValue,
        vec![],
        Ok("xa"),
    );
    let h = "{{ range . }}{{ humanize . }}:{{ end }}";
    check(
        h,
        floats(&[0.0, 1.0, 1234567.0, 0.12]),
        vec![],
        Ok("0:1:1.235M:120m:"),
    );
    check(
        h,
        strs(&["0.0", "1.0", "1234567.0", ".12"]),
        vec![],
        Ok("0:1:1.235M:120m:"),
    );
    check(
        "{{ humanize \"one\" }}",
        Value::NoValue,
        vec![],
        Err("error executing template test: template: test:1:3: executing \"test\" at <humanize \"one\">: error calling humanize: strconv.ParseFloat: parsing \"one\": invalid syntax"),
    );
    check(
        h,
        ints(&[0, -1, 1, 1234567, i64::MAX]),
        vec![],
        Ok("0:-1:1:1.235M:9.223E:"),
    );
    let h = "{{ range . }}{{ humanize1024 . }}:{{ end }}";
    check(
        h,
        floats(&[0.0, 1.0, 1048576.0, 0.12]),
        vec![],
        Ok("0:1:1Mi:0.12:"),
    );
    check(
        h,
        strs(&["0.0", "1.0", "1048576.0", ".12"]),
        vec![],
        Ok("0:1:1Mi:0.12:"),
    );
    check(
        h,
        ints(&[0, -1, 1, 1234567, i64::MAX]),
        vec![],
        Ok("0:-1:1:1.177Mi:8Ei:"),
    );
    check(
        "{{ humanize1024 \"one\" }}",
        Value::NoValue,
        vec![],
        Err("error executing template test: template: test:1:3: executing \"test\" at <humanize1024 \"one\">: error calling humanize1024: strconv.ParseFloat: parsing \"one\": invalid syntax"),
    );
}

#[test]
fn humanize_duration() {
    let h = "{{ range . }}{{ humanizeDuration . }}:{{ end }}";
    check(
        h,
        floats(&[
            0.0,
            1.0,
            60.0,
            3600.0,
            86400.0,
            86400.0 + 3600.0,
            -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
            899.99,
        ]),
        vec![],
        Ok("0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:"),
    );
    check(
        h,
        strs(&["0", "1", "60", "3600", "86400"]),
        vec![],
        Ok("0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:"),
    );
    check(
        h,
        floats(&[0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]),
        vec![],
        Ok("100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"),
    );
    check(
        h,
        strs(&[".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"]),
        vec![],
        Ok("100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"),
    );
    check(
        h,
        ints(&[0, -1, 1, 1234567]),
        vec![],
        Ok("0s:-1s:1s:14d 6h 56m 7s:"),
    );
    check(
        "{{ humanizeDuration \"one\" }}",
        Value::NoValue,
        vec![],
        Err("error executing template test: template: test:1:3: executing \"test\" at <humanizeDuration \"one\">: error calling humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax"),
    );
    // The brief's example.
    check(
        "{{ humanizeDuration 3661 }}",
        Value::NoValue,
        vec![],
        Ok("1h 1m 1s"),
    );
}

#[test]
fn infinities_and_percentages() {
    let all = "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}";
    let want = "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:";
    check(
        all,
        floats(&[f64::INFINITY, f64::NEG_INFINITY, f64::NAN]),
        vec![],
        Ok(want),
    );
    check(all, strs(&["+Inf", "-Inf", "NaN"]), vec![], Ok(want));
    check(
        "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
        Value::NoValue,
        vec![],
        Ok("-22.22%:0%:12.35%:123.5%"),
    );
    check(
        "{{ range . }}{{ humanizePercentage . }}:{{ end }}",
        ints(&[0, -1, 1, 1234567, i64::MAX]),
        vec![],
        Ok("0%:-100%:100%:1.235e+08%:9.223e+20%:"),
    );
    check(
        "{{ \"-0.22222\" | humanizePercentage }}:{{ \"0.0\" | humanizePercentage }}:{{ \"0.1234567\" | humanizePercentage }}:{{ \"1.23456\" | humanizePercentage }}",
        Value::NoValue,
        vec![],
        Ok("-22.22%:0%:12.35%:123.5%"),
    );
    check(
        "{{ \"one\" | humanizePercentage }}",
        Value::NoValue,
        vec![],
        Err("error executing template test: template: test:1:11: executing \"test\" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax"),
    );
    check(
        "{{ humanizePercentage 0.1234 }}",
        Value::NoValue,
        vec![],
        Ok("12.34%"),
    );
    check(
        "{{ humanize 1234567 }}",
        Value::NoValue,
        vec![],
        Ok("1.235M"),
    );
}

#[test]
fn timestamps() {
    let h = "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}";
    check(
        h,
        ints(&[0, -1, 1, 1234567, 9223372036]),
        vec![],
        Ok("1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:"),
    );
    check(
        h,
        ints(&[i64::MIN, i64::MAX]),
        vec![],
        Err("error executing template test: template: test:1:16: executing \"test\" at <humanizeTimestamp .>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64"),
    );
    check(
        "{{ 1435065584.128 | humanizeTimestamp }}",
        Value::NoValue,
        vec![],
        Ok("2015-06-23 13:19:44.128 +0000 UTC"),
    );
    check(
        "{{ \"1435065584.128\" | humanizeTimestamp }}",
        Value::NoValue,
        vec![],
        Ok("2015-06-23 13:19:44.128 +0000 UTC"),
    );
    check(
        "{{ (1435065584.128 | toTime).Format \"2006\" }}",
        Value::NoValue,
        vec![],
        Ok("2015"),
    );
    check(
        "{{ (\"1435065584.128\" | toTime).Format \"2006\" }}",
        Value::NoValue,
        vec![],
        Ok("2015"),
    );
    check(
        "{{ 1657155181 | toTime }}",
        Value::NoValue,
        vec![],
        Ok("2022-07-07 00:53:01 +0000 UTC"),
    );
    check(
        "{{ 3661.5 | toDuration }}",
        Value::NoValue,
        vec![],
        Ok("1h1m1.5s"),
    );
}

#[test]
fn strings_links_and_urls() {
    check(
        "{{ \"aa bb CC\" | title }}",
        Value::NoValue,
        vec![],
        Ok("Aa Bb CC"),
    );
    check(
        "{{ \"aa bb CC\" | toUpper }}",
        Value::NoValue,
        vec![],
        Ok("AA BB CC"),
    );
    check(
        "{{ \"aA bB CC\" | toLower }}",
        Value::NoValue,
        vec![],
        Ok("aa bb cc"),
    );
    check(
        "{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}",
        Value::NoValue,
        vec![],
        Ok("true false"),
    );
    check(
        "{{ graphLink \"up\" }}",
        Value::NoValue,
        vec![],
        Ok("/graph?g0.expr=up&g0.tab=0"),
    );
    check(
        "{{ tableLink \"up\" }}",
        Value::NoValue,
        vec![],
        Ok("/graph?g0.expr=up&g0.tab=1"),
    );
    check(
        "{{ pathPrefix }}",
        Value::NoValue,
        vec![],
        Ok("/path/prefix"),
    );
    check(
        "{{ externalURL }}",
        Value::NoValue,
        vec![],
        Ok("http://testhost:9090/path/prefix"),
    );
    check(
        "{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}",
        Value::NoValue,
        vec![],
        Ok("3720.01"),
    );
    check(
        "{{ urlQueryEscape \"a b&c\" }}",
        Value::NoValue,
        vec![],
        Ok("a+b%26c"),
    );
}

fn alert(text: &str, labels: &[(&str, &str)], value: f64) -> Result<String, String> {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let ext = BTreeMap::from([("cluster".to_string(), "eu-1".to_string())]);
    let q = Fixed(vec![sample(&[("__name__", "up"), ("job", "node")], 0.0)]);
    let ctx = AlertContext {
        labels: &labels,
        external_labels: &ext,
        external_url: EXT,
        value,
        now: 1_700_000_000.0,
        query: Some(&q),
    };
    prometheus::expand_alert_template("ServiceDown", text, &ctx).map_err(|e| e.to_string())
}

#[test]
fn alert_templates() {
    let l = [("instance", "web-1:9100"), ("job", "node")];
    assert_eq!(
        alert(
            "{{ $labels.instance }} of job {{ $labels.job }} has been down",
            &l,
            0.0
        )
        .as_deref(),
        Ok("web-1:9100 of job node has been down")
    );
    // $value prints as Go's fmt prints a float64.
    for (v, want) in [
        (1e6, "1e+06"),
        (0.1, "0.1"),
        (2.5, "2.5"),
        (1234567.0, "1.234567e+06"),
        (123456.0, "123456"),
        (0.00001, "1e-05"),
        (f64::INFINITY, "+Inf"),
        (f64::NAN, "NaN"),
        (-0.0, "-0"),
    ] {
        assert_eq!(
            alert("{{ $value }}", &l, v).as_deref(),
            Ok(want),
            "value {v}"
        );
    }
    assert_eq!(
        alert("{{ $externalLabels.cluster }} {{ $externalURL }}", &l, 0.0).as_deref(),
        Ok("eu-1 http://testhost:9090/path/prefix")
    );
    // A missing label is empty (missingkey=zero), as in Prometheus.
    assert_eq!(alert("[{{ $labels.nope }}]", &l, 0.0).as_deref(), Ok("[]"));
    assert_eq!(
        alert("{{ printf \"%.2f\" $value }}", &l, 0.12345).as_deref(),
        Ok("0.12")
    );
    assert_eq!(
        alert(
            "{{ with query \"up\" }}{{ . | first | label \"job\" }}{{ end }}",
            &l,
            0.0
        )
        .as_deref(),
        Ok("node")
    );
    assert_eq!(alert("{{ now }}", &l, 0.0).as_deref(), Ok("1.7e+09"));
    // Errors read as Prometheus shows them: the column counts the prepended definitions.
    assert_eq!(
        alert("{{ $labels.instance | nope }}", &l, 0.0),
        Err("error parsing template __alert_ServiceDown: template: __alert_ServiceDown:1: function \"nope\" not defined".to_string())
    );
    assert_eq!(
        alert("{{ $labels | humanize }}", &l, 0.0),
        Err("error executing template __alert_ServiceDown: template: __alert_ServiceDown:1:125: executing \"__alert_ServiceDown\" at <humanize>: error calling humanize: can't convert map[string]string to float".to_string())
    );
    let text = "{{ $value | humanize | len | humanizeDuration | query }}";
    let got = alert(text, &l, 0.0);
    assert!(got.is_ok(), "{got:?}");
    assert_eq!(
        prometheus::expand_alert_template_or_error(
            "ServiceDown",
            "{{ first (query \"none\" | sortByLabel \"x\") }}x",
            &AlertContext {
                labels: &BTreeMap::new(),
                external_labels: &BTreeMap::new(),
                external_url: "",
                value: 0.0,
                now: 0.0,
                query: Some(&Fixed(vec![])),
            },
        ),
        "<error expanding template: error executing template __alert_ServiceDown: template: __alert_ServiceDown:1:115: executing \"__alert_ServiceDown\" at <first (query \"none\" | sortByLabel \"x\")>: error calling first: first() called on vector with no elements>"
    );
}
