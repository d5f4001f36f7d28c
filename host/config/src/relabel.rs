//! Relabeling: the `relabel_configs` block (with Prometheus' defaults and validation) and the
//! engine that applies it, matching `model/relabel` of Prometheus result for result.

use std::fmt;

use md5::{Digest, Md5};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sightline_model::{is_valid_label_name, ArcStr, Labels, LabelsBuilder};

use crate::de::{map_with, scalar_with, LabelName, Str};

/// A relabel action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Regex replacement into `target_label` (the default).
    Replace,
    /// Keep only label sets whose joined source values match `regex`.
    Keep,
    /// Drop label sets whose joined source values match `regex`.
    Drop,
    /// Keep label sets whose joined source values equal the value of `target_label`.
    KeepEqual,
    /// Drop label sets whose joined source values equal the value of `target_label`.
    DropEqual,
    /// Set `target_label` to the MD5-based hash of the joined source values modulo `modulus`.
    HashMod,
    /// Copy labels whose names match `regex` to the names given by `replacement`.
    LabelMap,
    /// Remove labels whose names match `regex`.
    LabelDrop,
    /// Remove labels whose names do not match `regex`.
    LabelKeep,
    /// Set `target_label` to the lower-cased joined source values.
    Lowercase,
    /// Set `target_label` to the upper-cased joined source values.
    Uppercase,
}

impl Action {
    /// The configuration spelling (`replace`, `hashmod`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    fn parse(s: &str) -> Result<Action, String> {
        Ok(match s.to_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return Err(format!("unknown relabel action {s:?}")),
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a relabel action", Action::parse)
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A fully anchored regular expression (`^(?:re)$`) that remembers its source text.
#[derive(Clone)]
pub struct Regex {
    source: String,
    re: regex::Regex,
}

impl Regex {
    /// Compiles `source` anchored at both ends, as Prometheus does.
    pub fn new(source: &str) -> Result<Regex, String> {
        let re = regex::Regex::new(&format!("^(?:{source})$"))
            .map_err(|e| format!("error parsing regexp {source:?}: {e}"))?;
        Ok(Regex {
            source: source.to_string(),
            re,
        })
    }

    /// The text as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    /// The compiled (anchored) regex.
    pub fn regex(&self) -> &regex::Regex {
        &self.re
    }
}

impl Default for Regex {
    // The pattern is a constant that compiles; a failure would be a bug caught by every test.
    #[allow(clippy::expect_used)]
    fn default() -> Self {
        Regex::new("(.*)").expect("the default relabel regex compiles")
    }
}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

impl PartialEq for Regex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl<'de> Deserialize<'de> for Regex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, "a regular expression", Regex::new)
    }
}

impl Serialize for Regex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

/// One relabeling step, with Prometheus' defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` (default none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_labels: Vec<String>,
    /// Separator of the joined values (default `;`).
    pub separator: String,
    /// Anchored regex (default `(.*)`).
    pub regex: Regex,
    /// Modulus for `hashmod` (0 unless set).
    #[serde(skip_serializing_if = "is_zero")]
    pub modulus: u64,
    /// Target label, may hold `$1`-style templates for `replace`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target_label: String,
    /// Replacement template (default `$1`).
    pub replacement: String,
    /// The action (default `replace`).
    pub action: Action,
    /// How label names are checked: Prometheus 3 inherits this from the scrape config's (or
    /// the global) `metric_name_validation_scheme`, UTF-8 unless set to `legacy`.
    #[serde(skip)]
    pub name_validation: NameValidation,
}

/// Prometheus' label name validation schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameValidation {
    /// Any non-empty UTF-8 string (Prometheus 3's default).
    #[default]
    Utf8,
    /// `[a-zA-Z_][a-zA-Z0-9_]*`.
    Legacy,
}

