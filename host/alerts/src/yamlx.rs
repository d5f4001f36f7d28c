//! Walking a YAML tree with positions: every value is handed around with its path, so an error
//! can name `file:line:col` (through `sightline_config::yaml::locate`), and every mapping is
//! checked against the keys its Go struct has, as yaml.v2's `UnmarshalStrict` does.

use serde_yaml::Value;
use sightline_config::yaml::{locate, Seg};

use crate::error::Error;

/// The source being read: its name (for messages) and text (for positions).
#[derive(Clone, Copy)]
pub(crate) struct Src<'a> {
    pub(crate) name: &'a str,
    pub(crate) text: &'a str,
}

impl Src<'_> {
    /// An error at `path`, or at the file when the path cannot be located.
    pub(crate) fn err(&self, path: &[Seg], message: impl Into<String>) -> Error {
        let message = message.into();
        match locate(self.text, path) {
            Some((line, column)) => Error::At {
                source_name: self.name.to_string(),
                line,
                column,
                message,
            },
            None => Error::Invalid {
                source_name: self.name.to_string(),
                message,
            },
        }
    }
}

/// A value with its path in the document.
#[derive(Clone)]
pub(crate) struct Node<'a> {
    pub(crate) v: &'a Value,
    pub(crate) path: Vec<Seg>,
}

impl<'a> Node<'a> {
    pub(crate) fn root(v: &'a Value) -> Self {
        Node {
            v,
            path: Vec::new(),
        }
    }

    pub(crate) fn child(&self, seg: impl Into<Seg>, v: &'a Value) -> Node<'a> {
        let mut path = self.path.clone();
        path.push(seg.into());
        Node { v, path }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.v, Value::Null)
    }
}

pub(crate) type R<T> = Result<T, Error>;

/// YAML's name of a node's kind, as yaml.v2 prints it in type errors.
pub(crate) fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Number(n) if n.is_f64() => "!!float",
        Value::Number(_) => "!!int",
        Value::String(_) => "!!str",
        Value::Sequence(_) => "!!seq",
        Value::Mapping(_) => "!!map",
        Value::Tagged(_) => "!!tagged",
    }
}

/// The entries of a mapping, each key checked against `allowed` (`field X not found in type
/// T`, yaml.v2's words). A null node is an empty mapping.
pub(crate) fn entries<'a>(
    src: Src<'_>,
    n: &Node<'a>,
    type_name: &str,
    allowed: &[&str],
) -> R<Vec<(String, Node<'a>)>> {
    let m = match n.v {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(m) => m,
        other => {
            return Err(src.err(
                &n.path,
                format!("cannot unmarshal {} into {type_name}", kind_name(other)),
            ))
        }
    };
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        let key = scalar_text(k).unwrap_or_default();
        let child = n.child(key.as_str(), v);
        if !allowed.contains(&key.as_str()) {
            return Err(src.err(
                &child.path,
                format!("field {key} not found in type {type_name}"),
            ));
        }
        out.push((key, child));
    }
    Ok(out)
}

/// A scalar's text as yaml.v2 hands it to a Go string (numbers and booleans included).
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

pub(crate) fn string(src: Src<'_>, n: &Node<'_>) -> R<String> {
    scalar_text(n.v).ok_or_else(|| {
        src.err(
            &n.path,
            format!("cannot unmarshal {} into string", kind_name(n.v)),
        )
    })
}

pub(crate) fn boolean(src: Src<'_>, n: &Node<'_>) -> R<bool> {
    match n.v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        // yaml.v2 reads YAML 1.1 booleans.
        Value::String(s) => match s.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(false),
            _ => Err(src.err(&n.path, format!("cannot unmarshal !!str `{s}` into bool"))),
        },
        other => Err(src.err(
            &n.path,
            format!("cannot unmarshal {} into bool", kind_name(other)),
        )),
    }
}

