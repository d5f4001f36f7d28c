//! `sightline import openmetrics` and `sightline query`.

use std::process::Command;

use crate::support::{Daemon, BIN};

#[test]
fn import_then_query_gives_the_file_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backfill.om");
    // Six hours of one sample a minute for two series, ending an hour ago.
    let end = sightline_model::now_ms() / 1000 / 60 * 60 - 3600;
    let start = end - 6 * 3600;
    let mut om = String::from("# TYPE backfill_temp gauge\n");
    // OpenMetrics wants each series' samples together.
    for t in (start..=end).step_by(60) {
        om.push_str(&format!(
            "backfill_temp{{room=\"a\"}} {} {t}\n",
            (t - start) as f64 / 60.0
        ));
    }
    for t in (start..=end).step_by(60) {
        om.push_str(&format!(
            "backfill_temp{{room=\"b\"}} {} {t}\n",
            -((t - start) as f64)
        ));
    }
    om.push_str("# EOF\n");
    std::fs::write(&file, &om).unwrap();
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .args(["import", "openmetrics"])
        .arg(&file)
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "imported {} samples of 2 series",
            2 * (6 * 60 + 1)
        )),
        "{text}"
    );

    // A broken file is rejected with its line, and changes nothing.
    let bad = dir.path().join("bad.om");
    std::fs::write(
        &bad,
        "backfill_temp{room=\"c\"} 1 100\nbackfill_temp{room=\"c\" 2 160\n# EOF\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["import", "openmetrics"])
        .arg(&bad)
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(
        text.contains("line 2") || text.contains(":2:") || text.contains("2:"),
        "error names the line: {text}"
    );

    // The daemon serves the imported data; `sightline query` prints it.
    let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &[]);
    let server = format!("http://{}", d.addr);
    let q = |expr: &str, t: i64| {
        let out = Command::new(BIN)
            .args([
                "query",
                expr,
                "--time",
                &t.to_string(),
                "--server",
                &server,
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["data"]["result"].clone()
    };
    let r = q("backfill_temp{room=\"a\"}", start + 90 * 60);
    assert_eq!(r[0]["value"][1], "90", "{r}");
    let r = q("backfill_temp{room=\"b\"}", end);
    assert_eq!(r[0]["value"][1], format!("{}", -(6 * 3600)), "{r}");
    let r = q("count_over_time(backfill_temp[6h])", end);
    assert_eq!(r.as_array().unwrap().len(), 2);
    assert_eq!(r[0]["value"][1], "360", "{r}");
    let table = Command::new(BIN)
        .args([
            "query",
            "backfill_temp",
            "--time",
            &end.to_string(),
            "--server",
            &server,
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(table.contains("backfill_temp{room=\"a\"}"), "{table}");
}
