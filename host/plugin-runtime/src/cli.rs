//! The library side of `sightline plugin list` and `sightline plugin test`.
//! The daemon parses the flags and prints what these return.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{json, Map, Value};
use sightline_model::{format_go_float, Labels};

use crate::error::{Error, Result};
use crate::http::{
    CannedResponse, MAX_RECORDED_BODY_BYTES, MAX_RECORDED_REQUESTS, MAX_RECORDED_TOTAL_BYTES,
};
use crate::registry::{PluginHost, PluginHostConfig, PluginInfo};
use crate::types::*;
use crate::words::escape_json_for_terminal;

/// `sightline plugin list [--plugins.dir DIR]`: loads every plugin of `dir`
/// and returns a table with name, kind, state, sha256, capabilities and load
/// error. `cache_dir` is the compile cache (the daemon passes the user's cache
/// directory; never a directory plugin authors can write, see
/// [`PluginHostConfig::cache_dir`]); `None` compiles every plugin.
pub async fn plugin_list(dir: &Path, cache_dir: Option<&Path>) -> Result<String> {
    let mut cfg = PluginHostConfig::new(dir);
    cfg.cache_dir = cache_dir.map(Path::to_path_buf);
    plugin_list_with(cfg).await
}

/// [`plugin_list`] with a whole configuration: the daemon passes its ceilings flags and
/// PromQL's built-in function names (`cfg.reserved_functions`), so the list refuses what
/// `sightline serve` would (a limit over a ceiling, a taken name or uid).
pub async fn plugin_list_with(cfg: PluginHostConfig) -> Result<String> {
    let host = PluginHost::new(cfg).await?;
    Ok(escape_json_for_terminal(render_table(&host.list())))
}

/// The rows of `plugin list` as JSON (the `GET /api/v1/plugins` data shape
/// plus `capabilities`).
pub fn plugins_json(plugins: &[PluginInfo]) -> Value {
    Value::Array(
        plugins
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "kind": p.kind.map(PluginKind::as_str),
                    "contract": p.contract.map(crate::notification::Contract::as_str),
                    "sha256": p.sha256,
                    "loaded_at": p.loaded_at.map(rfc3339),
                    "state": p.state.as_str(),
                    "last_error": p.last_error,
                    "calls": p.stats.calls,
                    "errors": p.stats.errors(),
                    "capabilities": p.capabilities,
                })
            })
            .collect(),
    )
}

/// Formats a time as RFC 3339 in UTC with millisecond precision.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn render_table(plugins: &[PluginInfo]) -> String {
    let rows: Vec<[String; 7]> = plugins
        .iter()
        .map(|p| {
            [
                crate::words::sanitize(&p.name, 1024),
                p.kind.map(PluginKind::as_str).unwrap_or("-").to_string(),
                p.contract
                    .map(crate::notification::Contract::as_str)
                    .unwrap_or("-")
                    .to_string(),
                p.state.as_str().to_string(),
                if p.sha256.is_empty() {
                    "-".to_string()
                } else {
                    p.sha256.clone()
                },
                if p.capabilities.is_empty() {
                    "-".to_string()
                } else {
                    p.capabilities.clone()
                },
                p.last_error.clone().unwrap_or_else(|| "-".to_string()),
            ]
        })
        .collect();
    let header = [
        "NAME",
        "KIND",
        "CONTRACT",
        "STATE",
        "SHA256",
        "CAPABILITIES",
        "ERROR",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()).take(6) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == cells.len() - 1 {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&mut out, &cells);
    }
    out
}

/// Options of `sightline plugin test`.
#[derive(Debug, Clone, Default)]
pub struct PluginTestOptions {
    /// The `.wasm` file; `<stem>.toml` beside it grants capabilities.
    pub wasm: PathBuf,
    /// `--input FILE.json`: for a receiver, Alertmanager's webhook JSON of
    /// the alert group (default: one firing example alert); for a query
    /// function, `{"args": [...], "eval_time_ms": N}`.
    pub input: Option<PathBuf>,
    /// `--config KEY=VALUE` pairs, overlaid on the plugin's `[config]`.
    pub config: Vec<(String, String)>,
    /// `--responses FILE.json`: canned HTTP responses,
    /// `[{"url_prefix": "...", "status": 200, "headers": {..}, "body": "..."}]`.
    /// Without it every request is answered `200` with an empty body.
    pub responses: Option<PathBuf>,
    /// The ceilings manifests are held to (the same flags and defaults as `sightline
    /// serve`).
    pub ceilings: crate::manifest::Ceilings,
}

