//! The seed's `slos:` block: a mapping of SLO name to `{target, query}`.
//!
//! The seed writes each SLO as the PromQL one would check by hand over the whole period. That
//! is not something rules can evaluate cheaply or alert on by burn rate, so each of its three
//! shapes is mapped to an events SLI (bad and total events, with Sloth's `{{.window}}`):
//!
//! | seed form | SLI |
//! |---|---|
//! | `target: 99.9%`, `query: avg_over_time(SEL[P])` (availability of a 0/1 series such as `up`) | events are samples of `SEL`: total `sum(count_over_time(SEL[w]))`, bad `total - sum(sum_over_time(SEL[w]))` (the samples at 0) |
//! | `target: "95% < 200ms"`, `query: histogram_quantile(0.95, rate(NAME_bucket{M}[P])) < 0.2` | events are requests: total `sum(rate(NAME_count{M}[w]))`, bad `total - sum(rate(NAME_bucket{M,le="0.2"}[w]))` (slower than the threshold) |
//! | `target: "< 0.1%"`, `query: rate(A[P]) / rate(B[P]) < 0.001` | bad `sum(rate(A[w]))`, total `sum(rate(B[w]))` |
//!
//! Where the seed is ambiguous, the choices are:
//! - the objective: `99.9%` is the objective itself; `"95% < 200ms"` is a 95% objective on
//!   "faster than 200ms" (the 95th percentile being under 200 ms means at least 95% of
//!   requests are); `"< 0.1%"` is an error ratio, so the objective is 99.9%;
//! - the period is the range of the query's selectors (`[30d]`);
//! - series are aggregated with `sum` over every matching series (one SLO per seed entry, not
//!   one per target): `avg_over_time(up[30d])` per target becomes the availability of all
//!   targets together, weighted by samples;
//! - the latency threshold must be a bucket boundary: `200ms` selects `le="0.2"` (written as
//!   Prometheus' clients write it); the quantile in the query is not used, the target's
//!   percentage is;
//! - a trailing comparison in the query (`< 0.2`, `< 0.001`) is the target restated and is
//!   ignored;
//! - the service (`sloth_service`) is the top-level `service` when given, else the file's
//!   name without its extension; alerts are named `<Name>SLOBurnRate` (`AvailabilitySLOBurnRate`)
//!   with `severity: critical` (page) and `severity: warning` (ticket).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use sightline_config::yaml::Seg;

use super::spec::{check_labels, check_name, problem, yaml_problem};
use super::{AlertMeta, Alerting, Sli, Slo, SloSet, SpecFormat};
use crate::file::RuleFileProblem;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    slos: serde_yaml::Mapping,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeedSlo {
    target: serde_yaml::Value,
    query: String,
    #[serde(default)]
    description: String,
}

