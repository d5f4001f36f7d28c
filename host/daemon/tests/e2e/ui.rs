//! The web UI in real headless Chromium (issue 18), driven through `sightline_tests::chromium`
//! against a daemon scraping real targets (`ui_env.rs`), by the test hooks of the UI
//! contract (`data-view`, `data-state`, `data-tile`, `data-target`, `data-alert`, ...): the
//! home page says what is broken, a down target is shown down, a firing alert is listed with
//! its severity, a silence created in the UI mutes it, dashboards draw their panels with data
//! points, every view loads without a console error, and home and the seed dashboard load
//! within a budget. Each view's screenshot is saved under `target/ui-screenshots/`.
//!
//! Every test fails on any console error or uncaught exception. Chromium is Debian's
//! `chromium` (`./dev test` and `.ci/run` install it); without it the tests fail by name.

use std::time::{Duration, Instant};

use serde_json::Value;
use sightline_tests::chromium::{Browser, Page};

use crate::support::*;
use crate::ui_env::*;

/// The alert element of `name` on the alerts view.
fn alert_sel(name: &str) -> String {
    format!("[data-alert][data-alertname=\"{name}\"]")
}

#[test]
fn ui_home_targets_and_alerts_show_what_is_broken() {
    let _serial = serial();
    let env = UiEnv::start(1, 150);
    let browser = Browser::launch().unwrap();
    let mut page = browser.page().unwrap();

    // Home: the targets tile is not ok (one target is down); the alerts tile counts the
    // firing alerts by severity; every tile links to its view.
    open(&mut page, &env, "", "home");
    for tile in ["targets", "alerts"] {
        wait_el(
            &mut page,
            &format!("section[data-tile={tile}][data-status]"),
        );
    }
    let targets = attr(&mut page, "section[data-tile=targets]", "data-status").unwrap();
    assert!(
        ["warn", "crit"].contains(&targets.as_str()),
        "targets tile with a target down: {targets:?}; {}",
        text(&mut page, "section[data-tile=targets]")
    );
    for sev in ["critical", "warning"] {
        let sel = format!("section[data-tile=alerts] [data-severity={sev}][data-count]");
        wait_el(&mut page, &sel);
        let n: u64 = attr(&mut page, &sel, "data-count")
            .unwrap()
            .parse()
            .unwrap();
        assert!(n >= 1, "{sev}: {n} firing");
    }
    let tiles: Vec<(String, String, bool)> = page
        .eval(
            "[...document.querySelectorAll('section[data-tile]')].map(s => \
             [s.dataset.tile, s.dataset.status, !!s.querySelector('a[href]')])",
        )
        .unwrap();
    for (tile, status, link) in &tiles {
        assert!(
            ["ok", "warn", "crit", "unknown", "off"].contains(&status.as_str()),
            "tile {tile}: data-status {status:?}"
        );
        assert!(link, "tile {tile} links to its view");
    }
    let names: Vec<&str> = tiles.iter().map(|t| t.0.as_str()).collect();
    for want in [
        "targets", "alerts", "slos", "rules", "plugins", "storage", "ingest", "remote",
    ] {
        assert!(names.contains(&want), "no {want} tile in {names:?}");
    }
    // The remote_write queue points at a closed port and has never delivered: a problem,
    // named, with the connection error.
    page.wait_for(
        "document.querySelector('section[data-tile=remote][data-status=crit] li[data-queue=central][data-status=crit]')",
        Duration::from_secs(20),
    )
    .unwrap_or_else(|e| {
        panic!(
            "remote write tile: {e}; {}",
            text(&mut page, "section[data-tile=remote]")
        )
    });
    checkpoint(&mut page, "home");

    // The targets tile's link leads to the targets view, in the page (no reload).
    page.eval::<Value>("window.__sameDocument = true").unwrap();
    page.click("section[data-tile=targets] a[href]").unwrap();
    wait_view(&mut page, "targets");
    let same: bool = page.eval("window.__sameDocument === true").unwrap();
    assert!(same, "the tile's link reloaded the page instead of routing");

    // Targets: the down one is down with its error, the others up.
    let down = format!("tr[data-target=\"{}\"]", env.down_url);
    wait_el(&mut page, &down);
    assert_eq!(
        attr(&mut page, &down, "data-health").as_deref(),
        Some("down")
    );
    let api = env.d.get_json("/api/v1/targets");
    let err = api["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scrapeUrl"] == env.down_url.as_str())
        .and_then(|t| t["lastError"].as_str())
        .unwrap()
        .to_string();
    assert!(!err.is_empty());
    let row = text(&mut page, &down);
    // The row may shorten a long error; its start is there.
    let head: String = err.chars().take(24).collect();
    assert!(row.contains(&head), "error {err:?} not in the row: {row:?}");
    // The tile's link may filter the list to what is broken: the whole list has the others.
    open(&mut page, &env, "targets", "targets");
    for up in [&env.app_url, &env.self_url] {
        let sel = format!("tr[data-target=\"{up}\"]");
        wait_el(&mut page, &sel);
        assert_eq!(
            attr(&mut page, &sel, "data-health").as_deref(),
            Some("up"),
            "{up}"
        );
    }
    checkpoint(&mut page, "targets");

    // Alerts: both firing, each with its severity and a silence button.
    open(&mut page, &env, "alerts", "alerts");
    for (name, sev) in [(CRITICAL, "critical"), (WARNING, "warning")] {
        let sel = alert_sel(name);
        wait_el(&mut page, &sel);
        assert_eq!(attr(&mut page, &sel, "data-severity").as_deref(), Some(sev));
        assert_eq!(
            attr(&mut page, &sel, "data-state").as_deref(),
            Some("firing")
        );
        wait_el(&mut page, &format!("{sel} button[data-action=silence]"));
    }
    checkpoint(&mut page, "alerts");

    // The alert manager notified the webhook receiver.
    eventually(20, "the webhook notified of the critical alert", || {
        env.sink
            .received()
            .iter()
            .any(|r| r.body.to_string().contains(CRITICAL))
            .then_some(())
    });
}

