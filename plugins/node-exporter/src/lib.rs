//! The `node-exporter` plugin: host metrics as Debian's prometheus-node-exporter 1.5 exports
//! them (names, help, types, labels and the package's default exclusions).
//!
//! It reads `/proc` and `/sys` (granted read-only in `node-exporter.toml`) and gets
//! filesystem statistics for granted mount points through the host's `host-fs` interface,
//! since WASI has no statvfs.
//!
//! Collectors, named as node_exporter names them in `node_scrape_collector_*`: cpu, stat,
//! meminfo, loadavg, vmstat, pressure, uname and time in [`system`]; netdev, diskstats and
//! filesystem in [`devices`].

use std::collections::BTreeMap;

use sightline_sdk::{clock, log, Exporter, MetricFamily, MetricType};

mod devices;
mod system;

struct NodeExporter;

/// Families by name, created on first use.
#[derive(Default)]
pub(crate) struct Families(BTreeMap<String, MetricFamily>);

impl Families {
    pub(crate) fn add(
        &mut self,
        name: &str,
        help: &str,
        t: MetricType,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        self.0
            .entry(name.to_string())
            .or_insert_with(|| MetricFamily::new(name, help, t))
            .push(labels, value);
    }

    pub(crate) fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.add(name, help, MetricType::Gauge, labels, value);
    }

    pub(crate) fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.add(name, help, MetricType::Counter, labels, value);
    }
}

/// The whole file as text. One open and as few reads as possible: every file operation is a
/// host call through the runtime's filesystem guard, and `read_to_string`'s size probes
/// (a stat, then small reads, for procfs files that report size 0) cost as much as the data.
pub(crate) fn read(path: &str) -> Result<String, String> {
    use std::io::Read;
    let fail = |e: std::io::Error| format!("reading {path}: {e}");
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(e)),
        }
    }
    buf.truncate(len);
    String::from_utf8(buf).map_err(|e| format!("reading {path}: {e}"))
}

/// A collector adds its families, or fails as a whole (node_exporter then reports
/// `node_scrape_collector_success 0` for it and keeps the others).
type Collector = fn(&mut Families) -> Result<(), String>;

/// node_exporter's collectors that this plugin implements, in its name order.
const COLLECTORS: [(&str, Collector); 11] = [
    ("cpu", system::cpu),
    ("diskstats", devices::diskstats),
    ("filesystem", devices::filesystem),
    ("loadavg", system::loadavg),
    ("meminfo", system::meminfo),
    ("netdev", devices::netdev),
    ("pressure", system::pressure),
    ("stat", system::stat),
    ("time", system::time),
    ("uname", system::uname),
    ("vmstat", system::vmstat),
];

impl Exporter for NodeExporter {
    fn collect(_target: &sightline_sdk::Target) -> Result<Vec<MetricFamily>, String> {
        let mut f = Families::default();
        let mut errors = Vec::new();
        let mut results = Vec::new();
        for (name, collector) in COLLECTORS {
            let started = clock::monotonic_ns();
            let ok = match collector(&mut f) {
                Ok(()) => 1.0,
                Err(e) => {
                    log::warn(&format!("collector {name} failed: {e}"));
                    errors.push(e);
                    0.0
                }
            };
            let took = clock::monotonic_ns().saturating_sub(started) as f64 / 1e9;
            results.push((name, ok, took));
        }
        for (name, ok, took) in results {
            f.gauge(
                "node_scrape_collector_duration_seconds",
                "node_exporter: Duration of a collector scrape.",
                &[("collector", name)],
                took,
            );
            f.gauge(
                "node_scrape_collector_success",
                "node_exporter: Whether a collector succeeded.",
                &[("collector", name)],
                ok,
            );
        }
        if errors.len() == COLLECTORS.len() {
            return Err(format!("every collector failed: {}", errors.join("; ")));
        }
        Ok(f.0.into_values().collect())
    }
}

sightline_sdk::export_exporter!(NodeExporter);
