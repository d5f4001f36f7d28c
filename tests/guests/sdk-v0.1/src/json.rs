//! A small JSON writer that writes what Go's `encoding/json` encoder writes (keeps plugins
//! free of serde, and lets receivers send Alertmanager's bytes): `<`, `>`, `&`, U+2028 and
//! U+2029 are escaped as `\u003c`-style sequences, control characters other than `\n`,
//! `\r` and `\t` as `\u00XX`, and an encoder's output ends with a newline.

use crate::{AlertGroup, Label};

/// Appends `s` as a JSON string, escaped as Go's `encoding/json` escapes it.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` as a JSON string (see [`string`]).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    string(&mut out, s);
    out
}

/// A JSON object written field by field, in the order of the calls (Go writes struct
/// fields in declaration order).
#[derive(Debug, Default)]
pub struct Object {
    out: String,
    fields: usize,
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Object::default()
    }

    fn key(&mut self, key: &str) {
        self.out.push(if self.fields == 0 { '{' } else { ',' });
        self.fields += 1;
        string(&mut self.out, key);
        self.out.push(':');
    }

    /// A string field.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        string(&mut self.out, value);
        self
    }

    /// A string field left out when empty (Go's `omitempty`).
    pub fn str_omitempty(&mut self, key: &str, value: &str) -> &mut Self {
        if !value.is_empty() {
            self.str(key, value);
        }
        self
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// A field whose value is already JSON text.
    pub fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key);
        self.out.push_str(json);
        self
    }

    /// The object's JSON text.
    pub fn finish(mut self) -> String {
        if self.fields == 0 {
            self.out.push('{');
        }
        self.out.push('}');
        self.out
    }
}

/// A JSON object of string values with keys in sorted order (how Go encodes a
/// `map[string]string`). Later duplicates win.
pub fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let sorted: std::collections::BTreeMap<&str, &str> = pairs.into_iter().collect();
    let mut o = Object::new();
    for (k, v) in sorted {
        o.str(k, v);
    }
    o.finish()
}

fn object(out: &mut String, labels: &[Label]) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, &l.name);
        out.push(':');
        string(out, &l.value);
    }
    out.push('}');
}

fn field(out: &mut String, first: &mut bool, key: &str) {
    if !*first {
        out.push(',');
    }
    *first = false;
    string(out, key);
    out.push(':');
}

/// Alertmanager's webhook JSON for `g`.
pub(crate) fn webhook(g: &AlertGroup) -> String {
    let mut out = String::with_capacity(512);
    let mut first = true;
    out.push('{');
    field(&mut out, &mut first, "receiver");
    string(&mut out, &g.receiver);
    field(&mut out, &mut first, "status");
    string(&mut out, &g.status);
    field(&mut out, &mut first, "alerts");
    out.push('[');
    for (i, a) in g.alerts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut f = true;
        out.push('{');
        field(&mut out, &mut f, "status");
        string(&mut out, &a.status);
        field(&mut out, &mut f, "labels");
        object(&mut out, &a.labels);
        field(&mut out, &mut f, "annotations");
        object(&mut out, &a.annotations);
        field(&mut out, &mut f, "startsAt");
        string(&mut out, &a.starts_at);
        field(&mut out, &mut f, "endsAt");
        string(&mut out, &a.ends_at);
        field(&mut out, &mut f, "generatorURL");
        string(&mut out, &a.generator_url);
        field(&mut out, &mut f, "fingerprint");
        string(&mut out, &a.fingerprint);
        out.push('}');
    }
    out.push(']');
    field(&mut out, &mut first, "groupLabels");
    object(&mut out, &g.group_labels);
    field(&mut out, &mut first, "commonLabels");
    object(&mut out, &g.common_labels);
    field(&mut out, &mut first, "commonAnnotations");
    object(&mut out, &g.common_annotations);
    field(&mut out, &mut first, "externalURL");
    string(&mut out, &g.external_url);
    field(&mut out, &mut first, "version");
    string(&mut out, &g.version);
    field(&mut out, &mut first, "groupKey");
    string(&mut out, &g.group_key);
    field(&mut out, &mut first, "truncatedAlerts");
    out.push_str(&g.truncated_alerts.to_string());
    out.push('}');
    // Alertmanager writes the body with a `json.Encoder`, which ends it with a newline.
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Alert;

    #[test]
    fn webhook_payload_shape() {
        let g = AlertGroup {
            version: "4".into(),
            group_key: "{}:{alertname=\"Down\"}".into(),
            truncated_alerts: 0,
            status: "firing".into(),
            receiver: "team\n1".into(),
            group_labels: vec![Label::new("alertname", "Down")],
            common_labels: vec![],
            common_annotations: vec![],
            external_url: "http://localhost:9090".into(),
            alerts: vec![Alert {
                status: "firing".into(),
                labels: vec![Label::new("alertname", "Down")],
                annotations: vec![],
                starts_at: "2026-01-01T00:00:00Z".into(),
                ends_at: "0001-01-01T00:00:00Z".into(),
                generator_url: "http://x/graph".into(),
                fingerprint: "0123456789abcdef".into(),
            }],
        };
        let want = r#"{"receiver":"team\n1","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Down"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://x/graph","fingerprint":"0123456789abcdef"}],"groupLabels":{"alertname":"Down"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://localhost:9090","version":"4","groupKey":"{}:{alertname=\"Down\"}","truncatedAlerts":0}
"#;
        assert_eq!(webhook(&g), want);
    }

    #[test]
    fn escapes_as_go() {
        assert_eq!(
            quote("<a & b>\u{2028}\u{1}"),
            r#""\u003ca \u0026 b\u003e\u2028\u0001""#
        );
        let mut o = Object::new();
        o.str("x", "1")
            .str_omitempty("y", "")
            .bool("z", true)
            .raw("w", "[]");
        assert_eq!(o.finish(), r#"{"x":"1","z":true,"w":[]}"#);
        assert_eq!(Object::new().finish(), "{}");
        assert_eq!(string_map([("b", "2"), ("a", "1")]), r#"{"a":"1","b":"2"}"#);
    }
}