#[test]
fn ui_a_silence_created_in_the_ui_mutes_the_alert() {
    let _serial = serial();
    let env = UiEnv::start(1, 150);
    let browser = Browser::launch().unwrap();
    let mut page = browser.page().unwrap();

    // The critical alert's silence button opens the silence form with its matchers.
    open(&mut page, &env, "alerts", "alerts");
    let sel = alert_sel(CRITICAL);
    page.click(&format!("{sel} button[data-action=silence]"))
        .unwrap();
    wait_view(&mut page, "silences");
    let url = page.url().unwrap();
    assert!(
        url.contains("silences?new=1") && url.contains("matchers="),
        "{url}"
    );
    let form = "form[data-form=silence]";
    wait_el(&mut page, &format!("{form} input[name=matchers]"));
    let matchers: String = page
        .eval(&format!(
            "document.querySelector({}).value",
            js(&format!("{form} input[name=matchers]"))
        ))
        .unwrap();
    assert!(
        matchers.contains(&format!("alertname=\"{CRITICAL}\"")),
        "{matchers}"
    );

    // The preview lists the alert it would mute, and not the other one.
    page.wait_for(
        &format!(
            "[...document.querySelectorAll('[data-preview] [data-alert]')].some(e => e.innerText.includes({}))",
            js(CRITICAL)
        ),
        VIEW_TIMEOUT,
    )
    .unwrap();
    let preview = text(&mut page, "[data-preview]");
    assert!(!preview.contains(WARNING), "preview: {preview}");

    // Fill it in and submit.
    page.type_into(&format!("{form} input[name=duration]"), "1h")
        .unwrap();
    page.type_into(&format!("{form} input[name=createdBy]"), "ui-test")
        .unwrap();
    page.type_into(
        &format!("{form} textarea[name=comment]"),
        "muted from the Chromium test",
    )
    .unwrap();
    checkpoint(&mut page, "silence-new");
    page.click(&format!("{form} button[type=submit]")).unwrap();

    // The alert manager has the silence, and the alert is muted by it.
    let id = eventually(20, "the silence in the API", || {
        let v = env.d.get_json("/api/v2/silences");
        v.as_array()?
            .iter()
            .find(|s| s["createdBy"] == "ui-test" && s["status"]["state"] == "active")
            .and_then(|s| s["id"].as_str().map(str::to_string))
    });
    let silence = env.d.get_json(&format!("/api/v2/silence/{id}"));
    assert_eq!(
        silence["comment"], "muted from the Chromium test",
        "{silence}"
    );
    eventually(20, "the alert silenced", || {
        let v = env
            .d
            .get_json("/api/v2/alerts?silenced=true&active=false&inhibited=false");
        v.as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == CRITICAL)
            .filter(|a| {
                a["status"]["state"] == "suppressed"
                    && a["status"]["silencedBy"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|x| x == id.as_str()))
            })
            .map(|_| ())
    });
    let other = env.d.get_json("/api/v2/alerts");
    let warning = other
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == WARNING)
        .unwrap();
    assert_eq!(warning["status"]["state"], "active", "{warning}");

    // The silences view lists it as active.
    open(&mut page, &env, "silences", "silences");
    let row = format!("[data-silence-id=\"{id}\"]");
    wait_el(&mut page, &row);
    assert_eq!(
        attr(&mut page, &row, "data-state").as_deref(),
        Some("active")
    );
    checkpoint(&mut page, "silences");

    // The alerts view shows the alert suppressed, the other still firing.
    open(&mut page, &env, "alerts", "alerts");
    page.wait_for(
        &format!(
            "(e => !!e && e.dataset.state === 'suppressed')(document.querySelector({}))",
            js(&alert_sel(CRITICAL))
        ),
        VIEW_TIMEOUT,
    )
    .unwrap();
    assert_eq!(
        attr(&mut page, &alert_sel(WARNING), "data-state").as_deref(),
        Some("firing")
    );
    checkpoint(&mut page, "alerts-silenced");

    // Expiring it from the silences view un-mutes the alert.
    open(&mut page, &env, "silences", "silences");
    page.click(&format!("{row} button[data-action=expire]"))
        .unwrap();
    eventually(20, "the silence expired", || {
        let s = env.d.get_json(&format!("/api/v2/silence/{id}"));
        (s["status"]["state"] == "expired").then_some(())
    });
    page.wait_for(
        &format!(
            "(e => !e || e.dataset.state === 'expired')(document.querySelector({}))",
            js(&row)
        ),
        VIEW_TIMEOUT,
    )
    .unwrap();
    checkpoint(&mut page, "silences-expired");
}

