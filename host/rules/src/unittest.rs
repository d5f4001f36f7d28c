//! `sightline test rules`: promtool's rule unit tests, in its file format and with its
//! output and exit codes (`cmd/promtool/unittest.go`).
//!
//! Semantics are current Prometheus': a test group's `interval` defaults to the file's
//! `evaluation_interval` (2.42 left it at zero), `start_timestamp` and `fuzzy_compare` are
//! understood. Native-histogram inputs and expectations are refused with a clear error.
//!
//! How a test group runs, as promtool runs it: the input series are loaded at `interval`
//! steps from the start time; every group of the rule files is evaluated at every
//! `evaluation_interval` tick from the start to the largest `eval_time` (in
//! `group_eval_order`, then unordered groups), with alerts' `for` state already restored;
//! after each tick, the alert tests whose `eval_time` falls before the next tick compare the
//! firing alerts of their rule; the PromQL tests run last, against everything written.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use sightline_model::{Labels, LabelsBuilder, ALERT_NAME};
use sightline_promql::{Engine, EngineOptions, SeriesValue};
use sightline_storage_api::{Appendable, MemStorage, Queryable};

use crate::file::{self, Dur, TemplateCheck};
use crate::group::{Deps, Group, NoNotifier};
use crate::rule::{AlertState, Expander, QueryFn, Sample};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    evaluation_interval: Option<Dur>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
    #[serde(default)]
    fuzzy_compare: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    #[serde(default)]
    interval: Option<Dur>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<PromqlTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    start_timestamp: Option<StartTimestamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    #[serde(default)]
    values: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    #[serde(default)]
    eval_time: Dur,
    #[serde(default)]
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromqlTest {
    expr: String,
    #[serde(default)]
    eval_time: Dur,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: String,
    #[serde(default)]
    value: f64,
    #[serde(default)]
    histogram: Option<String>,
}

/// `start_timestamp`: RFC 3339 or Unix seconds, as promtool's `parseTime`.
#[derive(Debug, Clone, Copy)]
struct StartTimestamp(i64);

impl<'de> Deserialize<'de> for StartTimestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        let s = match &v {
            serde_yaml::Value::String(s) => s.clone(),
            serde_yaml::Value::Number(n) => n.to_string(),
            _ => return Err(serde::de::Error::custom("expected a timestamp")),
        };
        if let Ok(secs) = s.parse::<f64>() {
            return Ok(StartTimestamp((secs * 1000.0).round() as i64));
        }
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| StartTimestamp(t.timestamp_millis()))
            .map_err(|_| {
                serde::de::Error::custom(format!("cannot parse {s:?} to a valid timestamp"))
            })
    }
}

/// What running one unit-test file printed and whether it passed.
#[derive(Debug, Default)]
pub struct FileOutcome {
    /// Whether every test group passed.
    pub passed: bool,
    /// Test groups run and how many failed.
    pub groups: usize,
    /// Failed test groups.
    pub failed_groups: usize,
    /// The errors, as promtool prints them (one entry per error).
    pub errors: Vec<String>,
    /// Names of the failed test groups (`unnamed#N` when unnamed).
    pub failed_names: Vec<String>,
}

/// How to run unit tests.
pub struct TestOptions<'a> {
    /// Expands alert templates (the template crate's expander in the binary).
    pub expander: &'a dyn Expander,
    /// Checks alert templates when rule files load.
    pub templates: TemplateCheck<'a>,
    /// Run only test groups whose name matches.
    pub run: Option<&'a regex::Regex>,
    /// Accept unknown keys in rule files (`--ignore-unknown-fields`).
    pub ignore_unknown_fields: bool,
}

