//! `sightline import ...` and `sightline query ...`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::cli::{ImportCommand, OutputFormat, QueryArgs, QueryCommon, QueryRange};

pub(crate) fn import(cmd: ImportCommand) -> ExitCode {
    match run_import(cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sightline: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_import(cmd: ImportCommand) -> Result<()> {
    let ImportCommand::Openmetrics { file, storage_path } = cmd;
    let total = std::fs::metadata(&file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let stats = sightline_tsdb::import_openmetrics(&file, &storage_path, &mut |p| {
        bar.set_position(p.bytes_read);
        bar.set_message(format!("{} samples", p.samples));
    });
    bar.finish_and_clear();
    let stats = stats.with_context(|| format!("importing {}", file.display()))?;
    let ts = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    };
    println!(
        "imported {} samples of {} series into {} partition(s) of {} ({} .. {})",
        stats.samples,
        stats.series,
        stats.partitions,
        storage_path.display(),
        ts(stats.min_t),
        ts(stats.max_t)
    );
    Ok(())
}

pub(crate) fn query(args: QueryArgs) -> ExitCode {
    run_client(run_query(args))
}

/// Runs `f` on a current-thread runtime and maps its error to an exit code.
pub(crate) fn run_client<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sightline: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(f) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sightline: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Calls a running server's API (GET with a query string, else a form) and returns the
/// answer when its status is `success` (else its error).
pub(crate) async fn api_call(
    server: &str,
    method: reqwest::Method,
    path: &str,
    params: &[(&str, String)],
    timeout: std::time::Duration,
) -> anyhow::Result<serde_json::Value> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()?;
    let url = format!("{}{}", server.trim_end_matches('/'), path);
    let req = if method == reqwest::Method::GET {
        client.get(&url).query(params)
    } else {
        client.request(method, &url).form(params)
    };
    let resp = req.send().await.with_context(|| format!("calling {url}"))?;
    let body: serde_json::Value = serde_json::from_slice(&resp.bytes().await?)
        .with_context(|| format!("the answer of {url} is not JSON"))?;
    if body["status"] != "success" {
        anyhow::bail!(
            "{}: {}",
            body["errorType"].as_str().unwrap_or("error"),
            body["error"].as_str().unwrap_or("unknown error")
        );
    }
    Ok(body)
}

async fn run_query(args: QueryArgs) -> Result<()> {
    let (path, params, common): (&str, Vec<(&str, String)>, QueryCommon) = match args.range {
        Some(QueryRange::Range {
            expr,
            start,
            end,
            step,
            common,
        }) => (
            "/api/v1/query_range",
            vec![
                ("query", expr),
                ("start", start),
                ("end", end),
                ("step", step),
            ],
            common,
        ),
        None => {
            let Some(expr) = args.expr else {
                bail!("missing EXPR (see `sightline query --help`)")
            };
            let mut p = vec![("query", expr)];
            if let Some(t) = args.time {
                p.push(("time", t));
            }
            ("/api/v1/query", p, args.common)
        }
    };
    let body = api_call(
        &common.server,
        reqwest::Method::POST,
        path,
        &params,
        Duration::from_secs(130),
    )
    .await?;
    match common.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&body)?),
        OutputFormat::Table => print!("{}", table(&body["data"])),
    }
    for w in body["warnings"].as_array().into_iter().flatten() {
        eprintln!("warning: {}", w.as_str().unwrap_or_default());
    }
    Ok(())
}

fn metric(m: &Value) -> String {
    let Some(o) = m.as_object() else {
        return "{}".into();
    };
    let name = o.get("__name__").and_then(Value::as_str).unwrap_or("");
    let labels: Vec<String> = o
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default()))
        .collect();
    format!("{name}{{{}}}", labels.join(", "))
}

/// A native histogram of the HTTP API as Prometheus' `FloatHistogram.String` prints it:
/// `{count:4, sum:5, [-0.001,0.001]:1, (0.5,1]:1}`.
fn histogram_text(h: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut parts = vec![
        format!("count:{}", s(&h["count"])),
        format!("sum:{}", s(&h["sum"])),
    ];
    for b in h["buckets"].as_array().into_iter().flatten() {
        let rule = b[0].as_u64().unwrap_or(0);
        let open = if rule == 1 || rule == 3 { '[' } else { '(' };
        let close = if rule == 0 || rule == 3 { ']' } else { ')' };
        parts.push(format!(
            "{open}{},{}{close}:{}",
            s(&b[1]),
            s(&b[2]),
            s(&b[3])
        ));
    }
    format!("{{{}}}", parts.join(", "))
}

/// Renders a result: one line per series (`metric  value  @time`), ranges as `value @time`
/// pairs.
fn table(data: &Value) -> String {
    let mut out = String::new();
    let empty = Vec::new();
    match data["resultType"].as_str() {
        Some("vector") => {
            let rows: Vec<(String, String)> = data["result"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .map(|r| {
                    let v = match r.get("histogram") {
                        Some(h) => format!("{} @{}", histogram_text(&h[1]), h[0]),
                        None => format!(
                            "{} @{}",
                            r["value"][1].as_str().unwrap_or(""),
                            r["value"][0]
                        ),
                    };
                    (metric(&r["metric"]), v)
                })
                .collect();
            let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
            for (m, v) in rows {
                out.push_str(&format!("{m:<w$}  {v}\n"));
            }
        }
        Some("matrix") => {
            for r in data["result"].as_array().unwrap_or(&empty) {
                out.push_str(&metric(&r["metric"]));
                out.push('\n');
                // Floats and histograms in time order, as one list.
                let mut points: Vec<(f64, String, String)> = Vec::new();
                for p in r["values"].as_array().unwrap_or(&empty) {
                    let v = p[1].as_str().unwrap_or("").to_string();
                    points.push((p[0].as_f64().unwrap_or(0.0), p[0].to_string(), v));
                }
                for p in r["histograms"].as_array().unwrap_or(&empty) {
                    let v = histogram_text(&p[1]);
                    points.push((p[0].as_f64().unwrap_or(0.0), p[0].to_string(), v));
                }
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                for (_, t, v) in points {
                    out.push_str(&format!("  {v} @{t}\n"));
                }
            }
        }
        Some(_) => out.push_str(&format!(
            "{} @{}\n",
            data["result"][1].as_str().unwrap_or(""),
            data["result"][0]
        )),
        None => {}
    }
    if out.is_empty() {
        out.push_str("(empty result)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_show_native_histograms() {
        let h = serde_json::json!({"count":"4","sum":"5","buckets":[[3,"-0.001","0.001","1"],[0,"2","4","3"]]});
        let data = serde_json::json!({"resultType":"vector","result":[
            {"metric":{"__name__":"h"},"histogram":[1.5,h.clone()]}
        ]});
        assert_eq!(
            table(&data),
            "h{}  {count:4, sum:5, [-0.001,0.001]:1, (2,4]:3} @1.5\n"
        );
        let data = serde_json::json!({"resultType":"matrix","result":[
            {"metric":{"__name__":"h"},"values":[[2,"1"]],"histograms":[[1,h]]}
        ]});
        assert_eq!(
            table(&data),
            "h{}\n  {count:4, sum:5, [-0.001,0.001]:1, (2,4]:3} @1\n  1 @2\n"
        );
    }
}