/// Parses one `--config KEY=VALUE` flag.
pub fn parse_config_flag(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(Error::InvalidInput(format!(
            "--config {s:?}: expected KEY=VALUE"
        ))),
    }
}

/// `sightline plugin test`: runs one plugin with no network and returns the
/// JSON to print. An error (exit non-zero) carries the plugin's error.
pub async fn plugin_test(opts: &PluginTestOptions) -> Result<String> {
    let wasm = &opts.wasm;
    if wasm.extension().and_then(|e| e.to_str()) != Some("wasm") {
        return Err(Error::InvalidInput(format!(
            "{}: expected a .wasm file",
            wasm.display()
        )));
    }
    if !wasm.is_file() {
        return Err(Error::io(
            wasm,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    let name = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let dir = wasm
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let canned = match &opts.responses {
        Some(path) => parse_responses(path)?,
        None => Vec::new(),
    };
    let mut cfg = PluginHostConfig::new(dir);
    cfg.only = Some(name.clone());
    cfg.record_http = Some(canned);
    cfg.extra_config = opts.config.iter().cloned().collect();
    cfg.ceilings = opts.ceilings;
    let host = PluginHost::new(cfg).await?;
    let info = host
        .list()
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| Error::NotFound(name.clone()))?;
    let Some(kind) = info.kind else {
        return Err(Error::LoadFailed {
            name,
            message: info.last_error.unwrap_or_default(),
        });
    };
    let input = match &opts.input {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            Some(
                serde_json::from_str::<Value>(&text)
                    .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    let out = match kind {
        PluginKind::Exporter => {
            let families = host.collect(&name).await?;
            json!({ "plugin": name, "kind": kind.as_str(), "families": families_json(&families) })
        }
        PluginKind::Receiver => {
            let group = match &input {
                Some(v) => alert_group_from_json(v)?,
                None => example_group(),
            };
            let result = if info.contract == Some(crate::notification::Contract::V0_2) {
                // Contract 0.2: the group typed, `--config` pairs as the settings document
                // (see `settings_from_flags`), templates rendered over the group.
                let n = crate::calls_v02::notification_from_group(&group);
                let scope = crate::calls_v02::scope_of(
                    &n,
                    crate::notification::TemplateScope::default_only(),
                );
                let settings = settings_from_flags(&opts.config);
                host.notify_typed(&name, &n, &settings, scope).await
            } else {
                host.notify(&name, &group, &BTreeMap::new()).await
            };
            let mut requests = requests_json(&host);
            let not_recorded = host.recorded_requests_dropped();
            match result {
                Ok(()) => {
                    let mut out = json!({
                        "plugin": name,
                        "kind": kind.as_str(),
                        "contract": info.contract.map(crate::notification::Contract::as_str),
                        "requests": requests,
                    });
                    let cut = requests
                        .iter()
                        .any(|r| r.get("body_truncated_from").is_some());
                    if not_recorded > 0 || cut {
                        out["requests_not_recorded"] = json!(not_recorded);
                        out["note"] = json!(format!(
                            "only the first {MAX_RECORDED_REQUESTS} requests are recorded, \
                             bodies up to {MAX_RECORDED_BODY_BYTES} bytes each and \
                             {MAX_RECORDED_TOTAL_BYTES} bytes in all"
                        ));
                    }
                    out
                }
                Err(e) => {
                    // The error names the first few requests only: it is one line of text.
                    let total = requests.len() as u64 + not_recorded;
                    requests.truncate(ERROR_REQUESTS);
                    for r in &mut requests {
                        if let Some(Value::String(b)) = r.get_mut("body") {
                            *b = crate::words::sanitize(b, 1024);
                        }
                    }
                    // Compact JSON has no raw control characters; `sanitize` escapes
                    // what else a terminal acts on and bounds the line.
                    return Err(Error::Plugin {
                        name,
                        message: crate::words::sanitize(
                            &format!(
                                "{e}; {total} requests made; the first {}: {}",
                                requests.len(),
                                Value::Array(requests)
                            ),
                            ERROR_TEXT_BYTES,
                        ),
                    });
                }
            }
        }
        PluginKind::QueryFunction => {
            let signature = info.signature.clone();
            let (args, t) = match &input {
                Some(v) => query_args_from_json(v)?,
                None => {
                    return Err(Error::InvalidInput(
                        "a query function needs --input with {\"args\": [...]}".to_string(),
                    ))
                }
            };
            let result = host.call_query_function(&name, &args, t).await?;
            json!({
                "plugin": name,
                "kind": kind.as_str(),
                "signature": signature.map(|s| json!({
                    "name": s.name,
                    "arg_types": s.arg_types.iter().map(|t| value_type_str(*t)).collect::<Vec<_>>(),
                    "optional_args": s.optional_args,
                    "return_type": value_type_str(s.return_type),
                    "mode": match s.mode { CallMode::PerSeries => "per-series", CallMode::PerVector => "per-vector" },
                })),
                "result": query_value_json(&result),
            })
        }
        PluginKind::Dashboard => {
            let text = host.dashboard(&name).await?;
            let model: Value = serde_json::from_str(&text).map_err(|e| Error::InvalidOutput {
                name: name.clone(),
                message: e.to_string(),
            })?;
            json!({ "plugin": name, "kind": kind.as_str(), "dashboard": model })
        }
    };
    serde_json::to_string_pretty(&out)
        .map(escape_json_for_terminal)
        .map_err(|e| Error::Runtime(e.to_string()))
}

/// The settings document of a contract 0.2 receiver under `plugin test`: one entry per
/// `--config KEY=VALUE` flag, in the flags' order (they also overlay the plugin's `config`,
/// as for every plugin). A value that is a JSON object, array or boolean (`true`,
/// `{"title": "x"}`) is that structure, so nested settings and `send_resolved` can be given;
/// everything else is a string, as alertmanager.yml settings mostly are.
fn settings_from_flags(flags: &[(String, String)]) -> crate::notification::SettingsValue {
    use crate::notification::SettingsValue;
    SettingsValue::Map(
        flags
            .iter()
            .map(|(k, v)| {
                let structured = serde_json::from_str::<Value>(v)
                    .ok()
                    .filter(|j| j.is_object() || j.is_array() || j.is_boolean());
                let value = match structured {
                    Some(j) => SettingsValue::from_json(&j),
                    None => SettingsValue::Text(v.clone()),
                };
                (k.clone(), value)
            })
            .collect(),
    )
}

/// How many recorded requests the error of a failed receiver test quotes.
const ERROR_REQUESTS: usize = 10;
/// Longest error text of a failed receiver test (its error and those requests).
const ERROR_TEXT_BYTES: usize = 64 * 1024;

fn labels_json(l: &Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|l| (l.name.to_string(), Value::String(l.value.to_string())))
            .collect(),
    )
}

fn families_json(families: &[MetricFamily]) -> Value {
    Value::Array(
        families
            .iter()
            .map(|f| {
                let samples: Vec<Value> = f
                    .flatten()
                    .iter()
                    .map(|s| {
                        let mut o = Map::new();
                        o.insert("labels".into(), labels_json(&s.labels));
                        o.insert("value".into(), Value::String(format_go_float(s.value)));
                        if let Some(t) = s.timestamp_ms {
                            o.insert("timestamp_ms".into(), json!(t));
                        }
                        Value::Object(o)
                    })
                    .collect();
                json!({ "name": f.name, "type": f.metric_type.as_str(), "help": f.help, "unit": f.unit, "samples": samples })
            })
            .collect(),
    )
}

fn requests_json(host: &PluginHost) -> Vec<Value> {
    host.recorded_requests()
        .into_iter()
        .map(|r| {
            let headers: Vec<Value> = r.headers.iter().map(|(k, v)| json!([k, v])).collect();
            let mut o = json!({
                "method": r.method,
                "url": r.url,
                "headers": headers,
                "body": String::from_utf8_lossy(&r.body),
            });
            if r.body_len > r.body.len() {
                o["body_truncated_from"] = json!(r.body_len);
            }
            o
        })
        .collect()
}

fn parse_responses(path: &Path) -> Result<Vec<CannedResponse>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: String| Error::InvalidInput(format!("{}: {m}", path.display()));
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let Value::Array(items) = v else {
        return Err(bad("expected a JSON array".to_string()));
    };
    items
        .iter()
        .map(|item| {
            let status = item.get("status").and_then(Value::as_u64).unwrap_or(200);
            let status =
                u16::try_from(status).map_err(|_| bad(format!("status {status} out of range")))?;
            let headers = match item.get("headers") {
                Some(Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect(),
                _ => Vec::new(),
            };
            Ok(CannedResponse {
                url_prefix: item
                    .get("url_prefix")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                status,
                headers,
                body: item
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .as_bytes()
                    .to_vec(),
            })
        })
        .collect()
}

fn json_labels(v: Option<&Value>, what: &str) -> Result<Labels> {
    match v {
        None | Some(Value::Null) => Ok(Labels::empty()),
        Some(Value::Object(m)) => {
            Ok(Labels::from_pairs(m.iter().map(|(k, v)| {
                (k.clone(), v.as_str().unwrap_or_default().to_string())
            })))
        }
        Some(_) => Err(Error::InvalidInput(format!(
            "{what}: expected an object of strings"
        ))),
    }
}

fn json_str(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Parses Alertmanager's webhook JSON into an alert group.
pub fn alert_group_from_json(v: &Value) -> Result<AlertGroup> {
    let alerts = match v.get("alerts") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|a| {
                Ok(Alert {
                    status: json_str(a, "status"),
                    labels: json_labels(a.get("labels"), "alerts[].labels")?,
                    annotations: json_labels(a.get("annotations"), "alerts[].annotations")?,
                    starts_at: json_str(a, "startsAt"),
                    ends_at: json_str(a, "endsAt"),
                    generator_url: json_str(a, "generatorURL"),
                    fingerprint: json_str(a, "fingerprint"),
                })
            })
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
        Some(_) => return Err(Error::InvalidInput("alerts: expected an array".to_string())),
    };
    Ok(AlertGroup {
        version: v
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("4")
            .to_string(),
        group_key: json_str(v, "groupKey"),
        truncated_alerts: v
            .get("truncatedAlerts")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        status: json_str(v, "status"),
        receiver: json_str(v, "receiver"),
        group_labels: json_labels(v.get("groupLabels"), "groupLabels")?,
        common_labels: json_labels(v.get("commonLabels"), "commonLabels")?,
        common_annotations: json_labels(v.get("commonAnnotations"), "commonAnnotations")?,
        external_url: json_str(v, "externalURL"),
        alerts,
    })
}

fn example_group() -> AlertGroup {
    let labels = Labels::from_pairs([
        ("alertname", "ExampleAlert"),
        ("instance", "localhost:9090"),
        ("severity", "warning"),
    ]);
    AlertGroup {
        version: "4".to_string(),
        group_key: "{}:{alertname=\"ExampleAlert\"}".to_string(),
        truncated_alerts: 0,
        status: "firing".to_string(),
        receiver: "plugin-test".to_string(),
        group_labels: Labels::from_pairs([("alertname", "ExampleAlert")]),
        common_labels: labels.clone(),
        common_annotations: Labels::from_pairs([(
            "summary",
            "An example alert from sightline plugin test",
        )]),
        external_url: "http://127.0.0.1:9090".to_string(),
        alerts: vec![Alert {
            status: "firing".to_string(),
            labels,
            annotations: Labels::from_pairs([(
                "summary",
                "An example alert from sightline plugin test",
            )]),
            starts_at: rfc3339(SystemTime::now()),
            ends_at: "0001-01-01T00:00:00Z".to_string(),
            generator_url: "http://127.0.0.1:9090/graph".to_string(),
            fingerprint: "0000000000000000".to_string(),
        }],
    }
}

fn query_args_from_json(v: &Value) -> Result<(Vec<QueryValue>, i64)> {
    let bad = |m: &str| Error::InvalidInput(format!("query function input: {m}"));
    let t = v
        .get("eval_time_ms")
        .and_then(Value::as_i64)
        .unwrap_or_else(sightline_model::now_ms);
    let Some(Value::Array(args)) = v.get("args") else {
        return Err(bad("expected \"args\": [...]"));
    };
    let mut out = Vec::new();
    for a in args {
        if let Some(f) = a.get("scalar").and_then(Value::as_f64) {
            out.push(QueryValue::Scalar(f));
        } else if let Some(s) = a.get("string").and_then(Value::as_str) {
            out.push(QueryValue::String(s.to_string()));
        } else if let Some(Value::Array(series)) = a.get("vector") {
            let mut vs = Vec::new();
            for s in series {
                let labels = json_labels(s.get("labels"), "vector[].labels")?;
                let mut points = Vec::new();
                if let Some(Value::Array(ps)) = s.get("points") {
                    for p in ps {
                        let t = p
                            .get(0)
                            .and_then(Value::as_i64)
                            .ok_or_else(|| bad("point: expected [t_ms, value]"))?;
                        let v = p
                            .get(1)
                            .and_then(Value::as_f64)
                            .ok_or_else(|| bad("point: expected [t_ms, value]"))?;
                        points.push(sightline_model::Sample { t, v });
                    }
                }
                vs.push(QuerySeries { labels, points });
            }
            out.push(QueryValue::Vector(vs));
        } else {
            return Err(bad(
                "each argument is {\"scalar\": N}, {\"string\": S} or {\"vector\": [...]}",
            ));
        }
    }
    Ok((out, t))
}

fn value_type_str(t: ValueType) -> &'static str {
    match t {
        ValueType::Scalar => "scalar",
        ValueType::InstantVector => "instant-vector",
        ValueType::RangeVector => "range-vector",
        ValueType::String => "string",
    }
}