pub(crate) fn integer(src: Src<'_>, n: &Node<'_>) -> R<i64> {
    match n.v {
        Value::Number(x) if x.as_i64().is_some() => Ok(x.as_i64().unwrap_or_default()),
        Value::Null => Ok(0),
        other => Err(src.err(
            &n.path,
            format!(
                "cannot unmarshal {} `{}` into int",
                kind_name(other),
                scalar_text(other).unwrap_or_default()
            ),
        )),
    }
}

/// A Prometheus duration (`model.Duration`: `1h30m`, `5m`, no fractions).
pub(crate) fn prom_duration(src: Src<'_>, n: &Node<'_>) -> R<std::time::Duration> {
    let s = string(src, n)?;
    sightline_model::parse_duration(&s)
        .map_err(|_| src.err(&n.path, format!("not a valid duration string: {s:?}")))
}

/// A Go `time.Duration` as yaml.v2 reads it: `time.ParseDuration` text, or nanoseconds.
pub(crate) fn go_duration(src: Src<'_>, n: &Node<'_>) -> R<std::time::Duration> {
    match n.v {
        Value::Number(x) => Ok(std::time::Duration::from_nanos(
            x.as_u64().unwrap_or_default(),
        )),
        Value::Null => Ok(std::time::Duration::ZERO),
        _ => {
            let s = string(src, n)?;
            parse_go_duration(&s)
                .ok_or_else(|| src.err(&n.path, format!("time: invalid duration {s:?}")))
        }
    }
}

/// Go's `time.ParseDuration` for non-negative durations.
pub(crate) fn parse_go_duration(s: &str) -> Option<std::time::Duration> {
    if s == "0" {
        return Some(std::time::Duration::ZERO);
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        let num: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let uend = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..uend] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[uend..];
        total += num * unit;
    }
    Some(std::time::Duration::from_secs_f64(total))
}

/// A URL as Alertmanager's `config.URL` takes it: parseable, `http` or `https`, with a host.
pub(crate) fn check_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s).map_err(|e| format!("parse {s:?}: {e}"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(format!("unsupported scheme {:?} for URL", u.scheme()));
    }
    if u.host_str().unwrap_or("").is_empty() {
        return Err("missing host for URL".into());
    }
    Ok(u)
}

pub(crate) fn url_value(src: Src<'_>, n: &Node<'_>) -> R<url::Url> {
    let s = string(src, n)?;
    check_url(&s).map_err(|e| src.err(&n.path, e))
}

pub(crate) fn string_list(src: Src<'_>, n: &Node<'_>) -> R<Vec<String>> {
    match n.v {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(s) => s
            .iter()
            .enumerate()
            .map(|(i, v)| string(src, &n.child(i, v)))
            .collect(),
        other => Err(src.err(
            &n.path,
            format!("cannot unmarshal {} into []string", kind_name(other)),
        )),
    }
}

pub(crate) fn list<'a>(src: Src<'_>, n: &Node<'a>, what: &str) -> R<Vec<Node<'a>>> {
    match n.v {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(s) => Ok(s.iter().enumerate().map(|(i, v)| n.child(i, v)).collect()),
        other => Err(src.err(
            &n.path,
            format!("cannot unmarshal {} into []{what}", kind_name(other)),
        )),
    }
}

/// A `map[string]string`, in file order.
pub(crate) fn string_map(src: Src<'_>, n: &Node<'_>) -> R<Vec<(String, String, Vec<Seg>)>> {
    match n.v {
        Value::Null => Ok(Vec::new()),
        Value::Mapping(m) => m
            .iter()
            .map(|(k, v)| {
                let key = scalar_text(k).unwrap_or_default();
                let c = n.child(key.as_str(), v);
                Ok((key, string(src, &c)?, c.path))
            })
            .collect(),
        other => Err(src.err(
            &n.path,
            format!(
                "cannot unmarshal {} into map[string]string",
                kind_name(other)
            ),
        )),
    }
}