/// Runs the unit tests of one file, as promtool's `ruleUnitTest`.
pub fn run_file(path: &Path, opts: &TestOptions<'_>) -> FileOutcome {
    let mut out = FileOutcome::default();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            out.errors.push(format!("{}: {e}", path.display()));
            return out;
        }
    };
    let tf: TestFile = match serde_yaml::from_str(&text) {
        Ok(t) => t,
        Err(e) => {
            out.errors.push(format!("{}: {e}", path.display()));
            return out;
        }
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let mut rule_files = Vec::new();
    for rf in &tf.rule_files {
        let full = if rf.is_empty() || Path::new(rf).is_absolute() {
            PathBuf::from(rf)
        } else {
            base.join(rf)
        };
        match glob::glob(&full.to_string_lossy()) {
            Ok(paths) => {
                let matched: Vec<PathBuf> = paths.flatten().collect();
                if matched.is_empty() {
                    eprintln!("  WARNING: no file match pattern {}", full.display());
                }
                rule_files.extend(matched);
            }
            Err(e) => {
                out.errors.push(format!("{}: {e}", full.display()));
                return out;
            }
        }
    }
    let eval_interval = tf
        .evaluation_interval
        .map(|d| d.0)
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(60));
    let mut order = BTreeMap::new();
    for (i, g) in tf.group_eval_order.iter().enumerate() {
        if order.insert(g.clone(), i).is_some() {
            out.errors
                .push(format!("group name repeated in evaluation order: {g}"));
            return out;
        }
    }
    for (i, tg) in tf.tests.iter().enumerate() {
        if let Some(run) = opts.run {
            if !run.is_match(&tg.name) {
                continue;
            }
        }
        out.groups += 1;
        let errs = run_group(
            tg,
            eval_interval,
            &order,
            &rule_files,
            tf.fuzzy_compare,
            opts,
        );
        if !errs.is_empty() {
            out.failed_groups += 1;
            out.failed_names.push(if tg.name.is_empty() {
                format!("unnamed#{i}")
            } else {
                tg.name.clone()
            });
            out.errors.extend(errs);
        }
    }
    out.passed = out.errors.is_empty();
    out
}

/// Runs every file, printing promtool's report; returns the exit code (0 when every file
/// passed, 1 otherwise).
pub fn run_files(paths: &[PathBuf], opts: &TestOptions<'_>) -> (i32, Vec<(PathBuf, FileOutcome)>) {
    let mut failed = false;
    let mut outcomes = Vec::new();
    for p in paths {
        println!("Unit Testing:  {}", p.display());
        let o = run_file(p, opts);
        if o.passed {
            println!("  SUCCESS");
        } else {
            eprintln!("  FAILED:");
            for e in &o.errors {
                eprintln!("{e}");
                println!();
            }
            failed = true;
        }
        println!();
        outcomes.push((p.clone(), o));
    }
    (i32::from(failed), outcomes)
}

