//! The node-exporter plugin side by side with Debian's prometheus-node-exporter 1.5 on the
//! same machine (issue 17): one daemon scrapes both every second, node_exporter over HTTP
//! (job `ne`) and the plugin (job `plugin`), and for the collectors the plugin implements the
//! test compares what the daemon stored of each: metric names, HELP, TYPE and unit (from
//! `/api/v1/metadata`, which lists one entry per name when both agree), label sets (without
//! `job` and `instance`) and values within the tolerances below. It prints the counts and
//! the median scrape duration of each.
//!
//! node_exporter runs with only those collectors and with the plugin's defaults where they
//! differ from the Debian package's: every network device (upstream's default; Debian's
//! package excludes `lo`), and only the mount points the plugin's manifest grants to statfs
//! (`/`).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{eventually, free_port, http_get, urlencode, Daemon, BIN};

const NODE_EXPORTER: &str = "prometheus-node-exporter";

/// node_exporter's collectors that the plugin implements.
const COLLECTORS: [&str; 11] = [
    "cpu",
    "diskstats",
    "filesystem",
    "loadavg",
    "meminfo",
    "netdev",
    "pressure",
    "stat",
    "time",
    "uname",
    "vmstat",
];

/// Families node_exporter exports and the plugin deliberately does not, with the reason.
/// (node_exporter's `go_*`, `process_*` and `promhttp_*` families describe its own Go
/// process, not the node, and are not compared.)
const ONLY_NODE_EXPORTER: [(&str, &str); 6] = [
    (
        "node_exporter_build_info",
        "node_exporter's own version and Go build, not a collector's",
    ),
    (
        "node_time_zone_offset_seconds",
        "the zone is /etc/localtime; the plugin is granted /proc and /sys only, and \
         granting /etc would open far more than the zone",
    ),
    (
        "node_disk_filesystem_info",
        "from udev's database (/run/udev/data), which the plugin is not granted",
    ),
    (
        "node_disk_device_mapper_info",
        "from udev's database (/run/udev/data), which the plugin is not granted",
    ),
    (
        "node_disk_ata_write_cache",
        "from udev's database (/run/udev/data), which the plugin is not granted",
    ),
    (
        "node_disk_ata_rotation_rate_rpm",
        "from udev's database (/run/udev/data), which the plugin is not granted",
    ),
];

/// Labels of `node_disk_info` that node_exporter takes from udev's database; the plugin
/// leaves them empty (not granted `/run`), as node_exporter does on machines without udev.
const UDEV_LABELS: [&str; 5] = ["path", "wwn", "model", "serial", "revision"];

/// Families whose values are not compared: each implementation's own timing.
const VALUES_NOT_COMPARED: [&str; 1] = ["node_scrape_collector_duration_seconds"];

/// Gauges that must be equal: constants of the machine and of the collectors.
const EXACT: [&str; 14] = [
    "node_boot_time_seconds",
    "node_uname_info",
    "node_disk_info",
    "node_filesystem_size_bytes",
    "node_filesystem_files",
    "node_filesystem_readonly",
    "node_filesystem_device_error",
    "node_scrape_collector_success",
    "node_time_clocksource_available_info",
    "node_time_clocksource_current_info",
    "node_memory_MemTotal_bytes",
    "node_memory_SwapTotal_bytes",
    "node_memory_Hugepagesize_bytes",
    "node_cpu_isolated",
];

/// Instantaneous counts that change from one moment to the next on a busy machine; they are
/// compared loosely (within 64).
const VOLATILE: [&str; 3] = [
    "node_procs_running",
    "node_procs_blocked",
    "node_disk_io_now",
];

/// The stored last sample of one series: timestamp (seconds) and value.
type Sample = (f64, f64);
/// Series by family name, then by label set (without `job` and `instance`).
type Stored = BTreeMap<String, BTreeMap<BTreeMap<String, String>, Sample>>;

