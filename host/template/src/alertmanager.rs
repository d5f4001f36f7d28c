//! Alertmanager's notification templates (alertmanager/template/template.go): the function
//! map, the template data with its methods (`.Alerts.Firing`, `.SortedPairs`, `.Remove`, …)
//! and the vendored `default.tmpl`.
//!
//! Printing follows Alertmanager 0.25: `KV` and `Pairs` have no `String()` method there, so
//! they print as Go prints maps and slices.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use crate::funcs::{want_str, wrong_type, Arity, Env, FuncError, FuncMap};
use crate::gotime::{Duration, Time};
use crate::prometheus::{backquote, compile, go_lower, go_upper, humanize_duration, to_float};
use crate::value::{Object, Value};
use crate::{Error, MissingKey, Options, Template};

/// Alertmanager's `default.tmpl`, vendored unchanged (see `src/vendor/README.md`).
pub const DEFAULT_TMPL: &str = include_str!("vendor/alertmanager-default.tmpl");

/// Alertmanager 0.25's `email.tmpl` (`email.default.subject`, `email.default.html`), which
/// `FromGlobs` parses after `default.tmpl`; vendored unchanged (see `src/vendor/README.md`).
pub const EMAIL_TMPL: &str = include_str!("vendor/alertmanager-email.tmpl");

/// Alertmanager's `DefaultFuncs` plus Go's builtins, built once.
pub fn funcs() -> Arc<FuncMap> {
    static FUNCS: OnceLock<Arc<FuncMap>> = OnceLock::new();
    FUNCS.get_or_init(|| Arc::new(build())).clone()
}

/// A template set as Alertmanager's `FromGlobs` builds it: `missingkey=zero`, `default.tmpl`
/// and `email.tmpl` parsed, then each of `files` (name, text) in order, later definitions replacing earlier ones.
pub fn from_texts(files: &[(&str, &str)], options: Options) -> Result<Template, Error> {
    let mut t = Template::new("", funcs()).with_options(Options {
        missing_key: MissingKey::Zero,
        ..options
    });
    t.parse_named("default.tmpl", DEFAULT_TMPL)?;
    t.parse_named("email.tmpl", EMAIL_TMPL)?;
    for (name, text) in files {
        t.parse_named(name, text)?;
    }
    Ok(t)
}

/// Alertmanager's `ExecuteTextString`: parses `text` as the unnamed template in a copy of the
/// set and runs it on `data`. Empty text renders as empty.
pub fn execute_text_string(set: &Template, text: &str, data: &Value) -> Result<String, Error> {
    if text.is_empty() {
        return Ok(String::new());
    }
    set.execute_text("", text, data, &Env::default())
}

/// One alert as templates see it (Alertmanager's `template.Alert`).
#[derive(Debug, Clone)]
pub struct Alert {
    /// "firing" or "resolved".
    pub status: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Time,
    pub ends_at: Time,
    pub generator_url: String,
    pub fingerprint: String,
}

/// A notification's template data (Alertmanager's `template.Data`).
#[derive(Debug, Clone)]
pub struct Data {
    pub receiver: String,
    pub status: String,
    pub alerts: Vec<Alert>,
    pub group_labels: BTreeMap<String, String>,
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
    pub external_url: String,
}

/// Go's `regexp.QuoteMeta` (Alertmanager quotes the receiver name with it).
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Data {
    /// Builds the data as Alertmanager's `Template.Data` does: the receiver quoted, the group
    /// status firing when any alert fires, and the labels and annotations common to all alerts.
    pub fn new(
        receiver: &str,
        group_labels: BTreeMap<String, String>,
        alerts: Vec<Alert>,
        external_url: &str,
    ) -> Data {
        let firing = alerts.iter().any(|a| a.status == "firing");
        let mut common_labels = BTreeMap::new();
        let mut common_annotations = BTreeMap::new();
        if let Some(first) = alerts.first() {
            common_labels = first.labels.clone();
            common_annotations = first.annotations.clone();
            for a in &alerts[1..] {
                common_labels.retain(|k, v| a.labels.get(k) == Some(v));
                common_annotations.retain(|k, v| a.annotations.get(k) == Some(v));
            }
        }
        Data {
            receiver: quote_meta(receiver),
            status: if firing { "firing" } else { "resolved" }.to_string(),
            alerts,
            group_labels,
            common_labels,
            common_annotations,
            external_url: external_url.to_string(),
        }
    }

    /// The data as a template value.
    pub fn to_value(&self) -> Value {
        Value::Object(Arc::new(DataObj {
            receiver: Value::from(self.receiver.as_str()),
            status: Value::from(self.status.as_str()),
            alerts: Value::Object(Arc::new(AlertsObj(Arc::new(
                self.alerts.iter().map(alert_value).collect(),
            )))),
            group_labels: kv(&self.group_labels),
            common_labels: kv(&self.common_labels),
            common_annotations: kv(&self.common_annotations),
            external_url: Value::from(self.external_url.as_str()),
        }))
    }
}

