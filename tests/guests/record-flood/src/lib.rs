//! Hostile guest for `plugin test`: a receiver that posts 3,000 bodies of 256 KiB and
//! three of 3 MiB (about 760 MB in all). Config `posts` changes the count. A CLI that
//! records every request keeps it all; expect a bounded record, marked as such.
use sightline_sdk::{config, http, AlertGroup, Receiver};
struct G;
impl Receiver for G {
    fn notify(_group: AlertGroup) -> Result<(), String> {
        let n: usize = config::get("posts")
            .and_then(|v| v.parse().ok())
            .unwrap_or(3_000);
        let url = config::get("url").unwrap_or_else(|| "http://127.0.0.1:9/hook".to_string());
        let big = "b".repeat(3 << 20);
        for _ in 0..3 {
            http::post_json(&url, &big, &[]).map_err(|e| e.to_string())?;
        }
        let body = "x".repeat(256 << 10);
        for _ in 0..n {
            http::post_json(&url, &body, &[]).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
sightline_sdk::export_receiver!(G);
