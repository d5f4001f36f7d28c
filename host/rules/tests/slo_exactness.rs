//! The SLO period ratio on synthetic traffic that varies strongly: ours (a ratio of sums of
//! recorded 5m event rates) against the direct `sum(increase(errors[P])) /
//! sum(increase(total[P]))` over the raw series and the true ratio of the generated events,
//! with Sloth's average of 5m ratios beside them to show its bias.
//!
//! Traffic is 10x by day (08:00–20:00) what it is by night, and errors are concentrated in
//! the quiet hours (2% of night requests fail, 0.05% of day requests), the shape where an
//! average of ratios over-weights the night.
//!
//! `period_cost_30d_100_series` is the cost measurement of BENCHMARKS.md ("SLOs: 30-day
//! exactness and cost"), over `MemStorage` and over the TSDB; it is ignored by default (it
//! holds 17 million samples in memory):
//! `cargo test --release -p sightline-rules --test slo_exactness -- --ignored --nocapture`.

// Test code panics on purpose: a failed setup step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_model::Labels;
use sightline_promql::{Engine, EngineOptions};
use sightline_rules::slo::{self, Sli, EVENTS_ERROR_METRIC, EVENTS_TOTAL_METRIC};
use sightline_rules::{Deps, Group, GroupSpec, NoNotifier, NoTemplates, QueryFn};
use sightline_storage_api::{Appendable, MemStorage};

const DAY_MS: i64 = 86_400_000;
/// A Monday 00:00 UTC, so days and nights are whole.
const BASE: i64 = 1_700_438_400_000;

/// Requests per second and error ratio at `t` for instance `k` of `n`.
fn traffic(t: i64, k: usize) -> (f64, f64) {
    let hour = (t - BASE).rem_euclid(DAY_MS) / 3_600_000;
    let day = (8..20).contains(&hour);
    // Instances differ a little so sums over them are not trivial.
    let scale = 1.0 + (k % 5) as f64 * 0.1;
    if day {
        (100.0 * scale, 0.0005)
    } else {
        (10.0 * scale, 0.02)
    }
}

struct Data {
    storage: Arc<MemStorage>,
    /// Bad and all events in (end - period, end], exactly as generated.
    truth: (f64, f64),
}

/// `instances` instances, each a `code="200"` and a `code="500"` counter, scraped every
/// `scrape` from `start` to `end`.
fn generate(instances: usize, scrape: Duration, start: i64, end: i64, period: Duration) -> Data {
    let storage = Arc::new(MemStorage::new());
    let step = scrape.as_millis() as i64;
    let from = end - period.as_millis() as i64;
    let (mut bad_total, mut all_total) = (0.0, 0.0);
    for k in 0..instances {
        let (mut ok, mut bad) = (1_000.0 * k as f64, 0.0);
        let lok = Labels::from_pairs([
            ("__name__", "http_requests_total"),
            ("instance", &format!("i{k}")),
            ("code", "200"),
        ]);
        let lbad = Labels::from_pairs([
            ("__name__", "http_requests_total"),
            ("instance", &format!("i{k}")),
            ("code", "500"),
        ]);
        let mut app = storage.appender();
        let mut t = start;
        while t <= end {
            app.append(None, &lok, t, ok).unwrap();
            app.append(None, &lbad, t, bad).unwrap();
            // Events of (t, t + step], at the rate of the interval's start.
            let (rps, ratio) = traffic(t, k);
            let n = rps * step as f64 / 1000.0;
            if t >= from && t < end {
                bad_total += n * ratio;
                all_total += n;
            }
            ok += n * (1.0 - ratio);
            bad += n * ratio;
            t += step;
        }
        app.commit().unwrap();
    }
    Data {
        storage,
        truth: (bad_total, all_total),
    }
}

fn query_fn(storage: &Arc<MemStorage>) -> QueryFn {
    let engine = Engine::new(EngineOptions {
        max_samples: 100_000_000,
        timeout: Duration::from_secs(600),
        ..EngineOptions::default()
    });
    sightline_rules::unittest::engine_query_fn(engine, storage.clone())
}

fn spec(period: Duration) -> slo::Slo {
    let text = "version: \"prometheus/v1\"\nservice: svc\nslos:\n  - name: avail\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{code=\"500\"}[{{.window}}]))\n        total_query: sum(rate(http_requests_total[{{.window}}]))\n    alerting:\n      page_alert: {disable: true}\n      ticket_alert: {disable: true}\n";
    let mut s = slo::parse("svc.yml", text).unwrap().slos.remove(0);
    s.period = period;
    assert!(matches!(s.sli, Sli::Events { .. }));
    s
}

