//! YAML plumbing: scalar and mapping deserializers that validate *inside* serde_yaml's
//! visitors (so its errors keep the position of the offending node), a locator that finds the
//! position of any path in a document, and the conversion of serde_yaml errors into
//! `file:line:col: message`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::error::Error;

/// Deserializes any YAML scalar as its text and validates it with `f` inside the visitor.
pub(crate) fn scalar_with<'de, D, T, F>(d: D, expecting: &'static str, f: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    struct V<F, T>(F, &'static str, PhantomData<T>);
    impl<'de, F, T> Visitor<'de> for V<F, T>
    where
        F: FnOnce(&str) -> Result<T, String>,
    {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.1)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
            (self.0)(if v { "true" } else { "false" }).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
    }
    d.deserialize_str(V(f, expecting, PhantomData))
}

/// Deserializes a mapping into the raw type `R` and converts it with `f` inside the visitor,
/// so an error of `f` carries the position of the mapping.
pub(crate) fn map_with<'de, D, R, T, F>(d: D, f: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    R: Deserialize<'de>,
    F: FnOnce(R) -> Result<T, String>,
{
    struct V<R, F, T>(F, PhantomData<(R, T)>);
    impl<'de, R, F, T> Visitor<'de> for V<R, F, T>
    where
        R: Deserialize<'de>,
        F: FnOnce(R) -> Result<T, String>,
    {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let raw = R::deserialize(de::value::MapAccessDeserializer::new(map))?;
            (self.0)(raw).map_err(de::Error::custom)
        }
    }
    d.deserialize_map(V(f, PhantomData))
}

/// A string of any scalar (Go's YAML decoder turns `1` or `true` into a string when asked).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Str(pub(crate) String);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a string", |s| Ok(Str(s.to_string())))
    }
}

/// A Prometheus duration (`15s`, `1h30m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dur(pub(crate) Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a duration", |s| {
            sightline_model::parse_duration(s)
                .map(Dur)
                .map_err(|e| e.to_string())
        })
    }
}

/// A label name valid under Prometheus 3's (UTF-8) rules: any non-empty string. The legacy
/// rules apply later where a `metric_name_validation_scheme: legacy` asks for them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LabelName(pub(crate) String);

impl<'de> Deserialize<'de> for LabelName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a label name", |s| {
            if s.is_empty() {
                Err(format!("{s:?} is not a valid label name"))
            } else {
                Ok(LabelName(s.to_string()))
            }
        })
    }
}

/// A byte size in Prometheus' grammar (`10MB`, `1GiB`, `0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteSize(pub(crate) u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a byte size", |s| parse_bytes(s).map(ByteSize))
    }
}

/// A URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlValue(pub(crate) url::Url);

impl<'de> Deserialize<'de> for UrlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a URL", |s| {
            url::Url::parse(s).map(UrlValue).map_err(|e| {
                let s = crate::http::redact_url_passwords(s);
                format!("invalid URL {s:?}: {e}")
            })
        })
    }
}

/// Label pairs whose names are validated.
pub(crate) type LabelMap = BTreeMap<LabelName, Str>;

/// Parses Prometheus' byte sizes (github.com/alecthomas/units `ParseBase2Bytes`): a sequence of
/// `<number><unit>` with units `B`, `KB`..`EB` and `KiB`..`EiB`, all base 2; `0` alone is zero.
pub fn parse_bytes(orig: &str) -> Result<u64, String> {
    let v = parse_bytes_signed(orig)?;
    if v < 0 {
        return Err(format!("negative size {orig:?}"));
    }
    Ok(v as u64)
}