/// Waits until the dashboard shows `n` panels (at least one when `n` is None), each done
/// loading, and returns (type, title, state, series, points) per panel.
fn panels(page: &mut Page<'_>, n: Option<usize>) -> Vec<(String, String, String, u64, u64)> {
    let count = match n {
        Some(n) => format!("ps.length === {n}"),
        None => "ps.length > 0".to_string(),
    };
    page.wait_for(
        &format!(
            "(ps => {count} && ps.every(p => ['ready', 'nodata', 'error'].includes(p.dataset.state)))\
             ([...document.querySelectorAll('[data-panel]')])"
        ),
        VIEW_TIMEOUT,
    )
    .unwrap();
    page.eval(
        "[...document.querySelectorAll('[data-panel]')].map(p => [p.dataset.panelType || '', \
         p.dataset.panelTitle || '', p.dataset.state, +(p.dataset.series || 0), +(p.dataset.points || 0)])",
    )
    .unwrap()
}

#[test]
fn ui_dashboards_draw_the_seed_and_a_plugin_dashboard() {
    let _serial = serial();
    let env = UiEnv::start(1, 150);
    // The seed's setup script, unchanged but for the address.
    let uid = env.run_seed_setup();
    let browser = Browser::launch().unwrap();
    let mut page = browser.page().unwrap();

    // The list has both, the plugin's read-only.
    open(&mut page, &env, "dashboards", "dashboards");
    let seed = format!("a[data-dashboard-uid=\"{uid}\"]");
    let plugin = format!("a[data-dashboard-uid=\"{PLUGIN_DASHBOARD}\"]");
    wait_el(&mut page, &seed);
    wait_el(&mut page, &format!("{plugin}[data-readonly]"));
    assert_eq!(
        attr(&mut page, &seed, "data-readonly"),
        None,
        "the imported dashboard is editable"
    );
    checkpoint(&mut page, "dashboards");

    // Explore: a result for a valid query (the table: an instant query, which has data as
    // soon as two scrapes are in), the position of a syntax error.
    open(
        &mut page,
        &env,
        &format!(
            "explore?expr={}&tab=table",
            urlencode("rate(http_requests_total[1m])")
        ),
        "explore",
    );
    page.wait_for(
        "(r => !!r && +r.dataset.series > 0)(document.querySelector('[data-result]'))",
        VIEW_TIMEOUT,
    )
    .unwrap();
    wait_el(&mut page, "[data-cost]");
    checkpoint(&mut page, "explore");
    // Keyboard: `/` focuses the query box, Enter runs the query (and the URL holds it).
    page.eval::<Value>("document.activeElement && document.activeElement.blur()")
        .unwrap();
    page.press("/").unwrap();
    page.wait_for(
        "document.activeElement && document.activeElement.matches('textarea[name=expr]')",
        VIEW_TIMEOUT,
    )
    .unwrap();
    page.type_into("textarea[name=expr]", "count(up)").unwrap();
    page.press("Enter").unwrap();
    page.wait_for(
        "location.search.includes('expr=count') && (r => !!r && +r.dataset.series === 1)(document.querySelector('[data-result]'))",
        VIEW_TIMEOUT,
    )
    .unwrap();
    open(
        &mut page,
        &env,
        &format!("explore?expr={}", urlencode("sum(rate(up[1m])")),
        "explore",
    );
    wait_el(&mut page, "[data-error-pos]");
    // The position comes from the server's answer, a 400 (as Prometheus answers bad_data),
    // which Chromium logs as a failed load: that one entry, for that query, is expected;
    // anything else fails.
    let bad = urlencode("sum(rate(up[1m])");
    let unexpected: Vec<String> = page
        .console_errors()
        .unwrap()
        .into_iter()
        .filter(|m| {
            !(m.kind == "log.error"
                && m.text.contains("status of 400")
                && m.source.contains("/api/v1/query")
                && m.source.contains(&format!("query={bad}")))
        })
        .map(|m| m.to_string())
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    page.clear_console().unwrap();

    // The plugin's dashboard: every panel done and none in error, at least one with data.
    // Its range is the last hour: Grafana's step there is 15 s, aligned to multiples of 15 s.
    env.wait_range_data(15);
    open(
        &mut page,
        &env,
        &format!("d/{PLUGIN_DASHBOARD}"),
        "dashboard",
    );
    let got = panels(&mut page, None);
    assert!(
        got.iter().all(|p| p.2 != "error"),
        "a panel in error: {got:?}"
    );
    assert!(got.iter().any(|p| p.2 == "ready" && p.4 > 0), "{got:?}");
    checkpoint(&mut page, "dashboard-plugin");
    println!("ui: plugin dashboard panels {got:?}");

    // The seed's dashboard, from the list by its link: four panels, each drawn with data
    // points. The seed's JSON has no time range (the default, 6 hours, has a 30 s step);
    // the last hour's 15 s step shows data sooner after the daemon's start.
    open(&mut page, &env, "dashboards", "dashboards");
    page.click(&seed).unwrap();
    wait_view(&mut page, "dashboard");
    let url = page.url().unwrap();
    assert!(url.contains(&format!("/d/{uid}")), "{url}");
    open(
        &mut page,
        &env,
        &format!("d/{uid}?from=now-1h&to=now"),
        "dashboard",
    );
    let got = panels(&mut page, Some(4));
    let titles: Vec<&str> = got.iter().map(|p| p.1.as_str()).collect();
    assert_eq!(titles, SEED_PANELS, "{got:?}");
    // Panels may report `ready` before the chart is drawn: wait for the points.
    page.wait_for(
        "[...document.querySelectorAll('[data-panel]')].every(p => p.dataset.state === 'ready' && +p.dataset.points > 0)",
        VIEW_TIMEOUT,
    )
    .unwrap_or_else(|e| panic!("seed panels {got:?}: {e}"));
    let got = panels(&mut page, Some(4));
    for (ty, title, _, series, points) in &got {
        assert!(*series > 0 && *points > 0, "{title} ({ty}): {got:?}");
    }
    // Each is a chart: a drawn canvas (uPlot) in the panel.
    let drawn: Vec<bool> = page
        .eval(
            "[...document.querySelectorAll('[data-panel]')].map(p => \
             [...p.querySelectorAll('canvas')].some(c => c.width > 0 && c.height > 0))",
        )
        .unwrap();
    assert_eq!(drawn, [true; 4], "a canvas per panel: {got:?}");
    checkpoint(&mut page, "dashboard-seed");
    println!("ui: seed dashboard panels {got:?}");
}