fn kv(m: &BTreeMap<String, String>) -> Value {
    Value::Object(Arc::new(Kv(Arc::new(m.clone()))))
}

fn alert_value(a: &Alert) -> Value {
    Value::Object(Arc::new(AlertObj {
        status: Value::from(a.status.as_str()),
        labels: kv(&a.labels),
        annotations: kv(&a.annotations),
        starts_at: Value::Object(Arc::new(a.starts_at.clone())),
        ends_at: Value::Object(Arc::new(a.ends_at.clone())),
        generator_url: Value::from(a.generator_url.as_str()),
        fingerprint: Value::from(a.fingerprint.as_str()),
    }))
}

struct DataObj {
    receiver: Value,
    status: Value,
    alerts: Value,
    group_labels: Value,
    common_labels: Value,
    common_annotations: Value,
    external_url: Value,
}

impl Object for DataObj {
    fn type_name(&self) -> &str {
        "*template.Data"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "Receiver" => self.receiver.clone(),
            "Status" => self.status.clone(),
            "Alerts" => self.alerts.clone(),
            "GroupLabels" => self.group_labels.clone(),
            "CommonLabels" => self.common_labels.clone(),
            "CommonAnnotations" => self.common_annotations.clone(),
            "ExternalURL" => self.external_url.clone(),
            // Later Alertmanagers add these; empty here, as for a plain notification.
            "NotificationReason" => Value::from(""),
            "RouteLabels" => kv(&BTreeMap::new()),
            _ => return None,
        })
    }
    fn format(&self, out: &mut String) {
        out.push_str("&{");
        for (i, v) in [
            &self.receiver,
            &self.status,
            &self.alerts,
            &self.group_labels,
            &self.common_labels,
            &self.common_annotations,
            &self.external_url,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(' ');
            }
            crate::gofmt::write_value(out, v);
        }
        out.push('}');
    }
}

struct AlertObj {
    status: Value,
    labels: Value,
    annotations: Value,
    starts_at: Value,
    ends_at: Value,
    generator_url: Value,
    fingerprint: Value,
}

impl Object for AlertObj {
    fn type_name(&self) -> &str {
        "template.Alert"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "Status" => self.status.clone(),
            "Labels" => self.labels.clone(),
            "Annotations" => self.annotations.clone(),
            "StartsAt" => self.starts_at.clone(),
            "EndsAt" => self.ends_at.clone(),
            "GeneratorURL" => self.generator_url.clone(),
            "Fingerprint" => self.fingerprint.clone(),
            _ => return None,
        })
    }
    fn format(&self, out: &mut String) {
        out.push('{');
        for (i, v) in [
            &self.status,
            &self.labels,
            &self.annotations,
            &self.starts_at,
            &self.ends_at,
            &self.generator_url,
            &self.fingerprint,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(' ');
            }
            crate::gofmt::write_value(out, v);
        }
        out.push('}');
    }
}

/// `template.Alerts`: a list with `Firing` and `Resolved`.
struct AlertsObj(Arc<Vec<Value>>);

impl AlertsObj {
    fn with_status(&self, status: &str) -> Value {
        Value::List(Arc::new(
            self.0
                .iter()
                .filter(|a| match a {
                    Value::Object(o) => {
                        o.field("Status")
                            .and_then(|s| s.as_str().map(|s| s == status))
                            == Some(true)
                    }
                    _ => false,
                })
                .cloned()
                .collect(),
        ))
    }
}

