//! Prometheus' template functions (prometheus/template/template.go, v2.42 plus the harmless
//! later additions `toDuration`, `now` and `urlQueryEscape`) and the alert-rule expansion
//! helper (rules/alerting.go).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::funcs::{want_str, wrong_type, Arity, Env, FuncError, FuncMap, QueryFn};
use crate::gofmt::{format_float, quote};
use crate::gotime::{Duration, Time};
use crate::value::{Object, Sample, Value};
use crate::{Error, MissingKey, Options, Template};

/// Prometheus' function map (builtins included), built once.
pub fn funcs() -> Arc<FuncMap> {
    static FUNCS: OnceLock<Arc<FuncMap>> = OnceLock::new();
    FUNCS.get_or_init(|| Arc::new(build())).clone()
}

/// Go's `%.4g`.
fn g4(v: f64) -> String {
    format_float(v, 'g', Some(4))
}

/// Prometheus' `convertToFloat`.
pub(crate) fn to_float(v: &Value) -> Result<f64, FuncError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Str(s) => parse_go_float(s).ok_or_else(|| {
            FuncError::Call(format!(
                "strconv.ParseFloat: parsing {}: invalid syntax",
                quote(s)
            ))
        }),
        Value::Object(o) if o.as_duration().is_some() => {
            Ok(o.as_duration().map_or(0.0, |d| d.seconds()))
        }
        other => Err(FuncError::Call(format!(
            "can't convert {} to float",
            other.type_name()
        ))),
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal input, infinities and NaN.
fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = t.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return s.parse::<f64>().ok().or(Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else if lower == "nan" {
            f64::NAN
        } else {
            f64::INFINITY
        }));
    }
    if t.is_empty()
        || !t
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

fn sample_arg(v: &Value) -> Result<&Sample, FuncError> {
    match v {
        Value::Object(o) => o
            .as_sample()
            .ok_or_else(|| wrong_type("*template.sample", v)),
        Value::NoValue | Value::Nil => Err(FuncError::Call(
            "runtime error: invalid memory address or nil pointer dereference".into(),
        )),
        _ => Err(wrong_type("*template.sample", v)),
    }
}

fn query_result(v: &Value) -> Result<&Arc<Vec<Value>>, FuncError> {
    match v {
        Value::List(l)
            if l.iter()
                .all(|s| matches!(s, Value::Object(o) if o.as_sample().is_some())) =>
        {
            Ok(l)
        }
        _ => Err(wrong_type("template.queryResult", v)),
    }
}

/// Go's `regexp.MustCompile` panic text, for patterns Rust's regex rejects.
pub(crate) fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| {
        let reason = match e {
            regex::Error::Syntax(s) => s.lines().last().unwrap_or("").trim().to_string(),
            other => other.to_string(),
        };
        format!("error parsing regexp: {reason}: {}", backquote(pattern))
    })
}

/// Go's `strings.Title` (Prometheus 2.42): upper-cases the first letter of each word.
pub(crate) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(go_upper(c));
        } else {
            out.push(c);
        }
        prev_sep = is_separator(c);
    }
    out
}

fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

/// Go maps case rune by rune; a rune whose mapping is several runes stays as it is.
pub(crate) fn go_upper(c: char) -> Option<char> {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => Some(x),
        _ => Some(c),
    }
}

pub(crate) fn go_lower(c: char) -> char {
    let mut u = c.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Go's `net.SplitHostPort`.
fn split_host_port(hp: &str) -> Option<(&str, &str)> {
    let i = hp.rfind(':')?;
    let (host, j, k) = if hp.starts_with('[') {
        let end = hp.find(']')?;
        if end + 1 != i {
            return None;
        }
        (&hp[1..end], 1, end + 1)
    } else {
        let host = &hp[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hp[j..].contains('[') || hp[k..].contains(']') {
        return None;
    }
    Some((host, &hp[i + 1..]))
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Prometheus' `floatToTime` then `model.TimeFromUnixNano(...).Time().UTC()`: millisecond
/// precision, truncated toward zero.
fn float_to_time(v: f64) -> Result<Time, FuncError> {
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(FuncError::Call(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            format_float(v, 'g', None)
        )));
    }
    let ms = (ns as i64) / 1_000_000;
    Ok(Time::from_unix_millis(ms))
}

/// Prometheus' `model.ParseDurationAllowNegative`: `1h30m`, `5m`, `1d`, `-2w`, `100ms`.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if body.is_empty() {
        return Err("empty duration string".into());
    }
    if body == "0" {
        return Ok(0);
    }
    let invalid = || format!("not a valid duration string: {}", quote(s));
    const UNITS: [(&str, i64); 8] = [
        ("y", 365 * 24 * 3_600_000),
        ("w", 7 * 24 * 3_600_000),
        ("d", 24 * 3_600_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
        ("", 0),
    ];
    let mut rest = body;
    let mut total: i64 = 0;
    let mut last_unit = 0usize;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| "duration out of range".to_string())?;
        rest = &rest[digits..];
        let unit = if rest.starts_with("ms") {
            "ms"
        } else {
            rest.get(..1).unwrap_or("")
        };
        let Some(idx) = UNITS[..7].iter().position(|(u, _)| *u == unit) else {
            return Err(invalid());
        };
        // Units must appear largest first, each at most once.
        if idx < last_unit || (idx == last_unit && total != 0) {
            return Err(invalid());
        }
        last_unit = idx;
        rest = &rest[unit.len()..];
        total = n
            .checked_mul(UNITS[idx].1)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "duration out of range".to_string())?;
    }
    Ok(if neg { -total } else { total })
}

fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
        return format!("{}{prefix}", g4(v));
    }
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}", g4(v))
}

fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g4(v))
}

/// Prometheus' (and prometheus/common's) `humanizeDuration`.
pub fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    if v == 0.0 {
        return format!("{}s", g4(v));
    }
    let mut v = v;
    if v.abs() >= 1.0 {
        let mut sign = "";
        if v < 0.0 {
            sign = "-";
            v = -v;
        }
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86_400);
        if days != 0 {
            return format!("{sign}{days}d {hours}h {mins}m {secs}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {mins}m {secs}s");
        }
        if mins != 0 {
            return format!("{sign}{mins}m {secs}s");
        }
        return format!("{sign}{}s", g4(v));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g4(v))
}

fn build() -> FuncMap {
    let mut m = FuncMap::builtins();
    let call = FuncError::Call;
    m.add("query", Arity::Exact(1), move |env, a| {
        let q = want_str(a, 0)?;
        let Some(qf) = env.query else {
            return Err(call("no query function configured".into()));
        };
        let samples = qf.query(q).map_err(call)?;
        Ok(Value::List(Arc::new(
            samples
                .into_iter()
                .map(|s| Value::Object(Arc::new(s)))
                .collect(),
        )))
    });
    m.add("first", Arity::Exact(1), |_, a| {
        let l = query_result(&a[0])?;
        l.first()
            .cloned()
            .ok_or_else(|| FuncError::Call("first() called on vector with no elements".into()))
    });
    m.add("label", Arity::Exact(2), |_, a| {
        let l = want_str(a, 0)?;
        let s = sample_arg(&a[1])?;
        Ok(Value::from(s.labels.get(l).map_or("", String::as_str)))
    });
    m.add("value", Arity::Exact(1), |_, a| {
        Ok(Value::Float(sample_arg(&a[0])?.value))
    });
    m.add("strvalue", Arity::Exact(1), |_, a| {
        let s = sample_arg(&a[0])?;
        Ok(Value::from(
            s.labels.get("__value__").map_or("", String::as_str),
        ))
    });
    m.add("args", Arity::AtLeast(0), |_, a| {
        let map: BTreeMap<String, Value> = a
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("arg{i}"), v.clone()))
            .collect();
        Ok(Value::from(map))
    });
    m.add("reReplaceAll", Arity::Exact(3), |_, a| {
        let (p, r, t) = (want_str(a, 0)?, want_str(a, 1)?, want_str(a, 2)?);
        // regexp.MustCompile panics; text/template's safeCall turns the panic into the
        // call's error.
        let re = compile(p)
            .map_err(|e| FuncError::Call(format!("regexp: Compile({}): {e}", backquote(p))))?;
        Ok(Value::from(re.replace_all(t, r).into_owned()))
    });
    m.add("safeHtml", Arity::Exact(1), |_, a| {
        Ok(Value::from(want_str(a, 0)?))
    });
    m.add("match", Arity::Exact(2), |_, a| {
        let (p, t) = (want_str(a, 0)?, want_str(a, 1)?);
        let re = compile(p).map_err(FuncError::Call)?;
        Ok(Value::Bool(re.is_match(t)))
    });
    m.add("title", Arity::Exact(1), |_, a| {
        Ok(Value::from(title(want_str(a, 0)?)))
    });
    m.add("toUpper", Arity::Exact(1), |_, a| {
        Ok(Value::from(
            want_str(a, 0)?
                .chars()
                .filter_map(go_upper)
                .collect::<String>(),
        ))
    });
    m.add("toLower", Arity::Exact(1), |_, a| {
        Ok(Value::from(
            want_str(a, 0)?.chars().map(go_lower).collect::<String>(),
        ))
    });
    m.add("graphLink", Arity::Exact(1), |_, a| {
        Ok(Value::from(format!(
            "/graph?g0.expr={}&g0.tab=0",
            crate::query_escape(want_str(a, 0)?)
        )))
    });
    m.add("tableLink", Arity::Exact(1), |_, a| {
        Ok(Value::from(format!(
            "/graph?g0.expr={}&g0.tab=1",
            crate::query_escape(want_str(a, 0)?)
        )))
    });
    m.add("sortByLabel", Arity::Exact(2), |_, a| {
        let l = want_str(a, 0)?;
        let mut v: Vec<Value> = query_result(&a[1])?.as_ref().clone();
        let key = |x: &Value| match x {
            Value::Object(o) => o
                .as_sample()
                .and_then(|s| s.labels.get(l).cloned())
                .unwrap_or_default(),
            _ => String::new(),
        };
        v.sort_by_key(key);
        Ok(Value::List(Arc::new(v)))
    });
    m.add("stripPort", Arity::Exact(1), |_, a| {
        let hp = want_str(a, 0)?;
        Ok(Value::from(split_host_port(hp).map_or(hp, |(h, _)| h)))
    });
    m.add("stripDomain", Arity::Exact(1), |_, a| {
        let hp = want_str(a, 0)?;
        let (host, port) = split_host_port(hp).unwrap_or((hp, ""));
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Ok(Value::from(hp));
        }
        let host = host.split('.').next().unwrap_or("");
        Ok(Value::from(if port.is_empty() {
            host.to_string()
        } else {
            join_host_port(host, port)
        }))
    });
    m.add("humanize", Arity::Exact(1), |_, a| {
        Ok(Value::from(humanize(to_float(&a[0])?)))
    });
    m.add("humanize1024", Arity::Exact(1), |_, a| {
        Ok(Value::from(humanize1024(to_float(&a[0])?)))
    });
    m.add("humanizeDuration", Arity::Exact(1), |_, a| {
        Ok(Value::from(humanize_duration(to_float(&a[0])?)))
    });
    m.add("humanizePercentage", Arity::Exact(1), |_, a| {
        Ok(Value::from(format!("{}%", g4(to_float(&a[0])? * 100.0))))
    });
    m.add("humanizeTimestamp", Arity::Exact(1), |_, a| {
        let v = to_float(&a[0])?;
        if v.is_nan() || v.is_infinite() {
            return Ok(Value::from(g4(v)));
        }
        Ok(Value::from(float_to_time(v)?.go_string()))
    });
    m.add("toTime", Arity::Exact(1), |_, a| {
        let v = to_float(&a[0])?;
        if v.is_nan() || v.is_infinite() {
            return Err(FuncError::Call("value is NaN or Inf".into()));
        }
        Ok(Value::Object(Arc::new(float_to_time(v)?)))
    });
    m.add("toDuration", Arity::Exact(1), |_, a| {
        let v = to_float(&a[0])?;
        Ok(Value::Object(Arc::new(Duration((v * 1e9) as i64))))
    });
    m.add("now", Arity::Exact(0), |env, _| {
        Ok(Value::Float(env.now.unwrap_or(0.0)))
    });
    m.add("pathPrefix", Arity::Exact(0), |env, _| {
        Ok(Value::from(url_path(env.external_url.unwrap_or(""))))
    });
    m.add("externalURL", Arity::Exact(0), |env, _| {
        Ok(Value::from(env.external_url.unwrap_or("")))
    });
    m.add("parseDuration", Arity::Exact(1), |_, a| {
        let ms = parse_duration(want_str(a, 0)?).map_err(FuncError::Call)?;
        Ok(Value::Float(ms as f64 / 1000.0))
    });
    m.add("urlQueryEscape", Arity::Exact(1), |_, a| {
        Ok(Value::from(crate::query_escape(want_str(a, 0)?)))
    });
    m
}