fn run_group(
    tg: &TestGroup,
    eval_interval: Duration,
    order: &BTreeMap<String, usize>,
    rule_files: &[PathBuf],
    fuzzy: bool,
    opts: &TestOptions<'_>,
) -> Vec<String> {
    let interval = tg
        .interval
        .map(|d| d.0)
        .filter(|d| !d.is_zero())
        .unwrap_or(eval_interval);
    let mint = tg.start_timestamp.map_or(0, |t| t.0);
    let storage = Arc::new(MemStorage::new());
    if let Err(e) = load_series(&storage, &tg.input_series, mint, interval) {
        return vec![e];
    }
    let engine = Engine::new(EngineOptions {
        default_subquery_step: eval_interval,
        ..EngineOptions::default()
    });
    let query = engine_query_fn(engine, storage.clone());
    // Load the rule files: the groups' default interval is the test group's interval.
    let files = match file::load_all(rule_files, opts.templates, opts.ignore_unknown_fields) {
        Ok(f) => f,
        Err(e) => return vec![e.to_string()],
    };
    let mut groups: Vec<Group> = Vec::new();
    for f in &files {
        for g in &f.groups {
            groups.push(Group::new(&f.path, g, interval, Duration::ZERO));
        }
    }
    // Ordered groups first (by their position in group_eval_order), then the others.
    groups.sort_by_key(|g| order.get(&g.name).copied().unwrap_or(0));
    for g in &mut groups {
        for r in &mut g.rules {
            r.set_restored(true);
        }
    }
    let external_labels = Labels::from_pairs(tg.external_labels.clone());
    let deps = Deps {
        query: &query,
        appendable: &*storage,
        expander: opts.expander,
        notifier: &NoNotifier,
        external_labels: &external_labels,
        external_url: &tg.external_url,
        resend_delay: Duration::from_secs(60),
    };
    let max_eval = tg
        .alert_rule_test
        .iter()
        .map(|a| a.eval_time.0)
        .chain(tg.promql_expr_test.iter().map(|p| p.eval_time.0))
        .max()
        .unwrap_or_default();
    let mut alert_times: BTreeMap<Duration, Vec<&AlertTest>> = BTreeMap::new();
    for a in &tg.alert_rule_test {
        if a.alertname.is_empty() {
            let in_group = if tg.name.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", tg.name)
            };
            return vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                go_duration(a.eval_time.0)
            )];
        }
        alert_times.entry(a.eval_time.0).or_default().push(a);
    }
    let step = rule_ms(eval_interval).max(1);
    let maxt = mint + rule_ms(max_eval);
    let mut errs = Vec::new();
    let mut pending_alert_times: Vec<Duration> = alert_times.keys().copied().collect();
    pending_alert_times.reverse();
    let mut ts = mint;
    while ts <= maxt {
        let mut eval_errs = Vec::new();
        for g in &mut groups {
            g.eval(ts, &deps);
            for r in &g.rules {
                if let Some(e) = &r.info.last_error {
                    eval_errs.push(format!(
                        "    rule: {}, time: {}, err: {e}",
                        r.name(),
                        go_duration(Duration::from_millis((ts - mint) as u64))
                    ));
                }
            }
        }
        if !eval_errs.is_empty() {
            errs.extend(eval_errs);
            return errs;
        }
        while let Some(&t) = pending_alert_times.last() {
            let t_ms = rule_ms(t);
            if !(ts - mint <= t_ms && t_ms < ts + step - mint) {
                break;
            }
            pending_alert_times.pop();
            for case in alert_times.get(&t).map(Vec::as_slice).unwrap_or_default() {
                let mut got: Vec<(Labels, Labels)> = groups
                    .iter()
                    .flat_map(|g| &g.rules)
                    .filter(|r| r.name() == case.alertname && r.kind() == crate::RuleKind::Alerting)
                    .flat_map(|r| r.alerts())
                    .filter(|a| a.state == AlertState::Firing)
                    .map(|a| (a.labels.clone(), a.annotations.clone()))
                    .collect();
                let mut exp: Vec<(Labels, Labels)> = case
                    .exp_alerts
                    .iter()
                    .map(|a| {
                        let mut b = LabelsBuilder::new();
                        for (k, v) in &a.exp_labels {
                            b.set(k.clone(), v.clone());
                        }
                        b.set(ALERT_NAME, case.alertname.clone());
                        (b.build(), Labels::from_pairs(a.exp_annotations.clone()))
                    })
                    .collect();
                got.sort();
                exp.sort();
                if got != exp {
                    let name = if tg.name.is_empty() {
                        String::new()
                    } else {
                        format!("    name: {},\n", tg.name)
                    };
                    errs.push(format!(
                        "{name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                        case.alertname,
                        go_duration(case.eval_time.0),
                        indent_lines(&alerts_string(&exp), "            "),
                        indent_lines(&alerts_string(&got), "            ")
                    ));
                }
            }
        }
        ts += step;
    }
    'cases: for case in &tg.promql_expr_test {
        let at = mint + rule_ms(case.eval_time.0);
        let got = match query(&case.expr, at) {
            Ok(v) => v,
            Err(e) => {
                errs.push(format!(
                    "    expr: {:?}, time: {}, err: {e}",
                    case.expr,
                    go_duration(case.eval_time.0)
                ));
                continue;
            }
        };
        let mut exp = Vec::with_capacity(case.exp_samples.len());
        for s in &case.exp_samples {
            let parsed = parse_metric(&s.labels).and_then(|l| {
                let h = match s.histogram.as_deref().filter(|h| !h.is_empty()) {
                    Some(text) => Some(parse_exp_histogram(text)?),
                    None => None,
                };
                Ok((l, h))
            });
            match parsed {
                Ok((l, h)) => exp.push(Sample {
                    labels: l,
                    v: s.value,
                    h,
                }),
                Err(e) => {
                    errs.push(format!(
                        "    expr: {:?}, time: {}, err: labels {:?}: {e}",
                        case.expr,
                        go_duration(case.eval_time.0),
                        s.labels
                    ));
                    continue 'cases;
                }
            }
        }
        let mut got = got;
        exp.sort_by(|a, b| a.labels.cmp(&b.labels));
        got.sort_by(|a, b| a.labels.cmp(&b.labels));
        let equal = exp.len() == got.len()
            && exp.iter().zip(&got).all(|(e, g)| {
                e.labels == g.labels
                    && float_equal(e.v, g.v, fuzzy)
                    && histogram_text(e) == histogram_text(g)
            });
        if !equal {
            errs.push(format!(
                "    expr: {:?}, time: {},\n        exp: {}\n        got: {}",
                case.expr,
                go_duration(case.eval_time.0),
                samples_string(&exp),
                samples_string(&got)
            ));
        }
    }
    errs
}

