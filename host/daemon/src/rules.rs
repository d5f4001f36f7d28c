//! Rules at the binary's edge: `sightline test rules`, and the template seam the rules
//! engine is handed.

use std::process::ExitCode;

use sightline_rules::unittest::{run_files, TestOptions};

use crate::cli::TestCommand;

/// Checks an alerting rule's label or annotation template when rule files load.
pub(crate) fn check_template(rule: &str, text: &str) -> Result<(), String> {
    sightline_rules::templates::check_template(rule, text)
}

/// The template expander rules are handed.
pub(crate) fn expander() -> std::sync::Arc<dyn sightline_rules::Expander> {
    std::sync::Arc::new(sightline_rules::templates::TemplateExpander::new())
}

/// `sightline test rules`.
pub(crate) fn test(cmd: TestCommand) -> ExitCode {
    match cmd {
        TestCommand::Rules {
            files,
            run,
            ignore_unknown_fields,
        } => {
            let run = if run.is_empty() {
                None
            } else {
                // Any of the patterns, as promtool's `--run` (repeatable).
                match regex::Regex::new(&run.join("|")) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        eprintln!("invalid --run pattern: {e}");
                        return ExitCode::from(1);
                    }
                }
            };
            let opts = TestOptions {
                expander: &sightline_rules::templates::TemplateExpander::new(),
                templates: &check_template,
                run: run.as_ref(),
                ignore_unknown_fields,
            };
            let (code, _) = run_files(&files, &opts);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}

/// The rules file the embedded default configuration evaluates.
pub(crate) const DEFAULT_RULES_YAML: &str = include_str!("assets/default-rules.yml");
/// Its name in errors and in `/api/v1/rules`.
pub(crate) const DEFAULT_RULES_NAME: &str = "<embedded default rules>";

/// What the rules manager is handed for `cfg`: its rule files (or, for the embedded default
/// configuration, the embedded default rules), intervals and external labels, and the
/// functions their expressions may call (the built-ins and the query-function plugins).
pub(crate) fn rules_config(
    cfg: &sightline_config::Config,
    embedded: bool,
    external_url: &str,
    functions: std::sync::Arc<sightline_promql::FunctionRegistry>,
) -> anyhow::Result<sightline_rules::RulesConfig> {
    let files = sightline_rules::file::expand_globs(&cfg.rule_files)?;
    let inline = if embedded && cfg.rule_files.is_empty() {
        vec![(
            DEFAULT_RULES_NAME.to_string(),
            DEFAULT_RULES_YAML.to_string(),
        )]
    } else {
        Vec::new()
    };
    Ok(sightline_rules::RulesConfig {
        files,
        inline,
        evaluation_interval: cfg.global.evaluation_interval,
        query_offset: cfg.global.rule_query_offset,
        external_labels: cfg.global.external_labels.clone(),
        external_url: external_url.to_string(),
        functions: Some(functions),
    })
}

/// The query function rules evaluate with: the daemon's current engine (it changes when
/// query-function plugins change) over the storage.
pub(crate) fn query_fn(
    engine: std::sync::Arc<parking_lot::RwLock<sightline_promql::Engine>>,
    storage: std::sync::Arc<dyn sightline_storage_api::Queryable>,
) -> sightline_rules::QueryFn {
    std::sync::Arc::new(move |expr: &str, t: i64| {
        let engine = engine.read().clone();
        sightline_rules::unittest::instant_samples(&engine, &*storage, expr, t)
    })
}