#[test]
fn ui_works_under_a_route_prefix() {
    let _serial = serial();
    // The embedded default configuration (it scrapes the daemon, has rules and an alert
    // manager), served under /sightline/ as a reverse proxy would forward it.
    let mut d = Daemon::spawn(
        None,
        &[
            "--web.external-url=http://127.0.0.1/sightline/",
            "--log.level=warn",
        ],
    );
    d.wait_for("/sightline/-/ready", |a| {
        matches!(http_get(a, "/sightline/-/ready"), Ok((200, _)))
    });
    // Once the daemon has scraped itself (an empty daemon's home is its own test below).
    eventually(30, "the first scrape", || {
        let (_, body) = http_get(&d.addr, "/sightline/api/v1/query?query=up").ok()?;
        body.contains("\"value\"").then_some(())
    });
    let base = format!("http://{}/sightline/", d.addr);
    let browser = Browser::launch().unwrap();
    let mut page = browser.page().unwrap();
    page.goto(&base).unwrap();
    wait_view(&mut page, "home");
    // The nav's relative links stay under the prefix, routed in the page.
    page.click("a[href=\"targets\"]").unwrap();
    wait_view(&mut page, "targets");
    let path: String = page.eval("location.pathname").unwrap();
    assert_eq!(path, "/sightline/targets");
    // A deep link loads under the prefix too (assets and API calls included).
    page.goto(&format!("{base}alerts")).unwrap();
    wait_view(&mut page, "alerts");
    checkpoint(&mut page, "route-prefix-alerts");
}