fn query_value_json(v: &QueryValue) -> Value {
    match v {
        QueryValue::Scalar(f) => json!({ "scalar": format_go_float(*f) }),
        QueryValue::String(s) => json!({ "string": s }),
        QueryValue::Vector(series) => json!({
            "vector": series.iter().map(|s| json!({
                "labels": labels_json(&s.labels),
                "points": s.points.iter().map(|p| json!([p.t, format_go_float(p.v)])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_cases() {
        let cases = [
            (0u64, "1970-01-01T00:00:00.000Z"),
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        ];
        for (ms, want) in cases {
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms);
            assert_eq!(rfc3339(t), want);
        }
    }

    #[test]
    fn webhook_json_round_trip() {
        let v: Value = serde_json::from_str(
            r#"{"receiver":"r","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":{},"startsAt":"s","endsAt":"e","generatorURL":"g","fingerprint":"f"}],"groupLabels":{"alertname":"A"},"commonLabels":{},"commonAnnotations":{},"externalURL":"x","version":"4","groupKey":"k","truncatedAlerts":2}"#,
        )
        .unwrap();
        let g = alert_group_from_json(&v).unwrap();
        assert_eq!(g.receiver, "r");
        assert_eq!(g.truncated_alerts, 2);
        assert_eq!(g.alerts[0].labels.get("alertname"), Some("A"));
        assert_eq!(g.alerts[0].generator_url, "g");
    }

    #[test]
    fn config_flags() {
        assert_eq!(
            parse_config_flag("url=http://x/?a=b").unwrap(),
            ("url".to_string(), "http://x/?a=b".to_string())
        );
        assert!(parse_config_flag("=x").is_err());
        assert!(parse_config_flag("novalue").is_err());
    }
}