/// Go's `regexp.quote`: backquoted when possible.
pub(crate) fn backquote(s: &str) -> String {
    if s.contains('`') || s.chars().any(|c| c.is_control() && c != '\t') {
        quote(s)
    } else {
        format!("`{s}`")
    }
}

/// The path of a URL (`url.URL.Path`).
fn url_path(u: &str) -> &str {
    let rest = match u.find("://") {
        Some(i) => &u[i + 3..],
        None => return u.split(['?', '#']).next().unwrap_or(""),
    };
    match rest.find('/') {
        Some(i) => rest[i..].split(['?', '#']).next().unwrap_or(""),
        None => "",
    }
}

/// The data of an alert template (Prometheus' `AlertTemplateData`).
struct AlertData {
    labels: Value,
    external_labels: Value,
    external_url: Value,
    value: f64,
}

impl Object for AlertData {
    fn type_name(&self) -> &str {
        "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Labels" => Some(self.labels.clone()),
            "ExternalLabels" => Some(self.external_labels.clone()),
            "ExternalURL" => Some(self.external_url.clone()),
            "Value" => Some(Value::Float(self.value)),
            _ => None,
        }
    }
    fn format(&self, out: &mut String) {
        out.push('{');
        crate::gofmt::write_value(out, &self.labels);
        out.push(' ');
        crate::gofmt::write_value(out, &self.external_labels);
        out.push(' ');
        crate::gofmt::write_value(out, &self.external_url);
        out.push(' ');
        crate::gofmt::write_value(out, &Value::Float(self.value));
        out.push('}');
    }
}