fn float_equal(a: f64, b: f64, fuzzy: bool) -> bool {
    if a == b {
        return true;
    }
    fuzzy && (next_toward(a, f64::NEG_INFINITY) == b || next_toward(a, f64::INFINITY) == b)
}

/// Go's `math.Nextafter(x, dir)` for finite x.
fn next_toward(x: f64, dir: f64) -> f64 {
    if x.is_nan() || x == dir {
        return x;
    }
    if x == 0.0 {
        return if dir > 0.0 {
            f64::from_bits(1)
        } else {
            -f64::from_bits(1)
        };
    }
    let bits = x.to_bits();
    let up = (dir > x) == (x > 0.0);
    f64::from_bits(if up { bits + 1 } else { bits - 1 })
}

/// Loads input series at `interval` steps from `mint`, as the lazy loader's `load`.
fn load_series(
    storage: &MemStorage,
    series: &[InputSeries],
    mint: i64,
    interval: Duration,
) -> Result<(), String> {
    let step = rule_ms(interval);
    let mut app = storage.appender();
    for s in series {
        let (sel, vals) =
            sightline_promql::split_series_desc(&format!("{} {}", s.series, s.values));
        let labels = sightline_promql::parse_series_labels(&sel)?;
        let values = sightline_promql::expand_series(&vals)?;
        // promtool loads into a TSDB head, whose chunks give histograms their counter
        // reset hints; the in-memory store keeps hints as appended, so set them here.
        let mut hints = sightline_promql::HeadHints::default();
        for (i, v) in values.iter().enumerate() {
            let t = mint + step * i as i64;
            let r = match v {
                Some(SeriesValue::Float(v)) => {
                    hints.float(*v);
                    app.append(None, &labels, t, *v)
                }
                // As promtool's loader: histograms go in as float histograms.
                Some(SeriesValue::Histogram { h, .. }) => {
                    let h = hints.histogram(h);
                    app.append_float_histogram(None, &labels, t, &h)
                }
                None => continue,
            };
            r.map_err(|e| format!("{}: {e}", s.series))?;
        }
    }
    app.commit().map_err(|e| e.to_string())
}

/// A metric like `up{job="x"}` or `{__name__="up"}` into labels, as `parser.ParseMetric`.
fn parse_metric(s: &str) -> Result<Labels, String> {
    if s.trim().is_empty() {
        return Ok(Labels::empty());
    }
    let (labels, _) = sightline_promql::parse_series_desc(s)?;
    Ok(labels)
}

/// The query function rules use, over a PromQL engine and a queryable (see
/// [`instant_samples`]).
pub fn engine_query_fn(engine: Engine, queryable: Arc<dyn Queryable>) -> QueryFn {
    Arc::new(move |expr: &str, t: i64| instant_samples(&engine, &*queryable, expr, t))
}