/// Range queries for backfilling recording rules, on the daemon's current engine.
pub(crate) fn range_query_fn(
    engine: std::sync::Arc<parking_lot::RwLock<sightline_promql::Engine>>,
    storage: std::sync::Arc<dyn sightline_storage_api::Queryable>,
) -> sightline_rules::backfill::RangeQueryFn {
    std::sync::Arc::new(move |expr: &str, start: i64, end: i64, step: i64| {
        let engine = engine.read().clone();
        let res = engine
            .range_query(&*storage, expr, start, end, step)
            .map_err(|e| e.to_string())?;
        match res.value {
            sightline_promql::Value::Matrix(m) if m.iter().any(|s| !s.histograms.is_empty()) => {
                Err(
                    "backfilling rules whose results are native histograms is not supported yet"
                        .to_string(),
                )
            }
            sightline_promql::Value::Matrix(m) => Ok(m
                .into_iter()
                .map(|s| {
                    let points = s.samples.iter().map(|p| (p.t, p.v)).collect();
                    (s.labels, points)
                })
                .collect()),
            other => Err(format!(
                "rule result is a {}, not a vector or scalar",
                other.type_name()
            )),
        }
    })
}

/// Writes backfilled samples into the TSDB: through the head where it still accepts them,
/// and as new sealed partitions (the import path) for samples older than a series' newest or
/// than the sealed watermark. Duplicates of stored samples are skipped.
pub(crate) struct TsdbBackfill(pub(crate) std::sync::Arc<sightline_tsdb::Tsdb>);

impl sightline_rules::backfill::BackfillWriter for TsdbBackfill {
    fn write(
        &self,
        series: Vec<(sightline_model::Labels, Vec<(i64, f64)>)>,
    ) -> Result<u64, String> {
        use sightline_storage_api::{Appendable, Error as StorageError};
        let mut app = self.0.appender();
        let mut older = Vec::new();
        let mut written = 0u64;
        for (labels, points) in series {
            for (t, v) in points {
                match app.append(None, &labels, t, v) {
                    Ok(_) => written += 1,
                    Err(StorageError::OutOfOrderSample | StorageError::OutOfBounds) => {
                        older.push(sightline_tsdb::ImportSample {
                            labels: labels.clone(),
                            t,
                            v,
                        })
                    }
                    Err(StorageError::DuplicateSampleForTimestamp) => {}
                    Err(e) => {
                        let _ = app.rollback();
                        return Err(e.to_string());
                    }
                }
            }
        }
        app.commit().map_err(|e| e.to_string())?;
        if !older.is_empty() {
            let mut source = older.into_iter().map(Ok);
            let stats = self
                .0
                .import(&mut source, &mut |_| {})
                .map_err(|e| e.to_string())?;
            written += stats.samples;
        }
        Ok(written)
    }
}

/// Left-aligned columns.
fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  ", width = w[i]));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

