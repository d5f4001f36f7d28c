//! An exporter written from the WIT alone, without `sightline-sdk`: it binds
//! `wit/` with `wit_bindgen::generate!` directly and implements the generated
//! `Guest` trait of the `exporter` world.
//!
//! It exports `node_uptime_seconds` (from `/proc/uptime`) and
//! `example_collections_total`-style config echo. Build and try it:
//!
//! ```text
//! cargo build --release --manifest-path examples/Cargo.toml
//! cp examples/target/wasm32-wasip2/release/raw_uptime_exporter.wasm /tmp/uptime.wasm
//! printf '[fs]\nread_only = ["/proc"]\n[config]\nsite = "lab"\n' > /tmp/uptime.toml
//! sightline plugin test /tmp/uptime.wasm
//! ```
//!
//! Without the `/proc` grant the plugin fails with the WASI error for the
//! missing directory, which `plugin test` prints.

wit_bindgen::generate!({
    path: "../../wit",
    world: "exporter",
    generate_all,
});

use sightline::plugin::config;
use sightline::plugin::metrics::{MetricType, Sample};
use sightline::plugin::types::Label;

struct Uptime;

impl Guest for Uptime {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let text = std::fs::read_to_string("/proc/uptime")
            .map_err(|e| format!("reading /proc/uptime: {e}"))?;
        let uptime: f64 = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("unexpected /proc/uptime content {text:?}"))?;
        let site = config::get("site").unwrap_or_else(|| "unknown".to_string());
        Ok(vec![MetricFamily {
            name: "node_uptime_seconds".to_string(),
            help: "Seconds since the host booted.".to_string(),
            type_: MetricType::Gauge,
            unit: "seconds".to_string(),
            samples: vec![Sample {
                labels: vec![Label {
                    name: "site".to_string(),
                    value: site,
                }],
                value: uptime,
                timestamp_ms: None,
                histogram: None,
                summary: None,
            }],
        }])
    }
}

export!(Uptime);