impl NameValidation {
    /// Whether `name` is a valid label name under this scheme.
    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            NameValidation::Utf8 => !name.is_empty(),
            NameValidation::Legacy => is_valid_label_name(name),
        }
    }

    /// A label name that may hold `$1`/`${name}` templates (Prometheus'
    /// `isValidLabelNameWithRegexVarFn`).
    fn is_valid_template(self, name: &str) -> bool {
        match self {
            NameValidation::Utf8 => !name.is_empty(),
            NameValidation::Legacy => is_valid_relabel_target(name),
        }
    }

    pub(crate) fn from_scheme(scheme: &str) -> Self {
        if scheme == "legacy" {
            NameValidation::Legacy
        } else {
            NameValidation::Utf8
        }
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: ";".to_string(),
            regex: Regex::default(),
            modulus: 0,
            target_label: String::new(),
            replacement: "$1".to_string(),
            action: Action::Replace,
            name_validation: NameValidation::Utf8,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelabel {
    source_labels: Option<Vec<LabelName>>,
    separator: Option<Str>,
    #[serde(default, deserialize_with = "explicit_null")]
    regex: Option<Option<Regex>>,
    modulus: Option<u64>,
    target_label: Option<Str>,
    replacement: Option<Str>,
    #[serde(default, deserialize_with = "explicit_null")]
    action: Option<Option<Action>>,
}

/// Tells a key written as `null` (`Some(None)`) from a missing key (`None`).
fn explicit_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl<'de> Deserialize<'de> for RelabelConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_with(d, |raw: RawRelabel| {
            let def = RelabelConfig::default();
            let explicit = Explicit {
                source_labels: raw.source_labels.is_some(),
                regex: raw.regex.is_some(),
            };
            let action = match raw.action {
                None => Action::Replace,
                Some(Some(a)) => a,
                // Go leaves the action empty when the key is null.
                Some(None) => return Err("relabel action cannot be empty".to_string()),
            };
            let regex = match raw.regex {
                None => def.regex,
                Some(Some(r)) => r,
                // Go compiles the empty regex when the key is null.
                Some(None) => Regex::new("")?,
            };
            let cfg = RelabelConfig {
                source_labels: raw
                    .source_labels
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| l.0)
                    .collect(),
                separator: raw.separator.map(|s| s.0).unwrap_or(def.separator),
                regex,
                modulus: raw.modulus.unwrap_or(0),
                target_label: raw.target_label.map(|s| s.0).unwrap_or_default(),
                replacement: raw.replacement.map(|s| s.0).unwrap_or(def.replacement),
                action,
                name_validation: NameValidation::Utf8,
            };
            cfg.validate_explicit(explicit)?;
            Ok(cfg)
        })
    }
}

/// Which optional fields were written out (Prometheus compares against its default objects).
#[derive(Clone, Copy, Default)]
struct Explicit {
    source_labels: bool,
    regex: bool,
}

/// `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$` from Prometheus.
fn is_valid_relabel_target(s: &str) -> bool {
    static_regex().is_match(s)
}

fn static_regex() -> &'static regex::Regex {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    // The pattern is a constant that compiles; a failure would be a bug caught by every test.
    #[allow(clippy::expect_used)]
    RE.get_or_init(|| {
        regex::Regex::new(r"^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$")
            .expect("constant regex compiles")
    })
}

