//! Target label assembly (Prometheus 3 `PopulateLabels`) and file service discovery.

use std::path::Path;

use sightline_config::{
    expand_file_sd_globs, load_str, parse_file_sd, populate_labels, read_file_sd, ScrapeConfig,
};
use sightline_model::Labels;

fn job(extra: &str) -> ScrapeConfig {
    let src = format!("scrape_configs:\n  - job_name: job\n    scrape_interval: 1s\n    scrape_timeout: 1s\n{extra}");
    load_str(&src, "t.yml")
        .unwrap_or_else(|e| panic!("{e}"))
        .scrape_configs
        .remove(0)
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

#[test]
fn regular_target() {
    let cfg = job("    scheme: https\n");
    let got = populate_labels(
        &cfg,
        &l(&[("__address__", "1.2.3.4:1000"), ("custom", "value")]),
        &Labels::empty(),
    )
    .unwrap();
    let discovered = l(&[
        ("__address__", "1.2.3.4:1000"),
        ("__metrics_path__", "/metrics"),
        ("__scheme__", "https"),
        ("__scrape_interval__", "1s"),
        ("__scrape_timeout__", "1s"),
        ("custom", "value"),
        ("job", "job"),
    ]);
    assert_eq!(got.discovered_labels, discovered);
    let mut b = discovered.builder();
    b.set("instance", "1.2.3.4:1000");
    assert_eq!(got.labels, Some(b.build()));
}

#[test]
fn target_labels_win_and_no_default_port_is_added() {
    let cfg = job("");
    let target = l(&[
        ("__address__", "1.2.3.4"),
        ("__scheme__", "https"),
        ("__metrics_path__", "/custom"),
        ("job", "custom-job"),
        ("__scrape_interval__", "2s"),
        ("__scrape_timeout__", "2s"),
        ("instance", "custom-instance"),
    ]);
    let got = populate_labels(&cfg, &target, &l(&[("job", "group-job"), ("g", "1")])).unwrap();
    let mut b = target.builder();
    b.set("g", "1");
    assert_eq!(got.labels, Some(b.build()));
    assert_eq!(
        got.discovered_labels.get("instance"),
        Some("custom-instance")
    );
}

#[test]
fn params_become_param_labels() {
    let cfg = job("    params:\n      module: [http_2xx, ignored]\n      target: [x]\n");
    let got = populate_labels(
        &cfg,
        &l(&[("__address__", "a:1"), ("__param_target", "mine")]),
        &Labels::empty(),
    )
    .unwrap();
    let labels = got.labels.unwrap();
    assert_eq!(labels.get("__param_module"), Some("http_2xx"));
    assert_eq!(labels.get("__param_target"), Some("mine"));
}

#[test]
fn meta_labels_are_removed_after_relabeling() {
    let cfg = job("    relabel_configs:\n      - source_labels: [__meta_x]\n        target_label: from_meta\n");
    let got = populate_labels(
        &cfg,
        &l(&[("__address__", "a:1")]),
        &l(&[("__meta_x", "m")]),
    )
    .unwrap();
    assert_eq!(got.discovered_labels.get("__meta_x"), Some("m"));
    let labels = got.labels.unwrap();
    assert_eq!(labels.get("__meta_x"), None);
    assert_eq!(labels.get("from_meta"), Some("m"));
}

#[test]
fn dropped_target_keeps_discovered_labels() {
    let cfg = job("    relabel_configs:\n      - source_labels: [__address__]\n        regex: drop-me.*\n        action: drop\n");
    let got = populate_labels(&cfg, &l(&[("__address__", "drop-me:1")]), &Labels::empty()).unwrap();
    assert_eq!(got.labels, None);
    assert_eq!(got.discovered_labels.get("__address__"), Some("drop-me:1"));
}

#[test]
fn invalid_targets_are_errors() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("", &[("custom", "x")], "no address"),
        (
            "",
            &[("__address__", "1.2.3.4/metrics")],
            r#""1.2.3.4/metrics" is not a valid hostname"#,
        ),
        (
            "",
            &[
                ("__address__", "a:1"),
                ("__scrape_interval__", "2notseconds"),
            ],
            r#"error parsing scrape interval: not a valid duration string: "2notseconds""#,
        ),
        (
            "",
            &[("__address__", "a:1"), ("__scrape_interval__", "0s")],
            "scrape interval cannot be 0",
        ),
        (
            "",
            &[
                ("__address__", "a:1"),
                ("__scrape_timeout__", "2notseconds"),
            ],
            r#"error parsing scrape timeout: not a valid duration string: "2notseconds""#,
        ),
        (
            "",
            &[("__address__", "a:1"), ("__scrape_timeout__", "0s")],
            "scrape timeout cannot be 0",
        ),
        (
            "",
            &[("__address__", "a:1"), ("__scrape_timeout__", "2s")],
            r#"scrape timeout cannot be greater than scrape interval ("2s" > "1s")"#,
        ),
        (
            "    relabel_configs:\n      - target_label: __address__\n        replacement: ''\n",
            &[("__address__", "a:1")],
            "no address",
        ),
    ];
    for (extra, target, want) in cases {
        let cfg = job(extra);
        match populate_labels(&cfg, &l(target), &Labels::empty()) {
            Ok(t) => panic!("{target:?}: accepted as {t:?}"),
            Err(e) => assert_eq!(e.to_string(), *want, "{target:?}"),
        }
    }
}

