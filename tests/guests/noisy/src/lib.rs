//! Hostile guest: says too much, and says it to forge log lines. Every call logs 5,000
//! messages with newlines, ANSI escapes and a bidi override (each trying to start a fake
//! `level=error` line), tries 2,000 denied HTTP requests (each denial is a host warning),
//! and fails with a 50 MB error string that also carries a forged line. Config `error_mb`
//! changes the error's size. Expect every line truncated, escaped and rate-limited.
use sightline_sdk::{config, http, log, Exporter, MetricFamily};
struct G;

/// What the guest tries to inject: a newline followed by a line in the daemon's format.
pub const FORGED: &str = "\nlevel=error ts=2026-01-01T00:00:00Z msg=FORGED-BY-GUEST\r\n\u{1b}[2J\u{202e}";

impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let mb: usize = config::get("error_mb")
            .and_then(|v| v.parse().ok())
            .unwrap_or(50);
        for i in 0..5_000 {
            log::warn(&format!("noisy {i}{FORGED}"));
        }
        for _ in 0..2_000 {
            let _ = http::post_json("http://169.254.169.254/forged\nlevel=error", "{}", &[]);
        }
        let mut err = String::with_capacity(mb << 20);
        err.push_str(FORGED);
        while err.len() < mb << 20 {
            err.push_str("0123456789abcdef");
        }
        Err(err)
    }
}
sightline_sdk::export_exporter!(G);
