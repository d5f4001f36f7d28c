//! A contract 0.2 exporter written against the WIT alone (no SDK): echoes the target it is
//! called for, its config keys, and what `template` renders outside a notification.
wit_bindgen::generate!({ path: "../../../wit/v0.2", world: "exporter-plugin", generate_all });

use exports::sightline::plugin::exporter::Guest;
use sightline::plugin::metrics::{MetricFamily, MetricType, Sample, Target};
use sightline::plugin::types::Label;
use sightline::plugin::{config, template};

struct G;

fn label(name: &str, value: &str) -> Label {
    Label {
        name: name.to_string(),
        value: value.to_string(),
    }
}

fn gauge(name: &str, labels: Vec<Label>, value: f64) -> MetricFamily {
    MetricFamily {
        name: name.to_string(),
        help: String::new(),
        type_: MetricType::Gauge,
        unit: String::new(),
        samples: vec![Sample {
            labels,
            value,
            timestamp_ms: None,
            histogram: None,
            summary: None,
        }],
    }
}

impl Guest for G {
    fn collect(target: Target) -> Result<Vec<MetricFamily>, String> {
        let params: Vec<String> = target
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", v.join("|")))
            .collect();
        let mut labels = vec![
            label("address", &target.address),
            label("params", &params.join(";")),
            label("timeout_ms", &target.timeout_ms.to_string()),
        ];
        for l in &target.labels {
            labels.push(label(&format!("t_{}", l.name), &l.value));
        }
        let keys: Vec<String> = config::get_all().into_iter().map(|(k, _)| k).collect();
        let outside = template::render("[{{ .Status }}]").unwrap_or_else(|e| e);
        Ok(vec![
            gauge("guest_target_info", labels, 1.0),
            gauge(
                "guest_config_keys",
                vec![label("keys", &keys.join(",")), label("template", &outside)],
                keys.len() as f64,
            ),
        ])
    }
}

export!(G);