impl RelabelConfig {
    /// Checks the rules of Prometheus' `relabel.Config.Validate` under `self.name_validation`.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_explicit(Explicit {
            source_labels: !self.source_labels.is_empty(),
            regex: self.regex != Regex::default(),
        })
    }

    /// The checks of label names, which depend on the name validation scheme.
    pub(crate) fn validate_names(&self) -> Result<(), String> {
        use Action::*;
        let a = self.action;
        let v = self.name_validation;
        let invalid_target = || {
            format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            )
        };
        if a == Replace
            && !self.target_label.contains('$')
            && !v.is_valid_label_name(&self.target_label)
        {
            return Err(invalid_target());
        }
        if a == Replace
            && self.target_label.contains('$')
            && !v.is_valid_template(&self.target_label)
        {
            return Err(invalid_target());
        }
        if matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual | HashMod)
            && !v.is_valid_label_name(&self.target_label)
        {
            return Err(invalid_target());
        }
        if a == LabelMap && !v.is_valid_template(&self.replacement) {
            return Err(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        Ok(())
    }

    /// Prometheus' checks, in Prometheus' order (the first failing one is reported).
    fn validate_explicit(&self, explicit: Explicit) -> Result<(), String> {
        use Action::*;
        let a = self.action;
        let v = self.name_validation;
        let def = RelabelConfig::default();
        if self.modulus == 0 && a == HashMod {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        if matches!(
            a,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        ) && self.target_label.is_empty()
        {
            return Err(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        let invalid_target = || {
            format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            )
        };
        if a == Replace
            && !self.target_label.contains('$')
            && !v.is_valid_label_name(&self.target_label)
        {
            return Err(invalid_target());
        }
        if a == Replace
            && self.target_label.contains('$')
            && !v.is_valid_template(&self.target_label)
        {
            return Err(invalid_target());
        }
        if matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual)
            && !v.is_valid_label_name(&self.target_label)
        {
            return Err(invalid_target());
        }
        if matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual)
            && self.replacement != def.replacement
        {
            return Err(format!("'replacement' can not be set for {a} action"));
        }
        if a == LabelMap && !v.is_valid_template(&self.replacement) {
            return Err(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        if a == HashMod && !v.is_valid_label_name(&self.target_label) {
            return Err(invalid_target());
        }
        if matches!(a, DropEqual | KeepEqual)
            && (explicit.regex
                || self.modulus != 0
                || self.separator != def.separator
                || self.replacement != def.replacement)
        {
            return Err(format!(
                "{a} action requires only 'source_labels' and `target_label`, and no other fields"
            ));
        }
        if matches!(a, LabelDrop | LabelKeep)
            && (explicit.source_labels
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != def.separator
                || self.replacement != def.replacement)
        {
            return Err(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }
}

/// Applies `cfgs` in order to `labels`; `None` means the label set was dropped.
pub fn relabel(labels: &Labels, cfgs: &[RelabelConfig]) -> Option<Labels> {
    let mut b = labels.builder();
    if relabel_builder(&mut b, cfgs) {
        Some(b.build())
    } else {
        None
    }
}

/// Like [`relabel`] on a builder the caller owns; returns whether the set is kept.
pub fn relabel_builder(b: &mut LabelsBuilder, cfgs: &[RelabelConfig]) -> bool {
    cfgs.iter().all(|c| apply(c, b))
}

fn apply(cfg: &RelabelConfig, b: &mut LabelsBuilder) -> bool {
    let val = cfg
        .source_labels
        .iter()
        .map(|n| b.get(n).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(&cfg.separator);
    match cfg.action {
        Action::Drop => {
            if cfg.regex.is_match(&val) {
                return false;
            }
        }
        Action::Keep => {
            if !cfg.regex.is_match(&val) {
                return false;
            }
        }
        Action::DropEqual => {
            if b.get(&cfg.target_label).unwrap_or("") == val {
                return false;
            }
        }
        Action::KeepEqual => {
            if b.get(&cfg.target_label).unwrap_or("") != val {
                return false;
            }
        }
        Action::Replace => {
            let Some(caps) = cfg.regex.re.captures(&val) else {
                return true;
            };
            let target = expand(&cfg.regex.re, &caps, &cfg.target_label);
            if !cfg.name_validation.is_valid_label_name(&target) {
                return true;
            }
            let res = expand(&cfg.regex.re, &caps, &cfg.replacement);
            if res.is_empty() {
                b.del(&target);
            } else {
                b.set(target, res);
            }
        }
        Action::Lowercase => {
            b.set(cfg.target_label.clone(), val.to_lowercase());
        }
        Action::Uppercase => {
            b.set(cfg.target_label.clone(), val.to_uppercase());
        }
        Action::HashMod => {
            let v = hashmod(&val, cfg.modulus);
            b.set(cfg.target_label.clone(), v.to_string());
        }
        Action::LabelMap => {
            let snapshot: Vec<(ArcStr, ArcStr)> = b
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect();
            for (name, value) in snapshot {
                if let Some(caps) = cfg.regex.re.captures(&name) {
                    let res = expand(&cfg.regex.re, &caps, &cfg.replacement);
                    b.set(res, value);
                }
            }
        }
        Action::LabelDrop => {
            b.retain(|l| !cfg.regex.is_match(&l.name));
        }
        Action::LabelKeep => {
            b.retain(|l| cfg.regex.is_match(&l.name));
        }
    }
    true
}

/// Prometheus' hashmod: MD5 of the value, last 8 bytes as a big-endian u64, modulo `modulus`.
pub fn hashmod(value: &str, modulus: u64) -> u64 {
    let sum = Md5::digest(value.as_bytes());
    let mut last = [0u8; 8];
    last.copy_from_slice(&sum[8..16]);
    if modulus == 0 {
        return 0;
    }
    u64::from_be_bytes(last) % modulus
}

/// Expands a Go `regexp.Expand` template: `$1`, `${1}`, `$name`, `${name}`, `$$`; a name is the
/// longest run of letters, digits and `_`, so `$1x` names group `1x` (empty), as in Go.
pub fn expand(re: &regex::Regex, caps: &regex::Captures<'_>, template: &str) -> String {
    let mut out = String::new();
    let mut t = template;
    while let Some(pos) = t.find('$') {
        out.push_str(&t[..pos]);
        t = &t[pos + 1..];
        if let Some(rest) = t.strip_prefix('$') {
            out.push('$');
            t = rest;
            continue;
        }
        match extract(t) {
            None => out.push('$'),
            Some((name, rest)) => {
                t = rest;
                match group_number(name) {
                    Some(n) => {
                        if let Some(m) = caps.get(n) {
                            out.push_str(m.as_str());
                        }
                    }
                    None => {
                        if re.capture_names().any(|c| c == Some(name)) {
                            if let Some(m) = caps.name(name) {
                                out.push_str(m.as_str());
                            }
                        }
                    }
                }
            }
        }
    }
    out.push_str(t);
    out
}

/// Go's `extract`: the name after `$` (braced or not) and the rest of the template.
fn extract(s: &str) -> Option<(&str, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(body.len());
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let mut rest = &body[end..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    Some((name, rest))
}

fn group_number(name: &str) -> Option<usize> {
    if !name.bytes().all(|b| b.is_ascii_digit())
        || (name.len() > 1 && name.starts_with('0'))
        || name.len() > 8
    {
        return None;
    }
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps_expand(re: &str, input: &str, template: &str) -> String {
        let re = regex::Regex::new(re).unwrap();
        let caps = re.captures(input).unwrap();
        expand(&re, &caps, template)
    }

    #[test]
    fn go_expand_semantics() {
        assert_eq!(caps_expand("(a)(b)", "ab", "$1-${2}"), "a-b");
        assert_eq!(caps_expand("(a)(b)", "ab", "$1x"), "");
        assert_eq!(caps_expand("(a)(b)", "ab", "${1}x"), "ax");
        assert_eq!(caps_expand("(a)(b)", "ab", "$$1"), "$1");
        assert_eq!(caps_expand("(a)(b)", "ab", "$"), "$");
        assert_eq!(caps_expand("(a)(b)", "ab", "${1"), "${1");
        assert_eq!(caps_expand("(?P<x>a)(b)", "ab", "$x.${x}"), "a.a");
        assert_eq!(caps_expand("(a)(b)", "ab", "$3"), "");
        assert_eq!(caps_expand("(a)(b)", "ab", "$01"), "");
    }

    #[test]
    fn hashmod_matches_prometheus() {
        // Values from Prometheus' relabel_test.go.
        assert_eq!(hashmod("baz", 1000), 976);
        assert_eq!(hashmod("foo\nbar", 1000), 734);
        // Independently computed: int.from_bytes(md5(v)[8:], "big") % m.
        assert_eq!(hashmod("", 7), 1);
        assert_eq!(hashmod("10.0.0.1:9100", 3), 2);
        assert_eq!(hashmod("日本", 1 << 40), 907_601_320_371);
    }

    #[test]
    fn target_validity_matches_prometheus() {
        for (s, ok) in [
            ("-label", false),
            ("label", true),
            ("label${1}", true),
            ("${1}label", true),
            ("${1}", true),
            ("${", false),
            ("$", false),
            ("${}", false),
            ("foo${", false),
            ("$1", true),
            ("asd$2asd", true),
            ("-foo${1}bar-", false),
            ("_${1}_", true),
            ("foo${bar}foo", true),
        ] {
            assert_eq!(is_valid_relabel_target(s), ok, "{s}");
        }
    }
}
