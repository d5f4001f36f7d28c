//! The peer configs of current Alertmanager's `config/testdata`, each accepted or rejected as
//! `tests/conformance/alertmanager/expectations.yml` (derived from Alertmanager's own
//! `config_test.go`) says; for files that only use what 0.25 knows, Debian's `amtool
//! check-config` must give the same verdict.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/alertmanager")
}

const AMTOOL: &str = "/usr/bin/amtool";

#[test]
fn conformance_alertmanager_peer_configs() {
    let dir = dir();
    let text = std::fs::read_to_string(dir.join("expectations.yml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let files = doc["files"].as_mapping().unwrap();
    assert!(
        Path::new(AMTOOL).exists(),
        "amtool is missing: install Debian's prometheus-alertmanager (0.25) for {AMTOOL}"
    );
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("conf.") && n.ends_with(".yml"))
        .collect();
    on_disk.sort();
    let listed: Vec<String> = files
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    for f in &on_disk {
        assert!(
            listed.contains(f),
            "{f} has no expectation in expectations.yml"
        );
    }
    let (mut passed, mut amtool_agreed) = (0, 0);
    let mut failures = Vec::new();
    for (name, exp) in files {
        let name = name.as_str().unwrap();
        let path = dir.join(name);
        let accept = exp["accept"].as_bool().unwrap();
        let got =
            sightline_alerts::load_str(&std::fs::read_to_string(&path).unwrap(), name, &|_| None);
        match (&got, accept) {
            (Ok(_), true) => passed += 1,
            (Err(e), false) => {
                let want = exp["error"].as_str().unwrap_or("");
                if e.to_string().contains(want) {
                    passed += 1;
                } else {
                    failures.push(format!("{name}: error {e:?} does not contain {want:?}"));
                }
            }
            (Ok(_), false) => failures.push(format!("{name}: accepted, Alertmanager rejects it")),
            (Err(e), true) => {
                failures.push(format!("{name}: rejected ({e}), Alertmanager accepts it"))
            }
        }
        if exp["amtool025"].as_bool().unwrap_or(false) {
            let out = Command::new(AMTOOL)
                .arg("check-config")
                .arg(&path)
                .output()
                .unwrap();
            // On the files both accept, `sightline check alertmanager`'s report is amtool's.
            let (ours, _) = sightline_alerts::check_config_file(&path);
            if accept && out.status.success() && ours != String::from_utf8_lossy(&out.stdout) {
                failures.push(format!(
                    "{name}: report differs from amtool's:\n{ours}---\n{}",
                    String::from_utf8_lossy(&out.stdout)
                ));
            } else if out.status.success() == accept {
                amtool_agreed += 1;
            } else {
                failures.push(format!(
                    "{name}: amtool 0.25 says {} but the expectation is {accept}: {}",
                    out.status.success(),
                    String::from_utf8_lossy(&out.stdout)
                ));
            }
        }
    }
    println!(
        "alertmanager peer configs: {passed}/{} pass, amtool 0.25 agrees on {amtool_agreed}",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