impl Object for AlertsObj {
    fn type_name(&self) -> &str {
        "template.Alerts"
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let v = match name {
            "Firing" => self.with_status("firing"),
            "Resolved" => self.with_status("resolved"),
            _ => return None,
        };
        Some(no_args(name, args).map(|_| v))
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::List(self.0.clone()))
    }
    fn format(&self, out: &mut String) {
        crate::gofmt::write_value(out, &Value::List(self.0.clone()));
    }
}

fn no_args(name: &str, args: &[Value]) -> Result<(), String> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want 0 got {}",
            args.len()
        ))
    }
}

/// `template.KV`: a label set with `SortedPairs`, `Names`, `Values` and `Remove`.
struct Kv(Arc<BTreeMap<String, String>>);

impl Kv {
    /// `alertname` first, then the rest by name.
    fn sorted_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(self.0.len());
        if let Some(v) = self.0.get("alertname") {
            out.push(("alertname".to_string(), v.clone()));
        }
        for (k, v) in self.0.iter() {
            if k != "alertname" {
                out.push((k.clone(), v.clone()));
            }
        }
        out
    }
}

fn strings(v: Vec<String>) -> Value {
    Value::Object(Arc::new(Strings(Arc::new(
        v.into_iter().map(Value::from).collect(),
    ))))
}

impl Object for Kv {
    fn type_name(&self) -> &str {
        "template.KV"
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(match name {
            "SortedPairs" => no_args(name, args)
                .map(|_| Value::Object(Arc::new(Pairs(Arc::new(self.sorted_pairs()))))),
            "Names" => no_args(name, args)
                .map(|_| strings(self.sorted_pairs().into_iter().map(|p| p.0).collect())),
            "Values" => no_args(name, args)
                .map(|_| strings(self.sorted_pairs().into_iter().map(|p| p.1).collect())),
            "Remove" => {
                let [keys] = args else {
                    return Some(Err(format!(
                        "wrong number of args for Remove: want 1 got {}",
                        args.len()
                    )));
                };
                let keys = match string_list(keys) {
                    Ok(k) => k,
                    Err(FuncError::Call(e) | FuncError::Type(e)) => return Some(Err(e)),
                    Err(FuncError::Arg { want, .. }) => {
                        return Some(Err(format!(
                            "wrong type for value; expected {want}; got {}",
                            keys.type_name()
                        )))
                    }
                };
                let set: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
                let rest: BTreeMap<String, String> = self
                    .0
                    .iter()
                    .filter(|(k, _)| !set.contains(k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Ok(Value::Object(Arc::new(Kv(Arc::new(rest)))))
            }
            _ => return None,
        })
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::StrMap(self.0.clone()))
    }
    fn format(&self, out: &mut String) {
        crate::gofmt::write_value(out, &Value::StrMap(self.0.clone()));
    }
}

/// `template.Pairs`: `[]Pair` with `Names` and `Values`.
struct Pairs(Arc<Vec<(String, String)>>);

impl Object for Pairs {
    fn type_name(&self) -> &str {
        "template.Pairs"
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(match name {
            "Names" => {
                no_args(name, args).map(|_| strings(self.0.iter().map(|p| p.0.clone()).collect()))
            }
            "Values" => {
                no_args(name, args).map(|_| strings(self.0.iter().map(|p| p.1.clone()).collect()))
            }
            _ => return None,
        })
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::List(Arc::new(
            self.0
                .iter()
                .map(|(n, v)| Value::Object(Arc::new(Pair(n.clone(), v.clone()))))
                .collect(),
        )))
    }
    fn format(&self, out: &mut String) {
        if let Some(u) = self.underlying() {
            crate::gofmt::write_value(out, &u);
        }
    }
}

/// `template.Pair`.
struct Pair(String, String);

impl Object for Pair {
    fn type_name(&self) -> &str {
        "template.Pair"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Name" => Some(Value::from(self.0.as_str())),
            "Value" => Some(Value::from(self.1.as_str())),
            _ => None,
        }
    }
    fn format(&self, out: &mut String) {
        out.push('{');
        out.push_str(&self.0);
        out.push(' ');
        out.push_str(&self.1);
        out.push('}');
    }
}

/// `[]string` as `Names`/`Values` return it (later Alertmanagers add `Join`).
struct Strings(Arc<Vec<Value>>);

