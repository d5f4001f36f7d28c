//! A notification's data as Alertmanager 0.25 hands it to templates (`template.Data`) and to
//! webhooks (`webhook.Message`, version 4).

use serde_json::{json, Map, Value as Json};
use sightline_template::alertmanager as tmpl;
use sightline_template::{Time, Value};

use crate::alert::{fingerprint_hex, rfc3339, Alert};
use crate::matchers::LabelSet;

/// One alert of a notification (`template.Alert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataAlert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Labels.
    pub labels: LabelSet,
    /// Annotations.
    pub annotations: LabelSet,
    /// Start (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms); `None` (Go's zero time) while firing.
    pub ends_at: Option<i64>,
    /// `generatorURL`.
    pub generator_url: String,
    /// Fingerprint, 16 hex digits.
    pub fingerprint: String,
}

/// A notification's template data (`template.Data`) plus the group key webhooks carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateData {
    /// The receiver's name, quoted as `regexp.QuoteMeta` quotes it (Alertmanager does).
    pub receiver: String,
    /// `firing` when any alert fires, else `resolved`.
    pub status: String,
    /// The alerts, in the group's order.
    pub alerts: Vec<DataAlert>,
    /// The group's labels.
    pub group_labels: LabelSet,
    /// Labels every alert has with the same value.
    pub common_labels: LabelSet,
    /// Annotations every alert has with the same value.
    pub common_annotations: LabelSet,
    /// `--web.external-url`.
    pub external_url: String,
    /// The aggregation group's key (`webhook.Message.GroupKey`).
    pub group_key: String,
}

impl TemplateData {
    /// Builds the data as `template.Data` does for the alerts of one notification.
    pub fn new(
        receiver: &str,
        group_key: &str,
        group_labels: &LabelSet,
        alerts: &[Alert],
        external_url: &str,
        now_ms: i64,
    ) -> TemplateData {
        let alerts: Vec<DataAlert> = alerts
            .iter()
            .map(|a| DataAlert {
                status: a.status_at(now_ms).to_string(),
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                generator_url: a.generator_url.clone(),
                fingerprint: fingerprint_hex(a.fingerprint()),
            })
            .collect();
        // The template crate computes the quoting, the status and the common labels exactly
        // as `template.Data`; one implementation of those rules.
        let d = tmpl::Data::new(
            receiver,
            group_labels.clone(),
            alerts.iter().map(to_tmpl_alert).collect(),
            external_url,
        );
        TemplateData {
            receiver: d.receiver,
            status: d.status,
            alerts,
            group_labels: d.group_labels,
            common_labels: d.common_labels,
            common_annotations: d.common_annotations,
            external_url: d.external_url,
            group_key: group_key.to_string(),
        }
    }

    /// The data as the template crate's `template.Data`.
    pub fn to_template_data(&self) -> tmpl::Data {
        tmpl::Data {
            receiver: self.receiver.clone(),
            status: self.status.clone(),
            alerts: self.alerts.iter().map(to_tmpl_alert).collect(),
            group_labels: self.group_labels.clone(),
            common_labels: self.common_labels.clone(),
            common_annotations: self.common_annotations.clone(),
            external_url: self.external_url.clone(),
        }
    }

    /// The data as a template value (`.Receiver`, `.Alerts.Firing`, ...), for
    /// `{{ template "slack.default.title" . }}`.
    pub fn to_value(&self) -> Value {
        self.to_template_data().to_value()
    }

    /// The webhook payload (`webhook.Message`, version 4) in Alertmanager's field order;
    /// `truncated_alerts` is how many alerts `max_alerts` cut off.
    pub fn webhook_json(&self, truncated_alerts: u64) -> Json {
        let kv = |m: &LabelSet| {
            Json::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect::<Map<String, Json>>(),
            )
        };
        let alerts: Vec<Json> = self
            .alerts
            .iter()
            .map(|a| {
                json!({
                    "status": a.status,
                    "labels": kv(&a.labels),
                    "annotations": kv(&a.annotations),
                    "startsAt": rfc3339(Some(a.starts_at)),
                    "endsAt": rfc3339(a.ends_at),
                    "generatorURL": a.generator_url,
                    "fingerprint": a.fingerprint,
                })
            })
            .collect();
        json!({
            "receiver": self.receiver,
            "status": self.status,
            "alerts": alerts,
            "groupLabels": kv(&self.group_labels),
            "commonLabels": kv(&self.common_labels),
            "commonAnnotations": kv(&self.common_annotations),
            "externalURL": self.external_url,
            "version": "4",
            "groupKey": self.group_key,
            "truncatedAlerts": truncated_alerts,
        })
    }
}

fn to_tmpl_alert(a: &DataAlert) -> tmpl::Alert {
    tmpl::Alert {
        status: a.status.clone(),
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        starts_at: Time::from_unix_millis(a.starts_at),
        ends_at: a.ends_at.map_or_else(Time::zero, Time::from_unix_millis),
        generator_url: a.generator_url.clone(),
        fingerprint: a.fingerprint.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_payload_is_alertmanagers() {
        let a = Alert {
            labels: [("alertname".to_string(), "Down".to_string())].into(),
            annotations: [("summary".to_string(), "x".to_string())].into(),
            starts_at: 1_500,
            ends_at: None,
            generator_url: "http://g".into(),
            updated_at: 0,
            timeout: false,
        };
        let d = TemplateData::new("a.b", "{}:{}", &LabelSet::new(), &[a], "http://am", 2_000);
        let j = d.webhook_json(0);
        assert_eq!(
            serde_json::to_string(&j).unwrap(),
            r#"{"receiver":"a\\.b","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Down"},"annotations":{"summary":"x"},"startsAt":"1970-01-01T00:00:01.5Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://g","fingerprint":"6accfd3d0992a914"}],"groupLabels":{},"commonLabels":{"alertname":"Down"},"commonAnnotations":{"summary":"x"},"externalURL":"http://am","version":"4","groupKey":"{}:{}","truncatedAlerts":0}"#
        );
        let set = tmpl::from_texts(&[], sightline_template::Options::default()).unwrap();
        let out = tmpl::execute_text_string(
            &set,
            "{{ .Status }} {{ len .Alerts.Firing }}",
            &d.to_value(),
        )
        .unwrap();
        assert_eq!(out, "firing 1");
        // default.tmpl's subject: status, firing count, group label values, then the
        // common labels that are not group labels in parentheses.
        let title = tmpl::execute_text_string(
            &set,
            r#"{{ template "slack.default.title" . }}"#,
            &d.to_value(),
        )
        .unwrap();
        assert_eq!(title, "[FIRING:1]  (Down)");
    }
}
