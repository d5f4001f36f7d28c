//! The value model: what templates compute with.
//!
//! Go templates run on reflection over arbitrary Go values; we model the handful of shapes that
//! Prometheus and Alertmanager hand to templates. Containers are behind `Arc` so that binding a
//! variable or passing dot to a nested template copies a pointer, not the data.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A template value.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's invalid `reflect.Value`: a missing map key or field of nil. Prints `<no value>`.
    #[default]
    NoValue,
    /// An untyped nil (`interface{}(nil)`). Prints `<nil>`.
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    /// `[]interface{}`.
    List(Arc<Vec<Value>>),
    /// `map[string]interface{}`: a missing key read with `index` gives nil.
    Map(Arc<BTreeMap<String, Value>>),
    /// `map[string]string` (label sets): a missing key read with `index` gives "".
    StrMap(Arc<BTreeMap<String, String>>),
    /// A value with its own fields, methods and formatting (samples, times, Alertmanager data).
    Object(Arc<dyn Object>),
}

/// A Go value with fields and methods, reached with `.Name` in a template.
///
/// Method calls take the evaluated arguments; `None` means "no such method", so the evaluator
/// can fall back to fields and then to `underlying`.
pub trait Object: Send + Sync {
    /// Go's name of the type, as errors print it (`*template.sample`, `template.KV`).
    fn type_name(&self) -> &str;
    /// A method of the value, called with its arguments (Go: `.Method arg1 arg2`).
    fn method(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        None
    }
    /// A struct field.
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    /// For named map and slice types (Go's `type KV map[string]string`): the plain value that
    /// indexing, ranging, `len` and map-key fields use.
    fn underlying(&self) -> Option<Value> {
        None
    }
    /// How `fmt.Print` writes the value (`%v`).
    fn format(&self, out: &mut String);
    /// Whether the value has a `String()` method, so `%s` and `print` use `format` as text.
    fn is_stringer(&self) -> bool {
        false
    }
    /// The instant, when the value is a `time.Time`.
    fn as_time(&self) -> Option<&crate::Time> {
        None
    }
    /// The duration, when the value is a `time.Duration`.
    fn as_duration(&self) -> Option<crate::Duration> {
        None
    }
    /// The sample, when the value is a query result's `*sample`.
    fn as_sample(&self) -> Option<&Sample> {
        None
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        crate::gofmt::write_value(&mut s, self);
        match self {
            Value::Str(_) => write!(f, "{s:?}"),
            _ => f.write_str(&s),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(Arc::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Arc::from(s))
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(Arc::new(v))
    }
}
impl From<BTreeMap<String, Value>> for Value {
    fn from(v: BTreeMap<String, Value>) -> Self {
        Value::Map(Arc::new(v))
    }
}
impl From<BTreeMap<String, String>> for Value {
    fn from(v: BTreeMap<String, String>) -> Self {
        Value::StrMap(Arc::new(v))
    }
}

impl Value {
    /// A `map[string]string` from pairs.
    pub fn str_map<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Value::StrMap(Arc::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        ))
    }

    /// A `map[string]interface{}` from pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Map(Arc::new(
            pairs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        ))
    }

    /// Go's type name of the value, as `wrong type` errors print it.
    pub fn type_name(&self) -> &str {
        match self {
            Value::NoValue | Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::StrMap(_) => "map[string]string",
            Value::Object(o) => o.type_name(),
        }
    }

    /// The plain value behind a named type (itself for everything else).
    pub(crate) fn plain(&self) -> Value {
        if let Value::Object(o) = self {
            if let Some(u) = o.underlying() {
                return u;
            }
        }
        self.clone()
    }

    /// Go's truth: not the zero value of its type (`if`, `with`, `and`, `or`, `not`).
    pub fn is_true(&self) -> bool {
        match self {
            Value::NoValue | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::StrMap(m) => !m.is_empty(),
            Value::Object(o) => match o.underlying() {
                Some(u) => u.is_true(),
                // Structs and non-nil pointers are true.
                None => true,
            },
        }
    }

    /// The string inside a string-kinded value (Go `reflect.String` kind).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether `fmt.Sprint` treats the operand as a string (no spaces around it).
    pub(crate) fn is_string_kind(&self) -> bool {
        match self {
            Value::Str(_) => true,
            Value::Object(o) => matches!(o.underlying(), Some(Value::Str(_))),
            _ => false,
        }
    }
}

/// A sample of a query result, as Prometheus hands it to templates (`*template.sample`).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels, `__name__` included.
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Object for Sample {
    fn type_name(&self) -> &str {
        "*template.sample"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Labels" => Some(Value::StrMap(Arc::new(self.labels.clone()))),
            "Value" => Some(Value::Float(self.value)),
            _ => None,
        }
    }
    fn format(&self, out: &mut String) {
        // Go prints a pointer to a struct as &{field field}.
        out.push_str("&{");
        crate::gofmt::write_value(out, &Value::StrMap(Arc::new(self.labels.clone())));
        out.push(' ');
        crate::gofmt::write_value(out, &Value::Float(self.value));
        out.push('}');
    }
    fn as_sample(&self) -> Option<&Sample> {
        Some(self)
    }
}
