//! The host side of contract 0.2's `template` import: Alertmanager's text templates
//! rendered over the notification being delivered, exactly as the host renders a 0.1
//! receiver's settings (`execute_text_string` over `template.Data`).

use std::collections::BTreeMap;

use sightline_template::alertmanager::{self as tmpl, Data};

use crate::notification::TemplateScope;

/// Renders `text` in `scope`. With `html`, every string of the data (labels, annotations,
/// receiver, URLs, ...) is HTML-escaped before rendering: the template crate has no
/// html/template, so this stands in for its contextual escaping of values (the template's
/// own text is never escaped, as in Go).
pub(crate) fn render(scope: &TemplateScope, text: &str, html: bool) -> Result<String, String> {
    let zero;
    let data = match &scope.data {
        Some(d) => d,
        None => {
            zero = zero_data();
            &zero
        }
    };
    let value = if html {
        escaped(data).to_value()
    } else {
        data.to_value()
    };
    tmpl::execute_text_string(&scope.templates, text, &value).map_err(|e| e.to_string())
}

/// Go's zero `template.Data`: what `.` is outside a receiver's `notify`.
fn zero_data() -> Data {
    Data {
        receiver: String::new(),
        status: String::new(),
        alerts: Vec::new(),
        group_labels: BTreeMap::new(),
        common_labels: BTreeMap::new(),
        common_annotations: BTreeMap::new(),
        external_url: String::new(),
    }
}

fn escaped(d: &Data) -> Data {
    let e = |s: &str| sightline_template::html_escape(s);
    let map = |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| (e(k), e(v))).collect();
    Data {
        receiver: e(&d.receiver),
        status: e(&d.status),
        alerts: d
            .alerts
            .iter()
            .map(|a| tmpl::Alert {
                status: e(&a.status),
                labels: map(&a.labels),
                annotations: map(&a.annotations),
                starts_at: a.starts_at.clone(),
                ends_at: a.ends_at.clone(),
                generator_url: e(&a.generator_url),
                fingerprint: e(&a.fingerprint),
            })
            .collect(),
        group_labels: map(&d.group_labels),
        common_labels: map(&d.common_labels),
        common_annotations: map(&d.common_annotations),
        external_url: e(&d.external_url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> TemplateScope {
        let alert = tmpl::Alert {
            status: "firing".into(),
            labels: BTreeMap::from([("alertname".into(), "A<b>".into())]),
            annotations: BTreeMap::new(),
            starts_at: sightline_template::Time::from_unix_millis(0),
            ends_at: sightline_template::Time::zero(),
            generator_url: String::new(),
            fingerprint: "0".into(),
        };
        TemplateScope {
            templates: crate::notification::default_templates(),
            data: Some(Data::new(
                "team",
                BTreeMap::from([("alertname".into(), "A<b>".into())]),
                vec![alert],
                "http://x",
            )),
        }
    }

    #[test]
    fn renders_default_tmpl_over_the_data() {
        let s = scope();
        let out = render(&s, r#"{{ template "slack.default.title" . }}"#, false).unwrap();
        assert_eq!(out, "[FIRING:1] A<b> ");
        let html = render(&s, "<i>{{ .CommonLabels.alertname }}</i>", true).unwrap();
        assert_eq!(html, "<i>A&lt;b&gt;</i>");
        let empty = render(&TemplateScope::default_only(), "[{{ .Status }}]", false).unwrap();
        assert_eq!(empty, "[]");
        assert!(render(&s, "{{ .Status", false).is_err());
    }
}
