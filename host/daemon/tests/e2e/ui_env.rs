//! The web UI tests' world: one `sightline serve` scraping real targets — itself, the
//! benchmark targets (`tests/tools/targets.py`: `http_requests_total`,
//! `http_request_duration_seconds_bucket`, `http_requests_active`, the seed dashboard's
//! metrics) and a target that is down (a closed loopback port) — with rules whose alerts fire
//! at once (one `severity: critical`, one `severity: warning`), the built-in alert manager
//! sending to a local webhook sink, and the first-party "Service Health" dashboard plugin.
//! Plus the helpers the tests share: opening a view and waiting for its `data-state`.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use sightline_tests::chromium::Page;

use crate::am_support::Sink;
use crate::sidebyside::Proc;
use crate::support::*;

/// The critical alert: the down target.
pub(crate) const CRITICAL: &str = "UiTargetDown";
/// The warning alert: the app has active requests (always, while it is scraped).
pub(crate) const WARNING: &str = "UiAppBusy";
/// The first-party dashboard plugin's uid.
pub(crate) const PLUGIN_DASHBOARD: &str = "sightline-service-health";

/// How long a view may take to become ready (a loaded 2-core CI machine included).
pub(crate) const VIEW_TIMEOUT: Duration = Duration::from_secs(20);

/// The UI tests run one at a time: each has its own daemon and browser, and the page-load
/// budget is measured without another test's Chromium competing for the CPU.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) struct UiEnv {
    pub(crate) d: Daemon,
    pub(crate) sink: Sink,
    /// The app target (`targets.py`, target 0) and the down one, as scrape URLs.
    pub(crate) app_url: String,
    pub(crate) down_url: String,
    pub(crate) self_url: String,
    /// Where the UI is: the daemon itself.
    base: String,
    _targets: Proc,
}

impl UiEnv {
    /// Starts the world with `targets` benchmark targets of `series` series each, and waits
    /// until every target was scraped, both alerts fire and `rate()` has data.
    pub(crate) fn start(targets: usize, series: usize) -> UiEnv {
        let (targets_proc, taddr) = bench_targets(targets, series, 900);
        let sink = Sink::start();
        let down = format!("127.0.0.1:{}", free_port());

        let dir = tempfile::tempdir().unwrap();
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        // The seed's dashboard as a plugin, and the receiver of `webhook_configs`.
        for name in ["dashboard-service-health", "webhook"] {
            crate::support::install_first_party(&plugins, name);
        }
        let rules = dir.path().join("ui-rules.yml");
        std::fs::write(
            &rules,
            format!(
                "groups:\n  - name: ui\n    interval: 1s\n    rules:\n\
                 \x20     - alert: {CRITICAL}\n        expr: up{{job=\"down\"}} == 0\n        for: 0s\n\
                 \x20       labels:\n          severity: critical\n\
                 \x20       annotations:\n          summary: '{{{{ $labels.instance }}}} is down'\n\
                 \x20     - alert: {WARNING}\n        expr: count(http_requests_active) > 0\n        for: 0s\n\
                 \x20       labels:\n          severity: warning\n\
                 \x20       annotations:\n          summary: the app has active requests\n\
                 \x20     - record: job:http_requests:rate1m\n        expr: sum by (job) (rate(http_requests_total[1m]))\n"
            ),
        )
        .unwrap();
        let am = dir.path().join("alertmanager.yml");
        std::fs::write(
            &am,
            format!(
                "route:\n  receiver: sink\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n\
                 receivers:\n  - name: sink\n    webhook_configs:\n      - url: 'http://{}/hook'\n",
                sink.addr
            ),
        )
        .unwrap();
        let mut apps = String::new();
        for i in 0..targets {
            apps.push_str(&format!(
                "      - targets: ['{taddr}']\n        labels: {{__metrics_path__: /metrics/{i}, instance: 'app-{i}'}}\n"
            ));
        }
        let rules_path = rules.display().to_string();
        let d = Daemon::start_with_own_addr(
            dir,
            |addr| {
                format!(
                    "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                     rule_files: ['{rules_path}']\n\
                     scrape_configs:\n\
                     \x20 - job_name: sightline\n    static_configs:\n      - targets: ['{addr}']\n\
                     \x20 - job_name: app\n    static_configs:\n{apps}\
                     \x20 - job_name: down\n    static_configs:\n      - targets: ['{down}']\n\
                     remote_write:\n\
                     \x20 - url: http://{down}/api/v1/write\n    name: central\n"
                )
            },
            &[
                &format!("--alertmanager.config.file={}", am.display()),
                "--log.level=warn",
            ],
            &[],
        );
        let env = UiEnv {
            app_url: format!("http://{taddr}/metrics/0"),
            down_url: format!("http://{down}/metrics"),
            self_url: format!("http://{}/metrics", d.addr),
            base: format!("http://{}/", d.addr),
            d,
            sink,
            _targets: targets_proc,
        };
        env.wait_settled(targets + 2);
        env
    }