/// The variables Prometheus defines before every alert template.
pub const ALERT_DEFS: &str =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// One alert's template inputs.
pub struct AlertContext<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub external_labels: &'a BTreeMap<String, String>,
    pub external_url: &'a str,
    pub value: f64,
    /// The evaluation time in seconds (for `now`).
    pub now: f64,
    pub query: Option<&'a dyn QueryFn>,
}

/// Prometheus' `Expander.Expand`: parses `text` as the template `name` with Prometheus'
/// functions and runs it on `data`, wording errors as Prometheus does
/// (`error parsing template NAME: ...`, `error executing template NAME: ...`). Prometheus
/// passes `missingkey=zero` unless told otherwise; so does [`expand_options`].
pub fn expand(
    name: &str,
    text: &str,
    data: &Value,
    env: &Env<'_>,
    options: Options,
) -> Result<String, Error> {
    let t = parse_expander(name, text, options)?;
    execute_expander(&t, data, env)
}

/// The parsing half of [`expand`]: the template `name` with Prometheus' functions.
pub fn parse_expander(name: &str, text: &str, options: Options) -> Result<Template, Error> {
    let mut t = Template::new(name, funcs()).with_options(options);
    t.parse(text)
        .map_err(|e| Error::Parse(format!("error parsing template {name}: {e}")))?;
    Ok(t)
}

/// The execution half of [`expand`].
pub fn execute_expander(t: &Template, data: &Value, env: &Env<'_>) -> Result<String, Error> {
    t.execute(data, env).map_err(|e| match e {
        Error::Exec(msg) => Error::Exec(format!("error executing template {}: {msg}", t.name())),
        other => other,
    })
}

/// The options Prometheus' expander uses by default (`missingkey=zero`).
pub fn expand_options() -> Options {
    Options {
        missing_key: MissingKey::Zero,
        ..Options::default()
    }
}

/// A label or annotation template of an alerting rule, parsed once and expanded for each
/// alert: the template is `__alert_<rule_name>`, prefixed by [`ALERT_DEFS`], as Prometheus
/// builds it (Prometheus re-parses it for every alert; the result is the same).
pub struct AlertTemplate {
    parsed: Result<Template, Error>,
}

impl AlertTemplate {
    pub fn new(rule_name: &str, text: &str) -> AlertTemplate {
        let name = format!("__alert_{rule_name}");
        let mut full = String::with_capacity(ALERT_DEFS.len() + text.len());
        full.push_str(ALERT_DEFS);
        full.push_str(text);
        AlertTemplate {
            parsed: parse_expander(&name, &full, expand_options()),
        }
    }

    /// The parse error, if the text does not parse (what `promtool check rules` reports).
    pub fn parse_error(&self) -> Option<&Error> {
        self.parsed.as_ref().err()
    }

    /// Expands the template for one alert. The error reads as Prometheus' `Expand` error
    /// (`error executing template __alert_X: template: ...`).
    pub fn expand(&self, ctx: &AlertContext<'_>) -> Result<String, Error> {
        let t = self.parsed.as_ref().map_err(Clone::clone)?;
        let data = Value::Object(Arc::new(AlertData {
            labels: Value::StrMap(Arc::new(ctx.labels.clone())),
            external_labels: Value::StrMap(Arc::new(ctx.external_labels.clone())),
            external_url: Value::from(ctx.external_url),
            value: ctx.value,
        }));
        let env = Env {
            query: ctx.query,
            now: Some(ctx.now),
            external_url: Some(ctx.external_url),
        };
        execute_expander(t, &data, &env)
    }
}

/// Expands a label or annotation of the alerting rule `rule_name` as Prometheus does (see
/// [`AlertTemplate`]).
pub fn expand_alert_template(
    rule_name: &str,
    text: &str,
    ctx: &AlertContext<'_>,
) -> Result<String, Error> {
    AlertTemplate::new(rule_name, text).expand(ctx)
}

/// What Prometheus stores in place of a label or annotation whose template fails.
pub fn expand_alert_template_or_error(
    rule_name: &str,
    text: &str,
    ctx: &AlertContext<'_>,
) -> String {
    expand_alert_template(rule_name, text, ctx)
        .unwrap_or_else(|e| format!("<error expanding template: {e}>"))
}
