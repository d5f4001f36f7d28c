//! Wire shapes, converted by hand from domain types (domain types do not derive Serialize).

use serde_json::{Map, Value};
use sightline_model::{format_duration, Labels};
use sightline_scrape::{DroppedTarget, TargetSnapshot};

/// A label set as a JSON object.
pub(crate) fn labels(l: &Labels) -> Value {
    let mut m = Map::with_capacity(l.len());
    for x in l.iter() {
        m.insert(x.name.to_string(), Value::String(x.value.to_string()));
    }
    Value::Object(m)
}

/// RFC 3339 with nanoseconds as Go's time.Time marshals it, in UTC.
pub(crate) fn rfc3339_ms(t_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string())
}

pub(crate) fn active_target(t: &TargetSnapshot) -> Value {
    serde_json::json!({
        "discoveredLabels": labels(&t.discovered_labels),
        "labels": labels(&t.labels),
        "scrapePool": t.scrape_pool,
        "scrapeUrl": t.scrape_url,
        "globalUrl": t.scrape_url,
        "lastError": t.last_error,
        "lastScrape": t.last_scrape_ms.map(rfc3339_ms).unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string()),
        "lastScrapeDuration": t.last_scrape_duration.as_secs_f64(),
        "health": t.health.as_str(),
        "scrapeInterval": format_duration(t.scrape_interval),
        "scrapeTimeout": format_duration(t.scrape_timeout),
    })
}

pub(crate) fn dropped_target(t: &DroppedTarget) -> Value {
    serde_json::json!({
        "discoveredLabels": labels(&t.discovered_labels),
        "scrapePool": t.scrape_pool,
    })
}