    /// Waits until `n` targets were scraped, both alerts fire and `rate()` has data.
    fn wait_settled(&self, n: usize) {
        eventually(30, "every target scraped once", || {
            let v = self.d.get_json("/api/v1/targets");
            let t = v["data"]["activeTargets"].as_array()?.clone();
            (t.len() == n && t.iter().all(|t| t["health"] != "unknown")).then_some(())
        });
        eventually(30, "both alerts firing in the alert manager", || {
            let v = self.d.get_json("/api/v2/alerts");
            let names: Vec<&str> = v
                .as_array()?
                .iter()
                .filter_map(|a| a["labels"]["alertname"].as_str())
                .collect();
            (names.contains(&CRITICAL) && names.contains(&WARNING)).then_some(())
        });
        eventually(30, "rate(http_requests_total[5m]) to have data", || {
            let v = self.query("rate(http_requests_total[5m])");
            (!v["data"]["result"].as_array()?.is_empty()).then_some(())
        });
    }

    /// Waits (at most 90 s) until range queries of the app's request rate and of the seed's
    /// error ratio at `step_s`, their range aligned to the step as Grafana aligns it, have a
    /// number at the range's end: a dashboard at that step then has data to draw. The error
    /// ratio is 0/0 (NaN, no point drawn) until one of the slow 5xx counters has moved
    /// inside its 5-minute window, which a freshly started target may take a while to do;
    /// once it has, it stays a number for the window's length.
    pub(crate) fn wait_range_data(&self, step_s: i64) {
        let exprs = [
            "rate(http_requests_total[5m])",
            "rate(http_requests_total{status=~'5..'}[5m]) / rate(http_requests_total[5m])",
        ];
        eventually(
            90,
            &format!("request and error rates at a {step_s}s step"),
            || {
                let end = sightline_model::now_ms() / 1000 / step_s * step_s;
                exprs
                    .iter()
                    .all(|q| {
                        let v = self.d.get_json(&format!(
                            "/api/v1/query_range?query={}&start={}&end={end}&step={step_s}",
                            urlencode(q),
                            end - 10 * step_s
                        ));
                        v["data"]["result"].as_array().is_some_and(|series| {
                            series.iter().any(|s| {
                                s["values"]
                                    .as_array()
                                    .and_then(|v| v.last())
                                    .is_some_and(|p| {
                                        p[0].as_f64() == Some(end as f64)
                                            && p[1].as_str().is_some_and(|x| x != "NaN")
                                    })
                            })
                        })
                    })
                    .then_some(())
            },
        );
    }

    /// `http://<daemon>/<route>`: the UI's routes are relative to the root here.
    pub(crate) fn url(&self, route: &str) -> String {
        format!("{}{route}", self.base)
    }

    pub(crate) fn query(&self, expr: &str) -> Value {
        self.d
            .get_json(&format!("/api/v1/query?query={}", urlencode(expr)))
    }

    /// The seed's setup script against this daemon (`/api/health`, `/api/datasources`,
    /// `/api/dashboards/db` with the seed's dashboard JSON, as its `curl`s send them, basic
    /// auth included), returning the new dashboard's uid.
    pub(crate) fn run_seed_setup(&self) -> String {
        let auth = [
            ("Content-Type", "application/json"),
            // curl's `http://admin:changeme@...`.
            ("Authorization", "Basic YWRtaW46Y2hhbmdlbWU="),
        ];
        let (code, body) = http_get(&self.d.addr, "/api/health").unwrap();
        assert_eq!(code, 200, "/api/health: {body}");
        let ds = r#"{
    "name": "Prometheus",
    "type": "prometheus",
    "url": "http://prometheus:9090",
    "access": "proxy",
    "isDefault": true
  }"#;
        let (code, body) = http_request(
            &self.d.addr,
            "POST",
            "/api/datasources",
            &auth,
            ds.as_bytes(),
        )
        .unwrap();
        assert_eq!(code, 200, "POST /api/datasources: {body}");
        let (code, body) = http_request(
            &self.d.addr,
            "POST",
            "/api/dashboards/db",
            &auth,
            seed_dashboard_json().as_bytes(),
        )
        .unwrap();
        assert_eq!(code, 200, "POST /api/dashboards/db: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["uid"]
            .as_str()
            .unwrap_or_else(|| panic!("no uid in {v}"))
            .to_string()
    }
}

