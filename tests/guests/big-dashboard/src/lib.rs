//! A dashboard plugin returning a 15 MB model (15,000 text panels of 1 KB): the host must
//! evaluate and parse it once per loaded version, not once (or twice) per request.
use sightline_sdk::Dashboard;
struct G;
impl Dashboard for G {
    fn dashboard() -> Result<String, String> {
        let content = "x".repeat(1000);
        let mut json = String::with_capacity(15_500_000);
        json.push_str(r#"{"uid":"big","title":"Big","tags":["big"],"panels":["#);
        for i in 0..15_000 {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&format!(
                r#"{{"type":"text","title":"panel {i}","options":{{"content":"{content}"}}}}"#
            ));
        }
        json.push_str("]}");
        Ok(json)
    }
}
sightline_sdk::export_dashboard!(G);