/// Home right after the start, before any sample: an empty head (Prometheus reports its
/// `minTime` as the largest int64) is shown, not an error.
#[test]
fn ui_home_renders_on_an_empty_daemon() {
    let _serial = serial();
    let d = Daemon::start(Some("scrape_configs: []\n"), &["--log.level=warn"]);
    let browser = Browser::launch().unwrap();
    let mut page = browser.page().unwrap();
    page.goto(&format!("http://{}/", d.addr)).unwrap();
    wait_view(&mut page, "home");
    checkpoint(&mut page, "home-empty");
}

/// Without `--alertmanager.config.file` the `api/v2` paths 404: the alert manager's views
/// say so plainly, and ask nothing that would fail (no console error).
#[test]
fn ui_without_an_alert_manager_its_views_say_so() {
    let _serial = serial();
    let d = Daemon::start(Some("scrape_configs: []\n"), &["--log.level=warn"]);
    let (code, _) = http_get(&d.addr, "/api/v2/status").unwrap();
    assert_eq!(code, 404, "an alert manager is configured");
    let browser = Browser::launch().unwrap();
    for view in ["silences", "notifications", "routing"] {
        let mut page = browser.page().unwrap();
        page.goto(&format!("http://{}/{view}", d.addr)).unwrap();
        wait_view(&mut page, view);
        let text = text(&mut page, "main#view");
        assert!(
            text.to_lowercase().contains("not configured"),
            "{view}: {text}"
        );
        checkpoint(&mut page, &format!("no-am-{view}"));
    }
}