impl Object for Strings {
    fn type_name(&self) -> &str {
        "[]string"
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name != "Join" {
            return None;
        }
        Some(match args {
            [Value::Str(sep)] => Ok(Value::from(join(&self.0, sep))),
            _ => Err("Join takes one string".to_string()),
        })
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::List(self.0.clone()))
    }
    fn format(&self, out: &mut String) {
        crate::gofmt::write_value(out, &Value::List(self.0.clone()));
    }
}

fn join(items: &[Value], sep: &str) -> String {
    let mut s = String::new();
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        if let Value::Str(x) = v {
            s.push_str(x);
        }
    }
    s
}

/// A `[]string` parameter: a list of strings (or a named list type of them).
fn string_list(v: &Value) -> Result<Vec<String>, FuncError> {
    match v.plain() {
        Value::List(l) => l
            .iter()
            .map(|x| match x {
                Value::Str(s) => Ok(s.to_string()),
                _ => Err(wrong_type("[]string", v)),
            })
            .collect(),
        Value::NoValue | Value::Nil => Ok(Vec::new()),
        _ => Err(wrong_type("[]string", v)),
    }
}

fn time_arg(v: &Value) -> Result<Time, FuncError> {
    match v {
        Value::Object(o) => o
            .as_time()
            .cloned()
            .ok_or_else(|| wrong_type("time.Time", v)),
        _ => Err(wrong_type("time.Time", v)),
    }
}

fn now() -> Time {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Time::from_unix_nanos(d.as_nanos().min(i64::MAX as u128) as i64)
}

/// `cases.Title(language.AmericanEnglish)`: each word's first letter upper-cased, the rest
/// lower-cased.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        if c.is_alphanumeric() || (in_word && c == '\'') {
            if in_word {
                out.push(go_lower(c));
            } else {
                out.extend(go_upper(c));
            }
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    out
}

