//! Rule files in Prometheus' format (`rulefmt`): parsing with positions and validation with
//! Prometheus' messages.
//!
//! Parsing is strict (unknown keys are errors, with their position), as Prometheus'
//! `decoder.KnownFields(true)`. Validation collects every problem of a file, each formatted
//! as Prometheus formats it: `file: L:C: group "g", rule N, "name": message`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use sightline_config::yaml::{check_yaml_nesting, locate, Seg};
use sightline_promql::FunctionRegistry;

use crate::error::{Error, Result};

/// A parsed rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFile {
    /// The file's path as given.
    pub path: String,
    /// Its groups in file order.
    pub groups: Vec<GroupSpec>,
}

/// One `groups[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// `name`.
    pub name: String,
    /// `interval`; `None` means the global `evaluation_interval`.
    pub interval: Option<Duration>,
    /// `query_offset`; `None` means the global `rule_query_offset`.
    pub query_offset: Option<Duration>,
    /// `limit`: most alerts or series a rule may produce (0 = no limit).
    pub limit: usize,
    /// `labels`: added to every rule's result (Prometheus 3.x).
    pub labels: BTreeMap<String, String>,
    /// `rules` in order.
    pub rules: Vec<RuleSpec>,
}

/// What a rule produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// `record:` a new series.
    Recording,
    /// `alert:` alerts.
    Alerting,
}

impl RuleKind {
    /// `recording` or `alerting`, as the rules API names them.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Recording => "recording",
            RuleKind::Alerting => "alerting",
        }
    }
}

/// One `rules[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// Recording or alerting.
    pub kind: RuleKind,
    /// The `record` or `alert` name.
    pub name: String,
    /// `expr`.
    pub expr: String,
    /// `for`.
    pub for_: Duration,
    /// `keep_firing_for`.
    pub keep_firing_for: Duration,
    /// `labels`.
    pub labels: BTreeMap<String, String>,
    /// `annotations`.
    pub annotations: BTreeMap<String, String>,
}

/// A problem found in a rule file, formatted as Prometheus formats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFileProblem {
    /// 1-based `(line, column)` when known.
    pub position: Option<(usize, usize)>,
    /// The whole message, including the file name.
    pub message: String,
}

impl fmt::Display for RuleFileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Checks an alerting rule's label or annotation template; returns Prometheus' message
/// (`template: __alert_X:1: ...`) when it does not parse.
pub type TemplateCheck<'a> = &'a (dyn Fn(&str, &str) -> std::result::Result<(), String> + Sync);

/// A YAML scalar as text: Go's YAML decoder reads `1` or `true` into a string field, so
/// `expr: 1` and `severity: 2` are accepted.
#[derive(Debug, Clone, Default, PartialEq)]
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A Prometheus duration (`30s`, `1h30m`), validated inside the visitor so the error keeps
/// the node's position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Dur(pub(crate) Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let Scalar(s) = Scalar::deserialize(d)?;
        sightline_model::parse_duration(&s)
            .map(Dur)
            .map_err(|_| de::Error::custom(format!("not a valid duration string: {s:?}")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: Scalar,
    interval: Option<Dur>,
    query_offset: Option<Dur>,
    #[serde(default)]
    limit: i64,
    #[serde(default)]
    labels: Option<BTreeMap<String, Scalar>>,
    #[serde(default)]
    rules: Option<Vec<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    record: Scalar,
    #[serde(default)]
    alert: Scalar,
    #[serde(default)]
    expr: Scalar,
    #[serde(rename = "for")]
    for_: Option<Dur>,
    keep_firing_for: Option<Dur>,
    #[serde(default)]
    labels: Option<BTreeMap<String, Scalar>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, Scalar>>,
}

/// Reads and parses a rule file; see [`parse`].
pub fn load(
    path: &Path,
    templates: TemplateCheck<'_>,
    ignore_unknown_fields: bool,
) -> Result<RuleFile, Vec<RuleFileProblem>> {
    load_with_functions(path, templates, ignore_unknown_fields, None)
}

/// Reads and parses a rule file; see [`parse_with_functions`].
pub fn load_with_functions(
    path: &Path,
    templates: TemplateCheck<'_>,
    ignore_unknown_fields: bool,
    functions: Option<&FunctionRegistry>,
) -> Result<RuleFile, Vec<RuleFileProblem>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![RuleFileProblem {
            position: None,
            message: format!("{name}: {e}"),
        }]
    })?;
    parse_with_functions(&name, &text, templates, ignore_unknown_fields, functions)
}