/// Every route of the contract: (route, the view it shows).
const ROUTES: &[(&str, &str)] = &[
    ("", "home"),
    ("dashboards", "dashboards"),
    ("d/sightline-service-health", "dashboard"),
    ("d/sightline-service-health/service-health", "dashboard"),
    ("explore", "explore"),
    ("explore?expr=up&range=1h&tab=table", "explore"),
    ("alerts", "alerts"),
    ("silences", "silences"),
    (
        "silences?new=1&matchers=%7Balertname%3D%22UiTargetDown%22%7D",
        "silences",
    ),
    ("notifications", "notifications"),
    ("routing", "routing"),
    ("rules", "rules"),
    ("slos", "slos"),
    ("targets", "targets"),
    ("plugins", "plugins"),
    ("status", "status"),
    // Prometheus' own graph links land in explore.
    ("graph?g0.expr=up", "explore"),
];

#[test]
fn ui_every_view_loads_without_console_errors() {
    let _serial = serial();
    let env = UiEnv::start(1, 150);
    let browser = Browser::launch().unwrap();
    let mut failures = Vec::new();
    let t0 = Instant::now();
    for (route, view) in ROUTES {
        // A fresh page per view, so each view's console is its own.
        let mut page = browser.page().unwrap();
        let shot = if route.is_empty() {
            "view-home".to_string()
        } else {
            format!(
                "view-{}",
                route.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            )
        };
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let t = Instant::now();
            open(&mut page, &env, route, view);
            if route.starts_with("graph?") {
                // Prometheus' graph link became explore's own URL.
                let url = page.url().unwrap();
                assert!(url.contains("explore?expr=up"), "redirected to {url}");
            }
            checkpoint(&mut page, &shot);
            t.elapsed()
        }));
        match step {
            Ok(t) => println!("ui: /{route} ready in {t:?}"),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let _ = page.screenshot(&shot);
                failures.push(format!("/{route}: {msg}"));
            }
        }
    }
    // The dark theme follows the system's preference: home and a dashboard, dark.
    for (route, view, shot) in [
        ("", "home", "dark-home"),
        ("d/sightline-service-health", "dashboard", "dark-dashboard"),
    ] {
        let mut page = browser.page().unwrap();
        page.emulate_color_scheme(true).unwrap();
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            open(&mut page, &env, route, view);
            // The theme's background (the contract's `--bg`) is dark: luminance under a half.
            let lum: f64 = page
                .eval(
                    "(() => { const e = document.createElement('div'); e.style.background = 'var(--bg)'; \
                     document.body.append(e); const c = getComputedStyle(e).backgroundColor; e.remove(); \
                     const m = c.match(/[\\d.]+/g).map(Number); \
                     return m.length > 3 && m[3] === 0 ? 1 : (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255; })()",
                )
                .unwrap();
            assert!(lum < 0.5, "background luminance {lum} in the dark theme");
            checkpoint(&mut page, shot);
        }));
        if let Err(e) = step {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("dark /{route}: {msg}"));
        }
    }

    // An unknown path shows a "not found" view, without errors.
    let mut page = browser.page().unwrap();
    page.goto(&env.url("no/such/view")).unwrap();
    let found = page.wait_for(
        "(v => !!v && v.dataset.state !== 'loading' && /not found/i.test(v.innerText))(document.querySelector('main#view'))",
        VIEW_TIMEOUT,
    );
    if let Err(e) = found {
        failures.push(format!("/no/such/view: {e}"));
    }
    if let Err(e) = page.screenshot("view-not-found") {
        failures.push(format!("screenshot: {e}"));
    }
    if let Err(e) = page.assert_no_console_errors() {
        failures.push(format!("/no/such/view: {e}"));
    }
    println!(
        "ui: {} routes in {:?}, screenshots in {}",
        ROUTES.len() + 1,
        t0.elapsed(),
        sightline_tests::chromium::screenshots_dir().display()
    );
    assert!(
        failures.is_empty(),
        "{} of {} views failed:\n{}",
        failures.len(),
        ROUTES.len() + 1,
        failures.join("\n\n")
    );
}