/// Go's `url.QueryUnescape`.
fn query_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                let Some(h) = hex else {
                    let bad: String = s[i..].chars().take(3).collect();
                    return Err(format!("invalid URL escape {}", crate::gofmt::quote(&bad)));
                };
                out.push(u8::from_str_radix(h, 16).map_err(|e| e.to_string())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `encoding/json` for template values (HTML-safe escaping, sorted map keys).
fn to_json(out: &mut String, v: &Value) {
    match v.plain() {
        Value::NoValue | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&crate::gofmt::format_float(f, 'g', None)),
        Value::Str(s) => json_str(out, &s),
        Value::List(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                to_json(out, e);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                to_json(out, e);
            }
            out.push('}');
        }
        Value::StrMap(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                json_str(out, e);
            }
            out.push('}');
        }
        Value::Object(o) => {
            let mut s = String::new();
            o.format(&mut s);
            json_str(out, &s);
        }
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Go's `base64.URLEncoding.EncodeToString` (URL-safe alphabet, padded).
fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base64.URLEncoding.DecodeString`, with its error text.
fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let corrupt = |i: usize| format!("illegal base64 data at input byte {i}");
    if !b.len().is_multiple_of(4) {
        return Err(corrupt(b.len() - b.len() % 4));
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (ci, chunk) in b.chunks(4).enumerate() {
        let mut n = 0u32;
        let mut pad = 0;
        for (j, &c) in chunk.iter().enumerate() {
            let v = if c == b'=' && j >= 2 && ci == b.len() / 4 - 1 {
                pad += 1;
                0
            } else if pad > 0 {
                return Err(corrupt(ci * 4 + j));
            } else {
                B64.iter()
                    .position(|&x| x == c)
                    .ok_or_else(|| corrupt(ci * 4 + j))? as u32
            };
            n = n << 6 | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(out)
}

fn build() -> FuncMap {
    let mut m = FuncMap::builtins();
    let s = |v: &str| Ok(Value::from(v));
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
    m.add("title", Arity::Exact(1), |_, a| {
        Ok(Value::from(title(want_str(a, 0)?)))
    });
    m.add("trimSpace", Arity::Exact(1), move |_, a| {
        s(want_str(a, 0)?.trim())
    });
    m.add("join", Arity::Exact(2), |_, a| {
        let sep = want_str(a, 0)?;
        let items: Vec<Value> = string_list(&a[1])?.into_iter().map(Value::from).collect();
        Ok(Value::from(join(&items, sep)))
    });
    m.add("match", Arity::Exact(2), |_, a| {
        let (p, t) = (want_str(a, 0)?, want_str(a, 1)?);
        let re = compile(p).map_err(FuncError::Call)?;
        Ok(Value::Bool(re.is_match(t)))
    });
    m.add("safeHtml", Arity::Exact(1), move |_, a| s(want_str(a, 0)?));
    m.add("safeUrl", Arity::Exact(1), move |_, a| s(want_str(a, 0)?));
    m.add("urlUnescape", Arity::Exact(1), |_, a| {
        query_unescape(want_str(a, 0)?)
            .map(Value::from)
            .map_err(FuncError::Call)
    });
    m.add("reReplaceAll", Arity::Exact(3), |_, a| {
        let (p, r, t) = (want_str(a, 0)?, want_str(a, 1)?, want_str(a, 2)?);
        let re = compile(p)
            .map_err(|e| FuncError::Call(format!("regexp: Compile({}): {e}", backquote(p))))?;
        Ok(Value::from(re.replace_all(t, r).into_owned()))
    });
    m.add("stringSlice", Arity::AtLeast(0), |_, a| {
        for i in 0..a.len() {
            want_str(a, i)?;
        }
        Ok(Value::List(Arc::new(a.to_vec())))
    });
    m.add("date", Arity::Exact(2), |_, a| {
        let layout = want_str(a, 0)?;
        Ok(Value::from(time_arg(&a[1])?.format(layout)))
    });
    m.add("tz", Arity::Exact(2), |_, a| {
        let name = want_str(a, 0)?;
        let t = time_arg(&a[1])?;
        match name {
            "" | "UTC" => Ok(Value::Object(Arc::new(Time {
                offset: 0,
                zone: Arc::from("UTC"),
                ..t
            }))),
            // Without a zone database only UTC is known.
            _ => Err(FuncError::Call(format!("unknown time zone {name}"))),
        }
    });
    m.add("now", Arity::Exact(0), |_, _| {
        Ok(Value::Object(Arc::new(now())))
    });
    m.add("since", Arity::Exact(1), |_, a| {
        let t = time_arg(&a[0])?;
        let n = now();
        let d = (n.secs - t.secs) as i128 * 1_000_000_000 + (n.nanos as i128 - t.nanos as i128);
        Ok(Value::Object(Arc::new(Duration(
            d.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
        ))))
    });
    m.add("humanizeDuration", Arity::Exact(1), |_, a| {
        Ok(Value::from(humanize_duration(to_float(&a[0])?)))
    });
    m.add("toJson", Arity::Exact(1), |_, a| {
        let mut out = String::new();
        to_json(&mut out, &a[0]);
        Ok(Value::from(out))
    });
    m.add("base64encode", Arity::Exact(1), |_, a| {
        Ok(Value::from(base64_encode(want_str(a, 0)?.as_bytes())))
    });
    m.add("base64decode", Arity::Exact(1), |_, a| {
        let bytes = base64_decode(want_str(a, 0)?).map_err(FuncError::Call)?;
        Ok(Value::from(String::from_utf8_lossy(&bytes).into_owned()))
    });
    m.add("list", Arity::AtLeast(0), |_, a| {
        Ok(Value::List(Arc::new(a.to_vec())))
    });
    m.add("append", Arity::AtLeast(1), |_, a| {
        let mut l = match a[0].plain() {
            Value::List(l) => l.as_ref().clone(),
            Value::NoValue | Value::Nil => Vec::new(),
            _ => return Err(wrong_type("[]interface {}", &a[0])),
        };
        l.extend_from_slice(&a[1..]);
        Ok(Value::List(Arc::new(l)))
    });
    m.add("dict", Arity::AtLeast(0), |_, a| {
        if a.len() % 2 != 0 {
            return Err(FuncError::Call(
                "dict requires an even number of arguments".into(),
            ));
        }
        let mut map = BTreeMap::new();
        for kv in a.chunks(2) {
            let Value::Str(k) = &kv[0] else {
                return Err(FuncError::Call("dict keys must be strings".into()));
            };
            map.insert(k.to_string(), kv[1].clone());
        }
        Ok(Value::from(map))
    });
    m
}

/// Env is unused by Alertmanager's functions; kept for symmetry with Prometheus.
pub fn env() -> Env<'static> {
    Env::default()
}