fn labels_text(v: &serde_json::Value) -> String {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// `sightline rules` and `sightline rules backfill`.
pub(crate) fn rules_command(args: crate::cli::RulesArgs) -> ExitCode {
    use crate::cli::{OutputFormat, RulesCommand};
    crate::tools::run_client(async move {
        match args.command {
            Some(RulesCommand::Backfill {
                start,
                end,
                groups,
                rules,
                common,
            }) => {
                let mut params = vec![("start", start)];
                if let Some(e) = end {
                    params.push(("end", e));
                }
                params.extend(groups.into_iter().map(|g| ("rule_group[]", g)));
                params.extend(rules.into_iter().map(|r| ("rule_name[]", r)));
                let data = crate::tools::api_call(
                    &common.server,
                    reqwest::Method::POST,
                    "/api/v1/admin/rules/backfill",
                    &params,
                    std::time::Duration::from_secs(3600),
                )
                .await?["data"]
                    .clone();
                if matches!(common.output, OutputFormat::Json) {
                    println!("{}", serde_json::to_string_pretty(&data)?);
                    return Ok(());
                }
                let empty = Vec::new();
                let rows: Vec<Vec<String>> = data["rules"]
                    .as_array()
                    .unwrap_or(&empty)
                    .iter()
                    .map(|r| {
                        vec![
                            r["group"].as_str().unwrap_or_default().to_string(),
                            r["rule"].as_str().unwrap_or_default().to_string(),
                            r["start"].as_str().unwrap_or("-").to_string(),
                            r["end"].as_str().unwrap_or("-").to_string(),
                            r["series"].to_string(),
                            r["samples"].to_string(),
                            r["error"].as_str().unwrap_or_default().to_string(),
                        ]
                    })
                    .collect();
                print_table(
                    &["GROUP", "RULE", "FROM", "TO", "SERIES", "SAMPLES", "ERROR"],
                    &rows,
                );
                if rows.iter().any(|r| !r[6].is_empty()) {
                    anyhow::bail!("some rules could not be backfilled");
                }
                Ok(())
            }
            None => {
                let mut params = Vec::new();
                if let Some(t) = args.rule_type {
                    params.push(("type", t));
                }
                let data = crate::tools::api_call(
                    &args.common.server,
                    reqwest::Method::GET,
                    "/api/v1/rules",
                    &params,
                    std::time::Duration::from_secs(30),
                )
                .await?["data"]
                    .clone();
                if matches!(args.common.output, OutputFormat::Json) {
                    println!("{}", serde_json::to_string_pretty(&data)?);
                    return Ok(());
                }
                let mut rows = Vec::new();
                for g in data["groups"].as_array().into_iter().flatten() {
                    for r in g["rules"].as_array().into_iter().flatten() {
                        rows.push(vec![
                            g["name"].as_str().unwrap_or_default().to_string(),
                            r["name"].as_str().unwrap_or_default().to_string(),
                            r["type"].as_str().unwrap_or_default().to_string(),
                            r["state"].as_str().unwrap_or("-").to_string(),
                            r["health"].as_str().unwrap_or_default().to_string(),
                            r["lastEvaluation"].as_str().unwrap_or_default().to_string(),
                            r["lastError"].as_str().unwrap_or_default().to_string(),
                        ]);
                    }
                }
                print_table(
                    &[
                        "GROUP",
                        "RULE",
                        "TYPE",
                        "STATE",
                        "HEALTH",
                        "LAST EVALUATION",
                        "ERROR",
                    ],
                    &rows,
                );
                Ok(())
            }
        }
    })
}

/// `sightline alerts`.
pub(crate) fn alerts_command(args: crate::cli::AlertsArgs) -> ExitCode {
    use crate::cli::OutputFormat;
    crate::tools::run_client(async move {
        let data = crate::tools::api_call(
            &args.common.server,
            reqwest::Method::GET,
            "/api/v1/alerts",
            &[],
            std::time::Duration::from_secs(30),
        )
        .await?["data"]
            .clone();
        let empty = Vec::new();
        let alerts: Vec<&serde_json::Value> = data["alerts"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|a| args.state.as_deref().is_none_or(|s| a["state"] == s))
            .collect();
        if matches!(args.common.output, OutputFormat::Json) {
            println!("{}", serde_json::to_string_pretty(&alerts)?);
            return Ok(());
        }
        let rows: Vec<Vec<String>> = alerts
            .iter()
            .map(|a| {
                let mut labels = a["labels"].clone();
                let name = labels["alertname"].as_str().unwrap_or_default().to_string();
                if let Some(o) = labels.as_object_mut() {
                    o.remove("alertname");
                }
                vec![
                    name,
                    a["state"].as_str().unwrap_or_default().to_string(),
                    a["activeAt"].as_str().unwrap_or_default().to_string(),
                    a["value"].as_str().unwrap_or_default().to_string(),
                    labels_text(&labels),
                ]
            })
            .collect();
        print_table(
            &["ALERTNAME", "STATE", "ACTIVE SINCE", "VALUE", "LABELS"],
            &rows,
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_are_valid() {
        let f = sightline_rules::file::parse(
            DEFAULT_RULES_NAME,
            DEFAULT_RULES_YAML,
            &check_template,
            false,
        );
        assert!(f.is_ok(), "{f:?}");
    }
}