/// Parses and validates the text of a rule file named `name`. Every problem is returned,
/// not just the first. With `ignore_unknown_fields`, keys this version does not know are
/// dropped instead of refused (promtool's `--ignore-unknown-fields`). Expressions may call
/// PromQL's built-in functions only; see [`parse_with_functions`].
pub fn parse(
    name: &str,
    text: &str,
    templates: TemplateCheck<'_>,
    ignore_unknown_fields: bool,
) -> Result<RuleFile, Vec<RuleFileProblem>> {
    parse_with_functions(name, text, templates, ignore_unknown_fields, None)
}

/// [`parse`], where expressions may also call the functions of `functions` (the daemon's
/// query-function plugins) when given.
pub fn parse_with_functions(
    name: &str,
    text: &str,
    templates: TemplateCheck<'_>,
    ignore_unknown_fields: bool,
    functions: Option<&FunctionRegistry>,
) -> Result<RuleFile, Vec<RuleFileProblem>> {
    let parse_expr = |e: &str| match functions {
        Some(reg) => sightline_promql::parse_with(e, reg),
        None => sightline_promql::parse(e),
    };
    let located = |pos: Option<(usize, usize)>, message: String| RuleFileProblem {
        position: pos,
        message: match pos {
            Some((l, c)) => format!("{name}: {l}:{c}: {message}"),
            None => format!("{name}: {message}"),
        },
    };
    if let Err(e) = check_yaml_nesting(text, name) {
        return Err(vec![RuleFileProblem {
            position: e.line_col(),
            message: e.to_string(),
        }]);
    }
    // An SLO spec (Sloth's prometheus/v1 or the seed's `slos:` block) is recognised by its
    // content and becomes the rule groups it generates, so `rule_files` needs no new key.
    if crate::slo::detect(text).is_some() {
        return slo_rule_file(name, text, templates);
    }
    // An empty file (or one of only comments) has no groups, as in Prometheus.
    let raw: RawFile = match serde_yaml::Deserializer::from_str(text).next() {
        None => RawFile { groups: Vec::new() },
        Some(doc) => match deserialize_raw(doc, ignore_unknown_fields) {
            Ok(r) => r,
            Err(e) if is_empty_document(&e) => RawFile { groups: Vec::new() },
            Err(e) => {
                let pos = e.location().map(|l| (l.line(), l.column()));
                let mut message = e.to_string();
                if let Some((l, c)) = pos {
                    let suffix = format!(" at line {l} column {c}");
                    if let Some(s) = message.strip_suffix(&suffix) {
                        message = s.to_string();
                    }
                }
                return Err(vec![located(pos, message)]);
            }
        },
    };
    let mut problems = Vec::new();
    let mut groups = Vec::with_capacity(raw.groups.len());
    let mut seen = std::collections::HashSet::new();
    for (gi, g) in raw.groups.into_iter().enumerate() {
        let gpath = [Seg::Key("groups".into()), Seg::Index(gi)];
        let gname = g.name.0;
        if gname.is_empty() {
            problems.push(located(
                locate(text, &gpath),
                "Groupname must not be empty".to_string(),
            ));
        }
        if !seen.insert(gname.clone()) {
            problems.push(located(
                locate(text, &gpath),
                format!("groupname: \"{gname}\" is repeated in the same file"),
            ));
        }
        let labels: BTreeMap<String, String> = g
            .labels
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        for k in labels.keys() {
            if !sightline_model::is_valid_label_name(k) || k == sightline_model::METRIC_NAME {
                problems.push(located(None, format!("invalid label name: {k}")));
            }
        }
        let mut rules = Vec::new();
        for (ri, r) in g.rules.unwrap_or_default().into_iter().enumerate() {
            let rpath = |key: &str| {
                let mut p = gpath.to_vec();
                p.extend([
                    Seg::Key("rules".into()),
                    Seg::Index(ri),
                    Seg::Key(key.into()),
                ]);
                p
            };
            let rule_name = if r.alert.0.is_empty() {
                r.record.0.clone()
            } else {
                r.alert.0.clone()
            };
            let mut rule_problem = |key: Option<&str>, message: String| {
                let pos = key.and_then(|k| locate(text, &rpath(k))).or_else(|| {
                    let mut p = gpath.to_vec();
                    p.extend([Seg::Key("rules".into()), Seg::Index(ri)]);
                    locate(text, &p)
                });
                let pos = if key.is_some() { pos } else { None };
                problems.push(located(
                    pos,
                    format!(
                        "group \"{gname}\", rule {}, \"{rule_name}\": {message}",
                        ri + 1
                    ),
                ));
            };
            let (record, alert) = (r.record.0, r.alert.0);
            if !record.is_empty() && !alert.is_empty() {
                rule_problem(
                    Some("record"),
                    "only one of 'record' and 'alert' must be set".to_string(),
                );
            }
            if record.is_empty() && alert.is_empty() {
                rule_problem(
                    Some("record"),
                    "one of 'record' or 'alert' must be set".to_string(),
                );
            }
            let expr = r.expr.0;
            if expr.is_empty() {
                rule_problem(Some("expr"), "field 'expr' must be set in rule".to_string());
            } else if let Err(e) = parse_expr(&expr) {
                rule_problem(Some("expr"), format!("could not parse expression: {e}"));
            }
            let for_ = r.for_.unwrap_or_default().0;
            let keep_firing_for = r.keep_firing_for.unwrap_or_default().0;
            let labels: BTreeMap<String, String> = r
                .labels
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            let annotations: BTreeMap<String, String> = r
                .annotations
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            if !record.is_empty() {
                if !annotations.is_empty() {
                    rule_problem(
                        Some("record"),
                        "invalid field 'annotations' in recording rule".to_string(),
                    );
                }
                if !for_.is_zero() {
                    rule_problem(
                        Some("record"),
                        "invalid field 'for' in recording rule".to_string(),
                    );
                }
                if !keep_firing_for.is_zero() {
                    rule_problem(
                        Some("record"),
                        "invalid field 'keep_firing_for' in recording rule".to_string(),
                    );
                }
                if !sightline_model::is_valid_metric_name(&record) {
                    rule_problem(
                        Some("record"),
                        format!("invalid recording rule name: {record}"),
                    );
                }
            }
            for k in labels.keys() {
                if !sightline_model::is_valid_label_name(k) || k == sightline_model::METRIC_NAME {
                    rule_problem(None, format!("invalid label name: {k}"));
                }
            }
            for k in annotations.keys() {
                if !sightline_model::is_valid_label_name(k) {
                    rule_problem(None, format!("invalid annotation name: {k}"));
                }
            }
            if !alert.is_empty() {
                for (k, v) in &labels {
                    if let Err(e) = templates(&alert, v) {
                        rule_problem(None, format!("label \"{k}\": {e}"));
                    }
                }
                for (k, v) in &annotations {
                    if let Err(e) = templates(&alert, v) {
                        rule_problem(None, format!("annotation \"{k}\": {e}"));
                    }
                }
            }
            let (kind, name) = if alert.is_empty() {
                (RuleKind::Recording, record)
            } else {
                (RuleKind::Alerting, alert)
            };
            rules.push(RuleSpec {
                kind,
                name,
                expr,
                for_,
                keep_firing_for,
                labels,
                annotations,
            });
        }
        groups.push(GroupSpec {
            name: gname,
            interval: g.interval.map(|d| d.0),
            query_offset: g.query_offset.map(|d| d.0),
            limit: usize::try_from(g.limit).unwrap_or(0),
            labels,
            rules,
        });
    }
    if problems.is_empty() {
        Ok(RuleFile {
            path: name.to_string(),
            groups,
        })
    } else {
        Err(problems)
    }
}