/// The seed's "Essential Dashboard" JSON (`dashboard.json` of its setup script), as the web
/// crate's tests keep it (`host/web/tests/data/service-health.json`); checked to be the seed
/// document's block.
pub(crate) fn seed_dashboard_json() -> String {
    let file = sightline_tests::repo_root().join("host/web/tests/data/service-health.json");
    let json = std::fs::read_to_string(&file).unwrap();
    let seed = std::fs::read_to_string(vendored("seed/monitoring-setup.md")).unwrap();
    let (_, rest) = seed
        .split_once("### Essential Dashboard\n```json\n")
        .expect("the seed's Essential Dashboard block");
    let (block, _) = rest.split_once("\n```").unwrap();
    let (a, b): (Value, Value) = (
        serde_json::from_str(&json).unwrap(),
        serde_json::from_str(block).unwrap(),
    );
    assert_eq!(a, b, "{} is not the seed's dashboard", file.display());
    json
}

/// The seed dashboard's panel titles, in order.
pub(crate) const SEED_PANELS: [&str; 4] = [
    "Request Rate",
    "Error Rate",
    "p95 Latency",
    "Active Connections",
];

/// `s` as a JavaScript string literal (for selectors built into test conditions).
pub(crate) fn js(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The JavaScript condition "the view `name` has finished rendering (ready or error)".
fn settled(name: &str) -> String {
    format!(
        "(v => !!v && v.dataset.view === {} && ['ready', 'error'].includes(v.dataset.state))(document.querySelector('main#view'))",
        js(name)
    )
}

/// Fails the test with `msg`, after saving what the page shows as
/// `target/ui-screenshots/failed-<what>.png` (a CI artifact to look at).
pub(crate) fn fail(page: &mut Page<'_>, what: &str, msg: String) -> ! {
    let name: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(60)
        .collect();
    let shot = match page.screenshot(&format!("failed-{name}")) {
        Ok(p) => p.display().to_string(),
        Err(e) => format!("no screenshot: {e}"),
    };
    panic!("{msg}\n  screenshot: {shot}");
}

/// Waits for the current view to be `name` and ready; fails with the view's text when it is
/// in `error`.
pub(crate) fn wait_view(page: &mut Page<'_>, name: &str) {
    if let Err(e) = page.wait_for(&settled(name), VIEW_TIMEOUT) {
        fail(page, name, format!("view {name:?}: {e}"));
    }
    let state: String = page
        .eval("document.querySelector('main#view').dataset.state")
        .unwrap();
    if state != "ready" {
        let text: String = page
            .eval("document.querySelector('main#view').innerText")
            .unwrap();
        fail(
            page,
            name,
            format!("view {name:?} is in state {state}: {text}"),
        );
    }
}

/// Navigates to `route` and waits for the view `name` to be ready; returns the time to
/// network idle.
pub(crate) fn open(page: &mut Page<'_>, env: &UiEnv, route: &str, name: &str) -> Duration {
    let t = page
        .goto(&env.url(route))
        .unwrap_or_else(|e| panic!("{route}: {e}"));
    wait_view(page, name);
    t
}

/// Waits (bounded) until `selector` matches an element; fails with the page's state.
pub(crate) fn wait_el(page: &mut Page<'_>, selector: &str) {
    if let Err(e) = page.wait_for(
        &format!("document.querySelector({})", js(selector)),
        VIEW_TIMEOUT,
    ) {
        fail(page, selector, e.to_string());
    }
}

/// An attribute of the first element matching `selector` (None when absent).
pub(crate) fn attr(page: &mut Page<'_>, selector: &str, name: &str) -> Option<String> {
    page.eval(&format!(
        "(el => el ? el.getAttribute({}) : null)(document.querySelector({}))",
        js(name),
        js(selector)
    ))
    .unwrap()
}

/// The visible text of the first element matching `selector` ("" when absent).
pub(crate) fn text(page: &mut Page<'_>, selector: &str) -> String {
    page.eval(&format!(
        "(el => el ? el.innerText : '')(document.querySelector({}))",
        js(selector)
    ))
    .unwrap()
}

/// Saves a screenshot and fails on any console error so far, naming the step.
pub(crate) fn checkpoint(page: &mut Page<'_>, shot: &str) {
    page.screenshot(shot)
        .unwrap_or_else(|e| panic!("screenshot {shot}: {e}"));
    page.assert_no_console_errors()
        .unwrap_or_else(|e| panic!("{shot}: {e}"));
}
