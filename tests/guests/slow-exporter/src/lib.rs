//! A slow exporter: sleeps `sleep_ms` (config, default 300) milliseconds inside a host call,
//! then touches `alloc_mib` (config, default 0) MiB of memory and returns one gauge. Used to
//! hammer one plugin with concurrent calls (its concurrency cap, the shared instance slots,
//! the memory ceiling of all instances together).
use sightline_sdk::{config, Exporter, MetricFamily, MetricType};
struct G;
impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let num = |key: &str, default: u64| {
            config::get(key)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let hoard = vec![1u8; (num("alloc_mib", 0) as usize) << 20];
        std::hint::black_box(&hoard);
        std::thread::sleep(std::time::Duration::from_millis(num("sleep_ms", 300)));
        let mut g = MetricFamily::new("slow_done", "Calls finished.", MetricType::Gauge);
        g.push(&[], hoard.len() as f64);
        Ok(vec![g])
    }
}
sightline_sdk::export_exporter!(G);