/// The groups an SLO spec generates, checked as a rule file's would be (expressions parse,
/// alert templates parse) so a spec can never load rules that could not be written by hand.
fn slo_rule_file(
    name: &str,
    text: &str,
    templates: TemplateCheck<'_>,
) -> Result<RuleFile, Vec<RuleFileProblem>> {
    let set = crate::slo::parse(name, text)?;
    let groups = crate::slo::generate_set(&set);
    let mut problems = Vec::new();
    for g in &groups {
        for r in &g.rules {
            let mut fail = |m: String| {
                problems.push(RuleFileProblem {
                    position: None,
                    message: format!("{name}: group \"{}\", rule \"{}\": {m}", g.name, r.name),
                })
            };
            if let Err(e) = sightline_promql::parse(&r.expr) {
                fail(format!("could not parse generated expression: {e}"));
            }
            if r.kind == RuleKind::Alerting {
                for (k, v) in r.labels.iter().chain(&r.annotations) {
                    if let Err(e) = templates(&r.name, v) {
                        fail(format!("{k:?}: {e}"));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(RuleFile {
            path: name.to_string(),
            groups,
        })
    } else {
        Err(problems)
    }
}

fn deserialize_raw(
    doc: serde_yaml::Deserializer<'_>,
    ignore_unknown_fields: bool,
) -> std::result::Result<RawFile, serde_yaml::Error> {
    if !ignore_unknown_fields {
        return RawFile::deserialize(doc);
    }
    const GROUP_KEYS: &[&str] = &[
        "name",
        "interval",
        "query_offset",
        "limit",
        "labels",
        "rules",
    ];
    const RULE_KEYS: &[&str] = &[
        "record",
        "alert",
        "expr",
        "for",
        "keep_firing_for",
        "labels",
        "annotations",
    ];
    let keep = |m: &mut serde_yaml::Mapping, known: &[&str]| {
        m.retain(|k, _| k.as_str().is_some_and(|k| known.contains(&k)));
    };
    let mut v = serde_yaml::Value::deserialize(doc)?;
    if let Some(top) = v.as_mapping_mut() {
        keep(top, &["groups"]);
        if let Some(groups) = top.get_mut("groups").and_then(|g| g.as_sequence_mut()) {
            for g in groups {
                let Some(gm) = g.as_mapping_mut() else {
                    continue;
                };
                keep(gm, GROUP_KEYS);
                if let Some(rules) = gm.get_mut("rules").and_then(|r| r.as_sequence_mut()) {
                    for r in rules.iter_mut().filter_map(|r| r.as_mapping_mut()) {
                        keep(r, RULE_KEYS);
                    }
                }
            }
        }
    }
    serde_yaml::from_value(v)
}

/// serde_yaml reports a document that is only comments as "invalid type: unit value".
fn is_empty_document(e: &serde_yaml::Error) -> bool {
    e.to_string().starts_with("invalid type: unit value")
}

/// Loads every file, in order; all problems of all files are returned together.
pub fn load_all(
    paths: &[std::path::PathBuf],
    templates: TemplateCheck<'_>,
    ignore_unknown_fields: bool,
) -> Result<Vec<RuleFile>> {
    load_all_with_functions(paths, templates, ignore_unknown_fields, None)
}

/// [`load_all`] with the extra functions of [`parse_with_functions`].
pub fn load_all_with_functions(
    paths: &[std::path::PathBuf],
    templates: TemplateCheck<'_>,
    ignore_unknown_fields: bool,
    functions: Option<&FunctionRegistry>,
) -> Result<Vec<RuleFile>> {
    let mut files = Vec::with_capacity(paths.len());
    let mut problems = Vec::new();
    for p in paths {
        match load_with_functions(p, templates, ignore_unknown_fields, functions) {
            Ok(f) => files.push(f),
            Err(ps) => problems.extend(ps.into_iter().map(|p| p.message)),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(Error::RuleFile(problems.join("\n")))
    }
}

/// Expands `rule_files` patterns (globs) relative to nothing: the caller has already made them
/// absolute or relative to the config file. Files are returned sorted and deduplicated, as
/// Prometheus does; a pattern that matches nothing is not an error.
pub fn expand_globs(patterns: &[String]) -> Result<Vec<std::path::PathBuf>> {
    let mut out = std::collections::BTreeSet::new();
    for pat in patterns {
        let paths = glob::glob(pat).map_err(|e| Error::RuleFile(format!("{pat}: {e}")))?;
        for p in paths.flatten() {
            out.insert(p);
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_templates(_: &str, _: &str) -> std::result::Result<(), String> {
        Ok(())
    }

    fn problems(text: &str) -> Vec<String> {
        match parse("f.yml", text, &no_templates, false) {
            Ok(_) => Vec::new(),
            Err(ps) => ps.into_iter().map(|p| p.message).collect(),
        }
    }

    #[test]
    fn parses_the_seed_alerts() {
        let text = include_str!("../../../tests/seed/alerts.yml");
        let f = parse("alerts.yml", text, &no_templates, false).unwrap();
        assert_eq!(f.groups.len(), 1);
        let g = &f.groups[0];
        assert_eq!(g.interval, Some(Duration::from_secs(30)));
        assert_eq!(g.rules.len(), 5);
        assert_eq!(g.rules[0].name, "ServiceDown");
        assert_eq!(g.rules[0].for_, Duration::from_secs(60));
        assert_eq!(g.rules[4].for_, Duration::ZERO);
        assert_eq!(g.rules[0].annotations["summary"], "{{ $labels.job }} down");
    }

    #[test]
    fn messages_as_prometheus() {
        assert_eq!(
            problems("groups:\n  - name: bad-syntax\n    rules:\n      - record: x\n        expr: 'test +'\n"),
            ["f.yml: 5:15: group \"bad-syntax\", rule 1, \"x\": could not parse expression: 1:7: parse error: unexpected end of input"]
        );
        let p = problems("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n  - name: a\n    rules: []\n");
        assert_eq!(
            p,
            ["f.yml: 6:5: groupname: \"a\" is repeated in the same file"]
        );
        let p = problems(
            "groups:\n- name: g\n  rules:\n  - record: 'a b'\n    expr: up\n    for: 1m\n",
        );
        assert_eq!(
            p,
            [
                "f.yml: 4:13: group \"g\", rule 1, \"a b\": invalid field 'for' in recording rule",
                "f.yml: 4:13: group \"g\", rule 1, \"a b\": invalid recording rule name: a b"
            ]
        );
        let p = problems("groups:\n- name: g\n  rules:\n  - expr: up\n");
        assert_eq!(p.len(), 1);
        assert!(
            p[0].contains("one of 'record' or 'alert' must be set"),
            "{p:?}"
        );
        let p = problems("groups:\n- name: g\n  namespace: x\n  rules: []\n");
        assert!(
            p[0].starts_with("f.yml: 3:3: groups[0]: unknown field `namespace`"),
            "{p:?}"
        );
        let p = problems("groups:\n- name: g\n  interval: 5x\n");
        assert!(p[0].contains("not a valid duration string"), "{p:?}");
        assert!(problems("# nothing\n").is_empty());
        assert!(problems("").is_empty());
    }
}
