//! `sightline check config`: promtool's contract (exit 0 valid, 1 invalid, located errors).

use std::process::Command;

use crate::support::{shared_dir, BIN};

/// The prometheus.yml block of the seed document, unchanged.
pub(crate) fn seed_prometheus_yml() -> String {
    let doc = std::fs::read_to_string(shared_dir().join("seed/monitoring-setup.md")).unwrap();
    let start = doc
        .find("# /etc/prometheus/prometheus.yml")
        .expect("seed prometheus.yml block");
    let end = start + doc[start..].find("```").expect("end of block");
    doc[start..end].to_string()
}

#[test]
fn check_config_accepts_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prometheus.yml");
    std::fs::write(&p, seed_prometheus_yml()).unwrap();
    // The seed's rule file sits beside it.
    std::fs::write(dir.path().join("alerts.yml"), "groups: []\n").unwrap();
    let out = Command::new(BIN)
        .args(["check", "config"])
        .arg(&p)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("SUCCESS"), "{text}");
}

#[test]
fn check_config_rejects_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.yml");
    std::fs::write(&p, "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: x\n    scrape_timeout: banana\n").unwrap();
    let out = Command::new(BIN)
        .args(["check", "config"])
        .arg(&p)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{}:5:", p.display())),
        "error must carry file:line:col: {text}"
    );
}