/// Evaluates, every `every` from `start` to `end`, the SLO's rules the period ratios need
/// (the two event rates, and Sloth's 5m ratio for comparison); returns the generated groups.
fn record(data: &Data, slo: &slo::Slo, every: Duration, start: i64, end: i64) -> Vec<GroupSpec> {
    let groups = slo::generate(slo);
    let wanted = [
        EVENTS_ERROR_METRIC,
        EVENTS_TOTAL_METRIC,
        "slo:sli_error:ratio_rate5m",
    ];
    let mut g = groups[0].clone();
    g.rules.retain(|r| wanted.contains(&r.name.as_str()));
    let mut group = Group::new("bench", &g, every, Duration::ZERO);
    let q = query_fn(&data.storage);
    let labels = Labels::empty();
    let deps = Deps {
        query: &q,
        appendable: &*data.storage,
        expander: &NoTemplates,
        notifier: &NoNotifier,
        external_labels: &labels,
        external_url: "",
        resend_delay: Duration::from_secs(60),
    };
    let step = every.as_millis() as i64;
    let mut t = start;
    while t <= end {
        group.eval(t, &deps);
        for r in &group.rules {
            assert!(r.info.last_error.is_none(), "{:?}", r.info.last_error);
        }
        t += step;
    }
    groups
}

fn value(q: &QueryFn, expr: &str, t: i64) -> f64 {
    let v = q(expr, t).unwrap_or_else(|e| panic!("{expr}: {e}"));
    assert_eq!(v.len(), 1, "{expr}: {v:?}");
    v[0].v
}

struct Ratios {
    truth: f64,
    direct: f64,
    ours: f64,
    sloth: f64,
}

fn ratios(data: &Data, groups: &[GroupSpec], period: Duration, end: i64) -> Ratios {
    let q = query_fn(&data.storage);
    let p = slo::window_string(period);
    let ours_expr = &groups[0]
        .rules
        .iter()
        .find(|r| r.name == format!("slo:sli_error:ratio_rate{p}"))
        .unwrap()
        .expr;
    let direct = format!(
        "sum(increase(http_requests_total{{code=\"500\"}}[{p}])) / sum(increase(http_requests_total[{p}]))"
    );
    let sloth = format!(
        "sum_over_time(slo:sli_error:ratio_rate5m[{p}]) / count_over_time(slo:sli_error:ratio_rate5m[{p}])"
    );
    Ratios {
        truth: data.truth.0 / data.truth.1,
        direct: value(&q, &direct, end),
        ours: value(&q, ours_expr, end),
        sloth: value(&q, &sloth, end),
    }
}

fn check(name: &str, r: &Ratios, tolerance: f64) {
    let rel = |x: f64| (x - r.truth).abs() / r.truth;
    println!(
        "{name}: true ratio {:.6e}; direct sum(increase)/sum(increase) {:.6e} ({:+.4}%); ours {:.6e} ({:+.4}%); Sloth's average of 5m ratios {:.6e} ({:+.2}%)",
        r.truth,
        r.direct,
        (r.direct / r.truth - 1.0) * 100.0,
        r.ours,
        (r.ours / r.truth - 1.0) * 100.0,
        r.sloth,
        (r.sloth / r.truth - 1.0) * 100.0,
    );
    assert!(rel(r.direct) < tolerance, "direct is off");
    assert!(
        (r.ours - r.direct).abs() / r.direct < tolerance,
        "ours differs from the direct expression"
    );
    assert!(rel(r.ours) < tolerance, "ours is off");
    // Night errors weigh as much as day errors in an average of ratios: far too high.
    assert!(rel(r.sloth) > 0.5, "Sloth's average should be biased");
}

/// 7-day SLO, one instance scraped every 30 s, rules every 60 s, a day of history before the
/// period: ours equals the direct expression within 0.1%.
#[test]
fn period_ratio_is_exact_over_7_days_of_varying_traffic() {
    let period = Duration::from_secs(7 * 86_400);
    let start = BASE;
    // The period ends off the hour and off a day boundary, mid-day.
    let end = BASE + 8 * DAY_MS + 13 * 3_600_000 + 17 * 60_000;
    let data = generate(1, Duration::from_secs(30), start, end, period);
    let s = spec(period);
    let groups = record(&data, &s, Duration::from_secs(60), start, end);
    let r = ratios(&data, &groups, period, end);
    check("7d, 1 instance, scrape 30s, eval 60s", &r, 1e-3);
}