/// Evaluates `expr` at `t` as rules do: a scalar becomes one sample without labels; strings
/// and matrices are errors, as Prometheus' `EngineQueryFunc`.
pub fn instant_samples(
    engine: &Engine,
    queryable: &dyn Queryable,
    expr: &str,
    t: i64,
) -> Result<Vec<Sample>, String> {
    let res = engine
        .instant_query(queryable, expr, t)
        .map_err(|e| e.to_string())?;
    match res.value {
        sightline_promql::Value::Vector(v) => Ok(v
            .into_iter()
            .map(|s| Sample {
                labels: s.labels,
                v: s.v,
                h: s.h,
            })
            .collect()),
        sightline_promql::Value::Scalar { v, .. } => Ok(vec![Sample {
            labels: Labels::empty(),
            v,
            h: None,
        }]),
        _ => Err("rule result is not a vector or scalar".to_string()),
    }
}

fn rule_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `model.Duration.String()`: `1m`, `1h30m`, `0s`.
fn go_duration(d: Duration) -> String {
    sightline_model::format_duration(d)
}

fn alerts_string(v: &[(Labels, Labels)]) -> String {
    if v.is_empty() {
        return "[]".to_string();
    }
    let one = |(l, a): &(Labels, Labels)| format!("Labels:{l}\nAnnotations:{a}");
    let mut s = format!("[\n0:{}", indent_lines(&format!("\n{}", one(&v[0])), "  "));
    for (i, x) in v[1..].iter().enumerate() {
        let _ = write!(
            s,
            ",\n{}:{}",
            i + 1,
            indent_lines(&format!("\n{}", one(x)), "  ")
        );
    }
    s.push_str("\n]");
    s
}

fn indent_lines(lines: &str, indent: &str) -> String {
    let parts: Vec<&str> = lines.split('\n').collect();
    let mut out = String::new();
    for (i, l) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(indent);
        }
        out.push_str(l);
        if i != parts.len() - 1 {
            out.push('\n');
        }
    }
    out
}

/// An expected `histogram:` (`{{...}}`): exactly one histogram value, as promtool reads it.
fn parse_exp_histogram(text: &str) -> Result<Arc<sightline_model::FloatHistogram>, String> {
    let values = sightline_promql::expand_series(text)?;
    match values.as_slice() {
        [Some(SeriesValue::Histogram { h, .. })] => Ok(h.clone()),
        [one] => Err(format!("expected histogram, got {one:?}")),
        more => Err(format!("expected 1 value, got {}", more.len())),
    }
}

/// What promtool compares histograms by: `HistogramTestExpression` (empty for a float).
fn histogram_text(s: &Sample) -> String {
    s.h.as_deref()
        .map(sightline_model::FloatHistogram::test_expression)
        .unwrap_or_default()
}

fn samples_string(v: &[Sample]) -> String {
    if v.is_empty() {
        return "nil".to_string();
    }
    v.iter()
        .map(|s| match &s.h {
            Some(h) => format!("{} {}", s.labels, h.test_expression()),
            None => format!("{} {}", s.labels, go_float_e(s.v)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`: `1E+00`, `2.5E-01`, `+Inf`, `NaN`.
pub(crate) fn go_float_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let s = format!("{v:E}");
    let Some((mant, exp)) = s.split_once('E') else {
        return s;
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    let digits = if digits.len() < 2 {
        format!("0{digits}")
    } else {
        digits.to_string()
    };
    format!("{mant}E{sign}{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_float_e(1.0), "1E+00");
        assert_eq!(go_float_e(0.25), "2.5E-01");
        assert_eq!(go_float_e(-1234.5), "-1.2345E+03");
        assert_eq!(go_float_e(1e100), "1E+100");
        assert_eq!(go_float_e(0.0), "0E+00");
        assert_eq!(go_float_e(f64::INFINITY), "+Inf");
    }

    #[test]
    fn fuzzy_comparison_allows_one_ulp() {
        let a = 0.1 + 0.2;
        assert!(!float_equal(a, 0.3, false));
        assert!(float_equal(a, 0.3, true));
        assert!(!float_equal(0.31, 0.3, true));
    }
}