/// Parses the seed's form.
pub(super) fn parse(name: &str, text: &str) -> Result<SloSet, Vec<RuleFileProblem>> {
    let raw: RawSeed = serde_yaml::from_str(text).map_err(|e| vec![yaml_problem(name, &e)])?;
    let mut problems = Vec::new();
    let service = raw.service.clone().unwrap_or_else(|| {
        std::path::Path::new(name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "slos".to_string())
    });
    check_name(
        name,
        text,
        &service,
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
    let mut slos = Vec::new();
    for (k, v) in raw.slos {
        let slo_name = k.as_str().map(str::to_string).unwrap_or_default();
        let path = |key: Option<&str>| {
            let mut p = vec![Seg::Key("slos".into()), Seg::Key(slo_name.clone())];
            p.extend(key.map(|k| Seg::Key(k.into())));
            p
        };
        check_name(name, text, &slo_name, &path(None), &mut problems);
        let entry: RawSeedSlo = match serde_yaml::from_value(v) {
            Ok(e) => e,
            Err(e) => {
                problems.push(problem(
                    name,
                    text,
                    &path(None),
                    format!("slos.{slo_name}: {e}"),
                ));
                continue;
            }
        };
        match map_entry(&slo_name, &entry) {
            Ok((objective, period, sli)) => {
                let title = camel(&slo_name);
                slos.push(Slo {
                    service: service.clone(),
                    name: slo_name.clone(),
                    description: entry.description.clone(),
                    objective,
                    period,
                    labels: raw.labels.clone(),
                    sli,
                    alerting: Alerting {
                        name: format!("{title}SLOBurnRate"),
                        labels: BTreeMap::new(),
                        annotations: BTreeMap::new(),
                        page: AlertMeta {
                            disable: false,
                            labels: [("severity".to_string(), "critical".to_string())].into(),
                            annotations: BTreeMap::new(),
                        },
                        ticket: AlertMeta {
                            disable: false,
                            labels: [("severity".to_string(), "warning".to_string())].into(),
                            annotations: BTreeMap::new(),
                        },
                    },
                })
            }
            Err((key, m)) => problems.push(problem(
                name,
                text,
                &path(Some(key)),
                format!("slos.{slo_name}: {m}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(SloSet {
            format: SpecFormat::Seed,
            service,
            slos,
        })
    } else {
        Err(problems)
    }
}

/// `availability` → `Availability`, `error_rate` → `ErrorRate`.
fn camel(s: &str) -> String {
    s.split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

type MapError = (&'static str, String);

/// The objective (percent), period and SLI of one seed entry.
fn map_entry(slo: &str, e: &RawSeedSlo) -> Result<(f64, Duration, Sli), MapError> {
    let target = match &e.target {
        serde_yaml::Value::String(s) => s.trim().to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        _ => return Err(("target", "target must be a string such as \"99.9%\"".into())),
    };
    // Whitespace is insignificant in PromQL; collapse it so the patterns stay simple.
    let q = e.query.split_whitespace().collect::<Vec<_>>().join(" ");
    let q = q.replace("( ", "(").replace(" )", ")");
    let bad_target = |why: &str| ("target", format!("target {target:?}: {why}"));
    if let Some(rest) = target.strip_prefix('<') {
        // An error-rate ceiling: `< 0.1%`.
        let pct = percent(rest).ok_or_else(|| bad_target("expected \"< P%\""))?;
        let (err, total, period) = ratio_query(&q)
            .ok_or_else(|| ("query", unsupported(slo, "rate(BAD[P]) / rate(ALL[P])")))?;
        return Ok((
            100.0 - pct,
            period,
            Sli::Events {
                error_query: format!("sum(rate({err}[{{{{.window}}}}]))"),
                total_query: format!("sum(rate({total}[{{{{.window}}}}]))"),
            },
        ));
    }
    if let Some((pct, threshold)) = target.split_once('<') {
        // A latency objective: `95% < 200ms`.
        let pct = percent(pct).ok_or_else(|| bad_target("expected \"P% < DURATION\""))?;
        let secs = threshold_seconds(threshold.trim())
            .ok_or_else(|| bad_target("the threshold must be a duration (200ms) or seconds"))?;
        let (metric, matchers, period) = latency_query(&q).ok_or_else(|| {
            (
                "query",
                unsupported(slo, "histogram_quantile(Q, rate(NAME_bucket{...}[P])) < T"),
            )
        })?;
        let le = format!("le=\"{secs}\"");
        let bucket_matchers = if matchers.is_empty() {
            le
        } else {
            format!("{matchers},{le}")
        };
        let count = format!("{metric}_count{{{matchers}}}");
        let count = count.replace("{}", "");
        return Ok((
            pct,
            period,
            Sli::Events {
                error_query: format!(
                    "(sum(rate({count}[{{{{.window}}}}])) - sum(rate({metric}_bucket{{{bucket_matchers}}}[{{{{.window}}}}])))"
                ),
                total_query: format!("sum(rate({count}[{{{{.window}}}}]))"),
            },
        ));
    }
    let pct = percent(&target).ok_or_else(|| bad_target("expected \"P%\""))?;
    if let Some((sel, period)) = avg_query(&q) {
        return Ok((
            pct,
            period,
            Sli::Events {
                error_query: format!(
                    "(sum(count_over_time({sel}[{{{{.window}}}}])) - sum(sum_over_time({sel}[{{{{.window}}}}])))"
                ),
                total_query: format!("sum(count_over_time({sel}[{{{{.window}}}}]))"),
            },
        ));
    }
    if let Some((err, total, period)) = ratio_query(&q) {
        return Ok((
            pct,
            period,
            Sli::Events {
                error_query: format!("sum(rate({err}[{{{{.window}}}}]))"),
                total_query: format!("sum(rate({total}[{{{{.window}}}}]))"),
            },
        ));
    }
    Err((
        "query",
        unsupported(
            slo,
            "avg_over_time(SERIES[P]) or rate(BAD[P]) / rate(ALL[P])",
        ),
    ))
}

fn unsupported(slo: &str, shape: &str) -> String {
    format!(
        "cannot map the query of SLO {slo:?} to an SLI: expected {shape} (or write the SLO in Sloth's prometheus/v1 form)"
    )
}

/// `99.9%` or `99.9` → 99.9, in (0, 100].
fn percent(s: &str) -> Option<f64> {
    let s = s.trim();
    let s = s.strip_suffix('%').unwrap_or(s).trim();
    let v: f64 = s.parse().ok()?;
    (v > 0.0 && v <= 100.0).then_some(v)
}

/// `200ms` → 0.2; a bare number is seconds.
fn threshold_seconds(s: &str) -> Option<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return (v > 0.0).then_some(v);
    }
    let d = sightline_model::parse_duration(s).ok()?;
    (!d.is_zero()).then_some(d.as_secs_f64())
}

fn period_of(s: &str) -> Option<Duration> {
    sightline_model::parse_duration(s)
        .ok()
        .filter(|d| !d.is_zero())
}

fn re(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(pattern).ok()
}

/// `avg_over_time(SEL[P])`, optionally compared: `(SEL, P)`.
fn avg_query(q: &str) -> Option<(String, Duration)> {
    let c = re(r"^avg_over_time\((.+)\[(\w+)\]\)(\s*[<>=!]+.*)?$")?.captures(q)?;
    let sel = c.get(1)?.as_str().trim().to_string();
    sightline_promql::parse(&sel).ok()?;
    Some((sel, period_of(c.get(2)?.as_str())?))
}

/// `rate(A[P]) / rate(B[P])` (or `increase`, optionally summed and compared): `(A, B, P)`.
fn ratio_query(q: &str) -> Option<(String, String, Duration)> {
    let c = re(
        r"^(?:sum\s*)?\(?\s*(?:rate|increase)\((.+?)\[(\w+)\]\)\s*\)?\s*/\s*(?:sum\s*)?\(?\s*(?:rate|increase)\((.+?)\[(\w+)\]\)\s*\)?(\s*[<>=!]+.*)?$",
    )?
    .captures(q)?;
    let (a, b) = (c.get(1)?.as_str().trim(), c.get(3)?.as_str().trim());
    sightline_promql::parse(a).ok()?;
    sightline_promql::parse(b).ok()?;
    Some((a.to_string(), b.to_string(), period_of(c.get(2)?.as_str())?))
}

/// `histogram_quantile(Q, rate(NAME_bucket{M}[P])) < T` (optionally `sum by (le)`):
/// `(NAME, M, P)`.
fn latency_query(q: &str) -> Option<(String, String, Duration)> {
    let c = re(
        r"^histogram_quantile\(\s*[0-9.]+\s*,\s*(?:sum\s*(?:by\s*\(\s*le\s*\))?\s*\()?\s*(?:rate|increase)\(([a-zA-Z_:][a-zA-Z0-9_:]*)_bucket\s*(?:\{([^}]*)\})?\s*\[(\w+)\]\)\s*\)?\s*\)(\s*[<>=!]+.*)?$",
    )?
    .captures(q)?;
    let metric = c.get(1)?.as_str().to_string();
    let matchers = c
        .get(2)
        .map(|m| m.as_str().trim().to_string())
        .unwrap_or_default();
    Some((metric, matchers, period_of(c.get(3)?.as_str())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_block_maps_to_three_events_slis() {
        let text = include_str!("../../../../examples/slo/seed-slos.yml");
        let set = parse("seed-slos.yml", text).unwrap();
        assert_eq!(set.format, SpecFormat::Seed);
        let by: BTreeMap<_, _> = set.slos.iter().map(|s| (s.name.as_str(), s)).collect();
        let a = by["availability"];
        assert_eq!(a.objective, 99.9);
        assert_eq!(a.period, Duration::from_secs(30 * 86_400));
        assert_eq!(
            a.sli,
            Sli::Events {
                error_query:
                    "(sum(count_over_time(up[{{.window}}])) - sum(sum_over_time(up[{{.window}}])))"
                        .into(),
                total_query: "sum(count_over_time(up[{{.window}}]))".into(),
            }
        );
        let l = by["latency"];
        assert_eq!(l.objective, 95.0);
        assert_eq!(
            l.sli,
            Sli::Events {
                error_query: "(sum(rate(http_request_duration_seconds_count[{{.window}}])) - sum(rate(http_request_duration_seconds_bucket{le=\"0.2\"}[{{.window}}])))".into(),
                total_query: "sum(rate(http_request_duration_seconds_count[{{.window}}]))".into(),
            }
        );
        let e = by["error_rate"];
        assert_eq!(e.objective, 99.9);
        assert_eq!(
            e.sli,
            Sli::Events {
                error_query: "sum(rate(http_requests_total{status=~\"5..\"}[{{.window}}]))".into(),
                total_query: "sum(rate(http_requests_total[{{.window}}]))".into(),
            }
        );
        assert_eq!(e.alerting.name, "ErrorRateSLOBurnRate");
    }

    #[test]
    fn unmappable_queries_are_located() {
        let text = "slos:\n  x:\n    target: 99%\n    query: max(up)\n";
        let e = parse("f.yml", text).unwrap_err();
        assert!(
            e[0].message.starts_with("f.yml: 4:12: slos.x: cannot map"),
            "{e:?}"
        );
        let text = "slos:\n  x:\n    target: 99%\n    querry: up\n";
        let e = parse("f.yml", text).unwrap_err();
        assert!(e[0].message.contains("unknown field `querry`"), "{e:?}");
        assert!(e[0].message.starts_with("f.yml: 3:5:"), "{e:?}");
    }
}