/// 30-day SLO, 100 raw series (50 instances × 2 codes) scraped every 15 s, rules every 30 s:
/// exactness at 30 days and the cost of the period expression against the direct one.
#[test]
#[ignore = "17 million samples in memory; run in release for BENCHMARKS.md"]
fn period_cost_30d_100_series() {
    let period = Duration::from_secs(30 * 86_400);
    let start = BASE;
    let end = BASE + 30 * DAY_MS + 6 * 3_600_000 + 7 * 60_000;
    let t0 = Instant::now();
    let data = generate(50, Duration::from_secs(15), start, end, period);
    println!(
        "generated {} series, {} samples in {:.1?}",
        data.storage.num_series(),
        100 * ((end - start) / 15_000 + 1),
        t0.elapsed()
    );
    let s = spec(period);
    let t0 = Instant::now();
    let groups = record(&data, &s, Duration::from_secs(30), start, end);
    let ticks = (end - start) / 30_000 + 1;
    println!(
        "recorded the event rates and Sloth's 5m ratio at {ticks} evaluations in {:.1?} ({:.0} µs per evaluation of 3 rules)",
        t0.elapsed(),
        t0.elapsed().as_secs_f64() * 1e6 / ticks as f64
    );
    let r = ratios(&data, &groups, period, end);
    check("30d, 100 series, scrape 15s, eval 30s", &r, 1e-3);

    let q = query_fn(&data.storage);
    let p = slo::window_string(period);
    let ours = groups[0]
        .rules
        .iter()
        .find(|r| r.name == format!("slo:sli_error:ratio_rate{p}"))
        .unwrap()
        .expr
        .clone();
    let direct = format!(
        "sum(rate(http_requests_total{{code=\"500\"}}[{p}])) / sum(rate(http_requests_total[{p}]))"
    );
    let sloth = format!(
        "sum_over_time(slo:sli_error:ratio_rate5m[{p}]) / count_over_time(slo:sli_error:ratio_rate5m[{p}])"
    );
    let points = period.as_secs() / 30;
    let measure = |store: &str, q: &QueryFn| {
        let median = |expr: &str, runs: usize| {
            let mut times: Vec<Duration> = (0..runs)
                .map(|_| {
                    let t0 = Instant::now();
                    std::hint::black_box(value(q, expr, end));
                    t0.elapsed()
                })
                .collect();
            times.sort();
            (times[runs / 2], times[0], times[runs - 1])
        };
        let (o, omin, omax) = median(&ours, 9);
        let (d, dmin, dmax) = median(&direct, 9);
        let (sl, slmin, slmax) = median(&sloth, 9);
        println!("[{store}] ours   (2 recorded series, {points} points each in 30d): median {o:.2?} (min {omin:.2?}, max {omax:.2?})");
        println!("[{store}] direct (100 raw series, 172,800 samples each in 30d): median {d:.2?} (min {dmin:.2?}, max {dmax:.2?})");
        println!("[{store}] Sloth  (1 recorded series, average of 5m ratios): median {sl:.2?} (min {slmin:.2?}, max {slmax:.2?})");
        println!(
            "[{store}] direct / ours: {:.0}x",
            d.as_secs_f64() / o.as_secs_f64()
        );
    };
    measure("MemStorage", &q);

    // The same series in the TSDB (compressed, decoded on read), imported as
    // `sightline import openmetrics` imports, into a temporary directory.
    let mut series: Vec<Labels> = Vec::new();
    for k in 0..50 {
        for code in ["200", "500"] {
            series.push(Labels::from_pairs([
                ("__name__", "http_requests_total"),
                ("instance", format!("i{k}").as_str()),
                ("code", code),
            ]));
        }
    }
    for name in [
        EVENTS_ERROR_METRIC,
        EVENTS_TOTAL_METRIC,
        "slo:sli_error:ratio_rate5m",
    ] {
        series.extend(q(name, end).unwrap().into_iter().map(|s| s.labels));
    }
    assert_eq!(series.len(), 103);
    let dir = tempfile::tempdir().unwrap();
    let db = sightline_tsdb::Tsdb::open(sightline_tsdb::TsdbOptions {
        retention_time: Duration::from_secs(90 * 86_400),
        ..sightline_tsdb::TsdbOptions::new(dir.path())
    })
    .unwrap();
    let t0 = Instant::now();
    let mut source = series.iter().flat_map(|l| {
        data.storage.samples_of(l).into_iter().map(move |s| {
            Ok(sightline_tsdb::ImportSample {
                labels: l.clone(),
                t: s.t,
                v: s.v,
            })
        })
    });
    let stats = db.import(&mut source, &mut |_| {}).unwrap();
    println!(
        "imported {} samples of {} series into the TSDB in {:.1?}",
        stats.samples,
        stats.series,
        t0.elapsed()
    );
    let db: Arc<dyn sightline_storage_api::Queryable> = Arc::new(db);
    let engine = Engine::new(EngineOptions {
        max_samples: 100_000_000,
        timeout: Duration::from_secs(600),
        ..EngineOptions::default()
    });
    let tq = sightline_rules::unittest::engine_query_fn(engine, db);
    let (ours_tsdb, direct_tsdb) = (value(&tq, &ours, end), value(&tq, &direct, end));
    println!("[TSDB] ours {ours_tsdb:.6e}, direct {direct_tsdb:.6e}");
    assert!((ours_tsdb - r.ours).abs() / r.ours < 1e-9);
    measure("TSDB", &tq);
}