/// node_exporter, killed when dropped.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_node_exporter(port: u16) -> Peer {
    let found = Command::new(NODE_EXPORTER)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{NODE_EXPORTER}` is needed by this side-by-side test: install Debian's \
         prometheus-node-exporter package (apt-get install prometheus-node-exporter); \
         ./dev test and .ci/run do that"
    );
    let mut cmd = Command::new(NODE_EXPORTER);
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--collector.disable-defaults")
        // The plugin, like upstream node_exporter, keeps `lo`.
        .arg("--collector.netdev.device-exclude=")
        // The plugin's manifest grants statfs of `/` only: every other mount point is left
        // out, as the plugin leaves them out.
        .arg("--collector.filesystem.mount-points-exclude=^/.+")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for c in COLLECTORS {
        cmd.arg(format!("--collector.{c}"));
    }
    let peer = Peer(cmd.spawn().expect("spawn prometheus-node-exporter"));
    let addr = format!("127.0.0.1:{port}");
    eventually(20, "node_exporter to answer /metrics", || {
        matches!(http_get(&addr, "/metrics"), Ok((200, _))).then_some(())
    });
    peer
}

/// A query's result vector or matrix.
fn query(d: &Daemon, q: &str) -> Vec<Value> {
    let v = d.get_json(&format!("/api/v1/query?query={}", urlencode(q)));
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The last stored sample of every `node_*` series of `job`.
fn stored(d: &Daemon, job: &str) -> Stored {
    let mut out = Stored::new();
    for s in query(d, &format!("{{__name__=~\"node_.+\",job=\"{job}\"}}[5s]")) {
        let mut labels: BTreeMap<String, String> = s["metric"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let name = labels.remove("__name__").unwrap();
        labels.remove("job");
        labels.remove("instance");
        if name == "node_disk_info" {
            labels.retain(|k, _| !UDEV_LABELS.contains(&k.as_str()));
        }
        let Some(last) = s["values"].as_array().and_then(|v| v.last()) else {
            continue;
        };
        let ts = last[0].as_f64().unwrap();
        let value = last[1].as_str().unwrap().parse::<f64>().unwrap();
        out.entry(name).or_default().insert(labels, (ts, value));
    }
    out
}

/// Whether two samples of one series agree, and the tolerance applied (for the message).
fn within(name: &str, counter: bool, ne: Sample, plugin: Sample, mem_total: f64) -> (bool, String) {
    let ((t_ne, a), (t_pl, b)) = (ne, plugin);
    let dt = (t_ne - t_pl).abs();
    if EXACT.contains(&name) {
        return (a == b, "exactly".into());
    }
    if counter {
        // The later sample may only have grown, by at most 5% of the earlier one plus 100
        // per second between them (and one).
        let (early, late) = if t_pl >= t_ne { (a, b) } else { (b, a) };
        let slack = 0.05 * early.abs() + 100.0 * (dt + 1.0);
        // The kernel's per-CPU idle and iowait times can step back a little (node_exporter
        // hides that by keeping the highest value it has seen, node_exporter issue 1686; the
        // plugin keeps nothing between calls): up to 1 s back is allowed there, elsewhere
        // only rounding in the last place.
        let back = if name == "node_cpu_seconds_total" {
            1.0
        } else {
            1e-12 * early.abs()
        };
        let ok = late >= early - back && late - early <= slack;
        return (ok, format!("counter: later >= earlier, within {slack:.0}"));
    }
    if name == "node_time_seconds" {
        // The clock against the scrape's timestamp.
        let ok = ((a - t_ne) - (b - t_pl)).abs() <= 1.0;
        return (ok, "clock within 1s of the scrape time".into());
    }
    let tol = if name.starts_with("node_memory_") {
        // A few % of the machine's memory: the page cache and free memory move quickly.
        0.03 * mem_total
    } else if VOLATILE.contains(&name) {
        64.0
    } else if name.starts_with("node_load") {
        1.0 + 0.1 * a.abs()
    } else {
        1.0 + 0.05 * a.abs().max(b.abs())
    };
    ((a - b).abs() <= tol, format!("gauge: within {tol}"))
}

/// HELP and TYPE of each family as the plugin itself returns them (`sightline plugin test`),
/// so that the comparison does not rest on the daemon's merged metadata alone.
fn plugin_families(wasm: &std::path::Path) -> BTreeMap<String, (String, String)> {
    let out = Command::new(BIN)
        .args(["plugin", "test"])
        .arg(wasm)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sightline plugin test: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("name"), (s("help"), s("type")))
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// What one look at both jobs' stored samples found: (matched, compared) per aspect.
#[derive(Default)]
struct Comparison {
    names: (usize, usize),
    meta: (usize, usize),
    sets: (usize, usize),
    values: (usize, usize),
    failures: Vec<String>,
    not_compared: Vec<String>,
}

/// Compares the last stored samples of jobs `ne` and `plugin`.
fn compare(d: &Daemon, own: &BTreeMap<String, (String, String)>) -> Comparison {
    let ne = stored(d, "ne");
    let plugin = stored(d, "plugin");
    let metadata = d.get_json("/api/v1/metadata")["data"].clone();
    let only_ne: BTreeMap<&str, &str> = ONLY_NODE_EXPORTER.into_iter().collect();
    let mem_total = ne["node_memory_MemTotal_bytes"]
        .values()
        .next()
        .map(|s| s.1)
        .unwrap();

    let mut c = Comparison::default();
    let failures = &mut c.failures;
    let names: BTreeSet<&String> = ne.keys().chain(plugin.keys()).collect();
    for name in names {
        let (Some(a), Some(b)) = (ne.get(name), plugin.get(name)) else {
            if let Some(why) = only_ne.get(name.as_str()).filter(|_| ne.contains_key(name)) {
                c.not_compared.push(format!("{name} ({why})"));
            } else {
                c.names.1 += 1;
                let side = if ne.contains_key(name) {
                    "node_exporter"
                } else {
                    "the plugin"
                };
                failures.push(format!("{name}: only {side} has it"));
            }
            continue;
        };
        c.names.1 += 1;
        c.names.0 += 1;

        c.meta.1 += 1;
        // One entry: both targets' HELP, TYPE and unit are the same; and it is what the
        // plugin itself returns.
        let meta = metadata[name.as_str()]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let as_plugin = own.get(name.as_str()).is_some_and(|(help, t)| {
            meta.first()
                .is_some_and(|m| m["help"] == help.as_str() && m["type"] == t.as_str())
        });
        if meta.len() == 1 && as_plugin {
            c.meta.0 += 1;
        } else {
            failures.push(format!(
                "{name}: HELP/TYPE/unit differ: {meta:?}; the plugin's own: {:?}",
                own.get(name.as_str())
            ));
        }
        let counter = meta.first().is_some_and(|m| m["type"] == "counter")
            || name.starts_with("node_vmstat_");

        let sets: BTreeSet<_> = a.keys().chain(b.keys()).collect();
        for set in sets {
            c.sets.1 += 1;
            let (Some(&x), Some(&y)) = (a.get(set), b.get(set)) else {
                let side = if a.contains_key(set) {
                    "node_exporter"
                } else {
                    "the plugin"
                };
                failures.push(format!("{name}{set:?}: only {side} has it"));
                continue;
            };
            c.sets.0 += 1;
            if VALUES_NOT_COMPARED.contains(&name.as_str()) {
                continue;
            }
            c.values.1 += 1;
            let (ok, how) = within(name, counter, x, y, mem_total);
            if ok {
                c.values.0 += 1;
            } else {
                failures.push(format!(
                    "{name}{set:?}: node_exporter {} at {}, plugin {} at {} ({how})",
                    x.1, x.0, y.1, y.0
                ));
            }
        }
    }
    c
}

#[test]
fn conformance_node_exporter_plugin_matches_debians_node_exporter() {
    let ne_port = free_port();
    let _ne = start_node_exporter(ne_port);

    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let manifest =
        std::fs::read_to_string(sightline_tests::repo_root().join("plugins/node-exporter.toml"))
            .unwrap();
    assert!(
        manifest.contains("statfs = [\"/\"]"),
        "the manifest's statfs grant changed; mirror it in node_exporter's mount-points-exclude"
    );
    sightline_tests::install(
        &plugins,
        "node-exporter",
        &sightline_tests::first_party("node-exporter"),
        Some(&manifest),
    );
    let own = plugin_families(&plugins.join("node-exporter.wasm"));
    let config = format!(
        "\
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: ne
    static_configs:
      - targets: ['127.0.0.1:{ne_port}']
  - job_name: plugin
    plugin: node-exporter
"
    );
    let d = Daemon::start_in(dir, Some(&config), &[]);

    // About twenty scrapes of each, for the durations; both must succeed every time.
    let started = Instant::now();
    loop {
        let counts = query(&d, "count_over_time(up[1m]) and min_over_time(up[1m]) == 1");
        let enough = counts.len() == 2
            && counts.iter().all(|c| {
                c["value"][1]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok())
                    .is_some_and(|n| n >= 21.0)
            });
        if enough {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no 21 successful scrapes of both jobs in 60 s: {counts:?}; targets: {}",
            d.get_json("/api/v1/targets")
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Names, metadata and label sets are the same at any moment; values are read a moment
    // apart on a shared machine, so a comparison whose only differences are values is
    // repeated (at most three looks, two seconds apart) before it counts as failed.
    let mut c = compare(&d, &own);
    for _ in 0..2 {
        let values_only = c.names.0 == c.names.1 && c.meta.0 == c.meta.1 && c.sets.0 == c.sets.1;
        if c.failures.is_empty() || !values_only {
            break;
        }
        println!("values differ, looking again: {:#?}", c.failures);
        std::thread::sleep(Duration::from_secs(2));
        c = compare(&d, &own);
    }
    for n in &c.not_compared {
        println!("not compared: {n}");
    }

    let durations = |job: &str| {
        let r = query(&d, &format!("scrape_duration_seconds{{job=\"{job}\"}}[1m]"));
        let v: Vec<f64> = r[0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[1].as_str().unwrap().parse::<f64>().unwrap())
            .collect();
        (v.len(), median(v) * 1000.0)
    };
    let ((n_ne, med_ne), (n_pl, med_pl)) = (durations("ne"), durations("plugin"));
    // What each says its collectors took together, per scrape.
    let collectors_took = |job: &str| {
        let mut per_scrape: BTreeMap<i64, f64> = BTreeMap::new();
        let q = format!("node_scrape_collector_duration_seconds{{job=\"{job}\"}}[1m]");
        for s in query(&d, &q) {
            for p in s["values"].as_array().unwrap() {
                let t = (p[0].as_f64().unwrap() * 1000.0) as i64;
                *per_scrape.entry(t).or_default() += p[1].as_str().unwrap().parse::<f64>().unwrap();
            }
        }
        median(per_scrape.into_values().collect()) * 1000.0
    };
    let (own_ne, own_pl) = (collectors_took("ne"), collectors_took("plugin"));
    println!(
        "node exporter parity ({} collectors): names matched {}/{}, HELP/TYPE matched {}/{}, \
         label sets {}/{}, values within tolerance {}/{}",
        COLLECTORS.len(),
        c.names.0,
        c.names.1,
        c.meta.0,
        c.meta.1,
        c.sets.0,
        c.sets.1,
        c.values.0,
        c.values.1
    );
    println!(
        "scrape duration, median as the daemon measured it: node_exporter {med_ne:.2} ms \
         ({n_ne} scrapes over HTTP, with its go_/process_ families), plugin {med_pl:.2} ms \
         ({n_pl} calls); their collectors, by their own clocks: node_exporter {own_ne:.2} ms, \
         plugin {own_pl:.2} ms"
    );
    assert!(
        c.failures.is_empty(),
        "{} differences:\n{}",
        c.failures.len(),
        c.failures.join("\n")
    );
    assert!(c.names.0 >= 100 && c.sets.0 >= 150, "too little compared");
}
