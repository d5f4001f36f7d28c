//! `sightline alerts routes show|test` (`amtool config routes` on an alertmanager.yml or a
//! running server's), `sightline alerts history` and `sightline alerts ack`.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::cli::{AlertsCommand, OutputFormat, QueryCommon, RoutesCommand};
use crate::tools::run_client;

pub(crate) fn run(cmd: AlertsCommand) -> ExitCode {
    match cmd {
        AlertsCommand::Routes {
            command,
            config_file,
            server,
        } => routes(command, config_file, &server),
        AlertsCommand::History {
            receiver,
            group_key,
            filter,
            since,
            failed,
            limit,
            common,
        } => {
            let mut params: Vec<(&str, String)> = vec![("limit", limit.to_string())];
            if let Some(r) = receiver {
                params.push(("receiver", r));
            }
            if let Some(g) = group_key {
                params.push(("groupKey", g));
            }
            for f in filter {
                params.push(("filter", f));
            }
            if let Some(d) = since {
                let t = sightline_model::now_ms() - d.as_millis() as i64;
                params.push(("since", format!("{:.3}", t as f64 / 1000.0)));
            }
            if failed {
                params.push(("failed", "true".into()));
            }
            run_client(history(params, common))
        }
        AlertsCommand::Ack {
            fingerprint,
            author,
            comment,
            common,
        } => run_client(ack(fingerprint, author, comment, common)),
    }
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .no_proxy()
        .build()?)
}

/// The JSON of an Alertmanager API answer; a non-2xx status is an error with its body.
async fn answer(resp: reqwest::Response, url: &str) -> Result<Value> {
    let status = resp.status();
    let bytes = resp.bytes().await?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        bail!("{url}: {status}: {}", text.trim());
    }
    serde_json::from_slice(&bytes).with_context(|| format!("the answer of {url} is not JSON"))
}

async fn history(params: Vec<(&str, String)>, common: QueryCommon) -> Result<()> {
    let url = format!(
        "{}/api/v2/notifications",
        common.server.trim_end_matches('/')
    );
    let resp = client()?
        .get(&url)
        .query(&params)
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let v = answer(resp, &url).await?;
    if common.output == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let rows = v.as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        println!("no notifications");
        return Ok(());
    }
    println!(
        "{:<24}  {:<16}  {:<12}  {:<8}  {:>6}  GROUP",
        "TIME", "RECEIVER", "INTEGRATION", "STATUS", "ALERTS"
    );
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        let status = if r["error"].is_string() {
            format!("failed: {}", s("error"))
        } else {
            s("status")
        };
        println!(
            "{:<24}  {:<16}  {:<12}  {:<8}  {:>6}  {}",
            s("time"),
            s("receiver"),
            format!("{}[{}]", s("integration"), r["index"]),
            status,
            r["alerts"].as_array().map(Vec::len).unwrap_or(0),
            s("groupKey"),
        );
    }
    Ok(())
}

async fn ack(
    fingerprint: String,
    author: String,
    comment: String,
    common: QueryCommon,
) -> Result<()> {
    let url = format!(
        "{}/api/v2/alerts/{fingerprint}/ack",
        common.server.trim_end_matches('/')
    );
    let resp = client()?
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(serde_json::json!({"createdBy": author, "comment": comment}).to_string())
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let v = answer(resp, &url).await?;
    match common.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&v)?),
        OutputFormat::Table => println!(
            "acknowledged {fingerprint}: silence {}",
            v["silenceID"].as_str().unwrap_or("?")
        ),
    }
    Ok(())
}

/// The alertmanager.yml text of a running server (`GET /api/v2/status`).
async fn server_config(server: &str) -> Result<String> {
    let url = format!("{}/api/v2/status", server.trim_end_matches('/'));
    let resp = client()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let v = answer(resp, &url).await?;
    v["config"]["original"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{url}: no config.original in the answer"))
}

fn routes(
    command: Option<RoutesCommand>,
    config_file: Option<std::path::PathBuf>,
    server: &str,
) -> ExitCode {
    let cfg = match config_file {
        Some(file) => sightline_alerts::load_file(&file).map_err(|e| e.to_string()),
        None => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let text = match rt {
                Ok(rt) => rt.block_on(server_config(server)),
                Err(e) => Err(e.into()),
            };
            match text {
                Ok(t) => {
                    sightline_alerts::load_str(&t, "alertmanager.yml", &|k| std::env::var(k).ok())
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(format!("{e:#}")),
            }
        }
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sightline: error: {e}");
            return ExitCode::from(1);
        }
    };
    let tree = sightline_alerts::RouteTree::new(&cfg.route);
    match command.unwrap_or(RoutesCommand::Show) {
        RoutesCommand::Show => {
            print!("{}", sightline_alerts::routes_show(&tree));
            ExitCode::SUCCESS
        }
        RoutesCommand::Test {
            verify_receivers,
            tree: show_tree,
            labels,
        } => {
            let out = sightline_alerts::routes_test(
                &tree,
                &labels,
                verify_receivers.as_deref(),
                show_tree,
            );
            print!("{}", out.stdout);
            if !out.stderr.is_empty() {
                eprint!("sightline: error: {}", out.stderr);
            }
            ExitCode::from(out.code)
        }
    }
}