#[test]
fn static_targets_through_populate() {
    let cfg = load_str(
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['localhost:8000', 'localhost:8001']\n        labels: {env: prod}\n",
        "s.yml",
    )
    .unwrap();
    let s = &cfg.scrape_configs[0];
    let g = &s.static_target_groups()[0];
    assert_eq!(g.source, "0");
    let t = populate_labels(s, &g.targets[1], &g.labels)
        .unwrap()
        .labels
        .unwrap();
    assert_eq!(
        t,
        l(&[
            ("__address__", "localhost:8001"),
            ("__metrics_path__", "/metrics"),
            ("__scheme__", "http"),
            ("__scrape_interval__", "15s"),
            ("__scrape_timeout__", "10s"),
            ("env", "prod"),
            ("instance", "localhost:8001"),
            ("job", "app"),
        ])
    );
}

#[test]
fn file_sd_yaml_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let y = dir.path().join("a.yml");
    std::fs::write(
        &y,
        "- targets: ['h1:1', 'h2:2']\n  labels:\n    env: dev\n- targets: ['h3:3']\n",
    )
    .unwrap();
    let j = dir.path().join("b.JSON");
    std::fs::write(
        &j,
        r#"[{"targets": ["h4:4"], "labels": {"env": "prod"}, "ignored": 1}]"#,
    )
    .unwrap();
    let groups = read_file_sd(&y).unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].addresses().collect::<Vec<_>>(), ["h1:1", "h2:2"]);
    assert_eq!(
        groups[0].labels,
        l(&[
            ("__meta_filepath", &y.display().to_string()),
            ("env", "dev")
        ])
    );
    assert_eq!(groups[1].source, format!("{}:1", y.display()));
    let groups = read_file_sd(&j).unwrap();
    assert_eq!(groups[0].addresses().collect::<Vec<_>>(), ["h4:4"]);
    assert_eq!(
        groups[0].labels.get("__meta_filepath"),
        Some(j.display().to_string().as_str())
    );

    let cfg = load_str("scrape_configs:\n  - job_name: f\n    file_sd_configs:\n      - files: ['*.yml', '*.JSON', 'none-*.json']\n", "f.yml").unwrap();
    let sd = &cfg.scrape_configs[0].file_sd_configs[0];
    assert_eq!(sd.refresh_interval, std::time::Duration::from_secs(300));
    assert_eq!(
        expand_file_sd_globs(sd, dir.path()).unwrap(),
        vec![y.clone(), j.clone()]
    );
}

#[test]
fn file_sd_errors_are_located() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "sd.yml",
            "- targets: ['a:1']\n  labels:\n    '': x\n",
            "sd.yml:3:5: [0].labels: \"\" is not a valid label name",
        ),
        (
            "sd.yml",
            "- targets: ['a:1']\n  lables: {}\n",
            "sd.yml:2:3: [0]: unknown field `lables`",
        ),
        ("sd.yml", "- ~\n", "sd.yml: nil target group item found"),
        (
            "sd.json",
            "[{\"targets\": [1]}]",
            "sd.json:1:15: invalid type: integer `1`, expected a string",
        ),
        (
            "sd.json",
            "[{\"targets\": [\"a:1\"],}]",
            "sd.json:1:22: trailing comma",
        ),
        ("sd.txt", "", "sd.txt: unhandled file extension \".txt\""),
    ];
    for (name, src, want) in cases {
        let e = parse_file_sd(src, Path::new(name)).unwrap_err().to_string();
        assert!(
            e.starts_with(want),
            "{name} {src:?}: got {e:?}, want {want:?}"
        );
    }
}

#[test]
fn alertmanager_targets() {
    let cfg = load_str(
        "alerting:\n  alertmanagers:\n    - path_prefix: /am\n      scheme: https\n      static_configs: [{targets: ['am1:9093', 'drop:1'], labels: {dc: x}}]\n      relabel_configs:\n        - {source_labels: [__address__], regex: 'drop:.*', action: drop}\n",
        "a.yml",
    )
    .unwrap();
    let am = &cfg.alerting.alertmanagers[0];
    let g = &am.static_configs[0];
    let t = sightline_config::populate_alertmanager_labels(am, &g.targets[0], &g.labels).unwrap();
    let labels = t.labels.unwrap();
    assert_eq!(
        sightline_config::alertmanager_url(&labels),
        "https://am1:9093/am/api/v2/alerts"
    );
    assert_eq!(labels.get("dc"), Some("x"));
    let dropped =
        sightline_config::populate_alertmanager_labels(am, &g.targets[1], &g.labels).unwrap();
    assert_eq!(dropped.labels, None);
    assert_eq!(
        dropped.discovered_labels.get("__alerts_path__"),
        Some("/am/api/v2/alerts")
    );
}