/// Like [`parse_bytes`] but keeps a leading `-`, as Go's `units.ParseBase2Bytes` does.
pub(crate) fn parse_bytes_signed(orig: &str) -> Result<i64, String> {
    let invalid = || format!("units: invalid {orig}");
    let mut s = orig;
    let mut neg = false;
    if let Some(r) = s.strip_prefix('-') {
        neg = true;
        s = r;
    } else if let Some(r) = s.strip_prefix('+') {
        s = r;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_end = b
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(b.len());
        let mut g: f64 = if int_end > 0 {
            s[..int_end].parse::<f64>().map_err(|_| invalid())?
        } else {
            0.0
        };
        let pre = int_end > 0;
        s = &s[int_end..];
        let mut post = false;
        if let Some(r) = s.strip_prefix('.') {
            s = r;
            let frac_end = s
                .bytes()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(s.len());
            if frac_end > 0 {
                let frac: f64 = s[..frac_end].parse::<f64>().map_err(|_| invalid())?;
                g += frac / 10f64.powi(frac_end as i32);
                post = true;
            }
            s = &s[frac_end..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_end = s
            .bytes()
            .position(|c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        let unit = &s[..unit_end];
        s = &s[unit_end..];
        let mult: f64 = match unit {
            "B" => 1.0,
            "KB" | "KiB" => 1024.0,
            "MB" | "MiB" => 1024f64.powi(2),
            "GB" | "GiB" => 1024f64.powi(3),
            "TB" | "TiB" => 1024f64.powi(4),
            "PB" | "PiB" => 1024f64.powi(5),
            "EB" | "EiB" => 1024f64.powi(6),
            _ => return Err(format!("units: unknown unit {unit} in {orig}")),
        };
        total += g * mult;
    }
    if total > i64::MAX as f64 {
        return Err("units: overflow parsing unit".to_string());
    }
    Ok(if neg { -(total as i64) } else { total as i64 })
}

/// Formats a byte size as Prometheus does (`10MiB`, `1KiB512B`).
pub fn format_bytes(mut n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n == 0 {
        return "0B".to_string();
    }
    let mut parts = Vec::new();
    for u in UNITS {
        if !n.is_multiple_of(1024) {
            parts.push(format!("{}{u}", n % 1024));
        }
        n /= 1024;
        if n == 0 {
            break;
        }
    }
    parts.reverse();
    parts.concat()
}

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

const LOCATE_MARKER: &str = "__sightline_locate__";

/// The 1-based `(line, column)` of the node at `path` in the first document of `src`.
pub fn locate(src: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let doc = serde_yaml::Deserializer::from_str(src).next()?;
    match Loc(path).deserialize(doc) {
        Ok(()) => None,
        Err(e) => {
            if e.to_string().contains(LOCATE_MARKER) {
                e.location().map(|l| (l.line(), l.column()))
            } else {
                None
            }
        }
    }
}

struct Loc<'a>(&'a [Seg]);

impl<'de> DeserializeSeed<'de> for Loc<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(LocVisitor(self.0))
    }
}

struct LocVisitor<'a>(&'a [Seg]);

