//! Function maps and Go's builtin functions (text/template/funcs.go).

use std::collections::HashMap;
use std::sync::Arc;

use crate::gofmt;
use crate::value::{Sample, Value};

/// What functions may reach during one execution, handed in by the caller.
#[derive(Default, Clone, Copy)]
pub struct Env<'a> {
    /// Runs a PromQL instant query for Prometheus' `query` function.
    pub query: Option<&'a dyn QueryFn>,
    /// The evaluation time in seconds since the epoch (Prometheus' `now`).
    pub now: Option<f64>,
    /// The external URL (Prometheus' `externalURL` and `pathPrefix`).
    pub external_url: Option<&'a str>,
}

/// The query callback the caller provides (Prometheus' `QueryFunc` at a fixed time).
pub trait QueryFn: Sync {
    fn query(&self, q: &str) -> Result<Vec<Sample>, String>;
}

/// How a function failed.
#[derive(Debug, Clone)]
pub enum FuncError {
    /// The function returned an error: Go prints `error calling <name>: <msg>`.
    Call(String),
    /// An argument has the wrong type: Go prints the message alone.
    Type(String),
    /// Argument `index` (the piped value counts last) is not of the parameter's Go type
    /// `want`. The executor words it as Go does for that argument: `expected string; found 3`
    /// for a literal, `wrong type for value; expected string; got int` otherwise.
    Arg { index: usize, want: &'static str },
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy)]
pub enum Arity {
    Exact(usize),
    AtLeast(usize),
}

