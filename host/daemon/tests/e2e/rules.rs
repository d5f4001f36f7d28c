//! Rules end to end (issue 15): the seed's alerts.yml, unchanged, on scraped data; the alert
//! goes pending, fires with its summary rendered, reaches a real Alertmanager 0.25 as
//! Prometheus 2.42 sends it (both run side by side on the same target and rules, their
//! pushes captured and compared), and resolves when the target comes back.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::am_support::{read_request, start_real_am, Peer};
use crate::support::*;

/// A loopback HTTP server: a scrape target that is healthy or answers 503, and a sink that
/// records every POST body by path.
struct Server {
    addr: String,
    healthy: Arc<AtomicBool>,
    posts: Arc<Mutex<Vec<(String, String)>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start() -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let healthy = Arc::new(AtomicBool::new(false));
        let posts = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, p, st) = (healthy.clone(), posts.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let Some((head, body)) = read_request(&mut s) else {
                    continue;
                };
                let body = String::from_utf8_lossy(&body).to_string();
                let mut parts = head.split_whitespace();
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let (status, out) = if method == "POST" {
                    p.lock().unwrap().push((path.to_string(), body));
                    ("200 OK", String::new())
                } else if h.load(Ordering::Relaxed) {
                    (
                        "200 OK",
                        "# TYPE app_requests_total counter\napp_requests_total 1\n".to_string(),
                    )
                } else {
                    ("503 Service Unavailable", "down\n".to_string())
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
                    out.len()
                );
            }
        });
        Server {
            addr,
            healthy,
            posts,
            stop,
        }
    }

    /// The JSON bodies POSTed to `path`, in order.
    fn bodies(&self, path: &str) -> Vec<Value> {
        self.posts
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .filter_map(|(_, b)| serde_json::from_str(b).ok())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The alerts of `alertname` in an API v2 push, with the fields Prometheus sends.
fn pushed(bodies: &[Value], alertname: &str) -> Vec<Value> {
    bodies
        .iter()
        .flat_map(|b| b.as_array().cloned().unwrap_or_default())
        .filter(|a| a["labels"]["alertname"] == alertname)
        .collect()
}

fn config(target: &str, alertmanagers: &[&str], rules: &str) -> String {
    let ams: Vec<String> = alertmanagers.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "global:\n  scrape_interval: 5s\n  evaluation_interval: 15s\n  external_labels:\n    monitor: seed\n\
rule_files:\n  - '{rules}'\n\
alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{}]\n\
scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{target}']\n",
        ams.join(", ")
    )
}