impl<'de> Visitor<'de> for LocVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.leaf()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.leaf()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.0.split_first() else {
            return Err(de::Error::custom(LOCATE_MARKER));
        };
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            let hit =
                matches!((first, &key), (Seg::Key(k), serde_yaml::Value::String(s)) if k == s);
            if hit {
                map.next_value_seed(Loc(rest))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.0.split_first() else {
            return Err(de::Error::custom(LOCATE_MARKER));
        };
        let mut i = 0;
        loop {
            if *first == Seg::Index(i) {
                if seq.next_element_seed(Loc(rest))?.is_none() {
                    return Ok(());
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
}

impl LocVisitor<'_> {
    fn leaf<E: de::Error>(&self) -> Result<(), E> {
        if self.0.is_empty() {
            Err(E::custom(LOCATE_MARKER))
        } else {
            Ok(())
        }
    }
}

/// Converts a serde_yaml error into our error, keeping its position.
pub(crate) fn yaml_error(source_name: &str, e: &serde_yaml::Error) -> Error {
    let mut message = e.to_string();
    // A path into a top-level sequence reads `.[0]`; drop the dot.
    if message.starts_with(".[") {
        message.remove(0);
    }
    // serde_yaml appends " at line L column C"; we print the position as a prefix instead.
    if let Some(loc) = e.location() {
        let suffix = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_string();
        }
        Error::At {
            source_name: source_name.to_string(),
            line: loc.line(),
            column: loc.column(),
            message: explain_unknown_sd(redact_secret_values(message)),
        }
    } else {
        Error::Invalid {
            source_name: source_name.to_string(),
            message: redact_secret_values(message),
        }
    }
}

/// Path segments under which a scalar is (or may be) a secret: a password or token given
/// where a map was expected must not come back in the error. Every receiver setting counts
/// (webhook URLs, service keys).
const SECRET_SEGMENTS: &[&str] = &[
    "basic_auth",
    "authorization",
    "bearer_token",
    "oauth2",
    "sigv4",
    "azuread",
    "google_iam",
    "proxy_connect_header",
    "http_headers",
    "key",
    "password",
    "credentials",
    "basic_auth_users",
    "receivers",
];

/// serde's `invalid type: string "value"` and `invalid value: string "value"` with the value
/// as `<secret>` when the error's path (`a.b[0].c: ...`) runs through a secret field.
fn redact_secret_values(message: String) -> String {
    let message = match crate::http::redact_url_passwords(&message) {
        std::borrow::Cow::Borrowed(_) => message,
        std::borrow::Cow::Owned(m) => m,
    };
    let Some((path, rest)) = message.split_once(": ") else {
        return message;
    };
    let secret = path
        .split(['.', '['])
        .any(|seg| SECRET_SEGMENTS.contains(&seg));
    if !secret {
        return message;
    }
    let mut out = String::with_capacity(message.len());
    out.push_str(path);
    out.push_str(": ");
    let mut rest = rest;
    while let Some(i) = rest.find("string \"") {
        let start = i + "string \"".len();
        let Some(len) = rest[start..]
            .find("\", ")
            .or_else(|| rest[start..].rfind('"'))
        else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str("<secret>");
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// Prometheus service discoveries other than static and file SD are real keys, not typos: say so.
fn explain_unknown_sd(message: String) -> String {
    let Some(start) = message.find("unknown field `") else {
        return message;
    };
    let rest = &message[start + "unknown field `".len()..];
    let Some(end) = rest.find('`') else {
        return message;
    };
    let field = &rest[..end];
    if field.ends_with("_sd_configs") {
        let prefix = &message[..start];
        return format!("{prefix}{field} is not supported by Sightline (only static_configs and file_sd_configs are)");
    }
    message
}

/// An error located at `path` in `src` when the path can be found, else at the file.
pub(crate) fn error_at(source_name: &str, src: &str, path: &[Seg], message: String) -> Error {
    match locate(src, path) {
        Some((line, column)) => Error::At {
            source_name: source_name.to_string(),
            line,
            column,
            message,
        },
        None => Error::Invalid {
            source_name: source_name.to_string(),
            message,
        },
    }
}

/// Deepest flow nesting (`[` and `{`) accepted in a YAML source. libyaml, under serde_yaml,
/// re-examines every open flow level at each token, so parsing grows with the square of the
/// depth (100,000 levels took minutes); no configuration needs more than a handful.
pub(crate) const MAX_YAML_FLOW_DEPTH: usize = 1000;

/// Rejects a source whose flow collections nest deeper than [`MAX_YAML_FLOW_DEPTH`], with the
/// position of the bracket that crossed the limit, before libyaml sees it. Brackets inside
/// quoted scalars and comments do not count; everything else is left to the parser.
pub fn check_yaml_nesting(src: &str, source_name: &str) -> Result<(), Error> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = '\n';
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
            comment = false;
            prev = c;
            continue;
        }
        match quote {
            Some('\'') if c == '\'' => {
                // `''` is an escaped quote inside a single-quoted scalar.
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    col += 1;
                } else {
                    quote = None;
                }
            }
            Some('"') if c == '\\' => {
                chars.next();
                col += 1;
            }
            Some('"') if c == '"' => quote = None,
            Some(_) => {}
            None if comment => {}
            None => match c {
                '#' if prev.is_whitespace() => comment = true,
                '\'' | '"' => quote = Some(c),
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_YAML_FLOW_DEPTH {
                        return Err(Error::At {
                            source_name: source_name.to_string(),
                            line,
                            column: col,
                            message: format!(
                                "collections nested deeper than {MAX_YAML_FLOW_DEPTH} levels"
                            ),
                        });
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        prev = c;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn deep_flow_nesting_is_rejected_with_its_position_and_quickly() {
        let n = 100_000;
        let src = format!(
            "global:\n  external_labels: {}{}\n",
            "[".repeat(n),
            "]".repeat(n)
        );
        let t = std::time::Instant::now();
        let e = crate::load_str(&src, "deep.yml").unwrap_err().to_string();
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        assert!(
            e.contains("deep.yml:2:1020: collections nested deeper than 1000 levels"),
            "{e}"
        );
        // At the limit, libyaml parses and the usual type error follows.
        let ok = format!("a: {}{}\n", "[".repeat(1000), "]".repeat(1000));
        assert!(check_yaml_nesting(&ok, "x").is_ok());
        // Brackets in quoted scalars and comments are text.
        let quoted = format!(
            "a: '{}' # {}\nb: \"{}\\\"\"\n",
            "[".repeat(2000),
            "{".repeat(2000),
            "[".repeat(2000)
        );
        assert!(check_yaml_nesting(&quoted, "x").is_ok());
    }

    use super::*;

    #[test]
    fn secret_values_stay_out_of_type_errors() {
        for (input, want) in [
            (
                "scrape_configs[0].basic_auth: invalid type: string \"s3cr3t\", expected struct RawBasicAuth",
                "scrape_configs[0].basic_auth: invalid type: string \"<secret>\", expected struct RawBasicAuth",
            ),
            (
                "receivers[0].webhook_configs: invalid type: string \"http://h/s3cr3t\", expected a sequence",
                "receivers[0].webhook_configs: invalid type: string \"<secret>\", expected a sequence",
            ),
            (
                "scrape_configs[0].scrape_interval: invalid type: string \"x\", expected a duration",
                "scrape_configs[0].scrape_interval: invalid type: string \"x\", expected a duration",
            ),
            (
                "scrape_configs[0].proxy_url: invalid URL \"http://u:s3cr3t@[bad\": invalid IPv6 address",
                "scrape_configs[0].proxy_url: invalid URL \"http://u:xxxxx@[bad\": invalid IPv6 address",
            ),
        ] {
            assert_eq!(redact_secret_values(input.to_string()), want);
        }
    }

    #[test]
    fn bytes() {
        for (s, v) in [
            ("0", 0u64),
            ("10MB", 10 << 20),
            ("10MiB", 10 << 20),
            ("1KB512B", 1536),
            ("1.5KB", 1536),
            ("100B", 100),
            ("1GB", 1 << 30),
        ] {
            assert_eq!(parse_bytes(s).unwrap(), v, "{s}");
        }
        for s in ["", "10", "10mb", "MB", "1XB", "-1MB"] {
            assert!(parse_bytes(s).is_err(), "{s}");
        }
        assert_eq!(format_bytes(10 << 20), "10MiB");
        assert_eq!(format_bytes(1536), "1KiB512B");
        assert_eq!(format_bytes(100), "100B");
    }

    #[test]
    fn locator_finds_nodes() {
        let src = "a: 1\nb:\n  - x: 1\n  - y: foo\n    z: [1, 2]\n";
        assert_eq!(locate(src, &["a".into()]), Some((1, 4)));
        assert_eq!(locate(src, &["b".into(), 1.into()]), Some((4, 5)));
        assert_eq!(
            locate(src, &["b".into(), 1.into(), "y".into()]),
            Some((4, 8))
        );
        assert_eq!(
            locate(src, &["b".into(), 1.into(), "z".into(), 1.into()]),
            Some((5, 12))
        );
        assert_eq!(locate(src, &["c".into()]), None);
    }
}
