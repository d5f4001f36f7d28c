//! SLO specs: Sloth's `prometheus/v1` format (strict: unknown keys are errors with their
//! position) and the dispatch to the seed's `slos:` form.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use sightline_config::yaml::{locate, Seg};

use crate::file::RuleFileProblem;

/// Which spec form a file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFormat {
    /// Sloth's `version: "prometheus/v1"` spec.
    Sloth,
    /// The seed's `slos:` mapping of name to `{target, query}`.
    Seed,
}

/// The SLOs of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct SloSet {
    /// The form the file was written in.
    pub format: SpecFormat,
    /// `service`.
    pub service: String,
    /// The SLOs in file order.
    pub slos: Vec<Slo>,
}

/// One SLO, whichever form it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// The service it belongs to (`sloth_service`).
    pub service: String,
    /// Its name (`sloth_slo`).
    pub name: String,
    /// `description`.
    pub description: String,
    /// The objective in percent, in (0, 100] (99.9).
    pub objective: f64,
    /// The period the objective holds over (30 days unless the seed's query says otherwise).
    pub period: Duration,
    /// The service's labels merged with the SLO's (the SLO's win).
    pub labels: BTreeMap<String, String>,
    /// The indicator.
    pub sli: Sli,
    /// The alerts.
    pub alerting: Alerting,
}

impl Slo {
    /// Sloth's id, `<service>-<name>` (`sloth_id`).
    pub fn id(&self) -> String {
        format!("{}-{}", self.service, self.name)
    }

    /// The error budget as a ratio, computed as Sloth computes it (`(100 - objective) / 100`)
    /// so the thresholds in the alert expressions are the same floats Sloth writes.
    pub fn error_budget_ratio(&self) -> f64 {
        (100.0 - self.objective) / 100.0
    }
}

/// A service level indicator. Queries keep Sloth's `{{.window}}` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// Bad and total events; the error ratio is their quotient.
    Events {
        /// Bad events over `{{.window}}`.
        error_query: String,
        /// All events over `{{.window}}`.
        total_query: String,
    },
    /// An error ratio computed elsewhere.
    Raw {
        /// The error ratio (0–1) over `{{.window}}`.
        error_ratio_query: String,
    },
}

/// `alerting`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alerting {
    /// The alert name of both alerts.
    pub name: String,
    /// Labels of both alerts.
    pub labels: BTreeMap<String, String>,
    /// Annotations of both alerts.
    pub annotations: BTreeMap<String, String>,
    /// `page_alert`.
    pub page: AlertMeta,
    /// `ticket_alert`.
    pub ticket: AlertMeta,
}