#[test]
fn seed_service_down_fires_reaches_alertmanager_and_resolves_as_prometheus() {
    need("prometheus");
    need("prometheus-alertmanager");
    let work = tempfile::tempdir().unwrap();
    let rules = work.path().join("alerts.yml");
    std::fs::copy(vendored("seed/alerts.yml"), &rules).unwrap();

    let target = Server::start();
    // Captures what each server pushes, and what Alertmanager's webhook delivers.
    let (sink_ours, sink_prom, webhook) = (Server::start(), Server::start(), Server::start());

    // A real Alertmanager 0.25, routing everything to a webhook with short timers.
    let am_port = free_port();
    let am_addr = format!("127.0.0.1:{am_port}");
    let am_cfg = work.path().join("alertmanager.yml");
    std::fs::write(
        &am_cfg,
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n\
receivers:\n  - name: hook\n    webhook_configs:\n      - url: 'http://{}/hook'\n        send_resolved: true\n",
            webhook.addr
        ),
    )
    .unwrap();
    let _am = start_real_am(&am_cfg, &work.path().join("am"), &am_addr);

    // Prometheus 2.42 and Sightline on the same target and rules.
    let prom_port = free_port();
    let prom_addr = format!("127.0.0.1:{prom_port}");
    let pcfg = work.path().join("prometheus.yml");
    std::fs::write(
        &pcfg,
        config(
            &target.addr,
            &[&sink_prom.addr],
            &rules.display().to_string(),
        ),
    )
    .unwrap();
    let _prom = Peer(
        Command::new("prometheus")
            .arg(format!("--config.file={}", pcfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                work.path().join("prom-data").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .arg(format!("--web.external-url=http://{prom_addr}/"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let ours = Daemon::start(
        Some(&config(
            &target.addr,
            &[&am_addr, &sink_ours.addr],
            &rules.display().to_string(),
        )),
        &[],
    );

    // Pending first (the group evaluates every 30 s; `for: 1m`).
    let pending = eventually(60, "ServiceDown pending in /api/v1/alerts", || {
        let v = ours.get_json("/api/v1/alerts");
        v["data"]["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "ServiceDown" && a["state"] == "pending")
            .cloned()
    });
    assert_eq!(pending["labels"]["job"], "app");
    assert_eq!(pending["labels"]["severity"], "page");
    // Then firing, with the summary rendered.
    let firing = eventually(120, "ServiceDown firing in /api/v1/alerts", || {
        let v = ours.get_json("/api/v1/alerts");
        v["data"]["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "ServiceDown" && a["state"] == "firing")
            .cloned()
    });
    assert_eq!(firing["annotations"]["summary"], "app down", "{firing}");
    // The real Alertmanager has it, and delivered it through its webhook.
    let in_am = eventually(30, "ServiceDown in Alertmanager's /api/v2/alerts", || {
        let (code, body) = http_get(&am_addr, "/api/v2/alerts").ok()?;
        let v: Value = serde_json::from_str(&body).ok()?;
        (code == 200).then_some(())?;
        v.as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "ServiceDown")
            .cloned()
    });
    assert_eq!(
        in_am["labels"]["monitor"], "seed",
        "external labels: {in_am}"
    );
    assert_eq!(in_am["annotations"]["summary"], "app down");
    assert_eq!(in_am["status"]["state"], "active");
    eventually(30, "Alertmanager's webhook notification", || {
        let hooks = webhook.bodies("/hook");
        hooks
            .iter()
            .find(|h| h["status"] == "firing" && h["commonLabels"]["alertname"] == "ServiceDown")
            .cloned()
    });

    // What Prometheus 2.42 pushed for the same alert, compared field by field.
    let prom_push = eventually(120, "Prometheus to push ServiceDown", || {
        pushed(&sink_prom.bodies("/api/v2/alerts"), "ServiceDown")
            .into_iter()
            .next()
    });
    let our_push = pushed(&sink_ours.bodies("/api/v2/alerts"), "ServiceDown")
        .into_iter()
        .next()
        .expect("Sightline pushed ServiceDown");
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&our_push),
        keys(&prom_push),
        "ours {our_push}\nprometheus {prom_push}"
    );
    let mut ours_labels = our_push["labels"].clone();
    let mut prom_labels = prom_push["labels"].clone();
    // The target's address is the same; nothing else may differ.
    ours_labels.as_object_mut().unwrap().remove("instance");
    prom_labels.as_object_mut().unwrap().remove("instance");
    assert_eq!(ours_labels, prom_labels);
    assert_eq!(our_push["annotations"], prom_push["annotations"]);
    let path_query = |u: &Value| {
        let s = u.as_str().unwrap_or("");
        s.find("/graph")
            .map(|i| s[i..].to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        path_query(&our_push["generatorURL"]),
        path_query(&prom_push["generatorURL"])
    );
    // endsAt of a firing alert: 4 × max(resend delay 1m, interval 30s) after it was sent.
    let t = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    for p in [&our_push, &prom_push] {
        let lifetime = t(&p["endsAt"]) - t(&p["startsAt"]);
        assert!(
            (4 * 60_000..=4 * 60_000 + 60_000).contains(&lifetime),
            "endsAt - startsAt = {lifetime} ms in {p}"
        );
    }

    // The target comes back: the alert resolves, and the resolution reaches Alertmanager.
    target.healthy.store(true, Ordering::Relaxed);
    eventually(90, "ServiceDown gone from /api/v1/alerts", || {
        let v = ours.get_json("/api/v1/alerts");
        let still = v["data"]["alerts"]
            .as_array()?
            .iter()
            .any(|a| a["labels"]["alertname"] == "ServiceDown" && a["state"] != "inactive");
        (!still).then_some(())
    });
    let resolved = eventually(60, "a resolved ServiceDown push", || {
        pushed(&sink_ours.bodies("/api/v2/alerts"), "ServiceDown")
            .into_iter()
            .find(|a| t(&a["endsAt"]) <= sightline_model::now_ms())
    });
    assert!(t(&resolved["endsAt"]) > t(&resolved["startsAt"]));
    eventually(60, "Alertmanager's resolved webhook notification", || {
        webhook
            .bodies("/hook")
            .iter()
            .find(|h| h["status"] == "resolved" && h["commonLabels"]["alertname"] == "ServiceDown")
            .cloned()
    });
}

/// Exit code of `cmd args...` run in `dir`, with its output.
fn run_in(dir: &std::path::Path, cmd: &str, args: &[String]) -> (i32, String) {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {cmd}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Prometheus' promtool fixtures (vendored from its testdata), each run as Prometheus' own
/// tests run it, against the outcome those tests expect (`expectations.yml` says why).
#[test]
fn conformance_promtool_fixtures_give_promtools_exit_codes() {
    need("promtool");
    let dir = vendored("conformance/promtool");
    let text = std::fs::read_to_string(dir.join("expectations.yml")).unwrap();
    let cases: Vec<serde_json::Value> = serde_yaml::from_str(&text).unwrap();
    let (mut passed, mut total, mut promtool_agree, mut promtool_total) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for c in &cases {
        let command: Vec<String> = c["command"]
            .as_str()
            .unwrap()
            .split(' ')
            .map(String::from)
            .collect();
        let mut args = command.clone();
        for a in c["args"].as_array().into_iter().flatten() {
            args.push(a.as_str().unwrap().to_string());
        }
        for f in c["files"].as_array().unwrap() {
            args.push(f.as_str().unwrap().to_string());
        }
        let want = c["exit"].as_i64().unwrap() as i32;
        if let Some(why) = c["skip"].as_str() {
            println!("skip  {}: {why}", args.join(" "));
            continue;
        }
        total += 1;
        let (got, out) = run_in(&dir, BIN, &args);
        match c["divergence"].as_str() {
            Some(why) => {
                println!(
                    "diverges  sightline {} -> {got} (Prometheus {want}): {why}",
                    args.join(" ")
                );
                if got == want {
                    failures.push(format!(
                        "{}: now gives Prometheus' exit code {want}; remove the divergence note",
                        args.join(" ")
                    ));
                }
            }
            None if got == want => passed += 1,
            None => failures.push(format!(
                "sightline {}: exit {got}, want {want} ({})\n{out}",
                args.join(" "),
                c["source"].as_str().unwrap_or("")
            )),
        }
        if let Some(p) = c["promtool242"].as_i64() {
            promtool_total += 1;
            let (pgot, pout) = run_in(&dir, "promtool", &args);
            if pgot == p as i32 {
                promtool_agree += 1;
            } else {
                failures.push(format!(
                    "promtool {}: exit {pgot}, expectations.yml says {p}\n{pout}",
                    args.join(" ")
                ));
            }
        }
    }
    println!("promtool fixtures: sightline gives Prometheus' outcome for {passed}/{total}; promtool 2.42 matches its recorded outcome for {promtool_agree}/{promtool_total}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The side-by-side rule unit tests (`tests/rules/side-by-side`): promtool 2.42 and
/// `sightline test rules` must agree on every file (pass or fail).
#[test]
fn conformance_rule_unit_tests_agree_with_promtool_242() {
    need("promtool");
    let dir = vendored("rules/side-by-side");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.as_bytes().first().is_some_and(u8::is_ascii_digit) && n.ends_with(".yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "only {} side-by-side tests", files.len());
    let (mut ours_pass, mut prom_pass) = (0, 0);
    let mut disagree = Vec::new();
    for f in &files {
        let args = vec!["test".to_string(), "rules".to_string(), f.clone()];
        let (ours, out) = run_in(&dir, BIN, &args);
        let (prom, pout) = run_in(&dir, "promtool", &args);
        ours_pass += usize::from(ours == 0);
        prom_pass += usize::from(prom == 0);
        if ours != prom {
            disagree.push(format!(
                "{f}: sightline exit {ours}, promtool exit {prom}\n--- sightline\n{out}\n--- promtool\n{pout}"
            ));
        }
    }
    println!(
        "side-by-side rule unit tests: promtool 2.42 passes {prom_pass}/{n}, sightline passes {ours_pass}/{n}",
        n = files.len()
    );
    assert!(disagree.is_empty(), "{}", disagree.join("\n\n"));
}

/// Raw sample timestamps (ms) of `series` over the last `range`.
fn sample_times(d: &Daemon, series: &str, range: &str) -> Vec<i64> {
    let v = d.get_json(&format!(
        "/api/v1/query?query={}",
        urlencode(&format!("{series}[{range}]"))
    ));
    v["data"]["result"][0]["values"]
        .as_array()
        .map(|vals| {
            vals.iter()
                .map(|p| (p[0].as_f64().unwrap() * 1000.0).round() as i64)
                .collect()
        })
        .unwrap_or_default()
}

/// Runs a 1 s recording rule, stops the daemon for ~6 s and starts it again on the same
/// data; returns the recorded series' sample times around the outage.
fn restart_gap(extra: &[&str]) -> Vec<i64> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n  - name: steady\n    interval: 1s\n    rules:\n      - record: steady_one\n        expr: vector(1)\n",
    )
    .unwrap();
    let cfg = format!(
        "rule_files: ['{}']\nscrape_configs: []\n",
        dir.path().join("rules.yml").display()
    );
    let d = Daemon::start_in(dir, Some(&cfg), extra);
    eventually(30, "a few evaluations", || {
        (sample_times(&d, "steady_one", "1m").len() >= 3).then_some(())
    });
    let dir = d.stop();
    std::thread::sleep(Duration::from_secs(6));
    let d = Daemon::start_in(dir, Some(&cfg), extra);
    eventually(30, "evaluations after the restart", || {
        let t = sample_times(&d, "steady_one", "1m");
        let last = *t.last()?;
        (last >= sightline_model::now_ms() - 2_000 && t.len() >= 12).then_some(())
    });
    sample_times(&d, "steady_one", "1m")
}

/// Beyond Prometheus (prometheus#18073): after a restart each group evaluates the iterations
/// it missed, so a recording rule has no hole; with `--rules.catch-up-window=0` (Prometheus'
/// behaviour) the hole is there.
#[test]
fn restart_leaves_no_gap_in_a_recording_rule() {
    let times = restart_gap(&[]);
    let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| *g == 1_000),
        "recorded samples are not 1 s apart across the restart: steps {gaps:?}"
    );
    let times = restart_gap(&["--rules.catch-up-window=0"]);
    let widest = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    assert!(
        widest >= 5_000,
        "without catch-up the outage must show as a gap; widest step {widest} ms"
    );
}

/// A daemon that scrapes a healthy target every second for a while, then gets a rule file
/// with a recording rule on `up` by a reload; returns it with the time of the reload.
fn scraped_then_rule_added(extra: &[&str]) -> (Daemon, i64, Server) {
    let target = Server::start();
    target.healthy.store(true, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    let cfg = |with_rules: bool| {
        let rf = if with_rules {
            format!("rule_files: ['{}']\n", rules.display())
        } else {
            String::new()
        };
        format!(
            "global:\n  scrape_interval: 1s\n{rf}scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{}']\n",
            target.addr
        )
    };
    std::fs::write(
        &rules,
        "groups:\n  - name: counts\n    interval: 1s\n    rules:\n      - record: job:up:count\n        expr: count by (job) (up)\n",
    )
    .unwrap();
    let mut args = vec!["--web.enable-lifecycle", "--web.enable-admin-api"];
    args.extend_from_slice(extra);
    let d = Daemon::start_in(dir, Some(&cfg(false)), &args);
    std::thread::sleep(Duration::from_secs(8));
    std::fs::write(d.config_path(), cfg(true)).unwrap();
    let reload_at = sightline_model::now_ms();
    let (code, body) = http_request(&d.addr, "POST", "/-/reload", &[], b"").unwrap();
    assert_eq!(code, 200, "{body}");
    (d, reload_at, target)
}

/// Beyond Prometheus (prometheus#4357): a recording rule added to a running server gets its
/// history, online: automatically on reload with `--rules.backfill-new-rules`, or on demand
/// with `sightline rules backfill` — on the rule's own 1 s grid, with no duplicate samples.
#[test]
fn recording_rules_are_backfilled_over_history() {
    for auto in [true, false] {
        let extra: &[&str] = if auto {
            &["--rules.backfill-new-rules=1m"]
        } else {
            &[]
        };
        let (d, reload_at, _target) = scraped_then_rule_added(extra);
        if !auto {
            // Let the rule evaluate live first; the backfill stops where that begins.
            eventually(30, "live evaluations of the new rule", || {
                (sample_times(&d, "job:up:count", "1m").len() >= 2).then_some(())
            });
            assert!(
                sample_times(&d, "job:up:count", "1m")[0] >= reload_at,
                "without the flag nothing is backfilled on reload"
            );
            let out = Command::new(BIN)
                .args(["rules", "backfill", "--server"])
                .arg(format!("http://{}", d.addr))
                .args(["--start", &format!("{}", (reload_at - 60_000) / 1000)])
                .args(["--rule", "job:up:count"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(
                out.status.success(),
                "{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(text.contains("job:up:count"), "{text}");
        }
        let times = eventually(30, "backfilled history of the new rule", || {
            let t = sample_times(&d, "job:up:count", "1m");
            (t.first().is_some_and(|f| *f < reload_at - 5_000)
                && t.last().is_some_and(|l| *l > reload_at))
            .then_some(t)
        });
        let steps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            steps.iter().all(|s| *s == 1_000),
            "backfilled and live samples are on one 1 s grid without duplicates (auto={auto}): {steps:?}"
        );
        let v = d.get_json(&format!(
            "/api/v1/query?query={}&time={}",
            urlencode("job:up:count"),
            (reload_at - 3_000) as f64 / 1000.0
        ));
        assert_eq!(v["data"]["result"][0]["value"][1], "1", "{v}");
    }
}

/// `/api/v1/rules` filters as current Prometheus, on the embedded default rules.
#[test]
fn rules_api_filters() {
    let d = Daemon::start(None, &[]);
    let get = |q: &str| d.get_json(&format!("/api/v1/rules{q}"));
    let all = get("");
    let groups = all["data"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{all}");
    assert_eq!(groups[0]["file"], "<embedded default rules>");
    let types = |v: &Value| -> Vec<String> {
        v["data"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap().iter())
            .map(|r| r["type"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(types(&get("?type=alert")).iter().all(|t| t == "alerting"));
    assert!(types(&get("?type=record")).iter().all(|t| t == "recording"));
    assert_eq!(types(&get("?type=record")).len(), 2);
    let one = get("?rule_name[]=ServiceDown&exclude_alerts=true");
    let rules = one["data"]["groups"][0]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{one}");
    assert_eq!(rules[0]["name"], "ServiceDown");
    assert!(rules[0].get("alerts").is_none(), "exclude_alerts: {one}");
    assert_eq!(rules[0]["duration"], 60.0);
    assert!(get("?file[]=nope")["data"]["groups"]
        .as_array()
        .unwrap()
        .is_empty());
    let (code, body) = http_get(&d.addr, "/api/v1/rules?type=bogus").unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("bad_data"), "{body}");
    let alerts = d.get_json("/api/v1/alerts");
    assert!(alerts["data"]["alerts"].is_array(), "{alerts}");
}
