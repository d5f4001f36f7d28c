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
    // html/template's HTML escaper: text/template's `html` table plus `+` (`&#43;`).
    let e = |s: &str| sightline_template::html_escape(s).replace('+', "&#43;");
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
                generator_url: e(&url_attr(&a.generator_url)),
                fingerprint: e(&a.fingerprint),
            })
            .collect(),
        group_labels: map(&d.group_labels),
        common_labels: map(&d.common_labels),
        common_annotations: map(&d.common_annotations),
        external_url: e(&url_attr(&d.external_url)),
    }
}

/// A URL as html/template writes it at the start of a URL attribute (`href="{{ .GeneratorURL
/// }}"`, where Alertmanager's templates use both URLs): its `urlFilter` (a scheme other than
/// http, https or mailto becomes `#ZgotmplZ`) and `urlNormalizer` (bytes outside RFC 3986's
/// reserved and unreserved sets, and `'`, `(`, `)`, percent-encoded in lower-case hex; valid
/// escapes kept). Printed as text, html/template would leave the URL as is; the host cannot
/// know the context, and the attribute is where the default templates put them.
fn url_attr(s: &str) -> String {
    if let Some(i) = s.find(':') {
        let scheme = &s[..i];
        if !scheme.contains('/')
            && !["http", "https", "mailto"]
                .iter()
                .any(|p| scheme.eq_ignore_ascii_case(p))
        {
            return "#ZgotmplZ".to_string();
        }
    }
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&*+,/:;=?@[]-._~%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
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
        let mut s2 = scope();
        if let Some(d) = &mut s2.data {
            d.receiver = "a+b's".into();
        }
        let html = render(&s2, "{{ .Receiver }}", true).unwrap();
        assert_eq!(html, "a&#43;b&#39;s");
        assert_eq!(
            url_attr("http://p/graph?g0.expr=rate(x[5m])+%3E 1&t='é'"),
            "http://p/graph?g0.expr=rate%28x[5m]%29+%3E%201&t=%27%c3%a9%27"
        );
        assert_eq!(url_attr("javascript:alert(1)"), "#ZgotmplZ");
        let empty = render(&TemplateScope::default_only(), "[{{ .Status }}]", false).unwrap();
        assert_eq!(empty, "[]");
        assert!(render(&s, "{{ .Status", false).is_err());
    }
}
