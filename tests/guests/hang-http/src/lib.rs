//! Hostile guest: waits on an outbound request to a granted server that never
//! answers, then keeps retrying. Expect a timeout.
use sightline_sdk::{config, http, AlertGroup, Receiver};
struct G;
impl Receiver for G {
    fn notify(_group: AlertGroup) -> Result<(), String> {
        let url = config::require("url")?;
        loop {
            let _ = http::post_json(&url, "{}", &[]);
        }
    }
}
sightline_sdk::export_receiver!(G);