/// Home's and the seed dashboard's load budget (to network idle and every panel drawn), on
/// the benchmark data: 10 targets × 1,000 series. Chromium's network idle comes 500 ms after
/// the last request, which the budget includes.
/// Measured on a shared 2-core machine (debug daemon): home ready in 0.2–0.35 s and network
/// idle at 1.0 s, the seed dashboard ready in 0.6–1.0 s and idle at 1.2–2.1 s; the budgets
/// leave about 2.5× for a noisy CI machine.
const HOME_BUDGET: Duration = Duration::from_millis(3000);
const DASHBOARD_BUDGET: Duration = Duration::from_millis(5000);
/// Home's first contentful paint ("well under a second"), median of three: measured 90–190 ms.
const HOME_FIRST_PAINT_MS: f64 = 1000.0;

#[test]
fn ui_home_and_the_seed_dashboard_load_within_budget() {
    let _serial = serial();
    let env = UiEnv::start(10, 1000);
    let uid = env.run_seed_setup();
    env.wait_range_data(15);
    let browser = Browser::launch().unwrap();
    let mut report = Vec::new();
    for (route, view, budget) in [
        (String::new(), "home", HOME_BUDGET),
        (
            format!("d/{uid}?from=now-1h&to=now"),
            "dashboard",
            DASHBOARD_BUDGET,
        ),
    ] {
        let mut runs = Vec::new();
        // The first load is cold (nothing cached); the budget holds for the median of three.
        for _ in 0..3 {
            let mut page = browser.page().unwrap();
            let nav = page.navigate(&env.url(&route)).unwrap();
            // Ready: the view rendered and, on the dashboard, every panel drawn with points.
            wait_view(&mut page, view);
            if view == "dashboard" {
                page.wait_for(
                    "(ps => ps.length === 4 && ps.every(p => p.dataset.state === 'ready' && +p.dataset.points > 0))\
                     ([...document.querySelectorAll('[data-panel]')])",
                    VIEW_TIMEOUT,
                )
                .unwrap();
            }
            let ready = nav.start().elapsed();
            let idle = page.wait_network_idle(&nav).unwrap();
            let timing = page.load_timing().unwrap();
            page.assert_no_console_errors().unwrap();
            runs.push((idle.max(ready), idle, ready, timing));
        }
        let mut total: Vec<Duration> = runs.iter().map(|r| r.0).collect();
        total.sort();
        let median = total[1];
        if view == "home" {
            let mut fcp: Vec<f64> = runs.iter().map(|r| r.3.first_contentful_paint_ms).collect();
            fcp.sort_by(f64::total_cmp);
            println!(
                "ui budget /: first contentful paint median {:.0} ms",
                fcp[1]
            );
            assert!(
                fcp[1] > 0.0 && fcp[1] <= HOME_FIRST_PAINT_MS,
                "home's first contentful paint {:.0} ms (budget {HOME_FIRST_PAINT_MS} ms)",
                fcp[1]
            );
        }
        for (i, (_, idle, ready, timing)) in runs.iter().enumerate() {
            println!(
                "ui budget /{route} run {i}: ready {ready:?}, network idle {idle:?}; \
                 first contentful paint {:.0} ms, DOMContentLoaded {:.0} ms, load {:.0} ms, \
                 last response {:.0} ms, {} requests",
                timing.first_contentful_paint_ms,
                timing.dom_content_loaded_ms,
                timing.load_ms,
                timing.last_response_ms,
                timing.resources
            );
        }
        report.push((route, median, budget));
    }
    for (route, median, budget) in &report {
        println!("ui budget /{route}: median {median:?} (budget {budget:?})");
    }
    for (route, median, budget) in report {
        assert!(
            median <= budget,
            "/{route}: {median:?} over the budget of {budget:?}"
        );
    }
}