/// `page_alert` or `ticket_alert`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertMeta {
    /// `disable`: no such alert is generated.
    pub disable: bool,
    /// Labels of this alert only.
    pub labels: BTreeMap<String, String>,
    /// Annotations of this alert only.
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    version: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    slo_plugins: Option<serde_yaml::Value>,
    #[serde(default)]
    slos: Vec<RawSlo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    objective: f64,
    #[serde(default)]
    plugins: Option<serde_yaml::Value>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    sli: RawSli,
    #[serde(default)]
    alerting: RawAlerting,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSli {
    raw: Option<RawSliRaw>,
    events: Option<RawSliEvents>,
    plugin: Option<serde_yaml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSliRaw {
    #[serde(default)]
    error_ratio_query: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSliEvents {
    #[serde(default)]
    error_query: String,
    #[serde(default)]
    total_query: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlerting {
    #[serde(default)]
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    page_alert: RawAlert,
    #[serde(default)]
    ticket_alert: RawAlert,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlert {
    #[serde(default)]
    disable: bool,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

impl From<RawAlert> for AlertMeta {
    fn from(a: RawAlert) -> Self {
        AlertMeta {
            disable: a.disable,
            labels: a.labels,
            annotations: a.annotations,
        }
    }
}

/// Whether `text` is an SLO spec rather than a rule file, and in which form: a top-level
/// mapping with `version` (Sloth), or with `slos` and no `groups` (a sequence: Sloth; a
/// mapping: the seed's form). Anything else, including YAML that does not parse, is left to
/// the rule-file parser and its messages.
pub fn detect(text: &str) -> Option<SpecFormat> {
    // Most rule files never mention either key: skip the second parse for them.
    if !text.contains("slos") && !text.contains("version") {
        return None;
    }
    let doc = serde_yaml::Deserializer::from_str(text).next()?;
    let v = serde_yaml::Value::deserialize(doc).ok()?;
    let m = v.as_mapping()?;
    if m.contains_key("groups") {
        return None;
    }
    if m.contains_key("version") {
        return Some(SpecFormat::Sloth);
    }
    match m.get("slos") {
        Some(serde_yaml::Value::Mapping(_)) => Some(SpecFormat::Seed),
        Some(_) => Some(SpecFormat::Sloth),
        None => None,
    }
}

/// Reads and parses an SLO spec file; see [`parse`].
pub fn load(path: &Path) -> Result<SloSet, Vec<RuleFileProblem>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![RuleFileProblem {
            position: None,
            message: format!("{name}: {e}"),
        }]
    })?;
    parse(&name, &text)
}

/// A problem at `path` in the file `name`, formatted as rule-file problems are
/// (`file: L:C: message`).
pub(super) fn problem(name: &str, text: &str, path: &[Seg], message: String) -> RuleFileProblem {
    let pos = locate(text, path);
    RuleFileProblem {
        position: pos,
        message: match pos {
            Some((l, c)) => format!("{name}: {l}:{c}: {message}"),
            None => format!("{name}: {message}"),
        },
    }
}

/// A serde_yaml error as a problem, its position moved from the end of the message to the
/// front as the rule-file parser does.
pub(super) fn yaml_problem(name: &str, e: &serde_yaml::Error) -> RuleFileProblem {
    let pos = e.location().map(|l| (l.line(), l.column()));
    let mut message = e.to_string();
    if let Some((l, c)) = pos {
        if let Some(s) = message.strip_suffix(&format!(" at line {l} column {c}")) {
            message = s.to_string();
        }
    }
    RuleFileProblem {
        position: pos,
        message: match pos {
            Some((l, c)) => format!("{name}: {l}:{c}: {message}"),
            None => format!("{name}: {message}"),
        },
    }
}

/// Parses an SLO spec in either form (see [`detect`]; a text that is neither is read as
/// Sloth's). Sloth's files may hold several specs as YAML documents separated by `---`
/// (Sloth's `multifile` example); their SLOs are concatenated. Every problem found is
/// returned.
pub fn parse(name: &str, text: &str) -> Result<SloSet, Vec<RuleFileProblem>> {
    if detect(text) == Some(SpecFormat::Seed) {
        return super::seed::parse(name, text);
    }
    let docs = documents(text);
    if docs.len() <= 1 {
        return parse_document(name, text);
    }
    let (mut sets, mut problems) = (Vec::new(), Vec::new());
    for (first_line, doc) in docs {
        match parse_document(name, doc) {
            Ok(set) => sets.push(set),
            // Positions are relative to the document: move them to the file's lines.
            Err(ps) => problems.extend(ps.into_iter().map(|p| match p.position {
                Some((l, c)) => RuleFileProblem {
                    position: Some((l + first_line, c)),
                    message: p.message.replacen(
                        &format!("{name}: {l}:{c}: "),
                        &format!("{name}: {}:{c}: ", l + first_line),
                        1,
                    ),
                },
                None => p,
            })),
        }
    }
    let mut seen = std::collections::HashSet::new();
    for slo in sets.iter().flat_map(|s| &s.slos) {
        if !seen.insert(slo.id()) {
            problems.push(RuleFileProblem {
                position: None,
                message: format!("{name}: SLO id {:?} is repeated in the same file", slo.id()),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let service = sets.first().map(|s| s.service.clone()).unwrap_or_default();
    Ok(SloSet {
        format: SpecFormat::Sloth,
        service,
        slos: sets.into_iter().flat_map(|s| s.slos).collect(),
    })
}

/// The YAML documents of `text` that hold something (not only comments), each with the
/// number of lines before it.
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut docs = Vec::new();
    let (mut start, mut start_line, mut offset) = (0, 0, 0);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") || line.starts_with("---\t") {
            docs.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = i + 1;
        }
        offset += line.len();
    }
    docs.push((start_line, &text[start..]));
    docs.retain(|(_, d)| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    docs
}

/// One Sloth `prometheus/v1` document.
fn parse_document(name: &str, text: &str) -> Result<SloSet, Vec<RuleFileProblem>> {
    let raw: RawSpec = serde_yaml::from_str(text).map_err(|e| vec![yaml_problem(name, &e)])?;
    let mut problems = Vec::new();
    let at = |p: &[Seg]| p.to_vec();
    if raw.version != "prometheus/v1" {
        problems.push(problem(
            name,
            text,
            &at(&[Seg::Key("version".into())]),
            format!(
                "unsupported SLO spec version {:?} (want \"prometheus/v1\")",
                raw.version
            ),
        ));
    }
    if raw.slo_plugins.is_some() {
        problems.push(problem(
            name,
            text,
            &[Seg::Key("slo_plugins".into())],
            "Sloth's SLO plugins are not supported".to_string(),
        ));
    }
    check_name(
        name,
        text,
        &raw.service,
        &[Seg::Key("service".into())],
        &mut problems,
    );
    check_labels(
        name,
        text,
        &raw.labels,
        &[Seg::Key("labels".into())],
        &mut problems,
    );
    let mut slos = Vec::with_capacity(raw.slos.len());
    let mut seen = std::collections::HashSet::new();
    for (i, s) in raw.slos.into_iter().enumerate() {
        let base = [Seg::Key("slos".into()), Seg::Index(i)];
        let path = |k: &[&str]| {
            let mut p = base.to_vec();
            p.extend(k.iter().map(|k| Seg::Key((*k).into())));
            p
        };
        check_name(name, text, &s.name, &path(&["name"]), &mut problems);
        if !seen.insert(s.name.clone()) {
            problems.push(problem(
                name,
                text,
                &path(&["name"]),
                format!("SLO {:?} is repeated in the same file", s.name),
            ));
        }
        if !(s.objective > 0.0 && s.objective <= 100.0) {
            problems.push(problem(
                name,
                text,
                &path(&["objective"]),
                format!(
                    "slo {:?}: objective must be in (0, 100], got {}",
                    s.name, s.objective
                ),
            ));
        }
        if s.plugins.is_some() {
            problems.push(problem(
                name,
                text,
                &path(&["plugins"]),
                "Sloth's SLO plugins are not supported".to_string(),
            ));
        }
        check_labels(name, text, &s.labels, &path(&["labels"]), &mut problems);
        let sli = match (s.sli.events, s.sli.raw, s.sli.plugin) {
            (Some(e), None, None) => {
                for (k, q) in [
                    ("error_query", &e.error_query),
                    ("total_query", &e.total_query),
                ] {
                    if let Err(m) = check_query(q) {
                        problems.push(problem(
                            name,
                            text,
                            &path(&["sli", "events", k]),
                            format!("slo {:?}: sli.events.{k}: {m}", s.name),
                        ));
                    }
                }
                Sli::Events {
                    error_query: e.error_query,
                    total_query: e.total_query,
                }
            }
            (None, Some(r), None) => {
                if let Err(m) = check_query(&r.error_ratio_query) {
                    problems.push(problem(
                        name,
                        text,
                        &path(&["sli", "raw", "error_ratio_query"]),
                        format!("slo {:?}: sli.raw.error_ratio_query: {m}", s.name),
                    ));
                }
                Sli::Raw {
                    error_ratio_query: r.error_ratio_query,
                }
            }
            (None, None, Some(_)) => {
                problems.push(problem(
                    name,
                    text,
                    &path(&["sli", "plugin"]),
                    format!("slo {:?}: Sloth's SLI plugins are not supported", s.name),
                ));
                continue;
            }
            _ => {
                problems.push(problem(
                    name,
                    text,
                    &path(&["sli"]),
                    format!(
                        "slo {:?}: sli must have exactly one of 'events' or 'raw'",
                        s.name
                    ),
                ));
                continue;
            }
        };
        let a = s.alerting;
        let any_alert = !a.page_alert.disable || !a.ticket_alert.disable;
        if any_alert && a.name.is_empty() {
            problems.push(problem(
                name,
                text,
                &path(&["alerting"]),
                format!(
                    "slo {:?}: alerting.name is required unless both page_alert and ticket_alert are disabled",
                    s.name
                ),
            ));
        } else if any_alert && !sightline_model::is_valid_metric_name(&a.name) {
            problems.push(problem(
                name,
                text,
                &path(&["alerting", "name"]),
                format!("slo {:?}: invalid alert name {:?}", s.name, a.name),
            ));
        }
        for (k, l) in [
            (vec!["alerting", "labels"], &a.labels),
            (
                vec!["alerting", "page_alert", "labels"],
                &a.page_alert.labels,
            ),
            (
                vec!["alerting", "ticket_alert", "labels"],
                &a.ticket_alert.labels,
            ),
        ] {
            check_labels(name, text, l, &path(&k), &mut problems);
        }
        let mut labels = raw.labels.clone();
        labels.extend(s.labels);
        slos.push(Slo {
            service: raw.service.clone(),
            name: s.name,
            description: s.description,
            objective: s.objective,
            period: super::DEFAULT_PERIOD,
            labels,
            sli,
            alerting: Alerting {
                name: a.name,
                labels: a.labels,
                annotations: a.annotations,
                page: a.page_alert.into(),
                ticket: a.ticket_alert.into(),
            },
        });
    }
    if problems.is_empty() {
        Ok(SloSet {
            format: SpecFormat::Sloth,
            service: raw.service,
            slos,
        })
    } else {
        Err(problems)
    }
}

/// Service and SLO names become label values and parts of group names: non-empty, without
/// spaces or braces.
pub(super) fn check_name(
    name: &str,
    text: &str,
    value: &str,
    path: &[Seg],
    problems: &mut Vec<RuleFileProblem>,
) {
    let field = match path.last() {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "name",
    };
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        problems.push(problem(
            name,
            text,
            path,
            format!(
                "{field} {value:?} must be non-empty and made of letters, digits, '-', '_' or '.'"
            ),
        ));
    }
}

pub(super) fn check_labels(
    name: &str,
    text: &str,
    labels: &BTreeMap<String, String>,
    path: &[Seg],
    problems: &mut Vec<RuleFileProblem>,
) {
    for k in labels.keys() {
        if !sightline_model::is_valid_label_name(k) || k == sightline_model::METRIC_NAME {
            problems.push(problem(
                name,
                text,
                path,
                format!("invalid label name: {k}"),
            ));
        }
    }
}

/// The `{{.window}}` placeholder, as Go's template engine accepts it (spaces optional).
pub(super) fn window_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"\{\{-?\s*\.window\s*-?\}\}").unwrap_or_else(|_| unreachable!())
    })
}

/// A query with its `{{.window}}` placeholder replaced by `window` (`5m`).
pub fn with_window(query: &str, window: &str) -> String {
    window_regex()
        .replace_all(query.trim(), regex::NoExpand(window))
        .into_owned()
}

/// A query must use the placeholder (else every window would record the same thing) and
/// parse once it is filled in.
fn check_query(q: &str) -> Result<(), String> {
    if q.trim().is_empty() {
        return Err("query is required".to_string());
    }
    if !window_regex().is_match(q) {
        return Err("query must use the {{.window}} placeholder".to_string());
    }
    sightline_promql::parse(&with_window(q, "5m"))
        .map(|_| ())
        .map_err(|e| format!("could not parse expression: {e}"))
}
