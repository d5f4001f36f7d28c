fn main() {
    let cases = [
        "global:\n  scrape_interval: 5x\n",
        "global:\n  foo: 1\n",
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['x:1']\n  - job_name: a\n",
        "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n",
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: foo\n",
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:1/metrics']\n",
        "scrape_configs:\n  - metrics_path: /x\n",
        "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: p}\n    bearer_token: t\n",
        "scrape_configs:\n  - job_name: a\n    body_size_limit: 10XB\n",
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['x:1']\n        labels: {'1a': b}\n",
        "rule_files: ['a/*/b.yml']\n",
        "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: []\n",
        "scrape_configs:\n  - job_name: a\n    oauth2:\n      client_id: x\n",
        "global:\n  scrape_interval: [1\n",
        "scrape_configs:\n  - job_name: a\n    scheme: ftp\n",
        "scrape_configs:\n  - job_name: a\n    sample_limit: -1\n",
        "remote_write:\n  - url: http://x\n    sigv4: {region: x}\n",
        "scrape_configs:\n  -\n",
    ];
    for c in cases {
        match sightline_config::load_str(c, "p.yml") {
            Ok(_) => println!("OK?? {c:?}"),
            Err(e) => println!("{e}"),
        }
    }
    let c = sightline_config::load_file("testdata/seed-prometheus.yml").unwrap();
    println!("{}", c.redacted_yaml());
}