/// A function's body.
pub type FuncImpl = dyn Fn(&Env<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync;

#[derive(Clone)]
pub(crate) struct Function {
    pub(crate) arity: Arity,
    /// `Some(false)` for `and`, `Some(true)` for `or`: evaluated lazily by the executor.
    pub(crate) short_circuit: Option<bool>,
    pub(crate) f: Arc<FuncImpl>,
}

/// Named functions a template may call. Starts with Go's builtins.
#[derive(Clone)]
pub struct FuncMap {
    funcs: HashMap<String, Function>,
}

impl Default for FuncMap {
    fn default() -> Self {
        Self::builtins()
    }
}

impl FuncMap {
    /// Go's builtin functions.
    pub fn builtins() -> Self {
        let mut m = FuncMap {
            funcs: HashMap::new(),
        };
        m.funcs.insert(
            "and".into(),
            Function {
                arity: Arity::AtLeast(1),
                short_circuit: Some(false),
                f: Arc::new(|_, _| Ok(Value::NoValue)),
            },
        );
        m.funcs.insert(
            "or".into(),
            Function {
                arity: Arity::AtLeast(1),
                short_circuit: Some(true),
                f: Arc::new(|_, _| Ok(Value::NoValue)),
            },
        );
        m.add("not", Arity::Exact(1), |_, a| {
            Ok(Value::Bool(!a[0].is_true()))
        });
        m.add("len", Arity::Exact(1), |_, a| length(&a[0]));
        m.add("index", Arity::AtLeast(1), |_, a| index(&a[0], &a[1..]));
        m.add("slice", Arity::AtLeast(1), |_, a| slice(&a[0], &a[1..]));
        m.add("print", Arity::AtLeast(0), |_, a| {
            let mut s = String::new();
            gofmt::sprint(&mut s, a);
            Ok(Value::from(s))
        });
        m.add("println", Arity::AtLeast(0), |_, a| {
            let mut s = String::new();
            gofmt::sprintln(&mut s, a);
            Ok(Value::from(s))
        });
        m.add("printf", Arity::AtLeast(1), |_, a| {
            let f = want_str(a, 0)?;
            let mut s = String::new();
            gofmt::sprintf(&mut s, f, &a[1..]);
            Ok(Value::from(s))
        });
        m.add("html", Arity::AtLeast(0), |_, a| {
            Ok(Value::from(html_escape(&eval_args(a))))
        });
        m.add("js", Arity::AtLeast(0), |_, a| {
            Ok(Value::from(js_escape(&eval_args(a))))
        });
        m.add("urlquery", Arity::AtLeast(0), |_, a| {
            Ok(Value::from(query_escape(&eval_args(a))))
        });
        m.add("eq", Arity::AtLeast(1), |_, a| {
            if a.len() < 2 {
                return Err(FuncError::Call("missing argument for comparison".into()));
            }
            for b in &a[1..] {
                if eq(&a[0], b)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        });
        m.add("ne", Arity::Exact(2), |_, a| {
            Ok(Value::Bool(!eq(&a[0], &a[1])?))
        });
        m.add("lt", Arity::Exact(2), |_, a| {
            Ok(Value::Bool(lt(&a[0], &a[1])?))
        });
        m.add("le", Arity::Exact(2), |_, a| {
            Ok(Value::Bool(lt(&a[0], &a[1])? || eq(&a[0], &a[1])?))
        });
        m.add("gt", Arity::Exact(2), |_, a| {
            Ok(Value::Bool(!(lt(&a[0], &a[1])? || eq(&a[0], &a[1])?)))
        });
        m.add("ge", Arity::Exact(2), |_, a| {
            Ok(Value::Bool(!lt(&a[0], &a[1])?))
        });
        m
    }

    /// Adds (or replaces) a function.
    pub fn add(
        &mut self,
        name: &str,
        arity: Arity,
        f: impl Fn(&Env<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    ) {
        self.funcs.insert(
            name.to_string(),
            Function {
                arity,
                short_circuit: None,
                f: Arc::new(f),
            },
        );
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Function> {
        self.funcs.get(name)
    }
}

/// Go's `validateType` failure for a value of the wrong type.
pub(crate) fn wrong_type(want: &str, got: &Value) -> FuncError {
    match got {
        Value::NoValue => FuncError::Type(format!("invalid value; expected {want}")),
        _ => FuncError::Type(format!(
            "wrong type for value; expected {want}; got {}",
            got.type_name()
        )),
    }
}

/// Argument `i` as a `string` parameter.
pub fn want_str(args: &[Value], i: usize) -> Result<&str, FuncError> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s),
        _ => Err(FuncError::Arg {
            index: i,
            want: "string",
        }),
    }
}

/// The argument joined as `html`, `js` and `urlquery` see it (Go's `evalArgs`).
fn eval_args(a: &[Value]) -> String {
    if let [Value::Str(s)] = a {
        return s.to_string();
    }
    let mut s = String::new();
    gofmt::sprint(&mut s, a);
    s
}

fn length(v: &Value) -> Result<Value, FuncError> {
    let n = match v.plain() {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::StrMap(m) => m.len(),
        Value::NoValue | Value::Nil => return Err(FuncError::Call("len of nil pointer".into())),
        other => {
            return Err(FuncError::Call(format!(
                "len of type {}",
                other.type_name()
            )));
        }
    };
    Ok(Value::Int(n as i64))
}

fn index_arg(i: &Value, len: usize) -> Result<usize, FuncError> {
    let x = match i {
        Value::Int(x) => *x,
        Value::NoValue | Value::Nil => {
            return Err(FuncError::Call("cannot index slice/array with nil".into()))
        }
        other => {
            return Err(FuncError::Call(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )))
        }
    };
    if x < 0 || x as u64 > len as u64 {
        return Err(FuncError::Call(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

fn index(item: &Value, idx: &[Value]) -> Result<Value, FuncError> {
    let mut item = item.plain();
    if matches!(item, Value::NoValue | Value::Nil) {
        return Err(FuncError::Call("index of untyped nil".into()));
    }
    for i in idx {
        item = match &item {
            Value::List(l) => {
                let x = index_arg(i, l.len())?;
                match l.get(x) {
                    Some(v) => v.clone(),
                    None => return Err(FuncError::Call(format!("index out of range: {x}"))),
                }
            }
            Value::Str(s) => {
                let x = index_arg(i, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Value::Int(*b as i64),
                    None => return Err(FuncError::Call(format!("index out of range: {x}"))),
                }
            }
            Value::Map(m) => {
                let k = map_key(i)?;
                m.get(k).cloned().unwrap_or(Value::Nil)
            }
            Value::StrMap(m) => {
                let k = map_key(i)?;
                Value::from(m.get(k).map_or("", String::as_str))
            }
            Value::NoValue | Value::Nil => {
                return Err(FuncError::Call("index of nil pointer".into()));
            }
            other => {
                return Err(FuncError::Call(format!(
                    "can't index item of type {}",
                    other.type_name()
                )))
            }
        }
        .plain();
    }
    Ok(item)
}

fn map_key(i: &Value) -> Result<&str, FuncError> {
    match i {
        Value::Str(s) => Ok(s),
        Value::NoValue | Value::Nil => Err(FuncError::Call(
            "value is nil; should be of type string".into(),
        )),
        other => Err(FuncError::Call(format!(
            "value has type {}; should be string",
            other.type_name()
        ))),
    }
}

fn slice(item: &Value, idx: &[Value]) -> Result<Value, FuncError> {
    let item = item.plain();
    if matches!(item, Value::NoValue | Value::Nil) {
        return Err(FuncError::Call("slice of untyped nil".into()));
    }
    if idx.len() > 3 {
        return Err(FuncError::Call(format!(
            "too many slice indexes: {}",
            idx.len()
        )));
    }
    let len = match &item {
        Value::Str(s) => {
            if idx.len() == 3 {
                return Err(FuncError::Call("cannot 3-index slice a string".into()));
            }
            s.len()
        }
        Value::List(l) => l.len(),
        other => {
            return Err(FuncError::Call(format!(
                "can't slice item of type {}",
                other.type_name()
            )))
        }
    };
    let mut ix = [0usize, len, len];
    for (i, v) in idx.iter().enumerate() {
        ix[i] = index_arg(v, len)?;
    }
    if ix[0] > ix[1] {
        return Err(FuncError::Call(format!(
            "invalid slice index: {} > {}",
            ix[0], ix[1]
        )));
    }
    if idx.len() == 3 && ix[1] > ix[2] {
        return Err(FuncError::Call(format!(
            "invalid slice index: {} > {}",
            ix[1], ix[2]
        )));
    }
    Ok(match item {
        Value::Str(s) => match s.get(ix[0]..ix[1]) {
            Some(sub) => Value::from(sub),
            None => Value::from(String::from_utf8_lossy(&s.as_bytes()[ix[0]..ix[1]]).into_owned()),
        },
        Value::List(l) => Value::List(Arc::new(l[ix[0]..ix[1]].to_vec())),
        _ => Value::NoValue,
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v.plain() {
        Value::NoValue | Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// Go's `eq` for one pair.
fn eq(a: &Value, b: &Value) -> Result<bool, FuncError> {
    let (ka, kb) = (kind(a), kind(b));
    if ka != kb {
        if ka != Kind::Invalid && kb != Kind::Invalid {
            return Err(FuncError::Call(BAD_COMPARISON.into()));
        }
        return Ok(false);
    }
    Ok(match (a.plain(), b.plain()) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        _ if ka == Kind::Invalid => true,
        (x, _) => {
            let mut s = String::new();
            gofmt::write_value(&mut s, &x);
            return Err(FuncError::Call(format!(
                "non-comparable type {s}: {}",
                x.type_name()
            )));
        }
    })
}

/// Go's `lt`.
fn lt(a: &Value, b: &Value) -> Result<bool, FuncError> {
    let (ka, kb) = (kind(a), kind(b));
    for k in [ka, kb] {
        if matches!(k, Kind::Invalid | Kind::Other) {
            return Err(FuncError::Call(BAD_COMPARISON_TYPE.into()));
        }
    }
    if ka != kb {
        return Err(FuncError::Call(BAD_COMPARISON.into()));
    }
    match (a.plain(), b.plain()) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::Str(x), Value::Str(y)) => Ok(x < y),
        _ => Err(FuncError::Call(BAD_COMPARISON_TYPE.into())),
    }
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c if (c as u32) >= 0x80 && c.is_control() => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => {
                out.push('%');
                out.push(b"0123456789ABCDEF"[(b >> 4) as usize] as char);
                out.push(b"0123456789ABCDEF"[(b & 15) as usize] as char);
            }
        }
    }
    out
}