/// Exported Grafana dashboards (`host/web/ui-fixtures/`): a Grafana 10 export at
/// schemaVersion 39 with every supported panel type, rows (one collapsed), variables of every
/// kind and a repeated panel; and a schemaVersion 14 dashboard with `rows: [...]`, `singlestat`
/// and old `graph` panels. Imported through Grafana's API, each renders with no panel in
/// error and no console error, the charts draw data, and the collapsed row opens.
#[test]
fn ui_exported_grafana_dashboards_render() {
    let _serial = serial();
    let env = UiEnv::start(1, 150);
    env.wait_range_data(15);
    let browser = Browser::launch().unwrap();
    let mut page = browser.page().unwrap();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/ui-fixtures");
    for (file, uid) in [
        ("grafana-export-v39.json", "fixture-app-v39"),
        ("grafana-legacy-rows.json", "fixture-legacy-rows"),
    ] {
        let model: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{fixtures}/{file}")).unwrap())
                .unwrap();
        let body = serde_json::json!({"dashboard": model, "overwrite": true}).to_string();
        let (code, resp) = http_request(
            &env.d.addr,
            "POST",
            "/api/dashboards/db",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(code, 200, "{file}: {resp}");
        open(
            &mut page,
            &env,
            &format!("d/{uid}?from=now-1h&to=now"),
            "dashboard",
        );
        let got = panels(&mut page, None);
        println!("ui: {file} panels {got:?}");
        assert!(
            got.iter().all(|p| p.2 != "error"),
            "{file}: a panel in error: {got:?}"
        );
        let drawn = |ty: &str| {
            got.iter()
                .any(|p| p.0 == ty && p.2 == "ready" && p.3 > 0 && p.4 > 0)
        };
        if uid == "fixture-app-v39" {
            for ty in ["timeseries", "stat", "gauge", "bargauge", "heatmap"] {
                assert!(drawn(ty), "{file}: no {ty} with data: {got:?}");
            }
            for ty in ["text", "table", "piechart"] {
                assert!(got.iter().any(|p| p.0 == ty), "{file}: no {ty}: {got:?}");
            }
            checkpoint(&mut page, "dashboard-grafana-v39");
            // The collapsed row opens and its panels (one repeated per instance) load.
            let before = got.len();
            page.click(".dash-row-toggle[aria-expanded=false]").unwrap();
            let opened = panels(&mut page, None);
            assert!(opened.len() > before, "{opened:?}");
            assert!(
                opened.iter().all(|p| p.2 != "error"),
                "{file}: a panel in error after opening the row: {opened:?}"
            );
            checkpoint(&mut page, "dashboard-grafana-v39-row-open");
        } else {
            assert!(drawn("graph") || drawn("timeseries"), "{file}: {got:?}");
            checkpoint(&mut page, "dashboard-grafana-legacy-rows");
        }
    }
}
