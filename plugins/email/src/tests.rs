//! The message for `email.rs`'s side-by-side config, rendered with the host's template engine
//! and Alertmanager's default.tmpl (`am-render`).

use super::*;

fn group(firing: bool) -> am_render::Group {
    am_render::Group::new(
        "mail",
        "{}",
        &[("alertname", "DiskFull"), ("instance", "db-1")],
        &[("summary", "Disk < 10% free")],
        "http://prometheus/graph?g0.expr=disk",
        firing,
    )
}

#[test]
fn headers_envelope_and_parts() {
    let s = am_render::settings(
        r#"{"to": "Ops Team <ops@example.org>, dev@example.org",
            "from": "Alertmanager <am@example.org>",
            "smarthost": "127.0.0.1:25", "hello": "sightline.test",
            "headers": {"x-alert-NAME": "{{ .GroupLabels.alertname }}", "subject": "Störung: {{ .Status }}"},
            "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
            "html": "<!-- c --><p>{{ .Status }}</p>"}"#,
    );
    let g = group(true);
    let m = compose(&s, &g.renderer(), &g.renderer()).unwrap();
    assert_eq!(m.sender, "am@example.org");
    assert_eq!(m.recipients, ["ops@example.org", "dev@example.org"]);
    assert_eq!(
        m.headers,
        [
            ("From", "Alertmanager <am@example.org>"),
            ("Subject", "Störung: firing"),
            ("To", "Ops Team <ops@example.org>, dev@example.org"),
            ("X-Alert-Name", "DiskFull"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(m.text.as_deref(), Some("Disk < 10% free\n"));
    assert_eq!(m.html.as_deref(), Some("<p>firing</p>"));
    let mut n = 0;
    let mut random = || {
        n += 1;
        n
    };
    let data = String::from_utf8(message(&m, "sightline.test", 0, &mut random)).unwrap();
    let b = "0000000000000002000000000000000300000000000000040000000000000005"[..60].to_string();
    assert_eq!(
        data,
        format!(
            "From: Alertmanager <am@example.org>\r\nSubject: =?utf-8?q?St=C3=B6rung:_firing?=\r\nTo: Ops Team <ops@example.org>, dev@example.org\r\nX-Alert-Name: DiskFull\r\nMessage-Id: <0.1@sightline.test>\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\nContent-Type: multipart/alternative;  boundary={b}\r\nMIME-Version: 1.0\r\n\r\n--{b}\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nDisk < 10% free\r\n\r\n--{b}\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>firing</p>\r\n--{b}--\r\n"
        )
    );
}

#[test]
fn defaults_subject_and_no_text_part() {
    let s = am_render::settings(
        r#"{"to": "ops@example.org", "from": "am@example.org", "smarthost": "h:25",
            "html": "{{ template \"email.default.html\" . }}"}"#,
    );
    let g = group(false);
    let m = compose(&s, &g.renderer(), &g.renderer()).unwrap();
    assert_eq!(
        m.headers[1],
        (
            "Subject".to_string(),
            "[RESOLVED] DiskFull (db-1)".to_string()
        )
    );
    assert_eq!(m.text, None);
    let html = m.html.unwrap();
    assert!(
        html.contains("<title>[RESOLVED] DiskFull (db-1)</title>"),
        "{html}"
    );
    assert!(!html.contains("<!--") && !html.contains("/*"), "{html}");
}

#[test]
fn bad_addresses_and_templates_are_permanent() {
    let g = group(true);
    for (json, want) in [
        (
            r#"{"to": "nobody", "from": "am@x.org"}"#,
            "parse 'to' addresses: mail: missing @ in addr-spec",
        ),
        (
            r#"{"to": "a@x.org", "from": "a@x.org, b@x.org"}"#,
            "must be exactly one 'from' address (got: 2)",
        ),
        (
            r#"{"to": "a@x.org", "from": "{{ .Nope }"}"#,
            "execute 'from' template",
        ),
        (
            r#"{"to": "a@x.org", "from": "a@x.org", "text": "{{ template \"nope\" . }}"}"#,
            "execute text template",
        ),
    ] {
        let err = compose(&am_render::settings(json), &g.renderer(), &g.renderer()).unwrap_err();
        assert!(!err.is_retryable(), "{json}");
        assert!(err.message().starts_with(want), "{json}: {}", err.message());
    }
}

#[test]
fn header_keys_are_canonical() {
    for (k, want) in [
        ("subject", "Subject"),
        ("x-priority", "X-Priority"),
        ("MESSAGE-ID", "Message-Id"),
        ("reply_to", "Reply_to"),
        ("bad key", "bad key"),
    ] {
        assert_eq!(canonical_header_key(k), want);
    }
}
